//! Backhaul's HTTP API (axum), as `../shared/API.md` specifies it. It knows carriers only
//! through `carrier::Carrier` and the registry; the binary wires the plugins in.
//!
//! [`router`] builds the app from an [`AppState`] (tests call it directly); [`serve`] runs it.

pub mod auth;
pub mod console;
pub mod error;
pub mod label;
pub mod limit;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod plain_url;
pub mod request_id;
pub mod routes;
pub mod serve;
pub mod state;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;

pub use crate::error::ApiError;
pub use crate::state::AppState;

/// The largest request body accepted (labels and accounts are small).
const BODY_LIMIT: usize = 256 * 1024;

/// The whole API.
pub fn router(state: AppState) -> Router {
    use routes::{accounts, admin, api_keys, labels, ops};
    Router::new()
        .route(
            "/v1/shipper-accounts",
            post(accounts::create).get(accounts::list),
        )
        .route(
            "/v1/shipper-accounts/{id}",
            get(accounts::get)
                .patch(accounts::update)
                .delete(accounts::disable),
        )
        .route("/v1/return-labels", post(labels::create).get(labels::list))
        .route("/v1/return-labels/{id}", get(labels::get))
        .route("/v1/return-labels/{id}/label", get(labels::label_document))
        .route(
            "/v1/return-labels/{id}/receipt",
            get(labels::receipt_document),
        )
        // Login with USPS (OAuth onboarding): the tenant's connect call and the browser's
        // callback, which carries no API key (routes::oauth).
        .route(
            "/v1/shipper-accounts/{carrier}/connect",
            post(routes::oauth::connect),
        )
        .route("/v1/{carrier}/oauth/callback", get(routes::oauth::callback))
        .route(
            "/v1/admin/api-keys",
            get(api_keys::admin_list).post(api_keys::admin_create),
        )
        .route("/v1/admin/api-keys/{id}", delete(api_keys::admin_revoke))
        .route("/v1/api-keys", get(api_keys::tenant_list))
        .route("/v1/api-keys/{id}", delete(api_keys::tenant_revoke))
        .route("/v1/admin/shipper-accounts", get(admin::accounts))
        .route("/v1/admin/audit-events", get(admin::events))
        .route("/v1/admin/audit-events/verify", post(admin::verify))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(console::router())
        .route_layer(middleware::from_fn(plain_url::refuse_control_characters))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit::request_timeout,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
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
