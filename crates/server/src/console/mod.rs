//! The web console: server-rendered pages for merchants and admins, served by the API's own
//! server over the API's own services (the account service, `label::create`, the label and
//! admin handlers, the carriers' OAuth sign-in flow), so that no rule exists twice.
//!
//! - Merchants connect carrier accounts the way each carrier's plugin describes them: "Add
//!   carrier" lists every registered carrier with its ways to connect ("Login with …", its own
//!   API app …); the account forms are rendered from the carrier's account schema
//!   ([`schema`], [`schema_form`]) — its titles, hints, choices and conditional requirements —
//!   pre-filled from what the carrier shared at sign-in, with the API's errors beside each
//!   field. They edit, rotate credentials, choose the default, disable, and buy and download
//!   return labels with the services and formats each account's carrier offers ([`accounts`],
//!   [`details`], [`credentials`], [`connect`], [`onboard`], [`labels`]). No carrier is named
//!   here: the console knows carriers only through `carrier::Carrier`.
//! - Admins see every tenant's accounts (masked, fingerprints, last use), the audit trail with
//!   filters, a per-account timeline, and verify the hash chains ([`admin`]).
//!
//! - Merchants register webhook endpoints (the secret shown once), rotate secrets, send test
//!   events, see each endpoint's deliveries and redeliver ([`webhooks`]).
//!
//! Sessions and CSRF are in [`session`]; the pages' frame, styles and form fields in [`page`]
//! and [`form`]. Every page works without JavaScript (there is none) and is sent with
//! `Cache-Control: no-store` and a strict Content-Security-Policy.

pub mod accounts;
pub mod address;
pub mod admin;
pub mod connect;
pub mod credentials;
pub mod details;
pub mod form;
pub mod labels;
pub mod offer;
pub mod onboard;
pub mod page;
pub mod schema;
pub mod schema_form;
pub mod session;
pub mod verify;
pub mod webhooks;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::request_id;
use crate::state::AppState;

/// Where the console lives.
pub const PREFIX: &str = "/console";

/// The console's routes, under [`PREFIX`].
pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(session::home))
        .route("/assets/console.css", get(page::stylesheet))
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/accounts", get(accounts::list))
        .route("/accounts/new", get(connect::choose_carrier))
        .route("/accounts/new/{carrier}", get(connect::carrier_page))
        .route("/accounts/new/{carrier}/connect", post(connect::start))
        .route("/accounts/new/{carrier}/failed", get(connect::failed))
        .route(
            "/accounts/new/{carrier}/{mode}",
            get(onboard::form_page).post(onboard::create),
        )
        .route("/accounts/{id}", get(accounts::show))
        .route(
            "/accounts/{id}/edit",
            get(details::edit).post(details::save),
        )
        .route(
            "/accounts/{id}/credentials",
            get(credentials::credentials).post(credentials::rotate),
        )
        .route("/accounts/{id}/default", post(accounts::make_default))
        .route("/accounts/{id}/reconnect", post(connect::reconnect))
        .route(
            "/accounts/{id}/verify",
            get(verify::show).post(verify::answer),
        )
        .route("/accounts/{id}/verify/restart", post(verify::restart))
        .route(
            "/accounts/{id}/disable",
            get(accounts::confirm_disable).post(accounts::disable),
        )
        .route("/labels", get(labels::list))
        .route("/labels/new", get(labels::new).post(labels::create))
        .route("/labels/{id}", get(labels::show))
        .route("/labels/{id}/label", get(labels::document))
        .route("/labels/{id}/qr-code", get(labels::qr_code))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::show))
        .route("/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/webhooks/{id}/test", post(webhooks::send_test))
        .route("/webhooks/{id}/enable", post(webhooks::enable))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route(
            "/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(webhooks::redeliver),
        )
        .route("/admin", get(admin::home))
        .route("/admin/accounts", get(admin::accounts))
        .route("/admin/accounts/{id}", get(admin::timeline))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit/verify", post(admin::verify))
        .fallback(not_found)
        .layer(middleware::from_fn(protect));
    Router::new().nest(PREFIX, pages)
}

async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
}

/// Headers on every console response: never cached (pages show account data), no sniffing, no
/// framing by other sites, no Referer to other sites, and for HTML pages a policy that allows
/// nothing but this origin's stylesheet, images and embedded label documents.
async fn protect(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; \
                 object-src 'self'; base-uri 'none'; frame-ancestors 'self'",
            ),
        );
    }
    response
}

/// Why a console request did not get its page. Each becomes an HTML page (or a redirect to
/// the sign-in page), never JSON.
#[derive(Debug)]
pub enum ConsoleError {
    /// No valid session: sign in first, then come back to `next`.
    SignInRequired { next: Option<String> },
    /// Signed in, but this page is for the other kind of key.
    WrongSession { admin_page: bool },
    /// A form post without the session's CSRF token, or with another one.
    Csrf,
    /// Not found, or another tenant's (never told apart).
    NotFound,
    /// Anything the API would answer with an error.
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound => ConsoleError::NotFound,
            other => ConsoleError::Api(other),
        }
    }
}

impl From<::accounts::AccountError> for ConsoleError {
    fn from(error: ::accounts::AccountError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<sqlx::Error> for ConsoleError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from(error).into()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::SignInRequired { next } => {
                let target = match next {
                    Some(next) => format!(
                        "{PREFIX}/sign-in?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    None => format!("{PREFIX}/sign-in"),
                };
                Redirect::to(&target).into_response()
            }
            ConsoleError::WrongSession { admin_page } => {
                let (message, home) = if admin_page {
                    (
                        "This page is for administrators. You are signed in with a tenant key.",
                        "/console/accounts",
                    )
                } else {
                    (
                        "This page is for merchants. You are signed in with an admin key.",
                        "/console/admin/accounts",
                    )
                };
                page::message(StatusCode::FORBIDDEN, "Not available", message, home)
            }
            ConsoleError::Csrf => page::message(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not sent from a page of your current session, so nothing was \
                 changed. Go back, reload the page and send it again.",
                "/console",
            ),
            ConsoleError::NotFound => page::message(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no such page, or it belongs to someone else.",
                "/console",
            ),
            ConsoleError::Api(error) => {
                let status = error.status();
                if let ApiError::Internal(cause) = &error {
                    tracing::error!(request_id = %request_id::current(), %cause, "console request failed");
                }
                let message = if status.is_server_error() {
                    format!(
                        "Something went wrong on our side; nothing you did caused it. Try again \
                         in a moment. (Request {})",
                        request_id::current()
                    )
                } else {
                    error.to_string()
                };
                page::message(status, "Something went wrong", &message, "/console")
            }
        }
    }
}

/// The result of a console handler.
pub type PageResult = Result<Response, ConsoleError>;
