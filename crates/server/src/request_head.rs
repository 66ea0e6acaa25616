//! Limits on a request's head, answered in the API's error shape: a URI over [`URI_LIMIT`]
//! bytes is 414 `uri_too_long`, headers over [`HEADERS_LIMIT`] bytes in all are 431
//! `headers_too_large`. (hyper refuses far larger heads — over its ~400 KB read buffer, or a
//! URI over 64 KiB — by itself, before any of this code runs, with an empty body.)

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The longest request URI (path and query) accepted.
pub const URI_LIMIT: usize = 8 * 1024;

/// The largest total of header names and values accepted.
pub const HEADERS_LIMIT: usize = 32 * 1024;

/// Refuses a request whose head is over a limit.
pub async fn limit(request: Request, next: Next) -> Response {
    let uri_length = request
        .uri()
        .path_and_query()
        .map_or(0, |path| path.as_str().len());
    if uri_length > URI_LIMIT {
        return ApiError::UriTooLong { limit: URI_LIMIT }.into_response();
    }
    let headers_length: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers_length > HEADERS_LIMIT {
        return ApiError::HeadersTooLarge {
            limit: HEADERS_LIMIT,
        }
        .into_response();
    }
    next.run(request).await
}
