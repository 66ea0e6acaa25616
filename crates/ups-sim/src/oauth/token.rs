//! `POST /security/v1/oauth/token` and `POST /security/v1/oauth/refresh`.
//!
//! One token path serves two specs, told apart by the form's `grant_type`:
//!
//! | grant_type | spec | client authentication | other form fields |
//! |---|---|---|---|
//! | `client_credentials` | OAuthClientCredentials.yaml `CreateToken` | Basic `client_id:client_secret`; optional `x-merchant-id` header (a 6-character account of the app) | none |
//! | `authorization_code` | OAuthAuthCode.yaml `GenerateToken` | Basic, or for PKCE none: `client_id` and `code_verifier` in the body ("the BASIC Authorization header should **not** be included") | `code`, `redirect_uri` |
//! | `refresh_token` (on `/refresh` only) | OAuthAuthCode.yaml `RefreshToken` | Basic | `refresh_token` |
//!
//! Bodies are `application/x-www-form-urlencoded` (the only content type the specs give); a
//! field outside the grant's schema is refused, like every unknown field in this simulator.
//! Success bodies carry every value as a string, as the schemas type them (`expires_in:
//! "14399"`, `issued_at` in milliseconds, `refresh_count: "0"`). A code is single-use and
//! must come back with its redirect URI and, when it was issued for a `code_challenge`, the
//! verifier whose Base64URL(SHA256) is that challenge. Refresh tokens are single-use too: each
//! refresh issues a new access and refresh token and the presented one is dead. Refusals are
//! `tokenErrorResponse`s: 401 for client authentication, 400 otherwise.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{AppConfig, is_shipper_number};
use crate::error::{UpsError, code};
use crate::ledger::Counters;
use crate::oauth::{basic_credentials, form_pairs, require_form, take};
use crate::state::{
    ACCESS_TOKEN_SECONDS, AccessGrant, REFRESH_TOKEN_SECONDS, RefreshGrant, State, random_token,
};

type Pairs = Vec<(String, String)>;

fn invalid(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::INVALID_REQUEST, message)
}

fn invalid_grant(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::INVALID_GRANT, message)
}

fn invalid_client(message: &str) -> UpsError {
    UpsError::new(StatusCode::UNAUTHORIZED, code::INVALID_CLIENT, message)
}

fn required(pairs: &mut Pairs, name: &str) -> Result<String, UpsError> {
    take(pairs, name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| invalid(format!("{name} is required")))
}

fn refuse_leftovers(pairs: &Pairs, grant_type: &str) -> Result<(), UpsError> {
    if pairs.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    Err(invalid(format!(
        "Unrecognized parameter(s) for grant_type {grant_type}: {}",
        names.join(", ")
    )))
}

/// The app of Basic credentials, or 401.
fn authenticate<'a>(state: &'a State, headers: &HeaderMap) -> Result<&'a AppConfig, UpsError> {
    let (id, secret) = basic_credentials(headers)?
        .ok_or_else(|| invalid_client("Invalid/Missing Authorization Header"))?;
    state
        .config
        .app(&id)
        .filter(|app| app.client_secret == secret)
        .ok_or_else(|| invalid_client("ClientId is Invalid or the client secret is wrong"))
}

/// Answers a token request, counting it under its grant type.
fn answer(state: &State, grant_type: Option<&str>, result: Result<Value, UpsError>) -> Response {
    if let Some(grant_type) = grant_type {
        Counters::record(
            &mut state.counters().token_grants,
            grant_type,
            result.is_ok(),
        );
    }
    match result {
        Ok(body) => {
            let mut response = Json(body).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::info!(code = error.code(), "token request refused");
            error.into_response()
        }
    }
}

fn read_form(headers: &HeaderMap, body: &[u8]) -> Result<Pairs, UpsError> {
    require_form(headers)?;
    form_pairs(body)
}

/// `POST /security/v1/oauth/token`.
pub(crate) async fn token(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut pairs = match read_form(&headers, &body) {
        Ok(pairs) => pairs,
        Err(error) => return error.into_response(),
    };
    let grant_type = take(&mut pairs, "grant_type");
    let result = match grant_type.as_deref() {
        Some("client_credentials") => client_credentials(&state, &headers, &pairs),
        Some("authorization_code") => authorization_code(&state, &headers, pairs),
        Some(other) => Err(UpsError::bad_request(
            code::UNSUPPORTED_GRANT_TYPE,
            format!(
                "grant_type {other} is not valid here; use client_credentials or \
                 authorization_code (refresh_token goes to /security/v1/oauth/refresh)"
            ),
        )),
        None => Err(invalid("grant_type is required")),
    };
    answer(&state, grant_type.as_deref(), result)
}

