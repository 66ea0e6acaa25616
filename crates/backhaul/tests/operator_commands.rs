//! The operator commands as an operator runs them: the real binary against a fresh database
//! of its own, checked through the `accounts` library and the database itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use accounts::audit::Actor;
use accounts::{AccountService, Context, Database, MasterKeyring, NewAccount, Principal, TenantId};
use carrier::{CarrierRegistry, CredentialsInput};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Finished, backhaul, backhaul_on, database_url, key, run, start_server};

async fn app_database(owner: &PgPool) -> Database {
    Database::connect_as_app(&owner.connect_options(), None, 4)
        .await
        .unwrap()
}

fn keyring(spec: &str) -> Arc<MasterKeyring> {
    Arc::new(MasterKeyring::parse(&SecretString::from(spec.to_owned())).unwrap())
}

/// The vault as the server builds it, with the USPS plugin to validate accounts (never called).
fn account_service(db: &Database, keys: &str) -> AccountService {
    let usps = carrier_usps::UspsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let registry = CarrierRegistry::new().register(Arc::new(usps));
    AccountService::new(db.clone(), keyring(keys), registry)
}

fn demo_account(name: &str) -> NewAccount {
    NewAccount {
        carrier: "usps".into(),
        name: name.into(),
        details: json!({
            "api": "v3", "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
            "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "1000004321",
            "return_address": {"firm": "Acme Returns", "street1": "4120 Bingham Ave",
                               "city": "St. Louis", "state": "MO", "zip5": "63116"},
        }),
        credentials: CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", "acme-app")
            .with("client_secret", "acme-secret"),
        is_default: None,
        priority: 0,
        tags: Default::default(),
    }
}

async fn tenant_with_accounts(service: &AccountService, name: &str, accounts: &[&str]) -> TenantId {
    let (tenant, _key) = accounts::tenant::create_tenant(service.database(), &Actor::System, name)
        .await
        .unwrap();
    for account in accounts {
        service
            .create(
                Context {
                    tenant: &tenant.id,
                    actor: &Actor::System,
                    request_id: None,
                },
                demo_account(account),
            )
            .await
            .unwrap();
    }
    // What a running server's audit sequencer does within a moment.
    chain_audit(service.database()).await;
    tenant.id
}

async fn chain_audit(db: &Database) {
    let pass = accounts::audit::chain_pending(db).await.unwrap();
    assert!(
        matches!(pass, accounts::audit::Pass::Chained(_)),
        "{pass:?}"
    );
}

