//! UPS's one error shape, shared by the OAuth files (`tokenErrorResponse`) and Shipping.yaml
//! (`ErrorResponse`): `{"response": {"errors": [{"code": "…", "message": "…"}]}}`.
//!
//! Neither spec lists error codes (Shipping.yaml points to a web page of them; the OAuth files
//! say nothing), so every code below is the simulator's choice, modelled on the numbers UPS is
//! known to send; each constant says what it stands for.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Error codes (all chosen by the simulator; the specs list none).
pub mod code {
    /// OAuth: a request parameter is missing, repeated or invalid.
    pub const INVALID_REQUEST: &str = "10400";
    /// OAuth: unknown client or wrong secret.
    pub const INVALID_CLIENT: &str = "10401";
    /// OAuth: the code or refresh token is unknown, used, expired or bound elsewhere.
    pub const INVALID_GRANT: &str = "10402";
    /// OAuth: a `grant_type` the endpoint does not serve.
    pub const UNSUPPORTED_GRANT_TYPE: &str = "10403";
    /// API: missing, unknown or expired bearer token.
    pub const INVALID_AUTHENTICATION: &str = "250002";
    /// API: the request body is not JSON or does not match the schema.
    pub const SCHEMA: &str = "10002";
    /// API: a business rule the spec states in prose.
    pub const RULE: &str = "120500";
    /// API: a Shipper or bill-shipper number the caller may not use.
    pub const SHIPPER_NUMBER: &str = "120100";
    /// API: a feature this simulator does not simulate.
    pub const NOT_SIMULATED: &str = "9999001";
    /// API: the version path segment is not one the spec lists.
    pub const VERSION: &str = "10003";
    /// Void: no such shipment.
    pub const VOID_NOT_FOUND: &str = "190102";
    /// Void: the shipment was voided before.
    pub const VOID_ALREADY: &str = "190117";
    /// A simulated fault.
    pub const FAULT: &str = "9999000";
}

/// One UPS error answer: a status and its `errors` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `(code, message)` pairs, in order.
    pub errors: Vec<(String, String)>,
}

impl UpsError {
    /// An answer with one error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![(code.to_owned(), message.into())],
        }
    }

    /// 400 with one error.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 for a missing, unknown or expired bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::INVALID_AUTHENTICATION,
            "Invalid Authentication Information.",
        )
    }

    /// The first error's code.
    pub fn code(&self) -> &str {
        self.errors.first().map_or("", |(code, _)| code.as_str())
    }

    /// The body as JSON.
    pub fn body(&self) -> serde_json::Value {
        let errors: Vec<_> = self
            .errors
            .iter()
            .map(|(code, message)| json!({"code": code, "message": message}))
            .collect();
        json!({"response": {"errors": errors}})
    }
}

impl IntoResponse for UpsError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
