//! The account service's behaviour: carrier-validated details, masked secrets, one default per
//! carrier, partial updates, and selection from what is stored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::{
    AccountChanges, AccountError, AccountStatus, NewAccount, SelectedBy, Selector, Tags,
};
use carrier::{CredentialsInput, ServiceCode};
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;
use support::{SENTINEL, SENTINEL_EPS, return_address, usps_account, vault};

fn field_errors(result: Result<impl Sized, AccountError>) -> carrier::ValidationErrors {
    match result {
        Err(AccountError::Validation(errors)) => errors,
        Err(other) => panic!("expected validation errors, got {other:?}"),
        Ok(_) => panic!("expected validation errors"),
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_carrier_plugin_validates_details_with_named_fields(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let permit_without_zip = NewAccount {
        details: json!({"crid": "56982563", "mid": "90412893", "account_type": "PERMIT",
                        "permit_number": "12345", "return_address": return_address()}),
        ..usps_account("Permit")
    };
    let errors = field_errors(
        vault
            .service
            .create(vault.context(&tenant), permit_without_zip)
            .await,
    );
    assert!(errors.names("details.permit_zip"), "{errors}");
    assert!(
        errors.names("details.mid"),
        "MIDs are 6 or 9 digits: {errors}"
    );
    let unknown = NewAccount {
        carrier: "pigeon".into(),
        ..usps_account("Other")
    };
    assert!(
        field_errors(vault.service.create(vault.context(&tenant), unknown).await).names("carrier")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_eps_number_is_masked_on_read_and_sealed_in_storage(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    assert_eq!(account.details["eps_account_number"], "******6688");
    assert_eq!(account.credentials.mode, "own_app");
    assert_eq!(
        account
            .credentials
            .public
            .get("client_id")
            .map(String::as_str),
        Some("acme-app")
    );
    let shown = serde_json::to_string(&account).unwrap();
    assert!(!shown.contains(SENTINEL) && !shown.contains(SENTINEL_EPS));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn accounts_connected_by_consent_cannot_be_created_with_secrets(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let platform = NewAccount {
        credentials: CredentialsInput::new().with("mode", "platform_app"),
        ..usps_account("Consent")
    };
    let errors = field_errors(vault.service.create(vault.context(&tenant), platform).await);
    assert!(errors.names("credentials.mode"), "{errors}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_new_default_takes_over_from_the_old_one(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let first = vault
        .create(
            &tenant,
            NewAccount {
                is_default: Some(true),
                ..usps_account("First")
            },
        )
        .await;
    let second = vault
        .create(
            &tenant,
            NewAccount {
                is_default: Some(true),
                ..usps_account("Second")
            },
        )
        .await;
    assert!(second.is_default);
    assert!(
        !vault
            .service
            .get(&tenant, first.id.as_str())
            .await
            .unwrap()
            .is_default
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_database_refuses_two_defaults_for_one_carrier(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault
        .create(
            &tenant,
            NewAccount {
                is_default: Some(true),
                ..usps_account("First")
            },
        )
        .await;
    vault.create(&tenant, usps_account("Second")).await;
    let error = sqlx::query("UPDATE shipper_accounts SET is_default = true")
        .execute(&owner)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("shipper_accounts_one_default"),
        "{error}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_partial_update_keeps_secrets_that_were_not_resent(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let updated = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                name: Some("East warehouse".into()),
                details: Some(
                    json!({"manifest_mid": null, "return_address": {"street2": "Dock 4"}}),
                ),
                priority: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "East warehouse");
    assert_eq!(updated.priority, 3);
    assert!(
        updated.details["manifest_mid"].is_null(),
        "{}",
        updated.details
    );
    assert_eq!(updated.details["return_address"]["street2"], "Dock 4");
    assert_eq!(
        updated.credentials.fingerprint, account.credentials.fingerprint,
        "secrets kept"
    );
    let (_, _, credentials) = vault
        .service
        .open_for_use(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        SENTINEL_EPS
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_new_secret_rotates_the_credentials(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let updated = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                credentials: Some(
                    CredentialsInput::new()
                        .with("mode", "own_app")
                        .with("client_id", "acme-app")
                        .with("client_secret", "rotated-secret"),
                ),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_ne!(
        updated.credentials.fingerprint,
        account.credentials.fingerprint
    );
    assert!(updated.credentials.updated_at > account.credentials.updated_at);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_disabled_account_is_never_selected_or_default(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault
        .create(
            &tenant,
            NewAccount {
                is_default: Some(true),
                ..usps_account("East")
            },
        )
        .await;
    let disabled = vault
        .service
        .disable(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert_eq!(disabled.status, AccountStatus::Disabled);
    assert!(!disabled.is_default);
    let service = ServiceCode::parse("service", "usps_ground_advantage_return").unwrap();
    let error = vault
        .service
        .select_for_use(
            vault.context(&tenant),
            Selector {
                carrier: "usps",
                service: &service,
                account_id: None,
                tags: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no eligible account: the only USPS account (East) is disabled"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn selection_reads_tags_and_defaults_from_postgres(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let tags = |location: &str| Tags::from([("location".to_owned(), location.to_owned())]);
    let east = vault
        .create(
            &tenant,
            NewAccount {
                tags: tags("east"),
                ..usps_account("East")
            },
        )
        .await;
    let west = vault
        .create(
            &tenant,
            NewAccount {
                tags: tags("west"),
                is_default: Some(true),
                ..usps_account("West")
            },
        )
        .await;
    let service = ServiceCode::parse("service", "usps_priority_mail_return").unwrap();
    let select = |tags: Option<Tags>| {
        let vault = &vault;
        let service = &service;
        let tenant = &tenant;
        async move {
            vault
                .service
                .select_for_use(
                    vault.context(tenant),
                    Selector {
                        carrier: "usps",
                        service,
                        account_id: None,
                        tags: tags.as_ref(),
                        idempotency_key: None,
                    },
                )
                .await
                .unwrap()
        }
    };
    let by_tag = select(Some(tags("east"))).await;
    assert_eq!(
        (by_tag.account.id, by_tag.selected_by),
        (east.id, SelectedBy::Selector)
    );
    let by_default = select(None).await;
    assert_eq!(
        (&by_default.account.id, by_default.selected_by),
        (&west.id, SelectedBy::Default)
    );
    assert_eq!(
        by_default
            .credentials
            .secret("client_secret")
            .unwrap()
            .expose_secret(),
        SENTINEL
    );
    let used = vault
        .service
        .get(&tenant, by_default.account.id.as_str())
        .await
        .unwrap();
    assert!(used.last_used_at.is_some());
}

/// Labels, keys, events and audit rows refer to tenants and accounts without a foreign key
/// (migration 0020), so neither is ever deleted or renumbered, not even by the owner.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn tenants_and_accounts_are_never_deleted_even_by_the_owner(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    for (statement, id) in [
        ("DELETE FROM tenants WHERE id = $1", tenant.as_str()),
        (
            "UPDATE tenants SET id = id || 'x' WHERE id = $1",
            tenant.as_str(),
        ),
        ("TRUNCATE tenants CASCADE", tenant.as_str()),
        (
            "DELETE FROM shipper_accounts WHERE id = $1",
            account.id.as_str(),
        ),
        (
            "UPDATE shipper_accounts SET id = id || 'x' WHERE id = $1",
            account.id.as_str(),
        ),
        ("TRUNCATE shipper_accounts CASCADE", account.id.as_str()),
    ] {
        // TRUNCATE takes no parameter; the others refer to the row.
        let query = if statement.contains("$1") {
            sqlx::query(statement).bind(id)
        } else {
            sqlx::query(statement)
        };
        let error = query.execute(&owner).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("never deleted and never change id"),
            "{statement}: {error}"
        );
    }
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM shipper_accounts WHERE id = $1 AND tenant_id = $2",
    )
    .bind(account.id.as_str())
    .bind(tenant.as_str())
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(kept, 1);
    // Other columns change as before.
    sqlx::query("UPDATE tenants SET name = 'Acme Returns' WHERE id = $1")
        .bind(tenant.as_str())
        .execute(&owner)
        .await
        .unwrap();
}
