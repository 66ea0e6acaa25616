//! UPS shipper accounts (API.md "UPS accounts"): the details `{"account_number": "A1B2C3",
//! "return_address": {…}}` and the credential modes `own_app` (the merchant's own UPS app:
//! `client_id` and the secret `client_secret`) and `platform_app` ("Login with UPS": the
//! account's access and refresh tokens, sealed as secrets, with their expiry times public).
//!
//! `account_number` is the 6-character UPS shipper number (Shipping.yaml
//! `Shipper.ShipperNumber`: "six digit alphanumeric account number", length 6); it is sent as
//! the shipper and as the account billed (`BillShipper.AccountNumber`, which "must be the same
//! UPS account number as the one provided in Shipper/ShipperNumber"). It is not a secret: it is
//! printed on every label. The return address is where the labels are addressed (`ShipTo`) and
//! the shipper's address.

use std::fmt;

use carrier::account::required_detail;
use carrier::{
    AccountContext, AccountInput, Address, AddressInput, CarrierError, Credentials,
    CredentialsInput, ValidatedAccount, ValidationErrors,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::CARRIER;
use crate::ship::address;

/// Detail fields a UPS account may carry.
const DETAIL_FIELDS: &[&str] = &["account_number", "return_address"];

/// Credential fields a client may send.
const CREDENTIAL_FIELDS: &[&str] = &["mode", "client_id", "client_secret"];

pub(crate) const MODE_OWN_APP: &str = "own_app";
pub(crate) const MODE_PLATFORM_APP: &str = "platform_app";

/// Credential names (secrets and public fields) this plugin stores.
pub(crate) mod field {
    pub(crate) const CLIENT_ID: &str = "client_id";
    pub(crate) const CLIENT_SECRET: &str = "client_secret";
    pub(crate) const ACCESS_TOKEN: &str = "access_token";
    pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
    pub(crate) const ACCESS_TOKEN_EXPIRES_AT: &str = "access_token_expires_at";
    pub(crate) const REFRESH_TOKEN_EXPIRES_AT: &str = "refresh_token_expires_at";
}

/// How we get an OAuth access token for the account.
#[derive(Clone)]
pub(crate) enum Auth {
    /// The merchant's own UPS app: a `client_credentials` grant.
    OwnApp {
        client_id: String,
        client_secret: SecretString,
    },
    /// The merchant signed in with UPS: the account's own access token.
    PlatformApp {
        access_token: SecretString,
        expires_at: DateTime<Utc>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::OwnApp { client_id, .. } => f
                .debug_struct("OwnApp")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            Auth::PlatformApp { expires_at, .. } => f
                .debug_struct("PlatformApp")
                .field("access_token", &"[REDACTED]")
                .field("expires_at", expires_at)
                .finish(),
        }
    }
}

/// A stored account, parsed for one call.
#[derive(Debug, Clone)]
pub(crate) struct UpsAccount {
    pub(crate) id: String,
    pub(crate) account_number: String,
    pub(crate) return_address: Address,
    pub(crate) auth: Auth,
}

impl UpsAccount {
    /// Parses the selected account. Details stored by [`validate`] always parse.
    pub(crate) fn from_context(context: &AccountContext<'_>) -> Result<Self, CarrierError> {
        let credentials = context.credentials;
        if credentials.mode() == MODE_PLATFORM_APP
            && credentials.secret(field::ACCESS_TOKEN).is_none()
        {
            return Err(CarrierError::Unauthenticated {
                carrier: CARRIER,
                message: "the account is not connected with UPS yet (Login with UPS)".to_owned(),
            });
        }
        let mut errors = ValidationErrors::new();
        let details = parse_details(context.details.as_map(), &mut errors);
        let auth = parse_auth(credentials, &mut errors);
        match (details, auth) {
            (Some((account_number, return_address)), Some(auth)) if errors.is_empty() => {
                Ok(UpsAccount {
                    id: context.id.to_owned(),
                    account_number,
                    return_address,
                    auth,
                })
            }
            _ => Err(CarrierError::Validation(errors)),
        }
    }
}

