//! `/v1/webhook-endpoints`: the tenant's webhook endpoints (create, list, read, update,
//! delete, rotate the secret, send a `webhook.test` event), each endpoint's deliveries and
//! their redelivery. URLs are held to the rules of [`crate::webhook::address`] (422 on `url`);
//! another tenant's endpoint is a 404.

use accounts::webhook::{self, EndpointChanges, EndpointStatus, NewEndpoint, WebhookSecret};
use accounts::{Context, DeliveryId, EventType, WebhookEndpointId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::extract::{JsonBody, Path, Query, parse_json_with_lists};
use crate::request_id;
use crate::routes::accounts::{PageQuery, bad_cursor};
use crate::state::AppState;
use crate::webhook::address;

/// `POST /v1/webhook-endpoints`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where events are POSTed: `https`, on a public address (checked again at every
    /// delivery); no user name or password in it.
    #[schema(
        example = "https://returns.example.com/webhooks/backhaul",
        max_length = 2048
    )]
    pub url: String,
    /// The event types to send (`return_label.first_scan`, …), or `["*"]` for all.
    #[schema(min_items = 1, max_items = 32, example = json!(["return_label.first_scan"]))]
    pub events: Vec<String>,
    /// Up to 500 characters.
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// `PATCH /v1/webhook-endpoints/{id}`: every field optional. `status: "enabled"` re-enables an
/// endpoint disabled after persistent failure.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 32)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub status: Option<StatusBody>,
}

/// Whether an endpoint is sent events.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusBody {
    Enabled,
    Disabled,
}

/// A webhook endpoint (its secret only in the answers that create or rotate it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointBody {
    #[schema(pattern = r"^we_[A-Za-z0-9]{20}$")]
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub status: StatusBody,
    /// Why it is disabled: by its owner, or after every attempt failed for the whole retry
    /// window.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the previous secret also signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// `whsec_` + base64 of the key: shown when the endpoint is created and when its secret
    /// is rotated, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^whsec_[A-Za-z0-9+/=]+$")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EndpointBody {
    fn new(endpoint: webhook::Endpoint, secret: Option<&WebhookSecret>) -> Self {
        Self {
            id: endpoint.id.to_string(),
            url: endpoint.url,
            events: endpoint.events,
            description: endpoint.description,
            status: match endpoint.status {
                EndpointStatus::Enabled => StatusBody::Enabled,
                EndpointStatus::Disabled => StatusBody::Disabled,
            },
            disabled_reason: endpoint.disabled_reason,
            disabled_at: endpoint.disabled_at,
            previous_secret_expires_at: endpoint.previous_secret_expires_at,
            last_success_at: endpoint.last_success_at,
            secret: secret.map(|secret| secret.encoded().expose_secret().to_owned()),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// A page of webhook endpoints, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointPage {
    pub data: Vec<EndpointBody>,
    pub has_more: bool,
    #[schema(pattern = r"^we_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptBody {
    pub at: DateTime<Utc>,
    /// The endpoint's answer; none when there was none (timeout, refused connection).
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// What went wrong (a short excerpt); none for a success.
    pub error: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStateBody {
    Pending,
    Succeeded,
    Failed,
}

/// One event's delivery to the endpoint: its state, its last attempt (at, status code,
/// duration, error) and its attempts, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryBody {
    #[schema(pattern = r"^whd_[A-Za-z0-9]{20}$")]
    pub id: String,
    #[schema(pattern = r"^we_[A-Za-z0-9]{20}$")]
    pub endpoint_id: String,
    /// The event, also the `webhook-id` of every attempt.
    #[schema(pattern = r"^evt_[A-Za-z0-9]{20}$")]
    pub event_id: String,
    pub event_type: String,
    pub state: DeliveryStateBody,
    /// Attempts since it was (re)scheduled.
    pub attempt_count: i32,
    pub at: Option<DateTime<Utc>>,
    pub status_code: Option<i32>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<AttemptBody>,
}

impl From<webhook::Delivery> for DeliveryBody {
    fn from(delivery: webhook::Delivery) -> Self {
        Self {
            id: delivery.id.to_string(),
            endpoint_id: delivery.endpoint_id,
            event_id: delivery.event_id,
            event_type: delivery.event_type,
            state: match delivery.state {
                webhook::DeliveryState::Pending => DeliveryStateBody::Pending,
                webhook::DeliveryState::Succeeded => DeliveryStateBody::Succeeded,
                webhook::DeliveryState::Failed => DeliveryStateBody::Failed,
            },
            attempt_count: delivery.attempt_count,
            at: delivery.at,
            status_code: delivery.status_code,
            duration_ms: delivery.duration_ms,
            error: delivery.error,
            next_attempt_at: delivery.next_attempt_at,
            delivered_at: delivery.delivered_at,
            created_at: delivery.created_at,
            attempts: delivery
                .attempts
                .into_iter()
                .map(|attempt| AttemptBody {
                    at: attempt.at,
                    status_code: attempt.status_code,
                    duration_ms: attempt.duration_ms,
                    error: attempt.error,
                })
                .collect(),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryBody>,
    pub has_more: bool,
    #[schema(pattern = r"^whd_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
}

/// The answer to `POST /v1/webhook-endpoints/{id}/test`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestSent {
    /// The `webhook.test` event, queued for this endpoint alone.
    #[schema(pattern = r"^evt_[A-Za-z0-9]{20}$")]
    pub event_id: String,
}

/// `{id}` of `/v1/webhook-endpoints/{id}`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EndpointIdParam {
    /// The endpoint's id (`we_` and 20 letters or digits).
    #[param(pattern = r"^we_[A-Za-z0-9]{20}$", example = "we_4x8Qw2LmZ0aB7cD9eF1g")]
    pub id: String,
}

/// `{id}` and `{delivery_id}` of a delivery's path.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryIdParams {
    /// The endpoint's id.
    #[param(pattern = r"^we_[A-Za-z0-9]{20}$", example = "we_4x8Qw2LmZ0aB7cD9eF1g")]
    pub id: String,
    /// The delivery's id (`whd_` and 20 letters or digits).
    #[param(
        pattern = r"^whd_[A-Za-z0-9]{20}$",
        example = "whd_9Zk3Vb7Nq1Wx5Ty2Ur8P"
    )]
    pub delivery_id: String,
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ApiError> {
    WebhookEndpointId::parse("id", raw).map_err(|_| ApiError::NotFound)
}

