//! Polling labels that are still moving, where push is missing, late or suspended (and, rarely,
//! where it works: a safety net for a lost notification).
//!
//! A run claims due jobs (`FOR UPDATE SKIP LOCKED`, `next_poll_at` moved past a lease in the same
//! statement, committed at once), groups them by account, and for each batch of the carrier's
//! size reserves the calls in its API app's hourly budget first: a batch the budget cannot pay
//! for waits for the next hour (spread over it), oldest due first. A label stops being polled
//! when delivered, returned or voided ([`crate::tracking::ingest`] removes its job), or when it
//! was never scanned within the carrier's limit (30 days unused).

use std::collections::BTreeMap;
use std::time::Duration;

use accounts::{Actor, Context, LabelId, TenantId};
use carrier::{AccountContext, TrackingNumber};
use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::Row;

use crate::state::AppState;
use crate::tracking::budget;
use crate::tracking::ingest::{self, Source, TrackedRow};

/// How long a claimed job is left alone before another instance may poll it (a crash during a run).
pub const LEASE: Duration = Duration::from_secs(300);

/// A label tracked beyond the carrier's unused limit after its first scan is given up this
/// much later (a parcel scanned but never delivered: lost).
pub const GIVE_UP_SCANNED_AFTER: Duration = Duration::from_secs(60 * 24 * 3600);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollRun {
    /// Labels whose tracking was fetched.
    pub polled: usize,
    /// Labels put off because their app's hourly budget was spent.
    pub deferred: usize,
    /// Labels whose poll failed (retried later).
    pub failed: usize,
    /// Labels no longer tracked (delivered, returned, voided or given up).
    pub finished: usize,
}

#[derive(Debug)]
struct Job {
    label: TrackedRow,
    account: String,
    carrier: String,
    quota_app: String,
    tracking_number: String,
    polls: i32,
    give_up_at: DateTime<Utc>,
    scanned: bool,
    pushed: bool,
}

/// Polls every due label (at most [`crate::tracking::TrackingSettings::claim_batch`]).
pub async fn poll_due(state: &AppState, now: DateTime<Utc>) -> Result<PollRun, sqlx::Error> {
    let settings = state.tracking();
    let jobs = claim(state, now, settings.claim_batch).await?;
    let mut run = PollRun::default();
    let mut by_account: BTreeMap<(String, String), Vec<Job>> = BTreeMap::new();
    for job in jobs {
        let given_up = if job.scanned {
            now > job.give_up_at + to_chrono(GIVE_UP_SCANNED_AFTER)
        } else {
            now > job.give_up_at
        };
        if given_up {
            finish(state, &job.label.id).await?;
            tracing::info!(label = %job.label.id, scanned = job.scanned, "tracking given up");
            run.finished += 1;
            continue;
        }
        by_account
            .entry((job.label.tenant.to_string(), job.account.clone()))
            .or_default()
            .push(job);
    }
    for jobs in by_account.into_values() {
        poll_account(state, now, jobs, &mut run).await?;
    }
    Ok(run)
}

async fn claim(
    state: &AppState,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Job>, sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let rows = sqlx::query(
        "WITH due AS (
             SELECT label_id FROM tracking_jobs WHERE next_poll_at <= $1
             ORDER BY next_poll_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE tracking_jobs AS job SET next_poll_at = $1 + make_interval(secs => $3)
         FROM due, return_labels AS label
         WHERE job.label_id = due.label_id AND label.id = job.label_id
         RETURNING job.label_id, job.tenant_id, job.shipper_account_id, job.carrier, job.quota_app,
             job.polls, job.give_up_at, label.tracking_number,
             label.first_scan_at IS NOT NULL AS scanned,
             (coalesce(job.push_subscribed_until > $1, false) OR EXISTS (
                 SELECT 1 FROM tracking_subscriptions AS subscription
                 WHERE subscription.shipper_account_id = job.shipper_account_id
                   AND subscription.state = 'enabled')) AS pushed",
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(LEASE.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("label_id")?;
            let tenant: String = row.try_get("tenant_id")?;
            Ok(Job {
                label: TrackedRow {
                    id: LabelId::parse("label_id", &id).map_err(decode)?,
                    tenant: TenantId::parse("tenant_id", &tenant).map_err(decode)?,
                },
                account: row.try_get("shipper_account_id")?,
                carrier: row.try_get("carrier")?,
                quota_app: row.try_get("quota_app")?,
                tracking_number: row.try_get("tracking_number")?,
                polls: row.try_get("polls")?,
                give_up_at: row.try_get("give_up_at")?,
                scanned: row.try_get("scanned")?,
                pushed: row.try_get("pushed")?,
            })
        })
        .collect()
}

