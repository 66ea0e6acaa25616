//! The harness shared by the end-to-end tests in `tests/`: the whole system as the binary
//! wires it — a real HTTP server on a loopback port, the application role on a fresh Postgres
//! database (`#[sqlx::test]`), the USPS plugin with the shared token cache, and an in-process
//! USPS simulator.

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

/// How the USPS plugin of an instance is configured.
#[derive(Debug, Clone)]
pub struct PluginOptions {
    pub request_timeout: Duration,
}

impl Default for PluginOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Starts a server instance against `owner`'s database and the simulator at `sim_url`, wired
/// like `backhaul serve`: the application role, the shared token cache, the USPS plugin with
/// the simulator's platform app for "Login with USPS".
pub async fn start_instance(owner: &PgPool, sim_url: &str, options: PluginOptions) -> Instance {
    let db = Database::connect_as_app(&owner.connect_options(), None, 32)
        .await
        .unwrap();
    let keyring = Arc::new(MasterKeyring::parse(&SecretString::from(master_keys())).unwrap());
    let token_cache = Arc::new(PgTokenCache::new(db.clone(), keyring.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let usps = UspsBuilder::new()
        .with_base_url(sim_url)
        .with_webtools_url(format!("{sim_url}/ShippingAPI.dll"))
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(demo::CLIENT_SECRET.to_owned()),
            format!("{base_url}/v1/usps/oauth/callback"),
        ))
        .with_token_cache(token_cache.clone())
        .with_request_timeout(options.request_timeout)
        .with_retry(RetryConfig {
            max_retries: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(1),
        })
        .build()
        .unwrap();
    let registry = CarrierRegistry::new().register(Arc::new(usps));
    let state = AppState::new(db, keyring, registry, Some(token_cache));
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
    pub simulator: RunningSimulator,
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
        let simulator = Simulator::new(SimConfig::default()).spawn().await.unwrap();
        let instance = start_instance(&owner, &simulator.base_url, options).await;
        let db = instance.state.db();
        let (tenant, key) = accounts::tenant::create_tenant(db, &Actor::System, "Acme Returns")
            .await
            .unwrap();
        let admin = accounts::tenant::create_api_key(db, &Actor::System, None, "ops")
            .await
            .unwrap();
        Self {
            owner,
            simulator,
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
        let response = self
            .post(
                &self.tenant_key,
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
        form.push(("username".into(), demo::USERNAME.into()));
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

pub mod browser;
pub mod console;
