//! FedEx tracking (TrackingNumbers-Resource.json): `POST /track/v1/trackingnumbers` with
//! `includeDetailedScans: true` and up to [`BATCH_SIZE`] numbers ("Maximum limit is 30"),
//! and the reply's `completeTrackResults[].trackResults[].scanEvents[]` mapped to events.
//!
//! Each scan's code is its `eventType`, else its `derivedStatusCode`. The file names only a
//! handful of codes (`PU`, `DE`, `DP`, `HL`, `OC` in its examples); the rest of the table is
//! FedEx's published list of track status codes, which the file links to but does not hold:
//!
//! | codes | status |
//! |---|---|
//! | `OC` (shipment information sent to FedEx), `IN` (initiated) | `created` |
//! | `PU` (picked up), `PX`, `AR`, `AF`, `AP`, `DP`, `IT`, `OD`, `OF`, `OX`, `AA`, `AC`, `AD`, `AO`, `CC`, `CP`, `EA`, `EO`, `EP`, `FD`, `HL`, `LO`, `PF`, `PL`, `PM`, `SF`, `TR`, `DR`, `DS`, `PD` | `in_transit` |
//! | `DL` (delivered) | `delivered` |
//! | `RS` (return to shipper), `RP`, `RG`, `RR` | `returned_to_sender` |
//! | `DE` (delivery exception), `SE` (shipment exception), `DY` (delay), `CD` (clearance delay), `CH`, `LP`, `RC`, `RD`, `RM`, `SP`, `IX`, `DD` | `exception` |
//! | `CA` (shipment cancelled) | `voided` |
//!
//! An unknown code is `in_transit` when FedEx scanned the package (it has a scan location or
//! a description) — and logged — since an event from FedEx's network means the parcel is in
//! its hands. A number FedEx does not know (a `trackResults[].error`, such as
//! `TRACKING.TRACKINGNUMBER.NOTFOUND`) comes back with no events.
//!
//! Budget: the files publish no quota; the plugin tells the poller [`CALLS_PER_HOUR`], its own
//! default of one call a second per app, each call up to 30 numbers.

use carrier::{
    CarrierError, EventLocation, TrackedLabel, TrackingEvent, TrackingNumber, TrackingStatus,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Operation};

pub(crate) const TRACK_PATH: &str = "/track/v1/trackingnumbers";

/// "At least one occurrence of TrackingInfo is required. Maximum limit is 30."
pub(crate) const BATCH_SIZE: usize = 30;

