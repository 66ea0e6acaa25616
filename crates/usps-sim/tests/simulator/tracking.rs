//! `GET /tracking/v3/tracking/{trackingNumber}` and the scan control route.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, error_codes, label_body};

/// A label issued by the simulator; its tracking number.
pub(crate) async fn issued_label(harness: &Harness) -> String {
    let response = harness.label(&label_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["trackingNumber"].as_str().unwrap().to_owned()
}

pub(crate) async fn scan(
    harness: &Harness,
    tracking_number: &str,
    status: &str,
) -> reqwest::Response {
    harness
        .http
        .post(harness.url(&format!("/__sim/tracking/{tracking_number}/events")))
        .json(&json!({"status": status}))
        .send()
        .await
        .unwrap()
}

async fn track(harness: &Harness, token: &str, path: &str) -> reqwest::Response {
    harness
        .http
        .get(harness.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unscanned_label_shows_only_its_pre_shipment_event() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let token = harness.access_token().await;
    let response = track(
        &harness,
        &token,
        &format!("/tracking/v3/tracking/{number}?expand=DETAIL"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["trackingNumber"], number.as_str());
    assert_eq!(body["statusCategory"], "Pre-Shipment");
    let events = body["trackingEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["eventType"],
        "Shipping Label Created, USPS Awaiting Item"
    );
}

#[tokio::test]
async fn each_scan_adds_an_event_newest_first() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    assert_eq!(
        scan(&harness, &number, "accepted").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        scan(&harness, &number, "delivered").await.status(),
        StatusCode::CREATED
    );
    let token = harness.access_token().await;
    let body: Value = track(
        &harness,
        &token,
        &format!("/tracking/v3/tracking/{number}?expand=DETAIL"),
    )
    .await
    .json()
    .await
    .unwrap();
    let codes: Vec<&str> = body["trackingEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["eventCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["01", "03", "GX"]);
    assert_eq!(body["statusCategory"], "Delivered");
    assert_eq!(
        body["trackingEvents"][0]["eventType"],
        "Delivered, Front Door/Porch"
    );
    assert_eq!(body["trackingEvents"][0]["eventZIP"], "63116");
}

#[tokio::test]
async fn the_summary_is_one_line_per_event() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    let token = harness.access_token().await;
    let body: Value = track(&harness, &token, &format!("/tracking/v3/tracking/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["eventSummaries"].as_array().unwrap().len(), 2);
    assert!(body.get("trackingEvents").is_none());
}

#[tokio::test]
async fn a_number_never_issued_is_not_found() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let response = track(
        &harness,
        &token,
        "/tracking/v3/tracking/9205590000000000000000?expand=DETAIL",
    )
    .await;
    let (status, codes, body) = error_codes(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(codes, ["SIM_NOT_FOUND"]);
    assert_eq!(body["apiVersion"], "/tracking/v3");
}

#[tokio::test]
async fn an_expand_outside_the_enum_is_refused() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let token = harness.access_token().await;
    let response = track(
        &harness,
        &token,
        &format!("/tracking/v3/tracking/{number}?expand=FULL"),
    )
    .await;
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["OAS_VALIDATION"]);
}

#[tokio::test]
async fn a_malformed_destination_zip_code_is_refused() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let token = harness.access_token().await;
    let response = track(
        &harness,
        &token,
        &format!("/tracking/v3/tracking/{number}?destinationZIPCode=631"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tracking_without_a_token_is_unauthorized() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let response = harness
        .http
        .get(harness.url(&format!("/tracking/v3/tracking/{number}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_without_the_tracking_scope_is_forbidden() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let response = harness
        .token_request(json!({"grant_type": "client_credentials", "client_id": usps_sim::demo::CLIENT_ID,
                              "client_secret": usps_sim::demo::CLIENT_SECRET, "scope": "labels payments"}))
        .await;
    let token: Value = response.json().await.unwrap();
    let response = track(
        &harness,
        token["access_token"].as_str().unwrap(),
        &format!("/tracking/v3/tracking/{number}"),
    )
    .await;
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(codes, ["SIM_FORBIDDEN"]);
}

#[tokio::test]
async fn a_scan_of_a_number_never_issued_is_not_found() {
    let harness = Harness::start().await;
    let response = scan(&harness, "9205590000000000000000", "accepted").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_scan_with_an_unknown_status_is_unprocessable() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    let response = scan(&harness, &number, "lost_in_space").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_fault_on_the_tracking_route_answers_its_error() {
    let harness = Harness::start().await;
    let number = issued_label(&harness).await;
    harness.simulator().inject(usps_sim::FaultRule {
        route: "tracking".to_owned(),
        fault: usps_sim::Fault::Status { status: 503 },
        times: Some(1),
        probability: None,
    });
    let token = harness.access_token().await;
    let response = track(&harness, &token, &format!("/tracking/v3/tracking/{number}")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = track(&harness, &token, &format!("/tracking/v3/tracking/{number}")).await;
    assert_eq!(response.status(), StatusCode::OK);
}
