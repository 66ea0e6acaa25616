//! Return labels through the HTTP API: a real server, real Postgres, the USPS simulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request};
use serde_json::Value;
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
