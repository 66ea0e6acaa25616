//! The connection to Postgres as the application role, and transactions scoped to one tenant
//! (or to the admin view).
//!
//! Row-level security is the second wall around each tenant's data (the first is that every
//! function takes a [`TenantId`]): every transaction sets `backhaul.tenant_id` (or
//! `backhaul.scope = 'admin'`) with `set_config(…, true)`, which lasts until the transaction
//! ends, so a pooled connection never carries one tenant's scope into another's request.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::id::TenantId;

/// The role the service connects as (created by the migrations): not the owner of any table,
/// not a superuser, no BYPASSRLS.
pub const APP_ROLE: &str = "backhaul_app";

/// How long a query waits for a pooled connection before giving up (sqlx's default is 30 s).
/// When Postgres is unreachable, sqlx keeps trying to connect until this runs out, so it is
/// how long a request hangs before the API answers 503 with `Retry-After`.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The migrations of the whole service (`migrations/` at the repository root).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The service's database.
#[derive(Debug, Clone)]
pub struct Database {
    pool: PgPool,
}

impl Database {
    /// Wraps a pool that is connected as [`APP_ROLE`].
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Connects as [`APP_ROLE`] to the database `owner` points at (same host, port and
    /// database; the owner's user and password replaced by the app role's).
    pub async fn connect_as_app(
        owner: &PgConnectOptions,
        password: Option<&str>,
        max_connections: u32,
    ) -> Result<Self, sqlx::Error> {
        let mut options = owner.clone().username(APP_ROLE);
        options = match password {
            Some(password) => options.password(password),
            None => options.password(""),
        };
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction that sees only `tenant`'s rows.
    pub async fn tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT set_config('backhaul.tenant_id', $1, true)")
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// [`Database::tenant`], committing without waiting for the WAL to reach the disk
    /// (`synchronous_commit = off` for this transaction alone), so its locks are released
    /// before the flush instead of after it. Only for a transaction whose effects stay inside
    /// the service until the caller commits another transaction synchronously: that commit
    /// flushes this one too (the WAL reaches the disk in order), and a crash before it loses
    /// both together.
    pub async fn tenant_unflushed(
        &self,
        tenant: &TenantId,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "SELECT set_config('backhaul.tenant_id', $1, true), \
             set_config('synchronous_commit', 'off', true)",
        )
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
        Ok(tx)
    }

    /// A transaction with the admin view (every tenant), for admin endpoints and operator
    /// commands.
    pub async fn admin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT set_config('backhaul.scope', 'admin', true)")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A transaction with no tenant: it sees no tenant's rows, only what a lookup policy
    /// (API key or OAuth state by hash) opens.
    pub async fn unscoped(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}
