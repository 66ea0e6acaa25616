//! Account Registration against the FedEx simulator: by PIN (read from the simulator's
//! outbox), by invoice, a wrong PIN, an expired session, an account with no proof asked; and
//! a registered account buys a label with csp_credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use carrier::{
    AccountInput, Carrier, Credentials, CredentialsInput, Registration, RegistrationError,
    RegistrationStep, ValidatedAccount,
};
use fedex_sim::demo;
use secrecy::ExposeSecret;
use serde_json::json;

fn registration_account(
    carrier: &carrier_fedex::FedexCarrier,
    details: &serde_json::Value,
) -> ValidatedAccount {
    let account = support::validate(
        carrier,
        details,
        &CredentialsInput::new().with("mode", "registration"),
    );
    assert!(account.needs_authorization);
    account
}

async fn start(
    carrier: &carrier_fedex::FedexCarrier,
    account: &ValidatedAccount,
) -> (RegistrationStep, Credentials) {
    match carrier
        .registration()
        .unwrap()
        .register(&account.details)
        .await
        .unwrap()
    {
        Registration::Pending { step, state } => (step, state),
        Registration::Complete { .. } => panic!("the demo account asks for proof"),
    }
}

#[tokio::test]
async fn a_merchant_registers_with_a_pin_from_fedex_and_then_buys_a_label() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let onboarding = carrier.registration().unwrap();
    assert_eq!(carrier.onboarding(), ["registration", "own_app"]);
    let account = registration_account(&carrier, &support::demo_details());
    let (step, state) = start(&carrier, &account).await;
    assert_eq!(step.name, "choose_method");
    assert!(step.expires_at.is_some());
    let offered = step.form["properties"]["method"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    let method = ["sms", "email", "call"]
        .into_iter()
        .find(|m| offered.contains(&json!(m)))
        .expect("a PIN method");
    let choice = onboarding
        .check_answer("choose_method", &json!({"method": method}))
        .unwrap();
    assert!(!choice.proof);
    let Registration::Pending { step, state } = onboarding
        .answer(&account.details, &state, "choose_method", &choice)
        .await
        .unwrap()
    else {
        panic!("a PIN step");
    };
    assert_eq!(step.name, "enter_pin");
    assert!(step.message.contains("PIN"), "{}", step.message);
    let pin = sim
        .simulator
        .sent_pins()
        .last()
        .expect("FedEx sent a PIN")
        .pin
        .clone();
    let answer = onboarding
        .check_answer("enter_pin", &json!({"pin": pin}))
        .unwrap();
    assert!(answer.proof);
    let Registration::Complete { credentials } = onboarding
        .answer(&account.details, &state, "enter_pin", &answer)
        .await
        .unwrap()
    else {
        panic!("complete");
    };
    assert_eq!(credentials.mode(), "platform_app");
    assert!(
        credentials.secret("child_key").is_some() && credentials.secret("child_secret").is_some()
    );
    let registered = carrier
        .validate_account(AccountInput {
            details: &account.details.clone().into_value(),
            credentials: None,
            current: Some(&credentials),
        })
        .unwrap();
    let label = support::buy(
        &carrier,
        &registered,
        &support::request("fedex_ground_return"),
    )
    .await
    .unwrap();
    assert!(label.label.is_some());
    let entry = sim.simulator.ledger().into_iter().last().unwrap();
    assert!(entry.child_key.is_some(), "bought with csp_credentials");
    let context = carrier::AccountContext {
        id: "sa_1",
        details: &registered.details,
        credentials: &registered.credentials,
    };
    assert_eq!(carrier.quota_app(context), "fedex:platform");
}

#[tokio::test]
async fn a_merchant_registers_with_an_invoice() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let onboarding = carrier.registration().unwrap();
    let account = registration_account(&carrier, &support::demo_details());
    let (step, state) = start(&carrier, &account).await;
    assert!(
        step.form["properties"]["method"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("invoice")),
        "{}",
        step.form
    );
    let answer = onboarding
        .check_answer("choose_method", &json!({"method": "invoice", "invoice_number": demo::INVOICE_NUMBER.to_string(), "invoice_date": demo::INVOICE_DATE, "invoice_amount": demo::INVOICE_AMOUNT, "invoice_currency": demo::INVOICE_CURRENCY}))
        .unwrap();
    assert!(answer.proof);
    let outcome = onboarding
        .answer(&account.details, &state, "choose_method", &answer)
        .await
        .unwrap();
    assert!(matches!(outcome, Registration::Complete { .. }));
    let wrong = onboarding
        .check_answer("choose_method", &json!({"method": "invoice", "invoice_number": "111", "invoice_date": demo::INVOICE_DATE, "invoice_amount": demo::INVOICE_AMOUNT}))
        .unwrap();
    let (_, state) = start(&carrier, &account).await;
    match onboarding
        .answer(&account.details, &state, "choose_method", &wrong)
        .await
    {
        Err(RegistrationError::Refused(errors)) => {
            assert!(errors.names("invoice_number"), "{errors}")
        }
        other => panic!("{other:?}"),
    }
}

