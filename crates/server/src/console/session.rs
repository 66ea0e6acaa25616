//! Console sessions and CSRF protection.
//!
//! - Signing in takes a tenant or admin API key from a form (never a URL) and checks it with
//!   the API's own authentication. The session is 32 random bytes in a cookie
//!   (`HttpOnly; SameSite=Lax; Path=/`; `Secure` always with `console.secure_cookies`, on in
//!   production, and otherwise when the request came over https, as a TLS-terminating proxy
//!   reports with `X-Forwarded-Proto` or `Forwarded`); Postgres keeps
//!   only their SHA-256 with the key's tenant (or the admin scope) and the expiry
//!   ([`LIFETIME_HOURS`]); see `migrations/0007_console_sessions.sql`. `Lax` keeps the session
//!   when the carrier's consent page sends the browser back. Every sign-in makes a new session,
//!   signing out deletes it, and a revoked key ends its sessions at once.
//! - CSRF: each session has a token, `base64url(SHA-256("backhaul console csrf" ‖ secret))`, put
//!   in a hidden field of every form that changes something; every POST is refused (403 page)
//!   unless its token matches, compared in constant time. The token reveals nothing about the
//!   session secret and dies with it. The sign-in form itself, which has no session yet, is
//!   protected by a signed double-submit token: the server issues `nonce.expiry.mac` (the MAC
//!   keyed with the vault's fingerprint key, so only this service can make one) in a
//!   short-lived `SameSite=Strict` cookie that the form must repeat; a pair a client made up is
//!   refused. GET forms (filters) carry no token, so that no token ever appears in a URL.

use std::fmt;

