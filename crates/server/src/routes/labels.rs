//! `/v1/return-labels`: buy (idempotent), list, read, and download the label, the receipt and
//! the QR code of a printerless label.

use accounts::LabelId;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carrier::{IdempotencyKey, LabelFormat, TrackingStatus};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::Row;

use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::extract::{JsonBody, Path, Query};
use crate::label::{self, CreateReturnLabel, ReturnLabelBody};
use crate::label_row;
use crate::openapi::schema;
use crate::routes::accounts::{Page, PageQuery, bad_cursor};
use crate::state::AppState;

/// Buy a return label, exactly once per `Idempotency-Key`.
///
/// The same key with the same body answers the same label (no second purchase); with another
/// body it is 422 `idempotency_key_reused`; while the first request runs, 409
/// `idempotency_key_in_use`. Without `shipper_account_id` the account is chosen among the
/// tenant's active accounts for the carrier that offer the service and match
/// `account_selector`: the default, then the lowest `priority`, then the oldest. A 503 means
/// nothing was bought; a 504 that the carrier may have acted: retry with the same key.
/// (Its 409 and 504 answers are added by `openapi::answer::label_purchase`.)
#[utoipa::path(post, path = "/v1/return-labels", operation_id = "create_return_label", tag = "return labels",
    request_body = CreateReturnLabel,
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 255,
            pattern = r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$",
            description = "1–255 printable ASCII characters, kept 24 hours per tenant: the same key and body answer the same label")),
    responses(
        (status = 201, description = "The label, bought (or the same answer again for a replayed key and body)", body = ReturnLabelBody,
         headers(("Idempotency-Key" = String, description = "The key of the purchase"),
                 ("Idempotent-Replayed" = String, description = "`true` when this is the stored answer of an earlier request with the key")))),
    security(("tenant_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: TenantKey,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| ApiError::invalid("Idempotency-Key", "header is required"))?
        .to_str()
        .map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII"))?;
    let key = IdempotencyKey::parse("Idempotency-Key", key)?;
    let outcome = label::create(&state, &caller, &key, &body).await?;
    let status = outcome.status;
    let mut response = (status, Json(outcome.body)).into_response();
    if let Some(carrier_time) = outcome.carrier_time {
        // The carrier's share of the latency, so clients and benchmarks can tell it from ours.
        let timing = format!("carrier;dur={:.3}", carrier_time.as_secs_f64() * 1000.0);
        if let Ok(value) = HeaderValue::from_str(&timing) {
            response.headers_mut().insert("server-timing", value);
        }
    }
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if status == StatusCode::CREATED {
        response.headers_mut().insert(
            "idempotency-key",
            HeaderValue::from_str(key.as_str()).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
    }
    Ok(response)
}

/// `GET /v1/return-labels`: a page, narrowed by the filters given (all must hold).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabelListQuery {
    /// How many items a page holds: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (the id of its last item).
    pub starting_after: Option<String>,
    /// Labels bought with this `reference`, exactly.
    #[param(max_length = 100)]
    pub reference: Option<String>,
    /// Labels in this status.
    #[param(value_type = Option<schema::LabelStatus>)]
    pub status: Option<String>,
    /// Labels of this carrier (`GET /v1/carriers`).
    pub carrier: Option<String>,
    /// Labels bought at or after this instant (RFC 3339).
    pub created_after: Option<DateTime<Utc>>,
}

/// List the tenant's return labels, newest first, optionally filtered.
#[utoipa::path(get, path = "/v1/return-labels", operation_id = "list_return_labels", tag = "return labels", params(LabelListQuery),
    responses((status = 200, description = "A page of labels, newest first", body = schema::LabelPage)),
    security(("tenant_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(query): Query<LabelListQuery>,
) -> Result<Json<Page<ReturnLabelBody>>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        starting_after: query.starting_after.clone(),
    };
    let limit = page.limit()?;
    if query
        .reference
        .as_ref()
        .is_some_and(|reference| reference.chars().count() > 100)
    {
        return Err(ApiError::invalid(
            "reference",
            "must be at most 100 characters",
        ));
    }
    if let Some(status) = &query.status {
        TrackingStatus::parse(status).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "must be one of created, in_transit, delivered, returned_to_sender, exception, voided",
            )
        })?;
    }
    if let Some(carrier) = &query.carrier {
        if state.registry().get(carrier).is_none() {
            return Err(ApiError::invalid(
                "carrier",
                "must be the id of a carrier this service offers (GET /v1/carriers)",
            ));
        }
    }
    let mut tx = state.db().tenant(&caller.tenant).await?;
    if let Some(cursor) = &page.starting_after {
        let id = LabelId::parse("starting_after", cursor).map_err(|_| bad_cursor())?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM return_labels WHERE tenant_id = $1 AND id = $2)",
        )
        .bind(caller.tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(bad_cursor());
        }
    }
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM return_labels
         WHERE tenant_id = $1 AND ($2::text IS NULL OR (created_at, id) <
             (SELECT created_at, id FROM return_labels WHERE tenant_id = $1 AND id = $2))
           AND ($4::text IS NULL OR reference = $4)
           AND ($5::text IS NULL OR status = $5)
           AND ($6::text IS NULL OR carrier = $6)
           AND ($7::timestamptz IS NULL OR created_at >= $7)
         ORDER BY created_at DESC, id DESC LIMIT $3",
        label_row::COLUMNS
    )))
    .bind(caller.tenant.as_str())
    .bind(page.starting_after.as_deref())
    .bind(limit + 1)
    .bind(query.reference.as_deref())
    .bind(query.status.as_deref())
    .bind(query.carrier.as_deref())
    .bind(query.created_after)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut labels = rows
        .iter()
        .map(label_row::body_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = labels.len() as i64 > limit;
    labels.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| labels.last().map(|l| l.id.clone()))
        .flatten();
    Ok(Json(Page {
        data: labels,
        has_more,
        next_cursor,
    }))
}

