//! The simulator's own control routes under `/__sim` (not part of any UPS API):
//!
//! | route | does |
//! |---|---|
//! | `GET /__sim/ledger` | every shipment issued (voided ones marked), as a JSON list of [`LedgerEntry`](crate::LedgerEntry) |
//! | `GET /__sim/counters` | [`Counters`](crate::Counters) as JSON |
//! | `GET /__sim/faults` | the armed fault rules |
//! | `POST /__sim/faults` | arms a [`FaultRule`] (JSON body); 400 with `{"error": "..."}` when it is invalid |
//! | `DELETE /__sim/faults` | disarms every rule |
//! | `POST /__sim/tracking/{tracking_number}/events` | records a scan, `{"status": "accepted \| in_transit \| out_for_delivery \| delivered \| returned_to_sender \| exception"}` (API.md): 201 with the scan; 404 for a number the simulator never issued; 422 for an unknown status |
//! | `POST /__sim/tracking/{tracking_number}/push-again` | pushes the last scan again to every live subscriber (duplicates): 202 `{"queued": n}`; 404 when there is no scan |
//! | `GET /__sim/tracking/pushes` | the push log, a JSON list of [`PushRecord`](crate::PushRecord) |
//! | `GET /__sim/tracking/subscriptions` | every Track Alert subscription |
//! | `PUT /__sim/apps/{client_id}/webhook` | sets an app's Track Alert webhook ([`WebhookConfig`](crate::WebhookConfig) without `app`); 404 for an unknown app |

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State as Extract};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use crate::config::WebhookConfig;
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
        Ok((scan, queued)) => (
            StatusCode::CREATED,
            Json(json!({"tracking_number": number, "status": kind, "at": scan.at, "pushes_queued": queued})),
        )
            .into_response(),
        Err(error) => refusal(StatusCode::NOT_FOUND, error.to_string()),
    }
}

/// `POST /__sim/tracking/{tracking_number}/push-again`.
pub(crate) async fn push_again(
    Extract(state): Extract<Arc<State>>,
    Path(number): Path<String>,
) -> Response {
    match track::push_again(&state, &number) {
        Ok(queued) => (StatusCode::ACCEPTED, Json(json!({"queued": queued}))).into_response(),
        Err(error @ (ScanError::UnknownNumber(_) | ScanError::NothingScanned(_))) => {
            refusal(StatusCode::NOT_FOUND, error.to_string())
        }
    }
}

/// `GET /__sim/tracking/pushes`.
pub(crate) async fn pushes(Extract(state): Extract<Arc<State>>) -> Response {
    Json(state.tracking().pushes.clone()).into_response()
}

/// `GET /__sim/tracking/subscriptions`.
pub(crate) async fn subscriptions(Extract(state): Extract<Arc<State>>) -> Response {
    let all: Vec<_> = state.tracking().subscriptions.values().cloned().collect();
    Json(all).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookRequest {
    url: String,
    token_url: String,
    client_id: String,
    client_secret: String,
}

/// `PUT /__sim/apps/{client_id}/webhook`.
pub(crate) async fn set_webhook(
    Extract(state): Extract<Arc<State>>,
    Path(app): Path<String>,
    body: Bytes,
) -> Response {
    if state.config.app(&app).is_none() {
        return refusal(StatusCode::NOT_FOUND, format!("no app {app}"));
    }
    let request: WebhookRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                format!("not webhook settings: {error}"),
            );
        }
    };
    for url in [&request.url, &request.token_url] {
        if !url::Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "http" | "https")) {
            return refusal(
                StatusCode::BAD_REQUEST,
                "url and token_url must be http(s) URLs",
            );
        }
    }
    let mut tracking = state.tracking();
    tracking.tokens.remove(&app);
    tracking.webhooks.insert(
        app.clone(),
        WebhookConfig {
            app,
            url: request.url,
            token_url: request.token_url,
            client_id: request.client_id,
            client_secret: request.client_secret,
        },
    );
    StatusCode::NO_CONTENT.into_response()
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
