//! Connecting an account with credentials of the merchant's own (a credentials mode of the
//! carrier's schema, such as "use your own API app"): one form of the account's name, the
//! carrier's details and that mode's credentials, all rendered from the schema, created
//! through the account service exactly as `POST /v1/shipper-accounts` does.

use std::sync::Arc;

use accounts::{AccountError, NewAccount};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use carrier::Carrier;
use maud::html;
use serde_json::Value;

use super::accounts::context;
use super::connect::{Way, ways};
use super::credentials::posted_credentials;
use super::form::{self, Errors, Fields, Input};
use super::page;
use super::schema::{AccountSchema, Mode};
use super::schema_form::{self, Context, Source};
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::request_id;
use crate::state::AppState;

/// Where the credentials inputs are named (`credentials.client_id`), apart from the details'.
const CREDENTIALS: &str = "credentials.";

/// The carrier `id` and its mode `mode`, when the carrier offers to connect with it.
fn offered(
    state: &AppState,
    id: &str,
    mode: &str,
) -> Result<(Arc<dyn Carrier>, AccountSchema, Mode), ConsoleError> {
    let carrier = state
        .registry()
        .get(id)
        .cloned()
        .ok_or(ConsoleError::NotFound)?;
    let listed = ways(carrier.as_ref())
        .into_iter()
        .any(|way| matches!(way, Way::Credentials { mode: listed, .. } if listed == mode));
    let schema = AccountSchema::parse(&carrier.account_schema());
    let found = schema.mode(mode).cloned().filter(|_| listed);
    let found = found.ok_or(ConsoleError::NotFound)?;
    Ok((carrier, schema, found))
}

fn new_account_page(
    status: StatusCode,
    merchant: &Merchant,
    (carrier, schema, mode): (&dyn Carrier, &AccountSchema, &Mode),
    posted: Option<&Fields>,
    errors: &Errors,
) -> Response {
    let source = posted.map_or(Source::Blank, Source::Posted);
    let details_context = Context {
        prefix: "",
        source,
        stored: None,
        offered: None,
        carrier: carrier.name(),
        errors,
    };
    let credentials_context = Context {
        prefix: CREDENTIALS,
        ..details_context
    };
    let mut labels = vec![("name".to_owned(), "Account name".to_owned())];
    labels.extend(schema_form::labels(&schema.details.fields, ""));
    labels.extend(schema_form::labels(&mode.form.fields, CREDENTIALS));
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(name, label)| (name.as_str(), label.as_str()))
        .collect();
    let name = posted.map_or("", |fields| fields.raw("name").trim());
    let title = format!("Connect {}: {}", carrier.name(), mode.title);
    let legend = if schema.details.title.is_empty() {
        format!("{} account", carrier.name())
    } else {
        schema.details.title.clone()
    };
    let registers = carrier
        .registration()
        .is_some_and(|registration| registration.mode() == mode.name);
    let body = html! {
        p { a href={ "/console/accounts/new/" (carrier.id()) } { "← Connect " (carrier.name()) } }
        h1 { (title) }
        @if !mode.description.is_empty() { p { (mode.description) } }
        (errors.summary(&labels))
        @if !schema.details.description.is_empty() { p { (schema.details.description) } }
        form.stack method="post" action={ "/console/accounts/new/" (carrier.id()) "/" (mode.name) } novalidate {
            (form::csrf(&merchant.csrf))
            fieldset {
                legend { "Account" }
                (Input::text("name", "Account name", name).required()
                    .hint("For you and your team, e.g. East warehouse.").render(errors))
            }
            fieldset {
                legend { (legend) }
                (schema_form::render(&schema.details.fields, &details_context))
            }
            // A mode that registers with the carrier has no credentials to type: no empty
            // fieldset, and what happens next instead.
            @if !mode.form.fields.is_empty() {
                fieldset {
                    legend { (mode.title) }
                    (schema_form::render(&mode.form.fields, &credentials_context))
                }
            }
            @if registers {
                p.muted { (carrier.name()) " is sent these details now. Next, " (carrier.name())
                    " asks you to prove that the account is yours; the account can buy labels once it is verified." }
            }
            div.actions {
                button.primary type="submit" {
                    @if registers { "Register with " (carrier.name()) } @else { "Connect account" }
                }
                a href={ "/console/accounts/new/" (carrier.id()) } { "Cancel" }
            }
        }
    };
    page::render(status, &title, merchant.nav(), body)
}

/// `GET /console/accounts/new/{carrier}/{mode}`.
pub async fn form_page(
    State(state): State<AppState>,
    merchant: Merchant,
    Path((carrier, mode)): Path<(String, String)>,
) -> PageResult {
    let (carrier, schema, mode) = offered(&state, &carrier, &mode)?;
    Ok(new_account_page(
        StatusCode::OK,
        &merchant,
        (carrier.as_ref(), &schema, &mode),
        None,
        &Errors::new(),
    ))
}

/// The API's field names as this form's inputs: `details.` dropped, credentials kept
/// (their inputs are named `credentials.…`).
fn form_errors(errors: &carrier::ValidationErrors) -> Errors {
    Errors::from_validation(errors, "details.")
}

/// `POST /console/accounts/new/{carrier}/{mode}`: creates the account as `POST
/// /v1/shipper-accounts` does.
pub async fn create(
    State(state): State<AppState>,
    Path((carrier, mode)): Path<(String, String)>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let (carrier, schema, mode) = offered(&state, &carrier, &mode)?;
    let again = |errors: &Errors| {
        new_account_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            (carrier.as_ref(), &schema, &mode),
            Some(&fields),
            errors,
        )
    };
    let (credentials, missing) = posted_credentials(&mode, &fields, CREDENTIALS);
    if !missing.is_empty() {
        return Ok(again(&missing));
    }
    let details = schema_form::read(&schema.details.fields, &fields, "");
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    let created = state
        .accounts()
        .create(
            context(&merchant, &actor, &request_id),
            NewAccount {
                carrier: carrier.id().to_owned(),
                name: fields.raw("name").trim().to_owned(),
                details: Value::Object(details),
                credentials,
                is_default: None,
                priority: 0,
                tags: accounts::Tags::default(),
            },
        )
        .await;
    match created {
        // Registered with the carrier, which asks the merchant to prove it.
        Ok(account) if account.status == accounts::AccountStatus::PendingVerification => {
            Ok(Redirect::to(&super::verify::page_url(account.id.as_str())).into_response())
        }
        Ok(account) => Ok(Redirect::to(&format!(
            "/console/accounts/{}?notice=created",
            account.id
        ))
        .into_response()),
        Err(AccountError::Validation(invalid)) => Ok(again(&form_errors(&invalid))),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_details_and_the_credentials_inputs() {
        let mut api = carrier::ValidationErrors::new();
        api.push("details.return_address.city", "is required");
        api.push("credentials.token", "is required");
        let errors = form_errors(&api);
        assert!(errors.of("return_address.city").is_some());
        assert!(errors.of("credentials.token").is_some());
    }
}
