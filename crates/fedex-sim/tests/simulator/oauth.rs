//! `POST /oauth/token`: every grant, bad secrets, expiry on the simulator clock.

use std::time::Duration;

use fedex_sim::demo;
use fedex_sim::schema::SpecFile;
use reqwest::StatusCode;

use crate::common::{Harness, assert_conforms, print_return_request};

#[tokio::test]
async fn client_credentials_answer_the_files_token_shape() {
    let harness = Harness::start().await;
    let answer = harness
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::OWN_APP_CLIENT_ID),
            ("client_secret", demo::OWN_APP_CLIENT_SECRET),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "bearer");
    assert_eq!(answer.body["expires_in"], 3600);
    assert_eq!(answer.body["scope"], "CXS");
    assert!(answer.body["access_token"].as_str().unwrap().len() >= 32);
    assert_conforms(SpecFile::Authorization, "Response", &answer.body);
    assert_eq!(
        harness
            .simulator()
            .counters()
            .grant("client_credentials")
            .ok,
        1
    );
}

#[tokio::test]
async fn a_wrong_secret_is_not_authorized_with_the_files_message() {
    let harness = Harness::start().await;
    let answer = harness
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "NOT.AUTHORIZED.ERROR");
    assert!(
        answer
            .messages()
            .contains("The given client credentials were not valid")
    );
    assert_conforms(SpecFile::Authorization, "ErrorResponseVO", &answer.body);
}

#[tokio::test]
async fn csp_credentials_act_for_the_registered_childs_account_only() {
    let harness = Harness::start().await;
    let child = harness.registered_child_token().await;
    let shipped = harness.ship(&child, &print_return_request("PNG")).await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.body);
    let entry = &harness.simulator().ledger()[0];
    assert_eq!(entry.client_id, demo::CLIENT_ID);
    assert!(entry.child_key.is_some());
    let mut other = print_return_request("PNG");
    other["accountNumber"]["value"] = demo::OTHER_ACCOUNT_NUMBER.into();
    harness
        .ship(&child, &other)
        .await
        .expect(StatusCode::FORBIDDEN, "FORBIDDEN.ERROR");
}

#[tokio::test]
async fn csp_credentials_with_an_unknown_child_or_wrong_child_secret_are_refused() {
    let harness = Harness::start().await;
    let answer = harness.csp_token("no-such-child", "secret").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "NOT.AUTHORIZED.ERROR");
    let missing = harness
        .token_request(&[
            ("grant_type", "csp_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ])
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn client_pc_credentials_are_refused_as_not_simulated() {
    let harness = Harness::start().await;
    let answer = harness
        .token_request(&[
            ("grant_type", "client_pc_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("child_Key", "k"),
            ("child_secret", "s"),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "SIMULATOR.FEATURE.NOTSIMULATED");
}

#[tokio::test]
async fn an_unknown_form_field_or_a_missing_secret_is_refused_naming_the_field() {
    let harness = Harness::start().await;
    let unknown = harness
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("scope", "CXS"),
        ])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.code(), "INVALID.INPUT.EXCEPTION");
    assert!(
        unknown.messages().contains("scope"),
        "{}",
        unknown.messages()
    );
    let missing = harness
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
        ])
        .await;
    assert_eq!(missing.code(), "INVALID.INPUT.EXCEPTION");
    assert!(
        missing.messages().contains("client_secret"),
        "{}",
        missing.messages()
    );
}

#[tokio::test]
async fn a_json_token_request_is_refused() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_token_expires_after_an_hour_on_the_simulator_clock() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness.simulator().advance_clock(Duration::from_secs(3599));
    let early = harness.ship(&token, &print_return_request("PDF")).await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.body);
    harness.simulator().advance_clock(Duration::from_secs(2));
    let late = harness.ship(&token, &print_return_request("PDF")).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(late.code(), "NOT.AUTHORIZED.ERROR");
}
