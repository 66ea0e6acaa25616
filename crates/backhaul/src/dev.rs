//! `backhaul dev`: the one-command local start.
//!
//! 1. The database: `database.url` / `DATABASE_URL` when set, otherwise a private throwaway
//!    Postgres under `./.backhaul/postgres` ([`PrivatePostgres`]) with a `backhaul` database.
//! 2. The migrations, as the database owner.
//! 3. Every carrier's simulator in-process on its `<id>_sim.listen` (a free port when that one
//!    is busy), and each plugin pointed at its simulator with the simulator's demo platform
//!    app ([`crate::carriers::Plugin::against_simulator`]).
//! 4. The API on `server.listen` (bound before step 1, so a busy port is reported at once),
//!    wired like `backhaul serve`, with the development master key of `config/local.toml`.
//! 5. A demo tenant and an admin key (fresh keys on every run), printed with the URLs (the
//!    console's among them) and, for every carrier, its simulator's demo sign-in and two
//!    ready-to-paste `curl` commands: create an account for the simulator's demo business,
//!    then buy a return label with it.
//!
//! Ctrl-C (or SIGTERM) stops the API, the simulator and the private Postgres, in that order.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::audit::Actor;
use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;

use crate::carriers::{Demo, DemoOnboarding, Entry, Plugin};
use crate::cli::print;
use crate::configuration::{Environment, Settings};
use crate::migration;
use crate::postgres::PrivatePostgres;
use crate::shutdown::Signals;
use crate::startup::{API_LISTEN, Application, bind, connect_app, connect_owner, reachable};

/// How the command is started (in the busy-port message).
const COMMAND: &str = "backhaul dev";
/// The private cluster's home, relative to the working directory.
const DATA_DIR: &str = ".backhaul/postgres";
/// The database `dev` creates in its private cluster.
const DATABASE: &str = "backhaul";
const DEMO_TENANT: &str = "Demo Returns";
const ADMIN_KEY_NAME: &str = "dev";
/// The idempotency key of the printed label purchases (with the carrier's id): pasting one
/// twice returns the same label.
const DEMO_IDEMPOTENCY_KEY: &str = "demo-label-1";

/// Where the database comes from.
enum Owner {
    /// `database.url` / `DATABASE_URL`.
    Configured,
    Private(PrivatePostgres),
}

