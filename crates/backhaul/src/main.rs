//! `backhaul`: one binary for the API server, the USPS simulator and the operator commands.
//! This file only parses the command line and dispatches; each command lives in its module.

mod cli;
mod configuration;
mod telemetry;

use clap::Parser;

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = configuration::Settings::load()?;
    telemetry::init(&settings.log)?;
    match cli.command {
        Command::UspsSim(args) => cli::usps_sim(args, &settings).await,
    }
}
