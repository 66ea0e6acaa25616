//! FedEx shipper accounts: the details `{"account_number": "123456789", "customer_name":
//! "Acme Returns", "billing_address": {…}, "return_address": {…}, "email_label_days": 14}`
//! and the credentials modes:
//!
//! | mode | who sends it | fields |
//! |---|---|---|
//! | `registration` | the client | none: the server registers the details with FedEx ([`crate::FedexRegistration`]) |
//! | `registration_pending` | the plugin, between registration steps | secret `account_auth_token`; public masked destinations and options |
//! | `platform_app` | the plugin, when FedEx issued the child credentials | secrets `child_key`, `child_secret` |
//! | `own_app` | the client | `client_id` (the API key), secret `client_secret` (the secret key) of the merchant's own FedEx developer-portal project |
//!
//! - `account_number`: the 9-digit FedEx account number (the Ship file's
//!   `accountNumber.value`, "Maximum length is 9"; FedEx's own error text: "a valid 9-digit
//!   FedEx account number"). It is billed for the labels and is not a secret.
//! - `customer_name`: AccountRegistration's `customerName` ("upto 50 characters"), the name
//!   the registration is made under.
//! - `billing_address`: the address FedEx has for the account, sent with the registration
//!   (`CustomerKeyInputVO.address`); FedEx checks the city, state and ZIP combination.
//! - `return_address`: where the returns go (the Ship request's recipient); the billing
//!   address when left out. The Ship file requires a recipient phone (`contact.phoneNumber`),
//!   and an emailed label needs the merchant's phone (`returnEmailDetail.merchantPhoneNumber`),
//!   so the address labels go to must have one.
//! - `email_label_days`: how long an emailed return label stays valid, 1 to 730 days, 14 when
//!   left out (the Ship file's `expirationTimeStamp`: "not greater than 2 years in the future").
//!
//! Addresses are US addresses: the plugin's services are US domestic returns.

use std::fmt;

use carrier::account::required_detail;
use carrier::{
    AccountContext, AccountDetails, AccountInput, Address, AddressInput, CarrierError, Credentials,
    CredentialsInput, ValidatedAccount, ValidationErrors,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::CARRIER;
use crate::ship::address;

/// Detail fields a FedEx account may carry.
const DETAIL_FIELDS: &[&str] = &[
    "account_number",
    "customer_name",
    "billing_address",
    "return_address",
    "email_label_days",
];

/// Credential fields a client may send.
const CREDENTIAL_FIELDS: &[&str] = &["mode", "client_id", "client_secret"];

pub(crate) const MODE_REGISTRATION: &str = "registration";
pub(crate) const MODE_REGISTRATION_PENDING: &str = "registration_pending";
pub(crate) const MODE_PLATFORM_APP: &str = "platform_app";
pub(crate) const MODE_OWN_APP: &str = "own_app";

/// `customerName`: "It accepts upto 50 characters".
pub(crate) const CUSTOMER_NAME_MAX: usize = 50;
/// `expirationTimeStamp`: "not greater than 2 years in the future".
pub(crate) const EMAIL_LABEL_DAYS_MAX: u32 = 730;
/// Our default for `email_label_days`: two weeks.
pub(crate) const EMAIL_LABEL_DAYS_DEFAULT: u32 = 14;

/// Credential names (secrets and public fields) this plugin stores.
pub(crate) mod field {
    pub(crate) const CLIENT_ID: &str = "client_id";
    pub(crate) const CLIENT_SECRET: &str = "client_secret";
    pub(crate) const CHILD_KEY: &str = "child_key";
    pub(crate) const CHILD_SECRET: &str = "child_secret";
    pub(crate) const ACCOUNT_AUTH_TOKEN: &str = "account_auth_token";
}

/// How we get an OAuth token for the account's calls.
#[derive(Clone)]
pub(crate) enum Auth {
    /// The merchant's own FedEx project: `client_credentials`.
    OwnApp {
        client_id: String,
        client_secret: SecretString,
    },
    /// Registered through the platform's app: `csp_credentials` with the child key and secret.
    PlatformApp {
        child_key: SecretString,
        child_secret: SecretString,
    },
}

impl Auth {
    /// Every secret, to scrub from what FedEx answers.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::OwnApp { client_secret, .. } => vec![client_secret.expose_secret()],
            Auth::PlatformApp {
                child_key,
                child_secret,
            } => vec![child_key.expose_secret(), child_secret.expose_secret()],
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::OwnApp { client_id, .. } => f
                .debug_struct("OwnApp")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            Auth::PlatformApp { .. } => f
                .debug_struct("PlatformApp")
                .field("child_key", &"[REDACTED]")
                .field("child_secret", &"[REDACTED]")
                .finish(),
        }
    }
}

