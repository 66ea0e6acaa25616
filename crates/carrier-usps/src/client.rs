//! How USPS calls go through the shared [`carrier_http`] client: each [`Operation`] names its
//! retry policy, and the client's transport failures become this crate's [`Error`].
//!
//! Retries follow what the protocol makes safe:
//! - the OAuth token, payment-authorization and userinfo calls create nothing we pay for, so
//!   they are [`RetryPolicy::Idempotent`] (retried on connect errors, HTTP 503 and HTTP 429 whose
//!   `Retry-After` is short);
//! - the label POSTs buy a label, so they are [`RetryPolicy::NotIdempotent`]: retried only when
//!   the request provably was not sent (the connection could not be made). Anything after
//!   sending is left to the caller, who resends with the same idempotency key.

use std::time::Duration;

use carrier_http::{ClientOptions, RetryPolicy, TransportError};
pub(crate) use carrier_http::{Reply, sensitive_header};

use crate::builder::RetryConfig;
use crate::error::{Error, Operation};

/// The shared client, speaking this crate's [`Operation`] and [`Error`].
#[derive(Debug, Clone)]
pub(crate) struct HttpClient(carrier_http::HttpClient);

impl HttpClient {
    pub(crate) fn new(
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryConfig,
        max_reply_bytes: usize,
    ) -> Result<Self, carrier_http::BuildError> {
        carrier_http::HttpClient::new(ClientOptions {
            connect_timeout,
            request_timeout,
            retry,
            max_reply_bytes,
        })
        .map(Self)
    }

    /// Sends the request `build` makes (called again for each attempt the operation's policy
    /// allows) and reads the whole reply. Error statuses are returned as replies; only transport
    /// failures are errors.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, Error> {
        let policy = if operation.creates() {
            RetryPolicy::NotIdempotent
        } else {
            RetryPolicy::Idempotent
        };
        self.0
            .send(operation.name(), policy, build)
            .await
            .map_err(|error| transport(operation, error))
    }
}

fn transport(operation: Operation, error: TransportError) -> Error {
    match error {
        TransportError::Connect { url, message, .. } => Error::Connect {
            operation,
            url,
            message,
        },
        TransportError::Timeout { url, .. } => Error::Timeout { operation, url },
        TransportError::Reset { url, message, .. } => Error::Interrupted {
            operation,
            url,
            message,
        },
        TransportError::TooLarge { url, limit, .. } => Error::TooLarge {
            operation,
            url,
            limit,
        },
        TransportError::Unsendable { message, .. } => Error::Unsendable { operation, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn transport_errors_never_show_the_query_or_user_info() {
        // Port 9 on loopback (discard) is closed here, so the connection is refused.
        let client = HttpClient::new(
            Duration::from_millis(500),
            Duration::from_secs(1),
            RetryConfig {
                max_retries: 1,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                max_retry_after: Duration::from_secs(1),
            },
            carrier_http::DEFAULT_MAX_REPLY_BYTES,
        )
        .unwrap();
        let error = client
            .send(Operation::Token, |http| {
                http.post("http://agent:sentinel-password@127.0.0.1:9/oauth2/v3/token?client_secret=sentinel-secret")
            })
            .await
            .unwrap_err();
        let carrier: carrier::CarrierError = error.clone().into();
        let printed = format!("{error} {error:?} {carrier} {carrier:?}");
        assert!(!printed.contains("sentinel"), "{printed}");
        assert!(
            printed.contains("http://127.0.0.1:9/oauth2/v3/token"),
            "{printed}"
        );
        assert_eq!(carrier.kind(), carrier::ErrorKind::Unavailable);
    }

    #[test]
    fn an_oversized_label_reply_is_outcome_unknown_and_elsewhere_unavailable() {
        let error = |operation| -> carrier::CarrierError {
            transport(
                operation,
                TransportError::TooLarge {
                    operation: "x",
                    url: "https://apis.usps.com/labels/v3/return-label".into(),
                    limit: 16,
                },
            )
            .into()
        };
        assert_eq!(
            error(Operation::ReturnLabel).kind(),
            carrier::ErrorKind::OutcomeUnknown
        );
        assert_eq!(
            error(Operation::WebToolsReturnLabel).kind(),
            carrier::ErrorKind::OutcomeUnknown
        );
        assert_eq!(
            error(Operation::Token).kind(),
            carrier::ErrorKind::Unavailable
        );
    }
}
