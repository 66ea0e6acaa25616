//! Fault injection over `/__sim/faults`: each kind, on the routes it names.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, answer, print_return_request};

async fn arm(harness: &Harness, rule: Value) -> StatusCode {
    harness
        .http
        .post(harness.url("/__sim/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap()
        .status()
}

async fn post_ship(harness: &Harness, token: &str) -> reqwest::Result<reqwest::Response> {
    harness
        .http
        .post(harness.url("/api/shipments/v2409/ship"))
        .bearer_auth(token)
        .json(&print_return_request())
        .send()
        .await
}

#[tokio::test]
async fn latency_delays_and_then_handles_the_request() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let rule = json!({"route": "ship", "fault": {"kind": "latency", "ms": 300}, "times": 1});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let started = Instant::now();
    let response = post_ship(&harness, &token).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn status_answers_in_ups_error_shape_without_handling_the_request() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let rule = json!({"route": "ship", "fault": {"kind": "status", "status": 503}, "times": 1});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let response = post_ship(&harness, &token).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let answer = answer(response).await;
    assert_eq!(answer.code(), "9999000");
    assert!(harness.simulator().ledger().is_empty());
    assert_eq!(
        post_ship(&harness, &token).await.unwrap().status(),
        StatusCode::OK
    );
    let counters = harness.simulator().counters();
    assert_eq!(
        (counters.route("ship").error, counters.route("ship").ok),
        (1, 1)
    );
    assert_eq!(counters.faults_injected, 1);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_on_the_token_route() {
    let harness = Harness::start().await;
    let rule = json!({"route": "token", "fault": {"kind": "rate_limit", "retry_after_s": 7}});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let response = harness
        .http
        .post(harness.url("/security/v1/oauth/token"))
        .basic_auth(ups_sim::demo::CLIENT_ID, Some(ups_sim::demo::CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(answer(response).await.body["response"]["errors"].is_array());
}

#[tokio::test]
async fn reset_after_commit_records_the_shipment_and_cuts_the_connection() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let rule = json!({"route": "ship", "fault": {"kind": "reset_after_commit"}, "times": 1});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let outcome = match post_ship(&harness, &token).await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(outcome.is_err(), "the body should fail");
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn malformed_records_the_shipment_and_truncates_the_body() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let rule = json!({"route": "ship", "fault": {"kind": "malformed"}, "times": 1});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let response = post_ship(&harness, &token).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn expired_token_forgets_the_token_and_answers_401() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let rule = json!({"route": "void", "fault": {"kind": "expired_token"}, "times": 1});
    assert_eq!(arm(&harness, rule).await, StatusCode::CREATED);
    let answer = harness.void(&token, "1Z999AA10123456784").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "250002");
    let after = harness.ship(&token, &print_return_request()).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_rules_are_refused_and_rules_can_be_listed_and_cleared() {
    let harness = Harness::start().await;
    let expired_on_token = json!({"route": "token", "fault": {"kind": "expired_token"}});
    assert_eq!(
        arm(&harness, expired_on_token).await,
        StatusCode::BAD_REQUEST
    );
    let unknown = json!({"route": "label_recovery", "fault": {"kind": "malformed"}});
    assert_eq!(arm(&harness, unknown).await, StatusCode::BAD_REQUEST);
    let ok = json!({"route": "*", "fault": {"kind": "status", "status": 500}});
    assert_eq!(arm(&harness, ok).await, StatusCode::CREATED);
    let listed: Value = harness
        .http
        .get(harness.url("/__sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let page = harness
        .http
        .get(harness.url("/security/v1/oauth/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.text().await.unwrap().contains("Simulated fault"));
    let cleared = harness
        .http
        .delete(harness.url("/__sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    harness.client_token().await;
}
