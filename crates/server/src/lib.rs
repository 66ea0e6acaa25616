//! Backhaul's HTTP API (axum), as `../shared/API.md` specifies it. It knows carriers only
//! through `carrier::Carrier` and the registry; the binary wires the plugins in.
//!
//! [`router`] builds the app from an [`AppState`] (tests call it directly); [`serve`] runs it.

pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod label;
pub mod label_row;
pub mod limit;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod plain_url;
pub mod request_head;
pub mod request_id;
pub mod routes;
pub mod serve;
pub mod state;
pub mod tracking;
pub mod void;
pub mod webhook;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;

pub use crate::error::ApiError;
pub use crate::state::AppState;

/// The whole API, the web console beside it. Every answer of the API is in its error shape:
/// an unknown route is 404 `not_found`, a known one with another method 405
/// `method_not_allowed` (with `Allow`), and the extractors of [`extract`] refuse bodies and
/// parameters the same way. The console keeps its own HTML pages (its own fallback).
pub fn router(state: AppState) -> Router {
    routes::api()
        // Before the console is merged: its 405s are the console's business.
        .method_not_allowed_fallback(method_not_allowed)
        .merge(console::router())
        .route_layer(middleware::from_fn(plain_url::refuse_control_characters))
        .fallback(no_such_route)
        .layer(axum::extract::DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit::request_timeout,
        ))
        .layer(middleware::from_fn(request_head::limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn no_such_route() -> ApiError {
    ApiError::NoSuchRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Logs one line per request (method, route template, status, latency — never the query
/// string or a body) and records its metrics.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = metrics::method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics().request(method, &route, status, elapsed);
    tracing::info!(%method, %route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request served");
    response
}

/// Serves the API on `listener` until `shutdown` resolves, within the state's
/// [`serve::Limits`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits();
    let open = state.metrics().connections().clone();
    serve::run(listener, router(state), limits, open, shutdown).await
}
