//! API keys: an admin lists, creates and revokes every tenant's keys and the admin keys
//! (`/v1/admin/api-keys`); a tenant lists and revokes its own (`/v1/api-keys`). A key's
//! secret is in the answer that creates it and nowhere else; every change is audited
//! (`api_key.created`, `api_key.revoked`). A revoked key stops at once, and so do the console
//! sessions opened with it.

use accounts::tenant::{self, ApiKeyFilter, ApiKeyInfo, ApiKeyKind, TenantError};
use accounts::{ApiKeyId, TenantId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{AdminKey, TenantKey};
use crate::error::ApiError;
use crate::extract::{JsonBody, Path, Query, parse_json};
use crate::request_id;
use crate::routes::accounts::Page;
use crate::state::AppState;

/// `?tenant_id=&kind=&include_revoked=&limit=&starting_after=` of the admin's list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// Only this tenant's keys.
    #[param(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: Option<String>,
    /// Only keys of this kind.
    #[param(inline, value_type = Option<KeyKind>)]
    pub kind: Option<String>,
    /// Revoked keys too (default `false`).
    pub include_revoked: Option<bool>,
    /// How many keys a page holds: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (the id of its last key).
    #[param(pattern = r"^key_[A-Za-z0-9]{20}$")]
    pub starting_after: Option<String>,
}

/// `?include_revoked=&limit=&starting_after=` of a tenant's own list (the admin's filters are
/// refused by name: a tenant sees its own keys only).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OwnKeyQuery {
    /// Revoked keys too (default `false`).
    pub include_revoked: Option<bool>,
    /// How many keys a page holds: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (the id of its last key).
    #[param(pattern = r"^key_[A-Za-z0-9]{20}$")]
    pub starting_after: Option<String>,
}

/// `{id}` of `/v1/admin/api-keys/{id}` and `/v1/api-keys/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyIdParam {
    /// The key's id (`key_` and 20 letters or digits).
    #[param(
        pattern = r"^key_[A-Za-z0-9]{20}$",
        example = "key_7Hq2Lm9Zx4Wb1Nc8Vt3R"
    )]
    pub id: String,
}

/// Whose a key is.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum KeyKind {
    Tenant,
    Admin,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what uses the key.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The tenant the key is for; an admin key when absent.
    #[schema(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: Option<String>,
}

/// A key as the API shows it: never its secret or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyBody {
    #[schema(pattern = r"^key_[A-Za-z0-9]{20}$")]
    pub id: String,
    #[schema(value_type = KeyKind)]
    pub kind: String,
    #[schema(pattern = r"^ten_[A-Za-z0-9]{20}$")]
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
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: KeyBody,
    /// `bh_…`: store it now, it is never shown again.
    #[schema(pattern = r"^bh_[A-Za-z0-9]{40}$")]
    pub secret: String,
}

/// A page of API keys, newest first.
#[derive(Debug, ToSchema)]
pub struct KeyPage {
    pub data: Vec<KeyBody>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `starting_after` for the next page (when `has_more`).
    #[schema(pattern = r"^key_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
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

/// One page of keys.
struct Listing<'a> {
    tenant: Option<&'a TenantId>,
    kind: Option<ApiKeyKind>,
    include_revoked: Option<bool>,
    limit: Option<i64>,
    starting_after: Option<&'a str>,
}

async fn list(state: &AppState, query: Listing<'_>) -> Result<Json<Page<KeyBody>>, ApiError> {
    let Listing {
        tenant,
        kind,
        include_revoked,
        limit,
        starting_after,
    } = query;
    let limit = match limit {
        None => 20,
        Some(limit @ 1..=100) => limit,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
    };
    let after = match starting_after {
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
            include_revoked: include_revoked.unwrap_or(false),
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

/// Every tenant's API keys and the admin keys (or one tenant's), newest first, without their
/// secrets.
#[utoipa::path(get, path = "/v1/admin/api-keys", operation_id = "admin_list_api_keys", tag = "admin", params(KeyQuery),
    responses((status = 200, description = "A page of keys, newest first", body = KeyPage)),
    security(("admin_key" = [])))]
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
    let listing = Listing {
        tenant: tenant.as_ref(),
        kind,
        include_revoked: query.include_revoked,
        limit: query.limit,
        starting_after: query.starting_after.as_deref(),
    };
    list(&state, listing).await
}

/// A new key for a tenant (with `tenant_id`), or a new admin key: its secret is in this answer
/// and never again. Audited `api_key.created`.
#[utoipa::path(post, path = "/v1/admin/api-keys", operation_id = "admin_create_api_key", tag = "admin",
    request_body = CreateKey,
    responses((status = 201, description = "The key, with its secret (shown once)", body = CreatedKey)),
    security(("admin_key" = [])))]
pub async fn admin_create(
    State(state): State<AppState>,
    admin: AdminKey,
    JsonBody(bytes): JsonBody,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let (input, _): (CreateKey, _) = parse_json(&bytes)?;
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

/// Revokes any key: it is refused at once, and the console sessions opened with it end.
/// Revoking a revoked key answers it as it stands. Audited `api_key.revoked`.
#[utoipa::path(delete, path = "/v1/admin/api-keys/{id}", operation_id = "admin_revoke_api_key", tag = "admin",
    params(KeyIdParam),
    responses((status = 200, description = "The key, revoked", body = KeyBody)),
    security(("admin_key" = [])))]
pub async fn admin_revoke(
    State(state): State<AppState>,
    admin: AdminKey,
    Path(id): Path<String>,
) -> Result<Json<KeyBody>, ApiError> {
    revoke(&state, &admin.actor(), None, &id).await
}

/// The tenant's own API keys, newest first, without their secrets.
#[utoipa::path(get, path = "/v1/api-keys", operation_id = "list_api_keys", tag = "api keys", params(OwnKeyQuery),
    responses((status = 200, description = "A page of the tenant's keys, newest first", body = KeyPage)),
    security(("tenant_key" = [])))]
pub async fn tenant_list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(query): Query<OwnKeyQuery>,
) -> Result<Json<Page<KeyBody>>, ApiError> {
    let listing = Listing {
        tenant: Some(&caller.tenant),
        kind: None,
        include_revoked: query.include_revoked,
        limit: query.limit,
        starting_after: query.starting_after.as_deref(),
    };
    list(&state, listing).await
}

/// Revokes one of the tenant's own keys (another tenant's is not found): it is refused at
/// once, and the console sessions opened with it end. Audited `api_key.revoked`.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", operation_id = "revoke_api_key", tag = "api keys",
    params(KeyIdParam),
    responses((status = 200, description = "The key, revoked", body = KeyBody)),
    security(("tenant_key" = [])))]
pub async fn tenant_revoke(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<KeyBody>, ApiError> {
    revoke(&state, &caller.actor(), Some(&caller.tenant), &id).await
}
