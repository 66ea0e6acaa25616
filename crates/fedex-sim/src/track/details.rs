//! `POST /track/v1/trackingnumbers` (TrackingNumbers-Resource.json `Track by Tracking
//! Number`, body `Full_Schema_Tracking_Numbers`: `includeDetailedScans`, `trackingInfo[]`).
//!
//! An empty `trackingInfo` is the file's `TRACKING.TRACKINGNUMBER.EMPTY`; more than the 30 it
//! allows ("Maximum limit is 30") is `TRACKING.TRACKINGNUMBER.LIMITEXCEEDED` (the simulator's
//! code). Each number gets one `completeTrackResults[]` entry, in request order, with one
//! `trackResults[]`: for a package of an account the token acts for (and not cancelled), its
//! `latestStatusDetail`, `dateAndTimes` (`SHIP`, then `ACTUAL_PICKUP` and `ACTUAL_DELIVERY`
//! once scanned), `serviceDetail` and, when `includeDetailedScans` is true, every
//! `scanEvents[]` entry newest first (else an empty list); for any other number, the
//! per-number `error` `TRACKING.TRACKINGNUMBER.NOTFOUND`. The answer is 200 either way, as
//! FedEx answers a batch. `shipDateBegin`/`shipDateEnd` and `carrierCode` are accepted and do not
//! narrow the search (every number the simulator issues is unique).

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::error::{FedexError, code, transaction_id};
use crate::ledger::LedgerEntry;
use crate::oauth::{customer_transaction_id, require_access, require_content_type, validated_json};
use crate::schema::Operation;
use crate::shipping::rules::SERVICES;
use crate::state::{AccessGrant, State};
use crate::track::{Scan, ScanKind};

/// The most numbers one request may track.
pub(crate) const MAX_NUMBERS: usize = 30;

/// The simulator's hub, where scans before delivery happen.
const HUB: (&str, &str) = ("MEMPHIS", "TN");

/// `POST /track/v1/trackingnumbers`.
pub(crate) async fn track(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&state, &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "track request refused");
            error
                .for_transaction(customer_transaction_id(&headers))
                .into_response()
        }
    }
}

fn answer(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let grant = require_access(state, headers)?;
    require_content_type(headers, "application/json")?;
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if raw["trackingInfo"].as_array().is_some_and(Vec::is_empty) {
        return Err(FedexError::bad_request(
            code::TRACKING_EMPTY,
            "Please provide tracking number.",
        ));
    }
    let request = validated_json(Operation::Track, body)?;
    let infos = request["trackingInfo"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if infos.len() > MAX_NUMBERS {
        return Err(FedexError::bad_request(
            code::TRACKING_LIMIT,
            format!("At most {MAX_NUMBERS} tracking numbers may be tracked in one request."),
        ));
    }
    let detailed = request["includeDetailedScans"].as_bool().unwrap_or(false);
    let results: Vec<Value> = infos
        .iter()
        .map(|info| {
            let number = info["trackingNumberInfo"]["trackingNumber"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let result = result_for(state, &grant, &number, detailed);
            json!({"trackingNumber": number, "trackResults": [result]})
        })
        .collect();
    let mut body = json!({
        "transactionId": transaction_id(),
        "output": {"completeTrackResults": results},
    });
    if let Some(id) = customer_transaction_id(headers) {
        body["customerTransactionId"] = json!(id);
    }
    Ok(body)
}

fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn place(city: &str, state: &str) -> Value {
    json!({"city": city, "stateOrProvinceCode": state, "countryCode": "US", "residential": false})
}

fn not_found(number: &str) -> Value {
    json!({
        "trackingNumberInfo": {"trackingNumber": number},
        "error": {
            "code": code::TRACKING_NOT_FOUND,
            "message": "Tracking number cannot be found. Please correct the tracking number and try again.",
        },
    })
}

fn result_for(state: &State, grant: &AccessGrant, number: &str, detailed: bool) -> Value {
    let (entry, scans) = {
        let book = state.shipments();
        let Some(entry) = book.ledger.iter().find(|entry| {
            entry.cancelled_at.is_none()
                && grant.account_numbers.contains(&entry.account_number)
                && entry.tracking_numbers.iter().any(|known| known == number)
        }) else {
            return not_found(number);
        };
        (
            entry.clone(),
            book.scans.get(number).cloned().unwrap_or_default(),
        )
    };
    package_result(state, &entry, number, &scans, detailed)
}

fn package_result(
    state: &State,
    entry: &LedgerEntry,
    number: &str,
    scans: &[Scan],
    detailed: bool,
) -> Value {
    let (service_name, ground) = SERVICES
        .iter()
        .find(|(name, _, _)| *name == entry.service_type)
        .map(|(_, title, ground)| (*title, *ground))
        .unwrap_or(("FedEx", false));
    let destination = state
        .config
        .account(&entry.account_number)
        .map_or(("", ""), |account| {
            (
                account.city.as_str(),
                account.state_or_province_code.as_str(),
            )
        });
    let location = |kind: ScanKind| match kind {
        ScanKind::OutForDelivery | ScanKind::Delivered => place(destination.0, destination.1),
        _ => place(HUB.0, HUB.1),
    };
    let mut events: Vec<Value> = scans
        .iter()
        .map(|scan| {
            let (event, derived, description) = scan.kind.status();
            let mut value = json!({
                "date": time(scan.at),
                "eventType": event,
                "eventDescription": description,
                "derivedStatusCode": derived,
                "derivedStatus": description,
                "scanLocation": location(scan.kind),
                "locationType": if scan.kind == ScanKind::Delivered { "DELIVERY_LOCATION" } else { "FEDEX_FACILITY" },
            });
            if scan.kind == ScanKind::Exception {
                value["exceptionCode"] = json!("07");
                value["exceptionDescription"] = json!("Customer not available or business closed");
            }
            value
        })
        .collect();
    // Newest first, the label-created event last.
    events.reverse();
    events.push(json!({
        "date": time(entry.created_at),
        "eventType": "OC",
        "eventDescription": "Shipment information sent to FedEx",
        "derivedStatusCode": "IN",
        "derivedStatus": "Label created",
        "scanLocation": place(HUB.0, HUB.1),
        "locationType": "CUSTOMER",
    }));
    let latest = match scans.last() {
        Some(scan) => {
            let (code, derived, description) = scan.kind.status();
            json!({
                "code": code,
                "derivedCode": derived,
                "statusByLocale": description,
                "description": description,
                "scanLocation": location(scan.kind),
            })
        }
        None => json!({
            "code": "OC",
            "derivedCode": "IN",
            "statusByLocale": "Label created",
            "description": "Shipment information sent to FedEx",
        }),
    };
    let mut dates = vec![json!({"type": "SHIP", "dateTime": time(entry.created_at)})];
    if let Some(pickup) = scans.iter().find(|scan| scan.kind == ScanKind::Accepted) {
        dates.push(json!({"type": "ACTUAL_PICKUP", "dateTime": time(pickup.at)}));
    }
    if let Some(delivery) = scans
        .iter()
        .rev()
        .find(|scan| scan.kind == ScanKind::Delivered)
    {
        dates.push(json!({"type": "ACTUAL_DELIVERY", "dateTime": time(delivery.at)}));
    }
    json!({
        "trackingNumberInfo": {
            "trackingNumber": number,
            "carrierCode": if ground { "FDXG" } else { "FDXE" },
        },
        "latestStatusDetail": latest,
        "dateAndTimes": dates,
        "serviceDetail": {"type": entry.service_type, "description": service_name},
        "scanEvents": if detailed { events } else { Vec::new() },
    })
}
