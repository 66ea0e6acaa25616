//! Layered configuration (API.md): `base.toml`, then `{BACKHAUL_ENV}.toml` (`local` by
//! default; `test`, `production`), then environment variables prefixed `BACKHAUL__` with `__`
//! between levels (`BACKHAUL__LOG__FORMAT=json`). `DATABASE_URL` is accepted for
//! `database.url` when `BACKHAUL__DATABASE__URL` is unset.
//!
//! The files are those of `BACKHAUL_CONFIG_DIR` when it is set, else of `./config` when it
//! holds a `base.toml`, else the repository's `config/*.toml` built into the binary
//! ([`files`]), so an installed `backhaul` runs from any directory. The base file holds every
//! default; an environment's file may be missing from a directory.
//!
//! Secrets (`database.url`, `database.app_password`, `vault.master_keys`,
//! `usps.client_secret`) are [`SecretString`]s from the moment they are deserialized, so
//! `Debug` prints them redacted. [`Settings::load`] validates everything it can before any
//! command runs and names the key (and its environment variable) in every error; production
//! refuses to start without a master key or with a development one.

mod files;

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use accounts::MasterKeyring;
use accounts::vault::DEVELOPMENT_KEY_IDS;
use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

pub(crate) use self::files::ConfigFiles;
use crate::carriers::{
    Entry, FedexSettings, SimulatorSettings, UpsSettings, UpsSimulatorSettings, UspsSettings,
};

/// The deployment environment, from `BACKHAUL_ENV`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Environment {
    #[default]
    Local,
    Test,
    Production,
}

impl Environment {
    fn parse(value: Option<&str>) -> anyhow::Result<Self> {
        match value {
            None | Some("" | "local") => Ok(Environment::Local),
            Some("test") => Ok(Environment::Test),
            Some("production") => Ok(Environment::Production),
            Some(other) => {
                bail!("BACKHAUL_ENV must be one of local, test, production (got {other:?})")
            }
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Environment::Local => "local",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }
}

/// Every setting the binary reads.
#[derive(Debug, Deserialize)]
pub(crate) struct Settings {
    /// From `BACKHAUL_ENV`, not from the files.
    #[serde(skip)]
    pub(crate) environment: Environment,
    pub(crate) server: ServerSettings,
    pub(crate) database: DatabaseSettings,
    #[serde(default)]
    pub(crate) vault: VaultSettings,
    pub(crate) log: LogSettings,
    pub(crate) webhooks: WebhookSettings,
    #[serde(default)]
    pub(crate) tracking: TrackingConfig,
    #[serde(default)]
    pub(crate) console: ConsoleSettings,
    /// Each carrier's block, named by its id ([`Settings::carriers`]).
    pub(crate) usps: UspsSettings,
    pub(crate) usps_sim: SimulatorSettings,
    pub(crate) ups: UpsSettings,
    pub(crate) ups_sim: UpsSimulatorSettings,
    pub(crate) fedex: FedexSettings,
    pub(crate) fedex_sim: SimulatorSettings,
}

/// The API server.
#[derive(Debug, Deserialize)]
pub(crate) struct ServerSettings {
    /// `server.listen`: the address the API binds.
    pub(crate) listen: SocketAddr,
    /// `server.label_lock_ms`: how long a running label purchase holds its idempotency key
    /// before a retry may resume it — how soon a purchase cut off by a crashed instance can be
    /// finished. Unset: [`server::label::DEFAULT_LOCK`] (a minute).
    #[serde(default)]
    pub(crate) label_lock_ms: Option<u64>,
    /// `server.max_connections`: connections served at once (more wait in the backlog).
    pub(crate) max_connections: usize,
    /// `server.header_read_timeout_secs`: how soon a client must send a whole request head.
    pub(crate) header_read_timeout_secs: u64,
    /// `server.idle_timeout_secs`: how long a keep-alive connection may sit idle.
    pub(crate) idle_timeout_secs: u64,
    /// `server.request_timeout_secs`: how long one request may take.
    pub(crate) request_timeout_secs: u64,
    /// `server.rate_limit_per_second` and `server.rate_limit_burst`: each API key's request
    /// rate on this instance.
    pub(crate) rate_limit_per_second: u32,
    pub(crate) rate_limit_burst: u32,
}

impl ServerSettings {
    /// Applies the settings the server reads at run time to `state`.
    pub(crate) fn apply_to(&self, state: &server::AppState) {
        if let Some(lock) = self.label_lock_ms {
            state.set_label_lock(std::time::Duration::from_millis(lock));
        }
        state.set_limits(server::serve::Limits {
            max_connections: self.max_connections,
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs),
        });
        state.rate_limiter().set_limit(server::limit::RateLimit {
            per_second: self.rate_limit_per_second,
            burst: self.rate_limit_burst,
        });
    }