/// The event names, each a known type, or `["*"]`; the error names the entry (`events[1]`).
pub(crate) fn events(field: &str, names: Vec<String>) -> Result<Vec<String>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::invalid(
            field,
            "must name at least one event type, or \"*\"",
        ));
    }
    if names.len() > 32 {
        return Err(ApiError::invalid(field, "must name at most 32 event types"));
    }
    if names.len() == 1 && names[0] == "*" {
        return Ok(names);
    }
    let known: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
    for (index, name) in names.iter().enumerate() {
        if EventType::parse(name).is_none() {
            return Err(ApiError::invalid(
                format!("{field}[{index}]"),
                format!(
                    "must be one of {} (or the events list [\"*\"] alone)",
                    known.join(", ")
                ),
            ));
        }
    }
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    Ok(unique)
}

pub(crate) async fn url(state: &AppState, raw: String) -> Result<String, ApiError> {
    if raw.len() > 2048 {
        return Err(ApiError::invalid("url", "must be at most 2048 characters"));
    }
    let policy = state.webhook_policy();
    address::check_url(&raw, policy.reach(), policy.resolver.as_ref())
        .await
        .map(String::from)
        .map_err(|refusal| ApiError::invalid("url", refusal.to_string()))
}

pub(crate) fn description(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(text) if text.chars().count() > 500 => Err(ApiError::invalid(
            "description",
            "must be at most 500 characters",
        )),
        other => Ok(other),
    }
}

fn context<'a>(
    caller: &'a TenantKey,
    actor: &'a accounts::Actor,
    request_id: &'a str,
) -> Context<'a> {
    Context {
        tenant: &caller.tenant,
        actor,
        request_id: Some(request_id),
    }
}

