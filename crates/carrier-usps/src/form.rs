//! The USPS account form as JSON Schema ([`carrier::Carrier::account_schema`]): the details
//! of AfterShip's "Connect USPS" form (CRID, MID, account type with its EPS account or permit,
//! MMID, Returns MID), the API switch and the return address, and the credentials of each mode.
//! `account.rs` validates; this describes what it accepts, with the same rules.

use carrier::form;
use serde_json::{Value, json};

use crate::account::{API_V3, API_WEBTOOLS, MODE_OWN_APP, MODE_WEBTOOLS};

const MID: &str = "^([0-9]{6}|[0-9]{9})$";

pub(crate) fn account_schema() -> Value {
    let details = json!({
        "type": "object",
        "title": "USPS account",
        "description": "Your CRID, MID and account type, and the MMID and Returns MID if you have them. For an EPS account, its EPS account number; for a PERMIT account, the permit number and the permit ZIP Code. Not sure? Sign in to the USPS Business Customer Gateway and check there.",
        "additionalProperties": false,
        "properties": {
            "api": form::choice("API", "USPS APIs v3, or the retired Web Tools XML API for accounts still set up for it.", &[(API_V3, "USPS APIs v3"), (API_WEBTOOLS, "Web Tools (XML)")]),
            "crid": form::pattern("CRID", "Customer Registration ID: 2 to 18 digits.", "^[0-9]{2,18}$"),
            "mid": form::pattern("MID", "Mailer ID that prints on the labels: 6 or 9 digits.", MID),
            "account_type": form::choice("Account type", "How USPS bills the labels.", &[("EPS", "EPS (Enterprise Payment System)"), ("PERMIT", "Permit")]),
            "eps_account_number": {
                "type": "string",
                "title": "EPS account number",
                "description": "Up to 20 digits. Kept encrypted; shown afterwards only as its last four digits.",
                "pattern": "^[0-9]{1,20}$",
                "writeOnly": true,
            },
            "permit_number": form::pattern("Permit number", "Up to 20 letters or digits.", "^[A-Za-z0-9]{1,20}$"),
            "permit_zip": form::pattern("Permit ZIP Code", "The ZIP Code of the Post Office that holds the permit: 5 digits.", "^[0-9]{5}$"),
            "manifest_mid": form::pattern("MMID (manifest MID)", "Optional: 6 or 9 digits.", MID),
            "returns_mid": form::pattern("Returns MID", "Optional: 6 or 9 digits.", MID),
            "return_address": form::address("Return address", "Where the returns are delivered (USPS APIs v3)."),
            "test_mode": form::flag("Test mode", "Web Tools only: labels from USPSReturnsLabelCertify, not billed."),
        },
        "required": ["crid", "mid", "account_type"],
        "allOf": [
            form::required_when("account_type", "EPS", &["eps_account_number"]),
            form::required_when("account_type", "PERMIT", &["permit_number", "permit_zip"]),
            {
                "if": {"not": {"properties": {"api": {"const": API_WEBTOOLS}}, "required": ["api"]}},
                "then": {"required": ["return_address"]},
            },
        ],
    });
    let credentials = json!({
        "title": "Connection",
        "description": "Connect with \"Login with USPS\" (no credentials to send), with your own USPS API app, or with a Web Tools user ID.",
        "oneOf": [
            form::mode(MODE_OWN_APP, "Your own USPS API app", "The consumer key and secret of an app you registered at developers.usps.com.", &[
                ("client_id", form::text("Consumer key", "")),
                ("client_secret", form::secret("Consumer secret", "Kept encrypted; never shown again.")),
            ]),
            form::mode(MODE_WEBTOOLS, "Web Tools user ID", "For accounts with details.api = webtools.", &[
                ("user_id", form::secret("Web Tools user ID", "Kept encrypted.")),
                ("password", form::secret("Web Tools password", "Kept encrypted.")),
            ]),
        ],
    });
    form::account(details, credentials)
}
