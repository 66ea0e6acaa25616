//! The API's request extractors. Every refusal is an [`ApiError`] in the one error shape, never
//! one of axum's plain-text rejections:
//!
//! - [`JsonBody`] (and [`OptionalJsonBody`]): `Content-Type: application/json` is required
//!   (415 `unsupported_media_type` otherwise), a body over the limit is 413
//!   `payload_too_large`; [`parse_json`] then reads it with every error in our words, naming
//!   the field by its dotted path.
//! - [`Query`]: a query string whose refusals are 422 `validation_failed` naming the parameter.
//! - [`Path`]: path parameters, refused the same way.
//!
//! serde's messages name Rust types ("expected struct CreateReturnLabel with 11 elements",
//! "a Decimal type representing a fixed-point number"); [`in_our_words`] says what the field
//! must be instead ("must be an object", "must be a number").

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// The largest request body accepted (labels and accounts are small).
pub const BODY_LIMIT: usize = 256 * 1024;

/// The raw bytes of a JSON request body, sent as `Content-Type: application/json`.
#[derive(Debug)]
pub struct JsonBody(pub Bytes);

/// A JSON request body the operation may go without: an empty body is `None` whatever its
/// `Content-Type`; any other body is a [`JsonBody`].
#[derive(Debug)]
pub struct OptionalJsonBody(pub Option<Bytes>);

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

async fn read<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit: BODY_LIMIT }
            } else {
                ApiError::UnreadableBody
            }
        })
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !declares_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        read(request, state).await.map(JsonBody)
    }
}

/// A body of any media type, read within the same size limit: for carriers' notifications and
/// token requests, whose plugin judges the body (form-encoded for an OAuth token request).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        read(request, state).await.map(RawBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = declares_json(request.headers());
        let bytes = read(request, state).await?;
        match (bytes.is_empty(), is_json) {
            (true, _) => Ok(OptionalJsonBody(None)),
            (false, true) => Ok(OptionalJsonBody(Some(bytes))),
            (false, false) => Err(ApiError::UnsupportedMediaType),
        }
    }
}

/// Parses a JSON body into `T`, with the field's dotted path and our words in every error.
/// Also returns the parsed JSON value (the label flow hashes it).
///
/// The body must be an object, and no field of the API's request bodies takes an array (the
/// carrier-specific `details` aside): serde would read an array as a struct's fields in order,
/// so `[…]` for an address would be an address.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<(T, Value), ApiError> {
    parse_json_with_lists(body, &[])
}

/// [`parse_json`] for a body whose top-level fields `lists` take arrays of strings (a webhook
/// endpoint's `events`): an array there is read as itself, never as a struct's fields.
pub fn parse_json_with_lists<T: DeserializeOwned>(
    body: &[u8],
    lists: &[&str],
) -> Result<(T, Value), ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid(
            "body",
            format!(
                "is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ),
        )
    })?;
    let Value::Object(fields) = &value else {
        return Err(ApiError::invalid("body", "must be an object"));
    };
    let mut errors = carrier::ValidationErrors::new();
    carrier::text::check_json("", &value, &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }
    for (name, field) in fields {
        if name != "details"
            && !lists.contains(&name.as_str())
            && let Some(path) = first_array(field, name)
        {
            return Err(ApiError::invalid(path, "must not be an array"));
        }
    }
    let parsed = serde_path_to_error::deserialize(&value).map_err(|error| {
        refusal(
            &error.path().to_string(),
            &error.inner().to_string(),
            "body",
        )
    })?;
    Ok((parsed, value))
}

/// The dotted path of the first array in `value` (itself at `path`), if any.
fn first_array(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Array(_) => Some(path.to_owned()),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(name, field)| first_array(field, &format!("{path}.{name}"))),
        _ => None,
    }
}

/// The query string, deserialized into `T` (unknown parameters are ignored).
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                refusal(
                    &error.path().to_string(),
                    &error.inner().to_string(),
                    "query",
                )
            })
    }
}

/// The path parameters, deserialized into `T`.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            // Only a parameter that is not UTF-8 once percent-decoded gets here: every path
            // parameter of the API is a string.
            Err(_) => Err(ApiError::invalid("path", "must be UTF-8 text")),
        }
    }
}

