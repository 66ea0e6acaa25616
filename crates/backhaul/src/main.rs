//! `backhaul`: one binary for the API server, the one-command development start, the USPS
//! simulator and the operator commands. This file only parses the command line, loads the
//! configuration and dispatches; each command lives in its module.

mod bench;
mod cli;
mod configuration;
mod dev;
mod migration;
mod operator;
mod postgres;
mod shutdown;
mod simulator;
mod startup;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{AdminKeysCommand, AuditCommand, Cli, Command, KeysCommand, TenantsCommand};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let settings = configuration::Settings::load()?;
    match cli.command {
        // The benchmark's own process hosts the simulator: it logs less.
        Command::Bench(_) => telemetry::init(&bench::log_settings(&settings.log))?,
        _ => telemetry::init(&settings.log)?,
    }
    let done = match cli.command {
        Command::Dev => dev::run(settings).await,
        Command::Serve => startup::serve(settings).await,
        Command::Migrate => operator::migrate(&settings).await,
        Command::UspsSim(args) => simulator::run(args, &settings).await,
        Command::Tenants(TenantsCommand::Create { name }) => {
            operator::create_tenant(&settings, &name).await
        }
        Command::AdminKeys(AdminKeysCommand::Create { name }) => {
            operator::create_admin_key(&settings, &name).await
        }
        Command::Keys(KeysCommand::Rotate) => operator::rotate_keys(&settings).await,
        Command::Bench(args) => bench::run(args, settings).await,
        Command::Audit(AuditCommand::Verify { tenant }) => {
            return operator::verify_audit(&settings, tenant.as_deref()).await;
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}
