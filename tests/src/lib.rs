//! The harness shared by the end-to-end tests in `tests/`: the whole system as the binary
//! wires it — a real HTTP server on a loopback port, the application role on a fresh Postgres
//! database (`#[sqlx::test]`), the USPS and UPS plugins with the shared token cache, and an
//! in-process simulator of each carrier.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use accounts::audit::Actor;
use accounts::{Database, MasterKeyring, PgTokenCache, TenantId};
use base64::Engine as _;
use carrier::CarrierRegistry;
use carrier_usps::{PlatformApp, RetryConfig, UspsBuilder};
use reqwest::{Client, Response};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use server::AppState;
use sqlx::PgPool;
use usps_sim::{RunningSimulator, SimConfig, Simulator, demo};

/// The master keys of the tests (never a development key).
pub fn master_keys() -> String {
    let key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    format!("e2e:{key}")
}

/// A running simulator with the demo data, and a registry whose USPS plugin talks to it.
#[derive(Debug)]
pub struct System {
    pub simulator: RunningSimulator,
    pub registry: CarrierRegistry,
}

impl System {
    pub async fn start() -> std::io::Result<Self> {
        let simulator = Simulator::new(SimConfig::default()).spawn().await?;
        let usps = UspsBuilder::new()
            .with_base_url(&simulator.base_url)
            .build()
            .map_err(std::io::Error::other)?;
        let registry = CarrierRegistry::new().register(Arc::new(usps));
        Ok(Self {
            simulator,
            registry,
        })
    }
}

/// One server instance on a database.
#[derive(Debug)]
pub struct Instance {
    pub base_url: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// How the plugins of an instance are configured, the server's limits, and the carriers
/// registered beside USPS and UPS (e.g. [`depot::DepotCarrier`]).
#[derive(Debug, Clone)]
pub struct PluginOptions {
    pub request_timeout: Duration,
    pub server_limits: server::serve::Limits,
    /// The UPS simulator the UPS plugin talks to; without one, UPS is not registered.
    pub ups_url: Option<String>,
    /// The FedEx simulator the FedEx plugin talks to; without one, FedEx is not registered.
    pub fedex_url: Option<String>,
    pub more_carriers: Vec<Arc<dyn carrier::Carrier>>,
}

impl Default for PluginOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            server_limits: server::serve::Limits::default(),
            ups_url: None,
            fedex_url: None,
            more_carriers: Vec::new(),
        }
    }
}

/// Tracking in tests: carriers push to this instance, and a new label is due for a poll at once.
/// Jobs run when a test calls [`server::tracking::run_once`] (no background task), so a test
/// decides when polls happen.
pub fn test_tracking(base_url: &str) -> server::tracking::TrackingSettings {
    server::tracking::TrackingSettings {
        listener_base_url: Some(base_url.to_owned()),
        contact_email: "tracking@example.test".to_owned(),
        first_poll_after: Duration::ZERO,
        poll_interval_min: Duration::from_millis(1),
        poll_interval_max: Duration::from_millis(1),
        poll_interval_pushed: Duration::from_millis(1),
        subscription_check_every: Duration::from_millis(1),
        ..server::tracking::TrackingSettings::default()
    }
}

/// The harness's retries (both plugins share `carrier-http`'s): one, quickly.
fn test_retry() -> RetryConfig {
    RetryConfig {
        max_retries: 1,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(1),
    }
}

/// Starts a server instance against `owner`'s database and the simulator at `sim_url`, wired
/// like `backhaul serve`: the application role, the shared token cache, the USPS plugin with
/// the simulator's platform app for "Login with USPS".
pub async fn start_instance(owner: &PgPool, sim_url: &str, options: PluginOptions) -> Instance {
    start_instance_with_platform_secret(owner, sim_url, options, demo::CLIENT_SECRET).await
}