/// Register a webhook endpoint.
///
/// The answer holds the signing secret (`whsec_…`), shown this once. Deliveries are signed the
/// Standard Webhooks way: `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "{webhook-id}.{webhook-timestamp}.{body}">`.
#[utoipa::path(post, path = "/v1/webhook-endpoints", operation_id = "create_webhook_endpoint", tag = "webhooks",
    request_body = CreateEndpoint,
    responses((status = 201, description = "The endpoint, with its secret (shown once)", body = EndpointBody)),
    security(("tenant_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: TenantKey,
    JsonBody(bytes): JsonBody,
) -> Result<(StatusCode, Json<EndpointBody>), ApiError> {
    let (input, _) = parse_json_with_lists::<CreateEndpoint>(&bytes, &["events"])?;
    let events = events("events", input.events)?;
    let description = description(input.description)?.unwrap_or_default();
    let url = url(&state, input.url).await?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let (endpoint, secret) = state
        .webhooks()
        .create(
            context(&caller, &actor, &request_id),
            NewEndpoint {
                url,
                events,
                description,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointBody::new(endpoint, Some(&secret))),
    ))
}

/// List the tenant's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", operation_id = "list_webhook_endpoints", tag = "webhooks",
    params(PageQuery),
    responses((status = 200, description = "A page of endpoints, oldest first", body = EndpointPage)),
    security(("tenant_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(page): Query<PageQuery>,
) -> Result<Json<EndpointPage>, ApiError> {
    let limit = page.limit()?;
    let after = page
        .starting_after
        .as_deref()
        .map(|cursor| WebhookEndpointId::parse("starting_after", cursor).map_err(|_| bad_cursor()))
        .transpose()?;
    let mut endpoints = match state
        .webhooks()
        .list(&caller.tenant, after.as_ref(), limit + 1)
        .await
    {
        Err(accounts::AccountError::NotFound) => return Err(bad_cursor()),
        other => other?,
    };
    let has_more = endpoints.len() as i64 > limit;
    endpoints.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| endpoints.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(EndpointPage {
        data: endpoints
            .into_iter()
            .map(|endpoint| EndpointBody::new(endpoint, None))
            .collect(),
        has_more,
        next_cursor,
    }))
}

