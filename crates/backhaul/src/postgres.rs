//! `backhaul dev`'s private, throwaway Postgres: a cluster of its own under
//! `./.backhaul/postgres`, the Rust twin of the test runner `.cargo/with-postgres`.
//!
//! - The server binaries (`initdb`, `pg_ctl`) come from the first `PATH` directory that has
//!   both, else the newest `/usr/lib/postgresql/*/bin`.
//! - Postgres refuses to run as root, so when `backhaul` runs as root the tools run as the
//!   `postgres` system user (`runuser -u postgres --`), which then owns the data directory.
//! - `initdb` once (superuser `postgres`, trust authentication, UTF-8, C locale); the
//!   directory is reused by later runs. Each start listens on `127.0.0.1` at a free port,
//!   with its unix socket in the data directory; a server left running by a run that was
//!   killed is adopted.
//! - Where the installation has `pg_stat_statements`, it is preloaded (its views exist only
//!   in a database that runs `CREATE EXTENSION`; `backhaul bench` does, to report which
//!   statements a label costs).
//! - [`PrivatePostgres::stop`] runs `pg_ctl stop -m fast`; dropping a running server stops
//!   it too, so an error on the way out never leaves it behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, anyhow, bail};
use sqlx::postgres::PgConnectOptions;

/// The cluster's superuser (`initdb -U`).
const SUPERUSER: &str = "postgres";
/// The system user the tools run as when `backhaul` runs as root.
const SYSTEM_USER: &str = "postgres";
/// Where distributions without the tools on `PATH` install them (Debian, Ubuntu).
const VERSIONED_INSTALL_DIR: &str = "/usr/lib/postgresql";
/// Unix socket paths are limited to about 107 bytes (`sun_path`).
const MAX_SOCKET_DIR_LEN: usize = 90;
/// How long `pg_ctl` waits for the server to start or stop.
const PG_CTL_TIMEOUT_S: &str = "60";
/// The statement statistics module, preloaded when installed beside the binaries.
const STATEMENT_STATISTICS: &str = "pg_stat_statements";

/// A running private Postgres.
#[derive(Debug)]
pub(crate) struct PrivatePostgres {
    data: PathBuf,
    port: u16,
    tools: Tools,
    running: bool,
}

/// Where the server binaries are and whom they run as.
#[derive(Debug, Clone)]
struct Tools {
    bin: PathBuf,
    as_system_user: bool,
}

impl Tools {
    fn find() -> anyhow::Result<Self> {
        Ok(Self {
            bin: find_bin_dir()?,
            as_system_user: running_as_root(),
        })
    }

    /// A command running `tool`, as the `postgres` system user when we are root, from `cwd`
    /// (the data directory: the system user may not be allowed into ours).
    fn command(&self, tool: &str, cwd: &Path) -> Command {
        let path = self.bin.join(tool);
        let mut command = if self.as_system_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SYSTEM_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        };
        command.current_dir(cwd).stdin(Stdio::null());
        command
    }

    /// Whether `pg_stat_statements` is installed with these binaries: in `lib/` beside the
    /// real `bin/` of `pg_ctl` (a `PATH` entry may be a symlink into it), where Debian's and the
    /// upstream layouts put modules.
    fn has_statement_statistics(&self) -> bool {
        std::fs::canonicalize(self.bin.join("pg_ctl"))
            .ok()
            .and_then(|pg_ctl| Some(pg_ctl.parent()?.parent()?.join("lib")))
            .is_some_and(|lib| lib.join(format!("{STATEMENT_STATISTICS}.so")).is_file())
    }
}

impl PrivatePostgres {
    /// Starts the cluster in `data` (created and initialised on first use), or adopts the one
    /// already running there.
    pub(crate) fn start(data: &Path) -> anyhow::Result<Self> {
        let tools = Tools::find()?;
        let data =
            std::path::absolute(data).with_context(|| format!("resolving {}", data.display()))?;
        prepare_directory(&data, &tools)?;
        if let Some(port) = running_port(&data, &tools)? {
            tracing::info!(data = %data.display(), port, "adopting the private Postgres already running");
            return Ok(Self {
                data,
                port,
                tools,
                running: true,
            });
        }
        if !data.join("PG_VERSION").exists() {
            tracing::info!(data = %data.display(), bin = %tools.bin.display(), "initialising a private Postgres cluster");
            let output = tools
                .command("initdb", &data)
                .arg("-D")
                .arg(&data)
                .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale"])
                .args(["--no-instructions", "--no-sync"])
                .output()
                .context("running initdb")?;
            check(&output, "initdb").with_context(|| {
                format!(
                    "initialising the private Postgres in {} (delete the directory to start over)",
                    data.display()
                )
            })?;
        }
        let port = free_port()?;
        let log = data.join("server.log");
        let output = tools
            .command("pg_ctl", &data)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", PG_CTL_TIMEOUT_S, "-o"])
            .arg(server_options(
                &data,
                port,
                tools.has_statement_statistics(),
            ))
            .arg("start")
            .output()
            .context("running pg_ctl start")?;
        if let Err(error) = check(&output, "pg_ctl start") {
            let error = error.context(format!(
                "starting the private Postgres in {}; its log ends with:\n{}",
                data.display(),
                log_tail(&log)
            ));
            // A server that came up after pg_ctl gave up waiting is stopped, not left behind.
            drop(Self {
                data,
                port,
                tools,
                running: true,
            });
            return Err(error);
        }
        tracing::info!(data = %data.display(), port, "private Postgres started");
        Ok(Self {
            data,
            port,
            tools,
            running: true,
        })
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The superuser's connection to `database` (trust authentication: no password).
    pub(crate) fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .database(database)
    }

