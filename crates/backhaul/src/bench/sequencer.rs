//! How long the load phase's audit events waited to be chained: `chained_at − at` of every
//! event written during the load, once the server's sequencer has caught up (read before the
//! server stops, so its sequencer is still running).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use crate::startup::connect_owner;

/// How long the sequencer may take to catch up after the load before the figure is taken
/// anyway (with the events still waiting counted).
const CATCH_UP: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// The audit sequencer's delay over the load phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct SequencerDelay {
    /// Events written during the load phase and chained.
    pub(crate) events: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// Events of the load phase still unchained after the catch-up wait.
    pub(crate) unchained: u64,
}

/// Waits (up to [`CATCH_UP`]) for every event written since `since` to be chained, then
/// measures how long each waited.
pub(crate) async fn delay(
    owner: &PgConnectOptions,
    since: DateTime<Utc>,
) -> anyhow::Result<SequencerDelay> {
    let pool = connect_owner(owner).await?;
    let started = Instant::now();
    // The admin scope, for a configured database whose owner is subject to row-level security.
    let measured = async {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('backhaul.scope', 'admin', false)")
            .execute(&mut *tx)
            .await?;
        loop {
            let unchained: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_pending")
                .fetch_one(&mut *tx)
                .await?;
            if unchained == 0 || started.elapsed() >= CATCH_UP {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        let figures: (i64, Option<f64>, Option<f64>, Option<f64>, i64) = sqlx::query_as(
            "SELECT count(chained_at),
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY delay_ms),
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY delay_ms),
                    max(delay_ms),
                    count(*) - count(chained_at)
             FROM (SELECT link.chained_at,
                          (extract(epoch FROM link.chained_at - event.at) * 1000)::float8 AS delay_ms
                   FROM audit_events AS event
                   LEFT JOIN audit_links AS link ON link.event_id = event.id
                   WHERE event.at >= $1) AS events",
        )
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        tx.rollback().await?;
        Ok::<_, sqlx::Error>(figures)
    }
    .await
    .context("measuring the audit sequencer's delay");
    pool.close().await;
    let (events, p50, p99, max, unchained) = measured?;
    Ok(SequencerDelay {
        events: u64::try_from(events).unwrap_or(0),
        p50_ms: p50.unwrap_or(0.0),
        p99_ms: p99.unwrap_or(0.0),
        max_ms: max.unwrap_or(0.0),
        unchained: u64::try_from(unchained).unwrap_or(0),
    })
}
