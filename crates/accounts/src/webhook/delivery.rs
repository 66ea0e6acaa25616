//! Deliveries of events to webhook endpoints: the delivery log a tenant reads, redelivery, and
//! the work queue of the delivery workers.
//!
//! A worker [`claim`](WebhookService::claim)s due deliveries in one small transaction (`FOR
//! UPDATE SKIP LOCKED`, so any number of workers on any number of instances share the queue)
//! by moving their `next_attempt_at` past a lease, and commits before any HTTP call; it then
//! [`record`](WebhookService::record)s the attempt's outcome. A worker that dies in between
//! leaves the delivery to come due again when the lease ends: at least once, with the same
//! event id. A delivery is not claimed while an earlier (`seq`) delivery of the same endpoint
//! and subject is pending, so each label's events arrive in order.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::account::{AccountError, Context};
use crate::audit::{self, Action};
use crate::id::{DeliveryId, TenantId, WebhookEndpointId};
use crate::vault::{KeyContext, Purpose, WrappedKey};
use crate::webhook::endpoint::{WebhookSecret, WebhookService};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: due, being attempted, or waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every retry failed; only a redelivery sends it again.
    Failed,
}

impl DeliveryState {
    fn parse(raw: &str) -> Result<Self, sqlx::Error> {
        match raw {
            "pending" => Ok(DeliveryState::Pending),
            "succeeded" => Ok(DeliveryState::Succeeded),
            "failed" => Ok(DeliveryState::Failed),
            other => Err(sqlx::Error::Decode(
                format!("delivery state {other}").into(),
            )),
        }
    }
}

/// One attempt of a delivery, as logged.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The endpoint's answer; none when there was no answer (refused, timed out).
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// What went wrong (a short excerpt, never a secret); none for a success.
    pub error: Option<String>,
}

/// A delivery as the API shows it: its state, its last attempt, and its attempts (newest
/// first, at most [`ATTEMPTS_SHOWN`]).
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub state: DeliveryState,
    /// Attempts since it was (re)scheduled.
    pub attempt_count: i32,
    /// The last attempt's time, status code, duration and error.
    pub at: Option<DateTime<Utc>>,
    pub status_code: Option<i32>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<Attempt>,
}

/// How many attempts a listed delivery shows.
pub const ATTEMPTS_SHOWN: i64 = 20;

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.state, \
     d.attempts, d.next_attempt_at, d.delivered_at, d.created_at, \
     (SELECT coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'status_code', a.status_code, \
          'duration_ms', a.duration_ms, 'error', a.error) ORDER BY a.id DESC), '[]') \
      FROM (SELECT * FROM webhook_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 20) a) \
      AS attempt_log";

