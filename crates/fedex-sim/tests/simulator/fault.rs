//! Runtime faults: status with Retry-After, rate limits, malformed and replaced bodies, expired
//! tokens, counted per route.

use fedex_sim::{Fault, FaultRule, route};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Harness, print_return_request};

fn rule(route_name: &str, fault: Fault, times: Option<u32>) -> FaultRule {
    FaultRule {
        route: route_name.to_owned(),
        fault,
        times,
        probability: None,
    }
}

#[tokio::test]
async fn a_503_fault_answers_fedexs_error_with_retry_after_then_passes() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .simulator()
        .inject(rule(route::SHIP, Fault::Status { status: 503 }, Some(1)));
    let failed = harness.ship(&token, &print_return_request("PDF")).await;
    failed.expect(StatusCode::SERVICE_UNAVAILABLE, "SERVICE.UNAVAILABLE.ERROR");
    assert_eq!(failed.headers["retry-after"], "1");
    let passed = harness.ship(&token, &print_return_request("PDF")).await;
    assert_eq!(passed.status, StatusCode::OK);
    let counters = harness.simulator().counters();
    assert_eq!(counters.route(route::SHIP).calls, 2);
    assert_eq!(counters.route(route::SHIP).error, 1);
    assert_eq!(counters.faults_injected, 1);
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_carries_its_retry_after() {
    let harness = Harness::start().await;
    harness.simulator().inject(rule(
        route::TOKEN,
        Fault::RateLimit { retry_after_s: 7 },
        None,
    ));
    let answer = harness
        .token_request(&[("grant_type", "client_credentials")])
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.headers["retry-after"], "7");
}

#[tokio::test]
async fn malformed_and_replaced_bodies_still_commit_the_shipment() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .simulator()
        .inject(rule(route::SHIP, Fault::Malformed, Some(1)));
    harness.simulator().inject(rule(
        route::SHIP,
        Fault::ReplaceBody {
            body: "<html>bad gateway</html>".to_owned(),
        },
        Some(1),
    ));
    let response = harness
        .http
        .post(harness.url("/ship/v1/shipments"))
        .bearer_auth(&token)
        .json(&print_return_request("PDF"))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    let response = harness
        .http
        .post(harness.url("/ship/v1/shipments"))
        .bearer_auth(&token)
        .json(&print_return_request("PDF"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "<html>bad gateway</html>");
    assert_eq!(harness.simulator().ledger().len(), 2);
}

#[tokio::test]
async fn a_reset_after_commit_cuts_the_answer_but_keeps_the_shipment() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .simulator()
        .inject(rule(route::SHIP, Fault::ResetAfterCommit, Some(1)));
    let sent = harness
        .http
        .post(harness.url("/ship/v1/shipments"))
        .bearer_auth(&token)
        .json(&print_return_request("PDF"))
        .send()
        .await;
    let read = match sent {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(read.is_err(), "the answer should have been cut");
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn an_expired_token_fault_forgets_the_token() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .simulator()
        .inject(rule(route::TRACK, Fault::ExpiredToken, Some(1)));
    harness
        .track(&token, &["794843185271"], false)
        .await
        .expect(StatusCode::UNAUTHORIZED, "NOT.AUTHORIZED.ERROR");
    harness
        .ship(&token, &print_return_request("PDF"))
        .await
        .expect(StatusCode::UNAUTHORIZED, "NOT.AUTHORIZED.ERROR");
}

#[tokio::test]
async fn fault_rules_are_checked_and_managed_over_http() {
    let harness = Harness::start().await;
    let bad = harness
        .http
        .post(harness.url("/__sim/faults"))
        .json(&json!({"route": "token", "fault": {"kind": "expired_token"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let good = harness
        .http
        .post(harness.url("/__sim/faults"))
        .json(&json!({"route": "cancel", "fault": {"kind": "latency", "ms": 1}, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::CREATED);
    let armed: Vec<FaultRule> = harness
        .http
        .get(harness.url("/__sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(armed.len(), 1);
    let cleared = harness
        .http
        .delete(harness.url("/__sim/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_clock_advances_over_http() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let response = harness
        .http
        .post(harness.url("/__sim/clock/advance"))
        .json(&json!({"seconds": 3601}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    harness
        .ship(&token, &print_return_request("PDF"))
        .await
        .expect(StatusCode::UNAUTHORIZED, "NOT.AUTHORIZED.ERROR");
}

#[tokio::test]
async fn a_delayed_shipment_is_made_even_when_the_caller_hangs_up() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .simulator()
        .inject(rule(route::SHIP, Fault::Latency { ms: 400 }, Some(1)));
    let sent = harness
        .http
        .post(harness.url("/ship/v1/shipments"))
        .bearer_auth(&token)
        .json(&print_return_request("PDF"))
        .timeout(std::time::Duration::from_millis(50))
        .send()
        .await;
    assert!(sent.is_err(), "the caller gave up");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while harness.simulator().ledger().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no shipment made");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(harness.simulator().ledger().len(), 1);
    assert_eq!(harness.simulator().counters().route(route::SHIP).calls, 1);
}
