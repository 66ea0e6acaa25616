//! This crate's private error and its conversion into the shared [`CarrierError`].
//!
//! The USPS v3 APIs answer failures with the `ErrorMessage` document of the Labels and Payments
//! specifications (`{apiVersion, error: {code, message, errors: [{status, code, title, detail,
//! source: {parameter, example}}]}}`) and the OAuth 2.0 API with its `StandardErrorResponse`
//! (`{error, error_description}`). Both are parsed in [`crate::v3::error`]; this module decides what
//! a caller may do next. The deciding question is whether a label may have been bought:
//!
//! | failure                                   | token, payment, userinfo, tracking, subscriptions | return label     |
//! |-------------------------------------------|--------------------------|------------------|
//! | connect error (request provably not sent) | `Unavailable`            | `Unavailable`    |
//! | timeout or reset after sending            | `Unavailable`            | `OutcomeUnknown` |
//! | reply over the client's size limit        | `Unavailable`            | `OutcomeUnknown` |
//! | HTTP 500, 502, 504 (other 5xx)            | `Unavailable`            | `OutcomeUnknown` |
//! | HTTP 503                                  | `Unavailable`            | `Unavailable`    |
//! | HTTP 429                                  | `RateLimited`            | `RateLimited`    |
//! | HTTP 400 with 160368 only ("Label Broker Service is unavailable") | — | `Unavailable` |
//! | HTTP 401, OAuth `invalid_client`/`invalid_grant`/`unauthorized_client` | `Unauthenticated` | `Unauthenticated` |
//! | other HTTP 4xx (USPS codes kept)          | `Rejected`               | `Rejected`       |
//! | malformed or undecodable success reply    | `Protocol`               | `OutcomeUnknown` |
//! | request not buildable (a token that is no header value) | `Protocol`  | `Protocol`       |
//!
//! The Web Tools `USPSReturnsLabel` call is classified the same way (it is the "return label"
//! column), plus its `<Error>` documents, which arrive with HTTP 200 (see
//! [`crate::webtools::error`]):
//!
//! | Web Tools failure | return label |
//! |---|---|
//! | `<Error>` at the root or nested: authorization failure (`80040B1A` …) | `Unauthenticated` |
//! | `<Error>` at the root or nested: Web Tools failed inside (`80004005`) | `Unavailable` |
//! | `<Error>` at the root or nested: anything else | `Rejected` (`Number`, `Description`, tag from `Source`) |
//! | malformed XML, or a reply without `BarcodeNumber`, `Postage` or a decodable `LabelImage` | `OutcomeUnknown` |
//!
//! Web Tools has no idempotency key, so the plugin never resends a label request that may have
//! been sent: only connect errors are retried.
//!
//! Messages are built from redacted parts only: URLs lose their query, user info and fragment,
//! and [`scrub`] removes any secret a carrier echoed back (USPS error 100001 repeats the EPS
//! account number; a Web Tools error may quote the user ID).

use std::fmt;
use std::time::Duration;

use carrier::{CarrierError, CarrierMessage};

/// Every `CarrierError` from this crate names this carrier.
pub(crate) const CARRIER: &str = "usps";

/// The USPS call that failed; it decides how an ambiguous failure is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Token,
    PaymentAuthorization,
    ReturnLabel,
    UserInfo,
    /// The Web Tools `USPSReturnsLabel` (or `USPSReturnsLabelCertify`) call.
    WebToolsReturnLabel,
    /// `GET /tracking/v3/tracking/{trackingNumber}`.
    Tracking,
    /// A Subscriptions – Tracking call (create, read, update).
    Subscription,
}

impl Operation {
    /// Whether a request that reached USPS may have bought something. Only the label purchases
    /// do; the token, payment-authorization and userinfo calls change nothing we pay for.
    pub(crate) fn creates(self) -> bool {
        matches!(
            self,
            Operation::ReturnLabel | Operation::WebToolsReturnLabel
        )
    }
}

impl Operation {
    /// The operation's name in messages and logs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Token => "OAuth token",
            Operation::PaymentAuthorization => "payment authorization",
            Operation::ReturnLabel => "return label",
            Operation::UserInfo => "userinfo",
            Operation::WebToolsReturnLabel => "Web Tools USPSReturnsLabel",
            Operation::Tracking => "tracking",
            Operation::Subscription => "tracking subscription",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed USPS call, before classification.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Error {
    /// The connection could not be made: the request was provably not sent.
    #[error("{operation}: could not connect to {url}: {message}")]
    Connect {
        operation: Operation,
        url: String,
        message: String,
    },

    /// The request was sent and no complete reply arrived in time.
    #[error("{operation}: no reply from {url} within the timeout")]
    Timeout { operation: Operation, url: String },

    /// The request was (or may have been) sent and the exchange broke off.
    #[error("{operation}: exchange with {url} failed: {message}")]
    Interrupted {
        operation: Operation,
        url: String,
        message: String,
    },

    /// The reply passed the client's size limit; the request was sent.
    #[error("{operation}: the reply from {url} is larger than {limit} bytes")]
    TooLarge {
        operation: Operation,
        url: String,
        limit: usize,
    },

    /// USPS answered with an error status and (usually) an `ErrorMessage` body.
    #[error("{operation}: USPS answered HTTP {status}{}", summary(.messages))]
    Status {
        operation: Operation,
        status: u16,
        messages: Vec<CarrierMessage>,
        retry_after: Option<Duration>,
    },

    /// The OAuth API answered with a `StandardErrorResponse`.
    #[error("{operation}: OAuth error {error}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        operation: Operation,
        status: u16,
        error: String,
        description: Option<String>,
    },

