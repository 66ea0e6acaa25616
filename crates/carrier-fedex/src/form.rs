//! The FedEx account form as JSON Schema ([`carrier::Carrier::account_schema`]): the account
//! number, the customer name, the billing and return addresses, the emailed labels' lifetime,
//! and the credentials of each mode a client sends. `account.rs` validates; this describes
//! what it accepts, with the same rules.

use carrier::form;
use serde_json::{Value, json};

use crate::account::{
    CUSTOMER_NAME_MAX, EMAIL_LABEL_DAYS_DEFAULT, EMAIL_LABEL_DAYS_MAX, MODE_OWN_APP,
    MODE_REGISTRATION,
};

pub(crate) fn account_schema() -> Value {
    let mut customer_name = form::text(
        "Customer name",
        "The name of the customer or company the account is registered under with FedEx (at most 50 characters).",
    );
    customer_name["maxLength"] = json!(CUSTOMER_NAME_MAX);
    let email_label_days = json!({
        "type": "integer",
        "title": "Emailed labels valid for (days)",
        "description": "How long a return label FedEx emails to a customer can be used: 1 to 730 days (FedEx allows up to two years). 14 when left empty.",
        "minimum": 1,
        "maximum": EMAIL_LABEL_DAYS_MAX,
        "default": EMAIL_LABEL_DAYS_DEFAULT,
    });
    let details = json!({
        "type": "object",
        "title": "FedEx account",
        "description": "Your FedEx account number, the name and billing address FedEx has for it, and where returns go.",
        "additionalProperties": false,
        "properties": {
            "account_number": form::pattern(
                "FedEx account number",
                "The 9-digit account number, on your FedEx invoices.",
                "^[0-9]{9}$",
            ),
            "customer_name": customer_name,
            "billing_address": form::address(
                "Billing address",
                "The address FedEx has for the account, exactly as on your FedEx invoices: FedEx checks it when the account is registered. US addresses only.",
            ),
            "return_address": form::address(
                "Return address",
                "Where the returns are delivered, with a phone number; the billing address when left empty. US addresses only.",
            ),
            "email_label_days": email_label_days,
        },
        "required": ["account_number", "customer_name", "billing_address"],
    });
    let credentials = json!({
        "title": "Connection",
        "description": "Register the account with FedEx through us, or use your own FedEx API project.",
        "oneOf": [
            form::mode(MODE_REGISTRATION, "Register with FedEx", "We send your account number and billing address to FedEx; then you confirm the account is yours with a PIN FedEx sends you or with one of its invoices.", &[]),
            form::mode(MODE_OWN_APP, "Your own FedEx API project", "The API key and secret key of a project you created at developer.fedex.com.", &[
                ("client_id", form::text("API key", "The project's API key (client ID).")),
                ("client_secret", form::secret("Secret key", "The project's secret key; kept encrypted, never shown again.")),
            ]),
        ],
    });
    form::account(details, credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator() -> jsonschema::Validator {
        jsonschema::draft202012::new(&account_schema()).unwrap()
    }

    fn account(credentials: Value) -> Value {
        json!({
            "details": {
                "account_number": "123456789",
                "customer_name": "Acme Returns",
                "billing_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
            },
            "credentials": credentials,
        })
    }

    #[test]
    fn both_credential_modes_match_the_schema() {
        let validator = validator();
        assert!(validator.is_valid(&account(json!({"mode": "registration"}))));
        assert!(validator.is_valid(&account(
            json!({"mode": "own_app", "client_id": "key", "client_secret": "s"})
        )));
    }

    #[test]
    fn the_schema_refuses_what_validation_refuses() {
        let validator = validator();
        assert!(!validator.is_valid(&account(json!({"mode": "own_app", "client_id": "key"}))));
        assert!(!validator.is_valid(&account(
            json!({"mode": "registration", "client_secret": "s"})
        )));
        let mut short = account(json!({"mode": "registration"}));
        short["details"]["account_number"] = json!("12345678");
        assert!(!validator.is_valid(&short));
        let mut days = account(json!({"mode": "registration"}));
        days["details"]["email_label_days"] = json!(731);
        assert!(!validator.is_valid(&days));
        let mut extra = account(json!({"mode": "registration"}));
        extra["details"]["meter_number"] = json!("1");
        assert!(!validator.is_valid(&extra));
    }

    #[test]
    fn the_secret_key_is_write_only() {
        let schema = account_schema();
        let own_app = &schema["properties"]["credentials"]["oneOf"][1];
        assert_eq!(own_app["properties"]["client_secret"]["writeOnly"], true);
        assert_ne!(own_app["properties"]["client_id"]["writeOnly"], true);
    }
}
