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

const USERINFO: &str = "/oauth2-oidc/v3/userinfo";

#[tokio::test]
async fn userinfo_answers_the_references_claims_for_the_signed_in_user_by_get_and_post() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::USERNAME).await;
    let expected = serde_json::json!({
        "sub": demo::USERNAME,
        "mail_owners": [{"crid": demo::CRID,
                         "mids": format!("{}, {}, {}", demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID)}],
        "payment_accounts": {"accounts": demo::EPS_ACCOUNT,
                             "permits": [{"permitNumber": demo::PERMIT_NUMBER, "permitZIP": demo::PERMIT_ZIP}]},
    });
    for request in [
        harness.http.get(harness.url(USERINFO)),
        harness.http.post(harness.url(USERINFO)),
    ] {
        let response = request.bearer_auth(&access).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, expected);
    }
    assert_eq!(harness.simulator().counters().route("userinfo").calls, 2);
}

#[tokio::test]
async fn userinfo_of_a_business_with_several_of_everything_lists_them_all() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::MULTI_USERNAME).await;
    let body: Value = harness
        .http
        .get(harness.url(USERINFO))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["mail_owners"][1],
        serde_json::json!({"crid": demo::SECOND_CRID,
                           "mids": format!("{}, {}", demo::SECOND_MID, demo::SECOND_RETURNS_MID)})
    );
    assert_eq!(
        body["payment_accounts"]["accounts"],
        format!("{}, {}", demo::EPS_ACCOUNT, demo::SECOND_EPS_ACCOUNT),
        "active accounts only: {} is inactive",
        demo::INACTIVE_EPS_ACCOUNT
    );
    assert_eq!(
        body["payment_accounts"]["permits"][1],
        serde_json::json!({"permitNumber": demo::SECOND_PERMIT_NUMBER, "permitZIP": demo::SECOND_PERMIT_ZIP})
    );
}

#[tokio::test]
async fn userinfo_needs_the_openid_scope_and_releases_each_claim_with_its_own() {
    let harness = Harness::start().await;
    let token_for = |scope: &'static str| {
        let harness = &harness;
        async move {
            let response = harness
                .http
                .post(harness.url("/oauth2/v3/authorize"))
                .form(&[
                    ("client_id", demo::CLIENT_ID),
                    ("redirect_uri", demo::REDIRECT_URI),
                    ("response_type", "code"),
                    ("scope", scope),
                    ("state", "xyz"),
                    ("username", demo::USERNAME),
                    ("password", demo::PASSWORD),
                    ("consent", "yes"),
                    ("decision", "approve"),
                ])
                .send()
                .await
                .unwrap();
            let location =
                url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
            let code = location
                .query_pairs()
                .find(|(key, _)| key == "code")
                .map(|(_, value)| value.into_owned())
                .unwrap();
            let body: Value = harness
                .token_request(serde_json::json!({
                    "grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
                    "client_secret": demo::CLIENT_SECRET, "code": code,
                    "redirect_uri": demo::REDIRECT_URI}))
                .await
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let labels_only = token_for("labels payments").await;
    let response = harness
        .http
        .get(harness.url(USERINFO))
        .bearer_auth(&labels_only)
        .send()
        .await
        .unwrap();
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(codes, ["SIM_FORBIDDEN"]);

    let mids_only = token_for("openid usps:MIDs").await;
    let body: Value = harness
        .http
        .get(harness.url(USERINFO))
        .bearer_auth(&mids_only)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("mail_owners").is_some());
    assert!(body.get("payment_accounts").is_none());
}

#[tokio::test]
async fn the_invented_oauth2_userinfo_route_is_gone() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::USERNAME).await;
    let response = harness
        .http
        .get(harness.url("/oauth2/v3/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn userinfo_refuses_a_client_credentials_token_with_403() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .http
        .get(harness.url(USERINFO))
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
        .get(harness.url(USERINFO))
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
        .get(harness.url(USERINFO))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["mail_owners"][0]["crid"], demo::SMALL_CRID);
}
