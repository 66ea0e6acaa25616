//! Tenants and API keys.
//!
//! A key is `bh_` + 40 random letters and digits, shown once; only its SHA-256 is stored.
//! Tenant keys see one tenant; admin keys see `/v1/admin/*` only. Keys are listed without
//! their secret ([`ApiKeyInfo`]) and revocable: a revoked key authenticates nothing from the
//! moment its revocation commits (console sessions opened with it end too: the console checks
//! the key on every request). Creating and revoking a key are audited.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, Action, Actor, NewEvent};
use crate::db::Database;
use crate::id::{ApiKeyId, TenantId};

mod listing;

use self::listing::key_info_columns;
pub use self::listing::{
    ApiKeyFilter, ApiKeyInfo, ApiKeyKind, MAX_KEYS_PER_PAGE, api_key, list_api_keys,
};

const KEY_PREFIX: &str = "bh_";
const KEY_RANDOM_LEN: usize = 40;

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A freshly created API key: its id and its secret, which is never shown again.
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub secret: SecretString,
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Whom a valid API key authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Tenant { tenant: TenantId, key: ApiKeyId },
    Admin { key: ApiKeyId },
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Tenant { key, .. } | Principal::Admin { key } => Actor::ApiKey(key.clone()),
        }
    }
}

/// What went wrong with a tenant or key operation.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("name: must be 1 to 200 characters")]
    InvalidName,
    #[error("not found")]
    NotFound,
    /// The key exists (and is in scope) but was revoked before.
    #[error("already revoked at {0}")]
    AlreadyRevoked(DateTime<Utc>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn check_name(name: &str) -> Result<&str, TenantError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(TenantError::InvalidName);
    }
    Ok(name)
}

fn new_secret() -> SecretString {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_RANDOM_LEN)
        .map(char::from)
        .collect();
    SecretString::from(format!("{KEY_PREFIX}{random}"))
}

fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Creates a tenant and its first API key (`backhaul tenants create`, the admin API).
pub async fn create_tenant(
    db: &Database,
    actor: &Actor,
    name: &str,
) -> Result<(Tenant, NewApiKey), TenantError> {
    let name = check_name(name)?;
    let id = TenantId::generate();
    let mut tx = db.admin().await?;
    let created_at: DateTime<Utc> =
        sqlx::query_scalar("INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING created_at")
            .bind(id.as_str())
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
    let summary = Map::from_iter([("name".to_owned(), Value::String(name.to_owned()))]);
    audit::record(
        &mut tx,
        NewEvent {
            tenant: Some(&id),
            actor,
            action: Action::TenantCreated,
            target: Some(id.as_str()),
            request_id: None,
            summary,
        },
    )
    .await?;
    let key = insert_key(&mut tx, actor, Some(&id), "default", None).await?;
    tx.commit().await?;
    Ok((
        Tenant {
            id,
            name: name.to_owned(),
            created_at,
        },
        key,
    ))
}

/// Creates another key for `tenant`, or an admin key when `tenant` is `None`; `request_id`
/// goes into the audit event.
pub async fn create_api_key(
    db: &Database,
    actor: &Actor,
    tenant: Option<&TenantId>,
    name: &str,
    request_id: Option<&str>,
) -> Result<NewApiKey, TenantError> {
    let name = check_name(name)?;
    let mut tx = db.admin().await?;
    if let Some(tenant) = tenant {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)")
                .bind(tenant.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            return Err(TenantError::NotFound);
        }
    }
    let key = insert_key(&mut tx, actor, tenant, name, request_id).await?;
    tx.commit().await?;
    Ok(key)
}

async fn insert_key(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    tenant: Option<&TenantId>,
    name: &str,
    request_id: Option<&str>,
) -> Result<NewApiKey, sqlx::Error> {
    let id = ApiKeyId::generate();
    let secret = new_secret();
    let kind = if tenant.is_some() {
        ApiKeyKind::Tenant
    } else {
        ApiKeyKind::Admin
    };
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, kind, name, secret_hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(tenant.map(TenantId::as_str))
    .bind(kind.as_str())
    .bind(name)
    .bind(&secret_hash(secret.expose_secret())[..])
    .execute(&mut *tx)
    .await?;
    let summary = json!({"kind": kind, "name": name});
    audit::record(
        tx,
        NewEvent {
            tenant,
            actor,
            action: Action::ApiKeyCreated,
            target: Some(id.as_str()),
            request_id,
            summary: summary.as_object().cloned().unwrap_or_default(),
        },
    )
    .await?;
    Ok(NewApiKey { id, secret })
}

/// The principal a presented key stands for, or `None` for an unknown or revoked key. Runs
/// with no tenant in scope: the lookup policy opens only the row whose hash is presented.
///
/// One round trip on every request: `app_api_key` (migration 0018) sets the lookup policy's
/// transaction-local setting and reads the key in one statement, outside any explicit
/// transaction, so the setting ends with the statement.
pub async fn authenticate(
    db: &Database,
    presented: &str,
) -> Result<Option<Principal>, sqlx::Error> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() != KEY_PREFIX.len() + KEY_RANDOM_LEN {
        return Ok(None);
    }
    let hash = secret_hash(presented);
    let row = sqlx::query("SELECT id, tenant_id, kind FROM app_api_key($1)")
        .bind(&hash[..])
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let key =
        ApiKeyId::parse("id", row.try_get("id")?).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let tenant: Option<String> = row.try_get("tenant_id")?;
    Ok(Some(match tenant {
        Some(tenant) => Principal::Tenant {
            tenant: TenantId::parse("tenant_id", &tenant)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            key,
        },
        None => Principal::Admin { key },
    }))
}

/// Revokes a key; it stops authenticating at once. `scope` `Some(tenant)` revokes only that
/// tenant's keys (a tenant revoking its own): any other key is [`TenantError::NotFound`], as
/// an unknown one is. `None` is the operator's or an admin's revocation of any key. A key
/// revoked before is [`TenantError::AlreadyRevoked`]. Audited with `request_id`.
pub async fn revoke_api_key(
    db: &Database,
    actor: &Actor,
    scope: Option<&TenantId>,
    key: &ApiKeyId,
    request_id: Option<&str>,
) -> Result<ApiKeyInfo, TenantError> {
    let mut tx = match scope {
        Some(tenant) => db.tenant(tenant).await?,
        None => db.admin().await?,
    };
    // The key, when `scope` allows it.
    macro_rules! in_scope {
        () => {
            "id = $1 AND ($2::text IS NULL OR tenant_id = $2)"
        };
    }
    let row = sqlx::query(concat!(
        "UPDATE api_keys SET revoked_at = now() WHERE ",
        in_scope!(),
        " AND revoked_at IS NULL RETURNING ",
        key_info_columns!()
    ))
    .bind(key.as_str())
    .bind(scope.map(TenantId::as_str))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        let revoked_at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(concat!(
            "SELECT revoked_at FROM api_keys WHERE ",
            in_scope!()
        ))
        .bind(key.as_str())
        .bind(scope.map(TenantId::as_str))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        return Err(match revoked_at {
            Some(Some(at)) => TenantError::AlreadyRevoked(at),
            _ => TenantError::NotFound,
        });
    };
    let revoked = ApiKeyInfo::from_row(&row)?;
    let summary = json!({"kind": revoked.kind, "name": revoked.name});
    audit::record(
        &mut tx,
        NewEvent {
            tenant: revoked.tenant_id.as_ref(),
            actor,
            action: Action::ApiKeyRevoked,
            target: Some(key.as_str()),
            request_id,
            summary: summary.as_object().cloned().unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}
