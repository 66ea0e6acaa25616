//! USPS shipper accounts: the details form of AfterShip's "Connect USPS" article (CRID, MID,
//! account type, Manifest MID, Returns MID, EPS account number or permit number + permit ZIP)
//! plus what each wire protocol needs, chosen by `details.api`, and the three credential modes
//! of the public API (`own_app`, `platform_app`, `webtools`).
//!
//! | `details.api` | credentials | also in the details |
//! |---|---|---|
//! | `v3` (default) | `own_app` (`client_id` + secret `client_secret`) or `platform_app` (OAuth consent) | `return_address` (required: the v3 `toAddress`) |
//! | `webtools` | `webtools` (secrets `user_id` + `password`) | `test_mode` (optional, default `false`: labels from `USPSReturnsLabelCertify`) |
//!
//! A Web Tools account carries the same CRID / MID / account type form as a v3 account (the
//! account service is carrier-agnostic and merchants fill in one form), but no return address:
//! USPSReturnsLabel prints the delivery destination USPS configured for the Web Tools user ID
//! during onboarding and reports it back in the reply's `To*` (v1.2) / `Retailer*` (v1.5) tags.
//! Of the form, Web Tools uses only the MID (sent as v1.5 `MailOwnerMID`); the CRID, the account
//! type and the EPS account or permit are validated and kept so that the account can move to v3
//! (USPS bills Web Tools returns to the EPS account set up at onboarding, not per request).
//!
//! The EPS account number pays for postage, so it is a secret: it moves into the credentials and
//! the details keep only its masked form (`******4321`). The Web Tools user ID and password are
//! secrets too: they appear only in the credentials, never in the details.

use std::fmt;

use carrier::account::{mask_account_number, required_detail};
use carrier::{
    AccountContext, AccountInput, Address, AddressInput, CarrierError, Credentials,
    CredentialsInput, ValidatedAccount, ValidationErrors,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::v3;

/// Detail fields a USPS account may carry.
const DETAIL_FIELDS: &[&str] = &[
    "api",
    "crid",
    "mid",
    "manifest_mid",
    "returns_mid",
    "account_type",
    "eps_account_number",
    "permit_number",
    "permit_zip",
    "return_address",
    "test_mode",
];

/// Credential fields a client may send.
const CREDENTIAL_FIELDS: &[&str] = &["mode", "client_id", "client_secret", "user_id", "password"];

pub(crate) const MODE_OWN_APP: &str = "own_app";
pub(crate) const MODE_PLATFORM_APP: &str = "platform_app";
pub(crate) const MODE_WEBTOOLS: &str = "webtools";

pub(crate) const API_V3: &str = "v3";
pub(crate) const API_WEBTOOLS: &str = "webtools";

/// The USPS wire protocol an account speaks (`details.api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// The USPS APIs v3 (OAuth, Payments, Labels): the default.
    V3,
    /// The Web Tools `USPSReturnsLabel` XML API.
    WebTools,
}

impl Api {
    /// The API of stored (validated) details: `webtools` when they say so, else v3.
    pub(crate) fn of(details: &carrier::AccountDetails) -> Self {
        match details.str("api") {
            Some(API_WEBTOOLS) => Api::WebTools,
            _ => Api::V3,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Api::V3 => API_V3,
            Api::WebTools => API_WEBTOOLS,
        }
    }
}

/// Credential names (secrets and public fields) this plugin stores.
pub(crate) mod field {
    pub(crate) const CLIENT_ID: &str = "client_id";
    pub(crate) const CLIENT_SECRET: &str = "client_secret";
    pub(crate) const EPS_ACCOUNT_NUMBER: &str = "eps_account_number";
    /// The EPS accounts "Login with USPS" offered when it named several, comma separated: the
    /// merchant chooses one by its masked number.
    pub(crate) const EPS_ACCOUNT_CHOICES: &str = "eps_account_choices";
    pub(crate) const ACCESS_TOKEN: &str = "access_token";
    pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
    pub(crate) const ACCESS_TOKEN_EXPIRES_AT: &str = "access_token_expires_at";
    pub(crate) const REFRESH_TOKEN_EXPIRES_AT: &str = "refresh_token_expires_at";
    pub(crate) const USER_ID: &str = "user_id";
    pub(crate) const PASSWORD: &str = "password";
}

/// Who pays for the labels.
#[derive(Clone)]
pub(crate) enum Payer {
    Eps { account_number: SecretString },
    Permit { number: String, zip: String },
}

impl fmt::Debug for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payer::Eps { account_number } => f
                .debug_struct("Eps")
                .field(
                    "account_number",
                    &mask_account_number(account_number.expose_secret()),
                )
                .finish(),
            Payer::Permit { number, zip } => f
                .debug_struct("Permit")
                .field("number", number)
                .field("zip", zip)
                .finish(),
        }
    }
}

