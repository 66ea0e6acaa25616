//! `PUT /ship/v1/shipments/cancel`: cancels an unscanned shipment once.

use fedex_sim::demo;
use fedex_sim::schema::SpecFile;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    Harness, assert_conforms, days_from_today, email_return_request, print_return_request,
    tracking_number,
};

fn cancel_body(number: &str) -> serde_json::Value {
    json!({
        "accountNumber": {"value": demo::ACCOUNT_NUMBER},
        "trackingNumber": number,
        "senderCountryCode": "US",
        "deletionControl": "DELETE_ALL_PACKAGES"
    })
}

#[tokio::test]
async fn an_unscanned_shipment_is_cancelled_once_and_then_tracks_no_more() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    let answer = harness.cancel(&token, &cancel_body(&number)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["output"]["cancelledShipment"], true);
    assert_conforms(
        SpecFile::Shipment,
        "SHPCResponseVO_CancelShipment",
        &answer.body,
    );
    assert!(harness.simulator().ledger()[0].cancelled_at.is_some());
    harness
        .cancel(&token, &cancel_body(&number))
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.ALREADY.CANCELLED");
    assert_eq!(
        harness.scan(&number, "accepted").await.status(),
        StatusCode::CONFLICT
    );
    let tracked = harness.track(&token, &[&number], true).await;
    assert_eq!(
        tracked.body["output"]["completeTrackResults"][0]["trackResults"][0]["error"]["code"],
        "TRACKING.TRACKINGNUMBER.NOTFOUND"
    );
}

#[tokio::test]
async fn a_scanned_shipment_cannot_be_cancelled() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    assert_eq!(
        harness.scan(&number, "accepted").await.status(),
        StatusCode::CREATED
    );
    harness
        .cancel(&token, &cancel_body(&number))
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.CANCEL.NOTALLOWED");
    assert!(harness.simulator().ledger()[0].cancelled_at.is_none());
}

#[tokio::test]
async fn an_unknown_or_another_accounts_number_is_unauthorized() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .cancel(&token, &cancel_body("794843185271"))
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.USER.UNAUTHORIZED");
    let child = harness.registered_child_token().await;
    let mut other = print_return_request("PDF");
    other["accountNumber"]["value"] = json!(demo::ACCOUNT_NUMBER);
    let number = tracking_number(&harness.ship(&child, &other).await);
    let mut foreign = cancel_body(&number);
    foreign["accountNumber"]["value"] = json!(demo::OTHER_ACCOUNT_NUMBER);
    harness
        .cancel(&token, &foreign)
        .await
        .expect(StatusCode::FORBIDDEN, "FORBIDDEN.ERROR");
}

#[tokio::test]
async fn an_email_label_is_cancelled_with_email_shipment_true() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let number = tracking_number(
        &harness
            .ship(&token, &email_return_request(&days_from_today(7)))
            .await,
    );
    harness
        .cancel(&token, &cancel_body(&number))
        .await
        .expect(StatusCode::BAD_REQUEST, "SHIPMENT.VALIDATION.ERROR");
    let mut body = cancel_body(&number);
    body["emailShipment"] = json!(true);
    let answer = harness.cancel(&token, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}
