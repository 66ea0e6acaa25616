//! The database migrations ([`accounts::MIGRATOR`], `migrations/` at the repository root):
//! applied by `backhaul migrate` and `backhaul dev` as the database owner, and checked (never
//! applied) by `backhaul serve`, which refuses to start on a database that is behind.
//!
//! The state comes from sqlx's own bookkeeping table, `_sqlx_migrations` (version, success,
//! checksum), compared with the migrations compiled into the binary.

use std::collections::HashMap;

use accounts::MIGRATOR;
use anyhow::{Context, bail};
use sqlx::PgPool;
use sqlx::migrate::Migration;

/// Where the database stands against the binary's migrations.
#[derive(Debug)]
pub(crate) struct MigrationStatus {
    /// How many of the binary's migrations are applied.
    pub(crate) applied: usize,
    /// The binary's migrations not applied yet, oldest first.
    pub(crate) pending: Vec<&'static Migration>,
    /// A migration that failed half-way (sqlx marks it `success = false`).
    pub(crate) failed: Option<i64>,
    /// Applied migrations whose file has changed since.
    pub(crate) changed: Vec<i64>,
}

/// `0003 oauth states and carrier tokens`.
pub(crate) fn describe(migration: &Migration) -> String {
    format!("{:04} {}", migration.version, migration.description)
}

/// Reads the migration state with the owner's pool.
pub(crate) async fn status(owner: &PgPool) -> anyhow::Result<MigrationStatus> {
    let table_exists: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(owner)
            .await
            .context("reading the migration state")?;
    let rows: Vec<(i64, bool, Vec<u8>)> = if table_exists {
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(owner)
            .await
            .context("reading _sqlx_migrations")?
    } else {
        Vec::new()
    };
    let recorded: HashMap<i64, (bool, Vec<u8>)> = rows
        .into_iter()
        .map(|(version, success, checksum)| (version, (success, checksum)))
        .collect();
    let mut status = MigrationStatus {
        applied: 0,
        pending: Vec::new(),
        failed: None,
        changed: Vec::new(),
    };
    for migration in MIGRATOR
        .iter()
        .filter(|migration| migration.migration_type.is_up_migration())
    {
        match recorded.get(&migration.version) {
            None => status.pending.push(migration),
            Some((false, _)) => {
                status.failed.get_or_insert(migration.version);
            }
            Some((true, checksum)) => {
                status.applied += 1;
                if checksum[..] != migration.checksum[..] {
                    status.changed.push(migration.version);
                }
            }
        }
    }
    Ok(status)
}

/// Applies the pending migrations; returns the ones that ran.
pub(crate) async fn apply(owner: &PgPool) -> anyhow::Result<Vec<&'static Migration>> {
    let before = status(owner).await?;
    MIGRATOR
        .run(owner)
        .await
        .context("applying the migrations as the database owner (database.url)")?;
    Ok(before.pending)
}

/// Fails, saying what to do, unless every migration of this binary is applied unchanged.
pub(crate) async fn ensure_current(owner: &PgPool) -> anyhow::Result<()> {
    let status = status(owner).await?;
    if let Some(version) = status.failed {
        bail!(
            "migration {version:04} failed part-way on this database; repair it by hand, then \
             run `backhaul migrate`"
        );
    }
    if !status.changed.is_empty() {
        let versions: Vec<String> = status.changed.iter().map(|v| format!("{v:04}")).collect();
        bail!(
            "applied migrations were changed after they ran ({}); this binary does not match \
             the database",
            versions.join(", ")
        );
    }
    if !status.pending.is_empty() {
        let names: Vec<String> = status.pending.iter().map(|m| describe(m)).collect();
        bail!(
            "the database is behind this binary: {} pending migration(s) ({}); run `backhaul \
             migrate` first",
            names.len(),
            names.join(", ")
        );
    }
    Ok(())
}