pub(crate) async fn run(settings: Settings) -> anyhow::Result<()> {
    if settings.environment == Environment::Production {
        bail!(
            "`backhaul dev` is for a developer's machine and does not run with \
             BACKHAUL_ENV=production; use `backhaul migrate` and `backhaul serve`"
        );
    }
    let mut signals = Signals::install()?;
    let keyring =
        Arc::new(settings.vault.keyring().context(
            "`backhaul dev` encrypts with the development master key of config/local.toml",
        )?);
    // Bind first and keep the listeners, so a busy port fails before the slow steps (the
    // private Postgres, the migrations) and nothing can take the port in between.
    let api_listener = bind(settings.server.listen, API_LISTEN, COMMAND).await?;
    let entries = settings.carriers();
    let mut simulator_listeners = Vec::with_capacity(entries.len());
    for entry in &entries {
        simulator_listeners.push(bind_simulator(entry).await?);
    }

    let (owner, owner_options) = prepare_database(&settings).await?;

    let db = connect_app(
        &owner_options,
        &settings.database,
        settings.database.max_connections,
    )
    .await?;
    let api_address = reachable(
        api_listener
            .local_addr()
            .context("reading the API's bound address")?,
    );
    let mut simulators = Vec::with_capacity(entries.len());
    let mut simulated: Vec<Box<dyn Plugin>> = Vec::with_capacity(entries.len());
    for (entry, listener) in entries.iter().zip(simulator_listeners) {
        let address = reachable(
            listener
                .local_addr()
                .context("reading a simulator's bound address")?,
        );
        let url = format!("http://{address}");
        let serving = entry.plugin.serve_simulator(listener, None)?;
        simulators.push(Simulator {
            name: entry.plugin.name(),
            id: entry.plugin.id(),
            url: url.clone(),
            demo: entry.plugin.demo(),
            task: tokio::spawn(serving),
        });
        simulated.push(entry.plugin.against_simulator(&url, api_address));
    }
    let plugins: Vec<&dyn Plugin> = simulated.iter().map(AsRef::as_ref).collect();
    let application = Application::build(api_listener, db.clone(), keyring, &plugins)?;
    settings.server.apply_to(application.state());
    application
        .state()
        .set_webhook_policy(settings.webhooks.policy());
    settings
        .tracking
        .apply_to(application.state(), Some(format!("http://{api_address}")));
    settings.console.apply_to(application.state());

    let (tenant, tenant_key) = accounts::tenant::create_tenant(&db, &Actor::System, DEMO_TENANT)
        .await
        .context("creating the demo tenant")?;
    let admin_key =
        accounts::tenant::create_api_key(&db, &Actor::System, None, ADMIN_KEY_NAME, None)
            .await
            .context("creating the admin key")?;
    print(banner(&Banner {
        api: api_address,
        simulators: &simulators,
        database: match &owner {
            Owner::Configured => "from DATABASE_URL / database.url".to_owned(),
            Owner::Private(postgres) => format!(
                "{} (private, in {})",
                postgres.url(DATABASE),
                postgres.data_dir().display()
            ),
        },
        tenant: format!("{} ({})", tenant.name, tenant.id),
        tenant_key: tenant_key.secret.expose_secret(),
        admin_key: admin_key.secret.expose_secret(),
    })?)?;

    let served = application
        .run_until_stopped(&mut signals, settings.webhooks.delivery())
        .await;
    for simulator in &simulators {
        simulator.task.abort();
    }
    db.pool().close().await;
    if let Owner::Private(mut postgres) = owner {
        tokio::task::spawn_blocking(move || postgres.stop())
            .await
            .context("the private Postgres stop task failed")??;
    }
    served?;
    print("Stopped.")
}

/// The configured database or the private one, migrated; and the owner's connection to it.
async fn prepare_database(settings: &Settings) -> anyhow::Result<(Owner, PgConnectOptions)> {
    let owner = match &settings.database.url {
        Some(_) => Owner::Configured,
        None => {
            let postgres =
                tokio::task::spawn_blocking(|| PrivatePostgres::start(Path::new(DATA_DIR)))
                    .await
                    .context("the private Postgres start task failed")??;
            Owner::Private(postgres)
        }
    };
    let options = match &owner {
        Owner::Configured => settings.database.owner_options()?,
        Owner::Private(postgres) => {
            create_database(&postgres.connect_options("postgres")).await?;
            postgres.connect_options(DATABASE)
        }
    };
    let pool = connect_owner(&options).await?;
    for applied in migration::apply(&pool).await? {
        tracing::info!(
            migration = migration::describe(applied),
            "migration applied"
        );
    }
    pool.close().await;
    Ok((owner, options))
}

/// A carrier's simulator running in-process.
struct Simulator {
    name: &'static str,
    id: &'static str,
    url: String,
    demo: Demo,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// `<id>_sim.listen`, or any free loopback port when it is taken.
async fn bind_simulator(entry: &Entry<'_>) -> anyhow::Result<TcpListener> {
    let address = entry.simulator_listen;
    let (name, id) = (entry.plugin.name(), entry.plugin.id());
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(%address, "{id}_sim.listen is busy; the {name} simulator takes a free port");
            TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .with_context(|| format!("binding the {name} simulator to a free port"))
        }
        Err(error) => Err(error).with_context(|| {
            format!("binding the {name} simulator to {address} ({id}_sim.listen)")
        }),
    }
}

/// Creates `backhaul` in the private cluster unless a previous run did.
async fn create_database(maintenance: &PgConnectOptions) -> anyhow::Result<()> {
    let pool: PgPool = connect_owner(maintenance).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&pool)
            .await
            .context("looking for the backhaul database")?;
    if !exists {
        // The name is DATABASE (an identifier cannot be a bind parameter).
        sqlx::query("CREATE DATABASE backhaul")
            .execute(&pool)
            .await
            .context("creating the backhaul database")?;
    }
    pool.close().await;
    Ok(())
}

