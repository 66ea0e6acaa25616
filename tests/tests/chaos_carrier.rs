//! Chaos: the carrier misbehaves under load. The simulator's return-label route answers 5 % of
//! requests with a 500, cuts 5 % of the connections after the label is recorded (the carrier
//! acted, the caller cannot know), and delays 5 % past the plugin's timeout (the label is
//! issued after the caller gave up, possibly while its retry is already in flight). Every
//! request ends in a success or a retryable error (503/504 with `Retry-After`, 409 while the key
//! is busy), and once the clients have retried with their keys the simulator's ledger and the
//! database hold the same labels: none lost, none bought twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use backhaul_tests::{
    PluginOptions, Purchases, TestApp, assert_ledger_is_database, buy_until_bought, label_request,
};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Mutex;
use usps_sim::{Fault, FaultRule, route};

/// Concurrent clients, and the labels each buys one after the other.
const CLIENTS: usize = 4;
const LABELS_PER_CLIENT: usize = 10;
/// The plugin's request timeout, and the latency spikes that outlast it.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(1000);
const SPIKE_MS: u64 = 1500;

fn rule(fault: Fault, times: Option<u32>, probability: Option<f64>) -> FaultRule {
    FaultRule {
        route: route::RETURN_LABEL.to_owned(),
        fault,
        times,
        probability,
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn carrier_faults_under_load_lose_and_duplicate_no_label(owner: PgPool) {
    tokio::time::timeout(Duration::from_secs(240), carrier_faults_under_load(owner))
        .await
        .expect("the chaos test finished in time");
}

async fn carrier_faults_under_load(owner: PgPool) {
    let app = Arc::new(
        TestApp::spawn_with(
            owner,
            PluginOptions {
                request_timeout: REQUEST_TIMEOUT,
                ..PluginOptions::default()
            },
        )
        .await,
    );
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let faults = [
        Fault::Status { status: 500 },
        Fault::ResetAfterCommit,
        Fault::Latency { ms: SPIKE_MS },
    ];
    let simulator = &app.simulator.simulator;
    // Each fault at least once whatever the dice say, then 5 % each for the rest of the load.
    for fault in &faults {
        simulator
            .try_inject(rule(fault.clone(), Some(1), None))
            .unwrap();
    }
    for fault in &faults {
        simulator
            .try_inject(rule(fault.clone(), None, Some(0.05)))
            .unwrap();
    }

    let purchases = Arc::new(Mutex::new(Purchases::default()));
    let never = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (app, never, purchases) = (app.clone(), never.clone(), purchases.clone());
            tokio::spawn(async move {
                let body = label_request("usps_priority_mail_return");
                for label in 0..LABELS_PER_CLIENT {
                    let key = format!("chaos-carrier-{client}-{label}");
                    buy_until_bought(&app, &key, &body, &never, &purchases).await;
                }
            })
        })
        .collect();
    for client in clients {
        tokio::time::timeout(Duration::from_secs(180), client)
            .await
            .expect("every client finished its purchases in time")
            .unwrap();
    }
    // A spiked request the caller gave up on may still be asleep in the simulator; when it
    // wakes it finds its key's label (bought by the retry) and replays it: the ledger is final.
    let purchases = purchases.lock().await;
    assert!(purchases.problems.is_empty(), "{:#?}", purchases.problems);
    assert_eq!(purchases.bought.len(), CLIENTS * LABELS_PER_CLIENT);
    assert!(
        purchases.statuses.contains(&504),
        "no purchase was left in doubt: {:?}",
        purchases.statuses
    );
    assert!(simulator.counters().faults_injected >= faults.len() as u64);
    assert_ledger_is_database(&app, &purchases.bought).await;
}
