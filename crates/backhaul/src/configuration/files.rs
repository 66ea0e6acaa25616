//! Where the layered configuration files come from: `BACKHAUL_CONFIG_DIR` when it is set (a
//! directory that does not exist, or holds no `base.toml`, is refused by the variable's name);
//! else `./config` when it holds a `base.toml` (running from the repository); else the
//! repository's `config/*.toml`, built into the binary with `include_str!` — so an installed
//! `backhaul` runs from any directory with the same defaults, and the repository's files stay
//! the one place they are written.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::bail;
use config::builder::DefaultState;
use config::{ConfigBuilder, FileFormat};

use super::Environment;

/// The file every configuration directory holds.
const BASE: &str = "base.toml";

/// `config/base.toml` as it was when the binary was built.
const BUILT_IN_BASE: &str = include_str!("../../../../config/base.toml");
/// `config/{environment}.toml`, likewise.
const BUILT_IN_LOCAL: &str = include_str!("../../../../config/local.toml");
const BUILT_IN_TEST: &str = include_str!("../../../../config/test.toml");
const BUILT_IN_PRODUCTION: &str = include_str!("../../../../config/production.toml");

/// The files the configuration is layered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigFiles {
    /// The directory `BACKHAUL_CONFIG_DIR` names.
    Given(PathBuf),
    /// `./config` of the working directory.
    WorkingDirectory(PathBuf),
    /// The repository's files, built into the binary.
    BuiltIn,
}

impl ConfigFiles {
    /// Chooses the files: `config_dir` is `BACKHAUL_CONFIG_DIR` (empty counts as unset),
    /// `working_directory` the directory `./config` is looked for in.
    pub(crate) fn locate(
        config_dir: Option<&str>,
        working_directory: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(directory) = config_dir.filter(|value| !value.is_empty()) {
            let directory = PathBuf::from(directory);
            if !directory.is_dir() {
                bail!(
                    "BACKHAUL_CONFIG_DIR is {}, which is not a directory: point it at a directory \
                     holding base.toml (and {{BACKHAUL_ENV}}.toml), or unset it to use ./config or \
                     the defaults built into the binary",
                    directory.display()
                );
            }
            if !directory.join(BASE).is_file() {
                bail!(
                    "BACKHAUL_CONFIG_DIR is {}, which holds no {BASE}: put the layered files there \
                     (base.toml, then {{BACKHAUL_ENV}}.toml), or unset it to use ./config or the \
                     defaults built into the binary",
                    directory.display()
                );
            }
            return Ok(Self::Given(directory));
        }
        let directory = working_directory.join("config");
        if directory.join(BASE).is_file() {
            return Ok(Self::WorkingDirectory(directory));
        }
        Ok(Self::BuiltIn)
    }

    /// `builder` with the base file, then the environment's file (skipped when a directory
    /// has none).
    pub(crate) fn add_to(
        &self,
        builder: ConfigBuilder<DefaultState>,
        environment: Environment,
    ) -> ConfigBuilder<DefaultState> {
        match self {
            Self::Given(directory) | Self::WorkingDirectory(directory) => builder
                .add_source(config::File::from(directory.join(BASE)).required(true))
                .add_source(
                    config::File::from(directory.join(format!("{}.toml", environment.as_str())))
                        .required(false),
                ),
            Self::BuiltIn => builder
                .add_source(config::File::from_str(BUILT_IN_BASE, FileFormat::Toml))
                .add_source(config::File::from_str(
                    built_in(environment),
                    FileFormat::Toml,
                )),
        }
    }
}

/// The built-in file of `environment`.
fn built_in(environment: Environment) -> &'static str {
    match environment {
        Environment::Local => BUILT_IN_LOCAL,
        Environment::Test => BUILT_IN_TEST,
        Environment::Production => BUILT_IN_PRODUCTION,
    }
}

/// Named in errors: which files were read.
impl fmt::Display for ConfigFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Given(directory) => write!(f, "{} (BACKHAUL_CONFIG_DIR)", directory.display()),
            Self::WorkingDirectory(directory) => write!(f, "{}", directory.display()),
            Self::BuiltIn => f.write_str("the defaults built into the binary"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository_config() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    #[test]
    fn the_built_in_files_are_the_repository_files() {
        for (name, built_in) in [
            ("base", BUILT_IN_BASE),
            ("local", BUILT_IN_LOCAL),
            ("test", BUILT_IN_TEST),
            ("production", BUILT_IN_PRODUCTION),
        ] {
            let file =
                std::fs::read_to_string(repository_config().join(format!("{name}.toml"))).unwrap();
            assert_eq!(built_in, file, "{name}.toml");
        }
    }

    #[test]
    fn a_directory_without_a_config_directory_uses_the_built_in_files() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            ConfigFiles::locate(None, empty.path()).unwrap(),
            ConfigFiles::BuiltIn
        );
        assert_eq!(
            ConfigFiles::locate(Some(""), empty.path()).unwrap(),
            ConfigFiles::BuiltIn,
            "an empty BACKHAUL_CONFIG_DIR counts as unset"
        );
    }

    #[test]
    fn a_config_directory_without_a_base_file_is_not_taken_for_backhauls() {
        let working = tempfile::tempdir().unwrap();
        std::fs::create_dir(working.path().join("config")).unwrap();
        std::fs::write(working.path().join("config/other-tool.toml"), "").unwrap();
        assert_eq!(
            ConfigFiles::locate(None, working.path()).unwrap(),
            ConfigFiles::BuiltIn
        );
    }

    #[test]
    fn the_working_directorys_config_is_used_when_it_holds_a_base_file() {
        let working = tempfile::tempdir().unwrap();
        std::fs::create_dir(working.path().join("config")).unwrap();
        std::fs::write(working.path().join("config/base.toml"), "").unwrap();
        assert_eq!(
            ConfigFiles::locate(None, working.path()).unwrap(),
            ConfigFiles::WorkingDirectory(working.path().join("config"))
        );
    }

    #[test]
    fn a_given_config_dir_wins_over_the_working_directorys() {
        let working = tempfile::tempdir().unwrap();
        std::fs::create_dir(working.path().join("config")).unwrap();
        std::fs::write(working.path().join("config/base.toml"), "").unwrap();
        let given = repository_config();
        assert_eq!(
            ConfigFiles::locate(given.to_str(), working.path()).unwrap(),
            ConfigFiles::Given(given)
        );
    }

    #[test]
    fn a_missing_config_dir_is_refused_by_its_variable() {
        let working = tempfile::tempdir().unwrap();
        let missing = working.path().join("no-such-directory");
        let error = ConfigFiles::locate(missing.to_str(), working.path())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("BACKHAUL_CONFIG_DIR"), "{error}");
        assert!(error.contains("no-such-directory"), "{error}");
        assert!(error.contains("not a directory"), "{error}");
    }

    #[test]
    fn a_config_dir_without_a_base_file_is_refused_by_its_variable() {
        let empty = tempfile::tempdir().unwrap();
        let error = ConfigFiles::locate(empty.path().to_str(), empty.path())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("BACKHAUL_CONFIG_DIR"), "{error}");
        assert!(error.contains("base.toml"), "{error}");
    }
}
