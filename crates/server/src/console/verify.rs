//! Verifying an account registered with its carrier: the step the carrier asks for (its
//! message, and its form rendered from the step's schema like every account form), answered
//! through the account service as `POST /v1/shipper-accounts/{id}/verification` does, and
//! "Start again" as `POST /v1/shipper-accounts/{id}/verification/restart`. A refused answer
//! is shown beside its input, saying how many attempts are left; an expired or locked
//! verification offers only starting again.

use accounts::{AccountError, AccountStatus, ShipperAccount, VerificationStep};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde_json::Value;

use super::PageResult;
use super::accounts::{carrier_name, context};
use super::form::{self, Errors, Fields};
use super::page;
use super::schema::{self, Form};
use super::schema_form::{self, Context, Source};
use super::session::{Merchant, Posted};
use crate::request_id;
use crate::state::AppState;

/// Where the account's verification page is.
pub fn page_url(id: &str) -> String {
    format!("/console/accounts/{id}/verify")
}

/// What went wrong with the last answer, for the page.
enum Problem<'a> {
    None,
    /// Field errors: the form's, or the carrier's refusal (which says the attempts left).
    Fields(&'a Errors),
    /// Only starting again helps (expired, locked), or another answer came first.
    Blocked(&'a str),
}

fn verify_page(
    state: &AppState,
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    step: &VerificationStep,
    posted: Option<&Fields>,
    problem: Problem<'_>,
) -> Response {
    let carrier = carrier_name(state, &account.carrier);
    let id = account.id.as_str();
    let form = schema::form(&step.form);
    let no_errors = Errors::new();
    let errors = match &problem {
        Problem::Fields(errors) => errors,
        _ => &no_errors,
    };
    let expired = step.expired_at(Utc::now());
    let blocked = match &problem {
        Problem::Blocked(message) => Some((*message).to_owned()),
        _ if expired => Some(format!(
            "This verification has expired at {carrier}. Start again to get a new one."
        )),
        _ if step.attempts_remaining == 0 => Some(
            "There were too many wrong answers. Start again: the carrier sends a new code."
                .to_owned(),
        ),
        _ => None,
    };
    let labels = schema_form::labels(&form.fields, "");
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(name, label)| (name.as_str(), label.as_str()))
        .collect();
    let title = format!("Verify {}", account.name);
    let source = posted.map_or(Source::Blank, Source::Posted);
    let fields = Context {
        prefix: "",
        source,
        stored: None,
        offered: None,
        carrier: &carrier,
        errors,
    };
    let body = html! {
        p { a href={ "/console/accounts/" (id) } { "← " (account.name) } }
        h1 { (title) }
        p { "Prove to " (carrier) " that this account is yours. " (carrier)
            " then issues the credentials the account buys labels with; they are stored encrypted and never shown." }
        @if let Some(message) = &blocked {
            div.alert.error role="alert" { p { (message) } }
        } @else {
            (errors.summary(&labels))
            form.stack method="post" action=(page_url(id)) novalidate {
                (form::csrf(&merchant.csrf))
                fieldset {
                    legend { (legend(&form, &carrier)) }
                    p { (step.message) }
                    (schema_form::render(&form.fields, &fields))
                }
                (facts(step))
                div.actions {
                    button.primary type="submit" { "Continue" }
                    a href={ "/console/accounts/" (id) } { "Later" }
                }
            }
        }
        form method="post" action={ (page_url(id)) "/restart" } {
            (form::csrf(&merchant.csrf))
            p.muted { "Start again to choose another way, or to get a new code: "
                (carrier) " is sent the account's details again." }
            @if blocked.is_some() {
                button.primary type="submit" { "Start again" }
            } @else {
                button type="submit" { "Start again" }
            }
        }
    };
    page::render(status, &title, merchant.nav(), body)
}

fn legend(form: &Form, carrier: &str) -> String {
    if form.title.is_empty() {
        format!("{carrier} verification")
    } else {
        form.title.clone()
    }
}

fn facts(step: &VerificationStep) -> Markup {
    html! {
        dl.facts {
            dt { "Attempts left" } dd { (step.attempts_remaining) }
            @if let Some(at) = &step.expires_at {
                dt { "Expires" } dd { (page::time(at)) }
            }
        }
    }
}

