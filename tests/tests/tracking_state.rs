//! A label's state from its tracking events, whatever the carrier: events stored once however
//! often and by whichever path they arrive (push and poll racing, duplicates), `first_scan_at`
//! and `delivered_at` set once with exactly one `return_label.first_scan` and one
//! `return_label.delivered` event, the events API, and the list's filters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use accounts::{LabelId, TenantId};
use backhaul_tests::{TestApp, label_request};
use carrier::{EventLocation, TrackingEvent, TrackingStatus};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};
use server::tracking::ingest::{self, Source, TrackedRow};
use sqlx::PgPool;

async fn bought_label(app: &TestApp) -> Value {
    let account = app
        .create_v3_account(&app.tenant_key, "Main", json!({}))
        .await;
    let mut request = label_request("usps_ground_advantage_return");
    request["shipper_account_id"] = account["id"].clone();
    let response = app.buy(&app.tenant_key, &unique_key(), &request).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn unique_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("tracking-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn row(app: &TestApp, label: &Value) -> TrackedRow {
    TrackedRow {
        id: LabelId::parse("id", label["id"].as_str().unwrap()).unwrap(),
        tenant: app.tenant.clone(),
    }
}

fn scan(minutes: i64, status: TrackingStatus, code: &str, description: &str) -> TrackingEvent {
    TrackingEvent {
        at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::minutes(minutes),
        status,
        carrier_code: code.to_owned(),
        description: description.to_owned(),
        location: EventLocation {
            city: Some("SAINT LOUIS".into()),
            state: Some("MO".into()),
            postal_code: Some("63118".into()),
            country: Some("US".into()),
        },
    }
}

async fn events_of(app: &TestApp, label: &str, kind: &str) -> Vec<Value> {
    let mut tx = app.instance.state.db().admin().await.unwrap();
    let rows: Vec<Value> = sqlx::query_scalar(
        "SELECT data FROM events WHERE subject_id = $1 AND type = $2 ORDER BY seq",
    )
    .bind(label)
    .bind(kind)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_scan_pushed_and_polled_at_once_is_one_event_and_one_first_scan(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let label = bought_label(&app).await;
    let tracked = row(&app, &label);
    let accepted = scan(0, TrackingStatus::InTransit, "03", "USPS picked up item");
    // The same scan, as a push words it and as a poll does, racing; and repeated.
    let mut pushed = accepted.clone();
    pushed.description = "USPS Picked Up Item".into();
    pushed.location = EventLocation::default();
    let state = &app.instance.state;
    let (a, b, c) = tokio::join!(
        ingest::ingest(
            state,
            &tracked,
            std::slice::from_ref(&accepted),
            Source::Poll
        ),
        ingest::ingest(state, &tracked, std::slice::from_ref(&pushed), Source::Push),
        ingest::ingest(state, &tracked, std::slice::from_ref(&pushed), Source::Push),
    );
    let stored: usize = [a, b, c]
        .into_iter()
        .map(|outcome| outcome.unwrap().new_events)
        .sum();
    assert_eq!(stored, 1, "the scan is stored once");
    let first_scans = events_of(
        &app,
        label["id"].as_str().unwrap(),
        "return_label.first_scan",
    )
    .await;
    assert_eq!(first_scans.len(), 1);
    assert_eq!(first_scans[0]["status"], "in_transit");
    assert_eq!(
        first_scans[0]["tracking"]["first_scan_at"],
        json!(
            accepted
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    );

    let shown: Value = app
        .get(
            &app.tenant_key,
            &format!("/v1/return-labels/{}", label["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "in_transit");
    assert_eq!(shown["tracking"]["status"], "in_transit");
    assert!(shown["tracking"]["delivered_at"].is_null());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn delivery_is_told_once_and_the_timeline_reads_oldest_first(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let label = bought_label(&app).await;
    let id = label["id"].as_str().unwrap().to_owned();
    let tracked = row(&app, &label);
    let state = &app.instance.state;
    let created = scan(-60, TrackingStatus::Created, "GX", "Shipping Label Created");
    let accepted = scan(0, TrackingStatus::InTransit, "03", "USPS picked up item");
    let delivered = scan(
        600,
        TrackingStatus::Delivered,
        "01",
        "Delivered, Front Door/Porch",
    );
    // Delivery arrives before the acceptance scan (the acceptance's push was lost; a poll
    // brings it later): the label ends delivered, and its first scan — set once, never moved —
    // is the delivery, the first scan anyone saw.
    ingest::ingest(
        state,
        &tracked,
        &[created.clone(), delivered.clone()],
        Source::Push,
    )
    .await
    .unwrap();
    let outcome = ingest::ingest(
        state,
        &tracked,
        &[accepted.clone(), delivered.clone()],
        Source::Poll,
    )
    .await
    .unwrap();
    assert_eq!(outcome.new_events, 1);
    assert!(!outcome.first_scan, "the delivery was the first scan seen");

    assert_eq!(
        events_of(&app, &id, "return_label.delivered").await.len(),
        1
    );
    let first_scans = events_of(&app, &id, "return_label.first_scan").await;
    assert_eq!(first_scans.len(), 1, "one first scan, made by the delivery");

    let tracking: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/tracking"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tracking["status"], "delivered");
    let events = tracking["events"].as_array().unwrap();
    let statuses: Vec<&str> = events
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["created", "in_transit", "delivered"]);
    assert_eq!(events[1]["carrier_code"], "03");
    assert_eq!(events[1]["location"]["city"], "SAINT LOUIS");
    assert!(events[0]["id"].as_str().unwrap().starts_with("tev_"));

    let shown: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["tracking"]["first_scan_at"],
        json!(
            delivered
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    );
    assert_eq!(
        shown["tracking"]["delivered_at"],
        json!(
            delivered
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_label_bought_is_one_created_event_with_the_answer(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let label = bought_label(&app).await;
    let created = events_of(&app, label["id"].as_str().unwrap(), "return_label.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0], label);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenants_label_has_no_tracking_for_you(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let label = bought_label(&app).await;
    let (_, other_key) = app.other_tenant("Other Returns").await;
    let path = format!(
        "/v1/return-labels/{}/tracking",
        label["id"].as_str().unwrap()
    );
    assert_eq!(app.get(&other_key, &path).await.status(), 404);
    assert_eq!(
        app.get(&app.tenant_key, "/v1/return-labels/lbl_nope/tracking")
            .await
            .status(),
        404
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_list_filters_by_status_carrier_reference_and_creation(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let moving = bought_label(&app).await;
    let waiting = bought_label(&app).await;
    ingest::ingest(
        &app.instance.state,
        &row(&app, &moving),
        &[scan(
            0,
            TrackingStatus::InTransit,
            "03",
            "USPS picked up item",
        )],
        Source::Poll,
    )
    .await
    .unwrap();
    let ids = |page: Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|label| label["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let get = |query: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(&app.tenant_key, &format!("/v1/return-labels?{query}"))
                .await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, page) = get("status=in_transit").await;
    assert_eq!(status, 200);
    assert_eq!(ids(page), [moving["id"].as_str().unwrap()]);
    let (_, page) = get("status=created").await;
    assert_eq!(ids(page), [waiting["id"].as_str().unwrap()]);
    let (_, page) = get("carrier=usps&reference=RMA-1001").await;
    assert_eq!(ids(page).len(), 2);
    let (_, page) = get("reference=RMA-9999").await;
    assert!(ids(page).is_empty());
    let (_, page) = get("created_after=2999-01-01T00:00:00Z").await;
    assert!(ids(page).is_empty());
    let (_, page) = get("created_after=2000-01-01T00:00:00Z&status=in_transit").await;
    assert_eq!(ids(page).len(), 1);

    for (query, field) in [
        ("status=accepted", "status"),
        ("carrier=nope", "carrier"),
        ("created_after=yesterday", "created_after"),
    ] {
        let (status, body) = get(query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(
            body["error"]["details"][0]["field"], field,
            "{query}: {body}"
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_voided_label_stays_voided_when_late_scans_arrive(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let label = bought_label(&app).await;
    let id = label["id"].as_str().unwrap().to_owned();
    // Voided as the void route does (USPS labels cannot be voided at the carrier).
    let mut tx = app.instance.state.db().admin().await.unwrap();
    sqlx::query("UPDATE return_labels SET status = 'voided', voided_at = now() WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ingest::ingest(
        &app.instance.state,
        &TrackedRow {
            id: LabelId::parse("id", &id).unwrap(),
            tenant: TenantId::parse("tenant", app.tenant.as_str()).unwrap(),
        },
        &[scan(
            0,
            TrackingStatus::InTransit,
            "03",
            "USPS picked up item",
        )],
        Source::Push,
    )
    .await
    .unwrap();
    let shown: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "voided");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_console_shows_a_labels_status_and_timeline_and_filters_the_list(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let moving = bought_label(&app).await;
    let waiting = bought_label(&app).await;
    ingest::ingest(
        &app.instance.state,
        &row(&app, &moving),
        &[
            scan(0, TrackingStatus::InTransit, "03", "USPS picked up item"),
            scan(
                90,
                TrackingStatus::InTransit,
                "10",
                "Arrived at USPS Regional Facility",
            ),
        ],
        Source::Poll,
    )
    .await
    .unwrap();
    let console = app.console_sign_in(&app.tenant_key).await;

    let (status, page) = console
        .page(&format!(
            "/console/labels/{}",
            moving["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("In transit"), "{page}");
    assert!(page.contains("First scan"), "{page}");
    let newest = page
        .find("Arrived at USPS Regional Facility")
        .expect("the newest event");
    let oldest = page.find("USPS picked up item").expect("the oldest event");
    assert!(newest < oldest, "the timeline reads newest first");
    assert!(page.contains("SAINT LOUIS, MO, 63118"), "{page}");

    let (_, page) = console
        .page(&format!(
            "/console/labels/{}",
            waiting["id"].as_str().unwrap()
        ))
        .await;
    assert!(page.contains("No scan yet"), "{page}");

    let (_, list) = console.page("/console/labels?status=in_transit").await;
    assert!(list.contains(moving["tracking_number"].as_str().unwrap()));
    assert!(!list.contains(waiting["tracking_number"].as_str().unwrap()));
    let (status, list) = console.page("/console/labels?status=nonsense").await;
    assert_eq!(status, 200, "an edited filter lists every label");
    assert!(list.contains(waiting["tracking_number"].as_str().unwrap()));
}
