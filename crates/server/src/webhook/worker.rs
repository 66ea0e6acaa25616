//! The delivery workers: beside the server (like the OAuth refresh job), any number per
//! instance and any number of instances on one database. Each claims due deliveries in a short
//! transaction ([`accounts::webhook::WebhookService::claim`], `SKIP LOCKED`, a lease), commits,
//! then POSTs each (API.md: `{"id", "type", "timestamp", "data"}` with `webhook-id`,
//! `webhook-timestamp` and `webhook-signature`) and records the outcome. A 2xx within the
//! timeout (15 s) is success; anything else — another status, a redirect (never followed), a
//! timeout, a refused connection, an address the rules refuse — is retried after the next
//! step of [`DeliverySettings::schedule`] with full jitter, until the delivery has been retried
//! for [`DeliverySettings::retry_window`] (3 days); then it fails, and the endpoint is disabled
//! when nothing was delivered to it during that whole window.
//!
//! A worker that dies between the POST and the record (or cannot reach Postgres to record)
//! leaves the delivery to come due again when its lease ends: it is sent again with the same
//! `webhook-id` (at least once; receivers deduplicate by it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use accounts::webhook::{Attempt, ClaimedDelivery, Next, WebhookService};
use chrono::Utc;
use futures::StreamExt;
use rand::Rng;
use serde::Serialize;

use crate::metrics::DeliveryOutcome;
use crate::state::AppState;
use crate::webhook::address::{self, FilteringResolver, ResolvedNotPublic};
use crate::webhook::signature;

/// The production retry schedule: the wait after the first failed attempt, the second, …; the
/// last step repeats. With [`RETRY_WINDOW`] a delivery is tried about 11 times over 3 days.
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 60 * 60),
    Duration::from_secs(5 * 60 * 60),
    Duration::from_secs(10 * 60 * 60),
    Duration::from_secs(12 * 60 * 60),
];

/// How long a delivery is retried before it fails (API.md: at least 3 days).
pub const RETRY_WINDOW: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// How long an endpoint has to answer (API.md: a 2xx within 15 s).
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// At most this many characters of an error (or of the answer's body) are kept per attempt.
const ERROR_EXCERPT: usize = 200;

/// How the workers run.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Workers on this instance (`webhooks.workers`).
    pub workers: usize,
    /// Deliveries one worker claims and sends at once.
    pub batch: i64,
    /// How long a worker sleeps when nothing is due.
    pub poll_interval: Duration,
    /// How long a claimed delivery is the worker's before another may send it again: longer
    /// than the timeout.
    pub lease: Duration,
    pub timeout: Duration,
    pub schedule: Vec<Duration>,
    pub retry_window: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            workers: 2,
            batch: 16,
            poll_interval: Duration::from_millis(200),
            lease: TIMEOUT * 2,
            timeout: TIMEOUT,
            schedule: SCHEDULE.to_vec(),
            retry_window: RETRY_WINDOW,
        }
    }
}

impl DeliverySettings {
    /// The wait before the next attempt after `failed` attempts: the schedule's step, fully
    /// jittered (uniform between zero and the step).
    fn backoff(&self, failed: usize) -> Duration {
        let Some(step) = self
            .schedule
            .get(failed.saturating_sub(1))
            .or(self.schedule.last())
        else {
            return Duration::ZERO;
        };
        let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

/// The body of a delivery (API.md).
#[derive(Debug, Serialize)]
struct Payload<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a serde_json::Value,
}

/// Starts `settings.workers` workers on `state`'s database; they stop when the handle is
/// aborted. Fails only when the HTTP client cannot be built.
pub fn spawn_delivery_workers(
    state: AppState,
    settings: DeliverySettings,
) -> Result<tokio::task::JoinHandle<()>, reqwest::Error> {
    let policy = state.webhook_policy();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .no_proxy()
        .dns_resolver(FilteringResolver {
            resolver: policy.resolver.clone(),
            reach: policy.reach(),
        })
        .user_agent("Backhaul-Webhooks/1")
        .build()?;
    let worker = Arc::new(Worker {
        state,
        client,
        settings,
        reach: policy.reach(),
    });
    Ok(tokio::spawn(async move {
        let workers = (0..worker.settings.workers.max(1)).map(|_| worker.clone().run());
        futures::future::join_all(workers).await;
    }))
}

struct Worker {
    state: AppState,
    client: reqwest::Client,
    settings: DeliverySettings,
    reach: address::Reach,
}

impl Worker {
    fn webhooks(&self) -> &WebhookService {
        self.state.webhooks()
    }

    async fn run(self: Arc<Self>) {
        loop {
            match self
                .webhooks()
                .claim(self.settings.batch, self.settings.lease)
                .await
            {
                Ok(claimed) if !claimed.is_empty() => {
                    futures::stream::iter(claimed)
                        .for_each_concurrent(None, |delivery| self.deliver(delivery))
                        .await;
                }
                Ok(_) => tokio::time::sleep(self.settings.poll_interval).await,
                Err(error) => {
                    tracing::warn!(%error, "webhook deliveries could not be claimed; retrying");
                    tokio::time::sleep(self.settings.poll_interval).await;
                }
            }
        }
    }