fn client_credentials(
    state: &State,
    headers: &HeaderMap,
    pairs: &Pairs,
) -> Result<Value, UpsError> {
    refuse_leftovers(pairs, "client_credentials")?;
    let app = authenticate(state, headers)?;
    let shipper_numbers = match headers.get("x-merchant-id") {
        None => app.shipper_numbers.clone(),
        Some(value) => {
            let merchant = value.to_str().unwrap_or_default();
            if !is_shipper_number(merchant) {
                return Err(invalid(
                    "x-merchant-id must be a 6-character UPS account number",
                ));
            }
            if !app.shipper_numbers.iter().any(|number| number == merchant) {
                return Err(UpsError::new(
                    StatusCode::FORBIDDEN,
                    code::SHIPPER_NUMBER,
                    format!("x-merchant-id {merchant} is not an account of this application"),
                ));
            }
            vec![merchant.to_owned()]
        }
    };
    let now = state.now();
    let access = state.issue_access_token(AccessGrant {
        client_id: app.client_id.clone(),
        username: None,
        shipper_numbers,
        expires_at: now + Duration::seconds(ACCESS_TOKEN_SECONDS),
    });
    tracing::info!(client_id = %app.client_id, "issued client_credentials access token");
    // tokenSuccessResponse: every field a string.
    Ok(json!({
        "token_type": "Bearer",
        "issued_at": now.timestamp_millis().to_string(),
        "client_id": app.client_id,
        "access_token": access,
        "scope": "",
        "expires_in": ACCESS_TOKEN_SECONDS.to_string(),
        "refresh_count": "0",
        "status": "approved",
    }))
}

/// Whether `verifier` is an RFC 7636 code verifier: 43 to 128 unreserved characters.
fn is_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

/// Base64URL(SHA256(ASCII(verifier))), unpadded: the spec's `code_challenge`.
pub fn s256_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn authorization_code(
    state: &State,
    headers: &HeaderMap,
    mut pairs: Pairs,
) -> Result<Value, UpsError> {
    let code = required(&mut pairs, "code")?;
    let redirect_uri = required(&mut pairs, "redirect_uri")?;
    let verifier = take(&mut pairs, "code_verifier");
    let body_client_id = take(&mut pairs, "client_id");
    refuse_leftovers(&pairs, "authorization_code")?;
    let app = if basic_credentials(headers)?.is_some() {
        if verifier.is_some() {
            // OAuthAuthCode.yaml: "When utlizing the PKCE flow, the BASIC Authorization
            // header should **not** be included, just the **client_id** parameter".
            return Err(invalid(
                "PKCE requests (code_verifier) must not carry a Basic Authorization header; \
                 send client_id in the body instead",
            ));
        }
        let app = authenticate(state, headers)?;
        if body_client_id
            .as_deref()
            .is_some_and(|id| id != app.client_id)
        {
            return Err(invalid("client_id does not match the Authorization header"));
        }
        app
    } else {
        if verifier.is_none() {
            return Err(invalid_client(
                "Invalid/Missing Authorization Header (send Basic credentials, or client_id and \
                 code_verifier for PKCE)",
            ));
        }
        let client_id = body_client_id
            .ok_or_else(|| invalid("client_id is required with code_verifier (PKCE)"))?;
        state
            .config
            .app(&client_id)
            .ok_or_else(|| invalid_client("ClientId is Invalid"))?
    };
    if let Some(verifier) = &verifier {
        if !is_code_verifier(verifier) {
            return Err(invalid(
                "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~",
            ));
        }
    }
    let now = state.now();
    // Single use: a code is consumed the first time it is presented, right or wrong.
    let grant =
        state.oauth().codes.remove(&code).ok_or_else(|| {
            invalid_grant("The authorization code is invalid or was already used")
        })?;
    if grant.expires_at <= now {
        return Err(invalid_grant("The authorization code has expired"));
    }
    if grant.client_id != app.client_id {
        return Err(invalid_grant(
            "The authorization code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri does not match the one the authorization code was issued for",
        ));
    }
    match (&grant.code_challenge, &verifier) {
        (Some(challenge), Some(verifier)) if s256_challenge(verifier) == *challenge => {}
        (Some(_), Some(_)) => {
            return Err(invalid_grant(
                "code_verifier does not match the code_challenge of the authorization request",
            ));
        }
        (Some(_), None) => {
            return Err(invalid_grant(
                "code_verifier is required: the authorization request carried a code_challenge",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier was sent but the authorization request carried no code_challenge",
            ));
        }
        (None, None) => {}
    }
    tracing::info!(client_id = %app.client_id, username = %grant.username, "issued authorization_code tokens");
    Ok(token_pair(
        state,
        app,
        &grant.username,
        &grant.scope,
        0,
        now,
    ))
}

