//! `backhaul bench` as a developer runs it against a database of their own: the real process,
//! a short run on two server instances, one JSON object with every figure the issue names — and
//! nothing left behind but the tenant and its labels. No assertion depends on how fast the
//! machine is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use sqlx::PgPool;
use support::{backhaul, database_url, master_keys, run};

const JSON_KEYS: [&str; 11] = [
    "labels_per_s",
    "db_limit_tps",
    "ratio",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "overhead_p99_ms",
    "errors",
    "oauth_calls_per_1000",
    "payment_auths_per_1000",
    "rss_mb",
];

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn bench_prints_one_json_object_with_every_figure(owner: PgPool) {
    let url = database_url(&owner);
    let mut command = backhaul(&[
        "bench",
        "--seconds",
        "1",
        "--clients",
        "2",
        // Client 1's warm-up label goes to the second server: it must answer too.
        "--instances",
        "2",
        "--json",
        "--database-url",
        &url,
    ]);
    command.env("BACKHAUL__VAULT__MASTER_KEYS", master_keys());
    let finished = run(command).await;
    finished.assert_success();

    let report: Value = serde_json::from_str(finished.stdout.trim()).unwrap_or_else(|error| {
        panic!("stdout is one JSON object ({error}):\n{}", finished.stdout)
    });
    for key in JSON_KEYS {
        assert!(report[key].is_number(), "{key} in {report}");
    }
    assert_eq!(report["errors"], 0, "{report}");
    // Every client buys at least one label, however slow the machine.
    assert!(report["labels_per_s"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["db_limit_tps"].as_f64().unwrap() > 0.0, "{report}");
    assert_eq!(report["instances"], 2, "{report}");
    if cfg!(target_os = "linux") {
        // The database is on this machine: every process's share is read from /proc.
        for share in [
            "server_ms_per_label",
            "postgres_ms_per_label",
            "bench_ms_per_label",
        ] {
            assert!(report["cpu"][share].is_number(), "{share} in {report}");
        }
    }

    let scratch: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'backhaul\\_bench\\_%'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(scratch, 0, "the scratch schema is dropped");
    let labels: i64 = sqlx::query_scalar("SELECT count(*) FROM return_labels")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert!(
        labels >= 3,
        "the first label, one warm-up label per client and the load"
    );
}

#[tokio::test]
async fn bench_refuses_to_run_in_production() {
    let mut command = backhaul(&["bench", "--seconds", "1", "--clients", "1"]);
    command
        .env("BACKHAUL_ENV", "production")
        .env("BACKHAUL__VAULT__MASTER_KEYS", master_keys())
        .env(
            "BACKHAUL__DATABASE__URL",
            "postgres://nobody@127.0.0.1:1/none",
        );
    let finished = run(command).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("BACKHAUL_ENV=production"),
        "{finished:#?}"
    );
    assert!(finished.stdout.is_empty(), "{finished:#?}");
}
