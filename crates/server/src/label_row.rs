//! A stored label read back as the API shows it: the one column list and row mapping every
//! reader uses (the label routes, the tracking ingest that writes the label into its events,
//! the console). A label stored before its fees and total were (migration 0014) reads as no
//! fees and its postage as the total.

use accounts::{LabelId, TenantId};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::label::{FeeBody, QrCodeBody, ReturnLabelBody, TrackingBody};

/// The columns [`body_from_row`] reads.
pub const COLUMNS: &str = "id, carrier, shipper_account_id, selected_by, service, tracking_number, routing_code, \
     postage_minor, fees, COALESCE(total_minor, postage_minor) AS total_minor, currency, zone, to_address, label_format, label_bytes IS NOT NULL AS has_label, \
     receipt_bytes IS NOT NULL AS has_receipt, qr_code_id, warnings, reference, label_delivery, status, created_at, \
     first_scan_at, delivered_at, tracking_updated_at";

pub fn body_from_row(row: &PgRow) -> Result<ReturnLabelBody, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let postage: i64 = row.try_get("postage_minor")?;
    let total: i64 = row.try_get("total_minor")?;
    let fees: Value = row.try_get("fees")?;
    let currency: String = row.try_get("currency")?;
    let code = carrier::Currency::parse("currency", &currency)
        .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?;
    let warnings: Value = row.try_get("warnings")?;
    let has_label: bool = row.try_get("has_label")?;
    let has_receipt: bool = row.try_get("has_receipt")?;
    let status: String = row.try_get("status")?;
    let qr_code_id: Option<String> = row.try_get("qr_code_id")?;
    Ok(ReturnLabelBody {
        carrier: row.try_get("carrier")?,
        shipper_account_id: row.try_get("shipper_account_id")?,
        selected_by: row.try_get("selected_by")?,
        service: row.try_get("service")?,
        tracking_number: row.try_get("tracking_number")?,
        routing_code: row.try_get("routing_code")?,
        postage: carrier::Money::from_minor(postage, code).into(),
        fees: serde_json::from_value::<Vec<FeeBody>>(fees)
            .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
        total: carrier::Money::from_minor(total, code).into(),
        zone: row.try_get("zone")?,
        to_address: row.try_get("to_address")?,
        label_format: row.try_get("label_format")?,
        label_delivery: row.try_get("label_delivery")?,
        tracking: TrackingBody {
            status: status.clone(),
            first_scan_at: row.try_get("first_scan_at")?,
            delivered_at: row.try_get("delivered_at")?,
            updated_at: row.try_get("tracking_updated_at")?,
        },
        status,
        reference: row.try_get("reference")?,
        label_url: has_label.then(|| format!("/v1/return-labels/{id}/label")),
        receipt_url: has_receipt.then(|| format!("/v1/return-labels/{id}/receipt")),
        qr_code: qr_code_id.map(|code_id| QrCodeBody::of(&id, code_id)),
        warnings: match warnings {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
        created_at: row.try_get("created_at")?,
        id,
    })
}

/// One label of `tenant`, in the caller's transaction.
pub async fn load(
    connection: &mut PgConnection,
    tenant: &TenantId,
    id: &LabelId,
) -> Result<Option<ReturnLabelBody>, sqlx::Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM return_labels WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *connection)
    .await?;
    row.as_ref().map(body_from_row).transpose()
}
