//! Listing API keys: what a key may show of itself ([`ApiKeyInfo`], never its secret or
//! hash) and one page of keys, newest first, by tenant, kind and whether revoked keys count
//! ([`list_api_keys`]).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::TenantError;
use crate::db::Database;
use crate::id::{ApiKeyId, TenantId};

/// Whose a key is: one tenant's, or the platform's admin key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKeyKind {
    Tenant,
    Admin,
}

impl ApiKeyKind {
    /// `tenant` or `admin`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyKind::Tenant => "tenant",
            ApiKeyKind::Admin => "admin",
        }
    }

    fn parse(raw: &str) -> Result<Self, sqlx::Error> {
        match raw {
            "tenant" => Ok(ApiKeyKind::Tenant),
            "admin" => Ok(ApiKeyKind::Admin),
            other => Err(sqlx::Error::Decode(
                format!("unknown API key kind {other:?}").into(),
            )),
        }
    }
}

impl fmt::Display for ApiKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API key as it may be shown: never its secret, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyInfo {
    pub id: ApiKeyId,
    /// `None` for an admin key.
    pub tenant_id: Option<TenantId>,
    pub kind: ApiKeyKind,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The columns [`ApiKeyInfo`] is read from (a macro, for `concat!`).
macro_rules! key_info_columns {
    () => {
        "id, tenant_id, kind, name, created_at, revoked_at, last_used_at"
    };
}
pub(super) use key_info_columns;

impl ApiKeyInfo {
    pub(super) fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        let decode = |error: carrier::ValidationErrors| sqlx::Error::Decode(error.into());
        let tenant: Option<String> = row.try_get("tenant_id")?;
        Ok(Self {
            id: ApiKeyId::parse("id", row.try_get("id")?).map_err(decode)?,
            tenant_id: tenant
                .map(|tenant| TenantId::parse("tenant_id", &tenant))
                .transpose()
                .map_err(decode)?,
            kind: ApiKeyKind::parse(row.try_get("kind")?)?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }
}

/// The most keys [`list_api_keys`] returns at once.
pub const MAX_KEYS_PER_PAGE: i64 = 1000;

/// Which keys [`list_api_keys`] returns: newest first, one page at a time.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeyFilter<'a> {
    /// Only this tenant's keys (read in the tenant's scope); every key when `None`.
    pub tenant: Option<&'a TenantId>,
    /// Only keys of this kind.
    pub kind: Option<ApiKeyKind>,
    /// Revoked keys too; only live keys when `false`.
    pub include_revoked: bool,
    /// The page after this key: the last id of the previous page.
    pub after: Option<&'a ApiKeyId>,
    /// At most this many keys (1 to [`MAX_KEYS_PER_PAGE`]).
    pub limit: i64,
}

impl Default for ApiKeyFilter<'_> {
    /// Every live key, the first 100.
    fn default() -> Self {
        Self {
            tenant: None,
            kind: None,
            include_revoked: false,
            after: None,
            limit: 100,
        }
    }
}

/// API keys without their secrets, newest first (`backhaul api-keys list`, and an HTTP list:
/// [`ApiKeyFilter::after`] is the cursor).
pub async fn list_api_keys(
    db: &Database,
    filter: &ApiKeyFilter<'_>,
) -> Result<Vec<ApiKeyInfo>, TenantError> {
    // A tenant's keys are read in its scope: row-level security agrees with the filter.
    let mut tx = match filter.tenant {
        Some(tenant) => db.tenant(tenant).await?,
        None => db.admin().await?,
    };
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_info_columns!(),
        " FROM api_keys
         WHERE ($1::text IS NULL OR tenant_id = $1)
           AND ($2::text IS NULL OR kind = $2)
           AND ($3 OR revoked_at IS NULL)
           AND ($4::text IS NULL OR (created_at, id) <
               (SELECT created_at, id FROM api_keys WHERE id = $4))
         ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(filter.tenant.map(TenantId::as_str))
    .bind(filter.kind.map(ApiKeyKind::as_str))
    .bind(filter.include_revoked)
    .bind(filter.after.map(ApiKeyId::as_str))
    .bind(filter.limit.clamp(1, MAX_KEYS_PER_PAGE))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| ApiKeyInfo::from_row(row).map_err(TenantError::from))
        .collect()
}

/// One key without its secret, revoked or not; `None` when there is no such key in `scope`
/// (one tenant's keys, or every key when `None`).
pub async fn api_key(
    db: &Database,
    scope: Option<&TenantId>,
    id: &ApiKeyId,
) -> Result<Option<ApiKeyInfo>, TenantError> {
    let mut tx = match scope {
        Some(tenant) => db.tenant(tenant).await?,
        None => db.admin().await?,
    };
    let row = sqlx::query(concat!(
        "SELECT ",
        key_info_columns!(),
        " FROM api_keys WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)"
    ))
    .bind(id.as_str())
    .bind(scope.map(TenantId::as_str))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    row.as_ref()
        .map(ApiKeyInfo::from_row)
        .transpose()
        .map_err(TenantError::from)
}
