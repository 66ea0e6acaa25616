//! `GET /api/track/v1/details/{inquiryNumber}` (Tracking.yaml, "Tracking").
//!
//! In order: the bearer token (401 `250002`), the required `transId` and `transactionSrc`
//! headers (read with Shipping.yaml's lengths, 32 and 512: Tracking.yaml gives none), the
//! `inquiryNumber` ("must be between 7 and 34 characters in length"), the query — `locale`
//! ("Language and country code of the user, separated by an underscore", `en_US` by default)
//! and the indicators `returnSignature`, `returnMilestones` and `returnPOD` (`true` or `false`,
//! `false` by default); a parameter the operation does not list is refused. Tracking.yaml lists
//! no error codes; the simulator answers 400 `10002` for an invalid request and 404 `151044`
//! ("Tracking number information not found", the spec's 404) for a number it never issued.
//!
//! Any valid token may track any shipment of the simulator: the Track API is not limited to the
//! shipper's own packages. The answer is a `TrackApiResponse` with one shipment and one package,
//! its activities most recent first ("Activities are returned in chronological order, with the
//! most recent activity first"), `currentStatus` the latest activity's status, and
//! `deliveryInformation` once delivered ("Populated only when the package is delivered").
//! Signatures, milestones and proof of delivery are not simulated: asking for them (`true`)
//! returns the same answer without them. The reference-number and shipment routes
//! (`/track/v1/reference/details/…`, `/track/v1/shipment/details/…`) are not simulated.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{UpsError, code};
use crate::oauth::{form_pairs, require_access};
use crate::state::State;
use crate::track::{self, ActivityStatus, LABEL_CREATED, Scan, ScanKind};

/// `GET /api/track/v1/details/{inquiryNumber}`.
pub(crate) async fn details(
    Extract(state): Extract<Arc<State>>,
    Path(inquiry_number): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match answer(&state, &inquiry_number, query.as_deref(), &headers) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "track request refused");
            error.into_response()
        }
    }
}

fn invalid(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::SCHEMA, message)
}

/// The required transaction headers of the Track API.
fn check_headers(headers: &HeaderMap) -> Result<(), UpsError> {
    for (name, limit) in [("transId", 32), ("transactionSrc", 512)] {
        let Some(value) = headers.get(name) else {
            return Err(invalid(format!("header {name} is required")));
        };
        let valid = value
            .to_str()
            .is_ok_and(|text| !text.is_empty() && text.len() <= limit);
        if !valid {
            return Err(invalid(format!(
                "header {name} must be 1 to {limit} visible ASCII characters"
            )));
        }
    }
    Ok(())
}

/// Whether `locale` is a language and a country code joined by an underscore.
pub(crate) fn is_locale(locale: &str) -> bool {
    let bytes = locale.as_bytes();
    bytes.len() == 5
        && bytes[..2].iter().all(u8::is_ascii_lowercase)
        && bytes[2] == b'_'
        && bytes[3..].iter().all(u8::is_ascii_uppercase)
}

fn check_query(query: Option<&str>) -> Result<(), UpsError> {
    for (name, value) in form_pairs(query.unwrap_or_default().as_bytes())? {
        match name.as_str() {
            "locale" if !is_locale(&value) => {
                return Err(invalid(format!(
                    "locale {value:?} is not a language and country code separated by an underscore (en_US)"
                )));
            }
            "locale" => {}
            "returnSignature" | "returnMilestones" | "returnPOD" => {
                if value != "true" && value != "false" {
                    return Err(invalid(format!("{name} must be true or false")));
                }
            }
            other => {
                return Err(invalid(format!(
                    "query parameter {other} is not one the details call takes"
                )));
            }
        }
    }
    Ok(())
}

fn answer(
    state: &State,
    inquiry_number: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Value, UpsError> {
    require_access(state, headers)?;
    check_headers(headers)?;
    if !(7..=34).contains(&inquiry_number.chars().count()) {
        return Err(invalid(
            "Each inquiry number must be between 7 and 34 characters in length",
        ));
    }
    check_query(query)?;
    let (created_at, voided_at) = state
        .shipments()
        .ledger
        .iter()
        .find(|entry| entry.tracking_numbers.iter().any(|n| n == inquiry_number))
        .map(|entry| (entry.created_at, entry.voided_at))
        .ok_or_else(|| {
            UpsError::new(
                StatusCode::NOT_FOUND,
                "151044",
                "Tracking number information not found",
            )
        })?;
    let scans = state
        .tracking()
        .scans
        .get(inquiry_number)
        .cloned()
        .unwrap_or_default();
    Ok(response(inquiry_number, created_at, voided_at, &scans))
}

fn activity(
    status: ActivityStatus,
    kind: Option<ScanKind>,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let (local_date, local_time, gmt_date, gmt_time) = track::stamps(at);
    let (city, state, postal_code, country) = track::place_of(kind);
    json!({
        "date": local_date,
        "time": local_time,
        "gmtDate": gmt_date,
        "gmtTime": gmt_time,
        "gmtOffset": format!("{:+03}:00", track::LOCAL_OFFSET_HOURS),
        "location": {"address": {
            "city": city, "stateProvince": state, "postalCode": postal_code,
            "countryCode": country, "country": country,
        }},
        "status": status_json(status),
    })
}

fn status_json(status: ActivityStatus) -> Value {
    json!({
        "type": status.kind,
        "code": status.code,
        "description": status.description,
        "statusCode": status.status_code,
    })
}

/// The `TrackApiResponse` of one package.
fn response(
    number: &str,
    created_at: chrono::DateTime<chrono::Utc>,
    voided_at: Option<chrono::DateTime<chrono::Utc>>,
    scans: &[Scan],
) -> Value {
    let mut activities = vec![(
        LABEL_CREATED,
        None,
        Scan::new(ScanKind::Accepted, created_at).at,
    )];
    if let Some(voided_at) = voided_at {
        let void = ActivityStatus {
            kind: "MV",
            code: "MV",
            description: "Voided Information Received",
            status_code: "003",
        };
        activities.push((void, None, Scan::new(ScanKind::Accepted, voided_at).at));
    }
    for scan in scans {
        activities.push((track::status_of(scan.kind), Some(scan.kind), scan.at));
    }
    activities.sort_by_key(|(_, _, at)| *at);
    let current = activities
        .last()
        .map(|(status, _, _)| *status)
        .unwrap_or(LABEL_CREATED);
    let delivered = scans
        .iter()
        .rev()
        .find(|scan| scan.kind == ScanKind::Delivered);
    let listed: Vec<Value> = activities
        .iter()
        .rev()
        .map(|(status, kind, at)| activity(*status, *kind, *at))
        .collect();
    let mut package = json!({
        "trackingNumber": number,
        "packageCount": 1,
        "currentStatus": status_json(current),
        "activity": listed,
    });
    if let Some(delivered) = delivered {
        package["deliveryInformation"] = json!({"location": "Front Door", "receivedBy": ""});
        package["deliveryDate"] =
            json!([{"type": "DEL", "date": delivered.at.format("%Y%m%d").to_string()}]);
    }
    json!({"trackResponse": {"shipment": [{
        "inquiryNumber": number,
        "package": [package],
    }]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_are_language_underscore_country() {
        assert!(is_locale("en_US"));
        assert!(is_locale("fr_CA"));
        assert!(!is_locale("en-US"));
        assert!(!is_locale("EN_us"));
        assert!(!is_locale("en_USA"));
    }
}
