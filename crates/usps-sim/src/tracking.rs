//! The scans the simulator has recorded for its labels, served by the Package Tracking API
//! ([`crate::v3::tracking`]) and pushed by Subscriptions – Tracking ([`crate::push`]), and the
//! control route that records them (API.md, "Simulators' test controls"):
//!
//! `POST /__sim/tracking/{tracking_number}/events` `{"status": "…"}` → 201 with the scan; 404
//! for a number the simulator never issued (a label in the ledger, of either API); 422 for an
//! unknown status or a body that is not `{"status": "…"}`. The scan happens at the simulator
//! clock's now.
//!
//! Neither tracking spec carries a table of event codes (both point to Pub 199 Appendix G-4).
//! The codes and texts below are the simulator's choice in the specs' own wording where the
//! specs show one: `01` "Delivered, Front Door/Porch" is the notification example's event,
//! `GX` "Shipping Label Created, USPS Awaiting Item" the pre-shipment event every unscanned
//! label shows ("USPS Awaiting Item" is the tracking spec's example wording); the others are
//! Pub 199's codes for those scans.
//!
//! | status | `eventCode` | `eventType` | where |
//! |---|---|---|---|
//! | (label issued) | `GX` | Shipping Label Created, USPS Awaiting Item | origin |
//! | `accepted` | `03` | Accepted at USPS Origin Facility | origin |
//! | `in_transit` | `10` | Arrived at USPS Regional Facility | origin |
//! | `out_for_delivery` | `OF` | Out for Delivery | destination |
//! | `delivered` | `01` | Delivered, Front Door/Porch | destination |
//! | `returned_to_sender` | `09` | Return to Sender Processed | destination |
//! | `exception` | `02` | Notice Left (No Authorized Recipient Available) | destination |
//!
//! Places are ZIP Codes (the origin from the label request, the destination from its routing
//! code) in the US; the simulator knows no cities for them. Times: `GMTTimestamp` in UTC with
//! milliseconds, `eventTimestamp` the same instant at `GMTOffset` `-6:00` (the demo
//! warehouse's Central time; the simulator has no time zone database).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ledger::LedgerEntry;
use crate::state::State;

/// A scan the control route records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Accepted at the origin facility: the first scan.
    Accepted,
    /// Moving between facilities.
    InTransit,
    /// Out for delivery.
    OutForDelivery,
    /// Delivered.
    Delivered,
    /// Sent back to the sender.
    ReturnedToSender,
    /// Something went wrong (a notice left).
    Exception,
}

impl ScanStatus {
    /// Every status, in the order a parcel usually sees them.
    pub const ALL: [ScanStatus; 6] = [
        ScanStatus::Accepted,
        ScanStatus::InTransit,
        ScanStatus::OutForDelivery,
        ScanStatus::Delivered,
        ScanStatus::ReturnedToSender,
        ScanStatus::Exception,
    ];

    /// The name the control route takes.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Accepted => "accepted",
            ScanStatus::InTransit => "in_transit",
            ScanStatus::OutForDelivery => "out_for_delivery",
            ScanStatus::Delivered => "delivered",
            ScanStatus::ReturnedToSender => "returned_to_sender",
            ScanStatus::Exception => "exception",
        }
    }

    /// The status of a control-route name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// `eventCode` and `eventType` (see the module's table).
    pub fn event(self) -> (&'static str, &'static str) {
        match self {
            ScanStatus::Accepted => ("03", "Accepted at USPS Origin Facility"),
            ScanStatus::InTransit => ("10", "Arrived at USPS Regional Facility"),
            ScanStatus::OutForDelivery => ("OF", "Out for Delivery"),
            ScanStatus::Delivered => ("01", "Delivered, Front Door/Porch"),
            ScanStatus::ReturnedToSender => ("09", "Return to Sender Processed"),
            ScanStatus::Exception => ("02", "Notice Left (No Authorized Recipient Available)"),
        }
    }

    /// The item's `statusCategory` after this scan.
    fn category(self) -> &'static str {
        match self {
            ScanStatus::Accepted => "Accepted",
            ScanStatus::InTransit => "In Transit",
            ScanStatus::OutForDelivery => "Out for Delivery",
            ScanStatus::Delivered => "Delivered",
            ScanStatus::ReturnedToSender => "Return to Sender",
            ScanStatus::Exception => "Alert",
        }
    }

    fn at_origin(self) -> bool {
        matches!(self, ScanStatus::Accepted | ScanStatus::InTransit)
    }
}

/// One recorded scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    /// The label's tracking number.
    pub tracking_number: String,
    /// What happened.
    pub status: ScanStatus,
    /// `eventCode`.
    pub event_code: String,
    /// `eventType`.
    pub event_type: String,
    /// When (simulator clock, UTC).
    pub at: DateTime<Utc>,
    /// `eventZIP` / `eventZIPCode`, when known.
    pub zip_code: Option<String>,
}

/// The pre-shipment event of a label not yet scanned.
const LABEL_CREATED: (&str, &str) = ("GX", "Shipping Label Created, USPS Awaiting Item");

/// The offset `eventTimestamp` is given at.
const LOCAL_OFFSET_SECONDS: i32 = -6 * 3600;
const LOCAL_OFFSET_TEXT: &str = "-6:00";

fn destination_zip(entry: &LedgerEntry) -> Option<String> {
    entry
        .routing
        .strip_prefix("420")
        .and_then(|zip| zip.get(..5))
        .map(str::to_owned)
}

