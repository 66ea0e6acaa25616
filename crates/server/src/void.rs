//! Voiding a bought label (`POST /v1/return-labels/{id}/void`): through its carrier's
//! [`Carrier::void_label`](carrier::Carrier::void_label), only where the carrier's capabilities
//! say it can, audited `label.voided`.
//!
//! Nothing is bought, so a void is safe to repeat: a label already voided answers as it
//! stands without calling the carrier again. A carrier that cannot void (pay-on-use labels) is
//! 422 `not_supported` before any credential is opened; a carrier that refuses because the
//! parcel is already in its network is 409 `label_in_use`.

use accounts::audit::{self, Action, NewEvent};
use accounts::{Context, LabelId, SelectedBy, UsableAccount};
use carrier::{AccountContext, AccountDetails, LabelToVoid, ServiceCode, TrackingNumber};
use serde_json::{Map, Value};
use sqlx::Row;

use crate::auth::TenantKey;
use crate::error::{self, ApiError};
use crate::request_id;
use crate::state::AppState;

/// What the stored label tells a void.
struct Stored {
    carrier: String,
    account_id: String,
    service: String,
    tracking_number: String,
    carrier_reference: Option<String>,
    status: String,
}

async fn stored(state: &AppState, caller: &TenantKey, id: &LabelId) -> Result<Stored, ApiError> {
    let mut tx = state.db().tenant(&caller.tenant).await?;
    let row = sqlx::query(
        "SELECT carrier, shipper_account_id, service, tracking_number, carrier_reference, status
         FROM return_labels WHERE tenant_id = $1 AND id = $2",
    )
    .bind(caller.tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Stored {
        carrier: row.try_get("carrier")?,
        account_id: row.try_get("shipper_account_id")?,
        service: row.try_get("service")?,
        tracking_number: row.try_get("tracking_number")?,
        carrier_reference: row.try_get("carrier_reference")?,
        status: row.try_get("status")?,
    })
}

/// Voids label `id` of the caller's tenant; returns once the carrier confirmed (or the label
/// already was voided).
pub async fn void(state: &AppState, caller: &TenantKey, id: &LabelId) -> Result<(), ApiError> {
    let label = stored(state, caller, id).await?;
    if label.status == "voided" {
        return Ok(());
    }
    let carrier = state
        .registry()
        .get(&label.carrier)
        .cloned()
        .ok_or_else(|| ApiError::Internal(format!("no carrier {} is registered", label.carrier)))?;
    let account = state
        .accounts()
        .get(&caller.tenant, &label.account_id)
        .await?;
    let details = match &account.details {
        Value::Object(map) => AccountDetails::new(map.clone()),
        _ => AccountDetails::default(),
    };
    if !carrier.capabilities(Some(&details)).cancellable {
        return Err(ApiError::NotSupported {
            message: format!(
                "{} labels cannot be voided (they are charged only when used)",
                carrier.name()
            ),
        });
    }
    if label.status != "created" {
        return Err(ApiError::LabelInUse {
            message: format!(
                "the label is {} with {}; only an unused label can be voided",
                label.status.replace('_', " "),
                carrier.name()
            ),
        });
    }

    let actor = caller.actor();
    let request_id = request_id::current();
    let context = Context {
        tenant: &caller.tenant,
        actor: &actor,
        request_id: Some(&request_id),
    };
    let (account, details, credentials) = state
        .accounts()
        .open_for_operation(context, &label.account_id, "return_label.void", id.as_str())
        .await?;
    let usable = crate::oauth::ensure_fresh(
        state,
        context,
        UsableAccount {
            account,
            selected_by: SelectedBy::Explicit,
            details,
            credentials,
        },
    )
    .await?;
    let tracking_number = TrackingNumber::other("tracking_number", &label.tracking_number)?;
    let service = ServiceCode::parse("service", &label.service)?;
    carrier
        .void_label(
            AccountContext {
                id: usable.account.id.as_str(),
                details: &usable.details,
                credentials: &usable.credentials,
            },
            &LabelToVoid {
                tracking_number: &tracking_number,
                carrier_reference: label.carrier_reference.as_deref(),
                service: &service,
            },
        )
        .await
        .map_err(|error| {
            tracing::warn!(label = %id, kind = error.kind().as_str(), %error, "the carrier did not void the label");
            error::from_carrier(carrier.id(), error)
        })?;

    let mut tx = state.db().tenant(&caller.tenant).await?;
    let voided = sqlx::query(
        "UPDATE return_labels SET status = 'voided', voided_at = now(), tracking_updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND status <> 'voided'",
    )
    .bind(caller.tenant.as_str())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if voided > 0 {
        sqlx::query("DELETE FROM tracking_jobs WHERE tenant_id = $1 AND label_id = $2")
            .bind(caller.tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let body = crate::label_row::load(&mut tx, &caller.tenant, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        accounts::event::record(
            &mut tx,
            &accounts::NewEvent {
                tenant_id: &caller.tenant,
                event_type: accounts::EventType::LabelVoided,
                subject_id: id.as_str(),
                data: serde_json::json!(body),
            },
        )
        .await?;
    }
    let mut summary = Map::new();
    summary.insert("account".into(), Value::String(label.account_id.clone()));
    summary.insert(
        "tracking_number".into(),
        Value::String(label.tracking_number.clone()),
    );
    audit::record(
        &mut tx,
        NewEvent {
            tenant: Some(&caller.tenant),
            actor: &actor,
            action: Action::LabelVoided,
            target: Some(id.as_str()),
            request_id: Some(&request_id),
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