fn parse_time(value: Option<&str>) -> Option<DateTime<Utc>> {
    value
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|at| at.with_timezone(&Utc))
}

fn parse_auth(credentials: &Credentials, errors: &mut ValidationErrors) -> Option<Auth> {
    match credentials.mode() {
        MODE_OWN_APP => match (
            credentials.public(field::CLIENT_ID),
            credentials.secret(field::CLIENT_SECRET),
        ) {
            (Some(id), Some(secret)) => Some(Auth::OwnApp {
                client_id: id.to_owned(),
                client_secret: secret.clone(),
            }),
            _ => {
                errors.push(
                    "credentials.client_secret",
                    "own_app credentials need client_id and client_secret",
                );
                None
            }
        },
        MODE_PLATFORM_APP => match (
            credentials.secret(field::ACCESS_TOKEN),
            parse_time(credentials.public(field::ACCESS_TOKEN_EXPIRES_AT)),
        ) {
            (Some(token), Some(expires_at)) => Some(Auth::PlatformApp {
                access_token: token.clone(),
                expires_at,
            }),
            _ => {
                errors.push(
                    "credentials.mode",
                    "platform_app credentials have no UPS authorization yet; connect with UPS",
                );
                None
            }
        },
        other => {
            errors.push(
                "credentials.mode",
                format!("{other:?} is not a UPS credentials mode (own_app or platform_app)"),
            );
            None
        }
    }
}

/// A UPS shipper number: six upper-case letters or digits (lower case is upper-cased).
pub(crate) fn parse_account_number(raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    let number = raw.trim().to_ascii_uppercase();
    if number.len() == 6 && number.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(number)
    } else {
        errors.push(
            "details.account_number",
            "must be the 6-character UPS shipper number (letters and digits)",
        );
        None
    }
}

fn parse_details(
    map: &Map<String, Value>,
    errors: &mut ValidationErrors,
) -> Option<(String, Address)> {
    let before = errors.len();
    for key in map.keys() {
        if !DETAIL_FIELDS.contains(&key.as_str()) {
            errors.push(format!("details.{key}"), "is not a UPS account detail");
        }
    }
    let account_number = required_detail(map, "account_number", errors)
        .and_then(|raw| parse_account_number(raw, errors));
    let return_address = parse_return_address(map.get("return_address"), errors);
    match (account_number, return_address) {
        (Some(number), Some(address)) if errors.len() == before => Some((number, address)),
        _ => None,
    }
}

