//! The tracking poller keeps within each API app's hourly call budget, whatever the backlog and
//! however many instances poll: 1,000 undelivered USPS labels on the platform's budget of 60
//! calls an hour (USPS's default quota), polled by two server instances over three simulated
//! hours, counted at the simulator. `cargo test -p backhaul-tests --test tracking_budget --
//! --nocapture` prints the calls per hour.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{PluginOptions, TestApp, label_request, start_instance};
use chrono::{Duration, Utc};
use futures::StreamExt;
use serde_json::json;
use sqlx::PgPool;

const LABELS: usize = 1_000;
const BUDGET: u64 = 60;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_thousand_usps_labels_are_polled_within_the_hourly_budget_by_two_instances(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner.clone()).await;
    // A thousand purchases at once are over a key's request rate: not what this test is about.
    app.instance
        .state
        .rate_limiter()
        .set_limit(server::limit::RateLimit {
            per_second: 100_000,
            burst: 100_000,
        });
    let account = app
        .create_v3_account(&app.tenant_key, "Main", json!({}))
        .await;
    let bought: Vec<u16> = futures::stream::iter(0..LABELS)
        .map(|n| {
            let app = &app;
            let mut request = label_request("usps_ground_advantage_return");
            request["shipper_account_id"] = account["id"].clone();
            async move {
                app.buy(&app.tenant_key, &format!("budget-{n}"), &request)
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let refused: Vec<&u16> = bought.iter().filter(|status| **status != 201).collect();
    assert!(refused.is_empty(), "{} refused: {refused:?}", refused.len());
    let second = start_instance(
        &owner,
        &app.simulator.base_url,
        PluginOptions {
            ups_url: Some(app.ups.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;

    let tracking_calls = || app.simulator.simulator.counters().route("tracking").calls;
    // Simulated hours are clock hours, as budgets are kept: from the start of the next one.
    let start = server::tracking::budget::hour_of(Utc::now()) + Duration::hours(1);
    let mut per_hour = Vec::new();
    for hour in 0..3 {
        let before = tracking_calls();
        // Every five minutes of the hour, both instances run a poll pass at once.
        for minute in (0..60).step_by(5) {
            let now = start + Duration::hours(hour) + Duration::minutes(minute);
            let (a, b) = tokio::join!(
                server::tracking::poll::poll_due(&app.instance.state, now),
                server::tracking::poll::poll_due(&second.state, now),
            );
            a.unwrap();
            b.unwrap();
        }
        per_hour.push(tracking_calls() - before);
    }
    println!(
        "tracking calls per hour for {LABELS} undelivered labels, budget {BUDGET}/h, two instances: {per_hour:?}"
    );
    for (hour, calls) in per_hour.iter().enumerate() {
        assert!(*calls <= BUDGET, "hour {hour}: {calls} calls");
    }
    assert_eq!(per_hour[0], BUDGET, "a backlog uses the whole budget");

    // The books agree: what the budget recorded is what the simulator saw.
    let mut tx = app.instance.state.db().admin().await.unwrap();
    let recorded: Vec<(String, i32)> =
        sqlx::query_as("SELECT quota_app, calls FROM carrier_call_budgets ORDER BY hour")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let polled: i64 = sqlx::query_scalar("SELECT coalesce(sum(polls), 0) FROM tracking_jobs")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // One own-app account: one API app's budget, named without its client id.
    assert!(
        recorded
            .iter()
            .all(|(app_key, _)| app_key == &recorded[0].0 && app_key.starts_with("usps:app:")),
        "{recorded:?}"
    );
    let total: i64 = recorded.iter().map(|(_, calls)| i64::from(*calls)).sum();
    assert_eq!(total as u64, per_hour.iter().sum::<u64>());
    assert_eq!(polled as u64, per_hour.iter().sum::<u64>());
}

/// FedEx is polled only, in batches of up to 30 numbers a call: 100 labels on one registered
/// account, the FedEx budget set to 2 calls an hour (`tracking.calls_per_hour.fedex`), two
/// instances polling every five minutes — 2 batch calls an hour, counted at the simulator, under
/// the platform app's one budget.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn fedex_labels_are_polled_in_batches_within_the_configured_budget(owner: PgPool) {
    const FEDEX_LABELS: usize = 100;
    const FEDEX_BUDGET: u32 = 2;
    let app = TestApp::spawn(owner.clone()).await;
    app.instance
        .state
        .rate_limiter()
        .set_limit(server::limit::RateLimit {
            per_second: 100_000,
            burst: 100_000,
        });
    let account = app.registered_fedex_account(&app.tenant_key, "Main").await;
    let bought: Vec<u16> = futures::stream::iter(0..FEDEX_LABELS)
        .map(|n| {
            let app = &app;
            let request = backhaul_tests::fedex::label_request_for(&account);
            async move {
                app.buy(&app.tenant_key, &format!("fedex-budget-{n}"), &request)
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(bought.iter().all(|status| *status == 201), "{bought:?}");
    let second = start_instance(
        &owner,
        &app.simulator.base_url,
        PluginOptions {
            ups_url: Some(app.ups.base_url.clone()),
            fedex_url: Some(app.fedex.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;
    for instance in [&app.instance, &second] {
        let mut settings = backhaul_tests::test_tracking(&instance.base_url);
        settings
            .calls_per_hour
            .insert("fedex".to_owned(), FEDEX_BUDGET);
        instance.state.set_tracking(settings);
    }

    let track_calls = || app.fedex_calls(fedex_sim::route::TRACK);
    let start = server::tracking::budget::hour_of(Utc::now()) + Duration::hours(1);
    let mut per_hour = Vec::new();
    for hour in 0..2 {
        let before = track_calls();
        for minute in (0..60).step_by(5) {
            let now = start + Duration::hours(hour) + Duration::minutes(minute);
            let (a, b) = tokio::join!(
                server::tracking::poll::poll_due(&app.instance.state, now),
                server::tracking::poll::poll_due(&second.state, now),
            );
            a.unwrap();
            b.unwrap();
        }
        per_hour.push(track_calls() - before);
    }
    println!(
        "FedEx track calls per hour for {FEDEX_LABELS} labels, budget {FEDEX_BUDGET}/h: {per_hour:?}"
    );
    assert_eq!(per_hour, [u64::from(FEDEX_BUDGET); 2]);
    let mut tx = app.instance.state.db().admin().await.unwrap();
    let recorded: Vec<(String, i32)> =
        sqlx::query_as("SELECT quota_app, calls FROM carrier_call_budgets ORDER BY hour")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let polled: i64 = sqlx::query_scalar("SELECT coalesce(sum(polls), 0) FROM tracking_jobs")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        recorded.iter().all(|(quota, _)| quota == "fedex:platform"),
        "{recorded:?}"
    );
    assert_eq!(
        recorded
            .iter()
            .map(|(_, calls)| i64::from(*calls))
            .sum::<i64>(),
        i64::from(FEDEX_BUDGET) * 2
    );
    // Each call carried a batch: more labels polled than calls made.
    assert!(polled > i64::from(FEDEX_BUDGET) * 2, "{polled} polls");
}
