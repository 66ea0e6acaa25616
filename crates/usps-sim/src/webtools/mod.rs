//! The USPS Web Tools XML API at `/ShippingAPI.dll` (Web Tools developer guide v4.5): the
//! `API` parameter names the API and `XML` carries the request document, either in the query
//! string of a `GET` or in an `application/x-www-form-urlencoded` `POST` body. Replies are XML
//! with status 200, refusals included (an `<Error>` document, [`error`]).
//!
//! | `API` | module |
//! |---|---|
//! | `USPSReturnsLabel` (a billed return label, recorded in the ledger as `"webtools"`) | [`returns_label`] |
//! | `USPSReturnsLabelCertify` (a sample label: not billed, not in the ledger) | [`returns_label`] |
//!
//! Any other `API` value is refused as USPS refuses it: `80040B1A`, "API Authorization failure.
//! … is not a valid API name for this protocol." A missing or empty `XML` is `80040B19`. The
//! parameter names are case-sensitive; the first of a repeated parameter counts. The route is
//! named `"webtools"` for counters and fault rules. Nothing here logs `USERID` or `PASSWORD`.

use std::sync::Arc;

use axum::extract::{RawQuery, State as Extract};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::state::State;

pub mod error;

pub mod document;
pub mod returns_label;
pub mod schema;

use self::error::WebToolsError;
use self::returns_label::Api;

/// `GET /ShippingAPI.dll?API=…&XML=…`.
pub(crate) async fn shipping_api_get(
    Extract(state): Extract<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Response {
    answer(&state, query.as_deref().unwrap_or_default().as_bytes())
}

/// `POST /ShippingAPI.dll` with the form `API=…&XML=…`.
pub(crate) async fn shipping_api_post(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| {
            kind.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        tracing::info!("Web Tools POST without a form body refused");
        return WebToolsError::not_a_form().into_response();
    }
    answer(&state, &body)
}

fn parameter(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

fn answer(state: &State, encoded: &[u8]) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(encoded).into_owned().collect();
    let api = match parameter(&pairs, "API").filter(|api| !api.is_empty()) {
        None => return refuse(WebToolsError::missing_api()),
        Some(name) => match Api::from_name(&name) {
            Some(api) => api,
            None => return refuse(WebToolsError::unknown_api(&name)),
        },
    };
    match parameter(&pairs, "XML").filter(|xml| !xml.trim().is_empty()) {
        Some(xml) => returns_label::respond(state, api, &xml),
        None => refuse(WebToolsError::syntax()),
    }
}

fn refuse(error: WebToolsError) -> Response {
    tracing::info!(number = error.number, "Web Tools request refused");
    error.into_response()
}