/// How we get an OAuth access token for the account.
#[derive(Clone)]
pub(crate) enum Auth {
    /// The merchant's own USPS app: a `client_credentials` grant.
    OwnApp {
        client_id: String,
        client_secret: SecretString,
    },
    /// The merchant consented to the platform's app: the account's own access token.
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
pub(crate) struct UspsAccount {
    pub(crate) id: String,
    pub(crate) crid: String,
    pub(crate) mid: String,
    pub(crate) manifest_mid: Option<String>,
    pub(crate) returns_mid: Option<String>,
    pub(crate) payer: Payer,
    pub(crate) return_address: Address,
    pub(crate) auth: Auth,
}

/// The Web Tools user ID and password: the `USERID` and `PASSWORD` attributes of the request
/// document, exposed only where that document is written. `Debug` prints neither.
#[derive(Clone)]
pub(crate) struct WebToolsCredentials {
    pub(crate) user_id: SecretString,
    pub(crate) password: SecretString,
}

impl fmt::Debug for WebToolsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebToolsCredentials")
            .field("user_id", &"[REDACTED]")
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// A stored Web Tools account, parsed for one call.
#[derive(Debug, Clone)]
pub(crate) struct WebToolsAccount {
    pub(crate) id: String,
    /// Sent as `MailOwnerMID`.
    pub(crate) mid: String,
    /// Labels come from `USPSReturnsLabelCertify` (samples that cannot be mailed).
    pub(crate) test_mode: bool,
    pub(crate) credentials: WebToolsCredentials,
}

/// A stored account of either API, parsed for one call.
#[derive(Debug, Clone)]
pub(crate) enum Account {
    V3(Box<UspsAccount>),
    WebTools(WebToolsAccount),
}

impl Account {
    /// Parses the selected account. Details stored by [`validate`] always parse; an account
    /// stored by an older version that no longer does gets field errors on `details.*`.
    pub(crate) fn from_context(context: &AccountContext<'_>) -> Result<Self, CarrierError> {
        let credentials = context.credentials;
        if credentials.mode() == MODE_PLATFORM_APP
            && credentials.secret(field::ACCESS_TOKEN).is_none()
        {
            return Err(CarrierError::Unauthenticated {
                carrier: crate::error::CARRIER,
                message: "the account is not connected with USPS yet (Login with USPS)".to_owned(),
            });
        }
        let mut errors = ValidationErrors::new();
        let details = parse_details(context.details.as_map(), &mut errors);
        match requested_api(context.details.as_map()) {
            Some(Api::WebTools) => {
                let webtools = parse_webtools_credentials(credentials, &mut errors);
                let (Some(details), Some(webtools)) = (details, webtools) else {
                    return Err(CarrierError::Validation(errors));
                };
                Ok(Account::WebTools(WebToolsAccount {
                    id: context.id.to_owned(),
                    mid: details.mid,
                    test_mode: details.test_mode,
                    credentials: webtools,
                }))
            }
            Some(Api::V3) | None => {
                let auth = parse_auth(credentials, &mut errors);
                let (Some(details), Some(auth)) = (details, auth) else {
                    return Err(CarrierError::Validation(errors));
                };
                let payer = match details.payment {
                    PaymentDetails::Eps(_) => match credentials.secret(field::EPS_ACCOUNT_NUMBER) {
                        Some(number) => Payer::Eps {
                            account_number: number.clone(),
                        },
                        None => {
                            return Err(CarrierError::invalid(
                                "details.eps_account_number",
                                "is not stored with the credentials; enter the EPS account number again",
                            ));
                        }
                    },
                    PaymentDetails::Permit { number, zip } => Payer::Permit { number, zip },
                };
                let Some(return_address) = details.return_address else {
                    return Err(CarrierError::invalid(
                        "details.return_address",
                        "is required: USPS v3 return labels are addressed to it",
                    ));
                };
                Ok(Account::V3(Box::new(UspsAccount {
                    id: context.id.to_owned(),
                    crid: details.crid,
                    mid: details.mid,
                    manifest_mid: details.manifest_mid,
                    returns_mid: details.returns_mid,
                    payer,
                    return_address,
                    auth,
                })))
            }
        }
    }
}

impl UspsAccount {
    /// Parses a selected v3 account (see [`Account::from_context`]).
    pub(crate) fn from_context(context: &AccountContext<'_>) -> Result<Self, CarrierError> {
        match Account::from_context(context)? {
            Account::V3(account) => Ok(*account),
            Account::WebTools(_) => Err(CarrierError::invalid(
                "details.api",
                "is webtools; this needs a v3 account",
            )),
        }
    }
}

/// The Web Tools credentials of a stored account.
fn parse_webtools_credentials(
    credentials: &Credentials,
    errors: &mut ValidationErrors,
) -> Option<WebToolsCredentials> {
    if credentials.mode() != MODE_WEBTOOLS {
        errors.push(
            "credentials.mode",
            format!(
                "{:?} is not usable with a Web Tools account (details.api = \"webtools\"); use webtools credentials",
                credentials.mode()
            ),
        );
        return None;
    }
    match (
        credentials.secret(field::USER_ID),
        credentials.secret(field::PASSWORD),
    ) {
        (Some(user_id), Some(password)) => Some(WebToolsCredentials {
            user_id: user_id.clone(),
            password: password.clone(),
        }),
        _ => {
            errors.push(
                "credentials.user_id",
                "webtools credentials need user_id and password",
            );
            None
        }
    }
}

fn parse_auth(credentials: &Credentials, errors: &mut ValidationErrors) -> Option<Auth> {
    match credentials.mode() {
        MODE_OWN_APP => {
            let client_id = credentials.public(field::CLIENT_ID);
            let client_secret = credentials.secret(field::CLIENT_SECRET);
            match (client_id, client_secret) {
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
            }
        }
        MODE_PLATFORM_APP => {
            let token = credentials.secret(field::ACCESS_TOKEN);
            let expires_at = credentials
                .public(field::ACCESS_TOKEN_EXPIRES_AT)
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&Utc));
            match (token, expires_at) {
                (Some(token), Some(expires_at)) => Some(Auth::PlatformApp {
                    access_token: token.clone(),
                    expires_at,
                }),
                _ => {
                    errors.push(
                        "credentials.mode",
                        "platform_app credentials have no USPS authorization yet; connect with USPS",
                    );
                    None
                }
            }
        }
        other => {
            errors.push(
                "credentials.mode",
                format!("{other:?} is not a USPS v3 credentials mode (own_app or platform_app)"),
            );
            None
        }
    }
}

/// How the account pays, as the details say it.
enum PaymentDetails {
    Eps(EpsInput),
    Permit { number: String, zip: String },
}

/// What the details carry for the EPS account number.
enum EpsInput {
    /// Nothing: keep the stored number.
    Absent,
    /// The masked form shown on read: keep the stored number.
    Masked(String),
    /// A new number.
    Number(String),
}

struct Details {
    api: Api,
    crid: String,
    mid: String,
    manifest_mid: Option<String>,
    returns_mid: Option<String>,
    payment: PaymentDetails,
    /// Required for v3; never present for Web Tools.
    return_address: Option<Address>,
    /// Web Tools only: use `USPSReturnsLabelCertify`.
    test_mode: bool,
}

/// An optional string detail: absent, `null` and `""` all mean "none".
fn optional_detail(
    map: &Map<String, Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<String> {
    match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) if value.trim().is_empty() => None,
        Some(Value::String(value)) => Some(value.trim().to_owned()),
        Some(_) => {
            errors.push(format!("details.{key}"), "must be a string");
            None
        }
    }
}

