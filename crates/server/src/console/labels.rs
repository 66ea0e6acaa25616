//! Return labels in the console: the create form, the label (PDF embedded or PNG shown, the
//! tracking number, the postage with each fee and the total, a download link; for a printerless
//! label its QR code, its id and a line to send the customer) and the list (each label's total
//! as its cost).
//!
//! The form offers what the merchant's accounts can buy ([`super::offer`]): the services,
//! formats and deliveries their carriers publish for them, the first service chosen unless
//! another is; the account (chosen, or by the selection rules) decides the carrier.
//!
//! Buying goes through [`label::create`] — the purchase flow of `POST /v1/return-labels`, with
//! its idempotency, account selection, OAuth renewal and audit — under an idempotency key the
//! form carries, so a double submission buys one label. Reading and downloading call the API's
//! own label handlers with the merchant's tenant.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use carrier::{IdempotencyKey, LabelDelivery, TrackingStatus};
use maud::html;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::form::{self, Errors, Fields, Input};
use super::offer::{self, Offer};
use super::page;
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::error::ApiError;
use crate::extract;
use crate::label::{self, FeeBody, MoneyBody, ReturnLabelBody};
use crate::routes::labels::{self as api, LabelListQuery};
use crate::state::AppState;

/// The customer's address inputs (`from_address.*`): (key, label, required).
const FROM_ADDRESS: [(&str, &str, bool); 11] = [
    ("first_name", "First name", true),
    ("last_name", "Last name", true),
    ("firm", "Company", false),
    ("street1", "Street address", true),
    ("street2", "Apartment, suite, unit", false),
    ("city", "City", true),
    ("state", "State (2 letters)", true),
    ("zip5", "ZIP Code", true),
    ("zip4", "ZIP+4", false),
    ("phone", "Phone", false),
    ("email", "Email", false),
];

/// The parcel inputs (`parcel.*`): (key, label, required). The dimensions are asked for as
/// required: carriers price and accept return parcels by them (some refuse a label without
/// them), and one that can do without takes them all the same.
const PARCEL: [(&str, &str, bool); 4] = [
    ("weight_oz", "Weight (ounces)", true),
    ("length_in", "Length (inches)", true),
    ("width_in", "Width (inches)", true),
    ("height_in", "Height (inches)", true),
];

fn new_key() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("console-{random}")
}

fn money(postage: &MoneyBody) -> String {
    if postage.currency == "USD" {
        format!("${}", postage.amount)
    } else {
        format!("{} {}", postage.amount, postage.currency)
    }
}

/// A fee as the label page names it: the carrier's name, else its code.
fn fee_name(fee: &FeeBody) -> String {
    match (&fee.name, &fee.code) {
        (Some(name), _) => name.clone(),
        (None, Some(code)) => format!("Fee {code}"),
        (None, None) => "Fee".to_owned(),
    }
}

/// The service's name, from the carrier that offers it.
fn service_name(state: &AppState, carrier: &str, code: &str) -> String {
    state
        .registry()
        .get(carrier)
        .and_then(|carrier| carrier.services().iter().find(|info| info.code == code))
        .map_or_else(|| code.to_owned(), |info| info.name.to_owned())
}

/// Every input of the form with its label, for the error summary.
fn labels() -> Vec<(String, &'static str)> {
    let mut labels = vec![
        ("shipper_account_id".to_owned(), "Carrier account"),
        ("service".to_owned(), "Service"),
        ("label_format".to_owned(), "Label format"),
        ("label_delivery".to_owned(), "Label delivery"),
        ("notify.recipient_email".to_owned(), "Customer's email"),
        ("reference".to_owned(), "Reference"),
    ];
    labels.extend(
        FROM_ADDRESS
            .iter()
            .map(|(key, label, _)| (format!("from_address.{key}"), *label)),
    );
    labels.extend(
        PARCEL
            .iter()
            .map(|(key, label, _)| (format!("parcel.{key}"), *label)),
    );
    labels
}

/// What went wrong, above the form: the API's message and the carrier's details.
#[derive(Debug, Default)]
struct Problem {
    message: String,
    details: Vec<String>,
}

