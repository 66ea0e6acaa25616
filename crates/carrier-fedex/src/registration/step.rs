//! The registration's steps as the merchant sees them — their forms (JSON Schema, like the
//! account form) and the checks of their answers — and the sealed state between them.
//!
//! | step | when | form fields |
//! |---|---|---|
//! | `choose_method` | FedEx answered the address with `mfaOptions` | `method`: the options FedEx returned (`sms`, `call`, `email`, `invoice`); `invoice_number`, `invoice_date`, `invoice_amount`, `invoice_currency` (required when `method` is `invoice`; the currency's default, USD, is taken when it is left out) |
//! | `enter_pin` | FedEx sent a PIN | `pin`: six digits |
//!
//! The state (mode `registration_pending`): the secret `account_auth_token` and, public, the
//! masked `phone_number` and `email` FedEx returned, the `options` offered
//! (`sms,call,email,invoice`) and, once a PIN was sent, `pin_method`.

use carrier::form;
use carrier::{CheckedAnswer, Credentials, Currency, RegistrationStep, ValidationErrors};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::account::{MODE_REGISTRATION_PENDING, field};
use crate::registration::wire::{self, MfaOption};

pub(crate) const CHOOSE_METHOD: &str = "choose_method";
pub(crate) const ENTER_PIN: &str = "enter_pin";

/// A way to prove the account: a PIN by text, call or email, or an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Sms,
    Call,
    Email,
    Invoice,
}

impl Method {
    pub(crate) const ALL: [Method; 4] = [Method::Sms, Method::Call, Method::Email, Method::Invoice];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Sms => "sms",
            Method::Call => "call",
            Method::Email => "email",
            Method::Invoice => "invoice",
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == raw)
    }

    /// `IssuePinInputVO.option` (and `Options.secureCode`) for a PIN method.
    pub(crate) fn pin_option(self) -> Option<&'static str> {
        match self {
            Method::Sms => Some("SMS"),
            Method::Call => Some("CALL"),
            Method::Email => Some("EMAIL"),
            Method::Invoice => None,
        }
    }
}

/// What the state keeps public.
pub(crate) mod public {
    pub(crate) const PHONE_NUMBER: &str = "phone_number";
    pub(crate) const EMAIL: &str = "email";
    pub(crate) const OPTIONS: &str = "options";
    pub(crate) const PIN_METHOD: &str = "pin_method";
}

/// The registration in progress, read from or written to the sealed state.
#[derive(Clone)]
pub(crate) struct Pending {
    pub(crate) account_auth_token: SecretString,
    pub(crate) phone_number: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) options: Vec<Method>,
    pub(crate) pin_method: Option<Method>,
}

impl Pending {
    pub(crate) fn from_mfa(option: MfaOption) -> Self {
        let mut options: Vec<Method> = Vec::new();
        for code in &option.options.secure_code {
            let method = match code.as_str() {
                "SMS" => Some(Method::Sms),
                "CALL" => Some(Method::Call),
                "EMAIL" => Some(Method::Email),
                _ => None,
            };
            if let Some(method) = method {
                if !options.contains(&method) {
                    options.push(method);
                }
            }
        }
        if option
            .options
            .invoice
            .as_deref()
            .is_some_and(|v| !v.is_empty())
        {
            options.push(Method::Invoice);
        }
        Self {
            account_auth_token: SecretString::from(option.account_auth_token.unwrap_or_default()),
            phone_number: option.phone_number.filter(|v| !v.is_empty()),
            email: option.email.filter(|v| !v.is_empty()),
            options,
            pin_method: None,
        }
    }

