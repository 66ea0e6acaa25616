//! UPS return labels through the HTTP API: a real server, real Postgres, the strict UPS
//! simulator. An own-app account, Print Return Labels in PDF and ZPL, an Electronic Return
//! Label, the refusals UPS never sees, voids, one key under 64 concurrent requests, and what a
//! UPS failure after the Ship request left does to the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use backhaul_tests::TestApp;
use backhaul_tests::ups::label_request;
use serde_json::{Value, json};
use sqlx::PgPool;
use ups_sim::{Fault, FaultRule, demo, route};

/// Asserts `bytes` is a well-formed PDF: the header, a one-page catalog holding an image, and a
/// trailer whose `startxref` offset points at the cross-reference table.
fn assert_real_pdf(bytes: &[u8]) {
    assert!(bytes.starts_with(b"%PDF-1."), "a PDF header");
    let text = String::from_utf8_lossy(bytes);
    for object in ["/Type /Catalog", "/Type /Page ", "/Subtype /Image"] {
        assert!(text.contains(object), "the PDF has {object}");
    }
    let tail = text
        .trim_end()
        .strip_suffix("%%EOF")
        .expect("ends with %%EOF");
    let offset: usize = tail
        .trim_end()
        .rsplit_once("startxref")
        .map(|(_, offset)| offset.trim().parse().unwrap())
        .expect("a startxref");
    assert!(
        bytes[offset..].starts_with(b"xref"),
        "startxref points at the xref table"
    );
}

/// The error's first detail field.
fn first_field(error: &Value) -> &Value {
    &error["error"]["details"][0]["field"]
}

