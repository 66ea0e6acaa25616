//! Tenant isolation, twice: functions take a tenant, and row-level security holds even for a
//! query that forgets its tenant filter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::{AccountChanges, AccountError, Selector};
use carrier::ServiceCode;
use sqlx::PgPool;
use support::{app, usps_account, vault};

const TENANT_TABLES: [&str; 9] = [
    "tenants",
    "api_keys",
    "shipper_accounts",
    "oauth_states",
    "return_labels",
    "idempotency_keys",
    "audit_events",
    "audit_chain_heads",
    "audit_links",
];

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_application_role_owns_nothing_and_cannot_bypass_security(owner: PgPool) {
    let db = app(&owner).await;
    let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(user, accounts::APP_ROLE);
    assert!(!superuser && !bypass);
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(owned, 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_tenant_table_forces_row_level_security(owner: PgPool) {
    for table in TENANT_TABLES {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1",
        )
        .bind(table)
        .fetch_one(&owner)
        .await
        .unwrap();
        assert!(enabled && forced, "{table}");
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn with_no_tenant_set_every_tenant_table_reads_zero_rows(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    // Rows in the tables the vault does not write yet, as the owner.
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, tenant_id, carrier, account_name, expires_at)
         VALUES (sha256('state'), $1, 'usps', 'East', now() + interval '10 minutes')",
    )
    .bind(tenant.as_str())
    .execute(&owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO return_labels (id, tenant_id, shipper_account_id, carrier, service, selected_by,
             tracking_number, postage_minor, currency, label_format, idempotency_key)
         VALUES ('lbl_AAAAAAAAAAAAAAAAAAAA', $1, $2, 'usps', 'usps_ground_advantage_return', 'only',
             '9302012345600000007248', 844, 'USD', 'PDF', 'k1')",
    )
    .bind(tenant.as_str())
    .bind(account.id.as_str())
    .execute(&owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, phase) VALUES ($1, 'k1', sha256('r'), 'started')",
    )
    .bind(tenant.as_str())
    .execute(&owner)
    .await
    .unwrap();
    // The sequencer moves the tenant's audit chain head.
    vault.chain_audit().await;
    let mut unscoped = vault.db.unscoped().await.unwrap();
    for table in TENANT_TABLES {
        let owner_sees: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&owner)
                .await
                .unwrap();
        assert!(owner_sees > 0, "{table} has rows");
        let app_sees: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut *unscoped)
                .await
                .unwrap();
        assert_eq!(app_sees, 0, "{table}");
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_query_without_a_tenant_filter_still_sees_one_tenant(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let globex = vault.tenant("Globex").await;
    vault.create(&acme, usps_account("Acme East")).await;
    vault.create(&globex, usps_account("Globex East")).await;
    vault.create(&globex, usps_account("Globex West")).await;
    let mut tx = vault.db.tenant(&acme).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM shipper_accounts")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(names, ["Acme East"]);
    let smuggled = sqlx::query("UPDATE shipper_accounts SET tenant_id = $1")
        .bind(globex.as_str())
        .execute(&mut *tx)
        .await;
    assert!(
        smuggled.is_err(),
        "a row cannot be moved into another tenant"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn tenant_a_can_never_read_or_use_tenant_bs_account(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let globex = vault.tenant("Globex").await;
    let theirs = vault.create(&globex, usps_account("Globex East")).await;
    let id = theirs.id.as_str();
    let service = &vault.service;
    let ours = vault.context(&acme);
    assert!(matches!(
        service.get(&acme, id).await,
        Err(AccountError::NotFound)
    ));
    assert!(matches!(
        service.open_for_use(ours, id).await,
        Err(AccountError::NotFound)
    ));
    assert!(matches!(
        service
            .update(
                ours,
                id,
                AccountChanges {
                    name: Some("mine".into()),
                    ..Default::default()
                }
            )
            .await,
        Err(AccountError::NotFound)
    ));
    assert!(matches!(
        service.disable(ours, id).await,
        Err(AccountError::NotFound)
    ));
    assert!(service.list(&acme, None, 100).await.unwrap().is_empty());
    let service_code = ServiceCode::parse("service", "usps_ground_advantage_return").unwrap();
    let selected = service
        .select_for_use(
            ours,
            Selector {
                carrier: "usps",
                service: &service_code,
                account_id: Some(id),
                tags: None,
                idempotency_key: None,
            },
        )
        .await;
    assert!(matches!(selected, Err(AccountError::NoEligibleAccount(_))));
    // Their account is untouched.
    assert_eq!(service.get(&globex, id).await.unwrap().name, "Globex East");
}
