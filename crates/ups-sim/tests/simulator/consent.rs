//! The "Login with UPS" consent page: GET shows it, the form approves or declines.

use reqwest::StatusCode;
use ups_sim::{demo, s256_challenge};

use crate::common::{Harness, VERIFIER, answer, location, query_value};

async fn authorize(harness: &Harness, query: &[(&str, &str)]) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(&harness.url("/security/v1/oauth/authorize"), query)
        .unwrap();
    harness.http.get(url).send().await.unwrap()
}

fn valid_query(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", demo::CLIENT_ID.to_owned()),
        ("redirect_uri", demo::REDIRECT_URI.to_owned()),
        ("response_type", "code".to_owned()),
        ("state", "xyz-state".to_owned()),
        ("code_challenge", challenge.to_owned()),
    ]
}

fn borrowed<'a>(query: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    query
        .iter()
        .map(|(key, value)| (*key, value.as_str()))
        .collect()
}

#[tokio::test]
async fn consent_page_shows_a_login_form_carrying_the_request() {
    let harness = Harness::start().await;
    let challenge = s256_challenge(VERIFIER);
    let response = authorize(&harness, &borrowed(&valid_query(&challenge))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Login with UPS"));
    assert!(page.contains("name=\"username\"") && page.contains("value=\"decline\""));
    assert!(page.contains(&challenge) && page.contains("xyz-state"));
}

#[tokio::test]
async fn unknown_client_is_refused_with_401_in_ups_shape() {
    let harness = Harness::start().await;
    let mut query = valid_query(&s256_challenge(VERIFIER));
    query[0].1 = "nobody".to_owned();
    let answer = answer(authorize(&harness, &borrowed(&query)).await).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "10401");
}

#[tokio::test]
async fn unregistered_redirect_uri_is_refused_without_redirecting() {
    let harness = Harness::start().await;
    let mut query = valid_query(&s256_challenge(VERIFIER));
    query[1].1 = "https://evil.example/callback".to_owned();
    let response = authorize(&harness, &borrowed(&query)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(answer(response).await.messages().contains("redirect_uri"));
}

#[tokio::test]
async fn response_type_other_than_code_is_refused() {
    let harness = Harness::start().await;
    let mut query = valid_query(&s256_challenge(VERIFIER));
    query[2].1 = "token".to_owned();
    let answer = answer(authorize(&harness, &borrowed(&query)).await).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("response_type"));
}

#[tokio::test]
async fn plain_code_challenge_method_is_refused_and_s256_accepted() {
    let harness = Harness::start().await;
    let challenge = s256_challenge(VERIFIER);
    let mut query = valid_query(&challenge);
    query.push(("code_challenge_method", "plain".to_owned()));
    let refused = answer(authorize(&harness, &borrowed(&query)).await).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.messages().contains("code_challenge_method plain"));
    query.last_mut().unwrap().1 = "S256".to_owned();
    assert_eq!(
        authorize(&harness, &borrowed(&query)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_challenge_that_is_not_a_sha256_in_base64url_is_refused() {
    let harness = Harness::start().await;
    let query = valid_query(VERIFIER.get(..20).unwrap());
    let answer = answer(authorize(&harness, &borrowed(&query)).await).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.messages().contains("code_challenge"));
}

#[tokio::test]
async fn approving_redirects_with_a_code_and_the_state() {
    let harness = Harness::start().await;
    let response = harness.consent(demo::USERNAME, "approve", &[]).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location(&response);
    assert!(location.starts_with(demo::REDIRECT_URI));
    assert!(query_value(&location, "code").is_some_and(|code| code.len() >= 20));
    assert_eq!(
        query_value(&location, "state").as_deref(),
        Some("xyz-state")
    );
}

#[tokio::test]
async fn declining_redirects_with_access_denied_and_the_state() {
    let harness = Harness::start().await;
    let response = harness.consent(demo::USERNAME, "decline", &[]).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location(&response);
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_value(&location, "state").as_deref(),
        Some("xyz-state")
    );
    assert!(query_value(&location, "code").is_none());
}

#[tokio::test]
async fn a_wrong_password_shows_the_page_again_without_a_code() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/security/v1/oauth/authorize"))
        .form(&[
            ("client_id", demo::CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
            ("response_type", "code"),
            ("username", demo::USERNAME),
            ("password", "wrong"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("incorrect"));
}