impl Delivery {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let state = DeliveryState::parse(row.try_get("state")?)?;
        let log: Value = row.try_get("attempt_log")?;
        let attempts: Vec<Attempt> = match log {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|item| {
                    Some(Attempt {
                        at: serde_json::from_value(item.get("at")?.clone()).ok()?,
                        status_code: item
                            .get("status_code")
                            .and_then(Value::as_i64)
                            .and_then(|code| i32::try_from(code).ok()),
                        duration_ms: item
                            .get("duration_ms")
                            .and_then(Value::as_i64)
                            .and_then(|ms| i32::try_from(ms).ok())
                            .unwrap_or_default(),
                        error: item.get("error").and_then(Value::as_str).map(str::to_owned),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        let last = attempts.first();
        Ok(Self {
            id: DeliveryId::parse("id", &id)
                .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
            endpoint_id: row.try_get("endpoint_id")?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            state,
            attempt_count: row.try_get("attempts")?,
            at: last.map(|attempt| attempt.at),
            status_code: last.and_then(|attempt| attempt.status_code),
            duration_ms: last.map(|attempt| attempt.duration_ms),
            error: last.and_then(|attempt| attempt.error.clone()),
            next_attempt_at: (state == DeliveryState::Pending)
                .then(|| row.try_get("next_attempt_at"))
                .transpose()?,
            delivered_at: row.try_get("delivered_at")?,
            created_at: row.try_get("created_at")?,
            attempts,
        })
    }
}

/// A delivery a worker holds until its lease ends: where to send what, signed with which
/// secrets. `Debug` never shows the secrets (they redact themselves).
#[derive(Debug)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub tenant_id: TenantId,
    pub endpoint_id: String,
    pub url: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at: DateTime<Utc>,
    pub data: Value,
    /// The current secret first, then the previous one while its grace period lasts.
    pub secrets: Vec<WebhookSecret>,
    /// Attempts before this one since the delivery was (re)scheduled.
    pub attempts: i32,
    pub retrying_since: DateTime<Utc>,
}

/// What follows an attempt.
#[derive(Debug, Clone)]
pub enum Next {
    /// The endpoint answered 2xx.
    Delivered,
    /// Try again after this long.
    RetryIn(Duration),
    /// The retry window is over: the delivery fails, and the endpoint is disabled (with
    /// `reason`) when nothing was delivered to it since this delivery's retries began.
    Exhausted { disable_reason: String },
}

/// The queue's backlog: undelivered deliveries of enabled endpoints, and the age of the
/// oldest one's event.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxDepth {
    pub pending: i64,
    pub oldest_age: Duration,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl WebhookService {
    /// A page of an endpoint's deliveries, newest first, after the delivery `after`. `None`
    /// when the endpoint (or `after`) is not the tenant's.
    pub async fn deliveries(
        &self,
        tenant: &TenantId,
        endpoint: &WebhookEndpointId,
        after: Option<&DeliveryId>,
        limit: i64,
    ) -> Result<Vec<Delivery>, AccountError> {
        let mut tx = self.db().tenant(tenant).await?;
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2)
                AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM webhook_deliveries
                     WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3))",
        )
        .bind(tenant.as_str())
        .bind(endpoint.as_str())
        .bind(after.map(DeliveryId::as_str))
        .fetch_one(&mut *tx)
        .await?;
        if !known {
            return Err(AccountError::NotFound);
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.tenant_id = $1 AND d.endpoint_id = $2
               AND ($3::text IS NULL OR (d.created_at, d.id) <
                   (SELECT created_at, id FROM webhook_deliveries WHERE tenant_id = $1 AND id = $3))
             ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
        )))
        .bind(tenant.as_str())
        .bind(endpoint.as_str())
        .bind(after.map(DeliveryId::as_str))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(Delivery::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Sends a delivery again, now, with its retries started afresh (whatever its state: a
    /// delivered event may be asked for again). Audited.
    pub async fn redeliver(
        &self,
        context: Context<'_>,
        endpoint: &WebhookEndpointId,
        delivery: &DeliveryId,
    ) -> Result<Delivery, AccountError> {
        let mut tx = self.db().tenant(context.tenant).await?;
        let updated = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0,
                 retrying_since = clock_timestamp(), next_attempt_at = clock_timestamp()
             WHERE tenant_id = $1 AND endpoint_id = $2 AND id = $3",
        )
        .bind(context.tenant.as_str())
        .bind(endpoint.as_str())
        .bind(delivery.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(AccountError::NotFound);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.tenant_id = $1 AND d.id = $2"
        )))
        .bind(context.tenant.as_str())
        .bind(delivery.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let shown = Delivery::from_row(&row)?;
        let summary = json!({"delivery_id": delivery, "event_id": shown.event_id});
        audit::record(
            &mut tx,
            audit::NewEvent {
                tenant: Some(context.tenant),
                actor: context.actor,
                action: Action::WebhookRedelivered,
                target: Some(endpoint.as_str()),
                request_id: context.request_id,
                summary: summary.as_object().cloned().unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(shown)
    }

    /// Claims up to `limit` due deliveries of enabled endpoints (any tenant) for `lease`, in
    /// one short transaction, oldest due first, each subject's in order.
    pub async fn claim(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>, AccountError> {
        let mut tx = self.db().admin().await?;
        let rows = sqlx::query(
            "WITH due AS (
                 SELECT d.id FROM webhook_deliveries d
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.status = 'enabled'
                 WHERE d.state = 'pending' AND d.next_attempt_at <= clock_timestamp()
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier
                       WHERE earlier.endpoint_id = d.endpoint_id AND earlier.subject_id = d.subject_id
                         AND earlier.state = 'pending' AND earlier.seq < d.seq)
                 ORDER BY d.next_attempt_at
                 LIMIT $1
                 FOR UPDATE OF d SKIP LOCKED
             ), claimed AS (
                 UPDATE webhook_deliveries d
                 SET next_attempt_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
                 FROM due WHERE d.id = due.id
                 RETURNING d.id, d.tenant_id, d.endpoint_id, d.event_id, d.attempts, d.retrying_since
             )
             SELECT c.id, c.tenant_id, c.endpoint_id, c.event_id, c.attempts, c.retrying_since,
                    e.type, e.created_at AS event_created_at, e.data, w.url, w.secret_sealed,
                    CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_sealed END
                        AS previous_secret_sealed,
                    w.data_key_wrapped, w.master_key_id
             FROM claimed c JOIN events e ON e.id = c.event_id
             JOIN webhook_endpoints w ON w.id = c.endpoint_id",
        )
        .bind(limit)
        .bind(millis(lease))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        // A delivery whose secrets cannot be opened (its endpoint's data key is wrapped under a
        // master key this instance is not configured with) is left to its lease, for an
        // instance that can; it does not hold up the others.
        Ok(rows
            .iter()
            .filter_map(|row| match self.claimed(row) {
                Ok(claimed) => Some(claimed),
                Err(error) => {
                    let id: Option<String> = row.try_get("id").ok();
                    tracing::error!(delivery = ?id, %error, "a claimed webhook delivery could not be opened");
                    None
                }
            })
            .collect())
    }

    fn claimed(&self, row: &PgRow) -> Result<ClaimedDelivery, AccountError> {
        let id: String = row.try_get("id")?;
        let tenant: String = row.try_get("tenant_id")?;
        let endpoint_id: String = row.try_get("endpoint_id")?;
        let key_context = KeyContext {
            tenant_id: &tenant,
            account_id: &endpoint_id,
        };
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let data_key = self.keyring().unwrap_data_key(&wrapped, &key_context)?;
        let mut secrets = Vec::with_capacity(2);
        let current: Vec<u8> = row.try_get("secret_sealed")?;
        let previous: Option<Vec<u8>> = row.try_get("previous_secret_sealed")?;
        for sealed in std::iter::once(current).chain(previous) {
            let bytes = data_key.open(&key_context, Purpose::WebhookSecret, &sealed)?;
            secrets.push(WebhookSecret::from_bytes(bytes));
        }
        Ok(ClaimedDelivery {
            id: DeliveryId::parse("id", &id)?,
            tenant_id: TenantId::parse("tenant_id", &tenant)?,
            endpoint_id,
            url: row.try_get("url")?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("type")?,
            event_created_at: row.try_get("event_created_at")?,
            data: row.try_get("data")?,
            secrets,
            attempts: row.try_get("attempts")?,
            retrying_since: row.try_get("retrying_since")?,
        })
    }

    /// Logs an attempt of a claimed delivery and moves it on as `next` says. A delivery that
    /// another worker already delivered stays delivered (the attempt is logged all the same).
    pub async fn record(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &Attempt,
        next: &Next,
    ) -> Result<(), AccountError> {
        // Unflushed: a record lost to a crash only means the delivery is sent again when its
        // lease ends, which at-least-once allows; no caller is answered on the strength of it.
        let mut tx = self.db().tenant_unflushed(&delivery.tenant_id).await?;
        let (state, retry_ms) = match next {
            Next::Delivered => ("succeeded", 0),
            Next::RetryIn(delay) => ("pending", millis(*delay)),
            Next::Exhausted { .. } => ("failed", 0),
        };
        let moved: bool = sqlx::query_scalar(
            "WITH attempt AS (
                 INSERT INTO webhook_attempts (tenant_id, delivery_id, at, status_code, duration_ms, error)
                 VALUES ($1, $2, $7, $5, $8, $6)
             ), moved AS (
                 UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1,
                     next_attempt_at = clock_timestamp() + make_interval(secs => $4::double precision / 1000),
                     last_status = $5, last_error = $6, last_attempt_at = $7,
                     delivered_at = CASE WHEN $3 = 'succeeded' THEN clock_timestamp() END
                 WHERE tenant_id = $1 AND id = $2 AND state = 'pending'
                 RETURNING 1
             )
             SELECT EXISTS (SELECT 1 FROM moved)",
        )
        .bind(delivery.tenant_id.as_str())
        .bind(delivery.id.as_str())
        .bind(state)
        .bind(retry_ms)
        .bind(attempt.status_code)
        .bind(attempt.error.as_deref())
        .bind(attempt.at)
        .bind(attempt.duration_ms)
        .fetch_one(&mut *tx)
        .await?;
        match next {
            Next::Delivered => {
                // To the second is all the disabling rule needs, and it keeps concurrent
                // deliveries to one endpoint from queueing on its row.
                sqlx::query(
                    "UPDATE webhook_endpoints SET last_success_at = now()
                     WHERE tenant_id = $1 AND id = $2
                       AND (last_success_at IS NULL OR last_success_at < now() - interval '1 second')",
                )
                .bind(delivery.tenant_id.as_str())
                .bind(&delivery.endpoint_id)
                .execute(&mut *tx)
                .await?;
            }
            Next::Exhausted { disable_reason } if moved => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3,
                         disabled_at = now(), updated_at = now()
                     WHERE tenant_id = $1 AND id = $2 AND status = 'enabled'
                       AND (last_success_at IS NULL OR last_success_at < $4)",
                )
                .bind(delivery.tenant_id.as_str())
                .bind(&delivery.endpoint_id)
                .bind(disable_reason)
                .bind(delivery.retrying_since)
                .execute(&mut *tx)
                .await?;
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }

    /// The backlog of every tenant's enabled endpoints.
    pub async fn outbox_depth(&self) -> Result<OutboxDepth, AccountError> {
        let mut tx = self.db().admin().await?;
        let row = sqlx::query(
            "SELECT count(*) AS pending,
                    coalesce(extract(epoch FROM clock_timestamp() - min(e.created_at)), 0)::double precision AS oldest
             FROM webhook_deliveries d
             JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.status = 'enabled'
             JOIN events e ON e.id = d.event_id
             WHERE d.state = 'pending'",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let oldest: f64 = row.try_get("oldest")?;
        Ok(OutboxDepth {
            pending: row.try_get("pending")?,
            oldest_age: Duration::from_secs_f64(oldest.max(0.0)),
        })
    }
}
