//! Tenants and API keys: keys stored as hashes only, scoped, listed without their secrets,
//! revocable (by the operator, or by a tenant for its own keys), every change audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::audit::{self, Action, Actor, EventFilter};
use accounts::tenant::{
    ApiKeyFilter, ApiKeyInfo, ApiKeyKind, TenantError, authenticate, create_api_key, create_tenant,
    list_api_keys, revoke_api_key,
};
use accounts::{ApiKeyId, Database, Principal};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use support::app;

async fn listed(db: &Database, filter: ApiKeyFilter<'_>) -> Vec<ApiKeyInfo> {
    list_api_keys(db, &filter).await.unwrap()
}

fn ids(keys: &[ApiKeyInfo]) -> Vec<&ApiKeyId> {
    keys.iter().map(|key| &key.id).collect()
}

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
    let key = create_api_key(&db, &Actor::System, None, "ops", None)
        .await
        .unwrap();
    let principal = authenticate(&db, key.secret.expose_secret()).await.unwrap();
    assert_eq!(principal, Some(Principal::Admin { key: key.id }));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_revoked_or_unknown_key_authenticates_nobody(owner: PgPool) {
    let db = app(&owner).await;
    let (_, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    revoke_api_key(&db, &Actor::System, None, &key.id, None)
        .await
        .unwrap();
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

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_revoked_key_stops_authenticating_at_once(owner: PgPool) {
    let db = app(&owner).await;
    let (tenant, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let secret = key.secret.expose_secret();
    assert!(authenticate(&db, secret).await.unwrap().is_some());
    let revoked = revoke_api_key(&db, &Actor::System, None, &key.id, None)
        .await
        .unwrap();
    assert_eq!(revoked.id, key.id);
    assert_eq!(revoked.tenant_id.as_ref(), Some(&tenant.id));
    assert!(revoked.revoked_at.is_some());
    assert_eq!(authenticate(&db, secret).await.unwrap(), None);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn keys_are_listed_newest_first_without_revoked_ones_unless_asked(owner: PgPool) {
    let db = app(&owner).await;
    let (acme, first) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let second = create_api_key(&db, &Actor::System, Some(&acme.id), "ci", None)
        .await
        .unwrap();
    let (globex, other) = create_tenant(&db, &Actor::System, "Globex").await.unwrap();
    let admin = create_api_key(&db, &Actor::System, None, "ops", None)
        .await
        .unwrap();
    revoke_api_key(&db, &Actor::System, None, &first.id, None)
        .await
        .unwrap();

    let live = listed(&db, ApiKeyFilter::default()).await;
    assert_eq!(ids(&live), [&admin.id, &other.id, &second.id]);
    let everything = listed(
        &db,
        ApiKeyFilter {
            include_revoked: true,
            ..ApiKeyFilter::default()
        },
    )
    .await;
    assert_eq!(
        ids(&everything),
        [&admin.id, &other.id, &second.id, &first.id]
    );
    let revoked = &everything[3];
    assert!(revoked.revoked_at.is_some() && everything[..3].iter().all(|k| k.revoked_at.is_none()));
    assert_eq!(
        (
            revoked.kind,
            revoked.name.as_str(),
            revoked.tenant_id.as_ref()
        ),
        (ApiKeyKind::Tenant, "default", Some(&acme.id))
    );
    assert_eq!(
        (everything[0].kind, everything[0].tenant_id.as_ref()),
        (ApiKeyKind::Admin, None)
    );

    let acmes = listed(
        &db,
        ApiKeyFilter {
            tenant: Some(&acme.id),
            include_revoked: true,
            ..ApiKeyFilter::default()
        },
    )
    .await;
    assert_eq!(ids(&acmes), [&second.id, &first.id]);
    let admins = listed(
        &db,
        ApiKeyFilter {
            kind: Some(ApiKeyKind::Admin),
            ..ApiKeyFilter::default()
        },
    )
    .await;
    assert_eq!(ids(&admins), [&admin.id]);
    let globex_admins = listed(
        &db,
        ApiKeyFilter {
            tenant: Some(&globex.id),
            kind: Some(ApiKeyKind::Admin),
            ..ApiKeyFilter::default()
        },
    )
    .await;
    assert!(globex_admins.is_empty(), "{globex_admins:?}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_key_list_pages_by_cursor(owner: PgPool) {
    let db = app(&owner).await;
    let (acme, _) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    for name in ["a", "b", "c", "d"] {
        create_api_key(&db, &Actor::System, Some(&acme.id), name, None)
            .await
            .unwrap();
    }
    let all = listed(&db, ApiKeyFilter::default()).await;
    assert_eq!(all.len(), 5);
    let mut paged = Vec::new();
    let mut after: Option<ApiKeyId> = None;
    loop {
        let page = listed(
            &db,
            ApiKeyFilter {
                after: after.as_ref(),
                limit: 2,
                ..ApiKeyFilter::default()
            },
        )
        .await;
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_listed_key_shows_neither_its_secret_nor_its_hash(owner: PgPool) {
    let db = app(&owner).await;
    let (_, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let hash: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM api_keys")
        .fetch_one(&owner)
        .await
        .unwrap();
    let keys = listed(&db, ApiKeyFilter::default()).await;
    let shown = format!("{keys:?} {}", serde_json::to_string(&keys).unwrap());
    assert!(!shown.contains(key.secret.expose_secret()), "{shown}");
    assert!(!shown.contains(&hex::encode(&hash)), "{shown}");
    assert!(!shown.contains("hash"), "{shown}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_tenant_can_revoke_only_its_own_keys(owner: PgPool) {
    let db = app(&owner).await;
    let (acme, acme_key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let (_, globex_key) = create_tenant(&db, &Actor::System, "Globex").await.unwrap();
    let admin = create_api_key(&db, &Actor::System, None, "ops", None)
        .await
        .unwrap();
    for other in [&globex_key.id, &admin.id] {
        let refused = revoke_api_key(&db, &Actor::System, Some(&acme.id), other, None).await;
        assert!(matches!(refused, Err(TenantError::NotFound)), "{refused:?}");
    }
    assert!(
        authenticate(&db, globex_key.secret.expose_secret())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        authenticate(&db, admin.secret.expose_secret())
            .await
            .unwrap()
            .is_some()
    );
    revoke_api_key(&db, &Actor::System, Some(&acme.id), &acme_key.id, None)
        .await
        .unwrap();
    assert_eq!(
        authenticate(&db, acme_key.secret.expose_secret())
            .await
            .unwrap(),
        None
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn revoking_an_unknown_or_revoked_key_says_which(owner: PgPool) {
    let db = app(&owner).await;
    let (_, key) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let unknown = revoke_api_key(&db, &Actor::System, None, &ApiKeyId::generate(), None).await;
    assert!(matches!(unknown, Err(TenantError::NotFound)), "{unknown:?}");
    let first = revoke_api_key(&db, &Actor::System, None, &key.id, None)
        .await
        .unwrap();
    let again = revoke_api_key(&db, &Actor::System, None, &key.id, None).await;
    match again {
        Err(TenantError::AlreadyRevoked(at)) => assert_eq!(Some(at), first.revoked_at),
        other => panic!("{other:?}"),
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn creating_and_revoking_a_key_are_audited_with_the_request_id(owner: PgPool) {
    let db = app(&owner).await;
    let (acme, _) = create_tenant(&db, &Actor::System, "Acme").await.unwrap();
    let key = create_api_key(
        &db,
        &Actor::System,
        Some(&acme.id),
        "ci",
        Some("req_create"),
    )
    .await
    .unwrap();
    let actor = Actor::ApiKey(key.id.clone());
    revoke_api_key(&db, &actor, Some(&acme.id), &key.id, Some("req_revoke"))
        .await
        .unwrap();
    let events = audit::list(
        &db,
        &EventFilter {
            tenant: Some(acme.id.clone()),
            target: Some(key.id.to_string()),
            limit: 10,
            ..EventFilter::default()
        },
    )
    .await
    .unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|event| {
            (
                event.action.as_str(),
                event.actor.as_str(),
                event.request_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Action::ApiKeyRevoked.as_str(),
                key.id.as_str(),
                Some("req_revoke")
            ),
            (Action::ApiKeyCreated.as_str(), "system", Some("req_create")),
        ]
    );
    assert_eq!(events[0].summary["name"], "ci");
    assert_eq!(events[0].summary["kind"], "tenant");
}