fn is_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn check_mid(key: &str, value: &str, errors: &mut ValidationErrors) -> bool {
    let ok = is_digits(value) && (value.len() == 6 || value.len() == 9);
    if !ok {
        errors.push(format!("details.{key}"), "must be 6 or 9 digits");
    }
    ok
}

fn parse_details(map: &Map<String, Value>, errors: &mut ValidationErrors) -> Option<Details> {
    let before = errors.len();
    for key in map.keys() {
        if !DETAIL_FIELDS.contains(&key.as_str()) {
            errors.push(format!("details.{key}"), "is not a USPS account detail");
        }
    }
    let api = match optional_detail(map, "api", errors).as_deref() {
        None | Some(API_V3) => Some(Api::V3),
        Some(API_WEBTOOLS) => Some(Api::WebTools),
        Some(_) => {
            errors.push("details.api", "must be \"v3\" or \"webtools\"");
            None
        }
    };
    let test_mode = match map.get("test_mode") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(test_mode)) => *test_mode,
        Some(_) => {
            errors.push("details.test_mode", "must be true or false");
            false
        }
    };
    if test_mode && api == Some(Api::V3) {
        errors.push(
            "details.test_mode",
            "is only for Web Tools accounts (USPSReturnsLabelCertify); v3 test labels come from the test environment host",
        );
    }
    let crid = required_detail(map, "crid", errors).map(str::to_owned);
    if let Some(crid) = &crid {
        if !is_digits(crid) || !(2..=18).contains(&crid.len()) {
            errors.push("details.crid", "must be 2 to 18 digits");
        }
    }
    let mid = required_detail(map, "mid", errors).map(str::to_owned);
    if let Some(mid) = &mid {
        check_mid("mid", mid, errors);
    }
    let manifest_mid = optional_detail(map, "manifest_mid", errors);
    if let Some(value) = &manifest_mid {
        check_mid("manifest_mid", value, errors);
    }
    let returns_mid = optional_detail(map, "returns_mid", errors);
    if let Some(value) = &returns_mid {
        check_mid("returns_mid", value, errors);
    }
    let eps = optional_detail(map, "eps_account_number", errors);
    let permit_number = optional_detail(map, "permit_number", errors);
    let permit_zip = optional_detail(map, "permit_zip", errors);
    let payment = match required_detail(map, "account_type", errors) {
        Some(kind) if kind.eq_ignore_ascii_case("EPS") => {
            for (key, value) in [
                ("permit_number", &permit_number),
                ("permit_zip", &permit_zip),
            ] {
                if value.is_some() {
                    errors.push(format!("details.{key}"), "is only for PERMIT accounts");
                }
            }
            let input = match eps {
                None => EpsInput::Absent,
                Some(value) if value.contains('*') => EpsInput::Masked(value),
                Some(value) if is_digits(&value) && value.len() <= 20 => EpsInput::Number(value),
                Some(_) => {
                    errors.push("details.eps_account_number", "must be up to 20 digits");
                    EpsInput::Absent
                }
            };
            Some(PaymentDetails::Eps(input))
        }
        Some(kind) if kind.eq_ignore_ascii_case("PERMIT") => {
            if eps.is_some() {
                errors.push("details.eps_account_number", "is only for EPS accounts");
            }
            let number = match permit_number {
                Some(number)
                    if number.len() <= 20 && number.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    Some(number)
                }
                Some(_) => {
                    errors.push(
                        "details.permit_number",
                        "must be up to 20 letters or digits",
                    );
                    None
                }
                None => {
                    errors.push("details.permit_number", "is required for PERMIT accounts");
                    None
                }
            };
            let zip = match permit_zip {
                Some(zip) if zip.len() == 5 && is_digits(&zip) => Some(zip),
                Some(_) => {
                    errors.push("details.permit_zip", "must be 5 digits");
                    None
                }
                None => {
                    errors.push("details.permit_zip", "is required for PERMIT accounts");
                    None
                }
            };
            match (number, zip) {
                (Some(number), Some(zip)) => Some(PaymentDetails::Permit { number, zip }),
                _ => None,
            }
        }
        Some(_) => {
            errors.push("details.account_type", "must be EPS or PERMIT");
            None
        }
        None => None,
    };
    let return_address = match api {
        Some(Api::V3) => parse_return_address(map.get("return_address"), errors),
        Some(Api::WebTools) => {
            if !matches!(map.get("return_address"), None | Some(Value::Null)) {
                errors.push(
                    "details.return_address",
                    "is not used by Web Tools accounts: USPS prints the delivery destination configured for the Web Tools user ID",
                );
            }
            None
        }
        None => None,
    };
    match (api, crid, mid, payment) {
        (Some(api), Some(crid), Some(mid), Some(payment))
            if errors.len() == before && (api == Api::WebTools || return_address.is_some()) =>
        {
            Some(Details {
                api,
                crid,
                mid,
                manifest_mid,
                returns_mid,
                payment,
                return_address,
                test_mode,
            })
        }
        _ => None,
    }
}

