//! `backhaul bench`: the load benchmark.
//!
//! 1. The database: `--database-url`, else `database.url` / `DATABASE_URL`, else a private
//!    throwaway Postgres under `./.backhaul/bench-postgres` (apart from `dev`'s, which may be
//!    running) with a fresh `backhaul_bench` database each run, at Postgres's default
//!    settings. Migrations as the owner.
//! 2. The USPS simulator in this process, at zero latency; `backhaul serve` as a child
//!    process pointed at it ([`server`]), so the memory figure is the server's alone
//!    (`--instances` of them, on the one database).
//! 3. A tenant (`Bench …`; `--tenants` of them) with a v3 `own_app` account of the simulator's
//!    demo business (created over the API), one label each to fetch the OAuth token and the
//!    payment authorization, then one unmeasured label per client to open its connection.
//! 4. The load phase ([`load`]): `--clients` clients (client i sending to server i mod
//!    `--instances` and buying for tenant i mod `--tenants`, or for tenants i, i + clients, …
//!    in turn when there are more tenants) buy labels with unique idempotency keys for
//!    `--seconds`; latency, the carrier's share from `Server-Timing`, errors; then the
//!    servers' RSS, the simulator's call counters, the statements the database ran per label
//!    ([`statements`], where `pg_stat_statements` is available), how long its audit events
//!    waited for the sequencer ([`sequencer`]) and where the machine's CPU went ([`cpu`]);
//!    the servers are stopped.
//! 5. The database-limit phase ([`db_limit`]): as many connections run
//!    `BEGIN; INSERT; INSERT; COMMIT` in a scratch schema for as long; labels/s is reported
//!    as a ratio of it.
//!
//! 6. With `--webhooks` ([`webhooks`]): a local receiver is registered for every tenant
//!    before the load (so the outbox is on during it), and after the load a phase of
//!    `webhook.test` events measures deliveries per second and the commit-to-2xx lag.
//!
//! Everything stops by itself, loopback only; Ctrl-C stops the server, drops the scratch
//! schema and stops the private Postgres.

mod cpu;
mod db_limit;
mod load;
mod report;
mod sequencer;
mod server;
mod statements;
mod stats;
mod webhooks;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accounts::audit::Actor;
use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;
use usps_sim::route;

use crate::cli::{BenchArgs, print};
use crate::configuration::{Environment, LogSettings, Settings};
// The benchmark buys USPS labels from the USPS simulator (its zero-latency carrier).
use crate::carriers::Plugin as _;
use crate::migration;
use crate::postgres::PrivatePostgres;
use crate::shutdown::Signals;
use crate::startup::{connect_app, connect_owner};

use self::db_limit::{DbLimit, Scratch};
use self::load::{Load, Target};
use self::report::Report;
use self::server::{Memory, Server, ServerConfig};
use self::stats::{Percentiles, per_thousand, rate};

/// The private cluster's home, relative to the working directory.
const DATA_DIR: &str = ".backhaul/bench-postgres";
/// The database the benchmark recreates in its private cluster on every run.
const DATABASE: &str = "backhaul_bench";
/// The OAuth grant of an `own_app` account.
const CLIENT_CREDENTIALS: &str = "client_credentials";
/// What the benchmark process itself logs (the simulator would otherwise log every call);
/// `RUST_LOG` still wins.
const LOG_FILTER: &str = "warn,backhaul=info";

/// The benchmark process's logging: the configured format, quieter.
pub(crate) fn log_settings(configured: &LogSettings) -> LogSettings {
    LogSettings {
        format: configured.format,
        filter: LOG_FILTER.to_owned(),
    }
}

/// Where the benchmark's database comes from.
struct BenchDatabase {
    owner: PgConnectOptions,
    url: SecretString,
    private: Option<PrivatePostgres>,
}

