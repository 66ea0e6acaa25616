//! `POST /oauth/token` (APIAuthorization-Resource.json `API Authorization`).
//!
//! The form (`application/x-www-form-urlencoded`, the only content type the file gives) is read
//! as a JSON object of strings and validated against the file's `FullSchema` (`grant_type`,
//! `client_id`, `client_secret` required; `child_Key`, `child_secret` optional; nothing else;
//! a repeated field is refused). Then by `grant_type` ("Valid Values: client_credentials,
//! csp_credentials, client_pc_credentials"):
//!
//! - `client_credentials`: the app's own token. An integrator app's token may call Account
//!   Registration; a merchant's own app's token ships with the app's accounts.
//! - `csp_credentials`: the integrator app's credentials plus the `child_Key`/`child_secret`
//!   of a child that app registered; the token acts for the child's account.
//! - `client_pc_credentials` (Proprietary Parent Child): not simulated.
//!
//! Wrong credentials of any kind answer 401 `NOT.AUTHORIZED.ERROR` with the file's message.
//! `child_Key`/`child_secret` on `client_credentials` are refused (the file says they are for
//! integrator, compatible and parent-child customers). The answer is the file's `Response`:
//! `{access_token, token_type: "bearer", expires_in: 3600, scope: "CXS"}`; the token is an opaque
//! random string that expires an hour later on the simulator clock.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Duration;
use serde_json::{Map, Value, json};

use crate::error::{FedexError, code};
use crate::ledger::Counters;
use crate::oauth::{require_content_type, validate};
use crate::schema::Operation;
use crate::state::{ACCESS_TOKEN_SECONDS, AccessGrant, State};

/// `POST /oauth/token`.
pub(crate) async fn token(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let grant_type = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "grant_type")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let result = issue(&state, &headers, &body);
    Counters::record(
        &mut state.counters().token_grants,
        &grant_type,
        result.is_ok(),
    );
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), grant_type, "token request refused");
            error.into_response()
        }
    }
}

fn not_authorized() -> FedexError {
    FedexError::new(
        StatusCode::UNAUTHORIZED,
        code::NOT_AUTHORIZED,
        "The given client credentials were not valid. Please modify your request and try again.",
    )
}

fn form(body: &[u8]) -> Result<Map<String, Value>, FedexError> {
    let mut fields = Map::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        if fields
            .insert(key.clone().into_owned(), Value::String(value.into_owned()))
            .is_some()
        {
            return Err(FedexError::bad_request(
                code::INVALID_INPUT,
                format!("{key} is included more than once"),
            )
            .with_parameter("FIELD", key.into_owned()));
        }
    }
    Ok(fields)
}

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn issue(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    require_content_type(headers, "application/x-www-form-urlencoded")?;
    let mut request = Value::Object(form(body)?);
    validate(Operation::Token, &mut request)?;
    let fields = request.as_object().cloned().unwrap_or_default();
    let grant_type = text(&fields, "grant_type").unwrap_or_default();
    let client_id = text(&fields, "client_id").unwrap_or_default();
    let client_secret = text(&fields, "client_secret").unwrap_or_default();
    let child = (text(&fields, "child_Key"), text(&fields, "child_secret"));
    let app = state
        .config
        .app(client_id)
        .filter(|app| app.client_secret == client_secret);
    let expires_at = state.now() + Duration::seconds(ACCESS_TOKEN_SECONDS);
    let grant = match grant_type {
        "client_credentials" => {
            if child.0.is_some() || child.1.is_some() {
                return Err(FedexError::bad_request(
                    code::INVALID_INPUT,
                    "child_Key and child_secret are used with csp_credentials only",
                ));
            }
            let app = app.ok_or_else(not_authorized)?;
            AccessGrant {
                client_id: app.client_id.clone(),
                child_key: None,
                may_register: app.integrator,
                account_numbers: app.account_numbers.clone(),
                expires_at,
            }
        }
        "csp_credentials" => {
            let (Some(child_key), Some(child_secret)) = child else {
                return Err(FedexError::bad_request(
                    code::INVALID_INPUT,
                    "csp_credentials needs child_Key and child_secret",
                ));
            };
            let app = app
                .filter(|app| app.integrator)
                .ok_or_else(not_authorized)?;
            let credentials = state.credentials();
            let registered = credentials
                .children
                .get(child_key)
                .filter(|registered| {
                    registered.secret == child_secret && registered.client_id == app.client_id
                })
                .ok_or_else(not_authorized)?;
            AccessGrant {
                client_id: app.client_id.clone(),
                child_key: Some(child_key.to_owned()),
                may_register: false,
                account_numbers: vec![registered.account_number.clone()],
                expires_at,
            }
        }
        "client_pc_credentials" => {
            return Err(FedexError::not_simulated(
                "grant_type client_pc_credentials (Proprietary Parent Child)",
            ));
        }
        other => {
            return Err(FedexError::bad_request(
                code::INVALID_INPUT,
                format!(
                    "grant_type {other:?} is not valid. Valid Values: client_credentials, csp_credentials, client_pc_credentials"
                ),
            )
            .with_parameter("FIELD", "grant_type"));
        }
    };
    tracing::info!(client_id = %grant.client_id, child = grant.child_key.is_some(), "access token issued");
    let token = state.issue_access_token(grant);
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": "CXS",
    }))
}
