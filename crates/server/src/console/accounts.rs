//! A merchant's carrier accounts: the list, one account (its details as the carrier's schema
//! names them), choosing the default, disabling. The details form is in [`super::details`],
//! rotating credentials in [`super::credentials`].
//!
//! Every change goes through the account service exactly as `PATCH` and `DELETE
//! /v1/shipper-accounts/{id}` do (validated by the carrier plugin, audited, scoped to the
//! tenant); the pages only map inputs onto the API's fields and show the field errors the
//! service answers beside the inputs.

use accounts::{AccountChanges, AccountError, AccountStatus, Context, ShipperAccount};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;

use super::PageResult;
use super::form;
use super::page;
use super::schema::AccountSchema;
use super::schema_form;
use super::session::{Merchant, Posted};
use crate::request_id;
use crate::state::AppState;

/// `?notice=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    pub notice: Option<String>,
    pub after: Option<String>,
}

/// The text of notice `code`; `carrier` names the carrier in "… connected".
pub fn notice_text(code: Option<&str>, carrier: &str) -> Option<String> {
    Some(match code? {
        "connected" => format!(
            "{carrier} connected. Check what {carrier} shared, make the choices it could not \
             and fill in what is missing; the account becomes active when its details are \
             complete."
        ),
        "created" => "The account was connected and can buy labels.".to_owned(),
        "saved" => "The account was saved.".to_owned(),
        "verified" => format!(
            "{carrier} verified the account and issued its credentials: the account is active \
             and can buy labels."
        ),
        "activated" => {
            "The details are complete: the account is active and can buy labels.".to_owned()
        }
        "rotated" => {
            "The credentials were replaced. The fingerprint below is the new one.".to_owned()
        }
        "default" => "This is now the default account for its carrier.".to_owned(),
        "reconnected" => format!(
            "{carrier} connected again: the account keeps its id, tags, default and history, \
             with its new authorization."
        ),
        "disabled" => "The account was disabled. Its history and audit trail stay.".to_owned(),
        _ => return None,
    })
}

/// A carrier as the console shows it: its name and its account schema, read.
#[derive(Debug, Clone)]
pub struct CarrierForm {
    pub name: String,
    pub schema: AccountSchema,
}

impl CarrierForm {
    /// The registered carrier `id`'s (an unregistered one: its id and no fields).
    pub fn of(state: &AppState, id: &str) -> Self {
        match state.registry().get(id) {
            Some(carrier) => CarrierForm {
                name: carrier.name().to_owned(),
                schema: AccountSchema::parse(&carrier.account_schema()),
            },
            None => CarrierForm {
                name: id.to_owned(),
                schema: AccountSchema::default(),
            },
        }
    }

    /// The account in a few words, for tables.
    pub fn summary(&self, account: &ShipperAccount) -> String {
        schema_form::summary(&self.schema.details.fields, &account.details)
    }

    /// The title of credentials mode `mode`: the schema's; "Login with …" for the mode an
    /// OAuth sign-in connects; for a carrier that registers accounts, its registration in
    /// progress or the credentials it issued (modes no credentials form offers).
    pub fn mode_title(&self, state: &AppState, carrier: &str, mode: &str) -> String {
        let registered = state.registry().get(carrier);
        let registration = registered.and_then(|carrier| carrier.registration());
        match self.schema.mode(mode) {
            Some(found) if !found.title.is_empty() => found.title.clone(),
            Some(_) => mode.to_owned(),
            None if registration.is_some_and(|hooks| hooks.pending_mode() == mode) => {
                format!("Registration with {}, waiting for verification", self.name)
            }
            None if registered.is_some_and(|c| c.oauth().is_some()) => {
                format!("Login with {}", self.name)
            }
            None if registration.is_some() => format!("Registered with {}", self.name),
            None => mode.to_owned(),
        }
    }
}

/// The carrier's name for people (its id when it is not registered).
pub fn carrier_name(state: &AppState, id: &str) -> String {
    state
        .registry()
        .get(id)
        .map_or_else(|| id.to_owned(), |carrier| carrier.name().to_owned())
}

pub(super) fn context<'a>(
    merchant: &'a Merchant,
    actor: &'a accounts::Actor,
    request_id: &'a str,
) -> Context<'a> {
    Context {
        tenant: &merchant.caller.tenant,
        actor,
        request_id: Some(request_id),
    }
}

/// Applies `changes` through the account service as `PATCH /v1/shipper-accounts/{id}` does
/// (validated by the carrier plugin, audited with the session's key).
pub(super) async fn update(
    state: &AppState,
    merchant: &Merchant,
    id: &str,
    changes: AccountChanges,
) -> Result<ShipperAccount, AccountError> {
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .accounts()
        .update(context(merchant, &actor, &request_id), id, changes)
        .await
}

