//! The one error shape of the API (API.md), for every route:
//! `{"error": {"code", "message", "request_id", "details": [...]}}`.
//!
//! 5xx bodies are opaque: the cause is logged once, with the request id, and never sent.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carrier::{CarrierError, CarrierMessage, ValidationErrors};
use serde::Serialize;
use serde_json::{Value, json};

use crate::request_id;

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid API key")]
    Unauthenticated,
    #[error("this key cannot use this route")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A path no route serves.
    #[error("there is no such route")]
    NoSuchRoute,
    /// A route that exists, with another method (the answer keeps axum's `Allow` header).
    #[error("this route does not accept this method")]
    MethodNotAllowed,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body must be sent with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the request URI is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("the request headers are larger than {limit} bytes")]
    HeadersTooLarge { limit: usize },
    /// The body could not be read to its end (the client stopped sending).
    #[error("the request body could not be read")]
    UnreadableBody,
    #[error("invalid request")]
    Validation(ValidationErrors),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyKeyInUse,
    #[error("{0}")]
    NoEligibleAccount(String),
    #[error("{carrier} refused the request")]
    CarrierRejected {
        carrier: String,
        messages: Vec<CarrierMessage>,
    },
    #[error("{message}")]
    CarrierUnavailable {
        /// 503, or 504 when the carrier may have acted (a timeout after sending).
        status: StatusCode,
        message: String,
        retry_after: Duration,
    },
    /// A purchase whose outcome is unknown, at a carrier without idempotency keys whose
    /// duplicates may cost: it is not sent again (`Capabilities::resend_after_unknown_outcome`).
    #[error(
        "{carrier} may have made the label of the first request with this Idempotency-Key and takes no \
         idempotency key, so it was not sent again (a second label could be billed): look for it \
         among the account's shipments at {carrier}, void it there if it exists, and buy with a new \
         Idempotency-Key"
    )]
    OutcomeNotResent { carrier: String },
    /// The carrier refused an answer to an account's verification (a wrong code): 422 naming
    /// the fields, with how many wrong answers the verification still takes.
    #[error("{}", verification_refused(*.attempts_remaining))]
    VerificationRefused {
        errors: ValidationErrors,
        attempts_remaining: u32,
    },
    /// The carrier cannot do this at all (void a pay-on-use label).
    #[error("{message}")]
    NotSupported { message: String },
    /// The carrier refused to void a label already in its network.
    #[error("{message}")]
    LabelInUse { message: String },
    /// The resource is in a state that does not allow this now (`code` says which: an account
    /// whose tokens are being renewed, a disabled account).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the service is temporarily unavailable")]
    ServiceUnavailable { retry_after: Duration },
    #[error("too many requests with this API key; retry after the time in Retry-After")]
    RateLimited { retry_after: Duration },
    #[error(
        "the request took too long and was stopped; retry it (with the same Idempotency-Key for a label)"
    )]
    RequestTimeout,
    /// A carrier notification (or listener token request) that failed its check: nothing
    /// changed. The message says which check, never a secret.
    #[error("{0}")]
    NotificationRefused(String),
    /// A carrier notification that could not be read.
    #[error("{0}")]
    NotificationMalformed(String),
    #[error("internal error")]
    Internal(String),
}

/// One entry of `details`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The request field (dotted path), when the error is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The carrier's own code, for carrier rejections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