fn parse_return_address(value: Option<&Value>, errors: &mut ValidationErrors) -> Option<Address> {
    const PATH: &str = "details.return_address";
    let value = match value {
        None | Some(Value::Null) => {
            errors.push(
                PATH,
                "is required: USPS v3 return labels are addressed to it",
            );
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
    v3::address::check(PATH, &address, errors);
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
    let api = requested_api(map);
    let credentials = validate_credentials(input.credentials, input.current, api, &mut errors);

    // The EPS number: a new one from the details, else the stored one.
    let current_eps = input
        .current
        .and_then(|current| current.secret(field::EPS_ACCOUNT_NUMBER));
    let eps_number: Option<SecretString> = match details.as_ref().map(|d| &d.payment) {
        Some(PaymentDetails::Eps(EpsInput::Number(number))) => {
            Some(SecretString::from(number.clone()))
        }
        Some(PaymentDetails::Eps(EpsInput::Masked(masked))) => {
            let choices = eps_choices(input.current);
            let chosen: Vec<&String> = choices
                .iter()
                .filter(|number| mask_account_number(number) == *masked)
                .collect();
            match (current_eps, chosen.as_slice()) {
                (Some(stored), _) if mask_account_number(stored.expose_secret()) == *masked => {
                    Some(stored.clone())
                }
                (_, [one]) => Some(SecretString::from((*one).clone())),
                (_, [_, _, ..]) => {
                    errors.push(
                        "details.eps_account_number",
                        "names more than one of the EPS accounts USPS offered (they end in the same digits); enter the full number",
                    );
                    None
                }
                (Some(_), []) => {
                    errors.push(
                        "details.eps_account_number",
                        "does not match the stored EPS account; enter the full number",
                    );
                    None
                }
                (None, []) if !choices.is_empty() => {
                    errors.push(
                        "details.eps_account_number",
                        "is none of the EPS accounts USPS offered; choose one or enter the full number",
                    );
                    None
                }
                (None, []) => {
                    errors.push(
                        "details.eps_account_number",
                        "is required for EPS accounts (enter the full number)",
                    );
                    None
                }
            }
        }
        Some(PaymentDetails::Eps(EpsInput::Absent)) => match current_eps {
            Some(stored) => Some(stored.clone()),
            None => {
                errors.push("details.eps_account_number", "is required for EPS accounts");
                None
            }
        },
        _ => None,
    };

    let (Some(details), Some((credentials, needs_authorization))) = (details, credentials) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let (account_type, masked_eps, permit_number, permit_zip) = match &details.payment {
        PaymentDetails::Eps(_) => (
            "EPS",
            eps_number
                .as_ref()
                .map(|n| Value::String(mask_account_number(n.expose_secret()))),
            Value::Null,
            Value::Null,
        ),
        PaymentDetails::Permit { number, zip } => (
            "PERMIT",
            None,
            Value::String(number.clone()),
            Value::String(zip.clone()),
        ),
    };
    let credentials = match eps_number {
        Some(number) => credentials.with_secret(field::EPS_ACCOUNT_NUMBER, number),
        None => credentials,
    };
    let optional = |value: &Option<String>| value.clone().map(Value::String).unwrap_or(Value::Null);
    let mut out = Map::new();
    out.insert("api".into(), Value::String(details.api.as_str().into()));
    out.insert("crid".into(), Value::String(details.crid));
    out.insert("mid".into(), Value::String(details.mid));
    out.insert("manifest_mid".into(), optional(&details.manifest_mid));
    out.insert("returns_mid".into(), optional(&details.returns_mid));
    out.insert("account_type".into(), Value::String(account_type.into()));
    out.insert(
        "eps_account_number".into(),
        masked_eps.unwrap_or(Value::Null),
    );
    out.insert("permit_number".into(), permit_number);
    out.insert("permit_zip".into(), permit_zip);
    match details.api {
        Api::V3 => {
            let return_address = details
                .return_address
                .and_then(|address| serde_json::to_value(address.to_input()).ok())
                .map(without_nulls)
                .unwrap_or(Value::Null);
            out.insert("return_address".into(), return_address);
        }
        Api::WebTools => {
            out.insert("test_mode".into(), Value::Bool(details.test_mode));
        }
    }
    Ok(ValidatedAccount {
        details: carrier::AccountDetails::new(out),
        credentials,
        needs_authorization,
        warnings: Vec::new(),
    })
}

/// The EPS account numbers "Login with USPS" offered (`eps_account_choices`), if any.
fn eps_choices(current: Option<&Credentials>) -> Vec<String> {
    current
        .and_then(|current| current.secret(field::EPS_ACCOUNT_CHOICES))
        .map(|numbers| {
            numbers
                .expose_secret()
                .split(',')
                .filter(|number| !number.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn input_text(input: Option<&CredentialsInput>, key: &str) -> Option<String> {
    input
        .and_then(|input| input.get(key))
        .map(|value| value.expose_secret().trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The API the details ask for, when they name a known one (errors are reported by
/// [`parse_details`]).
fn requested_api(map: &Map<String, Value>) -> Option<Api> {
    match map.get("api") {
        None | Some(Value::Null) => Some(Api::V3),
        Some(Value::String(api)) => match api.trim() {
            "" | API_V3 => Some(Api::V3),
            API_WEBTOOLS => Some(Api::WebTools),
            _ => None,
        },
        Some(_) => None,
    }
}

/// Validates the credentials for an account speaking `api`; `Some((credentials,
/// needs_authorization))` when they are usable. The EPS account number is added by the caller.
fn validate_credentials(
    input: Option<&CredentialsInput>,
    current: Option<&Credentials>,
    api: Option<Api>,
    errors: &mut ValidationErrors,
) -> Option<(Credentials, bool)> {
    let before = errors.len();
    if let Some(input) = input {
        for key in input.keys() {
            if !CREDENTIAL_FIELDS.contains(&key) {
                errors.push(format!("credentials.{key}"), "is not a USPS credential");
            }
        }
    }
    let client_id = input_text(input, field::CLIENT_ID);
    let client_secret = input
        .and_then(|input| input.get(field::CLIENT_SECRET))
        .filter(|secret| !secret.expose_secret().trim().is_empty())
        .cloned();
    let user_id = input
        .and_then(|input| input.get(field::USER_ID))
        .filter(|secret| !secret.expose_secret().trim().is_empty())
        .cloned();
    let password = input
        .and_then(|input| input.get(field::PASSWORD))
        .filter(|secret| !secret.expose_secret().is_empty())
        .cloned();
    // Stored credentials of the other API's kind do not carry over when `details.api` changes.
    let current = current.filter(|current| {
        (current.mode() == MODE_WEBTOOLS) == (api == Some(Api::WebTools)) || api.is_none()
    });
    let current_mode = current.map(Credentials::mode);
    let mode = match input_text(input, "mode") {
        Some(mode) => mode,
        None => match current_mode {
            Some(mode) => mode.to_owned(),
            None if api == Some(Api::WebTools) => MODE_WEBTOOLS.to_owned(),
            None if client_id.is_some() || client_secret.is_some() => MODE_OWN_APP.to_owned(),
            None => MODE_PLATFORM_APP.to_owned(),
        },
    };
    let same_mode = current_mode == Some(mode.as_str());
    match (api, mode.as_str()) {
        (Some(Api::WebTools), MODE_OWN_APP | MODE_PLATFORM_APP) => {
            errors.push(
                "credentials.mode",
                "must be webtools for a Web Tools account (details.api = \"webtools\")",
            );
            return None;
        }
        (Some(Api::V3), MODE_WEBTOOLS) => {
            errors.push(
                "credentials.mode",
                "webtools credentials need a Web Tools account (details.api = \"webtools\")",
            );
            return None;
        }
        _ => {}
    }
    if mode != MODE_WEBTOOLS {
        for (key, present) in [
            (field::USER_ID, user_id.is_some()),
            (field::PASSWORD, password.is_some()),
        ] {
            if present {
                errors.push(
                    format!("credentials.{key}"),
                    "is only used with webtools credentials",
                );
            }
        }
    }
    let result = match mode.as_str() {
        MODE_OWN_APP => {
            let current_id = current
                .filter(|_| same_mode)
                .and_then(|c| c.public(field::CLIENT_ID));
            let current_secret = current
                .filter(|_| same_mode)
                .and_then(|c| c.secret(field::CLIENT_SECRET));
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
                    errors.push("credentials.client_id", "must be a USPS consumer key")
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
                        "is not used with platform_app: tokens come from the USPS consent",
                    );
                }
            }
            let mut credentials = Credentials::new(MODE_PLATFORM_APP);
            let mut authorized = false;
            if let Some(current) = current.filter(|_| same_mode) {
                // The tokens, and the EPS accounts the sign-in offered (kept for a later
                // change of account on the details form).
                for name in [
                    field::ACCESS_TOKEN,
                    field::REFRESH_TOKEN,
                    field::EPS_ACCOUNT_CHOICES,
                ] {
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
        MODE_WEBTOOLS => {
            for (key, present) in [
                (field::CLIENT_ID, client_id.is_some()),
                (field::CLIENT_SECRET, client_secret.is_some()),
            ] {
                if present {
                    errors.push(
                        format!("credentials.{key}"),
                        "is not used with webtools credentials (user_id and password)",
                    );
                }
            }
            let current_user = current
                .filter(|_| same_mode)
                .and_then(|c| c.secret(field::USER_ID));
            let current_password = current
                .filter(|_| same_mode)
                .and_then(|c| c.secret(field::PASSWORD));
            let user_changed = matches!(
                (&user_id, current_user),
                (Some(new), Some(old)) if new.expose_secret().trim() != old.expose_secret()
            );
            let user_id = user_id
                .map(|user| SecretString::from(user.expose_secret().trim().to_owned()))
                .or_else(|| current_user.cloned());
            let password = match password {
                Some(password) => Some(password),
                None if user_changed => None,
                None => current_password.cloned(),
            };
            match &user_id {
                None => errors.push("credentials.user_id", "is required for webtools"),
                Some(user) if !is_webtools_user_id(user.expose_secret()) => errors.push(
                    "credentials.user_id",
                    "must be a Web Tools user ID: up to 64 letters, digits, '.', '-', '_' or ':'",
                ),
                Some(_) => {}
            }
            match &password {
                None if user_changed => {
                    errors.push("credentials.password", "is required when user_id changes")
                }
                None => errors.push("credentials.password", "is required for webtools"),
                Some(password)
                    if password.expose_secret().chars().count() > 128
                        || password.expose_secret().chars().any(char::is_control) =>
                {
                    errors.push(
                        "credentials.password",
                        "must be at most 128 characters without control characters",
                    )
                }
                Some(_) => {}
            }
            match (user_id, password) {
                (Some(user_id), Some(password)) => Some((
                    Credentials::new(MODE_WEBTOOLS)
                        .with_secret(field::USER_ID, user_id)
                        .with_secret(field::PASSWORD, password),
                    false,
                )),
                _ => None,
            }
        }
        _ => {
            errors.push(
                "credentials.mode",
                "must be own_app, platform_app or webtools",
            );
            None
        }
    };
    if errors.len() == before { result } else { None }
}

/// A Web Tools `USERID`: an XML NMTOKEN as USPS issues them (`123ABCD456`).
fn is_webtools_user_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eps_details() -> Value {
        json!({
            "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
            "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "1000004321",
            "return_address": {"firm": "Acme Returns", "street1": "4120 Bingham Ave",
                               "city": "Saint Louis", "state": "MO", "zip5": "63116", "zip4": "2520"}
        })
    }

    fn own_app() -> CredentialsInput {
        CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", "app-123")
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

    fn errors_of(details: Value) -> ValidationErrors {
        validate_with(&details, Some(&own_app()), None).unwrap_err()
    }

    #[test]
    fn a_complete_eps_account_validates_and_hides_the_eps_number() {
        let account = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let details = serde_json::to_string(&account.details).unwrap();
        assert!(!details.contains("1000004321"), "{details}");
        assert_eq!(
            account.details.str("eps_account_number"),
            Some("******4321")
        );
        assert_eq!(account.details.str("api"), Some("v3"));
        assert_eq!(
            account
                .credentials
                .secret(field::EPS_ACCOUNT_NUMBER)
                .unwrap()
                .expose_secret(),
            "1000004321"
        );
        assert!(!account.needs_authorization);
        assert!(!format!("{account:?}").contains("sentinel-client-secret"));
    }

    #[test]
    fn missing_required_details_are_each_named() {
        let errors = errors_of(json!({}));
        for field in [
            "details.crid",
            "details.mid",
            "details.account_type",
            "details.return_address",
        ] {
            assert!(errors.names(field), "{field}: {errors}");
        }
    }

    #[test]
    fn crid_must_be_two_to_eighteen_digits() {
        for bad in ["1", "1234567890123456789", "12a4"] {
            let mut details = eps_details();
            details["crid"] = json!(bad);
            assert!(errors_of(details).names("details.crid"), "{bad}");
        }
    }

    #[test]
    fn mids_must_be_six_or_nine_digits() {
        for field in ["mid", "manifest_mid", "returns_mid"] {
            let mut details = eps_details();
            details[field] = json!("1234567");
            assert!(
                errors_of(details).names(&format!("details.{field}")),
                "{field}"
            );
        }
    }

    #[test]
    fn manifest_and_returns_mids_are_optional() {
        let mut details = eps_details();
        details["manifest_mid"] = Value::Null;
        details.as_object_mut().unwrap().remove("returns_mid");
        assert!(validate_with(&details, Some(&own_app()), None).is_ok());
    }

    #[test]
    fn account_type_must_be_eps_or_permit() {
        let mut details = eps_details();
        details["account_type"] = json!("METER");
        assert!(errors_of(details).names("details.account_type"));
    }

    #[test]
    fn eps_account_without_number_is_rejected() {
        let mut details = eps_details();
        details
            .as_object_mut()
            .unwrap()
            .remove("eps_account_number");
        assert!(errors_of(details).names("details.eps_account_number"));
    }

    #[test]
    fn permit_account_without_zip_is_rejected() {
        let details = json!({
            "crid": "56982563", "mid": "904128936", "account_type": "PERMIT", "permit_number": "12345",
            "return_address": eps_details()["return_address"].clone()
        });
        let errors = errors_of(details);
        assert!(errors.names("details.permit_zip"), "{errors}");
    }

    #[test]
    fn permit_zip_must_be_five_digits() {
        let details = json!({
            "crid": "56982563", "mid": "904128936", "account_type": "PERMIT", "permit_number": "12345",
            "permit_zip": "6311", "return_address": eps_details()["return_address"].clone()
        });
        assert!(errors_of(details).names("details.permit_zip"));
    }

    #[test]
    fn permit_account_without_number_is_rejected() {
        let details = json!({
            "crid": "56982563", "mid": "904128936", "account_type": "PERMIT", "permit_zip": "63116",
            "return_address": eps_details()["return_address"].clone()
        });
        assert!(errors_of(details).names("details.permit_number"));
    }

    #[test]
    fn a_complete_permit_account_keeps_permit_details_public() {
        let details = json!({
            "crid": "56982563", "mid": "904128936", "account_type": "PERMIT", "permit_number": "12345",
            "permit_zip": "63116", "return_address": eps_details()["return_address"].clone()
        });
        let account = validate_with(&details, Some(&own_app()), None).unwrap();
        assert_eq!(account.details.str("permit_number"), Some("12345"));
        assert_eq!(account.details.str("permit_zip"), Some("63116"));
        assert!(
            account
                .credentials
                .secret(field::EPS_ACCOUNT_NUMBER)
                .is_none()
        );
    }

    #[test]
    fn unknown_detail_fields_are_named() {
        let mut details = eps_details();
        details["colour"] = json!("blue");
        assert!(errors_of(details).names("details.colour"));
    }

    #[test]
    fn return_address_fields_are_named_with_their_path() {
        let mut details = eps_details();
        details["return_address"]["zip5"] = json!("6311");
        details["return_address"]["city"] = json!("A city name far longer than twenty-eight");
        let errors = errors_of(details);
        assert!(errors.names("details.return_address.zip5"), "{errors}");
        // The core parse fails first on the ZIP; lengths are checked on a parsed address.
        let mut details = eps_details();
        details["return_address"]["city"] = json!("A city name far longer than twenty-eight");
        assert!(errors_of(details).names("details.return_address.city"));
    }

    #[test]
    fn return_address_with_unknown_fields_is_refused() {
        let mut details = eps_details();
        details["return_address"]["zip"] = json!("63116");
        assert!(errors_of(details).names("details.return_address"));
    }

    #[test]
    fn return_address_is_required() {
        let mut details = eps_details();
        details.as_object_mut().unwrap().remove("return_address");
        assert!(errors_of(details).names("details.return_address"));
    }

    #[test]
    fn unknown_credential_fields_are_named() {
        let credentials = own_app().with("password", "x");
        let errors = validate_with(&eps_details(), Some(&credentials), None).unwrap_err();
        assert!(errors.names("credentials.password"));
    }

    #[test]
    fn own_app_needs_client_id_and_secret() {
        let credentials = CredentialsInput::new().with("mode", "own_app");
        let errors = validate_with(&eps_details(), Some(&credentials), None).unwrap_err();
        assert!(errors.names("credentials.client_id"));
        assert!(errors.names("credentials.client_secret"));
    }

    #[test]
    fn platform_app_needs_authorization_until_tokens_exist() {
        let credentials = CredentialsInput::new().with("mode", "platform_app");
        let account = validate_with(&eps_details(), Some(&credentials), None).unwrap();
        assert!(account.needs_authorization);
        assert_eq!(account.credentials.mode(), "platform_app");
    }

    #[test]
    fn platform_app_with_tokens_is_ready_and_keeps_them() {
        let current = Credentials::new("platform_app")
            .with_secret(field::ACCESS_TOKEN, SecretString::from("sentinel-access"))
            .with_secret(field::REFRESH_TOKEN, SecretString::from("sentinel-refresh"))
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T00:00:00Z")
            .with_secret(field::EPS_ACCOUNT_NUMBER, SecretString::from("1000004321"));
        let mut details = eps_details();
        details["eps_account_number"] = json!("******4321");
        let account = validate_with(&details, None, Some(&current)).unwrap();
        assert!(!account.needs_authorization);
        assert_eq!(
            account
                .credentials
                .secret(field::ACCESS_TOKEN)
                .unwrap()
                .expose_secret(),
            "sentinel-access"
        );
        assert_eq!(
            account
                .credentials
                .secret(field::EPS_ACCOUNT_NUMBER)
                .unwrap()
                .expose_secret(),
            "1000004321"
        );
    }

    fn connected_with_choices(numbers: &str) -> Credentials {
        Credentials::new("platform_app")
            .with_secret(field::ACCESS_TOKEN, SecretString::from("sentinel-access"))
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T00:00:00Z")
            .with_secret(
                field::EPS_ACCOUNT_CHOICES,
                SecretString::from(numbers.to_owned()),
            )
    }

    #[test]
    fn a_masked_choice_of_the_offered_eps_accounts_is_resolved_to_its_number() {
        let current = connected_with_choices("1000004321,1000007777");
        let mut details = eps_details();
        details["eps_account_number"] = json!("******7777");
        let account = validate_with(&details, None, Some(&current)).unwrap();
        assert_eq!(
            account.details.str("eps_account_number"),
            Some("******7777")
        );
        let stored = &account.credentials;
        assert_eq!(
            stored
                .secret(field::EPS_ACCOUNT_NUMBER)
                .unwrap()
                .expose_secret(),
            "1000007777"
        );
        assert!(
            stored.secret(field::EPS_ACCOUNT_CHOICES).is_some(),
            "the choices stay for a later change"
        );
        // And the other one, later.
        details["eps_account_number"] = json!("******4321");
        let changed = validate_with(&details, None, Some(stored)).unwrap();
        assert_eq!(
            changed
                .credentials
                .secret(field::EPS_ACCOUNT_NUMBER)
                .unwrap()
                .expose_secret(),
            "1000004321"
        );
    }

    #[test]
    fn a_masked_number_that_is_no_offered_account_or_names_two_is_refused() {
        let mut details = eps_details();
        details["eps_account_number"] = json!("******9999");
        let errors = validate_with(
            &details,
            None,
            Some(&connected_with_choices("1000004321,1000007777")),
        )
        .unwrap_err();
        assert!(errors.names("details.eps_account_number"));
        assert!(
            errors
                .to_string()
                .contains("none of the EPS accounts USPS offered")
        );
        details["eps_account_number"] = json!("******4321");
        let errors = validate_with(
            &details,
            None,
            Some(&connected_with_choices("1000004321,2000004321")),
        )
        .unwrap_err();
        assert!(errors.to_string().contains("more than one"), "{errors}");
        assert!(!errors.to_string().contains("1000004321"));
    }

    #[test]
    fn platform_app_refuses_an_app_secret() {
        let credentials = CredentialsInput::new()
            .with("mode", "platform_app")
            .with("client_secret", "x");
        let errors = validate_with(&eps_details(), Some(&credentials), None).unwrap_err();
        assert!(errors.names("credentials.client_secret"));
    }

    #[test]
    fn updates_keep_secrets_the_client_did_not_resend() {
        let first = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let mut details = eps_details();
        details["eps_account_number"] = json!("******4321");
        let second = validate_with(&details, None, Some(&first.credentials)).unwrap();
        for name in [field::CLIENT_SECRET, field::EPS_ACCOUNT_NUMBER] {
            assert_eq!(
                second.credentials.secret(name).unwrap().expose_secret(),
                first.credentials.secret(name).unwrap().expose_secret()
            );
        }
        assert_eq!(second.credentials.public(field::CLIENT_ID), Some("app-123"));
    }

    #[test]
    fn a_masked_number_that_does_not_match_the_stored_one_is_refused() {
        let first = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let mut details = eps_details();
        details["eps_account_number"] = json!("******9999");
        let errors = validate_with(&details, None, Some(&first.credentials)).unwrap_err();
        assert!(errors.names("details.eps_account_number"));
    }

    #[test]
    fn a_changed_mode_requires_the_new_modes_fields() {
        let current = Credentials::new("platform_app")
            .with_secret(field::ACCESS_TOKEN, SecretString::from("t"))
            .with_secret(field::EPS_ACCOUNT_NUMBER, SecretString::from("1000004321"));
        let credentials = CredentialsInput::new().with("mode", "own_app");
        let errors = validate_with(&eps_details(), Some(&credentials), Some(&current)).unwrap_err();
        assert!(errors.names("credentials.client_id"));
        assert!(errors.names("credentials.client_secret"));
    }

    #[test]
    fn a_new_client_id_needs_a_new_secret() {
        let first = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let credentials = CredentialsInput::new().with("client_id", "other-app");
        let errors = validate_with(&eps_details(), Some(&credentials), Some(&first.credentials))
            .unwrap_err();
        assert!(errors.names("credentials.client_secret"));
    }

    fn webtools_details() -> Value {
        json!({
            "api": "webtools", "crid": "56982563", "mid": "904128936", "account_type": "EPS",
            "eps_account_number": "1000004321"
        })
    }

    fn webtools() -> CredentialsInput {
        CredentialsInput::new()
            .with("mode", "webtools")
            .with("user_id", "SENTINELUSER1")
            .with("password", "sentinel-password")
    }

    fn webtools_errors(details: Value, credentials: &CredentialsInput) -> ValidationErrors {
        validate_with(&details, Some(credentials), None).unwrap_err()
    }

    #[test]
    fn a_complete_webtools_account_validates_without_a_return_address() {
        let account = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        assert_eq!(account.details.str("api"), Some("webtools"));
        assert_eq!(account.details.get("test_mode"), Some(&json!(false)));
        assert!(account.details.get("return_address").is_none());
        assert_eq!(account.credentials.mode(), "webtools");
        assert!(!account.needs_authorization);
        for (name, value) in [
            (field::USER_ID, "SENTINELUSER1"),
            (field::PASSWORD, "sentinel-password"),
        ] {
            assert_eq!(
                account.credentials.secret(name).unwrap().expose_secret(),
                value
            );
        }
        assert!(account.credentials.public_fields().is_empty());
        let printed = format!(
            "{account:?} {}",
            serde_json::to_string(&account.details).unwrap()
        );
        assert!(
            !printed.contains("SENTINELUSER1") && !printed.contains("sentinel-password"),
            "{printed}"
        );
    }

    #[test]
    fn a_webtools_account_needs_the_same_form_as_v3() {
        let errors = webtools_errors(json!({"api": "webtools"}), &webtools());
        for field in ["details.crid", "details.mid", "details.account_type"] {
            assert!(errors.names(field), "{field}: {errors}");
        }
        assert!(!errors.names("details.return_address"), "{errors}");
        let mut details = webtools_details();
        details["mid"] = json!("1234567");
        assert!(webtools_errors(details, &webtools()).names("details.mid"));
    }

    #[test]
    fn a_webtools_account_refuses_a_return_address() {
        let mut details = webtools_details();
        details["return_address"] = eps_details()["return_address"].clone();
        let errors = webtools_errors(details, &webtools());
        assert!(errors.names("details.return_address"), "{errors}");
        assert!(
            errors
                .to_string()
                .contains("configured for the Web Tools user ID")
        );
    }

    #[test]
    fn test_mode_is_kept_for_webtools_accounts() {
        let mut details = webtools_details();
        details["test_mode"] = json!(true);
        let account = validate_with(&details, Some(&webtools()), None).unwrap();
        assert_eq!(account.details.get("test_mode"), Some(&json!(true)));
    }

    #[test]
    fn test_mode_is_refused_for_v3_accounts() {
        let mut details = eps_details();
        details["test_mode"] = json!(true);
        assert!(errors_of(details).names("details.test_mode"));
    }

    #[test]
    fn test_mode_must_be_a_boolean() {
        let mut details = webtools_details();
        details["test_mode"] = json!("yes");
        assert!(webtools_errors(details, &webtools()).names("details.test_mode"));
    }

    #[test]
    fn webtools_credentials_need_user_id_and_password() {
        let errors = webtools_errors(
            webtools_details(),
            &CredentialsInput::new().with("mode", "webtools"),
        );
        assert!(errors.names("credentials.user_id"), "{errors}");
        assert!(errors.names("credentials.password"), "{errors}");
    }

    #[test]
    fn a_webtools_account_without_a_mode_expects_webtools_credentials() {
        let credentials = CredentialsInput::new()
            .with("user_id", "SENTINELUSER1")
            .with("password", "sentinel-password");
        let account = validate_with(&webtools_details(), Some(&credentials), None).unwrap();
        assert_eq!(account.credentials.mode(), "webtools");
    }

    #[test]
    fn a_webtools_account_with_own_app_credentials_is_a_mode_error() {
        let errors = webtools_errors(webtools_details(), &own_app());
        assert!(errors.names("credentials.mode"), "{errors}");
        assert!(errors.to_string().contains("must be webtools"));
    }

    #[test]
    fn a_v3_account_with_webtools_credentials_is_a_mode_error() {
        let errors = validate_with(&eps_details(), Some(&webtools()), None).unwrap_err();
        assert!(errors.names("credentials.mode"), "{errors}");
    }

    #[test]
    fn webtools_credentials_refuse_app_secrets() {
        let credentials = webtools().with("client_secret", "x");
        let errors = webtools_errors(webtools_details(), &credentials);
        assert!(errors.names("credentials.client_secret"), "{errors}");
    }

    #[test]
    fn own_app_credentials_refuse_a_user_id_and_password() {
        let credentials = own_app().with("user_id", "U").with("password", "p");
        let errors = validate_with(&eps_details(), Some(&credentials), None).unwrap_err();
        assert!(errors.names("credentials.user_id"), "{errors}");
        assert!(errors.names("credentials.password"), "{errors}");
    }

    #[test]
    fn a_user_id_that_is_no_token_is_refused_without_repeating_it() {
        let credentials = webtools().with("user_id", "sentinel user");
        let errors = webtools_errors(webtools_details(), &credentials);
        assert!(errors.names("credentials.user_id"), "{errors}");
        assert!(!errors.to_string().contains("sentinel"), "{errors}");
    }

    #[test]
    fn webtools_updates_keep_secrets_the_client_did_not_resend() {
        let first = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        let mut details = webtools_details();
        details["eps_account_number"] = json!("******4321");
        let second = validate_with(&details, None, Some(&first.credentials)).unwrap();
        for name in [field::USER_ID, field::PASSWORD, field::EPS_ACCOUNT_NUMBER] {
            assert_eq!(
                second.credentials.secret(name).unwrap().expose_secret(),
                first.credentials.secret(name).unwrap().expose_secret()
            );
        }
    }

    #[test]
    fn a_new_user_id_needs_a_new_password() {
        let first = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        let credentials = CredentialsInput::new().with("user_id", "OTHERUSER2");
        let errors = validate_with(
            &webtools_details(),
            Some(&credentials),
            Some(&first.credentials),
        )
        .unwrap_err();
        assert!(errors.names("credentials.password"), "{errors}");
    }

    #[test]
    fn a_password_alone_rotates_the_password() {
        let first = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        let credentials = CredentialsInput::new().with("password", "sentinel-rotated");
        let second = validate_with(
            &webtools_details(),
            Some(&credentials),
            Some(&first.credentials),
        )
        .unwrap();
        assert_eq!(
            second
                .credentials
                .secret(field::PASSWORD)
                .unwrap()
                .expose_secret(),
            "sentinel-rotated"
        );
        assert_eq!(
            second
                .credentials
                .secret(field::USER_ID)
                .unwrap()
                .expose_secret(),
            "SENTINELUSER1"
        );
    }

    #[test]
    fn moving_a_v3_account_to_webtools_needs_webtools_credentials() {
        let first = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let mut details = webtools_details();
        details["eps_account_number"] = json!("******4321");
        let errors = validate_with(&details, None, Some(&first.credentials)).unwrap_err();
        assert!(errors.names("credentials.user_id"), "{errors}");
    }

    #[test]
    fn stored_webtools_accounts_parse_for_a_call() {
        let mut details = webtools_details();
        details["test_mode"] = json!(true);
        let account = validate_with(&details, Some(&webtools()), None).unwrap();
        let parsed = Account::from_context(&AccountContext {
            id: "sa_wt",
            details: &account.details,
            credentials: &account.credentials,
        })
        .unwrap();
        let Account::WebTools(parsed) = parsed else {
            panic!("a Web Tools account")
        };
        assert_eq!(parsed.mid, "904128936");
        assert!(parsed.test_mode);
        let printed = format!("{parsed:?}");
        assert!(
            !printed.contains("SENTINELUSER1") && !printed.contains("sentinel-password"),
            "{printed}"
        );
    }

    #[test]
    fn a_stored_webtools_account_with_v3_credentials_cannot_be_used() {
        let account = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        let credentials = Credentials::new("own_app")
            .with_public(field::CLIENT_ID, "app")
            .with_secret(field::CLIENT_SECRET, SecretString::from("s"));
        let error = Account::from_context(&AccountContext {
            id: "sa_wt",
            details: &account.details,
            credentials: &credentials,
        })
        .unwrap_err();
        match error {
            CarrierError::Validation(errors) => assert!(errors.names("credentials.mode")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_api_of_stored_details_is_read() {
        let v3 = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let webtools = validate_with(&webtools_details(), Some(&webtools()), None).unwrap();
        assert_eq!(Api::of(&v3.details), Api::V3);
        assert_eq!(Api::of(&webtools.details), Api::WebTools);
    }

    #[test]
    fn stored_accounts_parse_for_a_call() {
        let account = validate_with(&eps_details(), Some(&own_app()), None).unwrap();
        let parsed = UspsAccount::from_context(&AccountContext {
            id: "sa_1",
            details: &account.details,
            credentials: &account.credentials,
        })
        .unwrap();
        assert_eq!(parsed.crid, "56982563");
        assert_eq!(parsed.returns_mid.as_deref(), Some("904128938"));
        assert!(matches!(parsed.payer, Payer::Eps { .. }));
        let printed = format!("{parsed:?}");
        assert!(!printed.contains("1000004321") && !printed.contains("sentinel-client-secret"));
    }
}