impl Problem {
    fn of(body: &Value) -> Self {
        let error = &body["error"];
        Problem {
            message: error["message"]
                .as_str()
                .unwrap_or("The label was not created.")
                .to_owned(),
            details: error["details"]
                .as_array()
                .map(|details| {
                    details
                        .iter()
                        .map(|detail| {
                            let message = detail["message"].as_str().unwrap_or_default();
                            match detail["code"].as_str() {
                                Some(code) => format!("{code}: {message}"),
                                None => message.to_owned(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

async fn form_page(
    state: &AppState,
    status: StatusCode,
    merchant: &Merchant,
    fields: &Fields,
    key: &str,
    errors: &Errors,
    problem: Option<&Problem>,
) -> PageResult {
    let accounts = state
        .accounts()
        .list(&merchant.caller.tenant, None, 100)
        .await?;
    let mut account_options = vec![(
        String::new(),
        "Automatic: the default, else by priority".to_owned(),
    )];
    account_options.extend(
        accounts
            .iter()
            .filter(|account| account.status == accounts::AccountStatus::Active)
            .map(|account| (account.id.to_string(), account.name.clone())),
    );
    let offer = Offer::of(state, &accounts, fields.get("shipper_account_id"));
    let service = fields
        .get("service")
        .or_else(|| offer.services.first().map(|(value, _)| value.as_str()))
        .unwrap_or_default()
        .to_owned();
    let mut formats: Vec<(&str, &str)> = offer
        .formats
        .iter()
        .map(|format| (format.as_str(), offer::format_label(*format)))
        .collect();
    // With a QR code, a format asks for a printable copy as well; no format, for the code alone.
    let printerless = offer.deliveries.contains(&LabelDelivery::QrCode);
    if printerless {
        formats.push(("", "No printable copy (with a QR code: the code alone)"));
    }
    let code_alone = printerless
        && fields.get("label_delivery") == Some(LabelDelivery::QrCode.as_str())
        && fields.get("label_format").is_none();
    let label_format = fields
        .get("label_format")
        .map(str::to_ascii_uppercase)
        .or_else(|| code_alone.then(String::new))
        .or_else(|| {
            let pdf = formats.iter().find(|(value, _)| *value == "PDF");
            pdf.or(formats.first())
                .map(|(value, _)| (*value).to_owned())
        })
        .unwrap_or_default();
    let deliveries: Vec<(&str, &str)> = offer
        .deliveries
        .iter()
        .map(|delivery| (delivery.as_str(), offer::delivery_label(*delivery)))
        .collect();
    let label_delivery = fields
        .get("label_delivery")
        .or_else(|| deliveries.first().map(|(value, _)| *value))
        .unwrap_or_default()
        .to_owned();
    let emailed = offer.deliveries.contains(&LabelDelivery::Email);
    let labels = labels();
    let labels: Vec<(&str, &str)> = labels
        .iter()
        .map(|(name, label)| (name.as_str(), *label))
        .collect();
    let body = html! {
        h1 { "Create a return label" }
        @if let Some(problem) = problem {
            div.alert.error role="alert" {
                h2 { "The label was not created" }
                p { (problem.message) }
                @if !problem.details.is_empty() {
                    ul { @for detail in &problem.details { li { (detail) } } }
                }
            }
        }
        (errors.summary(&labels))
        @if offer.services.is_empty() {
            div.alert.warn {
                p { "None of your carrier accounts can buy labels yet. "
                    a href="/console/accounts" { "Finish or add a carrier account" } " first." }
            }
        }
        form.stack method="post" action="/console/labels/new" novalidate {
            (form::csrf(&merchant.csrf))
            input type="hidden" name="idempotency_key" value=(key);
            fieldset {
                legend { "Shipping" }
                (form::select("shipper_account_id", "Carrier account", fields.raw("shipper_account_id"), &account_options, errors))
                (form::select("service", "Service", &service, &offer.services, errors))
                @if printerless {
                    (form::radios_with("label_format", "Label format", &label_format, &formats, errors,
                        form::Choice { hint: Some("With a QR code delivery, a format adds a label to print as well as the code."), ..form::Choice::PLAIN }))
                } @else {
                    (form::radios("label_format", "Label format", &label_format, &formats, errors))
                }
                @if deliveries.len() > 1 {
                    (form::radios("label_delivery", "Label delivery", &label_delivery, &deliveries, errors))
                }
                @if emailed {
                    (Input::text("notify.recipient_email", "Customer's email", fields.raw("notify.recipient_email").trim())
                        .kind("email").autocomplete("email")
                        .hint("Where the carrier emails the label, when it is emailed.").render(errors))
                }
                (Input::text("reference", "Reference", fields.raw("reference").trim())
                    .hint("Your return or order number, e.g. RMA-1001.").render(errors))
            }
            fieldset {
                legend { "Customer (ships from)" }
                div.columns {
                    @for (key, label, required) in FROM_ADDRESS {
                        @let name = format!("from_address.{key}");
                        @let value = fields.raw(&name).trim().to_owned();
                        @let input = Input::text(&name, label, &value);
                        @let input = if required { input.required() } else { input };
                        @let input = match key {
                            "first_name" => input.autocomplete("given-name"),
                            "last_name" => input.autocomplete("family-name"),
                            "firm" => input.autocomplete("organization"),
                            "street1" => input.autocomplete("address-line1"),
                            "street2" => input.autocomplete("address-line2"),
                            "city" => input.autocomplete("address-level2"),
                            "state" => input.short().autocomplete("address-level1"),
                            "zip5" => input.digits().autocomplete("postal-code"),
                            "zip4" => input.digits(),
                            "phone" => input.kind("tel").autocomplete("tel"),
                            _ => input.kind("email").autocomplete("email"),
                        };
                        (input.render(errors))
                    }
                }
            }
            fieldset {
                legend { "Parcel" }
                div.columns {
                    @for (key, label, required) in PARCEL {
                        @let name = format!("parcel.{key}");
                        @let value = fields.raw(&name).trim().to_owned();
                        @let input = Input::text(&name, label, &value).short();
                        @let input = if required { input.required() } else { input };
                        @let input = Input { inputmode: Some("decimal"), ..input };
                        (input.render(errors))
                    }
                }
            }
            div.actions {
                button.primary type="submit" { "Create return label" }
            }
        }
    };
    Ok(page::render(
        status,
        "Create a return label",
        merchant.nav(),
        body,
    ))
}

/// `GET /console/labels/new`.
pub async fn new(State(state): State<AppState>, merchant: Merchant) -> PageResult {
    form_page(
        &state,
        StatusCode::OK,
        &merchant,
        &Fields::default(),
        &new_key(),
        &Errors::new(),
        None,
    )
    .await
}

/// The API's request body from the form (blank inputs left out).
fn request_body(fields: &Fields) -> Value {
    let mut body = Map::new();
    if let Some(account) = fields.get("shipper_account_id") {
        body.insert(
            "shipper_account_id".into(),
            Value::String(account.to_owned()),
        );
    }
    if let Some(choice) = fields.get("service") {
        // `carrier:code` as the form offers it; a bare code names its carrier itself.
        let service = match choice.split_once(':') {
            Some((carrier, service)) => {
                body.insert("carrier".into(), Value::String(carrier.to_owned()));
                service
            }
            None => choice,
        };
        body.insert("service".into(), Value::String(service.to_owned()));
    }
    let notify = fields.object("notify", &["recipient_email"]);
    if !notify.is_empty() {
        body.insert("notify".into(), Value::Object(notify));
    }
    let keys: Vec<&str> = FROM_ADDRESS.iter().map(|(key, _, _)| *key).collect();
    body.insert(
        "from_address".into(),
        Value::Object(fields.object("from_address", &keys)),
    );
    let keys: Vec<&str> = PARCEL.iter().map(|(key, _, _)| *key).collect();
    body.insert(
        "parcel".into(),
        Value::Object(fields.object("parcel", &keys)),
    );
    for key in ["label_format", "label_delivery", "reference"] {
        if let Some(value) = fields.get(key) {
            body.insert(key.into(), Value::String(value.to_owned()));
        }
    }
    Value::Object(body)
}

/// `POST /console/labels/new`: buys the label through the API's purchase flow.
pub async fn create(
    State(state): State<AppState>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let presented = fields.raw("idempotency_key").trim().to_owned();
    let key = IdempotencyKey::parse("idempotency_key", &presented)
        .map_err(|errors| ConsoleError::Api(errors.into()))?;
    let body = request_body(&fields);
    let bytes = serde_json::to_vec(&body).map_err(|error| ApiError::Internal(error.to_string()))?;
    let outcome = label::create(&state, &merchant.caller, &key, &bytes).await;
    let (errors, problem, same_key) = match outcome {
        Ok(outcome) if outcome.status == StatusCode::CREATED => {
            let id = outcome.body["id"].as_str().unwrap_or_default();
            return Ok(Redirect::to(&format!("/console/labels/{id}")).into_response());
        }
        // A refusal the carrier gave (stored for the key, like the API's replay).
        Ok(outcome) => (Errors::new(), Some(Problem::of(&outcome.body)), false),
        Err(ApiError::Validation(invalid)) => (Errors::from_validation(&invalid, ""), None, false),
        Err(error) => {
            if let ApiError::Internal(cause) = &error {
                tracing::error!(request_id = %crate::request_id::current(), %cause, "console label purchase failed");
            }
            // When the outcome is unknown or the purchase still runs, retrying must reuse the key.
            let retry = matches!(
                error,
                ApiError::CarrierUnavailable { .. } | ApiError::IdempotencyKeyInUse
            );
            (Errors::new(), Some(Problem::of(&error.body())), retry)
        }
    };
    let key = if same_key { presented } else { new_key() };
    form_page(
        &state,
        StatusCode::UNPROCESSABLE_ENTITY,
        &merchant,
        &fields,
        &key,
        &errors,
        problem.as_ref(),
    )
    .await
}

/// `GET /console/labels/{id}`: the label shown, with its tracking number, postage and download.
pub async fn show(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
) -> PageResult {
    let axum::Json(label) = api::get(
        State(state.clone()),
        merchant.caller.clone(),
        extract::Path(id),
    )
    .await?;
    let account = state
        .accounts()
        .get(&merchant.caller.tenant, &label.shipper_account_id)
        .await
        .map(|account| account.name)
        .unwrap_or_else(|_| label.shipper_account_id.clone());
    let axum::Json(tracking) = crate::routes::tracking::label_tracking(
        State(state.clone()),
        merchant.caller.clone(),
        extract::Path(label.id.clone()),
    )
    .await?;
    let document = format!("/console/labels/{}/label", label.id);
    let download = format!("{document}?download=1");
    let alt = format!("Return label, tracking number {}", label.tracking_number);
    let carrier_name = state
        .registry()
        .get(&label.carrier)
        .map_or(label.carrier.as_str(), |carrier| carrier.name());
    let qr_code = format!("/console/labels/{}/qr-code", label.id);
    let delivery = LabelDelivery::parse("label_delivery", &label.label_delivery).map_or_else(
        |_| label.label_delivery.clone(),
        |delivery| offer::delivery_label(delivery).to_owned(),
    );
    let body = html! {
        p { a href="/console/labels" { "← Return labels" } }
        h1 { "Return label" }
        dl.facts {
            dt { "Tracking number" } dd.mono #tracking-number { (label.tracking_number) }
            dt { "Status" } dd #status { span class={ "status status-" (label.status) } { (status_name(&label.status)) } }
            @if let Some(at) = &label.tracking.first_scan_at {
                dt { "First scan" } dd #first-scan { (page::time(at)) }
            }
            @if let Some(at) = &label.tracking.delivered_at {
                dt { "Delivered" } dd #delivered { (page::time(at)) }
            }
            dt { "Postage" } dd #postage { (money(&label.postage)) }
            @for (index, fee) in label.fees.iter().enumerate() {
                dt { (fee_name(fee)) } dd.fee id={ "fee-" (index) } { (money(&fee.amount)) }
            }
            dt { "Total" } dd #total { strong { (money(&label.total)) } }
            dt { "Service" } dd { (service_name(&state, &label.carrier, &label.service)) }
            dt { "Carrier account" } dd { a href={ "/console/accounts/" (label.shipper_account_id) } { (account) } }
            dt { "Chosen by" } dd { (label.selected_by) }
            @if let Some(zone) = &label.zone { dt { "Zone" } dd { (zone) } }
            dt { "Delivery" } dd #delivery { (delivery) }
            @if label.label_url.is_some() { dt { "Format" } dd { (label.label_format) } }
            dt { "Created" } dd { (page::time(&label.created_at)) }
        }
        @if !label.warnings.is_empty() {
            div.alert.warn {
                h2 { "Warnings" }
                ul { @for warning in &label.warnings { li { (warning["message"].as_str().unwrap_or_default()) } } }
            }
        }
        @if let Some(code) = &label.qr_code {
            section #qr-code aria-labelledby="qr-code-heading" {
                h2 #qr-code-heading { "QR code for the customer" }
                p { "No printer needed: the customer shows this code at a " (carrier_name)
                    " counter, or gives its ID there, and the label is printed for them." }
                div.qr-code {
                    img src=(qr_code) width="232" height="232"
                        alt={ "QR code of the return label, ID " (code.label_broker_id) };
                }
                dl.facts {
                    dt { "ID at the counter" } dd.mono #label-broker-id { (code.label_broker_id) }
                }
                p { "Send your customer:" }
                blockquote #customer-message {
                    "Show this QR code, or give the ID " strong.mono { (code.label_broker_id) }
                    ", at any " (carrier_name) " location that prints labels. They print your return label there: no printer needed. Then hand over your parcel."
                }
                div.actions {
                    a.button href={ (qr_code) "?download=1" } download { "Download QR code (PNG)" }
                }
            }
        }
        section #tracking aria-labelledby="tracking-heading" {
            h2 #tracking-heading { "Tracking" }
            @if tracking.events.is_empty() {
                p { "No scan yet: the carrier has not seen the parcel. Events appear here as the carrier reports them." }
            } @else {
                ol.timeline {
                    @for event in tracking.events.iter().rev() {
                        li {
                            span class={ "status status-" (event.status) } { (status_name(&event.status)) }
                            " "
                            time datetime=(event.at.to_rfc3339()) { (page::time(&event.at)) }
                            div { (event.description) }
                            @let place = [&event.location.city, &event.location.state, &event.location.postal_code]
                                .into_iter().flatten().cloned().collect::<Vec<_>>().join(", ");
                            @if !place.is_empty() { div.muted { (place) } }
                        }
                    }
                }
            }
        }
        @if label.label_url.is_some() {
            div.actions {
                a.button.primary href=(download) download { "Download label (" (label.label_format) ")" }
            }
            div.label-preview {
                @match label.label_format.as_str() {
                    "PDF" => {
                        object data=(document) type="application/pdf" aria-label=(alt) {
                            p { "Your browser does not show PDF files here. " a href=(download) { "Download the label" } "." }
                        }
                    }
                    "PNG" => { img src=(document) alt=(alt); }
                    _ => { p { "No preview for " (label.label_format) " labels. " a href=(download) { "Download the label" } "." } }
                }
            }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        "Return label",
        merchant.nav(),
        body,
    ))
}

#[derive(Debug, Deserialize)]
pub struct DocumentQuery {
    download: Option<String>,
}

/// `GET /console/labels/{id}/label`: the label's bytes, as `GET /v1/return-labels/{id}/label`
/// serves them; `?download=1` asks the browser to save them.
pub async fn document(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(query): Query<DocumentQuery>,
) -> Result<Response, ConsoleError> {
    let response = api::label_document(State(state), merchant.caller, extract::Path(id)).await?;
    Ok(saved_if_asked(response, &query))
}

/// `GET /console/labels/{id}/qr-code`: a printerless label's QR code, as
/// `GET /v1/return-labels/{id}/qr-code` serves it; `?download=1` asks the browser to save it.
pub async fn qr_code(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
    Query(query): Query<DocumentQuery>,
) -> Result<Response, ConsoleError> {
    let response = api::qr_code_image(State(state), merchant.caller, extract::Path(id)).await?;
    Ok(saved_if_asked(response, &query))
}

/// `response` to be saved rather than shown when the query says `download`.
fn saved_if_asked(mut response: Response, query: &DocumentQuery) -> Response {
    if query.download.is_some() {
        let headers = response.headers_mut();
        let inline = headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.replacen("inline", "attachment", 1));
        if let Some(value) = inline.and_then(|value| HeaderValue::from_str(&value).ok()) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

/// `GET /console/labels`: newest first, optionally of one status.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
    status: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    merchant: Merchant,
    Query(query): Query<ListQuery>,
) -> PageResult {
    // An unknown status (an edited URL) lists every label rather than failing.
    let status = query
        .status
        .as_deref()
        .and_then(TrackingStatus::parse)
        .map(TrackingStatus::as_str);
    let axum::Json(found) = api::list(
        State(state.clone()),
        merchant.caller.clone(),
        extract::Query(LabelListQuery {
            limit: Some(50),
            starting_after: query.after,
            status: status.map(str::to_owned),
            ..LabelListQuery::default()
        }),
    )
    .await?;
    let labels: &[ReturnLabelBody] = &found.data;
    let body = html! {
        h1 { "Return labels" }
        div.actions { a.button.primary href="/console/labels/new" { "Create a return label" } }
        form.filters method="get" action="/console/labels" {
            label for="status" { "Status" }
            select #status name="status" {
                option value="" selected[status.is_none()] { "Any status" }
                @for option in TrackingStatus::ALL {
                    option value=(option.as_str()) selected[status == Some(option.as_str())] { (status_name(option.as_str())) }
                }
            }
            button type="submit" { "Filter" }
        }
        @if labels.is_empty() {
            @if status.is_some() {
                p { "No label in this status." }
            } @else {
                p { "No label yet." }
            }
        } @else {
            div.table-scroll {
                table.stacked {
                    caption.visually-hidden { "Return labels, newest first" }
                    thead { tr {
                        th scope="col" { "Created" } th scope="col" { "Tracking number" }
                        th scope="col" { "Status" }
                        th scope="col" { "Service" } th scope="col" { "Cost" } th scope="col" { "Format" }
                    } }
                    tbody {
                        @for label in labels {
                            tr {
                                td data-label="Created" { (page::time(&label.created_at)) }
                                td.mono data-label="Tracking number" { a href={ "/console/labels/" (label.id) } { (label.tracking_number) } }
                                td data-label="Status" { span class={ "status status-" (label.status) } { (status_name(&label.status)) } }
                                td data-label="Service" { (service_name(&state, &label.carrier, &label.service)) }
                                td.num data-label="Cost" { (money(&label.total)) }
                                td data-label="Format" { (label.label_format) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &found.next_cursor {
                @let filter = status.map(|status| format!("&status={status}")).unwrap_or_default();
                p { a href={ "/console/labels?after=" (next) (filter) } { "Older labels" } }
            }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        "Return labels",
        merchant.nav(),
        body,
    ))
}

/// A label status for people.
fn status_name(status: &str) -> &'static str {
    match TrackingStatus::parse(status) {
        Some(TrackingStatus::Created) => "Label created",
        Some(TrackingStatus::InTransit) => "In transit",
        Some(TrackingStatus::Delivered) => "Delivered",
        Some(TrackingStatus::ReturnedToSender) => "Returned to sender",
        Some(TrackingStatus::Exception) => "Exception",
        Some(TrackingStatus::Voided) => "Voided",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_apis_request_without_blank_fields() {
        let fields = Fields::parse(
            b"service=depot%3Adepot_overnight&from_address.first_name=Jane&from_address.street2=&parcel.weight_oz=24&label_format=PNG&label_delivery=email&notify.recipient_email=jane%40example.com&reference=",
        );
        let body = request_body(&fields);
        assert_eq!(body["carrier"], "depot");
        assert_eq!(body["service"], "depot_overnight");
        assert_eq!(
            body["from_address"],
            serde_json::json!({"first_name": "Jane"})
        );
        assert_eq!(body["parcel"]["weight_oz"], "24");
        assert_eq!(body["label_format"], "PNG");
        assert_eq!(body["label_delivery"], "email");
        assert_eq!(body["notify"]["recipient_email"], "jane@example.com");
        assert!(body.get("reference").is_none());
        assert!(body.get("shipper_account_id").is_none());
    }

    #[test]
    fn a_bare_service_code_leaves_the_carrier_to_the_api() {
        let body = request_body(&Fields::parse(b"service=depot_overnight"));
        assert_eq!(body["service"], "depot_overnight");
        assert!(body.get("carrier").is_none());
        assert!(body.get("notify").is_none());
    }
}
