//! Account validation.

use carrier::{AccountDetails, AccountInput, Credentials, CredentialsInput};
use serde_json::{Value, json};

use super::*;

fn details() -> Value {
    json!({
        "account_number": "a1b2c3",
        "return_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
    })
}

fn own_app() -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", "app-id")
        .with("client_secret", "sentinel-client-secret")
}

fn validate_with(
    details: &Value,
    credentials: Option<&CredentialsInput>,
    current: Option<&Credentials>,
) -> Result<ValidatedAccount, ValidationErrors> {
    validate(AccountInput {
        details,
        credentials,
        current,
    })
}

#[test]
fn an_own_app_account_is_normalized_with_its_secret_in_the_credentials() {
    let account = validate_with(&details(), Some(&own_app()), None).unwrap();
    assert_eq!(account.details.str("account_number"), Some("A1B2C3"));
    assert_eq!(
        account.details.get("return_address").unwrap()["zip5"],
        "63118"
    );
    assert_eq!(account.credentials.mode(), "own_app");
    assert_eq!(account.credentials.public("client_id"), Some("app-id"));
    assert!(account.credentials.secret("client_secret").is_some());
    assert!(!account.needs_authorization);
    let stored = serde_json::to_string(&account.details).unwrap();
    assert!(!stored.contains("sentinel"));
}

#[test]
fn the_account_number_must_be_six_letters_or_digits() {
    for bad in ["A1B2C", "A1B2C3D", "A1-2C3", ""] {
        let mut details = details();
        details["account_number"] = json!(bad);
        let errors = validate_with(&details, Some(&own_app()), None).unwrap_err();
        assert!(errors.names("details.account_number"), "{bad}: {errors}");
    }
}

#[test]
fn missing_and_unknown_details_are_named() {
    let errors = validate_with(&json!({"crid": "1"}), Some(&own_app()), None).unwrap_err();
    for field in [
        "details.account_number",
        "details.return_address",
        "details.crid",
    ] {
        assert!(errors.names(field), "{field}: {errors}");
    }
}

#[test]
fn a_return_address_outside_the_us_is_refused_on_its_country() {
    let mut details = details();
    details["return_address"] = json!({"firm": "Acme", "street1": "1 Rue", "city": "Paris", "postal_code": "75001", "country": "FR"});
    let errors = validate_with(&details, Some(&own_app()), None).unwrap_err();
    assert!(errors.names("details.return_address.country"), "{errors}");
}

#[test]
fn own_app_needs_both_the_client_id_and_the_secret() {
    let errors = validate_with(
        &details(),
        Some(&CredentialsInput::new().with("mode", "own_app")),
        None,
    )
    .unwrap_err();
    assert!(errors.names("credentials.client_id"));
    assert!(errors.names("credentials.client_secret"));
}

#[test]
fn an_update_keeps_the_stored_secret_unless_the_client_id_changes() {
    let stored = validate_with(&details(), Some(&own_app()), None)
        .unwrap()
        .credentials;
    let kept = validate_with(&details(), None, Some(&stored)).unwrap();
    assert!(kept.credentials.secret("client_secret").is_some());
    let changed = CredentialsInput::new().with("client_id", "other-app");
    let errors = validate_with(&details(), Some(&changed), Some(&stored)).unwrap_err();
    assert!(errors.names("credentials.client_secret"), "{errors}");
}

#[test]
fn a_platform_app_account_waits_for_login_with_ups_and_keeps_its_tokens() {
    let pending = validate_with(
        &details(),
        Some(&CredentialsInput::new().with("mode", "platform_app")),
        None,
    )
    .unwrap();
    assert!(pending.needs_authorization);
    let connected = Credentials::new("platform_app")
        .with_secret(field::ACCESS_TOKEN, SecretString::from("sentinel-access"))
        .with_secret(field::REFRESH_TOKEN, SecretString::from("sentinel-refresh"))
        .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T00:00:00Z");
    let account = validate_with(&details(), None, Some(&connected)).unwrap();
    assert!(!account.needs_authorization);
    assert!(account.credentials.secret(field::REFRESH_TOKEN).is_some());
    assert_eq!(
        account.credentials.public(field::ACCESS_TOKEN_EXPIRES_AT),
        Some("2030-01-01T00:00:00Z")
    );
    let errors = validate_with(
        &details(),
        Some(
            &CredentialsInput::new()
                .with("mode", "platform_app")
                .with("client_secret", "x"),
        ),
        Some(&connected),
    )
    .unwrap_err();
    assert!(errors.names("credentials.client_secret"));
}

#[test]
fn unknown_modes_and_credential_fields_are_refused() {
    let errors = validate_with(
        &details(),
        Some(
            &CredentialsInput::new()
                .with("mode", "webtools")
                .with("password", "x"),
        ),
        None,
    )
    .unwrap_err();
    assert!(errors.names("credentials.mode"));
    assert!(errors.names("credentials.password"));
}

#[test]
fn a_stored_account_parses_for_a_call_and_an_unconnected_one_is_unauthenticated() {
    let account = validate_with(&details(), Some(&own_app()), None).unwrap();
    let parsed = UpsAccount::from_context(&AccountContext {
        id: "sa_1",
        details: &account.details,
        credentials: &account.credentials,
    })
    .unwrap();
    assert_eq!(parsed.account_number, "A1B2C3");
    assert!(!format!("{parsed:?}").contains("sentinel"));
    let pending = Credentials::new("platform_app");
    let error = UpsAccount::from_context(&AccountContext {
        id: "sa_1",
        details: &AccountDetails::default(),
        credentials: &pending,
    })
    .unwrap_err();
    assert_eq!(error.kind(), carrier::ErrorKind::Unauthenticated);
}
