//! "Login with USPS" against the simulator: the consent form driven with reqwest, the code
//! exchange, the userinfo prefill, refresh, and labels bought with `platform_app` credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use carrier::PkceVerifier;
use carrier::{AccountInput, Carrier, Credentials, ErrorKind, OAuthConnection, OAuthOnboarding};
use carrier_usps::{PlatformApp, UspsCarrier};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use support::{buy, fault, key, request, simulator};
use usps_sim::{Fault, RunningSimulator, demo, route};

/// A loopback redirect URI: the simulator accepts any for its demo app.
const REDIRECT_URI: &str = "http://127.0.0.1:9/v1/usps/oauth/callback";
const GROUND: &str = "usps_ground_advantage_return";

fn platform_carrier(sim: &RunningSimulator) -> UspsCarrier {
    support::builder(&sim.base_url)
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(demo::CLIENT_SECRET),
            REDIRECT_URI,
        ))
        .build()
        .unwrap()
}

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Signs in on the consent page as a person would and approves; returns the redirect's query.
async fn consent(
    hooks: &dyn OAuthOnboarding,
    state: &str,
    username: &str,
    verifier: &PkceVerifier,
) -> BTreeMap<String, String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = hooks.authorize_url(state, &verifier.challenge()).unwrap();
    let page = browser
        .get(authorize.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hidden =
        regex::Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
    let mut form: Vec<(String, String)> = hidden
        .captures_iter(&page)
        .map(|c| (c[1].to_owned(), unescape(&c[2])))
        .collect();
    assert!(
        form.iter().any(|(name, _)| name == "state"),
        "the consent page carries our state: {page}"
    );
    form.push(("username".into(), username.into()));
    form.push(("password".into(), demo::PASSWORD.into()));
    form.push(("consent".into(), "yes".into()));
    form.push(("decision".into(), "approve".into()));
    let action = authorize.join("/oauth2/v3/authorize").unwrap();
    let response = browser.post(action).form(&form).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303, "approval redirects");
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn connect(carrier: &UspsCarrier) -> OAuthConnection {
    let hooks = carrier.oauth().unwrap();
    let verifier = PkceVerifier::generate();
    let query = consent(hooks, "state-123", demo::USERNAME, &verifier).await;
    assert_eq!(query["state"], "state-123");
    hooks
        .exchange_code(&query["code"], &verifier)
        .await
        .unwrap()
}

/// The prefilled details completed by the merchant: the MIDs chosen among those offered (USPS
/// names them without their roles) and the return address.
fn completed_details(connection: &OAuthConnection) -> Value {
    let offered = &connection.prefill.options["mid"];
    for mid in [demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID] {
        assert!(
            offered.as_array().unwrap().contains(&json!(mid)),
            "{offered}"
        );
    }
    let mut details = Value::Object(connection.prefill.details.clone());
    details["mid"] = json!(demo::MID);
    details["manifest_mid"] = json!(demo::MANIFEST_MID);
    details["returns_mid"] = json!(demo::RETURNS_MID);
    details["return_address"] = support::return_address();
    details
}

#[tokio::test]
async fn login_with_usps_stores_tokens_and_prefills_the_account() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect(&carrier).await;
    let credentials = &connection.credentials;
    assert_eq!(credentials.mode(), "platform_app");
    assert!(credentials.secret("access_token").is_some());
    assert!(credentials.secret("refresh_token").is_some());
    assert!(credentials.public("access_token_expires_at").is_some());
    assert!(credentials.public("refresh_token_expires_at").is_some());
    let details = &connection.prefill.details;
    let options = &connection.prefill.options;
    // One CRID and one active EPS account: pre-filled. Three MIDs without roles: choices.
    assert_eq!(details["crid"], json!(demo::CRID));
    assert!(details.get("mid").is_none());
    let mids = json!([demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID]);
    for detail in ["mid", "manifest_mid", "returns_mid"] {
        assert_eq!(options[detail], mids, "{detail}");
    }
    assert_eq!(details["account_type"], json!("EPS"));
    assert_eq!(details["eps_account_number"], json!("******4321"));
    assert_eq!(options["permit_number"], json!([demo::PERMIT_NUMBER]));
    assert_eq!(connection.prefill.unavailable, None);
    assert_eq!(
        credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        demo::EPS_ACCOUNT
    );
    let shown = serde_json::to_string(&connection.prefill).unwrap();
    assert!(!shown.contains(demo::EPS_ACCOUNT) && !shown.contains(demo::INACTIVE_EPS_ACCOUNT));
    assert_eq!(sim.simulator.counters().route(route::USERINFO).calls, 1);
}

