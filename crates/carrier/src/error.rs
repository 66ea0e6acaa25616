//! The classified error every carrier plugin returns, and the field-level validation errors
//! that both the domain parsers and the plugins produce.
//!
//! The classification is what callers act on: `Validation` and `Rejected` are the merchant's to
//! fix, `RateLimited` and `Unavailable` are safe to retry, `OutcomeUnknown` must be retried with
//! the *same* idempotency key (the carrier may have created the label), `Unauthenticated` needs new
//! credentials and `Protocol` is a carrier reply we could not understand.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// One problem with one input field. `field` is a dotted path into the request or account
/// (`from_address.zip5`, `details.permit_zip`, `parcel.length_in`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every field-level problem found in one input, collected rather than stopping at the first so
/// a merchant can fix a form in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn extend(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether any error names exactly this field.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|error| error.field == field)
    }

    /// Records the outcome of one field's parse, keeping the value when it parsed.
    pub fn collect<T>(&mut self, result: Result<T, ValidationErrors>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(errors) => {
                self.extend(errors);
                None
            }
        }
    }

    /// `Ok(value)` when nothing was recorded, otherwise every recorded error.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl IntoIterator for ValidationErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// One message from a carrier's error reply, kept verbatim (its code and text) so the merchant
/// sees what the carrier said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierMessage {
    pub code: String,
    pub message: String,
    /// The request field the carrier blamed: in the carrier's own naming, or in ours where the
    /// plugin knows which of our fields the merchant must change (USPS 160129, a destination
    /// Label Broker cannot serve, names `label_delivery`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// How a caller should react to a [`CarrierError`]; stable names for logs, metrics and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    Validation,
    Unauthenticated,
    Rejected,
    RateLimited,
    Unavailable,
    OutcomeUnknown,
    Protocol,
    NotSupported,
    LabelInUse,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Rejected => "rejected",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::OutcomeUnknown => "outcome_unknown",
            ErrorKind::Protocol => "protocol",
            ErrorKind::NotSupported => "not_supported",
            ErrorKind::LabelInUse => "label_in_use",
        }
    }
}

/// A carrier call that did not produce a label, classified. Messages never contain secrets or
/// URLs with credentials: plugins build them from redacted parts only.
///
/// ## The contract after a request left
///
/// Once a label purchase may have reached the carrier (anything after the connection was made),
/// a plugin returns only what the carrier *said* (`Rejected`, `Unauthenticated`, `RateLimited`,
/// `Unavailable` where the carrier's protocol states it did nothing) or `OutcomeUnknown`; never
/// `Validation` (our input is checked before sending) and never `Protocol` (a reply we cannot
/// read after sending may hide a bought label). [`CarrierError::may_follow_a_sent_purchase`]
/// states the rule, the conformance suite checks every plugin against it, and the server keeps
/// the idempotency key of any other error as if the outcome were unknown.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CarrierError {
    /// The input is wrong before anything was sent; each error names its field.
    #[error("invalid request: {0}")]
    Validation(ValidationErrors),

    /// The carrier refused our credentials (expired, revoked or wrong).
    #[error("{carrier}: not authenticated: {message}")]
    Unauthenticated {
        carrier: &'static str,
        message: String,
    },

    /// The carrier understood the request and said no; its own codes and texts are kept.
    #[error("{carrier} rejected the request: {}", summary(.messages))]
    Rejected {
        carrier: &'static str,
        /// HTTP status or protocol-level status of the reply, when there was one.
        status: Option<u16>,
        messages: Vec<CarrierMessage>,
    },

    /// Too many requests; retry after the given delay when the carrier said one.
    #[error("{carrier}: rate limited")]
    RateLimited {
        carrier: &'static str,
        retry_after: Option<Duration>,
    },

    /// The carrier could not be reached or failed before acting; safe to retry.
    #[error("{carrier}: unavailable: {message}")]
    Unavailable {
        carrier: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },

    /// The request may have reached the carrier and we do not know what it did. Retry only with
    /// the same idempotency key.
    #[error("{carrier}: outcome unknown: {message}")]
    OutcomeUnknown {
        carrier: &'static str,
        message: String,
    },

    /// The carrier replied with something we could not understand. Only before a purchase was
    /// sent, or on calls that buy nothing (tokens, voids): see the contract above.
    #[error("{carrier}: malformed reply: {message}")]
    Protocol {
        carrier: &'static str,
        message: String,
    },

    /// The carrier cannot do this at all (void a pay-on-use label, deliver by QR code).
    #[error("{carrier} does not support {operation}")]
    NotSupported {
        carrier: &'static str,
        operation: &'static str,
    },

    /// The carrier refused to void the label because it is already in its network (scanned or
    /// picked up).
    #[error("{carrier}: the label is in use: {message}")]
    LabelInUse {
        carrier: &'static str,
        message: String,
    },
}