/// `POST /v1/return-labels`: the status and the JSON answer.
async fn buy(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = app.buy(&app.tenant_key, key, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The phase the server keeps for `key`.
async fn key_phase(app: &TestApp, key: &str) -> Option<String> {
    sqlx::query_scalar("SELECT phase FROM idempotency_keys WHERE key = $1")
        .bind(key)
        .fetch_optional(&app.owner)
        .await
        .unwrap()
}

async fn stored_labels(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM return_labels")
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_own_app_ups_account_is_active_and_never_shows_its_secret(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    assert_eq!(account["carrier"], "ups");
    assert_eq!(account["status"], "active");
    assert_eq!(account["details"]["account_number"], demo::SHIPPER_NUMBER);
    assert_eq!(account["details"]["return_address"]["state"], "MO");
    assert_eq!(account["credentials"]["mode"], "own_app");
    assert_eq!(account["credentials"]["client_id"], demo::CLIENT_ID);
    assert!(
        account["credentials"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let read = app
        .get(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap()),
        )
        .await
        .text()
        .await
        .unwrap();
    let listed = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .text()
        .await
        .unwrap();
    let admin = app
        .get(&app.admin_key, "/v1/admin/shipper-accounts?carrier=ups")
        .await
        .text()
        .await
        .unwrap();
    for shown in [account.to_string(), read, listed, admin] {
        assert!(shown.contains(account["id"].as_str().unwrap()), "{shown}");
        assert!(!shown.contains(demo::CLIENT_SECRET), "{shown}");
        assert!(!shown.contains("client_secret"), "{shown}");
    }
    assert_eq!(
        app.ups_calls(route::TOKEN),
        0,
        "creating an account calls no one"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn print_return_labels_come_as_a_real_pdf_and_as_zpl_with_a_valid_1z_number(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    for (key, format, content_type) in [
        ("rma-pdf", "PDF", "application/pdf"),
        ("rma-zpl", "ZPL", "application/x-zpl"),
    ] {
        let mut body = label_request();
        body["label_format"] = json!(format);
        let (status, label) = buy(&app, key, &body).await;
        assert_eq!(status, 201, "{label}");
        assert_eq!(label["carrier"], "ups");
        assert_eq!(label["service"], "ups_ground_return");
        assert_eq!(label["status"], "created");
        assert_eq!(label["label_delivery"], "download");
        assert_eq!(label["label_format"], format);
        assert_eq!(label["shipper_account_id"], account["id"]);
        assert_eq!(label["selected_by"], "only");
        assert_eq!(label["reference"], "RMA-1001");
        let tracking = label["tracking_number"].as_str().unwrap();
        assert!(ups_sim::is_valid_1z(tracking), "{tracking}");

        let ledger = app.ups_ledger();
        let entry = ledger.last().unwrap();
        assert_eq!(entry.tracking_numbers, [tracking]);
        assert_eq!(entry.shipper_number, demo::SHIPPER_NUMBER);
        assert_eq!(entry.client_id, demo::CLIENT_ID);
        assert_eq!(
            entry.return_service.as_deref(),
            Some("9"),
            "Print Return Label"
        );
        assert_eq!(entry.voided_at, None);
        let charges = entry.total_charges_cents;
        let amount =
            json!({"amount": format!("{}.{:02}", charges / 100, charges % 100), "currency": "USD"});
        assert_eq!(
            label["postage"], amount,
            "a Print Return Label is transportation alone"
        );
        assert_eq!(label["fees"], json!([]));
        assert_eq!(label["total"], amount, "the total is UPS's total charges");

        let document = app
            .get(&app.tenant_key, label["label_url"].as_str().unwrap())
            .await;
        assert_eq!(document.status(), 200);
        assert_eq!(document.headers()["content-type"], content_type);
        let bytes = document.bytes().await.unwrap();
        if format == "PDF" {
            assert_eq!(
                entry.label_format.as_deref(),
                Some("GIF"),
                "made from UPS's GIF"
            );
            assert_real_pdf(&bytes);
        } else {
            assert_eq!(entry.label_format.as_deref(), Some("ZPL"));
            assert!(bytes.starts_with(b"^XA"), "a ZPL label");
            assert!(String::from_utf8_lossy(&bytes).trim_end().ends_with("^XZ"));
        }
    }
    assert_eq!(app.ups_ledger().len(), 2, "one shipment per label");
    assert_eq!(app.ups_calls(route::SHIP), 2);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_electronic_return_label_is_emailed_by_ups_and_needs_the_recipients_email(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    let mut body = label_request();
    body["label_delivery"] = json!("email");

    let (status, error) = buy(&app, "erl-1", &body).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "validation_failed");
    assert_eq!(*first_field(&error), "notify.recipient_email", "{error}");
    assert!(app.ups_ledger().is_empty());
    assert_eq!(app.ups_calls(route::SHIP), 0);

    body["notify"] = json!({"recipient_name": "Jane Doe", "recipient_email": "jane@example.com"});
    let (status, label) = buy(&app, "erl-1", &body).await;
    assert_eq!(
        status, 201,
        "the corrected request may reuse the key: {label}"
    );
    assert_eq!(label["carrier"], "ups");
    assert_eq!(label["status"], "created");
    assert_eq!(label["label_delivery"], "email");
    assert_eq!(
        label["label_url"],
        Value::Null,
        "UPS emails the label itself"
    );
    let ledger = app.ups_ledger();
    assert_eq!(ledger.len(), 1);
    // The simulator bills an Electronic Return Label's accessorial as service options.
    let total = ledger[0].total_charges_cents;
    let transportation = total - 150;
    let dollars = |cents: u64| format!("{}.{:02}", cents / 100, cents % 100);
    assert_eq!(
        label["postage"],
        json!({"amount": dollars(transportation), "currency": "USD"})
    );
    assert_eq!(
        label["fees"],
        json!([{"code": "ServiceOptionsCharges", "name": "Service options",
                "amount": {"amount": "1.50", "currency": "USD"}}])
    );
    assert_eq!(
        label["total"],
        json!({"amount": dollars(total), "currency": "USD"})
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
    assert_eq!(
        (&shown["postage"], &shown["fees"], &shown["total"]),
        (&label["postage"], &label["fees"], &label["total"])
    );
    assert_eq!(
        ledger[0].return_service.as_deref(),
        Some("8"),
        "Electronic Return Label"
    );
    assert_eq!(ledger[0].label_format, None);
    assert_eq!(
        ledger[0].tracking_numbers,
        [label["tracking_number"].as_str().unwrap()]
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_qr_code_or_a_customer_outside_the_us_is_refused_by_field_before_any_ups_call(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    let mut qr_code = label_request();
    qr_code["label_delivery"] = json!("qr_code");
    let mut canadian = label_request();
    canadian["from_address"] = json!({
        "first_name": "Jean", "last_name": "Tremblay", "street1": "80 Wellington St",
        "city": "Ottawa", "state": "ON", "postal_code": "K1A 0B1", "country": "CA",
    });
    for (key, body, field) in [
        ("qr", &qr_code, "label_delivery"),
        ("ca", &canadian, "from_address.country"),
    ] {
        let (status, error) = buy(&app, key, body).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        let fields: Vec<&Value> = error["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|detail| &detail["field"])
            .collect();
        assert_eq!(fields, [field], "{error}");
        assert_eq!(
            key_phase(&app, key).await,
            None,
            "nothing executed: the key is not kept"
        );
    }
    assert!(app.ups_ledger().is_empty());
    assert_eq!(app.ups_calls(route::SHIP), 0);
    assert_eq!(app.ups_calls(route::TOKEN), 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_label_is_voided_at_ups_once_audited_and_another_tenant_cannot_void_it(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    let (status, label) = buy(&app, "void-me", &label_request()).await;
    assert_eq!(status, 201, "{label}");
    let id = label["id"].as_str().unwrap();
    let path = format!("/v1/return-labels/{id}/void");

    let (_, intruder) = app.other_tenant("Globex").await;
    let refused = app.post(&intruder, &path, &json!(null)).await;
    assert_eq!(refused.status(), 404);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "not_found");
    assert_eq!(app.ups_calls(route::VOID), 0);
    assert_eq!(app.ups_ledger()[0].voided_at, None);

    let voided = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(voided.status(), 200);
    let voided: Value = voided.json().await.unwrap();
    assert_eq!(voided["id"], id);
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["tracking_number"], label["tracking_number"]);
    assert!(app.ups_ledger()[0].voided_at.is_some(), "voided at UPS");
    assert_eq!(app.ups_calls(route::VOID), 1);

    let again = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], "voided");
    assert_eq!(
        app.ups_calls(route::VOID),
        1,
        "a voided label is not voided twice"
    );
    let read: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "voided");

    let events = app.audit_events("label.voided").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target"], id);
    assert_eq!(events[0]["tenant_id"], app.tenant.as_str());
    assert_eq!(
        events[0]["summary"]["tracking_number"],
        label["tracking_number"]
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn sixty_four_concurrent_ups_purchases_with_one_key_buy_one_label(owner: PgPool) {
    let app = Arc::new(TestApp::spawn(owner).await);
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    app.ups.simulator.inject(FaultRule {
        route: route::SHIP.to_owned(),
        fault: Fault::Latency { ms: 300 },
        times: None,
        probability: None,
    });
    let body = label_request();
    let requests = (0..64).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        async move { buy(&app, "one-key", &body).await }
    });
    let outcomes = futures::future::join_all(requests).await;
    let successes: Vec<&Value> = outcomes
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body)
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
    let ledger = app.ups_ledger();
    assert_eq!(ledger.len(), 1, "exactly one label at UPS");
    assert_eq!(
        ledger[0].tracking_numbers,
        [successes[0]["tracking_number"].as_str().unwrap()]
    );
    assert_eq!(app.ups_calls(route::SHIP), 1);
}

/// Buys with `fault` armed once on UPS Ship, then retries with the same key. The first answer
/// is the documented one for a failure after the request may have left: 504
/// `carrier_unavailable` with `Retry-After`, the key kept `outcome_unknown`, no label stored.
///
/// UPS takes no idempotency key and its spec does not say an unused return shipment is free
/// (`Capabilities::resend_after_unknown_outcome` is false), so the retry with the same key is
/// **not sent again** (`crates/server/src/label.rs`): 409 `label_outcome_unknown`, no Ship call,
/// the key still `outcome_unknown` — a second label is never bought by accident. A new key buys
/// one, deliberately.
///
/// Returns the ledger entries recorded by the first attempt.
async fn failed_then_retried(app: &TestApp, fault: Fault) -> usize {
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    app.ups.simulator.inject(FaultRule {
        route: route::SHIP.to_owned(),
        fault,
        times: Some(1),
        probability: None,
    });
    let body = label_request();
    let first = app.buy(&app.tenant_key, "rma-unknown", &body).await;
    assert_eq!(first.status(), 504);
    let retry_after = first
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["error"]["code"], "carrier_unavailable", "{first}");
    let retry_after: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        app.ups_calls(route::SHIP),
        1,
        "the plugin did not resend by itself"
    );
    assert_eq!(
        key_phase(app, "rma-unknown").await.as_deref(),
        Some("outcome_unknown")
    );
    assert_eq!(stored_labels(app).await, 0);
    let recorded = app.ups_ledger().len();

    for _ in 0..2 {
        let (status, answer) = buy(app, "rma-unknown", &body).await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "label_outcome_unknown", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("new Idempotency-Key"), "{message}");
    }
    assert_eq!(app.ups_calls(route::SHIP), 1, "the retries sent nothing");
    assert_eq!(app.ups_ledger().len(), recorded);
    assert_eq!(stored_labels(app).await, 0);
    assert_eq!(
        key_phase(app, "rma-unknown").await.as_deref(),
        Some("outcome_unknown")
    );

    let (status, label) = buy(app, "rma-unknown-again", &body).await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(app.ups_calls(route::SHIP), 2, "a new key buys once");
    assert_eq!(app.ups_ledger().len(), recorded + 1);
    recorded
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_reset_after_ups_recorded_the_label_keeps_the_key_and_the_retry_sends_nothing(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let recorded = failed_then_retried(&app, Fault::ResetAfterCommit).await;
    assert_eq!(recorded, 1, "UPS had made the shipment before the reset");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_truncated_reply_after_ups_recorded_the_label_keeps_the_key_and_the_retry_sends_nothing(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let recorded = failed_then_retried(&app, Fault::Malformed).await;
    assert_eq!(
        recorded, 1,
        "UPS had made the shipment before the reply broke"
    );
}

/// ups-sim's `status` fault answers without handling the request (fault.rs), so nothing is
/// recorded; the plugin cannot know that (Shipping.yaml lists no 5xx for Ship) and treats every
/// 5xx on Ship as an unknown outcome.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_500_keeps_the_key_as_an_unknown_outcome_and_the_retry_sends_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let recorded = failed_then_retried(&app, Fault::Status { status: 500 }).await;
    assert_eq!(recorded, 0, "ups-sim made no shipment for its 500");
}
