//! A returns label bought the way the server buys one: the plugin found by carrier id in the
//! registry, the account validated and used only through the `Carrier` trait, the label checked
//! against what the USPS simulator recorded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::System;
use carrier::{
    AccountContext, AccountInput, CredentialsInput, IdempotencyKey, ReturnLabelInput,
    ReturnLabelRequest, ValidatedAccount,
};
use serde_json::json;
use usps_sim::demo;

fn merchant_account(system: &System) -> ValidatedAccount {
    let details = json!({
        "api": "v3",
        "crid": demo::CRID,
        "mid": demo::MID,
        "manifest_mid": demo::MANIFEST_MID,
        "returns_mid": demo::RETURNS_MID,
        "account_type": "EPS",
        "eps_account_number": demo::EPS_ACCOUNT,
        "return_address": {
            "firm": demo::RETURN_ADDRESS_FIRM,
            "street1": demo::RETURN_ADDRESS_STREET,
            "city": demo::RETURN_ADDRESS_CITY,
            "state": demo::RETURN_ADDRESS_STATE,
            "zip5": demo::RETURN_ADDRESS_ZIP,
        },
    });
    let credentials = CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", demo::CLIENT_ID)
        .with("client_secret", demo::CLIENT_SECRET);
    system
        .registry
        .get("usps")
        .expect("the USPS plugin is registered")
        .validate_account(AccountInput {
            details: &details,
            credentials: Some(&credentials),
            current: None,
        })
        .expect("the merchant's account is valid")
}

fn customer_return(service: &str) -> ReturnLabelRequest {
    let input: ReturnLabelInput = serde_json::from_value(json!({
        "service": service,
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "label_format": "PDF",
        "reference": "RMA-1001"
    }))
    .unwrap();
    ReturnLabelRequest::parse(&input).unwrap()
}

#[tokio::test]
async fn every_usps_return_service_buys_one_recorded_label_with_a_real_pdf() {
    let system = System::start().await.unwrap();
    let usps = system.registry.get("usps").unwrap().clone();
    let account = merchant_account(&system);
    let context = AccountContext {
        id: "sa_e2e",
        details: &account.details,
        credentials: &account.credentials,
    };
    let services: Vec<&str> = usps.services().iter().map(|service| service.code).collect();
    for (index, service) in services.iter().enumerate() {
        let key = IdempotencyKey::parse("key", &format!("e2e-{service}")).unwrap();
        let label = usps
            .create_return_label(context, &customer_return(service), &key)
            .await
            .unwrap_or_else(|error| panic!("{service}: {error}"));

        let ledger = system.simulator.simulator.ledger();
        assert_eq!(ledger.len(), index + 1, "one label per purchase");
        let recorded = ledger
            .iter()
            .find(|entry| entry.tracking_number == label.tracking_number.as_str())
            .expect("the simulator recorded the label we were given");
        assert_eq!(recorded.crid, demo::CRID);
        assert_eq!(
            recorded.mid,
            demo::RETURNS_MID,
            "labels carry the Returns MID"
        );
        assert_eq!(
            recorded.postage_cents,
            label.charges.postage().minor_units() as u64
        );
        assert_eq!(
            label.routing_code.as_deref(),
            Some(format!("420{}", demo::RETURN_ADDRESS_ZIP).as_str())
        );
        let pdf = label.label.expect("a label document");
        assert!(pdf.bytes.starts_with(b"%PDF-"), "{service}: a real PDF");
    }
}

#[tokio::test]
async fn the_stored_details_hold_no_eps_number_but_the_credentials_do() {
    use secrecy::ExposeSecret;
    let system = System::start().await.unwrap();
    let account = merchant_account(&system);
    let stored = serde_json::to_string(&account.details).unwrap();
    assert!(!stored.contains(demo::EPS_ACCOUNT));
    assert!(stored.contains("******4321"));
    assert_eq!(
        account
            .credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        demo::EPS_ACCOUNT
    );
}