fn summary(messages: &[CarrierMessage]) -> String {
    if messages.is_empty() {
        return "no reason given".to_owned();
    }
    messages
        .iter()
        .map(|m| format!("{} {}", m.code, m.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CarrierError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CarrierError::Validation(_) => ErrorKind::Validation,
            CarrierError::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            CarrierError::Rejected { .. } => ErrorKind::Rejected,
            CarrierError::RateLimited { .. } => ErrorKind::RateLimited,
            CarrierError::Unavailable { .. } => ErrorKind::Unavailable,
            CarrierError::OutcomeUnknown { .. } => ErrorKind::OutcomeUnknown,
            CarrierError::Protocol { .. } => ErrorKind::Protocol,
            CarrierError::NotSupported { .. } => ErrorKind::NotSupported,
            CarrierError::LabelInUse { .. } => ErrorKind::LabelInUse,
        }
    }

    /// Whether a plugin may return this error for a label purchase whose request may have
    /// reached the carrier (see the contract on [`CarrierError`]).
    pub fn may_follow_a_sent_purchase(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Rejected
                | ErrorKind::Unauthenticated
                | ErrorKind::RateLimited
                | ErrorKind::Unavailable
                | ErrorKind::OutcomeUnknown
        )
    }

    /// Whether sending the same request again (with the same idempotency key) is the right move.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::OutcomeUnknown
        )
    }

    /// The carrier's requested delay before a retry, when it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CarrierError::RateLimited { retry_after, .. }
            | CarrierError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// This error with `clean` applied to every text in it that may hold what the carrier sent
    /// (messages, the carrier's codes and field names): how a plugin scrubs a secret the
    /// carrier echoed back before the error leaves it. Validation errors are our own texts and
    /// are kept as they are.
    pub fn map_texts(self, clean: impl Fn(String) -> String) -> Self {
        match self {
            CarrierError::Unauthenticated { carrier, message } => CarrierError::Unauthenticated {
                carrier,
                message: clean(message),
            },
            CarrierError::Rejected {
                carrier,
                status,
                messages,
            } => CarrierError::Rejected {
                carrier,
                status,
                messages: messages
                    .into_iter()
                    .map(|m| CarrierMessage {
                        code: clean(m.code),
                        message: clean(m.message),
                        field: m.field.map(&clean),
                    })
                    .collect(),
            },
            CarrierError::Unavailable {
                carrier,
                message,
                retry_after,
            } => CarrierError::Unavailable {
                carrier,
                message: clean(message),
                retry_after,
            },
            CarrierError::OutcomeUnknown { carrier, message } => CarrierError::OutcomeUnknown {
                carrier,
                message: clean(message),
            },
            CarrierError::Protocol { carrier, message } => CarrierError::Protocol {
                carrier,
                message: clean(message),
            },
            CarrierError::LabelInUse { carrier, message } => CarrierError::LabelInUse {
                carrier,
                message: clean(message),
            },
            other @ (CarrierError::Validation(_)
            | CarrierError::RateLimited { .. }
            | CarrierError::NotSupported { .. }) => other,
        }
    }

    /// Shorthand for a validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CarrierError::Validation(ValidationErrors::single(field, message))
    }
}

impl From<ValidationErrors> for CarrierError {
    fn from(errors: ValidationErrors) -> Self {
        CarrierError::Validation(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_and_ambiguous_failures_are_retryable() {
        let rejected = CarrierError::Rejected {
            carrier: "usps",
            status: Some(400),
            messages: vec![],
        };
        let unknown = CarrierError::OutcomeUnknown {
            carrier: "usps",
            message: "timeout".into(),
        };
        assert!(!rejected.is_retryable());
        assert!(unknown.is_retryable());
        assert!(!CarrierError::invalid("parcel.weight_oz", "must be positive").is_retryable());
    }

    #[test]
    fn rejection_display_keeps_the_carriers_code_and_text() {
        let error = CarrierError::Rejected {
            carrier: "usps",
            status: Some(400),
            messages: vec![CarrierMessage {
                code: "160304".into(),
                message: "not enrolled in USPS Ship Returns".into(),
                field: None,
            }],
        };
        assert_eq!(
            error.to_string(),
            "usps rejected the request: 160304 not enrolled in USPS Ship Returns"
        );
    }

    #[test]
    fn every_carrier_text_is_mapped_and_our_own_are_kept() {
        let secret = |text: String| text.replace("s3cret", "[REDACTED]");
        let rejected = CarrierError::Rejected {
            carrier: "acme",
            status: Some(400),
            messages: vec![CarrierMessage {
                code: "s3cret-1".into(),
                message: "bad key s3cret".into(),
                field: Some("Key.s3cret".into()),
            }],
        }
        .map_texts(secret);
        let unknown = CarrierError::OutcomeUnknown {
            carrier: "acme",
            message: "echo s3cret".into(),
        }
        .map_texts(secret);
        for error in [rejected, unknown] {
            let printed = format!("{error} {error:?}");
            assert!(!printed.contains("s3cret"), "{printed}");
            assert!(printed.contains("[REDACTED]"), "{printed}");
        }
        let ours = CarrierError::invalid("from_address.zip5", "must be 5 digits")
            .map_texts(|_| String::new());
        assert_eq!(
            ours.to_string(),
            "invalid request: from_address.zip5: must be 5 digits"
        );
    }

    #[test]
    fn validation_errors_collect_every_field() {
        let mut errors = ValidationErrors::new();
        errors.push("a", "bad");
        errors.push("b.c", "worse");
        assert!(errors.names("b.c"));
        assert_eq!(errors.to_string(), "a: bad; b.c: worse");
        assert!(errors.finish(|| ()).is_err());
    }
}
