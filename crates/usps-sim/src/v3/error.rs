//! The v3 `ErrorMessage` body (the same schema in payments.yaml and domestic-labels.yaml):
//!
//! ```json
//! {"apiVersion": "/labels/v3",
//!  "error": {"code": "400", "message": "Bad Request",
//!            "errors": [{"status": "400", "code": "160075", "title": "Bad Request",
//!                        "detail": "firstName and lastName or firm name are required",
//!                        "source": {"parameter": "toAddress.firstName, toAddress.lastName, toAddress.firm"}}]}}
//! ```
//!
//! `error.message` and each `title` are the HTTP reason phrase, as in the spec's own example
//! (`ExampleCancelError_NOTFOUND`); `detail` carries the inventory message and `code` the
//! inventory code. Errors that the USPS inventory has no code for use the simulator codes below,
//! so a client can tell them apart (and a reader of a log knows they came from the simulator):
//!
//! | code | when |
//! |---|---|
//! | `OAS_VALIDATION` | the body, a header or a parameter does not match the OpenAPI schema (type, required, enum, pattern, length, range, unknown property) |
//! | `SIM_UNAUTHORIZED` | missing, unknown, expired or revoked bearer access token (401) |
//! | `SIM_FORBIDDEN` | the token may not do this (403): client-credentials or non-`openid` token on UserInfo, a CRID the signed-in user does not own, a token without the `tracking` or `subscriptions-tracking` scope on those APIs |
//! | `SIM_NOT_FOUND` | a tracking number the simulator never issued, a subscription id the client has not created (404) |
//! | `SIM_PRECONDITION_FAILED` | an `If-Match` that is not the subscription's current `ETag`, or one older than an hour (412) |
//! | `SIM_PAYMENT_TOKEN` | missing, unknown or expired `X-Payment-Authorization-Token` (401), or one issued to another client |
//! | `SIM_UNKNOWN_CRID` | a role's CRID is not in the simulator's test data |
//! | `SIM_MID_NOT_OWNED` | a MID or manifestMID is not registered to the role's CRID |
//! | `SIM_PERMIT_NOT_FOUND` | the permit number is not registered to the role's CRID |
//! | `SIM_PERMIT_ZIP_MISMATCH` | the permit exists but `permitZIP` is not its ZIP Code |
//! | `SIM_UNSUPPORTED` | the request is valid but asks for something the simulator does not do (XML, JPG/GIF images, OMAS, branding images) |
//! | `SIM_INVALID_COMBINATION` | a rule stated in the spec's prose that the inventory has no code for (FLATS with Ground Advantage, EPL300DPI for returns, ZPL with SAME_PAGE receipts, girth on rectangular packages, a missing senderAddress for SENDER_INFORMATION, Priority Mail Express packaging with another class) |
//! | `SIM_IDEMPOTENCY_CONFLICT` | an `X-Idempotency-Key` reused with a different request body |
//! | `SIM_NOT_ACCEPTABLE` | `Accept` asks only for `application/vnd.usps.labels+xml` (406) |
//! | `SIM_UNSUPPORTED_MEDIA_TYPE` | the request `Content-Type` is not `application/json` (415) |

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which API raised the error (`apiVersion`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApiVersion {
    /// `/oauth2-oidc/v3` (UserInfo).
    UserInfo,
    /// `/payments/v3`.
    Payments,
    /// `/labels/v3`.
    Labels,
    /// `/tracking/v3`.
    Tracking,
    /// `/subscriptions-tracking/v3r2`.
    Subscriptions,
}

impl ApiVersion {
    fn as_str(self) -> &'static str {
        match self {
            Self::UserInfo => "/oauth2-oidc/v3",
            Self::Payments => "/payments/v3",
            Self::Labels => "/labels/v3",
            Self::Tracking => "/tracking/v3",
            Self::Subscriptions => "/subscriptions-tracking/v3r2",
        }
    }
}

/// One entry of `error.errors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ErrorDetail {
    pub(crate) code: String,
    pub(crate) detail: String,
    pub(crate) parameter: Option<String>,
    pub(crate) example: Option<String>,
}

impl ErrorDetail {
    pub(crate) fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            detail: detail.into(),
            parameter: None,
            example: None,
        }
    }

    /// Names the input that caused the error (`source.parameter`).
    pub(crate) fn at(mut self, parameter: impl Into<String>) -> Self {
        self.parameter = Some(parameter.into());
        self
    }

    /// Adds an example of a valid value (`source.example`).
    pub(crate) fn example(mut self, example: impl Into<String>) -> Self {
        self.example = Some(example.into());
        self
    }
}

/// A v3 error response.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    api: ApiVersion,
    errors: Vec<ErrorDetail>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, api: ApiVersion) -> Self {
        Self {
            status,
            api,
            errors: Vec::new(),
        }
    }

    /// A 400 with these details.
    pub(crate) fn bad_request(api: ApiVersion, errors: Vec<ErrorDetail>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            api,
            errors,
        }
    }

    /// Adds a detail.
    pub(crate) fn with(mut self, detail: ErrorDetail) -> Self {
        self.errors.push(detail);
        self
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The 401 for a missing, unknown or revoked access token.
    pub(crate) fn missing_access_token(api: ApiVersion) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, api).with(
            ErrorDetail::new(
                "SIM_UNAUTHORIZED",
                "An OAuth access token is required in the Authorization header using the Bearer scheme",
            )
            .at("Header: Authorization"),
        )
    }

    /// The 401 for an access token that is not (or no longer) valid.
    pub(crate) fn expired_access_token(api: ApiVersion) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, api).with(
            ErrorDetail::new(
                "SIM_UNAUTHORIZED",
                "The OAuth access token is invalid, has expired or has been revoked",
            )
            .at("Header: Authorization"),
        )
    }

    /// A 400 for a request that does not match the schema.
    pub(crate) fn schema(
        api: ApiVersion,
        parameter: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::bad_request(
            api,
            vec![ErrorDetail::new("OAS_VALIDATION", detail).at(parameter)],
        )
    }

    /// The 415 for a request body that is not JSON.
    pub(crate) fn unsupported_media_type(api: ApiVersion, content_type: Option<&str>) -> Self {
        let detail = match content_type {
            Some(content_type) if content_type.starts_with("application/xml") => {
                "application/xml request bodies are not supported by the simulator; send application/json".to_owned()
            }
            Some(content_type) => {
                format!("Content-Type {content_type} is not supported; send application/json")
            }
            None => "Content-Type is required; send application/json".to_owned(),
        };
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, api)
            .with(ErrorDetail::new("SIM_UNSUPPORTED_MEDIA_TYPE", detail).at("Header: Content-Type"))
    }

    /// The body as JSON.
    pub(crate) fn body(&self) -> Value {
        let status = self.status.as_u16().to_string();
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|error| {
                let mut entry = json!({
                    "status": status,
                    "code": error.code,
                    "title": reason,
                    "detail": error.detail,
                });
                if error.parameter.is_some() || error.example.is_some() {
                    let mut source = serde_json::Map::new();
                    if let Some(parameter) = &error.parameter {
                        source.insert("parameter".to_owned(), json!(parameter));
                    }
                    if let Some(example) = &error.example {
                        source.insert("example".to_owned(), json!(example));
                    }
                    entry["source"] = Value::Object(source);
                }
                entry
            })
            .collect();
        json!({
            "apiVersion": self.api.as_str(),
            "error": {
                "code": status,
                "message": reason,
                "errors": errors,
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://api.usps.com\""),
            );
        }
        response
    }
}
