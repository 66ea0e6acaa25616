//! `POST /oauth2/v3/token` and `POST /oauth2/v3/revoke` from oauth2.yaml (OAuth 2.0 API 3.0.5).
//!
//! Token requests are `application/json` or `application/x-www-form-urlencoded` with string
//! values. The schemas are `additionalProperties: false`, so a parameter outside the grant's
//! schema is an `invalid_request` — including `state`, which USPS's own README example sends
//! with the authorization-code grant but the schema does not list. Grants:
//!
//! | grant_type | parameters (besides `grant_type` and optional `scope`) | issues |
//! |---|---|---|
//! | `client_credentials` | `client_id`, `client_secret` | access token (ProviderAccessTokenResponse) |
//! | `authorization_code` | `client_id`, `client_secret`, `code`, `redirect_uri`, and `code_verifier` when the code was issued with a PKCE challenge | access + refresh token (ProviderTokensResponse) |
//! | `refresh_token` | `client_id`, `client_secret`, `refresh_token` | access + a new refresh token; the old one is revoked |
//!
//! Access tokens live 8 hours (`expires_in: 28800`), refresh tokens 7 days
//! (`refresh_token_expires_in: 604800`), authorization codes 5 minutes and are single-use,
//! bound to the client and the redirect URI they were issued for. `code_verifier` is RFC 7636's,
//! not oauth2.yaml's (see `authorize`): a code issued with a challenge is redeemed only with
//! the verifier that hashes to it, and a verifier for a code issued without one is refused, as
//! RFC 7636 section 4.6 and OAuth 2.1 have it; either way the code is spent. Tokens are random opaque
//! strings. Errors are StandardErrorResponse bodies: 401 `invalid_client` for bad client
//! credentials, 400 `invalid_request`, `invalid_grant`, `invalid_scope` or
//! `unsupported_grant_type` otherwise, 415 `invalid_request` for another content type.
//!
//! Revocation (TokenRevokeRequest: `token`, optional `token_type_hint`) authenticates the
//! client with HTTP Basic (as the spec says), with `client_id` + `client_secret` in the body
//! (RFC 6749 section 2.3.1), or with one of the client's bearer access tokens (as USPS's README
//! example does). It answers 200 with no body whether or not the token was known (RFC 7009);
//! only tokens issued to the authenticated client are revoked.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use chrono::Duration;
use serde_json::{Value, json};

use crate::config::AppConfig;
use crate::ledger::Counters;
use crate::state::{
    ACCESS_TOKEN_SECONDS, AccessGrant, REFRESH_TOKEN_SECONDS, RefreshGrant, State, random_token,
};
use crate::v3::auth::bearer_token;

/// A StandardErrorResponse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: unknown client_id or wrong client_secret",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"https://api.usps.com\""),
            );
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

type Params = BTreeMap<String, String>;

/// Reads a JSON or form body into string parameters.
fn parse_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => {
            let value: Value = serde_json::from_slice(body).map_err(|error| {
                OAuthError::invalid_request(format!("The request body is not valid JSON: {error}"))
            })?;
            let Value::Object(object) = value else {
                return Err(OAuthError::invalid_request(
                    "The request body must be a JSON object",
                ));
            };
            object
                .into_iter()
                .map(|(key, value)| match value {
                    Value::String(text) => Ok((key, text)),
                    _ => Err(OAuthError::invalid_request(format!(
                        "{key} must be a string"
                    ))),
                })
                .collect()
        }
        "application/x-www-form-urlencoded" => {
            let mut params = Params::new();
            for (key, value) in url::form_urlencoded::parse(body) {
                if params.insert(key.to_string(), value.to_string()).is_some() {
                    return Err(OAuthError::invalid_request(format!(
                        "{key} is included more than once"
                    )));
                }
            }
            Ok(params)
        }
        _ => Err(OAuthError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Content-Type must be application/json or application/x-www-form-urlencoded",
        )),
    }
}

fn reject_unknown(params: &Params, allowed: &[&str]) -> Result<(), OAuthError> {
    let unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|key| !allowed.contains(key))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(format!(
            "Unrecognized parameter(s) for this grant: {}",
            unknown.join(", ")
        )))
    }
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

fn authenticate<'a>(
    state: &'a State,
    client_id: &str,
    secret: &str,
) -> Result<&'a AppConfig, OAuthError> {
    state
        .config
        .app(client_id)
        .filter(|app| app.client_secret == secret)
        .ok_or_else(OAuthError::invalid_client)
}

