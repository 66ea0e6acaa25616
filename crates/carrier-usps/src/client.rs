//! The one HTTP client every USPS call goes through (object_store's `client/retry.rs`): timeouts,
//! retries with exponential backoff and full jitter, and URL redaction in every error.
//!
//! Retries follow what the protocol makes safe:
//! - the OAuth token, payment-authorization and userinfo calls create nothing we pay for, so
//!   they are retried on connect errors, HTTP 503 and HTTP 429 whose `Retry-After` is short;
//! - the label POST buys a label, so it is retried only when the request provably was not sent
//!   (the connection could not be made). Anything after sending is left to the caller, who
//!   resends with the same idempotency key.

use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

use crate::builder::RetryConfig;
use crate::error::{Error, Operation};

/// A complete reply: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()))
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
    retry: RetryConfig,
}

impl HttpClient {
    pub(crate) fn new(
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryConfig,
    ) -> Result<Self, reqwest::Error> {
        let inner = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            // USPS never redirects an API call; a redirect would carry our bearer token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { inner, retry })
    }

    /// Sends the request `build` makes (called again for each attempt) and reads the whole
    /// reply. Error statuses are returned as replies; only transport failures are errors.
    pub(crate) async fn send(
        &self,
        operation: Operation,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Reply, Error> {
        let mut attempt: u32 = 0;
        loop {
            let request = build(&self.inner)
                .build()
                .map_err(|error| Error::Unsendable {
                    operation,
                    message: describe(error),
                })?;
            let url = redact(request.url());
            let may_retry = attempt < self.retry.max_retries;
            match self.inner.execute(request).await {
                Err(error) if error.is_connect() => {
                    if may_retry {
                        tracing::debug!(%operation, %url, attempt, "USPS connect failed; retrying");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(Error::Connect {
                        operation,
                        url,
                        message: describe(error),
                    });
                }
                Err(error) if error.is_timeout() => return Err(Error::Timeout { operation, url }),
                Err(error) => {
                    return Err(Error::Interrupted {
                        operation,
                        url,
                        message: describe(error),
                    });
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(error) if error.is_timeout() => {
                            return Err(Error::Timeout { operation, url });
                        }
                        Err(error) => {
                            return Err(Error::Interrupted {
                                operation,
                                url,
                                message: describe(error),
                            });
                        }
                    };
                    let reply = Reply {
                        status,
                        headers,
                        body,
                    };
                    if may_retry && !operation.creates() {
                        if let Some(delay) = self.transient_delay(&reply, attempt) {
                            tracing::debug!(%operation, %url, status = status.as_u16(), attempt, "USPS busy; retrying");
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

    /// Exponential backoff with full jitter: a random delay up to `initial * 2^attempt`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry
            .initial_backoff
            .saturating_mul(2_u32.saturating_pow(attempt))
            .min(self.retry.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }
}

/// A header value that is never logged or shown (`HeaderValue::set_sensitive`); `None` when the
/// value cannot be a header (the request is then not sent).
pub(crate) fn sensitive_header(value: &str) -> Option<reqwest::header::HeaderValue> {
    let mut header = reqwest::header::HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// A URL as it may appear in messages and logs: scheme, host, port and path only — no user
/// info, no query, no fragment.
pub(crate) fn redact(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path());
    out
}

/// A reqwest error's description without its URL: the error and its sources, joined.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the
/// past means "now".
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn retry_after_reads_delay_seconds() {
        assert_eq!(
            parse_retry_after("30", SystemTime::now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(" 0 ", SystemTime::now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_reads_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_717); // Sun, 06 Nov 1994 08:48:37 GMT
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777 + 3600);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
        assert_eq!(parse_retry_after("-5", SystemTime::now()), None);
    }

    #[test]
    fn redaction_drops_user_info_query_and_fragment() {
        let url = Url::parse(
            "https://user:hunter2@apis.usps.com:8443/oauth2/v3/token?client_secret=s3cr3t#frag",
        )
        .unwrap();
        assert_eq!(redact(&url), "https://apis.usps.com:8443/oauth2/v3/token");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let client = HttpClient::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            RetryConfig {
                max_retries: 5,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(400),
                max_retry_after: Duration::from_secs(5),
            },
        )
        .unwrap();
        for _ in 0..50 {
            let first = client.backoff(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let late = client.backoff(10);
            assert!(late >= Duration::from_millis(200) && late <= Duration::from_millis(400));
        }
    }

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
}
