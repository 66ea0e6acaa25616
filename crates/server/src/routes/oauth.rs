//! A carrier's sign-in ("Login with …", API.md; the flow of AfterShip's "Connect" pages):
//!
//! 1. `POST /v1/shipper-accounts/{carrier}/connect` `{"name": …}` (tenant key) answers the
//!    carrier's authorize URL carrying a new single-use state (32 random bytes, base64url;
//!    only its hash is stored) that expires in 10 minutes, and the PKCE (S256) challenge of a
//!    verifier derived from the state under the vault's key (never stored, never in the
//!    browser: sent only in the code exchange, so a code cannot complete another sign-in).
//! 2. The merchant signs in and consents on the carrier's page.
//! 3. The browser comes back to `GET /v1/{carrier}/oauth/callback?code=…&state=…` (no API key:
//!    the state names the tenant). The state is consumed, the code exchanged, the tokens sealed
//!    and the account created `pending_details` with what the carrier pre-filled; the page says
//!    what to do next (`PATCH /v1/shipper-accounts/{id}` with the missing details).
//!
//! A denied consent (`error=access_denied`), an unknown, expired or replayed state, or a code the
//! carrier will not exchange answers 400 "Login failed — try again" and stores no account; when
//! the state named a tenant, `account.oauth_failed` is audited. Neither page shows the code or
//! the state, and both are sent with `Cache-Control: no-store` and `Referrer-Policy: no-referrer`
//! so the callback URL does not linger in caches or leak to other sites.
//!
//! A sign-in started from the web console ([`crate::console::connect`]) goes through the same
//! steps; only its last answer differs: the callback redirects the browser to the console's
//! details form, or to the console's "Login failed — try again" page.
//!
//! `POST /v1/shipper-accounts/{id}/reconnect` starts the same sign-in for an account the
//! carrier signed in before (typically `reauthorization_required`): its callback replaces that
//! account's tokens in place — same id, tags, default and history — instead of creating one.
//! Whatever the callback records (`account.oauth_connected`, `account.oauth_reconnected`,
//! `account.oauth_failed`) names as its actor the key, or the console session's key, that
//! started the sign-in.

use accounts::{AccountError, AccountStatus, Context, ShipperAccount, SignIn, StateError};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use carrier::{Carrier, OAuthOnboarding};
use chrono::{DateTime, Utc};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::TenantKey;
use crate::console;
use crate::error::{self, ApiError};
use crate::extract::{JsonBody, Path, parse_json};
use crate::request_id;
use crate::state::AppState;

/// `POST /v1/shipper-accounts/{carrier}/connect`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// The name of the account the sign-in creates (1–200 characters).
    #[schema(min_length = 1, max_length = 200, example = "East warehouse")]
    pub name: String,
}

/// Where to send the merchant's browser, and until when the sign-in may complete.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectResponse {
    /// The carrier's consent page, carrying the sign-in's single-use state.
    pub authorize_url: String,
    /// The sign-in expires 10 minutes after it started.
    pub expires_at: DateTime<Utc>,
}

/// A new sign-in state: 32 random bytes, base64url without padding.
fn new_state() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Start a carrier's sign-in ("Login with …"): a single-use sign-in for the merchant's browser.
///
/// The browser comes back to `GET /v1/{carrier}/oauth/callback`, which creates the account
/// `pending_details` with what the carrier shared; PATCH the missing details to make it active.
/// An unknown carrier, or one not connected by signing in, is 422 on `carrier`.
#[utoipa::path(post, path = "/v1/shipper-accounts/{carrier}/connect", operation_id = "connect_shipper_account", tag = "shipper accounts",
    params(("carrier" = String, Path, description = "A carrier connected by signing in (`onboarding` has `oauth` at `GET /v1/carriers`)")),
    request_body = Connect,
    responses((status = 200, description = "Send the merchant's browser to `authorize_url` before `expires_at`", body = ConnectResponse)),
    security(("tenant_key" = [])))]