    /// A reply we could not understand.
    #[error("{operation}: malformed reply: {message}")]
    Malformed {
        operation: Operation,
        message: String,
    },

    /// The request could not be built (a token USPS issued is not a valid header value); it
    /// was not sent.
    #[error("{operation}: request not sent: {message}")]
    Unsendable {
        operation: Operation,
        message: String,
    },

    /// No usable credentials (an expired platform token, tokens missing).
    #[error("{0}")]
    Unauthenticated(String),

    /// Web Tools answered with `<Error>` documents: the request was refused.
    #[error("{operation}: USPS Web Tools error{}", summary(.messages))]
    WebTools {
        operation: Operation,
        messages: Vec<CarrierMessage>,
    },

    /// Web Tools answered with an `<Error>` refusing the user ID, the password or the user's
    /// permission for the API.
    #[error("{operation}: USPS Web Tools refused the credentials{}", summary(.messages))]
    WebToolsAuthorization {
        operation: Operation,
        messages: Vec<CarrierMessage>,
    },

    /// USPS answered a return label with 160368 only: "Label Broker Service is unavailable".
    /// Nothing was bought, and the same request may succeed once the service is back.
    #[error("{operation}: USPS Label Broker is unavailable{}", summary(.messages))]
    LabelBrokerUnavailable {
        operation: Operation,
        messages: Vec<CarrierMessage>,
    },

    /// Web Tools answered with an `<Error>` saying it failed inside (`80004005`).
    #[error("{operation}: USPS Web Tools failed{}", summary(.messages))]
    WebToolsUnavailable {
        operation: Operation,
        messages: Vec<CarrierMessage>,
    },
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

    /// Whether USPS refused the bearer token (HTTP 401), so a fresh token may help.
    pub(crate) fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Status { status: 401, .. })
    }
}

impl From<Error> for CarrierError {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Connect { .. } => CarrierError::Unavailable {
                carrier: CARRIER,
                message,
                retry_after: None,
            },
            Error::Timeout { operation, .. }
            | Error::Interrupted { operation, .. }
            | Error::TooLarge { operation, .. } => {
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
                _ => CarrierError::Rejected {
                    carrier: CARRIER,
                    status: Some(status),
                    messages,
                },
            },
            Error::OAuth {
                status,
                error,
                description,
                ..
            } => match error.as_str() {
                "invalid_client" | "invalid_grant" | "unauthorized_client" => {
                    CarrierError::Unauthenticated {
                        carrier: CARRIER,
                        message,
                    }
                }
                _ if status == 401 => CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                },
                _ => CarrierError::Rejected {
                    carrier: CARRIER,
                    status: Some(status),
                    messages: vec![CarrierMessage {
                        code: error,
                        message: description.unwrap_or_default(),
                        field: None,
                    }],
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
            Error::Unsendable { .. } => CarrierError::Protocol {
                carrier: CARRIER,
                message,
            },
            Error::Unauthenticated(_) | Error::WebToolsAuthorization { .. } => {
                CarrierError::Unauthenticated {
                    carrier: CARRIER,
                    message,
                }
            }
            Error::WebToolsUnavailable { .. } | Error::LabelBrokerUnavailable { .. } => {
                CarrierError::Unavailable {
                    carrier: CARRIER,
                    message,
                    retry_after: None,
                }
            }
            // An `<Error>` comes with HTTP 200: there is no status to report.
            Error::WebTools { messages, .. } => CarrierError::Rejected {
                carrier: CARRIER,
                status: None,
                messages,
            },
        }
    }
}

/// Replaces every occurrence of each `(secret, replacement)` pair in `text`. Secrets shorter
/// than four characters are left alone (they would match innocent text).
pub(crate) fn scrub_text(text: &str, secrets: &[(&str, String)]) -> String {
    secrets
        .iter()
        .filter(|(secret, _)| secret.len() >= 4)
        .fold(text.to_owned(), |text, (secret, replacement)| {
            text.replace(secret, replacement)
        })
}

