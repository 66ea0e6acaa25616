//! The tenant's event log, which is also the webhook outbox: [`record`] writes an event in the
//! caller's transaction, so the event exists exactly when the change that caused it committed.
//! Delivery to the tenant's webhook endpoints happens later, from these rows.

use serde::Serialize;
use sqlx::PgConnection;

use crate::id::{EventId, TenantId};

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
/// admin) and returns its id.
pub async fn record(
    connection: &mut PgConnection,
    event: &NewEvent<'_>,
) -> Result<EventId, sqlx::Error> {
    let id = EventId::generate();
    sqlx::query(
        "INSERT INTO events (id, tenant_id, type, subject_id, data) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(event.tenant_id.as_str())
    .bind(event.event_type.as_str())
    .bind(event.subject_id)
    .bind(&event.data)
    .execute(&mut *connection)
    .await?;
    Ok(id)
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