use accounts::{ApiKeyId, Principal, TenantId};
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use maud::html;
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::form::Fields;
use super::page::{self, Nav};
use super::{ConsoleError, PREFIX, PageResult};
use crate::auth::{AdminKey, TenantKey};
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie.
pub const COOKIE: &str = "backhaul_console";
/// The sign-in form's double-submit cookie.
const SIGN_IN_COOKIE: &str = "backhaul_console_sign_in";
/// How long a session lasts after signing in.
pub const LIFETIME_HOURS: i32 = 8;
/// The largest form the console accepts.
const FORM_LIMIT: usize = 64 * 1024;

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn csrf_token(secret: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"backhaul console csrf\0");
    digest.update(secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// Whether two secrets are equal, in time that does not depend on where they differ (their
/// digests are compared, so not even on their lengths).
pub fn same_secret(presented: &str, expected: &str) -> bool {
    hash(presented)
        .iter()
        .zip(hash(expected).iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Whether the browser reached us over https (directly or through a proxy that says so).
fn over_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie. `Secure` when `always_secure`
/// (`console.secure_cookies`, on in production) or the request came over https.
fn set_cookie(
    always_secure: bool,
    request: &HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: i64,
) -> Option<HeaderValue> {
    let secure = if always_secure || over_https(request) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// A signed-in session: who it acts for, and its CSRF token.
#[derive(Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("principal", &self.principal)
            .field("csrf", &"[REDACTED]")
            .finish()
    }
}

/// Stores a new session for `principal`; returns its secret (for the cookie). Expired
/// sessions of the same scope are removed on the way.
async fn open(state: &AppState, principal: &Principal) -> Result<String, sqlx::Error> {
    let secret = random_token();
    let (kind, tenant, key) = match principal {
        Principal::Tenant { tenant, key } => ("tenant", Some(tenant), key),
        Principal::Admin { key } => ("admin", None, key),
    };
    let mut tx = match tenant {
        Some(tenant) => state.db().tenant(tenant).await?,
        None => state.db().admin().await?,
    };
    sqlx::query("DELETE FROM console_sessions WHERE expires_at <= now()")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO console_sessions (id_hash, kind, tenant_id, api_key_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))",
    )
    .bind(&hash(&secret)[..])
    .bind(kind)
    .bind(tenant.map(TenantId::as_str))
    .bind(key.as_str())
    .bind(LIFETIME_HOURS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(secret)
}

fn decode(error: impl fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(error.to_string().into())
}

/// A transaction with no tenant in which row-level security opens only the session whose
/// secret hashes to `id_hash` (to read it, or to delete it).
async fn one_session(
    state: &AppState,
    id_hash: &[u8; 32],
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = state.db().unscoped().await?;
    sqlx::query("SELECT set_config('backhaul.console_session_hash', $1, true)")
        .bind(hex::encode(id_hash))
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The live session whose secret is presented, if any: unexpired, and opened with a key that
/// is still not revoked.
async fn find(state: &AppState, secret: &str) -> Result<Option<Session>, sqlx::Error> {
    let id_hash = hash(secret);
    let mut tx = one_session(state, &id_hash).await?;
    let row = sqlx::query(
        "SELECT tenant_id, api_key_id FROM console_sessions WHERE id_hash = $1 AND expires_at > now()",
    )
    .bind(&id_hash[..])
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.commit().await?;
        return Ok(None);
    };
    let tenant: Option<String> = row.try_get("tenant_id")?;
    let key: String = row.try_get("api_key_id")?;
    let key = ApiKeyId::parse("api_key_id", &key).map_err(decode)?;
    let principal = match tenant {
        Some(tenant) => Principal::Tenant {
            tenant: TenantId::parse("tenant_id", &tenant).map_err(decode)?,
            key: key.clone(),
        },
        None => Principal::Admin { key: key.clone() },
    };
    // The key's own row is visible in its scope: the tenant's, or the admin scope.
    match &principal {
        Principal::Tenant { tenant, .. } => {
            sqlx::query("SELECT set_config('backhaul.tenant_id', $1, true)")
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Principal::Admin { .. } => {
            sqlx::query("SELECT set_config('backhaul.scope', 'admin', true)")
                .execute(&mut *tx)
                .await?;
        }
    }
    let live: Option<bool> =
        sqlx::query_scalar("SELECT revoked_at IS NULL FROM api_keys WHERE id = $1")
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok((live == Some(true)).then(|| Session {
        principal,
        csrf: csrf_token(secret),
    }))
}

/// Deletes the session whose secret is presented.
async fn end(state: &AppState, secret: &str) -> Result<(), sqlx::Error> {
    let id_hash = hash(secret);
    let mut tx = one_session(state, &id_hash).await?;
    sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
        .bind(&id_hash[..])
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Where to come back to after signing in: this page, when it is a console page read with GET.
fn next_of(parts: &Parts) -> Option<String> {
    if parts.method != Method::GET {
        return None;
    }
    // The console is nested: the original URI still has its prefix.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |pq| pq.as_str());
    safe_next(path).map(str::to_owned)
}

/// `next` when it is a path of the console (no other site, no scheme-relative URL).
fn safe_next(next: &str) -> Option<&str> {
    let safe = next.starts_with(&format!("{PREFIX}/"))
        && !next.contains("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic());
    safe.then_some(next)
}

/// The request's session, or a redirect to the sign-in page.
async fn session_of(parts: &Parts, state: &AppState) -> Result<Session, ConsoleError> {
    let secret = cookie(&parts.headers, COOKIE);
    let found = match secret {
        Some(secret) => find(state, secret).await?,
        None => None,
    };
    found.ok_or_else(|| ConsoleError::SignInRequired {
        next: next_of(parts),
    })
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        session_of(parts, state).await
    }
}

/// A merchant's session (a tenant key): the caller the API's services take, and the token.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub caller: TenantKey,
    pub csrf: String,
}

impl Merchant {
    /// The navigation of merchant pages.
    pub fn nav(&self) -> Nav<'_> {
        Nav::Merchant { csrf: &self.csrf }
    }
}

impl FromRequestParts<AppState> for Merchant {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let session = session_of(parts, state).await?;
        match session.principal {
            Principal::Tenant { tenant, key } => Ok(Merchant {
                caller: TenantKey { tenant, key },
                csrf: session.csrf,
            }),
            Principal::Admin { .. } => Err(ConsoleError::WrongSession { admin_page: false }),
        }
    }
}

/// An admin's session (an admin key).
#[derive(Debug, Clone)]
pub struct Admin {
    pub caller: AdminKey,
    pub csrf: String,
}

impl Admin {
    /// The navigation of admin pages.
    pub fn nav(&self) -> Nav<'_> {
        Nav::Admin { csrf: &self.csrf }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let session = session_of(parts, state).await?;
        match session.principal {
            Principal::Admin { key } => Ok(Admin {
                caller: AdminKey { key },
                csrf: session.csrf,
            }),
            Principal::Tenant { .. } => Err(ConsoleError::WrongSession { admin_page: true }),
        }
    }
}