/// Read a webhook endpoint (never its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", operation_id = "get_webhook_endpoint", tag = "webhooks",
    params(EndpointIdParam),
    responses((status = 200, description = "The endpoint", body = EndpointBody)),
    security(("tenant_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    let id = endpoint_id(&id)?;
    let endpoint = state.webhooks().get(&caller.tenant, &id).await?;
    Ok(Json(EndpointBody::new(endpoint, None)))
}

/// Update a webhook endpoint: every field optional; `{"status": "enabled"}` re-enables one
/// disabled after persistent failure (its undelivered events are sent then).
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", operation_id = "update_webhook_endpoint", tag = "webhooks",
    params(EndpointIdParam),
    request_body = UpdateEndpoint,
    responses((status = 200, description = "The endpoint, updated", body = EndpointBody)),
    security(("tenant_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<EndpointBody>, ApiError> {
    let id = endpoint_id(&id)?;
    let (input, _) = parse_json_with_lists::<UpdateEndpoint>(&bytes, &["events"])?;
    let events = input
        .events
        .map(|names| events("events", names))
        .transpose()?;
    let description = description(input.description)?;
    let url = match input.url {
        Some(raw) => Some(url(&state, raw).await?),
        None => None,
    };
    let actor = caller.actor();
    let request_id = request_id::current();
    let endpoint = state
        .webhooks()
        .update(
            context(&caller, &actor, &request_id),
            &id,
            EndpointChanges {
                url,
                events,
                description,
                status: input.status.map(|status| match status {
                    StatusBody::Enabled => EndpointStatus::Enabled,
                    StatusBody::Disabled => EndpointStatus::Disabled,
                }),
            },
        )
        .await?;
    Ok(Json(EndpointBody::new(endpoint, None)))
}

/// Delete a webhook endpoint and its delivery log (the event log and the audit trail stay).
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", operation_id = "delete_webhook_endpoint", tag = "webhooks",
    params(EndpointIdParam),
    responses((status = 200, description = "The endpoint as it was before it was deleted", body = EndpointBody)),
    security(("tenant_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    let id = endpoint_id(&id)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let endpoint = state
        .webhooks()
        .delete(context(&caller, &actor, &request_id), &id)
        .await?;
    Ok(Json(EndpointBody::new(endpoint, None)))
}

/// Rotate the endpoint's signing secret.
///
/// The answer holds the new secret, shown this once. For the grace period (24 hours,
/// `previous_secret_expires_at`) deliveries carry a signature by each secret, space-separated,
/// so the receiver can switch without losing an event.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", operation_id = "rotate_webhook_secret", tag = "webhooks",
    params(EndpointIdParam),
    responses((status = 200, description = "The endpoint, with its new secret (shown once)", body = EndpointBody)),
    security(("tenant_key" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointBody>, ApiError> {
    let id = endpoint_id(&id)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let grace = state.webhook_policy().rotation_grace;
    let (endpoint, secret) = state
        .webhooks()
        .rotate(context(&caller, &actor, &request_id), &id, grace)
        .await?;
    Ok(Json(EndpointBody::new(endpoint, Some(&secret))))
}

/// Send a `webhook.test` event to this endpoint (to it alone, whatever its `events`).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/test", operation_id = "test_webhook_endpoint", tag = "webhooks",
    params(EndpointIdParam),
    responses((status = 202, description = "The test event, queued for delivery", body = TestSent)),
    security(("tenant_key" = [])))]
pub async fn test(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<TestSent>), ApiError> {
    let id = endpoint_id(&id)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let event = state
        .webhooks()
        .send_test(context(&caller, &actor, &request_id), &id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestSent {
            event_id: event.to_string(),
        }),
    ))
}

/// List the endpoint's deliveries, newest first, each with its attempts (at, status code,
/// duration, error).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(EndpointIdParam, PageQuery),
    responses((status = 200, description = "A page of deliveries, newest first", body = DeliveryPage)),
    security(("tenant_key" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let id = endpoint_id(&id)?;
    let limit = page.limit()?;
    let after = page
        .starting_after
        .as_deref()
        .map(|cursor| DeliveryId::parse("starting_after", cursor).map_err(|_| bad_cursor()))
        .transpose()?;
    let found = state
        .webhooks()
        .deliveries(&caller.tenant, &id, after.as_ref(), limit + 1)
        .await;
    let mut deliveries = match (found, &after) {
        (Err(accounts::AccountError::NotFound), Some(_)) => {
            // The endpoint's own 404 first; then the cursor's 422.
            state.webhooks().get(&caller.tenant, &id).await?;
            return Err(bad_cursor());
        }
        (other, _) => other?,
    };
    let has_more = deliveries.len() as i64 > limit;
    deliveries.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| deliveries.last().map(|d| d.id.to_string()))
        .flatten();
    Ok(Json(DeliveryPage {
        data: deliveries.into_iter().map(DeliveryBody::from).collect(),
        has_more,
        next_cursor,
    }))
}

/// Send a delivery again, now, with its retries started afresh (whether it failed or was
/// delivered). The receiver sees the same `webhook-id`.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", operation_id = "redeliver_webhook", tag = "webhooks",
    params(DeliveryIdParams),
    responses((status = 202, description = "The delivery, queued again", body = DeliveryBody)),
    security(("tenant_key" = [])))]
pub async fn redeliver(
    State(state): State<AppState>,
    caller: TenantKey,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryBody>), ApiError> {
    let id = endpoint_id(&id)?;
    let delivery_id =
        DeliveryId::parse("delivery_id", &delivery_id).map_err(|_| ApiError::NotFound)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let delivery = state
        .webhooks()
        .redeliver(context(&caller, &actor, &request_id), &id, &delivery_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryBody::from(delivery))))
}