/// Resolves the granted scope: the request's, if every part is within `allowed`, else `default`.
fn resolve_scope(
    requested: Option<&String>,
    allowed: &[&str],
    default: &str,
) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(default.to_owned());
    };
    let parts: Vec<&str> = requested.split_whitespace().collect();
    if parts.is_empty() {
        return Ok(default.to_owned());
    }
    if let Some(outside) = parts.iter().find(|part| !allowed.contains(part)) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("Scope {outside} is not granted to this client"),
        ));
    }
    Ok(parts.join(" "))
}

const BASE: &[&str] = &["grant_type", "scope", "client_id", "client_secret"];

/// `POST /oauth2/v3/token`.
pub(crate) async fn token(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match parse_params(&headers, &body) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let result = issue(&state, &params);
    if let Some(grant_type) = params.get("grant_type") {
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
            tracing::info!(error = error.error, description = %error.description, "token request refused");
            error.into_response()
        }
    }
}

fn issue(state: &State, params: &Params) -> Result<Value, OAuthError> {
    let grant_type = required(params, "grant_type")?;
    let extra: &[&str] = match grant_type {
        "client_credentials" => &[],
        "authorization_code" => &["code", "redirect_uri"],
        "refresh_token" => &["refresh_token"],
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant_type {other} is not supported; use client_credentials, authorization_code or refresh_token"
                ),
            ));
        }
    };
    let optional: &[&str] = match grant_type {
        "authorization_code" => &["code_verifier"],
        _ => &[],
    };
    let allowed: Vec<&str> = BASE.iter().chain(extra).chain(optional).copied().collect();
    reject_unknown(params, &allowed)?;
    let client_id = required(params, "client_id")?;
    let client_secret = required(params, "client_secret")?;
    for name in extra {
        required(params, name)?;
    }
    let app = authenticate(state, client_id, client_secret)?;
    let app_scopes: Vec<&str> = app.scopes.iter().map(String::as_str).collect();
    let now = state.now();
    match grant_type {
        "client_credentials" => {
            let scope = resolve_scope(params.get("scope"), &app_scopes, &app.scopes.join(" "))?;
            let access = new_access_token(state, app, None, &scope);
            tracing::info!(client_id = %app.client_id, "issued client_credentials access token");
            Ok(access_body(state, app, &access, &scope, now))
        }
        "authorization_code" => {
            let code = required(params, "code")?;
            let redirect_uri = required(params, "redirect_uri")?;
            // Single use: a code is consumed the first time it is presented.
            let grant = state.oauth().codes.remove(code).ok_or_else(|| {
                OAuthError::invalid_grant(
                    "The authorization code is invalid, expired or already used",
                )
            })?;
            if grant.expires_at <= now {
                return Err(OAuthError::invalid_grant(
                    "The authorization code has expired",
                ));
            }
            if grant.client_id != app.client_id {
                return Err(OAuthError::invalid_grant(
                    "The authorization code was issued to another client",
                ));
            }
            if grant.redirect_uri != redirect_uri {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri does not match the one the authorization code was issued for",
                ));
            }
            check_verifier(grant.code_challenge.as_deref(), params.get("code_verifier"))?;
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            let scope = resolve_scope(params.get("scope"), &granted, &grant.scope)?;
            let access = new_access_token(state, app, Some(&grant.username), &scope);
            let refresh = new_refresh_token(state, app, &grant.username, &scope, 0);
            tracing::info!(client_id = %app.client_id, username = %grant.username, "issued authorization_code tokens");
            Ok(tokens_body(state, app, &access, &refresh, &scope, 0, now))
        }
        _ => {
            let token = required(params, "refresh_token")?;
            let grant = state.oauth().refresh.get(token).cloned().ok_or_else(|| {
                OAuthError::invalid_grant("The refresh token is invalid, expired or revoked")
            })?;
            if grant.expires_at <= now {
                state.oauth().refresh.remove(token);
                return Err(OAuthError::invalid_grant("The refresh token has expired"));
            }
            if grant.client_id != app.client_id {
                return Err(OAuthError::invalid_grant(
                    "The refresh token was issued to another client",
                ));
            }
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            let scope = resolve_scope(params.get("scope"), &granted, &grant.scope)?;
            // Rotation: the presented refresh token is revoked and a new one issued.
            state.oauth().refresh.remove(token);
            let count = grant.refresh_count + 1;
            let access = new_access_token(state, app, Some(&grant.username), &scope);
            let refresh = new_refresh_token(state, app, &grant.username, &scope, count);
            tracing::info!(client_id = %app.client_id, username = %grant.username, refresh_count = count, "refreshed tokens");
            Ok(tokens_body(
                state, app, &access, &refresh, &scope, count, now,
            ))
        }
    }
}

