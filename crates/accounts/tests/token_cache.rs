//! The shared carrier-token cache: two server instances on one database make one token call
//! between them, and the stored token is sealed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use accounts::PgTokenCache;
use carrier::{CachedToken, TokenCache, TokenKey};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use support::{SENTINEL, app, key, keyring};

fn instance(db: accounts::Database) -> Arc<PgTokenCache> {
    Arc::new(PgTokenCache::new(db, keyring(&format!("k1:{}", key(1)))))
}

async fn fetch_through(cache: Arc<PgTokenCache>, calls: Arc<AtomicUsize>) -> String {
    let key = TokenKey::new("usps:oauth:test-app");
    let token = cache
        .get_or_fetch(
            &key,
            Duration::from_secs(300),
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(CachedToken {
                    value: SecretString::from(SENTINEL.to_owned()),
                    expires_at: chrono::Utc::now() + chrono::Duration::hours(8),
                })
            }),
        )
        .await
        .unwrap();
    token.value.expose_secret().to_owned()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn two_instances_share_one_token_call(owner: PgPool) {
    let first = instance(app(&owner).await);
    let second = instance(app(&owner).await);
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for index in 0..60 {
        let cache = if index % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(fetch_through(cache, calls.clone())));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), SENTINEL);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_stored_token_is_sealed(owner: PgPool) {
    let cache = instance(app(&owner).await);
    fetch_through(cache, Arc::new(AtomicUsize::new(0))).await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM carrier_tokens")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(SENTINEL));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_rejected_token_is_dropped_for_every_instance(owner: PgPool) {
    let first = instance(app(&owner).await);
    let calls = Arc::new(AtomicUsize::new(0));
    fetch_through(first.clone(), calls.clone()).await;
    first
        .invalidate(
            &TokenKey::new("usps:oauth:test-app"),
            &SecretString::from(SENTINEL.to_owned()),
        )
        .await;
    let second = instance(app(&owner).await);
    fetch_through(second, calls.clone()).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the second instance had to fetch again"
    );
}
