//! Refuses control characters in a request's path parameters and query values — a 422 naming
//! the parameter — before any handler sees them. Postgres refuses a NUL byte in `text`, so an
//! id such as `/v1/shipper-accounts/%00` would otherwise be a failed statement (a 500).
//! Bodies get the same rule where they are parsed ([`carrier::text::check_json`]).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use carrier::ValidationErrors;
use carrier::text::{CONTROL_CHARACTERS, has_control};

use crate::error::ApiError;

/// Middleware (a route layer: it needs the matched route's template to name parameters).
pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let errors = check(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
        request.uri().path(),
        request.uri().query(),
    );
    if errors.is_empty() {
        next.run(request).await
    } else {
        ApiError::Validation(errors).into_response()
    }
}

/// The errors of one request's path (against its route `template`) and query.
fn check(template: Option<&str>, path: &str, query: Option<&str>) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    let names = template.map(|template| template.split('/').collect::<Vec<_>>());
    for (index, segment) in path.split('/').enumerate() {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if !has_control(&decoded) {
            continue;
        }
        let name = names
            .as_ref()
            .and_then(|names| names.get(index))
            .and_then(|name| name.strip_prefix('{'))
            .and_then(|name| name.strip_suffix('}'))
            .unwrap_or("path");
        errors.push(name, CONTROL_CHARACTERS);
    }
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if has_control(&key) {
            errors.push("query", "has a parameter name with control characters");
        } else if has_control(&value) {
            errors.push(key.into_owned(), CONTROL_CHARACTERS);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(template: Option<&str>, path: &str, query: Option<&str>) -> Vec<String> {
        check(template, path, query)
            .errors()
            .iter()
            .map(|error| error.field.clone())
            .collect()
    }

    #[test]
    fn a_control_character_in_a_path_parameter_names_the_parameter() {
        let template = Some("/v1/shipper-accounts/{id}");
        assert_eq!(fields(template, "/v1/shipper-accounts/%00", None), ["id"]);
        assert_eq!(
            fields(template, "/v1/shipper-accounts/sa_%0Dx", None),
            ["id"]
        );
        assert!(fields(template, "/v1/shipper-accounts/sa_123", None).is_empty());
        assert!(fields(template, "/v1/shipper-accounts/a+b%20c", None).is_empty());
    }

    #[test]
    fn a_control_character_in_a_query_value_names_the_parameter() {
        assert_eq!(
            fields(
                None,
                "/v1/admin/audit-events",
                Some("carrier=acme&account_id=%00")
            ),
            ["account_id"]
        );
        assert_eq!(fields(None, "/x", Some("a%0A=1")), ["query"]);
        assert!(fields(None, "/x", Some("since=2026-12-01T00:00:00%2B00:00")).is_empty());
    }
}
