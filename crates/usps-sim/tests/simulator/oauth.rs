//! `POST /oauth2/v3/token` and `/revoke`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usps_sim::demo;

use crate::common::{Harness, user_tokens};

fn client_credentials() -> Value {
    json!({"grant_type": "client_credentials", "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET})
}

async fn oauth_error(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn client_credentials_grant_issues_an_eight_hour_bearer_token() {
    let harness = Harness::start().await;
    let response = harness.token_request(client_credentials()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 28800);
    assert!(body["issued_at"].is_i64());
    assert_eq!(body["status"], "approved");
    assert_eq!(body["client_id"], demo::CLIENT_ID);
    assert_eq!(body["application_name"], demo::APP_NAME);
    assert_eq!(body["scope"], demo::SCOPES);
    assert!(body["access_token"].as_str().unwrap().len() >= 32);
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn form_encoded_token_request_is_accepted() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("scope", "labels payments"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "labels payments");
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client_with_401() {
    let harness = Harness::start().await;
    let mut body = client_credentials();
    body["client_secret"] = json!("wrong");
    let response = harness.token_request(body).await;
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".to_owned())
    );
}

#[tokio::test]
async fn unknown_property_is_invalid_request() {
    let harness = Harness::start().await;
    let mut body = client_credentials();
    body["audience"] = json!("labels");
    let response = harness.token_request(body).await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".to_owned())
    );
}

#[tokio::test]
async fn missing_client_secret_is_invalid_request() {
    let harness = Harness::start().await;
    let response = harness
        .token_request(json!({"grant_type": "client_credentials", "client_id": demo::CLIENT_ID}))
        .await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".to_owned())
    );
}

#[tokio::test]
async fn password_grant_is_unsupported_grant_type() {
    let harness = Harness::start().await;
    let mut body = client_credentials();
    body["grant_type"] = json!("password");
    let response = harness.token_request(body).await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".to_owned())
    );
}

#[tokio::test]
async fn scope_outside_the_app_is_invalid_scope() {
    let harness = Harness::start().await;
    let mut body = client_credentials();
    body["scope"] = json!("labels international-labels");
    let response = harness.token_request(body).await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_scope".to_owned())
    );
}

#[tokio::test]
async fn non_string_parameter_is_invalid_request() {
    let harness = Harness::start().await;
    let mut body = client_credentials();
    body["client_id"] = json!(42);
    let response = harness.token_request(body).await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".to_owned())
    );
}

#[tokio::test]
async fn plain_text_token_request_is_unsupported_media_type() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/token"))
        .header("content-type", "text/plain")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn authorization_code_grant_issues_access_and_seven_day_refresh_token() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|byte| byte.is_ascii_alphanumeric()));
    let response = harness
        .token_request(json!({
            "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET, "code": code, "redirect_uri": demo::REDIRECT_URI,
        }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["refresh_token_expires_in"], 604800);
    assert_eq!(body["refresh_token_status"], "approved");
    assert_eq!(body["refresh_count"], 0);
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["expires_in"], 28800);
}

#[tokio::test]
async fn authorization_code_is_single_use() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    let request = json!({
        "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
        "client_secret": demo::CLIENT_SECRET, "code": code, "redirect_uri": demo::REDIRECT_URI,
    });
    assert_eq!(
        harness.token_request(request.clone()).await.status(),
        StatusCode::OK
    );
    let again = harness.token_request(request).await;
    assert_eq!(
        oauth_error(again).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn authorization_code_is_bound_to_its_redirect_uri() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    let response = harness
        .token_request(json!({
            "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET, "code": code,
            "redirect_uri": "http://127.0.0.1:9999/elsewhere",
        }))
        .await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn authorization_code_expires_after_five_minutes() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(5 * 60 + 1));
    let response = harness
        .token_request(json!({
            "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET, "code": code, "redirect_uri": demo::REDIRECT_URI,
        }))
        .await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn state_parameter_in_a_token_request_is_refused_as_the_schema_says() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    let response = harness
        .token_request(json!({
            "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET, "code": code,
            "redirect_uri": demo::REDIRECT_URI, "state": "nonce=abscdefg#",
        }))
        .await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".to_owned())
    );
}