    /// The same, as a URL for `psql` and friends.
    pub(crate) fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// `pg_ctl stop -m fast`: disconnects clients, shuts down cleanly.
    pub(crate) fn stop(&mut self) -> anyhow::Result<()> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let output = self
            .tools
            .command("pg_ctl", &self.data)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", PG_CTL_TIMEOUT_S, "stop"])
            .output()
            .context("running pg_ctl stop")?;
        if check(&output, "pg_ctl stop").is_err()
            && running_port(&self.data, &self.tools)?.is_none()
        {
            // Already down (stopped by someone else): nothing left to do.
            return Ok(());
        }
        check(&output, "pg_ctl stop")
            .with_context(|| format!("stopping the private Postgres in {}", self.data.display()))?;
        tracing::info!(data = %self.data.display(), "private Postgres stopped");
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::error!(
                error = format!("{error:#}"),
                "could not stop the private Postgres"
            );
        }
    }
}

/// Creates the data directory and, as root, hands it to the `postgres` system user.
fn prepare_directory(data: &Path, tools: &Tools) -> anyhow::Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    if !tools.as_system_user {
        return Ok(());
    }
    let output = Command::new("chown")
        .arg(format!("{SYSTEM_USER}:"))
        .arg(data)
        .output()
        .context("running chown")?;
    check(&output, "chown").with_context(|| {
        format!(
            "handing {} to the {SYSTEM_USER} system user (Postgres refuses to run as root)",
            data.display()
        )
    })?;
    let output = Command::new("runuser")
        .args(["-u", SYSTEM_USER, "--", "test", "-w"])
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .context("running runuser")?;
    if !output.status.success() {
        bail!(
            "the {SYSTEM_USER} system user cannot reach {} (is a parent directory private to \
             root?): run `backhaul dev` from a directory it can traverse, or set DATABASE_URL",
            data.display()
        );
    }
    Ok(())
}

/// The port of the server running in `data`, if one is.
fn running_port(data: &Path, tools: &Tools) -> anyhow::Result<Option<u16>> {
    if !data.join("PG_VERSION").exists() {
        return Ok(None);
    }
    let status = tools
        .command("pg_ctl", data)
        .arg("-D")
        .arg(data)
        .arg("status")
        .output()
        .context("running pg_ctl status")?;
    if !status.status.success() {
        return Ok(None);
    }
    // postmaster.pid: pid, data directory, start time, port, …
    let pid_file = data.join("postmaster.pid");
    let contents = std::fs::read_to_string(&pid_file)
        .with_context(|| format!("reading {}", pid_file.display()))?;
    let port = contents
        .lines()
        .nth(3)
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| anyhow!("{} names no port", pid_file.display()))?;
    Ok(Some(port))
}

/// The postmaster's options, as `pg_ctl -o` passes them through `/bin/sh`.
fn server_options(data: &Path, port: u16, statement_statistics: bool) -> String {
    let socket_dir = data.to_string_lossy();
    let sockets = if socket_dir.len() <= MAX_SOCKET_DIR_LEN {
        shell_quote(&socket_dir)
    } else {
        // Too long for a unix socket path: TCP only.
        "''".to_owned()
    };
    let mut options = format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets}"
    );
    if statement_statistics {
        // Planning time too: a statement re-planned on every execution shows there.
        options.push_str(&format!(
            " -c shared_preload_libraries={STATEMENT_STATISTICS} -c {STATEMENT_STATISTICS}.track_planning=on"
        ));
    }
    options
}

/// Single-quotes `value` for `/bin/sh`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// A port nobody listens on right now on 127.0.0.1.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("finding a free port for the private Postgres")?;
    Ok(listener.local_addr()?.port())
}

/// The first `PATH` directory with both `initdb` and `pg_ctl`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    let has_tools =
        |dir: &Path| is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl"));
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_tools(dir)) {
            return Ok(dir);
        }
    }
    let mut installed: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(VERSIONED_INSTALL_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    installed.sort();
    installed.pop().map(|(_, bin)| bin).ok_or_else(|| {
        anyhow!(
            "initdb and pg_ctl were found neither on PATH nor under {VERSIONED_INSTALL_DIR}/*/bin: \
             install PostgreSQL's server binaries (Debian: postgresql), or set DATABASE_URL to \
             a database you have"
        )
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Whether this process runs as root (whom Postgres refuses to run as).
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective user.
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            return meta.uid() == 0;
        }
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Turns a failed tool run into an error carrying its output.
fn check(output: &Output, tool: &str) -> anyhow::Result<()> {
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let said = [stderr.trim(), stdout.trim()]
        .into_iter()
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Err(anyhow!("{tool} failed ({}): {said}", output.status))
}

/// The last lines of the server log, for an error message.
fn log_tail(log: &Path) -> String {
    let contents = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = contents.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_directory_is_quoted_for_the_shell() {
        let options = server_options(Path::new("/tmp/it's here/.backhaul/postgres"), 5433, false);
        assert_eq!(
            options,
            r"-c listen_addresses=127.0.0.1 -c port=5433 -c unix_socket_directories='/tmp/it'\''s here/.backhaul/postgres'"
        );
    }

    #[test]
    fn a_socket_directory_too_long_for_unix_sockets_is_left_out() {
        let long = PathBuf::from(format!("/{}", "d".repeat(120)));
        assert!(server_options(&long, 5433, false).ends_with("unix_socket_directories=''"));
    }

    #[test]
    fn statement_statistics_are_preloaded_when_installed() {
        let options = server_options(Path::new("/tmp/pg"), 5433, true);
        assert!(
            options.ends_with(
                " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
            ),
            "{options}"
        );
    }

    #[test]
    fn free_ports_are_bindable() {
        let port = free_port().unwrap();
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    }
}
