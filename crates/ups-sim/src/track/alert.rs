//! `POST /api/track/{version}/subscription/{type}/package` (UPSTrackAlert.yaml,
//! `processSubscriptionTypeForTrackingNumber`).
//!
//! In order, each refusal with the spec's code from its error table:
//! - `{version}` `v2` ("Valid values: v2"); `v1` "remains supported" but is not simulated
//!   (`9999001`); anything else, or a `{type}` other than `standard`/`enhanced`, is 404 `404`
//!   ("The requested resource was not found");
//! - the bearer token: 401 `250002`;
//! - `transId`: missing `VSS002`, invalid `VSS003`; `transactionSrc`: missing `VSS004`,
//!   invalid `VSS006` (both required; the spec gives no length, so Shipping.yaml's 32 and 512
//!   are used);
//! - `Content-Type: application/json`, else `10007` ("Requested Content Type is not
//!   supported");
//! - the body: empty or not a JSON object `VSS110`; `locale` missing `VSS300`, not `en_US`
//!   `VSS310` ("Currently only English (en_US) is supported"); `countryCode` not two upper-case
//!   letters `VSS400`; `trackingNumberList` missing `VSS200`, over 100 numbers `VSS220`;
//!   anything else the `PackageSubscriptionRequest` schema refuses `VSS000`.
//!
//! The schema's items carry the `TrackingNumber` pattern, yet the spec's own answers list
//! `1Z1234567$8` among `invalidTrackingNumbers`: a number that breaks the pattern is refused
//! by itself, not with the whole request. So the pattern is checked per number, and a number is
//! **valid** when it matches the pattern *and* is a package this simulator issued. The spec
//! calls invalid the numbers "associated with errors preventing subscription creation"; a
//! number UPS never issued can never have an event, and this simulator can push events only
//! for its own shipments (it issues no Roadie `1R` numbers, so those are refused too). With no
//! valid number the answer is 400 `VSS210` with `invalidTrackingNumbers`.
//!
//! Valid numbers are subscribed for the token's app until 14 days later on the simulator
//! clock ("Each tracking number subscription is valid for 14 days"); subscribing again
//! extends. `enhanced` subscriptions are kept the same way; their extras (delivery photo,
//! `receivedBy`, `eventPreferences` filtering) are not simulated. The answer is a
//! `PackageSubscriptionSuccessResponse`.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Duration;
use serde_json::{Map, Value, json};

use crate::error::{UpsError, code};
use crate::oauth::require_access;
use crate::shipping::schema::{SchemaError, ShipSchema};
use crate::state::State;
use crate::track::{Subscription, TRACK_ALERT_YAML};

/// How long a subscription lasts.
pub(crate) const LIFETIME_DAYS: i64 = 14;
/// "up to 100 tracking numbers in each submission".
pub(crate) const MAX_NUMBERS: usize = 100;

/// `PackageSubscriptionRequest`, its items' pattern lifted (see the module docs).
static REQUEST_SCHEMA: LazyLock<Result<ShipSchema, SchemaError>> = LazyLock::new(|| {
    ShipSchema::from_document(
        TRACK_ALERT_YAML,
        "PackageSubscriptionRequest",
        |definitions| {
            let items = definitions
                .get_mut("PackageSubscriptionRequest")
                .and_then(|schema| {
                    schema.pointer_mut("/allOf/1/properties/trackingNumberList/items")
                });
            if let Some(items) = items {
                *items = json!({"type": "string"});
            }
        },
    )
});

fn vss(code: &str, message: &str) -> UpsError {
    UpsError::bad_request(code, message)
}

fn not_found() -> UpsError {
    UpsError::new(
        StatusCode::NOT_FOUND,
        "404",
        "The requested resource was not found.",
    )
}