/// `GET /console/accounts`.
pub async fn list(
    State(state): State<AppState>,
    merchant: Merchant,
    Query(query): Query<Notice>,
) -> PageResult {
    const PAGE: i64 = 50;
    let mut found = state
        .accounts()
        .list(&merchant.caller.tenant, query.after.as_deref(), PAGE + 1)
        .await?;
    let more = found.len() as i64 > PAGE;
    found.truncate(PAGE as usize);
    let rows: Vec<(&ShipperAccount, CarrierForm)> = found
        .iter()
        .map(|account| (account, CarrierForm::of(&state, &account.carrier)))
        .collect();
    let notice = notice_text(query.notice.as_deref(), "The carrier");
    let body = html! {
        h1 { "Carrier accounts" }
        (page::notice(notice.as_deref()))
        div.actions {
            a.button.primary href="/console/accounts/new" { "Add carrier" }
        }
        @if rows.is_empty() {
            p { "No carrier account yet. Choose " strong { "Add carrier" } " to connect your carrier's business account." }
        } @else {
            div.table-scroll {
                table.stacked {
                    caption.visually-hidden { "Your carrier accounts" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Carrier" } th scope="col" { "Status" }
                        th scope="col" { "Default" } th scope="col" { "Tags" } th scope="col" { "Summary" }
                        th scope="col" { "Last used" }
                    } }
                    tbody {
                        @for (account, carrier) in &rows {
                            tr {
                                td data-label="Name" { a href={ "/console/accounts/" (account.id) } { (account.name) } }
                                td data-label="Carrier" { (carrier.name) }
                                td data-label="Status" {
                                    (page::status(account.status))
                                    @if account.status == AccountStatus::PendingDetails {
                                        " " a href={ "/console/accounts/" (account.id) "/edit" } { "Finish details" }
                                    }
                                    @if account.status == AccountStatus::PendingVerification {
                                        " " a href=(super::verify::page_url(account.id.as_str())) { "Verify" }
                                    }
                                }
                                td data-label="Default" { @if account.is_default { "Default" } @else { span.muted { "—" } } }
                                td data-label="Tags" { (page::tags(&account.tags)) }
                                td data-label="Summary" { (page::or_dash(&carrier.summary(account))) }
                                td data-label="Last used" { (page::time_or_never(account.last_used_at.as_ref())) }
                            }
                        }
                    }
                }
            }
            @if more {
                @if let Some(last) = found.last() {
                    p { a href={ "/console/accounts?after=" (last.id) } { "More accounts" } }
                }
            }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        "Carrier accounts",
        merchant.nav(),
        body,
    ))
}

