//! The FedEx leak session: own-app client secrets (used, rotated, wrong) as sentinels, and an
//! account registered with FedEx whose secrets the simulator generated — the
//! `accountAuthToken`s of two registration sessions, the PINs it sent and a wrong one typed, the
//! child key and secret FedEx issued, and every bearer token of either kind of account — read
//! from the simulator ([`fedex_sim::Simulator::issued_credentials`], the PIN outbox) and looked
//! for in the dump, the Postgres log, every log line and every answer the session received.

use serde_json::{Value, json};

use backhaul_tests::{PluginOptions, TestApp, fedex};

use crate::net::{assert_no_code_anywhere, assert_no_sentinel_anywhere, captured_logs, found};
use crate::net::{found_code, logging_postgres};
use crate::{buy, created, read, rotate_master_keys};

const OWN_APP_ID: &str = "leak-fedex-own-app";
const OWN_APP_SECRET: &str = "Sentinel+FedexOwnApp/U3kP7wZ5";
const ROTATED_APP_ID: &str = "leak-fedex-rotated-app";
const ROTATED_SECRET: &str = "Sentinel+FedexRotated/J8mR2xC4";
const WRONG_SECRET: &str = "Sentinel+FedexWrong/L6nB9vT1";

/// The FedEx simulator's demo world plus the merchant's own apps with sentinel secrets, each
/// shipping with the demo account.
fn sentinel_world() -> fedex_sim::SimConfig {
    let mut config = fedex_sim::SimConfig::default();
    for (client_id, client_secret) in [
        (OWN_APP_ID, OWN_APP_SECRET),
        (ROTATED_APP_ID, ROTATED_SECRET),
    ] {
        config.apps.push(fedex_sim::AppConfig {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            name: "Merchant's own FedEx app".to_owned(),
            integrator: false,
            account_numbers: vec![fedex_sim::demo::ACCOUNT_NUMBER.to_owned()],
        });
    }
    config
}

fn own_app(name: &str, client_id: &str, secret: &str) -> Value {
    let mut body = fedex::own_app_account(name);
    body["credentials"] =
        json!({"mode": "own_app", "client_id": client_id, "client_secret": secret});
    body
}

/// One shot of `fault` on the next request to `route`.
fn once(route: &str, fault: fedex_sim::Fault) -> fedex_sim::FaultRule {
    fedex_sim::FaultRule {
        route: route.to_owned(),
        fault,
        times: Some(1),
        probability: None,
    }
}

/// `POST /v1/shipper-accounts/{id}/verification` (or `…/restart` with `restart`): the status
/// and the body as received.
async fn verification(app: &TestApp, account: &Value, path: &str, body: &Value) -> (u16, String) {
    let id = account["id"].as_str().unwrap();
    read(
        app.post(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}/verification{path}"),
            body,
        )
        .await,
    )
    .await
}

