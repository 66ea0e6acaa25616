//! `/v1/events`: the tenant's event log (what its webhook endpoints are sent), newest first.

use accounts::event::{self, EventFilter, StoredEvent};
use accounts::{EventId, EventType};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::state::AppState;

/// `?type=&since=&cursor=&limit=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events of this type (`return_label.first_scan`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Only events at or after this time (RFC 3339 in UTC, e.g. `2026-12-01T00:00:00Z`; a `+`
    /// offset must be percent-encoded as `%2B`).
    pub since: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// How many events a page holds: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// An event of the log: what a webhook delivery carries as its body's `data`, with its id
/// (the deliveries' `webhook-id`) and type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub struct EventBody {
    #[schema(pattern = r"^evt_[A-Za-z0-9]{20}$")]
    pub id: String,
    /// `return_label.created`, `return_label.first_scan`, …
    #[serde(rename = "type")]
    pub event_type: String,
    /// The label or account it is about (a `webhook.test` event's own id).
    pub subject_id: String,
    /// The label or account as the API shows it.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<StoredEvent> for EventBody {
    fn from(event: StoredEvent) -> Self {
        Self {
            id: event.id,
            event_type: event.event_type,
            subject_id: event.subject_id,
            data: event.data,
            created_at: event.created_at,
        }
    }
}

/// A page of events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventLogPage {
    pub data: Vec<EventBody>,
    pub has_more: bool,
    /// Pass as `cursor` for the next page (when `has_more`).
    #[schema(pattern = r"^evt_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
}

/// `{id}` of `/v1/events/{id}`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventIdParam {
    /// The event's id (`evt_` and 20 letters or digits).
    #[param(
        pattern = r"^evt_[A-Za-z0-9]{20}$",
        example = "evt_4x8Qw2LmZ0aB7cD9eF1g"
    )]
    pub id: String,
}

fn bad_cursor() -> ApiError {
    ApiError::invalid("cursor", "must be the next_cursor of a previous page")
}

/// The tenant's event log, newest first.
#[utoipa::path(get, path = "/v1/events", operation_id = "list_events", tag = "webhooks",
    params(EventQuery),
    responses((status = 200, description = "A page of events, newest first", body = EventLogPage)),
    security(("tenant_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventLogPage>, ApiError> {
    let limit = match query.limit {
        None => 20,
        Some(limit @ 1..=100) => limit,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
    };
    let event_type = query
        .event_type
        .as_deref()
        .map(|name| {
            EventType::parse(name).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
                ApiError::invalid("type", format!("must be one of {}", known.join(", ")))
            })
        })
        .transpose()?;
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| EventId::parse("cursor", cursor).map_err(|_| bad_cursor()))
        .transpose()?;
    let filter = EventFilter {
        event_type,
        since: query.since,
        after: after.as_ref(),
    };
    let mut events = event::list(state.db(), &caller.tenant, &filter, limit + 1)
        .await?
        .ok_or_else(bad_cursor)?;
    let has_more = events.len() as i64 > limit;
    events.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| events.last().map(|e| e.id.clone()))
        .flatten();
    Ok(Json(EventLogPage {
        data: events.into_iter().map(EventBody::from).collect(),
        has_more,
        next_cursor,
    }))
}

/// Read one event of the log.
#[utoipa::path(get, path = "/v1/events/{id}", operation_id = "get_event", tag = "webhooks",
    params(EventIdParam),
    responses((status = 200, description = "The event", body = EventBody)),
    security(("tenant_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<EventBody>, ApiError> {
    let id = EventId::parse("id", &id).map_err(|_| ApiError::NotFound)?;
    let event = event::get(state.db(), &caller.tenant, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(EventBody::from(event)))
}
