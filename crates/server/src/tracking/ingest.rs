//! Storing a label's tracking events, pushed or polled, exactly once, and deriving the label's
//! state from them — in one transaction with the events the returns SaaS hears about.
//!
//! The label's row is locked (`FOR UPDATE`) first, so concurrent ingests of one label (a push
//! racing a poll, two instances, a carrier repeating a notification) take turns: the second sees
//! the first's events, inserts nothing new (`ON CONFLICT (label_id, fingerprint) DO NOTHING`) and
//! records no event. `first_scan_at` and `delivered_at` are written only while still NULL, so
//! `return_label.first_scan` and `return_label.delivered` happen once per label.

use accounts::event::{self, EventType, NewEvent};
use accounts::{LabelId, TenantId, TrackingEventId};
use carrier::{TrackingEvent, TrackingStatus};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, Row};

use crate::label_row;
use crate::state::AppState;

/// Where events came from (stored with each event, counted in the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Poll,
    Push,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Poll => "poll",
            Source::Push => "push",
        }
    }
}

/// A label as tracking finds it.
#[derive(Debug, Clone)]
pub struct TrackedRow {
    pub id: LabelId,
    pub tenant: TenantId,
}

/// What one ingest changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Events not seen before.
    pub new_events: usize,
    pub first_scan: bool,
    pub delivered: bool,
    /// The label reached a state after which nothing more is tracked.
    pub finished: bool,
}

/// Stores `events` for `label` and updates its state, in one transaction (admin scope: pushes
/// and polls act for whichever tenant the label belongs to).
pub async fn ingest(
    state: &AppState,
    label: &TrackedRow,
    events: &[TrackingEvent],
    source: Source,
) -> Result<Ingested, sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let ingested = ingest_in(&mut tx, label, events, source).await?;
    tx.commit().await?;
    Ok(ingested)
}

async fn ingest_in(
    tx: &mut PgConnection,
    label: &TrackedRow,
    events: &[TrackingEvent],
    source: Source,
) -> Result<Ingested, sqlx::Error> {
    let locked = sqlx::query(
        "SELECT status, first_scan_at, delivered_at FROM return_labels
         WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(label.tenant.as_str())
    .bind(label.id.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(locked) = locked else {
        return Ok(Ingested::default());
    };
    let status: String = locked.try_get("status")?;
    let had_first_scan = locked
        .try_get::<Option<DateTime<Utc>>, _>("first_scan_at")?
        .is_some();
    let had_delivery = locked
        .try_get::<Option<DateTime<Utc>>, _>("delivered_at")?
        .is_some();

    let mut new_events = 0;
    for tracking_event in events {
        let inserted = sqlx::query(
            "INSERT INTO tracking_events (id, tenant_id, label_id, fingerprint, at, status,
                 carrier_code, description, location, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (label_id, fingerprint) DO NOTHING",
        )
        .bind(TrackingEventId::generate().as_str())
        .bind(label.tenant.as_str())
        .bind(label.id.as_str())
        .bind(tracking_event.fingerprint())
        .bind(tracking_event.at)
        .bind(tracking_event.status.as_str())
        .bind(&tracking_event.carrier_code)
        .bind(&tracking_event.description)
        .bind(json!(tracking_event.location))
        .bind(source.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        new_events += usize::try_from(inserted).unwrap_or(0);
    }
    if new_events == 0 {
        return Ok(Ingested::default());
    }

    // The state follows every stored event, not just this batch: events arrive out of order
    // (a late push of an older scan), and the newest by the carrier's time wins. A voided label
    // stays voided (a carrier's late events of it are kept, not acted on).
    let derived = sqlx::query(
        "SELECT
             (SELECT status FROM tracking_events WHERE label_id = $1
                  ORDER BY at DESC, received_at DESC LIMIT 1) AS latest,
             (SELECT min(at) FROM tracking_events WHERE label_id = $1
                  AND status NOT IN ('created', 'voided')) AS first_scan,
             (SELECT min(at) FROM tracking_events WHERE label_id = $1
                  AND status = 'delivered') AS delivered",
    )
    .bind(label.id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let latest: Option<String> = derived.try_get("latest")?;
    let first_scan: Option<DateTime<Utc>> = derived.try_get("first_scan")?;
    let delivered: Option<DateTime<Utc>> = derived.try_get("delivered")?;
    let new_status = if status == TrackingStatus::Voided.as_str() {
        status.clone()
    } else {
        latest.unwrap_or(status.clone())
    };
    sqlx::query(
        "UPDATE return_labels SET status = $3,
             first_scan_at = coalesce(first_scan_at, $4),
             delivered_at = coalesce(delivered_at, $5),
             tracking_updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(label.tenant.as_str())
    .bind(label.id.as_str())
    .bind(&new_status)
    .bind(first_scan)
    .bind(delivered)
    .execute(&mut *tx)
    .await?;

    let ingested = Ingested {
        new_events,
        first_scan: !had_first_scan && first_scan.is_some(),
        delivered: !had_delivery && delivered.is_some(),
        finished: TrackingStatus::parse(&new_status).is_some_and(TrackingStatus::is_final),
    };
    let body = label_row::load(&mut *tx, &label.tenant, &label.id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let data = json!(body);
    let mut kinds = Vec::with_capacity(3);
    if ingested.first_scan {
        kinds.push(EventType::LabelFirstScan);
    }
    kinds.push(EventType::LabelTrackingUpdated);
    if ingested.delivered {
        kinds.push(EventType::LabelDelivered);
    }
    for kind in kinds {
        event::record(
            &mut *tx,
            &NewEvent {
                tenant_id: &label.tenant,
                event_type: kind,
                subject_id: label.id.as_str(),
                data: data.clone(),
            },
        )
        .await?;
    }
    if ingested.finished {
        sqlx::query("DELETE FROM tracking_jobs WHERE label_id = $1")
            .bind(label.id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(ingested)
}

/// The labels of `carrier` with `tracking_number` (one, but a carrier could reuse numbers
/// over years), restricted to one account when the notification's subscription names it.
pub async fn labels_with_number(
    state: &AppState,
    carrier: &str,
    tracking_number: &str,
    account: Option<&str>,
) -> Result<Vec<TrackedRow>, sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let rows = sqlx::query(
        "SELECT id, tenant_id FROM return_labels
         WHERE carrier = $1 AND tracking_number = $2
           AND ($3::text IS NULL OR shipper_account_id = $3)",
    )
    .bind(carrier)
    .bind(tracking_number)
    .bind(account)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let tenant: String = row.try_get("tenant_id")?;
            Ok(TrackedRow {
                id: LabelId::parse("id", &id)
                    .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
                tenant: TenantId::parse("tenant_id", &tenant)
                    .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
            })
        })
        .collect()
}