/// What carries a CSRF token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

impl HasCsrf for Session {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl HasCsrf for Merchant {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl HasCsrf for Admin {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A form posted in session `S`, accepted only with the session's CSRF token (field `csrf`).
#[derive(Debug)]
pub struct Posted<S> {
    pub session: S,
    pub fields: Fields,
}

impl<S> FromRequest<AppState> for Posted<S>
where
    S: FromRequestParts<AppState, Rejection = ConsoleError> + HasCsrf + Send,
{
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        let session = S::from_request_parts(&mut parts, state).await?;
        let fields = read_form(body).await?;
        if !same_secret(fields.raw("csrf"), session.csrf()) {
            tracing::warn!("console form refused: missing or wrong CSRF token");
            return Err(ConsoleError::Csrf);
        }
        Ok(Posted { session, fields })
    }
}

/// The fields of a posted form, at most [`FORM_LIMIT`] bytes of them.
async fn read_form(body: axum::body::Body) -> Result<Fields, ConsoleError> {
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ConsoleError::Api(ApiError::invalid("body", "is too large")))?;
    Ok(Fields::parse(&bytes))
}

/// The home page of a principal.
fn home_of(principal: &Principal) -> &'static str {
    match principal {
        Principal::Tenant { .. } => "/console/accounts",
        Principal::Admin { .. } => "/console/admin/accounts",
    }
}

/// `GET /console`: the signed-in principal's home, or the sign-in page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let found = match cookie(&headers, COOKIE) {
        Some(secret) => find(&state, secret).await?,
        None => None,
    };
    let target = found.map_or("/console/sign-in", |session| home_of(&session.principal));
    Ok(Redirect::to(target).into_response())
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// How long a sign-in form may be submitted after it was served.
const SIGN_IN_TOKEN_SECONDS: i64 = 3600;

fn sign_in_mac(state: &AppState, nonce: &str, expires: i64) -> String {
    let material = format!("backhaul console sign-in token\n{nonce}.{expires}");
    let fingerprint = state.keyring().fingerprint(material.as_bytes());
    fingerprint.trim_start_matches("sha256:").to_owned()
}

/// A new sign-in token: `nonce.expiry.mac`.
fn issue_sign_in_token(state: &AppState) -> String {
    let nonce = random_token();
    let expires = chrono::Utc::now().timestamp() + SIGN_IN_TOKEN_SECONDS;
    let mac = sign_in_mac(state, &nonce, expires);
    format!("{nonce}.{expires}.{mac}")
}

