//! `DELETE /api/shipments/{version}/void/cancel/{shipmentidentificationnumber}` (Shipping.yaml
//! `VoidShipment`).
//!
//! The number must "pass 1Z rules", be upper case and 18 long. It must name a ledger shipment
//! of an account the token may ship with (another account's shipment is answered as unknown,
//! so numbers do not leak across accounts). The optional `trackingnumber` query parameter (one
//! number, or up to 20 as `["1Z…","1Z…"]`) must list packages of that shipment; voiding only
//! some packages of a multi-package shipment is not simulated, so it must list them all. The
//! `shipperNumber` header is "Required only for Roadie Shipments", which are not simulated
//! (nor is `v3`, "Valid only for Roadie Shipments"); it is ignored.
//!
//! A voided shipment stays in the ledger with `voided_at` set; voiding it again is refused
//! (`190117`). The answer is a `VOIDSHIPMENTResponseWrapper`: `SummaryResult.Status` and, per
//! package, `PackageLevelResults` (an array, as for every version from v2403 on) with status
//! `1` ("Voided").

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{UpsError, code};
use crate::oauth::{form_pairs, require_access, take};
use crate::shipping::tracking::is_valid_1z;
use crate::shipping::{check_transaction_headers, check_version};
use crate::state::State;

/// `DELETE /api/shipments/{version}/void/cancel/{shipmentidentificationnumber}`.
pub(crate) async fn void(
    Extract(state): Extract<Arc<State>>,
    Path((version, number)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match cancel(&state, &version, &number, query.as_deref(), &headers) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "void refused");
            error.into_response()
        }
    }
}

fn invalid(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::RULE, message)
}

/// The `trackingnumber` parameter: `1Z…` or `["1Z…","1Z…"]`.
fn listed_numbers(query: Option<&str>) -> Result<Option<Vec<String>>, UpsError> {
    let mut pairs = form_pairs(query.unwrap_or_default().as_bytes())?;
    let Some(raw) = take(&mut pairs, "trackingnumber") else {
        return Ok(None);
    };
    let numbers: Vec<String> = if raw.trim_start().starts_with('[') {
        serde_json::from_str(&raw)
            .map_err(|_| invalid("trackingnumber must be one 1Z number or a JSON list of them"))?
    } else {
        vec![raw]
    };
    if numbers.is_empty() || numbers.len() > 20 {
        return Err(invalid("trackingnumber lists 1 to 20 tracking numbers"));
    }
    if let Some(bad) = numbers.iter().find(|number| !is_valid_1z(number)) {
        return Err(invalid(format!(
            "trackingnumber {bad} does not pass the 1Z rules (upper case, 18 characters, check digit)"
        )));
    }
    Ok(Some(numbers))
}

fn cancel(
    state: &State,
    version: &str,
    number: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Value, UpsError> {
    check_version(version, &["v3"])?;
    let grant = require_access(state, headers)?;
    check_transaction_headers(headers)?;
    if !is_valid_1z(number) {
        return Err(invalid(format!(
            "shipmentidentificationnumber {number} does not pass the 1Z rules (upper case, 18 characters, check digit)"
        )));
    }
    let listed = listed_numbers(query)?;
    let now = state.now();
    let mut book = state.shipments();
    let entry = book
        .ledger
        .iter_mut()
        .find(|entry| {
            entry.shipment_identification_number == number
                && grant.shipper_numbers.contains(&entry.shipper_number)
        })
        .ok_or_else(|| {
            UpsError::bad_request(
                code::VOID_NOT_FOUND,
                format!("No shipment found within the allowed void period: {number}"),
            )
        })?;
    if let Some(listed) = &listed {
        if let Some(stranger) = listed
            .iter()
            .find(|listed| !entry.tracking_numbers.contains(listed))
        {
            return Err(invalid(format!(
                "trackingnumber {stranger} is not a package of shipment {number}"
            )));
        }
        if listed.len() != entry.tracking_numbers.len() {
            return Err(UpsError::bad_request(
                code::NOT_SIMULATED,
                "Voiding some packages of a shipment is not simulated; list every package or none",
            ));
        }
    }
    if entry.voided_at.is_some() {
        return Err(UpsError::bad_request(
            code::VOID_ALREADY,
            format!("The shipment {number} has already been voided"),
        ));
    }
    entry.voided_at = Some(now);
    tracing::info!(shipment = %number, "shipment voided");
    let packages: Vec<Value> = entry
        .tracking_numbers
        .iter()
        .map(|tracking| {
            json!({
                "TrackingNumber": tracking,
                "Status": {"Code": "1", "Description": "Voided"},
            })
        })
        .collect();
    Ok(json!({
        "VoidShipmentResponse": {
            "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
            "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}},
            "PackageLevelResults": packages,
        },
    }))
}