/// `TrackingNumber`: `1Z` + 16, or `1R` + 14 or 26, upper-case letters and digits.
pub(crate) fn matches_pattern(number: &str) -> bool {
    let alphanumeric = |rest: &str| {
        rest.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    if let Some(rest) = number.strip_prefix("1Z") {
        return rest.len() == 16 && alphanumeric(rest);
    }
    if let Some(rest) = number.strip_prefix("1R") {
        return matches!(rest.len(), 14 | 26) && alphanumeric(rest);
    }
    false
}

/// `POST /api/track/{version}/subscription/{type}/package`.
pub(crate) async fn subscribe(
    Extract(state): Extract<Arc<State>>,
    Path((version, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, &version, &kind, &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(Refusal::Error(error)) => {
            tracing::info!(code = error.code(), "subscription refused");
            error.into_response()
        }
        Err(Refusal::NoValidNumber(invalid)) => {
            let error = vss(
                "VSS210",
                "The Subscription request should have at least one valid tracking number. The Subscription request has been rejected.",
            );
            let mut body = error.body();
            body["invalidTrackingNumbers"] = json!(invalid);
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

enum Refusal {
    Error(UpsError),
    NoValidNumber(Vec<String>),
}

impl From<UpsError> for Refusal {
    fn from(error: UpsError) -> Self {
        Refusal::Error(error)
    }
}

fn check_headers(headers: &HeaderMap) -> Result<(), UpsError> {
    let checks = [
        (
            "transId",
            32,
            "VSS002",
            "Missing transId",
            "VSS003",
            "Please enter a valid Transaction ID, The Subscription request has been rejected.",
        ),
        (
            "transactionSrc",
            512,
            "VSS004",
            "Missing transactionSrc",
            "VSS006",
            "Please enter a valid Transaction SRC, The Subscription request has been rejected.",
        ),
    ];
    for (name, limit, missing, missing_message, invalid, invalid_message) in checks {
        let Some(value) = headers.get(name) else {
            return Err(vss(missing, missing_message));
        };
        let valid = value
            .to_str()
            .is_ok_and(|text| !text.trim().is_empty() && text.len() <= limit);
        if !valid {
            return Err(vss(invalid, invalid_message));
        }
    }
    Ok(())
}

fn check_json(headers: &HeaderMap) -> Result<(), UpsError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/json") {
        Ok(())
    } else {
        Err(vss("10007", "Requested Content Type is not supported"))
    }
}

/// The request's tracking numbers once the body passed every check.
fn check_body(body: &[u8]) -> Result<Vec<String>, UpsError> {
    let empty = || {
        vss(
            "VSS110",
            "Subscription request is empty or not present. The Subscription request has been rejected.",
        )
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let request: Map<String, Value> = serde_json::from_slice(body).map_err(|_| empty())?;
    if request.is_empty() {
        return Err(empty());
    }
    match request.get("locale") {
        None | Some(Value::Null) => {
            return Err(vss(
                "VSS300",
                "Locale is required. The Subscription request has been rejected.",
            ));
        }
        Some(Value::String(locale)) if locale == "en_US" => {}
        Some(_) => {
            return Err(vss(
                "VSS310",
                "Please enter a valid locale. The Subscription request has been rejected",
            ));
        }
    }
    if let Some(country) = request.get("countryCode") {
        let valid = country
            .as_str()
            .is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
        if !valid {
            return Err(vss(
                "VSS400",
                "Please enter a valid country code. The Subscription request has been rejected.",
            ));
        }
    }
    let numbers = match request.get("trackingNumberList") {
        None | Some(Value::Null) => {
            return Err(vss(
                "VSS200",
                "Tracking Number List is required. The Subscription request has been rejected.",
            ));
        }
        Some(Value::Array(numbers)) => numbers.clone(),
        Some(_) => {
            return Err(vss(
                "VSS000",
                "Invalid request and The Subscription request has been rejected.",
            ));
        }
    };
    if numbers.len() > MAX_NUMBERS {
        return Err(vss(
            "VSS220",
            "You have submitted over 100 tracking numbers which is not allowed. The entire submission of tracking numbers has been rejected.  Please resubmit your request again using groups of no more than 100 tracking numbers.",
        ));
    }
    let schema = REQUEST_SCHEMA.as_ref().map_err(|error| {
        tracing::error!(%error, "the Track Alert schema is unusable");
        UpsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "10004",
            "Something went wrong while processing your request, please try again later",
        )
    })?;
    let instance = Value::Object(request);
    if let Some(violation) = schema.check_strictly(&instance, 1).into_iter().next() {
        return Err(vss(
            "VSS000",
            &format!(
                "Invalid request and The Subscription request has been rejected. ({}: {})",
                violation.path, violation.message
            ),
        ));
    }
    Ok(numbers
        .into_iter()
        .filter_map(|number| number.as_str().map(str::to_owned))
        .collect())
}

fn handle(
    state: &State,
    version: &str,
    kind: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, Refusal> {
    match version {
        "v2" => {}
        "v1" => {
            return Err(UpsError::bad_request(
                code::NOT_SIMULATED,
                "Track Alert v1 is supported at UPS but not simulated; use v2",
            )
            .into());
        }
        _ => return Err(not_found().into()),
    }
    if kind != "standard" && kind != "enhanced" {
        return Err(not_found().into());
    }
    let grant = require_access(state, headers)?;
    check_headers(headers)?;
    check_json(headers)?;
    let numbers = check_body(body)?;
    let issued: Vec<String> = {
        let book = state.shipments();
        numbers
            .iter()
            .filter(|number| {
                matches_pattern(number)
                    && book
                        .ledger
                        .iter()
                        .any(|entry| entry.tracking_numbers.contains(number))
            })
            .cloned()
            .collect()
    };
    let mut valid: Vec<String> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    for number in numbers {
        let list = if issued.contains(&number) {
            &mut valid
        } else {
            &mut invalid
        };
        if !list.contains(&number) {
            list.push(number);
        }
    }
    if valid.is_empty() {
        return Err(Refusal::NoValidNumber(invalid));
    }
    let expires_at = state.now() + Duration::days(LIFETIME_DAYS);
    {
        let mut tracking = state.tracking();
        for number in &valid {
            tracking.subscriptions.insert(
                (grant.client_id.clone(), number.clone()),
                Subscription {
                    app: grant.client_id.clone(),
                    tracking_number: number.clone(),
                    kind: kind.to_owned(),
                    expires_at,
                },
            );
        }
    }
    tracing::info!(app = %grant.client_id, valid = valid.len(), invalid = invalid.len(), "Track Alert subscription");
    let mut answer = json!({"validTrackingNumbers": valid});
    if !invalid.is_empty() {
        answer["invalidTrackingNumbers"] = json!(invalid);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_schema_compiles_from_the_spec() {
        assert!(
            REQUEST_SCHEMA.is_ok(),
            "{:?}",
            REQUEST_SCHEMA.as_ref().err()
        );
    }

    #[test]
    fn the_pattern_takes_1z_and_1r_numbers() {
        assert!(matches_pattern("1ZCIETST0111111114"));
        assert!(matches_pattern("1R12345678912345"));
        assert!(matches_pattern(&format!("1R{}", "1".repeat(26))));
        // The spec's third example (`1R` + 24 characters) breaks its own pattern, which wins.
        assert!(!matches_pattern("1R123456789123456789012345"));
        assert!(!matches_pattern("1Z1234567$8"));
        assert!(!matches_pattern("1z999aa10123456784"));
    }

    #[test]
    fn event_preferences_outside_the_spec_are_refused_as_invalid() {
        let body = json!({"locale": "en_US", "trackingNumberList": ["1Z999AA10123456784"], "eventPreferences": ["Q"]});
        let error = check_body(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(error.code(), "VSS000");
    }
}
