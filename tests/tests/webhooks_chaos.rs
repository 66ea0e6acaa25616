//! Webhook delivery under trouble: Postgres stopped (`pg_ctl stop -m immediate`) in the middle
//! of deliveries, and two server instances delivering from one database. Either way every
//! event reaches the receiver at least once; the duplicates (the same `webhook-id` again, which
//! at-least-once allows) are counted and printed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use accounts::{EventType, NewEvent};
use backhaul_tests::webhook::{Received, Receiver, fast_delivery, register, start_workers};
use backhaul_tests::{PluginOptions, PrivatePostgres, TestApp, start_instance};
use serde_json::json;
use sqlx::PgPool;

/// Records `count` events spread over `subjects` labels, one transaction per event.
async fn record_events(app: &TestApp, from: usize, count: usize, subjects: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in from..from + count {
        let subject = format!("lbl_{:020}", n % subjects);
        let mut tx = app.instance.state.db().tenant(&app.tenant).await.unwrap();
        let id = accounts::event::record(
            &mut tx,
            &NewEvent {
                tenant_id: &app.tenant,
                event_type: EventType::LabelTrackingUpdated,
                subject_id: &subject,
                data: json!({"id": subject, "n": n}),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        ids.push(id.to_string());
    }
    ids
}

/// How many times each event arrived; every one of `expected` at least once.
fn arrivals(accepted: &[Received], expected: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for received in accepted {
        *counts.entry(received.id.clone()).or_insert(0) += 1;
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    let unexpected: BTreeSet<&String> = counts.keys().filter(|id| !expected.contains(id)).collect();
    assert!(
        unexpected.is_empty(),
        "delivered but never recorded: {unexpected:?}"
    );
    counts
}

fn duplicates(counts: &BTreeMap<String, usize>) -> usize {
    counts.values().map(|count| count - 1).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_mid_delivery_still_delivers_every_event_at_least_once() {
    tokio::time::timeout(Duration::from_secs(240), postgres_stopped_mid_delivery())
        .await
        .expect("the chaos test finished in time");
}

async fn postgres_stopped_mid_delivery() {
    let postgres = PrivatePostgres::start(&[]).await;
    let owner = postgres.migrated_database().await;
    let app = TestApp::spawn_with(owner, PluginOptions::default()).await;
    let receiver = Receiver::start().await;
    register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let mut expected = record_events(&app, 0, 60, 12).await;
    let _workers = start_workers(&app.instance.state, fast_delivery());

    receiver
        .wait_until("the first deliveries", |got| got.len() >= 5)
        .await;
    postgres.stop_immediately().await;
    let during = receiver.accepted().await.len();
    postgres.start_again().await;
    expected.extend(record_events(&app, 60, 20, 12).await);

    let accepted = receiver
        .wait_until("every event", |got| {
            let ids: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
            expected.iter().all(|id| ids.contains(id.as_str()))
        })
        .await;
    let counts = arrivals(&accepted, &expected);
    assert!(
        during < expected.len(),
        "every event was delivered before the stop"
    );
    println!(
        "postgres stopped mid-delivery: {} events, {} deliveries accepted, {} duplicates",
        expected.len(),
        accepted.len(),
        duplicates(&counts)
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn two_instances_on_one_database_lose_no_event(owner: PgPool) {
    let app = TestApp::spawn(owner.clone()).await;
    let second = start_instance(&owner, &app.simulator.base_url, PluginOptions::default()).await;
    let receiver = Receiver::start().await;
    register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let _first_workers = start_workers(&app.instance.state, fast_delivery());
    let _second_workers = start_workers(&second.state, fast_delivery());

    let expected = record_events(&app, 0, 200, 40).await;
    let accepted = receiver
        .wait_until("every event", |got| {
            let ids: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
            expected.iter().all(|id| ids.contains(id.as_str()))
        })
        .await;
    let counts = arrivals(&accepted, &expected);
    // Each label's events arrived in the order they were recorded, across both instances.
    let mut last_seen: BTreeMap<String, usize> = BTreeMap::new();
    for received in &accepted {
        let body = received.json();
        let subject = body["data"]["id"].as_str().unwrap().to_owned();
        let n = body["data"]["n"].as_u64().unwrap() as usize;
        if let Some(previous) = last_seen.insert(subject.clone(), n) {
            assert!(previous <= n, "{subject}: {n} after {previous}");
        }
    }
    println!(
        "two instances: {} events, {} deliveries accepted, {} duplicates",
        expected.len(),
        accepted.len(),
        duplicates(&counts)
    );
}