pub(crate) async fn run(args: BenchArgs, mut settings: Settings) -> anyhow::Result<()> {
    if settings.environment == Environment::Production {
        bail!(
            "`backhaul bench` creates a tenant and labels in its database and does not run with \
             BACKHAUL_ENV=production"
        );
    }
    let mut signals = Signals::install()?;
    settings
        .vault
        .keyring()
        .context("the benchmark's server seals credentials with vault.master_keys")?;
    if let Some(url) = args.database_url.clone() {
        settings.database.url = Some(SecretString::from(url));
    }
    let mut database = prepare_database(&settings).await?;
    let scratch = Scratch::new(&run_id())?;
    let measured = tokio::select! {
        measured = measure(&args, &settings, &database, &scratch) => measured,
        signal = signals.received() => Err(anyhow!("interrupted by {signal}")),
    };
    let dropped = scratch.drop_schema(&database.owner).await;
    if let Some(mut postgres) = database.private.take() {
        tokio::task::spawn_blocking(move || postgres.stop())
            .await
            .context("the private Postgres stop task failed")??;
    }
    let report = measured?;
    dropped?;
    if args.json {
        print(report.json()?)
    } else {
        print(report.table())
    }
}

/// Each instance's share of `database.max_connections` (rounded up), so that N instances hold
/// as many database connections as one: the comparison is of the servers, not of a database
/// given more connections than its cores can serve.
fn instance_pool(configured: u32, instances: u16) -> u32 {
    configured.div_ceil(u32::from(instances.max(1))).max(1)
}

/// Lowercase letters and digits, different on every run.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!("{:x}{:x}", nanos & 0xffff_ffff_ffff, std::process::id())
}

/// The configured database, or the private one with a fresh database; migrated.
async fn prepare_database(settings: &Settings) -> anyhow::Result<BenchDatabase> {
    let database = match &settings.database.url {
        Some(url) => BenchDatabase {
            owner: settings.database.owner_options()?,
            url: url.clone(),
            private: None,
        },
        None => {
            tracing::info!(data = DATA_DIR, "starting the benchmark's private Postgres");
            let postgres =
                tokio::task::spawn_blocking(|| PrivatePostgres::start(Path::new(DATA_DIR)))
                    .await
                    .context("the private Postgres start task failed")??;
            recreate_database(&postgres.connect_options("postgres")).await?;
            BenchDatabase {
                owner: postgres.connect_options(DATABASE),
                url: SecretString::from(postgres.url(DATABASE)),
                private: Some(postgres),
            }
        }
    };
    let owner = connect_owner(&database.owner).await?;
    migration::apply(&owner).await?;
    owner.close().await;
    Ok(database)
}

/// A fresh `backhaul_bench` in the private cluster, so every run starts from empty tables.
async fn recreate_database(maintenance: &PgConnectOptions) -> anyhow::Result<()> {
    let pool = connect_owner(maintenance).await?;
    // The name is DATABASE (an identifier cannot be a bind parameter).
    for statement in [
        "DROP DATABASE IF EXISTS backhaul_bench WITH (FORCE)",
        "CREATE DATABASE backhaul_bench",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .with_context(|| format!("preparing the benchmark database: {statement}"))?;
    }
    pool.close().await;
    Ok(())
}