pub async fn connect(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(carrier): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<ConnectResponse>, ApiError> {
    let (input, _): (Connect, Value) = parse_json(&bytes)?;
    let begun = begin(&state, &caller, &carrier, &input.name).await?;
    Ok(Json(begun.response))
}

/// A sign-in just started: the answer to the connect call, and its state (for the console,
/// which remembers the sign-ins it started).
pub struct Begun {
    pub response: ConnectResponse,
    state: SecretString,
}

impl Begun {
    /// The sign-in's state (a bearer value: never log or show it).
    pub fn state_secret(&self) -> &str {
        self.state.expose_secret()
    }
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Begun")
            .field("expires_at", &self.response.expires_at)
            .field("state", &"[REDACTED]")
            .finish()
    }
}

/// Starts a sign-in with `carrier` for the caller, to create an account named `name`: a new
/// single-use state recorded by the account service, and the carrier's authorize URL carrying
/// it (`POST /v1/shipper-accounts/{carrier}/connect`, and the console's "Login with …").
pub async fn begin(
    state: &AppState,
    caller: &TenantKey,
    carrier: &str,
    name: &str,
) -> Result<Begun, ApiError> {
    let (carrier, hooks) = state.accounts().oauth_carrier(carrier)?;
    let sign_in_state = new_state();
    let challenge = state.accounts().pkce_verifier(&sign_in_state).challenge();
    let authorize_url = hooks
        .authorize_url(&sign_in_state, &challenge)
        .map_err(|error| error::from_carrier(carrier.id(), error))?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let expires_at = state
        .accounts()
        .begin_oauth(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            carrier.id(),
            name,
            &sign_in_state,
        )
        .await?;
    Ok(Begun {
        response: ConnectResponse {
            authorize_url: authorize_url.to_string(),
            expires_at,
        },
        state: SecretString::from(sign_in_state),
    })
}

/// Sign in again for an account whose authorization lapsed ("Reconnect"), keeping the account.
///
/// Answers the carrier's authorize URL like the connect call; the callback replaces the
/// account's tokens in place (same id, tags, default and history; audited
/// `account.oauth_reconnected`) and makes it `active` again when its details are complete.
/// Only accounts connected by signing in can be reconnected (422 `not_supported` otherwise:
/// an own app's credentials are changed with PATCH); a disabled account is 409
/// `account_disabled`.
#[utoipa::path(post, path = "/v1/shipper-accounts/{id}/reconnect", operation_id = "reconnect_shipper_account", tag = "shipper accounts",
    params(crate::openapi::schema::AccountIdParam),
    responses((status = 200, description = "Send the merchant's browser to `authorize_url` before `expires_at`", body = ConnectResponse),
              (status = 409, description = "`account_disabled`: the account is disabled", body = crate::error::ErrorEnvelope)),
    security(("tenant_key" = [])))]
pub async fn reconnect(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ConnectResponse>, ApiError> {
    let begun = begin_reconnect(&state, &caller, &id).await?;
    Ok(Json(begun.response))
}

/// Starts a sign-in that re-authorizes account `id` of the caller in place (the reconnect
/// call, and the console's "Reconnect").
pub async fn begin_reconnect(
    state: &AppState,
    caller: &TenantKey,
    id: &str,
) -> Result<Begun, ApiError> {
    let sign_in_state = new_state();
    let actor = caller.actor();
    let request_id = request_id::current();
    let (account, expires_at) = state
        .accounts()
        .begin_reconnect(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            id,
            &sign_in_state,
        )
        .await?;
    let (carrier, hooks) = state.accounts().oauth_carrier(&account.carrier)?;
    let challenge = state.accounts().pkce_verifier(&sign_in_state).challenge();
    let authorize_url = hooks
        .authorize_url(&sign_in_state, &challenge)
        .map_err(|error| error::from_carrier(carrier.id(), error))?;
    Ok(Begun {
        response: ConnectResponse {
            authorize_url: authorize_url.to_string(),
            expires_at,
        },
        state: SecretString::from(sign_in_state),
    })
}

/// The callback's query: `code` and `state`, or `error` and `state`. Code and state are
/// bearer values: kept secret and never shown.
#[derive(Default)]
struct Callback {
    code: Option<SecretString>,
    state: Option<SecretString>,
    error: Option<String>,
    /// A parameter given twice: the query is refused.
    repeated: bool,
}

impl Callback {
    fn parse(query: &str) -> Self {
        let mut callback = Callback::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot_taken = match key.as_ref() {
                "code" => callback
                    .code
                    .replace(SecretString::from(value.into_owned()))
                    .is_some(),
                "state" => callback
                    .state
                    .replace(SecretString::from(value.into_owned()))
                    .is_some(),
                "error" => callback.error.replace(error_code(&value)).is_some(),
                // `error_description`, `scope`, `iss` …: nothing we act on.
                _ => false,
            };
            callback.repeated |= slot_taken;
        }
        callback
    }
}

