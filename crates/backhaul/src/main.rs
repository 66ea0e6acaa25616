//! `backhaul`: one binary for the API server, the one-command development start, the USPS
//! simulator and the operator commands. This file only parses the command line, loads the
//! configuration and dispatches; each command lives in its module.
//!
//! A command that fails prints one line to stderr, `backhaul: <error>: <cause>: …`, and exits
//! with 1 (`audit verify` chooses its own exit code); the error's backtrace follows the line
//! only when `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` asks for one.

mod bench;
mod carriers;
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

use std::backtrace::BacktraceStatus;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    AdminKeysCommand, ApiKeysCommand, AuditCommand, Cli, Command, KeysCommand, TenantsCommand,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// Writes `error` and its causes to stderr as one line, then its backtrace if one was captured
/// (anyhow captures one only when `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` is set).
fn report(error: &anyhow::Error) {
    // One line even when a message of a library spans several.
    let line = format!("{error:#}").replace(['\r', '\n'], " ");
    let mut stderr = std::io::stderr().lock();
    // Nothing is left to tell the failure of writing it to.
    let _ = writeln!(stderr, "backhaul: {line}");
    let backtrace = error.backtrace();
    if backtrace.status() == BacktraceStatus::Captured {
        let _ = writeln!(stderr, "\nStack backtrace:\n{backtrace}");
    }
}

#[tokio::main]
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
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
        Command::UspsSim(args) => simulator::run("usps", args, &settings).await,
        Command::UpsSim(args) => simulator::run("ups", args, &settings).await,
        Command::FedexSim(args) => simulator::run("fedex", args, &settings).await,
        Command::Tenants(TenantsCommand::Create { name }) => {
            operator::create_tenant(&settings, &name).await
        }
        Command::AdminKeys(AdminKeysCommand::Create { name }) => {
            operator::create_admin_key(&settings, &name).await
        }
        Command::ApiKeys(ApiKeysCommand::List {
            tenant,
            admin,
            include_revoked,
            json,
        }) => {
            let listing = operator::KeyListing {
                tenant: tenant.as_deref(),
                admin,
                include_revoked,
                json,
            };
            operator::list_api_keys(&settings, &listing).await
        }
        Command::ApiKeys(ApiKeysCommand::Create { owner, name }) => {
            operator::create_api_key(&settings, &owner, &name).await
        }
        Command::ApiKeys(ApiKeysCommand::Revoke { key_id }) => {
            operator::revoke_api_key(&settings, &key_id).await
        }
        Command::Keys(KeysCommand::Rotate) => operator::rotate_keys(&settings).await,
        Command::Bench(args) => bench::run(args, settings).await,
        Command::Audit(AuditCommand::Verify { tenant }) => {
            return operator::verify_audit(&settings, tenant.as_deref()).await;
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}
