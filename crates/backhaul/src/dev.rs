//! `backhaul dev`: the one-command local start.
//!
//! 1. The database: `database.url` / `DATABASE_URL` when set, otherwise a private throwaway
//!    Postgres under `./.backhaul/postgres` ([`PrivatePostgres`]) with a `backhaul` database.
//! 2. The migrations, as the database owner.
//! 3. The USPS simulator in-process on `usps_sim.listen` (a free port when that one is busy),
//!    and the USPS plugin pointed at it with the simulator's demo platform app.
//! 4. The API on `server.listen` (bound before step 1, so a busy port is reported at once),
//!    wired like `backhaul serve`, with the development master key of `config/local.toml`.
//! 5. A demo tenant and an admin key (fresh keys on every run), printed with the URLs (the
//!    console's among them), the simulator's demo sign-in for "Login with USPS" and two
//!    ready-to-paste `curl` commands: create a USPS account for the simulator's demo business,
//!    then buy a return label with it.
//!
//! Ctrl-C (or SIGTERM) stops the API, the simulator and the private Postgres, in that order.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::audit::Actor;
use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::net::TcpListener;
use usps_sim::demo;

use crate::cli::print;
use crate::configuration::{Environment, Settings, UspsSettings};
use crate::migration;
use crate::postgres::PrivatePostgres;
use crate::shutdown::Signals;
use crate::startup::{
    API_LISTEN, Application, SIMULATOR_LISTEN, bind, connect_app, connect_owner, reachable,
};

/// How the command is started (in the busy-port message).
const COMMAND: &str = "backhaul dev";
/// The private cluster's home, relative to the working directory.
const DATA_DIR: &str = ".backhaul/postgres";
/// The database `dev` creates in its private cluster.
const DATABASE: &str = "backhaul";
const DEMO_TENANT: &str = "Demo Returns";
const ADMIN_KEY_NAME: &str = "dev";
/// The idempotency key of the printed label purchase: pasting it twice returns the same label.
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
    let simulator_listener = bind_simulator(settings.usps_sim.listen).await?;

    let (owner, owner_options) = prepare_database(&settings).await?;

    let db = connect_app(
        &owner_options,
        &settings.database,
        settings.database.max_connections,
    )
    .await?;
    let simulator_address = reachable(
        simulator_listener
            .local_addr()
            .context("reading the simulator's bound address")?,
    );
    let simulator = tokio::spawn(
        usps_sim::Simulator::new(usps_sim::SimConfig::default()).serve(simulator_listener),
    );
    let api_address = reachable(
        api_listener
            .local_addr()
            .context("reading the API's bound address")?,
    );
    let simulator_url = format!("http://{simulator_address}");
    let usps = UspsSettings {
        base_url: simulator_url.clone(),
        webtools_url: format!("{simulator_url}/ShippingAPI.dll"),
        client_id: Some(demo::CLIENT_ID.to_owned()),
        client_secret: Some(SecretString::from(demo::CLIENT_SECRET.to_owned())),
        redirect_uri: Some(format!("http://{api_address}/v1/usps/oauth/callback")),
        authorize_url: None,
    };
    let application = Application::build(api_listener, db.clone(), keyring, &usps)?;
    settings.server.apply_to(application.state());

    let (tenant, tenant_key) = accounts::tenant::create_tenant(&db, &Actor::System, DEMO_TENANT)
        .await
        .context("creating the demo tenant")?;
    let admin_key =
        accounts::tenant::create_api_key(&db, &Actor::System, None, ADMIN_KEY_NAME, None)
            .await
            .context("creating the admin key")?;
    print(banner(&Banner {
        api: api_address,
        simulator: simulator_address,
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

    let served = application.run_until_stopped(&mut signals).await;
    simulator.abort();
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

/// `usps_sim.listen`, or any free loopback port when it is taken.
async fn bind_simulator(address: SocketAddr) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            tracing::warn!(%address, "usps_sim.listen is busy; the simulator takes a free port");
            bind(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                SIMULATOR_LISTEN,
                COMMAND,
            )
            .await
        }
        Err(error) => Err(error)
            .with_context(|| format!("binding the USPS simulator to {address} (usps_sim.listen)")),
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
    simulator: SocketAddr,
    database: String,
    tenant: String,
    tenant_key: &'a str,
    admin_key: &'a str,
}

fn banner(banner: &Banner<'_>) -> anyhow::Result<String> {
    let api = format!("http://{}", banner.api);
    let simulator = format!("http://{}", banner.simulator);
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
    writeln!(text, "  USPS simulator  {simulator}")?;
    writeln!(text, "  Label ledger    {simulator}/__sim/ledger")?;
    writeln!(text, "  Database        {}", banner.database)?;
    writeln!(text)?;
    writeln!(text, "  Tenant          {}", banner.tenant)?;
    writeln!(text, "  Tenant API key  {}", banner.tenant_key)?;
    writeln!(text, "  Admin API key   {}", banner.admin_key)?;
    writeln!(text, "  (fresh keys on every run, shown only here)")?;
    writeln!(text)?;
    writeln!(
        text,
        "\"Login with USPS\" (in the console, or POST /v1/shipper-accounts/usps/connect) opens the"
    )?;
    writeln!(
        text,
        "simulator's sign-in page: sign in as {} / {} and approve.",
        demo::USERNAME,
        demo::PASSWORD
    )?;
    writeln!(text)?;
    writeln!(
        text,
        "Create a USPS shipper account for the simulator's demo business:"
    )?;
    writeln!(text)?;
    curl(
        &mut text,
        &format!("{api}/v1/shipper-accounts"),
        banner.tenant_key,
        None,
        &demo_account(),
    )?;
    writeln!(text)?;
    writeln!(text, "Buy a return label with it:")?;
    writeln!(text)?;
    curl(
        &mut text,
        &format!("{api}/v1/return-labels"),
        banner.tenant_key,
        Some(DEMO_IDEMPOTENCY_KEY),
        &demo_label(),
    )?;
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

/// The simulator's demo business on USPS v3 with its own app (as `tests/src/lib.rs`).
pub(crate) fn demo_account() -> Value {
    json!({
        "carrier": "usps",
        "name": "Demo warehouse",
        "details": {
            "api": "v3",
            "crid": demo::CRID,
            "mid": demo::MID,
            "manifest_mid": demo::MANIFEST_MID,
            "returns_mid": demo::RETURNS_MID,
            "account_type": "EPS",
            "eps_account_number": demo::EPS_ACCOUNT,
            "return_address": {
                "firm": demo::RETURN_ADDRESS_FIRM,
                "street1": demo::RETURN_ADDRESS_STREET,
                "city": demo::RETURN_ADDRESS_CITY,
                "state": demo::RETURN_ADDRESS_STATE,
                "zip5": demo::RETURN_ADDRESS_ZIP,
            },
        },
        "credentials": {
            "mode": "own_app",
            "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET,
        },
    })
}

/// The API.md label request.
pub(crate) fn demo_label() -> Value {
    json!({
        "service": "usps_ground_advantage_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "label_format": "PDF",
        "reference": "RMA-1001",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_json_pastes_into_single_quoted_shell_arguments() {
        for body in [demo_account(), demo_label()] {
            assert!(!serde_json::to_string(&body).unwrap().contains('\''));
        }
    }

    #[test]
    fn the_banner_shows_every_url_and_both_keys() {
        let text = banner(&Banner {
            api: "127.0.0.1:8080".parse().unwrap(),
            simulator: "127.0.0.1:8081".parse().unwrap(),
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
            "Idempotency-Key: demo-label-1",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }
}