async fn pin_step(
    sim: &fedex_sim::RunningSimulator,
    carrier: &carrier_fedex::FedexCarrier,
    account: &ValidatedAccount,
) -> Credentials {
    let _ = sim;
    let onboarding = carrier.registration().unwrap();
    let (step, state) = start(carrier, account).await;
    let offered = step.form["properties"]["method"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    let method = ["sms", "email", "call"]
        .into_iter()
        .find(|m| offered.contains(&json!(m)))
        .unwrap();
    let choice = onboarding
        .check_answer("choose_method", &json!({"method": method}))
        .unwrap();
    match onboarding
        .answer(&account.details, &state, "choose_method", &choice)
        .await
        .unwrap()
    {
        Registration::Pending { state, .. } => state,
        Registration::Complete { .. } => panic!("a PIN step"),
    }
}

#[tokio::test]
async fn a_wrong_pin_is_refused_on_the_pin() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = registration_account(&carrier, &support::demo_details());
    let state = pin_step(&sim, &carrier, &account).await;
    let real = sim.simulator.sent_pins().last().unwrap().pin.clone();
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let onboarding = carrier.registration().unwrap();
    let answer = onboarding
        .check_answer("enter_pin", &json!({"pin": wrong}))
        .unwrap();
    match onboarding
        .answer(&account.details, &state, "enter_pin", &answer)
        .await
    {
        Err(RegistrationError::Refused(errors)) => {
            assert!(errors.names("pin"), "{errors}");
            assert!(errors.errors()[0].message.contains("wrong or has expired"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_expired_session_must_start_again() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = registration_account(&carrier, &support::demo_details());
    let state = pin_step(&sim, &carrier, &account).await;
    let pin = sim.simulator.sent_pins().last().unwrap().pin.clone();
    sim.simulator.advance_clock(Duration::from_secs(31 * 60));
    let onboarding = carrier.registration().unwrap();
    let answer = onboarding
        .check_answer("enter_pin", &json!({"pin": pin}))
        .unwrap();
    let outcome = onboarding
        .answer(&account.details, &state, "enter_pin", &answer)
        .await;
    assert!(
        matches!(outcome, Err(RegistrationError::Expired(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_unknown_account_is_refused_on_its_number_and_secrets_stay_out() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = registration_account(&carrier, &support::details("111111111", "Nobody"));
    match carrier
        .registration()
        .unwrap()
        .register(&account.details)
        .await
    {
        Err(RegistrationError::Refused(errors)) => {
            assert!(errors.names("details.account_number"), "{errors}")
        }
        other => panic!("{other:?}"),
    }
    let (_, state) = start(
        &carrier,
        &registration_account(&carrier, &support::demo_details()),
    )
    .await;
    let token = state
        .secret("account_auth_token")
        .unwrap()
        .expose_secret()
        .to_owned();
    assert!(!format!("{state:?}").contains(&token));
}

#[tokio::test]
async fn an_account_fedex_asks_no_proof_of_completes_at_once() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = registration_account(
        &carrier,
        &json!({
            "account_number": demo::NO_MFA_ACCOUNT_NUMBER,
            "customer_name": demo::NO_MFA_CUSTOMER_NAME,
            "billing_address": {"firm": demo::NO_MFA_CUSTOMER_NAME, "street1": "500 Congress Ave", "city": "Austin", "state": "TX", "zip5": "78701", "phone": "5125550100"},
        }),
    );
    let outcome = carrier
        .registration()
        .unwrap()
        .register(&account.details)
        .await;
    assert!(
        matches!(outcome, Ok(Registration::Complete { .. })),
        "{outcome:?}"
    );
}
