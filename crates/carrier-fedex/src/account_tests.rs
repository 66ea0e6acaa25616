use carrier::{AccountInput, CredentialsInput};
use serde_json::{Value, json};

use super::*;

fn details() -> Value {
    json!({
        "account_number": "123-456-789",
        "customer_name": "Acme Returns",
        "billing_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
    })
}

fn validate_with(
    details: &Value,
    credentials: &CredentialsInput,
) -> Result<ValidatedAccount, ValidationErrors> {
    validate(AccountInput {
        details,
        credentials: Some(credentials),
        current: None,
    })
}

#[test]
fn a_registration_account_normalizes_and_needs_authorization() {
    let account = validate_with(
        &details(),
        &CredentialsInput::new().with("mode", "registration"),
    )
    .unwrap();
    assert!(account.needs_authorization);
    assert_eq!(account.credentials.mode(), "registration");
    assert_eq!(account.details.str("account_number"), Some("123456789"));
    assert_eq!(account.details.get("email_label_days"), Some(&json!(14)));
    assert!(account.details.get("return_address").is_none());
}

#[test]
fn an_own_app_account_keeps_the_secret_in_the_credentials() {
    let credentials = CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", "api-key")
        .with("client_secret", "sentinel-secret-key");
    let account = validate_with(&details(), &credentials).unwrap();
    assert!(!account.needs_authorization);
    assert_eq!(account.credentials.public("client_id"), Some("api-key"));
    let printed = format!("{account:?} {}", account.details.clone().into_value());
    assert!(!printed.contains("sentinel-secret-key"), "{printed}");
}

#[test]
fn every_problem_is_named_by_field() {
    let bad = json!({
        "account_number": "12345",
        "customer_name": "x".repeat(51),
        "billing_address": {"firm": "Acme", "street1": "1 Main St", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
        "email_label_days": 731,
        "meter": "1",
    });
    let errors = validate_with(&bad, &CredentialsInput::new().with("mode", "own_app")).unwrap_err();
    for field in [
        "details.account_number",
        "details.customer_name",
        "details.billing_address.phone",
        "details.email_label_days",
        "details.meter",
        "credentials.client_id",
        "credentials.client_secret",
    ] {
        assert!(errors.names(field), "{field}: {errors}");
    }
}

#[test]
fn a_return_address_takes_the_phone_requirement_off_the_billing_address() {
    let mut input = details();
    input["billing_address"]
        .as_object_mut()
        .unwrap()
        .remove("phone");
    input["return_address"] = json!({"firm": "Acme Returns DC", "street1": "2 Dock Rd", "city": "Memphis", "state": "TN", "zip5": "38118", "phone": "9015550100"});
    let account = validate_with(&input, &CredentialsInput::new()).unwrap();
    assert_eq!(account.credentials.mode(), "registration");
    input["return_address"]
        .as_object_mut()
        .unwrap()
        .remove("phone");
    let errors = validate_with(&input, &CredentialsInput::new()).unwrap_err();
    assert!(errors.names("details.return_address.phone"), "{errors}");
}

#[test]
fn registered_credentials_cannot_be_typed_but_are_kept_on_update() {
    let typed = CredentialsInput::new().with("mode", "platform_app");
    assert!(
        validate_with(&details(), &typed)
            .unwrap_err()
            .names("credentials.mode")
    );
    let current = Credentials::new("platform_app")
        .with_secret("child_key", SecretString::from("k"))
        .with_secret("child_secret", SecretString::from("s"));
    let kept = validate(AccountInput {
        details: &details(),
        credentials: None,
        current: Some(&current),
    })
    .unwrap();
    assert_eq!(kept.credentials.mode(), "platform_app");
    assert!(!kept.needs_authorization);
    let refused = CredentialsInput::new()
        .with("mode", "registration")
        .with("client_secret", "s");
    assert!(
        validate_with(&details(), &refused)
            .unwrap_err()
            .names("credentials.client_secret")
    );
}
