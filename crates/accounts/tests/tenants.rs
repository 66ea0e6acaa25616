//! Tenants and API keys: keys stored as hashes only, scoped, revocable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::Principal;
use accounts::audit::Actor;
use accounts::tenant::{authenticate, create_api_key, create_tenant, revoke_api_key};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use support::app;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_tenant_key_authenticates_as_its_tenant(owner: PgPool) {
    let db = app(&owner).await;
    let (tenant, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let principal = authenticate(&db, key.secret.expose_secret()).await.unwrap();
    assert_eq!(
        principal,
        Some(Principal::Tenant {
            tenant: tenant.id,
            key: key.id
        })
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_admin_key_authenticates_as_admin(owner: PgPool) {
    let db = app(&owner).await;
    let key = create_api_key(&db, &Actor::System, None, "ops")
        .await
        .unwrap();
    let principal = authenticate(&db, key.secret.expose_secret()).await.unwrap();
    assert_eq!(principal, Some(Principal::Admin { key: key.id }));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_revoked_or_unknown_key_authenticates_nobody(owner: PgPool) {
    let db = app(&owner).await;
    let (_, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    revoke_api_key(&db, &Actor::System, &key.id).await.unwrap();
    assert_eq!(
        authenticate(&db, key.secret.expose_secret()).await.unwrap(),
        None
    );
    assert_eq!(
        authenticate(&db, "bh_0123456789012345678901234567890123456789")
            .await
            .unwrap(),
        None
    );
    assert_eq!(authenticate(&db, "not a key").await.unwrap(), None);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn only_a_hash_of_the_key_is_stored(owner: PgPool) {
    let db = app(&owner).await;
    let (_, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT secret_hash FROM api_keys")
        .fetch_all(&owner)
        .await
        .unwrap();
    let secret = key.secret.expose_secret().as_bytes();
    assert!(
        stored
            .iter()
            .all(|hash| hash.len() == 32 && !hash.windows(secret.len()).any(|w| w == secret))
    );
    assert!(!format!("{key:?}").contains(key.secret.expose_secret()));
}
