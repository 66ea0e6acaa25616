//! The notification USPS Subscriptions – Tracking 3.2.0 POSTs to a listener
//! (subscriptions-tracking.yaml, `POST /notifications`, "Listener URL Specification"):
//! `scanEventEx` / `detailedScanEventEx` — `subscriptionId`, `subscriptionType`, `timestamp`
//! and `payload`, a JSON document "converted into a JSON formatted string" — signed in the
//! `X-HMAC` header.
//!
//! Checks, in order; nothing is read from a notification that fails one:
//! 1. `X-HMAC` is present (the spec's deprecated `hmac-header` is not read) and a secret is
//!    known for the subscription — else `Unauthenticated`.
//! 2. The body is the envelope (`timestamp` and `payload` strings) — else `Malformed`.
//! 3. `X-HMAC` is Base64(HMAC-SHA256(secret, timestamp + payload)), "concatenate the value of
//!    the timestamp field and the value of the payload field, hash the concatenated string
//!    using the shared secret and the SHA256 hash function, and encode the output in Base64",
//!    the values being the JSON strings' decoded text; compared in constant time — else
//!    `Unauthenticated`.
//! 4. `timestamp` is within [`MAX_CLOCK_DISTANCE`] of now — else `Stale`.
//! 5. `payload` is a Tracking Subscription Event (`trackingNumber` + `trackingEvents[]`) or a
//!    Detailed Scan Subscription Event (`trackingNumber` + one `trackingEvent`) — else
//!    `Malformed`.
//!
//! Errors never carry the secret, the signature or the payload.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use carrier::TrackingNumber;
use carrier::tracking::{NotificationError, PushedEvent, SubscriptionSecret};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::event::TrackingEvent;

/// The header carrying the signature.
pub(crate) const HMAC_HEADER: &str = "X-HMAC";

/// How far a notification's `timestamp` may be from our clock, either way. The spec sets no
/// window; five minutes refuses a replayed notification while allowing for clock skew and
/// USPS's own retries of a notification it just made (the timestamp is when "the message was
/// generated").
pub(crate) const MAX_CLOCK_DISTANCE: Duration = Duration::from_secs(5 * 60);

/// `scanEventEx` / `detailedScanEventEx`: the envelope.
#[derive(Deserialize)]
struct ScanEventEx {
    #[serde(rename = "subscriptionId")]
    subscription_id: Option<String>,
    timestamp: Option<String>,
    payload: Option<String>,
}

/// The payload: `TrackingSubscriptionNotification` (`trackingEvents`) or `detailedScanEvent`
/// (`trackingEvent`); both carry `trackingNumber`. Whichever event fields are present are
/// read.
#[derive(Deserialize)]
struct TrackingSubscriptionNotification {
    #[serde(rename = "trackingNumber")]
    tracking_number: Option<String>,
    #[serde(rename = "trackingEvents", default)]
    tracking_events: Vec<TrackingEvent>,
    #[serde(rename = "trackingEvent")]
    tracking_event: Option<TrackingEvent>,
}

fn envelope(body: &[u8]) -> Result<ScanEventEx, NotificationError> {
    serde_json::from_slice(body).map_err(|error| {
        NotificationError::Malformed(format!(
            "not a USPS notification: {}",
            super::describe_json_error(&error)
        ))
    })
}

/// The `subscriptionId` of a notification, before it is verified.
pub(crate) fn subscription_id(body: &[u8]) -> Result<Option<String>, NotificationError> {
    let id = envelope(body)?
        .subscription_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| NotificationError::Malformed("no subscriptionId".to_owned()))?;
    Ok(Some(id))
}

