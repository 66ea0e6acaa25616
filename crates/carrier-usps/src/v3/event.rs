//! The `TrackingEvent` element shared by the Package Tracking API 3.2.6 (tracking.yaml,
//! `TrackingDetails.trackingEvents`) and Subscriptions – Tracking 3.2.0
//! (subscriptions-tracking.yaml, the notification payload's `trackingEvents` /
//! `trackingEvent`), and how one becomes a [`carrier::TrackingEvent`]. Pulled and pushed scans
//! go through this one mapping, so the same scan has the same
//! [`carrier::TrackingEvent::fingerprint`] either way.
//!
//! ## Status
//!
//! Neither spec carries a table of event codes: both refer to Pub 199 Appendix G-4, which is
//! not part of the reference. What they do document is mapped:
//! - codes the specs name: `01` with `eventType` "Delivered, Front Door/Porch" (the
//!   notification example), `07` "Arrival at Unit" and `14` "Available for Pickup" (the
//!   `CODAmountDue` description);
//! - otherwise the `eventType` text ("The description of the event (e.g. Delivery)"), in the
//!   wording of the specs' examples ("Shipping Label Created", "USPS Awaiting Item",
//!   "Accepted at USPS Destination Facility", "Out for Delivery", "Delivered, …"), by the
//!   rules of [`status`], case-insensitively.
//!
//! | USPS event | status |
//! |---|---|
//! | text says return to sender / to original sender | `returned_to_sender` |
//! | text says label created, pre-shipment or USPS awaiting item | `created` |
//! | code `01`, or text starting "Delivered" | `delivered` |
//! | code `07`, `14` | `in_transit` |
//! | text naming an alert, a notice left, an attempted delivery, a refusal, an undeliverable, missent, damaged or delayed item | `exception` |
//! | anything else USPS reports (acceptance, arrivals, departures, processing, out for delivery) | `in_transit` |
//!
//! ## Time
//!
//! `at` is `GMTTimestamp` when present (a time without an offset is GMT, as its name says);
//! else `eventTimestamp` with its own offset; else `eventTimestamp` as local time at
//! `GMTOffset` (`-7:00` in the specs' examples). A date-only `eventTimestamp` (the
//! subscription spec's `EventDate`) is taken as midnight at `GMTOffset`, or UTC without one —
//! the specs say nothing finer. An event with no readable time is skipped and logged: it
//! cannot be stored.

use carrier::{EventLocation, TrackingEvent as Event, TrackingStatus};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

/// One `TrackingEvent` as either spec names its fields. The pull spec calls the ZIP Code
/// `eventZIP`, the subscription spec `eventZIPCode`; both are read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TrackingEvent {
    #[serde(rename = "eventType")]
    event_type: Option<String>,
    #[serde(rename = "eventTimestamp")]
    event_timestamp: Option<String>,
    #[serde(rename = "GMTTimestamp")]
    gmt_timestamp: Option<String>,
    #[serde(rename = "GMTOffset")]
    gmt_offset: Option<String>,
    #[serde(rename = "eventCountry")]
    event_country: Option<String>,
    #[serde(rename = "eventCity")]
    event_city: Option<String>,
    #[serde(rename = "eventState")]
    event_state: Option<String>,
    #[serde(rename = "eventZIP", alias = "eventZIPCode")]
    event_zip: Option<String>,
    #[serde(rename = "eventCode")]
    event_code: Option<String>,
}

const RETURNED: &[&str] = &[
    "return to sender",
    "returned to sender",
    "to original sender",
    "return to shipper",
];
const PRE_SHIPMENT: &[&str] = &["label created", "pre-shipment", "awaiting item"];
const EXCEPTION: &[&str] = &[
    "alert",
    "notice left",
    "attempted",
    "refused",
    "undeliverable",
    "missent",
    "damaged",
    "delayed",
    "no access",
    "insufficient address",
    "addressee unknown",
    "unclaimed",
    "exception",
];

/// The normalized status of a USPS event (see the module's table).
pub(crate) fn status(event_code: &str, event_type: &str) -> TrackingStatus {
    let text = event_type.trim().to_ascii_lowercase();
    let says = |phrases: &[&str]| phrases.iter().any(|phrase| text.contains(phrase));
    if says(RETURNED) {
        return TrackingStatus::ReturnedToSender;
    }
    if says(PRE_SHIPMENT) {
        return TrackingStatus::Created;
    }
    match event_code.trim() {
        "01" => return TrackingStatus::Delivered,
        "07" | "14" => return TrackingStatus::InTransit,
        _ => {}
    }
    if text.starts_with("delivered") {
        return TrackingStatus::Delivered;
    }
    if says(EXCEPTION) {
        return TrackingStatus::Exception;
    }
    // Whatever else USPS reports about a parcel happened in its network.
    TrackingStatus::InTransit
}

