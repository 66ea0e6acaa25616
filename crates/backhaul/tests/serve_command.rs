//! `backhaul serve` as a service manager runs it: the real process on a fresh, migrated
//! database, answering the operations endpoints and stopping cleanly on SIGTERM; a database
//! with pending migrations is refused rather than migrated behind the operator's back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sqlx::PgPool;
use support::{backhaul_on, run, start_server};

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn serve_answers_healthz_and_readyz(owner: PgPool) {
    let (_server, base_url) = start_server(&owner).await;

    let health = reqwest::get(format!("{base_url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let ready = reqwest::get(format!("{base_url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn serve_stops_cleanly_on_sigterm(owner: PgPool) {
    let (mut server, base_url) = start_server(&owner).await;
    assert_eq!(
        reqwest::get(format!("{base_url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    server.signal("TERM");
    let (status, _) = server.exit().await;
    assert!(
        status.success(),
        "{status:?}\n{}",
        server.stderr_seen.join("\n")
    );
}

#[sqlx::test(migrations = false)]
async fn serve_refuses_a_database_with_pending_migrations(owner: PgPool) {
    let finished =
        run(backhaul_on(&owner, &["serve"]).env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(finished.stderr.contains("pending"), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("backhaul migrate"),
        "{}",
        finished.stderr
    );
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert!(!migrated, "serve must not migrate");
}
