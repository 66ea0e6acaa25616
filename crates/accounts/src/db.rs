//! The connection to Postgres as the application role, and transactions scoped to one tenant
//! (or to the admin view).
//!
//! Row-level security is the second wall around each tenant's data (the first is that every
//! function takes a [`TenantId`]): every transaction sets `backhaul.tenant_id` (or
//! `backhaul.scope = 'admin'`) with `set_config(…, true)`, which lasts until the transaction
//! ends, so a pooled connection never carries one tenant's scope into another's request.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Transaction};

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
        self.begin_with_settings(&[("backhaul.tenant_id", tenant.as_str())])
            .await
    }

    /// [`Database::tenant`], committing without waiting for the WAL to reach the disk
    /// (`synchronous_commit = off` for this transaction alone), so its locks are released
    /// before the flush instead of after it. Only for a transaction whose effects stay inside
    /// the service until the caller commits another transaction that *writes* synchronously:
    /// that flushes this one too (the WAL reaches the disk in order), and a crash before it
    /// loses both together. (A transaction that writes no WAL commits without a flush even with
    /// `synchronous_commit = on` — an xid alone is not enough.)
    pub async fn tenant_unflushed(
        &self,
        tenant: &TenantId,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin_with_settings(&[
            ("backhaul.tenant_id", tenant.as_str()),
            ("synchronous_commit", "off"),
        ])
        .await
    }

    /// A transaction with the admin view (every tenant), for admin endpoints and operator
    /// commands.
    pub async fn admin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin_with_settings(&[("backhaul.scope", "admin")])
            .await
    }

    /// A transaction with `name` set to `value` until it ends, for a lookup policy (API key or
    /// OAuth state by hash); otherwise it sees no tenant's rows. `value` must be a plain token
    /// (letters, digits, `_`, `-`), such as a hex digest.
    pub async fn lookup(
        &self,
        name: &'static str,
        value: &str,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.begin_with_settings(&[(name, value)]).await
    }

    /// `BEGIN` and transaction-local settings in one round trip. It is one simple query of two
    /// statements, which cannot take bind parameters, so every name and value is checked to be
    /// a plain token first (tenant ids, hex digests and fixed words are).
    async fn begin_with_settings(
        &self,
        settings: &[(&'static str, &str)],
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut statement = String::from("BEGIN; SELECT ");
        for (index, (name, value)) in settings.iter().enumerate() {
            let plain = |text: &str| {
                !text.is_empty()
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            };
            if !plain(name) || !plain(value) {
                return Err(sqlx::Error::InvalidArgument(format!(
                    "the transaction setting {name} must be a plain token"
                )));
            }
            if index > 0 {
                statement.push_str(", ");
            }
            statement.push_str(&format!("set_config('{name}', '{value}', true)"));
        }
        self.pool.begin_with(AssertSqlSafe(statement)).await
    }

    /// A transaction with no tenant: it sees no tenant's rows, only what a lookup policy
    /// (API key or OAuth state by hash) opens.
    pub async fn unscoped(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool that never connects: the refusal must come before anything reaches Postgres.
    fn unreachable() -> Database {
        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(1)
            .username(APP_ROLE);
        Database::new(PgPoolOptions::new().connect_lazy_with(options))
    }

    #[tokio::test]
    async fn a_setting_that_is_not_a_plain_token_never_reaches_postgres() {
        let db = unreachable();
        for value in ["x'); DROP TABLE tenants; --", "a b", "", "ten_abc'", "é"] {
            let error = db
                .lookup("backhaul.api_key_hash", value)
                .await
                .err()
                .unwrap_or_else(|| panic!("{value:?} was accepted"));
            assert!(
                matches!(error, sqlx::Error::InvalidArgument(_)),
                "{value:?}: {error}"
            );
        }
    }
}