pub(super) fn account_page(
    state: &AppState,
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    notice: Option<&str>,
    error: Option<&str>,
) -> axum::response::Response {
    let carrier = CarrierForm::of(state, &account.carrier);
    let id = account.id.as_str();
    let credentials = &account.credentials;
    // Accounts the carrier signed in can sign in again in place.
    let reconnectable = account.status != AccountStatus::Disabled
        && state
            .registry()
            .get(&account.carrier)
            .and_then(|carrier| carrier.oauth())
            .is_some_and(|hooks| hooks.connected_mode() == credentials.mode);
    let mode = carrier.schema.mode(&credentials.mode);
    // Only the public fields the mode's form names (a client id), never token bookkeeping.
    let public: Vec<(&str, &String)> = mode
        .map(|mode| {
            mode.form
                .fields
                .iter()
                .filter(|field| !field.is_secret())
                .filter_map(|field| {
                    credentials
                        .public
                        .get(&field.key)
                        .map(|value| (field.title.as_str(), value))
                })
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        p { a href="/console/accounts" { "← Carrier accounts" } }
        h1 { (account.name) }
        (page::notice(notice))
        @if let Some(error) = error {
            div.alert.error role="alert" { p { (error) } }
        }
        @if account.status == AccountStatus::PendingDetails {
            div.alert.warn {
                p { "This account needs its details before it can buy labels." }
                p { a href={ "/console/accounts/" (id) "/edit" } { "Finish the account details" } }
            }
        }
        @if let (AccountStatus::PendingVerification, Some(step)) = (account.status, &account.verification) {
            div.alert.warn {
                p { (carrier.name) " is waiting for you to prove this account is yours before it can buy labels." }
                p { (step.message) }
                p { a href=(super::verify::page_url(id)) { "Verify the account" } }
            }
        }
        @if account.status == AccountStatus::ReauthorizationRequired {
            div.alert.warn {
                p { (carrier.name) " no longer accepts this account's authorization. Sign in with "
                    (carrier.name) " again to reconnect it: it keeps its id, tags, default and history." }
                @if reconnectable {
                    (reconnect_button(id, &carrier.name, &merchant.csrf, true))
                }
            }
        }
        div.actions {
            @if account.status == AccountStatus::PendingVerification {
                a.button.primary href=(super::verify::page_url(id)) { "Verify the account" }
            } @else {
                a.button href={ "/console/accounts/" (id) "/edit" } { "Edit details" }
            }
            @if reconnectable && account.status != AccountStatus::ReauthorizationRequired {
                (reconnect_button(id, &carrier.name, &merchant.csrf, false))
            }
            @if account.status != AccountStatus::PendingVerification {
                a.button href={ "/console/accounts/" (id) "/credentials" } { "Rotate credentials" }
            }
            @if !account.is_default && account.status != AccountStatus::Disabled {
                form method="post" action={ "/console/accounts/" (id) "/default" } {
                    (form::csrf(&merchant.csrf))
                    button type="submit" { "Make default" }
                }
            }
            @if account.status != AccountStatus::Disabled {
                a.button href={ "/console/accounts/" (id) "/disable" } { "Disable" }
            }
        }
        h2 { "Account" }
        dl.facts {
            dt { "Status" } dd { (page::status(account.status)) }
            dt { "Carrier" } dd { (carrier.name) }
            dt { "Summary" } dd { (page::or_dash(&carrier.summary(account))) }
            dt { "Default" } dd { @if account.is_default { "Yes" } @else { "No" } }
            dt { "Priority" } dd { (account.priority) }
            dt { "Tags" } dd { (page::tags(&account.tags)) }
            dt { "Last used" } dd { (page::time_or_never(account.last_used_at.as_ref())) }
            dt { "Created" } dd { (page::time(&account.created_at)) }
            dt { "Account id" } dd.mono { (id) }
        }
        h2 { "Details" }
        dl.facts {
            (schema_form::facts(&carrier.schema.details.fields, &account.details))
        }
        h2 { "Credentials" }
        p.muted { "Secrets are never shown. The fingerprint changes when they change." }
        dl.facts {
            dt { "Mode" } dd { (carrier.mode_title(state, &account.carrier, &credentials.mode)) }
            @for (title, value) in &public {
                dt { (title) } dd.mono { (value) }
            }
            dt { "Fingerprint" } dd.mono { (credentials.fingerprint) }
            dt { "Updated" } dd { (page::time(&credentials.updated_at)) }
        }
    };
    page::render(status, &account.name, merchant.nav(), body)
}

/// "Reconnect with …": a form posting to the account's reconnect route.
fn reconnect_button(id: &str, carrier: &str, csrf: &str, primary: bool) -> Markup {
    html! {
        form method="post" action={ "/console/accounts/" (id) "/reconnect" } {
            (form::csrf(csrf))
            @if primary {
                button.primary type="submit" { "Reconnect with " (carrier) }
            } @else {
                button type="submit" { "Reconnect with " (carrier) }
            }
        }
    }
}

/// `GET /console/accounts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(query): Query<Notice>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    let notice = notice_text(
        query.notice.as_deref(),
        &carrier_name(&state, &account.carrier),
    );
    Ok(account_page(
        &state,
        StatusCode::OK,
        &merchant,
        &account,
        notice.as_deref(),
        None,
    ))
}

/// `POST /console/accounts/{id}/default`.
pub async fn make_default(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let changes = AccountChanges {
        is_default: Some(true),
        ..AccountChanges::default()
    };
    let result = update(&state, &merchant, &id, changes).await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/accounts/{id}?notice=default")).into_response())
        }
        Err(AccountError::Validation(invalid)) => {
            let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
            Ok(account_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &merchant,
                &account,
                None,
                Some(&invalid.to_string()),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /console/accounts/{id}/disable`: asks before disabling.
pub async fn confirm_disable(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    let body: Markup = html! {
        p { a href={ "/console/accounts/" (account.id) } { "← " (account.name) } }
        h1 { "Disable " (account.name) "?" }
        p { "A disabled account is never chosen for a label again and stops being the default. \
             Its labels, history and audit trail stay." }
        div.actions {
            form method="post" action={ "/console/accounts/" (account.id) "/disable" } {
                (form::csrf(&merchant.csrf))
                button.danger.primary type="submit" { "Disable account" }
            }
            a href={ "/console/accounts/" (account.id) } { "Keep it" }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        "Disable account",
        merchant.nav(),
        body,
    ))
}

/// `POST /console/accounts/{id}/disable`: as `DELETE /v1/shipper-accounts/{id}`.
pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .accounts()
        .disable(context(&merchant, &actor, &request_id), &id)
        .await?;
    Ok(Redirect::to(&format!("/console/accounts/{id}?notice=disabled")).into_response())
}