/// `GMTOffset` (`-7:00`, `-05:00`, `+5:30`, `0:00`) as an offset.
fn offset(raw: &str) -> Option<FixedOffset> {
    let raw = raw.trim();
    let (sign, rest) = match raw.as_bytes().first()? {
        b'-' => (-1, &raw[1..]),
        b'+' => (1, &raw[1..]),
        _ => (1, raw),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn local(naive: NaiveDateTime, zone: Option<FixedOffset>) -> Option<DateTime<Utc>> {
    match zone {
        Some(zone) => zone
            .from_local_datetime(&naive)
            .single()
            .map(|at| at.with_timezone(&Utc)),
        None => Some(Utc.from_utc_datetime(&naive)),
    }
}

fn naive(raw: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
}

/// When the event happened (see the module's "Time").
pub(crate) fn instant(
    gmt_timestamp: Option<&str>,
    event_timestamp: Option<&str>,
    gmt_offset: Option<&str>,
) -> Option<DateTime<Utc>> {
    if let Some(gmt) = gmt_timestamp.map(str::trim).filter(|t| !t.is_empty()) {
        if let Ok(at) = DateTime::parse_from_rfc3339(gmt) {
            return Some(at.with_timezone(&Utc));
        }
        if let Some(at) = naive(gmt) {
            return Some(Utc.from_utc_datetime(&at));
        }
    }
    let raw = event_timestamp.map(str::trim).filter(|t| !t.is_empty())?;
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    let zone = gmt_offset.and_then(offset);
    if let Some(at) = naive(raw) {
        return local(at, zone);
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    local(date.and_hms_opt(0, 0, 0)?, zone)
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl TrackingEvent {
    /// The normalized event, or `None` (logged) when it has no readable time.
    pub(crate) fn into_event(self, tracking_number: &str) -> Option<Event> {
        let Some(at) = instant(
            self.gmt_timestamp.as_deref(),
            self.event_timestamp.as_deref(),
            self.gmt_offset.as_deref(),
        ) else {
            tracing::warn!(
                tracking_number,
                event_code = self.event_code.as_deref().unwrap_or(""),
                "a USPS tracking event without a readable time was skipped"
            );
            return None;
        };
        let carrier_code = present(&self.event_code).unwrap_or_default();
        let description = present(&self.event_type).unwrap_or_default();
        Some(Event {
            at,
            status: status(&carrier_code, &description),
            location: EventLocation {
                city: present(&self.event_city),
                state: present(&self.event_state),
                postal_code: present(&self.event_zip),
                country: present(&self.event_country),
            },
            carrier_code,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usps_events_map_onto_the_normalized_statuses() {
        let table = [
            (
                "GX",
                "Shipping Label Created, USPS Awaiting Item",
                TrackingStatus::Created,
            ),
            (
                "MA",
                "Pre-Shipment Info Sent to USPS",
                TrackingStatus::Created,
            ),
            (
                "03",
                "Accepted at USPS Origin Facility",
                TrackingStatus::InTransit,
            ),
            ("07", "Arrival at Unit", TrackingStatus::InTransit),
            ("14", "Available for Pickup", TrackingStatus::InTransit),
            (
                "10",
                "Arrived at USPS Regional Facility",
                TrackingStatus::InTransit,
            ),
            ("OF", "Out for Delivery", TrackingStatus::InTransit),
            (
                "01",
                "Delivered, Front Door/Porch",
                TrackingStatus::Delivered,
            ),
            ("", "Delivered, In/At Mailbox", TrackingStatus::Delivered),
            (
                "09",
                "Return to Sender Processed",
                TrackingStatus::ReturnedToSender,
            ),
            (
                "01",
                "Delivered, To Original Sender",
                TrackingStatus::ReturnedToSender,
            ),
            (
                "02",
                "Notice Left (No Authorized Recipient Available)",
                TrackingStatus::Exception,
            ),
            (
                "",
                "Delivery Attempted - No Access to Delivery Location",
                TrackingStatus::Exception,
            ),
            ("", "Alert", TrackingStatus::Exception),
        ];
        for (code, text, expected) in table {
            assert_eq!(status(code, text), expected, "{code} {text}");
        }
    }

    #[test]
    fn the_words_decide_whatever_their_case() {
        assert_eq!(
            status("01", "DELIVERED FRONT DOOR/PORCH"),
            TrackingStatus::Delivered
        );
        assert_eq!(
            status("09", "RETURN TO SENDER PROCESSED"),
            TrackingStatus::ReturnedToSender
        );
    }

    #[test]
    fn the_gmt_timestamp_wins_over_the_local_one() {
        let at = instant(
            Some("2025-02-07T17:55:12Z"),
            Some("2025-02-07T13:55:12-04:00"),
            Some("-5:00"),
        );
        assert_eq!(at.unwrap().to_rfc3339(), "2025-02-07T17:55:12+00:00");
    }

    #[test]
    fn a_local_timestamp_with_its_offset_is_converted_to_utc() {
        let at = instant(None, Some("2025-02-07T12:55:12-05:00"), None);
        assert_eq!(at.unwrap().to_rfc3339(), "2025-02-07T17:55:12+00:00");
    }

    #[test]
    fn a_local_timestamp_without_an_offset_takes_the_gmt_offset() {
        let at = instant(None, Some("2024-04-04T14:03:12"), Some("-7:00"));
        assert_eq!(at.unwrap().to_rfc3339(), "2024-04-04T21:03:12+00:00");
    }

    #[test]
    fn an_event_without_a_time_is_skipped() {
        let event: TrackingEvent =
            serde_json::from_value(serde_json::json!({"eventCode": "03", "eventType": "Accepted"}))
                .unwrap();
        assert!(event.into_event("9205").is_none());
    }

    #[test]
    fn both_specs_zip_code_names_are_read() {
        for name in ["eventZIP", "eventZIPCode"] {
            let event: TrackingEvent = serde_json::from_value(serde_json::json!({
                "eventCode": "01", "eventType": "Delivered", "GMTTimestamp": "2025-02-07T17:55:12Z",
                name: "48226"
            }))
            .unwrap();
            let event = event.into_event("9205").unwrap();
            assert_eq!(
                event.location.postal_code.as_deref(),
                Some("48226"),
                "{name}"
            );
        }
    }
}
