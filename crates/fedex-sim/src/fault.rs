//! Runtime fault injection, the same kinds as the UPS and USPS simulators'.
//!
//! A [`FaultRule`] names a route (see [`crate::ledger::route`], or `"*"` for every route) and a
//! [`Fault`]; `times` limits it to the next N matching requests, `probability` applies it at
//! random. Rules are tried in the order they were added; the first that fires is applied. JSON,
//! as accepted by `POST /__sim/faults`:
//!
//! ```json
//! {"route": "ship", "fault": {"kind": "status", "status": 503}, "times": 1}
//! {"route": "token", "fault": {"kind": "latency", "ms": 200}, "probability": 0.5}
//! {"route": "track", "fault": {"kind": "rate_limit", "retry_after_s": 3}}
//! {"route": "ship", "fault": {"kind": "reset_after_commit"}}
//! {"route": "ship", "fault": {"kind": "malformed"}}
//! {"route": "cancel", "fault": {"kind": "expired_token"}}
//! {"route": "ship", "fault": {"kind": "replace_body", "body": "<html>gateway</html>"}}
//! ```
//!
//! What each fault does:
//! - `latency`: waits `ms` milliseconds, then handles the request normally — to its end even
//!   when the caller gave up meanwhile (as FedEx would: a shipment is made after the client's
//!   timeout).
//! - `status`: answers `status` (400–599) without handling the request, with FedEx's error body
//!   (`{"transactionId": …, "errors": [...]}`; the code is the files' own for 401, 403, 404,
//!   500 and 503, else `INVALID.INPUT.EXCEPTION`); 503 also carries `Retry-After: 1`.
//! - `rate_limit`: answers 429 with `Retry-After: <retry_after_s>` and the error body (code
//!   `RATE.LIMIT.EXCEEDED`, the simulator's: the files define no 429).
//! - `reset_after_commit`: handles the request (a shipment is created and recorded in the
//!   ledger), then sends the status line and headers with a body that fails at once, so the
//!   connection is cut mid-response and the client sees a transport error.
//! - `malformed`: handles the request, then sends its status and content type with the body
//!   cut to half its length.
//! - `expired_token`: only on the routes that take a bearer token (all but `token`): the
//!   presented token is forgotten and the route answers 401 `NOT.AUTHORIZED.ERROR` as for an
//!   expired token. A rule naming `token` is refused; `"*"` rules skip it.
//! - `replace_body`: handles the request, then sends its status and headers with `body`
//!   instead of the simulator's (an HTML error page of a proxy, say).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::stream;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{FedexError, code};
use crate::ledger::{Counters, route};
use crate::oauth::bearer_token;
use crate::state::State;

/// A rule that makes matching requests misbehave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A route name from [`route`], or `"*"` for every route.
    pub route: String,
    /// What to do.
    pub fault: Fault,
    /// Apply to the next N matching requests only (`None`: until cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Apply with this probability, 0 to 1 (`None`: always).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// The misbehaviour of a [`FaultRule`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Delay the response by `ms` milliseconds.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer with this HTTP status and an error body.
    Status {
        /// 400 to 599.
        status: u16,
    },
    /// Answer 429 Too Many Requests with `Retry-After`.
    RateLimit {
        /// Seconds in `Retry-After`.
        retry_after_s: u64,
    },
    /// Handle the request, then cut the connection before the response body completes.
    ResetAfterCommit,
    /// Handle the request, then send a truncated body.
    Malformed,
    /// Revoke the presented access token and answer 401.
    ExpiredToken,
    /// Handle the request, then send this body instead of the simulator's.
    ReplaceBody {
        /// The body sent, as is.
        body: String,
    },
}

/// Why a fault rule was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultRuleError {
    /// The route is not one of [`route::ALL`] nor `"*"`.
    #[error("unknown route {0:?}; expected one of {routes} or \"*\"", routes = route::ALL.join(", "))]
    UnknownRoute(String),
    /// A status fault outside 400–599.
    #[error("status {0} is not an error status (400-599)")]
    NotAnErrorStatus(u16),
    /// A probability outside 0–1.
    #[error("probability {0} is not between 0 and 1")]
    Probability(f64),
    /// `times` of zero.
    #[error("times must be at least 1")]
    ZeroTimes,
    /// `expired_token` on a route without bearer tokens.
    #[error(
        "expired_token applies only to routes that take a bearer token (every route but token)"
    )]
    NoBearerToken,
}

