//! "Login with UPS" against a local stand-in: the PKCE code exchange, the single-use refresh
//! token and how refusals are classified.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use carrier::{AccountContext, Carrier, Credentials, ErrorKind, PkceVerifier};
use secrecy::{ExposeSecret, SecretString};
use support::{Answer, FakeUps, PLATFORM_ID, buy, error_body, request};

#[tokio::test]
async fn the_code_exchange_proves_the_verifier_without_a_basic_header_and_prefills_nothing() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let verifier = PkceVerifier::generate();
    let connection = carrier
        .oauth()
        .unwrap()
        .exchange_code("sentinel-code", &verifier)
        .await
        .unwrap();
    let seen = &ups.seen_on("/security/v1/oauth/token")[0];
    assert!(
        seen.header("authorization").is_none(),
        "PKCE: no Basic header"
    );
    let form = seen.form();
    for (key, value) in [
        ("grant_type", "authorization_code"),
        ("code", "sentinel-code"),
        ("code_verifier", verifier.expose()),
        ("client_id", PLATFORM_ID),
        (
            "redirect_uri",
            "https://backhaul.example/v1/ups/oauth/callback",
        ),
    ] {
        assert!(
            form.contains(&(key.into(), value.into())),
            "{key}: {form:?}"
        );
    }
    let credentials = connection.credentials;
    assert_eq!(credentials.mode(), "platform_app");
    assert_eq!(
        credentials.secret("refresh_token").unwrap().expose_secret(),
        "sentinel-refresh-1"
    );
    assert!(credentials.public("access_token_expires_at").is_some());
    assert!(credentials.public("refresh_token_expires_at").is_some());
    assert!(connection.prefill.details.is_empty() && connection.prefill.options.is_empty());
}

#[tokio::test]
async fn a_refresh_spends_the_refresh_token_and_returns_the_new_one() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let hooks = carrier.oauth().unwrap();
    let stored = Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from("sentinel-old-access"))
        .with_secret("refresh_token", SecretString::from("sentinel-old-refresh"))
        .with_public("access_token_expires_at", "2020-01-01T00:00:00Z");
    let renewed = hooks.refresh(&stored).await.unwrap();
    let seen = &ups.seen_on("/security/v1/oauth/refresh")[0];
    assert!(seen.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(
        seen.form(),
        [
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), "sentinel-old-refresh".into())
        ]
    );
    assert_eq!(
        renewed.secret("refresh_token").unwrap().expose_secret(),
        "sentinel-refresh-1"
    );
    assert_eq!(
        renewed.secret("access_token").unwrap().expose_secret(),
        "sentinel-access-1"
    );
    assert!(renewed.public("access_token_expires_at").unwrap() > "2026");
}

#[tokio::test]
async fn a_refused_refresh_means_connecting_again() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    ups.token(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body("10400", "Invalid refresh token"),
    ));
    let stored = Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from("a"))
        .with_secret("refresh_token", SecretString::from("sentinel-spent"));
    let error = carrier.oauth().unwrap().refresh(&stored).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    let none = Credentials::new("platform_app");
    let error = carrier.oauth().unwrap().refresh(&none).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    assert_eq!(ups.seen().len(), 1, "nothing sent without a refresh token");
}

#[tokio::test]
async fn a_connected_account_buys_with_its_own_token_and_an_expiring_one_is_unauthenticated() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let connected = Credentials::new("platform_app")
        .with_secret(
            "access_token",
            SecretString::from("sentinel-merchant-access"),
        )
        .with_public("access_token_expires_at", "2099-01-01T00:00:00Z");
    let account = carrier
        .validate_account(carrier::AccountInput {
            details: &support::details(),
            credentials: None,
            current: Some(&connected),
        })
        .unwrap();
    buy(&carrier, &account, &request("PDF")).await.unwrap();
    assert_eq!(
        ups.seen_on("/ship")[0].header("authorization"),
        Some("Bearer sentinel-merchant-access")
    );
    assert!(ups.seen_on("/oauth/").is_empty());
    let expiring = Credentials::new("platform_app")
        .with_secret(
            "access_token",
            SecretString::from("sentinel-merchant-access"),
        )
        .with_public("access_token_expires_at", "2020-01-01T00:00:00Z");
    let request = carrier::ReturnLabelRequest::parse(&request("PDF")).unwrap();
    let error = carrier
        .create_return_label(
            AccountContext {
                id: "sa_test",
                details: &account.details,
                credentials: &expiring,
            },
            &request,
            &support::key("k"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    assert_eq!(ups.seen_on("/ship").len(), 1);
}
