//! This crate's private error and its conversion into the shared [`CarrierError`].
//!
//! UPS answers failures with `{"response": {"errors": [{"code", "message"}]}}` (Shipping.yaml
//! `ErrorResponse`, the OAuth files' `tokenErrorResponse`); the codes and texts are kept. The
//! deciding question is whether a label may have been bought — the core's error contract:
//! once the Ship request may have left, the answer is never `Protocol` or `Validation`.
//!
//! | failure                                        | token grants      | Ship             | Void          |
//! |------------------------------------------------|-------------------|------------------|---------------|
//! | connect error (request provably not sent)      | `Unavailable`     | `Unavailable`    | `Unavailable` |
//! | request not buildable (not sent)               | `Protocol`        | `Protocol`       | `Protocol`    |
//! | timeout, reset, reply over the size limit      | `Unavailable`     | `OutcomeUnknown` | `Unavailable` |
//! | HTTP 401                                       | `Unauthenticated` | `Unauthenticated`| `Unauthenticated` |
//! | HTTP 403 ("Blocked Merchant")                  | `Unauthenticated` | `Rejected`       | `Rejected`    |
//! | HTTP 429                                       | `RateLimited`     | `RateLimited`    | `RateLimited` |
//! | HTTP 5xx                                       | `Unavailable`     | `OutcomeUnknown` | `Unavailable` |
//! | other HTTP 4xx (UPS codes kept)                | `Rejected`¹       | `Rejected`       | `Rejected`²   |
//! | malformed or unexpected success reply          | `Protocol`        | `OutcomeUnknown` | `Protocol`    |
//!
//! The tracking calls (Track API details, Track Alert subscriptions) are classified as the
//! void is: nothing is bought, so every transport failure and 5xx is `Unavailable`. A 404 of the
//! details call ("Tracking number information not found") is not an error: the number has no
//! events yet. A subscription refused with `VSS210`/`VSS215` (no valid number) is an answer:
//! every number refused. Other `VSS…` codes (400) are `Rejected` with UPS's code kept; `VSS100`
//! and `10004` come with HTTP 500: `Unavailable`.
//!
//! ¹ A refresh grant refused with 400 is `Unauthenticated`: the single-use refresh token is no
//! good and the merchant must connect again.
//! ² A void refused because the package is already on its way (the message says it was picked
//! up, scanned or is in transit) is "label in use"; see [`void_refusal`].
//!
//! Shipping.yaml lists no 5xx answer for the Ship operation, so it says nothing about whether
//! UPS acted before failing: every 5xx on Ship is `OutcomeUnknown` (the safe side).

use std::fmt;
use std::time::Duration;

use carrier::{CarrierError, CarrierMessage};
use carrier_http::TransportError;
use serde::Deserialize;

use crate::client::Reply;

/// Every `CarrierError` from this crate names this carrier.
pub(crate) const CARRIER: &str = "ups";

/// The UPS call that failed; it decides how an ambiguous failure is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `client_credentials` at `/security/v1/oauth/token` (own_app accounts).
    Token,
    /// The authorization code exchange at `/security/v1/oauth/token`.
    CodeExchange,
    /// `/security/v1/oauth/refresh`.
    Refresh,
    /// `POST /api/shipments/{version}/ship`.
    Ship,
    /// `DELETE /api/shipments/{version}/void/cancel/{id}`.
    Void,
    /// `GET /api/track/v1/details/{inquiryNumber}` (read-only).
    Track,
    /// `POST /api/track/v2/subscription/standard/package` (subscribing again only extends).
    Subscribe,
}

impl Operation {
    /// Whether a request that reached UPS may have bought something: only Ship does.
    pub(crate) fn creates(self) -> bool {
        self == Operation::Ship
    }

    fn is_token_grant(self) -> bool {
        matches!(
            self,
            Operation::Token | Operation::CodeExchange | Operation::Refresh
        )
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Token => "UPS OAuth token",
            Operation::CodeExchange => "UPS OAuth code exchange",
            Operation::Refresh => "UPS OAuth refresh",
            Operation::Ship => "UPS Ship",
            Operation::Void => "UPS Void",
            Operation::Track => "UPS Track",
            Operation::Subscribe => "UPS Track Alert subscription",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed UPS call, before classification.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Error {
    /// No complete reply (see [`TransportError`]).
    #[error("{source}")]
    Transport {
        operation: Operation,
        source: TransportError,
    },

    /// UPS answered with an error status and (usually) an error body.
    #[error("{operation}: UPS answered HTTP {status}{}", summary(.messages))]
    Status {
        operation: Operation,
        status: u16,
        messages: Vec<CarrierMessage>,
        retry_after: Option<Duration>,
    },

    /// A success reply we could not understand.
    #[error("{operation}: malformed reply: {message}")]
    Malformed {
        operation: Operation,
        message: String,
    },

    /// No usable credentials (an expired platform token, tokens missing).
    #[error("{0}")]
    Unauthenticated(String),
}

fn summary(messages: &[CarrierMessage]) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let joined = messages
        .iter()
        .map(|m| format!("{} {}", m.code, m.message))
        .collect::<Vec<_>>()
        .join("; ");
    format!(": {joined}")
}

impl Error {
    pub(crate) fn malformed(operation: Operation, message: impl Into<String>) -> Self {
        Error::Malformed {
            operation,
            message: message.into(),
        }
    }

