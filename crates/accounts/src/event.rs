//! The tenant's event log, which is also the webhook outbox: [`record`] writes an event in the
//! caller's transaction, so the event exists exactly when the change that caused it committed.
//! Delivery to the tenant's webhook endpoints happens later, from these rows.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::db::Database;
use crate::id::{EventId, TenantId};
use crate::statement::Query;

/// The event types (API.md, webhooks to the returns SaaS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum EventType {
    #[serde(rename = "return_label.created")]
    LabelCreated,
    /// Exactly one per label: the carrier's first scan; the returns SaaS refunds on it.
    #[serde(rename = "return_label.first_scan")]
    LabelFirstScan,
    #[serde(rename = "return_label.tracking_updated")]
    LabelTrackingUpdated,
    #[serde(rename = "return_label.delivered")]
    LabelDelivered,
    #[serde(rename = "return_label.voided")]
    LabelVoided,
    #[serde(rename = "shipper_account.reauthorization_required")]
    AccountReauthorizationRequired,
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::LabelCreated,
        EventType::LabelFirstScan,
        EventType::LabelTrackingUpdated,
        EventType::LabelDelivered,
        EventType::LabelVoided,
        EventType::AccountReauthorizationRequired,
        EventType::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LabelCreated => "return_label.created",
            EventType::LabelFirstScan => "return_label.first_scan",
            EventType::LabelTrackingUpdated => "return_label.tracking_updated",
            EventType::LabelDelivered => "return_label.delivered",
            EventType::LabelVoided => "return_label.voided",
            EventType::AccountReauthorizationRequired => "shipper_account.reauthorization_required",
            EventType::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub tenant_id: &'a TenantId,
    pub event_type: EventType,
    /// The label or account the event is about; its events are delivered in order.
    pub subject_id: &'a str,
    /// The label or account as the API shows it.
    pub data: serde_json::Value,
}

/// Records `event` in the caller's transaction (which must act for the event's tenant or as
/// admin) and returns its id. The same statement queues one delivery of it to each of the
/// tenant's enabled webhook endpoints subscribed to its type (or to `*`), so an event and its
/// deliveries commit together. `webhook.test` events are delivered only to the endpoint tested
/// ([`crate::webhook`] records them).
pub async fn record(
    connection: &mut PgConnection,
    event: &NewEvent<'_>,
) -> Result<EventId, sqlx::Error> {
    insert(connection, event, None).await
}

/// [`record`]; with `only_endpoint` the event is delivered to that endpoint alone (whatever
/// its subscription), which is how a `webhook.test` event is sent.
pub(crate) async fn insert(
    connection: &mut PgConnection,
    event: &NewEvent<'_>,
    only_endpoint: Option<&str>,
) -> Result<EventId, sqlx::Error> {
    static INSERT: LazyLock<String> =
        LazyLock::new(|| format!("WITH {} SELECT 1", insert_items(1)));
    let id = EventId::generate();
    bind(sqlx::query(INSERT.as_str()), &id, event, only_endpoint)
        .execute(&mut *connection)
        .await?;
    Ok(id)
}

/// How many parameters [`insert_items`] takes.
pub const INSERT_PARAMS: usize = 7;

/// [`record`]'s statement as two `WITH` items, `event` (the event) and `event_deliveries` (one
/// delivery per matching endpoint), for a caller that writes its change and the event in one
/// statement ([`crate::statement`]); [`INSERT_PARAMS`] parameters numbered from `$first`, bound
/// by [`bind`]. A data-modifying WITH runs whether or not any endpoint matches.
pub fn insert_items(first: usize) -> String {
    let [id, tenant, kind, subject, data, only_endpoint, test_type] =
        std::array::from_fn(|index| format!("${}", first + index));
    format!(
        "event AS (
             INSERT INTO events (id, tenant_id, type, subject_id, data)
             VALUES ({id}, {tenant}, {kind}, {subject}, {data})
             RETURNING id, tenant_id, type, subject_id, seq),
         event_deliveries AS (
             INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, subject_id, seq)
             SELECT 'whd_' || substr(md5(random()::text || clock_timestamp()::text || endpoint.id), 1, 20),
                    event.tenant_id, endpoint.id, event.id, event.subject_id, event.seq
             FROM event JOIN webhook_endpoints endpoint ON endpoint.tenant_id = event.tenant_id
             WHERE CASE WHEN {only_endpoint}::text IS NULL
                        THEN endpoint.status = 'enabled' AND event.type <> {test_type}
                             AND (event.type = ANY (endpoint.events) OR '*' = ANY (endpoint.events))
                        ELSE endpoint.id = {only_endpoint} END)"
    )
}

/// Binds event `id` to [`insert_items`]' parameters; with `only_endpoint`, it is delivered to
/// that endpoint alone ([`insert`]).
pub fn bind<'q>(
    query: Query<'q>,
    id: &'q EventId,
    event: &'q NewEvent<'q>,
    only_endpoint: Option<&'q str>,
) -> Query<'q> {
    // A test event is its own subject: tests keep no order among themselves, so none waits
    // for another.
    let subject = match only_endpoint {
        Some(_) => id.as_str(),
        None => event.subject_id,
    };
    query
        .bind(id.as_str())
        .bind(event.tenant_id.as_str())
        .bind(event.event_type.as_str())
        .bind(subject)
        .bind(&event.data)
        .bind(only_endpoint)
        .bind(EventType::WebhookTest.as_str())
}

/// An event of the log, as `GET /v1/events` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The label or account it is about (a `webhook.test` event is its own subject).
    pub subject_id: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl StoredEvent {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            event_type: row.try_get("type")?,
            subject_id: row.try_get("subject_id")?,
            data: row.try_get("data")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// Which events a page of the log holds.
#[derive(Debug, Clone, Default)]
pub struct EventFilter<'a> {
    pub event_type: Option<EventType>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// The id of the previous page's last event: the page continues after it.
    pub after: Option<&'a EventId>,
}

/// A page of `tenant`'s events, newest first; `None` when `filter.after` names no event of
/// the tenant.
pub async fn list(
    db: &Database,
    tenant: &TenantId,
    filter: &EventFilter<'_>,
    limit: i64,
) -> Result<Option<Vec<StoredEvent>>, sqlx::Error> {
    let mut tx = db.tenant(tenant).await?;
    if let Some(after) = filter.after {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2)",
        )
        .bind(tenant.as_str())
        .bind(after.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Ok(None);
        }
    }
    let rows = sqlx::query(
        "SELECT id, type, subject_id, data, created_at FROM events
         WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2)
           AND ($3::timestamptz IS NULL OR created_at >= $3)
           AND ($4::text IS NULL OR (created_at, id) <
               (SELECT created_at, id FROM events WHERE tenant_id = $1 AND id = $4))
         ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(tenant.as_str())
    .bind(filter.event_type.map(EventType::as_str))
    .bind(filter.since)
    .bind(filter.after.map(EventId::as_str))
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(StoredEvent::from_row)
        .collect::<Result<_, _>>()
        .map(Some)
}

/// One of `tenant`'s events.
pub async fn get(
    db: &Database,
    tenant: &TenantId,
    id: &EventId,
) -> Result<Option<StoredEvent>, sqlx::Error> {
    let mut tx = db.tenant(tenant).await?;
    let row = sqlx::query(
        "SELECT id, type, subject_id, data, created_at FROM events WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.as_ref().map(StoredEvent::from_row).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_serialize_as_their_names() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
    }
}
