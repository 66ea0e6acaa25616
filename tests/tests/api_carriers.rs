//! `GET /v1/carriers` and `POST /v1/return-labels/{id}/void` through the HTTP API, and the
//! label answer's new fields (`status`, `label_delivery`), against the USPS simulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_carrier_describes_its_services_capabilities_and_account_form(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    for key in [&app.tenant_key, &app.admin_key] {
        let response = app.get(key, "/v1/carriers").await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let usps = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|carrier| carrier["id"] == "usps")
            .expect("usps is registered");
        assert_eq!(usps["name"], "USPS");
        assert_eq!(usps["capabilities"]["void"], false);
        assert_eq!(usps["capabilities"]["idempotent_create"], true);
        let services = usps["services"].as_array().unwrap();
        assert!(
            services
                .iter()
                .any(|s| s["code"] == "usps_ground_advantage_return")
        );
        for service in services {
            assert!(service["code"].as_str().unwrap().starts_with("usps_"));
            // USPS v3 accounts also buy printerless labels (Label Broker).
            assert_eq!(service["label_deliveries"], json!(["download", "qr_code"]));
        }
        let schema = &usps["account_schema"];
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let details = &schema["properties"]["details"];
        assert_eq!(
            details["properties"]["eps_account_number"]["writeOnly"],
            true
        );
        assert!(
            details["required"]
                .as_array()
                .unwrap()
                .contains(&json!("crid"))
        );
    }
    assert_eq!(app.get("bh_not_a_key", "/v1/carriers").await.status(), 401);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_carrier_may_be_left_out_when_the_service_names_it(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut body = label_request("usps_ground_advantage_return");
    body.as_object_mut().unwrap().remove("carrier");
    let response = app.buy(&app.tenant_key, "no-carrier", &body).await;
    assert_eq!(response.status(), 201);
    let label: Value = response.json().await.unwrap();
    assert_eq!(label["carrier"], "usps");
    assert_eq!(label["status"], "created");
    assert_eq!(label["label_delivery"], "download");

    let mut unknown = label_request("acme_teleport_return");
    unknown.as_object_mut().unwrap().remove("carrier");
    let response = app.buy(&app.tenant_key, "no-such-service", &unknown).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["details"][0]["field"], "service");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_delivery_the_carrier_does_not_offer_is_refused_by_field_before_any_call(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut body = label_request("usps_ground_advantage_return");
    body["label_delivery"] = json!("email");
    body["notify"] = json!({"recipient_email": "jane@example.com"});
    let response = app.buy(&app.tenant_key, "by-email", &body).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["details"][0]["field"], "label_delivery");
    assert_eq!(app.simulator.simulator.ledger().len(), 0);
    // The key was not kept (nothing executed): the corrected request may use it.
    body["label_delivery"] = json!("download");
    assert_eq!(
        app.buy(&app.tenant_key, "by-email", &body).await.status(),
        201
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_usps_label_cannot_be_voided_and_nothing_changes(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let label: Value = app
        .buy(
            &app.tenant_key,
            "void-me",
            &label_request("usps_ground_advantage_return"),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/return-labels/{}/void", label["id"].as_str().unwrap());
    let response = app.post(&app.tenant_key, &path, &json!(null)).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_supported");
    let again: Value = app
        .get(
            &app.tenant_key,
            &format!("/v1/return-labels/{}", label["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "created");

    // Another tenant's label is not found, never voided.
    let (_, other_key) = app.other_tenant("Other").await;
    assert_eq!(
        app.post(&other_key, &path, &json!(null)).await.status(),
        404
    );
    assert_eq!(
        app.post(
            &app.tenant_key,
            "/v1/return-labels/lbl_00000000000000000000/void",
            &json!(null)
        )
        .await
        .status(),
        404
    );
}
