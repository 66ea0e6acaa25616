//! `/subscriptions-tracking/v3r2/subscriptions` from subscriptions-tracking.yaml
//! (Subscriptions – Tracking 3.2.0): create (`POST`, 201 with `Location` and `ETag`), list
//! (`GET`, filters `MID` and `trackingNumber` as comma-separated lists, `offset` ≥ 0, `limit`
//! 1–100 default 20), read (`GET /{subscriptionId}`, with `ETag`), edit (`PUT`) and delete
//! (`DELETE`, 204). Pushes: [`crate::push`].
//!
//! Every call needs a bearer token with the `subscriptions-tracking` scope (401
//! `SIM_UNAUTHORIZED`, 403 `SIM_FORBIDDEN`). A subscription belongs to the OAuth client that
//! created it: other clients neither list nor read it (404 `SIM_NOT_FOUND`; the spec lists no
//! answer for an unknown id, so the simulator answers what a missing resource gets).
//!
//! A `TrackingSubscription` body (`POST` and `PUT`) must be `application/json` (415) and is
//! checked against the schema, every violation listed (400 `OAS_VALIDATION`): `listenerURL`
//! (required, a URI), `secret` (required, exactly 32 characters), `adminNotification`
//! (required, 1 to 3 objects whose `email` is an address of at most 50 characters),
//! `filterProperties` (required, exactly one of `MIDTrackingFilter` — `MID` matching
//! `^(\d{6}|\d{9})$` — or `TrackingNumberFilter` — `trackingNumber` a string; `oneOf`, so one
//! with both is refused), `trackingEventTypes` (the filter's enum: `ALL_UPDATES`,
//! `DELIVERY_ACTIVITY`, `PACKAGE_DELAYED`, and for MID filters `SCAN_EVENT_EXTRACT`; default
//! `ALL_UPDATES`) and `status` (`DISABLED`, `ENABLED` or `SUSPENDED`). Read-only properties
//! (`subscriptionId`, `statusReason`, the timestamps) are ignored.
//!
//! Rules from the spec's prose (400 `SIM_INVALID_COMBINATION`): a client sets a subscription
//! `ENABLED` or `DISABLED`; only USPS suspends ("USPS will change the status of the
//! subscription to SUSPENDED"), so `SUSPENDED` is accepted only when it already is; a `PUT`
//! may change the listener, the secret, the notification addresses and the status — "if filter
//! properties need to change, a new subscription needs to be created".
//!
//! `PUT` and `DELETE` require `If-Match` (400 `OAS_VALIDATION` without it): the subscription's
//! current `ETag`, "good for one hour or until it is used in a DELETE or PUT operation" —
//! another, a used or an older one is 412 `SIM_PRECONDITION_FAILED` (the spec lists no status
//! for it; 412 is HTTP's). The spec gives no lifetime for a subscription, so the simulator's
//! do not expire (`expirationTimestamp` is left out).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::state::{AccessGrant, State, random_token};
use crate::v3::auth::{parse_json, require_access, require_json};
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};
use crate::v3::tracking::require_scope;

const API: ApiVersion = ApiVersion::Subscriptions;
const SCOPE: &str = "subscriptions-tracking";
/// Where the collection is served.
pub(crate) const COLLECTION: &str = "/subscriptions-tracking/v3r2/subscriptions";
/// An `ETag` is good for one hour.
const ETAG_SECONDS: i64 = 60 * 60;

/// A subscription's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionStatus {
    /// USPS pushes to the listener.
    Enabled,
    /// The customer turned it off.
    Disabled,
    /// USPS stopped pushing: the listener could not be reached.
    Suspended,
}

impl SubscriptionStatus {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ENABLED" => Some(Self::Enabled),
            "DISABLED" => Some(Self::Disabled),
            "SUSPENDED" => Some(Self::Suspended),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
            Self::Suspended => "SUSPENDED",
        }
    }
}

/// What a subscription follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// Every label whose MID (the label owner's: the Returns MID it was bought with) is this.
    Mid(String),
    /// One label.
    TrackingNumber(String),
}

/// One signed notification as sent.
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    pub(crate) tracking_number: String,
    pub(crate) body: String,
    pub(crate) hmac: String,
}