/// What the banner shows.
struct Banner<'a> {
    api: SocketAddr,
    simulators: &'a [Simulator],
    database: String,
    tenant: String,
    tenant_key: &'a str,
    admin_key: &'a str,
}

/// Where the banner's scan command wants the label's tracking number.
const SCAN_PLACEHOLDER: &str = "TRACKING_NUMBER";

fn banner(banner: &Banner<'_>) -> anyhow::Result<String> {
    let api = format!("http://{}", banner.api);
    let mut text = String::new();
    writeln!(text)?;
    writeln!(text, "Backhaul is running (development mode).")?;
    writeln!(text)?;
    writeln!(text, "  API             {api}")?;
    writeln!(
        text,
        "  Console         {api}/console  (sign in with a key below)"
    )?;
    writeln!(text, "  OpenAPI         {api}/openapi.json")?;
    writeln!(text, "  Metrics         {api}/metrics")?;
    for simulator in banner.simulators {
        let label = format!("{} simulator", simulator.name);
        writeln!(
            text,
            "  {label:<16}{}  (ledger: {0}/__sim/ledger)",
            simulator.url
        )?;
    }
    writeln!(text, "  Database        {}", banner.database)?;
    writeln!(text)?;
    writeln!(text, "  Tenant          {}", banner.tenant)?;
    writeln!(text, "  Tenant API key  {}", banner.tenant_key)?;
    writeln!(text, "  Admin API key   {}", banner.admin_key)?;
    writeln!(text, "  (fresh keys on every run, shown only here)")?;
    for simulator in banner.simulators {
        let Simulator { name, id, demo, .. } = simulator;
        writeln!(text)?;
        writeln!(text, "── {name} ──")?;
        writeln!(text)?;
        if let DemoOnboarding::SignIn { username, password } = &demo.onboarding {
            writeln!(
                text,
                "\"Login with {name}\" (in the console, or POST /v1/shipper-accounts/{id}/connect) opens"
            )?;
            writeln!(
                text,
                "the simulator's sign-in page: sign in as {username} / {password} and approve."
            )?;
        }
        writeln!(text)?;
        writeln!(
            text,
            "Or create a {name} shipper account for the simulator's demo business:"
        )?;
        writeln!(text)?;
        curl(
            &mut text,
            &format!("{api}/v1/shipper-accounts"),
            banner.tenant_key,
            None,
            &demo.account,
        )?;
        writeln!(text)?;
        writeln!(text, "Buy a return label with it:")?;
        writeln!(text)?;
        curl(
            &mut text,
            &format!("{api}/v1/return-labels"),
            banner.tenant_key,
            Some(&format!("{DEMO_IDEMPOTENCY_KEY}-{id}")),
            &demo.label,
        )?;
        writeln!(text)?;
        writeln!(
            text,
            "Scan it at the simulator (put the label's tracking_number in the URL): {name} pushes"
        )?;
        writeln!(
            text,
            "the scan to Backhaul and the label's status follows (GET /v1/return-labels/{{id}}/tracking):"
        )?;
        writeln!(text)?;
        writeln!(
            text,
            "  curl -sS {}/__sim/tracking/{SCAN_PLACEHOLDER}/events \\",
            simulator.url
        )?;
        writeln!(text, "    -H 'Content-Type: application/json' \\")?;
        writeln!(
            text,
            "    -d '{}'",
            serde_json::json!({"status": "accepted"})
        )?;
        if let DemoOnboarding::Registration {
            account,
            codes_path,
        } = &demo.onboarding
        {
            writeln!(text)?;
            writeln!(
                text,
                "Or register the demo business with {name} (in the console, or as below, then answer"
            )?;
            writeln!(
                text,
                "each step with POST /v1/shipper-accounts/{{id}}/verification):"
            )?;
            writeln!(text)?;
            curl(
                &mut text,
                &format!("{api}/v1/shipper-accounts"),
                banner.tenant_key,
                None,
                account,
            )?;
            writeln!(text)?;
            writeln!(
                text,
                "The simulator \"sends\" the PINs {name} asks for to {}{codes_path}",
                simulator.url
            )?;
        }
    }
    writeln!(text)?;
    write!(text, "Ctrl-C stops everything.")?;
    Ok(text)
}