/// A deserialization error at `path` (serde_path_to_error's: `.` for the whole input) as a
/// validation error naming the field; `whole` names the input itself (`body`, `query`).
fn refusal(path: &str, message: &str, whole: &str) -> ApiError {
    let at = |name: &str| match path {
        "." | "" => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    // serde reports a missing or repeated field at its parent; the field is the one it names.
    if let Some(name) = quoted_after(message, "missing field ") {
        return ApiError::invalid(at(name), "is required");
    }
    if let Some(name) = quoted_after(message, "duplicate field ") {
        return ApiError::invalid(at(name), "is given more than once");
    }
    let field = match path {
        "." | "" => whole.to_owned(),
        field => field.to_owned(),
    };
    ApiError::invalid(field, in_our_words(message))
}

/// The text between the backticks following `prefix` in `message`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// What a field must be, said without Rust's type names. A message already in our words (a
/// parser of ours refusing the value: "must be …", "is …") is kept.
pub fn in_our_words(message: &str) -> String {
    if message.starts_with("must ") || message.starts_with("is ") {
        return message.to_owned();
    }
    if message.starts_with("unknown field ") {
        let known = backticked(
            message
                .split_once("expected")
                .map_or("", |(_, known)| known),
        );
        return if known.is_empty() {
            "is not a known field".to_owned()
        } else {
            format!("is not a known field (known: {})", known.join(", "))
        };
    }
    if message.starts_with("unknown variant ") {
        let known = backticked(
            message
                .split_once("expected")
                .map_or("", |(_, known)| known),
        );
        return format!("must be one of {}", known.join(", "));
    }
    let expected = ["invalid type: ", "invalid length ", "invalid value: "]
        .iter()
        .any(|prefix| message.starts_with(prefix))
        .then(|| {
            message
                .rsplit_once(", expected ")
                .map(|(_, expected)| expected)
        })
        .flatten();
    let described = expected.unwrap_or(message);
    format!("must be {}", what(described))
}

/// The names quoted in backticks in `text`, in order.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Our words for what serde (or a type's parser) expected.
fn what(expected: &str) -> &'static str {
    let lower = expected.to_ascii_lowercase();
    let has = |word: &str| lower.contains(word);
    if has("struct") || has("map") || has("object") {
        "an object"
    } else if has("sequence") || has("array") {
        "an array"
    } else if has("bool") {
        "true or false"
    } else if has("decimal") || has("f64") || has("f32") || has("float") {
        "a number"
    } else if has("i64")
        || has("i32")
        || has("u64")
        || has("u32")
        || has("u16")
        || has("integer")
        || has("digit")
        || has("number too")
    {
        "an integer"
    } else if has("date") || has("input") || has("premature") || has("trailing") {
        // chrono's: the only dates the API reads from serde are plain dates (`ship_date`).
        "a date (YYYY-MM-DD)"
    } else if has("string") || has("char") {
        "a string"
    } else {
        "a valid value"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        weight_oz: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct CreateThing {
        name: String,
        count: Option<i64>,
        inner: Option<Inner>,
    }

    fn refused(body: &str) -> (String, String) {
        let error = parse_json::<CreateThing>(body.as_bytes()).unwrap_err();
        let body = error.body();
        let detail = &body["error"]["details"][0];
        (
            detail["field"].as_str().unwrap().to_owned(),
            detail["message"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn an_array_for_the_body_must_be_an_object_and_names_no_rust_type() {
        assert_eq!(
            refused("[1, 2]"),
            ("body".into(), "must be an object".into())
        );
        assert_eq!(refused("7"), ("body".into(), "must be an object".into()));
    }

    #[test]
    fn a_missing_field_is_required_by_its_name() {
        assert_eq!(refused("{}"), ("name".into(), "is required".into()));
    }

    #[test]
    fn an_unknown_field_lists_the_known_ones_without_backticks() {
        let (field, message) = refused(r#"{"name": "a", "nmae": "b"}"#);
        assert_eq!(field, "nmae");
        assert_eq!(message, "is not a known field (known: name, count, inner)");
    }

    #[test]
    fn a_wrong_type_says_what_the_field_must_be() {
        assert_eq!(
            refused(r#"{"name": 5}"#),
            ("name".into(), "must be a string".into())
        );
        assert_eq!(
            refused(r#"{"name": "a", "count": "many"}"#),
            ("count".into(), "must be an integer".into())
        );
        assert_eq!(
            refused(r#"{"name": "a", "inner": "heavy"}"#),
            ("inner".into(), "must be an object".into())
        );
    }

    #[test]
    fn an_array_is_never_read_as_an_object_s_fields() {
        assert_eq!(
            refused(r#"{"name": "a", "inner": [24]}"#),
            ("inner".into(), "must not be an array".into())
        );
        assert_eq!(
            refused(r#"{"name": "a", "inner": {"weight_oz": [1]}}"#),
            ("inner.weight_oz".into(), "must not be an array".into())
        );
    }

    #[test]
    fn broken_json_is_refused_with_its_position() {
        assert_eq!(
            refused(r#"{"name": "#),
            ("body".into(), "is not valid JSON (line 1, column 9)".into())
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<i64>,
        since: Option<chrono::NaiveDate>,
    }

    async fn query_refusal(query: &str) -> (String, String) {
        let request = axum::http::Request::builder()
            .uri(format!("/v1/x?{query}"))
            .body(())
            .unwrap();
        let (mut parts, ()) = request.into_parts();
        let error = Query::<Page>::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        let body = error.body();
        let detail = &body["error"]["details"][0];
        (
            detail["field"].as_str().unwrap().to_owned(),
            detail["message"].as_str().unwrap().to_owned(),
        )
    }

    #[tokio::test]
    async fn a_bad_query_value_is_refused_by_the_parameter_s_name() {
        assert_eq!(
            query_refusal("limit=ten").await,
            ("limit".into(), "must be an integer".into())
        );
        assert_eq!(
            query_refusal("since=yesterday").await,
            ("since".into(), "must be a date (YYYY-MM-DD)".into())
        );
        assert_eq!(
            query_refusal("limit=1&limit=2").await,
            ("limit".into(), "is given more than once".into())
        );
    }
}