/// The account's details, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub(crate) account_number: String,
    pub(crate) customer_name: String,
    pub(crate) billing_address: Address,
    pub(crate) return_address: Option<Address>,
    pub(crate) email_label_days: u32,
}

impl Profile {
    /// Where the returns go: the return address, else the billing address.
    pub(crate) fn destination(&self) -> &Address {
        self.return_address
            .as_ref()
            .unwrap_or(&self.billing_address)
    }

    /// Parses stored (or submitted) details; every problem by field.
    pub(crate) fn parse(map: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for key in map.keys() {
            if !DETAIL_FIELDS.contains(&key.as_str()) {
                errors.push(format!("details.{key}"), "is not a FedEx account detail");
            }
        }
        let account_number = required_detail(map, "account_number", &mut errors)
            .and_then(|raw| parse_account_number(raw, &mut errors));
        let customer_name = required_detail(map, "customer_name", &mut errors)
            .and_then(|raw| parse_customer_name(raw, &mut errors));
        let billing_address = parse_address(
            "billing_address",
            map.get("billing_address"),
            true,
            &mut errors,
        );
        let return_address = match map.get("return_address") {
            None | Some(Value::Null) => None,
            some => parse_address("return_address", some, false, &mut errors),
        };
        let email_label_days = parse_email_label_days(map.get("email_label_days"), &mut errors);
        // The address labels go to needs a phone (the Ship file's recipient `phoneNumber`).
        let destination = match (&return_address, &billing_address) {
            (Some(address), _) => Some(("return_address", address)),
            (None, Some(address))
                if !map.contains_key("return_address")
                    || map.get("return_address") == Some(&Value::Null) =>
            {
                Some(("billing_address", address))
            }
            _ => None,
        };
        if let Some((name, address)) = destination {
            if address.phone.is_none() {
                errors.push(
                    format!("details.{name}.phone"),
                    "is required: FedEx needs a phone number for the address return labels go to",
                );
            }
        }
        match (
            account_number,
            customer_name,
            billing_address,
            email_label_days,
        ) {
            (Some(account_number), Some(customer_name), Some(billing_address), Some(days))
                if errors.is_empty() =>
            {
                Ok(Profile {
                    account_number,
                    customer_name,
                    billing_address,
                    return_address,
                    email_label_days: days,
                })
            }
            _ => Err(errors),
        }
    }

    /// The normalized details to store.
    pub(crate) fn to_details(&self) -> AccountDetails {
        let mut out = Map::new();
        out.insert(
            "account_number".into(),
            Value::String(self.account_number.clone()),
        );
        out.insert(
            "customer_name".into(),
            Value::String(self.customer_name.clone()),
        );
        out.insert(
            "billing_address".into(),
            address_value(&self.billing_address),
        );
        if let Some(address) = &self.return_address {
            out.insert("return_address".into(), address_value(address));
        }
        out.insert(
            "email_label_days".into(),
            Value::from(self.email_label_days),
        );
        AccountDetails::new(out)
    }
}

fn address_value(address: &Address) -> Value {
    match serde_json::to_value(address.to_input()) {
        Ok(Value::Object(map)) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        _ => Value::Null,
    }
}

/// A stored account, parsed for one label, cancel or track call.
#[derive(Debug, Clone)]
pub(crate) struct FedexAccount {
    pub(crate) id: String,
    pub(crate) profile: Profile,
    pub(crate) auth: Auth,
}

