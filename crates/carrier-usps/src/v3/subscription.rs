//! `/subscriptions-tracking/v3r2/subscriptions` of USPS Subscriptions – Tracking 3.2.0
//! (subscriptions-tracking.yaml): the `TrackingSubscription` we create (`POST`) and update
//! (`PUT /subscriptions/{subscriptionId}` with `If-Match`: the `ETag` of a `GET`), with a
//! `MIDTrackingFilter` for every label of one Mailer ID, and the subscription as USPS reports
//! it. The operations' security requirement is the OAuth scope `subscriptions-tracking`.
//!
//! The secret travels only in request bodies built here; replies are read for their id,
//! status, reason and expiry, never logged.

use carrier::tracking::push::AccountSubscription;
use carrier::tracking::{SubscriptionRequest, SubscriptionState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::client::Reply;
use crate::error::{Error, Operation};

/// The path of the collection, under the base URL.
pub(crate) const SUBSCRIPTIONS_PATH: &str = "/subscriptions-tracking/v3r2/subscriptions";

/// Every update of every label (the filter's default; not "Package Delayed" ones, which are
/// no scans).
const ALL_UPDATES: &str = "ALL_UPDATES";

#[derive(Serialize)]
struct TrackingSubscription<'a> {
    #[serde(rename = "listenerURL")]
    listener_url: &'a str,
    secret: &'a str,
    #[serde(rename = "adminNotification")]
    admin_notification: [EmailNotification<'a>; 1],
    #[serde(rename = "filterProperties")]
    filter_properties: MIDTrackingFilter<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

#[derive(Serialize)]
struct EmailNotification<'a> {
    email: &'a str,
}

#[derive(Serialize)]
#[allow(clippy::upper_case_acronyms)]
struct MIDTrackingFilter<'a> {
    #[serde(rename = "MID")]
    mid: &'a str,
    #[serde(rename = "trackingEventTypes")]
    tracking_event_types: [&'static str; 1],
}

/// The body of a `POST` (no status: USPS enables a new subscription) or of the `PUT` that
/// turns one back on (`ENABLED`, with the listener and secret given). The secret is exposed
/// only here.
pub(crate) fn body(mid: &str, request: &SubscriptionRequest<'_>, enable: bool) -> Vec<u8> {
    let subscription = TrackingSubscription {
        listener_url: request.listener_url,
        secret: request.secret.expose(),
        admin_notification: [EmailNotification {
            email: request.contact_email,
        }],
        filter_properties: MIDTrackingFilter {
            mid,
            tracking_event_types: [ALL_UPDATES],
        },
        status: enable.then_some("ENABLED"),
    };
    // A struct of strings always serializes.
    serde_json::to_vec(&subscription).unwrap_or_default()
}

/// A `TrackingSubscription` reply: the fields we read.
#[derive(Deserialize)]
struct TrackingSubscriptionReply {
    #[serde(rename = "subscriptionId")]
    subscription_id: Option<String>,
    status: Option<String>,
    #[serde(rename = "statusReason")]
    status_reason: Option<String>,
    #[serde(rename = "expirationTimestamp")]
    expiration_timestamp: Option<String>,
}

/// Reads a subscription reply (of `POST`, `GET` or `PUT`).
pub(crate) fn parse(operation: Operation, reply: &Reply) -> Result<AccountSubscription, Error> {
    let body: TrackingSubscriptionReply = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            operation,
            format!("subscription reply: {}", super::describe_json_error(&error)),
        )
    })?;
    let id = body
        .subscription_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| Error::malformed(operation, "the subscription has no subscriptionId"))?;
    let reason = body.status_reason.filter(|r| !r.trim().is_empty());
    // `status` is optional in the schema; a subscription USPS answers without one is taken as
    // enabled (it is what a new subscription is).
    let state = match body.status.as_deref().map(str::trim) {
        None | Some("ENABLED") => SubscriptionState::Enabled,
        Some("SUSPENDED") => SubscriptionState::Suspended { reason },
        Some("DISABLED") => SubscriptionState::Disabled,
        Some(other) => {
            return Err(Error::malformed(
                operation,
                format!("subscription status {other:?} is not DISABLED, ENABLED or SUSPENDED"),
            ));
        }
    };
    let expires_at = body
        .expiration_timestamp
        .as_deref()
        .and_then(|at| DateTime::parse_from_rfc3339(at.trim()).ok())
        .map(|at| at.with_timezone(&Utc));
    Ok(AccountSubscription {
        id,
        state,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::tracking::SubscriptionSecret;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use secrecy::SecretString;
    use serde_json::json;

    fn reply(body: serde_json::Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn secret() -> SubscriptionSecret {
        SubscriptionSecret::new(SecretString::from("MySecretKeyPhraseIs32BytesLength"))
    }

    #[test]
    fn a_new_subscription_follows_the_specs_mid_example() {
        let secret = secret();
        let request = SubscriptionRequest {
            listener_url: "https://myserver.com/listener",
            secret: &secret,
            contact_email: "user@example.com",
        };
        let body: serde_json::Value =
            serde_json::from_slice(&super::body("123456", &request, false)).unwrap();
        assert_eq!(
            body,
            json!({"listenerURL": "https://myserver.com/listener",
                   "secret": "MySecretKeyPhraseIs32BytesLength",
                   "adminNotification": [{"email": "user@example.com"}],
                   "filterProperties": {"MID": "123456", "trackingEventTypes": ["ALL_UPDATES"]}})
        );
        let resumed: serde_json::Value =
            serde_json::from_slice(&super::body("123456", &request, true)).unwrap();
        assert_eq!(resumed["status"], "ENABLED");
    }

    #[test]
    fn a_suspended_subscription_keeps_its_reason() {
        let subscription = parse(
            Operation::Subscription,
            &reply(json!({"subscriptionId": "12345678", "status": "SUSPENDED",
                          "statusReason": "Unable to reach listener",
                          "expirationTimestamp": "2027-01-01T00:00:00Z"})),
        )
        .unwrap();
        assert_eq!(subscription.id, "12345678");
        assert_eq!(
            subscription.state,
            SubscriptionState::Suspended {
                reason: Some("Unable to reach listener".to_owned())
            }
        );
        assert!(subscription.expires_at.is_some());
    }

    #[test]
    fn a_subscription_without_an_id_or_with_an_unknown_status_is_malformed() {
        for body in [
            json!({"status": "ENABLED"}),
            json!({"subscriptionId": "1", "status": "PAUSED"}),
        ] {
            assert!(parse(Operation::Subscription, &reply(body)).is_err());
        }
    }
}