/// The OAuth error code as far as it is one (RFC 6749: printable ASCII), bounded, for the audit.
fn error_code(raw: &str) -> String {
    let clean = raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if clean {
        raw.to_owned()
    } else {
        "unrecognized_error".to_owned()
    }
}

/// Why a callback failed, for the log and the audit (never a code or a state).
enum Failure {
    Malformed,
    State(StateError),
    /// The state was accepted; what went wrong after it.
    SignIn {
        sign_in: SignIn,
        reason: String,
    },
    Account(AccountError),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Failure::State(StateError::Database(_)) | Failure::Account(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The merchant's browser back from the carrier's consent page (no API key: the state names
/// the sign-in). Answers an HTML page, never JSON; a sign-in started from the web console is
/// redirected to the console's pages instead.
#[utoipa::path(get, path = "/v1/{carrier}/oauth/callback", operation_id = "oauth_callback", tag = "shipper accounts",
    params(("carrier" = String, Path, description = "The carrier signed in with"),
           ("code" = Option<String>, Query, description = "The authorization code (on consent)"),
           ("state" = Option<String>, Query, description = "The sign-in's single-use state (without it the login fails)"),
           ("error" = Option<String>, Query, description = "`access_denied` when the merchant declined")),
    responses((status = 200, description = "HTML page: connected — finish the account details (the account is `pending_details`)", content_type = "text/html", body = String),
              (status = 303, description = "A sign-in started from the web console: to the console's details form or its Login failed page",
               headers(("Location" = String, description = "The console page"))),
              (status = 400, description = "HTML page: Login failed — try again (nothing stored)", content_type = "text/html", body = String),
              (status = 500, description = "HTML page: Login failed — try again (the account could not be stored)", content_type = "text/html", body = String)))]
pub async fn callback(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let request_id = request_id::current();
    let Ok((carrier, hooks)) = state.accounts().oauth_carrier(&carrier) else {
        tracing::warn!(%request_id, "Login failed: no such carrier signs in");
        return failed_page(StatusCode::BAD_REQUEST, None);
    };
    let callback = Callback::parse(query.as_deref().unwrap_or_default());
    // A sign-in the console started goes back to the console's pages.
    let from_console = match &callback.state {
        Some(sign_in_state) => {
            console::connect::started_here(&state, sign_in_state.expose_secret()).await
        }
        None => false,
    };
    let failure = match complete(&state, carrier, hooks, callback).await {
        Ok(Completed::Connected(account)) if from_console => {
            return console::connect::connected(account.id.as_str());
        }
        Ok(Completed::Reconnected(account)) if from_console => {
            return console::connect::reconnected(&account);
        }
        Ok(Completed::Connected(account)) => {
            return connected_page(
                carrier.name(),
                account.id.as_str(),
                &account.name,
                account.prefill_unavailable(),
            );
        }
        Ok(Completed::Reconnected(account)) => return reconnected_page(carrier.name(), &account),
        Err(failure) => failure,
    };
    let carrier_id = carrier.id();
    match &failure {
        Failure::Malformed => {
            tracing::warn!(%request_id, carrier = carrier_id, "Login failed: no state, or a repeated parameter")
        }
        Failure::State(error) => {
            tracing::warn!(%request_id, carrier = carrier_id, reason = error.reason(), %error, "Login failed")
        }
        Failure::SignIn { sign_in, reason } => {
            tracing::warn!(%request_id, carrier = carrier_id, tenant = %sign_in.tenant, %reason, "Login failed");
            if let Err(error) = state
                .accounts()
                .record_oauth_failure(sign_in, Some(&request_id), reason)
                .await
            {
                tracing::error!(%request_id, %error, "could not audit a failed login");
            }
        }
        Failure::Account(error) => {
            tracing::error!(%request_id, carrier = carrier_id, %error, "Login failed: the account could not be stored")
        }
    }
    if from_console {
        return console::connect::login_failed(carrier_id);
    }
    failed_page(failure.status(), Some(carrier.name()))
}

/// What a completed sign-in stored.
enum Completed {
    /// A new account, `pending_details`.
    Connected(ShipperAccount),
    /// New tokens for the account the sign-in re-authorized.
    Reconnected(ShipperAccount),
}

/// Consumes the state, exchanges the code and creates the account (or, for a reconnect,
/// stores the new tokens in the account it names).
async fn complete(
    state: &AppState,
    carrier: &dyn Carrier,
    hooks: &dyn OAuthOnboarding,
    callback: Callback,
) -> Result<Completed, Failure> {
    let sign_in_state = match (&callback.state, callback.repeated) {
        (Some(sign_in_state), false) => sign_in_state,
        _ => return Err(Failure::Malformed),
    };
    let sign_in = state
        .accounts()
        .consume_oauth_state(sign_in_state.expose_secret())
        .await
        .map_err(Failure::State)?;
    let failed = |reason: String| Failure::SignIn {
        sign_in: sign_in.clone(),
        reason,
    };
    if sign_in.carrier != carrier.id() {
        return Err(failed(format!(
            "the sign-in was started for {}, not {}",
            sign_in.carrier,
            carrier.id()
        )));
    }
    if let Some(error) = &callback.error {
        return Err(failed(format!(
            "the merchant's consent was not given: {error}"
        )));
    }
    let Some(code) = &callback.code else {
        return Err(failed(
            "the callback carried no authorization code".to_owned(),
        ));
    };
    let verifier = state
        .accounts()
        .pkce_verifier(sign_in_state.expose_secret());
    let connection = hooks
        .exchange_code(code.expose_secret(), &verifier)
        .await
        .map_err(|error| {
            failed(format!(
                "{} did not exchange the authorization code ({}): {error}",
                carrier.name(),
                error.kind().as_str()
            ))
        })?;
    let request_id = request_id::current();
    if let Some(reason) = &connection.prefill.unavailable {
        // Never a reason to fail the sign-in: the merchant types the details instead.
        tracing::warn!(%request_id, carrier = carrier.id(), tenant = %sign_in.tenant, %reason,
            "the carrier shared no account details to pre-fill");
        state.metrics().oauth_prefill_failure(carrier.id());
    }
    if sign_in.account_id.is_some() {
        let account = state
            .accounts()
            .complete_reconnect(&sign_in, Some(&request_id), connection)
            .await
            .map_err(|error| match error {
                // The account was disabled (or changed) while the merchant signed in.
                AccountError::Conflict { message, .. } | AccountError::NotSupported(message) => {
                    failed(message)
                }
                other => Failure::Account(other),
            })?;
        tracing::info!(%request_id, account = %account.id, tenant = %sign_in.tenant, carrier = carrier.id(), status = account.status.as_str(), "account re-authorized by signing in again");
        return Ok(Completed::Reconnected(account));
    }
    let account = state
        .accounts()
        .create_connected(&sign_in, Some(&request_id), connection)
        .await
        .map_err(Failure::Account)?;
    tracing::info!(%request_id, account = %account.id, tenant = %sign_in.tenant, carrier = carrier.id(), "account connected by signing in");
    Ok(Completed::Connected(account))
}

/// Escapes text for HTML element content.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A page for the merchant's browser: not cached, no Referer, nothing to run.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         code{{background:#f3f3f3;padding:0 .2rem}}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n{body}\n</body>\n</html>\n",
        title = escape_html(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    // The page carries no secret, but it ends a sign-in: no other site may frame it.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn connected_page(carrier_name: &str, id: &str, name: &str, unavailable: Option<&str>) -> Response {
    let id = escape_html(id);
    let missing = unavailable.map_or_else(String::new, |reason| {
        format!(
            "<p><strong>{carrier} did not tell us your account details</strong> ({reason}):              type them all in the details.</p>\n",
            carrier = escape_html(carrier_name),
            reason = escape_html(reason),
        )
    });
    let body = format!(
        "<p>Your {carrier} business account is connected as <strong>{name}</strong>, shipper \
         account <code>{id}</code>. Its status is <code>pending_details</code> until its details \
         are complete.</p>\n\
         <p>Next: complete its details (what {carrier} offered at sign-in is already filled in) \
         and add what is missing, such as the return address, with \
         <code>PATCH /v1/shipper-accounts/{id}</code> and a <code>details</code> object. The \
         account becomes <code>active</code> when they are complete.</p>\n{missing}",
        carrier = escape_html(carrier_name),
        name = escape_html(name),
    );
    page(
        StatusCode::OK,
        &format!("{carrier_name} connected — finish your account details"),
        &body,
    )
}

fn reconnected_page(carrier_name: &str, account: &ShipperAccount) -> Response {
    let id = escape_html(account.id.as_str());
    let carrier = escape_html(carrier_name);
    let next = if account.status == AccountStatus::Active {
        "<p>It is <code>active</code> and buys labels again with its new authorization.</p>"
            .to_owned()
    } else {
        format!(
            "<p>Its status is <code>{}</code> until its details are complete: add what is              missing with <code>PATCH /v1/shipper-accounts/{id}</code>.</p>",
            account.status.as_str()
        )
    };
    let body = format!(
        "<p>Your {carrier} business account <strong>{name}</strong>, shipper account          <code>{id}</code>, is connected again. Its id, tags, default and history are          unchanged.</p>\n{next}",
        name = escape_html(&account.name),
    );
    page(
        StatusCode::OK,
        &format!("{carrier_name} reconnected"),
        &body,
    )
}

fn failed_page(status: StatusCode, carrier_name: Option<&str>) -> Response {
    let carrier = escape_html(carrier_name.unwrap_or("the carrier"));
    let body = format!(
        "<p>The sign-in with {carrier} did not complete: it was declined, took longer than 10 \
         minutes, was already used, or {carrier} did not confirm it. Nothing was stored.</p>\n\
         <p>Start again from your returns app: choose Login with {carrier} and authorize once \
         more.</p>"
    );
    page(status, "Login failed — try again", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_32_random_bytes_in_base64url() {
        let state = new_state();
        assert_eq!(state.len(), 43);
        assert!(
            state
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(state, new_state());
    }

    #[test]
    fn a_repeated_code_or_state_makes_the_callback_malformed() {
        assert!(Callback::parse("code=a&state=b&code=c").repeated);
        assert!(Callback::parse("state=b&state=b").repeated);
        let callback = Callback::parse("code=a&state=b&iss=x&scope=labels");
        assert!(!callback.repeated);
        assert_eq!(callback.code.unwrap().expose_secret(), "a");
    }

    #[test]
    fn only_plain_oauth_error_codes_are_kept() {
        assert_eq!(error_code("access_denied"), "access_denied");
        assert_eq!(error_code("<script>"), "unrecognized_error");
        assert_eq!(error_code(&"x".repeat(65)), "unrecognized_error");
    }

    #[tokio::test]
    async fn pages_escape_what_the_merchant_named_and_are_never_cached() {
        let response = connected_page("Acme", "sa_1", "<b>East</b>", Some("it said <nothing>"));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("&lt;b&gt;East&lt;/b&gt;"), "{html}");
        assert!(html.contains("Acme connected — finish your account details"));
        assert!(
            html.contains(
                "Acme did not tell us your account details</strong> (it said &lt;nothing&gt;)"
            ),
            "{html}"
        );
    }
}
