//! `POST /registration/v2/customerkeys/pingeneration` (`sendPin`, body `IssuePinInputVO
//! {option: SMS | CALL | EMAIL}`) and `POST /registration/v2/pin/keysgeneration`
//! (`validatePin`, body `ValidatePinInputVO {secureCodePin}`).
//!
//! PIN generation: a missing or empty `option` is `PIN.OPTION.REQUIRED`; `EMAIL` for an account
//! without an e-mail is `EMAIL.NOT.REGISTERED`, `SMS`/`CALL` without a phone
//! `PHONENUMBER.NOT.REGISTERED`; an option the account does not offer otherwise is
//! `ISSUE.PIN.FAILED`. A random 6-digit PIN ("generates the 6 digit PIN") replaces any earlier
//! one of the session and goes to the PIN outbox with its unmasked destination; the answer is
//! `{"output": {"status": "sent secured Pin"}}` (the file's example status).
//!
//! PIN validation: an empty `secureCodePin` is `PIN.PINSECURECODE.REQUIRED`; the session's PIN
//! gets keys and is spent; a wrong one, a spent one or none issued is 400
//! `PIN.OPTION.INVALIDEXPIRED` ("Pin is invalid or expired.."). An expired session is
//! `SESSION.EXPIRED.ERROR` on both routes. PINs are never logged.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rand::Rng;
use serde_json::{Value, json};

use crate::error::{FedexError, code};
use crate::oauth::{customer_transaction_id, require_content_type, validated_json};
use crate::registration::{answer, issue_child, require_integrator, require_session};
use crate::schema::Operation;
use crate::state::{SentPin, State};

/// `POST /registration/v2/customerkeys/pingeneration`.
pub(crate) async fn generate(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        &headers,
        send_pin(&state, &headers, &body),
        "PIN generation",
    )
}

/// `POST /registration/v2/pin/keysgeneration`.
pub(crate) async fn keys(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        &headers,
        validate_pin(&state, &headers, &body),
        "PIN validation",
    )
}

pub(crate) fn respond(
    headers: &HeaderMap,
    result: Result<Value, FedexError>,
    what: &str,
) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "{what} refused");
            error
                .for_transaction(customer_transaction_id(headers))
                .into_response()
        }
    }
}

fn raw_text(body: &[u8], name: &str) -> Option<String> {
    let raw: Value = serde_json::from_slice(body).ok()?;
    raw[name].as_str().map(|text| text.trim().to_owned())
}

fn send_pin(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let client_id = require_integrator(state, headers)?;
    let (session, account) = require_session(state, headers, &client_id)?;
    require_content_type(headers, "application/json")?;
    if raw_text(body, "option").is_none_or(|option| option.is_empty()) {
        return Err(FedexError::bad_request(
            code::PIN_OPTION_REQUIRED,
            "Please provide option.",
        ));
    }
    let request = validated_json(Operation::PinGeneration, body)?;
    let option = request["option"].as_str().unwrap_or_default();
    let unable = "We are unable to process this request. Please try again later.";
    let destination = match option {
        "EMAIL" => account
            .email
            .clone()
            .ok_or_else(|| FedexError::bad_request(code::EMAIL_NOT_REGISTERED, unable))?,
        _ => account
            .phone
            .clone()
            .ok_or_else(|| FedexError::bad_request(code::PHONE_NOT_REGISTERED, unable))?,
    };
    if !account.mfa_options.iter().any(|offered| offered == option) {
        return Err(FedexError::bad_request(code::ISSUE_PIN_FAILED, unable));
    }
    let pin = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let mut credentials = state.credentials();
    credentials.pins.insert(session, pin.clone());
    credentials.outbox.push(SentPin {
        account_number: account.account_number.clone(),
        option: option.to_owned(),
        destination,
        pin,
        sent_at: state.now(),
    });
    tracing::info!(account = %account.account_number, option, "registration PIN sent");
    Ok(answer(headers, json!({"status": "sent secured Pin"})))
}

fn validate_pin(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let client_id = require_integrator(state, headers)?;
    let (session, account) = require_session(state, headers, &client_id)?;
    require_content_type(headers, "application/json")?;
    if raw_text(body, "secureCodePin").is_none_or(|pin| pin.is_empty()) {
        return Err(FedexError::bad_request(
            code::PIN_REQUIRED,
            "We are unable to process this request. Please try again later.",
        ));
    }
    let request = validated_json(Operation::PinKeys, body)?;
    let given = request["secureCodePin"].as_str().unwrap_or_default().trim();
    {
        let mut credentials = state.credentials();
        if credentials.pins.get(&session).map(String::as_str) != Some(given) {
            return Err(FedexError::bad_request(
                code::PIN_INVALID,
                "Pin is invalid or expired..",
            ));
        }
        credentials.pins.remove(&session);
    }
    Ok(issue_child(
        state,
        headers,
        &client_id,
        &account.account_number,
    ))
}
