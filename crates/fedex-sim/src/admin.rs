//! The simulator's own control routes under `/__sim` (not part of any FedEx API):
//!
//! | route | does |
//! |---|---|
//! | `GET /__sim/ledger` | every shipment (cancelled ones marked), a JSON list of [`LedgerEntry`](crate::LedgerEntry) |
//! | `GET /__sim/counters` | [`Counters`](crate::Counters) as JSON |
//! | `GET /__sim/faults` | the armed fault rules |
//! | `POST /__sim/faults` | arms a [`FaultRule`] (JSON body); 400 with `{"error": "..."}` when it is invalid |
//! | `DELETE /__sim/faults` | disarms every rule |
//! | `POST /__sim/clock/advance` | moves the simulator clock forward, `{"seconds": n}`: 200 `{"now": …}` |
//! | `POST /__sim/tracking/{tracking_number}/events` | records a scan, `{"status": "accepted \| in_transit \| out_for_delivery \| delivered \| returned_to_sender \| exception"}` (API.md): 201 with the scan; 404 for a number the simulator never issued; 409 for a cancelled shipment; 422 for an unknown status |
//! | `GET /__sim/registration/pins` | the PIN outbox, a JSON list of [`SentPin`](crate::SentPin), newest last |
//! | `GET /__sim/labels/{tracking_number}` | the label of a package (what a `URL_ONLY` answer links to); 404 for none |

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use crate::fault::FaultRule;
use crate::state::State;
use crate::track::{self, ScanError, ScanKind};

fn refusal(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanRequest {
    status: String,
}

/// `POST /__sim/tracking/{tracking_number}/events`.
pub(crate) async fn record_scan(
    Extract(state): Extract<Arc<State>>,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("expected {{\"status\": \"…\"}}: {error}"),
            );
        }
    };
    let Some(kind) = ScanKind::parse(&request.status) else {
        let known: Vec<&str> = ScanKind::ALL.iter().map(|kind| kind.as_str()).collect();
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "unknown status {:?}; expected one of {}",
                request.status,
                known.join(", ")
            ),
        );
    };
    match track::record(&state, &number, kind) {
        Ok(scan) => (
            StatusCode::CREATED,
            Json(json!({"tracking_number": number, "status": kind, "at": scan.at})),
        )
            .into_response(),
        Err(error @ ScanError::UnknownNumber(_)) => {
            refusal(StatusCode::NOT_FOUND, error.to_string())
        }
        Err(error @ ScanError::Cancelled(_)) => refusal(StatusCode::CONFLICT, error.to_string()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    seconds: u64,
}

/// `POST /__sim/clock/advance`.
pub(crate) async fn advance_clock(Extract(state): Extract<Arc<State>>, body: Bytes) -> Response {
    match serde_json::from_slice::<AdvanceRequest>(&body) {
        Ok(request) => {
            state.advance_clock(std::time::Duration::from_secs(request.seconds));
            Json(json!({"now": state.now()})).into_response()
        }
        Err(error) => refusal(
            StatusCode::BAD_REQUEST,
            format!("expected {{\"seconds\": n}}: {error}"),
        ),
    }
}

/// `GET /__sim/registration/pins`.
pub(crate) async fn pins(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.credentials().outbox.clone()).into_response()
}

/// `GET /__sim/labels/{tracking_number}`.
pub(crate) async fn label(
    Extract(state): Extract<Arc<State>>,
    Path(number): Path<String>,
) -> Response {
    match state.shipments().documents.get(&number) {
        Some(document) => (
            [(header::CONTENT_TYPE, document.content_type)],
            document.bytes.clone(),
        )
            .into_response(),
        None => refusal(StatusCode::NOT_FOUND, format!("no label for {number}")),
    }
}

/// `GET /__sim/ledger`.
pub(crate) async fn ledger(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.shipments().ledger.clone()).into_response()
}

/// `GET /__sim/counters`.
pub(crate) async fn counters(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.counters().clone()).into_response()
}

/// `GET /__sim/faults`.
pub(crate) async fn faults(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.faults().clone()).into_response()
}

/// `POST /__sim/faults`.
pub(crate) async fn add_fault(Extract(state): Extract<Arc<State>>, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(rule) => rule,
        Err(error) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                format!("not a fault rule: {error}"),
            );
        }
    };
    if let Err(error) = rule.check() {
        return refusal(StatusCode::BAD_REQUEST, error.to_string());
    }
    tracing::info!(route = %rule.route, fault = ?rule.fault, "fault rule armed");
    state.faults().push(rule.clone());
    (StatusCode::CREATED, Json(rule)).into_response()
}

/// `DELETE /__sim/faults`.
pub(crate) async fn clear_faults(Extract(state): Extract<Arc<State>>) -> Response {
    state.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}
