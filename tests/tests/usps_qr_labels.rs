//! Printerless USPS return labels (`label_delivery: qr_code`, USPS Label Broker) through the
//! HTTP API: a real server, real Postgres, the USPS simulator. The QR code and its Label Broker
//! ID in the answer, the PNG at its URL read back by a barcode reader, the printable PDF when a
//! format is named, the same answer on a replay, the console's label page, and the refusals:
//! a destination Label Broker cannot serve, Label Broker down, Web Tools and UPS accounts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request, v3_account, webtools_account};
use serde_json::{Value, json};
use sqlx::PgPool;

/// A QR code request: the API example without a `label_format` (the code alone).
fn qr_request() -> Value {
    let mut body = label_request("usps_ground_advantage_return");
    body.as_object_mut().unwrap().remove("label_format");
    body["label_delivery"] = json!("qr_code");
    body
}

async fn buy(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = app.buy(&app.tenant_key, key, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_qr_code_label_answers_its_label_broker_id_and_a_png_that_reads_as_it(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let (status, label) = buy(&app, "qr-1", &qr_request()).await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(label["label_delivery"], "qr_code");
    let id = label["id"].as_str().unwrap();
    let broker_id = label["qr_code"]["label_broker_id"].as_str().unwrap();
    assert!(
        !broker_id.is_empty() && broker_id.len() <= 10,
        "{broker_id}"
    );
    let url = format!("/v1/return-labels/{id}/qr-code");
    assert_eq!(label["qr_code"]["url"], url);
    assert_eq!(
        label["label_url"],
        Value::Null,
        "the code alone: nothing to print"
    );
    assert_eq!(label["receipt_url"], Value::Null);
    let ledger = app.simulator.simulator.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].label_broker_id.as_deref(), Some(broker_id));
    assert_eq!(ledger[0].tracking_number, label["tracking_number"]);

    let image = app.get(&app.tenant_key, &url).await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.headers()["cache-control"], "private, no-store");
    let png = image.bytes().await.unwrap();
    assert!(is_png(&png));
    if sim_kit::zbar::available() {
        assert_eq!(
            sim_kit::zbar::read(&png, "png", "qrcode").unwrap(),
            broker_id
        );
    }

    // Read back, one or in the list, the label says the same.
    let read: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["qr_code"], label["qr_code"]);
    let list: Value = app
        .get(&app.tenant_key, "/v1/return-labels")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["qr_code"], label["qr_code"]);
    let document = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/label"))
        .await;
    assert_eq!(document.status(), 404);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_qr_code_with_pdf_named_also_answers_a_label_to_print(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut body = qr_request();
    body["label_format"] = json!("PDF");
    let (status, label) = buy(&app, "qr-pdf", &body).await;
    assert_eq!(status, 201, "{label}");
    assert!(label["qr_code"]["label_broker_id"].is_string());
    assert_eq!(label["label_format"], "PDF");
    let pdf = app
        .get(&app.tenant_key, label["label_url"].as_str().unwrap())
        .await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let png = app
        .get(&app.tenant_key, label["qr_code"]["url"].as_str().unwrap())
        .await;
    assert!(is_png(&png.bytes().await.unwrap()));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_replayed_qr_code_purchase_answers_the_same_code_without_a_second_label(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let (_, first) = buy(&app, "qr-replay", &qr_request()).await;
    let response = app.buy(&app.tenant_key, "qr-replay", &qr_request()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let second: Value = response.json().await.unwrap();
    assert_eq!(second, first);
    assert!(second["qr_code"]["label_broker_id"].is_string());
    assert_eq!(app.simulator.simulator.ledger().len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_downloaded_label_has_no_qr_code_and_its_qr_code_url_is_not_found(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let (status, label) = buy(
        &app,
        "download",
        &label_request("usps_ground_advantage_return"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(label["qr_code"], Value::Null);
    let id = label["id"].as_str().unwrap();
    let response = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/qr-code"))
        .await;
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_found");
    assert!(error["error"]["request_id"].is_string());

    // Another tenant's QR code is not found either.
    let (_, qr) = buy(&app, "qr-mine", &qr_request()).await;
    let (_, other_key) = app.other_tenant("Other Returns").await;
    let response = app
        .get(&other_key, qr["qr_code"]["url"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 404);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_console_label_page_shows_the_qr_code_its_id_and_a_line_for_the_customer(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let (_, label) = buy(&app, "qr-console", &qr_request()).await;
    let id = label["id"].as_str().unwrap();
    let broker_id = label["qr_code"]["label_broker_id"].as_str().unwrap();
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console.page(&format!("/console/labels/{id}")).await;
    assert_eq!(status, 200);
    let image = format!(r#"<img src="/console/labels/{id}/qr-code""#);
    assert!(page.contains(&image), "{page}");
    assert!(
        page.contains(&format!(
            r#"<dd class="mono" id="label-broker-id">{broker_id}</dd>"#
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            r#"Show this QR code, or give the ID <strong class="mono">{broker_id}</strong>, at any USPS location that prints labels."#
        )),
        "{page}"
    );
    let png = console.get(&format!("/console/labels/{id}/qr-code")).await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(is_png(&png.bytes().await.unwrap()));
    let saved = console
        .get(&format!("/console/labels/{id}/qr-code?download=1"))
        .await;
    let disposition = saved.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_console_form_offers_a_qr_code_where_the_carrier_does(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (_, page) = console.page("/console/labels/new").await;
    assert!(
        page.contains(r#"name="label_delivery" value="qr_code""#),
        "{page}"
    );
    assert!(
        page.contains("QR code (the customer needs no printer)"),
        "{page}"
    );
    assert!(page.contains(r#"name="label_format" value="""#), "{page}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_return_address_label_broker_cannot_serve_is_refused_naming_label_delivery(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let mut account = v3_account("Guam");
    account["details"]["return_address"] = json!({"firm": "Backhaul Guam Returns",
        "street1": "120 Father Duenas Ave", "city": "Hagatna", "state": "GU", "zip5": "96910"});
    let created = app
        .post(&app.tenant_key, "/v1/shipper-accounts", &account)
        .await;
    assert_eq!(created.status(), 201);
    let (status, error) = buy(&app, "qr-guam", &qr_request()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["code"], "carrier_rejected");
    let detail = &error["error"]["details"][0];
    assert_eq!(detail["field"], "label_delivery");
    assert_eq!(detail["code"], "160129");
    assert!(app.simulator.simulator.ledger().is_empty());
    // A refusal is final for its key: the same answer again.
    let (again, replayed) = buy(&app, "qr-guam", &qr_request()).await;
    assert_eq!((again, &replayed), (422, &error));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn label_broker_down_is_unavailable_and_the_same_key_buys_once_it_is_back(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    app.simulator.simulator.set_label_broker_available(false);
    let response = app.buy(&app.tenant_key, "qr-down", &qr_request()).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "carrier_unavailable");
    assert!(app.simulator.simulator.ledger().is_empty());
    app.simulator.simulator.set_label_broker_available(true);
    let (status, label) = buy(&app, "qr-down", &qr_request()).await;
    assert_eq!(status, 201, "{label}");
    assert!(label["qr_code"]["label_broker_id"].is_string());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_qr_code_with_a_receipt_or_a_png_is_refused_by_field_before_any_call(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut receipt = qr_request();
    receipt["receipt"] = json!("separate_page");
    let mut png = qr_request();
    png["label_format"] = json!("PNG");
    for (key, body, field) in [
        ("qr-receipt", receipt, "receipt"),
        ("qr-png", png, "label_format"),
    ] {
        let (status, error) = buy(&app, key, &body).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        assert_eq!(error["error"]["details"][0]["field"], field, "{error}");
    }
    assert!(app.simulator.simulator.ledger().is_empty());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_web_tools_account_refuses_a_qr_code_naming_label_delivery(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let created = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts",
            &webtools_account("Legacy"),
        )
        .await;
    assert_eq!(created.status(), 201);
    let (status, error) = buy(&app, "qr-webtools", &qr_request()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["details"][0]["field"], "label_delivery");
    assert!(app.simulator.simulator.ledger().is_empty());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ups_account_refuses_a_qr_code_naming_label_delivery(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    let mut body = backhaul_tests::ups::label_request();
    body["label_delivery"] = json!("qr_code");
    let (status, error) = buy(&app, "qr-ups", &body).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["error"]["details"][0]["field"], "label_delivery");
    assert!(app.ups_ledger().is_empty());
}