/// An event of the item as both specs' `TrackingEvent` has it; `zip_name` is `eventZIP` (the
/// tracking spec) or `eventZIPCode` (the subscription spec).
pub(crate) fn event_json(
    code: &str,
    text: &str,
    at: DateTime<Utc>,
    zip: Option<&str>,
    zip_name: &str,
) -> Value {
    let local = FixedOffset::east_opt(LOCAL_OFFSET_SECONDS)
        .map(|offset| {
            at.with_timezone(&offset)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        })
        .unwrap_or_else(|| at.to_rfc3339_opts(SecondsFormat::Secs, true));
    let mut event = json!({
        "eventType": text,
        "eventTimestamp": local,
        "GMTTimestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "GMTOffset": LOCAL_OFFSET_TEXT,
        "eventCountry": "US",
        "eventCode": code,
    });
    if let Some(zip) = zip {
        event[zip_name] = json!(zip);
    }
    event
}

/// Every event of a label, newest first ("in reverse chronological order"), the pre-shipment
/// event last.
pub(crate) fn events_json(entry: &LedgerEntry, scans: &[Scan], zip_name: &str) -> Vec<Value> {
    let mut events: Vec<Value> = scans
        .iter()
        .rev()
        .map(|scan| {
            event_json(
                &scan.event_code,
                &scan.event_type,
                scan.at,
                scan.zip_code.as_deref(),
                zip_name,
            )
        })
        .collect();
    events.push(event_json(
        LABEL_CREATED.0,
        LABEL_CREATED.1,
        entry.created_at,
        entry.origin_zip.as_deref(),
        zip_name,
    ));
    events
}

/// The item-level fields shared by `TrackingDetails` and the notifications'
/// `CoreTrackingDetail`: number, places, `status`, `statusCategory`, `statusSummary`.
pub(crate) fn item_json(entry: &LedgerEntry, scans: &[Scan], zip_name: &str) -> Value {
    let (status, category, summary) = match scans.last() {
        None => (
            LABEL_CREATED.1.to_owned(),
            "Pre-Shipment".to_owned(),
            "A shipping label has been prepared for your item, but USPS has not received it yet."
                .to_owned(),
        ),
        Some(scan) => (
            scan.event_type.clone(),
            scan.status.category().to_owned(),
            format!(
                "{} at {} on {}.",
                scan.event_type,
                scan.at.format("%H:%M UTC"),
                scan.at.format("%B %-d, %Y")
            ),
        ),
    };
    let mut item = json!({
        "trackingNumber": entry.tracking_number,
        "destinationCountry": "US",
        "status": status,
        "statusCategory": category,
        "statusSummary": summary,
        "trackingEvents": events_json(entry, scans, zip_name),
    });
    let (destination_name, origin_name) = if zip_name == "eventZIP" {
        ("destinationZIP", "originZIP")
    } else {
        ("destinationZIPCode", "originZIPCode")
    };
    if let Some(zip) = destination_zip(entry) {
        item[destination_name] = json!(zip);
    }
    if let Some(zip) = &entry.origin_zip {
        item[origin_name] = json!(zip);
    }
    item
}

/// Why a scan could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The simulator never issued this number.
    #[error("the simulator issued no label with tracking number {0}")]
    UnknownLabel(String),
}

impl State {
    /// The label a tracking number belongs to, if the simulator issued it.
    pub(crate) fn issued_label(&self, tracking_number: &str) -> Option<LedgerEntry> {
        self.labels()
            .ledger
            .iter()
            .find(|entry| entry.tracking_number == tracking_number)
            .cloned()
    }

    /// The scans of a label, oldest first.
    pub(crate) fn scans_of(&self, tracking_number: &str) -> Vec<Scan> {
        self.scans()
            .get(tracking_number)
            .cloned()
            .unwrap_or_default()
    }

    /// Records a scan now and pushes it to the matching subscriptions (in the background).
    pub(crate) fn record_scan(
        self: &Arc<Self>,
        tracking_number: &str,
        status: ScanStatus,
    ) -> Result<Scan, ScanError> {
        let entry = self
            .issued_label(tracking_number)
            .ok_or_else(|| ScanError::UnknownLabel(tracking_number.to_owned()))?;
        let (code, text) = status.event();
        let scan = Scan {
            tracking_number: tracking_number.to_owned(),
            status,
            event_code: code.to_owned(),
            event_type: text.to_owned(),
            at: self.now(),
            zip_code: if status.at_origin() {
                entry.origin_zip.clone()
            } else {
                destination_zip(&entry)
            },
        };
        let scans = {
            let mut book = self.scans();
            let scans = book.entry(tracking_number.to_owned()).or_default();
            scans.push(scan.clone());
            scans.clone()
        };
        tracing::info!(tracking_number, status = status.as_str(), "scan recorded");
        crate::push::notify(self, &entry, &scans);
        Ok(scan)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanRequest {
    status: String,
}

fn unprocessable(message: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"error": message})),
    )
        .into_response()
}

/// `POST /__sim/tracking/{tracking_number}/events`.
pub(crate) async fn record(
    Extract(state): Extract<Arc<State>>,
    Path(tracking_number): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<ScanRequest>(&body) else {
        return unprocessable("the body must be {\"status\": \"…\"}".to_owned());
    };
    let Some(status) = ScanStatus::parse(&request.status) else {
        let names: Vec<&str> = ScanStatus::ALL.iter().map(|s| s.as_str()).collect();
        return unprocessable(format!(
            "unknown status {:?}; expected one of {}",
            request.status,
            names.join(", ")
        ));
    };
    match state.record_scan(&tracking_number, status) {
        Ok(scan) => (StatusCode::CREATED, Json(scan)).into_response(),
        Err(error) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": error.to_string()})),
        )
            .into_response(),
    }
}
