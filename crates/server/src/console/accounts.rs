//! A merchant's carrier accounts: the list, one account, the details form (AfterShip's "USPS
//! account setup" form: CRID, MID, account type, the EPS account number or the permit number
//! and ZIP, MMID and Returns MID), rotating credentials, choosing the default, disabling.
//!
//! Every change goes through the account service exactly as `PATCH` and `DELETE
//! /v1/shipper-accounts/{id}` do (validated by the carrier plugin, audited, scoped to the
//! tenant); the form only maps its inputs onto the API's fields and shows the field errors
//! the service answers beside the inputs.

use accounts::{AccountChanges, AccountError, AccountStatus, Context, ShipperAccount};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use carrier::CredentialsInput;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::form::{self, Errors, Fields, Input};
use super::page;
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::request_id;
use crate::state::AppState;

/// The inputs of the return address (the v3 `toAddress` of the account's labels).
const RETURN_ADDRESS: [&str; 7] = [
    "firm", "street1", "street2", "city", "state", "zip5", "zip4",
];

/// `?notice=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    notice: Option<String>,
    after: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "connected" => {
            "USPS connected. Check what USPS shared, choose the account type and fill in what \
             is missing; the account becomes active when its details are complete."
        }
        "saved" => "The account was saved.",
        "activated" => "The details are complete: the account is active and can buy labels.",
        "rotated" => "The credentials were replaced. The fingerprint below is the new one.",
        "default" => "This is now the default account for its carrier.",
        "disabled" => "The account was disabled. Its history and audit trail stay.",
        _ => return None,
    })
}

fn context<'a>(
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
async fn update(
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

/// A string detail of the account (`""` when absent).
fn detail<'a>(details: &'a Value, key: &str) -> &'a str {
    details.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// What the carrier offered at sign-in for `key` (the details form's suggestions).
