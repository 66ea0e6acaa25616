//! Tokens: the PKCE and plain authorization-code grants, client credentials, single-use
//! refresh tokens, lifetimes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use ups_sim::demo;

use crate::common::{Harness, VERIFIER, location, print_return_request, query_value};

fn assert_every_value_is_a_string(body: &Value, fields: &[&str]) {
    for field in fields {
        assert!(body[field].is_string(), "{field} is not a string in {body}");
    }
}

#[tokio::test]
async fn pkce_flow_issues_tokens_typed_as_the_spec_says_and_they_ship() {
    let harness = Harness::start().await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    assert_every_value_is_a_string(
        &tokens,
        &[
            "refresh_token_expires_in",
            "refresh_token_status",
            "token_type",
            "issued_at",
            "client_id",
            "access_token",
            "refresh_token",
            "scope",
            "refresh_token_issued_at",
            "expires_in",
            "refresh_count",
            "status",
        ],
    );
    assert_eq!(tokens["expires_in"], "14399");
    assert_eq!(tokens["refresh_token_expires_in"], "5183999");
    assert_eq!(tokens["refresh_count"], "0");
    let access = tokens["access_token"].as_str().unwrap();
    let shipped = harness.ship(access, &print_return_request()).await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.body);
    assert_eq!(
        harness.simulator().ledger()[0].username.as_deref(),
        Some(demo::USERNAME)
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    assert_eq!(
        harness.redeem_pkce(&code, VERIFIER).await.status,
        StatusCode::OK
    );
    let replay = harness.redeem_pkce(&code, VERIFIER).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.code(), "10402");
    assert!(replay.messages().contains("already used"));
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_burns_the_code() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    let wrong = harness.redeem_pkce(&code, &"x".repeat(43)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .messages()
            .contains("does not match the code_challenge")
    );
    assert_eq!(
        harness.redeem_pkce(&code, VERIFIER).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(5 * 60 + 1));
    let expired = harness.redeem_pkce(&code, VERIFIER).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(expired.messages().contains("expired"));
}

#[tokio::test]
async fn a_code_redeemed_with_another_redirect_uri_is_refused() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9999/other"),
                ("client_id", demo::CLIENT_ID),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("redirect_uri does not match"));
}

#[tokio::test]
async fn pkce_with_a_basic_header_is_refused_per_the_specs_note() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", demo::REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("must not carry a Basic"));
}

#[tokio::test]
async fn a_pkce_code_without_its_verifier_is_refused_even_with_basic_auth() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", demo::REDIRECT_URI),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("code_verifier is required"));
}

