//! Request ids: every request gets the service's own (`req_…`), returned in the `X-Request-Id`
//! header and in every error body, written into the audit trail and attached to every log line
//! of the request (its tracing span). An id the client sent in `X-Request-Id` is kept only as
//! `client_request_id` on the request's log lines (when it is a well-formed token): a client
//! cannot choose the id the audit trail records, so no two events share one by accident or
//! design.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use rand::distr::Alphanumeric;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served ("unknown" outside one).
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn generate() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("req_{random}")
}

fn acceptable(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Middleware: assigns the id, runs the request inside a span carrying it (and the client's
/// own id, if any), and returns it.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = generate();
    let client_request_id = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| acceptable(value))
        .map(str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client_request_id = client_request_id.as_deref(),
        method = %crate::metrics::method_label(request.method()),
        path = %request.uri().path(),
    );
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request).instrument(span))
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