    fn validate(&self) -> anyhow::Result<()> {
        let at_least_one = [
            (
                "server.label_lock_ms",
                "BACKHAUL__SERVER__LABEL_LOCK_MS",
                self.label_lock_ms.unwrap_or(1),
            ),
            (
                "server.max_connections",
                "BACKHAUL__SERVER__MAX_CONNECTIONS",
                self.max_connections as u64,
            ),
            (
                "server.header_read_timeout_secs",
                "BACKHAUL__SERVER__HEADER_READ_TIMEOUT_SECS",
                self.header_read_timeout_secs,
            ),
            (
                "server.idle_timeout_secs",
                "BACKHAUL__SERVER__IDLE_TIMEOUT_SECS",
                self.idle_timeout_secs,
            ),
            (
                "server.request_timeout_secs",
                "BACKHAUL__SERVER__REQUEST_TIMEOUT_SECS",
                self.request_timeout_secs,
            ),
            (
                "server.rate_limit_per_second",
                "BACKHAUL__SERVER__RATE_LIMIT_PER_SECOND",
                u64::from(self.rate_limit_per_second),
            ),
            (
                "server.rate_limit_burst",
                "BACKHAUL__SERVER__RATE_LIMIT_BURST",
                u64::from(self.rate_limit_burst),
            ),
        ];
        for (key, variable, value) in at_least_one {
            if value == 0 {
                bail!("{key} ({variable}) must be at least 1");
            }
        }
        Ok(())
    }
}

/// Tracking (`[tracking]`): where carriers push, the poll schedule and the call budgets.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct TrackingConfig {
    /// `tracking.listener_base_url`: this service's public base URL, from which carriers'
    /// listeners are made (`{base}/v1/carrier-webhooks/{carrier}`). Unset: no push
    /// subscriptions, every label polled (`backhaul dev` uses its own address).
    pub(crate) listener_base_url: Option<String>,
    /// `tracking.contact_email`: who a carrier writes to about a subscription.
    pub(crate) contact_email: String,
    /// `tracking.calls_per_hour.<carrier>`: each API app's hourly tracking budget, in place of
    /// the carrier's default.
    pub(crate) calls_per_hour: std::collections::BTreeMap<String, u32>,
    /// `tracking.first_poll_after_secs`, `poll_interval_min_secs`, `poll_interval_max_secs`,
    /// `poll_interval_pushed_secs`, `subscription_check_secs`, `tick_secs`.
    pub(crate) first_poll_after_secs: u64,
    pub(crate) poll_interval_min_secs: u64,
    pub(crate) poll_interval_max_secs: u64,
    pub(crate) poll_interval_pushed_secs: u64,
    pub(crate) subscription_check_secs: u64,
    pub(crate) tick_secs: u64,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        let defaults = server::tracking::TrackingSettings::default();
        Self {
            listener_base_url: defaults.listener_base_url,
            contact_email: defaults.contact_email,
            calls_per_hour: defaults.calls_per_hour,
            first_poll_after_secs: defaults.first_poll_after.as_secs(),
            poll_interval_min_secs: defaults.poll_interval_min.as_secs(),
            poll_interval_max_secs: defaults.poll_interval_max.as_secs(),
            poll_interval_pushed_secs: defaults.poll_interval_pushed.as_secs(),
            subscription_check_secs: defaults.subscription_check_every.as_secs(),
            tick_secs: defaults.tick.as_secs(),
        }
    }
}

