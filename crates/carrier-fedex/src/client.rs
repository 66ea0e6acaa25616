//! How FedEx calls go through the shared [`carrier_http`] client: each [`Operation`] names its
//! retry policy, and transport failures become this crate's [`Error`].
//!
//! - Token grants, tracking and the cancel are [`RetryPolicy::Idempotent`]: a token grant and
//!   a track call create nothing, and cancelling a cancelled shipment changes nothing.
//! - The Ship request buys a label and the Ship file has no idempotency mechanism, so it is
//!   [`RetryPolicy::NotIdempotent`]: resent only when it provably was not sent (the connection
//!   could not be made). So are the Account Registration calls: each one makes FedEx do
//!   something once (issue child keys, send a PIN — a second PIN may void the first).

use std::time::Duration;

pub(crate) use carrier_http::Reply;
use carrier_http::{ClientOptions, RetryPolicy};

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

    /// Sends the request `build` makes (again for each attempt the operation's policy allows)
    /// and reads the whole reply. Error statuses are replies; only transport failures are
    /// errors.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, Error> {
        let policy = if !operation.repeatable() {
            RetryPolicy::NotIdempotent
        } else {
            RetryPolicy::Idempotent
        };
        self.0
            .send(operation.name(), policy, build)
            .await
            .map_err(|source| Error::Transport { operation, source })
    }
}
