//! Track Alert's pushes (UPSTrackAlert.yaml, the `TrackingEvent` webhook), off the request
//! path: a recorded scan of a number with live subscriptions queues one push per subscribed app
//! that has webhook settings; one background task sends them in order.
//!
//! Each push, as the spec's `clientOauth2` security has it: a bearer token from the app's
//! listener token URL (`POST`, HTTP Basic with the webhook client id and secret —
//! `client_secret_basic` — and the form body `grant_type=client_credentials`), kept until
//! its `expires_in` runs out on the simulator clock; then a `POST` of the
//! `TrackingEventRequest` to the webhook URL with `Authorization: Bearer <token>`,
//! `x-api-key: <webhook client id>` and `User-Agent: UPSPubSubTrackingService`. A 2xx is
//! delivered ("Return a 200 status to indicate that the data was received successfully"). A
//! failure (no token, a connection error, any other status) is tried again after 100, 200 and
//! 400 ms, then dropped; a 401 also forgets the token first. UPSTrackAlert.yaml says nothing of
//! retries or of suspending a failing webhook, so the simulator neither suspends nor keeps
//! events longer. Redirects are not followed. Every push is in the push log
//! ([`crate::Simulator::pushes`], `GET /__sim/tracking/pushes`).
//!
//! The event body: `trackingNumber`, the local and GMT date and time, `gmtOffset` (`-05.00`,
//! the spec's `(-/+)HH.MM`), `activityLocation` (the postal code only for a delivery: "blank
//! until the delivery event occurs"), `activityStatus` (`type`, `code`, `description`) and, for
//! a delivery, `actualDeliveryDate` and `actualDeliveryTime`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::WebhookConfig;
use crate::state::State;
use crate::track::{self, ListenerToken, Scan, ScanKind};

/// `User-Agent` of every push.
pub const USER_AGENT: &str = "UPSPubSubTrackingService";
/// Attempts per push before it is dropped.
pub const ATTEMPTS: usize = 4;
/// The wait before the first retry; doubled before each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// One request's timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How a push ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// Queued or being tried.
    Pending,
    /// The webhook answered 2xx.
    Delivered,
    /// Every attempt failed.
    Dropped,
}

/// One attempt of a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAttempt {
    /// The webhook's status, when it answered.
    pub status: Option<u16>,
    /// What went wrong, when it did (never a token or secret).
    pub error: Option<String>,
}

/// One push of one event to one app's webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The app whose subscription it serves.
    pub app: String,
    /// The webhook URL.
    pub url: String,
    /// The tracking number.
    pub tracking_number: String,
    /// The `TrackingEventRequest` sent.
    pub body: Value,
    /// Every attempt so far.
    pub attempts: Vec<PushAttempt>,
    /// How it ended.
    pub outcome: PushOutcome,
    /// When it was queued (simulator clock).
    pub queued_at: DateTime<Utc>,
}

/// One queued push: its index in the push log.
#[derive(Debug)]
pub(crate) struct PushJob {
    index: usize,
    webhook: WebhookConfig,
}

/// The `TrackingEventRequest` of a scan.
pub(crate) fn event_body(number: &str, scan: &Scan) -> Value {
    let status = track::status_of(scan.kind);
    let (local_date, local_time, gmt_date, gmt_time) = track::stamps(scan.at);
    let (city, state, postal_code, country) = track::place_of(Some(scan.kind));
    let mut location = json!({"city": city, "stateProvince": state, "country": country});
    let mut body = json!({
        "trackingNumber": number,
        "localActivityDate": local_date,
        "localActivityTime": local_time,
        "gmtActivityDate": gmt_date,
        "gmtActivityTime": gmt_time,
        "gmtOffset": format!("{:+03}.00", track::LOCAL_OFFSET_HOURS),
        "activityStatus": {"type": status.kind, "code": status.code, "description": status.description},
    });
    if scan.kind == ScanKind::Delivered {
        location["postalCode"] = json!(postal_code);
        body["actualDeliveryDate"] = json!(local_date);
        body["actualDeliveryTime"] = json!(local_time);
    }
    body["activityLocation"] = location;
    body
}

/// Queues pushes of `scan` to every app subscribed to `number` that has a webhook; returns how
/// many were queued.
pub(crate) fn queue(state: &Arc<State>, number: &str, scan: &Scan) -> usize {
    let now = state.now();
    let body = event_body(number, scan);
    let jobs: Vec<PushJob> = {
        let mut tracking = state.tracking();
        let apps = tracking.subscribers(number, now);
        let mut jobs = Vec::new();
        for app in apps {
            let Some(webhook) = tracking.webhooks.get(&app).cloned() else {
                tracing::info!(%app, "subscribed app has no Track Alert webhook; nothing pushed");
                continue;
            };
            tracking.pushes.push(PushRecord {
                app,
                url: webhook.url.clone(),
                tracking_number: number.to_owned(),
                body: body.clone(),
                attempts: Vec::new(),
                outcome: PushOutcome::Pending,
                queued_at: now,
            });
            jobs.push(PushJob {
                index: tracking.pushes.len() - 1,
                webhook,
            });
        }
        jobs
    };
    let count = jobs.len();
    for job in jobs {
        send_to_worker(state, job);
    }
    count
}