impl TrackingConfig {
    /// Applies the settings to `state`; `own_address` is the listener base when none is set
    /// (`backhaul dev`).
    pub(crate) fn apply_to(&self, state: &server::AppState, own_address: Option<String>) {
        use std::time::Duration;
        state.set_tracking(server::tracking::TrackingSettings {
            listener_base_url: self.listener_base_url.clone().or(own_address),
            contact_email: self.contact_email.clone(),
            calls_per_hour: self.calls_per_hour.clone(),
            first_poll_after: Duration::from_secs(self.first_poll_after_secs),
            poll_interval_min: Duration::from_secs(self.poll_interval_min_secs),
            poll_interval_max: Duration::from_secs(self.poll_interval_max_secs),
            poll_interval_pushed: Duration::from_secs(self.poll_interval_pushed_secs),
            subscription_check_every: Duration::from_secs(self.subscription_check_secs),
            tick: Duration::from_secs(self.tick_secs),
            ..server::tracking::TrackingSettings::default()
        });
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(base) = &self.listener_base_url {
            let parsed = url::Url::parse(base).map_err(|error| {
                anyhow!(
                    "tracking.listener_base_url (BACKHAUL__TRACKING__LISTENER_BASE_URL) is not a URL: {error}"
                )
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
                bail!(
                    "tracking.listener_base_url (BACKHAUL__TRACKING__LISTENER_BASE_URL) must be an http(s) URL without a query"
                );
            }
        }
        if !self.contact_email.contains('@') {
            bail!(
                "tracking.contact_email (BACKHAUL__TRACKING__CONTACT_EMAIL) must be an email address"
            );
        }
        for (key, value) in [
            ("tick_secs", self.tick_secs),
            ("poll_interval_min_secs", self.poll_interval_min_secs),
            ("poll_interval_max_secs", self.poll_interval_max_secs),
            ("poll_interval_pushed_secs", self.poll_interval_pushed_secs),
            ("subscription_check_secs", self.subscription_check_secs),
        ] {
            if value == 0 {
                bail!(
                    "tracking.{key} (BACKHAUL__TRACKING__{}) must be at least 1",
                    key.to_ascii_uppercase()
                );
            }
        }
        for (carrier, calls) in &self.calls_per_hour {
            if *calls == 0 {
                bail!("tracking.calls_per_hour.{carrier} must be at least 1");
            }
        }
        Ok(())
    }
}

/// The web console (`[console]`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ConsoleSettings {
    /// `console.secure_cookies`: the console's cookies always carry `Secure` (else only when
    /// a request came over https, as a proxy reports it). On in production.
    pub(crate) secure_cookies: bool,
}

impl ConsoleSettings {
    pub(crate) fn apply_to(&self, state: &server::AppState) {
        state.set_secure_cookies(self.secure_cookies);
    }
}

/// Webhooks to the returns SaaS.
#[derive(Debug, Deserialize)]
pub(crate) struct WebhookSettings {
    /// `webhooks.allow_private_urls`: allow `http` and non-public addresses (loopback, private,
    /// link-local, …) as webhook targets — `true` only for `backhaul dev` and tests; never in
    /// production.
    pub(crate) allow_private_urls: bool,
    /// `webhooks.workers`: delivery workers on this instance (any number of instances share
    /// the queue).
    pub(crate) workers: usize,
}

impl WebhookSettings {
    /// The policy the server runs with.
    pub(crate) fn policy(&self) -> server::webhook::Policy {
        server::webhook::Policy {
            allow_private_urls: self.allow_private_urls,
            ..server::webhook::Policy::default()
        }
    }

    /// The delivery workers' settings (production's schedule and timeout).
    pub(crate) fn delivery(&self) -> server::webhook::DeliverySettings {
        server::webhook::DeliverySettings {
            workers: self.workers,
            ..server::webhook::DeliverySettings::default()
        }
    }
}

/// The Postgres database.
#[derive(Debug, Deserialize)]
pub(crate) struct DatabaseSettings {
    /// `database.url`: the database OWNER's connection string, used for migrations. The
    /// service itself connects to the same host and database as the application role
    /// ([`accounts::APP_ROLE`]).
    pub(crate) url: Option<SecretString>,
    /// `database.app_password`: the application role's password (none with trust auth).
    pub(crate) app_password: Option<SecretString>,
    /// `database.max_connections`: the application pool's size.
    pub(crate) max_connections: u32,
}

impl DatabaseSettings {
    /// The owner's connection options; an error naming the key when it is not set.
    pub(crate) fn owner_options(&self) -> anyhow::Result<PgConnectOptions> {
        let url = self.url.as_ref().ok_or_else(|| {
            anyhow!(
                "database.url is not set: set BACKHAUL__DATABASE__URL (or DATABASE_URL) to the \
                 Postgres connection string of the database owner"
            )
        })?;
        parse_database_url(url)
    }
}

/// Never echoes the connection string: it may carry a password.
fn parse_database_url(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url.expose_secret()).map_err(|error| {
        anyhow!(
            "database.url (BACKHAUL__DATABASE__URL or DATABASE_URL) is not a valid Postgres \
             connection string: {error}"
        )
    })
}

/// The credential vault.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct VaultSettings {
    /// `vault.master_keys`: `id:base64-32-bytes[,…]`, the first primary.
    pub(crate) master_keys: Option<SecretString>,
}

impl VaultSettings {
    /// The configured master keys; an error naming the key when they are missing or invalid.
    pub(crate) fn keyring(&self) -> anyhow::Result<MasterKeyring> {
        let spec = self.master_keys.as_ref().ok_or_else(|| {
            anyhow!(
                "vault.master_keys is not set: set BACKHAUL__VAULT__MASTER_KEYS to \
                 id:base64-32-bytes[,id:base64-32-bytes…] (the first is primary)"
            )
        })?;
        // The vault's errors name the entry and the key id, never key material.
        MasterKeyring::parse(spec)
            .map_err(|error| anyhow!("{error} (BACKHAUL__VAULT__MASTER_KEYS)"))
    }
}

