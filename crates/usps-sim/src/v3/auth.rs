//! Bearer access tokens on the v3 resource APIs (oauth2.yaml: "The value in the
//! `access_token` field of the /token response is placed in the Authorization header in
//! accordance with the Bearer token authentication scheme"), and the JSON request-body gate
//! shared by the v3 POST routes.

use axum::http::{HeaderMap, header};

use crate::state::{AccessGrant, State};
use crate::v3::error::{ApiError, ApiVersion};

/// The token of an `Authorization: Bearer <token>` header (scheme matched case-insensitively).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The live access grant of the request, or the 401 to answer.
pub(crate) fn require_access(
    state: &State,
    headers: &HeaderMap,
    api: ApiVersion,
) -> Result<AccessGrant, ApiError> {
    let token = bearer_token(headers).ok_or_else(|| ApiError::missing_access_token(api))?;
    state
        .access_grant(&token)
        .ok_or_else(|| ApiError::expired_access_token(api))
}

/// Checks that the request body is declared `application/json` (parameters such as
/// `charset` allowed), else the 415 to answer.
pub(crate) fn require_json(headers: &HeaderMap, api: ApiVersion) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let essence = content_type.map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if essence.as_deref() == Some("application/json") {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type(api, content_type))
    }
}

/// Parses a JSON request body into a value, or the 400 naming the problem.
pub(crate) fn parse_json(body: &[u8], api: ApiVersion) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::schema(
            api,
            "body",
            format!("The request body is not valid JSON: {error}"),
        )
    })
}
