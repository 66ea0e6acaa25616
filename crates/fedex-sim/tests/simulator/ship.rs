//! `POST /ship/v1/shipments`: return shipments, their answers and the ledger; the refusals.

use fedex_sim::demo;
use fedex_sim::schema::SpecFile;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    Harness, assert_conforms, days_from_today, email_return_request, print_return_request,
    tracking_number,
};

#[tokio::test]
async fn a_print_return_answers_the_files_shape_with_a_total_and_lands_in_the_ledger() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let answer = harness
        .post(
            "/ship/v1/shipments",
            &token,
            &[("x-customer-transaction-id", "order-1001")],
            &print_return_request("PDF"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_conforms(
        SpecFile::Shipment,
        "SHPCResponseVO_ShipShipment",
        &answer.body,
    );
    assert_eq!(answer.body["customerTransactionId"], "order-1001");
    let shipment = &answer.body["output"]["transactionShipments"][0];
    let number = tracking_number(&answer);
    assert!(fedex_sim::is_valid_tracking_number(&number));
    assert_eq!(shipment["masterTrackingNumber"], number.as_str());
    assert_eq!(shipment["serviceType"], "FEDEX_GROUND");
    let total = &shipment["completedShipmentDetail"]["shipmentRating"]["shipmentRateDetails"][0];
    assert_eq!(total["totalNetCharge"], 11.65);
    assert_eq!(total["currency"], "USD");
    assert_eq!(
        shipment["pieceResponses"][0]["customerReferences"][0]["value"],
        "RMA-1001"
    );
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].tracking_numbers, vec![number]);
    assert_eq!(ledger[0].account_number, demo::ACCOUNT_NUMBER);
    assert_eq!(ledger[0].total_net_charge_cents, 1165);
    assert_eq!(ledger[0].image_type.as_deref(), Some("PDF"));
    assert_eq!(ledger[0].client_id, demo::OWN_APP_CLIENT_ID);
}

#[tokio::test]
async fn every_request_makes_a_new_shipment_as_there_is_no_idempotency_key() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let first = harness.ship(&token, &print_return_request("PNG")).await;
    let second = harness.ship(&token, &print_return_request("PNG")).await;
    assert_ne!(tracking_number(&first), tracking_number(&second));
    assert_eq!(harness.simulator().ledger().len(), 2);
}

#[tokio::test]
async fn each_package_gets_its_own_number_and_label() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let mut body = print_return_request("ZPLII");
    let item = body["requestedShipment"]["requestedPackageLineItems"][0].clone();
    body["requestedShipment"]["requestedPackageLineItems"] = json!([item, item]);
    let answer = harness.ship(&token, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let pieces = answer.body["output"]["transactionShipments"][0]["pieceResponses"]
        .as_array()
        .unwrap();
    assert_eq!(pieces.len(), 2);
    assert_ne!(pieces[0]["trackingNumber"], pieces[1]["trackingNumber"]);
    assert!(pieces[1]["packageDocuments"][0]["encodedLabel"].is_string());
}

#[tokio::test]
async fn an_email_label_has_no_image_and_its_email_and_expiry_are_kept() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let expires = days_from_today(14);
    let answer = harness.ship(&token, &email_return_request(&expires)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_conforms(
        SpecFile::Shipment,
        "SHPCResponseVO_ShipShipment",
        &answer.body,
    );
    let piece = &answer.body["output"]["transactionShipments"][0]["pieceResponses"][0];
    assert_eq!(piece["packageDocuments"], json!([]));
    let entry = &harness.simulator().ledger()[0];
    assert_eq!(entry.image_type, None);
    assert_eq!(entry.email_recipients, vec!["jane@example.com".to_owned()]);
    assert_eq!(
        entry.email_label_expires_on.map(|date| date.to_string()),
        Some(expires)
    );
}

#[tokio::test]
async fn an_email_label_needs_recipients_and_an_expiry_within_two_years() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    for expires in [
        days_from_today(-1),
        days_from_today(2 * 366 + 1),
        "soon".to_owned(),
    ] {
        harness
            .ship(&token, &email_return_request(&expires))
            .await
            .expect(
                StatusCode::BAD_REQUEST,
                "PENDINGSHIPMENT.EXPIRATIONDATE.INVALID",
            );
    }
    let mut nobody = email_return_request(&days_from_today(3));
    nobody["requestedShipment"]["shipmentSpecialServices"]["pendingShipmentDetail"]["emailLabelDetail"]
        ["recipients"] = json!([]);
    harness
        .ship(&token, &nobody)
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.VALIDATION.ERROR");
    let mut undetailed = email_return_request(&days_from_today(3));
    undetailed["requestedShipment"]["shipmentSpecialServices"]
        .as_object_mut()
        .unwrap()
        .remove("pendingShipmentDetail");
    harness
        .ship(&token, &undetailed)
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.VALIDATION.ERROR");
    assert!(harness.simulator().ledger().is_empty());
}

#[tokio::test]
async fn a_return_needs_its_return_shipment_detail() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let mut body = print_return_request("PDF");
    body["requestedShipment"]["shipmentSpecialServices"]
        .as_object_mut()
        .unwrap()
        .remove("returnShipmentDetail");
    harness
        .ship(&token, &body)
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.VALIDATION.ERROR");
}

#[tokio::test]
async fn a_forward_shipment_or_an_unlisted_service_is_not_simulated() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let mut forward = print_return_request("PDF");
    forward["requestedShipment"]
        .as_object_mut()
        .unwrap()
        .remove("shipmentSpecialServices");
    harness
        .ship(&token, &forward)
        .await
        .expect(StatusCode::BAD_REQUEST, "SIMULATOR.FEATURE.NOTSIMULATED");
    let mut smart_post = print_return_request("PDF");
    smart_post["requestedShipment"]["serviceType"] = json!("SMART_POST");
    harness
        .ship(&token, &smart_post)
        .await
        .expect(StatusCode::BAD_REQUEST, "SIMULATOR.FEATURE.NOTSIMULATED");
}

#[tokio::test]
async fn another_merchants_or_an_unknown_account_is_refused() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let mut other = print_return_request("PDF");
    other["accountNumber"]["value"] = json!(demo::OTHER_ACCOUNT_NUMBER);
    harness
        .ship(&token, &other)
        .await
        .expect(StatusCode::FORBIDDEN, "FORBIDDEN.ERROR");
    let mut unknown = print_return_request("PDF");
    unknown["accountNumber"]["value"] = json!("000000000");
    harness.ship(&token, &unknown).await.expect(
        StatusCode::BAD_REQUEST,
        "ACCOUNTNUMBER.REGISTRATION.REQUIRED",
    );
    let platform = harness.platform_token().await;
    harness
        .ship(&platform, &print_return_request("PDF"))
        .await
        .expect(StatusCode::FORBIDDEN, "FORBIDDEN.ERROR");
    harness
        .ship("no-token", &print_return_request("PDF"))
        .await
        .expect(StatusCode::UNAUTHORIZED, "NOT.AUTHORIZED.ERROR");
    assert!(harness.simulator().ledger().is_empty());
}