/// A stored subscription.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) listener_url: String,
    pub(crate) secret: String,
    pub(crate) admin_emails: Vec<String>,
    pub(crate) filter: Filter,
    pub(crate) event_types: Vec<String>,
    pub(crate) status: SubscriptionStatus,
    pub(crate) status_reason: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) status_changed_at: DateTime<Utc>,
    etag: String,
    etag_issued_at: DateTime<Utc>,
    /// Bumped by every `PUT`, so a delivery that began before it cannot suspend the
    /// subscription it changed.
    pub(crate) generation: u64,
    pub(crate) last_notification: Option<Notification>,
}

/// A subscription as the simulator's admin view shows it (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    /// `subscriptionId`.
    pub id: String,
    /// The OAuth client that owns it.
    pub client_id: String,
    /// `listenerURL`.
    pub listener_url: String,
    /// `filterProperties`.
    pub filter: Filter,
    /// `trackingEventTypes`.
    pub event_types: Vec<String>,
    /// `status`.
    pub status: SubscriptionStatus,
    /// `statusReason`.
    pub status_reason: Option<String>,
    /// `adminNotification` addresses.
    pub admin_emails: Vec<String>,
}

impl Subscription {
    pub(crate) fn view(&self) -> SubscriptionView {
        SubscriptionView {
            id: self.id.clone(),
            client_id: self.client_id.clone(),
            listener_url: self.listener_url.clone(),
            filter: self.filter.clone(),
            event_types: self.event_types.clone(),
            status: self.status,
            status_reason: self.status_reason.clone(),
            admin_emails: self.admin_emails.clone(),
        }
    }

    /// Changes the status, with its time and a new `ETag`.
    pub(crate) fn set_status(
        &mut self,
        status: SubscriptionStatus,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) {
        if self.status != status {
            self.status_changed_at = now;
        }
        self.status = status;
        self.status_reason = reason;
        self.new_etag(now);
    }

    fn new_etag(&mut self, now: DateTime<Utc>) {
        self.etag = random_token(40).to_ascii_lowercase();
        self.etag_issued_at = now;
    }

    fn json(&self) -> Value {
        let filter = match &self.filter {
            Filter::Mid(mid) => json!({"MID": mid, "trackingEventTypes": self.event_types}),
            Filter::TrackingNumber(number) => {
                json!({"trackingNumber": number, "trackingEventTypes": self.event_types})
            }
        };
        let mut body = json!({
            "subscriptionId": self.id,
            "listenerURL": self.listener_url,
            // The schema lists the secret as a property of every TrackingSubscription,
            // replies included.
            "secret": self.secret,
            "status": self.status.as_str(),
            "adminNotification": self.admin_emails.iter().map(|email| json!({"email": email})).collect::<Vec<_>>(),
            "creationTimestamp": self.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "statusChangeTimestamp": self.status_changed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "filterProperties": filter,
        });
        if let Some(reason) = &self.status_reason {
            body["statusReason"] = json!(reason);
        }
        body
    }