/// The poller's hourly budget per FedEx app: the plugin's default; the files publish none.
pub(crate) const CALLS_PER_HOUR: u32 = 3_600;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrackRequest {
    include_detailed_scans: bool,
    tracking_info: Vec<TrackingInfo>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TrackingInfo {
    tracking_number_info: TrackingNumberInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TrackingNumberInfo {
    tracking_number: String,
}

impl TrackRequest {
    pub(crate) fn new(numbers: &[TrackingNumber]) -> Self {
        Self {
            include_detailed_scans: true,
            tracking_info: numbers
                .iter()
                .map(|number| TrackingInfo {
                    tracking_number_info: TrackingNumberInfo {
                        tracking_number: number.as_str().to_owned(),
                    },
                })
                .collect(),
        }
    }
}

/// The normalized status of a FedEx code (see the module's table); `None` when unknown.
pub(crate) fn status_of(code: &str) -> Option<TrackingStatus> {
    Some(match code {
        "OC" | "IN" => TrackingStatus::Created,
        "PU" | "PX" | "AR" | "AF" | "AP" | "DP" | "IT" | "OD" | "OF" | "OX" | "AA" | "AC"
        | "AD" | "AO" | "CC" | "CP" | "EA" | "EO" | "EP" | "FD" | "HL" | "LO" | "PF" | "PL"
        | "PM" | "SF" | "TR" | "DR" | "DS" | "PD" => TrackingStatus::InTransit,
        "DL" => TrackingStatus::Delivered,
        "RS" | "RP" | "RG" | "RR" => TrackingStatus::ReturnedToSender,
        "DE" | "SE" | "DY" | "CD" | "CH" | "LP" | "RC" | "RD" | "RM" | "SP" | "IX" | "DD" => {
            TrackingStatus::Exception
        }
        "CA" => TrackingStatus::Voided,
        _ => return None,
    })
}

#[derive(Deserialize)]
struct Reply {
    output: Option<Output>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    complete_track_results: Vec<CompleteTrackResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteTrackResult {
    tracking_number: Option<String>,
    #[serde(default)]
    track_results: Vec<TrackResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackResult {
    #[serde(default)]
    scan_events: Vec<ScanEvent>,
    error: Option<TrackError>,
}

#[derive(Deserialize)]
struct TrackError {
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanEvent {
    date: Option<String>,
    event_type: Option<String>,
    derived_status_code: Option<String>,
    event_description: Option<String>,
    derived_status: Option<String>,
    exception_description: Option<String>,
    scan_location: Option<ScanLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanLocation {
    city: Option<String>,
    state_or_province_code: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn event(scan: &ScanEvent) -> Result<Option<TrackingEvent>, Error> {
    let Some(code) = present(&scan.event_type).or_else(|| present(&scan.derived_status_code))
    else {
        return Ok(None);
    };
    let date = present(&scan.date)
        .ok_or_else(|| Error::malformed(Operation::Track, format!("scan {code} without a date")))?;
    let at = DateTime::parse_from_rfc3339(&date)
        .map_err(|_| Error::malformed(Operation::Track, format!("scan {code} has date {date:?}")))?
        .with_timezone(&Utc);
    let location = scan
        .scan_location
        .as_ref()
        .map(|l| EventLocation {
            city: present(&l.city),
            state: present(&l.state_or_province_code),
            postal_code: present(&l.postal_code),
            country: present(&l.country_code),
        })
        .unwrap_or_default();
    let description = present(&scan.event_description)
        .or_else(|| present(&scan.derived_status))
        .or_else(|| present(&scan.exception_description))
        .unwrap_or_else(|| code.clone());
    let status = match status_of(&code).or_else(|| {
        present(&scan.derived_status_code)
            .as_deref()
            .and_then(status_of)
    }) {
        Some(status) => status,
        None => {
            tracing::warn!(code = %code, "unknown FedEx scan code; taken as in transit");
            TrackingStatus::InTransit
        }
    };
    Ok(Some(TrackingEvent {
        at,
        status,
        carrier_code: code,
        description,
        location,
    }))
}

/// Reads a track reply: one [`TrackedLabel`] per asked number, in the asked order.
pub(crate) fn parse(
    numbers: &[TrackingNumber],
    body: &[u8],
) -> Result<Vec<TrackedLabel>, CarrierError> {
    let reply: Reply = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(
            Operation::Track,
            format!("track reply: {}", crate::grant::json_problem(&error)),
        )
    })?;
    let output = reply
        .output
        .ok_or_else(|| Error::malformed(Operation::Track, "track reply without output"))?;
    let mut tracked = Vec::with_capacity(numbers.len());
    for number in numbers {
        let mut events = Vec::new();
        for result in output
            .complete_track_results
            .iter()
            .filter(|r| r.tracking_number.as_deref().map(str::trim) == Some(number.as_str()))
        {
            for track in &result.track_results {
                if let Some(error) = &track.error {
                    tracing::info!(tracking_number = %number, code = ?error.code, "FedEx has no tracking for the number yet");
                }
                for scan in &track.scan_events {
                    events.extend(event(scan)?);
                }
            }
        }
        tracked.push(TrackedLabel {
            tracking_number: number.clone(),
            events,
        });
    }
    Ok(tracked)
}

#[cfg(test)]
mod tests;
