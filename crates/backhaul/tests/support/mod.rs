//! Running the real `backhaul` binary in tests: a clean environment (nothing inherited but
//! `PATH`), the repository's `config/` (unless a test runs it as installed), bounded waits, output read concurrently, and children
//! killed when the test ends however it ends.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::borrow::BorrowMut;
use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use base64::Engine as _;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// The repository's configuration directory.
pub const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config");

/// How long a command may take before the test fails (the machine is small and busy).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(90);

/// A base64 master key of 32 bytes of `byte`.
pub fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// The master keys the operator tests run with (never a development key).
pub fn master_keys() -> String {
    format!("k1:{}", key(1))
}

/// The owner's URL of the test's own database (`#[sqlx::test]` made it on the server of
/// `DATABASE_URL`, with trust authentication).
pub fn database_url(owner: &PgPool) -> String {
    let options = owner.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options
            .get_database()
            .expect("sqlx::test names the database")
    )
}

/// `program ARGS` with nothing from the test's environment but `PATH`, logging JSON: as an
/// installed binary starts from a clean shell (no configuration directory, no environment).
pub fn clean_command(program: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BACKHAUL__LOG__FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// `backhaul ARGS` with nothing from the test's environment but `PATH`, in the `test`
/// environment with the repository's `config/`, logging JSON.
pub fn backhaul(args: &[&str]) -> Command {
    let mut command = clean_command(env!("CARGO_BIN_EXE_backhaul"), args);
    command
        .env("BACKHAUL_CONFIG_DIR", CONFIG_DIR)
        .env("BACKHAUL_ENV", "test");
    command
}

/// `backhaul ARGS` against the test's database with the test master keys.
pub fn backhaul_on(owner: &PgPool, args: &[&str]) -> Command {
    let mut command = backhaul(args);
    command
        .env("BACKHAUL__DATABASE__URL", database_url(owner))
        .env("BACKHAUL__VAULT__MASTER_KEYS", master_keys());
    command
}

/// What a finished command did.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Panics with the output unless the command succeeded.
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "{self:#?}");
        self
    }

    /// The first whitespace-separated word of stdout that starts with `prefix`.
    pub fn word_starting_with(&self, prefix: &str) -> String {
        self.stdout
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}… in stdout:\n{}", self.stdout))
            .to_owned()
    }
}

/// Runs `command` (owned or borrowed) to completion within [`COMMAND_TIMEOUT`] (killed
/// otherwise).
pub async fn run(mut command: impl BorrowMut<Command>) -> Finished {
    let output = tokio::time::timeout(COMMAND_TIMEOUT, command.borrow_mut().output())
        .await
        .expect("the command finished in time")
        .expect("the backhaul binary runs");
    Finished {
        status: output.status,
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// A long-running `backhaul` (serve, dev) whose output lines arrive as they are written.
/// Killed (SIGKILL) when dropped if it is still running.
#[derive(Debug)]
pub struct Running {
    child: Child,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    /// Every stderr line read so far, for failure messages.
    pub stderr_seen: Vec<String>,
}

fn forward(stream: impl AsyncRead + Unpin + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

impl Running {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("the backhaul binary starts");
        let stdout = forward(child.stdout.take().expect("stdout is piped"));
        let stderr = forward(child.stderr.take().expect("stderr is piped"));
        Self {
            child,
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process is running")
    }

    fn drain_stderr(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.stderr_seen.push(line);
        }
    }

    /// Stdout lines up to and including the first for which `last` holds.
    pub async fn stdout_until(&mut self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        loop {
            let line = tokio::time::timeout_at(deadline, self.stdout.recv()).await;
            match line {
                Ok(Some(line)) => {
                    let done = last(&line);
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                Ok(None) => {
                    self.drain_stderr();
                    panic!(
                        "stdout closed before the expected line; stdout:\n{}\nstderr:\n{}",
                        lines.join("\n"),
                        self.stderr_seen.join("\n")
                    );
                }
                Err(_) => {
                    self.drain_stderr();
                    panic!(
                        "timed out waiting on stdout; stdout:\n{}\nstderr:\n{}",
                        lines.join("\n"),
                        self.stderr_seen.join("\n")
                    );
                }
            }
        }
    }

    /// Stderr lines (also kept in [`Running::stderr_seen`]) up to and including the first for
    /// which `last` holds.
    pub async fn stderr_until(&mut self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, self.stderr.recv()).await {
                Ok(Some(line)) => {
                    let done = last(&line);
                    self.stderr_seen.push(line.clone());
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                Ok(None) => panic!(
                    "stderr closed before the expected line:\n{}",
                    self.stderr_seen.join("\n")
                ),
                Err(_) => panic!(
                    "timed out waiting on stderr:\n{}",
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// The first JSON log event on stderr whose `message` is `message`.
    pub async fn log_event(&mut self, message: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, self.stderr.recv()).await {
                Ok(Some(line)) => {
                    let event = serde_json::from_str::<serde_json::Value>(&line).ok();
                    self.stderr_seen.push(line);
                    if let Some(event) = event {
                        if event["message"] == message {
                            return event;
                        }
                    }
                }
                Ok(None) => panic!(
                    "stderr closed before {message:?}:\n{}",
                    self.stderr_seen.join("\n")
                ),
                Err(_) => panic!(
                    "timed out waiting for {message:?}:\n{}",
                    self.stderr_seen.join("\n")
                ),
            }
        }
    }

    /// Sends `signal` (`INT`, `TERM`) as Ctrl-C or a service manager would.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Waits for the process to exit (bounded); returns its status and remaining stdout.
    pub async fn exit(&mut self) -> (ExitStatus, Vec<String>) {
        let status = tokio::time::timeout(COMMAND_TIMEOUT, self.child.wait())
            .await
            .expect("the process exited in time")
            .expect("waiting for the process");
        let mut rest = Vec::new();
        while let Ok(Some(line)) = tokio::time::timeout(COMMAND_TIMEOUT, self.stdout.recv()).await {
            rest.push(line);
        }
        self.drain_stderr();
        (status, rest)
    }
}

/// Starts `backhaul serve` on the test's database and a free port; returns it with its base
/// URL, read from the log line that announces the bound address.
pub async fn start_server(owner: &PgPool) -> (Running, String) {
    let mut command = backhaul_on(owner, &["serve"]);
    command
        .env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    let mut server = Running::spawn(command);
    let listening = server.log_event("API listening").await;
    let address = listening["address"]
        .as_str()
        .expect("the address is logged");
    (server, format!("http://{address}"))
}
