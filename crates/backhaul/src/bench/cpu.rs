//! Where the machine's CPU went during the load phase, per label: the server processes, Postgres
//! (the postmaster and every backend and worker it started), this process (the clients and the
//! in-process simulator), anything else running on the machine, and what was left idle.
//!
//! Read from `/proc` (Linux only; elsewhere the report says it was not measured). Postgres is
//! found from one of its own backends (`pg_backend_pid()`, whose parent is the postmaster), so
//! a configured database counts only when it runs on this machine; a backend that exits during
//! the load still counts, through the postmaster's waited-for children. Times are in clock
//! ticks of `USER_HZ`, which Linux fixes at 100 per second in its ABI: 10 ms resolution,
//! plenty over a load phase of seconds.

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use crate::startup::connect_owner;

/// `USER_HZ`: the unit of `/proc/<pid>/stat` and `/proc/stat` times.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU milliseconds per label bought, by who spent them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct CpuSplit {
    /// The `backhaul serve` processes (every thread of every instance).
    pub(crate) server_ms_per_label: f64,
    /// Postgres's processes; `null` when the database is not on this machine.
    pub(crate) postgres_ms_per_label: Option<f64>,
    /// The benchmark process: its HTTP clients and the simulator.
    pub(crate) bench_ms_per_label: f64,
    /// Every other process on the machine (busy time not accounted for above).
    pub(crate) other_ms_per_label: f64,
    /// The share of the machine's CPU time left idle during the load.
    pub(crate) idle_share: f64,
    /// How many CPUs the machine has (`/proc/stat`).
    pub(crate) cpus: usize,
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sample {
    server: u64,
    postgres: Option<u64>,
    bench: u64,
    machine_busy: u64,
    machine_idle: u64,
}

/// Samples the counters before the load and again after it.
pub(crate) struct Sampler {
    server_pids: Vec<u32>,
    postmaster_pid: Option<u32>,
    cpus: usize,
    start: Sample,
}

impl Sampler {
    /// `None` where `/proc` cannot be read (not Linux).
    pub(crate) async fn start(server_pids: &[u32], owner: &PgConnectOptions) -> Option<Self> {
        let cpus = machine_cpus()?;
        let postmaster_pid = postmaster(owner).await;
        let mut sampler = Self {
            server_pids: server_pids.to_vec(),
            postmaster_pid,
            cpus,
            start: Sample::default(),
        };
        sampler.start = sampler.sample()?;
        Some(sampler)
    }

    /// The split since [`Sampler::start`], per label.
    pub(crate) fn finish(self, labels: u64) -> Option<CpuSplit> {
        let end = self.sample()?;
        Some(split(self.start, end, labels, self.cpus))
    }

    fn sample(&self) -> Option<Sample> {
        let (machine_busy, machine_idle) = machine_ticks(&read("/proc/stat")?)?;
        let mut server = 0;
        for pid in &self.server_pids {
            server += process_ticks(&read(&format!("/proc/{pid}/stat"))?)?.total();
        }
        Some(Sample {
            server,
            postgres: self.postmaster_pid.and_then(tree_ticks),
            bench: process_ticks(&read("/proc/self/stat")?)?.total(),
            machine_busy,
            machine_idle,
        })
    }
}

fn split(start: Sample, end: Sample, labels: u64, cpus: usize) -> CpuSplit {
    let per_label = |ticks: u64| ticks as f64 * 1000.0 / TICKS_PER_SECOND / labels.max(1) as f64;
    let server = end.server.saturating_sub(start.server);
    let postgres = match (start.postgres, end.postgres) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    let bench = end.bench.saturating_sub(start.bench);
    let busy = end.machine_busy.saturating_sub(start.machine_busy);
    let idle = end.machine_idle.saturating_sub(start.machine_idle);
    let ours = server + postgres.unwrap_or(0) + bench;
    CpuSplit {
        server_ms_per_label: per_label(server),
        postgres_ms_per_label: postgres.map(per_label),
        bench_ms_per_label: per_label(bench),
        other_ms_per_label: per_label(busy.saturating_sub(ours)),
        idle_share: if busy + idle == 0 {
            0.0
        } else {
            idle as f64 / (busy + idle) as f64
        },
        cpus,
    }
}

