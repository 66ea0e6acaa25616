//! The server under test: `backhaul serve` as a child process of the benchmark (this same
//! binary), so its resident memory is the server's alone and its CPU is not the clients'.
//!
//! It runs with the configuration the benchmark was given (same `BACKHAUL_ENV`, config
//! directory and environment, so the same pool size), pointed at the benchmark's database and
//! simulator, on a free loopback port, logging as production does (JSON lines, `info`) into a
//! file that is removed after a clean run and named in the error otherwise.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use secrecy::{ExposeSecret, SecretString};
use tokio::process::{Child, Command};

/// How long the server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long it may take to stop after SIGTERM (its grace period is 30 s).
const STOP_TIMEOUT: Duration = Duration::from_secs(35);
/// The log line `backhaul serve` writes once it listens (startup.rs).
const LISTENING: &str = "API listening";

/// What the server is pointed at.
#[derive(Debug)]
pub(crate) struct ServerConfig<'a> {
    /// The database owner's URL (the server connects as the application role beside it).
    pub(crate) database_url: &'a SecretString,
    pub(crate) master_keys: &'a SecretString,
    /// The simulator's base URL.
    pub(crate) usps_url: &'a str,
    /// Which of the benchmark's servers this is (0, 1, …): names its log.
    pub(crate) instance: u16,
    /// Its application pool (`database.max_connections`).
    pub(crate) pool: u32,
}

/// The running server; killed if dropped while running.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    pid: u32,
    address: SocketAddr,
    log: PathBuf,
}

/// The server's memory, from `/proc/PID/status` (summed over the instances).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Memory {
    /// `VmRSS`: resident now, in MiB.
    pub(crate) rss_mb: f64,
    /// `VmHWM`: the peak resident size, in MiB.
    pub(crate) peak_mb: f64,
}

impl Memory {
    /// The instances' memory together (each one's peak added: at most what they held at once);
    /// `None` if any cannot be read.
    pub(crate) fn total(servers: &[Server]) -> Option<Memory> {
        servers.iter().try_fold(
            Memory {
                rss_mb: 0.0,
                peak_mb: 0.0,
            },
            |sum, server| {
                let memory = server.memory()?;
                Some(Memory {
                    rss_mb: sum.rss_mb + memory.rss_mb,
                    peak_mb: sum.peak_mb + memory.peak_mb,
                })
            },
        )
    }
}

impl Server {
    pub(crate) async fn start(config: &ServerConfig<'_>) -> anyhow::Result<Self> {
        let executable = std::env::current_exe().context("finding the backhaul executable")?;
        let log = std::env::temp_dir().join(format!(
            "backhaul-bench-server-{}-{}.log",
            std::process::id(),
            config.instance
        ));
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("creating the server log {}", log.display()))?;
        let child = Command::new(executable)
            .arg("serve")
            .env(
                "BACKHAUL__DATABASE__URL",
                config.database_url.expose_secret(),
            )
            .env(
                "BACKHAUL__VAULT__MASTER_KEYS",
                config.master_keys.expose_secret(),
            )
            .env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")
            .env(
                "BACKHAUL__DATABASE__MAX_CONNECTIONS",
                config.pool.to_string(),
            )
            // The benchmark measures the service, not the per-key rate limit that protects it
            // (`server.rate_limit_*`): a tenant's clients share one key.
            .env("BACKHAUL__SERVER__RATE_LIMIT_PER_SECOND", "1000000")
            .env("BACKHAUL__SERVER__RATE_LIMIT_BURST", "1000000")
            .env("BACKHAUL__USPS__BASE_URL", config.usps_url)
            .env(
                "BACKHAUL__USPS__WEBTOOLS_URL",
                format!("{}/ShippingAPI.dll", config.usps_url),
            )
            // The benchmark's webhook receiver is on loopback.
            .env("BACKHAUL__WEBHOOKS__ALLOW_PRIVATE_URLS", "true")
            .env("BACKHAUL__LOG__FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .context("starting `backhaul serve`")?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("`backhaul serve` exited at once"))?;
        let mut server = Self {
            child,
            pid,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        server.address = server.wait_until_listening().await?;
        Ok(server)
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Reads the log until the server says where it listens.
    async fn wait_until_listening(&mut self) -> anyhow::Result<SocketAddr> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(address) = listening_address(&text) {
                return Ok(address);
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "`backhaul serve` exited ({status}) before listening; its log ends with:\n{}",
                    tail(&text)
                );
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "`backhaul serve` did not listen within {} s; its log: {}",
                    START_TIMEOUT.as_secs(),
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's resident memory, where `/proc` has it (Linux).
    pub(crate) fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        parse_memory(&status)
    }

    /// SIGTERM, then waits for the graceful stop; removes the log when the server stopped
    /// cleanly.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        let signalled = Command::new("kill")
            .args(["-s", "TERM", &self.pid.to_string()])
            .status()
            .await
            .is_ok_and(|status| status.success());
        if !signalled {
            self.child.start_kill().ok();
        }
        let status = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await;
        match status {
            Ok(Ok(status)) if status.success() => {
                std::fs::remove_file(&self.log).ok();
                Ok(())
            }
            Ok(Ok(status)) => bail!(
                "`backhaul serve` stopped with {status}; its log: {}",
                self.log.display()
            ),
            Ok(Err(error)) => Err(error).context("waiting for `backhaul serve` to stop"),
            Err(_) => {
                self.child.start_kill().ok();
                bail!(
                    "`backhaul serve` did not stop within {} s of SIGTERM; killed. Its log: {}",
                    STOP_TIMEOUT.as_secs(),
                    self.log.display()
                )
            }
        }
    }

    pub(crate) fn log(&self) -> &Path {
        &self.log
    }
}

/// The `address` of the server's `API listening` JSON log line.
fn listening_address(log: &str) -> Option<SocketAddr> {
    log.lines().find_map(|line| {
        let event: serde_json::Value = serde_json::from_str(line).ok()?;
        if event["message"] != LISTENING {
            return None;
        }
        event["address"].as_str()?.parse().ok()
    })
}

/// `VmRSS` and `VmHWM` (kB) of a `/proc/PID/status`, in MiB.
fn parse_memory(status: &str) -> Option<Memory> {
    let kilobytes = |field: &str| -> Option<f64> {
        let line = status.lines().find(|line| line.starts_with(field))?;
        let value: u64 = line[field.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(value as f64 / 1024.0)
    };
    Some(Memory {
        rss_mb: kilobytes("VmRSS:")?,
        peak_mb: kilobytes("VmHWM:")?,
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_address_is_read_from_the_json_log() {
        let log = concat!(
            r#"{"timestamp":"…","level":"INFO","message":"connected"}"#,
            "\n",
            "not json\n",
            r#"{"timestamp":"…","level":"INFO","message":"API listening","address":"127.0.0.1:41234"}"#,
            "\n"
        );
        assert_eq!(
            listening_address(log),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        assert_eq!(listening_address("{\"message\":\"starting\"}\n"), None);
    }

    #[test]
    fn memory_is_read_from_proc_status() {
        let status = "Name:\tbackhaul\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\nThreads:\t4\n";
        assert_eq!(
            parse_memory(status),
            Some(Memory {
                rss_mb: 30.0,
                peak_mb: 40.0
            })
        );
        assert_eq!(parse_memory("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_a_resident_size_on_linux() {
        if cfg!(target_os = "linux") {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            assert!(parse_memory(&status).unwrap().rss_mb > 0.0);
        }
    }
}