    /// The error with every secret UPS might have echoed in its messages replaced.
    pub(crate) fn scrubbed(self, secrets: &[&str]) -> Self {
        match self {
            Error::Status {
                operation,
                status,
                messages,
                retry_after,
            } => Error::Status {
                operation,
                status,
                messages: messages
                    .into_iter()
                    .map(|m| CarrierMessage {
                        code: clean(m.code, secrets),
                        message: clean(m.message, secrets),
                        field: m.field.map(|field| clean(field, secrets)),
                    })
                    .collect(),
                retry_after,
            },
            other => other,
        }
    }

    /// Whether UPS refused the bearer token (HTTP 401), so a fresh token may help.
    pub(crate) fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Status { status: 401, .. })
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    response: Option<ErrorList>,
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// An error reply: the status and every `{code, message}` of its body. A body that is not the
/// documented shape keeps only the status.
pub(crate) fn from_reply(operation: Operation, reply: &Reply) -> Error {
    let messages = serde_json::from_slice::<ErrorBody>(&reply.body)
        .ok()
        .and_then(|body| body.response)
        .map(|list| {
            list.errors
                .into_iter()
                .map(|item| CarrierMessage {
                    code: item.code.unwrap_or_default(),
                    message: item.message.unwrap_or_default(),
                    field: None,
                })
                .collect()
        })
        .unwrap_or_default();
    Error::Status {
        operation,
        status: reply.status.as_u16(),
        messages,
        retry_after: reply.retry_after(),
    }
}

/// Whether a refused void's messages say the package is already on its way. Shipping.yaml lists
/// no Void error codes, so this reads UPS's text (picked up, scanned, in transit, delivered);
/// the codes are kept verbatim in the error either way.
pub(crate) fn void_refusal(messages: &[CarrierMessage]) -> bool {
    messages.iter().any(|m| {
        let text = m.message.to_ascii_lowercase();
        [
            "picked up",
            "pickup scan",
            "scanned",
            "in transit",
            "delivered",
        ]
        .iter()
        .any(|phrase| text.contains(phrase))
    })
}

/// The label is in the carrier's hands and cannot be voided; UPS's codes and texts are kept
/// in the message.
pub(crate) fn label_in_use(messages: &[CarrierMessage]) -> CarrierError {
    CarrierError::LabelInUse {
        carrier: CARRIER,
        message: summary(messages).trim_start_matches(": ").to_owned(),
    }
}

impl From<Error> for CarrierError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Transport { operation, source } => match source {
                TransportError::Connect { .. } => CarrierError::Unavailable {
                    carrier: CARRIER,
                    message,
                    retry_after: None,
                },
                TransportError::Unsendable { .. } => CarrierError::Protocol {
                    carrier: CARRIER,
                    message,
                },
                TransportError::Timeout { .. }
                | TransportError::Reset { .. }
                | TransportError::TooLarge { .. } => {
                    if operation.creates() {
                        CarrierError::OutcomeUnknown {
                            carrier: CARRIER,
                            message,
                        }
                    } else {
                        CarrierError::Unavailable {
                            carrier: CARRIER,
                            message,
                            retry_after: None,
                        }
                    }
                }
            },
            Error::Status {
                operation,
                status,
                messages,
                retry_after,
            } => match status {
                401 => CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                },
                403 if operation.is_token_grant() => CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                },
                400 if operation == Operation::Refresh => CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                },
                429 => CarrierError::RateLimited {
                    carrier: CARRIER,
                    retry_after,
                },
                500..=599 if operation.creates() => CarrierError::OutcomeUnknown {
                    carrier: CARRIER,
                    message,
                },
                500..=599 => CarrierError::Unavailable {
                    carrier: CARRIER,
                    message,
                    retry_after,
                },
                _ if operation == Operation::Void && void_refusal(&messages) => {
                    label_in_use(&messages)
                }
                _ => CarrierError::Rejected {
                    carrier: CARRIER,
                    status: Some(status),
                    messages,
                },
            },
            Error::Malformed { operation, .. } => {
                if operation.creates() {
                    CarrierError::OutcomeUnknown {
                        carrier: CARRIER,
                        message,
                    }
                } else {
                    CarrierError::Protocol {
                        carrier: CARRIER,
                        message,
                    }
                }
            }
            Error::Unauthenticated(_) => CarrierError::Unauthenticated {
                carrier: CARRIER,
                message,
            },
        }
    }
}

/// `text` with every secret of four characters or more replaced by `[REDACTED]`.
fn clean(text: String, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.len() >= 4)
        .fold(text, |text, secret| text.replace(secret, "[REDACTED]"))
}

/// Replaces every occurrence of each secret (four characters or more) in the error's texts
/// with `[REDACTED]`, in case UPS echoed one back.
pub(crate) fn scrub(error: CarrierError, secrets: &[&str]) -> CarrierError {
    error.map_texts(|text| clean(text, secrets))
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