    fn response(&self, status: StatusCode) -> Response {
        let mut response = (status, Json(self.json())).into_response();
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", self.etag)) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

/// The subscriptions, oldest first.
#[derive(Debug, Default)]
pub(crate) struct SubscriptionBook {
    pub(crate) subscriptions: Vec<Subscription>,
}

/// A checked `TrackingSubscription` body.
struct Parsed {
    listener_url: String,
    secret: String,
    admin_emails: Vec<String>,
    filter: Filter,
    event_types: Vec<String>,
    status: Option<SubscriptionStatus>,
}

fn schema_error(errors: &mut Vec<ErrorDetail>, parameter: &str, detail: impl Into<String>) {
    errors.push(ErrorDetail::new("OAS_VALIDATION", detail).at(parameter));
}

/// `format: email` with the schema's 50-character limit.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.chars().count() <= 50
        && !local.is_empty()
        && !value.chars().any(char::is_whitespace)
        && !domain.contains('@')
        && domain.split('.').all(|label| !label.is_empty())
        && domain.contains('.')
}

fn is_mid(value: &str) -> bool {
    (value.len() == 6 || value.len() == 9) && value.bytes().all(|b| b.is_ascii_digit())
}

const EVENT_TYPES: &[&str] = &["ALL_UPDATES", "DELIVERY_ACTIVITY", "PACKAGE_DELAYED"];
const SCAN_EVENT_EXTRACT: &str = "SCAN_EVENT_EXTRACT";

fn parse_filter(
    value: Option<&Value>,
    errors: &mut Vec<ErrorDetail>,
) -> Option<(Filter, Vec<String>)> {
    let Some(value) = value else {
        schema_error(errors, "filterProperties", "filterProperties is required");
        return None;
    };
    let Some(object) = value.as_object() else {
        schema_error(
            errors,
            "filterProperties",
            "filterProperties must be an object",
        );
        return None;
    };
    let filter = match (object.get("MID"), object.get("trackingNumber")) {
        (Some(_), Some(_)) => {
            schema_error(
                errors,
                "filterProperties",
                "filterProperties must match exactly one of MIDTrackingFilter and TrackingNumberFilter, not both",
            );
            return None;
        }
        (None, None) => {
            schema_error(
                errors,
                "filterProperties",
                "filterProperties needs MID (MIDTrackingFilter) or trackingNumber (TrackingNumberFilter)",
            );
            return None;
        }
        (Some(Value::String(mid)), None) if is_mid(mid) => Filter::Mid(mid.clone()),
        (Some(_), None) => {
            schema_error(
                errors,
                "filterProperties.MID",
                "MID must match ^(\\d{6}|\\d{9})$",
            );
            return None;
        }
        (None, Some(Value::String(number))) => Filter::TrackingNumber(number.clone()),
        (None, Some(_)) => {
            schema_error(
                errors,
                "filterProperties.trackingNumber",
                "trackingNumber must be a string",
            );
            return None;
        }
    };
    let allowed: Vec<&str> = match filter {
        Filter::Mid(_) => EVENT_TYPES
            .iter()
            .copied()
            .chain([SCAN_EVENT_EXTRACT])
            .collect(),
        Filter::TrackingNumber(_) => EVENT_TYPES.to_vec(),
    };
    let event_types = match object.get("trackingEventTypes") {
        None => vec!["ALL_UPDATES".to_owned()],
        Some(Value::Array(items)) => {
            let mut types = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str().filter(|raw| allowed.contains(raw)) {
                    Some(raw) => types.push(raw.to_owned()),
                    None => schema_error(
                        errors,
                        &format!("filterProperties.trackingEventTypes[{index}]"),
                        format!("must be one of {}", allowed.join(", ")),
                    ),
                }
            }
            types
        }
        Some(_) => {
            schema_error(
                errors,
                "filterProperties.trackingEventTypes",
                "trackingEventTypes must be an array",
            );
            Vec::new()
        }
    };
    Some((filter, event_types))
}

fn parse_body(body: &Value) -> Result<Parsed, ApiError> {
    let mut errors = Vec::new();
    let Some(object) = body.as_object() else {
        return Err(ApiError::schema(
            API,
            "body",
            "The body must be a TrackingSubscription object",
        ));
    };
    let listener_url = match object.get("listenerURL") {
        None => {
            schema_error(&mut errors, "listenerURL", "listenerURL is required");
            None
        }
        Some(Value::String(raw)) if url::Url::parse(raw).is_ok() => Some(raw.clone()),
        Some(_) => {
            schema_error(&mut errors, "listenerURL", "listenerURL must be a URI");
            None
        }
    };
    let secret = match object.get("secret") {
        None => {
            schema_error(&mut errors, "secret", "secret is required");
            None
        }
        Some(Value::String(raw)) if raw.chars().count() == 32 => Some(raw.clone()),
        Some(Value::String(_)) => {
            schema_error(
                &mut errors,
                "secret",
                "secret must be exactly 32 characters (minLength 32, maxLength 32)",
            );
            None
        }
        Some(_) => {
            schema_error(&mut errors, "secret", "secret must be a string");
            None
        }
    };
    let admin_emails = match object.get("adminNotification") {
        None => {
            schema_error(
                &mut errors,
                "adminNotification",
                "adminNotification is required",
            );
            None
        }
        Some(Value::Array(items)) if (1..=3).contains(&items.len()) => {
            let mut emails = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item
                    .get("email")
                    .and_then(Value::as_str)
                    .filter(|email| is_email(email))
                {
                    Some(email) => emails.push(email.to_owned()),
                    None => schema_error(
                        &mut errors,
                        &format!("adminNotification[{index}].email"),
                        "email must be an e-mail address of at most 50 characters",
                    ),
                }
            }
            Some(emails)
        }
        Some(_) => {
            schema_error(
                &mut errors,
                "adminNotification",
                "adminNotification must be an array of 1 to 3 EmailNotification objects",
            );
            None
        }
    };
    let filter = parse_filter(object.get("filterProperties"), &mut errors);
    let status = match object.get("status") {
        None => None,
        Some(Value::String(raw)) if SubscriptionStatus::parse(raw).is_some() => {
            SubscriptionStatus::parse(raw)
        }
        Some(_) => {
            schema_error(
                &mut errors,
                "status",
                "status must be one of DISABLED, ENABLED, SUSPENDED",
            );
            None
        }
    };
    match (listener_url, secret, admin_emails, filter) {
        (Some(listener_url), Some(secret), Some(admin_emails), Some((filter, event_types)))
            if errors.is_empty() =>
        {
            Ok(Parsed {
                listener_url,
                secret,
                admin_emails,
                filter,
                event_types,
                status,
            })
        }
        _ => Err(ApiError::bad_request(API, errors)),
    }
}