fn attempts_text(left: u32) -> String {
    match left {
        0 => "That was the last attempt: start again to get a new code.".to_owned(),
        1 => "1 attempt is left.".to_owned(),
        n => format!("{n} attempts are left."),
    }
}

/// The account and its step, or the account page when it is not being verified.
async fn pending(
    state: &AppState,
    merchant: &Merchant,
    id: &str,
) -> Result<Result<(ShipperAccount, VerificationStep), Response>, super::ConsoleError> {
    let account = state.accounts().get(&merchant.caller.tenant, id).await?;
    match (&account.status, account.verification.clone()) {
        (AccountStatus::PendingVerification, Some(step)) => Ok(Ok((account, step))),
        _ => Ok(Err(
            Redirect::to(&format!("/console/accounts/{id}")).into_response()
        )),
    }
}

/// `GET /console/accounts/{id}/verify`.
pub async fn show(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
) -> PageResult {
    let (account, step) = match pending(&state, &merchant, &id).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    Ok(verify_page(
        &state,
        StatusCode::OK,
        &merchant,
        &account,
        &step,
        None,
        Problem::None,
    ))
}

/// Where an answered (or restarted) verification leads: the next step, or the account.
fn after(account: &ShipperAccount) -> Response {
    let id = account.id.as_str();
    match account.status {
        AccountStatus::PendingVerification => Redirect::to(&page_url(id)).into_response(),
        _ => Redirect::to(&format!("/console/accounts/{id}?notice=verified")).into_response(),
    }
}

/// `POST /console/accounts/{id}/verify`.
pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let (account, step) = match pending(&state, &merchant, &id).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let form = schema::form(&step.form);
    let answer = Value::Object(schema_form::read(&form.fields, &fields, ""));
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    let answered = state
        .accounts()
        .answer_verification(
            context(&merchant, &actor, &request_id),
            account.id.as_str(),
            &answer,
        )
        .await;
    let again = |step: &VerificationStep, problem: Problem<'_>| {
        verify_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            step,
            Some(&fields),
            problem,
        )
    };
    match answered {
        Ok(account) => Ok(after(&account)),
        Err(AccountError::Validation(invalid)) => {
            let errors = Errors::from_validation(&invalid, "");
            Ok(again(&step, Problem::Fields(&errors)))
        }
        Err(AccountError::VerificationRefused {
            errors: refused,
            attempts_remaining,
        }) => {
            // Beside the refused input (and in the summary): what is wrong, and what is left.
            let mut told = carrier::ValidationErrors::new();
            for error in refused.errors() {
                let message = format!(
                    "{}. {}",
                    error.message.trim_end_matches('.'),
                    attempts_text(attempts_remaining)
                );
                told.push(error.field.clone(), message);
            }
            let errors = Errors::from_validation(&told, "");
            let step = VerificationStep {
                attempts_remaining,
                ..step
            };
            Ok(again(&step, Problem::Fields(&errors)))
        }
        Err(AccountError::Conflict { message, .. }) => {
            let current = state
                .accounts()
                .get(&merchant.caller.tenant, account.id.as_str())
                .await?;
            let step = current.verification.clone().unwrap_or(step);
            Ok(verify_page(
                &state,
                StatusCode::CONFLICT,
                &merchant,
                &current,
                &step,
                None,
                Problem::Blocked(&message),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/accounts/{id}/verify/restart`.
pub async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant,
        fields: _,
    }: Posted<Merchant>,
) -> PageResult {
    let (account, step) = match pending(&state, &merchant, &id).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    let restarted = state
        .accounts()
        .restart_verification(context(&merchant, &actor, &request_id), account.id.as_str())
        .await;
    match restarted {
        Ok(account) => Ok(after(&account)),
        Err(AccountError::Validation(refused)) => {
            let message = refused
                .errors()
                .iter()
                .map(|error| error.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
            Ok(verify_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &merchant,
                &account,
                &step,
                None,
                Problem::Blocked(&format!(
                    "The carrier no longer accepts the account's details: {message}"
                )),
            ))
        }
        Err(other) => Err(other.into()),
    }
}
