//! UPS OAuth, as served under `https://onlinetools.ups.com/security`: the "Login with UPS"
//! authorization-code flow with PKCE (OAuthAuthCode.yaml) and client credentials
//! (OAuthClientCredentials.yaml), which share `POST /security/v1/oauth/token`.
//!
//! This module holds what the routes share: form bodies, HTTP Basic client authentication
//! and bearer tokens on the Shipping routes.

pub mod authorize;
pub mod token;

use axum::http::{HeaderMap, header};
use base64::Engine;

use crate::error::{UpsError, code};
use crate::state::{AccessGrant, State};

/// The parameters of a query string or form body, in order, refusing a repeated name.
pub(crate) fn form_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, UpsError> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw) {
        if seen.iter().any(|(existing, _)| existing == key.as_ref()) {
            return Err(UpsError::bad_request(
                code::INVALID_REQUEST,
                format!("{key} is included more than once"),
            ));
        }
        seen.push((key.into_owned(), value.into_owned()));
    }
    Ok(seen)
}

/// Removes and returns the value of `name`.
pub(crate) fn take(pairs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let index = pairs.iter().position(|(key, _)| key == name)?;
    Some(pairs.remove(index).1)
}

/// The client id and secret of an `Authorization: Basic` header; `Err` when the header is
/// present but is not well-formed Basic credentials.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, UpsError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        UpsError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            code::INVALID_CLIENT,
            "Invalid/Missing Authorization Header: expected Basic base64(client_id:client_secret)",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// Checks the `Content-Type` of an OAuth body: both OAuth files take
/// `application/x-www-form-urlencoded` only.
pub(crate) fn require_form(headers: &HeaderMap) -> Result<(), UpsError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        Err(UpsError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::INVALID_REQUEST,
            "Content-Type must be application/x-www-form-urlencoded",
        ))
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The live access grant of a Shipping request (Shipping.yaml: `security: OAuth2`), or 401.
pub(crate) fn require_access(state: &State, headers: &HeaderMap) -> Result<AccessGrant, UpsError> {
    let token = bearer_token(headers).ok_or_else(UpsError::unauthorized)?;
    state
        .access_grant(&token)
        .ok_or_else(UpsError::unauthorized)
}
