//! `/v1/admin`: every tenant's shipper accounts (secrets masked, fingerprints and last use
//! shown), the audit trail, and verifying its hash chains. Admin keys only.

use accounts::audit::{self, Action, EventFilter, Verification};
use accounts::{AccountStatus, ShipperAccount, TenantId};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::extract::{OptionalJsonBody, Query, parse_json};
use crate::openapi::schema;
use crate::state::AppState;

fn tenant(raw: Option<&str>) -> Result<Option<TenantId>, ApiError> {
    raw.map(|raw| TenantId::parse("tenant_id", raw))
        .transpose()
        .map_err(ApiError::from)
}

/// `?tenant_id=&carrier=&status=&limit=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Only this tenant's accounts.
    #[param(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: Option<String>,
    /// Only this carrier's accounts (its id at `GET /v1/carriers`).
    pub carrier: Option<String>,
    /// Only accounts in this status.
    #[param(inline, value_type = Option<schema::AccountStatus>)]
    pub status: Option<String>,
    /// How many accounts at most: 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// A page size of the admin lists: 1–1000, default 100; out of range is refused.
fn admin_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(100),
        Some(limit @ 1..=1000) => Ok(limit),
        Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 1000")),
    }
}

/// An account with its tenant.
#[derive(Debug, Serialize)]
pub struct AdminAccount {
    pub tenant_id: String,
    #[serde(flatten)]
    pub account: ShipperAccount,
}

/// Every tenant's shipper accounts, secrets masked, with credential fingerprints and last use.
#[utoipa::path(get, path = "/v1/admin/shipper-accounts", operation_id = "admin_list_shipper_accounts", tag = "admin", params(AccountQuery),
    responses((status = 200, description = "Accounts of every tenant, oldest first", body = schema::AdminAccountList)),
    security(("admin_key" = [])))]
pub async fn accounts(
    State(state): State<AppState>,
    _admin: AdminKey,
    Query(query): Query<AccountQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some("active") => Some(AccountStatus::Active),
        Some("pending_details") => Some(AccountStatus::PendingDetails),
        Some("pending_verification") => Some(AccountStatus::PendingVerification),
        Some("reauthorization_required") => Some(AccountStatus::ReauthorizationRequired),
        Some("disabled") => Some(AccountStatus::Disabled),
        Some(_) => {
            return Err(ApiError::invalid(
                "status",
                "must be one of active, pending_details, pending_verification, reauthorization_required, \
                 disabled",
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
            admin_limit(query.limit)?,
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

/// `?tenant_id=&account_id=&action=&since=&cursor=&limit=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this tenant's events.
    #[param(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: Option<String>,
    /// Only events about this target (an account or label id).
    pub account_id: Option<String>,
    /// Only events of this action (e.g. `account.credentials_used`).
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "rfc3339")]
    pub since: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page: events before it.
    #[param(minimum = 1)]
    pub cursor: Option<i64>,
    /// How many events a page holds: 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// An RFC 3339 time, refused in our words.
fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    DateTime::parse_from_rfc3339(&raw)
        .map(|time| Some(time.with_timezone(&Utc)))
        .map_err(|_| {
            serde::de::Error::custom(
                "must be a date and time (RFC 3339, e.g. 2026-01-31T09:00:00Z)",
            )
        })
}

/// A page of audit events, newest first (documented as [`schema::EventPage`]).
#[derive(Debug, Serialize)]
pub struct EventPage {
    pub data: Vec<accounts::AuditEvent>,
    pub next_cursor: Option<i64>,
}

/// The audit trail, newest first: every change to an account, every use of its credentials,
/// every label; each event hash-chained to its tenant's previous one.
#[utoipa::path(get, path = "/v1/admin/audit-events", operation_id = "admin_list_audit_events", tag = "admin", params(EventQuery),
    responses((status = 200, description = "A page of audit events, newest first", body = schema::EventPage)),
    security(("admin_key" = [])))]
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
    let limit = admin_limit(query.limit)?;
    if query.cursor.is_some_and(|cursor| cursor < 1) {
        return Err(ApiError::invalid(
            "cursor",
            "must be the next_cursor of a previous page",
        ));
    }
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
    /// Only this tenant's chain (every chain when absent).
    #[schema(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: Option<String>,
}

/// The result of a verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    /// Whether every chained event is intact and linked to the one before it, and no event
    /// has waited longer than the sequencer's maximum merge delay (60 s) to be chained.
    pub ok: bool,
    /// How many chained events were checked.
    #[schema(minimum = 0)]
    pub checked: u64,
    /// The first event that does not match its hash or its chain (when `ok` is false).
    pub first_bad_id: Option<i64>,
    /// Events written in the last 60 s and not chained yet (not checked; not a fault).
    #[schema(minimum = 0)]
    pub waiting: u64,
    /// Events still not chained 60 s after they were written: the sequencer is not running.
    #[schema(minimum = 0)]
    pub overdue: u64,
    /// The oldest of them.
    pub first_overdue_id: Option<i64>,
}

/// Verify the audit hash chains (every tenant's, or one). The body is optional.
#[utoipa::path(post, path = "/v1/admin/audit-events/verify", operation_id = "admin_verify_audit_events", tag = "admin",
    request_body(content = Option<VerifyRequest>, content_type = "application/json",
                 description = "Optional: an empty body verifies every chain"),
    responses((status = 200, description = "The chains were checked", body = VerifyResponse)),
    security(("admin_key" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    _admin: AdminKey,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<Json<VerifyResponse>, ApiError> {
    let request: VerifyRequest = match body {
        None => VerifyRequest::default(),
        Some(bytes) => parse_json(&bytes)?.0,
    };
    let Verification {
        ok,
        checked,
        first_bad_id,
        waiting,
        overdue,
        first_overdue_id,
    } = audit::verify(state.db(), tenant(request.tenant_id.as_deref())?.as_ref()).await?;
    Ok(Json(VerifyResponse {
        ok,
        checked,
        first_bad_id,
        waiting,
        overdue,
        first_overdue_id,
    }))
}
