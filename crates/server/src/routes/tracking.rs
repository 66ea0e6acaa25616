//! A label's tracking events, and the listeners carriers push their scans to.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::extract::{Path, RawBody};
use crate::openapi::schema;
use crate::state::AppState;
use crate::tracking::listener::{self, Received};

/// Where a scan happened, as far as the carrier said.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TrackingLocation)]
pub struct LocationBody {
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// One tracking event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TrackingEvent)]
pub struct TrackingEventBody {
    #[schema(pattern = r"^tev_[A-Za-z0-9]{20}$")]
    pub id: String,
    /// When the carrier says it happened.
    pub at: DateTime<Utc>,
    #[schema(value_type = schema::LabelStatus)]
    pub status: String,
    /// The carrier's own event code.
    pub carrier_code: String,
    /// The carrier's words for it.
    pub description: String,
    pub location: LocationBody,
}

/// A label's tracking: its status and every event, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LabelTrackingEvents)]
pub struct LabelTrackingBody {
    #[schema(value_type = schema::LabelStatus)]
    pub status: String,
    pub events: Vec<TrackingEventBody>,
}

/// A label's tracking events, oldest first, pushed and polled merged (each scan once).
#[utoipa::path(get, path = "/v1/return-labels/{id}/tracking", operation_id = "get_return_label_tracking",
    tag = "return labels", params(schema::LabelIdParam),
    responses((status = 200, description = "The label's status and events, oldest first", body = LabelTrackingBody)),
    security(("tenant_key" = [])))]
pub async fn label_tracking(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<LabelTrackingBody>, ApiError> {
    let id = accounts::LabelId::parse("id", &id).map_err(|_| ApiError::NotFound)?;
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let status: String =
        sqlx::query_scalar("SELECT status FROM return_labels WHERE tenant_id = $1 AND id = $2")
            .bind(caller.tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::NotFound)?;
    let rows = sqlx::query(
        "SELECT id, at, status, carrier_code, description, location FROM tracking_events
         WHERE tenant_id = $1 AND label_id = $2 ORDER BY at, received_at, id",
    )
    .bind(caller.tenant.as_str())
    .bind(id.as_str())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let events = rows
        .iter()
        .map(|row| {
            let location: serde_json::Value = row.try_get("location")?;
            let field = |name: &str| {
                location
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            Ok(TrackingEventBody {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                status: row.try_get("status")?,
                carrier_code: row.try_get("carrier_code")?,
                description: row.try_get("description")?,
                location: LocationBody {
                    city: field("city"),
                    state: field("state"),
                    postal_code: field("postal_code"),
                    country: field("country"),
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(LabelTrackingBody { status, events }))
}

/// The carrier id of a listener's path.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CarrierParam {
    /// A carrier that pushes tracking (`GET /v1/carriers`: `tracking_push`).
    #[param(pattern = r"^[a-z][a-z0-9_]{0,31}$", example = "depot")]
    pub carrier: String,
}

/// Receive a carrier's tracking notification.
///
/// Called by the carrier, not by API clients: the carrier's own authentication (a signature
/// over the body with the subscription's secret, or a bearer token from the token route) is
/// checked by its plugin. A notification that fails the check is 401 and changes nothing; a
/// duplicate is 200 and changes nothing.
#[utoipa::path(post, path = "/v1/carrier-webhooks/{carrier}", operation_id = "receive_carrier_notification",
    tag = "carrier webhooks", params(CarrierParam),
    request_body(content = serde_json::Value, content_type = "application/json",
        description = "The carrier's notification, in the carrier's own format"),
    responses((status = 200, description = "Checked and stored", body = Received)))]
pub async fn receive(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Received>, ApiError> {
    listener::receive(&state, &carrier, &headers, &body)
        .await
        .map(Json)
}

/// An OAuth 2.0 access token (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListenerTokenBody {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
}

/// Issue a carrier a token for its notifications.
///
/// For carriers that fetch a bearer token before they push (OAuth 2.0 client credentials,
/// RFC 6749 §4.4: `grant_type=client_credentials`, the client id and secret configured for
/// the carrier in HTTP Basic). Called by the carrier, not by API clients.
#[utoipa::path(post, path = "/v1/carrier-webhooks/{carrier}/token", operation_id = "issue_carrier_listener_token",
    tag = "carrier webhooks", params(CarrierParam),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=client_credentials`"),
    responses((status = 200, description = "A token for the carrier's notifications", body = ListenerTokenBody)))]
pub async fn token(
    State(state): State<AppState>,
    Path(carrier): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    match listener::token(&state, &carrier, &headers, &body) {
        Ok(issued) => {
            use secrecy::ExposeSecret;
            let body = json!({
                "access_token": issued.access_token.expose_secret(),
                "token_type": "Bearer",
                "expires_in": issued.expires_in.as_secs(),
            });
            Ok((
                StatusCode::OK,
                [
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (header::PRAGMA, HeaderValue::from_static("no-cache")),
                ],
                Json(body),
            )
                .into_response())
        }
        Err(ApiError::NotificationRefused(message)) => {
            let mut response = ApiError::NotificationRefused(message).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"carrier-webhooks\""),
            );
            Ok(response)
        }
        Err(error) => Err(error),
    }
}
