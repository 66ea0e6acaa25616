//! This crate's private error and its conversion into the shared [`CarrierError`].
//!
//! FedEx answers failures with `{"transactionId", "errors": [{"code", "message",
//! "parameterList"}]}` (`ErrorResponseVO` in every file); the codes and texts are kept. The
//! deciding question is whether a label may have been bought — the core's error contract: once
//! the Ship request may have left, the answer is never `Protocol` or `Validation`.
//!
//! | failure                                   | token, track, cancel, registration | Ship             |
//! |-------------------------------------------|------------------------------------|------------------|
//! | connect error (request provably not sent) | `Unavailable`                      | `Unavailable`    |
//! | request not buildable (not sent)          | `Protocol`                         | `Protocol`       |
//! | timeout, reset, reply over the size limit | `Unavailable`                      | `OutcomeUnknown` |
//! | HTTP 401 (`NOT.AUTHORIZED.ERROR`)         | `Unauthenticated`¹                 | `Unauthenticated`¹ |
//! | HTTP 403 (`FORBIDDEN.ERROR`)              | `Rejected`                         | `Rejected`       |
//! | HTTP 429                                  | `RateLimited` (`Retry-After` kept) | `RateLimited`    |
//! | HTTP 503 (`SERVICE.UNAVAILABLE.ERROR`)    | `Unavailable` (`Retry-After` kept) | `Unavailable`³   |
//! | other HTTP 5xx (500 …)                    | `Unavailable`                      | `OutcomeUnknown` |
//! | other 4xx (400, 404, 422 …)               | `Rejected`² (FedEx's codes kept)   | `Rejected`²      |
//! | malformed or unexpected success reply     | `Protocol`                         | `OutcomeUnknown` |
//!
//! ¹ After one retry with a fresh token where the call is safe to resend (a 401 means FedEx
//! refused the bearer token and did nothing).
//! ² With the field the code names, where it names one ([`field_of`]); a cancel refused
//! because the package is already moving is `LabelInUse` ([`cancel_refusal`]). The
//! registration calls map their codes onto the merchant's fields first (see `registration`).
//!
//! ³ The Ship file lists 500 ("Failure", `INTERNAL.SERVER.ERROR`: "We encountered an
//! unexpected error") and 503 ("Service Unavailable", `SERVICE.UNAVAILABLE.ERROR`: "The service
//! is currently unavailable … Please check back at a later time"). A 500 does not say whether
//! FedEx acted first, so it and every other 5xx on Ship is `OutcomeUnknown` (the safe side). A
//! 503 says the service could not take the request at all (RFC 9110 §15.6.4: "unable to handle
//! the request"), so nothing was bought and the same key may send it again later — as the USPS
//! plugin treats its 503.

use std::fmt;
use std::time::Duration;

use carrier::{CarrierError, CarrierMessage};
use carrier_http::TransportError;
use serde::Deserialize;

use crate::client::Reply;

/// Every `CarrierError` from this crate names this carrier.
pub(crate) const CARRIER: &str = "fedex";

/// The FedEx call that failed; it decides the retry policy and how an ambiguous failure is
/// classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `POST /oauth/token`.
    Token,
    /// `POST /registration/v2/address/keysgeneration`.
    RegisterAddress,
    /// `POST /registration/v2/customerkeys/pingeneration`.
    IssuePin,
    /// `POST /registration/v2/pin/keysgeneration`.
    ValidatePin,
    /// `POST /registration/v2/invoice/keysgeneration`.
    ValidateInvoice,
    /// `POST /ship/v1/shipments`.
    Ship,
    /// `PUT /ship/v1/shipments/cancel`.
    Cancel,
    /// `POST /track/v1/trackingnumbers` (read-only).
    Track,
}

impl Operation {
    /// Whether a request that reached FedEx may have bought something: only Ship does.
    pub(crate) fn creates(self) -> bool {
        self == Operation::Ship
    }

