//! The command line (clap) and the commands that need no server: `usps-sim`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::configuration::Settings;

/// Backhaul: returns labels through carrier plugins.
#[derive(Debug, Parser)]
#[command(name = "backhaul", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the USPS simulator alone (OAuth with its consent page, Payments, Labels v3).
    UspsSim(UspsSimArgs),
}

#[derive(Debug, Args)]
pub(crate) struct UspsSimArgs {
    /// Address to listen on; defaults to `usps_sim.listen` from the configuration.
    #[arg(long)]
    pub(crate) listen: Option<SocketAddr>,
    /// A TOML or JSON file with the simulator's test data (apps, users, CRIDs, MIDs, EPS
    /// accounts, permits); the built-in demo data when absent.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
}

pub(crate) async fn usps_sim(args: UspsSimArgs, settings: &Settings) -> anyhow::Result<()> {
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

fn load_sim_config(path: &std::path::Path) -> anyhow::Result<usps_sim::SimConfig> {
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .and_then(config::Config::try_deserialize)
        .with_context(|| format!("reading simulator test data from {}", path.display()))
}
