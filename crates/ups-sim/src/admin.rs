//! The simulator's own control routes under `/__sim` (not part of any UPS API):
//!
//! | route | does |
//! |---|---|
//! | `GET /__sim/ledger` | every shipment issued (voided ones marked), as a JSON list of [`LedgerEntry`](crate::LedgerEntry) |
//! | `GET /__sim/counters` | [`Counters`](crate::Counters) as JSON |
//! | `GET /__sim/faults` | the armed fault rules |
//! | `POST /__sim/faults` | arms a [`FaultRule`] (JSON body); 400 with `{"error": "..."}` when it is invalid |
//! | `DELETE /__sim/faults` | disarms every rule |

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use crate::fault::FaultRule;
use crate::state::State;

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
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("not a fault rule: {error}")})),
            )
                .into_response();
        }
    };
    if let Err(error) = rule.check() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": error.to_string()})),
        )
            .into_response();
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
