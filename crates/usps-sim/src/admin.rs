//! The simulator's own control routes under `/__sim` (not part of any USPS API):
//!
//! | route | does |
//! |---|---|
//! | `GET /__sim/ledger` | every label issued, as a JSON list of [`LedgerEntry`](crate::LedgerEntry) |
//! | `GET /__sim/counters` | [`Counters`](crate::Counters) as JSON |
//! | `GET /__sim/faults` | the armed fault rules |
//! | `POST /__sim/faults` | arms a [`FaultRule`] (JSON body); 400 with `{"error": "..."}` when it is invalid |
//! | `DELETE /__sim/faults` | disarms every rule |
//! | `GET /__sim/label-broker` | `{"available": true}`: whether USPS Label Broker answers |
//! | `PUT /__sim/label-broker` | `{"available": false}` makes every `LABEL_BROKER` return label fail with 160368 ("Label Broker Service is unavailable") until `{"available": true}` |
//! | `POST /__sim/tracking/{tracking_number}/events` | records a scan (see [`crate::tracking`]) |
//! | `GET /__sim/subscriptions` | every tracking subscription, as a JSON list of [`SubscriptionView`](crate::SubscriptionView) (no secrets) |
//! | `GET /__sim/pushes` | the push log: every delivery attempt, as a JSON list of [`PushRecord`](crate::PushRecord) |
//! | `POST /__sim/subscriptions/{id}/redeliver-last` | sends the subscription's last notification again, unchanged; 200 with its [`PushRecord`](crate::PushRecord), 404 when there is none |

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::fault::FaultRule;
use crate::state::State;

/// `GET /__sim/ledger`.
pub(crate) async fn ledger(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.labels().ledger.clone()).into_response()
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

/// `GET /__sim/subscriptions`.
pub(crate) async fn subscriptions(Extract(state): Extract<Arc<State>>) -> Response {
    let views: Vec<_> = state
        .subscriptions()
        .subscriptions
        .iter()
        .map(|subscription| subscription.view())
        .collect();
    Json(views).into_response()
}

/// `GET /__sim/pushes`.
pub(crate) async fn pushes(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.pushes().clone()).into_response()
}

/// `POST /__sim/subscriptions/{id}/redeliver-last`.
pub(crate) async fn redeliver_last(
    Extract(state): Extract<Arc<State>>,
    Path(id): Path<String>,
) -> Response {
    match state.redeliver_last(&id).await {
        Ok(record) => Json(record).into_response(),
        Err(error) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": error.to_string()})),
        )
            .into_response(),
    }
}

/// The body of `GET` and `PUT /__sim/label-broker`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelBrokerStatus {
    available: bool,
}

/// `GET /__sim/label-broker`.
pub(crate) async fn label_broker(Extract(state): Extract<Arc<State>>) -> Response {
    Json(LabelBrokerStatus {
        available: state.label_broker_available(),
    })
    .into_response()
}

/// `PUT /__sim/label-broker`.
pub(crate) async fn set_label_broker(Extract(state): Extract<Arc<State>>, body: Bytes) -> Response {
    match serde_json::from_slice::<LabelBrokerStatus>(&body) {
        Ok(status) => {
            tracing::info!(
                available = status.available,
                "Label Broker availability set"
            );
            state.set_label_broker_available(status.available);
            Json(status).into_response()
        }
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("expected {{\"available\": true | false}}: {error}")})),
        )
            .into_response(),
    }
}
