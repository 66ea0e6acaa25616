//! How the service is put together from the configuration, and `backhaul serve`.
//!
//! Wired exactly like the end-to-end harness (`tests/src/lib.rs::start_instance`): the
//! application role's pool ([`accounts::APP_ROLE`], row-level security applies to it), the
//! shared carrier-token cache in Postgres, every carrier's plugin built with it
//! ([`crate::carriers`]), the carrier registry
//! and the [`AppState`], plus the background job that renews OAuth credentials before they
//! expire. Migrations run as the database owner (`database.url`); the service
//! itself never connects as the owner except to check that no migration is pending.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use accounts::{Database, MasterKeyring, PgTokenCache};
use anyhow::{Context, anyhow};
use secrecy::ExposeSecret;
use server::AppState;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpListener;

use crate::carriers::{self, Plugin};
use crate::configuration::{DatabaseSettings, Settings};
use crate::migration;
use crate::shutdown::Signals;

/// How long in-flight requests may take to finish after Ctrl-C or SIGTERM.
const GRACE_PERIOD: Duration = Duration::from_secs(30);
/// How often the background job renews the OAuth credentials that are due
/// ([`server::oauth::spawn_refresh_job`]; USPS renews five minutes before an access token
/// expires and a day before a refresh token does, so a minute is plenty).
const OAUTH_REFRESH_EVERY: Duration = Duration::from_secs(60);

/// `backhaul serve`.
pub(crate) async fn serve(settings: Settings) -> anyhow::Result<()> {
    let mut signals = Signals::install()?;
    let owner_options = settings.database.owner_options()?;
    let keyring = Arc::new(settings.vault.keyring()?);
    let owner = connect_owner(&owner_options).await?;
    migration::ensure_current(&owner).await?;
    owner.close().await;
    let db = connect_app(
        &owner_options,
        &settings.database,
        settings.database.max_connections,
    )
    .await?;
    let listener = bind(settings.server.listen, API_LISTEN, "backhaul serve").await?;
    let plugins: Vec<&dyn Plugin> = settings
        .carriers()
        .iter()
        .map(|entry| entry.plugin)
        .collect();
    let application = Application::build(listener, db, keyring, &plugins)?;
    settings.server.apply_to(application.state());
    application
        .state()
        .set_webhook_policy(settings.webhooks.policy());
    settings.tracking.apply_to(application.state(), None);
    settings.console.apply_to(application.state());
    tracing::info!(
        environment = settings.environment.as_str(),
        address = %application.address(),
        carriers = ?application.state().registry().ids().collect::<Vec<_>>(),
        primary_master_key = application.state().keyring().primary().id(),
        "API listening"
    );
    application
        .run_until_stopped(&mut signals, settings.webhooks.delivery())
        .await
}

/// A small pool as the database owner (migrations and their check).
pub(crate) async fn connect_owner(options: &PgConnectOptions) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await
        .context("connecting to Postgres as the database owner (database.url)")
}

/// The application role's pool on the owner's host and database.
pub(crate) async fn connect_app(
    owner: &PgConnectOptions,
    settings: &DatabaseSettings,
    max_connections: u32,
) -> anyhow::Result<Database> {
    let password = settings.app_password.as_ref().map(|p| p.expose_secret());
    Database::connect_as_app(owner, password, max_connections)
        .await
        .with_context(|| {
            format!(
                "connecting to Postgres as the application role {} (the database of \
                 database.url, password database.app_password)",
                accounts::APP_ROLE
            )
        })
}

/// An address the binary listens on: what for, and the key and variable that configure it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listen {
    pub(crate) what: &'static str,
    pub(crate) key: &'static str,
    pub(crate) variable: &'static str,
}

/// `server.listen`.
pub(crate) const API_LISTEN: Listen = Listen {
    what: "the API",
    key: "server.listen",
    variable: "BACKHAUL__SERVER__LISTEN",
};

/// Binds `address` for `listen`. A port that is in use is one line saying so, naming the key
/// and its variable and showing `command` started on another port.
pub(crate) async fn bind(
    address: SocketAddr,
    listen: Listen,
    command: &str,
) -> anyhow::Result<TcpListener> {
    let Listen {
        what,
        key,
        variable,
    } = listen;
    // The server's listener, with its generous backlog (`server::serve::bind`).
    match server::serve::bind(address) {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            let other = SocketAddr::new(address.ip(), another_port(address.port()));
            Err(anyhow!(
                "{what} cannot listen on {address} ({key}): the port is in use, perhaps by \
                 another backhaul; stop that or choose another address with {variable}, e.g. \
                 `{variable}={other} {command}`"
            ))
        }
        Err(error) => {
            Err(error).with_context(|| format!("binding {what} to {address} ({key}, {variable})"))
        }
    }
}

