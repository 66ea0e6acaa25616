//! Layered configuration (API.md): `config/base.toml`, then `config/{BACKHAUL_ENV}.toml`
//! (`local` by default; `test`, `production`), then environment variables prefixed
//! `BACKHAUL__` with `__` between levels (`BACKHAUL__LOG__FORMAT=json`).
//!
//! The directory is `BACKHAUL_CONFIG_DIR` when set, else `./config`. Missing files are skipped
//! so the binary also runs outside the repository on environment variables alone.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

/// The deployment environment, from `BACKHAUL_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Environment {
    Local,
    Test,
    Production,
}

impl Environment {
    fn from_env() -> anyhow::Result<Self> {
        match std::env::var("BACKHAUL_ENV").as_deref() {
            Err(_) | Ok("local") => Ok(Environment::Local),
            Ok("test") => Ok(Environment::Test),
            Ok("production") => Ok(Environment::Production),
            Ok(other) => {
                anyhow::bail!("BACKHAUL_ENV must be one of local, test, production (got {other:?})")
            }
        }
    }

    fn file_stem(self) -> &'static str {
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
    pub(crate) log: LogSettings,
    pub(crate) usps_sim: UspsSimSettings,
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

/// `backhaul usps-sim` defaults.
#[derive(Debug, Deserialize)]
pub(crate) struct UspsSimSettings {
    pub(crate) listen: SocketAddr,
}

impl Settings {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let environment = Environment::from_env()?;
        let directory = std::env::var_os("BACKHAUL_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&directory, environment)
    }

    fn load_from(directory: &std::path::Path, environment: Environment) -> anyhow::Result<Self> {
        config::Config::builder()
            .set_default("log.format", "pretty")?
            .set_default("log.filter", "info")?
            .set_default("usps_sim.listen", "127.0.0.1:8081")?
            .add_source(config::File::from(directory.join("base.toml")).required(false))
            .add_source(
                config::File::from(directory.join(format!("{}.toml", environment.file_stem())))
                    .required(false),
            )
            .add_source(
                config::Environment::with_prefix("BACKHAUL")
                    .prefix_separator("__")
                    .separator("__"),
            )
            .build()
            .and_then(config::Config::try_deserialize)
            .context("reading the configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_file_overrides_the_base_file() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("base.toml"),
            "[log]\nformat = \"pretty\"\n[usps_sim]\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        std::fs::write(
            directory.path().join("production.toml"),
            "[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let settings = Settings::load_from(directory.path(), Environment::Production).unwrap();
        assert_eq!(settings.log.format, LogFormat::Json);
        assert_eq!(settings.usps_sim.listen.port(), 9000);
    }

    #[test]
    fn the_repository_configuration_loads_for_every_environment() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        for environment in [
            Environment::Local,
            Environment::Test,
            Environment::Production,
        ] {
            Settings::load_from(&directory, environment).unwrap();
        }
    }
}
