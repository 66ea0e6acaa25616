//! The HTTP routes, one module per resource, and [`operations`]: the one table of the API's
//! operations (method, path template, handler) that [`api`] mounts and the OpenAPI test
//! compares with the document — axum cannot list a router's routes, so the table is the list.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod carriers;
pub mod events;
pub mod labels;
pub mod oauth;
pub mod ops;
pub mod tracking;
pub mod webhooks;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use crate::state::AppState;

/// One operation of the API: a method on a path template, and its handler.
#[derive(Debug)]
pub struct Operation {
    pub method: Method,
    /// The template as axum and the OpenAPI document write it (`/v1/return-labels/{id}`).
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Operation {
    fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::GET,
            path,
            handler: routing::get(handler),
        }
    }

    fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::POST,
            path,
            handler: routing::post(handler),
        }
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::PATCH,
            path,
            handler: routing::patch(handler),
        }
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self {
            method: Method::DELETE,
            path,
            handler: routing::delete(handler),
        }
    }
}

/// Every operation of the API (the web console is not part of it: see [`crate::console`]).
pub fn operations() -> Vec<Operation> {
    vec![
        Operation::post("/v1/shipper-accounts", accounts::create),
        Operation::get("/v1/shipper-accounts", accounts::list),
        Operation::get("/v1/shipper-accounts/{id}", accounts::get),
        Operation::patch("/v1/shipper-accounts/{id}", accounts::update),
        Operation::delete("/v1/shipper-accounts/{id}", accounts::disable),
        // A carrier's sign-in (OAuth onboarding): the tenant's connect call and the browser's
        // callback, which carries no API key.
        Operation::post("/v1/shipper-accounts/{carrier}/connect", oauth::connect),
        Operation::get("/v1/{carrier}/oauth/callback", oauth::callback),
        // Signing in again for an account in place ("Reconnect").
        Operation::post("/v1/shipper-accounts/{id}/reconnect", oauth::reconnect),
        // Proving an account registered with its carrier (registration onboarding).
        Operation::post(
            "/v1/shipper-accounts/{id}/verification",
            accounts::answer_verification,
        ),
        Operation::post(
            "/v1/shipper-accounts/{id}/verification/restart",
            accounts::restart_verification,
        ),
        Operation::post("/v1/return-labels", labels::create),
        Operation::get("/v1/return-labels", labels::list),
        Operation::get("/v1/return-labels/{id}", labels::get),
        Operation::get("/v1/return-labels/{id}/label", labels::label_document),
        Operation::get("/v1/return-labels/{id}/receipt", labels::receipt_document),
        Operation::get("/v1/return-labels/{id}/qr-code", labels::qr_code_image),
        Operation::post("/v1/return-labels/{id}/void", labels::void),
        Operation::get("/v1/return-labels/{id}/tracking", tracking::label_tracking),
        // Carriers push tracking here (no API key: each carrier's own check, by its plugin).
        Operation::post("/v1/carrier-webhooks/{carrier}", tracking::receive),
        Operation::post("/v1/carrier-webhooks/{carrier}/token", tracking::token),
        Operation::get("/v1/carriers", carriers::list),
        Operation::post("/v1/webhook-endpoints", webhooks::create),
        Operation::get("/v1/webhook-endpoints", webhooks::list),
        Operation::get("/v1/webhook-endpoints/{id}", webhooks::get),
        Operation::patch("/v1/webhook-endpoints/{id}", webhooks::update),
        Operation::delete("/v1/webhook-endpoints/{id}", webhooks::delete),
        Operation::post(
            "/v1/webhook-endpoints/{id}/rotate-secret",
            webhooks::rotate_secret,
        ),
        Operation::post("/v1/webhook-endpoints/{id}/test", webhooks::test),
        Operation::get(
            "/v1/webhook-endpoints/{id}/deliveries",
            webhooks::deliveries,
        ),
        Operation::post(
            "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
            webhooks::redeliver,
        ),
        Operation::get("/v1/events", events::list),
        Operation::get("/v1/events/{id}", events::get),
        Operation::get("/v1/api-keys", api_keys::tenant_list),
        Operation::delete("/v1/api-keys/{id}", api_keys::tenant_revoke),
        Operation::get("/v1/admin/api-keys", api_keys::admin_list),
        Operation::post("/v1/admin/api-keys", api_keys::admin_create),
        Operation::delete("/v1/admin/api-keys/{id}", api_keys::admin_revoke),
        Operation::get("/v1/admin/shipper-accounts", admin::accounts),
        Operation::get("/v1/admin/audit-events", admin::events),
        Operation::post("/v1/admin/audit-events/verify", admin::verify),
        Operation::get("/healthz", ops::healthz),
        Operation::get("/readyz", ops::readyz),
        Operation::get("/metrics", ops::metrics),
        Operation::get("/openapi.json", ops::openapi),
    ]
}

/// The API's routes, built from [`operations`] (the operations of one path share its route).
pub fn api() -> Router<AppState> {
    operations()
        .into_iter()
        .fold(Router::new(), |router, operation| {
            router.route(operation.path, operation.handler)
        })
}
