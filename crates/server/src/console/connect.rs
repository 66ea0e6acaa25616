//! "Add carrier": every registered carrier with the ways it connects (as its plugin publishes
//! them: [`carrier::Carrier::onboarding`], the schema's credentials modes), and "Login with …"
//! for a carrier connected by OAuth consent. A credentials mode's own form is in
//! [`super::onboard`].
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
use carrier::Carrier;
use maud::{Markup, html};
use sha2::{Digest, Sha256};

use super::form::{self, Errors, Input};
use super::page;
use super::schema::AccountSchema;
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

/// One way to connect a carrier.
#[derive(Debug, Clone)]
pub enum Way {
    /// "Login with …": the carrier's consent page.
    Login,
    /// A credentials mode of the schema (`own_app`): its name and title.
    Credentials {
        mode: String,
        title: String,
        description: String,
    },
}

/// The ways `carrier` connects, in the order its plugin gives them: `oauth` when its sign-in is
/// configured, and each other entry that names one of the schema's credentials modes.
pub fn ways(carrier: &dyn Carrier) -> Vec<Way> {
    let schema = AccountSchema::parse(&carrier.account_schema());
    carrier
        .onboarding()
        .iter()
        .filter_map(|entry| match *entry {
            "oauth" => carrier.oauth().is_some().then_some(Way::Login),
            mode => schema.mode(mode).map(|found| Way::Credentials {
                mode: found.name.clone(),
                title: found.title.clone(),
                description: found.description.clone(),
            }),
        })
        .collect()
}

/// `GET /console/accounts/new`: "Add carrier" — every carrier, with the ways it connects.
pub async fn choose_carrier(State(state): State<AppState>, merchant: Merchant) -> PageResult {
    let carriers: Vec<(&'static str, &'static str, String, Vec<Way>)> = state
        .registry()
        .iter()
        .map(|carrier| {
            let schema = AccountSchema::parse(&carrier.account_schema());
            (
                carrier.id(),
                carrier.name(),
                schema.credentials.description,
                ways(carrier.as_ref()),
            )
        })
        .collect();
    let body = html! {
        h1 { "Add carrier" }
        p { "Choose the carrier of the business account you want to connect." }
        ul.cards aria-label="Carriers" {
            @for (id, name, description, ways) in &carriers {
                li.card {
                    h2 { (name) }
                    @if !description.is_empty() { p { (description) } }
                    @if ways.is_empty() {
                        p.muted { "Accounts of this carrier are created with the API (POST /v1/shipper-accounts)." }
                    } @else {
                        ul aria-label={ "Ways to connect " (name) } {
                            @for way in ways {
                                li { (way_link(id, name, way)) }
                            }
                        }
                        a.button.primary href={ "/console/accounts/new/" (id) } { "Connect " (name) }
                    }
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

fn way_link(id: &str, name: &str, way: &Way) -> Markup {
    match way {
        Way::Login => {
            html! { a href={ "/console/accounts/new/" (id) "#login" } { "Login with " (name) } }
        }
        Way::Credentials { mode, title, .. } => {
            html! { a href={ "/console/accounts/new/" (id) "/" (mode) } { (title) } }
        }
    }
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
    carrier: &dyn Carrier,
    csrf: &str,
    account_name: &str,
    errors: &Errors,
) -> Markup {
    let (id, name) = (carrier.id(), carrier.name());
    let ways = ways(carrier);
    html! {
        h1 { "Connect your " (name) " business account" }
        @if ways.is_empty() {
            p { "Accounts of this carrier are created with the API (POST /v1/shipper-accounts)." }
        }
        @for way in &ways {
            @match way {
                Way::Login => {
                    section #login aria-labelledby="login-title" {
                        h2 #login-title { "Login with " (name) }
                        ol {
                            li { "Name the account and choose " strong { "Login with " (name) } "." }
                            li { "Sign in to your " (name) " business account and tick the box to authorize Backhaul." }
                            li { "Back here, check the details " (name) " pre-filled and add what is missing." }
                        }
                        (login_form(id, name, csrf, account_name, errors))
                    }
                }
                Way::Credentials { mode, title, description } => {
                    section {
                        h2 { (title) }
                        @if !description.is_empty() { p { (description) } }
                        p { a.button href={ "/console/accounts/new/" (id) "/" (mode) } { "Continue" span.visually-hidden { ": " (title) } } }
                    }
                }
            }
        }
        p.muted { "No business account yet? Create one with " (name) " first, then come back." }
    }
}

/// The registered carrier `id`; otherwise the page does not exist.
fn registered(state: &AppState, id: &str) -> Result<std::sync::Arc<dyn Carrier>, ConsoleError> {
    state
        .registry()
        .get(id)
        .cloned()
        .ok_or(ConsoleError::NotFound)
}

/// `GET /console/accounts/new/{carrier}`: the ways to connect one carrier.
pub async fn carrier_page(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(carrier): Path<String>,
) -> PageResult {
    let carrier = registered(&state, &carrier)?;
    let body = carrier_page_body(carrier.as_ref(), &merchant.csrf, "", &Errors::new());
    Ok(page::render(
        StatusCode::OK,
        &format!("Connect {}", carrier.name()),
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
            let carrier = registered(&state, id)?;
            let body = carrier_page_body(carrier.as_ref(), &session.csrf, &account_name, &errors);
            return Ok(page::render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Connect {name}"),
                session.nav(),
                body,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    to_consent_page(&state, &session.caller, &begun).await
}

/// Remembers that the console started the sign-in `begun`, and sends the browser to the
/// carrier's consent page.
async fn to_consent_page(
    state: &AppState,
    caller: &TenantKey,
    begun: &routes::oauth::Begun,
) -> PageResult {
    let state_hash = Sha256::digest(begun.state_secret().as_bytes());
    let mut tx = state.db().tenant(&caller.tenant).await?;
    sqlx::query("INSERT INTO console_sign_ins (state_hash, tenant_id) VALUES ($1, $2)")
        .bind(&state_hash[..])
        .bind(caller.tenant.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Redirect::to(&begun.response.authorize_url).into_response())
}

/// `POST /console/accounts/{id}/reconnect`: "Reconnect with …" — the API's reconnect call,
/// remembered as the console's, then the carrier's consent page. An account that cannot sign
/// in again comes back to its page with the reason.
pub async fn reconnect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { session, .. }: Posted<Merchant>,
) -> PageResult {
    match routes::oauth::begin_reconnect(&state, &session.caller, &id).await {
        Ok(begun) => to_consent_page(&state, &session.caller, &begun).await,
        Err(ApiError::Conflict { message, .. } | ApiError::NotSupported { message }) => {
            let account = state.accounts().get(&session.caller.tenant, &id).await?;
            Ok(super::accounts::account_page(
                &state,
                StatusCode::CONFLICT,
                &session,
                &account,
                None,
                Some(&message),
            ))
        }
        Err(other) => Err(other.into()),
    }
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

/// Where the callback sends a browser whose console sign-in re-authorized `account`: its page,
/// or its details form when details are still missing.
pub fn reconnected(account: &accounts::ShipperAccount) -> Response {
    let id = account.id.as_str();
    if account.status == accounts::AccountStatus::PendingDetails {
        away_from_callback(&format!("/console/accounts/{id}/edit?notice=reconnected"))
    } else {
        away_from_callback(&format!("/console/accounts/{id}?notice=reconnected"))
    }
}

/// Where the callback sends a browser whose console sign-in failed.
pub fn login_failed(carrier: &str) -> Response {
    away_from_callback(&format!("/console/accounts/new/{carrier}/failed"))
}
