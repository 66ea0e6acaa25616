//! Rotating an account's credentials: the inputs of its credentials mode as the carrier's
//! schema describes them (the `oneOf` entry whose `mode` it is), public ones pre-filled,
//! secrets never. Saved as a `PATCH /v1/shipper-accounts/{id}` with `credentials`. A mode no
//! form offers (an OAuth sign-in's) is renewed by the carrier and connected again instead.

use accounts::{AccountChanges, AccountError, ShipperAccount};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use carrier::CredentialsInput;
use maud::html;
use serde_json::{Map, Value};

use super::accounts::{CarrierForm, update};
use super::form::{self, Errors, Fields};
use super::page;
use super::schema_form::{self, Context, Source};
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::state::AppState;

fn credentials_page(
    state: &AppState,
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    posted: Option<&Fields>,
    errors: &Errors,
) -> Response {
    let id = account.id.as_str();
    let carrier = CarrierForm::of(state, &account.carrier);
    let mode_name = account.credentials.mode.as_str();
    let mode = carrier.schema.mode(mode_name);
    let public: Map<String, Value> = account
        .credentials
        .public
        .iter()
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    let public = Value::Object(public);
    let source = match posted {
        Some(fields) => Source::Posted(fields),
        None => Source::Stored(&public),
    };
    let context = Context {
        prefix: "",
        source,
        stored: None,
        offered: None,
        carrier: &carrier.name,
        errors,
    };
    let body = html! {
        p { a href={ "/console/accounts/" (id) } { "← " (account.name) } }
        h1 { "Rotate credentials" }
        dl.facts {
            dt { "Mode" } dd { (carrier.mode_title(state, &account.carrier, mode_name)) }
            dt { "Current fingerprint" } dd.mono { (account.credentials.fingerprint) }
            dt { "Updated" } dd { (page::time(&account.credentials.updated_at)) }
        }
        @match mode.filter(|mode| !mode.form.fields.is_empty()) {
            None => {
                p { "This account's credentials come from signing in with " (carrier.name)
                    " and are renewed automatically before they expire. To authorize with another business \
                     account, connect it again." }
                p { a.button href={ "/console/accounts/new/" (account.carrier) } { "Connect again" } }
            }
            Some(mode) => {
                @let labels = schema_form::labels(&mode.form.fields, "");
                @let labels: Vec<(&str, &str)> = labels.iter().map(|(n, l)| (n.as_str(), l.as_str())).collect();
                p { "Enter the new credentials. The old ones stop being used as soon as you save; \
                     the change is recorded in the audit trail." }
                @if !mode.description.is_empty() { p.muted { (mode.description) } }
                (errors.summary(&labels))
                form.narrow method="post" action={ "/console/accounts/" (id) "/credentials" } novalidate {
                    (form::csrf(&merchant.csrf))
                    (schema_form::render(&mode.form.fields, &context))
                    div.actions {
                        button.primary type="submit" { "Replace credentials" }
                        a href={ "/console/accounts/" (id) } { "Cancel" }
                    }
                }
            }
        }
    };
    page::render(status, "Rotate credentials", merchant.nav(), body)
}

/// `GET /console/accounts/{id}/credentials`.
pub async fn credentials(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    Ok(credentials_page(
        &state,
        StatusCode::OK,
        &merchant,
        &account,
        None,
        &Errors::new(),
    ))
}

/// The credentials a mode's posted inputs make (`mode` set), and an error for every required
/// secret left empty: a rotation replaces the secrets, and the form never shows them.
pub(super) fn posted_credentials(
    mode: &super::schema::Mode,
    fields: &Fields,
    prefix: &str,
) -> (CredentialsInput, Errors) {
    let mut missing = Errors::new();
    let mut credentials = CredentialsInput::new().with("mode", mode.name.as_str());
    let values = schema_form::read(&mode.form.fields, fields, prefix);
    for field in &mode.form.fields {
        match values.get(&field.key) {
            Some(Value::String(value)) => {
                credentials = credentials.with(&field.key, value.as_str())
            }
            Some(other) => credentials = credentials.with(&field.key, other.to_string()),
            None if field.required && field.is_secret() => missing.push(
                format!("{prefix}{}", field.name),
                format!("enter the {}", field.title.to_lowercase()),
            ),
            None => {}
        }
    }
    (credentials, missing)
}

/// `POST /console/accounts/{id}/credentials`: new secrets, as a `PATCH` with `credentials`.
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    let schema = CarrierForm::of(&state, &account.carrier).schema;
    let Some(mode) = schema
        .mode(&account.credentials.mode)
        .filter(|mode| !mode.form.fields.is_empty())
    else {
        return Err(ConsoleError::NotFound);
    };
    let (credentials, missing) = posted_credentials(mode, &fields, "");
    let again = |errors: &Errors| {
        credentials_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            Some(&fields),
            errors,
        )
    };
    if !missing.is_empty() {
        return Ok(again(&missing));
    }
    let changes = AccountChanges {
        credentials: Some(credentials),
        ..AccountChanges::default()
    };
    match update(&state, &merchant, &id, changes).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/accounts/{id}?notice=rotated")).into_response())
        }
        Err(AccountError::Validation(invalid)) => {
            Ok(again(&Errors::from_validation(&invalid, "credentials.")))
        }
        Err(other) => Err(other.into()),
    }
}
