//! `BACKHAUL_ENV=production` refuses to start with a development master key or none, says
//! which key to set, and prints no secret while refusing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sqlx::PgPool;
use support::{backhaul, database_url, key, run};

/// A password that must never be printed.
const DATABASE_PASSWORD: &str = "pw-never-printed-5d1e";

fn production(args: &[&str]) -> tokio::process::Command {
    let mut command = backhaul(args);
    command.env("BACKHAUL_ENV", "production").env(
        "BACKHAUL__DATABASE__URL",
        format!("postgres://owner:{DATABASE_PASSWORD}@127.0.0.1:1/backhaul"),
    );
    command
}

#[tokio::test]
async fn production_refuses_to_start_with_a_development_master_key() {
    let secret = key(9);
    let finished =
        run(production(&["serve"]).env("BACKHAUL__VAULT__MASTER_KEYS", format!("dev:{secret}")))
            .await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("development master key"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("BACKHAUL__VAULT__MASTER_KEYS"),
        "{}",
        finished.stderr
    );
    for output in [&finished.stdout, &finished.stderr] {
        assert!(!output.contains(&secret), "{output}");
        assert!(!output.contains(DATABASE_PASSWORD), "{output}");
    }
}

#[tokio::test]
async fn production_refuses_a_development_key_even_behind_a_real_primary() {
    let finished = run(production(&["serve"]).env(
        "BACKHAUL__VAULT__MASTER_KEYS",
        format!("prod1:{},dev:{}", key(3), key(9)),
    ))
    .await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("development master key"),
        "{}",
        finished.stderr
    );
}

#[tokio::test]
async fn production_refuses_to_start_without_a_master_key() {
    let finished = run(production(&["serve"])).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("vault.master_keys"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("BACKHAUL__VAULT__MASTER_KEYS"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains(DATABASE_PASSWORD),
        "{}",
        finished.stderr
    );
}

#[tokio::test]
async fn production_does_not_run_the_development_start() {
    let finished =
        run(production(&["dev"]).env("BACKHAUL__VAULT__MASTER_KEYS", format!("prod1:{}", key(3))))
            .await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("backhaul dev"),
        "{}",
        finished.stderr
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn production_runs_with_a_key_of_its_own(owner: PgPool) {
    let finished = run(production(&["migrate"])
        .env("BACKHAUL__DATABASE__URL", database_url(&owner))
        .env("BACKHAUL__VAULT__MASTER_KEYS", format!("prod1:{}", key(3))))
    .await;
    finished.assert_success();
    assert!(
        finished.stdout.contains("up to date"),
        "{}",
        finished.stdout
    );
}

#[tokio::test]
async fn an_invalid_master_key_is_named_without_printing_it() {
    let finished =
        run(backhaul(&["serve"]).env("BACKHAUL__VAULT__MASTER_KEYS", "k1:dG9vLXNob3J0")).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("vault.master_keys"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("dG9vLXNob3J0"),
        "{}",
        finished.stderr
    );
}
