//! Runtime fault injection, the same kinds as the USPS simulator's.
//!
//! A [`FaultRule`] names a route (see [`crate::ledger::route`], or `"*"` for every route) and a
//! [`Fault`]; `times` limits it to the next N matching requests, `probability` applies it at
//! random. Rules are tried in the order they were added; the first that fires is applied. JSON,
//! as accepted by `POST /__sim/faults`:
//!
//! ```json
//! {"route": "ship", "fault": {"kind": "status", "status": 503}, "times": 1}
//! {"route": "token", "fault": {"kind": "latency", "ms": 200}, "probability": 0.5}
//! {"route": "refresh", "fault": {"kind": "rate_limit", "retry_after_s": 3}}
//! {"route": "ship", "fault": {"kind": "reset_after_commit"}}
//! {"route": "ship", "fault": {"kind": "malformed"}}
//! {"route": "void", "fault": {"kind": "expired_token"}}
//! ```
//!
//! What each fault does:
//! - `latency`: waits `ms` milliseconds, then handles the request normally.
//! - `status`: answers `status` (400–599) without handling the request, with UPS's error body
//!   (`{"response": {"errors": [...]}}`; an HTML page on the consent page); 503 also carries
//!   `Retry-After: 1`.
//! - `rate_limit`: answers 429 (the specs' "Rate Limit Exceeded") with
//!   `Retry-After: <retry_after_s>` and the error body.
//! - `reset_after_commit`: handles the request (a shipment is created and recorded in the
//!   ledger), then sends the status line and headers with a body that fails at once, so the
//!   connection is cut mid-response and the client sees a transport error.
//! - `malformed`: handles the request, then sends its status and content type with the body
//!   cut to half its length.
//! - `expired_token`: only on the routes that take a bearer token (`ship`, `void`, `track`,
//!   `subscribe`): the
//!   presented token is forgotten and the route answers 401 as for an expired token. A rule
//!   naming another route is refused; `"*"` rules skip them.

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

use crate::error::{UpsError, code};
use crate::ledger::{Counters, route};
use crate::oauth::{authorize, bearer_token};
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
        "expired_token applies only to routes that take a bearer token: ship, void, track, subscribe"
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
        if self.fault == Fault::ExpiredToken
            && self.route != "*"
            && !Flavor::of(&self.route).takes_bearer()
        {
            return Err(FaultRuleError::NoBearerToken);
        }
        Ok(())
    }

    fn matches(&self, route_name: &str) -> bool {
        let route_matches = self.route == "*" || self.route == route_name;
        let applicable = self.fault != Fault::ExpiredToken || Flavor::of(route_name).takes_bearer();
        route_matches && applicable
    }
}

/// How a route reports errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// An HTML page (the consent page).
    Html,
    /// UPS's JSON error shape, on a route without a bearer token (token, refresh).
    OAuth,
    /// UPS's JSON error shape, on a route taking a bearer token (ship, void).
    Api,
}

impl Flavor {
    pub(crate) fn of(route_name: &str) -> Self {
        match route_name {
            route::AUTHORIZE => Self::Html,
            route::TOKEN | route::REFRESH => Self::OAuth,
            _ => Self::Api,
        }
    }

    fn takes_bearer(self) -> bool {
        self == Self::Api
    }
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
    let flavor = Flavor::of(route_name);
    let fault = state.take_fault(route_name);
    if let Some(fault) = &fault {
        tracing::info!(route = route_name, ?fault, "injecting fault");
        state.counters().faults_injected += 1;
    }
    let response = match fault {
        None => next.run(request).await,
        Some(Fault::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        Some(Fault::Status { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error_response(flavor, status);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            response
        }
        Some(Fault::RateLimit { retry_after_s }) => {
            let mut response = error_response(flavor, StatusCode::TOO_MANY_REQUESTS);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            response
        }
        Some(Fault::ExpiredToken) => {
            if let Some(token) = bearer_token(request.headers()) {
                state.revoke_access_token(&token);
            }
            UpsError::unauthorized().into_response()
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

fn error_response(flavor: Flavor, status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let description = format!("Simulated fault: {} {reason}", status.as_u16());
    match flavor {
        Flavor::Html => authorize::error_page(status, &description),
        Flavor::OAuth | Flavor::Api => {
            UpsError::new(status, code::FAULT, description).into_response()
        }
    }
}
