//! `/v1/return-labels`: buy (idempotent), list, read, and download the label and receipt.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use carrier::{IdempotencyKey, LabelFormat};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::auth::TenantKey;
use crate::error::{ApiError, ErrorEnvelope};
use crate::label::{self, CreateReturnLabel, MoneyBody, ReturnLabelBody};
use crate::routes::accounts::{Page, PageQuery};
use crate::state::AppState;

#[utoipa::path(post, path = "/v1/return-labels", tag = "return labels",
    request_body = CreateReturnLabel,
    params(("Idempotency-Key" = String, Header, description = "1–255 characters; the same key and body return the same label")),
    responses(
        (status = 201, description = "Bought", body = ReturnLabelBody),
        (status = 409, description = "idempotency_key_in_use", body = ErrorEnvelope),
        (status = 422, description = "validation_failed, idempotency_key_reused, no_eligible_account, carrier_rejected", body = ErrorEnvelope),
        (status = 503, description = "carrier_unavailable (retry with the same key after Retry-After)", body = ErrorEnvelope),
        (status = 504, description = "carrier_unavailable: outcome unknown (retry with the same key)", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: TenantKey,
    headers: HeaderMap,
    body: Bytes,
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

const LABEL_COLUMNS: &str = "id, carrier, shipper_account_id, selected_by, service, tracking_number, routing_code, \
     postage_minor, currency, zone, to_address, label_format, label_bytes IS NOT NULL AS has_label, \
     receipt_bytes IS NOT NULL AS has_receipt, warnings, reference, created_at";

fn body_from_row(row: &PgRow) -> Result<ReturnLabelBody, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let minor: i64 = row.try_get("postage_minor")?;
    let currency: String = row.try_get("currency")?;
    let warnings: Value = row.try_get("warnings")?;
    let has_label: bool = row.try_get("has_label")?;
    let has_receipt: bool = row.try_get("has_receipt")?;
    Ok(ReturnLabelBody {
        carrier: row.try_get("carrier")?,
        shipper_account_id: row.try_get("shipper_account_id")?,
        selected_by: row.try_get("selected_by")?,
        service: row.try_get("service")?,
        tracking_number: row.try_get("tracking_number")?,
        routing_code: row.try_get("routing_code")?,
        postage: MoneyBody {
            amount: carrier::Money::usd_cents(minor).amount(),
            currency,
        },
        zone: row.try_get("zone")?,
        to_address: row.try_get("to_address")?,
        label_format: row.try_get("label_format")?,
        reference: row.try_get("reference")?,
        label_url: has_label.then(|| format!("/v1/return-labels/{id}/label")),
        receipt_url: has_receipt.then(|| format!("/v1/return-labels/{id}/receipt")),
        warnings: match warnings {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
        created_at: row.try_get("created_at")?,
        id,
    })
}

#[utoipa::path(get, path = "/v1/return-labels", tag = "return labels", params(PageQuery),
    responses((status = 200, description = "Newest first", body = Object)),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ReturnLabelBody>>, ApiError> {
    let limit = page.limit();
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {LABEL_COLUMNS} FROM return_labels
         WHERE tenant_id = $1 AND ($2::text IS NULL OR (created_at, id) <
             (SELECT created_at, id FROM return_labels WHERE tenant_id = $1 AND id = $2))
         ORDER BY created_at DESC, id DESC LIMIT $3"
    )))
    .bind(caller.tenant.as_str())
    .bind(page.starting_after.as_deref())
    .bind(limit + 1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut labels = rows
        .iter()
        .map(body_from_row)
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

#[utoipa::path(get, path = "/v1/return-labels/{id}", tag = "return labels",
    responses((status = 200, description = "The label", body = ReturnLabelBody),
              (status = 404, description = "No such label for this tenant", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ReturnLabelBody>, ApiError> {
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {LABEL_COLUMNS} FROM return_labels WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(caller.tenant.as_str())
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Json(body_from_row(&row)?))
}

async fn document(
    state: &AppState,
    caller: &TenantKey,
    id: &str,
    column: &'static str,
) -> Result<Response, ApiError> {
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

#[utoipa::path(get, path = "/v1/return-labels/{id}/label", tag = "return labels",
    responses((status = 200, description = "The label document (application/pdf, image/png, image/tiff or application/x-zpl)"),
              (status = 404, description = "No such label", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn label_document(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    document(&state, &caller, &id, "label_bytes").await
}

#[utoipa::path(get, path = "/v1/return-labels/{id}/receipt", tag = "return labels",
    responses((status = 200, description = "The separate receipt, when one was requested"),
              (status = 404, description = "No such label or no separate receipt", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn receipt_document(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    document(&state, &caller, &id, "receipt_bytes").await
}
