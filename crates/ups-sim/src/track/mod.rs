//! UPS tracking, as served under `https://onlinetools.ups.com/api/track`: the Track API's
//! details call ([`details`], Tracking.yaml) and Track Alert v2 package subscriptions with
//! their pushed `TrackingEvent`s ([`alert`] and [`push`], UPSTrackAlert.yaml).
//!
//! Both read one book of scans per tracking number, recorded by the test control
//! `POST /__sim/tracking/{tracking_number}/events` ([`crate::Simulator::scan`]). Every
//! shipment starts with its manifest activity ("label created"); each recorded scan adds one
//! activity. Neither spec lists UPS's status codes (both point to a "Status Codes" document
//! that is not part of them), so the codes are the simulator's choice, taken from the specs'
//! own examples where they have one:
//!
//! | scan | `type` | `code` | `description` | `statusCode` |
//! |---|---|---|---|---|
//! | (label created) | `M` | `MP` | Shipper created a label, UPS has not received the package yet. | `003` |
//! | `accepted` | `I` | `OR` | Origin Scan | `005` |
//! | `in_transit` | `I` | `DP` | Departed from Facility | `005` |
//! | `out_for_delivery` | `I` | `OT` | Out for Delivery (UPSTrackAlert.yaml's example) | `021` |
//! | `delivered` | `D` | `FS` | Delivered (UPSTrackAlert.yaml's example) | `011` |
//! | `returned_to_sender` | `I` | `RS` | Returned to Sender | `006` |
//! | `exception` | `X` | `ED` | The receiver was not available for delivery. We'll make a second attempt the next business day. | `007` |
//!
//! Times: the scan's instant on the simulator clock, to the second, given as GMT and as local
//! time at the simulator's one offset (`-05:00`, every facility in Eastern Standard Time).
//! Places are the simulator's: scans before delivery at its hub (Louisville, KY), the
//! out-for-delivery and delivery scans in Atlanta, GA 30328.

pub mod alert;
pub mod details;
pub mod push;

use std::collections::HashMap;
use std::fmt;

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::config::WebhookConfig;
use crate::state::State;

/// UPS's Track API OpenAPI file, unchanged.
pub(crate) const TRACKING_YAML: &str = include_str!("../../spec/Tracking.yaml");
/// UPS's Track Alert OpenAPI file, unchanged.
pub(crate) const TRACK_ALERT_YAML: &str = include_str!("../../spec/UPSTrackAlert.yaml");

/// A scan the test controls can record (API.md, "Simulators' test controls").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    /// Picked up or dropped off: the first scan.
    Accepted,
    /// Moving through the network.
    InTransit,
    /// On the delivery vehicle.
    OutForDelivery,
    /// Delivered.
    Delivered,
    /// On its way back to the shipper.
    ReturnedToSender,
    /// Something out of the ordinary.
    Exception,
}

impl ScanKind {
    /// Every kind, as the control route names them.
    pub const ALL: [ScanKind; 6] = [
        ScanKind::Accepted,
        ScanKind::InTransit,
        ScanKind::OutForDelivery,
        ScanKind::Delivered,
        ScanKind::ReturnedToSender,
        ScanKind::Exception,
    ];

    /// The control route's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Accepted => "accepted",
            ScanKind::InTransit => "in_transit",
            ScanKind::OutForDelivery => "out_for_delivery",
            ScanKind::Delivered => "delivered",
            ScanKind::ReturnedToSender => "returned_to_sender",
            ScanKind::Exception => "exception",
        }
    }

    /// The kind named `raw`.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// UPS's words for one activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ActivityStatus {
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    pub(crate) status_code: &'static str,
}

/// The manifest activity every shipment starts with.
pub(crate) const LABEL_CREATED: ActivityStatus = ActivityStatus {
    kind: "M",
    code: "MP",
    description: "Shipper created a label, UPS has not received the package yet.",
    status_code: "003",
};

/// UPS's words for a scan (see the module docs).
pub(crate) fn status_of(kind: ScanKind) -> ActivityStatus {
    let (kind_letter, code, description, status_code) = match kind {
        ScanKind::Accepted => ("I", "OR", "Origin Scan", "005"),
        ScanKind::InTransit => ("I", "DP", "Departed from Facility", "005"),
        ScanKind::OutForDelivery => ("I", "OT", "Out for Delivery", "021"),
        ScanKind::Delivered => ("D", "FS", "Delivered", "011"),
        ScanKind::ReturnedToSender => ("I", "RS", "Returned to Sender", "006"),
        ScanKind::Exception => (
            "X",
            "ED",
            "The receiver was not available for delivery. We'll make a second attempt the next business day.",
            "007",
        ),
    };
    ActivityStatus {
        kind: kind_letter,
        code,
        description,
        status_code,
    }
}

/// Where the simulator says a scan happened: city, state, postal code, country.
pub(crate) fn place_of(
    kind: Option<ScanKind>,
) -> (&'static str, &'static str, &'static str, &'static str) {
    match kind {
        Some(ScanKind::OutForDelivery | ScanKind::Delivered) => ("Atlanta", "GA", "30328", "US"),
        _ => ("Louisville", "KY", "40209", "US"),
    }
}

