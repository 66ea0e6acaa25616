//! FedEx OAuth (APIAuthorization-Resource.json), served at `POST /oauth/token`, and what the
//! other routes share: JSON bodies validated against the spec, bearer tokens, the
//! `x-customer-transaction-id` header.

pub mod token;

use axum::http::{HeaderMap, header};
use serde_json::Value;

use crate::error::{FedexError, code};
use crate::schema::{self, Operation};
use crate::state::{AccessGrant, State};

/// At most this many schema violations are listed in one answer.
const VIOLATIONS_LISTED: usize = 10;

/// The request's `x-customer-transaction-id`, echoed in answers as `customerTransactionId`.
pub(crate) fn customer_transaction_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-customer-transaction-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The live access grant of a request, or 401 `NOT.AUTHORIZED.ERROR`.
pub(crate) fn require_access(
    state: &State,
    headers: &HeaderMap,
) -> Result<AccessGrant, FedexError> {
    let token = bearer_token(headers).ok_or_else(FedexError::unauthorized)?;
    state
        .access_grant(&token)
        .ok_or_else(FedexError::unauthorized)
}

/// Checks that the `content-type` is `expected` (every file marks the header required).
pub(crate) fn require_content_type(headers: &HeaderMap, expected: &str) -> Result<(), FedexError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if essence.as_deref() == Some(expected) {
        Ok(())
    } else {
        Err(FedexError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID_INPUT,
            format!("content-type must be {expected}"),
        ))
    }
}

/// Parses a JSON body and validates it against `operation`'s schema; each violation is one
/// `INVALID.INPUT.EXCEPTION` error naming the field in its `parameterList`. The answer is the
/// coerced body (see [`crate::schema`]).
pub(crate) fn validated_json(operation: Operation, body: &[u8]) -> Result<Value, FedexError> {
    let mut request: Value = serde_json::from_slice(body).map_err(|error| {
        FedexError::bad_request(
            code::INVALID_INPUT,
            format!("The request body is not valid JSON: {error}"),
        )
    })?;
    validate(operation, &mut request)?;
    Ok(request)
}

/// Validates (and coerces) an already parsed body.
pub(crate) fn validate(operation: Operation, request: &mut Value) -> Result<(), FedexError> {
    let compiled = schema::compiled(operation).as_ref().map_err(|error| {
        tracing::error!(%error, "a request schema is unusable");
        FedexError::internal()
    })?;
    let violations = compiled.check(request, VIOLATIONS_LISTED);
    if violations.is_empty() {
        return Ok(());
    }
    let mut error = FedexError::bad_request(code::INVALID_INPUT, "");
    error.errors = violations
        .into_iter()
        .map(|violation| crate::error::ErrorItem {
            code: code::INVALID_INPUT.to_owned(),
            message: format!(
                "Invalid field value in the input: {}: {}",
                violation.path, violation.message
            ),
            parameters: vec![("FIELD".to_owned(), violation.path)],
        })
        .collect();
    Err(error)
}
