//! Fault injection, over the Rust API and over `/__sim/faults`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use usps_sim::{Fault, FaultRule};

use crate::common::{Harness, VENDOR_JSON, error_codes, label_body};

fn rule(route: &str, fault: Fault, times: Option<u32>) -> FaultRule {
    FaultRule {
        route: route.to_owned(),
        fault,
        times,
        probability: None,
    }
}

const KEY: &str = "0b5f6f0e-3c1d-4f7a-9d43-5c2b8e9a7f10";

#[tokio::test]
async fn latency_fault_delays_the_response() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule("token", Fault::Latency { ms: 200 }, Some(1)));
    let started = Instant::now();
    harness.access_token().await;
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn status_fault_answers_an_error_message_for_the_next_n_requests_only() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    harness
        .simulator()
        .inject(rule("return-label", Fault::Status { status: 503 }, Some(1)));
    let failed = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(failed.headers()["retry-after"], "1");
    let (status, codes, body) = error_codes(failed).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(codes, ["503"]);
    assert_eq!(body["apiVersion"], "/labels/v3");
    assert!(harness.simulator().ledger().is_empty());
    let next = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn status_fault_on_the_token_route_uses_the_oauth_error_shape() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule("token", Fault::Status { status: 500 }, Some(1)));
    let response = harness
        .token_request(
            json!({"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string() && body["error_description"].is_string());
}

#[tokio::test]
async fn rate_limit_fault_is_429_with_retry_after() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    harness.simulator().inject(rule(
        "payment-authorization",
        Fault::RateLimit { retry_after_s: 3 },
        Some(1),
    ));
    let response = harness
        .authorize_payment(&access, &crate::common::eps_parties())
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    let (_, _, body) = error_codes(response).await;
    assert_eq!(body["apiVersion"], "/payments/v3");
}

#[tokio::test]
async fn reset_after_commit_records_the_label_but_breaks_the_response() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    harness
        .simulator()
        .inject(rule("return-label", Fault::ResetAfterCommit, Some(1)));
    let attempt = async {
        harness
            .label_post(&access, &payment)
            .header("Accept", VENDOR_JSON)
            .header("X-Idempotency-Key", KEY)
            .json(&label_body())
            .send()
            .await?
            .bytes()
            .await
    };
    assert!(
        attempt.await.is_err(),
        "the client must see a transport error"
    );
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);

    let retried: Value = harness
        .label_post(&access, &payment)
        .header("Accept", VENDOR_JSON)
        .header("X-Idempotency-Key", KEY)
        .json(&label_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        retried["trackingNumber"],
        ledger[0].tracking_number.as_str()
    );
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn replace_body_fault_issues_the_label_and_sends_the_given_body() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    harness.simulator().inject(rule(
        "return-label",
        Fault::ReplaceBody {
            body: r#"{"postage": 8.75}"#.to_owned(),
        },
        Some(1),
    ));
    let response = harness
        .label_post(&access, &payment)
        .header("Accept", VENDOR_JSON)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], VENDOR_JSON);
    assert_eq!(response.text().await.unwrap(), r#"{"postage": 8.75}"#);
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn malformed_fault_sends_a_truncated_body_of_the_negotiated_type() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    harness
        .simulator()
        .inject(rule("return-label", Fault::Malformed, Some(1)));
    let response = harness
        .label_post(&access, &payment)
        .header("Accept", VENDOR_JSON)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], VENDOR_JSON);
    let bytes = response.bytes().await.unwrap();
    assert!(!bytes.is_empty());
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn expired_token_fault_answers_401_and_revokes_the_token() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    harness
        .simulator()
        .inject(rule("return-label", Fault::ExpiredToken, Some(1)));
    let response = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let again = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "the token was really revoked"
    );
}

#[tokio::test]
async fn expired_token_fault_is_refused_on_the_token_route() {
    let harness = Harness::start().await;
    assert!(
        harness
            .simulator()
            .try_inject(rule("token", Fault::ExpiredToken, None))
            .is_err()
    );
}

#[tokio::test]
async fn probability_zero_never_fires_and_one_always_fires() {
    let harness = Harness::start().await;
    let mut never = rule("token", Fault::Status { status: 500 }, None);
    never.probability = Some(0.0);
    harness.simulator().inject(never);
    harness.access_token().await;
    harness.simulator().clear_faults();
    let mut always = rule("token", Fault::Status { status: 500 }, None);
    always.probability = Some(1.0);
    harness.simulator().inject(always);
    let response = harness
        .token_request(json!({"grant_type": "client_credentials"}))
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn cleared_faults_stop_firing() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule("*", Fault::Status { status: 500 }, None));
    harness.simulator().clear_faults();
    harness.access_token().await;
}

#[tokio::test]
async fn faults_can_be_armed_and_cleared_over_http() {
    let harness = Harness::start().await;
    let armed = harness
        .http
        .post(harness.url("/__sim/faults"))
        .json(&json!({"route": "token", "fault": {"kind": "rate_limit", "retry_after_s": 7}, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), StatusCode::CREATED);
    let limited = harness
        .token_request(json!({"grant_type": "client_credentials"}))
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "7");
    let cleared = harness
        .http
        .delete(harness.url("/__sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    harness.access_token().await;
}

#[tokio::test]
async fn invalid_fault_rule_is_refused_over_http() {
    let harness = Harness::start().await;
    for rule in [
        json!({"route": "nowhere", "fault": {"kind": "malformed"}}),
        json!({"route": "token", "fault": {"kind": "status", "status": 200}}),
        json!({"route": "token", "fault": {"kind": "explode"}}),
        json!({"route": "token", "fault": {"kind": "malformed"}, "probability": 2.0}),
    ] {
        let response = harness
            .http
            .post(harness.url("/__sim/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{rule}");
    }
}

#[tokio::test]
async fn counters_over_http_include_routes_grants_and_faults() {
    let harness = Harness::start().await;
    harness.access_token().await;
    harness
        .simulator()
        .inject(rule("token", Fault::Status { status: 503 }, Some(1)));
    harness.token_request(json!({})).await;
    let counters: Value = harness
        .http
        .get(harness.url("/__sim/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counters["routes"]["token"],
        json!({"calls": 2, "ok": 1, "error": 1})
    );
    assert_eq!(counters["token_grants"]["client_credentials"]["ok"], 1);
    assert_eq!(counters["faults_injected"], 1);
}
