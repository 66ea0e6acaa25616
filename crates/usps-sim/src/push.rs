//! The notifications Subscriptions – Tracking 3.2.0 pushes (subscriptions-tracking.yaml,
//! "Listener URL Specification", `POST /notifications`).
//!
//! When a scan is recorded for a label, every `ENABLED` subscription whose filter matches it —
//! its MID (the label owner's, the Returns MID it was bought with) or its tracking number —
//! is sent, off the request path, a `scanEventEx`: `subscriptionId`, `subscriptionType`
//! `TRACKING`, `timestamp` (the simulator clock, ISO-8601) and `payload`, the Tracking
//! Subscription Event (`CoreTrackingDetail` + `trackingEvents`, every event so far, newest
//! first) as a JSON string, with header `X-HMAC` = Base64(HMAC-SHA256(secret, timestamp +
//! payload)). `SCAN_EVENT_EXTRACT` subscriptions get a `detailedScanEventEx` whose payload
//! carries the one new event as `trackingEvent` (and `mailerID`). `DELIVERY_ACTIVITY`
//! subscriptions hear of deliveries and exceptions (action needed) only; the simulator makes
//! no delay scans, so `PACKAGE_DELAYED` ones hear nothing.
//!
//! A listener that answers other than 2xx or cannot be reached is tried [`ATTEMPTS`] times in
//! all, [`FIRST_BACKOFF`] apart and doubling; then the subscription becomes `SUSPENDED` with
//! `statusReason` "Unable to reach listener" (the spec's example) and nothing more is pushed to
//! it until a `PUT` sets it `ENABLED` again. Every attempt is logged in the push log
//! (`GET /__sim/pushes`); `POST /__sim/subscriptions/{id}/redeliver-last` sends the last
//! notification again, byte for byte.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use crate::ledger::LedgerEntry;
use crate::state::State;
use crate::tracking::{Scan, ScanStatus, event_json, item_json};
use crate::v3::subscription::{Filter, Notification, SubscriptionStatus};

/// Attempts per notification before the subscription is suspended.
pub const ATTEMPTS: u32 = 3;
/// The wait after the first failed attempt; doubled after each.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The header carrying the signature.
pub const HMAC_HEADER: &str = "X-HMAC";
/// What a suspended subscription says.
pub const UNREACHABLE: &str = "Unable to reach listener";

/// One delivery attempt, as the push log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The subscription pushed for.
    pub subscription_id: String,
    /// The label the notification is about.
    pub tracking_number: String,
    /// The JSON body sent.
    pub body: String,
    /// The `X-HMAC` header sent.
    pub hmac: String,
    /// 1 for the first try of a notification; redeliveries count from 1 again.
    pub attempt: u32,
    /// The listener's status, when it answered.
    pub status: Option<u16>,
    /// Why it could not be reached, when it did not answer.
    pub error: Option<String>,
    /// When (simulator clock).
    pub at: DateTime<Utc>,
}

