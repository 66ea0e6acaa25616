//! Caches for carrier-issued tokens (OAuth access tokens, USPS payment authorizations).
//!
//! Carriers ration token calls (USPS: about 60 an hour), so a token is fetched once and shared
//! until shortly before it expires, and a burst of label requests with a cold cache makes one
//! token call, not one each (single flight). The in-memory cache here serves one process; the
//! server provides a Postgres-backed [`TokenCache`] so every instance shares one token.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::error::CarrierError;

/// Names one cached token. Built from non-secret parts (a plugin hashes app credentials into
/// it), so it can be logged and stored as a primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey(String);

impl TokenKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A token and when it stops working. `Debug` redacts the value.
#[derive(Clone)]
pub struct CachedToken {
    pub value: SecretString,
    pub expires_at: DateTime<Utc>,
}

impl CachedToken {
    /// Whether the token is still good for at least `margin`.
    pub fn is_fresh(&self, margin: Duration, now: DateTime<Utc>) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
        now.checked_add_signed(margin)
            .is_some_and(|deadline| deadline < self.expires_at)
    }
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The future a cache runs to get a new token; it is polled only when the cache needs it.
pub type TokenFetch<'a> = BoxFuture<'a, Result<CachedToken, CarrierError>>;

/// A shared store of carrier tokens with single-flight refresh.
#[async_trait]
pub trait TokenCache: fmt::Debug + Send + Sync {
    /// Returns a token with at least `margin` of life left, running `fetch` when there is none.
    /// Concurrent callers for the same key wait for one fetch rather than starting their own.
    async fn get_or_fetch(
        &self,
        key: &TokenKey,
        margin: Duration,
        fetch: TokenFetch<'_>,
    ) -> Result<CachedToken, CarrierError>;

    /// Forgets `rejected` (the carrier refused it) unless the cache already holds a newer token.
    async fn invalidate(&self, key: &TokenKey, rejected: &SecretString);
}

#[derive(Default)]
struct Slot {
    token: Option<CachedToken>,
    /// The last failed fetch: callers that were already waiting share its error instead of
    /// each hammering a rationed token endpoint in turn.
    failure: Option<(Instant, CarrierError)>,
}

/// A per-process [`TokenCache`].
#[derive(Default)]
pub struct MemoryTokenCache {
    slots: Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<Slot>>>>,
}

impl MemoryTokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, key: &TokenKey) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.entry(key.clone()).or_default().clone()
    }
}

impl fmt::Debug for MemoryTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self
            .slots
            .lock()
            .map(|slots| slots.len())
            .unwrap_or_default();
        f.debug_struct("MemoryTokenCache")
            .field("keys", &count)
            .finish()
    }
}

#[async_trait]
impl TokenCache for MemoryTokenCache {
    async fn get_or_fetch(
        &self,
        key: &TokenKey,
        margin: Duration,
        fetch: TokenFetch<'_>,
    ) -> Result<CachedToken, CarrierError> {
        let arrived = Instant::now();
        let slot = self.slot(key);
        let mut slot = slot.lock().await;
        if let Some(token) = &slot.token {
            if token.is_fresh(margin, Utc::now()) {
                return Ok(token.clone());
            }
        }
        if let Some((failed_at, error)) = &slot.failure {
            if *failed_at >= arrived {
                return Err(error.clone());
            }
        }
        match fetch.await {
            Ok(token) => {
                slot.token = Some(token.clone());
                slot.failure = None;
                Ok(token)
            }
            Err(error) => {
                slot.failure = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    async fn invalidate(&self, key: &TokenKey, rejected: &SecretString) {
        let slot = self.slot(key);
        let mut slot = slot.lock().await;
        let same = slot
            .token
            .as_ref()
            .is_some_and(|token| token.value.expose_secret() == rejected.expose_secret());
        if same {
            slot.token = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn token(value: &str, lifetime: chrono::Duration) -> CachedToken {
        CachedToken {
            value: SecretString::from(value.to_owned()),
            expires_at: Utc::now() + lifetime,
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(MemoryTokenCache::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let key = TokenKey::new("usps:oauth:app");
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let fetch: TokenFetch<'_> = Box::pin(async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok(token("t1", chrono::Duration::hours(8)))
                });
                cache
                    .get_or_fetch(&key, Duration::from_secs(60), fetch)
                    .await
            }));
        }
        for task in tasks {
            let token = task.await.unwrap().unwrap();
            assert_eq!(token.value.expose_secret(), "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_replaced() {
        let cache = MemoryTokenCache::new();
        let key = TokenKey::new("k");
        let first = cache
            .get_or_fetch(
                &key,
                Duration::from_secs(300),
                Box::pin(async { Ok(token("old", chrono::Duration::seconds(200))) }),
            )
            .await
            .unwrap();
        assert_eq!(first.value.expose_secret(), "old");
        let second = cache
            .get_or_fetch(
                &key,
                Duration::from_secs(300),
                Box::pin(async { Ok(token("new", chrono::Duration::hours(8))) }),
            )
            .await
            .unwrap();
        assert_eq!(second.value.expose_secret(), "new");
    }

    #[tokio::test]
    async fn invalidation_only_drops_the_rejected_token() {
        let cache = MemoryTokenCache::new();
        let key = TokenKey::new("k");
        let fresh = || Box::pin(async { Ok(token("current", chrono::Duration::hours(8))) });
        cache
            .get_or_fetch(&key, Duration::ZERO, fresh())
            .await
            .unwrap();
        cache.invalidate(&key, &SecretString::from("older")).await;
        let kept = cache
            .get_or_fetch(
                &key,
                Duration::ZERO,
                Box::pin(async {
                    Err(CarrierError::Protocol {
                        carrier: "t",
                        message: "must not fetch".into(),
                    })
                }),
            )
            .await
            .unwrap();
        assert_eq!(kept.value.expose_secret(), "current");
        cache.invalidate(&key, &SecretString::from("current")).await;
        let refetched = cache
            .get_or_fetch(
                &key,
                Duration::ZERO,
                Box::pin(async { Ok(token("next", chrono::Duration::hours(8))) }),
            )
            .await
            .unwrap();
        assert_eq!(refetched.value.expose_secret(), "next");
    }

    #[test]
    fn debug_redacts_the_token() {
        let printed = format!("{:?}", token("sentinel-token", chrono::Duration::hours(1)));
        assert!(!printed.contains("sentinel-token"));
    }
}