    pub(crate) fn to_state(&self) -> Credentials {
        let mut state = Credentials::new(MODE_REGISTRATION_PENDING)
            .with_secret(field::ACCOUNT_AUTH_TOKEN, self.account_auth_token.clone())
            .with_public(
                public::OPTIONS,
                self.options
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        if let Some(phone) = &self.phone_number {
            state = state.with_public(public::PHONE_NUMBER, phone.clone());
        }
        if let Some(email) = &self.email {
            state = state.with_public(public::EMAIL, email.clone());
        }
        if let Some(method) = self.pin_method {
            state = state.with_public(public::PIN_METHOD, method.as_str());
        }
        state
    }

    /// The state the last call left; `None` when it is not a registration in progress.
    pub(crate) fn from_state(state: &Credentials) -> Option<Self> {
        if state.mode() != MODE_REGISTRATION_PENDING {
            return None;
        }
        let token = state.secret(field::ACCOUNT_AUTH_TOKEN)?;
        if token.expose_secret().is_empty() {
            return None;
        }
        Some(Self {
            account_auth_token: token.clone(),
            phone_number: state.public(public::PHONE_NUMBER).map(str::to_owned),
            email: state.public(public::EMAIL).map(str::to_owned),
            options: state
                .public(public::OPTIONS)
                .unwrap_or_default()
                .split(',')
                .filter_map(Method::parse)
                .collect(),
            pin_method: state.public(public::PIN_METHOD).and_then(Method::parse),
        })
    }

    fn destination(&self, method: Method) -> String {
        let phone = self
            .phone_number
            .as_deref()
            .unwrap_or("the phone number FedEx has for the account");
        let email = self
            .email
            .as_deref()
            .unwrap_or("the email address FedEx has for the account");
        match method {
            Method::Sms => format!("Text a PIN to {phone}"),
            Method::Call => format!("Call {phone} with a PIN"),
            Method::Email => format!("Email a PIN to {email}"),
            Method::Invoice => "Enter the details of a FedEx invoice for this account".to_owned(),
        }
    }

    /// Where FedEx sent the PIN, in a sentence.
    pub(crate) fn sent_to(&self, method: Method) -> String {
        let phone = self
            .phone_number
            .as_deref()
            .unwrap_or("the phone number FedEx has for the account");
        let email = self
            .email
            .as_deref()
            .unwrap_or("the email address FedEx has for the account");
        match method {
            Method::Sms => {
                format!("FedEx sent a six-digit PIN by text message to {phone}. Enter it here.")
            }
            Method::Call => {
                format!("FedEx is calling {phone} with a six-digit PIN. Enter it here.")
            }
            Method::Email => {
                format!("FedEx sent a six-digit PIN by email to {email}. Enter it here.")
            }
            Method::Invoice => "Enter the invoice's details.".to_owned(),
        }
    }

    /// The `choose_method` step: only the options FedEx returned.
    pub(crate) fn choose_method(&self) -> RegistrationStep {
        let labels: Vec<(String, String)> = self
            .options
            .iter()
            .map(|method| (method.as_str().to_owned(), self.destination(*method)))
            .collect();
        let borrowed: Vec<(&str, &str)> = labels
            .iter()
            .map(|(v, l)| (v.as_str(), l.as_str()))
            .collect();
        let mut properties = Map::new();
        properties.insert(
            "method".into(),
            form::choice("How to confirm the account", "FedEx confirms that the account is yours with a PIN it sends to the contact it has for the account, or with the details of one of its invoices.", &borrowed),
        );
        let mut form = json!({
            "$schema": form::DIALECT,
            "type": "object",
            "title": "Confirm your FedEx account",
            "additionalProperties": false,
            "required": ["method"],
        });
        if self.options.contains(&Method::Invoice) {
            properties.insert(
                "invoice_number".into(),
                form::pattern(
                    "Invoice number",
                    "The number of a FedEx invoice for this account (digits only).",
                    "^[0-9]{1,18}$",
                ),
            );
            properties.insert(
                "invoice_date".into(),
                form::pattern(
                    "Invoice date",
                    "The invoice's date, YYYY-MM-DD.",
                    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                ),
            );
            properties.insert(
                "invoice_amount".into(),
                form::pattern(
                    "Invoice amount",
                    "The invoice's total, up to two decimals (2323.22).",
                    "^[0-9]{1,12}(\\.[0-9]{1,2})?$",
                ),
            );
            let mut currency = form::pattern(
                "Invoice currency",
                "The invoice's currency (ISO 4217, e.g. USD).",
                "^[A-Za-z]{3}$",
            );
            currency["default"] = json!("USD");
            properties.insert("invoice_currency".into(), currency);
            form["allOf"] = json!([form::required_when(
                "method",
                "invoice",
                &[
                    "invoice_number",
                    "invoice_date",
                    "invoice_amount",
                    "invoice_currency"
                ]
            )]);
        }
        form["properties"] = Value::Object(properties);
        let message = if self.options.is_empty() {
            "FedEx offered no way to confirm this account; start the registration again or contact FedEx.".to_owned()
        } else {
            "FedEx needs to confirm that the account is yours: choose how.".to_owned()
        };
        RegistrationStep {
            name: CHOOSE_METHOD.to_owned(),
            message,
            form,
            expires_at: wire::token_expiry(self.account_auth_token.expose_secret()),
        }
    }

    /// The `enter_pin` step after FedEx sent a PIN by `method`.
    pub(crate) fn enter_pin(&self, method: Method) -> RegistrationStep {
        RegistrationStep {
            name: ENTER_PIN.to_owned(),
            message: self.sent_to(method),
            form: json!({
                "$schema": form::DIALECT,
                "type": "object",
                "title": "Enter the PIN",
                "additionalProperties": false,
                "properties": {"pin": form::pattern("PIN", "The six digits FedEx sent.", "^[0-9]{6}$")},
                "required": ["pin"],
            }),
            expires_at: wire::token_expiry(self.account_auth_token.expose_secret()),
        }
    }
}

/// A checked invoice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invoice {
    pub(crate) number: u64,
    pub(crate) date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: Currency,
}

