//! Return labels through a USPS Web Tools account, over the HTTP API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request, reference, webtools_account};
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

/// The v1.2 guide's "XML Response:" sample, verbatim but for its label image, which the guide
/// suppresses ("--- Base 64 Binary stream Suppressed for documentation---"): a real PDF's
/// Base64 stands in for it.
fn guide_sample_reply() -> String {
    let guide = reference("seeds/usps-returns-label-api-v1.2.txt");
    let after = &guide[guide.find("XML Response:").unwrap()..];
    let start = after.find("<USPSReturnsLabelResponse>").unwrap();
    let end =
        after.find("</USPSReturnsLabelResponse>").unwrap() + "</USPSReturnsLabelResponse>".len();
    let sample = &after[start..end];
    let image_start = sample.find("<LabelImage>").unwrap() + "<LabelImage>".len();
    let image_end = sample.find("</LabelImage>").unwrap();
    assert!(sample[image_start..image_end].contains("Suppressed"));
    // "%PDF-1.4\n%%EOF\n"
    format!(
        "{}JVBERi0xLjQKJSVFT0YK{}",
        &sample[..image_start],
        &sample[image_end..]
    )
}

/// The guide's sample reply through the whole path — the simulator's HTTP answer, the plugin,
/// the stored label, the API: `postage` is `Postage` (8.44, without extra services), the one
/// extra service is a fee (156 Signature Confirmation Electronic, 2.65) and the total is 11.09,
/// in the answer, in a replay, in `GET` and in the list.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_guides_sample_reply_is_postage_8_44_one_fee_of_2_65_and_a_total_of_11_09(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let created = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts",
            &webtools_account("Legacy"),
        )
        .await;
    assert_eq!(created.status(), 201);
    app.simulator.simulator.inject(FaultRule {
        route: route::WEBTOOLS.to_owned(),
        fault: Fault::ReplaceBody {
            body: guide_sample_reply(),
        },
        times: Some(1),
        probability: None,
    });
    let request = label_request("usps_priority_mail_return");
    let response = app.buy(&app.tenant_key, "wt-sample", &request).await;
    assert_eq!(response.status(), 201);
    let label: Value = response.json().await.unwrap();
    assert_eq!(label["tracking_number"], "9302012345600000007248");
    assert_eq!(label["routing_code"], "42021144");
    assert_eq!(
        label["postage"],
        json!({"amount": "8.44", "currency": "USD"})
    );
    assert_eq!(
        label["fees"],
        json!([{"code": "156", "name": "Signature Confirmation Electronic",
                "amount": {"amount": "2.65", "currency": "USD"}}])
    );
    assert_eq!(
        label["total"],
        json!({"amount": "11.09", "currency": "USD"})
    );
    assert_eq!(label["warnings"], json!([]));

    let replayed: Value = app
        .buy(&app.tenant_key, "wt-sample", &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replayed, label, "the replay is the stored answer");
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
    for stored in [&shown, &listed["data"][0]] {
        assert_eq!(stored["id"], id);
        for charge in ["postage", "fees", "total"] {
            assert_eq!(stored[charge], label[charge], "{charge}");
        }
    }
}