/// Void a return label, where its carrier allows it.
///
/// Answers the label with `status: "voided"` once the carrier confirmed (and again, without a
/// carrier call, for a label already voided). 422 `not_supported` where the carrier cannot void
/// (pay-on-use labels, charged only when used); 409 `label_in_use` once the carrier has the
/// parcel.
#[utoipa::path(post, path = "/v1/return-labels/{id}/void", operation_id = "void_return_label", tag = "return labels",
    params(schema::LabelIdParam),
    responses((status = 200, description = "The label, voided", body = ReturnLabelBody)),
    security(("tenant_key" = [])))]
pub async fn void(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ReturnLabelBody>, ApiError> {
    let id = label_id(&id)?;
    crate::void::void(&state, &caller, &id).await?;
    get(State(state), caller, Path(id.to_string())).await
}

/// The label id of a path: a malformed one names no label (404, like another tenant's).
fn label_id(raw: &str) -> Result<LabelId, ApiError> {
    LabelId::parse("id", raw).map_err(|_| ApiError::NotFound)
}

/// Read a return label.
#[utoipa::path(get, path = "/v1/return-labels/{id}", operation_id = "get_return_label", tag = "return labels",
    params(schema::LabelIdParam),
    responses((status = 200, description = "The label", body = ReturnLabelBody)),
    security(("tenant_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ReturnLabelBody>, ApiError> {
    let id = label_id(&id)?;
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM return_labels WHERE tenant_id = $1 AND id = $2",
        label_row::COLUMNS
    )))
    .bind(caller.tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(label_row::body_from_row(&row)?))
}

async fn document(
    state: &AppState,
    caller: &TenantKey,
    id: &str,
    column: &'static str,
) -> Result<Response, ApiError> {
    let id = label_id(id)?;
    let id = id.as_str();
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {column} AS bytes, label_format FROM return_labels WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(caller.tenant.as_str())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    let bytes: Option<Vec<u8>> = row.try_get("bytes")?;
    let bytes = bytes.ok_or(ApiError::NotFound)?;
    let format: String = row.try_get("label_format")?;
    let format = LabelFormat::parse("label_format", &format)
        .map_err(|e| ApiError::Internal(format!("stored label format: {e}")))?;
    let name = if column == "receipt_bytes" {
        "receipt"
    } else {
        "label"
    };
    let disposition = format!(
        "inline; filename=\"{name}-{id}.{}\"",
        format.file_extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // A label is the merchant's postage: no shared cache keeps it, and no browser
            // guesses another type for it.
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// Download the label document, in the label's `label_format`.
#[utoipa::path(get, path = "/v1/return-labels/{id}/label", operation_id = "get_return_label_document", tag = "return labels",
    params(schema::LabelIdParam),
    responses((status = 200, description = "The document (typed by `openapi::answer::label_document`)")),
    security(("tenant_key" = [])))]
pub async fn label_document(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    document(&state, &caller, &id, "label_bytes").await
}

/// Download the separate receipt (only for labels bought with `receipt: separate_page`; 404
/// otherwise), in the label's `label_format`.
#[utoipa::path(get, path = "/v1/return-labels/{id}/receipt", operation_id = "get_return_label_receipt", tag = "return labels",
    params(schema::LabelIdParam),
    responses((status = 200, description = "The document (typed by `openapi::answer::label_document`)")),
    security(("tenant_key" = [])))]
pub async fn receipt_document(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    document(&state, &caller, &id, "receipt_bytes").await
}

/// Download the QR code of a printerless label (`label_delivery: qr_code`), a PNG the customer
/// shows at the carrier's counter; 404 for a label without one.
#[utoipa::path(get, path = "/v1/return-labels/{id}/qr-code", operation_id = "get_return_label_qr_code", tag = "return labels",
    params(schema::LabelIdParam),
    responses((status = 200, description = "The PNG (typed by `openapi::answer::qr_code_image`)")),
    security(("tenant_key" = [])))]
pub async fn qr_code_image(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = label_id(&id)?;
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let bytes: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT qr_code_bytes FROM return_labels WHERE tenant_id = $1 AND id = $2",
    )
    .bind(caller.tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    let bytes = bytes.ok_or(ApiError::NotFound)?;
    let format = LabelFormat::Png;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"qr-code-{id}.png\""),
            ),
            // The code is the merchant's postage, like the label: no shared cache keeps it.
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        Body::from(bytes),
    )
        .into_response())
}