/// RFC 7636 appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Approves a sign-in whose authorize request carried `pkce` and returns the redirect.
async fn approve_with(harness: &Harness, pkce: &[(&str, &str)]) -> url::Url {
    let mut form = vec![
        ("client_id", demo::CLIENT_ID),
        ("redirect_uri", demo::REDIRECT_URI),
        ("response_type", "code"),
        ("state", "xyz"),
        ("username", demo::USERNAME),
        ("password", demo::PASSWORD),
        ("consent", "yes"),
        ("decision", "approve"),
    ];
    form.extend_from_slice(pkce);
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

async fn pkce_code(harness: &Harness) -> String {
    let url = approve_with(
        harness,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    param(&url, "code").expect("a code")
}

fn code_grant(code: &str, verifier: Option<&str>) -> Value {
    let mut body = json!({
        "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
        "client_secret": demo::CLIENT_SECRET, "code": code, "redirect_uri": demo::REDIRECT_URI,
    });
    if let Some(verifier) = verifier {
        body["code_verifier"] = json!(verifier);
    }
    body
}

#[tokio::test]
async fn a_code_issued_with_a_pkce_challenge_is_redeemed_with_its_verifier() {
    let harness = Harness::start().await;
    let code = pkce_code(&harness).await;
    let response = harness
        .token_request(code_grant(&code, Some(VERIFIER)))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn a_code_issued_with_a_pkce_challenge_is_refused_without_or_with_another_verifier_and_spent()
{
    let harness = Harness::start().await;
    let code = pkce_code(&harness).await;
    assert_eq!(
        oauth_error(harness.token_request(code_grant(&code, None)).await).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
    // The refusal spent the code: even the right verifier cannot redeem it now.
    assert_eq!(
        oauth_error(
            harness
                .token_request(code_grant(&code, Some(VERIFIER)))
                .await
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
    let other = pkce_code(&harness).await;
    let wrong = "x".repeat(43);
    assert_eq!(
        oauth_error(
            harness
                .token_request(code_grant(&other, Some(&wrong)))
                .await
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let harness = Harness::start().await;
    let code = crate::common::authorization_code(&harness, demo::USERNAME).await;
    assert_eq!(
        oauth_error(
            harness
                .token_request(code_grant(&code, Some(VERIFIER)))
                .await
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn a_malformed_verifier_is_an_invalid_request() {
    let harness = Harness::start().await;
    let code = pkce_code(&harness).await;
    assert_eq!(
        oauth_error(
            harness
                .token_request(code_grant(&code, Some("short")))
                .await
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_request".to_owned())
    );
}

#[tokio::test]
async fn only_s256_challenges_are_accepted_by_the_consent_page() {
    let harness = Harness::start().await;
    for (pkce, description) in [
        (
            vec![("code_challenge", CHALLENGE)],
            "code_challenge_method must be S256",
        ),
        (
            vec![
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "plain"),
            ],
            "code_challenge_method must be S256",
        ),
        (
            vec![
                ("code_challenge", "too-short"),
                ("code_challenge_method", "S256"),
            ],
            "code_challenge must be",
        ),
        (
            vec![("code_challenge_method", "S256")],
            "without a code_challenge",
        ),
    ] {
        let url = approve_with(&harness, &pkce).await;
        assert_eq!(
            param(&url, "error").as_deref(),
            Some("invalid_request"),
            "{pkce:?}"
        );
        assert!(
            param(&url, "error_description")
                .unwrap_or_default()
                .contains(description),
            "{pkce:?}: {url}"
        );
        assert_eq!(param(&url, "code"), None);
        assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    }
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_revokes_the_old_one() {
    let harness = Harness::start().await;
    let (_, refresh) = user_tokens(&harness, demo::USERNAME).await;
    let request = |token: &str| {
        json!({"grant_type": "refresh_token", "client_id": demo::CLIENT_ID,
               "client_secret": demo::CLIENT_SECRET, "refresh_token": token})
    };
    let response = harness.token_request(request(&refresh)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let rotated = body["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, refresh);
    assert_eq!(body["refresh_count"], 1);
    let reused = harness.token_request(request(&refresh)).await;
    assert_eq!(
        oauth_error(reused).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
    assert_eq!(
        harness.token_request(request(rotated)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_token_expires_after_seven_days() {
    let harness = Harness::start().await;
    let (_, refresh) = user_tokens(&harness, demo::USERNAME).await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(7 * 24 * 3600 + 1));
    let response = harness
        .token_request(
            json!({"grant_type": "refresh_token", "client_id": demo::CLIENT_ID,
                              "client_secret": demo::CLIENT_SECRET, "refresh_token": refresh}),
        )
        .await;
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn access_token_expires_after_eight_hours() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(8 * 3600 + 1));
    let response = harness
        .authorize_payment(&access, &crate::common::eps_parties())
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_refresh_token_can_no_longer_be_used() {
    let harness = Harness::start().await;
    let (_, refresh) = user_tokens(&harness, demo::USERNAME).await;
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/revoke"))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[
            ("token", refresh.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed = harness
        .token_request(
            json!({"grant_type": "refresh_token", "client_id": demo::CLIENT_ID,
                              "client_secret": demo::CLIENT_SECRET, "refresh_token": refresh}),
        )
        .await;
    assert_eq!(
        oauth_error(refreshed).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

#[tokio::test]
async fn revoked_access_token_is_refused_by_the_apis() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/revoke"))
        .json(&json!({"token": access, "token_type_hint": "access_token",
                      "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refused = harness
        .authorize_payment(&access, &crate::common::eps_parties())
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_without_client_authentication_is_invalid_client() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/revoke"))
        .json(&json!({"token": "anything"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        oauth_error(response).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".to_owned())
    );
}

#[tokio::test]
async fn token_calls_are_counted_by_grant_type() {
    let harness = Harness::start().await;
    harness.access_token().await;
    let mut wrong = client_credentials();
    wrong["client_secret"] = json!("nope");
    harness.token_request(wrong).await;
    user_tokens(&harness, demo::USERNAME).await;
    let counters = harness.simulator().counters();
    let grant = counters.grant("client_credentials");
    assert_eq!((grant.calls, grant.ok, grant.error), (2, 1, 1));
    assert_eq!(counters.grant("authorization_code").ok, 1);
    assert_eq!(counters.route("token").calls, 3);
}