fn offered(account: &ShipperAccount, key: &str) -> Vec<String> {
    account
        .onboarding
        .as_ref()
        .and_then(|options| options.get(key))
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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
    let body = html! {
        h1 { "Carrier accounts" }
        (page::notice(notice_text(query.notice.as_deref())))
        div.actions {
            a.button.primary href="/console/accounts/new" { "Add carrier" }
        }
        @if found.is_empty() {
            p { "No carrier account yet. Choose " strong { "Add carrier" } " to connect your USPS business account." }
        } @else {
            div.table-scroll {
                table.stacked {
                    caption.visually-hidden { "Your carrier accounts" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Carrier" } th scope="col" { "Status" }
                        th scope="col" { "Default" } th scope="col" { "Tags" } th scope="col" { "Pays with" }
                        th scope="col" { "Last used" }
                    } }
                    tbody {
                        @for account in &found {
                            tr {
                                td data-label="Name" { a href={ "/console/accounts/" (account.id) } { (account.name) } }
                                td data-label="Carrier" { (account.carrier.to_uppercase()) }
                                td data-label="Status" {
                                    (page::status(account.status))
                                    @if account.status == AccountStatus::PendingDetails {
                                        " " a href={ "/console/accounts/" (account.id) "/edit" } { "Finish details" }
                                    }
                                }
                                td data-label="Default" { @if account.is_default { "Default" } @else { span.muted { "—" } } }
                                td data-label="Tags" { (page::tags(&account.tags)) }
                                td.mono data-label="Pays with" { (page::payment(&account.details)) }
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

fn account_page(
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    notice: Option<&str>,
    error: Option<&str>,
) -> axum::response::Response {
    let details = &account.details;
    let address = details.get("return_address");
    let line = |key: &str| {
        address
            .and_then(|address| address.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let address_text = [
        line("firm"),
        line("street1"),
        line("street2"),
        format!("{} {} {}", line("city"), line("state"), line("zip5")),
    ]
    .into_iter()
    .map(|part| part.trim().to_owned())
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>();
    let id = account.id.as_str();
    let credentials = &account.credentials;
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
        @if account.status == AccountStatus::ReauthorizationRequired {
            div.alert.warn {
                p { (account.carrier.to_uppercase()) " no longer accepts this account's authorization. Connect it again with Login with " (account.carrier.to_uppercase()) "." }
                p { a href={ "/console/accounts/new/" (account.carrier) } { "Connect again" } }
            }
        }
        div.actions {
            a.button href={ "/console/accounts/" (id) "/edit" } { "Edit details" }
            a.button href={ "/console/accounts/" (id) "/credentials" } { "Rotate credentials" }
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
            dt { "Carrier" } dd { (account.carrier.to_uppercase()) }
            dt { "Default" } dd { @if account.is_default { "Yes" } @else { "No" } }
            dt { "Priority" } dd { (account.priority) }
            dt { "Tags" } dd { (page::tags(&account.tags)) }
            dt { "Last used" } dd { (page::time_or_never(account.last_used_at.as_ref())) }
            dt { "Created" } dd { (page::time(&account.created_at)) }
            dt { "Account id" } dd.mono { (id) }
        }
        h2 { "Details" }
        dl.facts {
            dt { "API" } dd { (detail(details, "api")) }
            dt { "CRID" } dd.mono { (detail(details, "crid")) }
            dt { "MID" } dd.mono { (detail(details, "mid")) }
            dt { "MMID (manifest MID)" } dd.mono { (detail(details, "manifest_mid")) }
            dt { "Returns MID" } dd.mono { (detail(details, "returns_mid")) }
            dt { "Account type" } dd { (detail(details, "account_type")) }
            dt { "Pays with" } dd.mono { (page::payment(details)) }
            @if !address_text.is_empty() {
                dt { "Return address" }
                dd { @for (index, part) in address_text.iter().enumerate() { @if index > 0 { br; } (part) } }
            }
        }
        h2 { "Credentials" }
        p.muted { "Secrets are never shown. The fingerprint changes when they change." }
        dl.facts {
            dt { "Mode" } dd { (credentials.mode) }
            @if let Some(client_id) = credentials.public.get("client_id") {
                dt { "Client id" } dd.mono { (client_id) }
            }
            dt { "Fingerprint" } dd.mono { (credentials.fingerprint) }
            dt { "Updated" } dd { (page::time(&credentials.updated_at)) }
        }
    };
    page::render(status, &account.name, merchant.nav(), body)
}

/// `GET /console/accounts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(query): Query<Notice>,
) -> PageResult {
    let account = state.accounts().get(&merchant.caller.tenant, &id).await?;
    Ok(account_page(
        StatusCode::OK,
        &merchant,
        &account,
        notice_text(query.notice.as_deref()),
        None,
    ))
}

/// The values the details form shows.
#[derive(Debug, Default)]
struct DetailsForm {
    name: String,
    priority: String,
    tags: String,
    crid: String,
    mid: String,
    manifest_mid: String,
    returns_mid: String,
    account_type: String,
    eps_account_number: String,
    permit_number: String,
    permit_zip: String,
    return_address: Vec<String>,
}

impl DetailsForm {
    fn of(account: &ShipperAccount) -> Self {
        let details = &account.details;
        let address = details.get("return_address");
        DetailsForm {
            name: account.name.clone(),
            priority: account.priority.to_string(),
            tags: form::tags_text(&account.tags),
            crid: detail(details, "crid").to_owned(),
            mid: detail(details, "mid").to_owned(),
            manifest_mid: detail(details, "manifest_mid").to_owned(),
            returns_mid: detail(details, "returns_mid").to_owned(),
            account_type: detail(details, "account_type").to_ascii_uppercase(),
            eps_account_number: detail(details, "eps_account_number").to_owned(),
            permit_number: detail(details, "permit_number").to_owned(),
            permit_zip: detail(details, "permit_zip").to_owned(),
            return_address: RETURN_ADDRESS
                .iter()
                .map(|key| {
                    address
                        .and_then(|address| address.get(*key))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect(),
        }
    }

    fn posted(fields: &Fields) -> Self {
        let value = |name: &str| fields.raw(name).trim().to_owned();
        DetailsForm {
            name: value("name"),
            priority: value("priority"),
            tags: fields.raw("tags").to_owned(),
            crid: value("crid"),
            mid: value("mid"),
            manifest_mid: value("manifest_mid"),
            returns_mid: value("returns_mid"),
            account_type: value("account_type").to_ascii_uppercase(),
            eps_account_number: value("eps_account_number"),
            permit_number: value("permit_number"),
            permit_zip: value("permit_zip"),
            return_address: RETURN_ADDRESS
                .iter()
                .map(|key| value(&format!("return_address.{key}")))
                .collect(),
        }
    }
}

/// The inputs of the details form and their labels (also for the error summary).
const LABELS: [(&str, &str); 19] = [
    ("crid", "CRID"),
    ("mid", "MID"),
    ("account_type", "Account type"),
    ("eps_account_number", "EPS account number"),
    ("permit_number", "Permit number"),
    ("permit_zip", "Permit ZIP Code"),
    ("manifest_mid", "MMID (manifest MID)"),
    ("returns_mid", "Returns MID"),
    ("return_address", "Return address"),
    ("return_address.firm", "Company"),
    ("return_address.street1", "Street address"),
    ("return_address.street2", "Apartment, suite, unit"),
    ("return_address.city", "City"),
    ("return_address.state", "State (2 letters)"),
    ("return_address.zip5", "ZIP Code"),
    ("return_address.zip4", "ZIP+4"),
    ("name", "Account name"),
    ("priority", "Priority"),
    ("tags", "Tags"),
];

/// The label of a details input.
fn label(name: &str) -> &'static str {
    LABELS
        .iter()
        .find(|(input, _)| *input == name)
        .map_or("", |(_, label)| label)
}

fn uses_return_address(account: &ShipperAccount) -> bool {
    detail(&account.details, "api") != "webtools"
}

fn details_page(
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    values: &DetailsForm,
    errors: &Errors,
    notice: Option<&str>,
) -> axum::response::Response {
    let id = account.id.as_str();
    let carrier = account.carrier.to_uppercase();
    let eps_offered = offered(account, "eps_account_number");
    let shared_eps = format!("{carrier} shared: {}", eps_offered.join(", "));
    let field_error = |name: &str| errors.of(name);
    let body = html! {
        p { a href={ "/console/accounts/" (id) } { "← " (account.name) } }
        h1 { "Account details" }
        (page::notice(notice))
        (errors.summary(&LABELS))
        p { "Enter your CRID, MID and account type, and the MMID and Returns MID if you have them. \
             For an EPS account, enter its EPS account number; for a PERMIT account, the permit number \
             and the permit ZIP Code. Not sure? Sign in to the USPS Business Customer Gateway and check there." }
        form.stack method="post" action={ "/console/accounts/" (id) "/edit" } novalidate {
            (form::csrf(&merchant.csrf))
            fieldset {
                legend { (carrier) " account" }
                (form::datalist("crid-options", &offered(account, "crid")))
                (form::datalist("mid-options", &offered(account, "mid")))
                (form::datalist("manifest-mid-options", &offered(account, "manifest_mid")))
                (form::datalist("returns-mid-options", &offered(account, "returns_mid")))
                (form::datalist("permit-number-options", &offered(account, "permit_number")))
                (form::datalist("permit-zip-options", &offered(account, "permit_zip")))
                (Input::text("crid", label("crid"), &values.crid).required().digits().list("crid-options")
                    .hint("Customer Registration ID: 2 to 18 digits.").render(errors))
                (Input::text("mid", label("mid"), &values.mid).required().digits().list("mid-options")
                    .hint("Mailer ID that prints on the labels: 6 or 9 digits.").render(errors))
                (form::radios("account_type", label("account_type"), &values.account_type,
                    &[("EPS", "EPS (Enterprise Payment System)"), ("PERMIT", "PERMIT (postage by permit)")], errors))
                div.eps-only {
                    @let input = Input::text("eps_account_number", label("eps_account_number"), &values.eps_account_number)
                        .required().digits().autocomplete("off");
                    @let input = if eps_offered.is_empty() {
                        input.hint("Required for EPS accounts. Stored encrypted; shown masked.")
                    } else {
                        input.hint(&shared_eps)
                    };
                    (input.render(errors))
                }
                div.permit-only {
                    (Input::text("permit_number", label("permit_number"), &values.permit_number).required().short()
                        .list("permit-number-options").hint("Required for PERMIT accounts.").render(errors))
                    (Input::text("permit_zip", label("permit_zip"), &values.permit_zip).required().digits()
                        .list("permit-zip-options").hint("The 5-digit ZIP Code of the permit's Post Office.").render(errors))
                }
                (Input::text("manifest_mid", label("manifest_mid"), &values.manifest_mid).digits()
                    .list("manifest-mid-options").render(errors))
                (Input::text("returns_mid", label("returns_mid"), &values.returns_mid).digits()
                    .list("returns-mid-options").render(errors))
            }
            @if uses_return_address(account) {
                fieldset.has-error[field_error("return_address").is_some()] #f-return-address {
                    legend { "Return address" }
                    p.hint { "Where returned parcels go (the labels' destination)." }
                    @if let Some(error) = field_error("return_address") {
                        p.field-error { span.visually-hidden { "Error: " } (error) }
                    }
                    @for (key, value) in RETURN_ADDRESS.iter().zip(&values.return_address) {
                        @let name = format!("return_address.{key}");
                        @let input = Input::text(&name, label(&name), value);
                        @let input = match *key {
                            "street1" => input.required().autocomplete("address-line1"),
                            "street2" => input.autocomplete("address-line2"),
                            "city" => input.required().autocomplete("address-level2"),
                            "state" => input.required().short().autocomplete("address-level1"),
                            "zip5" => input.required().digits().autocomplete("postal-code"),
                            "zip4" => input.digits(),
                            _ => input.autocomplete("organization"),
                        };
                        (input.render(errors))
                    }
                }
            }
            fieldset {
                legend { "How Backhaul uses it" }
                (Input::text("name", label("name"), &values.name).required().render(errors))
                (Input::text("priority", label("priority"), &values.priority).required().digits()
                    .hint("When no default applies, the lowest number is chosen first.").render(errors))
                @let tags_id = form::input_id("tags");
                @let tags_error = errors.of("tags");
                div.field.has-error[tags_error.is_some()] {
                    label for=(tags_id) { (label("tags")) span.optional { " (optional)" } }
                    p.hint id="f-tags-hint" { "One name=value a line, e.g. location=east. Label requests can pick accounts by tag." }
                    @if let Some(error) = &tags_error { p.field-error id="f-tags-error" { span.visually-hidden { "Error: " } (error) } }
                    textarea id=(tags_id) name="tags" rows="3" aria-describedby="f-tags-hint"
                        aria-invalid=[tags_error.as_ref().map(|_| "true")] { (values.tags) }
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
    Ok(details_page(
        StatusCode::OK,
        &merchant,
        &account,
        &DetailsForm::of(&account),
        &Errors::new(),
        notice_text(query.notice.as_deref()),
    ))
}

/// The API's `details` merge patch from the form. The inputs of the account type not chosen
/// are sent as `null` (the form shows only the chosen type's).
fn details_patch(fields: &Fields, with_return_address: bool) -> Value {
    let mut details = Map::new();
    for key in ["crid", "mid", "manifest_mid", "returns_mid", "account_type"] {
        details.insert(key.to_owned(), fields.json(key));
    }
    let account_type = fields.get("account_type").map(str::to_ascii_uppercase);
    let (eps, permit) = match account_type.as_deref() {
        Some("EPS") => (true, false),
        Some("PERMIT") => (false, true),
        _ => (true, true),
    };
    let keep = |name: &str, chosen: bool| {
        if chosen {
            fields.json(name)
        } else {
            Value::Null
        }
    };
    details.insert("eps_account_number".into(), keep("eps_account_number", eps));
    details.insert("permit_number".into(), keep("permit_number", permit));
    details.insert("permit_zip".into(), keep("permit_zip", permit));
    if with_return_address {
        let address: Map<String, Value> = RETURN_ADDRESS
            .iter()
            .map(|key| {
                (
                    (*key).to_owned(),
                    fields.json(&format!("return_address.{key}")),
                )
            })
            .collect();
        details.insert("return_address".into(), Value::Object(address));
    }
    Value::Object(details)
}

/// The API's field names as the form's inputs: `details.` dropped, any tag error on `tags`.
fn form_errors(errors: &carrier::ValidationErrors) -> Errors {
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
    if !errors.is_empty() {
        // The form's own mistakes first: nothing is half-saved.
        return Ok(details_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            &DetailsForm::posted(&fields),
            &errors,
            None,
        ));
    }
    let changes = AccountChanges {
        name: Some(fields.raw("name").to_owned()),
        details: Some(details_patch(&fields, uses_return_address(&account))),
        credentials: None,
        is_default: None,
        priority,
        tags,
    };
    let result = update(&state, &merchant, &id, changes).await;
    match result {
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
        Err(AccountError::Validation(invalid)) => Ok(details_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            &DetailsForm::posted(&fields),
            &form_errors(&invalid),
            None,
        )),
        Err(other) => Err(other.into()),
    }
}

/// The credential inputs of a mode: (name, label, is secret).
fn credential_inputs(mode: &str) -> &'static [(&'static str, &'static str, bool)] {
    match mode {
        "own_app" => &[
            ("client_id", "Client id (Consumer Key)", false),
            ("client_secret", "New client secret (Consumer Secret)", true),
        ],
        "webtools" => &[
            ("user_id", "Web Tools user ID", true),
            ("password", "New Web Tools password", true),
        ],
        _ => &[],
    }
}

fn credentials_page(
    status: StatusCode,
    merchant: &Merchant,
    account: &ShipperAccount,
    client_id: &str,
    errors: &Errors,
) -> axum::response::Response {
    let id = account.id.as_str();
    let mode = account.credentials.mode.as_str();
    let inputs = credential_inputs(mode);
    let labels: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(name, label, _)| (*name, *label))
        .collect();
    let body = html! {
        p { a href={ "/console/accounts/" (id) } { "← " (account.name) } }
        h1 { "Rotate credentials" }
        dl.facts {
            dt { "Mode" } dd { (mode) }
            dt { "Current fingerprint" } dd.mono { (account.credentials.fingerprint) }
            dt { "Updated" } dd { (page::time(&account.credentials.updated_at)) }
        }
        @if inputs.is_empty() {
            p { "This account's credentials come from signing in with " (account.carrier.to_uppercase())
                " and are renewed automatically before they expire. To authorize with another business \
                 account, connect it again." }
            p { a.button href={ "/console/accounts/new/" (account.carrier) } { "Connect again" } }
        } @else {
            p { "Enter the new credentials. The old ones stop being used as soon as you save; \
                 the change is recorded in the audit trail." }
            (errors.summary(&labels))
            form.narrow method="post" action={ "/console/accounts/" (id) "/credentials" } novalidate {
                (form::csrf(&merchant.csrf))
                @for (name, label, secret) in inputs {
                    @let value = if *name == "client_id" { client_id } else { "" };
                    @let input = Input::text(name, label, value).required();
                    @let input = if *secret { input.kind("password").autocomplete("new-password") } else { input };
                    (input.render(errors))
                }
                div.actions {
                    button.primary type="submit" { "Replace credentials" }
                    a href={ "/console/accounts/" (id) } { "Cancel" }
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
    let client_id = account
        .credentials
        .public
        .get("client_id")
        .cloned()
        .unwrap_or_default();
    Ok(credentials_page(
        StatusCode::OK,
        &merchant,
        &account,
        &client_id,
        &Errors::new(),
    ))
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
    let mode = account.credentials.mode.as_str();
    let inputs = credential_inputs(mode);
    if inputs.is_empty() {
        return Err(ConsoleError::NotFound);
    }
    // A rotation replaces the secrets: each must be entered (the form never shows them).
    let mut missing = Errors::new();
    let mut credentials = CredentialsInput::new().with("mode", mode);
    for (name, label, secret) in inputs {
        match fields.get(name) {
            Some(value) => credentials = credentials.with(name, value),
            None if *secret => missing.push(*name, format!("enter the {}", label.to_lowercase())),
            None => {}
        }
    }
    if !missing.is_empty() {
        let client_id = fields.raw("client_id").trim().to_owned();
        return Ok(credentials_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &merchant,
            &account,
            &client_id,
            &missing,
        ));
    }
    let changes = AccountChanges {
        credentials: Some(credentials),
        ..AccountChanges::default()
    };
    let result = update(&state, &merchant, &id, changes).await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/accounts/{id}?notice=rotated")).into_response())
        }
        Err(AccountError::Validation(invalid)) => {
            let errors = Errors::from_validation(&invalid, "credentials.");
            // Never echo a secret back: only the client id is shown again.
            let client_id = fields.raw("client_id").trim().to_owned();
            Ok(credentials_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &merchant,
                &account,
                &client_id,
                &errors,
            ))
        }
        Err(other) => Err(other.into()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eps_form_sends_no_permit_and_a_permit_form_no_eps_number() {
        let eps = Fields::parse(
            b"crid=56982563&mid=904128936&account_type=EPS&eps_account_number=1000004321&permit_number=12345&permit_zip=63116",
        );
        let patch = details_patch(&eps, false);
        assert_eq!(patch["eps_account_number"], "1000004321");
        assert_eq!(patch["permit_number"], Value::Null);
        assert!(patch.get("return_address").is_none());

        let permit = Fields::parse(
            b"crid=56982563&mid=904128936&account_type=PERMIT&eps_account_number=1000004321&permit_number=12345&permit_zip=63116&return_address.zip5=63116",
        );
        let patch = details_patch(&permit, true);
        assert_eq!(patch["eps_account_number"], Value::Null);
        assert_eq!(patch["permit_zip"], "63116");
        assert_eq!(patch["return_address"]["zip5"], "63116");
        assert_eq!(patch["return_address"]["street2"], Value::Null);
        assert_eq!(patch["manifest_mid"], Value::Null);
    }

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