fn combination(parameter: &str, detail: &str) -> ApiError {
    ApiError::bad_request(
        API,
        vec![ErrorDetail::new("SIM_INVALID_COMBINATION", detail).at(parameter)],
    )
}

fn suspended_by_client(
    current: Option<SubscriptionStatus>,
    requested: Option<SubscriptionStatus>,
) -> bool {
    requested == Some(SubscriptionStatus::Suspended)
        && current != Some(SubscriptionStatus::Suspended)
}

fn authorized(state: &State, headers: &HeaderMap) -> Result<AccessGrant, ApiError> {
    let grant = require_access(state, headers, API)?;
    require_scope(&grant, SCOPE, API)?;
    Ok(grant)
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, API).with(
        ErrorDetail::new("SIM_NOT_FOUND", format!("No subscription {id}")).at("subscriptionId"),
    )
}

fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Parsed, ApiError> {
    require_json(headers, API)?;
    parse_body(&parse_json(body, API)?)
}

fn create(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    let grant = authorized(state, headers)?;
    let parsed = json_body(headers, body)?;
    if suspended_by_client(None, parsed.status) {
        return Err(combination(
            "status",
            "Only USPS suspends a subscription; create it ENABLED or DISABLED",
        ));
    }
    let now = state.now();
    let mut subscription = Subscription {
        id: random_token(8).to_ascii_uppercase(),
        client_id: grant.client_id,
        listener_url: parsed.listener_url,
        secret: parsed.secret,
        admin_emails: parsed.admin_emails,
        filter: parsed.filter,
        event_types: parsed.event_types,
        status: parsed.status.unwrap_or(SubscriptionStatus::Enabled),
        status_reason: None,
        created_at: now,
        status_changed_at: now,
        etag: String::new(),
        etag_issued_at: now,
        generation: 0,
        last_notification: None,
    };
    subscription.new_etag(now);
    tracing::info!(subscription = %subscription.id, filter = ?subscription.filter, "tracking subscription created");
    let mut response = subscription.response(StatusCode::CREATED);
    if let Ok(location) = HeaderValue::from_str(&format!("{COLLECTION}/{}", subscription.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    state.subscriptions().subscriptions.push(subscription);
    Ok(response)
}

fn list_param(query: &HashMap<String, String>, name: &str) -> Option<Vec<String>> {
    query.get(name).map(|raw| {
        raw.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn list(
    state: &State,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let grant = authorized(state, headers)?;
    let mut errors = Vec::new();
    let offset = match query.get("offset").map(|raw| raw.parse::<usize>()) {
        None => 0,
        Some(Ok(offset)) => offset,
        Some(Err(_)) => {
            schema_error(
                &mut errors,
                "offset",
                "offset must be an integer of at least 0",
            );
            0
        }
    };
    let limit = match query.get("limit").map(|raw| raw.parse::<usize>()) {
        None => 20,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => {
            schema_error(
                &mut errors,
                "limit",
                "limit must be an integer from 1 to 100",
            );
            20
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::bad_request(API, errors));
    }
    let mids = list_param(query, "MID");
    let numbers = list_param(query, "trackingNumber");
    let book = state.subscriptions();
    let matching: Vec<&Subscription> = book
        .subscriptions
        .iter()
        .filter(|s| s.client_id == grant.client_id)
        .filter(|s| match (&s.filter, &mids, &numbers) {
            (_, None, None) => true,
            (Filter::Mid(mid), Some(mids), _) => mids.contains(mid),
            (Filter::TrackingNumber(number), _, Some(numbers)) => numbers.contains(number),
            _ => false,
        })
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| s.json())
        .collect();
    Ok(Json(json!({
        "subscriptions": page,
        "metadata": {
            "totalCount": total,
            "page": offset / limit + 1,
            "totalPages": total.div_ceil(limit),
            "limit": limit,
            "offset": offset,
        }
    }))
    .into_response())
}

fn read(state: &State, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let grant = authorized(state, headers)?;
    let book = state.subscriptions();
    let subscription = book
        .subscriptions
        .iter()
        .find(|s| s.id == id && s.client_id == grant.client_id)
        .ok_or_else(|| not_found(id))?;
    Ok(subscription.response(StatusCode::OK))
}

/// Checks `If-Match` against the subscription's `ETag`.
fn check_if_match(
    headers: &HeaderMap,
    subscription: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(raw) = headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(ApiError::schema(
            API,
            "Header: If-Match",
            "If-Match is required: send the ETag of a GET",
        ));
    };
    let given = raw.trim().trim_start_matches("W/").trim_matches('"');
    let fresh = (now - subscription.etag_issued_at).num_seconds() < ETAG_SECONDS;
    if given != subscription.etag || !fresh {
        return Err(ApiError::new(StatusCode::PRECONDITION_FAILED, API).with(
            ErrorDetail::new(
                "SIM_PRECONDITION_FAILED",
                "If-Match is not the subscription's current ETag (or it is more than an hour old); GET it again",
            )
            .at("Header: If-Match"),
        ));
    }
    Ok(())
}

fn update(state: &State, headers: &HeaderMap, id: &str, body: &[u8]) -> Result<Response, ApiError> {
    let grant = authorized(state, headers)?;
    let now = state.now();
    {
        let book = state.subscriptions();
        let subscription = book
            .subscriptions
            .iter()
            .find(|s| s.id == id && s.client_id == grant.client_id)
            .ok_or_else(|| not_found(id))?;
        check_if_match(headers, subscription, now)?;
    }
    let parsed = json_body(headers, body)?;
    let mut book = state.subscriptions();
    let subscription = book
        .subscriptions
        .iter_mut()
        .find(|s| s.id == id && s.client_id == grant.client_id)
        .ok_or_else(|| not_found(id))?;
    if parsed.filter != subscription.filter || parsed.event_types != subscription.event_types {
        return Err(combination(
            "filterProperties",
            "filterProperties cannot be edited; create a new subscription",
        ));
    }
    if suspended_by_client(Some(subscription.status), parsed.status) {
        return Err(combination(
            "status",
            "Only USPS suspends a subscription; set ENABLED or DISABLED",
        ));
    }
    subscription.listener_url = parsed.listener_url;
    subscription.secret = parsed.secret;
    subscription.admin_emails = parsed.admin_emails;
    subscription.generation += 1;
    let status = parsed.status.unwrap_or(subscription.status);
    let reason = (status == SubscriptionStatus::Suspended)
        .then(|| subscription.status_reason.clone())
        .flatten();
    subscription.set_status(status, reason, now);
    tracing::info!(subscription = %subscription.id, status = status.as_str(), "tracking subscription updated");
    Ok(subscription.response(StatusCode::OK))
}

fn delete(state: &State, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let grant = authorized(state, headers)?;
    let now = state.now();
    let mut book = state.subscriptions();
    let index = book
        .subscriptions
        .iter()
        .position(|s| s.id == id && s.client_id == grant.client_id)
        .ok_or_else(|| not_found(id))?;
    check_if_match(headers, &book.subscriptions[index], now)?;
    book.subscriptions.remove(index);
    tracing::info!(subscription = id, "tracking subscription deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn finish(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(|error| {
        tracing::info!(status = %error.status(), "subscription request refused");
        error.into_response()
    })
}

/// `POST /subscriptions-tracking/v3r2/subscriptions`.
pub(crate) async fn post(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(create(&state, &headers, &body))
}

/// `GET /subscriptions-tracking/v3r2/subscriptions`.
pub(crate) async fn get_all(
    Extract(state): Extract<Arc<State>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    finish(list(&state, &headers, &query))
}

/// `GET /subscriptions-tracking/v3r2/subscriptions/{subscriptionId}`.
pub(crate) async fn get_one(
    Extract(state): Extract<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(read(&state, &headers, &id))
}

/// `PUT /subscriptions-tracking/v3r2/subscriptions/{subscriptionId}`.
pub(crate) async fn put(
    Extract(state): Extract<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(update(&state, &headers, &id, &body))
}

/// `DELETE /subscriptions-tracking/v3r2/subscriptions/{subscriptionId}`.
pub(crate) async fn remove(
    Extract(state): Extract<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(delete(&state, &headers, &id))
}
