//! Chaos: the database goes away in the middle of a load of label purchases.
//!
//! - Postgres dies (`pg_ctl stop -m immediate`) and comes back: while it is down every answer
//!   is a 503 (or a 504 for a purchase the carrier may have completed) with `Retry-After` —
//!   never a 500, a panic, a hang or a dropped connection — and once it is back, clients
//!   retrying with their keys finish every purchase.
//! - An administrator terminates the service's connections (`pg_terminate_backend`, what a
//!   failover or `pg_ctl stop -m fast` does to them) again and again: same contract.
//!
//! Either way the simulator's ledger and the labels in the database end up the same set: no
//! label lost, none bought twice, each key's 201 naming its one stored label.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backhaul_tests::{
    PluginOptions, PrivatePostgres, Purchases, TestApp, assert_ledger_is_database,
    buy_until_bought, label_request,
};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Concurrent clients, and the labels each buys one after the other.
const CLIENTS: usize = 4;
const LABELS_PER_CLIENT: usize = 6;
/// The whole test's bound.
const TEST_TIMEOUT: Duration = Duration::from_secs(240);

/// Clients buying labels concurrently, each with its own keys.
struct Load {
    purchases: Arc<Mutex<Purchases>>,
    outage: Arc<AtomicBool>,
    clients: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(app: &Arc<TestApp>, name: &str) -> Self {
        let purchases = Arc::new(Mutex::new(Purchases::default()));
        let outage = Arc::new(AtomicBool::new(false));
        let clients = (0..CLIENTS)
            .map(|client| {
                let (app, outage, purchases) = (app.clone(), outage.clone(), purchases.clone());
                let name = name.to_owned();
                tokio::spawn(async move {
                    let body = label_request("usps_ground_advantage_return");
                    for label in 0..LABELS_PER_CLIENT {
                        let key = format!("{name}-{client}-{label}");
                        buy_until_bought(&app, &key, &body, &outage, &purchases).await;
                    }
                })
            })
            .collect();
        Self {
            purchases,
            outage,
            clients,
        }
    }

    async fn bought(&self) -> usize {
        self.purchases.lock().await.bought.len()
    }

    /// Waits (bounded) until `count` labels are bought.
    async fn wait_for_labels(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.bought().await < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {count} labels"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (bounded) until every client has bought all its labels; returns what they saw.
    async fn finish(self) -> Purchases {
        for client in self.clients {
            tokio::time::timeout(Duration::from_secs(120), client)
                .await
                .expect("every client finished its purchases in time")
                .unwrap();
        }
        Arc::try_unwrap(self.purchases).unwrap().into_inner()
    }
}

/// Every answer was part of the contract and every key bought its label.
fn assert_contract_kept(purchases: &Purchases) {
    assert!(purchases.problems.is_empty(), "{:#?}", purchases.problems);
    assert_eq!(purchases.bought.len(), CLIENTS * LABELS_PER_CLIENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_mid_load_loses_and_duplicates_no_label() {
    tokio::time::timeout(TEST_TIMEOUT, postgres_stopped_mid_load())
        .await
        .expect("the chaos test finished in time");
}

async fn postgres_stopped_mid_load() {
    // The WAL writer idles for 10 s: a commit that did not wait for the disk stays in shared
    // memory until a synchronous commit flushes it, so an answer given before its label was
    // durable is lost by the immediate stop below, and the ledger check reports it.
    let postgres = PrivatePostgres::start(&["wal_writer_delay=10000"]).await;
    let owner = postgres.migrated_database().await;
    let app = Arc::new(TestApp::spawn_with(owner, PluginOptions::default()).await);
    // A purchase cut off by the outage is resumed after this, not after the production minute.
    app.instance.state.set_label_lock(Duration::from_secs(2));
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;

    let load = Load::start(&app, "chaos-pg-stop");
    load.wait_for_labels(CLIENTS).await;
    postgres.stop_immediately().await;
    load.outage.store(true, Ordering::SeqCst);
    // Down until every client has been answered at least once more.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while load.purchases.lock().await.during_outage.len() < CLIENTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for answers while Postgres is down"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    load.outage.store(false, Ordering::SeqCst);
    postgres.start_again().await;
    let purchases = load.finish().await;

    assert_contract_kept(&purchases);
    let down = &purchases.during_outage;
    assert!(
        down.iter().all(|status| *status == 503 || *status == 504),
        "answers while Postgres was down: {down:?}"
    );
    assert!(
        down.contains(&503),
        "answers while Postgres was down: {down:?}"
    );
    assert_ledger_is_database(&app, &purchases.bought).await;
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn connections_terminated_mid_load_lose_and_duplicate_no_label(owner: PgPool) {
    tokio::time::timeout(TEST_TIMEOUT, connections_terminated_mid_load(owner))
        .await
        .expect("the chaos test finished in time");
}

async fn connections_terminated_mid_load(owner: PgPool) {
    let app = Arc::new(TestApp::spawn_with(owner.clone(), PluginOptions::default()).await);
    app.instance.state.set_label_lock(Duration::from_secs(2));
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;

    let load = Load::start(&app, "chaos-pg-terminate");
    load.wait_for_labels(2).await;
    // Terminate the service's connections to this database, ten times a quarter second apart.
    let mut terminated = 0_usize;
    for _ in 0..10 {
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE usename = 'backhaul_app' AND datname = current_database()",
        )
        .fetch_all(&owner)
        .await
        .unwrap();
        terminated += killed.into_iter().filter(|killed| *killed).count();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let purchases = load.finish().await;

    assert!(terminated > 0, "no connection was terminated");
    assert_contract_kept(&purchases);
    assert_ledger_is_database(&app, &purchases.bought).await;
}
