//! The FedEx simulator (`fedex-sim`, written from FedEx's OpenAPI files and sharing no types
//! with this plugin) and the plugin configured against it, with the simulator's demo data.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use carrier::{
    AccountContext, AccountInput, Carrier, CarrierError, CredentialsInput, IdempotencyKey,
    ReturnLabel, ReturnLabelInput, ReturnLabelRequest, ValidatedAccount,
};
use carrier_fedex::{FedexBuilder, FedexCarrier, PlatformApp, RetryConfig};
use fedex_sim::{RunningSimulator, SimConfig, Simulator, demo};
use secrecy::SecretString;
use serde_json::{Value, json};

pub async fn simulator() -> RunningSimulator {
    Simulator::new(SimConfig::default()).spawn().await.unwrap()
}

pub fn builder(simulator: &RunningSimulator) -> FedexBuilder {
    FedexBuilder::new()
        .with_base_url(&simulator.base_url)
        .with_request_timeout(Duration::from_millis(1500))
        .with_retry(RetryConfig {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
        })
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(demo::CLIENT_SECRET),
        ))
}

pub fn carrier(simulator: &RunningSimulator) -> FedexCarrier {
    builder(simulator).build().unwrap()
}

pub fn details(account_number: &str, customer_name: &str) -> Value {
    json!({
        "account_number": account_number,
        "customer_name": customer_name,
        "billing_address": {"firm": customer_name, "street1": demo::STREET, "city": demo::CITY, "state": demo::STATE, "zip5": demo::POSTAL_CODE, "phone": demo::PHONE},
    })
}

pub fn demo_details() -> Value {
    details(demo::ACCOUNT_NUMBER, demo::CUSTOMER_NAME)
}

pub fn own_app(secret: &str) -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", demo::OWN_APP_CLIENT_ID)
        .with("client_secret", secret)
}

pub fn validate(
    carrier: &FedexCarrier,
    details: &Value,
    credentials: &CredentialsInput,
) -> ValidatedAccount {
    carrier
        .validate_account(AccountInput {
            details,
            credentials: Some(credentials),
            current: None,
        })
        .unwrap()
}

pub fn request(service: &str) -> ReturnLabelInput {
    serde_json::from_value(json!({
        "service": service,
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118", "phone": "2125550188"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "reference": "RMA-1001",
    }))
    .unwrap()
}

pub async fn buy(
    carrier: &FedexCarrier,
    account: &ValidatedAccount,
    input: &ReturnLabelInput,
) -> Result<ReturnLabel, CarrierError> {
    let request = ReturnLabelRequest::parse(input).unwrap();
    carrier
        .create_return_label(
            AccountContext {
                id: "sa_test",
                details: &account.details,
                credentials: &account.credentials,
            },
            &request,
            &IdempotencyKey::parse("key", "order-1001-return").unwrap(),
        )
        .await
}