pub(crate) fn check_url(key: &str, variable: &str, value: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(value)
        .map_err(|error| anyhow!("{key} ({variable}) is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{key} ({variable}) must be an http or https URL");
    }
    Ok(())
}

/// How logs are written.
#[derive(Debug, Deserialize)]
pub(crate) struct LogSettings {
    /// `json` (one object per line, for production) or `pretty`.
    pub(crate) format: LogFormat,
    /// A `tracing` filter such as `info` or `backhaul=debug,info`; `RUST_LOG` wins when set.
    pub(crate) filter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Json,
    Pretty,
}

impl Settings {
    /// Reads the configuration for this process's environment variables and working
    /// directory, and validates it.
    pub(crate) fn load() -> anyhow::Result<Self> {
        let variables: config::Map<String, String> = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        let working_directory = std::env::current_dir().context("reading the working directory")?;
        Self::load_in(&working_directory, variables)
    }

    /// [`Settings::load`] with the working directory and the variables given.
    fn load_in(
        working_directory: &Path,
        variables: config::Map<String, String>,
    ) -> anyhow::Result<Self> {
        let environment = Environment::parse(variables.get("BACKHAUL_ENV").map(String::as_str))?;
        let files = ConfigFiles::locate(
            variables.get("BACKHAUL_CONFIG_DIR").map(String::as_str),
            working_directory,
        )?;
        Self::load_from(&files, environment, variables)
    }

    pub(crate) fn load_from(
        files: &ConfigFiles,
        environment: Environment,
        mut variables: config::Map<String, String>,
    ) -> anyhow::Result<Self> {
        let prefixed_url = variables
            .get("BACKHAUL__DATABASE__URL")
            .is_some_and(|url| !url.is_empty());
        if !prefixed_url {
            if let Some(url) = variables.get("DATABASE_URL").cloned() {
                variables.insert("BACKHAUL__DATABASE__URL".to_owned(), url);
            }
        }
        let mut settings: Settings = files
            .add_to(config::Config::builder(), environment)
            .add_source(
                config::Environment::with_prefix("BACKHAUL")
                    .prefix_separator("__")
                    .separator("__")
                    .ignore_empty(true)
                    .source(Some(variables)),
            )
            .build()
            .and_then(config::Config::try_deserialize)
            .with_context(|| format!("reading the configuration ({files})"))?;
        settings.environment = environment;
        let simulator = settings.ups_sim.clone();
        simulator.apply_to(&mut settings.ups)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Every carrier this binary offers, with where its simulator listens: the one list a
    /// carrier joins (its settings block above, its `<id>_sim` block, an entry here).
    pub(crate) fn carriers(&self) -> [Entry<'_>; 3] {
        [
            Entry {
                plugin: &self.usps,
                simulator_listen: self.usps_sim.listen,
            },
            Entry {
                plugin: &self.ups,
                simulator_listen: self.ups_sim.listen,
            },
            Entry {
                plugin: &self.fedex,
                simulator_listen: self.fedex_sim.listen,
            },
        ]
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.server.validate()?;
        self.tracking.validate()?;
        if self.database.max_connections == 0 {
            bail!(
                "database.max_connections (BACKHAUL__DATABASE__MAX_CONNECTIONS) must be at least 1"
            );
        }
        if let Some(url) = &self.database.url {
            parse_database_url(url)?;
        }
        for entry in self.carriers() {
            entry.plugin.validate()?;
        }
        if self.webhooks.workers == 0 {
            bail!("webhooks.workers (BACKHAUL__WEBHOOKS__WORKERS) must be at least 1");
        }
        if self.environment == Environment::Production && self.webhooks.allow_private_urls {
            bail!(
                "production refuses webhooks.allow_private_urls = true \
                 (BACKHAUL__WEBHOOKS__ALLOW_PRIVATE_URLS): webhooks may only go to public https URLs"
            );
        }
        let keyring = match &self.vault.master_keys {
            Some(_) => Some(self.vault.keyring()?),
            None => None,
        };
        if self.environment == Environment::Production {
            match keyring {
                None => bail!(
                    "production refuses to start without a master key: vault.master_keys is not \
                     set (BACKHAUL__VAULT__MASTER_KEYS=id:base64-32-bytes)"
                ),
                Some(keyring) if keyring.has_development_key() => bail!(
                    "production refuses to start with a development master key: \
                     vault.master_keys (BACKHAUL__VAULT__MASTER_KEYS) contains the key id {} \
                     (public, in config/local.toml); configure a key of your own",
                    DEVELOPMENT_KEY_IDS
                        .iter()
                        .map(|id| format!("{id:?}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