/// [`start_instance`] with the platform app's secret `platform_secret` (the simulator's demo
/// app must have the same).
pub async fn start_instance_with_platform_secret(
    owner: &PgPool,
    sim_url: &str,
    options: PluginOptions,
    platform_secret: &str,
) -> Instance {
    let db = Database::connect_as_app(&owner.connect_options(), None, 32)
        .await
        .unwrap();
    let keyring = Arc::new(MasterKeyring::parse(&SecretString::from(master_keys())).unwrap());
    let token_cache = Arc::new(PgTokenCache::new(db.clone(), keyring.clone()));
    let listener = server::serve::bind(([127, 0, 0, 1], 0).into()).unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let usps = UspsBuilder::new()
        .with_base_url(sim_url)
        .with_webtools_url(format!("{sim_url}/ShippingAPI.dll"))
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(platform_secret.to_owned()),
            format!("{base_url}/v1/usps/oauth/callback"),
        ))
        .with_token_cache(token_cache.clone())
        .with_request_timeout(options.request_timeout)
        .with_retry(test_retry())
        .build()
        .unwrap();
    let mut registry = CarrierRegistry::new().register(Arc::new(usps));
    if let Some(ups_url) = &options.ups_url {
        let ups = carrier_ups::UpsBuilder::new()
            .with_base_url(ups_url)
            .with_platform_app(carrier_ups::PlatformApp::new(
                ups_sim::demo::CLIENT_ID,
                SecretString::from(ups_sim::demo::CLIENT_SECRET.to_owned()),
                format!("{base_url}/v1/ups/oauth/callback"),
            ))
            .with_listener_credentials(carrier_ups::ListenerCredentials::new(
                ups_sim::demo::WEBHOOK_CLIENT_ID,
                SecretString::from(ups_sim::demo::WEBHOOK_CLIENT_SECRET.to_owned()),
            ))
            .with_token_cache(token_cache.clone())
            .with_request_timeout(options.request_timeout)
            .with_retry(test_retry())
            .build()
            .unwrap();
        registry = registry.register(Arc::new(ups));
    }
    if let Some(fedex_url) = &options.fedex_url {
        let fedex = carrier_fedex::FedexBuilder::new()
            .with_base_url(fedex_url)
            .with_platform_app(carrier_fedex::PlatformApp::new(
                fedex_sim::demo::CLIENT_ID,
                SecretString::from(fedex_sim::demo::CLIENT_SECRET.to_owned()),
            ))
            .with_token_cache(token_cache.clone())
            .with_request_timeout(options.request_timeout)
            .with_retry(test_retry())
            .build()
            .unwrap();
        registry = registry.register(Arc::new(fedex));
    }
    let registry = options
        .more_carriers
        .iter()
        .fold(registry, |registry, carrier| {
            registry.register(carrier.clone())
        });
    let state = AppState::new(db, keyring, registry, Some(token_cache));
    state.set_limits(options.server_limits);
    // As `config/test.toml`: webhooks may go to the tests' local receivers.
    state.set_webhook_policy(server::webhook::Policy {
        allow_private_urls: true,
        ..server::webhook::Policy::default()
    });
    state.set_tracking(test_tracking(&base_url));
    let (shutdown, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(server::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Instance {
        base_url,
        state,
        shutdown: Some(shutdown),
    }
}

/// The system under test: one server instance, the simulator, an HTTP client, a tenant with
/// its key and an admin key.
#[derive(Debug)]
pub struct TestApp {
    pub owner: PgPool,
    /// The USPS simulator.
    pub simulator: RunningSimulator,
    /// The UPS simulator.
    pub ups: ups_sim::RunningSimulator,
    /// The FedEx simulator.
    pub fedex: fedex_sim::RunningSimulator,
    pub instance: Instance,
    pub client: Client,
    pub tenant: TenantId,
    pub tenant_key: String,
    pub admin_key: String,
}

impl TestApp {
    pub async fn spawn(owner: PgPool) -> Self {
        Self::spawn_with(owner, PluginOptions::default()).await
    }

    pub async fn spawn_with(owner: PgPool, options: PluginOptions) -> Self {
        Self::spawn_with_simulator(owner, SimConfig::default(), demo::CLIENT_SECRET, options).await
    }

    /// A system whose simulator knows `config` (its demo app's secret `platform_secret`, which
    /// the instance's platform app uses).
    pub async fn spawn_with_simulator(
        owner: PgPool,
        config: SimConfig,
        platform_secret: &str,
        mut options: PluginOptions,
    ) -> Self {
        let simulator = Simulator::new(config).spawn().await.unwrap();
        let ups = ups_sim::Simulator::new(ups_sim::SimConfig::default())
            .spawn()
            .await
            .unwrap();
        options.ups_url.get_or_insert_with(|| ups.base_url.clone());
        let fedex = fedex_sim::Simulator::new(fedex_sim::SimConfig::default())
            .spawn()
            .await
            .unwrap();
        options
            .fedex_url
            .get_or_insert_with(|| fedex.base_url.clone());
        let instance = start_instance_with_platform_secret(
            &owner,
            &simulator.base_url,
            options,
            platform_secret,
        )
        .await;
        // UPS's portal holds one webhook per app: the demo app's points at this instance.
        ups.simulator.set_webhook(
            ups_sim::demo::CLIENT_ID,
            Some(ups_sim::WebhookConfig {
                app: ups_sim::demo::CLIENT_ID.to_owned(),
                url: format!("{}/v1/carrier-webhooks/ups", instance.base_url),
                token_url: format!("{}/v1/carrier-webhooks/ups/token", instance.base_url),
                client_id: ups_sim::demo::WEBHOOK_CLIENT_ID.to_owned(),
                client_secret: ups_sim::demo::WEBHOOK_CLIENT_SECRET.to_owned(),
            }),
        );
        let db = instance.state.db();
        let (tenant, key) = accounts::tenant::create_tenant(db, &Actor::System, "Acme Returns")
            .await
            .unwrap();
        let admin = accounts::tenant::create_api_key(db, &Actor::System, None, "ops", None)
            .await
            .unwrap();
        Self {
            owner,
            simulator,
            ups,
            fedex,
            instance,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            tenant: tenant.id,
            tenant_key: key.secret.expose_secret().to_owned(),
            admin_key: admin.secret.expose_secret().to_owned(),
        }
    }

    /// Another tenant with its own key.
    pub async fn other_tenant(&self, name: &str) -> (TenantId, String) {
        let (tenant, key) =
            accounts::tenant::create_tenant(self.instance.state.db(), &Actor::System, name)
                .await
                .unwrap();
        (tenant.id, key.secret.expose_secret().to_owned())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.instance.base_url)
    }

    /// Runs the audit sequencer once, as a server's does every 200 ms: every event written so
    /// far is chained.
    pub async fn chain_audit(&self) {
        let pass = accounts::audit::chain_pending(self.instance.state.db())
            .await
            .expect("an audit sequencer pass");
        assert!(
            matches!(pass, accounts::audit::Pass::Chained(_)),
            "{pass:?}"
        );
    }

    pub async fn get(&self, key: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, key: &str, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, key: &str, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/return-labels` with an idempotency key.
    pub async fn buy(&self, key: &str, idempotency_key: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/v1/return-labels"))
            .bearer_auth(key)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a USPS v3 own-app EPS account with the demo business; returns its JSON.
    pub async fn create_v3_account(&self, key: &str, name: &str, extra: Value) -> Value {
        let mut body = v3_account(name);
        merge(&mut body, extra);
        let response = self.post(key, "/v1/shipper-accounts", &body).await;
        assert_eq!(response.status(), 201, "creating {name}");
        response.json().await.unwrap()
    }
}

fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

/// The demo business's return address (the labels' destination).
pub fn return_address() -> Value {
    json!({
        "firm": demo::RETURN_ADDRESS_FIRM,
        "street1": demo::RETURN_ADDRESS_STREET,
        "city": demo::RETURN_ADDRESS_CITY,
        "state": demo::RETURN_ADDRESS_STATE,
        "zip5": demo::RETURN_ADDRESS_ZIP,
    })
}

/// A `POST /v1/shipper-accounts` body for the demo business on USPS v3 with its own app.
pub fn v3_account(name: &str) -> Value {
    json!({
        "carrier": "usps",
        "name": name,
        "details": {
            "api": "v3",
            "crid": demo::CRID,
            "mid": demo::MID,
            "manifest_mid": demo::MANIFEST_MID,
            "returns_mid": demo::RETURNS_MID,
            "account_type": "EPS",
            "eps_account_number": demo::EPS_ACCOUNT,
            "return_address": return_address(),
        },
        "credentials": {
            "mode": "own_app",
            "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET,
        },
    })
}

/// A file of the shared reference (`shared/reference/{path}`, beside the repository), as text.
pub fn reference(path: &str) -> String {
    let file = format!(
        "{}/../../shared/reference/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{file}: {error}"))
}

/// A `POST /v1/return-labels` body: the API.md example.
pub fn label_request(service: &str) -> Value {
    json!({
        "service": service,
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "label_format": "PDF",
        "reference": "RMA-1001",
    })
}

/// A `POST /v1/shipper-accounts` body for the demo business on USPS Web Tools.
pub fn webtools_account(name: &str) -> Value {
    json!({
        "carrier": "usps",
        "name": name,
        "details": {
            "api": "webtools",
            "crid": demo::CRID,
            "mid": demo::MID,
            "manifest_mid": demo::MANIFEST_MID,
            "returns_mid": demo::RETURNS_MID,
            "account_type": "EPS",
            "eps_account_number": demo::EPS_ACCOUNT,
        },
        "credentials": {
            "mode": "webtools",
            "user_id": demo::WEBTOOLS_USER_ID,
            "password": demo::WEBTOOLS_PASSWORD,
        },
    })
}

/// "Login with USPS" as the merchant's browser goes through it.
impl TestApp {
    /// `POST /v1/shipper-accounts/usps/connect`; returns the answer (`authorize_url`,
    /// `expires_at`).
    pub async fn connect_usps(&self, name: &str) -> Value {
        self.connect_usps_as(&self.tenant_key, name).await
    }

    /// [`TestApp::connect_usps`] with another tenant's `key`.
    pub async fn connect_usps_as(&self, key: &str, name: &str) -> Value {
        let response = self
            .post(
                key,
                "/v1/shipper-accounts/usps/connect",
                &json!({"name": name}),
            )
            .await;
        assert_eq!(response.status(), 200, "connecting {name}");
        response.json().await.unwrap()
    }

    /// Opens `authorize_url` (the simulator's sign-in and consent page) and submits it as the
    /// demo merchant with the box ticked and `decision` (`approve` or `deny`). Returns where the
    /// simulator redirects the browser: our callback.
    pub async fn consent(&self, authorize_url: &str, decision: &str) -> String {
        self.consent_as(authorize_url, demo::USERNAME, decision)
            .await
    }

    /// [`TestApp::consent`] signed in as the simulator's user `username`.
    pub async fn consent_as(&self, authorize_url: &str, username: &str, decision: &str) -> String {
        let page = self
            .client
            .get(authorize_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut form = hidden_fields(&page);
        assert!(
            form.iter().any(|(name, _)| name == "state"),
            "the consent page carries our state: {page}"
        );
        form.push(("username".into(), username.into()));
        form.push(("password".into(), demo::PASSWORD.into()));
        form.push(("consent".into(), "yes".into()));
        form.push(("decision".into(), decision.into()));
        let response = self
            .client
            .post(format!("{}/oauth2/v3/authorize", self.simulator.base_url))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "the consent page redirects");
        response.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The browser arriving at our callback (no API key): the status and the HTML page.
    pub async fn callback(&self, url: &str) -> (u16, String) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// An account connected by "Login with USPS" as `name`, with its details completed (the
    /// demo MIDs chosen, a return address), tag
    /// `location: east` and priority 3: `active`. Returns its id.
    pub async fn signed_in_usps_account(&self, name: &str) -> String {
        let connect = self.connect_usps(name).await;
        let callback = self
            .consent(connect["authorize_url"].as_str().unwrap(), "approve")
            .await;
        let (status, page) = self.callback(&callback).await;
        assert_eq!(status, 200, "{page}");
        let response = self.get(&self.tenant_key, "/v1/shipper-accounts").await;
        let page: Value = response.json().await.unwrap();
        let id = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|account| account["name"] == name)
            .and_then(|account| account["id"].as_str())
            .unwrap()
            .to_owned();
        let response = self
            .patch(
                &self.tenant_key,
                &format!("/v1/shipper-accounts/{id}"),
                &json!({"details": {"mid": demo::MID, "manifest_mid": demo::MANIFEST_MID,
                                    "returns_mid": demo::RETURNS_MID,
                                    "return_address": return_address()},
                        "tags": {"location": "east"}, "priority": 3}),
            )
            .await;
        assert_eq!(response.status(), 200);
        let active: Value = response.json().await.unwrap();
        assert_eq!(active["status"], "active");
        id
    }

    /// Makes the account's OAuth credentials due for renewal, as if its access token were about
    /// to expire (the public expiry field decides).
    pub async fn make_oauth_due(&self, account_id: &str) {
        sqlx::query(
            "UPDATE shipper_accounts SET credentials_public = credentials_public
                 || '{\"access_token_expires_at\": \"2000-01-01T00:00:00Z\"}'::jsonb
             WHERE id = $1",
        )
        .bind(account_id)
        .execute(&self.owner)
        .await
        .unwrap();
    }

    /// The account's stored access and refresh tokens, opened through the vault.
    pub async fn oauth_tokens(&self, account_id: &str) -> (String, String) {
        let (_, _, credentials) = self
            .instance
            .state
            .accounts()
            .open_for_use(
                accounts::Context {
                    tenant: &self.tenant,
                    actor: &Actor::System,
                    request_id: None,
                },
                account_id,
            )
            .await
            .unwrap();
        let secret = |name: &str| credentials.secret(name).unwrap().expose_secret().to_owned();
        (secret("access_token"), secret("refresh_token"))
    }
}

/// The hidden inputs of a form, values unescaped.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let (value, _) = rest.strip_prefix(" value=\"")?.split_once('"')?;
            let value = value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            Some((name.to_owned(), value))
        })
        .collect()
}

/// A Postgres server of a test's own, for tests that stop it, restart it or read its log:
/// `initdb` into a temporary directory, then `pg_ctl` on a free loopback port (TCP only, no
/// unix socket). The tools come from the first `PATH` directory with `initdb` and `pg_ctl`,
/// else the newest `/usr/lib/postgresql/*/bin`; when the test runs as root they run as the
/// `postgres` system user (Postgres refuses root), which then owns the directory. The server
/// is stopped (`-m immediate`) and the directory removed when this is dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    directory: tempfile::TempDir,
    bin: std::path::PathBuf,
    as_system_user: bool,
    port: u16,
    settings: Vec<String>,
}

impl PrivatePostgres {
    /// Initialises and starts a cluster; `settings` are extra `-c name=value` server settings.
    pub async fn start(settings: &[&str]) -> Self {
        let directory = tempfile::Builder::new()
            .prefix("backhaul-pg-")
            .tempdir()
            .unwrap();
        let as_system_user = running_as_root();
        if as_system_user {
            run_tool(
                tokio::process::Command::new("chown")
                    .arg("postgres:")
                    .arg(directory.path()),
            )
            .await;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let postgres = Self {
            directory,
            bin: postgres_bin_dir(),
            as_system_user,
            port,
            settings: settings.iter().map(|&setting| setting.to_owned()).collect(),
        };
        run_tool(
            postgres
                .tool("initdb")
                .arg("-D")
                .arg(postgres.data_dir())
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
                .args(["--no-instructions", "--no-sync"]),
        )
        .await;
        postgres.start_again().await;
        postgres
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.directory.path().join("data")
    }

    /// The server's log file (`pg_ctl -l`): everything Postgres logged.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.directory.path().join("server.log")
    }

    fn tool(&self, name: &str) -> tokio::process::Command {
        let path = self.bin.join(name);
        let mut command = if self.as_system_user {
            let mut command = tokio::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            tokio::process::Command::new(path)
        };
        command
            .current_dir(self.directory.path())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Starts the stopped server again, on the same port with the same settings.
    pub async fn start_again(&self) {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' -c fsync=off -c max_connections=100",
            self.port
        );
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        run_tool(
            self.tool("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.log_path())
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        )
        .await;
    }

    /// `pg_ctl stop -m immediate`: every backend dies at once, as in a crash.
    pub async fn stop_immediately(&self) {
        let mut command = self.tool("pg_ctl");
        command.arg("-D").arg(self.data_dir());
        run_tool(command.args(["-m", "immediate", "-w", "-t", "60", "stop"])).await;
    }

    /// The superuser's connection options to `database`.
    pub fn connect_options(&self, database: &str) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username("postgres")
            .database(database)
    }

    /// Creates the database `backhaul`, migrates it and returns the owner's pool on it.
    pub async fn migrated_database(&self) -> PgPool {
        let database = "backhaul";
        let admin = sqlx::PgPool::connect_with(self.connect_options("postgres"))
            .await
            .unwrap();
        sqlx::query("CREATE DATABASE backhaul")
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let owner = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self.connect_options(database))
            .await
            .unwrap();
        accounts::MIGRATOR.run(&owner).await.unwrap();
        owner
    }

    /// `pg_dump` of the database `backhaul`: schema and every row, as plain SQL.
    pub async fn dump(&self) -> String {
        let output = tokio::process::Command::new(self.bin.join("pg_dump"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg("backhaul")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "pg_dump: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap()).into_owned()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let mut command = if self.as_system_user {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            std::process::Command::new(path)
        };
        let _ = command
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .current_dir(self.directory.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Runs a tool to completion (bounded), panicking with its output when it fails.
async fn run_tool(command: &mut tokio::process::Command) {
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the Postgres tool finished in time")
        .expect("the Postgres tool runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The directory of the `initdb` and `pg_ctl` found first on `PATH` (symbolic links resolved,
/// so that `pg_dump` of the same installation is beside them), else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn postgres_bin_dir() -> std::path::PathBuf {
    let has_tools =
        |dir: &std::path::Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_tools(dir)) {
            let installed = std::fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|initdb| initdb.parent().map(std::path::Path::to_path_buf));
            return installed.filter(|real| has_tools(real)).unwrap_or(dir);
        }
    }
    let mut installed: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    installed.sort();
    installed
        .pop()
        .map(|(_, bin)| bin)
        .expect("initdb and pg_ctl are on PATH or under /usr/lib/postgresql/*/bin")
}

/// Whether this process runs as root (whom Postgres refuses to run as).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

pub mod browser;
pub mod console;
pub mod contract;
pub mod depot;
pub mod fedex;
pub mod tracking;
pub mod ups;
pub mod webhook;

/// What clients buying labels under chaos saw ([`buy_until_bought`]).
#[derive(Debug, Default)]
pub struct Purchases {
    /// Answers outside the contract: a 500, another unexpected status, a 503 or 504 without
    /// `Retry-After`, no HTTP answer at all.
    pub problems: Vec<String>,
    /// The status of every answer received while the `outage` flag was raised.
    pub during_outage: Vec<u16>,
    /// Every status received, in order.
    pub statuses: Vec<u16>,
    /// Idempotency key → the tracking number its 201 carried.
    pub bought: std::collections::BTreeMap<String, String>,
}

/// The longest a retrying client waits, whatever `Retry-After` says.
pub const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Buys a label with `key` as a well-behaved client does: on 409 (the key is busy), 503 and
/// 504 it retries with the same key and body, honouring `Retry-After` up to [`MAX_BACKOFF`];
/// it returns on the 201. Everything else, and any request that gets no HTTP answer within
/// 30 s, is recorded in `purchases.problems` (and retried, so the test can report them all).
pub async fn buy_until_bought(
    app: &TestApp,
    key: &str,
    body: &Value,
    outage: &std::sync::atomic::AtomicBool,
    purchases: &tokio::sync::Mutex<Purchases>,
) {
    use std::sync::atomic::Ordering;
    loop {
        let sent = app
            .client
            .post(app.url("/v1/return-labels"))
            .bearer_auth(&app.tenant_key)
            .header("Idempotency-Key", key)
            .json(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let during_outage = outage.load(Ordering::SeqCst);
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let problem = format!("{key}: no HTTP answer: {error:?}");
                purchases.lock().await.problems.push(problem);
                tokio::time::sleep(MAX_BACKOFF).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        {
            let mut purchases = purchases.lock().await;
            purchases.statuses.push(status);
            if during_outage {
                purchases.during_outage.push(status);
            }
            match (status, retry_after) {
                (201, _) => {
                    let tracking = answer["tracking_number"].as_str().unwrap().to_owned();
                    purchases.bought.insert(key.to_owned(), tracking);
                    return;
                }
                (409, _) | (503 | 504, Some(_)) => {}
                _ => purchases.problems.push(format!(
                    "{key}: {status} (Retry-After {retry_after:?}): {answer}"
                )),
            }
        }
        let wait = match (status, retry_after) {
            (409, _) => Duration::from_millis(100),
            (_, Some(seconds)) => Duration::from_secs(seconds).min(MAX_BACKOFF),
            _ => MAX_BACKOFF,
        };
        tokio::time::sleep(wait).await;
    }
}

/// Asserts that the carrier and the database agree: every label in the simulator's ledger is
/// in `return_labels` and the reverse (0 lost), no tracking number twice on either side (0
/// duplicates), one label per idempotency key, and each key's label is the one its 201 named.
pub async fn assert_ledger_is_database(
    app: &TestApp,
    bought: &std::collections::BTreeMap<String, String>,
) {
    use std::collections::{BTreeMap, BTreeSet};
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT idempotency_key, tracking_number FROM return_labels")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    let in_database: BTreeMap<String, String> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), in_database.len(), "one label per key: {rows:?}");
    assert_eq!(
        &in_database, bought,
        "every 201 is the key's one stored label"
    );
    let stored: BTreeSet<&String> = in_database.values().collect();
    assert_eq!(stored.len(), rows.len(), "no tracking number stored twice");

    let ledger: Vec<String> = app
        .simulator
        .simulator
        .ledger()
        .into_iter()
        .map(|entry| entry.tracking_number)
        .collect();
    let issued: BTreeSet<&String> = ledger.iter().collect();
    assert_eq!(
        issued.len(),
        ledger.len(),
        "the carrier issued no label twice"
    );
    assert_eq!(
        issued, stored,
        "ledger = database: no label lost, none extra"
    );
}