async fn measure(
    args: &BenchArgs,
    settings: &Settings,
    database: &BenchDatabase,
    scratch: &Scratch,
) -> anyhow::Result<Report> {
    let duration = Duration::from_secs(u64::from(args.seconds));
    let simulator = usps_sim::Simulator::new(usps_sim::SimConfig::default())
        .spawn()
        .await
        .context("starting the USPS simulator")?;
    let master_keys = settings
        .vault
        .master_keys
        .as_ref()
        .ok_or_else(|| anyhow!("vault.master_keys is not set"))?;
    let pool = instance_pool(settings.database.max_connections, args.instances);
    let mut servers = Vec::with_capacity(usize::from(args.instances));
    for instance in 0..args.instances {
        let server = Server::start(&ServerConfig {
            database_url: &database.url,
            master_keys,
            usps_url: &simulator.base_url,
            instance,
            pool,
        })
        .await?;
        tracing::info!(address = %server.address(), pid = server.pid(), instance, "server started");
        servers.push(server);
    }
    let body = Bytes::from(serde_json::to_vec(&settings.usps.demo().label)?);
    let targets: Vec<Target> = servers
        .iter()
        .map(|server| Target {
            url: format!("http://{}/v1/return-labels", server.address()),
            body: body.clone(),
            run_id: scratch.run_id().to_owned(),
        })
        .collect();
    // Setup and the webhook phase go to the first server.
    let api = format!("http://{}", servers[0].address());
    let target = &targets[0];
    let mut api_keys = Vec::with_capacity(usize::from(args.tenants));
    for index in 0..args.tenants {
        api_keys.push(prepare_tenant(settings, database, &api, target, index).await?);
    }
    let receiver = match args.webhooks {
        true => Some(webhooks::Receiver::start().await?),
        false => None,
    };
    let mut endpoints = Vec::new();
    if let Some(receiver) = &receiver {
        for key in &api_keys {
            endpoints.push(webhooks::register(&load::Client::new(key)?, &api, receiver).await?);
        }
    }
    let clients = (0..usize::from(args.clients))
        .map(|index| {
            load::Client::rotating(load::keys_of_client(
                index,
                usize::from(args.clients),
                &api_keys,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    load::warm_up(&clients, &targets).await?;
    let recorder = statements::Recorder::start(&database.owner).await;
    let server_pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let cpu = cpu::Sampler::start(&server_pids, &database.owner).await;
    let load_started = chrono::Utc::now();
    tracing::info!(
        clients = args.clients,
        seconds = args.seconds,
        "load phase: buying labels"
    );
    let load = load::run(clients, &targets, duration).await?;
    let cpu = cpu.and_then(|sampler| sampler.finish(load.labels));
    let statements = match recorder {
        Ok(recorder) => recorder.finish(load.labels).await,
        Err(why) => Err(why),
    };
    let audit_sequencer = sequencer::delay(&database.owner, load_started).await?;
    let webhook_figures = match &receiver {
        Some(receiver) => {
            let during_labels = webhooks::delivered(receiver).await;
            let senders = (0..usize::from(args.clients))
                .map(|index| {
                    let tenant = index % api_keys.len();
                    Ok((
                        load::Client::new(&api_keys[tenant])?,
                        endpoints[tenant].clone(),
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            tracing::info!(
                clients = args.clients,
                seconds = args.seconds,
                "webhook phase: test events"
            );
            Some(webhooks::run(&senders, &api, receiver, duration, during_labels).await?)
        }
        None => None,
    };
    let memory = Memory::total(&servers);
    let counters = simulator.simulator.counters();
    for server in servers {
        let log = server.log().to_owned();
        server
            .stop()
            .await
            .with_context(|| format!("stopping a server (log: {})", log.display()))?;
    }
    drop(simulator);

    tracing::info!(
        connections = args.clients,
        seconds = args.seconds,
        "database-limit phase: two-insert transactions"
    );
    scratch.create(&database.owner).await?;
    let limit = scratch
        .measure(&database.owner, args.clients, duration)
        .await?;
    let mut figures = report(
        args,
        settings,
        database,
        load,
        limit,
        memory,
        &Economy {
            oauth_calls: counters.grant(CLIENT_CREDENTIALS).calls,
            payment_auths: counters.route(route::PAYMENT_AUTHORIZATION).calls,
            labels: counters.route(route::RETURN_LABEL).ok,
        },
    );
    figures.webhooks = webhook_figures;
    figures.audit_sequencer = Some(audit_sequencer);
    figures.cpu = cpu;
    match statements {
        Ok(statements) => figures.statements = Some(statements),
        Err(why) => {
            tracing::warn!(%why, "no statement statistics for this run");
            figures.statements_unavailable = Some(why);
        }
    }
    Ok(figures)
}

/// Creates a tenant (directly, as `backhaul tenants create` does) and its account (over the
/// API), then buys its first label, which fetches the OAuth token and the payment
/// authorization; returns the tenant's API key.
async fn prepare_tenant(
    settings: &Settings,
    database: &BenchDatabase,
    api: &str,
    target: &Target,
    index: u16,
) -> anyhow::Result<String> {
    let db = connect_app(&database.owner, &settings.database, 1).await?;
    let name = format!("Bench {} #{index}", target.run_id);
    let (tenant, key) = accounts::tenant::create_tenant(&db, &Actor::System, &name)
        .await
        .context("creating a benchmark tenant")?;
    db.pool().close().await;
    tracing::info!(tenant = %tenant.id, "benchmark tenant created");
    let client = load::Client::new(key.secret.expose_secret())?;
    let account = client
        .http
        .post(format!("{api}/v1/shipper-accounts"))
        .bearer_auth(client.api_key())
        .json(&settings.usps.demo().account)
        .send()
        .await
        .context("creating a benchmark shipper account")?;
    let status = account.status();
    if status != StatusCode::CREATED {
        bail!(
            "creating a benchmark shipper account was answered {status}: {}",
            account.text().await.unwrap_or_default()
        );
    }
    let first = format!("bench-{}-first-{index}", target.run_id);
    let (status, _, body) = load::buy(&client, target, &first)
        .await
        .context("buying a tenant's first label")?;
    if status != StatusCode::CREATED {
        bail!(
            "a tenant's first label was answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(client.api_key().to_owned())
}

/// The simulator's counters over the whole run (warm-up included).
struct Economy {
    oauth_calls: u64,
    payment_auths: u64,
    labels: u64,
}

fn report(
    args: &BenchArgs,
    settings: &Settings,
    database: &BenchDatabase,
    load: Load,
    limit: DbLimit,
    memory: Option<Memory>,
    economy: &Economy,
) -> Report {
    let errors = load.error_count();
    let labels_per_s = rate(load.labels, load.elapsed);
    let db_limit_tps = rate(limit.transactions, limit.elapsed);
    let zero = Percentiles {
        p50_ms: 0.0,
        p95_ms: 0.0,
        p99_ms: 0.0,
        max_ms: 0.0,
    };
    let latency = Percentiles::of(load.latencies).unwrap_or(zero);
    let overhead = Percentiles::of(load.overheads).unwrap_or(zero);
    let carrier = Percentiles::of(load.carrier).unwrap_or(zero);
    Report {
        labels_per_s,
        db_limit_tps,
        ratio: if db_limit_tps > 0.0 {
            labels_per_s / db_limit_tps
        } else {
            0.0
        },
        p50_ms: latency.p50_ms,
        p95_ms: latency.p95_ms,
        p99_ms: latency.p99_ms,
        overhead_p99_ms: overhead.p99_ms,
        errors,
        oauth_calls_per_1000: per_thousand(economy.oauth_calls, economy.labels),
        payment_auths_per_1000: per_thousand(economy.payment_auths, economy.labels),
        rss_mb: memory.map(|memory| memory.rss_mb),
        clients: args.clients,
        tenants: args.tenants,
        instances: args.instances,
        seconds: args.seconds,
        labels: load.labels,
        load_elapsed_s: load.elapsed.as_secs_f64(),
        db_transactions: limit.transactions,
        db_elapsed_s: limit.elapsed.as_secs_f64(),
        max_ms: latency.max_ms,
        overhead_p50_ms: overhead.p50_ms,
        overhead_p95_ms: overhead.p95_ms,
        carrier_p50_ms: carrier.p50_ms,
        carrier_p99_ms: carrier.p99_ms,
        errors_by_cause: load.errors,
        oauth_calls: economy.oauth_calls,
        payment_auths: economy.payment_auths,
        simulator_labels: economy.labels,
        peak_rss_mb: memory.map(|memory| memory.peak_mb),
        server_pool: instance_pool(settings.database.max_connections, args.instances),
        database: if database.private.is_some() {
            "private"
        } else {
            "configured"
        }
        .to_owned(),
        webhooks: None,
        statements: None,
        statements_unavailable: None,
        audit_sequencer: None,
        cpu: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_share_the_configured_pool() {
        assert_eq!(instance_pool(10, 1), 10);
        assert_eq!(instance_pool(10, 2), 5);
        assert_eq!(instance_pool(10, 3), 4);
        assert_eq!(instance_pool(1, 8), 1);
    }

    #[test]
    fn run_ids_are_plain_identifiers() {
        let id = run_id();
        assert!(Scratch::new(&id).is_ok(), "{id}");
    }
}
