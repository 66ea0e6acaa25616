//! The database-bound limit: the same number of connections as benchmark clients, each
//! running `BEGIN; INSERT; INSERT; COMMIT` in a loop against the same Postgres for the same
//! time. Two small indexed inserts per transaction are the least a durable label purchase can
//! cost, so labels/s divided by these transactions/s says how much of the database's capacity
//! the service turns into labels.
//!
//! The tables live in a scratch schema of their own (`backhaul_bench_<run>`), created and
//! dropped by the benchmark as the database owner: tenant tables are never touched. They are
//! ordinary logged tables, so every commit is as durable as a label's (a temporary or unlogged
//! table would skip the WAL and flatter the limit).

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

/// What the loop achieved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbLimit {
    pub(crate) transactions: u64,
    pub(crate) elapsed: Duration,
}

/// The scratch schema of one run.
#[derive(Debug)]
pub(crate) struct Scratch {
    run_id: String,
    schema: String,
}

impl Scratch {
    /// `run_id` is made of lowercase letters and digits (an identifier cannot be a bind
    /// parameter).
    pub(crate) fn new(run_id: &str) -> anyhow::Result<Self> {
        if run_id.is_empty()
            || !run_id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            anyhow::bail!("the benchmark's run id must be lowercase letters and digits");
        }
        Ok(Self {
            run_id: run_id.to_owned(),
            schema: format!("backhaul_bench_{run_id}"),
        })
    }

    /// The run this schema belongs to.
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    #[cfg(test)]
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Creates the schema and its two tables, shaped like an idempotency key and a label.
    pub(crate) async fn create(&self, owner: &PgConnectOptions) -> anyhow::Result<()> {
        let mut connection = connect(owner).await?;
        let schema = &self.schema;
        for statement in [
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.keys (client integer NOT NULL, sequence bigint NOT NULL,
                     request_hash bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
                     PRIMARY KEY (client, sequence))"
            ),
            format!(
                "CREATE TABLE {schema}.rows (id bigserial PRIMARY KEY, client integer NOT NULL,
                     sequence bigint NOT NULL, payload bytea NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now())"
            ),
        ] {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut connection)
                .await
                .with_context(|| format!("creating the scratch schema {schema}"))?;
        }
        connection.close().await.ok();
        Ok(())
    }

    /// Drops the schema and everything in it.
    pub(crate) async fn drop_schema(&self, owner: &PgConnectOptions) -> anyhow::Result<()> {
        let mut connection = connect(owner).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            self.schema
        )))
        .execute(&mut connection)
        .await
        .with_context(|| format!("dropping the scratch schema {}", self.schema))?;
        connection.close().await.ok();
        Ok(())
    }

    /// Runs the loop on `clients` connections for `duration`. Every connection commits at
    /// least one transaction; a transaction running when the time is up is finished and
    /// counted.
    pub(crate) async fn measure(
        &self,
        owner: &PgConnectOptions,
        clients: u16,
        duration: Duration,
    ) -> anyhow::Result<DbLimit> {
        let mut connections = Vec::with_capacity(usize::from(clients));
        for _ in 0..clients {
            connections.push(connect(owner).await?);
        }
        let insert_key = format!(
            "INSERT INTO {}.keys (client, sequence, request_hash) VALUES ($1, $2, $3)",
            self.schema
        );
        let insert_row = format!(
            "INSERT INTO {}.rows (client, sequence, payload) VALUES ($1, $2, $3)",
            self.schema
        );
        let started = Instant::now();
        let deadline = started + duration;
        let tasks: Vec<_> = connections
            .into_iter()
            .zip(0_i32..)
            .map(|(connection, client)| {
                let statements = (insert_key.clone(), insert_row.clone());
                tokio::spawn(transaction_loop(connection, client, statements, deadline))
            })
            .collect();
        let mut transactions = 0;
        for task in tasks {
            transactions += task.await.context("a database-limit task failed")??;
        }
        Ok(DbLimit {
            transactions,
            elapsed: started.elapsed(),
        })
    }
}

async fn connect(owner: &PgConnectOptions) -> anyhow::Result<PgConnection> {
    PgConnection::connect_with(owner)
        .await
        .context("connecting to Postgres as the database owner for the database-limit loop")
}

async fn transaction_loop(
    mut connection: PgConnection,
    client: i32,
    (insert_key, insert_row): (String, String),
    deadline: Instant,
) -> anyhow::Result<u64> {
    // About the size of a request hash and of a label's stored fields.
    let hash = [7_u8; 32];
    let payload = vec![42_u8; 512];
    let mut sequence: i64 = 0;
    loop {
        let mut tx = connection.begin().await?;
        sqlx::query(AssertSqlSafe(insert_key.as_str()))
            .bind(client)
            .bind(sequence)
            .bind(&hash[..])
            .execute(&mut *tx)
            .await
            .context("the database-limit loop's first insert")?;
        sqlx::query(AssertSqlSafe(insert_row.as_str()))
            .bind(client)
            .bind(sequence)
            .bind(&payload[..])
            .execute(&mut *tx)
            .await
            .context("the database-limit loop's second insert")?;
        tx.commit().await?;
        sequence += 1;
        if Instant::now() >= deadline {
            connection.close().await.ok();
            return Ok(u64::try_from(sequence).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_schema_is_named_after_the_run() {
        assert_eq!(
            Scratch::new("k3x9").unwrap().schema(),
            "backhaul_bench_k3x9"
        );
    }

    #[test]
    fn a_run_id_that_is_not_a_plain_identifier_is_refused() {
        for run_id in ["", "A1", "x; DROP SCHEMA public", "a-b"] {
            assert!(Scratch::new(run_id).is_err(), "{run_id:?}");
        }
    }
}
