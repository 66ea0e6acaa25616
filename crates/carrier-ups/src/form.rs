//! The UPS account form as JSON Schema ([`carrier::Carrier::account_schema`]): the shipper
//! number and the return address, and the credentials of each mode. `account.rs` validates;
//! this describes what it accepts, with the same rules.

use carrier::form;
use serde_json::{Value, json};

use crate::account::{MODE_OWN_APP, MODE_PLATFORM_APP};

pub(crate) fn account_schema() -> Value {
    let details = json!({
        "type": "object",
        "title": "UPS account",
        "description": "Your UPS shipper (account) number and the address the returns go to. The number is on your UPS invoices and at ups.com under Account Summary.",
        "additionalProperties": false,
        "properties": {
            "account_number": form::pattern(
                "UPS account number",
                "The 6-character shipper number (letters and digits), e.g. A1B2C3.",
                "^[A-Za-z0-9]{6}$",
            ),
            "return_address": form::address(
                "Return address",
                "Where the returns are delivered; also printed as the shipper's address. US addresses only.",
            ),
        },
        "required": ["account_number", "return_address"],
    });
    let credentials = json!({
        "title": "Connection",
        "description": "Connect with \"Login with UPS\" (no credentials to send) or with your own UPS API app.",
        "oneOf": [
            form::mode(MODE_OWN_APP, "Your own UPS API app", "The client id and secret of an app you created at developer.ups.com.", &[
                ("client_id", form::text("Client ID", "")),
                ("client_secret", form::secret("Client secret", "Kept encrypted; never shown again.")),
            ]),
            form::mode(MODE_PLATFORM_APP, "Login with UPS", "Sign in with UPS from the account page; UPS's tokens are kept encrypted.", &[]),
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
                "account_number": "A1B2C3",
                "return_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
            },
            "credentials": credentials,
        })
    }

    #[test]
    fn both_credential_modes_match_the_schema() {
        let validator = validator();
        assert!(validator.is_valid(&account(
            json!({"mode": "own_app", "client_id": "app", "client_secret": "s"})
        )));
        assert!(validator.is_valid(&account(json!({"mode": "platform_app"}))));
    }

    #[test]
    fn the_schema_refuses_what_validation_refuses() {
        let validator = validator();
        assert!(!validator.is_valid(&account(json!({"mode": "own_app", "client_id": "app"}))));
        assert!(!validator.is_valid(&account(
            json!({"mode": "platform_app", "client_secret": "s"})
        )));
        let mut short = account(json!({"mode": "platform_app"}));
        short["details"]["account_number"] = json!("A1B2C");
        assert!(!validator.is_valid(&short));
        let mut extra = account(json!({"mode": "platform_app"}));
        extra["details"]["crid"] = json!("123");
        assert!(!validator.is_valid(&extra));
    }

    #[test]
    fn the_client_secret_is_write_only() {
        let schema = account_schema();
        let own_app = &schema["properties"]["credentials"]["oneOf"][0];
        assert_eq!(own_app["properties"]["client_secret"]["writeOnly"], true);
        assert_ne!(own_app["properties"]["client_id"]["writeOnly"], true);
    }
}