/// Edits one audit row as a superuser would: the append-only trigger off, an UPDATE, back on.
async fn tamper_with_event(owner: &PgPool, id: i64) {
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET actor = 'someone-else' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn event_ids(owner: &PgPool, tenant: &TenantId) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM audit_events WHERE tenant_id = $1 ORDER BY id")
        .bind(tenant.as_str())
        .fetch_all(owner)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn tenants_create_prints_a_tenant_key_that_authenticates(owner: PgPool) {
    let finished = run(backhaul_on(
        &owner,
        &["tenants", "create", "--name", "Acme Returns"],
    ))
    .await;
    finished.assert_success();
    let tenant = finished.word_starting_with("ten_");
    let key = finished.word_starting_with("bh_");

    let principal = accounts::tenant::authenticate(&app_database(&owner).await, &key)
        .await
        .unwrap();
    let Some(Principal::Tenant { tenant: found, .. }) = principal else {
        panic!("the printed key is not a tenant key: {principal:?}");
    };
    assert_eq!(found.as_str(), tenant);
    let name: String = sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
        .bind(&tenant)
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(name, "Acme Returns");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn admin_keys_create_prints_an_admin_key_that_authenticates_as_admin(owner: PgPool) {
    let finished = run(backhaul_on(
        &owner,
        &["admin-keys", "create", "--name", "ops"],
    ))
    .await;
    finished.assert_success();
    let key = finished.word_starting_with("bh_");

    let principal = accounts::tenant::authenticate(&app_database(&owner).await, &key)
        .await
        .unwrap();
    assert!(
        matches!(principal, Some(Principal::Admin { .. })),
        "{principal:?}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn operator_commands_are_audited_as_the_system(owner: PgPool) {
    run(backhaul_on(
        &owner,
        &["admin-keys", "create", "--name", "ops"],
    ))
    .await
    .assert_success();
    let actors: Vec<String> = sqlx::query_scalar("SELECT DISTINCT actor FROM audit_events")
        .fetch_all(&owner)
        .await
        .unwrap();
    assert_eq!(actors, ["system"]);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn keys_rotate_moves_every_account_to_the_new_primary_key(owner: PgPool) {
    let db = app_database(&owner).await;
    let old_keys = format!("k1:{}", key(1));
    let old = account_service(&db, &old_keys);
    let acme = tenant_with_accounts(&old, "Acme", &["East", "West"]).await;
    tenant_with_accounts(&old, "Globex", &["North"]).await;

    let new_keys = format!("k2:{},{old_keys}", key(2));
    let finished = run(
        backhaul_on(&owner, &["keys", "rotate"]).env("BACKHAUL__VAULT__MASTER_KEYS", &new_keys)
    )
    .await;
    finished.assert_success();
    assert!(finished.stdout.contains("k2"), "{}", finished.stdout);
    assert!(
        finished.stdout.contains("3 shipper account"),
        "{}",
        finished.stdout
    );

    let key_ids: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT master_key_id FROM shipper_accounts")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(key_ids, ["k2"]);
    // The old key is no longer needed to open the credentials.
    let only_new = account_service(&db, &format!("k2:{}", key(2)));
    let context = Context {
        tenant: &acme,
        actor: &Actor::System,
        request_id: None,
    };
    for account in only_new.list(&acme, None, 10).await.unwrap() {
        only_new
            .open_for_use(context, account.id.as_str())
            .await
            .unwrap();
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_verify_passes_an_intact_trail(owner: PgPool) {
    let service = account_service(&app_database(&owner).await, &support::master_keys());
    tenant_with_accounts(&service, "Acme", &["East", "West"]).await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&owner)
        .await
        .unwrap();

    let finished = run(backhaul_on(&owner, &["audit", "verify"])).await;
    finished.assert_success();
    assert_eq!(
        finished.stdout.trim(),
        format!("ok, {events} events checked")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_verify_reports_the_exact_event_that_was_tampered_with(owner: PgPool) {
    let service = account_service(&app_database(&owner).await, &support::master_keys());
    let acme = tenant_with_accounts(&service, "Acme", &["East", "West", "North"]).await;
    let ids = event_ids(&owner, &acme).await;
    let tampered = ids[ids.len() / 2];
    tamper_with_event(&owner, tampered).await;

    let finished = run(backhaul_on(&owner, &["audit", "verify"])).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished
            .stdout
            .contains(&format!("first bad event id: {tampered} ")),
        "{}",
        finished.stdout
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_verify_for_one_tenant_checks_only_its_chain(owner: PgPool) {
    let service = account_service(&app_database(&owner).await, &support::master_keys());
    let acme = tenant_with_accounts(&service, "Acme", &["East"]).await;
    let globex = tenant_with_accounts(&service, "Globex", &["West"]).await;
    let tampered = event_ids(&owner, &acme).await[1];
    tamper_with_event(&owner, tampered).await;

    let other = run(backhaul_on(
        &owner,
        &["audit", "verify", "--tenant", globex.as_str()],
    ))
    .await;
    other.assert_success();
    let globex_events = event_ids(&owner, &globex).await.len();
    assert_eq!(
        other.stdout.trim(),
        format!("ok, {globex_events} events checked")
    );

    let broken = run(backhaul_on(
        &owner,
        &["audit", "verify", "--tenant", acme.as_str()],
    ))
    .await;
    assert!(!broken.status.success(), "{broken:#?}");
    assert!(
        broken
            .stdout
            .contains(&format!("first bad event id: {tampered} ")),
        "{}",
        broken.stdout
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_verify_counts_events_waiting_to_be_chained(owner: PgPool) {
    let service = account_service(&app_database(&owner).await, &support::master_keys());
    let acme = tenant_with_accounts(&service, "Acme", &["East"]).await;
    let chained = event_ids(&owner, &acme).await.len();
    service
        .create(
            Context {
                tenant: &acme,
                actor: &Actor::System,
                request_id: None,
            },
            demo_account("West"),
        )
        .await
        .unwrap();

    let finished = run(backhaul_on(&owner, &["audit", "verify"])).await;
    finished.assert_success();
    assert_eq!(
        finished.stdout.trim(),
        format!("ok, {chained} events checked (1 event waiting to be chained)")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_verify_fails_when_events_were_never_chained(owner: PgPool) {
    let service = account_service(&app_database(&owner).await, &support::master_keys());
    let acme = tenant_with_accounts(&service, "Acme", &["East"]).await;
    // Written two minutes ago by a server whose sequencer never ran.
    let stale: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events (tenant_id, at, actor, action)
         VALUES ($1, now() - interval '2 minutes', 'system', 'account.updated') RETURNING id",
    )
    .bind(acme.as_str())
    .fetch_one(&owner)
    .await
    .unwrap();

    let finished = run(backhaul_on(&owner, &["audit", "verify"])).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished
            .stdout
            .contains("FAILED: 1 event not chained within 60 s of being written")
            && finished
                .stdout
                .contains(&format!("the oldest is event id {stale} ")),
        "{}",
        finished.stdout
    );
}

#[tokio::test]
async fn audit_verify_refuses_a_malformed_tenant_id() {
    let finished = run(backhaul(&["audit", "verify", "--tenant", "acme"])).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(finished.stderr.contains("--tenant"), "{}", finished.stderr);
}

#[sqlx::test(migrations = false)]
async fn migrate_applies_every_migration_once(owner: PgPool) {
    let migrate = || {
        let mut command = backhaul(&["migrate"]);
        // The plain DATABASE_URL is accepted too.
        command.env("DATABASE_URL", database_url(&owner));
        command
    };
    let first = run(migrate()).await;
    first.assert_success();
    let versions: Vec<i64> = accounts::MIGRATOR.iter().map(|m| m.version).collect();
    for version in &versions {
        assert!(
            first.stdout.contains(&format!("applied {version:04} ")),
            "{version} missing from\n{}",
            first.stdout
        );
    }

    let second = run(migrate()).await;
    second.assert_success();
    assert!(second.stdout.contains("up to date"), "{}", second.stdout);
    assert!(!second.stdout.contains("applied 0"), "{}", second.stdout);
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(applied, versions);
}

#[tokio::test]
async fn commands_that_need_the_database_say_which_key_is_missing() {
    let finished = run(backhaul(&["tenants", "create", "--name", "Acme"])).await;
    assert!(!finished.status.success(), "{finished:#?}");
    assert!(
        finished.stderr.contains("database.url"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("BACKHAUL__DATABASE__URL"),
        "{}",
        finished.stderr
    );
}

/// `backhaul api-keys list ARGS --json`, parsed.
async fn listed_keys(owner: &PgPool, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["api-keys", "list", "--json"];
    all.extend_from_slice(args);
    let finished = run(backhaul_on(owner, &all)).await;
    finished.assert_success();
    serde_json::from_str(&finished.stdout).expect("--json prints one JSON array")
}

/// The one line a failed command writes to stderr.
fn error_line(finished: &Finished) -> &str {
    assert_eq!(finished.status.code(), Some(1), "{finished:#?}");
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{finished:#?}");
    lines[0]
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_api_key_is_created_listed_revoked_and_then_refused(owner: PgPool) {
    let tenant = run(backhaul_on(
        &owner,
        &["tenants", "create", "--name", "Acme"],
    ))
    .await;
    tenant.assert_success();
    let tenant = tenant.word_starting_with("ten_");
    let created = run(backhaul_on(
        &owner,
        &[
            "api-keys",
            "create",
            "--tenant",
            &tenant,
            "--name",
            "ci runner",
        ],
    ))
    .await;
    created.assert_success();
    let key_id = created.word_starting_with("key_");
    let secret = created.word_starting_with("bh_");

    let table = run(backhaul_on(
        &owner,
        &["api-keys", "list", "--tenant", &tenant],
    ))
    .await;
    table.assert_success();
    let row = table
        .stdout
        .lines()
        .find(|line| line.starts_with(&key_id))
        .unwrap_or_else(|| panic!("{key_id} not listed:\n{}", table.stdout));
    assert!(
        row.contains("tenant") && row.contains(&tenant) && row.contains("ci runner"),
        "{row}"
    );
    assert!(!table.stdout.contains(&secret), "{}", table.stdout);
    let keys = listed_keys(&owner, &["--tenant", &tenant]).await;
    assert_eq!(
        keys.len(),
        2,
        "the tenant's first key and the new one: {keys:?}"
    );
    assert_eq!(keys[0]["id"], key_id.as_str(), "newest first");
    assert_eq!(keys[0]["revoked_at"], Value::Null);

    let (_server, base_url) = start_server(&owner).await;
    let client = reqwest::Client::new();
    let accounts = format!("{base_url}/v1/shipper-accounts");
    let before = client
        .get(&accounts)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 200);

    let revoked = run(backhaul_on(&owner, &["api-keys", "revoke", &key_id])).await;
    revoked.assert_success();
    assert!(
        revoked.stdout.starts_with(&format!("Revoked {key_id} ")),
        "{}",
        revoked.stdout
    );
    assert_eq!(revoked.stdout.lines().count(), 1, "{}", revoked.stdout);

    let after = client
        .get(&accounts)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "a revoked key is refused at once");
    let live = listed_keys(&owner, &["--tenant", &tenant]).await;
    assert!(
        live.iter().all(|key| key["id"] != key_id.as_str()),
        "{live:?}"
    );
    let every = listed_keys(&owner, &["--tenant", &tenant, "--include-revoked"]).await;
    let listed = every
        .iter()
        .find(|key| key["id"] == key_id.as_str())
        .unwrap();
    assert!(listed["revoked_at"].is_string(), "{listed}");
    let table = run(backhaul_on(
        &owner,
        &["api-keys", "list", "--tenant", &tenant, "--include-revoked"],
    ))
    .await;
    let row = table
        .stdout
        .lines()
        .find(|line| line.starts_with(&key_id))
        .unwrap();
    assert!(!row.ends_with('-'), "the revocation time is shown: {row}");

    let audited: Vec<(String, String)> =
        sqlx::query_as("SELECT action, actor FROM audit_events WHERE target = $1 ORDER BY id")
            .bind(&key_id)
            .fetch_all(&owner)
            .await
            .unwrap();
    let expected = [("api_key.created", "system"), ("api_key.revoked", "system")]
        .map(|(action, actor)| (action.to_owned(), actor.to_owned()));
    assert_eq!(audited, expected);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn api_keys_create_admin_makes_an_admin_key_listed_as_such(owner: PgPool) {
    let created = run(backhaul_on(
        &owner,
        &["api-keys", "create", "--admin", "--name", "ops"],
    ))
    .await;
    created.assert_success();
    let key_id = created.word_starting_with("key_");
    let secret = created.word_starting_with("bh_");
    let principal = accounts::tenant::authenticate(&app_database(&owner).await, &secret)
        .await
        .unwrap();
    assert!(
        matches!(principal, Some(Principal::Admin { .. })),
        "{principal:?}"
    );
    run(backhaul_on(
        &owner,
        &["tenants", "create", "--name", "Acme"],
    ))
    .await
    .assert_success();
    let admins = listed_keys(&owner, &["--admin"]).await;
    assert_eq!(admins.len(), 1, "{admins:?}");
    assert_eq!(admins[0]["id"], key_id.as_str());
    assert_eq!(admins[0]["kind"], "admin");
    assert_eq!(admins[0]["tenant_id"], Value::Null);
    assert_eq!(listed_keys(&owner, &[]).await.len(), 2, "every live key");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn revoking_an_unknown_or_already_revoked_key_fails_and_says_which(owner: PgPool) {
    let unknown = "key_00000000000000000000";
    let missing = run(backhaul_on(&owner, &["api-keys", "revoke", unknown])).await;
    let line = error_line(&missing);
    assert!(line.contains(&format!("no API key {unknown}")), "{line}");

    let created = run(backhaul_on(
        &owner,
        &["api-keys", "create", "--admin", "--name", "ops"],
    ))
    .await;
    let key_id = created.word_starting_with("key_");
    run(backhaul_on(&owner, &["api-keys", "revoke", &key_id]))
        .await
        .assert_success();
    let again = run(backhaul_on(&owner, &["api-keys", "revoke", &key_id])).await;
    let line = error_line(&again);
    assert!(
        line.contains(&format!("{key_id} was already revoked at ")),
        "{line}"
    );
    let revocations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'api_key.revoked'")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert_eq!(revocations, 1, "a refused revocation changes nothing");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn api_keys_create_for_an_unknown_tenant_says_so(owner: PgPool) {
    let unknown = "ten_00000000000000000000";
    let finished = run(backhaul_on(
        &owner,
        &["api-keys", "create", "--tenant", unknown, "--name", "ci"],
    ))
    .await;
    let line = error_line(&finished);
    assert!(
        line.contains(&format!("--tenant {unknown}: no such tenant")),
        "{line}"
    );
}