/// The simulator's one local offset from GMT, in hours.
pub(crate) const LOCAL_OFFSET_HOURS: i64 = -5;

/// `(local date, local time, GMT date, GMT time)` of `at`, as UPS writes them
/// (`YYYYMMDD`, `HHMMSS`).
pub(crate) fn stamps(at: DateTime<Utc>) -> (String, String, String, String) {
    let local = at + Duration::hours(LOCAL_OFFSET_HOURS);
    (
        local.format("%Y%m%d").to_string(),
        local.format("%H%M%S").to_string(),
        at.format("%Y%m%d").to_string(),
        at.format("%H%M%S").to_string(),
    )
}

/// One recorded scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    /// What was scanned.
    pub kind: ScanKind,
    /// When (simulator clock, whole seconds).
    pub at: DateTime<Utc>,
}

impl Scan {
    pub(crate) fn new(kind: ScanKind, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            at: at.trunc_subsecs(0),
        }
    }
}

/// A Track Alert subscription: an app's, to one number, until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The app (Client ID) whose token subscribed.
    pub app: String,
    /// The tracking number.
    pub tracking_number: String,
    /// `standard` or `enhanced`.
    pub kind: String,
    /// When it runs out: 14 days after the last subscription request (simulator clock).
    pub expires_at: DateTime<Utc>,
}

/// A listener token the simulator holds for an app's webhook. `Debug` hides it.
#[derive(Clone)]
pub(crate) struct ListenerToken {
    pub(crate) token: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl fmt::Debug for ListenerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Everything tracking keeps.
#[derive(Debug, Default)]
pub(crate) struct TrackingBook {
    /// Recorded scans per tracking number, oldest first.
    pub(crate) scans: HashMap<String, Vec<Scan>>,
    /// Subscriptions by (app, tracking number).
    pub(crate) subscriptions: HashMap<(String, String), Subscription>,
    /// Webhook settings by app.
    pub(crate) webhooks: HashMap<String, WebhookConfig>,
    /// Tokens fetched from listeners, by app.
    pub(crate) tokens: HashMap<String, ListenerToken>,
    /// Every push, oldest first.
    pub(crate) pushes: Vec<push::PushRecord>,
}

impl TrackingBook {
    pub(crate) fn new(webhooks: &[WebhookConfig]) -> Self {
        Self {
            webhooks: webhooks
                .iter()
                .map(|webhook| (webhook.app.clone(), webhook.clone()))
                .collect(),
            ..Self::default()
        }
    }

    /// The apps with a live subscription to `number` at `now`.
    pub(crate) fn subscribers(&self, number: &str, now: DateTime<Utc>) -> Vec<String> {
        let mut apps: Vec<String> = self
            .subscriptions
            .values()
            .filter(|subscription| {
                subscription.tracking_number == number && subscription.expires_at > now
            })
            .map(|subscription| subscription.app.clone())
            .collect();
        apps.sort();
        apps
    }
}

/// Why a scan or a push could not be recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The simulator never issued the number.
    #[error("the simulator never issued tracking number {0}")]
    UnknownNumber(String),
    /// Nothing was scanned yet, so there is no event to push again.
    #[error("tracking number {0} has no scan to push again")]
    NothingScanned(String),
}

/// Records a scan of `number` now and queues its pushes; returns the scan and how many pushes
/// were queued.
pub(crate) fn record(
    state: &Arc<State>,
    number: &str,
    kind: ScanKind,
) -> Result<(Scan, usize), ScanError> {
    let issued = state
        .shipments()
        .ledger
        .iter()
        .any(|entry| entry.tracking_numbers.iter().any(|n| n == number));
    if !issued {
        return Err(ScanError::UnknownNumber(number.to_owned()));
    }
    let scan = Scan::new(kind, state.now());
    state
        .tracking()
        .scans
        .entry(number.to_owned())
        .or_default()
        .push(scan.clone());
    tracing::info!(tracking_number = %number, scan = kind.as_str(), "scan recorded");
    let queued = push::queue(state, number, &scan);
    Ok((scan, queued))
}

/// Pushes the last scan of `number` again to every live subscriber (a duplicate, as UPS may
/// send); returns how many pushes were queued.
pub(crate) fn push_again(state: &Arc<State>, number: &str) -> Result<usize, ScanError> {
    let last = state
        .tracking()
        .scans
        .get(number)
        .and_then(|scans| scans.last().cloned());
    let Some(scan) = last else {
        let issued = state
            .shipments()
            .ledger
            .iter()
            .any(|entry| entry.tracking_numbers.iter().any(|n| n == number));
        return Err(if issued {
            ScanError::NothingScanned(number.to_owned())
        } else {
            ScanError::UnknownNumber(number.to_owned())
        });
    };
    Ok(push::queue(state, number, &scan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_kinds_round_trip_through_their_names() {
        for kind in ScanKind::ALL {
            assert_eq!(ScanKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ScanKind::parse("lost"), None);
    }

    #[test]
    fn local_time_is_five_hours_behind_gmt() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T03:04:05Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            stamps(at),
            (
                "20261201".into(),
                "220405".into(),
                "20261202".into(),
                "030405".into()
            )
        );
    }
}