#[tokio::test]
async fn a_connected_account_buys_labels_with_its_own_token() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect(&carrier).await;
    let account = carrier
        .validate_account(AccountInput {
            details: &completed_details(&connection),
            credentials: None,
            current: Some(&connection.credentials),
        })
        .unwrap();
    assert!(!account.needs_authorization);
    let label = buy(&carrier, &account, &request(GROUND), &key("platform-label"))
        .await
        .unwrap();
    assert!(label.tracking_number.as_str().contains(demo::RETURNS_MID));
    assert_eq!(
        sim.simulator.counters().grant("client_credentials").calls,
        0,
        "the account's own token was used"
    );
}

#[tokio::test]
async fn a_connection_awaits_consent_until_it_has_tokens() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let pending = carrier
        .validate_account(AccountInput {
            details: &support::eps_details(),
            credentials: Some(&carrier::CredentialsInput::new().with("mode", "platform_app")),
            current: None,
        })
        .unwrap();
    assert!(pending.needs_authorization);
    let error = buy(&carrier, &pending, &request(GROUND), &key("too-early"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert_eq!(sim.simulator.counters().route(route::TOKEN).calls, 0);
}

#[tokio::test]
async fn refresh_rotates_both_tokens_and_keeps_the_rest() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect(&carrier).await;
    let hooks = carrier.oauth().unwrap();
    let renewed = hooks.refresh(&connection.credentials).await.unwrap();
    let secret = |c: &Credentials, name: &str| c.secret(name).unwrap().expose_secret().to_owned();
    assert_ne!(
        secret(&renewed, "access_token"),
        secret(&connection.credentials, "access_token")
    );
    assert_ne!(
        secret(&renewed, "refresh_token"),
        secret(&connection.credentials, "refresh_token")
    );
    assert_eq!(secret(&renewed, "eps_account_number"), demo::EPS_ACCOUNT);
    assert!(hooks.refresh_due_at(&renewed).unwrap() > chrono::Utc::now());
    // USPS revoked the old refresh token when it issued the new one.
    let error = hooks.refresh(&connection.credentials).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert_eq!(sim.simulator.counters().grant("refresh_token").calls, 2);
}

#[tokio::test]
async fn an_unknown_authorization_code_is_unauthenticated() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let error = carrier
        .oauth()
        .unwrap()
        .exchange_code("NOTACODE", &PkceVerifier::generate())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
}

#[tokio::test]
async fn a_code_exchanged_with_another_sign_ins_verifier_is_unauthenticated() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let hooks = carrier.oauth().unwrap();
    let query = consent(hooks, "mine", demo::USERNAME, &PkceVerifier::generate()).await;
    let error = hooks
        .exchange_code(&query["code"], &PkceVerifier::generate())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert!(
        error.to_string().contains("code_verifier does not match"),
        "{error}"
    );
}