impl FedexAccount {
    /// Parses the selected account. Details stored by [`validate`] always parse.
    pub(crate) fn from_context(context: &AccountContext<'_>) -> Result<Self, CarrierError> {
        let auth = match auth_of(context.credentials) {
            Ok(auth) => auth,
            Err(message) => {
                return Err(CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                });
            }
        };
        let profile = Profile::parse(context.details.as_map()).map_err(CarrierError::Validation)?;
        Ok(FedexAccount {
            id: context.id.to_owned(),
            profile,
            auth,
        })
    }
}

/// The token credentials of a stored account, or why it has none yet.
fn auth_of(credentials: &Credentials) -> Result<Auth, String> {
    match credentials.mode() {
        MODE_OWN_APP => match (
            credentials.public(field::CLIENT_ID),
            credentials.secret(field::CLIENT_SECRET),
        ) {
            (Some(id), Some(secret)) => Ok(Auth::OwnApp {
                client_id: id.to_owned(),
                client_secret: secret.clone(),
            }),
            _ => Err("the account's own_app credentials are incomplete".to_owned()),
        },
        MODE_PLATFORM_APP => match (
            credentials.secret(field::CHILD_KEY),
            credentials.secret(field::CHILD_SECRET),
        ) {
            (Some(key), Some(secret)) => Ok(Auth::PlatformApp {
                child_key: key.clone(),
                child_secret: secret.clone(),
            }),
            _ => Err("the account has no FedEx child credentials; register it again".to_owned()),
        },
        MODE_REGISTRATION | MODE_REGISTRATION_PENDING => {
            Err("the account's FedEx registration is not finished".to_owned())
        }
        other => Err(format!("{other:?} is not a FedEx credentials mode")),
    }
}

/// A FedEx account number: nine digits (spaces and dashes typed between them are dropped).
pub(crate) fn parse_account_number(raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    let number: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if number.len() == 9 && number.bytes().all(|b| b.is_ascii_digit()) {
        Some(number)
    } else {
        errors.push(
            "details.account_number",
            "must be the 9-digit FedEx account number",
        );
        None
    }
}

fn parse_customer_name(raw: &str, errors: &mut ValidationErrors) -> Option<String> {
    if raw.chars().count() > CUSTOMER_NAME_MAX {
        errors.push(
            "details.customer_name",
            format!("must be at most {CUSTOMER_NAME_MAX} characters"),
        );
        return None;
    }
    errors.collect(carrier::text::check_plain("details.customer_name", raw))?;
    Some(raw.to_owned())
}

fn parse_email_label_days(value: Option<&Value>, errors: &mut ValidationErrors) -> Option<u32> {
    const FIELD: &str = "details.email_label_days";
    let message = format!("must be a whole number of days from 1 to {EMAIL_LABEL_DAYS_MAX}");
    match value {
        None | Some(Value::Null) => Some(EMAIL_LABEL_DAYS_DEFAULT),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(days @ 1..=730) => u32::try_from(days).ok(),
            _ => {
                errors.push(FIELD, message);
                None
            }
        },
        Some(_) => {
            errors.push(FIELD, message);
            None
        }
    }
}

