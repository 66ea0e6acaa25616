//! Tracking labels after they are bought: events from every carrier, pushed to our listener
//! ([`listener`]) or polled ([`poll`]), stored once and turned into the label's state and the
//! returns SaaS's events ([`ingest`]); push subscriptions kept alive ([`subscription`]); every
//! carrier call within its API app's hourly budget ([`budget`]).
//!
//! All of it lives in Postgres — jobs claimed with `FOR UPDATE SKIP LOCKED` and a lease, never a
//! transaction held across a carrier call, budgets reserved by a conditional upsert — so any
//! number of server instances share the work without stepping on each other.

pub mod budget;
pub mod ingest;
pub mod listener;
pub mod poll;
pub mod subscription;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::AppState;

/// How tracking behaves (`[tracking]` in the configuration).
#[derive(Debug, Clone)]
pub struct TrackingSettings {
    /// This service's public base URL (`https://api.example.com`), from which the listeners
    /// carriers push to are made (`{base}/v1/carrier-webhooks/{carrier}`). Without it no
    /// push subscription is made and every label is polled.
    pub listener_base_url: Option<String>,
    /// Where a carrier writes about a subscription itself (a required contact at some).
    pub contact_email: String,
    /// Per carrier id, the hourly call budget per API app, in place of the carrier's default
    /// (lower to leave room for other integrations on the same app; higher where the carrier
    /// granted more).
    pub calls_per_hour: BTreeMap<String, u32>,
    /// The first poll of a new label, after purchase.
    pub first_poll_after: Duration,
    /// Polls of a label without working push: this, doubling with each poll, up to
    /// [`TrackingSettings::poll_interval_max`].
    pub poll_interval_min: Duration,
    pub poll_interval_max: Duration,
    /// Polls of a label whose carrier pushes (a safety net for lost notifications).
    pub poll_interval_pushed: Duration,
    /// How often an account subscription's state is read from the carrier (a suspension is
    /// repaired then).
    pub subscription_check_every: Duration,
    /// How often the background jobs look for due work.
    pub tick: Duration,
    /// How many due labels one poll run claims.
    pub claim_batch: usize,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            listener_base_url: None,
            contact_email: "tracking@example.com".to_owned(),
            calls_per_hour: BTreeMap::new(),
            first_poll_after: Duration::from_secs(3600),
            poll_interval_min: Duration::from_secs(3600),
            poll_interval_max: Duration::from_secs(12 * 3600),
            poll_interval_pushed: Duration::from_secs(24 * 3600),
            subscription_check_every: Duration::from_secs(3600),
            tick: Duration::from_secs(15),
            claim_batch: 200,
        }
    }
}

impl TrackingSettings {
    /// The listener for `carrier`, when a public base URL is configured.
    pub fn listener_url(&self, carrier: &str) -> Option<String> {
        self.listener_base_url.as_ref().map(|base| {
            format!(
                "{}/v1/carrier-webhooks/{carrier}",
                base.trim_end_matches('/')
            )
        })
    }

    /// The hourly budget of one API app of `carrier`: the configured figure, else the
    /// carrier's default.
    pub fn budget(&self, carrier: &str, carrier_default: u32) -> u32 {
        self.calls_per_hour
            .get(carrier)
            .copied()
            .unwrap_or(carrier_default)
    }

    /// When a label polled `polls` times is polled next.
    pub fn next_poll(&self, now: DateTime<Utc>, polls: i32, pushed: bool) -> DateTime<Utc> {
        let interval = if pushed {
            self.poll_interval_pushed
        } else {
            let doublings = u32::try_from(polls.clamp(0, 16)).unwrap_or(0);
            self.poll_interval_min
                .saturating_mul(1 << doublings)
                .min(self.poll_interval_max)
        };
        now + chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(1))
    }
}

/// Starts tracking a label just bought, in the transaction that stores it: a poll job (its
/// first poll after [`TrackingSettings::first_poll_after`]), due for a label subscription at
/// once where the carrier subscribes per label and a listener is configured. Nothing for a
/// carrier (or account) that cannot be tracked.
pub async fn start(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    tenant: &accounts::TenantId,
    label: &accounts::LabelId,
    usable: &accounts::UsableAccount,
) -> Result<(), sqlx::Error> {
    let Some(carrier) = state.registry().get(&usable.account.carrier) else {
        return Ok(());
    };
    let Some(support) = carrier.tracking(Some(&usable.details)) else {
        return Ok(());
    };
    let settings = state.tracking();
    let subscribe_now = settings.listener_base_url.is_some()
        && carrier
            .tracking_push()
            .is_some_and(|push| matches!(push.scope(), carrier::tracking::PushScope::Label { .. }));
    let quota_app = carrier.quota_app(carrier::AccountContext {
        id: usable.account.id.as_str(),
        details: &usable.details,
        credentials: &usable.credentials,
    });
    sqlx::query(
        "INSERT INTO tracking_jobs (label_id, tenant_id, shipper_account_id, carrier, quota_app,
             next_poll_at, give_up_at, next_subscribe_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6),
                 now() + make_interval(secs => $7), CASE WHEN $8 THEN now() END)",
    )
    .bind(label.as_str())
    .bind(tenant.as_str())
    .bind(usable.account.id.as_str())
    .bind(carrier.id())
    .bind(&quota_app)
    .bind(settings.first_poll_after.as_secs_f64())
    .bind(support.give_up_unused_after.as_secs_f64())
    .bind(subscribe_now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The background work of tracking, every `tick` until the task is aborted: account
/// subscriptions checked, labels subscribed, due labels polled.
pub fn spawn_jobs(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tick = state.tracking().tick;
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            run_once(&state).await;
        }
    })
}

/// One pass of every tracking job (also what tests call to run them now).
pub async fn run_once(state: &AppState) {
    let now = Utc::now();
    if let Err(error) = subscription::check_accounts(state, now).await {
        tracing::warn!(%error, "tracking: checking account subscriptions failed; will retry");
    }
    if let Err(error) = subscription::subscribe_labels(state, now).await {
        tracing::warn!(%error, "tracking: subscribing labels failed; will retry");
    }
    match poll::poll_due(state, now).await {
        Ok(run) if run == poll::PollRun::default() => {}
        Ok(run) => tracing::info!(
            polled = run.polled,
            deferred_by_budget = run.deferred,
            failed = run.failed,
            finished = run.finished,
            "tracking poll run"
        ),
        Err(error) => tracing::warn!(%error, "tracking: poll run failed; will retry"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_off_to_the_maximum_and_pushed_labels_are_polled_rarely() {
        let settings = TrackingSettings::default();
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert_eq!(settings.next_poll(now, 0, false) - now, hour);
        assert_eq!(settings.next_poll(now, 2, false) - now, hour * 4);
        assert_eq!(settings.next_poll(now, 10, false) - now, hour * 12);
        assert_eq!(settings.next_poll(now, 0, true) - now, hour * 24);
    }

    #[test]
    fn a_configured_budget_replaces_the_carriers_default() {
        let mut settings = TrackingSettings::default();
        settings.calls_per_hour.insert("depot".into(), 30);
        assert_eq!(settings.budget("depot", 60), 30);
        assert_eq!(settings.budget("other", 60), 60);
    }

    #[test]
    fn listeners_are_made_from_the_public_base_url() {
        let settings = TrackingSettings {
            listener_base_url: Some("https://api.example.com/".into()),
            ..TrackingSettings::default()
        };
        assert_eq!(
            settings.listener_url("depot").as_deref(),
            Some("https://api.example.com/v1/carrier-webhooks/depot")
        );
    }
}