/// Whether `token` was issued by this service and has not expired.
fn issued_sign_in_token(state: &AppState, token: &str) -> bool {
    let mut parts = token.splitn(3, '.');
    let (Some(nonce), Some(expires), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    expires > chrono::Utc::now().timestamp()
        && same_secret(mac, &sign_in_mac(state, nonce, expires))
}

fn sign_in_form(
    state: &AppState,
    status: StatusCode,
    request: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
) -> Response {
    let token = issue_sign_in_token(state);
    let body = html! {
        h1 { "Sign in to Backhaul" }
        p { "Merchants sign in with their tenant API key, administrators with an admin key. \
             The key is sent once, in this form, and never appears in an address." }
        @if let Some(error) = error {
            div.alert.error role="alert" id="sign-in-error" { p { (error) } }
        }
        form.narrow method="post" action="/console/sign-in" {
            input type="hidden" name="csrf" value=(token);
            @if let Some(next) = next {
                input type="hidden" name="next" value=(next);
            }
            div.field.has-error[error.is_some()] {
                label for="key" { "API key" }
                p.hint id="key-hint" { "Starts with bh_. Shown once when the key was created." }
                input #key type="password" name="key" autocomplete="current-password"
                    spellcheck="false" aria-describedby="key-hint"
                    aria-invalid=[error.map(|_| "true")] autofocus;
            }
            button.primary type="submit" { "Sign in" }
        }
    };
    let mut response = page::render(status, "Sign in", Nav::None, body);
    if let Some(value) = set_cookie(
        state.secure_cookies(),
        request,
        SIGN_IN_COOKIE,
        &token,
        "/console/sign-in",
        "Strict",
        SIGN_IN_TOKEN_SECONDS,
    ) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /console/sign-in`.
pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> PageResult {
    if let Some(secret) = cookie(&headers, COOKIE) {
        if let Some(session) = find(&state, secret).await? {
            return Ok(Redirect::to(home_of(&session.principal)).into_response());
        }
    }
    let next = query.next.as_deref().and_then(safe_next);
    Ok(sign_in_form(&state, StatusCode::OK, &headers, next, None))
}

/// `POST /console/sign-in`: checks the key as the API does and opens a session.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> PageResult {
    let (parts, body) = request.into_parts();
    let fields = read_form(body).await?;
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !issued_sign_in_token(&state, expected) || !same_secret(fields.raw("csrf"), expected) {
        tracing::warn!("console sign-in refused: missing or wrong CSRF token");
        return Err(ConsoleError::Csrf);
    }
    let next = safe_next(fields.raw("next"));
    let presented = fields.raw("key").trim();
    let Some(principal) = state.authenticate(presented).await? else {
        tracing::info!("console sign-in refused: unknown or revoked key");
        return Ok(sign_in_form(
            &state,
            StatusCode::UNAUTHORIZED,
            &parts.headers,
            next,
            Some("This key is not valid: it is unknown or was revoked. Check it and try again."),
        ));
    };
    let secret = open(&state, &principal).await?;
    tracing::info!(key = %principal.actor().as_stored(), "console session opened");
    let target = next.unwrap_or_else(|| home_of(&principal));
    let mut response = Redirect::to(target).into_response();
    let headers = response.headers_mut();
    let max_age = i64::from(LIFETIME_HOURS) * 3600;
    for cookie in [
        set_cookie(
            state.secure_cookies(),
            &parts.headers,
            COOKIE,
            &secret,
            "/",
            "Lax",
            max_age,
        ),
        set_cookie(
            state.secure_cookies(),
            &parts.headers,
            SIGN_IN_COOKIE,
            "",
            "/console/sign-in",
            "Strict",
            0,
        ),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /console/sign-out`: deletes the session and its cookie.
pub async fn sign_out(State(state): State<AppState>, request: Request) -> PageResult {
    let headers = request.headers().clone();
    let Posted { session, .. } = Posted::<Session>::from_request(request, &state).await?;
    if let Some(secret) = cookie(&headers, COOKIE) {
        end(&state, secret).await?;
    }
    tracing::info!(key = %session.principal.actor().as_stored(), "console session ended");
    let mut response = Redirect::to("/console/sign-in").into_response();
    if let Some(value) = set_cookie(state.secure_cookies(), &headers, COOKIE, "", "/", "Lax", 0) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn the_csrf_token_is_not_the_session_secret_and_differs_per_session() {
        let secret = random_token();
        let token = csrf_token(&secret);
        assert_ne!(token, secret);
        assert_eq!(token, csrf_token(&secret));
        assert_ne!(token, csrf_token(&random_token()));
    }

    #[test]
    fn only_console_paths_are_followed_after_signing_in() {
        assert_eq!(
            safe_next("/console/accounts/sa_1/edit"),
            Some("/console/accounts/sa_1/edit")
        );
        for unsafe_next in [
            "https://evil.example/console/",
            "//evil.example/console/",
            "/console//evil.example",
            "/v1/return-labels",
            "/console/\\evil",
        ] {
            assert_eq!(safe_next(unsafe_next), None, "{unsafe_next}");
        }
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; backhaul_console=abc; x=y"),
        );
        assert_eq!(cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, SIGN_IN_COOKIE), None);
    }

    #[test]
    fn cookies_are_secure_over_https_only() {
        let plain = set_cookie(false, &HeaderMap::new(), COOKIE, "v", "/", "Lax", 60).unwrap();
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let secure = set_cookie(false, &proxied, COOKIE, "v", "/", "Lax", 60).unwrap();
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn secure_cookies_are_secure_whatever_the_request_says() {
        let always = set_cookie(true, &HeaderMap::new(), COOKIE, "v", "/", "Lax", 60).unwrap();
        assert!(always.to_str().unwrap().ends_with("; Secure"));
    }
}