/// The error object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for programs: `unauthenticated`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `payload_too_large`, `unsupported_media_type`, `uri_too_long`,
    /// `headers_too_large`, `validation_failed`, `idempotency_key_reused`,
    /// `idempotency_key_in_use`, `no_eligible_account`, `carrier_rejected`, `not_supported`,
    /// `label_in_use`, `renewal_in_progress`, `account_disabled`, `verification_refused`,
    /// `verification_expired`, `verification_locked`, `verification_in_progress`,
    /// `not_pending_verification`, `label_outcome_unknown`, `rate_limited`,
    /// `carrier_unavailable`, `service_unavailable`, `request_timeout`, `notification_refused`,
    /// `notification_malformed`, `internal`, …
    #[schema(example = "validation_failed")]
    pub code: String,
    /// What went wrong, for people (never a secret; opaque for 5xx).
    pub message: String,
    /// The request's id, also in the `X-Request-Id` header and the service's logs.
    pub request_id: String,
    /// Each field or parameter at fault (or the carrier's messages), when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// The error envelope every failed request returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NoSuchRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::UnreadableBody => StatusCode::BAD_REQUEST,
            ApiError::Validation(_)
            | ApiError::IdempotencyKeyReused
            | ApiError::NoEligibleAccount(_)
            | ApiError::CarrierRejected { .. }
            | ApiError::VerificationRefused { .. }
            | ApiError::NotSupported { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInUse
            | ApiError::LabelInUse { .. }
            | ApiError::Conflict { .. }
            | ApiError::OutcomeNotResent { .. } => StatusCode::CONFLICT,
            ApiError::CarrierUnavailable { status, .. } => *status,
            ApiError::ServiceUnavailable { .. } | ApiError::RequestTimeout => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotificationRefused(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotificationMalformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound | ApiError::NoSuchRoute => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::UriTooLong { .. } => "uri_too_long",
            ApiError::HeadersTooLarge { .. } => "headers_too_large",
            ApiError::UnreadableBody => "unreadable_body",
            ApiError::Validation(_) => "validation_failed",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::IdempotencyKeyInUse => "idempotency_key_in_use",
            ApiError::NoEligibleAccount(_) => "no_eligible_account",
            ApiError::CarrierRejected { .. } => "carrier_rejected",
            ApiError::CarrierUnavailable { .. } => "carrier_unavailable",
            ApiError::VerificationRefused { .. } => "verification_refused",
            ApiError::NotSupported { .. } => "not_supported",
            ApiError::LabelInUse { .. } => "label_in_use",
            ApiError::Conflict { code, .. } => code,
            ApiError::OutcomeNotResent { .. } => "label_outcome_unknown",
            ApiError::ServiceUnavailable { .. } => "service_unavailable",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::NotificationRefused(_) => "notification_refused",
            ApiError::NotificationMalformed(_) => "notification_malformed",
            ApiError::Internal(_) => "internal",
        }
    }

    fn details(&self) -> Vec<ErrorDetail> {
        match self {
            ApiError::Validation(errors) | ApiError::VerificationRefused { errors, .. } => errors
                .errors()
                .iter()
                .map(|error| ErrorDetail {
                    field: Some(error.field.clone()),
                    code: None,
                    message: error.message.clone(),
                })
                .collect(),
            ApiError::CarrierRejected { messages, .. } => messages
                .iter()
                .map(|message| ErrorDetail {
                    field: message.field.clone(),
                    code: Some(message.code.clone()),
                    message: message.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::CarrierUnavailable { retry_after, .. }
            | ApiError::ServiceUnavailable { retry_after }
            | ApiError::RateLimited { retry_after } => Some(*retry_after),
            ApiError::RequestTimeout => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }

    /// The JSON body of this error for the current request.
    pub fn body(&self) -> Value {
        let message = match self {
            ApiError::Validation(errors) if errors.len() == 1 => errors.to_string(),
            ApiError::Validation(errors) => format!("{} fields are invalid", errors.len()),
            other => other.to_string(),
        };
        json!(ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_owned(),
                message,
                request_id: request_id::current(),
                details: self.details(),
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(request_id = %request_id::current(), %cause, "request failed");
        }
        let mut response = (status, Json(self.body())).into_response();
        if let Some(retry_after) = self.retry_after() {
            // Whole seconds (RFC 9110), rounded up so a client that waits them is let in.
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors)
    }
}

/// Database failures: connection trouble is a 503 the client may retry; anything else is ours.
impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => ApiError::ServiceUnavailable {
                retry_after: Duration::from_secs(2),
            },
            sqlx::Error::Database(database)
                if database.code().is_some_and(|code| connection_lost(&code)) =>
            {
                ApiError::ServiceUnavailable {
                    retry_after: Duration::from_secs(2),
                }
            }
            _ => ApiError::Internal(format!("database: {error}")),
        }
    }
}

