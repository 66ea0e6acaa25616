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
//! Negative controls prove the net would catch a leak: a control value bound as a query
//! parameter shows up in the Postgres log and in the dump, and a control value logged
//! base64-encoded at TRACE is found in the captured log. (One test in this binary: the
//! subscriber is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use accounts::audit::Actor;
use accounts::{AccountService, MasterKeyring};
use backhaul_tests::{
    PluginOptions, PrivatePostgres, Purchases, TestApp, buy_until_bought, label_request,
    master_keys, return_address, v3_account, webtools_account,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use carrier::CarrierRegistry;
use secrecy::SecretString;
use serde_json::{Value, json};
use usps_sim::config::{AppConfig, SimConfig};
use usps_sim::{Fault, FaultRule, demo, route};

const OWN_APP_ID: &str = "leak-own-app";
const OWN_APP_SECRET: &str = "Sentinel+OwnApp/Q7vX2mK9";
const ROTATED_APP_ID: &str = "leak-rotated-app";
const ROTATED_SECRET: &str = "Sentinel+Rotated/H2kD9sF4";
const WRONG_SECRET: &str = "Sentinel+Wrong/B6yT1eR5";
const PLATFORM_SECRET: &str = "Sentinel+Platform/R4tB8nW3";
const EPS_ACCOUNT: &str = "8675309421";
const WEBTOOLS_USER_ID: &str = "SentinelWT.User-K3mQ8";
const WEBTOOLS_PASSWORD: &str = "Sentinel+WebTools/Z5pL1cJ6";

/// What the negative controls put where a leak would show.
const CONTROL_PARAMETER: &str = "Control+Parameter/P8sN3vQ1";
const CONTROL_LOGGED: &str = "Control+Logged/M2wC7hA4";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

/// Every form in which `secret` could be written down: raw, URL-encoded, hex, and the part of
/// its base64 (standard and URL-safe) that shows whatever surrounds it, at each of the three
/// alignments a secret can have inside a longer base64-encoded text.
fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut forms = vec![secret.to_owned()];
    let percent: String = bytes
        .iter()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(*byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect();
    forms.push(percent.clone());
    forms.push(percent.to_lowercase());
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    forms.push(hex.to_uppercase());
    forms.push(hex);
    for shift in 0..3 {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(bytes);
        // Whole 3-byte groups of the secret only: the first group is mixed with what precedes
        // it unless the secret starts a group, the last with what follows unless it ends one.
        let start = if shift == 0 { 0 } else { 4 };
        let end = (shifted.len() / 3) * 4;
        for engine in [STANDARD, URL_SAFE] {
            let encoded = engine.encode(&shifted);
            if end > start + 8 {
                forms.push(encoded[start..end].to_owned());
            }
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// The forms of `secret` found in `text`.
fn found(text: &str, secret: &str) -> Vec<String> {
    encodings(secret)
        .into_iter()
        .filter(|form| text.contains(form.as_str()))
        .collect()
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
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();
    let postgres = PrivatePostgres::start(&[
        "log_statement=all",
        "log_min_duration_statement=0",
        "log_parameter_max_length=-1",
        "log_parameter_max_length_on_error=-1",
        "log_connections=on",
        "log_min_error_statement=info",
    ])
    .await;
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
            &json!({"details": {"return_address": return_address()}}),
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

    // The master keys rotated to a new primary (`backhaul keys rotate`).
    let new_primary = STANDARD.encode([7u8; 32]);
    let keyring = MasterKeyring::parse(&SecretString::from(format!(
        "leak2:{new_primary},{}",
        master_keys()
    )))
    .unwrap();
    let rotation = AccountService::new(
        app.instance.state.db().clone(),
        Arc::new(keyring),
        CarrierRegistry::new(),
    )
    .rotate_master_keys(&Actor::System)
    .await
    .unwrap();
    assert!(rotation.accounts >= 3, "{rotation:?}");

    // Negative controls: a bound parameter reaches the Postgres log and the dump; a value
    // logged base64-encoded at TRACE reaches the captured log.
    sqlx::query("CREATE TABLE leak_control (value text)")
        .execute(&owner)
        .await
        .unwrap();
    sqlx::query("INSERT INTO leak_control (value) VALUES ($1)")
        .bind(CONTROL_PARAMETER)
        .execute(&owner)
        .await
        .unwrap();
    tracing::trace!(
        control = STANDARD.encode(format!("prefix:{CONTROL_LOGGED}")),
        "negative control"
    );

    let dump = postgres.dump().await;
    let postgres_log = postgres.log();
    let app_log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        dump.contains("COPY public.return_labels"),
        "the dump has the data"
    );
    assert!(
        postgres_log.contains("DETAIL:  parameters: $1 = "),
        "Postgres logs bound parameters"
    );
    assert!(!found(&postgres_log, CONTROL_PARAMETER).is_empty());
    assert!(!found(&dump, CONTROL_PARAMETER).is_empty());
    assert!(!found(&app_log, CONTROL_LOGGED).is_empty());
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
    assert!(
        app_log.contains("\"level\":\"TRACE\""),
        "TRACE lines are captured"
    );

    let sentinels = [
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
    ];
    let mut leaks = Vec::new();
    for (what, secret) in sentinels {
        for (place, text) in [
            ("pg_dump", &dump),
            ("the Postgres log", &postgres_log),
            ("the app log", &app_log),
        ] {
            let forms = found(text, secret);
            if !forms.is_empty() {
                leaks.push(format!("{what} in {place} as {forms:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
