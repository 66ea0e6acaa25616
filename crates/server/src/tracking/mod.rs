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

/// The tracking job of a label just bought, written in the statement that stores the label
/// ([`Job::insert_item`]): its first poll after [`TrackingSettings::first_poll_after`], due
/// for a label subscription at once where the carrier subscribes per label and a listener is
/// configured.
#[derive(Debug, Clone)]
pub struct Job {
    shipper_account_id: String,
    carrier: String,
    quota_app: String,
    first_poll_after_s: f64,
    give_up_after_s: f64,
    subscribe_now: bool,
}

impl Job {
    /// How many parameters [`Job::insert_item`] takes.
    pub const PARAMS: usize = 8;

    /// `None` for a carrier (or account) that cannot be tracked.
    pub fn for_label(state: &AppState, usable: &accounts::UsableAccount) -> Option<Self> {
        let carrier = state.registry().get(&usable.account.carrier)?;
        let support = carrier.tracking(Some(&usable.details))?;
        let settings = state.tracking();
        let subscribe_now = settings.listener_base_url.is_some()
            && carrier.tracking_push().is_some_and(|push| {
                matches!(push.scope(), carrier::tracking::PushScope::Label { .. })
            });
        let quota_app = carrier.quota_app(carrier::AccountContext {
            id: usable.account.id.as_str(),
            details: &usable.details,
            credentials: &usable.credentials,
        });
        Some(Self {
            shipper_account_id: usable.account.id.to_string(),
            carrier: carrier.id().to_owned(),
            quota_app,
            first_poll_after_s: settings.first_poll_after.as_secs_f64(),
            give_up_after_s: support.give_up_unused_after.as_secs_f64(),
            subscribe_now,
        })
    }

    /// The job's INSERT as a `WITH` item named `tracking_job` ([`accounts::statement`]), its
    /// [`Job::PARAMS`] parameters numbered from `$first` and bound by [`Job::bind`].
    pub fn insert_item(first: usize) -> String {
        let [
            label,
            tenant,
            account,
            carrier,
            quota_app,
            first_poll,
            give_up,
            subscribe,
        ] = std::array::from_fn(|index| format!("${}", first + index));
        format!(
            "tracking_job AS (
                 INSERT INTO tracking_jobs (label_id, tenant_id, shipper_account_id, carrier,
                     quota_app, next_poll_at, give_up_at, next_subscribe_at)
                 VALUES ({label}, {tenant}, {account}, {carrier}, {quota_app},
                     now() + make_interval(secs => {first_poll}),
                     now() + make_interval(secs => {give_up}), CASE WHEN {subscribe} THEN now() END))"
        )
    }

    /// Binds the job of `label` to [`Job::insert_item`]'s parameters.
    pub fn bind<'q>(
        &'q self,
        query: accounts::statement::Query<'q>,
        tenant: &'q accounts::TenantId,
        label: &'q accounts::LabelId,
    ) -> accounts::statement::Query<'q> {
        query
            .bind(label.as_str())
            .bind(tenant.as_str())
            .bind(self.shipper_account_id.as_str())
            .bind(self.carrier.as_str())
            .bind(self.quota_app.as_str())
            .bind(self.first_poll_after_s)
            .bind(self.give_up_after_s)
            .bind(self.subscribe_now)
    }
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