    /// Whether the shared client may send the request again after it may have left.
    pub(crate) fn repeatable(self) -> bool {
        matches!(
            self,
            Operation::Token | Operation::Cancel | Operation::Track
        )
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Token => "FedEx OAuth token",
            Operation::RegisterAddress => "FedEx registration (address)",
            Operation::IssuePin => "FedEx registration (PIN generation)",
            Operation::ValidatePin => "FedEx registration (PIN)",
            Operation::ValidateInvoice => "FedEx registration (invoice)",
            Operation::Ship => "FedEx Ship",
            Operation::Cancel => "FedEx Cancel Shipment",
            Operation::Track => "FedEx Track",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed FedEx call, before classification.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Error {
    /// No complete reply (see [`TransportError`]).
    #[error("{source}")]
    Transport {
        operation: Operation,
        source: TransportError,
    },

    /// FedEx answered with an error status and (usually) an error body.
    #[error("{operation}: FedEx answered HTTP {status}{}", summary(.messages))]
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

    /// No usable credentials (no platform app configured, credentials missing).
    #[error("{0}")]
    Unauthenticated(String),
}

fn summary(messages: &[CarrierMessage]) -> String {
    if messages.is_empty() {
        return String::new();
    }
    format!(": {}", joined(messages))
}

fn joined(messages: &[CarrierMessage]) -> String {
    messages
        .iter()
        .map(|m| format!("{} {}", m.code, m.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub(crate) fn malformed(operation: Operation, message: impl Into<String>) -> Self {
        Error::Malformed {
            operation,
            message: message.into(),
        }
    }

    /// The error with every secret FedEx might have echoed in its messages replaced.
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

    /// Whether FedEx refused the bearer token (HTTP 401), so a fresh token may help. The
    /// registration files also answer 401 `LOGIN.REAUTHENTICATE.ERROR` ("Your session is
    /// expired"), which no new bearer token cures.
    pub(crate) fn is_unauthorized(&self) -> bool {
        match self {
            Error::Status {
                status: 401,
                messages,
                ..
            } => !messages
                .iter()
                .any(|m| m.code == "LOGIN.REAUTHENTICATE.ERROR"),
            _ => false,
        }
    }

    /// FedEx's messages, for a status error.
    pub(crate) fn messages(&self) -> &[CarrierMessage] {
        match self {
            Error::Status { messages, .. } => messages,
            _ => &[],
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
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

/// The field of ours a FedEx error code names, where it names one. Codes from the Ship and
/// Track files (their 400 examples and descriptions); the registration codes are mapped in
/// `registration::refusal`.
pub(crate) fn field_of(code: &str) -> Option<&'static str> {
    match code {
        "ACCOUNTNUMBER.REGISTRATION.REQUIRED" | "ACCOUNTNUMBER.REGISTRATION.REQUIRED.INVALID" => {
            Some("details.account_number")
        }
        "RECIPIENTCONTACT.PHONENUMBER.INVALID" | "RECIPIENTCONTACT.PHONENUMBER.NOTSUPPORTED" => {
            Some("details.return_address.phone")
        }
        "TRACKINGNUMBER.ENTERED.INVALID" | "TRACKING.TRACKINGNUMBER.EMPTY" => {
            Some("tracking_number")
        }
        _ => None,
    }
}

/// An error reply: the status and every `{code, message}` of its body. A body that is not the
/// documented shape keeps only the status.
pub(crate) fn from_reply(operation: Operation, reply: &Reply) -> Error {
    let messages = serde_json::from_slice::<ErrorBody>(&reply.body)
        .map(|body| {
            body.errors
                .into_iter()
                .map(|item| {
                    let code = item.code.unwrap_or_default();
                    CarrierMessage {
                        field: field_of(&code).map(str::to_owned),
                        code,
                        message: item.message.unwrap_or_default(),
                    }
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

/// Whether a refused cancel's messages say the package is already on its way. The Ship file
/// lists no cancel code for that (its one 400 example is `SHIPMENT.USER.UNAUTHORIZED`), so this
/// reads FedEx's text (picked up, scanned, tendered, in transit, delivered); the codes are kept
/// verbatim in the error either way.
pub(crate) fn cancel_refusal(messages: &[CarrierMessage]) -> bool {
    messages.iter().any(|m| {
        let text = format!("{} {}", m.code, m.message).to_ascii_lowercase();
        [
            "picked up",
            "pickup",
            "scanned",
            "tendered",
            "in transit",
            "intransit",
            "delivered",
            "in use",
            "already moving",
        ]
        .iter()
        .any(|phrase| text.contains(phrase))
    })
}

/// The label is in FedEx's hands and cannot be cancelled; FedEx's codes and texts are kept.
pub(crate) fn label_in_use(messages: &[CarrierMessage]) -> CarrierError {
    CarrierError::LabelInUse {
        carrier: CARRIER,
        message: joined(messages),
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
                429 => CarrierError::RateLimited {
                    carrier: CARRIER,
                    retry_after,
                },
                503 => CarrierError::Unavailable {
                    carrier: CARRIER,
                    message,
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
                _ if operation == Operation::Cancel && cancel_refusal(&messages) => {
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
pub(crate) fn clean(text: String, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.len() >= 4)
        .fold(text, |text, secret| text.replace(secret, "[REDACTED]"))
}

/// Replaces every occurrence of each secret (four characters or more) in the error's texts
/// with `[REDACTED]`, in case FedEx echoed one back.
pub(crate) fn scrub(error: CarrierError, secrets: &[&str]) -> CarrierError {
    error.map_texts(|text| clean(text, secrets))
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