fn parse_address(
    name: &str,
    value: Option<&Value>,
    required: bool,
    errors: &mut ValidationErrors,
) -> Option<Address> {
    let path = format!("details.{name}");
    let value = match value {
        None | Some(Value::Null) => {
            if required {
                errors.push(path, "is required: FedEx registers the account with it");
            }
            return None;
        }
        Some(value @ Value::Object(_)) => value,
        Some(_) => {
            errors.push(path, "must be an address object");
            return None;
        }
    };
    let input: AddressInput = match serde_json::from_value(value.clone()) {
        Ok(input) => input,
        Err(error) => {
            errors.push(path, format!("is not an address: {error}"));
            return None;
        }
    };
    let address = errors.collect(Address::parse(&path, &input))?;
    let before = errors.len();
    address::check(&path, &address, errors);
    (errors.len() == before).then_some(address)
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
    let profile = errors.collect(Profile::parse(map));
    let credentials = validate_credentials(input.credentials, input.current, &mut errors);
    match (profile, credentials) {
        (Some(profile), Some((credentials, needs_authorization))) if errors.is_empty() => {
            Ok(ValidatedAccount {
                details: profile.to_details(),
                credentials,
                needs_authorization,
                warnings: Vec::new(),
            })
        }
        _ => Err(errors),
    }
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
                errors.push(format!("credentials.{key}"), "is not a FedEx credential");
            }
        }
    }
    let client_id = input_text(input, field::CLIENT_ID);
    let client_secret = input
        .and_then(|input| input.get(field::CLIENT_SECRET))
        .filter(|secret| !secret.expose_secret().trim().is_empty())
        .cloned();
    let requested = input_text(input, "mode");
    let mode = match &requested {
        Some(mode) => mode.clone(),
        None => match current.map(Credentials::mode) {
            Some(mode) => mode.to_owned(),
            None if client_id.is_some() || client_secret.is_some() => MODE_OWN_APP.to_owned(),
            None => MODE_REGISTRATION.to_owned(),
        },
    };
    let current = current.filter(|current| current.mode() == mode);
    let result = match mode.as_str() {
        MODE_OWN_APP => own_app(client_id, client_secret, current, errors),
        MODE_REGISTRATION => {
            refuse_app_fields(&client_id, &client_secret, "registration", errors);
            Some((Credentials::new(MODE_REGISTRATION), true))
        }
        // Made by the plugin, never typed: an update that does not change the mode keeps them.
        MODE_PLATFORM_APP | MODE_REGISTRATION_PENDING
            if requested.is_none() || current.is_some() =>
        {
            refuse_app_fields(&client_id, &client_secret, &mode, errors);
            match current {
                Some(current) => Some((current.clone(), mode == MODE_REGISTRATION_PENDING)),
                None => {
                    errors.push(
                        "credentials.mode",
                        format!("{mode} credentials come from registering with FedEx; send mode registration"),
                    );
                    None
                }
            }
        }
        MODE_PLATFORM_APP | MODE_REGISTRATION_PENDING => {
            errors.push(
                "credentials.mode",
                format!(
                    "{mode} credentials come from registering with FedEx; send mode registration"
                ),
            );
            None
        }
        other => {
            errors.push(
                "credentials.mode",
                format!("{other:?} is not a FedEx credentials mode (registration or own_app)"),
            );
            None
        }
    };
    if errors.len() == before { result } else { None }
}

fn refuse_app_fields(
    client_id: &Option<String>,
    client_secret: &Option<SecretString>,
    mode: &str,
    errors: &mut ValidationErrors,
) {
    for (key, present) in [
        (field::CLIENT_ID, client_id.is_some()),
        (field::CLIENT_SECRET, client_secret.is_some()),
    ] {
        if present {
            errors.push(
                format!("credentials.{key}"),
                format!("is not used with {mode}: FedEx issues the account's credentials when it is registered"),
            );
        }
    }
}

fn own_app(
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    current: Option<&Credentials>,
    errors: &mut ValidationErrors,
) -> Option<(Credentials, bool)> {
    let current_id = current.and_then(|c| c.public(field::CLIENT_ID));
    let current_secret = current.and_then(|c| c.secret(field::CLIENT_SECRET));
    let id_changed = matches!((&client_id, current_id), (Some(new), Some(old)) if new != old);
    let id = client_id.or_else(|| current_id.map(str::to_owned));
    let secret = match client_secret {
        Some(secret) => Some(secret),
        None if id_changed => None,
        None => current_secret.cloned(),
    };
    match &id {
        None => errors.push(
            "credentials.client_id",
            "is required for own_app (the project's API key)",
        ),
        Some(id) if id.len() > 256 || id.chars().any(char::is_whitespace) => {
            errors.push("credentials.client_id", "must be a FedEx API key")
        }
        Some(_) => {}
    }
    if secret.is_none() {
        let message = if id_changed {
            "is required when client_id changes"
        } else {
            "is required for own_app (the project's secret key)"
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

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