/// The postmaster of the database `owner` reaches, when it runs on this machine: the parent of
/// one of its backends, checked to be a Postgres process.
async fn postmaster(owner: &PgConnectOptions) -> Option<u32> {
    let pool = connect_owner(owner).await.ok()?;
    let backend: Option<i32> = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .ok();
    // Read while the backend is still there: it exits once the pool is closed.
    let parent = backend
        .and_then(|pid| u32::try_from(pid).ok())
        .and_then(|pid| process_ticks(&read(&format!("/proc/{pid}/stat"))?))
        .map(|backend| backend.parent);
    pool.close().await;
    let parent = parent?;
    let name = read(&format!("/proc/{parent}/comm"))?;
    name.trim().starts_with("postgres").then_some(parent)
}

/// A process and its children: its own time and its waited-for children's, plus the time of
/// every child still running (Postgres's backends and workers; they start none of their own).
fn tree_ticks(root: u32) -> Option<u64> {
    let mut total = process_ticks(&read(&format!("/proc/{root}/stat"))?)?.total();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        if pid == root {
            continue;
        }
        // A process may exit between the listing and the read.
        if let Some(ticks) =
            read(&format!("/proc/{pid}/stat")).and_then(|stat| process_ticks(&stat))
            && ticks.parent == root
        {
            total += ticks.total();
        }
    }
    Some(total)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// What `/proc/<pid>/stat` says of a process's CPU time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProcessTicks {
    parent: u32,
    own: u64,
    children: u64,
}

impl ProcessTicks {
    fn total(self) -> u64 {
        self.own + self.children
    }
}

/// Fields 4 (ppid) and 14–17 (utime, stime, cutime, cstime) of `proc_pid_stat(5)`, counted
/// after the command name, which is in parentheses and may itself hold spaces and parentheses.
fn process_ticks(stat: &str) -> Option<ProcessTicks> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some(ProcessTicks {
        parent: u32::try_from(field(4)?).ok()?,
        own: field(14)? + field(15)?,
        children: field(16)? + field(17)?,
    })
}

/// Busy and idle ticks of the whole machine, from the `cpu` line of `/proc/stat` (user, nice,
/// system, idle, iowait, irq, softirq, steal; guest time is already in user).
fn machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|value| value.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = values[..] else {
        return None;
    };
    Some((user + nice + system + irq + softirq + steal, idle + iowait))
}

/// The `cpuN` lines of `/proc/stat`.
fn machine_cpus() -> Option<usize> {
    let stat = read("/proc/stat")?;
    let cpus = stat
        .lines()
        .filter(|line| {
            line.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count();
    (cpus > 0).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_line_is_read_past_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 1 0 0 0 \
                    250 30 7 3 20 0 1 0 100 1000 10";
        assert_eq!(
            process_ticks(stat),
            Some(ProcessTicks {
                parent: 17,
                own: 280,
                children: 10,
            })
        );
        assert_eq!(process_ticks("4242 (truncated) S 17"), None);
    }

    #[test]
    fn the_machine_line_splits_busy_from_idle() {
        let stat = "cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n";
        assert_eq!(machine_ticks(stat), Some((160, 820)));
    }

    #[test]
    fn the_split_is_per_label_and_other_is_what_no_one_named_used() {
        let start = Sample {
            server: 100,
            postgres: Some(1_000),
            bench: 50,
            machine_busy: 5_000,
            machine_idle: 9_000,
        };
        let end = Sample {
            server: 300,
            postgres: Some(1_400),
            bench: 150,
            machine_busy: 5_800,
            machine_idle: 9_200,
        };
        let split = split(start, end, 1_000, 2);
        // 200 ticks = 2,000 ms over 1,000 labels.
        assert_eq!(split.server_ms_per_label, 2.0);
        assert_eq!(split.postgres_ms_per_label, Some(4.0));
        assert_eq!(split.bench_ms_per_label, 1.0);
        assert_eq!(split.other_ms_per_label, 1.0);
        assert_eq!(split.idle_share, 0.2);
    }

    #[test]
    fn this_process_and_its_machine_can_be_read_on_linux() {
        if cfg!(target_os = "linux") {
            let own = process_ticks(&read("/proc/self/stat").unwrap()).unwrap();
            assert_eq!(own.parent, std::os::unix::process::parent_id());
            assert!(machine_cpus().unwrap() >= 1);
            let (busy, idle) = machine_ticks(&read("/proc/stat").unwrap()).unwrap();
            assert!(busy + idle > 0);
        }
    }
}
