//! The consent page and userinfo.

use reqwest::StatusCode;
use serde_json::Value;
use usps_sim::demo;

use crate::common::{Harness, error_codes, user_tokens};

fn authorize_query(redirect_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", demo::CLIENT_ID.to_owned()),
        ("redirect_uri", redirect_uri.to_owned()),
        ("response_type", "code".to_owned()),
        ("scope", "labels payments".to_owned()),
        ("state", "s-1&2".to_owned()),
    ]
}

fn authorize_url(harness: &Harness, pairs: &[(&str, String)]) -> url::Url {
    url::Url::parse_with_params(&harness.url("/oauth2/v3/authorize"), pairs).unwrap()
}

async fn decide(harness: &Harness, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![
        ("client_id", demo::CLIENT_ID),
        ("redirect_uri", demo::REDIRECT_URI),
        ("response_type", "code"),
        ("state", "s-1&2"),
    ];
    form.extend_from_slice(fields);
    harness
        .http
        .post(harness.url("/oauth2/v3/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn location_pairs(response: &reqwest::Response) -> (String, Vec<(String, String)>) {
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let pairs = url
        .query_pairs()
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    (url[..url::Position::AfterPath].to_owned(), pairs)
}

#[tokio::test]
async fn consent_page_is_a_form_with_labelled_credentials_and_both_buttons() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .get(authorize_url(
            &harness,
            &authorize_query(demo::REDIRECT_URI),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("<form method=\"post\""));
    assert!(page.contains("<label for=\"username\">") && page.contains("id=\"username\""));
    assert!(page.contains("<label for=\"password\">") && page.contains("type=\"password\""));
    assert!(page.contains("I authorize Backhaul to access my USPS business account"));
    assert!(page.contains("value=\"approve\">Approve</button>"));
    assert!(page.contains("value=\"deny\">Deny</button>"));
    assert!(
        page.contains("value=\"s-1&amp;2\""),
        "state is carried, escaped"
    );
    assert!(!page.contains("<script"));
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .get(authorize_url(
            &harness,
            &authorize_query("https://evil.example/steal"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("does not match the redirect URI")
    );
}

#[tokio::test]
async fn unknown_client_gets_an_error_page() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .get(authorize_url(
            &harness,
            &[
                ("client_id", "nobody".to_owned()),
                ("redirect_uri", demo::REDIRECT_URI.to_owned()),
                ("response_type", "code".to_owned()),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn loopback_redirect_on_another_port_is_accepted() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .get(authorize_url(
            &harness,
            &authorize_query("http://localhost:5173/callback"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_response_type_redirects_back_with_an_error() {
    let harness = Harness::start().await;
    let mut query = authorize_query(demo::REDIRECT_URI);
    query[2].1 = "token".to_owned();
    let response = harness
        .http
        .get(authorize_url(&harness, &query))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, pairs) = location_pairs(&response);
    assert!(pairs.contains(&("error".to_owned(), "unsupported_response_type".to_owned())));
}

#[tokio::test]
async fn approval_redirects_with_an_eight_character_code_and_the_state() {
    let harness = Harness::start().await;
    let response = decide(
        &harness,
        &[
            ("username", demo::USERNAME),
            ("password", demo::PASSWORD),
            ("consent", "yes"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (target, pairs) = location_pairs(&response);
    assert_eq!(target, demo::REDIRECT_URI);
    let code = &pairs.iter().find(|(key, _)| key == "code").unwrap().1;
    assert_eq!(code.len(), 8);
    assert!(pairs.contains(&("state".to_owned(), "s-1&2".to_owned())));
}

#[tokio::test]
async fn denial_redirects_with_access_denied_and_the_state() {
    let harness = Harness::start().await;
    let response = decide(&harness, &[("decision", "deny")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, pairs) = location_pairs(&response);
    assert!(pairs.contains(&("error".to_owned(), "access_denied".to_owned())));
    assert!(pairs.contains(&("state".to_owned(), "s-1&2".to_owned())));
    assert!(!pairs.iter().any(|(key, _)| key == "code"));
}

#[tokio::test]
async fn wrong_password_re_renders_the_page_with_an_error() {
    let harness = Harness::start().await;
    let response = decide(
        &harness,
        &[
            ("username", demo::USERNAME),
            ("password", "nope"),
            ("consent", "yes"),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("The username or password is incorrect."));
    assert!(page.contains("<form method=\"post\""));
}

#[tokio::test]
async fn approval_without_the_consent_box_re_renders_the_page() {
    let harness = Harness::start().await;
    let response = decide(
        &harness,
        &[
            ("username", demo::USERNAME),
            ("password", demo::PASSWORD),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Tick"));
}

#[tokio::test]
async fn userinfo_lists_the_signed_in_business_with_mids_accounts_and_permits() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::USERNAME).await;
    let response = harness
        .http
        .get(harness.url("/oauth2/v3/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], demo::USERNAME);
    assert_eq!(body["business"]["name"], demo::BUSINESS_NAME);
    let crid = &body["business"]["CRIDs"][0];
    assert_eq!(crid["CRID"], demo::CRID);
    assert_eq!(crid["enrolledInShipReturns"], true);
    let mids = crid["MIDs"].as_array().unwrap();
    assert!(mids.contains(&serde_json::json!({"MID": demo::MID, "role": "label"})));
    assert!(mids.contains(&serde_json::json!({"MID": demo::MANIFEST_MID, "role": "manifest"})));
    assert!(mids.contains(&serde_json::json!({"MID": demo::RETURNS_MID, "role": "returns"})));
    assert!(crid["EPSAccounts"].as_array().unwrap().contains(
        &serde_json::json!({"accountNumber": demo::INACTIVE_EPS_ACCOUNT, "status": "inactive"})
    ));
    assert_eq!(
        crid["permits"][0],
        serde_json::json!({"permitNumber": demo::PERMIT_NUMBER, "permitZIP": demo::PERMIT_ZIP})
    );
}

#[tokio::test]
async fn userinfo_refuses_a_client_credentials_token_with_403() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .http
        .get(harness.url("/oauth2/v3/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(codes, ["SIM_FORBIDDEN"]);
}

#[tokio::test]
async fn userinfo_without_a_token_is_401_with_www_authenticate() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .get(harness.url("/oauth2/v3/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn refreshed_user_token_still_reaches_userinfo() {
    let harness = Harness::start().await;
    let (_, refresh) = user_tokens(&harness, demo::SMALL_USERNAME).await;
    let response = harness
        .token_request(serde_json::json!({"grant_type": "refresh_token", "client_id": demo::CLIENT_ID,
                                          "client_secret": demo::CLIENT_SECRET, "refresh_token": refresh}))
        .await;
    let body: Value = response.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap();
    let info: Value = harness
        .http
        .get(harness.url("/oauth2/v3/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["business"]["CRIDs"][0]["CRID"], demo::SMALL_CRID);
}