/// A new access and refresh token for `username`: `generateTokenSuccessResponse` /
/// `refreshTokenSuccessResponse` (the same fields, every one a string).
fn token_pair(
    state: &State,
    app: &AppConfig,
    username: &str,
    scope: &str,
    refresh_count: u32,
    now: DateTime<Utc>,
) -> Value {
    let shipper_numbers = state
        .config
        .user(username)
        .map(|user| user.shipper_numbers.clone())
        .unwrap_or_default();
    let access = state.issue_access_token(AccessGrant {
        client_id: app.client_id.clone(),
        username: Some(username.to_owned()),
        shipper_numbers,
        expires_at: now + Duration::seconds(ACCESS_TOKEN_SECONDS),
    });
    let refresh = random_token(32);
    state.oauth().refresh.insert(
        refresh.clone(),
        RefreshGrant {
            client_id: app.client_id.clone(),
            username: username.to_owned(),
            scope: scope.to_owned(),
            expires_at: now + Duration::seconds(REFRESH_TOKEN_SECONDS),
            refresh_count,
        },
    );
    let issued_at = now.timestamp_millis().to_string();
    json!({
        "refresh_token_expires_in": REFRESH_TOKEN_SECONDS.to_string(),
        "refresh_token_status": "approved",
        "token_type": "Bearer",
        "issued_at": issued_at,
        "client_id": app.client_id,
        "access_token": access,
        "refresh_token": refresh,
        "scope": scope,
        "refresh_token_issued_at": issued_at,
        "expires_in": ACCESS_TOKEN_SECONDS.to_string(),
        "refresh_count": refresh_count.to_string(),
        "status": "approved",
    })
}

/// `POST /security/v1/oauth/refresh`.
pub(crate) async fn refresh(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut pairs = match read_form(&headers, &body) {
        Ok(pairs) => pairs,
        Err(error) => return error.into_response(),
    };
    let grant_type = take(&mut pairs, "grant_type");
    let result = match grant_type.as_deref() {
        Some("refresh_token") => refresh_tokens(&state, &headers, pairs),
        Some(other) => Err(UpsError::bad_request(
            code::UNSUPPORTED_GRANT_TYPE,
            format!("grant_type {other} is not valid here; the valid value is refresh_token"),
        )),
        None => Err(invalid("grant_type is required")),
    };
    answer(&state, grant_type.as_deref(), result)
}

fn refresh_tokens(state: &State, headers: &HeaderMap, mut pairs: Pairs) -> Result<Value, UpsError> {
    let token = required(&mut pairs, "refresh_token")?;
    refuse_leftovers(&pairs, "refresh_token")?;
    let app = authenticate(state, headers)?;
    let now = state.now();
    // Single use: the presented refresh token dies here, whatever follows.
    let grant = state
        .oauth()
        .refresh
        .remove(&token)
        .ok_or_else(|| invalid_grant("The refresh token is invalid or was already used"))?;
    if grant.expires_at <= now {
        return Err(invalid_grant("The refresh token has expired"));
    }
    if grant.client_id != app.client_id {
        return Err(invalid_grant(
            "The refresh token was issued to another client",
        ));
    }
    let count = grant.refresh_count + 1;
    tracing::info!(client_id = %app.client_id, username = %grant.username, refresh_count = count, "refreshed tokens");
    Ok(token_pair(
        state,
        app,
        &grant.username,
        &grant.scope,
        count,
        now,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn code_verifiers_are_43_to_128_unreserved_characters() {
        assert!(is_code_verifier(&"a".repeat(43)));
        assert!(!is_code_verifier(&"a".repeat(42)));
        assert!(!is_code_verifier(&"a".repeat(129)));
        assert!(!is_code_verifier(&format!("{}+", "a".repeat(43))));
    }
}
