//! [`HttpClient`]: one request at a time, with timeouts, the caller's retry policy, backoff with
//! full jitter and a bounded reply read.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::error::{BuildError, TransportError};
use crate::redact::{describe, redact_url};
use crate::retry_after::parse_retry_after;

/// The default reply size limit: 16 MiB. Label PDFs run to a few MB; nothing a carrier sends
/// us in one reply needs more.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// Whether a call may be sent again after it may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Sending twice does no harm (a token grant, a lookup): retried on connect errors, HTTP 503
    /// and HTTP 429 whose `Retry-After` is at most [`RetryConfig::max_retry_after`].
    Idempotent,
    /// Sending twice may do something twice (a label purchase): retried only when the request
    /// provably was not sent (the connection could not be made). Every reply, whatever its
    /// status, goes back to the caller.
    NotIdempotent,
}

/// Retries for the calls their [`RetryPolicy`] makes safe to repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff ceiling; doubled per attempt, with full jitter.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited out: the reply goes back to the caller,
    /// which reports rate limiting or unavailability with the delay.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(3),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

/// How an [`HttpClient`] is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// The whole-exchange timeout of one attempt (sending, waiting, reading the body).
    pub request_timeout: Duration,
    pub retry: RetryConfig,
    /// The largest reply body read; a larger one is [`TransportError::TooLarge`].
    pub max_reply_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }
}

/// A complete reply: status, headers and the whole (bounded) body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The `Content-Type` header, or `""`.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    /// The `Retry-After` delay, when the header is there and readable.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()))
    }
}

/// The shared client. Cloning is cheap (one connection pool).
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    retry: RetryConfig,
    max_reply_bytes: usize,
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<Self, BuildError> {
        let inner = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            // No carrier API redirects a call; a redirect would carry our credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| BuildError(describe(error)))?;
        Ok(Self {
            inner,
            retry: options.retry,
            max_reply_bytes: options.max_reply_bytes,
        })
    }

    /// The size limit replies are read to.
    pub fn max_reply_bytes(&self) -> usize {
        self.max_reply_bytes
    }

    /// Sends the request `build` makes (called again for each attempt) and reads the whole
    /// reply. `operation` names the call in errors and logs. Error statuses are returned as
    /// replies; only transport failures are errors.
    pub async fn send(
        &self,
        operation: &'static str,
        policy: RetryPolicy,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, TransportError> {
        let mut attempt: u32 = 0;
        loop {
            let request =
                build(&self.inner)
                    .build()
                    .map_err(|error| TransportError::Unsendable {
                        operation,
                        message: describe(error),
                    })?;
            let url = redact_url(request.url());
            let may_retry = attempt < self.retry.max_retries;
            match self.inner.execute(request).await {
                Err(error) if error.is_connect() => {
                    if may_retry {
                        tracing::debug!(operation, %url, attempt, "connect failed; retrying");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(TransportError::Connect {
                        operation,
                        url,
                        message: describe(error),
                    });
                }
                Err(error) if error.is_timeout() => {
                    return Err(TransportError::Timeout { operation, url });
                }
                Err(error) => {
                    return Err(TransportError::Reset {
                        operation,
                        url,
                        message: describe(error),
                    });
                }
                Ok(response) => {
                    let reply = self.read(operation, &url, response).await?;
                    if may_retry && policy == RetryPolicy::Idempotent {
                        if let Some(delay) = self.transient_delay(&reply, attempt) {
                            tracing::debug!(
                                operation,
                                %url,
                                status = reply.status.as_u16(),
                                attempt,
                                "server busy; retrying"
                            );
                            tokio::time::sleep(delay).await;
                            attempt += 1;
                            continue;
                        }
                    }
                    return Ok(reply);
                }
            }
        }
    }

    /// Reads the body chunk by chunk, stopping once it passes the limit.
    async fn read(
        &self,
        operation: &'static str,
        url: &str,
        mut response: reqwest::Response,
    ) -> Result<Reply, TransportError> {
        let too_large = || TransportError::TooLarge {
            operation,
            url: url.to_owned(),
            limit: self.max_reply_bytes,
        };
        let status = response.status();
        let headers = response.headers().clone();
        let announced = response.content_length().unwrap_or(0);
        if usize::try_from(announced).map_or(true, |length| length > self.max_reply_bytes) {
            return Err(too_large());
        }
        let mut body = BytesMut::with_capacity(usize::try_from(announced).unwrap_or(0));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len().saturating_add(chunk.len()) > self.max_reply_bytes {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) if error.is_timeout() => {
                    return Err(TransportError::Timeout {
                        operation,
                        url: url.to_owned(),
                    });
                }
                Err(error) => {
                    return Err(TransportError::Reset {
                        operation,
                        url: url.to_owned(),
                        message: describe(error),
                    });
                }
            }
        }
        Ok(Reply {
            status,
            headers,
            body: body.freeze(),
        })
    }

    /// How long to wait before retrying a reply that is worth retrying, if it is.
    fn transient_delay(&self, reply: &Reply, attempt: u32) -> Option<Duration> {
        match reply.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                let backoff = self.backoff(attempt);
                match reply.retry_after() {
                    Some(after) if after > self.retry.max_retry_after => None,
                    Some(after) => Some(after.max(backoff)),
                    None => Some(backoff),
                }
            }
            StatusCode::TOO_MANY_REQUESTS => match reply.retry_after() {
                Some(after) if after <= self.retry.max_retry_after => Some(after),
                _ => None,
            },
            _ => None,
        }
    }

    /// Exponential backoff with full jitter: a random delay between zero and
    /// `initial * 2^attempt`, the ceiling capped at `max_backoff`, so clients that failed
    /// together do not retry together.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .initial_backoff
            .saturating_mul(2_u32.saturating_pow(attempt))
            .min(self.retry.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let client = HttpClient::new(ClientOptions {
            retry: RetryConfig {
                max_retries: 5,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(400),
                max_retry_after: Duration::from_secs(5),
            },
            ..ClientOptions::default()
        })
        .unwrap();
        let first: Vec<Duration> = (0..200).map(|_| client.backoff(0)).collect();
        let late: Vec<Duration> = (0..200).map(|_| client.backoff(10)).collect();
        assert!(first.iter().all(|d| *d <= Duration::from_millis(100)));
        assert!(late.iter().all(|d| *d <= Duration::from_millis(400)));
        // Full jitter spreads the delays over the whole range (each bound fails with odds
        // of 2^-200 or less).
        assert!(late.iter().any(|d| *d > Duration::from_millis(200)));
        assert!(late.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(first.iter().any(|d| *d < Duration::from_millis(50)));
    }
}
