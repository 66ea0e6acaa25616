//! The normalized tracking status and event every carrier's scans map onto (API.md: `status`,
//! `GET /v1/return-labels/{id}/tracking`), and what a plugin tells the server about how it can be
//! tracked.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tracking::number::TrackingNumber;

/// Where a label is, in one vocabulary for every carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrackingStatus {
    /// Bought; the carrier has not scanned it (a "label created" or manifest event is this).
    Created,
    /// Scanned by the carrier: accepted, moving, out for delivery.
    InTransit,
    Delivered,
    ReturnedToSender,
    /// Something out of the ordinary happened; the parcel may still arrive.
    Exception,
    Voided,
}

impl TrackingStatus {
    pub const ALL: [TrackingStatus; 6] = [
        TrackingStatus::Created,
        TrackingStatus::InTransit,
        TrackingStatus::Delivered,
        TrackingStatus::ReturnedToSender,
        TrackingStatus::Exception,
        TrackingStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrackingStatus::Created => "created",
            TrackingStatus::InTransit => "in_transit",
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::ReturnedToSender => "returned_to_sender",
            TrackingStatus::Exception => "exception",
            TrackingStatus::Voided => "voided",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Whether an event with this status is a scan of the parcel by the carrier: the parcel is
    /// in the carrier's hands. The earliest such event is the label's first scan, when the
    /// returns SaaS refunds. `Created` (label information only) and `Voided` are not scans.
    pub fn is_scan(self) -> bool {
        !matches!(self, TrackingStatus::Created | TrackingStatus::Voided)
    }

    /// Whether nothing more is expected: tracking stops.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TrackingStatus::Delivered | TrackingStatus::ReturnedToSender | TrackingStatus::Voided
        )
    }
}

impl fmt::Display for TrackingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a scan happened, as far as the carrier says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLocation {
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 where the carrier gives one.
    pub country: Option<String>,
}

impl EventLocation {
    pub fn is_empty(&self) -> bool {
        self.city.is_none()
            && self.state.is_none()
            && self.postal_code.is_none()
            && self.country.is_none()
    }
}

/// One tracking event: when, the normalized status, and the carrier's own code and words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// When it happened (UTC; carriers that give only a local time are converted by the
    /// plugin, which says how).
    pub at: DateTime<Utc>,
    pub status: TrackingStatus,
    /// The carrier's event code (USPS `eventCode`, UPS `status.code`), as the carrier sends it.
    pub carrier_code: String,
    /// The carrier's description of the event.
    pub description: String,
    pub location: EventLocation,
}

impl TrackingEvent {
    /// The event's identity, the same whether the event was pushed or polled: the carrier's
    /// code and the instant to the second. A carrier repeats an event in every later reply and
    /// may push it more than once; the server stores each fingerprint once per label.
    /// Descriptions and locations are left out on purpose: carriers word the same scan
    /// differently in their pull and push payloads (case, a missing city).
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.carrier_code.trim().to_ascii_uppercase().as_bytes());
        hash.update([0]);
        hash.update(
            self.at
                .to_rfc3339_opts(SecondsFormat::Secs, true)
                .as_bytes(),
        );
        hash.update([0]);
        hash.update(self.status.as_str().as_bytes());
        hex_lower(&hash.finalize()[..16])
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A label's tracking as one pull answered it: every event the carrier knows, in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedLabel {
    pub tracking_number: TrackingNumber,
    pub events: Vec<TrackingEvent>,
}

/// How a carrier can be tracked: by pull ([`crate::Carrier::track`]) in batches within a call
/// budget, and whether it also pushes ([`crate::Carrier::tracking_push`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackingSupport {
    /// At most this many tracking numbers per [`crate::Carrier::track`] call.
    pub batch_size: usize,
    /// How many tracking calls one API app may make per hour by the carrier's default quota
    /// (USPS: about 60). The server's poller keeps within it (or a configured lower figure);
    /// one [`crate::Carrier::track`] call of `n` numbers costs `n` calls where the carrier
    /// answers one number per request.
    pub calls_per_hour: u32,
    /// Whether one [`crate::Carrier::track`] call of many numbers is one carrier call (a batch
    /// endpoint) rather than one call per number.
    pub one_call_per_batch: bool,
    /// Whether the carrier pushes events ([`crate::Carrier::tracking_push`]).
    pub push: bool,
    /// After how long without a scan a bought label is no longer tracked.
    #[serde(skip)]
    pub give_up_unused_after: Duration,
}

impl TrackingSupport {
    /// 30 days: a return label unused for a month is not going to be used.
    pub const GIVE_UP_UNUSED_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);

    /// What a call of `numbers` tracking numbers costs against the hourly budget.
    pub fn cost_of(&self, numbers: usize) -> u32 {
        if self.one_call_per_batch {
            1
        } else {
            u32::try_from(numbers).unwrap_or(u32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(code: &str, description: &str, city: Option<&str>) -> TrackingEvent {
        TrackingEvent {
            at: Utc.with_ymd_and_hms(2026, 12, 1, 14, 3, 9).unwrap(),
            status: TrackingStatus::InTransit,
            carrier_code: code.to_owned(),
            description: description.to_owned(),
            location: EventLocation {
                city: city.map(str::to_owned),
                ..EventLocation::default()
            },
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in TrackingStatus::ALL {
            assert_eq!(TrackingStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(TrackingStatus::parse("accepted"), None);
    }

    #[test]
    fn only_carrier_scans_count_as_scans() {
        assert!(!TrackingStatus::Created.is_scan());
        assert!(!TrackingStatus::Voided.is_scan());
        assert!(TrackingStatus::InTransit.is_scan());
        assert!(TrackingStatus::Delivered.is_scan());
        assert!(TrackingStatus::Exception.is_scan());
    }

    #[test]
    fn the_same_scan_pushed_and_polled_has_one_fingerprint() {
        let polled = event("03", "USPS picked up item", Some("ST LOUIS"));
        let pushed = event("03", "USPS Picked Up Item", None);
        assert_eq!(polled.fingerprint(), pushed.fingerprint());
        let later = TrackingEvent {
            at: polled.at + chrono::Duration::seconds(1),
            ..polled.clone()
        };
        assert_ne!(polled.fingerprint(), later.fingerprint());
        assert_ne!(
            polled.fingerprint(),
            event("10", "Arrived", None).fingerprint()
        );
    }

    #[test]
    fn a_batch_endpoint_costs_one_call() {
        let mut support = TrackingSupport {
            batch_size: 30,
            calls_per_hour: 60,
            one_call_per_batch: true,
            push: false,
            give_up_unused_after: TrackingSupport::GIVE_UP_UNUSED_AFTER,
        };
        assert_eq!(support.cost_of(30), 1);
        support.one_call_per_batch = false;
        assert_eq!(support.cost_of(30), 30);
    }
}