fn decode(error: carrier::ValidationErrors) -> sqlx::Error {
    sqlx::Error::Decode(error.to_string().into())
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Polls one account's due labels, batch by batch, each batch paid from the budget first.
async fn poll_account(
    state: &AppState,
    now: DateTime<Utc>,
    jobs: Vec<Job>,
    run: &mut PollRun,
) -> Result<(), sqlx::Error> {
    let Some(first) = jobs.first() else {
        return Ok(());
    };
    let Some(carrier) = state.registry().get(&first.carrier).cloned() else {
        // A carrier no longer configured: its labels wait (not lost) until it is again.
        defer(state, &jobs, now + chrono::Duration::hours(1)).await?;
        run.deferred += jobs.len();
        return Ok(());
    };
    let Some(support) = carrier.tracking(None) else {
        for job in &jobs {
            finish(state, &job.label.id).await?;
        }
        run.finished += jobs.len();
        return Ok(());
    };
    let settings = state.tracking();
    let per_hour = settings.budget(carrier.id(), support.calls_per_hour);
    let tenant = first.label.tenant.clone();
    let account_id = first.account.clone();
    let quota_app = first.quota_app.clone();
    let mut opened = None;
    for batch in jobs.chunks(support.batch_size.max(1)) {
        let cost = support.cost_of(batch.len());
        let mut tx = state.db().admin().await?;
        let paid = budget::reserve(&mut tx, &quota_app, cost, per_hour, now).await?;
        tx.commit().await?;
        if !paid {
            // The next hour, spread over its first three quarters so deferred labels do not
            // all come due at once.
            let next_hour = budget::hour_of(now) + chrono::Duration::hours(1);
            let spread = rand::rng().random_range(0..2700);
            defer(state, batch, next_hour + chrono::Duration::seconds(spread)).await?;
            run.deferred += batch.len();
            state
                .metrics()
                .tracking_poll(carrier.id(), "over_budget", batch.len());
            continue;
        }
        if opened.is_none() {
            let actor = Actor::System;
            let context = Context {
                tenant: &tenant,
                actor: &actor,
                request_id: None,
            };
            match state
                .accounts()
                .open_for_operation(context, &account_id, "tracking.poll", &account_id)
                .await
            {
                Ok(account) => opened = Some(account),
                Err(error) => {
                    tracing::warn!(account = %account_id, %error, "tracking: the account cannot be opened; polls wait");
                    let mut tx = state.db().admin().await?;
                    budget::release(&mut tx, &quota_app, cost, now).await?;
                    tx.commit().await?;
                    defer(state, &jobs, now + chrono::Duration::hours(1)).await?;
                    run.failed += jobs.len();
                    return Ok(());
                }
            }
        }
        let Some((_, details, credentials)) = opened.as_ref() else {
            continue;
        };
        let context = AccountContext {
            id: &account_id,
            details,
            credentials,
        };
        let numbers: Vec<TrackingNumber> = batch
            .iter()
            .filter_map(|job| TrackingNumber::other("tracking_number", &job.tracking_number).ok())
            .collect();
        match carrier.track(context, &numbers).await {
            Ok(tracked) => {
                state
                    .metrics()
                    .tracking_poll(carrier.id(), "polled", batch.len());
                for job in batch {
                    let events = tracked
                        .iter()
                        .find(|label| label.tracking_number.as_str() == job.tracking_number)
                        .map(|label| label.events.as_slice())
                        .unwrap_or_default();
                    let ingested = ingest::ingest(state, &job.label, events, Source::Poll).await?;
                    run.polled += 1;
                    if ingested.finished {
                        run.finished += 1;
                    } else {
                        polled(state, job, now, None).await?;
                    }
                }
            }
            Err(error) => {
                state
                    .metrics()
                    .tracking_poll(carrier.id(), "failed", batch.len());
                tracing::warn!(account = %account_id, carrier = carrier.id(), kind = error.kind().as_str(), %error,
                    "tracking: a poll failed; will retry");
                let retry = error
                    .retry_after()
                    .map(to_chrono)
                    .unwrap_or_else(|| chrono::Duration::minutes(15));
                for job in batch {
                    polled(state, job, now, Some((error.kind().as_str(), now + retry))).await?;
                }
                run.failed += batch.len();
            }
        }
    }
    Ok(())
}

/// Records a poll of `job`: the next one by the schedule, or after a failure by `failed`'s time.
async fn polled(
    state: &AppState,
    job: &Job,
    now: DateTime<Utc>,
    failed: Option<(&str, DateTime<Utc>)>,
) -> Result<(), sqlx::Error> {
    let (error, next) = match failed {
        Some((kind, at)) => (Some(kind), at),
        None => (None, state.tracking().next_poll(now, job.polls, job.pushed)),
    };
    let mut tx = state.db().admin().await?;
    sqlx::query(
        "UPDATE tracking_jobs SET polls = polls + 1, last_polled_at = $2, next_poll_at = $3,
             last_error = $4
         WHERE label_id = $1",
    )
    .bind(job.label.id.as_str())
    .bind(now)
    .bind(next)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn defer(state: &AppState, jobs: &[Job], until: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let ids: Vec<&str> = jobs.iter().map(|job| job.label.id.as_str()).collect();
    let mut tx = state.db().admin().await?;
    sqlx::query("UPDATE tracking_jobs SET next_poll_at = $2 WHERE label_id = ANY($1)")
        .bind(&ids)
        .bind(until)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn finish(state: &AppState, label: &LabelId) -> Result<(), sqlx::Error> {
    let mut tx = state.db().admin().await?;
    sqlx::query("DELETE FROM tracking_jobs WHERE label_id = $1")
        .bind(label.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
