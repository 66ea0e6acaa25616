//! The returns SaaS's view, end to end, for USPS and for UPS: a label bought, the carrier's
//! simulator scans it `accepted` → `return_label.first_scan` reaches a local receiver, its
//! signature verified by the Standard Webhooks reference library → `delivered` →
//! `return_label.delivered`. The same scan pushed again and polled brings no second
//! `first_scan` delivery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::webhook::{
    Received, Receiver, fast_delivery, register, start_workers, verified_by_standardwebhooks,
};
use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;

const EVENTS: [&str; 2] = ["return_label.first_scan", "return_label.delivered"];

fn of_type<'a>(got: &'a [Received], kind: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.json()["type"] == kind).collect()
}

/// The receiver's copies verify, name the label, and are one first scan then one delivery.
async fn assert_one_first_scan_then_delivered(got: &[Received], secret: &str, label: &str) {
    assert_eq!(of_type(got, "return_label.first_scan").len(), 1, "{got:#?}");
    assert_eq!(of_type(got, "return_label.delivered").len(), 1, "{got:#?}");
    assert_eq!(got[0].json()["type"], "return_label.first_scan");
    for received in got {
        assert_eq!(received.json()["data"]["id"], label);
    }
    let verified = verified_by_standardwebhooks(secret, got).await;
    assert!(verified.iter().all(|ok| *ok), "{verified:?}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_usps_label_s_first_scan_and_delivery_reach_the_returns_saas_signed(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(EVENTS)).await;
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let account = app
        .create_v3_account(&app.tenant_key, "Main", json!({}))
        .await;
    let mut request = label_request("usps_ground_advantage_return");
    request["shipper_account_id"] = account["id"].clone();
    let bought: Value = app
        .buy(&app.tenant_key, "e2e-usps", &request)
        .await
        .json()
        .await
        .unwrap();
    let id = bought["id"].as_str().unwrap();
    let number = bought["tracking_number"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;

    app.simulator
        .simulator
        .scan(number, usps_sim::ScanStatus::Accepted)
        .unwrap();
    let got = receiver
        .wait_until("the first scan", |got| got.len() == 1)
        .await;
    assert_eq!(got[0].json()["type"], "return_label.first_scan");
    assert_eq!(got[0].json()["data"]["status"], "in_transit");
    // The same notification again, and a poll of the same scan.
    let subscription = app.simulator.simulator.subscriptions()[0].id.clone();
    app.simulator
        .simulator
        .redeliver_last(&subscription)
        .await
        .unwrap();
    server::tracking::run_once(&app.instance.state).await;

    app.simulator
        .simulator
        .scan(number, usps_sim::ScanStatus::Delivered)
        .unwrap();
    let got = receiver
        .wait_until("the delivery", |got| got.len() >= 2)
        .await;
    assert_one_first_scan_then_delivered(&got, endpoint["secret"].as_str().unwrap(), id).await;
    assert_every_delivery_queued(&app, &endpoint).await;
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_label_s_first_scan_and_delivery_reach_the_returns_saas_signed(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(EVENTS)).await;
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let account = app
        .create_ups_account(&app.tenant_key, "UPS main", json!({}))
        .await;
    let bought: Value = app
        .buy(
            &app.tenant_key,
            "e2e-ups",
            &backhaul_tests::ups::label_request_for(&account),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = bought["id"].as_str().unwrap();
    let number = bought["tracking_number"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;

    app.ups
        .simulator
        .scan(number, ups_sim::ScanKind::Accepted)
        .unwrap();
    let got = receiver
        .wait_until("the first scan", |got| got.len() == 1)
        .await;
    assert_eq!(got[0].json()["type"], "return_label.first_scan");
    // The same event pushed again, and a poll of the same scan.
    app.ups.simulator.push_again(number).unwrap();
    server::tracking::run_once(&app.instance.state).await;

    app.ups
        .simulator
        .scan(number, ups_sim::ScanKind::Delivered)
        .unwrap();
    let got = receiver
        .wait_until("the delivery", |got| got.len() >= 2)
        .await;
    assert_one_first_scan_then_delivered(&got, endpoint["secret"].as_str().unwrap(), id).await;
    assert_every_delivery_queued(&app, &endpoint).await;
}

/// Deliveries are queued with their events, in the same statement: the endpoint's log, read
/// once both arrived, is all it will ever be sent for these scans — one first scan, one
/// delivery, both delivered.
async fn assert_every_delivery_queued(app: &TestApp, endpoint: &Value) {
    let id = endpoint["id"].as_str().unwrap();
    let page: Value = app
        .get(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/deliveries"),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|delivery| delivery["event_type"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["return_label.delivered", "return_label.first_scan"],
        "{page}"
    );
}
