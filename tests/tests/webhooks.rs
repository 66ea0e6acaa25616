//! Webhooks to the returns SaaS over HTTP (API.md, "Webhooks to the returns SaaS (Standard
//! Webhooks)"): endpoints and their secrets, signed deliveries verified by the Standard
//! Webhooks reference library, retries, ordering, disabling, redelivery, rotation, the event
//! log, and tenant isolation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use accounts::{EventType, NewEvent};
use backhaul_tests::TestApp;
use backhaul_tests::webhook::{
    Answer, Receiver, fast_delivery, register, start_workers, verified_by_standardwebhooks,
};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Records `count` events about `subject` in one transaction of the tenant, as a change would.
async fn record_events(app: &TestApp, kind: EventType, subject: &str, count: usize) -> Vec<String> {
    let mut tx = app.instance.state.db().tenant(&app.tenant).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        let id = accounts::event::record(
            &mut tx,
            &NewEvent {
                tenant_id: &app.tenant,
                event_type: kind,
                subject_id: subject,
                data: json!({"id": subject, "n": n}),
            },
        )
        .await
        .unwrap();
        ids.push(id.to_string());
    }
    tx.commit().await.unwrap();
    ids
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let response = app
        .get(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Waits (bounded) until the endpoint's deliveries satisfy `done`.
async fn wait_for_deliveries(
    app: &TestApp,
    endpoint: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let found = deliveries(app, endpoint).await;
        if done(&found) {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {found:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_secret_is_shown_when_an_endpoint_is_created_and_never_again(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let created = register(
        &app,
        &app.tenant_key,
        "https://returns.example.com/hooks",
        json!(["*"]),
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(created["id"].as_str().unwrap().starts_with("we_"));
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["events"], json!(["*"]));
    let id = created["id"].as_str().unwrap();
    let read = app
        .get(&app.tenant_key, &format!("/v1/webhook-endpoints/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let listed = app
        .get(&app.tenant_key, "/v1/webhook-endpoints")
        .await
        .text()
        .await
        .unwrap();
    for answer in [&read, &listed] {
        assert!(answer.contains(id), "{answer}");
        assert!(!answer.contains("whsec_"), "{answer}");
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_unknown_event_type_is_refused_by_its_position(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let response = app
        .post(
            &app.tenant_key,
            "/v1/webhook-endpoints",
            &json!({"url": "https://returns.example.com/hooks",
                    "events": ["return_label.first_scan", "return_label.lost"]}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "events[1]");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_test_event_arrives_signed_so_that_standardwebhooks_verifies_it(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(
        &app,
        &app.tenant_key,
        &receiver.url,
        json!(["return_label.first_scan"]),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let _workers = start_workers(&app.instance.state, fast_delivery());

    let sent = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/test"),
            &json!({}),
        )
        .await;
    assert_eq!(sent.status(), 202);
    let event_id = sent.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let accepted = receiver
        .wait_until("the test event", |got| !got.is_empty())
        .await;

    let delivery = &accepted[0];
    assert_eq!(delivery.id, event_id);
    assert_eq!(delivery.content_type, "application/json");
    let body = delivery.json();
    assert_eq!(body["id"], event_id.as_str());
    assert_eq!(body["type"], "webhook.test");
    assert!(body["timestamp"].as_str().is_some());
    assert_eq!(body["data"]["webhook_endpoint_id"], id);
    let secret = endpoint["secret"].as_str().unwrap();
    assert_eq!(
        verified_by_standardwebhooks(secret, &accepted).await,
        vec![true]
    );
    // A forged body does not verify with the same headers.
    let mut forged = delivery.clone();
    forged.body = forged.body.replace("webhook.test", "webhook.tset");
    assert_eq!(
        verified_by_standardwebhooks(secret, &[forged]).await,
        vec![false]
    );

    let log = wait_for_deliveries(&app, id, "the success in the log", |found| {
        found.first().is_some_and(|d| d["state"] == "succeeded")
    })
    .await;
    assert_eq!(log[0]["event_id"], event_id.as_str());
    assert_eq!(log[0]["status_code"], 204);
    assert!(log[0]["duration_ms"].as_i64().is_some());
    let event = app
        .get(&app.tenant_key, &format!("/v1/events/{event_id}"))
        .await;
    assert_eq!(event.status(), 200);
    assert_eq!(event.json::<Value>().await.unwrap()["type"], "webhook.test");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_event_goes_to_every_enabled_endpoint_subscribed_to_its_type(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receivers = [
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ];
    register(
        &app,
        &app.tenant_key,
        &receivers[0].url,
        json!(["return_label.first_scan"]),
    )
    .await;
    register(&app, &app.tenant_key, &receivers[1].url, json!(["*"])).await;
    register(
        &app,
        &app.tenant_key,
        &receivers[2].url,
        json!(["return_label.delivered"]),
    )
    .await;
    let _workers = start_workers(&app.instance.state, fast_delivery());

    let ids = record_events(
        &app,
        EventType::LabelFirstScan,
        "lbl_00000000000000000001",
        1,
    )
    .await;
    for receiver in &receivers[..2] {
        let got = receiver
            .wait_until("the first scan", |got| !got.is_empty())
            .await;
        assert_eq!(got[0].id, ids[0]);
        assert_eq!(got[0].json()["type"], "return_label.first_scan");
    }
    let events: Value = app
        .get(&app.tenant_key, "/v1/events?type=return_label.first_scan")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["data"][0]["id"], ids[0].as_str());
    // The third endpoint was queued nothing: a later event of its type is the first it gets.
    let later = record_events(
        &app,
        EventType::LabelDelivered,
        "lbl_00000000000000000001",
        1,
    )
    .await;
    let got = receivers[2]
        .wait_until("the delivery", |got| !got.is_empty())
        .await;
    assert_eq!(got.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), later);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_receiver_that_answers_503_then_times_out_is_retried_until_it_recovers(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    receiver.answer(Answer::Unavailable);
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let ids = record_events(
        &app,
        EventType::LabelFirstScan,
        "lbl_00000000000000000002",
        1,
    )
    .await;

    wait_for_deliveries(&app, id, "three 503s", |found| {
        found[0]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status_code"] == 503)
            .count()
            >= 3
    })
    .await;
    receiver.answer(Answer::Hang);
    wait_for_deliveries(&app, id, "two timeouts", |found| {
        found[0]["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["error"] == "timed out")
            .count()
            >= 2
    })
    .await;
    receiver.answer(Answer::Ok);
    let accepted = receiver
        .wait_until("the recovery", |got| !got.is_empty())
        .await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].id, ids[0]);

    let log = wait_for_deliveries(&app, id, "the success", |found| {
        found[0]["state"] == "succeeded"
    })
    .await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 6, "{attempts:#?}");
    assert!(attempts[0]["status_code"] == 204 && attempts[0]["error"].is_null());
    // Every failure says what it was, in a few words.
    for attempt in &attempts[1..] {
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.starts_with("HTTP 503") || error == "timed out",
            "{error}"
        );
    }
    // Every attempt was signed the same way: the receiver's copies all verify.
    let secret = endpoint["secret"].as_str().unwrap();
    let received = receiver.received().await;
    assert!(
        verified_by_standardwebhooks(secret, &received)
            .await
            .iter()
            .all(|ok| *ok)
    );
    assert!(received.iter().all(|r| r.id == ids[0]));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_events_of_one_label_arrive_in_the_order_they_were_recorded(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    receiver.answer(Answer::Unavailable);
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let mut expected = Vec::new();
    for _ in 0..4 {
        expected.extend(
            record_events(
                &app,
                EventType::LabelTrackingUpdated,
                "lbl_00000000000000000003",
                2,
            )
            .await,
        );
    }
    receiver.wait_until_received(3).await;
    receiver.answer(Answer::Ok);
    let accepted = receiver
        .wait_until("every event", |got| got.len() >= expected.len())
        .await;
    let order: Vec<String> = accepted.iter().map(|r| r.id.clone()).collect();
    assert_eq!(order, expected);
    // No event was sent before every earlier one was delivered, retries included.
    let sent: Vec<usize> = receiver
        .received()
        .await
        .iter()
        .map(|r| expected.iter().position(|id| *id == r.id).unwrap())
        .collect();
    assert!(sent.windows(2).all(|pair| pair[0] <= pair[1]), "{sent:?}");
    assert!(sent.iter().filter(|index| **index == 0).count() >= 3);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_endpoint_that_fails_for_the_whole_retry_window_is_disabled_until_re_enabled(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    receiver.answer(Answer::Unavailable);
    let mut settings = fast_delivery();
    settings.retry_window = Duration::from_millis(300);
    let _workers = start_workers(&app.instance.state, settings);
    record_events(
        &app,
        EventType::LabelFirstScan,
        "lbl_00000000000000000004",
        1,
    )
    .await;

    let log = wait_for_deliveries(&app, id, "the failure", |found| {
        found[0]["state"] == "failed"
    })
    .await;
    let read: Value = app
        .get(&app.tenant_key, &format!("/v1/webhook-endpoints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "disabled");
    let reason = read["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("every delivery attempt failed") && reason.contains("HTTP 503"),
        "{reason}"
    );

    receiver.answer(Answer::Ok);
    let enabled = app
        .patch(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}"),
            &json!({"status": "enabled"}),
        )
        .await;
    assert_eq!(enabled.status(), 200);
    let enabled: Value = enabled.json().await.unwrap();
    assert_eq!(enabled["status"], "enabled");
    assert!(enabled["disabled_reason"].is_null());
    let delivery = log[0]["id"].as_str().unwrap();
    let again = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/deliveries/{delivery}/redeliver"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), 202);
    let accepted = receiver
        .wait_until("the redelivery", |got| !got.is_empty())
        .await;
    assert_eq!(accepted[0].id, log[0]["event_id"].as_str().unwrap());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn after_a_rotation_both_secrets_sign_during_the_grace_period_and_only_the_new_after(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner.clone()).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let old = endpoint["secret"].as_str().unwrap();
    let rotated = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(old, new);
    assert!(rotated["previous_secret_expires_at"].is_string());
    let _workers = start_workers(&app.instance.state, fast_delivery());

    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    let during = receiver
        .wait_until("a delivery in the grace period", |got| got.len() == 1)
        .await;
    assert_eq!(during[0].signature.split(' ').count(), 2);
    assert_eq!(verified_by_standardwebhooks(old, &during).await, vec![true]);
    assert_eq!(verified_by_standardwebhooks(new, &during).await, vec![true]);

    // The grace period ends (the clock moved on).
    sqlx::query("UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(id)
        .execute(&owner)
        .await
        .unwrap();
    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    let after = receiver
        .wait_until("a delivery after the grace period", |got| got.len() == 2)
        .await;
    let last = &after[1..];
    assert_eq!(last[0].signature.split(' ').count(), 1);
    assert_eq!(verified_by_standardwebhooks(new, last).await, vec![true]);
    assert_eq!(verified_by_standardwebhooks(old, last).await, vec![false]);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenant_cannot_see_or_touch_an_endpoint_its_deliveries_or_events(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let event = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/test"),
            &json!({}),
        )
        .await;
    let event_id = event.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delivery = deliveries(&app, id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other) = app.other_tenant("Other Returns").await;

    for (method, path) in [
        ("GET", format!("/v1/webhook-endpoints/{id}")),
        ("PATCH", format!("/v1/webhook-endpoints/{id}")),
        ("DELETE", format!("/v1/webhook-endpoints/{id}")),
        ("POST", format!("/v1/webhook-endpoints/{id}/rotate-secret")),
        ("POST", format!("/v1/webhook-endpoints/{id}/test")),
        ("GET", format!("/v1/webhook-endpoints/{id}/deliveries")),
        (
            "POST",
            format!("/v1/webhook-endpoints/{id}/deliveries/{delivery}/redeliver"),
        ),
        ("GET", format!("/v1/events/{event_id}")),
    ] {
        let response = match method {
            "GET" => app.get(&other, &path).await,
            "PATCH" => {
                app.patch(&other, &path, &json!({"description": "mine now"}))
                    .await
            }
            "DELETE" => app.delete(&other, &path).await,
            _ => app.post(&other, &path, &json!({})).await,
        };
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let listed: Value = app
        .get(&other, "/v1/webhook-endpoints")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
    let events: Value = app.get(&other, "/v1/events").await.json().await.unwrap();
    assert_eq!(events["data"], json!([]));
    // And the endpoint is as it was.
    let read: Value = app
        .get(&app.tenant_key, &format!("/v1/webhook-endpoints/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["description"], "the test receiver");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_secret_is_stored_sealed_and_never_in_the_audit_trail(owner: PgPool) {
    let app = TestApp::spawn(owner.clone()).await;
    let endpoint = register(
        &app,
        &app.tenant_key,
        "https://returns.example.com/hooks",
        json!(["*"]),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let rotated: Value = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    for secret in [
        endpoint["secret"].as_str().unwrap(),
        rotated["secret"].as_str().unwrap(),
    ] {
        let encoded = secret.strip_prefix("whsec_").unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded).unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT row_to_json(t)::text FROM webhook_endpoints t
             UNION ALL SELECT row_to_json(a)::text FROM audit_events a",
        )
        .fetch_all(&owner)
        .await
        .unwrap();
        let hex_bytes = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        for row in rows {
            assert!(
                !row.contains(encoded) && !row.contains("whsec_") && !row.contains(&hex_bytes),
                "{row}"
            );
        }
    }
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE target = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.created",
            "webhook_endpoint.secret_rotated"
        ]
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_metrics_count_attempts_by_outcome_and_the_outbox_backlog(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let metrics = |app: &TestApp| {
        let url = app.url("/metrics");
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    record_events(&app, EventType::LabelCreated, "lbl_00000000000000000005", 3).await;
    let waiting = metrics(&app).await;
    assert!(
        waiting.contains("backhaul_webhook_outbox_depth 3"),
        "{waiting}"
    );
    assert!(
        waiting.contains("backhaul_webhook_outbox_oldest_age_seconds "),
        "{waiting}"
    );

    receiver.answer(Answer::Unavailable);
    let _workers = start_workers(&app.instance.state, fast_delivery());
    receiver.wait_until_received(1).await;
    receiver.answer(Answer::Ok);
    wait_for_deliveries(&app, id, "every delivery", |found| {
        found.len() == 3 && found.iter().all(|d| d["state"] == "succeeded")
    })
    .await;
    let done = metrics(&app).await;
    assert!(done.contains("backhaul_webhook_outbox_depth 0"), "{done}");
    assert!(
        done.contains("backhaul_webhook_deliveries_total{outcome=\"succeeded\"} 3"),
        "{done}"
    );
    assert!(
        done.contains("backhaul_webhook_deliveries_total{outcome=\"failed_attempt\"}"),
        "{done}"
    );
    assert!(
        done.contains("backhaul_webhook_attempt_duration_seconds_count"),
        "{done}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_delivery_whose_worker_died_after_claiming_it_is_sent_once_its_lease_ends(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let ids = record_events(
        &app,
        EventType::LabelFirstScan,
        "lbl_00000000000000000006",
        1,
    )
    .await;
    // A worker claims it and dies before recording anything (as if after its POST).
    let lease = Duration::from_millis(500);
    let claimed = app
        .instance
        .state
        .webhooks()
        .claim(10, lease)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event_id, ids[0]);
    let claimed_at = tokio::time::Instant::now();
    // During the lease no other worker gets it.
    let during = app
        .instance
        .state
        .webhooks()
        .claim(10, lease)
        .await
        .unwrap();
    assert!(during.is_empty() || claimed_at.elapsed() >= lease);

    let _workers = start_workers(&app.instance.state, fast_delivery());
    let got = receiver
        .wait_until("the delivery after the lease", |got| !got.is_empty())
        .await;
    assert!(claimed_at.elapsed() >= lease, "sent before the lease ended");
    assert_eq!(got[0].id, ids[0]);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_redirect_is_a_failed_attempt_and_is_never_followed(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    receiver.answer(Answer::Redirect);
    let _workers = start_workers(&app.instance.state, fast_delivery());
    record_events(&app, EventType::LabelVoided, "lbl_00000000000000000007", 1).await;

    let log = wait_for_deliveries(&app, id, "two redirected attempts", |found| {
        found[0]["attempts"].as_array().unwrap().len() >= 2
    })
    .await;
    assert_eq!(log[0]["state"], "pending");
    for attempt in log[0]["attempts"].as_array().unwrap() {
        assert_eq!(attempt["status_code"], 307);
        assert_eq!(attempt["error"], "HTTP 307 (redirects are not followed)");
    }
    // Every request went to the registered URL, none to where the redirect pointed.
    assert_eq!(receiver.redirected(), 0);
    assert!(receiver.received().await.len() >= 2);
}