/// A `curl` POST of `body`, one option per line (the body alone on the last one).
fn curl(
    text: &mut String,
    url: &str,
    key: &str,
    idempotency_key: Option<&str>,
    body: &Value,
) -> anyhow::Result<()> {
    writeln!(text, "  curl -sS {url} \\")?;
    writeln!(text, "    -H 'Authorization: Bearer {key}' \\")?;
    if let Some(idempotency_key) = idempotency_key {
        writeln!(text, "    -H 'Idempotency-Key: {idempotency_key}' \\")?;
    }
    writeln!(text, "    -H 'Content-Type: application/json' \\")?;
    // The demo data has no single quote, so the JSON pastes into a single-quoted argument.
    writeln!(text, "    -d '{}'", serde_json::to_string(body)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulators(settings: &Settings) -> Vec<Simulator> {
        settings
            .carriers()
            .iter()
            .enumerate()
            .map(|(n, entry)| Simulator {
                name: entry.plugin.name(),
                id: entry.plugin.id(),
                url: format!("http://127.0.0.1:{}", 8081 + n),
                demo: entry.plugin.demo(),
                task: tokio::spawn(async { Ok(()) }),
            })
            .collect()
    }

    fn settings() -> Settings {
        Settings::load_from(
            &crate::configuration::ConfigFiles::BuiltIn,
            Environment::Test,
            Default::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_printed_json_pastes_into_single_quoted_shell_arguments() {
        for simulator in simulators(&settings()) {
            let mut bodies = vec![&simulator.demo.account, &simulator.demo.label];
            if let DemoOnboarding::Registration { account, .. } = &simulator.demo.onboarding {
                bodies.push(account);
            }
            for body in bodies {
                assert!(!serde_json::to_string(body).unwrap().contains('\''));
            }
        }
    }

    #[tokio::test]
    async fn the_banner_shows_every_url_both_keys_and_every_carriers_example() {
        let settings = settings();
        let simulators = simulators(&settings);
        let text = banner(&Banner {
            api: "127.0.0.1:8080".parse().unwrap(),
            simulators: &simulators,
            database: "postgres://postgres@127.0.0.1:5433/backhaul".to_owned(),
            tenant: "Demo Returns (ten_x)".to_owned(),
            tenant_key: "bh_tenant",
            admin_key: "bh_admin",
        })
        .unwrap();
        for expected in [
            "http://127.0.0.1:8080/console",
            "sign in as merchant / password",
            "http://127.0.0.1:8080/openapi.json",
            "http://127.0.0.1:8080/metrics",
            "http://127.0.0.1:8081/__sim/ledger",
            "Tenant API key  bh_tenant",
            "Admin API key   bh_admin",
            "curl -sS http://127.0.0.1:8080/v1/shipper-accounts",
            "curl -sS http://127.0.0.1:8080/v1/return-labels",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
        for simulator in &simulators {
            let onboarding = match &simulator.demo.onboarding {
                DemoOnboarding::SignIn { .. } => {
                    format!("POST /v1/shipper-accounts/{}/connect", simulator.id)
                }
                DemoOnboarding::Registration { codes_path, .. } => {
                    format!("{}{codes_path}", simulator.url)
                }
            };
            for expected in [
                onboarding,
                format!("Idempotency-Key: demo-label-1-{}", simulator.id),
                serde_json::to_string(&simulator.demo.account).unwrap(),
            ] {
                assert!(text.contains(&expected), "{expected} missing from\n{text}");
            }
        }
    }
}
