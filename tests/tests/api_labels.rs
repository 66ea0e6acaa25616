//! Return labels through the HTTP API: a real server, real Postgres, the USPS simulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_creates_an_account_buys_a_label_and_downloads_the_pdf(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", serde_json::json!({}))
        .await;
    assert_eq!(account["status"], "active");
    assert_eq!(account["details"]["eps_account_number"], "******4321");
    assert!(account["credentials"].get("client_secret").is_none());

    let response = app
        .buy(
            &app.tenant_key,
            "rma-1001",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(response.status(), 201);
    let label: Value = response.json().await.unwrap();
    assert_eq!(label["selected_by"], "only");
    assert_eq!(label["shipper_account_id"], account["id"]);
    assert_eq!(label["postage"]["currency"], "USD");
    assert_eq!(app.simulator.simulator.ledger().len(), 1);

    let pdf = app
        .get(&app.tenant_key, label["label_url"].as_str().unwrap())
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_same_key_and_body_replay_the_stored_response_without_a_carrier_call(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", serde_json::json!({}))
        .await;
    let body = label_request("usps_priority_mail_return");
    let first = app.buy(&app.tenant_key, "order-7", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let calls = app
        .simulator
        .simulator
        .counters()
        .route(usps_sim::route::RETURN_LABEL)
        .calls;
    let second = app.buy(&app.tenant_key, "order-7", &body).await;
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .route(usps_sim::route::RETURN_LABEL)
            .calls,
        calls
    );
    assert_eq!(app.simulator.simulator.ledger().len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_same_key_with_another_body_is_refused(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", serde_json::json!({}))
        .await;
    assert_eq!(
        app.buy(
            &app.tenant_key,
            "order-8",
            &label_request("usps_priority_mail_return")
        )
        .await
        .status(),
        201
    );
    let reused = app
        .buy(
            &app.tenant_key,
            "order-8",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(reused.status(), 422);
    let error: Value = reused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.simulator.simulator.ledger().len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn sixty_four_concurrent_requests_with_one_key_buy_one_label(owner: PgPool) {
    let app = std::sync::Arc::new(TestApp::spawn(owner).await);
    app.create_v3_account(&app.tenant_key, "East", serde_json::json!({}))
        .await;
    app.simulator.simulator.inject(usps_sim::FaultRule {
        route: usps_sim::route::RETURN_LABEL.to_owned(),
        fault: usps_sim::Fault::Latency { ms: 300 },
        times: None,
        probability: None,
    });
    let body = label_request("usps_ground_advantage_return");
    let requests = (0..64).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        async move {
            let response = app.buy(&app.tenant_key, "one-key", &body).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let outcomes = futures::future::join_all(requests).await;
    let successes: Vec<&Value> = outcomes
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert!(!successes.is_empty());
    assert!(
        successes.iter().all(|body| *body == successes[0]),
        "identical bodies"
    );
    for (status, body) in &outcomes {
        assert!(
            *status == 201 || (*status == 409 && body["error"]["code"] == "idempotency_key_in_use"),
            "{status} {body}"
        );
    }
    assert_eq!(
        app.simulator.simulator.ledger().len(),
        1,
        "exactly one label at USPS"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_purchase_reports_the_carriers_share_of_its_latency(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", serde_json::json!({}))
        .await;
    let bought = app
        .buy(
            &app.tenant_key,
            "timed",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    let timing = bought.headers()["server-timing"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(timing.starts_with("carrier;dur="), "{timing}");
    let replayed = app
        .buy(
            &app.tenant_key,
            "timed",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert!(
        replayed.headers().get("server-timing").is_none(),
        "a replay calls no carrier"
    );
}

/// A parcel longer than 22 in costs the simulator's "Nonstandard Length fee > 22 in." in the v3
/// reply's `fees`: the answer, `GET`, the list and the `return_label.created` event all say
/// the postage (the ledger's), that fee by its SKU, and their sum.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_long_parcel_pays_the_nonstandard_length_fee_on_top_of_its_postage(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut body = label_request("usps_ground_advantage_return");
    body["parcel"]["length_in"] = json!(24);
    let response = app.buy(&app.tenant_key, "long-1", &body).await;
    assert_eq!(response.status(), 201);
    let label: Value = response.json().await.unwrap();
    let postage = app.simulator.simulator.ledger()[0].postage_cents;
    let dollars = |cents: u64| format!("{}.{:02}", cents / 100, cents % 100);
    assert_eq!(
        label["postage"],
        json!({"amount": dollars(postage), "currency": "USD"})
    );
    assert_eq!(
        label["fees"],
        json!([{"code": "DXNXXXXXXXX2200", "name": "Nonstandard Length fee > 22 in.",
                "amount": {"amount": "4.00", "currency": "USD"}}])
    );
    assert_eq!(
        label["total"],
        json!({"amount": dollars(postage + 400), "currency": "USD"})
    );

    let id = label["id"].as_str().unwrap();
    let shown: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let listed: Value = app
        .get(&app.tenant_key, "/v1/return-labels")
        .await
        .json()
        .await
        .unwrap();
    let events: Value = app
        .get(&app.tenant_key, "/v1/events?type=return_label.created")
        .await
        .json()
        .await
        .unwrap();
    for stored in [&shown, &listed["data"][0], &events["data"][0]["data"]] {
        assert_eq!(stored["id"], id);
        for charge in ["postage", "fees", "total"] {
            assert_eq!(stored[charge], label[charge], "{charge}");
        }
    }
}

/// A label stored before fees and totals were (migration 0014 leaves `total_minor` NULL):
/// no fees, and its postage is its total.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_label_stored_before_charges_were_reads_its_postage_as_its_total(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let id = "lbl_0000000000000000old1";
    sqlx::query(
        "INSERT INTO return_labels (id, tenant_id, shipper_account_id, carrier, service, selected_by,
             tracking_number, postage_minor, currency, label_format, idempotency_key)
         VALUES ($1, $2, $3, 'usps', 'usps_ground_advantage_return', 'only',
                 '9302012345600000007248', 844, 'USD', 'PDF', 'before-0014')",
    )
    .bind(id)
    .bind(app.tenant.as_str())
    .bind(account["id"].as_str().unwrap())
    .execute(&app.owner)
    .await
    .unwrap();
    let shown = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await;
    assert_eq!(shown.status(), 200);
    let shown: Value = shown.json().await.unwrap();
    let amount = json!({"amount": "8.44", "currency": "USD"});
    assert_eq!(shown["postage"], amount);
    assert_eq!(shown["fees"], json!([]));
    assert_eq!(shown["total"], amount);
}
