//! API keys: an admin lists, creates and revokes every tenant's keys and the admin keys
//! (`/v1/admin/api-keys`); a tenant lists and revokes its own (`/v1/api-keys`). A key's
//! secret is in the answer that creates it and nowhere else; every change is audited
//! (`api_key.created`, `api_key.revoked`). A revoked key stops at once, and so do the console
//! sessions opened with it.

use accounts::tenant::{self, ApiKeyFilter, ApiKeyInfo, ApiKeyKind, TenantError};
use accounts::{ApiKeyId, TenantId};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::auth::{AdminKey, TenantKey};
use crate::error::ApiError;
use crate::label::parse_body;
use crate::request_id;
use crate::routes::accounts::Page;
use crate::state::AppState;

impl From<TenantError> for ApiError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::InvalidName => ApiError::invalid("name", "must be 1 to 200 characters"),
            TenantError::NotFound => ApiError::NotFound,
            // Revoking twice is answered with the key as it stands ([`revoke`]); anywhere else
            // a revoked key is one that cannot be used.
            TenantError::AlreadyRevoked(_) => ApiError::NotFound,
            TenantError::Database(error) => error.into(),
        }
    }
}

/// `?tenant_id=&kind=&include_revoked=&limit=&starting_after=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KeyQuery {
    /// Only this tenant's keys (admin only).
    pub tenant_id: Option<String>,
    /// `tenant` or `admin` (admin only).
    pub kind: Option<String>,
    /// Include revoked keys (default `false`).
    pub include_revoked: Option<bool>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
    /// The last id of the previous page.
    pub starting_after: Option<String>,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what uses the key (1–200 characters).
    pub name: String,
    /// The tenant the key is for; an admin key when absent.
    pub tenant_id: Option<String>,
}

/// A key as the API shows it: never its secret or hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyBody {
    pub id: String,
    /// `tenant` or `admin`.
    pub kind: String,
    pub tenant_id: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyInfo> for KeyBody {
    fn from(info: ApiKeyInfo) -> Self {
        Self {
            id: info.id.to_string(),
            kind: info.kind.as_str().to_owned(),
            tenant_id: info.tenant_id.map(|tenant| tenant.to_string()),
            name: info.name,
            created_at: info.created_at,
            revoked_at: info.revoked_at,
            last_used_at: info.last_used_at,
        }
    }
}

/// A new key: the key, and its secret — shown in this answer only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: KeyBody,
    /// `bh_…`: store it now, it is never shown again.
    pub secret: String,
}

fn key_id(raw: &str) -> Result<ApiKeyId, ApiError> {
    // A malformed id names no key: the same answer as an unknown one.
    ApiKeyId::parse("id", raw).map_err(|_| ApiError::NotFound)
}

fn tenant_id(raw: Option<&str>) -> Result<Option<TenantId>, ApiError> {
    raw.map(|raw| TenantId::parse("tenant_id", raw))
        .transpose()
        .map_err(ApiError::from)
}

async fn list(
    state: &AppState,
    tenant: Option<&TenantId>,
    kind: Option<ApiKeyKind>,
    query: &KeyQuery,
) -> Result<Json<Page<KeyBody>>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 100"));
    }
    let after = match query.starting_after.as_deref() {
        None => None,
        Some(raw) => {
            let id = ApiKeyId::parse("starting_after", raw)?;
            if tenant::api_key(state.db(), tenant, &id).await?.is_none() {
                return Err(ApiError::invalid(
                    "starting_after",
                    "names no key of this list",
                ));
            }
            Some(id)
        }
    };
    let mut keys = tenant::list_api_keys(
        state.db(),
        &ApiKeyFilter {
            tenant,
            kind,
            include_revoked: query.include_revoked.unwrap_or(false),
            after: after.as_ref(),
            limit: limit + 1,
        },
    )
    .await?;
    let has_more = keys.len() as i64 > limit;
    keys.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| keys.last().map(|key| key.id.to_string()))
        .flatten();
    Ok(Json(Page {
        data: keys.into_iter().map(KeyBody::from).collect(),
        has_more,
        next_cursor,
    }))
}

/// Revokes `id` in `scope`; a key revoked before is answered as it stands.
async fn revoke(
    state: &AppState,
    actor: &accounts::audit::Actor,
    scope: Option<&TenantId>,
    id: &str,
) -> Result<Json<KeyBody>, ApiError> {
    let id = key_id(id)?;
    let request_id = request_id::current();
    match tenant::revoke_api_key(state.db(), actor, scope, &id, Some(&request_id)).await {
        Ok(info) => Ok(Json(info.into())),
        // DELETE is idempotent: a key revoked before is answered as it stands.
        Err(TenantError::AlreadyRevoked(_)) => tenant::api_key(state.db(), scope, &id)
            .await?
            .map(|key| Json(key.into()))
            .ok_or(ApiError::NotFound),
        Err(error) => Err(error.into()),
    }
}

/// `GET /v1/admin/api-keys`: every key (or one tenant's), newest first.
pub async fn admin_list(
    State(state): State<AppState>,
    _admin: AdminKey,
    Query(query): Query<KeyQuery>,
) -> Result<Json<Page<KeyBody>>, ApiError> {
    let tenant = tenant_id(query.tenant_id.as_deref())?;
    let kind = match query.kind.as_deref() {
        None => None,
        Some("tenant") => Some(ApiKeyKind::Tenant),
        Some("admin") => Some(ApiKeyKind::Admin),
        Some(_) => return Err(ApiError::invalid("kind", "must be tenant or admin")),
    };
    list(&state, tenant.as_ref(), kind, &query).await
}

/// `POST /v1/admin/api-keys`: a new key for a tenant, or a new admin key.
pub async fn admin_create(
    State(state): State<AppState>,
    admin: AdminKey,
    bytes: Bytes,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let (input, _): (CreateKey, _) = parse_body(&bytes)?;
    let tenant = tenant_id(input.tenant_id.as_deref())?;
    let request_id = request_id::current();
    let created = tenant::create_api_key(
        state.db(),
        &admin.actor(),
        tenant.as_ref(),
        &input.name,
        Some(&request_id),
    )
    .await
    .map_err(|error| match error {
        TenantError::NotFound => ApiError::invalid("tenant_id", "no such tenant"),
        other => other.into(),
    })?;
    let info = tenant::api_key(state.db(), None, &created.id)
        .await?
        .ok_or_else(|| ApiError::Internal("a created key cannot be read".to_owned()))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: info.into(),
            secret: created.secret.expose_secret().to_owned(),
        }),
    ))
}

/// `DELETE /v1/admin/api-keys/{id}`: revokes any key.
pub async fn admin_revoke(
    State(state): State<AppState>,
    admin: AdminKey,
    Path(id): Path<String>,
) -> Result<Json<KeyBody>, ApiError> {
    revoke(&state, &admin.actor(), None, &id).await
}

/// `GET /v1/api-keys`: the tenant's own keys.
pub async fn tenant_list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(query): Query<KeyQuery>,
) -> Result<Json<Page<KeyBody>>, ApiError> {
    if query.tenant_id.is_some() || query.kind.is_some() {
        let field = if query.tenant_id.is_some() {
            "tenant_id"
        } else {
            "kind"
        };
        return Err(ApiError::invalid(field, "is for admin keys only"));
    }
    list(&state, Some(&caller.tenant), None, &query).await
}

/// `DELETE /v1/api-keys/{id}`: revokes one of the tenant's own keys (another tenant's is 404).
pub async fn tenant_revoke(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<KeyBody>, ApiError> {
    revoke(&state, &caller.actor(), Some(&caller.tenant), &id).await
}
