//! The Track API: a ledger shipment answers its manifest activity, then one activity per
//! recorded scan; the spec's refusals; the scan control's refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};
use ups_sim::shipping::schema::{TrackingSpec, tracking_violations};
use ups_sim::{Fault, FaultRule, ScanKind, route};

use crate::common::{Answer, Harness, answer, print_return_request, tracking_number};

pub(crate) async fn shipped(harness: &Harness, token: &str) -> String {
    let answer = harness.ship(token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    tracking_number(&answer)
}

pub(crate) async fn track(harness: &Harness, token: &str, path: &str) -> Answer {
    let response = harness
        .http
        .get(harness.url(path))
        .bearer_auth(token)
        .header("transId", "track-test-0001")
        .header("transactionSrc", "backhaul-tests")
        .send()
        .await
        .unwrap();
    answer(response).await
}

fn activities(answer: &Answer) -> Vec<Value> {
    answer.body["trackResponse"]["shipment"][0]["package"][0]["activity"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn scan(harness: &Harness, number: &str, status: &str) -> StatusCode {
    harness
        .http
        .post(harness.url(&format!("/__sim/tracking/{number}/events")))
        .json(&json!({"status": status}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn an_unscanned_label_answers_its_manifest_activity_in_the_specs_shape() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let answer = track(
        &harness,
        &token,
        &format!("/api/track/v1/details/{number}?locale=en_US&returnSignature=false"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        tracking_violations(TrackingSpec::Track, "TrackApiResponse", &answer.body).unwrap(),
        Vec::<String>::new()
    );
    let listed = activities(&answer);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"]["type"], "M");
    assert_eq!(listed[0]["status"]["code"], "MP");
}

#[tokio::test]
async fn each_recorded_scan_adds_an_activity_most_recent_first() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    assert_eq!(
        scan(&harness, &number, "accepted").await,
        StatusCode::CREATED
    );
    harness
        .simulator()
        .advance_clock(std::time::Duration::from_secs(3600));
    assert_eq!(
        harness.simulator().scan(&number, ScanKind::Delivered),
        Ok(0)
    );
    let answer = track(&harness, &token, &format!("/api/track/v1/details/{number}")).await;
    assert_eq!(
        tracking_violations(TrackingSpec::Track, "TrackApiResponse", &answer.body).unwrap(),
        Vec::<String>::new()
    );
    let codes: Vec<String> = activities(&answer)
        .iter()
        .map(|activity| activity["status"]["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["FS", "OR", "MP"]);
    let package = &answer.body["trackResponse"]["shipment"][0]["package"][0];
    assert_eq!(package["currentStatus"]["type"], "D");
    assert!(package.get("deliveryInformation").is_some());
    let delivered = &activities(&answer)[0];
    assert_eq!(delivered["gmtOffset"], "-05:00");
    assert_eq!(delivered["location"]["address"]["city"], "Atlanta");
}

#[tokio::test]
async fn a_number_the_simulator_never_issued_is_not_found() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = track(&harness, &token, "/api/track/v1/details/1Z999AA10123456784").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "151044");
}

#[tokio::test]
async fn tracking_without_the_transaction_headers_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    for (name, value) in [("transId", "t-1"), ("transactionSrc", "tests")] {
        let response = harness
            .http
            .get(harness.url(&format!("/api/track/v1/details/{number}")))
            .bearer_auth(&token)
            .header(name, value)
            .send()
            .await
            .unwrap();
        let answer = answer(response).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "only {name}");
        assert!(answer.messages().contains("is required"), "{}", answer.body);
    }
}

#[tokio::test]
async fn tracking_without_a_token_is_unauthorized() {
    let harness = Harness::start().await;
    let answer = track(
        &harness,
        "not-a-token",
        "/api/track/v1/details/1Z999AA10123456784",
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "250002");
}

#[tokio::test]
async fn an_inquiry_number_of_the_wrong_length_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    for number in ["1Z999", &"1".repeat(35)] {
        let answer = track(&harness, &token, &format!("/api/track/v1/details/{number}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{number}");
    }
}

#[tokio::test]
async fn a_bad_locale_indicator_or_unknown_parameter_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    for query in ["locale=english", "returnPOD=yes", "expand=DETAIL"] {
        let answer = track(
            &harness,
            &token,
            &format!("/api/track/v1/details/{number}?{query}"),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn the_scan_control_refuses_unknown_numbers_and_statuses() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    assert_eq!(
        scan(&harness, "1Z999AA10123456784", "accepted").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        scan(&harness, &number, "lost_at_sea").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(harness.simulator().pushes().is_empty());
}

#[tokio::test]
async fn a_fault_on_the_track_route_answers_its_status() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    harness
        .simulator()
        .try_inject(FaultRule {
            route: route::TRACK.to_owned(),
            fault: Fault::RateLimit { retry_after_s: 7 },
            times: Some(1),
            probability: None,
        })
        .unwrap();
    let response = harness
        .http
        .get(harness.url(&format!("/api/track/v1/details/{number}")))
        .bearer_auth(&token)
        .header("transId", "t-1")
        .header("transactionSrc", "tests")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    let again = track(&harness, &token, &format!("/api/track/v1/details/{number}")).await;
    assert_eq!(again.status, StatusCode::OK);
}