#[tokio::test]
async fn an_authorization_code_is_single_use() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let hooks = carrier.oauth().unwrap();
    let verifier = PkceVerifier::generate();
    let query = consent(hooks, "once", demo::USERNAME, &verifier).await;
    hooks
        .exchange_code(&query["code"], &verifier)
        .await
        .unwrap();
    let replay = hooks
        .exchange_code(&query["code"], &verifier)
        .await
        .unwrap_err();
    assert_eq!(replay.kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn an_expiring_platform_token_is_unauthenticated_until_refreshed() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect(&carrier).await;
    let mut expiring = Credentials::new("platform_app");
    for name in connection.credentials.secret_names() {
        expiring = expiring.with_secret(name, connection.credentials.secret(name).unwrap().clone());
    }
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(2)).to_rfc3339();
    expiring = expiring
        .with_public("access_token_expires_at", soon)
        .with_public(
            "refresh_token_expires_at",
            connection
                .credentials
                .public("refresh_token_expires_at")
                .unwrap(),
        );
    let details = completed_details(&connection);
    let account = carrier
        .validate_account(AccountInput {
            details: &details,
            credentials: None,
            current: Some(&expiring),
        })
        .unwrap();
    let error = buy(&carrier, &account, &request(GROUND), &key("expiring"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    assert_eq!(sim.simulator.counters().route(route::RETURN_LABEL).calls, 0);

    let hooks = carrier.oauth().unwrap();
    assert!(hooks.refresh_due_at(&expiring).unwrap() <= chrono::Utc::now());
    let renewed = hooks.refresh(&expiring).await.unwrap();
    let account = carrier
        .validate_account(AccountInput {
            details: &details,
            credentials: None,
            current: Some(&renewed),
        })
        .unwrap();
    buy(&carrier, &account, &request(GROUND), &key("expiring"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_platform_token_refused_by_usps_is_unauthenticated_without_a_retry() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect(&carrier).await;
    let account = carrier
        .validate_account(AccountInput {
            details: &completed_details(&connection),
            credentials: None,
            current: Some(&connection.credentials),
        })
        .unwrap();
    sim.simulator
        .inject(fault(route::RETURN_LABEL, Fault::ExpiredToken));
    let error = buy(&carrier, &account, &request(GROUND), &key("revoked"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    assert_eq!(sim.simulator.counters().route(route::RETURN_LABEL).calls, 1);
    let token = connection
        .credentials
        .secret("access_token")
        .unwrap()
        .expose_secret()
        .to_owned();
    assert!(!format!("{error} {error:?}").contains(&token));
}

async fn connect_as(carrier: &UspsCarrier, username: &str) -> OAuthConnection {
    let hooks = carrier.oauth().unwrap();
    let verifier = PkceVerifier::generate();
    let query = consent(hooks, "state-456", username, &verifier).await;
    hooks
        .exchange_code(&query["code"], &verifier)
        .await
        .unwrap()
}

/// A business with two CRIDs and two EPS accounts: both offered masked, both numbers sealed;
/// the merchant's masked choice becomes the account's EPS number, and it pays for the label.
#[tokio::test]
async fn several_eps_accounts_are_chosen_by_their_masked_numbers() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    let connection = connect_as(&carrier, demo::MULTI_USERNAME).await;
    let options = &connection.prefill.options;
    assert_eq!(options["crid"], json!([demo::CRID, demo::SECOND_CRID]));
    assert_eq!(
        options["eps_account_number"],
        json!(["******4321", "******7777"])
    );
    assert!(
        connection
            .prefill
            .details
            .get("eps_account_number")
            .is_none()
    );
    let credentials = &connection.credentials;
    assert!(credentials.secret("eps_account_number").is_none());
    let shown = format!(
        "{:?} {}",
        credentials,
        serde_json::to_string(&connection.prefill).unwrap()
    );
    assert!(!shown.contains(demo::SECOND_EPS_ACCOUNT), "{shown}");

    let mut details = Value::Object(connection.prefill.details.clone());
    details["crid"] = json!(demo::SECOND_CRID);
    details["mid"] = json!(demo::SECOND_MID);
    details["returns_mid"] = json!(demo::SECOND_RETURNS_MID);
    details["eps_account_number"] = json!("******7777");
    details["return_address"] = support::return_address();
    let account = carrier
        .validate_account(AccountInput {
            details: &details,
            credentials: None,
            current: Some(credentials),
        })
        .unwrap();
    assert_eq!(
        account
            .credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        demo::SECOND_EPS_ACCOUNT
    );
    let label = buy(&carrier, &account, &request(GROUND), &key("second-eps"))
        .await
        .unwrap();
    assert!(
        label
            .tracking_number
            .as_str()
            .contains(demo::SECOND_RETURNS_MID)
    );
    assert_eq!(sim.simulator.ledger()[0].crid, demo::SECOND_CRID);
}

/// UserInfo failing does not fail the sign-in: the tokens are kept, nothing is pre-filled, and
/// the prefill says why (without the token).
#[tokio::test]
async fn a_failed_userinfo_connects_the_account_with_nothing_prefilled_and_says_why() {
    let sim = simulator().await;
    let carrier = platform_carrier(&sim);
    // Every attempt, retries included.
    sim.simulator.inject(usps_sim::FaultRule {
        times: None,
        ..fault(route::USERINFO, Fault::Status { status: 503 })
    });
    let connection = connect(&carrier).await;
    assert!(connection.credentials.secret("access_token").is_some());
    assert!(connection.prefill.details.is_empty());
    assert!(connection.prefill.options.is_empty());
    let reason = connection.prefill.unavailable.unwrap();
    assert!(reason.contains("UserInfo call failed"), "{reason}");
    assert!(reason.contains("503"), "{reason}");
    let token = connection
        .credentials
        .secret("access_token")
        .unwrap()
        .expose_secret()
        .to_owned();
    assert!(!reason.contains(&token));
}