fn parse_return_address(value: Option<&Value>, errors: &mut ValidationErrors) -> Option<Address> {
    const PATH: &str = "details.return_address";
    let value = match value {
        None | Some(Value::Null) => {
            errors.push(PATH, "is required: UPS return labels are addressed to it");
            return None;
        }
        Some(value @ Value::Object(_)) => value,
        Some(_) => {
            errors.push(PATH, "must be an address object");
            return None;
        }
    };
    let input: AddressInput = match serde_json::from_value(value.clone()) {
        Ok(input) => input,
        Err(error) => {
            errors.push(PATH, format!("is not an address: {error}"));
            return None;
        }
    };
    let address = errors.collect(Address::parse(PATH, &input))?;
    let before = errors.len();
    address::check(PATH, &address, errors);
    (errors.len() == before).then_some(address)
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

fn input_text(input: Option<&CredentialsInput>, key: &str) -> Option<String> {
    input
        .and_then(|input| input.get(key))
        .map(|value| value.expose_secret().trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Validates and normalizes an account (see [`carrier::Carrier::validate_account`]).
pub(crate) fn validate(input: AccountInput<'_>) -> Result<ValidatedAccount, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let empty = Map::new();
    let map = match input.details {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => {
            errors.push("details", "must be an object");
            &empty
        }
    };
    let details = parse_details(map, &mut errors);
    let credentials = validate_credentials(input.credentials, input.current, &mut errors);
    let (Some((account_number, return_address)), Some((credentials, needs_authorization))) =
        (details, credentials)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Map::new();
    out.insert("account_number".into(), Value::String(account_number));
    let address = serde_json::to_value(return_address.to_input())
        .map(without_nulls)
        .unwrap_or(Value::Null);
    out.insert("return_address".into(), address);
    Ok(ValidatedAccount {
        details: carrier::AccountDetails::new(out),
        credentials,
        needs_authorization,
        warnings: Vec::new(),
    })
}

/// Validates the credentials; `Some((credentials, needs_authorization))` when usable.
fn validate_credentials(
    input: Option<&CredentialsInput>,
    current: Option<&Credentials>,
    errors: &mut ValidationErrors,
) -> Option<(Credentials, bool)> {
    let before = errors.len();
    if let Some(input) = input {
        for key in input.keys() {
            if !CREDENTIAL_FIELDS.contains(&key) {
                errors.push(format!("credentials.{key}"), "is not a UPS credential");
            }
        }
    }
    let client_id = input_text(input, field::CLIENT_ID);
    let client_secret = input
        .and_then(|input| input.get(field::CLIENT_SECRET))
        .filter(|secret| !secret.expose_secret().trim().is_empty())
        .cloned();
    let current_mode = current.map(Credentials::mode);
    let mode = match input_text(input, "mode") {
        Some(mode) => mode,
        None => match current_mode {
            Some(mode) => mode.to_owned(),
            None if client_id.is_some() || client_secret.is_some() => MODE_OWN_APP.to_owned(),
            None => MODE_PLATFORM_APP.to_owned(),
        },
    };
    let current = current.filter(|current| current.mode() == mode);
    let result = match mode.as_str() {
        MODE_OWN_APP => {
            let current_id = current.and_then(|c| c.public(field::CLIENT_ID));
            let current_secret = current.and_then(|c| c.secret(field::CLIENT_SECRET));
            let id_changed =
                matches!((&client_id, current_id), (Some(new), Some(old)) if new != old);
            let id = client_id.or_else(|| current_id.map(str::to_owned));
            let secret = match client_secret {
                Some(secret) => Some(secret),
                None if id_changed => None,
                None => current_secret.cloned(),
            };
            match &id {
                None => errors.push("credentials.client_id", "is required for own_app"),
                Some(id) if id.len() > 256 || id.chars().any(char::is_whitespace) => {
                    errors.push("credentials.client_id", "must be a UPS app's client id")
                }
                Some(_) => {}
            }
            if secret.is_none() {
                let message = if id_changed {
                    "is required when client_id changes"
                } else {
                    "is required for own_app"
                };
                errors.push("credentials.client_secret", message);
            }
            match (id, secret) {
                (Some(id), Some(secret)) => Some((
                    Credentials::new(MODE_OWN_APP)
                        .with_public(field::CLIENT_ID, id)
                        .with_secret(field::CLIENT_SECRET, secret),
                    false,
                )),
                _ => None,
            }
        }
        MODE_PLATFORM_APP => {
            for (key, present) in [
                (field::CLIENT_ID, client_id.is_some()),
                (field::CLIENT_SECRET, client_secret.is_some()),
            ] {
                if present {
                    errors.push(
                        format!("credentials.{key}"),
                        "is not used with platform_app: tokens come from Login with UPS",
                    );
                }
            }
            let mut credentials = Credentials::new(MODE_PLATFORM_APP);
            let mut authorized = false;
            if let Some(current) = current {
                for name in [field::ACCESS_TOKEN, field::REFRESH_TOKEN] {
                    if let Some(secret) = current.secret(name) {
                        credentials = credentials.with_secret(name, secret.clone());
                    }
                }
                for name in [
                    field::ACCESS_TOKEN_EXPIRES_AT,
                    field::REFRESH_TOKEN_EXPIRES_AT,
                ] {
                    if let Some(value) = current.public(name) {
                        credentials = credentials.with_public(name, value);
                    }
                }
                authorized = current.secret(field::ACCESS_TOKEN).is_some();
            }
            Some((credentials, !authorized))
        }
        other => {
            errors.push(
                "credentials.mode",
                format!("{other:?} is not a UPS credentials mode (own_app or platform_app)"),
            );
            None
        }
    };
    if errors.len() == before { result } else { None }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
