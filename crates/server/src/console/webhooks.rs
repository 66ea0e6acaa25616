//! The Webhooks page: the tenant's endpoints with their status (a disabled endpoint says so,
//! and why), registering one (its secret shown once), and per endpoint its deliveries —
//! outcome, status code, duration, error — with redelivery, a test event, secret rotation,
//! re-enabling and deletion. Every form carries the session's CSRF token and goes through the
//! same services and checks as the API (`routes::webhooks`).

use accounts::webhook::{Endpoint, EndpointChanges, EndpointStatus, NewEndpoint, WebhookSecret};
use accounts::{Context, DeliveryId, EventType, WebhookEndpointId};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::ExposeSecret;

use super::page;
use super::session::{Merchant, Posted};
use super::{ConsoleError, PageResult};
use crate::error::ApiError;
use crate::request_id;
use crate::routes::webhooks as api;
use crate::state::AppState;

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ConsoleError> {
    WebhookEndpointId::parse("id", raw).map_err(|_| ConsoleError::NotFound)
}

fn status(endpoint: &Endpoint) -> Markup {
    match endpoint.status {
        EndpointStatus::Enabled => html! { "Enabled" },
        EndpointStatus::Disabled => html! {
            strong { "Disabled" }
            @if let Some(reason) = &endpoint.disabled_reason { " — " (reason) }
        },
    }
}