impl FaultRule {
    /// Checks the rule before it is armed.
    pub fn check(&self) -> Result<(), FaultRuleError> {
        if self.route != "*" && !route::ALL.contains(&self.route.as_str()) {
            return Err(FaultRuleError::UnknownRoute(self.route.clone()));
        }
        if let Fault::Status { status } = self.fault {
            if !(400..=599).contains(&status) {
                return Err(FaultRuleError::NotAnErrorStatus(status));
            }
        }
        if let Some(probability) = self.probability {
            if !(0.0..=1.0).contains(&probability) {
                return Err(FaultRuleError::Probability(probability));
            }
        }
        if self.times == Some(0) {
            return Err(FaultRuleError::ZeroTimes);
        }
        if self.fault == Fault::ExpiredToken && self.route != "*" && !takes_bearer(&self.route) {
            return Err(FaultRuleError::NoBearerToken);
        }
        Ok(())
    }

    fn matches(&self, route_name: &str) -> bool {
        let route_matches = self.route == "*" || self.route == route_name;
        let applicable = self.fault != Fault::ExpiredToken || takes_bearer(route_name);
        route_matches && applicable
    }
}

/// Whether a route takes a bearer token (every route but `token`).
pub(crate) fn takes_bearer(route_name: &str) -> bool {
    route_name != route::TOKEN
}

impl State {
    /// Picks the fault to apply to a request on `route_name`, consuming one of its `times`.
    fn take_fault(&self, route_name: &str) -> Option<Fault> {
        let mut rules = self.faults();
        let mut chosen = None;
        for index in 0..rules.len() {
            let rule = &mut rules[index];
            if !rule.matches(route_name) {
                continue;
            }
            if let Some(probability) = rule.probability {
                if !rand::rng().random_bool(probability) {
                    continue;
                }
            }
            chosen = Some(index);
            break;
        }
        let index = chosen?;
        let fault = rules[index].fault.clone();
        if let Some(times) = rules[index].times.as_mut() {
            *times -= 1;
            if *times == 0 {
                rules.remove(index);
            }
        }
        Some(fault)
    }
}

/// Middleware for one route: applies faults and counts the call.
pub(crate) async fn observe(
    state: Arc<State>,
    route_name: &'static str,
    request: Request,
    next: Next,
) -> Response {
    let fault = state.take_fault(route_name);
    if let Some(fault) = &fault {
        tracing::info!(route = route_name, ?fault, "injecting fault");
        state.counters().faults_injected += 1;
    }
    let response = match fault {
        None => next.run(request).await,
        Some(Fault::Latency { ms }) => {
            // FedEx handles a request it received even when the caller stops waiting: the
            // delayed request runs to its end (shipment, ledger, counters) in a task of its
            // own, which a client hanging up does not cancel.
            let handled = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let response = next.run(request).await;
                let ok = response.status().as_u16() < 400;
                Counters::record(&mut state.counters().routes, route_name, ok);
                response
            });
            return handled
                .await
                .unwrap_or_else(|_| error_response(StatusCode::INTERNAL_SERVER_ERROR));
        }
        Some(Fault::Status { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error_response(status);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
        Some(Fault::RateLimit { retry_after_s }) => {
            let mut response = error_response(StatusCode::TOO_MANY_REQUESTS);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            response
        }
        Some(Fault::ExpiredToken) => {
            if let Some(token) = bearer_token(request.headers()) {
                state.revoke_access_token(&token);
            }
            FedexError::unauthorized().into_response()
        }
        Some(Fault::ResetAfterCommit) => {
            let (mut parts, _body) = next.run(request).await.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            let failing = stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated connection reset after commit",
                ))
            });
            Response::from_parts(parts, Body::from_stream(failing))
        }
        Some(Fault::ReplaceBody { body }) => {
            let (mut parts, _body) = next.run(request).await.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        Some(Fault::Malformed) => {
            let (mut parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            parts.headers.remove(header::CONTENT_LENGTH);
            let truncated = bytes.slice(..bytes.len() / 2);
            Response::from_parts(parts, Body::from(truncated))
        }
    };
    let ok = response.status().as_u16() < 400;
    Counters::record(&mut state.counters().routes, route_name, ok);
    response
}

fn error_response(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let description = format!("Simulated fault: {} {reason}", status.as_u16());
    let fault_code = match status.as_u16() {
        401 => code::NOT_AUTHORIZED,
        403 => code::FORBIDDEN,
        404 => "NOT.FOUND.ERROR",
        429 => code::RATE_LIMIT,
        500 => code::INTERNAL,
        503 => code::SERVICE_UNAVAILABLE,
        _ => code::INVALID_INPUT,
    };
    FedexError::new(status, fault_code, description).into_response()
}
