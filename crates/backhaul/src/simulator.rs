//! `backhaul usps-sim`: the USPS simulator alone, on `--listen` or `usps_sim.listen`.

use std::path::Path;

use anyhow::Context;

use crate::cli::UspsSimArgs;
use crate::configuration::Settings;

pub(crate) async fn run(args: UspsSimArgs, settings: &Settings) -> anyhow::Result<()> {
    let listen = args.listen.unwrap_or(settings.usps_sim.listen);
    let sim_config = match &args.config {
        Some(path) => load_sim_config(path)?,
        None => usps_sim::SimConfig::default(),
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the USPS simulator to {listen}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%address, "USPS simulator listening");
    usps_sim::Simulator::new(sim_config)
        .serve(listener)
        .await
        .context("serving the USPS simulator")
}

fn load_sim_config(path: &Path) -> anyhow::Result<usps_sim::SimConfig> {
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .and_then(config::Config::try_deserialize)
        .with_context(|| format!("reading simulator test data from {}", path.display()))
}
