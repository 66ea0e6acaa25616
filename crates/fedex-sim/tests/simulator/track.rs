//! `POST /track/v1/trackingnumbers`: batches, unknown numbers, scans from the control route.

use fedex_sim::schema::SpecFile;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Harness, assert_conforms, print_return_request, tracking_number};

#[tokio::test]
async fn a_batch_answers_each_number_in_order_with_its_status_or_error() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let first = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    let second = tracking_number(&harness.ship(&token, &print_return_request("PNG")).await);
    assert_eq!(
        harness.scan(&second, "accepted").await.status(),
        StatusCode::CREATED
    );
    let answer = harness
        .track(&token, &[&first, "794843185271", &second], true)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_conforms(
        SpecFile::Tracking,
        "TrkcResponseVO_TrackingNumber",
        &answer.body,
    );
    let results = answer.body["output"]["completeTrackResults"]
        .as_array()
        .unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["trackingNumber"], first.as_str());
    assert_eq!(
        results[0]["trackResults"][0]["latestStatusDetail"]["code"],
        "OC"
    );
    assert_eq!(
        results[1]["trackResults"][0]["error"]["code"],
        "TRACKING.TRACKINGNUMBER.NOTFOUND"
    );
    assert_eq!(
        results[2]["trackResults"][0]["latestStatusDetail"]["code"],
        "PU"
    );
}

#[tokio::test]
async fn recorded_scans_are_served_newest_first_with_their_dates() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    for status in [
        "accepted",
        "in_transit",
        "out_for_delivery",
        "exception",
        "delivered",
    ] {
        assert_eq!(
            harness.scan(&number, status).await.status(),
            StatusCode::CREATED
        );
    }
    let answer = harness.track(&token, &[&number], true).await;
    assert_conforms(
        SpecFile::Tracking,
        "TrkcResponseVO_TrackingNumber",
        &answer.body,
    );
    let result = &answer.body["output"]["completeTrackResults"][0]["trackResults"][0];
    assert_eq!(result["latestStatusDetail"]["code"], "DL");
    let codes: Vec<&str> = result["scanEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DL", "DE", "OD", "IT", "PU", "OC"]);
    let types: Vec<&str> = result["dateAndTimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|date| date["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["SHIP", "ACTUAL_PICKUP", "ACTUAL_DELIVERY"]);
    let brief = harness.track(&token, &[&number], false).await;
    let result = &brief.body["output"]["completeTrackResults"][0]["trackResults"][0];
    assert_eq!(result["scanEvents"], json!([]));
    assert_eq!(result["latestStatusDetail"]["code"], "DL");
}

#[tokio::test]
async fn returned_to_sender_uses_the_rs_code() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    let scan = harness
        .simulator()
        .scan(&number, fedex_sim::ScanKind::ReturnedToSender)
        .unwrap();
    assert_eq!(scan.kind.status().0, "RS");
    let answer = harness.track(&token, &[&number], false).await;
    assert_eq!(
        answer.body["output"]["completeTrackResults"][0]["trackResults"][0]["latestStatusDetail"]["code"],
        "RS"
    );
}

#[tokio::test]
async fn another_accounts_number_is_not_found() {
    let harness = Harness::start().await;
    let own = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&own, &print_return_request("PDF")).await);
    let platform = harness.platform_token().await;
    let answer = harness.track(&platform, &[&number], true).await;
    assert_eq!(
        answer.body["output"]["completeTrackResults"][0]["trackResults"][0]["error"]["code"],
        "TRACKING.TRACKINGNUMBER.NOTFOUND"
    );
}

#[tokio::test]
async fn an_empty_batch_and_more_than_thirty_numbers_are_refused() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .track(&token, &[], true)
        .await
        .expect(StatusCode::BAD_REQUEST, "TRACKING.TRACKINGNUMBER.EMPTY");
    let numbers = vec!["794843185271"; 31];
    harness.track(&token, &numbers, true).await.expect(
        StatusCode::BAD_REQUEST,
        "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED",
    );
    let thirty = vec!["794843185271"; 30];
    assert_eq!(
        harness.track(&token, &thirty, true).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_control_route_refuses_unknown_numbers_and_statuses() {
    let harness = Harness::start().await;
    assert_eq!(
        harness.scan("794843185271", "accepted").await.status(),
        StatusCode::NOT_FOUND
    );
    let token = harness.own_app_token().await;
    let number = tracking_number(&harness.ship(&token, &print_return_request("PDF")).await);
    assert_eq!(
        harness.scan(&number, "teleported").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