/// A port near `port` to suggest instead (8080 → 8090).
fn another_port(port: u16) -> u16 {
    port.checked_add(10).unwrap_or(port - 10)
}

/// An address to print or to put in a URL: an unspecified address (`0.0.0.0`) is reached
/// on loopback.
pub(crate) fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        ip if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), address.port())
        }
        _ => address,
    }
}

/// The API, bound and wired, not yet serving.
#[derive(Debug)]
pub(crate) struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
}

impl Application {
    pub(crate) fn build(
        listener: TcpListener,
        db: Database,
        keyring: Arc<MasterKeyring>,
        plugins: &[&dyn Plugin],
    ) -> anyhow::Result<Self> {
        let address = listener
            .local_addr()
            .context("reading the API's bound address")?;
        let token_cache = Arc::new(PgTokenCache::new(db.clone(), keyring.clone()));
        let registry = carriers::registry(plugins, &token_cache)?;
        let state = AppState::new(db, keyring, registry, Some(token_cache));
        Ok(Self {
            listener,
            address,
            state,
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    pub(crate) fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves, with the OAuth refresh job, the webhook delivery workers, the tracking jobs and
    /// the audit sequencer beside it, until Ctrl-C or SIGTERM; then lets
    /// in-flight requests finish (up to [`GRACE_PERIOD`], or until a second signal).
    pub(crate) async fn run_until_stopped(
        self,
        signals: &mut Signals,
        deliveries: server::webhook::DeliverySettings,
    ) -> anyhow::Result<()> {
        let _refresh_job = AbortOnDrop(server::oauth::spawn_refresh_job(
            self.state.clone(),
            OAUTH_REFRESH_EVERY,
        ));
        let _delivery_workers = AbortOnDrop(
            server::webhook::spawn_delivery_workers(self.state.clone(), deliveries)
                .context("building the webhook delivery client")?,
        );
        let _tracking_jobs = AbortOnDrop(server::tracking::spawn_jobs(self.state.clone()));
        let _audit_sequencer =
            AbortOnDrop(accounts::audit::spawn_sequencer(self.state.db().clone()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut server = tokio::spawn(server::serve(self.listener, self.state, async move {
            let _ = stopped.await;
        }));
        tokio::select! {
            joined = &mut server => return served(joined),
            signal = signals.received() => {
                tracing::info!(signal, "shutting down: finishing in-flight requests");
            }
        }
        let _ = stop.send(());
        tokio::select! {
            joined = &mut server => served(joined),
            () = tokio::time::sleep(GRACE_PERIOD) => {
                server.abort();
                tracing::warn!(grace_period_s = GRACE_PERIOD.as_secs(), "in-flight requests did not finish in time; stopped anyway");
                Ok(())
            }
            signal = signals.received() => {
                server.abort();
                tracing::warn!(signal, "second signal: stopped without waiting for in-flight requests");
                Ok(())
            }
        }
    }
}

/// Stops a background task when its owner goes, however it goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn served(joined: Result<std::io::Result<()>, tokio::task::JoinError>) -> anyhow::Result<()> {
    joined
        .context("the API server task failed")?
        .context("serving the API")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_busy_port_is_one_line_naming_the_key_its_variable_and_a_way_out() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = taken.local_addr().unwrap();
        let error = bind(address, API_LISTEN, "backhaul dev").await.unwrap_err();
        let message = format!("{error:#}");
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains(&format!("{address} (server.listen)")),
            "{message}"
        );
        let suggestion = format!(
            "`BACKHAUL__SERVER__LISTEN=127.0.0.1:{} backhaul dev`",
            another_port(address.port())
        );
        assert!(message.contains(&suggestion), "{message}");
    }

    #[test]
    fn the_suggested_port_is_another_valid_one() {
        assert_eq!(another_port(8080), 8090);
        assert_eq!(another_port(u16::MAX), u16::MAX - 10);
    }
}
