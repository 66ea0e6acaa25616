//! The Account Registration wire types (AccountRegistration-Resource.json): the four request
//! bodies (`CustomerKeyInputVO`, `IssuePinInputVO`, `ValidatePinInputVO`,
//! `ValidateInvoiceInputVO`) and the replies (`IrcpResponseVO`, `IrcpResponseVO_1`,
//! `PinGenerationOutputVO`).
//!
//! Where the file disagrees with itself, both readings are accepted: `mfaOptions` is an array
//! in the schema (`MFAOptions`) and one object in the 200 example; `CustomerKeyOutputVO`
//! requires an `apiKey` it does not define (and no example has), so it is not required here.

use base64::Engine;
use carrier::Address;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::account::Profile;
use crate::ship::address::{WireAddress, wire_address};

pub(crate) const ADDRESS_PATH: &str = "/registration/v2/address/keysgeneration";
pub(crate) const PIN_GENERATION_PATH: &str = "/registration/v2/customerkeys/pingeneration";
pub(crate) const PIN_PATH: &str = "/registration/v2/pin/keysgeneration";
pub(crate) const INVOICE_PATH: &str = "/registration/v2/invoice/keysgeneration";

/// The locale sent in every body (the files' example, `en_US`).
pub(crate) const LOCALE: &str = "en_US";

/// `AddressVO`: `AddressVO` requires `residential`, which our addresses do not record; a
/// FedEx account's billing address is sent as not residential (the file gives no default).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AddressVo {
    residential: bool,
    city: String,
    country_code: String,
    postal_code: String,
    street_lines: Vec<String>,
    state_or_province_code: String,
}

impl AddressVo {
    fn from(address: &Address) -> Self {
        let WireAddress {
            street_lines,
            city,
            state_or_province_code,
            postal_code,
            country_code,
        } = wire_address(address);
        Self {
            residential: false,
            city,
            country_code,
            postal_code,
            street_lines,
            state_or_province_code,
        }
    }
}

/// `AccountNumber`: `key` is required and the file says nothing of it but its example, `""`.
#[derive(Debug, Serialize)]
pub(crate) struct AccountNumberVo {
    key: &'static str,
    value: String,
}

/// `CustomerKeyInputVO`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerKeyInput {
    address: AddressVo,
    account_number: AccountNumberVo,
    customer_name: String,
}

impl CustomerKeyInput {
    pub(crate) fn new(profile: &Profile) -> Self {
        Self {
            address: AddressVo::from(&profile.billing_address),
            account_number: AccountNumberVo {
                key: "",
                value: profile.account_number.clone(),
            },
            customer_name: profile.customer_name.clone(),
        }
    }
}

/// `IssuePinInputVO`: `option` is `SMS`, `CALL` or `EMAIL`.
#[derive(Debug, Serialize)]
pub(crate) struct IssuePinInput {
    pub(crate) locale: &'static str,
    pub(crate) option: &'static str,
}

/// `ValidatePinInputVO`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidatePinInput {
    pub(crate) locale: &'static str,
    pub(crate) secure_code_pin: String,
}

/// `InvoiceDetails`: `number` is an integer and `amount` a number in the file. The amount is
/// checked to have at most two decimals and sent as the JSON number of that decimal (its
/// shortest round-trip form, so `2323.22` goes as `2323.22`).
#[derive(Debug, Serialize)]
pub(crate) struct InvoiceDetails {
    pub(crate) number: u64,
    pub(crate) currency: String,
    pub(crate) date: NaiveDate,
    pub(crate) amount: f64,
}

impl InvoiceDetails {
    /// The amount as the wire's number, when it converts exactly.
    pub(crate) fn amount(amount: Decimal) -> Option<f64> {
        let float = amount.to_f64()?;
        let back: Decimal = float.to_string().parse().ok()?;
        (back == amount).then_some(float)
    }
}

/// `ValidateInvoiceInputVO`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidateInvoiceInput {
    pub(crate) invoice_detail: InvoiceDetails,
    pub(crate) locale: &'static str,
}

/// `Options`: `invoice` is `"INVOICE"` when an invoice is accepted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Options {
    pub(crate) invoice: Option<String>,
    #[serde(default)]
    pub(crate) secure_code: Vec<String>,
}

/// `MFAOptions_inner`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MfaOption {
    pub(crate) account_auth_token: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone_number: Option<String>,
    #[serde(default)]
    pub(crate) options: Options,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(MfaOption),
    Many(Vec<MfaOption>),
}

/// `BaseProcessOutputVO` / `CustomerKeyOutputVO`.
#[derive(Deserialize)]
struct KeysOutput {
    #[serde(default)]
    #[serde(rename = "mfaOptions")]
    mfa_options: Option<OneOrMany>,
    #[serde(rename = "child_Key")]
    child_key: Option<String>,
    child_secret: Option<String>,
}

#[derive(Deserialize)]
struct Wrapper {
    output: Option<KeysOutput>,
}

/// What a keys-generation call answered.
pub(crate) enum KeysReply {
    /// The child credentials. No `Debug`: they are secrets.
    Keys {
        child_key: SecretString,
        child_secret: SecretString,
    },
    /// FedEx wants proof (address keysgeneration only).
    Proof(MfaOption),
}

/// Reads `IrcpResponseVO` / `IrcpResponseVO_1`; `Err` names what is wrong without quoting.
pub(crate) fn parse_keys(body: &[u8]) -> Result<KeysReply, String> {
    let wrapper: Wrapper = serde_json::from_slice(body)
        .map_err(|error| format!("keys reply: {}", crate::grant::json_problem(&error)))?;
    let output = wrapper.output.ok_or("keys reply without output")?;
    match (output.child_key, output.child_secret) {
        (Some(key), Some(secret)) if !key.trim().is_empty() && !secret.trim().is_empty() => {
            return Ok(KeysReply::Keys {
                child_key: SecretString::from(key),
                child_secret: SecretString::from(secret),
            });
        }
        _ => {}
    }
    let option = match output.mfa_options {
        Some(OneOrMany::One(option)) => Some(option),
        Some(OneOrMany::Many(options)) => options.into_iter().next(),
        None => None,
    };
    match option {
        Some(option)
            if option
                .account_auth_token
                .as_deref()
                .is_some_and(|t| !t.is_empty()) =>
        {
            Ok(KeysReply::Proof(option))
        }
        Some(_) => Err("mfaOptions without an accountAuthToken".to_owned()),
        None => Err("keys reply with neither child credentials nor mfaOptions".to_owned()),
    }
}

/// Reads `PinGenerationOutputVO`: `output.status` is required.
pub(crate) fn parse_pin_generation(body: &[u8]) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        format!(
            "PIN generation reply: {}",
            crate::grant::json_problem(&error)
        )
    })?;
    if value
        .pointer("/output/status")
        .is_some_and(|status| !status.is_null())
    {
        Ok(())
    } else {
        Err("PIN generation reply without output.status".to_owned())
    }
}

/// The `exp` claim of the accountAuthToken (a JWT), read without verifying the signature: it
/// only tells the merchant how long the step lasts. `None` when the token is not a JWT or
/// has no `exp`.
pub(crate) fn token_expiry(token: &str) -> Option<DateTime<Utc>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    DateTime::from_timestamp(exp, 0)
}