impl Invoice {
    /// From a normalized answer (as [`check`] made it).
    pub(crate) fn from_answer(answer: &Value) -> Option<Self> {
        Some(Self {
            number: answer.get("invoice_number")?.as_str()?.parse().ok()?,
            date: answer.get("invoice_date")?.as_str()?.parse().ok()?,
            amount: answer.get("invoice_amount")?.as_str()?.parse().ok()?,
            currency: Currency::parse(
                "invoice_currency",
                answer.get("invoice_currency")?.as_str()?,
            )
            .ok()?,
        })
    }
}

fn text<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<&'a str> {
    match object.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) if value.trim().is_empty() => None,
        Some(Value::String(value)) => Some(value.trim()),
        Some(Value::Number(_)) => {
            errors.push(key, "must be written as text");
            None
        }
        Some(_) => {
            errors.push(key, "must be text");
            None
        }
    }
}

/// Checks an answer to `step` (see [`carrier::RegistrationOnboarding::check_answer`]).
pub(crate) fn check(step: &str, answer: &Value) -> Result<CheckedAnswer, ValidationErrors> {
    let Value::Object(object) = answer else {
        return Err(ValidationErrors::single("answer", "must be an object"));
    };
    let mut errors = ValidationErrors::new();
    let allowed: &[&str] = match step {
        CHOOSE_METHOD => &[
            "method",
            "invoice_number",
            "invoice_date",
            "invoice_amount",
            "invoice_currency",
        ],
        ENTER_PIN => &["pin"],
        other => {
            return Err(ValidationErrors::single(
                "step",
                format!("{other:?} is not a FedEx registration step"),
            ));
        }
    };
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.push(key.clone(), "is not a field of this step");
        }
    }
    if step == ENTER_PIN {
        let pin = text(object, "pin", &mut errors);
        match pin {
            Some(pin) if pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()) => {}
            Some(_) => errors.push("pin", "must be the six digits FedEx sent"),
            None if !errors.names("pin") => errors.push("pin", "is required"),
            None => {}
        }
        return errors.finish(|| CheckedAnswer {
            proof: true,
            answer: json!({"pin": pin.unwrap_or_default()}),
        });
    }
    let method = match text(object, "method", &mut errors) {
        Some(raw) => match Method::parse(raw) {
            Some(method) => Some(method),
            None => {
                errors.push("method", "must be one of sms, call, email, invoice");
                None
            }
        },
        None => {
            if !errors.names("method") {
                errors.push("method", "is required");
            }
            None
        }
    };
    if method != Some(Method::Invoice) {
        return errors.finish(|| CheckedAnswer {
            proof: false,
            answer: json!({"method": method.map(Method::as_str).unwrap_or_default()}),
        });
    }
    let number = match text(object, "invoice_number", &mut errors) {
        Some(raw) if raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit()) => {
            raw.parse::<u64>().ok()
        }
        Some(_) => {
            errors.push(
                "invoice_number",
                "must be the invoice's number, digits only",
            );
            None
        }
        None => {
            if !errors.names("invoice_number") {
                errors.push("invoice_number", "is required when method is invoice");
            }
            None
        }
    };
    let date = match text(object, "invoice_date", &mut errors) {
        Some(raw) => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(date) if raw.len() == 10 => Some(date),
            _ => {
                errors.push("invoice_date", "must be a date written YYYY-MM-DD");
                None
            }
        },
        None => {
            if !errors.names("invoice_date") {
                errors.push("invoice_date", "is required when method is invoice");
            }
            None
        }
    };
    let amount = match text(object, "invoice_amount", &mut errors) {
        Some(raw) => match raw.parse::<Decimal>() {
            Ok(amount)
                if amount > Decimal::ZERO
                    && amount.scale() <= 2
                    && !raw.contains(['e', 'E', '+', '-'])
                    && wire::InvoiceDetails::amount(amount).is_some() =>
            {
                Some(amount)
            }
            _ => {
                errors.push(
                    "invoice_amount",
                    "must be the invoice's amount, with up to two decimals (2323.22)",
                );
                None
            }
        },
        None => {
            if !errors.names("invoice_amount") {
                errors.push("invoice_amount", "is required when method is invoice");
            }
            None
        }
    };
    let currency = match text(object, "invoice_currency", &mut errors) {
        Some(raw) => errors.collect(Currency::parse("invoice_currency", raw)),
        None => Some(Currency::USD),
    };
    errors.finish(|| CheckedAnswer {
        proof: true,
        answer: json!({
            "method": "invoice",
            "invoice_number": number.unwrap_or_default().to_string(),
            "invoice_date": date.map(|d| d.to_string()).unwrap_or_default(),
            "invoice_amount": amount.unwrap_or_default().to_string(),
            "invoice_currency": currency.map(|c| c.code().to_owned()).unwrap_or_default(),
        }),
    })
}