fn send_to_worker(state: &Arc<State>, job: PushJob) {
    let mut sender = state.pusher();
    let job = match sender.as_ref() {
        Some(queue) => match queue.send(job) {
            Ok(()) => return,
            Err(mpsc::error::SendError(job)) => job,
        },
        None => job,
    };
    // No worker yet, or its runtime is gone: start one on the current runtime.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!("no async runtime to push Track Alert events on; push dropped");
        finish(state, job.index, PushOutcome::Dropped);
        return;
    };
    let (queue, jobs) = mpsc::unbounded_channel();
    let _ = queue.send(job);
    runtime.spawn(worker(Arc::downgrade(state), jobs));
    *sender = Some(queue);
}

fn finish(state: &State, index: usize, outcome: PushOutcome) {
    if let Some(record) = state.tracking().pushes.get_mut(index) {
        record.outcome = outcome;
    }
}

fn attempt(state: &State, index: usize, status: Option<u16>, error: Option<String>) {
    if let Some(record) = state.tracking().pushes.get_mut(index) {
        record.attempts.push(PushAttempt { status, error });
    }
}

async fn worker(state: Weak<State>, mut jobs: mpsc::UnboundedReceiver<PushJob>) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no HTTP client for Track Alert pushes");
            return;
        }
    };
    while let Some(job) = jobs.recv().await {
        let Some(state) = state.upgrade() else {
            return;
        };
        deliver(&state, &client, job).await;
    }
}

async fn deliver(state: &State, client: &reqwest::Client, job: PushJob) {
    let body = match state.tracking().pushes.get(job.index) {
        Some(record) => record.body.clone(),
        None => return,
    };
    let mut backoff = FIRST_BACKOFF;
    for number in 1..=ATTEMPTS {
        match try_once(state, client, &job.webhook, &body).await {
            Ok(status) => {
                attempt(state, job.index, Some(status), None);
                finish(state, job.index, PushOutcome::Delivered);
                tracing::info!(app = %job.webhook.app, status, "Track Alert event pushed");
                return;
            }
            Err((status, error)) => {
                tracing::info!(app = %job.webhook.app, attempt = number, ?status, %error, "Track Alert push failed");
                attempt(state, job.index, status, Some(error));
            }
        }
        if number < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    finish(state, job.index, PushOutcome::Dropped);
    tracing::warn!(app = %job.webhook.app, "Track Alert push dropped after {ATTEMPTS} attempts");
}

/// One attempt: a token (cached or fetched), then the POST.
async fn try_once(
    state: &State,
    client: &reqwest::Client,
    webhook: &WebhookConfig,
    body: &Value,
) -> Result<u16, (Option<u16>, String)> {
    let token = token(state, client, webhook).await?;
    let reply = client
        .post(&webhook.url)
        .bearer_auth(&token)
        .header("x-api-key", &webhook.client_id)
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .json(body)
        .send()
        .await
        .map_err(|error| (None, format!("webhook: {}", error.without_url())))?;
    let status = reply.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        state.tracking().tokens.remove(&webhook.app);
    }
    Err((Some(status.as_u16()), format!("webhook answered {status}")))
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<Value>,
}

/// The app's listener token, fetched when there is none or it ran out.
async fn token(
    state: &State,
    client: &reqwest::Client,
    webhook: &WebhookConfig,
) -> Result<String, (Option<u16>, String)> {
    let now = state.now();
    if let Some(held) = state.tracking().tokens.get(&webhook.app) {
        if held.expires_at > now {
            return Ok(held.token.clone());
        }
    }
    let reply = client
        .post(&webhook.token_url)
        .basic_auth(&webhook.client_id, Some(&webhook.client_secret))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|error| (None, format!("token URL: {}", error.without_url())))?;
    let status = reply.status();
    if !status.is_success() {
        return Err((None, format!("token URL answered {status}")));
    }
    let reply: TokenReply = reply
        .json()
        .await
        .map_err(|_| (None, "token URL answered no access_token".to_owned()))?;
    // `expires_in` as a number or a string of seconds (UPS's own token answers use strings);
    // an hour when absent (RFC 6749 makes it optional).
    let seconds = match &reply.expires_in {
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    }
    .unwrap_or(3600);
    state.tracking().tokens.insert(
        webhook.app.clone(),
        ListenerToken {
            token: reply.access_token.clone(),
            expires_at: now + chrono::Duration::seconds(seconds.max(0)),
        },
    );
    Ok(reply.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shipping::schema::{TrackingSpec, tracking_violations};

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T14:03:09Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn every_pushed_body_is_a_tracking_event_request() {
        for kind in ScanKind::ALL {
            let body = event_body("1ZA1B2C30300000422", &Scan::new(kind, at()));
            let violations =
                tracking_violations(TrackingSpec::TrackAlert, "TrackingEventRequest", &body)
                    .unwrap();
            assert!(violations.is_empty(), "{kind:?}: {violations:?}");
        }
    }

    #[test]
    fn only_a_delivery_carries_its_postal_code_and_delivery_time() {
        let moving = event_body("1ZA1B2C30300000422", &Scan::new(ScanKind::Accepted, at()));
        assert!(moving["activityLocation"].get("postalCode").is_none());
        assert!(moving.get("actualDeliveryDate").is_none());
        let delivered = event_body("1ZA1B2C30300000422", &Scan::new(ScanKind::Delivered, at()));
        assert_eq!(delivered["activityLocation"]["postalCode"], "30328");
        assert_eq!(delivered["actualDeliveryTime"], "090309");
        assert_eq!(delivered["gmtActivityTime"], "140309");
        assert_eq!(delivered["gmtOffset"], "-05.00");
    }
}
