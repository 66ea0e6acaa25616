//! An account's details form: the carrier's details rendered from its schema
//! ([`super::schema_form`]), pre-filled from the account (for an account just connected, from
//! what the carrier shared, with its other offers as choices — or, when the carrier shared
//! nothing, a line saying so and why), and the account's name,
//! priority and tags. Saved through the account service as `PATCH
//! /v1/shipper-accounts/{id}` (a merge patch of the details), the service's field errors shown
//! beside their inputs.

use accounts::{AccountChanges, AccountError, AccountStatus, ShipperAccount};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::PageResult;
use super::accounts::{CarrierForm, Notice, notice_text, update};
use super::form::{self, Errors, Fields, Input};
use super::page;
use super::schema_form::{self, Context, Source};
use super::session::{Merchant, Posted};
use crate::state::AppState;

/// The account's own inputs (beside the carrier's details) and their labels.
const OWN: [(&str, &str); 3] = [
    ("name", "Account name"),
    ("priority", "Priority"),
    ("tags", "Tags"),
];

/// The account's own values as the form shows them.
struct Own {
    name: String,
    priority: String,
    tags: String,
}

impl Own {
    fn of(account: &ShipperAccount) -> Self {
        Own {
            name: account.name.clone(),
            priority: account.priority.to_string(),
            tags: form::tags_text(&account.tags),
        }
    }

    fn posted(fields: &Fields) -> Self {
        Own {
            name: fields.raw("name").trim().to_owned(),
            priority: fields.raw("priority").trim().to_owned(),
            tags: fields.raw("tags").to_owned(),
        }
    }
}

fn details_page(
    state: &AppState,
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    (source, own): (Source<'_>, &Own),
    errors: &Errors,
    notice: Option<&str>,
) -> Response {
    let id = account.id.as_str();
    let carrier = CarrierForm::of(state, &account.carrier);
    let details = &carrier.schema.details;
    let mut labels = schema_form::labels(&details.fields, "");
    labels.extend(
        OWN.iter()
            .map(|(name, label)| ((*name).to_owned(), (*label).to_owned())),
    );
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(name, label)| (name.as_str(), label.as_str()))
        .collect();
    let context = Context {
        prefix: "",
        source,
        stored: Some(&account.details),
        offered: account.onboarding.as_ref(),
        carrier: &carrier.name,
        errors,
    };
    let legend = if details.title.is_empty() {
        format!("{} account", carrier.name)
    } else {
        details.title.clone()
    };
    let tags_error = errors.of("tags");
    let body = html! {
        p { a href={ "/console/accounts/" (id) } { "← " (account.name) } }
        h1 { "Account details" }
        (page::notice(notice))
        @if account.status == AccountStatus::PendingDetails {
            @if let Some(reason) = account.prefill_unavailable() {
                div.alert.warn #prefill-unavailable role="status" {
                    p {
                        strong { (carrier.name) " did not tell us your account details" }
                        " (" (reason) "); type the details."
                    }
                }
            }
        }
        (errors.summary(&labels))
        @if !details.description.is_empty() { p { (details.description) } }
        form.stack method="post" action={ "/console/accounts/" (id) "/edit" } novalidate {
            (form::csrf(&merchant.csrf))
            fieldset {
                legend { (legend) }
                (schema_form::render(&details.fields, &context))
            }
            fieldset {
                legend { "How Backhaul uses it" }
                (Input::text("name", "Account name", &own.name).required().render(errors))
                (Input::text("priority", "Priority", &own.priority).required().digits()
                    .hint("When no default applies, the lowest number is chosen first.").render(errors))
                div.field.has-error[tags_error.is_some()] {
                    label for="f-tags" { "Tags" span.optional { " (optional)" } }
                    p.hint id="f-tags-hint" { "One name=value a line, e.g. location=east. Label requests can pick accounts by tag." }
                    @if let Some(error) = &tags_error { p.field-error id="f-tags-error" { span.visually-hidden { "Error: " } (error) } }
                    textarea id="f-tags" name="tags" rows="3" aria-describedby="f-tags-hint"
                        aria-invalid=[tags_error.as_ref().map(|_| "true")] { (own.tags) }
                }
            }
            div.actions {
                button.primary type="submit" { "Save details" }
                a href={ "/console/accounts/" (id) } { "Cancel" }
            }
        }
    };
    page::render(status, "Account details", merchant.nav(), body)
}

/// `GET /console/accounts/{id}/edit`: the details form, pre-filled from the account (and, for
/// an account just connected, from what the carrier shared).
pub async fn edit(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(query): Query<Notice>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    let carrier = CarrierForm::of(&state, &account.carrier);
    let notice = notice_text(query.notice.as_deref(), &carrier.name);
    Ok(details_page(
        &state,
        StatusCode::OK,
        &merchant,
        &account,
        (Source::Stored(&account.details), &Own::of(&account)),
        &Errors::new(),
        notice.as_deref(),
    ))
}

/// The API's field names as the form's inputs: `details.` dropped, any tag error on `tags`.
pub(super) fn form_errors(errors: &carrier::ValidationErrors) -> Errors {
    let mut mapped = Errors::new();
    for error in errors.errors() {
        let field = error.field.strip_prefix("details.").unwrap_or(&error.field);
        let field = if field.starts_with("tags.") {
            "tags"
        } else {
            field
        };
        mapped.push(field, error.message.clone());
    }
    mapped
}

/// `POST /console/accounts/{id}/edit`: the details (and name, priority, tags) through the
/// account service, as `PATCH /v1/shipper-accounts/{id}`.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    let mut errors = Errors::new();
    let priority = match fields.raw("priority").trim().parse::<i32>() {
        Ok(priority) => Some(priority),
        Err(_) => {
            errors.push("priority", "must be a whole number");
            None
        }
    };
    let tags = form::tags_json(fields.raw("tags"), "tags", &mut errors);
    let tags = match accounts::account::parse_tags("tags", &tags) {
        Ok(tags) => Some(tags),
        Err(invalid) => {
            errors.extend(form_errors(&invalid));
            None
        }
    };
    let again = |errors: &Errors| {
        details_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            (Source::Posted(&fields), &Own::posted(&fields)),
            errors,
            None,
        )
    };
    if !errors.is_empty() {
        // The form's own mistakes first: nothing is half-saved.
        return Ok(again(&errors));
    }
    let schema = CarrierForm::of(&state, &account.carrier).schema;
    let changes = AccountChanges {
        name: Some(fields.raw("name").to_owned()),
        details: Some(schema_form::merge_patch(
            &schema.details.fields,
            &fields,
            &account.details,
        )),
        credentials: None,
        is_default: None,
        priority,
        tags,
    };
    match update(&state, &merchant, &id, changes).await {
        Ok(updated) => {
            let notice = if account.status == AccountStatus::PendingDetails
                && updated.status == AccountStatus::Active
            {
                "activated"
            } else {
                "saved"
            };
            Ok(Redirect::to(&format!("/console/accounts/{id}?notice={notice}")).into_response())
        }
        Err(AccountError::Validation(invalid)) => Ok(again(&form_errors(&invalid))),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_inputs() {
        let mut api = carrier::ValidationErrors::new();
        api.push("details.return_address.zip5", "must be 5 digits");
        api.push("tags.bad key", "tag names are …");
        api.push("name", "must be 1 to 200 characters");
        let errors = form_errors(&api);
        assert!(errors.of("return_address.zip5").is_some());
        assert!(errors.of("tags").is_some());
        assert!(errors.of("name").is_some());
    }
}