impl PushRecord {
    /// Whether the listener took it (2xx).
    pub fn delivered(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Base64(HMAC-SHA256(secret, timestamp + payload)).
pub fn sign(secret: &str, timestamp: &str, payload: &str) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of every length.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(payload.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn matches(filter: &Filter, entry: &LedgerEntry) -> bool {
    match filter {
        Filter::Mid(mid) => *mid == entry.mid,
        Filter::TrackingNumber(number) => *number == entry.tracking_number,
    }
}

fn envelope(id: &str, timestamp: &str, payload: &str, secret: &str, number: &str) -> Notification {
    let body = json!({
        "subscriptionId": id,
        "subscriptionType": "TRACKING",
        "timestamp": timestamp,
        "payload": payload,
    })
    .to_string();
    Notification {
        tracking_number: number.to_owned(),
        body,
        hmac: sign(secret, timestamp, payload),
    }
}

/// The notifications one subscription gets for the newest of `scans`.
fn notifications(
    id: &str,
    secret: &str,
    event_types: &[String],
    entry: &LedgerEntry,
    scans: &[Scan],
    now: DateTime<Utc>,
) -> Vec<Notification> {
    let Some(newest) = scans.last() else {
        return Vec::new();
    };
    let timestamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let has = |kind: &str| event_types.iter().any(|t| t == kind);
    let delivery_activity = matches!(newest.status, ScanStatus::Delivered | ScanStatus::Exception);
    let mut sent = Vec::new();
    if has("ALL_UPDATES") || (has("DELIVERY_ACTIVITY") && delivery_activity) {
        let payload = item_json(entry, scans, "eventZIPCode").to_string();
        sent.push(envelope(
            id,
            &timestamp,
            &payload,
            secret,
            &entry.tracking_number,
        ));
    }
    if has("SCAN_EVENT_EXTRACT") {
        let mut payload = item_json(entry, scans, "eventZIPCode");
        if let Some(object) = payload.as_object_mut() {
            object.remove("trackingEvents");
            object.insert("mailerID".to_owned(), json!(entry.mid));
            object.insert(
                "trackingEvent".to_owned(),
                event_json(
                    &newest.event_code,
                    &newest.event_type,
                    newest.at,
                    newest.zip_code.as_deref(),
                    "eventZIPCode",
                ),
            );
        }
        sent.push(envelope(
            id,
            &timestamp,
            &payload.to_string(),
            secret,
            &entry.tracking_number,
        ));
    }
    sent
}

/// Pushes the newest of `scans` to every matching enabled subscription, in the background.
pub(crate) fn notify(state: &Arc<State>, entry: &LedgerEntry, scans: &[Scan]) {
    let now = state.now();
    let mut deliveries = Vec::new();
    {
        let mut book = state.subscriptions();
        for subscription in book.subscriptions.iter_mut() {
            if subscription.status != SubscriptionStatus::Enabled
                || !matches(&subscription.filter, entry)
            {
                continue;
            }
            let sent = notifications(
                &subscription.id,
                &subscription.secret,
                &subscription.event_types,
                entry,
                scans,
                now,
            );
            if let Some(last) = sent.last() {
                subscription.last_notification = Some(last.clone());
            }
            for notification in sent {
                deliveries.push((
                    subscription.id.clone(),
                    subscription.listener_url.clone(),
                    subscription.generation,
                    notification,
                ));
            }
        }
    }
    for (id, listener, generation, notification) in deliveries {
        let state = Arc::clone(state);
        tokio::spawn(async move {
            deliver(&state, &id, &listener, generation, &notification).await;
        });
    }
}

/// One POST to the listener, logged.
async fn send_once(
    state: &State,
    id: &str,
    listener: &str,
    notification: &Notification,
    attempt: u32,
) -> PushRecord {
    let outcome = state
        .push_client
        .post(listener)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(HMAC_HEADER, &notification.hmac)
        .body(notification.body.clone())
        .send()
        .await;
    let (status, error) = match outcome {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(error) => (None, Some(error.without_url().to_string())),
    };
    let record = PushRecord {
        subscription_id: id.to_owned(),
        tracking_number: notification.tracking_number.clone(),
        body: notification.body.clone(),
        hmac: notification.hmac.clone(),
        attempt,
        status,
        error,
        at: state.now(),
    };
    tracing::info!(subscription = id, attempt, status = ?record.status, "notification pushed");
    state.pushes().push(record.clone());
    record
}

/// Delivers one notification with retries, suspending the subscription when all fail.
async fn deliver(
    state: &State,
    id: &str,
    listener: &str,
    generation: u64,
    notification: &Notification,
) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let still_enabled = state.subscriptions().subscriptions.iter().any(|s| {
            s.id == id && s.generation == generation && s.status == SubscriptionStatus::Enabled
        });
        if !still_enabled {
            return;
        }
        if send_once(state, id, listener, notification, attempt)
            .await
            .delivered()
        {
            return;
        }
        if attempt < ATTEMPTS {
            // A retry's backoff, not a wait for another task.
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    let now = state.now();
    let mut book = state.subscriptions();
    if let Some(subscription) = book.subscriptions.iter_mut().find(|s| {
        s.id == id && s.generation == generation && s.status == SubscriptionStatus::Enabled
    }) {
        subscription.set_status(
            SubscriptionStatus::Suspended,
            Some(UNREACHABLE.to_owned()),
            now,
        );
        tracing::warn!(
            subscription = id,
            "listener unreachable; subscription suspended"
        );
    }
}

/// Why a redelivery could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedeliverError {
    /// No such subscription.
    #[error("no subscription {0}")]
    UnknownSubscription(String),
    /// Nothing was pushed to it yet.
    #[error("nothing was pushed to subscription {0} yet")]
    NothingPushed(String),
}

impl State {
    /// Sends a subscription's last notification again, unchanged, and waits for the listener.
    pub(crate) async fn redeliver_last(&self, id: &str) -> Result<PushRecord, RedeliverError> {
        let (listener, notification) = {
            let book = self.subscriptions();
            let subscription = book
                .subscriptions
                .iter()
                .find(|s| s.id == id)
                .ok_or_else(|| RedeliverError::UnknownSubscription(id.to_owned()))?;
            let notification = subscription
                .last_notification
                .clone()
                .ok_or_else(|| RedeliverError::NothingPushed(id.to_owned()))?;
            (subscription.listener_url.clone(), notification)
        };
        Ok(send_once(self, id, &listener, &notification, 1).await)
    }
}
