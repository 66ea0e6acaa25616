//! "Add carrier" → USPS → "Login with USPS", as AfterShip's article walks merchants through it.
//!
//! The console starts the sign-in with the API's own [`routes::oauth::begin`] (the same
//! single-use state and the same `begin_oauth` service as `POST /v1/shipper-accounts/{carrier}/
//! connect`) and records the state's hash in `console_sign_ins`. The browser goes to the
//! carrier's consent page and comes back to the API's callback, which consumes the state and
//! creates the `pending_details` account exactly as for an API client; seeing that the console
//! started this sign-in ([`started_here`]), it then sends the browser on to the console's
//! details form ([`connected`]) or to the console's "Login failed — try again" page
//! ([`login_failed`]) instead of answering with its own page.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sha2::{Digest, Sha256};

use super::form::{self, Errors, Input};
use super::page;
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

/// `GET /console/accounts/new`: "Add carrier" — the carriers a merchant can connect here.
pub async fn choose_carrier(State(state): State<AppState>, merchant: Merchant) -> PageResult {
    let carriers: Vec<(&str, &str)> = state
        .registry()
        .iter()
        .filter(|carrier| carrier.oauth().is_some())
        .map(|carrier| (carrier.id(), carrier.name()))
        .collect();
    let body = html! {
        h1 { "Add carrier" }
        p { "Choose the carrier of the business account you want to connect." }
        @if carriers.is_empty() {
            div.alert.warn { p { "No carrier can be connected by signing in on this server. \
                Accounts with their own API credentials are created with the API \
                (POST /v1/shipper-accounts)." } }
        }
        ul.cards aria-label="Carriers" {
            @for (id, name) in &carriers {
                li.card {
                    h2 { (name) }
                    p { "Sign in with your " (name) " business account and authorize Backhaul." }
                    a.button.primary href={ "/console/accounts/new/" (id) } { "Connect " (name) }
                }
            }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        "Add carrier",
        merchant.nav(),
        body,
    ))
}

/// The "Login with …" form: a name for the account, and the button.
fn login_form(
    carrier_id: &str,
    carrier_name: &str,
    csrf: &str,
    name: &str,
    errors: &Errors,
) -> Markup {
    let button = format!("Login with {carrier_name}");
    html! {
        (errors.summary(&[("name", "Account name")]))
        form.narrow method="post" action={ "/console/accounts/new/" (carrier_id) "/connect" } {
            (form::csrf(csrf))
            (Input::text("name", "Account name", name).required()
                .hint("For you and your team, e.g. East warehouse.").render(errors))
            button.primary type="submit" { (button) }
        }
    }
}

/// The carrier `id` when it connects by signing in; otherwise the page does not exist.
fn oauth_carrier(state: &AppState, id: &str) -> Result<(&'static str, &'static str), ConsoleError> {
    let (carrier, _) = state
        .accounts()
        .oauth_carrier(id)
        .map_err(|_| ConsoleError::NotFound)?;
    Ok((carrier.id(), carrier.name()))
}

fn carrier_page_body(
    id: &str,
    name: &str,
    csrf: &str,
    account_name: &str,
    errors: &Errors,
) -> Markup {
    html! {
        h1 { "Connect your " (name) " business account" }
        ol {
            li { "Name the account and choose " strong { "Login with " (name) } "." }
            li { "Sign in to your " (name) " business account and tick the box to authorize Backhaul." }
            li { "Back here, check the details " (name) " shared — CRID, MID, account type — and add what is missing." }
        }
        (login_form(id, name, csrf, account_name, errors))
        p.muted { "No business account yet? Create one with " (name) " first, then come back." }
    }
}

/// `GET /console/accounts/new/{carrier}`: the "Login with USPS" page.
pub async fn carrier_page(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(carrier): Path<String>,
) -> PageResult {
    let (id, name) = oauth_carrier(&state, &carrier)?;
    let body = carrier_page_body(id, name, &merchant.csrf, "", &Errors::new());
    Ok(page::render(
        StatusCode::OK,
        &format!("Connect {name}"),
        merchant.nav(),
        body,
    ))
}

/// `POST /console/accounts/new/{carrier}/connect`: starts the sign-in like the API's connect
/// call, remembers that the console started it, and sends the browser to the consent page.
pub async fn start(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    Posted { session, fields }: Posted<Merchant>,
) -> PageResult {
    let (id, name) = oauth_carrier(&state, &carrier)?;
    let account_name = fields.raw("name").trim().to_owned();
    let begun = match routes::oauth::begin(&state, &session.caller, id, &account_name).await {
        Ok(begun) => begun,
        Err(ApiError::Validation(errors)) => {
            let errors = Errors::from_validation(&errors, "");
            let body = carrier_page_body(id, name, &session.csrf, &account_name, &errors);
            return Ok(page::render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Connect {name}"),
                session.nav(),
                body,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let state_hash = Sha256::digest(begun.state_secret().as_bytes());
    let mut tx = state.db().tenant(&session.caller.tenant).await?;
    sqlx::query("INSERT INTO console_sign_ins (state_hash, tenant_id) VALUES ($1, $2)")
        .bind(&state_hash[..])
        .bind(session.caller.tenant.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&begun.response.authorize_url).into_response())
}

/// `GET /console/accounts/new/{carrier}/failed`: "Login failed — try again".
pub async fn failed(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(carrier): Path<String>,
) -> PageResult {
    let (id, name) = oauth_carrier(&state, &carrier)?;
    let body = html! {
        h1 { "Login failed — try again" }
        div.alert.error role="alert" {
            p { "The sign-in with " (name) " did not complete: it was declined, took longer than \
                 10 minutes, was already used, or " (name) " did not confirm it in the last step. \
                 Nothing was stored." }
        }
        p { "Sign in and authorize once more:" }
        (login_form(id, name, &merchant.csrf, "", &Errors::new()))
    };
    Ok(page::render(
        StatusCode::OK,
        "Login failed — try again",
        merchant.nav(),
        body,
    ))
}

/// Whether the sign-in with this state was started from the console (read before or after the
/// state is consumed; an unknown state was not).
pub async fn started_here(state: &AppState, sign_in_state: &str) -> bool {
    let hash = Sha256::digest(sign_in_state.as_bytes());
    let lookup = async {
        let mut tx = state.db().unscoped().await?;
        sqlx::query("SELECT set_config('backhaul.oauth_state_hash', $1, true)")
            .bind(format!("{hash:x}"))
            .execute(&mut *tx)
            .await?;
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM console_sign_ins WHERE state_hash = $1")
                .bind(&hash[..])
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(found.is_some())
    };
    match lookup.await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "could not tell whether the console started a sign-in");
            false
        }
    }
}

/// A redirect away from the callback: its URL held the code and state, so the answer is never
/// cached and sends no Referer.
fn away_from_callback(target: &str) -> Response {
    let mut response = Redirect::to(target).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Where the callback sends a browser whose console sign-in connected account `id`: the
/// details form.
pub fn connected(account_id: &str) -> Response {
    away_from_callback(&format!(
        "/console/accounts/{account_id}/edit?notice=connected"
    ))
}

/// Where the callback sends a browser whose console sign-in failed.
pub fn login_failed(carrier: &str) -> Response {
    away_from_callback(&format!("/console/accounts/new/{carrier}/failed"))
}
