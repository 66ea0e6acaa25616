//! `/v1/admin`: every tenant's shipper accounts (secrets masked, fingerprints and last use
//! shown), the audit trail, and verifying its hash chains. Admin keys only.

use accounts::audit::{self, Action, EventFilter, Verification};
use accounts::{AccountStatus, ShipperAccount, TenantId};
use axum::Json;
use axum::extract::{Query, State};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::AdminKey;
use crate::error::{ApiError, ErrorEnvelope};
use crate::label::parse_body;
use crate::state::AppState;

fn tenant(raw: Option<&str>) -> Result<Option<TenantId>, ApiError> {
    raw.map(|raw| TenantId::parse("tenant_id", raw))
        .transpose()
        .map_err(ApiError::from)
}

/// `?tenant_id=&carrier=&status=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AccountQuery {
    pub tenant_id: Option<String>,
    pub carrier: Option<String>,
    /// `active | pending_details | reauthorization_required | disabled`.
    pub status: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// An account with its tenant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminAccount {
    pub tenant_id: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub account: ShipperAccount,
}

#[utoipa::path(get, path = "/v1/admin/shipper-accounts", tag = "admin", params(AccountQuery),
    responses((status = 200, description = "Accounts of every tenant", body = Object),
              (status = 403, description = "Not an admin key", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn accounts(
    State(state): State<AppState>,
    _admin: AdminKey,
    Query(query): Query<AccountQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some("active") => Some(AccountStatus::Active),
        Some("pending_details") => Some(AccountStatus::PendingDetails),
        Some("reauthorization_required") => Some(AccountStatus::ReauthorizationRequired),
        Some("disabled") => Some(AccountStatus::Disabled),
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "must be one of active, pending_details, reauthorization_required, disabled",
            ));
        }
    };
    let tenant = tenant(query.tenant_id.as_deref())?;
    let found = state
        .accounts()
        .list_all(
            tenant.as_ref(),
            query.carrier.as_deref(),
            status,
            query.limit.unwrap_or(100),
        )
        .await?;
    let data: Vec<AdminAccount> = found
        .into_iter()
        .map(|account| AdminAccount {
            tenant_id: account.tenant_id.to_string(),
            account,
        })
        .collect();
    Ok(Json(serde_json::json!({ "data": data })))
}

/// `?tenant_id=&account_id=&action=&since=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    pub tenant_id: Option<String>,
    pub account_id: Option<String>,
    /// e.g. `account.credentials_used`.
    pub action: Option<String>,
    /// RFC 3339.
    pub since: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

/// A page of audit events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<accounts::AuditEvent>,
    pub next_cursor: Option<i64>,
}

#[utoipa::path(get, path = "/v1/admin/audit-events", tag = "admin", params(EventQuery),
    responses((status = 200, description = "Audit events, newest first", body = EventPage),
              (status = 403, description = "Not an admin key", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn events(
    State(state): State<AppState>,
    _admin: AdminKey,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventPage>, ApiError> {
    let action = query
        .action
        .as_deref()
        .map(|raw| Action::parse(raw).ok_or_else(|| ApiError::invalid("action", "unknown action")))
        .transpose()?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let data = audit::list(
        state.db(),
        &EventFilter {
            tenant: tenant(query.tenant_id.as_deref())?,
            target: query.account_id,
            action,
            since: query.since,
            before_id: query.cursor,
            limit,
        },
    )
    .await?;
    let next_cursor = (data.len() as i64 == limit)
        .then(|| data.last().map(|e| e.id))
        .flatten();
    Ok(Json(EventPage { data, next_cursor }))
}

/// `POST /v1/admin/audit-events/verify` (body optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Only this tenant's chain (all chains when absent).
    pub tenant_id: Option<String>,
}

/// The result of a verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    pub ok: bool,
    pub checked: u64,
    pub first_bad_id: Option<i64>,
}

#[utoipa::path(post, path = "/v1/admin/audit-events/verify", tag = "admin",
    request_body(content = Option<VerifyRequest>),
    responses((status = 200, description = "The chains were checked", body = VerifyResponse)),
    security(("api_key" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    _admin: AdminKey,
    bytes: Bytes,
) -> Result<Json<VerifyResponse>, ApiError> {
    let request: VerifyRequest = if bytes.is_empty() {
        VerifyRequest::default()
    } else {
        parse_body(&bytes)?.0
    };
    let Verification {
        ok,
        checked,
        first_bad_id,
    } = audit::verify(state.db(), tenant(request.tenant_id.as_deref())?.as_ref()).await?;
    Ok(Json(VerifyResponse {
        ok,
        checked,
        first_bad_id,
    }))
}
