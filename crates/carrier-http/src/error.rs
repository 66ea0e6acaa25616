//! The transport failures of one call, typed by whether the request left.

/// A call that produced no complete reply. Every variant names the caller's operation and a
/// redacted URL (see [`crate::redact_url`]); none carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The connection could not be made: the request was provably not sent.
    #[error("{operation}: could not connect to {url}: {message}")]
    Connect {
        operation: &'static str,
        url: String,
        message: String,
    },

    /// The request was sent and no complete reply arrived within the request timeout.
    #[error("{operation}: no reply from {url} within the timeout")]
    Timeout {
        operation: &'static str,
        url: String,
    },

    /// The request was (or may have been) sent and the exchange broke off (a reset, a closed
    /// connection, a body cut short).
    #[error("{operation}: exchange with {url} failed: {message}")]
    Reset {
        operation: &'static str,
        url: String,
        message: String,
    },

    /// The reply body passed the size limit; reading stopped there. The request was sent.
    #[error("{operation}: the reply from {url} is larger than {limit} bytes")]
    TooLarge {
        operation: &'static str,
        url: String,
        limit: usize,
    },

    /// The request could not be built (e.g. a header value with a line break): not sent.
    #[error("{operation}: request not sent: {message}")]
    Unsendable {
        operation: &'static str,
        message: String,
    },
}

impl TransportError {
    /// Whether the request may have reached the server. `false` only where that is certain
    /// (no connection, nothing built); a caller whose call creates something must treat `true`
    /// as "outcome unknown".
    pub fn request_sent(&self) -> bool {
        match self {
            TransportError::Connect { .. } | TransportError::Unsendable { .. } => false,
            TransportError::Timeout { .. }
            | TransportError::Reset { .. }
            | TransportError::TooLarge { .. } => true,
        }
    }

    /// The caller's name for the operation that failed.
    pub fn operation(&self) -> &'static str {
        match self {
            TransportError::Connect { operation, .. }
            | TransportError::Timeout { operation, .. }
            | TransportError::Reset { operation, .. }
            | TransportError::TooLarge { operation, .. }
            | TransportError::Unsendable { operation, .. } => operation,
        }
    }
}

/// Why an [`crate::HttpClient`] could not be built.
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client: {0}")]
pub struct BuildError(pub(crate) String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connect_and_unbuilt_requests_are_known_not_sent() {
        let url = String::from("https://h.example/ship");
        let operation = "ship";
        let not_sent = [
            TransportError::Connect {
                operation,
                url: url.clone(),
                message: "refused".into(),
            },
            TransportError::Unsendable {
                operation,
                message: "bad header".into(),
            },
        ];
        let sent = [
            TransportError::Timeout {
                operation,
                url: url.clone(),
            },
            TransportError::Reset {
                operation,
                url: url.clone(),
                message: "reset".into(),
            },
            TransportError::TooLarge {
                operation,
                url,
                limit: 10,
            },
        ];
        assert!(not_sent.iter().all(|error| !error.request_sent()));
        assert!(sent.iter().all(TransportError::request_sent));
        assert!(sent.iter().all(|error| error.operation() == "ship"));
    }
}