/// Base64(HMAC-SHA256(secret, timestamp + payload)), as USPS signs.
#[cfg(test)]
pub(crate) fn sign(secret: &str, timestamp: &str, payload: &str) -> String {
    mac(secret, timestamp, payload)
        .map(|mac| STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// The HMAC over timestamp + payload; `None` only if the key were refused, which HMAC never
/// does (it takes keys of any length).
fn mac(secret: &str, timestamp: &str, payload: &str) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(payload.as_bytes());
    Some(mac)
}

/// Checks a notification (see the module's list) and reads its events.
pub(crate) fn read(
    headers: &http::HeaderMap,
    body: &[u8],
    secret: Option<&SubscriptionSecret>,
    now: DateTime<Utc>,
) -> Result<Vec<PushedEvent>, NotificationError> {
    let signature = headers
        .get(HMAC_HEADER)
        .ok_or(NotificationError::Unauthenticated("no X-HMAC header"))?;
    let secret = secret.ok_or(NotificationError::Unauthenticated(
        "no secret is known for the subscription",
    ))?;
    let envelope = envelope(body)?;
    let (Some(timestamp), Some(payload)) = (envelope.timestamp, envelope.payload) else {
        return Err(NotificationError::Malformed(
            "the notification needs timestamp and payload".to_owned(),
        ));
    };
    let signature = STANDARD
        .decode(signature.as_bytes().trim_ascii())
        .map_err(|_| NotificationError::Unauthenticated("X-HMAC is not Base64"))?;
    mac(secret.expose(), &timestamp, &payload)
        .ok_or(NotificationError::Unauthenticated(
            "the secret cannot key an HMAC",
        ))?
        .verify_slice(&signature)
        .map_err(|_| NotificationError::Unauthenticated("X-HMAC does not match"))?;
    let sent = DateTime::parse_from_rfc3339(timestamp.trim())
        .map_err(|_| NotificationError::Malformed("timestamp is not ISO-8601".to_owned()))?
        .with_timezone(&Utc);
    let distance = (now - sent).abs().to_std().unwrap_or(Duration::MAX);
    if distance > MAX_CLOCK_DISTANCE {
        return Err(NotificationError::Stale(format!(
            "timestamp {} is more than {} s from now",
            sent.to_rfc3339(),
            MAX_CLOCK_DISTANCE.as_secs()
        )));
    }
    events(&payload)
}

fn events(payload: &str) -> Result<Vec<PushedEvent>, NotificationError> {
    let notification: TrackingSubscriptionNotification =
        serde_json::from_str(payload).map_err(|error| {
            NotificationError::Malformed(format!("payload: {}", super::describe_json_error(&error)))
        })?;
    let raw = notification
        .tracking_number
        .filter(|number| !number.trim().is_empty())
        .ok_or_else(|| NotificationError::Malformed("payload has no trackingNumber".to_owned()))?;
    let tracking_number = TrackingNumber::parse_impb("trackingNumber", &raw)
        .or_else(|_| TrackingNumber::other("trackingNumber", &raw))
        .map_err(|_| NotificationError::Malformed("trackingNumber is not a number".to_owned()))?;
    Ok(notification
        .tracking_events
        .into_iter()
        .chain(notification.tracking_event)
        .filter_map(|event| event.into_event(tracking_number.as_str()))
        .map(|event| PushedEvent {
            tracking_number: tracking_number.clone(),
            event,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::TrackingStatus;
    use secrecy::SecretString;
    use serde_json::json;

    const SECRET: &str = "MySecretKeyPhraseIs32BytesLength";
    const TIMESTAMP: &str = "2024-12-27T19:05:42.747Z";

    /// The spec's example payload (`components.examples.scanEvent`) as the string value the
    /// example shows escaped (its `\"` are the JSON string's quotes).
    const EXAMPLE_PAYLOAD: &str = r#"{"trackingNumber":"12345678","associatedTrackingNumber":"12345678","destinationCity":"DETROIT","destinationCountry":"US","destinationState":"MI","destinationZIPCode":"12345","kahalaIndicator":true,"mailClass":"Priority Mail<SUP>&reg;</SUP>","mailClassCode":"PM","mailingDate":"2025-02-07","mailType":"DM","originCity":"ORLANDO","originCountry":"US","originState":"FL","originZIPCode":"67890","services":["USPS Tracking<SUP>&#174;</SUP>"],"serviceTypeCode":"055","status":"Delivered, Front Door/Porch","statusCategory":"Accepted","statusSummary":"Your item was delivered at the front door or porch at 12:55 pm on February 7, 2025 in DETROIT, MI 12345","uniqueTrackingID":"12345678","deliveryDateExpectation":{"endOfDay":"string","expectedDeliveryDate":"2025-02-07","guaranteedDeliveryDate":"string","guaranteedDetails":"string","predictedDeliveryDate":"2025-02-07","predictedDeliverySource":"string","predictedDeliveryWindowStartTime":"12:15pm","predictedDeliveryWindowEndTime":"3:15pm"},"servicesEligibility":{"deliveryInstructionsEnabled":false,"proofOfDeliveryEnabled":true,"RREEnabled":true,"trackingProofOfDeliveryEnabled":true},"trackingEvents":[{"actionCode":"A","CODAmountDue":"50.99","eventCity":"DETROIT","eventCode":"01","eventCountry":"US","eventPartner":"SomePartner","eventState":"MI","eventTimestamp":"2025-02-07T12:55:12-05:00","eventType":"Delivered, Front Door/Porch","eventZIPCode":"12345","firm":"SomeFirm","GMTTimestamp":"2025-02-07T17:55:12Z","GMTOffset":"-5:00","reasonCode":"10","recipientName":"John Doe","veriPoint":true}]}"#;

    /// The X-HMAC of the example with [`SECRET`], computed apart from this crate:
    /// `printf '%s%s' "$TIMESTAMP" "$PAYLOAD" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
    const EXAMPLE_SIGNATURE: &str = "qM6b5EBaHxYxv67+GWKiFg4zBfK5DZYyyHD+TgMHV4Q=";

    fn secret() -> SubscriptionSecret {
        SubscriptionSecret::new(SecretString::from(SECRET))
    }

    fn body(timestamp: &str, payload: &str) -> Vec<u8> {
        json!({"subscriptionId": "123456789", "subscriptionType": "TRACKING",
               "timestamp": timestamp, "payload": payload})
        .to_string()
        .into_bytes()
    }

    fn headers(signature: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(HMAC_HEADER, signature.parse().unwrap());
        headers
    }

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_specs_example_verifies_with_an_independently_computed_signature() {
        assert_eq!(sign(SECRET, TIMESTAMP, EXAMPLE_PAYLOAD), EXAMPLE_SIGNATURE);
        let events = read(
            &headers(EXAMPLE_SIGNATURE),
            &body(TIMESTAMP, EXAMPLE_PAYLOAD),
            Some(&secret()),
            at("2024-12-27T19:06:00Z"),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].tracking_number.as_str(), "12345678");
        let event = &events[0].event;
        assert_eq!(event.status, TrackingStatus::Delivered);
        assert_eq!(event.carrier_code, "01");
        assert_eq!(event.description, "Delivered, Front Door/Porch");
        assert_eq!(event.at, at("2025-02-07T17:55:12Z"));
        assert_eq!(event.location.postal_code.as_deref(), Some("12345"));
    }

    #[test]
    fn a_tampered_payload_is_unauthenticated() {
        let tampered = EXAMPLE_PAYLOAD.replace("DETROIT", "DENVER");
        let outcome = read(
            &headers(EXAMPLE_SIGNATURE),
            &body(TIMESTAMP, &tampered),
            Some(&secret()),
            at(TIMESTAMP),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Unauthenticated(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_signature_made_with_another_secret_is_unauthenticated() {
        let forged = sign(
            "AnotherSecretKeyPhrase32BytesLen",
            TIMESTAMP,
            EXAMPLE_PAYLOAD,
        );
        let outcome = read(
            &headers(&forged),
            &body(TIMESTAMP, EXAMPLE_PAYLOAD),
            Some(&secret()),
            at(TIMESTAMP),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Unauthenticated(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_notification_without_x_hmac_is_unauthenticated() {
        let outcome = read(
            &http::HeaderMap::new(),
            &body(TIMESTAMP, EXAMPLE_PAYLOAD),
            Some(&secret()),
            at(TIMESTAMP),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Unauthenticated(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_notification_signed_more_than_five_minutes_ago_is_stale() {
        let outcome = read(
            &headers(EXAMPLE_SIGNATURE),
            &body(TIMESTAMP, EXAMPLE_PAYLOAD),
            Some(&secret()),
            at("2024-12-27T19:10:43Z"),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Stale(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_notification_from_more_than_five_minutes_ahead_is_stale() {
        let outcome = read(
            &headers(EXAMPLE_SIGNATURE),
            &body(TIMESTAMP, EXAMPLE_PAYLOAD),
            Some(&secret()),
            at("2024-12-27T19:00:41Z"),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Stale(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_detailed_scan_event_with_one_tracking_event_is_read() {
        let payload = json!({"trackingNumber": "9202190412893800000018", "mailerID": "904128938",
            "trackingEvent": {"eventCode": "03", "eventType": "Accepted at USPS Origin Facility",
                              "GMTTimestamp": "2024-12-27T19:00:00Z", "eventCity": "SAINT LOUIS"}})
        .to_string();
        let signature = sign(SECRET, TIMESTAMP, &payload);
        let events = read(
            &headers(&signature),
            &body(TIMESTAMP, &payload),
            Some(&secret()),
            at(TIMESTAMP),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.status, TrackingStatus::InTransit);
        assert_eq!(
            events[0].event.location.city.as_deref(),
            Some("SAINT LOUIS")
        );
    }

    #[test]
    fn a_signed_payload_that_is_not_an_event_is_malformed() {
        let payload = "[1, 2]";
        let signature = sign(SECRET, TIMESTAMP, payload);
        let outcome = read(
            &headers(&signature),
            &body(TIMESTAMP, payload),
            Some(&secret()),
            at(TIMESTAMP),
        );
        assert!(
            matches!(outcome, Err(NotificationError::Malformed(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn refusals_never_repeat_the_secret_or_the_signature() {
        let forged = sign(
            "AnotherSecretKeyPhrase32BytesLen",
            TIMESTAMP,
            EXAMPLE_PAYLOAD,
        );
        let outcomes = [
            read(
                &headers(&forged),
                &body(TIMESTAMP, EXAMPLE_PAYLOAD),
                Some(&secret()),
                at(TIMESTAMP),
            ),
            read(
                &headers(EXAMPLE_SIGNATURE),
                &body(TIMESTAMP, EXAMPLE_PAYLOAD),
                Some(&secret()),
                at("2030-01-01T00:00:00Z"),
            ),
            read(
                &headers(EXAMPLE_SIGNATURE),
                b"{",
                Some(&secret()),
                at(TIMESTAMP),
            ),
        ];
        for outcome in outcomes {
            let printed = format!("{outcome:?}");
            assert!(
                !printed.contains(SECRET)
                    && !printed.contains(&forged)
                    && !printed.contains(EXAMPLE_SIGNATURE),
                "{printed}"
            );
        }
    }

    #[test]
    fn the_subscription_id_is_read_before_verification() {
        assert_eq!(
            subscription_id(&body(TIMESTAMP, EXAMPLE_PAYLOAD))
                .unwrap()
                .as_deref(),
            Some("123456789")
        );
        assert!(matches!(
            subscription_id(b"{}"),
            Err(NotificationError::Malformed(_))
        ));
    }
}
