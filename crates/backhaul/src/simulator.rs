//! `backhaul <carrier>-sim`: one carrier's simulator alone, on `--listen` or `<id>_sim.listen`.

use anyhow::{Context, anyhow};

use crate::cli::SimulatorArgs;
use crate::configuration::Settings;

pub(crate) async fn run(id: &str, args: SimulatorArgs, settings: &Settings) -> anyhow::Result<()> {
    let entry = settings
        .carriers()
        .into_iter()
        .find(|entry| entry.plugin.id() == id)
        .ok_or_else(|| anyhow!("no carrier {id} is built into this binary"))?;
    let name = entry.plugin.name();
    let listen = args.listen.unwrap_or(entry.simulator_listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the {name} simulator to {listen}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    let serving = entry
        .plugin
        .serve_simulator(listener, args.config.as_deref())?;
    tracing::info!(%address, "{name} simulator listening");
    serving
        .await
        .with_context(|| format!("serving the {name} simulator"))
}