/// SQLSTATEs with which Postgres ends a session rather than refuses a statement: class 08
/// (connection exception) and the shutdowns of class 57 — `57P01` (terminated by an
/// administrator, a fast shutdown or a failover), `57P02` (crash shutdown), `57P03` (cannot
/// connect now: starting up or shutting down).
fn connection_lost(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

impl From<accounts::AccountError> for ApiError {
    fn from(error: accounts::AccountError) -> Self {
        use accounts::AccountError;
        match error {
            AccountError::Validation(errors) => ApiError::Validation(errors),
            AccountError::NotFound => ApiError::NotFound,
            AccountError::NoEligibleAccount(reason) => ApiError::NoEligibleAccount(reason),
            AccountError::Database(error) => error.into(),
            AccountError::Vault(error) => ApiError::Internal(format!("vault: {error}")),
            AccountError::CorruptCredentials(error) => {
                ApiError::Internal(format!("stored credentials: {error}"))
            }
            AccountError::Conflict { code, message } => ApiError::Conflict { code, message },
            AccountError::NotSupported(message) => ApiError::NotSupported { message },
            AccountError::VerificationRefused {
                errors,
                attempts_remaining,
            } => ApiError::VerificationRefused {
                errors,
                attempts_remaining,
            },
            AccountError::Carrier { carrier, error } => from_carrier(carrier, error),
        }
    }
}

impl From<accounts::TenantError> for ApiError {
    fn from(error: accounts::TenantError) -> Self {
        use accounts::TenantError;
        match error {
            TenantError::InvalidName => ApiError::invalid("name", "must be 1 to 200 characters"),
            TenantError::NotFound => ApiError::NotFound,
            // Revoking twice is answered with the key as it stands (`routes::api_keys`); anywhere
            // else a revoked key is one that cannot be used.
            TenantError::AlreadyRevoked(_) => ApiError::NotFound,
            TenantError::Database(error) => error.into(),
        }
    }
}

fn verification_refused(attempts_remaining: u32) -> String {
    match attempts_remaining {
        0 => "the carrier refused the answer, and that was the last attempt: start the \
              verification again (POST /v1/shipper-accounts/{id}/verification/restart)"
            .to_owned(),
        1 => "the carrier refused the answer; 1 more attempt is left".to_owned(),
        n => format!("the carrier refused the answer; {n} more attempts are left"),
    }
}

/// How a carrier failure is answered. Retryable failures become 503 (or 504 when the carrier
/// may have acted) with `Retry-After`; the carrier's refusals keep its codes.
pub fn from_carrier(carrier: &str, error: CarrierError) -> ApiError {
    let retry_after = error
        .retry_after()
        .unwrap_or(Duration::from_secs(2))
        .max(Duration::from_secs(1));
    match error {
        CarrierError::Validation(errors) => ApiError::Validation(errors),
        CarrierError::Rejected { messages, .. } => ApiError::CarrierRejected {
            carrier: carrier.to_owned(),
            messages,
        },
        CarrierError::Unauthenticated { message, .. } => ApiError::CarrierRejected {
            carrier: carrier.to_owned(),
            messages: vec![CarrierMessage {
                code: "unauthenticated".to_owned(),
                message: format!("the carrier refused the account's credentials: {message}"),
                field: Some("credentials".to_owned()),
            }],
        },
        CarrierError::OutcomeUnknown { .. } => ApiError::CarrierUnavailable {
            status: StatusCode::GATEWAY_TIMEOUT,
            message: format!(
                "{carrier} did not confirm the label; retry with the same Idempotency-Key"
            ),
            retry_after,
        },
        CarrierError::RateLimited { .. } => ApiError::CarrierUnavailable {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("{carrier} is rate limiting requests; retry later"),
            retry_after,
        },
        CarrierError::NotSupported { operation, .. } => ApiError::NotSupported {
            message: format!("{carrier} does not support {operation}"),
        },
        CarrierError::LabelInUse { message, .. } => ApiError::LabelInUse {
            message: format!("{carrier} refused: {message}"),
        },
        // Unavailable, Protocol and anything a later core adds.
        _ => ApiError::CarrierUnavailable {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!("{carrier} is unavailable; retry later"),
            retry_after,
        },
    }
}
