//! UPS labels tracked end to end through the server: each label subscribed to Track Alert after
//! purchase, the simulator's pushes authenticated with a token it fetched from our token route
//! with the listener credentials, polled from the Track API, one first scan; refusals of a push
//! without or with a bad token; subscriptions made again before the 14 days run out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::TestApp;
use backhaul_tests::ups::label_request_for;
use serde_json::{Value, json};
use sqlx::PgPool;
use ups_sim::{PushOutcome, ScanKind};

async fn bought_label(app: &TestApp) -> Value {
    let account = app
        .create_ups_account(&app.tenant_key, "UPS main", json!({}))
        .await;
    let response = app
        .buy(
            &app.tenant_key,
            "ups-tracking-1",
            &label_request_for(&account),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn until_pushes_settle(app: &TestApp, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pushes = app.ups.simulator.pushes();
        if pushes.len() >= count
            && pushes
                .iter()
                .all(|push| push.outcome != PushOutcome::Pending)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pushes never settled: {pushes:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_scan_pushed_twice_and_polled_is_one_first_scan(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    let tracking_number = bought["tracking_number"].as_str().unwrap();

    server::tracking::run_once(&app.instance.state).await;
    let subscriptions = app.ups.simulator.subscriptions();
    assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
    assert_eq!(subscriptions[0].tracking_number, tracking_number);

    app.ups
        .simulator
        .scan(tracking_number, ScanKind::Accepted)
        .unwrap();
    let shown = app.until_label_status(id, "in_transit").await;
    assert!(shown["tracking"]["first_scan_at"].is_string());
    until_pushes_settle(&app, 1).await;
    assert_eq!(
        app.ups.simulator.pushes()[0].outcome,
        PushOutcome::Delivered
    );

    app.ups.simulator.push_again(tracking_number).unwrap();
    until_pushes_settle(&app, 2).await;
    assert_eq!(
        app.ups.simulator.pushes()[1].outcome,
        PushOutcome::Delivered
    );
    server::tracking::run_once(&app.instance.state).await;
    assert_eq!(app.count_events(id, "return_label.first_scan").await, 1);

    app.ups
        .simulator
        .scan(tracking_number, ScanKind::Delivered)
        .unwrap();
    let shown = app.until_label_status(id, "delivered").await;
    assert!(shown["tracking"]["delivered_at"].is_string());
    assert_eq!(app.count_events(id, "return_label.delivered").await, 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn ups_pushes_without_a_token_of_ours_change_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    let tracking_number = bought["tracking_number"].as_str().unwrap();
    let event = json!({
        "trackingNumber": tracking_number,
        "localActivityDate": "20261201", "localActivityTime": "091519",
        "activityLocation": {"city": "Charlotte", "stateProvince": "NC", "postalCode": "30004", "country": "US"},
        "activityStatus": {"type": "D", "code": "FS", "description": "Delivered", "descriptionCode": "011"},
        "gmtActivityDate": "20261201", "gmtActivityTime": "131519",
    });
    let push = |authorization: Option<String>| {
        let app = &app;
        let event = event.clone();
        async move {
            let mut request = app
                .client
                .post(app.url("/v1/carrier-webhooks/ups"))
                .header("User-Agent", "UPSPubSubTrackingService")
                .header("x-api-key", ups_sim::demo::WEBHOOK_CLIENT_ID)
                .json(&event);
            if let Some(authorization) = authorization {
                request = request.header("Authorization", authorization);
            }
            request.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(push(None).await, 401);
    assert_eq!(push(Some("Bearer made-up".to_owned())).await, 401);

    // A token for someone else's credentials is refused at the token route.
    let refused = app
        .client
        .post(app.url("/v1/carrier-webhooks/ups/token"))
        .basic_auth(ups_sim::demo::WEBHOOK_CLIENT_ID, Some("not-the-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));

    // With a genuine token, the same event is accepted.
    let token: Value = app
        .client
        .post(app.url("/v1/carrier-webhooks/ups/token"))
        .basic_auth(
            ups_sim::demo::WEBHOOK_CLIENT_ID,
            Some(ups_sim::demo::WEBHOOK_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert!(token["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(app.label(id).await["status"], "created");
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    assert_eq!(push(Some(bearer)).await, 200);
    assert_eq!(app.label(id).await["status"], "delivered");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_label_is_subscribed_again_before_its_14_days_run_out(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let bought = bought_label(&app).await;
    let id = bought["id"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;
    let first = app.ups.simulator.subscriptions()[0].expires_at;

    let mut tx = app.instance.state.db().admin().await.unwrap();
    let (until, next): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "SELECT push_subscribed_until, next_subscribe_at FROM tracking_jobs WHERE label_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        until - next,
        chrono::Duration::days(1),
        "renewed a day early"
    );
    // Thirteen days later (the renewal is due): subscribed again, for 14 more days.
    sqlx::query("UPDATE tracking_jobs SET next_subscribe_at = now() - interval '1 second' WHERE label_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.ups
        .simulator
        .advance_clock(Duration::from_secs(13 * 24 * 3600));
    server::tracking::run_once(&app.instance.state).await;
    let renewed = app.ups.simulator.subscriptions()[0].expires_at;
    assert!(
        renewed - first >= chrono::Duration::days(13),
        "{first} → {renewed}"
    );
}
