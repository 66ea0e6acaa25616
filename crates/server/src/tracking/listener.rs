//! What the carrier listeners do (`POST /v1/carrier-webhooks/{carrier}` and its token route):
//! find the secret a notification is checked with, let the carrier's plugin check and read it,
//! and ingest its events. A notification that fails its check changes nothing; a duplicate
//! stores nothing new (events are stored once per fingerprint).

use carrier::tracking::NotificationError;
use chrono::Utc;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tracking::ingest::{self, Source};

/// What a notification brought.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    /// Events read from the notification.
    pub events: usize,
    /// Of those, events not seen before.
    pub new_events: usize,
    /// Events whose tracking number is no label of ours (ignored).
    pub unknown_labels: usize,
}

/// Checks and ingests one notification to `carrier`'s listener.
pub async fn receive(
    state: &AppState,
    carrier_id: &str,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<Received, ApiError> {
    let carrier = state
        .registry()
        .get(carrier_id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let push = carrier.tracking_push().ok_or(ApiError::NotFound)?;
    let outcome = async {
        let named = push.notification_subscription(body).map_err(refused)?;
        let (account, secret) = match named {
            Some(subscription) => {
                let found = crate::tracking::subscription::for_notification(
                    state,
                    carrier_id,
                    &subscription,
                )
                .await?;
                let (account, secret) = found.ok_or_else(|| {
                    ApiError::NotificationRefused(
                        "the notification names no subscription of this service".to_owned(),
                    )
                })?;
                (Some(account), Some(secret))
            }
            None => (None, None),
        };
        let events = push
            .read_notification(headers, body, secret.as_ref(), Utc::now())
            .map_err(refused)?;
        let mut received = Received {
            events: events.len(),
            ..Received::default()
        };
        for pushed in &events {
            let labels = ingest::labels_with_number(
                state,
                carrier_id,
                pushed.tracking_number.as_str(),
                account.as_deref(),
            )
            .await?;
            if labels.is_empty() {
                received.unknown_labels += 1;
            }
            for label in &labels {
                let ingested = ingest::ingest(
                    state,
                    label,
                    std::slice::from_ref(&pushed.event),
                    Source::Push,
                )
                .await?;
                received.new_events += ingested.new_events;
            }
        }
        Ok::<_, ApiError>(received)
    }
    .await;
    let result = match &outcome {
        Ok(received) if received.new_events == 0 => "duplicate_or_unknown",
        Ok(_) => "accepted",
        Err(ApiError::NotificationRefused(_)) => "refused",
        Err(ApiError::NotificationMalformed(_)) => "malformed",
        Err(_) => "error",
    };
    state.metrics().tracking_push(carrier_id, result);
    if let Err(error) = &outcome {
        tracing::warn!(carrier = carrier_id, %error, "a carrier notification was not accepted");
    }
    outcome
}

fn refused(error: NotificationError) -> ApiError {
    match error {
        NotificationError::Malformed(message) => ApiError::NotificationMalformed(message),
        NotificationError::NotSupported(_) => ApiError::NotFound,
        other => ApiError::NotificationRefused(other.to_string()),
    }
}

/// A listener token for `carrier` (carriers that authenticate their pushes with a token
/// fetched from us with client credentials).
pub fn token(
    state: &AppState,
    carrier_id: &str,
    headers: &http::HeaderMap,
    body: &[u8],
) -> Result<carrier::tracking::ListenerToken, ApiError> {
    let carrier = state
        .registry()
        .get(carrier_id)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let push = carrier.tracking_push().ok_or(ApiError::NotFound)?;
    let issued = push
        .listener_token(headers, body, Utc::now())
        .map_err(refused);
    state.metrics().tracking_push(
        carrier_id,
        if issued.is_ok() {
            "token_issued"
        } else {
            "token_refused"
        },
    );
    issued
}
