//! The UPS plugin against the UPS simulator beyond the conformance suite: "Login with UPS" end
//! to end (consent page, PKCE exchange, single-use refresh), an emailed Electronic Return Label
//! and a void the simulator refuses once the label is voided.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use carrier::{
    AccountContext, AccountInput, Carrier, CredentialsInput, ErrorKind, IdempotencyKey,
    LabelToVoid, PkceVerifier, ReturnLabelInput, ReturnLabelRequest,
};
use carrier_ups::{PlatformApp, UpsBuilder, UpsCarrier};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use ups_sim::{RunningSimulator, SimConfig, Simulator, demo};

async fn simulator() -> (RunningSimulator, Arc<UpsCarrier>) {
    let simulator = Simulator::new(SimConfig::default()).spawn().await.unwrap();
    let carrier = UpsBuilder::new()
        .with_base_url(&simulator.base_url)
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(demo::CLIENT_SECRET),
            demo::REDIRECT_URI,
        ))
        .build()
        .unwrap();
    (simulator, Arc::new(carrier))
}

fn details() -> serde_json::Value {
    json!({
        "account_number": demo::SHIPPER_NUMBER,
        "return_address": {"firm": "Backhaul Demo Returns Co.", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
    })
}

fn request(delivery: &str) -> ReturnLabelRequest {
    let input: ReturnLabelInput = serde_json::from_value(json!({
        "service": "ups_ground_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118"},
        "parcel": {"weight_oz": 24},
        "label_delivery": delivery,
        "notify": {"recipient_email": "jane@example.com"},
    }))
    .unwrap();
    ReturnLabelRequest::parse(&input).unwrap()
}

/// Signs in on the simulator's consent page with the plugin's authorize URL; the code.
async fn consent(carrier: &UpsCarrier, verifier: &PkceVerifier) -> String {
    let url = carrier
        .oauth()
        .unwrap()
        .authorize_url("state-1", &verifier.challenge())
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(url.clone()).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the consent page accepts the authorize URL"
    );
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("username".into(), demo::USERNAME.into()));
    form.push(("password".into(), demo::PASSWORD.into()));
    form.push(("decision".into(), "approve".into()));
    let mut action = url.clone();
    action.set_query(None);
    let answer = http.post(action).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap();
    let back = url::Url::parse(location).unwrap();
    let pairs: std::collections::BTreeMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "state-1");
    pairs["code"].clone()
}

#[tokio::test]
async fn login_with_ups_connects_an_account_that_buys_and_refreshes_once_per_token() {
    let (simulator, carrier) = simulator().await;
    let verifier = PkceVerifier::generate();
    let code = consent(&carrier, &verifier).await;
    let hooks = carrier.oauth().unwrap();
    let connection = hooks.exchange_code(&code, &verifier).await.unwrap();
    assert!(
        connection.prefill.details.is_empty(),
        "UPS says nothing about the account"
    );
    let again = hooks.exchange_code(&code, &verifier).await.unwrap_err();
    assert_ne!(
        again.kind(),
        ErrorKind::Unavailable,
        "a code is single-use: {again:?}"
    );

    let account = carrier
        .validate_account(AccountInput {
            details: &details(),
            credentials: None,
            current: Some(&connection.credentials),
        })
        .unwrap();
    assert!(!account.needs_authorization);
    let context = AccountContext {
        id: "sa_sim",
        details: &account.details,
        credentials: &account.credentials,
    };
    let key = IdempotencyKey::parse("key", "login-1").unwrap();
    let label = carrier
        .create_return_label(context, &request("download"), &key)
        .await
        .unwrap();
    assert!(label.label.is_some());
    assert_eq!(simulator.simulator.ledger().len(), 1);

    let renewed = hooks.refresh(&connection.credentials).await.unwrap();
    assert_ne!(
        renewed.secret("refresh_token").unwrap().expose_secret(),
        connection
            .credentials
            .secret("refresh_token")
            .unwrap()
            .expose_secret()
    );
    let spent = hooks.refresh(&connection.credentials).await.unwrap_err();
    assert_eq!(spent.kind(), ErrorKind::Unauthenticated, "{spent:?}");
    hooks.refresh(&renewed).await.unwrap();
}

fn own_app(carrier: &UpsCarrier) -> carrier::ValidatedAccount {
    carrier
        .validate_account(AccountInput {
            details: &details(),
            credentials: Some(
                &CredentialsInput::new()
                    .with("mode", "own_app")
                    .with("client_id", demo::CLIENT_ID)
                    .with("client_secret", demo::CLIENT_SECRET),
            ),
            current: None,
        })
        .unwrap()
}

#[tokio::test]
async fn an_emailed_label_is_an_electronic_return_label_the_simulator_records() {
    let (simulator, carrier) = simulator().await;
    let account = own_app(&carrier);
    let context = AccountContext {
        id: "sa_sim",
        details: &account.details,
        credentials: &account.credentials,
    };
    let key = IdempotencyKey::parse("key", "email-1").unwrap();
    let label = carrier
        .create_return_label(context, &request("email"), &key)
        .await
        .unwrap();
    assert!(label.label.is_none(), "UPS emails the label");
    let ledger = simulator.simulator.ledger();
    assert_eq!(ledger[0].return_service.as_deref(), Some("8"));
    assert_eq!(
        ledger[0].shipment_identification_number,
        label.carrier_reference.clone().unwrap()
    );
    let to_void = LabelToVoid {
        tracking_number: &label.tracking_number,
        carrier_reference: label.carrier_reference.as_deref(),
        service: &label.service,
    };
    carrier.void_label(context, &to_void).await.unwrap();
    assert!(simulator.simulator.ledger()[0].voided_at.is_some());
}
