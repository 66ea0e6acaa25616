//! The served OpenAPI document against outside tools, on the real server with real fixtures
//! (an account, a label, their audit events): `openapi-spec-validator` holds it to OpenAPI 3.1,
//! and `schemathesis` generates requests from it — with a tenant key on the tenant routes, with
//! an admin key on `/v1/admin` — and checks every answer against it (all its checks but
//! `positive_data_acceptance`: a request the schema allows may still be refused, e.g. an
//! account that cannot be found — and `use_after_free`: `DELETE /v1/shipper-accounts/{id}`
//! disables the account as API.md specifies, and a disabled account stays readable with
//! `status: disabled`, which that check takes for a deleted resource still served;
//! schemathesis applies per-operation check settings to its stateful phase, where the check
//! runs, only globally). The other DELETEs, the two key revocations, are left out of the runs:
//! a run that revoked its own key would test nothing but 401s from then on (`api_keys.rs`
//! covers them). Seeded and bounded, so a run is repeatable and short.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::contract::{self, Outcome};
use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;

/// A system with an account and a label of the tenant, so lists and audit events hold data.
async fn app_with_fixtures(owner: PgPool) -> TestApp {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let bought = app
        .buy(
            &app.tenant_key,
            "contract-1",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(bought.status(), 201, "buying the fixture label");
    let label: Value = bought.json().await.unwrap();
    assert_eq!(label["shipper_account_id"], account["id"]);
    app
}

async fn schemathesis(app: &TestApp, key: &str, operations: &[&str]) -> Outcome {
    let bin = contract::tools().await;
    let document = app.url("/openapi.json");
    let authorization = format!("Authorization: Bearer {key}");
    let base = app.url("");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml");
    let mut args = vec![
        "--config-file",
        config,
        "run",
        document.as_str(),
        "--url",
        base.as_str(),
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance,use_after_free",
        "--seed",
        "20261201",
        "--max-examples",
        "25",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "-H",
        authorization.as_str(),
    ];
    args.extend_from_slice(operations);
    contract::run(&bin, "schemathesis", &args).await
}

/// Prints the tool's summary lines (the test's report, shown with `--nocapture`) and fails
/// with its whole output unless it exited 0.
#[allow(clippy::print_stdout)]
fn report(tool: &str, outcome: &Outcome) {
    println!("--- {tool} summary ---\n{}", outcome.summary());
    assert!(outcome.success, "{tool} failed:\n{}", outcome.output);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_served_document_is_valid_openapi_3_1(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let document = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = contract::work_dir().join(format!("openapi-{}.json", std::process::id()));
    std::fs::write(&path, &document).unwrap();
    let bin = contract::tools().await;
    let outcome = contract::run(
        &bin,
        "openapi-spec-validator",
        &[
            "--schema",
            "3.1",
            "--validation-errors",
            "all",
            path.to_str().unwrap(),
        ],
    )
    .await;
    std::fs::copy(&path, contract::work_dir().join("openapi.json")).unwrap();
    std::fs::remove_file(&path).unwrap();
    report("openapi-spec-validator", &outcome);
    assert!(outcome.output.contains(": OK"), "{}", outcome.output);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn schemathesis_finds_nothing_wrong_with_a_tenant_key(owner: PgPool) {
    let app = app_with_fixtures(owner).await;
    let outcome = schemathesis(
        &app,
        &app.tenant_key,
        &[
            "--exclude-path-regex",
            "^/v1/admin/",
            "--exclude-operation-id",
            "revoke_api_key",
        ],
    )
    .await;
    report("schemathesis (tenant key)", &outcome);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn schemathesis_finds_nothing_wrong_with_an_admin_key(owner: PgPool) {
    let app = app_with_fixtures(owner).await;
    let outcome = schemathesis(
        &app,
        &app.admin_key,
        &[
            "--include-path-regex",
            "^/v1/admin/",
            "--exclude-operation-id",
            "admin_revoke_api_key",
        ],
    )
    .await;
    report("schemathesis (admin key)", &outcome);
}
