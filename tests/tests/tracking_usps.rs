//! USPS labels tracked end to end through the server: the account subscribed (one Subscriptions
//! – Tracking subscription, its secret sealed), scans pushed by the simulator to
//! `POST /v1/carrier-webhooks/usps` with `X-HMAC` and polled from Tracking v3, merged into one
//! timeline with exactly one first scan; forged, unsigned and replayed notifications refused;
//! a suspended subscription noticed and repaired, its missed scans polled meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::{TestApp, label_request, test_tracking};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::{ScanStatus, SubscriptionStatus};

async fn bought_label(app: &TestApp) -> Value {
    let account = app
        .create_v3_account(&app.tenant_key, "Main", json!({}))
        .await;
    let mut request = label_request("usps_ground_advantage_return");
    request["shipper_account_id"] = account["id"].clone();
    let key = format!("usps-tracking-{}", rand_suffix());
    let response = app.buy(&app.tenant_key, &key, &request).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn listener(app: &TestApp, headers: &[(&str, String)], body: &str) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url("/v1/carrier-webhooks/usps"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_usps_scan_pushed_once_twice_and_polled_is_one_first_scan(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    let tracking_number = bought["tracking_number"].as_str().unwrap();

    // The first run subscribes the account and polls the new label (nothing scanned yet).
    server::tracking::run_once(&app.instance.state).await;
    let subscriptions = app.simulator.simulator.subscriptions();
    assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
    let subscription = &subscriptions[0];
    assert_eq!(subscription.status, SubscriptionStatus::Enabled);
    assert_eq!(
        subscription.listener_url,
        app.url("/v1/carrier-webhooks/usps")
    );
    assert_eq!(app.label(id).await["status"], "created");

    // The secret is sealed: the row holds no 32-character secret in the clear.
    let mut tx = app.instance.state.db().admin().await.unwrap();
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_sealed FROM tracking_subscriptions")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(sealed.len() > 32);
    // Storing it is audited, like any stored credential.
    let audited: Value = app
        .get(
            &app.admin_key,
            "/v1/admin/audit-events?action=tracking.subscription_created",
        )
        .await
        .json()
        .await
        .unwrap();
    let audited = audited["data"].as_array().unwrap();
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0]["actor"], "system");
    assert_eq!(audited[0]["summary"]["carrier"], "usps");

    app.simulator
        .simulator
        .scan(tracking_number, ScanStatus::Accepted)
        .unwrap();
    let shown = app.until_label_status(id, "in_transit").await;
    assert!(shown["tracking"]["first_scan_at"].is_string());
    assert_eq!(app.count_events(id, "return_label.first_scan").await, 1);

    // USPS delivers the same notification again; a poll brings the same scan.
    let again = app
        .simulator
        .simulator
        .redeliver_last(&subscription.id)
        .await
        .unwrap();
    assert!(again.delivered(), "{again:?}");
    server::tracking::run_once(&app.instance.state).await;
    assert_eq!(app.count_events(id, "return_label.first_scan").await, 1);
    let tracking: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/tracking"))
        .await
        .json()
        .await
        .unwrap();
    let scans = tracking["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["status"] != "created")
        .count();
    assert_eq!(scans, 1, "{tracking}");

    app.simulator
        .simulator
        .scan(tracking_number, ScanStatus::Delivered)
        .unwrap();
    let shown = app.until_label_status(id, "delivered").await;
    assert!(shown["tracking"]["delivered_at"].is_string());
    assert_eq!(app.count_events(id, "return_label.delivered").await, 1);
    // Delivered: no longer polled.
    let mut tx = app.instance.state.db().admin().await.unwrap();
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM tracking_jobs WHERE label_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(jobs, 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn forged_unsigned_and_replayed_usps_notifications_change_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    let tracking_number = bought["tracking_number"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;
    app.simulator
        .simulator
        .scan(tracking_number, ScanStatus::Accepted)
        .unwrap();
    app.until_label_status(id, "in_transit").await;
    // The simulator books the push once it has our answer, just after we stored its event.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let genuine = loop {
        let delivered = app
            .simulator
            .simulator
            .pushes()
            .into_iter()
            .find(|push| push.delivered());
        if let Some(push) = delivered {
            break push;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the push was never booked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let events_before = app.count_events(id, "return_label.tracking_updated").await;

    // Unsigned.
    let (status, body) = listener(&app, &[], &genuine.body).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "notification_refused");
    // Forged: the body changed (delivered), the genuine signature kept.
    let forged = genuine.body.replace("Accepted", "Delivered");
    let (status, _) = listener(&app, &[("X-HMAC", genuine.hmac.clone())], &forged).await;
    assert_eq!(status, 401);
    // Signed with a key of our own.
    let (status, _) = listener(
        &app,
        &[("X-HMAC", "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ==".to_owned())],
        &genuine.body,
    )
    .await;
    assert_eq!(status, 401);
    // Replayed after the timestamp window: signed genuinely, but stale.
    let mut stale: Value = serde_json::from_str(&genuine.body).unwrap();
    stale["timestamp"] = json!("2020-01-01T00:00:00.000Z");
    let (status, body) = listener(
        &app,
        &[("X-HMAC", genuine.hmac.clone())],
        &stale.to_string(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    // A subscription id we never made.
    let mut unknown: Value = serde_json::from_str(&genuine.body).unwrap();
    unknown["subscriptionId"] = json!("not-ours");
    let (status, _) = listener(
        &app,
        &[("X-HMAC", genuine.hmac.clone())],
        &unknown.to_string(),
    )
    .await;
    assert_eq!(status, 401);
    // Not a notification at all.
    let (status, body) = listener(&app, &[], "[1, 2").await;
    assert_eq!(status, 400, "{body}");

    assert_eq!(app.label(id).await["status"], "in_transit");
    assert_eq!(
        app.count_events(id, "return_label.tracking_updated").await,
        events_before
    );
    // The genuine one, sent again as it was: accepted, changes nothing.
    let (status, body) = listener(&app, &[("X-HMAC", genuine.hmac.clone())], &genuine.body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["new_events"], 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_suspended_usps_subscription_is_repaired_and_its_missed_scans_polled(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    // The first subscription points at a listener nobody serves: USPS will suspend it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    app.instance.state.set_tracking(test_tracking(&dead_url));
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    let tracking_number = bought["tracking_number"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;
    app.simulator
        .simulator
        .scan(tracking_number, ScanStatus::Accepted)
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.simulator.simulator.subscriptions()[0].status != SubscriptionStatus::Suspended {
        assert!(tokio::time::Instant::now() < deadline, "never suspended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.label(id).await["status"],
        "created",
        "the push was lost"
    );

    // Our listener is reachable again; the next run sees the suspension and resumes it, and
    // the poll (push not working) brings the missed scan.
    app.instance
        .state
        .set_tracking(test_tracking(&app.instance.base_url));
    server::tracking::run_once(&app.instance.state).await;
    let subscription = &app.simulator.simulator.subscriptions()[0];
    assert_eq!(subscription.status, SubscriptionStatus::Enabled);
    assert_eq!(
        subscription.listener_url,
        app.url("/v1/carrier-webhooks/usps")
    );
    app.until_label_status(id, "in_transit").await;
    assert_eq!(app.count_events(id, "return_label.first_scan").await, 1);

    // Pushes work again.
    app.simulator
        .simulator
        .scan(tracking_number, ScanStatus::Delivered)
        .unwrap();
    app.until_label_status(id, "delivered").await;
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_carriers_list_says_who_tracks_and_who_pushes(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let carriers: Value = app
        .get(&app.tenant_key, "/v1/carriers")
        .await
        .json()
        .await
        .unwrap();
    let carriers = carriers["data"].as_array().unwrap();
    assert_eq!(carriers.len(), 3, "{carriers:?}");
    for carrier in carriers {
        assert_eq!(carrier["capabilities"]["tracking"], true, "{carrier}");
        // FedEx publishes no machine-readable webhook spec: it is polled only.
        let pushes = carrier["id"] != "fedex";
        assert_eq!(
            carrier["capabilities"]["tracking_push"], pushes,
            "{carrier}"
        );
    }
}
