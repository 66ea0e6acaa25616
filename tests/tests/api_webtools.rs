//! Return labels through a USPS Web Tools account, over the HTTP API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request, webtools_account};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::{Fault, FaultRule, demo, route};

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_web_tools_account_buys_a_label_to_its_configured_destination(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let created = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts",
            &webtools_account("Legacy"),
        )
        .await;
    assert_eq!(created.status(), 201);
    let account: Value = created.json().await.unwrap();
    assert_eq!(account["credentials"]["mode"], "webtools");
    let shown = account.to_string();
    assert!(!shown.contains(demo::WEBTOOLS_USER_ID) && !shown.contains(demo::WEBTOOLS_PASSWORD));

    let response = app
        .buy(
            &app.tenant_key,
            "wt-1",
            &label_request("usps_priority_mail_return"),
        )
        .await;
    assert_eq!(response.status(), 201);
    let label: Value = response.json().await.unwrap();
    assert_eq!(
        label["routing_code"],
        format!("420{}", demo::RETURN_ADDRESS_ZIP)
    );
    assert_eq!(label["to_address"]["zip5"], demo::RETURN_ADDRESS_ZIP);
    let ledger = app.simulator.simulator.ledger();
    assert_eq!((ledger.len(), ledger[0].api.as_str()), (1, "webtools"));
    let pdf = app
        .get(&app.tenant_key, label["label_url"].as_str().unwrap())
        .await;
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn express_is_refused_for_web_tools_accounts_before_anything_is_sent(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.post(
        &app.tenant_key,
        "/v1/shipper-accounts",
        &webtools_account("Legacy"),
    )
    .await;
    let response = app
        .buy(
            &app.tenant_key,
            "wt-2",
            &label_request("usps_priority_mail_express_return"),
        )
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "no_eligible_account");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("usps_priority_mail_express_return")
    );
    assert!(app.simulator.simulator.ledger().is_empty());
}

/// Web Tools cannot deduplicate a resend: after an unknown outcome, the client's retry buys the
/// label again. The first label was never handed to anyone, and returns labels are pay-on-use,
/// so it is never billed (README, "the label flow").
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn after_an_unknown_outcome_a_web_tools_retry_completes_the_purchase(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.post(
        &app.tenant_key,
        "/v1/shipper-accounts",
        &webtools_account("Legacy"),
    )
    .await;
    app.simulator.simulator.inject(FaultRule {
        route: route::WEBTOOLS.to_owned(),
        fault: Fault::ResetAfterCommit,
        times: Some(1),
        probability: None,
    });
    let first = app
        .buy(
            &app.tenant_key,
            "wt-3",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(first.status(), 504);
    let retried = app
        .buy(
            &app.tenant_key,
            "wt-3",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(retried.status(), 201);
    let label: Value = retried.json().await.unwrap();
    let ledger = app.simulator.simulator.ledger();
    assert_eq!(
        ledger.len(),
        2,
        "the unconfirmed label plus the one returned"
    );
    assert_eq!(
        ledger[1].tracking_number,
        label["tracking_number"].as_str().unwrap()
    );
    let again: Value = app
        .buy(
            &app.tenant_key,
            "wt-3",
            &label_request("usps_ground_advantage_return"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, label, "from now on the key replays the stored label");
    assert_eq!(json!(app.simulator.simulator.ledger().len()), json!(2));
}