#[tokio::test]
async fn plain_authorization_code_with_basic_auth_issues_tokens() {
    let harness = Harness::start().await;
    let response = harness.consent(demo::USERNAME, "approve", &[]).await;
    let code = query_value(&location(&response), "code").unwrap();
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", demo::REDIRECT_URI),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body["refresh_token"].is_string());
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_the_old_refresh_token_is_dead() {
    let harness = Harness::start().await;
    let first = harness.user_tokens(demo::USERNAME).await;
    let old = first["refresh_token"].as_str().unwrap();
    let refreshed = harness.refresh(old).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_ne!(refreshed.body["refresh_token"], first["refresh_token"]);
    assert_ne!(refreshed.body["access_token"], first["access_token"]);
    assert_eq!(refreshed.body["refresh_count"], "1");
    let reused = harness.refresh(old).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.code(), "10402");
    let next = harness
        .refresh(refreshed.body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(next.status, StatusCode::OK);
    assert_eq!(next.body["refresh_count"], "2");
    let new_access = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(
        harness
            .ship(new_access, &print_return_request())
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_tokens_expire_after_sixty_days() {
    let harness = Harness::start().await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(60 * 24 * 3600));
    let answer = harness
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("expired"));
}

#[tokio::test]
async fn refresh_without_basic_auth_is_refused() {
    let harness = Harness::start().await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/refresh",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn client_credentials_issue_a_token_typed_as_the_spec_says() {
    let harness = Harness::start().await;
    let answer = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_every_value_is_a_string(
        &answer.body,
        &[
            "token_type",
            "issued_at",
            "client_id",
            "access_token",
            "scope",
            "expires_in",
            "refresh_count",
            "status",
        ],
    );
    assert!(answer.body.get("refresh_token").is_none());
    let counters = harness.simulator().counters();
    assert_eq!(counters.grant("client_credentials").ok, 1);
}

#[tokio::test]
async fn client_credentials_with_a_wrong_secret_or_no_basic_header_are_401() {
    let harness = Harness::start().await;
    let wrong = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, "guessed-s3cret")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "10401");
    assert!(!wrong.body.to_string().contains("guessed-s3cret"));
    let missing = harness
        .oauth_post(
            "/security/v1/oauth/token",
            None,
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn x_merchant_id_must_be_an_account_of_the_app_and_limits_the_token() {
    let harness = Harness::start().await;
    let send = |merchant: &'static str| {
        harness
            .http
            .post(harness.url("/security/v1/oauth/token"))
            .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
            .header("x-merchant-id", merchant)
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    assert_eq!(
        send(demo::SHIPPER_NUMBER).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        send(demo::OTHER_SHIPPER_NUMBER).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(send("12").await.unwrap().status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_grant_types_fields_and_content_types_are_refused() {
    let harness = Harness::start().await;
    let basic = Some((demo::CLIENT_ID, demo::CLIENT_SECRET));
    let password = harness
        .oauth_post(
            "/security/v1/oauth/token",
            basic,
            &[("grant_type", "password")],
        )
        .await;
    assert_eq!(password.status, StatusCode::BAD_REQUEST);
    assert_eq!(password.code(), "10403");
    let refresh_on_token = harness
        .oauth_post(
            "/security/v1/oauth/token",
            basic,
            &[("grant_type", "refresh_token")],
        )
        .await;
    assert_eq!(refresh_on_token.status, StatusCode::BAD_REQUEST);
    let extra = harness
        .oauth_post(
            "/security/v1/oauth/token",
            basic,
            &[("grant_type", "client_credentials"), ("scope", "all")],
        )
        .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
    assert!(extra.messages().contains("scope"));
    let json = harness
        .http
        .post(harness.url("/security/v1/oauth/token"))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn access_tokens_expire_after_four_hours() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(14_399));
    let answer = harness.ship(&token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "250002");
}

#[tokio::test]
async fn debug_output_of_the_simulator_shows_no_secret_code_or_token() {
    let harness = Harness::start().await;
    let code = harness.pkce_code(demo::USERNAME).await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    let client = harness.client_token().await;
    let shown = format!("{:?}", harness.running);
    for secret in [
        code.as_str(),
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
        client.as_str(),
        demo::CLIENT_SECRET,
        &ups_sim::s256_challenge(VERIFIER),
    ] {
        assert!(!shown.contains(secret), "Debug shows a secret: {shown}");
    }
    assert!(shown.contains("access_tokens: 2"), "{shown}");
}

/// The property names of `schema` in one of the OAuth files under `spec/`.
fn schema_fields(file: &str, schema: &str) -> Vec<String> {
    let path = format!("{}/spec/{file}", env!("CARGO_MANIFEST_DIR"));
    let spec: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut fields: Vec<String> = spec["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    fields.sort();
    fields
}

fn body_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    fields
}

#[tokio::test]
async fn token_answers_carry_exactly_the_fields_of_their_schemas() {
    let harness = Harness::start().await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    assert_eq!(
        body_fields(&tokens),
        schema_fields("OAuthAuthCode.yaml", "generateTokenSuccessResponse")
    );
    let refreshed = harness
        .refresh(tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(
        body_fields(&refreshed.body),
        schema_fields("OAuthAuthCode.yaml", "refreshTokenSuccessResponse")
    );
    let client = harness
        .oauth_post(
            "/security/v1/oauth/token",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        body_fields(&client.body),
        schema_fields("OAuthClientCredentials.yaml", "tokenSuccessResponse")
    );
    let refused = harness.refresh("unknown").await;
    assert_eq!(body_fields(&refused.body), vec!["response".to_owned()]);
    assert!(refused.body["response"]["errors"][0]["code"].is_string());
    assert!(refused.body["response"]["errors"][0]["message"].is_string());
}
