//! The carriers this binary offers, and everything the binary does with each: its settings
//! (the configuration block named by its id, `[usps]`, `[ups]`, `[fedex]`), building its plugin for the
//! registry, its simulator (`backhaul <id>-sim`, and in-process for `backhaul dev`) and what
//! `backhaul dev` prints about it.
//!
//! [`Settings::carriers`](crate::configuration::Settings::carriers) is **the one list** a new
//! carrier joins; nothing else in the binary names a carrier (README, "Adding a carrier").

mod fedex;
mod ups;
mod usps;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::PgTokenCache;
use carrier::{Carrier, CarrierRegistry};
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::net::TcpListener;

pub(crate) use self::fedex::FedexSettings;
pub(crate) use self::ups::{UpsSettings, UpsSimulatorSettings};
pub(crate) use self::usps::UspsSettings;

/// One carrier, as the binary sees it.
pub(crate) trait Plugin: std::fmt::Debug + Send + Sync {
    /// The carrier's id: its settings block, `<id>_sim.listen` and `backhaul <id>-sim`.
    fn id(&self) -> &'static str;

    /// The carrier's name for people.
    fn name(&self) -> &'static str;

    /// Checks the settings block, naming each key and its variable in errors.
    fn validate(&self) -> anyhow::Result<()>;

    /// The plugin, sharing `token_cache` across instances.
    fn build(&self, token_cache: Arc<PgTokenCache>) -> anyhow::Result<Arc<dyn Carrier>>;

    /// These settings pointed at the carrier's simulator at `simulator` (`http://host:port`),
    /// with the simulator's demo platform app and its sign-in coming back to the API at `api`.
    fn against_simulator(&self, simulator: &str, api: SocketAddr) -> Box<dyn Plugin>;

    /// Serves the carrier's simulator on `listener`, with the test data of `config` (a TOML or
    /// JSON file) or its built-in demo data.
    fn serve_simulator(
        &self,
        listener: TcpListener,
        config: Option<&Path>,
    ) -> anyhow::Result<BoxFuture<'static, std::io::Result<()>>>;

    /// What `backhaul dev` prints about the carrier's simulator.
    fn demo(&self) -> Demo;
}

/// A carrier in the list, with where its simulator listens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) plugin: &'a dyn Plugin,
    /// `<id>_sim.listen`.
    pub(crate) simulator_listen: SocketAddr,
}

/// The simulator's demo data, for `backhaul dev`'s banner.
#[derive(Debug, Clone)]
pub(crate) struct Demo {
    /// How a merchant connects the simulator's demo business besides the `account` body.
    pub(crate) onboarding: DemoOnboarding,
    /// A `POST /v1/shipper-accounts` body for the simulator's demo business.
    pub(crate) account: Value,
    /// A `POST /v1/return-labels` body that account can buy.
    pub(crate) label: Value,
}

/// How the banner tells a developer to connect the demo business the carrier's own way.
#[derive(Debug, Clone)]
pub(crate) enum DemoOnboarding {
    /// "Login with …": the simulator's sign-in page user and password.
    SignIn {
        username: &'static str,
        password: &'static str,
    },
    /// Registration with the carrier (`credentials.mode` `registration`): the `POST
    /// /v1/shipper-accounts` body that starts it, and where on the simulator the codes it
    /// "sends" the merchant can be read.
    Registration {
        account: Value,
        codes_path: &'static str,
    },
}

/// `<id>_sim`: where `backhaul <id>-sim` (and `backhaul dev`'s simulator) listens.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct SimulatorSettings {
    pub(crate) listen: SocketAddr,
}

/// The registry of every plugin in `plugins`.
pub(crate) fn registry(
    plugins: &[&dyn Plugin],
    token_cache: &Arc<PgTokenCache>,
) -> anyhow::Result<CarrierRegistry> {
    plugins
        .iter()
        .try_fold(CarrierRegistry::new(), |registry, plugin| {
            Ok(registry.register(plugin.build(token_cache.clone())?))
        })
}

/// The platform app of carrier `id` (`<id>.client_id`, `<id>.client_secret`,
/// `<id>.redirect_uri`, and `<id>.authorize_url` with them), configured all together or not at
/// all: which of them are set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlatformAppKeys {
    pub(crate) client_id: bool,
    pub(crate) client_secret: bool,
    pub(crate) redirect_uri: bool,
    pub(crate) authorize_url: bool,
}

impl PlatformAppKeys {
    /// Refuses a partly configured platform app, naming the keys that are missing.
    pub(crate) fn check(self, id: &str, name: &str) -> anyhow::Result<()> {
        let app = [
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            ("redirect_uri", self.redirect_uri),
        ];
        let missing: Vec<String> = app
            .iter()
            .filter(|(_, set)| !set)
            .map(|(key, _)| format!("{id}.{key}"))
            .collect();
        let together = format!("{id}.client_id, {id}.client_secret and {id}.redirect_uri");
        if !missing.is_empty() && missing.len() < app.len() {
            anyhow::bail!(
                "the platform {name} app is partly configured: {} must be set too ({together} go together)",
                missing.join(", ")
            );
        }
        if self.authorize_url && missing.len() == app.len() {
            anyhow::bail!(
                "{id}.authorize_url is set but the platform {name} app is not: set {together}"
            );
        }
        Ok(())
    }
}

/// Reads a simulator's test data file into its config type.
pub(crate) fn load_simulator_config<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> anyhow::Result<T> {
    use anyhow::Context as _;
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .and_then(config::Config::try_deserialize)
        .with_context(|| format!("reading simulator test data from {}", path.display()))
}