/// RFC 7636 section 4.6: the verifier must hash (S256) to the code's challenge.
fn check_verifier(challenge: Option<&str>, verifier: Option<&String>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(challenge), Some(verifier)) => {
            let valid = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !valid {
                return Err(OAuthError::invalid_request(
                    "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~",
                ));
            }
            if s256_challenge(verifier) == challenge {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge of the authorization request",
                ))
            }
        }
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "code_verifier is required: the authorization request carried a code_challenge",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier was sent but the authorization request carried no code_challenge",
        )),
    }
}

/// Base64URL(SHA256(ASCII(verifier))), unpadded: RFC 7636's `S256` challenge.
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn new_access_token(state: &State, app: &AppConfig, username: Option<&str>, scope: &str) -> String {
    let token = random_token(48);
    let grant = AccessGrant {
        client_id: app.client_id.clone(),
        username: username.map(str::to_owned),
        scope: scope.to_owned(),
        expires_at: state.now() + Duration::seconds(ACCESS_TOKEN_SECONDS),
    };
    state.oauth().access.insert(token.clone(), grant);
    token
}

fn new_refresh_token(
    state: &State,
    app: &AppConfig,
    username: &str,
    scope: &str,
    refresh_count: u32,
) -> String {
    let token = random_token(32);
    let grant = RefreshGrant {
        client_id: app.client_id.clone(),
        username: username.to_owned(),
        scope: scope.to_owned(),
        expires_at: state.now() + Duration::seconds(REFRESH_TOKEN_SECONDS),
        refresh_count,
    };
    state.oauth().refresh.insert(token.clone(), grant);
    token
}

fn access_body(
    state: &State,
    app: &AppConfig,
    access: &str,
    scope: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({
        "access_token": access,
        "token_type": "Bearer",
        "issued_at": now.timestamp_millis(),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "status": "approved",
        "scope": scope,
        "issuer": state.config.issuer,
        "client_id": app.client_id,
        "application_name": app.name,
    })
}

fn tokens_body(
    state: &State,
    app: &AppConfig,
    access: &str,
    refresh: &str,
    scope: &str,
    refresh_count: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let mut body = access_body(state, app, access, scope, now);
    body["refresh_token"] = json!(refresh);
    body["refresh_token_issued_at"] = json!(now.timestamp_millis());
    body["refresh_token_expires_in"] = json!(REFRESH_TOKEN_SECONDS);
    body["refresh_token_status"] = json!("approved");
    body["refresh_count"] = json!(refresh_count);
    body
}

/// The client credentials of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth2/v3/revoke`.
pub(crate) async fn revoke(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match revoke_token(&state, &headers, &body) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

fn revoke_token(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    let params = parse_params(headers, body)?;
    reject_unknown(
        &params,
        &["token", "token_type_hint", "client_id", "client_secret"],
    )?;
    let token = required(&params, "token")?;
    if let Some(hint) = params.get("token_type_hint") {
        if hint != "access_token" && hint != "refresh_token" {
            return Err(OAuthError::invalid_request(
                "token_type_hint must be access_token or refresh_token",
            ));
        }
    }
    let client_id = if let Some((id, secret)) = basic_credentials(headers) {
        authenticate(state, &id, &secret)?.client_id.clone()
    } else if let (Some(id), Some(secret)) = (params.get("client_id"), params.get("client_secret"))
    {
        authenticate(state, id, secret)?.client_id.clone()
    } else if let Some(bearer) = bearer_token(headers) {
        state
            .access_grant(&bearer)
            .ok_or_else(OAuthError::invalid_client)?
            .client_id
    } else {
        return Err(OAuthError::invalid_client());
    };
    let mut oauth = state.oauth();
    if oauth
        .access
        .get(token)
        .is_some_and(|grant| grant.client_id == client_id)
    {
        oauth.access.remove(token);
        tracing::info!(%client_id, "revoked an access token");
    }
    if oauth
        .refresh
        .get(token)
        .is_some_and(|grant| grant.client_id == client_id)
    {
        oauth.refresh.remove(token);
        tracing::info!(%client_id, "revoked a refresh token");
    }
    Ok(())
}
