//! The one HTTP client every Backhaul carrier plugin sends through, after `object_store`'s
//! `client/retry.rs`: written once so that timeouts, backoff, redaction and a reply size limit
//! are the same for every carrier.
//!
//! - **Timeouts**: a connect timeout and a whole-exchange request timeout ([`ClientOptions`]).
//! - **Retries only where the caller says resending is safe**: every call names its
//!   [`RetryPolicy`]. [`RetryPolicy::Idempotent`] calls (token grants, lookups) are retried on
//!   connect errors, HTTP 503 and HTTP 429 with a short `Retry-After`;
//!   [`RetryPolicy::NotIdempotent`] calls (a label purchase) are retried only when the request
//!   provably was not sent — the connection could not be made. Backoff is exponential with full
//!   jitter ([`RetryConfig`]).
//! - **A reply size limit**: the body is read in chunks and the read stops with
//!   [`TransportError::TooLarge`] once it passes [`ClientOptions::max_reply_bytes`] (default
//!   [`DEFAULT_MAX_REPLY_BYTES`]); nothing is buffered without bound.
//! - **Typed transport errors** that tell whether the request left
//!   ([`TransportError::request_sent`]): a plugin maps a failure after sending onto "outcome
//!   unknown" for a purchase.
//! - **Redaction**: URLs in errors and logs keep their query names but never their values, and
//!   lose user info and fragment ([`redact_url`]); reqwest's own error texts are stripped of
//!   their URL ([`describe`]); secret headers are marked sensitive ([`sensitive_header`]).
//!
//! Error statuses are replies, not errors: what a 4xx or 5xx means is the carrier's business.

mod client;
mod error;
mod redact;
mod retry_after;

pub use crate::client::{
    ClientOptions, DEFAULT_MAX_REPLY_BYTES, HttpClient, Reply, RetryConfig, RetryPolicy,
};
pub use crate::error::{BuildError, TransportError};
pub use crate::redact::{describe, redact_url, sensitive_header};
pub use crate::retry_after::parse_retry_after;

/// The `reqwest` this crate builds requests with, so plugins name the same types.
pub use reqwest;
