//! `GET /tracking/v3/tracking/{trackingNumber}` from tracking.yaml (Package Tracking 3.2.6),
//! served from the simulator's labels and their scans ([`crate::tracking`]).
//!
//! Checks, in order:
//! 1. `Authorization: Bearer` access token — 401 (`SIM_UNAUTHORIZED`).
//! 2. The token's scope includes `tracking` (the operation's security requirement) — 403
//!    `SIM_FORBIDDEN`.
//! 3. Query parameters: `expand` `SUMMARY` or `DETAIL` (default `SUMMARY`),
//!    `destinationZIPCode` `^\d{5}$`, `mailingDate` a date — 400 `OAS_VALIDATION`.
//! 4. The number is one the simulator issued — else 404 `SIM_NOT_FOUND` ("Resource Not
//!    Found").
//!
//! `DETAIL` answers `TrackingDetails` (`trackingEvents` newest first, the pre-shipment event
//! of an unscanned label included); `SUMMARY` answers `TrackingSummary` (`eventSummaries`,
//! one line per event). Replies are `application/json`; the spec's XML media types are not
//! simulated. Tracking is not limited to the labels of the caller (USPS tracks any number).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AccessGrant;
use crate::state::State;
use crate::tracking;
use crate::v3::auth::require_access;
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};

const API: ApiVersion = ApiVersion::Tracking;
const SCOPE: &str = "tracking";

/// The 403 for a token without the scope an API requires.
pub(crate) fn require_scope(
    grant: &AccessGrant,
    scope: &str,
    api: ApiVersion,
) -> Result<(), ApiError> {
    if grant
        .scope
        .split_whitespace()
        .any(|granted| granted == scope)
    {
        return Ok(());
    }
    Err(ApiError::new(StatusCode::FORBIDDEN, api).with(
        ErrorDetail::new(
            "SIM_FORBIDDEN",
            format!("The access token was not granted the {scope} scope"),
        )
        .at("Header: Authorization"),
    ))
}

fn check_query(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    let mut errors = Vec::new();
    let detail = match query.get("expand").map(String::as_str) {
        None | Some("SUMMARY") => false,
        Some("DETAIL") => true,
        Some(_) => {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", "expand must be one of SUMMARY, DETAIL")
                    .at("expand")
                    .example("DETAIL"),
            );
            false
        }
    };
    if let Some(zip) = query.get("destinationZIPCode") {
        if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", "destinationZIPCode must match ^\\d{5}$")
                    .at("destinationZIPCode"),
            );
        }
    }
    if let Some(date) = query.get("mailingDate") {
        if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", "mailingDate must be a date (YYYY-MM-DD)")
                    .at("mailingDate"),
            );
        }
    }
    if errors.is_empty() {
        Ok(detail)
    } else {
        Err(ApiError::bad_request(API, errors))
    }
}

fn answer(
    state: &State,
    headers: &HeaderMap,
    tracking_number: &str,
    query: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let grant = require_access(state, headers, API)?;
    require_scope(&grant, SCOPE, API)?;
    let detail = check_query(query)?;
    let entry = state.issued_label(tracking_number).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, API).with(
            ErrorDetail::new(
                "SIM_NOT_FOUND",
                format!("No tracking information for {tracking_number}: the simulator issued no such label"),
            )
            .at("trackingNumber"),
        )
    })?;
    let scans = state.scans_of(tracking_number);
    let item = tracking::item_json(&entry, &scans, "eventZIP");
    if detail {
        return Ok(item);
    }
    let summaries: Vec<String> = item["trackingEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            format!(
                "{}, {}",
                event["eventType"].as_str().unwrap_or_default(),
                event["eventTimestamp"].as_str().unwrap_or_default()
            )
        })
        .collect();
    Ok(json!({"trackingNumber": entry.tracking_number, "eventSummaries": summaries}))
}

/// `GET /tracking/v3/tracking/{trackingNumber}`.
pub(crate) async fn tracking(
    Extract(state): Extract<Arc<State>>,
    Path(tracking_number): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match answer(&state, &headers, &tracking_number, &query) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(status = %error.status(), "tracking request refused");
            error.into_response()
        }
    }
}