/// A FedEx session on sentinels: an own-app account (a purchase lost by a reset once FedEx
/// committed and its retry refused, a label bought and cancelled, a refused token renewed,
/// credentials rotated), one with a wrong secret, and a registration (a PIN sent, a wrong PIN
/// and malformed answers refused, the registration restarted, a second PIN sent and entered),
/// the registered account used with a renewed token, every view, the audit chain and a
/// master-key rotation. The instance's FedEx plugin talks to a simulator of the session's own
/// (`sentinel_world`); `app.fedex` is idle.
pub(crate) async fn session() {
    let captured = captured_logs();
    let postgres = logging_postgres().await;
    let owner = postgres.migrated_database().await;
    let fedex = fedex_sim::Simulator::new(sentinel_world())
        .spawn()
        .await
        .unwrap();
    let simulator = &fedex.simulator;
    let app = TestApp::spawn_with(
        owner.clone(),
        PluginOptions {
            fedex_url: Some(fedex.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;
    let mut answers = Vec::new();

    // Own app: created, a label lost by a reset once FedEx committed (504, then 409 for the
    // same key, sent nowhere), a label bought and cancelled, a refused token renewed, rotated.
    let own = created(&app, &own_app("FedEx own app", OWN_APP_ID, OWN_APP_SECRET)).await;
    answers.push(own.to_string());
    simulator.inject(once(
        fedex_sim::route::SHIP,
        fedex_sim::Fault::ResetAfterCommit,
    ));
    for expected in [504, 409] {
        let (status, answer) = read(
            app.buy(
                &app.tenant_key,
                "fedex-leak-reset",
                &fedex::label_request_for(&own),
            )
            .await,
        )
        .await;
        assert_eq!(status, expected, "{answer}");
        answers.push(answer);
    }
    let (status, label) = read(
        app.buy(
            &app.tenant_key,
            "fedex-leak-cancel",
            &fedex::label_request_for(&own),
        )
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
    simulator.inject(once(fedex_sim::route::SHIP, fedex_sim::Fault::ExpiredToken));
    buy(&app, "fedex-leak-renewed", &fedex::label_request_for(&own)).await;
    let own_path = format!("/v1/shipper-accounts/{}", own["id"].as_str().unwrap());
    let rotation = json!({"credentials": {"mode": "own_app", "client_id": ROTATED_APP_ID, "client_secret": ROTATED_SECRET}});
    let (status, rotated) = read(app.patch(&app.tenant_key, &own_path, &rotation).await).await;
    assert_eq!(status, 200, "{rotated}");
    answers.push(rotated);
    buy(&app, "fedex-leak-rotated", &fedex::label_request_for(&own)).await;

    // A secret FedEx does not know.
    let wrong = created(&app, &own_app("FedEx wrong", OWN_APP_ID, WRONG_SECRET)).await;
    let (status, refused) = read(
        app.buy(
            &app.tenant_key,
            "fedex-leak-wrong",
            &fedex::label_request_for(&wrong),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    answers.extend([wrong.to_string(), refused]);

    // Registration: a PIN sent, a wrong PIN, malformed answers carrying the PIN, a restart (a
    // second session), a second PIN sent and entered.
    let pending = app
        .register_fedex(&app.tenant_key, "FedEx registered")
        .await;
    answers.push(pending.to_string());
    let (status, step) = verification(&app, &pending, "", &json!({"method": "sms"})).await;
    assert_eq!(status, 200, "{step}");
    answers.push(step);
    let first_pin = simulator.sent_pins().last().unwrap().pin.clone();
    let wrong_pin = format!(
        "{:06}",
        (first_pin.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    let (status, refused) = verification(&app, &pending, "", &json!({"pin": wrong_pin})).await;
    assert!((400..500).contains(&status), "{status} {refused}");
    answers.push(refused);
    let pin_number: u64 = first_pin.parse().unwrap();
    let seven_digits = format!("{first_pin}0");
    for malformed in [
        json!({"pin": pin_number}),
        json!({"pin": seven_digits}),
        json!({"pin": first_pin, "method": "sms"}),
        json!({"pin": [first_pin]}),
        json!({"secureCodePin": first_pin}),
    ] {
        let (status, refused) = verification(&app, &pending, "", &malformed).await;
        assert_eq!(status, 422, "{malformed}: {refused}");
        answers.push(refused);
    }
    let id = pending["id"].as_str().unwrap();
    let (status, refused) = read(
        app.client
            .post(app.url(&format!("/v1/shipper-accounts/{id}/verification")))
            .bearer_auth(&app.tenant_key)
            .header("content-type", "application/json")
            .body(format!("{{\"pin\": \"{first_pin}\""))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!((400..500).contains(&status), "{status} {refused}");
    answers.push(refused);
    let (status, restarted) = verification(&app, &pending, "/restart", &json!({})).await;
    assert_eq!(status, 200, "{restarted}");
    answers.push(restarted);
    let (status, step) = verification(&app, &pending, "", &json!({"method": "sms"})).await;
    assert_eq!(status, 200, "{step}");
    answers.push(step);
    let second_pin = simulator.sent_pins().last().unwrap().pin.clone();
    let (status, active) = verification(&app, &pending, "", &json!({"pin": second_pin})).await;
    assert_eq!(status, 200, "{active}");
    let active: Value = serde_json::from_str(&active).unwrap();
    assert_eq!(active["status"], "active", "{active}");
    answers.push(active.to_string());
    buy(
        &app,
        "fedex-leak-registered",
        &fedex::label_request_for(&active),
    )
    .await;
    simulator.inject(once(fedex_sim::route::SHIP, fedex_sim::Fault::ExpiredToken));
    buy(
        &app,
        "fedex-leak-registered-renewed",
        &fedex::label_request_for(&active),
    )
    .await;

    // Every view, the audit chain, the master keys rotated.
    for path in [
        "/v1/shipper-accounts".to_owned(),
        own_path.clone(),
        format!("/v1/shipper-accounts/{id}"),
        "/v1/return-labels".to_owned(),
        "/v1/return-labels?carrier=fedex".to_owned(),
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

    // What FedEx generated, and controls that the session really used it: two registration
    // sessions, two PINs, one child (whose key bought the registered account's labels), a
    // token refused and renewed for each kind of account.
    let issued = simulator.issued_credentials();
    assert_eq!(issued.account_auth_tokens.len(), 2, "{issued:?}");
    assert_eq!(issued.children.len(), 1, "{issued:?}");
    let child = &issued.children[0];
    let ledger = simulator.ledger();
    assert_eq!(
        ledger
            .iter()
            .filter(|entry| entry.child_key.as_deref() == Some(child.child_key.as_str()))
            .count(),
        2,
        "the registered account bought with the child's token"
    );
    assert!(issued.access_tokens.len() >= 5, "{issued:?}");
    let pins: Vec<String> = simulator.sent_pins().into_iter().map(|p| p.pin).collect();
    assert_eq!(pins, [first_pin.clone(), second_pin.clone()]);
    assert!(
        answers.iter().any(|a| a.contains("enter_pin")),
        "the steps were read"
    );
    for client_id in [OWN_APP_ID, ROTATED_APP_ID] {
        assert!(answers.iter().any(|answer| answer.contains(client_id)));
    }

    let mut sentinels: Vec<(String, &str)> = vec![
        ("FedEx own-app client secret".to_owned(), OWN_APP_SECRET),
        ("FedEx rotated client secret".to_owned(), ROTATED_SECRET),
        ("FedEx wrong client secret".to_owned(), WRONG_SECRET),
        (
            "FedEx platform app secret".to_owned(),
            fedex_sim::demo::CLIENT_SECRET,
        ),
        ("tenant API key".to_owned(), app.tenant_key.as_str()),
        ("admin API key".to_owned(), app.admin_key.as_str()),
        ("FedEx child key".to_owned(), child.child_key.as_str()),
        ("FedEx child secret".to_owned(), child.child_secret.as_str()),
    ];
    for (index, token) in issued.account_auth_tokens.iter().enumerate() {
        sentinels.push((format!("FedEx accountAuthToken #{index}"), token.as_str()));
    }
    for (index, token) in issued.access_tokens.iter().enumerate() {
        sentinels.push((format!("FedEx bearer token #{index}"), token.as_str()));
    }
    let sentinels: Vec<(&str, &str)> = sentinels
        .iter()
        .map(|(name, value)| (name.as_str(), *value))
        .collect();
    let (dump, app_log) =
        assert_no_sentinel_anywhere(&owner, &postgres, &captured, &sentinels, &answers).await;
    assert_no_code_anywhere(
        &[
            ("pg_dump", &dump),
            ("the Postgres log", &postgres.log()),
            ("the app log", &app_log),
            ("an answer", &answers.join("\n")),
        ],
        &[
            ("the first PIN FedEx sent", first_pin.as_str()),
            ("the wrong PIN typed", wrong_pin.as_str()),
            ("the second PIN FedEx sent", second_pin.as_str()),
            ("the first PIN with a seventh digit", seven_digits.as_str()),
        ],
    );
    // The child secret as the token form carries it is caught too.
    let form = format!(
        "grant_type=csp_credentials&child_Key={}&child_secret={}",
        child.child_key, child.child_secret
    );
    assert!(!found(&form, &child.child_secret).is_empty());
    assert!(!found_code(&format!("\"secureCodePin\":\"{second_pin}\""), &second_pin).is_empty());
}
