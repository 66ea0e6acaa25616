//! Logging: `tracing` with a JSON or human-readable formatter, filtered by `RUST_LOG` or the
//! configured filter, to stderr. Colours only when stderr is a terminal: a log redirected to a
//! file or a pipe has no ANSI escape codes.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::configuration::{LogFormat, LogSettings};

pub(crate) fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .map_err(|error| {
            anyhow::anyhow!(
                "log.filter (BACKHAUL__LOG__FILTER) is not a valid tracing filter ({:?}): {error}",
                settings.filter
            )
        })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("installing the log subscriber: {error}"))
}
