//! FedEx tracking (TrackingNumbers-Resource.json): the scans of each package, recorded by the
//! test control `POST /__sim/tracking/{tracking_number}/events` ([`crate::Simulator::scan`])
//! and served by `POST /track/v1/trackingnumbers` ([`details`]).
//!
//! Every shipment starts with its label-created status; each recorded scan adds one scan event.
//! The file gives status codes only as examples ("PU,DE,DP,HL,OC"); the simulator's table uses
//! them and FedEx's other well-known two-letter codes:
//!
//! | scan | `eventType` / `code` | `derivedStatusCode` | description |
//! |---|---|---|---|
//! | (label created) | `OC` | `IN` | Shipment information sent to FedEx |
//! | `accepted` | `PU` | `PU` | Picked up |
//! | `in_transit` | `IT` | `IT` | In transit |
//! | `out_for_delivery` | `OD` | `OD` | On FedEx vehicle for delivery |
//! | `delivered` | `DL` | `DL` | Delivered |
//! | `returned_to_sender` | `RS` | `RS` | Return to shipper |
//! | `exception` | `DE` | `DE` | Delivery exception |
//!
//! Places are the simulator's: scans before delivery at its hub (Memphis, TN), the
//! out-for-delivery and delivery scans at the account holder's city (a return's recipient). A
//! cancelled shipment takes no
//! more scans (and is deleted from tracking, as the cancel answer's `cancelledHistory` says).

pub mod details;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::state::State;

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
    /// Every kind.
    pub const ALL: [ScanKind; 6] = [
        Self::Accepted,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::ReturnedToSender,
        Self::Exception,
    ];

    /// The control route's name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::ReturnedToSender => "returned_to_sender",
            Self::Exception => "exception",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// `(eventType, derivedStatusCode, description)` (see the module table).
    pub fn status(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Accepted => ("PU", "PU", "Picked up"),
            Self::InTransit => ("IT", "IT", "In transit"),
            Self::OutForDelivery => ("OD", "OD", "On FedEx vehicle for delivery"),
            Self::Delivered => ("DL", "DL", "Delivered"),
            Self::ReturnedToSender => ("RS", "RS", "Return to shipper"),
            Self::Exception => ("DE", "DE", "Delivery exception"),
        }
    }
}

/// One recorded scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    /// What happened.
    pub kind: ScanKind,
    /// When (simulator clock, to the second).
    pub at: DateTime<Utc>,
}

/// Why a scan could not be recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The simulator never issued the number.
    #[error("no shipment has tracking number {0}")]
    UnknownNumber(String),
    /// The shipment was cancelled.
    #[error("the shipment of {0} was cancelled")]
    Cancelled(String),
}

/// Records a scan of `number` now.
pub(crate) fn record(state: &State, number: &str, kind: ScanKind) -> Result<Scan, ScanError> {
    let at = state.now().trunc_subsecs(0);
    let mut book = state.shipments();
    let entry = book
        .ledger
        .iter()
        .find(|entry| entry.tracking_numbers.iter().any(|known| known == number))
        .ok_or_else(|| ScanError::UnknownNumber(number.to_owned()))?;
    if entry.cancelled_at.is_some() {
        return Err(ScanError::Cancelled(number.to_owned()));
    }
    let scan = Scan { kind, at };
    book.scans
        .entry(number.to_owned())
        .or_default()
        .push(scan.clone());
    tracing::info!(
        tracking_number = number,
        kind = kind.as_str(),
        "scan recorded"
    );
    Ok(scan)
}
