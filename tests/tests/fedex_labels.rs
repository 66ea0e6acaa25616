//! FedEx return labels end to end against fedex-sim: print return labels in PDF, PNG and ZPL
//! whose barcode reads back (zbar) as the label's valid FedEx tracking number, the RMA carried
//! as FedEx's `rma.reason`; an email return label (a FedEx pending shipment with the expiry the
//! account's settings choose) that needs the customer's email; a void through FedEx's cancel,
//! and a void FedEx refuses once the parcel is scanned; a polled FedEx scan becoming one signed
//! `return_label.first_scan` webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::fedex::label_request_for;
use backhaul_tests::webhook::{Receiver, fast_delivery, register, start_workers};
use fedex_sim::{ScanKind, demo, route};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn buy(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = app.buy(&app.tenant_key, key, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn document(app: &TestApp, label: &Value) -> (String, Vec<u8>) {
    let response = app
        .get(&app.tenant_key, label["label_url"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.bytes().await.unwrap().to_vec())
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn print_return_labels_read_back_as_their_fedex_tracking_number(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.registered_fedex_account(&app.tenant_key, "Main").await;
    for (key, format, content_type) in [
        ("fx-pdf", "PDF", "application/pdf"),
        ("fx-png", "PNG", "image/png"),
        ("fx-zpl", "ZPL", "application/x-zpl"),
    ] {
        let mut body = label_request_for(&account);
        body["label_format"] = json!(format);
        let (status, label) = buy(&app, key, &body).await;
        assert_eq!(status, 201, "{label}");
        assert_eq!(label["carrier"], "fedex");
        assert_eq!(label["service"], "fedex_ground_return");
        assert_eq!(label["label_delivery"], "download");
        assert_eq!(label["reference"], "RMA-1001");
        let number = label["tracking_number"].as_str().unwrap();
        assert!(fedex_sim::is_valid_tracking_number(number), "{number}");
        assert_eq!(label["total"]["currency"], "USD");

        let entry = app.fedex_ledger().last().unwrap().clone();
        assert_eq!(entry.tracking_numbers, [number]);
        assert_eq!(entry.return_type, "PRINT_RETURN_LABEL");
        assert_eq!(entry.account_number, demo::ACCOUNT_NUMBER);
        assert_eq!(entry.rma_reason.as_deref(), Some("RMA-1001"));
        assert!(
            entry.child_key.is_some(),
            "bought with the registered child key"
        );
        let cents = entry.total_net_charge_cents;
        assert_eq!(
            label["total"]["amount"],
            format!("{}.{:02}", cents / 100, cents % 100)
        );

        let (served_type, bytes) = document(&app, &label).await;
        assert_eq!(served_type, content_type);
        match format {
            "PNG" if sim_kit::zbar::available() => {
                assert_eq!(
                    sim_kit::zbar::read(&bytes, "png", "code128").unwrap(),
                    number
                );
            }
            "PDF" => assert!(bytes.starts_with(b"%PDF-"), "a real PDF"),
            "ZPL" => {
                let zpl = String::from_utf8(bytes).unwrap();
                assert!(zpl.starts_with("^XA"), "{zpl}");
                assert!(zpl.contains(&format!("^FD{number}^FS")), "{zpl}");
            }
            _ => {}
        }
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_email_return_label_is_a_pending_shipment_expiring_when_the_account_says(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut details = backhaul_tests::fedex::details();
    details["email_label_days"] = json!(30);
    let account = app
        .create_fedex_account(&app.tenant_key, "Own app", json!({"details": details}))
        .await;
    let mut body = label_request_for(&account);
    body["label_delivery"] = json!("email");
    let (status, refused) = buy(&app, "fx-email-1", &body).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["details"][0]["field"], "notify.recipient_email",
        "{refused}"
    );
    assert!(app.fedex_ledger().is_empty(), "refused before FedEx");

    body["notify"] = json!({"recipient_name": "Jane Doe", "recipient_email": "jane@example.com"});
    let (status, label) = buy(&app, "fx-email-2", &body).await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(label["label_delivery"], "email");
    assert!(
        label["label_url"].is_null(),
        "FedEx emails the label: {label}"
    );
    let entry = app.fedex_ledger().last().unwrap().clone();
    assert_eq!(entry.return_type, "PENDING");
    assert_eq!(entry.image_type, None);
    assert_eq!(entry.email_recipients, ["jane@example.com"]);
    assert_eq!(entry.client_id, demo::OWN_APP_CLIENT_ID);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        entry.email_label_expires_on,
        Some(today + chrono::Days::new(30))
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_fedex_label_is_cancelled_at_fedex_until_the_parcel_is_scanned(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.registered_fedex_account(&app.tenant_key, "Main").await;
    let (_, first) = buy(&app, "fx-void-1", &label_request_for(&account)).await;
    let path = format!("/v1/return-labels/{}/void", first["id"].as_str().unwrap());
    let voided = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(voided.status(), 200);
    let voided: Value = voided.json().await.unwrap();
    assert_eq!(voided["status"], "voided");
    assert!(
        app.fedex_ledger()[0].cancelled_at.is_some(),
        "cancelled at FedEx"
    );
    let again = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(again.status(), 200, "a voided label stays voided");
    assert_eq!(
        app.fedex_calls(route::CANCEL),
        1,
        "and is not cancelled twice"
    );

    let (_, second) = buy(&app, "fx-void-2", &label_request_for(&account)).await;
    let number = second["tracking_number"].as_str().unwrap();
    app.fedex
        .simulator
        .scan(number, ScanKind::Accepted)
        .unwrap();
    let path = format!("/v1/return-labels/{}/void", second["id"].as_str().unwrap());
    let refused = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(refused.status(), 409);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "label_in_use", "{refused}");
    assert!(app.fedex_ledger()[1].cancelled_at.is_none());
    let events = app.audit_events("label.voided").await;
    assert_eq!(events.len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_polled_fedex_scan_is_one_signed_first_scan_webhook(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let endpoint = register(
        &app,
        &app.tenant_key,
        &receiver.url,
        json!(["return_label.first_scan", "return_label.delivered"]),
    )
    .await;
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let account = app.registered_fedex_account(&app.tenant_key, "Main").await;
    let (_, label) = buy(&app, "fx-track", &label_request_for(&account)).await;
    let id = label["id"].as_str().unwrap();
    let number = label["tracking_number"].as_str().unwrap();
    server::tracking::run_once(&app.instance.state).await;
    assert_eq!(app.label(id).await["status"], "created");

    // FedEx pushes nothing we can subscribe to: the scan arrives by polling, in a batch.
    let scanned = app
        .client
        .post(format!(
            "{}/__sim/tracking/{number}/events",
            app.fedex.base_url
        ))
        .json(&json!({"status": "accepted"}))
        .send()
        .await
        .unwrap();
    assert!(scanned.status().is_success(), "{}", scanned.status());
    let track_calls = app.fedex_calls(route::TRACK);
    server::tracking::run_once(&app.instance.state).await;
    assert_eq!(app.fedex_calls(route::TRACK), track_calls + 1, "one batch");
    let got = receiver
        .wait_until("the first scan", |got| !got.is_empty())
        .await;
    assert_eq!(got[0].json()["type"], "return_label.first_scan");
    assert_eq!(got[0].json()["data"]["id"], id);
    assert_eq!(got[0].json()["data"]["status"], "in_transit");
    let verified = backhaul_tests::webhook::verified_by_standardwebhooks(
        endpoint["secret"].as_str().unwrap(),
        &got,
    )
    .await;
    assert!(verified.iter().all(|ok| *ok), "{verified:?}");

    // Polled again: the same scan is no second first scan; the delivery follows.
    server::tracking::run_once(&app.instance.state).await;
    app.fedex
        .simulator
        .scan(number, ScanKind::Delivered)
        .unwrap();
    server::tracking::run_once(&app.instance.state).await;
    let got = receiver
        .wait_until("the delivery", |got| got.len() >= 2)
        .await;
    let first_scans = got
        .iter()
        .filter(|r| r.json()["type"] == "return_label.first_scan")
        .count();
    assert_eq!(first_scans, 1, "{got:#?}");
    assert_eq!(app.count_events(id, "return_label.first_scan").await, 1);
    let tracking: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/tracking"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tracking["status"], "delivered", "{tracking}");
}
