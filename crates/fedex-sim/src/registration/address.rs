//! `POST /registration/v2/address/keysgeneration` (`Create Customer Key`, body
//! `CustomerKeyInputVO`: `accountNumber {key, value}`, `customerName`, `address`).
//!
//! In order: the integrator's bearer token, `content-type: application/json`, the file's own
//! required-field errors (`ACCOUNT.NUMBER.REQUIRED` for a missing or empty
//! `accountNumber.value`, `CUSTOMER.NAME.REQUIRED` for a missing or empty `customerName`), the
//! schema, then the account: a number no configured account has is
//! `ACCOUNT.NUMBER.NOTFOUND`; an address whose city, state, postal code, country or first street
//! line differs from the account's (compared case-insensitively, surrounding spaces ignored) is
//! `ADDRESS.DETAIL.INVALID`. The customer name is required but not compared (the file has no
//! error for a name that differs). A non-empty `accountNumber.key` ("key to decode account
//! number set in the value field": an encoded number) is not simulated; the value is read as
//! the plain number.
//!
//! An account without MFA options gets `child_Key`/`child_secret` at once (the file's
//! `credentials` example). Otherwise the answer is the file's `mfaOptions` example shape:
//! `accountAuthToken`, `mfaRequired: true`, the masked `email` (`RE***@B***.EXAMPLE`) and
//! `phoneNumber` (`***-***-0100`), and `options {invoice: "INVOICE", secureCode: [...]}`.
//! The file's schema declares `mfaOptions` an *array* of such objects (`MFAOptions`) while its
//! example sends one object; the simulator sends one object, as the example does.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::config::AccountConfig;
use crate::error::{FedexError, code};
use crate::oauth::{customer_transaction_id, require_content_type, validated_json};
use crate::registration::{answer, issue_child, open_session, require_integrator, sweep};
use crate::schema::Operation;
use crate::state::State;

/// `POST /registration/v2/address/keysgeneration`.
pub(crate) async fn keys(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match validate_address(&state, &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "address validation refused");
            error
                .for_transaction(customer_transaction_id(&headers))
                .into_response()
        }
    }
}

fn empty(value: &Value) -> bool {
    value.as_str().is_none_or(|text| text.trim().is_empty())
}

fn same(left: &str, right: &str) -> bool {
    left.trim().eq_ignore_ascii_case(right.trim())
}

/// `PU***@S***.COM` for `purchasing@supplier.com`.
pub(crate) fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let head = |text: &str, count: usize| text.chars().take(count).collect::<String>();
    format!("{}***@{}***.{}", head(local, 2), head(host, 1), tld).to_uppercase()
}

/// `***-***-4222` for `9015554222`.
pub(crate) fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***-***-{last}")
}

fn address_matches(account: &AccountConfig, address: &Value) -> bool {
    let field = |name: &str| address[name].as_str().unwrap_or_default();
    let first_line = address["streetLines"][0].as_str().unwrap_or_default();
    same(field("city"), &account.city)
        && same(
            field("stateOrProvinceCode"),
            &account.state_or_province_code,
        )
        && same(field("postalCode"), &account.postal_code)
        && same(field("countryCode"), &account.country_code)
        && account
            .street_lines
            .first()
            .is_some_and(|line| same(first_line, line))
}

fn validate_address(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let client_id = require_integrator(state, headers)?;
    require_content_type(headers, "application/json")?;
    sweep(state);
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if empty(&raw["accountNumber"]["value"]) && raw.is_object() {
        return Err(FedexError::bad_request(
            code::ACCOUNT_REQUIRED,
            "Account number is required.",
        ));
    }
    if empty(&raw["customerName"]) && raw.is_object() {
        return Err(FedexError::bad_request(
            code::CUSTOMER_NAME_REQUIRED,
            "Customer name is required.",
        ));
    }
    let request = validated_json(Operation::AddressKeys, body)?;
    if !empty(&request["accountNumber"]["key"]) {
        return Err(FedexError::not_simulated(
            "An encoded account number (accountNumber.key)",
        ));
    }
    let number = request["accountNumber"]["value"]
        .as_str()
        .unwrap_or_default()
        .trim();
    let account = state.config.account(number).ok_or_else(|| {
        FedexError::bad_request(
            code::ACCOUNT_NOT_FOUND,
            "Account Number not in database.  Please check the number entered and try again.  If you continue to have problems, please contact your local FedEx Customer Service representative (in U.S. and Canada, call 1-800-GO-FEDEX&reg;).",
        )
    })?;
    if !address_matches(account, &request["address"]) {
        return Err(FedexError::bad_request(
            code::ADDRESS_INVALID,
            "The City, State/Province and ZIP/Postal code combination that you entered is not valid.",
        ));
    }
    if account.mfa_options.is_empty() {
        return Ok(issue_child(
            state,
            headers,
            &client_id,
            &account.account_number,
        ));
    }
    let token = open_session(state, &client_id, account);
    tracing::info!(account = %account.account_number, "address validated; MFA required");
    let mut options = json!({});
    if account.mfa_options.iter().any(|option| option == "INVOICE") {
        options["invoice"] = json!("INVOICE");
    }
    let secure_code: Vec<&String> = account
        .mfa_options
        .iter()
        .filter(|option| option.as_str() != "INVOICE")
        .collect();
    if !secure_code.is_empty() {
        options["secureCode"] = json!(secure_code);
    }
    let mut mfa = json!({
        "accountAuthToken": token,
        "mfaRequired": true,
        "options": options,
    });
    if let Some(email) = &account.email {
        mfa["email"] = json!(mask_email(email));
    }
    if let Some(phone) = &account.phone {
        mfa["phoneNumber"] = json!(mask_phone(phone));
    }
    Ok(answer(headers, json!({"mfaOptions": mfa})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_look_like_the_files_example() {
        assert_eq!(mask_email("purchasing@supplier.com"), "PU***@S***.COM");
        assert_eq!(mask_phone("901-555-4222"), "***-***-4222");
    }
}