    async fn deliver(&self, delivery: ClaimedDelivery) {
        let at = Utc::now();
        let started = Instant::now();
        let result = self.send(&delivery).await;
        let elapsed = started.elapsed();
        let duration_ms = i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX);
        let (status_code, error) = match &result {
            Ok(status) => (Some(*status), None),
            Err(failure) => (failure.status, Some(failure.text.clone())),
        };
        let next = match &result {
            Ok(_) => Next::Delivered,
            Err(_) => {
                let retried_for = (at - delivery.retrying_since).to_std().unwrap_or_default();
                if retried_for >= self.settings.retry_window {
                    Next::Exhausted {
                        disable_reason: format!(
                            "every delivery attempt failed for {} (the last: {})",
                            describe(self.settings.retry_window),
                            error.as_deref().unwrap_or("no answer")
                        ),
                    }
                } else {
                    let failed = usize::try_from(delivery.attempts).unwrap_or(0) + 1;
                    Next::RetryIn(self.settings.backoff(failed))
                }
            }
        };
        let outcome = match next {
            Next::Delivered => DeliveryOutcome::Succeeded,
            Next::RetryIn(_) => DeliveryOutcome::FailedAttempt,
            Next::Exhausted { .. } => DeliveryOutcome::Exhausted,
        };
        self.state.metrics().webhook_attempt(outcome, elapsed);
        let attempt = Attempt {
            at,
            status_code,
            duration_ms,
            error: error.map(|text| excerpt(&text)),
        };
        if let Err(error) = self.webhooks().record(&delivery, &attempt, &next).await {
            // Its lease runs out and it is sent again: at least once.
            tracing::warn!(delivery = %delivery.id, %error, "a webhook attempt could not be recorded; it will be sent again");
        }
    }

    /// POSTs the delivery; its 2xx status, or why it failed.
    async fn send(&self, delivery: &ClaimedDelivery) -> Result<i32, Failure> {
        // The form again (the URL may have been stored under other rules); the addresses are
        // checked by the client's resolver as it connects.
        address::check_form(&delivery.url, self.reach).map_err(|refusal| Failure {
            status: None,
            text: format!("refused: the URL {refusal}"),
        })?;
        let body = serde_json::to_vec(&Payload {
            id: &delivery.event_id,
            event_type: &delivery.event_type,
            timestamp: delivery
                .event_created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data: &delivery.data,
        })
        .map_err(|error| Failure {
            status: None,
            text: format!("the event could not be serialized: {error}"),
        })?;
        let timestamp = Utc::now().timestamp();
        let signature = signature::sign(&delivery.secrets, &delivery.event_id, timestamp, &body);
        let response = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|error| Failure {
                status: None,
                text: transport_error(&error),
            })?;
        let status = response.status();
        let code = i32::from(status.as_u16());
        if status.is_success() {
            return Ok(code);
        }
        let mut text = if status.is_redirection() {
            format!("HTTP {code} (redirects are not followed)")
        } else {
            format!("HTTP {code}")
        };
        if let Some(answer) = body_excerpt(response).await
            && !answer.is_empty()
        {
            text.push_str(": ");
            text.push_str(&answer);
        }
        Err(Failure {
            status: Some(code),
            text,
        })
    }
}

/// A failed attempt: the answer's status, if any, and what went wrong.
#[derive(Debug)]
struct Failure {
    status: Option<i32>,
    text: String,
}

/// What a transport error was, in words, never with the URL (its path or query could carry
/// the tenant's own tokens).
fn transport_error(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<ResolvedNotPublic>() {
            return format!("refused: {refused}");
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_redirect() {
        "redirected (redirects are not followed)".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// The first characters of an answer's body (read no further than needed).
async fn body_excerpt(mut response: reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_EXCERPT * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    Some(excerpt(&String::from_utf8_lossy(&bytes)))
}

/// At most [`ERROR_EXCERPT`] characters, control characters replaced by spaces.
fn excerpt(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ERROR_EXCERPT)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn describe(window: Duration) -> String {
    let hours = window.as_secs() / 3600;
    if hours >= 48 {
        format!("{} days", hours / 24)
    } else if hours >= 1 {
        format!("{hours} hours")
    } else {
        format!("{} ms", window.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_retries_for_more_than_three_days() {
        let settings = DeliverySettings::default();
        assert!(settings.retry_window >= Duration::from_secs(3 * 24 * 3600));
        // Without jitter, the steps reach past the window.
        let mut total = Duration::ZERO;
        for failed in 1..=12 {
            total += settings
                .schedule
                .get(failed - 1)
                .copied()
                .unwrap_or(SCHEDULE[6]);
        }
        assert!(total > RETRY_WINDOW, "{total:?}");
    }

    #[test]
    fn a_backoff_is_jittered_within_its_step() {
        let settings = DeliverySettings::default();
        for failed in 1..=20 {
            let step = SCHEDULE[(failed - 1).min(SCHEDULE.len() - 1)];
            assert!(settings.backoff(failed) <= step);
        }
    }

    #[test]
    fn an_excerpt_is_short_and_free_of_control_characters() {
        let text = format!("bad\r\ngateway\u{7}{}", "x".repeat(500));
        let short = excerpt(&text);
        assert!(short.chars().count() <= ERROR_EXCERPT);
        assert!(!short.chars().any(char::is_control));
        assert!(short.starts_with("bad  gateway"));
    }
}