/// Replaces every occurrence of each `(secret, replacement)` pair in the error's texts (see
/// [`scrub_text`]).
pub(crate) fn scrub(error: CarrierError, secrets: &[(&str, String)]) -> CarrierError {
    error.map_texts(|text| scrub_text(&text, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::ErrorKind;

    fn status(operation: Operation, status: u16) -> CarrierError {
        Error::Status {
            operation,
            status,
            messages: vec![],
            retry_after: Some(Duration::from_secs(7)),
        }
        .into()
    }

    #[test]
    fn server_errors_on_the_label_post_are_outcome_unknown() {
        for code in [500, 502, 504] {
            assert_eq!(
                status(Operation::ReturnLabel, code).kind(),
                ErrorKind::OutcomeUnknown
            );
        }
    }

    #[test]
    fn server_errors_elsewhere_are_unavailable() {
        for code in [500, 502, 504] {
            assert_eq!(
                status(Operation::PaymentAuthorization, code).kind(),
                ErrorKind::Unavailable
            );
        }
    }

    #[test]
    fn service_unavailable_keeps_its_retry_after_even_for_labels() {
        let error = status(Operation::ReturnLabel, 503);
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn too_many_requests_is_rate_limited_with_the_delay() {
        let error = status(Operation::ReturnLabel, 429);
        assert_eq!(error.kind(), ErrorKind::RateLimited);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn unauthorized_is_unauthenticated() {
        assert_eq!(
            status(Operation::ReturnLabel, 401).kind(),
            ErrorKind::Unauthenticated
        );
    }

    #[test]
    fn client_errors_are_rejections() {
        assert_eq!(
            status(Operation::ReturnLabel, 400).kind(),
            ErrorKind::Rejected
        );
        assert_eq!(
            status(Operation::PaymentAuthorization, 403).kind(),
            ErrorKind::Rejected
        );
    }

    #[test]
    fn a_timeout_after_sending_a_label_is_outcome_unknown_but_elsewhere_unavailable() {
        let timeout = |operation| -> CarrierError {
            Error::Timeout {
                operation,
                url: "https://apis.usps.com/labels/v3/return-label".into(),
            }
            .into()
        };
        assert_eq!(
            timeout(Operation::ReturnLabel).kind(),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(timeout(Operation::Token).kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn a_connect_failure_is_unavailable_even_for_labels() {
        let error: CarrierError = Error::Connect {
            operation: Operation::ReturnLabel,
            url: "https://apis.usps.com/labels/v3/return-label".into(),
            message: "connection refused".into(),
        }
        .into();
        assert_eq!(error.kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn a_malformed_label_reply_is_outcome_unknown_but_a_malformed_token_reply_is_protocol() {
        let label: CarrierError = Error::malformed(Operation::ReturnLabel, "bad").into();
        let token: CarrierError = Error::malformed(Operation::Token, "bad").into();
        assert_eq!(label.kind(), ErrorKind::OutcomeUnknown);
        assert_eq!(token.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn oauth_client_and_grant_errors_are_unauthenticated() {
        for code in ["invalid_client", "invalid_grant", "unauthorized_client"] {
            let error: CarrierError = Error::OAuth {
                operation: Operation::Token,
                status: 400,
                error: code.into(),
                description: Some("nope".into()),
            }
            .into();
            assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{code}");
        }
    }

    #[test]
    fn other_oauth_errors_are_rejections_with_the_oauth_code() {
        let error: CarrierError = Error::OAuth {
            operation: Operation::Token,
            status: 400,
            error: "invalid_scope".into(),
            description: Some("unknown scope".into()),
        }
        .into();
        match error {
            CarrierError::Rejected { messages, .. } => {
                assert_eq!(messages[0].code, "invalid_scope")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unsendable_label_request_is_a_protocol_error_not_an_unknown_outcome() {
        let error: CarrierError = Error::Unsendable {
            operation: Operation::ReturnLabel,
            message: "bad header".into(),
        }
        .into();
        assert_eq!(error.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn every_error_names_usps() {
        let errors: Vec<CarrierError> = vec![
            status(Operation::ReturnLabel, 500),
            status(Operation::ReturnLabel, 503),
            status(Operation::ReturnLabel, 401),
            status(Operation::ReturnLabel, 400),
            Error::Unauthenticated("expired".into()).into(),
            Error::malformed(Operation::Token, "x").into(),
        ];
        for error in errors {
            assert!(error.to_string().starts_with("usps"), "{error}");
        }
    }

    #[test]
    fn scrub_replaces_echoed_secrets_in_rejections() {
        let error = CarrierError::Rejected {
            carrier: CARRIER,
            status: Some(400),
            messages: vec![CarrierMessage {
                code: "100001".into(),
                message: "Could not find an EPS Account with number: 1000004321.".into(),
                field: Some("roles".into()),
            }],
        };
        let scrubbed = scrub(error, &[("1000004321", "******4321".into())]);
        let printed = format!("{scrubbed} {scrubbed:?}");
        assert!(!printed.contains("1000004321"), "{printed}");
        assert!(printed.contains("******4321"));
    }
}
