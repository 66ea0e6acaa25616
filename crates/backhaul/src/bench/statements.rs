//! Which statements a label costs the database, from `pg_stat_statements`.
//!
//! The private Postgres preloads the module where it is installed ([`crate::postgres`]); a
//! configured database must preload it itself (`shared_preload_libraries`), and its owner must
//! be allowed to `CREATE EXTENSION`. Otherwise the report says why there are no figures, and
//! the benchmark goes on.
//!
//! The statistics are reset just before the load phase and read just after it, so they cover
//! the load (and whatever background work ran meanwhile: tracking polls, webhook deliveries),
//! not the setup. Execution and planning time (planning where `track_planning` is on, as in the
//! private Postgres); parsing is not in it.

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::{PgPool, Row};

use crate::startup::connect_owner;

/// How many statements the report lists.
const TOP: i64 = 12;
/// The longest statement text the report keeps (the start says which statement it is).
const MAX_QUERY_CHARS: usize = 160;

/// What `pg_stat_statements` says of the load phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Statements {
    /// Every statement the benchmark database ran, divided by the labels bought.
    pub(crate) per_label: f64,
    /// Their execution time, per label.
    pub(crate) exec_ms_per_label: f64,
    /// Their planning time, per label (0 unless `pg_stat_statements.track_planning` is on).
    pub(crate) plan_ms_per_label: f64,
    /// The statements that took the most execution time, most first.
    pub(crate) top: Vec<Statement>,
}

/// One normalised statement (constants replaced by `$n`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Statement {
    pub(crate) query: String,
    pub(crate) calls_per_label: f64,
    pub(crate) exec_ms_per_label: f64,
    pub(crate) plan_ms_per_label: f64,
    pub(crate) mean_ms: f64,
}

/// Where the statistics come from, once they could be reset.
pub(crate) struct Recorder {
    pool: PgPool,
}

impl Recorder {
    /// Creates the extension if needed and resets its statistics; `Err` says why there will be
    /// no figures.
    pub(crate) async fn start(owner: &PgConnectOptions) -> Result<Self, String> {
        let pool = connect_owner(owner)
            .await
            .map_err(|error| format!("connecting as the owner: {error:#}"))?;
        for statement in [
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "SELECT pg_stat_statements_reset()",
        ] {
            if let Err(error) = sqlx::query(statement).execute(&pool).await {
                pool.close().await;
                return Err(format!("{statement}: {error}"));
            }
        }
        Ok(Self { pool })
    }

    /// This database's statements since [`Recorder::start`], per label.
    pub(crate) async fn finish(self, labels: u64) -> Result<Statements, String> {
        let read = self.read(labels).await;
        self.pool.close().await;
        read.map_err(|error| format!("reading pg_stat_statements: {error}"))
    }

    async fn read(&self, labels: u64) -> Result<Statements, sqlx::Error> {
        // This database's statements, without the owner's own reset and reads.
        let rows = sqlx::query(
            "WITH here AS (
                 SELECT query, calls, total_exec_time, total_plan_time, mean_exec_time
                 FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND query NOT LIKE '%pg_stat_statements%')
             SELECT query, calls::float8 AS calls, total_exec_time AS exec_ms,
                    total_plan_time AS plan_ms, mean_exec_time AS mean_ms,
                    (SELECT sum(calls) FROM here)::float8 AS all_calls,
                    (SELECT sum(total_exec_time) FROM here) AS all_exec_ms,
                    (SELECT sum(total_plan_time) FROM here) AS all_plan_ms
             FROM here ORDER BY total_exec_time DESC LIMIT $1",
        )
        .bind(TOP)
        .fetch_all(&self.pool)
        .await?;
        let per = |value: f64| value / labels.max(1) as f64;
        let mut statements = Statements {
            per_label: 0.0,
            exec_ms_per_label: 0.0,
            plan_ms_per_label: 0.0,
            top: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            statements.per_label = per(row.try_get("all_calls")?);
            statements.exec_ms_per_label = per(row.try_get("all_exec_ms")?);
            statements.plan_ms_per_label = per(row.try_get("all_plan_ms")?);
            statements.top.push(Statement {
                query: shorten(row.try_get("query")?),
                calls_per_label: per(row.try_get("calls")?),
                exec_ms_per_label: per(row.try_get("exec_ms")?),
                plan_ms_per_label: per(row.try_get("plan_ms")?),
                mean_ms: row.try_get("mean_ms")?,
            });
        }
        Ok(statements)
    }
}

/// The statement on one line, white space collapsed, cut at [`MAX_QUERY_CHARS`].
fn shorten(query: String) -> String {
    let one_line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_QUERY_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_shown_on_one_line_and_cut() {
        assert_eq!(
            shorten("SELECT a,\n       b\n  FROM t".to_owned()),
            "SELECT a, b FROM t"
        );
        let long = format!("SELECT {}", "x".repeat(300));
        let short = shorten(long);
        assert_eq!(short.chars().count(), MAX_QUERY_CHARS + 1);
        assert!(short.ends_with('…'));
    }
}