fn list_page(
    status_code: StatusCode,
    merchant: &Merchant,
    endpoints: &[Endpoint],
    error: Option<&str>,
) -> Response {
    let body = html! {
        h1 { "Webhooks" }
        p { "Backhaul POSTs signed events (Standard Webhooks) to these URLs: return labels scanned, \
             delivered, voided, accounts needing re-authorization." }
        @if endpoints.is_empty() {
            p.muted { "No endpoint yet." }
        } @else {
            div.table-scroll {
                table.stacked {
                    thead { tr { th { "URL" } th { "Events" } th { "Status" } } }
                    tbody {
                        @for endpoint in endpoints {
                            tr {
                                td data-label="URL" { a href={ "/console/webhooks/" (endpoint.id) } { (endpoint.url) } }
                                td data-label="Events" { (endpoint.events.join(", ")) }
                                td data-label="Status" { (status(endpoint)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add an endpoint" }
        @if let Some(error) = error {
            div.alert.error role="alert" { p { (error) } }
        }
        form.stack method="post" action="/console/webhooks" {
            (super::form::csrf(&merchant.csrf))
            div.field {
                label for="url" { "URL" }
                p.hint { "https, on a public address." }
                input #url name="url" type="url" required;
            }
            fieldset.radios {
                legend { "Events" }
                div.radio { input #event-all type="checkbox" name="events" value="*" checked; label for="event-all" { "All events" } }
                @for kind in EventType::ALL {
                    div.radio {
                        input id={ "event-" (kind.as_str()) } type="checkbox" name="events" value=(kind.as_str());
                        label for={ "event-" (kind.as_str()) } { (kind.as_str()) }
                    }
                }
            }
            div.field {
                label for="description" { "Description " span.optional { "(optional)" } }
                input #description name="description" type="text";
            }
            div.actions { button.primary type="submit" { "Add endpoint" } }
        }
    };
    page::render(status_code, "Webhooks", merchant.nav(), body)
}

/// `GET /console/webhooks`.
pub async fn list(State(state): State<AppState>, merchant: Merchant) -> PageResult {
    let endpoints = state
        .webhooks()
        .list(&merchant.caller.tenant, None, 100)
        .await?;
    Ok(list_page(StatusCode::OK, &merchant, &endpoints, None))
}

/// The message of a refusal, for the page.
fn refusal(error: &ApiError) -> String {
    match error {
        ApiError::Validation(errors) => errors.to_string(),
        other => other.to_string(),
    }
}

/// `POST /console/webhooks`: registers an endpoint and shows its secret, once.
pub async fn create(
    State(state): State<AppState>,
    Posted {
        session: merchant,
        fields,
    }: Posted<Merchant>,
) -> PageResult {
    let events: Vec<String> = fields
        .all("events")
        .iter()
        .map(|e| (*e).to_owned())
        .collect();
    // "All events" with others ticked means all.
    let events = if events.iter().any(|e| e == "*") {
        vec!["*".to_owned()]
    } else {
        events
    };
    let checked = async {
        let events = api::events("events", events)?;
        let description = api::description(fields.get("description").map(str::to_owned))?;
        let url = api::url(&state, fields.raw("url").trim().to_owned()).await?;
        Ok::<_, ApiError>(NewEndpoint {
            url,
            events,
            description: description.unwrap_or_default(),
        })
    }
    .await;
    let new = match checked {
        Ok(new) => new,
        Err(error) => {
            let endpoints = state
                .webhooks()
                .list(&merchant.caller.tenant, None, 100)
                .await?;
            return Ok(list_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &merchant,
                &endpoints,
                Some(&refusal(&error)),
            ));
        }
    };
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    let (endpoint, secret) = state
        .webhooks()
        .create(context(&merchant, &actor, &request_id), new)
        .await?;
    Ok(secret_page(&merchant, &endpoint, &secret, "Endpoint added"))
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

fn secret_page(
    merchant: &Merchant,
    endpoint: &Endpoint,
    secret: &WebhookSecret,
    title: &str,
) -> Response {
    let shown = secret.encoded();
    let body = html! {
        h1 { (title) }
        div.alert.warn role="status" {
            h2 { "Copy the signing secret now" }
            p { "It will not be shown again. Your receiver verifies each delivery's "
                code { "webhook-signature" } " with it." }
            p.mono #secret { (shown.expose_secret()) }
        }
        p { a href={ "/console/webhooks/" (endpoint.id) } { "Go to the endpoint" } }
    };
    page::render(StatusCode::OK, title, merchant.nav(), body)
}

/// `GET /console/webhooks/{id}`: the endpoint and its deliveries.
pub async fn show(
    State(state): State<AppState>,
    merchant: Merchant,
    Path(id): Path<String>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let tenant = &merchant.caller.tenant;
    let endpoint = state.webhooks().get(tenant, &id).await?;
    let deliveries = state.webhooks().deliveries(tenant, &id, None, 50).await?;
    let csrf = super::form::csrf(&merchant.csrf);
    let action = |what: &str| format!("/console/webhooks/{id}/{what}");
    let body = html! {
        p { a href="/console/webhooks" { "← Webhooks" } }
        h1 { (endpoint.url) }
        @if endpoint.status == EndpointStatus::Disabled {
            div.alert.error role="status" {
                p { strong { "This endpoint is disabled" }
                    @if let Some(reason) = &endpoint.disabled_reason { ": " (reason) } "." }
                p { "Events are kept and sent once it is enabled again." }
            }
        }
        dl.facts {
            dt { "Status" } dd { (status(&endpoint)) }
            dt { "Events" } dd { (endpoint.events.join(", ")) }
            @if !endpoint.description.is_empty() { dt { "Description" } dd { (endpoint.description) } }
            dt { "Last success" } dd { (page::time_or_never(endpoint.last_success_at.as_ref())) }
            @if let Some(expires) = &endpoint.previous_secret_expires_at {
                dt { "Previous secret signs until" } dd { (page::time(expires)) }
            }
        }
        div.actions {
            form method="post" action=(action("test")) { (csrf) button type="submit" { "Send test event" } }
            form method="post" action=(action("rotate")) { (csrf) button type="submit" { "Rotate secret" } }
            @if endpoint.status == EndpointStatus::Disabled {
                form method="post" action=(action("enable")) { (csrf) button.primary type="submit" { "Enable" } }
            }
            form method="post" action=(action("delete")) { (csrf) button.danger type="submit" { "Delete endpoint" } }
        }
        h2 { "Deliveries" }
        @if deliveries.is_empty() {
            p.muted { "Nothing sent yet." }
        } @else {
            div.table-scroll {
                table.stacked {
                    thead { tr { th { "Event" } th { "Outcome" } th { "Status code" } th { "Duration" } th { "Error" } th { "Attempts" } th { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for delivery in &deliveries {
                            tr {
                                td data-label="Event" { (delivery.event_type) br; span.mono.muted { (delivery.event_id) } }
                                td data-label="Outcome" { (match delivery.state {
                                    accounts::webhook::DeliveryState::Pending => "Pending",
                                    accounts::webhook::DeliveryState::Succeeded => "Delivered",
                                    accounts::webhook::DeliveryState::Failed => "Failed",
                                }) }
                                td data-label="Status code" { @match delivery.status_code { Some(code) => (code), None => span.muted { "—" } } }
                                td data-label="Duration" { @match delivery.duration_ms { Some(ms) => { (ms) " ms" }, None => span.muted { "—" } } }
                                td data-label="Error" { (delivery.error.as_deref().unwrap_or("")) }
                                td data-label="Attempts" { (delivery.attempt_count) }
                                td {
                                    form method="post" action={ "/console/webhooks/" (id) "/deliveries/" (delivery.id) "/redeliver" } {
                                        (csrf) button type="submit" { "Redeliver" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        &endpoint.url,
        merchant.nav(),
        body,
    ))
}

fn back_to(id: &WebhookEndpointId) -> Response {
    Redirect::to(&format!("/console/webhooks/{id}")).into_response()
}

/// `POST /console/webhooks/{id}/rotate`: a new secret, shown once.
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    let grace = state.webhook_policy().rotation_grace;
    let (endpoint, secret) = state
        .webhooks()
        .rotate(context(&merchant, &actor, &request_id), &id, grace)
        .await?;
    Ok(secret_page(&merchant, &endpoint, &secret, "Secret rotated"))
}

/// `POST /console/webhooks/{id}/test`.
pub async fn send_test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .webhooks()
        .send_test(context(&merchant, &actor, &request_id), &id)
        .await?;
    Ok(back_to(&id))
}

/// `POST /console/webhooks/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .webhooks()
        .update(
            context(&merchant, &actor, &request_id),
            &id,
            EndpointChanges {
                status: Some(EndpointStatus::Enabled),
                ..EndpointChanges::default()
            },
        )
        .await?;
    Ok(back_to(&id))
}

/// `POST /console/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .webhooks()
        .delete(context(&merchant, &actor, &request_id), &id)
        .await?;
    Ok(Redirect::to("/console/webhooks").into_response())
}

/// `POST /console/webhooks/{id}/deliveries/{delivery}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
    Posted {
        session: merchant, ..
    }: Posted<Merchant>,
) -> PageResult {
    let id = endpoint_id(&id)?;
    let delivery = DeliveryId::parse("delivery", &delivery).map_err(|_| ConsoleError::NotFound)?;
    let actor = merchant.caller.actor();
    let request_id = request_id::current();
    state
        .webhooks()
        .redeliver(context(&merchant, &actor, &request_id), &id, &delivery)
        .await?;
    Ok(back_to(&id))
}
