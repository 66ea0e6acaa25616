//! Leak test: an end-to-end session in which every secret is a sentinel — the own-app and
//! platform-app client secrets, the rotated secret, a wrong secret, the EPS account number
//! (digits), the Web Tools user ID and password, the tenant's and the admin's API keys and the
//! OAuth tokens USPS issues — against a private Postgres logging every statement with its bound
//! parameters, with the application's tracing at TRACE captured as JSON. Afterwards a
//! `pg_dump` of the database, the Postgres log and every log line contain no sentinel: not raw,
//! not URL-encoded, not hex, not inside any base64.
//!
//! The session: accounts created both ways (own app and Web Tools over the API, the platform app
//! through "Login with USPS"), labels through all three (one after a reset after the carrier's
//! commit, one after a Web Tools 500, one after an OAuth renewal), credentials rotated, a wrong
//! secret and malformed input refused, the tenant's and the admin's views, the audit chain
//! verified, and the master keys rotated.
//!
//! The UPS session does the same on UPS: own-app client secrets (used, rotated, wrong) and a
//! Login-with-UPS account's access and refresh tokens — those of the consent and those of the
//! renewal, UPS rotating refresh tokens — are also looked for in every answer the session
//! received (pages, accounts, labels, the admin's views and audit trail).
//!
//! The FedEx session (`leak/fedex.rs`) does the same on FedEx: own-app client secrets (used,
//! rotated, wrong) and a registered account's secrets that the simulator generated — the
//! `accountAuthToken`s, the PINs sent and a wrong one typed, the child key and secret, every
//! bearer token — also in every answer; the PINs, six digits, are looked for as values of their
//! own (`net::found_code`), where chance cannot put them.
//!
//! Negative controls prove the net would catch a leak: a control value bound as a query
//! parameter shows up in the Postgres log and in the dump, and a control value logged
//! base64-encoded at TRACE is found in the captured log. (The subscriber is process-wide: both
//! sessions write to one capture, and each looks for its own sentinels in all of it.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "leak/fedex.rs"]
mod fedex;
#[path = "leak/net.rs"]
mod net;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use accounts::audit::Actor;
use accounts::{AccountService, MasterKeyring};
use backhaul_tests::{
    PluginOptions, Purchases, TestApp, buy_until_bought, label_request, master_keys,
    return_address, v3_account, webtools_account,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use carrier::CarrierRegistry;
use secrecy::SecretString;
use serde_json::{Value, json};
use usps_sim::config::{AppConfig, SimConfig};
use usps_sim::{Fault, FaultRule, demo, route};

use crate::net::{assert_no_sentinel_anywhere, captured_logs, found, logging_postgres};

const OWN_APP_ID: &str = "leak-own-app";
const OWN_APP_SECRET: &str = "Sentinel+OwnApp/Q7vX2mK9";
const ROTATED_APP_ID: &str = "leak-rotated-app";
const ROTATED_SECRET: &str = "Sentinel+Rotated/H2kD9sF4";
const WRONG_SECRET: &str = "Sentinel+Wrong/B6yT1eR5";
const PLATFORM_SECRET: &str = "Sentinel+Platform/R4tB8nW3";
const EPS_ACCOUNT: &str = "8675309421";
const WEBTOOLS_USER_ID: &str = "SentinelWT.User-K3mQ8";
const WEBTOOLS_PASSWORD: &str = "Sentinel+WebTools/Z5pL1cJ6";

const UPS_OWN_APP_ID: &str = "leak-ups-own-app";
const UPS_OWN_APP_SECRET: &str = "Sentinel+UpsOwnApp/T5gH8jL2";
const UPS_ROTATED_APP_ID: &str = "leak-ups-rotated-app";
const UPS_ROTATED_SECRET: &str = "Sentinel+UpsRotated/W9cV3bN6";
const UPS_WRONG_SECRET: &str = "Sentinel+UpsWrong/D4fS7aQ1";

/// The simulator's demo world with the sentinels as its credentials.
fn sentinel_world() -> SimConfig {
    let mut config = SimConfig::default();
    let demo_app = config
        .apps
        .iter_mut()
        .find(|app| app.client_id == demo::CLIENT_ID)
        .unwrap();
    demo_app.client_secret = PLATFORM_SECRET.to_owned();
    let own_app = |client_id: &str, client_secret: &str| AppConfig {
        client_id: client_id.to_owned(),
        client_secret: client_secret.to_owned(),
        name: "Merchant's own app".to_owned(),
        redirect_uris: Vec::new(),
        allow_loopback_redirects: false,
        scopes: demo::SCOPES.split(' ').map(str::to_owned).collect(),
    };
    config.apps.push(own_app(OWN_APP_ID, OWN_APP_SECRET));
    config.apps.push(own_app(ROTATED_APP_ID, ROTATED_SECRET));
    let crid = config
        .crids
        .iter_mut()
        .find(|crid| crid.crid == demo::CRID)
        .unwrap();
    let eps = crid
        .eps_accounts
        .iter_mut()
        .find(|eps| eps.number == demo::EPS_ACCOUNT)
        .unwrap();
    eps.number = EPS_ACCOUNT.to_owned();
    let user = config
        .webtools_users
        .iter_mut()
        .find(|user| user.user_id == demo::WEBTOOLS_USER_ID)
        .unwrap();
    user.user_id = WEBTOOLS_USER_ID.to_owned();
    user.password = Some(WEBTOOLS_PASSWORD.to_owned());
    config
}

/// Buys a label, retrying 409/503/504 with the same key; returns its JSON tracking number.
async fn buy(app: &TestApp, key: &str, body: &Value) -> String {
    let purchases = tokio::sync::Mutex::new(Purchases::default());
    buy_until_bought(app, key, body, &AtomicBool::new(false), &purchases).await;
    let purchases = purchases.into_inner();
    assert!(purchases.problems.is_empty(), "{:#?}", purchases.problems);
    purchases.bought[key].clone()
}

fn with_account(account: &Value) -> Value {
    let mut body = label_request("usps_ground_advantage_return");
    body["shipper_account_id"] = account["id"].clone();
    body
}

/// The status and body of an answer.
async fn read(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn created(app: &TestApp, body: &Value) -> Value {
    let response = app
        .post(&app.tenant_key, "/v1/shipper-accounts", body)
        .await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sentinel_secret_reaches_the_database_its_log_or_a_log_line() {
    tokio::time::timeout(std::time::Duration::from_secs(240), leak_session())
        .await
        .expect("the leak test finished in time");
}

async fn leak_session() {
    let captured = captured_logs();
    let postgres = logging_postgres().await;
    let owner = postgres.migrated_database().await;
    let app = TestApp::spawn_with_simulator(
        owner.clone(),
        sentinel_world(),
        PLATFORM_SECRET,
        PluginOptions::default(),
    )
    .await;
    let simulator = &app.simulator.simulator;

    // Accounts: own app (EPS), Web Tools, and the platform app through Login with USPS.
    let mut own_app = v3_account("Own app");
    own_app["details"]["eps_account_number"] = json!(EPS_ACCOUNT);
    own_app["credentials"] =
        json!({"mode": "own_app", "client_id": OWN_APP_ID, "client_secret": OWN_APP_SECRET});
    let own_app = created(&app, &own_app).await;
    let mut webtools = webtools_account("Web Tools");
    webtools["details"]["eps_account_number"] = json!(EPS_ACCOUNT);
    webtools["credentials"] =
        json!({"mode": "webtools", "user_id": WEBTOOLS_USER_ID, "password": WEBTOOLS_PASSWORD});
    let webtools = created(&app, &webtools).await;
    let connect = app.connect_usps("Platform").await;
    let callback = app
        .consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    let listed: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    let platform_id = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["name"] == "Platform")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let completed = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{platform_id}"),
            &json!({"details": {"mid": demo::MID, "manifest_mid": demo::MANIFEST_MID,
                                 "returns_mid": demo::RETURNS_MID, "return_address": return_address()}}),
        )
        .await;
    assert_eq!(completed.status(), 200);
    let platform: Value = completed.json().await.unwrap();

    // Labels through each, one after a reset once the carrier committed, one after a Web Tools
    // 500, one after an OAuth renewal.
    simulator.inject(FaultRule {
        route: route::RETURN_LABEL.to_owned(),
        fault: Fault::ResetAfterCommit,
        times: Some(1),
        probability: None,
    });
    buy(&app, "leak-own-app", &with_account(&own_app)).await;
    simulator.inject(FaultRule {
        route: route::WEBTOOLS.to_owned(),
        fault: Fault::Status { status: 500 },
        times: Some(1),
        probability: None,
    });
    buy(&app, "leak-webtools", &with_account(&webtools)).await;
    buy(&app, "leak-platform", &with_account(&platform)).await;
    app.make_oauth_due(&platform_id).await;
    buy(&app, "leak-platform-renewed", &with_account(&platform)).await;

    // Rotation of the own app's credentials, and a label with the new ones.
    let own_app_path = format!("/v1/shipper-accounts/{}", own_app["id"].as_str().unwrap());
    let rotated = app
        .patch(
            &app.tenant_key,
            &own_app_path,
            &json!({"credentials": {"mode": "own_app", "client_id": ROTATED_APP_ID, "client_secret": ROTATED_SECRET}}),
        )
        .await;
    assert_eq!(rotated.status(), 200, "{}", rotated.text().await.unwrap());
    buy(&app, "leak-rotated", &with_account(&own_app)).await;

    // Refusals: a secret USPS does not know, a credential of the wrong type, a bad label.
    let mut wrong = v3_account("Wrong secret");
    wrong["credentials"] =
        json!({"mode": "own_app", "client_id": OWN_APP_ID, "client_secret": WRONG_SECRET});
    let wrong = created(&app, &wrong).await;
    let refused = app
        .buy(&app.tenant_key, "leak-wrong", &with_account(&wrong))
        .await;
    assert_eq!(refused.status(), 422, "{}", refused.text().await.unwrap());
    let mut malformed = webtools_account("Malformed");
    malformed["credentials"]["password"] = json!(12345);
    let malformed = app
        .post(&app.tenant_key, "/v1/shipper-accounts", &malformed)
        .await;
    assert_eq!(malformed.status(), 422);
    let mut bad_label = with_account(&own_app);
    bad_label["parcel"]["weight_oz"] = json!(0);
    let bad_label = app.buy(&app.tenant_key, "leak-bad", &bad_label).await;
    assert_eq!(bad_label.status(), 422);

    // The views: the tenant's, the admin's, the audit chain.
    for path in [
        "/v1/shipper-accounts".to_owned(),
        own_app_path.clone(),
        format!("/v1/shipper-accounts/{platform_id}"),
        "/v1/return-labels".to_owned(),
    ] {
        assert_eq!(
            app.get(&app.tenant_key, &path).await.status(),
            200,
            "{path}"
        );
    }
    for path in ["/v1/admin/shipper-accounts", "/v1/admin/audit-events"] {
        assert_eq!(app.get(&app.admin_key, path).await.status(), 200, "{path}");
    }
    let verified = app
        .post(&app.admin_key, "/v1/admin/audit-events/verify", &json!({}))
        .await;
    assert_eq!(verified.status(), 200);
    let (access_token, refresh_token) = app.oauth_tokens(&platform_id).await;

    let rotation = rotate_master_keys(&app).await;
    assert!(rotation.accounts >= 3, "{rotation:?}");

    let (dump, _) = assert_no_sentinel_anywhere(
        &owner,
        &postgres,
        &captured,
        &[
            ("own-app client secret", OWN_APP_SECRET),
            ("rotated client secret", ROTATED_SECRET),
            ("wrong client secret", WRONG_SECRET),
            ("platform app secret", PLATFORM_SECRET),
            ("EPS account number", EPS_ACCOUNT),
            ("Web Tools user ID", WEBTOOLS_USER_ID),
            ("Web Tools password", WEBTOOLS_PASSWORD),
            ("tenant API key", app.tenant_key.as_str()),
            ("admin API key", app.admin_key.as_str()),
            ("OAuth access token", access_token.as_str()),
            ("OAuth refresh token", refresh_token.as_str()),
        ],
        &[],
    )
    .await;
    for embedded in [
        format!(
            "Basic {}",
            STANDARD.encode(format!("{OWN_APP_ID}:{OWN_APP_SECRET}"))
        ),
        "client_secret=Sentinel%2BOwnApp%2FQ7vX2mK9&grant_type=client_credentials".to_owned(),
    ] {
        assert!(!found(&embedded, OWN_APP_SECRET).is_empty(), "{embedded}");
    }
    // The session ran on the sentinels: their masked forms are stored.
    assert!(
        dump.contains("******9421"),
        "the masked EPS account number is stored"
    );
}

/// The UPS simulator's demo world plus the merchants' own apps with sentinel secrets, each
/// allowed to ship for the demo shipper.
fn ups_sentinel_world() -> ups_sim::SimConfig {
    let mut config = ups_sim::SimConfig::default();
    for (client_id, client_secret) in [
        (UPS_OWN_APP_ID, UPS_OWN_APP_SECRET),
        (UPS_ROTATED_APP_ID, UPS_ROTATED_SECRET),
    ] {
        config.apps.push(ups_sim::AppConfig {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            name: "Merchant's own UPS app".to_owned(),
            redirect_uris: Vec::new(),
            allow_loopback_redirects: false,
            shipper_numbers: vec![ups_sim::demo::SHIPPER_NUMBER.to_owned()],
        });
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ups_secret_or_token_reaches_the_database_a_log_an_answer_or_the_audit_trail() {
    tokio::time::timeout(std::time::Duration::from_secs(240), ups_leak_session())
        .await
        .expect("the UPS leak test finished in time");
}

/// A UPS session on sentinels: own-app accounts (created, a purchase lost by a reset once UPS
/// committed and its retry refused, voided, rotated, one with a wrong secret), a Login-with-UPS account (a declined
/// sign-in, then connected, completed, used, renewed — UPS rotates its refresh token — and
/// used again), every view, the audit chain and a master-key rotation. The instance's UPS
/// plugin talks to a simulator of the session's own (`ups_sentinel_world`); `app.ups` is idle.
async fn ups_leak_session() {
    let captured = captured_logs();
    let postgres = logging_postgres().await;
    let owner = postgres.migrated_database().await;
    let ups = ups_sim::Simulator::new(ups_sentinel_world())
        .spawn()
        .await
        .unwrap();
    let app = TestApp::spawn_with(
        owner.clone(),
        PluginOptions {
            ups_url: Some(ups.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;
    let mut answers = Vec::new();
    let own_app = |name: &str, client_id: &str, secret: &str| {
        let mut body = backhaul_tests::ups::own_app_account(name);
        body["credentials"] =
            json!({"mode": "own_app", "client_id": client_id, "client_secret": secret});
        body
    };
    let for_account = |account: &Value| backhaul_tests::ups::label_request_for(account);

    // Own app: created, a label after a reset once UPS committed, a label voided, rotated.
    let own = created(
        &app,
        &own_app("UPS own app", UPS_OWN_APP_ID, UPS_OWN_APP_SECRET),
    )
    .await;
    answers.push(own.to_string());
    ups.simulator.inject(ups_sim::FaultRule {
        route: ups_sim::route::SHIP.to_owned(),
        fault: ups_sim::Fault::ResetAfterCommit,
        times: Some(1),
        probability: None,
    });
    // UPS takes no idempotency key: the lost reply is 504 and the retry 409
    // `label_outcome_unknown`, sent nowhere. Both answers are searched for secrets.
    for expected in [504, 409] {
        let (status, answer) = read(
            app.buy(&app.tenant_key, "ups-leak-reset", &for_account(&own))
                .await,
        )
        .await;
        assert_eq!(status, expected, "{answer}");
        answers.push(answer);
    }
    let (status, label) = read(
        app.buy(&app.tenant_key, "ups-leak-void", &for_account(&own))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{label}");
    let label: Value = serde_json::from_str(&label).unwrap();
    let label_path = format!("/v1/return-labels/{}", label["id"].as_str().unwrap());
    let (status, voided) = read(
        app.post(&app.tenant_key, &format!("{label_path}/void"), &json!(null))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{voided}");
    answers.extend([label.to_string(), voided]);
    let own_path = format!("/v1/shipper-accounts/{}", own["id"].as_str().unwrap());
    let rotation = json!({"credentials": {"mode": "own_app", "client_id": UPS_ROTATED_APP_ID, "client_secret": UPS_ROTATED_SECRET}});
    let (status, rotated) = read(app.patch(&app.tenant_key, &own_path, &rotation).await).await;
    assert_eq!(status, 200, "{rotated}");
    answers.push(rotated);
    buy(&app, "ups-leak-rotated", &for_account(&own)).await;

    // A secret UPS does not know.
    let wrong = created(
        &app,
        &own_app("UPS wrong", UPS_OWN_APP_ID, UPS_WRONG_SECRET),
    )
    .await;
    let (status, refused) = read(
        app.buy(&app.tenant_key, "ups-leak-wrong", &for_account(&wrong))
            .await,
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    answers.extend([wrong.to_string(), refused]);

    // Login with UPS: declined once, then connected, completed, used, renewed, used again.
    let declined = app.connect_ups("UPS declined").await;
    let callback = app
        .consent_ups(declined["authorize_url"].as_str().unwrap(), "decline")
        .await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 400, "{page}");
    answers.push(page);
    let pending = app.connected_ups_account("UPS platform").await;
    let platform_id = pending["id"].as_str().unwrap().to_owned();
    let platform = app.complete_ups_details(&platform_id).await;
    answers.extend([pending.to_string(), platform.to_string()]);
    buy(&app, "ups-leak-platform", &for_account(&platform)).await;
    let (first_access, first_refresh) = app.oauth_tokens(&platform_id).await;
    app.make_oauth_due(&platform_id).await;
    buy(&app, "ups-leak-renewed", &for_account(&platform)).await;
    let (access, refresh) = app.oauth_tokens(&platform_id).await;
    assert_ne!(refresh, first_refresh, "the session renewed the tokens");
    assert_eq!(ups.simulator.counters().grant("refresh_token").ok, 1);

    // Every view, the audit chain, the master keys rotated.
    for path in [
        "/v1/shipper-accounts".to_owned(),
        own_path.clone(),
        format!("/v1/shipper-accounts/{platform_id}"),
        "/v1/return-labels".to_owned(),
        label_path,
        "/v1/carriers".to_owned(),
    ] {
        let (status, answer) = read(app.get(&app.tenant_key, &path).await).await;
        assert_eq!(status, 200, "{path}");
        answers.push(answer);
    }
    for path in [
        "/v1/admin/shipper-accounts",
        "/v1/admin/audit-events?limit=200",
    ] {
        let (status, answer) = read(app.get(&app.admin_key, path).await).await;
        assert_eq!(status, 200, "{path}");
        answers.push(answer);
    }
    let (status, verified) = read(
        app.post(&app.admin_key, "/v1/admin/audit-events/verify", &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    let rotation = rotate_master_keys(&app).await;
    assert!(rotation.accounts >= 3, "{rotation:?}");
    // Controls: the answers were collected — the audit trail, and the public half of each
    // own-app credential beside the secret half that must not be there.
    assert!(
        answers
            .iter()
            .any(|answer| answer.contains("account.oauth_refreshed")),
        "the audit trail was read"
    );
    for client_id in [UPS_OWN_APP_ID, UPS_ROTATED_APP_ID] {
        assert!(answers.iter().any(|answer| answer.contains(client_id)));
    }

    assert_no_sentinel_anywhere(
        &owner,
        &postgres,
        &captured,
        &[
            ("UPS own-app client secret", UPS_OWN_APP_SECRET),
            ("UPS rotated client secret", UPS_ROTATED_SECRET),
            ("UPS wrong client secret", UPS_WRONG_SECRET),
            ("UPS platform app secret", ups_sim::demo::CLIENT_SECRET),
            ("tenant API key", app.tenant_key.as_str()),
            ("admin API key", app.admin_key.as_str()),
            ("UPS access token from the consent", first_access.as_str()),
            ("UPS refresh token from the consent", first_refresh.as_str()),
            ("UPS access token from the renewal", access.as_str()),
            ("UPS refresh token from the renewal", refresh.as_str()),
        ],
        &answers,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fedex_secret_token_or_pin_reaches_the_database_a_log_an_answer_or_the_audit_trail() {
    tokio::time::timeout(std::time::Duration::from_secs(240), fedex::session())
        .await
        .expect("the FedEx leak test finished in time");
}

/// The master keys with a new primary in front of the tests' own.
fn rotated_keyring() -> MasterKeyring {
    let new_primary = STANDARD.encode([7u8; 32]);
    MasterKeyring::parse(&SecretString::from(format!(
        "leak2:{new_primary},{}",
        master_keys()
    )))
    .unwrap()
}

/// The master keys rotated to a new primary (`backhaul keys rotate`).
async fn rotate_master_keys(app: &TestApp) -> accounts::Rotation {
    AccountService::new(
        app.instance.state.db().clone(),
        Arc::new(rotated_keyring()),
        CarrierRegistry::new(),
    )
    .rotate_master_keys(&Actor::System)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_secret_reaches_the_database_a_log_or_a_later_answer() {
    tokio::time::timeout(std::time::Duration::from_secs(240), webhook_leak_session())
        .await
        .expect("the webhook leak test finished in time");
}

/// A webhook session: an endpoint registered and its secret rotated (both secrets then sign),
/// test events delivered and redelivered by the workers, every view of the endpoint, its
/// deliveries, the event log and the audit trail, and a master-key rotation that re-wraps the
/// endpoint's key. The secrets are shown by the create and rotate answers alone.
async fn webhook_leak_session() {
    use backhaul_tests::webhook::{Receiver, fast_delivery, register, start_workers};
    let captured = captured_logs();
    let postgres = logging_postgres().await;
    let owner = postgres.migrated_database().await;
    let app = TestApp::spawn_with(owner.clone(), PluginOptions::default()).await;
    let receiver = Receiver::start().await;
    let workers = start_workers(&app.instance.state, fast_delivery());
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    let first = endpoint["secret"].as_str().unwrap().to_owned();
    let rotated: Value = app
        .post(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let second = rotated["secret"].as_str().unwrap().to_owned();
    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    receiver
        .wait_until("the test event", |got| got.len() == 1)
        .await;
    let mut answers = Vec::new();
    for path in [
        format!("/v1/webhook-endpoints/{id}"),
        "/v1/webhook-endpoints".to_owned(),
        format!("/v1/webhook-endpoints/{id}/deliveries"),
        "/v1/events".to_owned(),
    ] {
        answers.push(read(app.get(&app.tenant_key, &path).await).await.1);
    }
    answers.push(
        read(app.get(&app.admin_key, "/v1/admin/audit-events").await)
            .await
            .1,
    );
    let rotation = rotate_master_keys(&app).await;
    assert_eq!(rotation.webhook_endpoints, 1);
    // Under the new primary key both secrets still open, as the next delivery's signers.
    drop(workers);
    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    let claimed = accounts::webhook::WebhookService::new(
        app.instance.state.db().clone(),
        Arc::new(rotated_keyring()),
    )
    .claim(10, std::time::Duration::from_secs(30))
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    let signers: Vec<String> = claimed[0]
        .secrets
        .iter()
        .map(|secret| STANDARD.encode(secret.bytes()))
        .collect();
    assert_eq!(
        signers,
        [&second, &first].map(|s| s.strip_prefix("whsec_").unwrap().to_owned())
    );
    assert!(
        answers
            .iter()
            .any(|answer| answer.contains("webhook_endpoint.secret_rotated"))
    );

    let mut sentinels: Vec<(String, String)> = Vec::new();
    for (name, secret) in [
        ("first webhook secret", &first),
        ("rotated webhook secret", &second),
    ] {
        let encoded = secret.strip_prefix("whsec_").unwrap().to_owned();
        let bytes = STANDARD.decode(&encoded).unwrap();
        sentinels.push((name.to_owned(), secret.clone()));
        sentinels.push((format!("{name} (its base64)"), encoded));
        sentinels.push((format!("{name} (its bytes, hex)"), hex_of(&bytes)));
    }
    let sentinels: Vec<(&str, &str)> = sentinels
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    assert_no_sentinel_anywhere(&owner, &postgres, &captured, &sentinels, &answers).await;
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tracking_secret_or_listener_token_reaches_the_database_a_log_or_an_answer() {
    tokio::time::timeout(std::time::Duration::from_secs(240), tracking_leak_session())
        .await
        .expect("the tracking leak test finished in time");
}

/// Tracking on both carriers: a USPS account subscribed (its subscription secret chosen and
/// sealed by us), scans pushed with `X-HMAC` and polled, a forged notification refused; a UPS
/// label subscribed, the listener's client secret used by the simulator for a token, a token
/// fetched and used by hand, a push with a wrong token refused.
async fn tracking_leak_session() {
    let captured = captured_logs();
    let postgres = logging_postgres().await;
    let owner = postgres.migrated_database().await;
    let app = TestApp::spawn(owner.clone()).await;
    let mut answers = Vec::new();

    let account = created(&app, &v3_account("Tracked")).await;
    let number = buy(&app, "tracking-leak-usps", &with_account(&account)).await;
    let listed: Value = app
        .get(&app.tenant_key, "/v1/return-labels?carrier=usps")
        .await
        .json()
        .await
        .unwrap();
    let label = listed["data"][0].clone();
    assert_eq!(label["tracking_number"], json!(number));
    server::tracking::run_once(&app.instance.state).await;
    let subscription = app.simulator.simulator.subscriptions()[0].id.clone();
    let (_, secret) = server::tracking::subscription::for_notification(
        &app.instance.state,
        "usps",
        &subscription,
    )
    .await
    .unwrap()
    .expect("the subscription is ours");
    let secret = secret.expose().to_owned();
    app.simulator
        .simulator
        .scan(&number, usps_sim::ScanStatus::Accepted)
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app
        .simulator
        .simulator
        .pushes()
        .iter()
        .any(|push| push.delivered())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the push never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let genuine = app.simulator.simulator.pushes()[0].clone();
    let forged = app
        .client
        .post(app.url("/v1/carrier-webhooks/usps"))
        .header("X-HMAC", "Zm9yZ2Vk")
        .header("content-type", "application/json")
        .body(genuine.body.clone())
        .send()
        .await
        .unwrap();
    let (status, answer) = read(forged).await;
    assert_eq!(status, 401);
    answers.push(answer);
    server::tracking::run_once(&app.instance.state).await;
    let (_, tracking) = read(
        app.client
            .get(app.url(&format!(
                "/v1/return-labels/{}/tracking",
                label["id"].as_str().unwrap()
            )))
            .bearer_auth(&app.tenant_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    answers.push(tracking);

    let ups_account = app
        .create_ups_account(&app.tenant_key, "UPS tracked", json!({}))
        .await;
    let ups_label: Value = app
        .buy(
            &app.tenant_key,
            "tracking-leak-ups",
            &backhaul_tests::ups::label_request_for(&ups_account),
        )
        .await
        .json()
        .await
        .unwrap();
    server::tracking::run_once(&app.instance.state).await;
    let ups_number = ups_label["tracking_number"].as_str().unwrap();
    app.ups
        .simulator
        .scan(ups_number, ups_sim::ScanKind::Accepted)
        .unwrap();
    let (status, token) = read(
        app.client
            .post(app.url("/v1/carrier-webhooks/ups/token"))
            .basic_auth(
                ups_sim::demo::WEBHOOK_CLIENT_ID,
                Some(ups_sim::demo::WEBHOOK_CLIENT_SECRET),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let token: Value = serde_json::from_str(&token).unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let event = json!({
        "trackingNumber": ups_number,
        "activityStatus": {"type": "I", "code": "DP", "description": "Departed from Facility"},
        "gmtActivityDate": "20261201", "gmtActivityTime": "131519",
    });
    for bearer in [token.clone(), format!("{token}x")] {
        let (_, answer) = read(
            app.client
                .post(app.url("/v1/carrier-webhooks/ups"))
                .bearer_auth(&bearer)
                .header("x-api-key", ups_sim::demo::WEBHOOK_CLIENT_ID)
                .header("User-Agent", "UPSPubSubTrackingService")
                .json(&event)
                .send()
                .await
                .unwrap(),
        )
        .await;
        answers.push(answer);
    }

    // A master-key rotation re-wraps the subscription's key too.
    let rotation = rotate_master_keys(&app).await;
    assert_eq!(rotation.tracking_subscriptions, 1, "{rotation:?}");
    let rewrapped: String = sqlx::query_scalar("SELECT master_key_id FROM tracking_subscriptions")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(rewrapped, rotated_keyring().primary().id());

    assert_no_sentinel_anywhere(
        &owner,
        &postgres,
        &captured,
        &[
            ("USPS subscription secret", secret.as_str()),
            (
                "UPS listener client secret",
                ups_sim::demo::WEBHOOK_CLIENT_SECRET,
            ),
            ("UPS listener token", token.as_str()),
        ],
        &answers,
    )
    .await;
}
