//! Shared helpers for the integration tests: a simulator, a carrier pointed at it, the demo
//! account and requests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use carrier::{
    AccountContext, AccountInput, Carrier, CarrierError, CredentialsInput, IdempotencyKey,
    ReturnLabel, ReturnLabelInput, ReturnLabelRequest, ValidatedAccount,
};
use carrier_usps::{ReplyFormat, RetryConfig, UspsBuilder, UspsCarrier};
use serde_json::{Value, json};
use usps_sim::{Fault, FaultRule, RunningSimulator, SimConfig, Simulator, demo};

/// A simulator with the demo data, on a loopback port.
pub async fn simulator() -> RunningSimulator {
    Simulator::new(SimConfig::default())
        .spawn()
        .await
        .expect("the simulator starts")
}

/// Fast retries so that tests exercising them stay quick.
pub fn quick_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    }
}

pub fn builder(base_url: &str) -> UspsBuilder {
    UspsBuilder::new()
        .with_base_url(base_url)
        .with_retry(quick_retries())
        .with_request_timeout(Duration::from_secs(10))
}

pub fn carrier(base_url: &str) -> UspsCarrier {
    builder(base_url).build().expect("the carrier builds")
}

pub fn carrier_with_format(base_url: &str, format: ReplyFormat) -> UspsCarrier {
    builder(base_url)
        .with_reply_format(format)
        .build()
        .expect("the carrier builds")
}

pub fn return_address() -> Value {
    json!({
        "firm": demo::RETURN_ADDRESS_FIRM,
        "street1": demo::RETURN_ADDRESS_STREET,
        "city": demo::RETURN_ADDRESS_CITY,
        "state": demo::RETURN_ADDRESS_STATE,
        "zip5": demo::RETURN_ADDRESS_ZIP,
    })
}

/// The demo business's EPS account, with every MID.
pub fn eps_details() -> Value {
    json!({
        "api": "v3",
        "crid": demo::CRID,
        "mid": demo::MID,
        "manifest_mid": demo::MANIFEST_MID,
        "returns_mid": demo::RETURNS_MID,
        "account_type": "EPS",
        "eps_account_number": demo::EPS_ACCOUNT,
        "return_address": return_address(),
    })
}

/// The demo business paying by permit.
pub fn permit_details() -> Value {
    json!({
        "crid": demo::CRID,
        "mid": demo::MID,
        "manifest_mid": demo::MANIFEST_MID,
        "account_type": "PERMIT",
        "permit_number": demo::PERMIT_NUMBER,
        "permit_zip": demo::PERMIT_ZIP,
        "return_address": return_address(),
    })
}

/// The demo app's own credentials.
pub fn own_app() -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", demo::CLIENT_ID)
        .with("client_secret", demo::CLIENT_SECRET)
}

pub fn validate(
    carrier: &UspsCarrier,
    details: &Value,
    credentials: &CredentialsInput,
) -> ValidatedAccount {
    carrier
        .validate_account(AccountInput {
            details,
            credentials: Some(credentials),
            current: None,
        })
        .unwrap_or_else(|errors| panic!("the account validates: {errors}"))
}

pub fn demo_account(carrier: &UspsCarrier) -> ValidatedAccount {
    validate(carrier, &eps_details(), &own_app())
}

pub fn input(service: &str) -> ReturnLabelInput {
    serde_json::from_value(json!({
        "service": service,
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118",
                         "phone": "3145550100"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "reference": "RMA-1001"
    }))
    .expect("a valid request")
}

pub fn request(service: &str) -> ReturnLabelRequest {
    ReturnLabelRequest::parse(&input(service)).expect("the request parses")
}

pub fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse("idempotency_key", raw).expect("a valid key")
}

pub async fn buy(
    carrier: &UspsCarrier,
    account: &ValidatedAccount,
    request: &ReturnLabelRequest,
    key: &IdempotencyKey,
) -> Result<ReturnLabel, CarrierError> {
    carrier
        .create_return_label(
            AccountContext {
                id: "sa_test",
                details: &account.details,
                credentials: &account.credentials,
            },
            request,
            key,
        )
        .await
}

pub fn fault(route: &str, fault: Fault) -> FaultRule {
    FaultRule {
        route: route.to_owned(),
        fault,
        times: Some(1),
        probability: None,
    }
}

/// The simulator's Web Tools endpoint.
pub fn webtools_url(base_url: &str) -> String {
    format!("{base_url}/ShippingAPI.dll")
}

/// A carrier whose v3 base URL and Web Tools endpoint are the simulator's.
pub fn webtools_carrier(base_url: &str) -> UspsCarrier {
    builder(base_url)
        .with_webtools_url(webtools_url(base_url))
        .build()
        .expect("the carrier builds")
}

/// The demo business as a Web Tools account (no return address: USPS prints the destination
/// configured for the user ID).
pub fn webtools_details() -> Value {
    json!({
        "api": "webtools",
        "crid": demo::CRID,
        "mid": demo::MID,
        "manifest_mid": demo::MANIFEST_MID,
        "returns_mid": demo::RETURNS_MID,
        "account_type": "EPS",
        "eps_account_number": demo::EPS_ACCOUNT,
    })
}

/// The demo business as a Web Tools account in test mode (`USPSReturnsLabelCertify`).
pub fn webtools_test_details() -> Value {
    let mut details = webtools_details();
    details["test_mode"] = json!(true);
    details
}

/// Web Tools credentials.
pub fn webtools_credentials(user_id: &str, password: &str) -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "webtools")
        .with("user_id", user_id)
        .with("password", password)
}

/// The demo Web Tools user.
pub fn webtools_demo_credentials() -> CredentialsInput {
    webtools_credentials(demo::WEBTOOLS_USER_ID, demo::WEBTOOLS_PASSWORD)
}

pub fn webtools_account(carrier: &UspsCarrier) -> ValidatedAccount {
    validate(carrier, &webtools_details(), &webtools_demo_credentials())
}
