//! The carrier-token cache every server instance shares (`carrier::TokenCache` in Postgres).
//!
//! Tokens (OAuth access tokens, payment authorizations) are sealed like credentials, under a
//! data key of their own bound to the cache key. Two layers keep token calls to one:
//! - in each process, a [`MemoryTokenCache`] in front: concurrent requests wait for one lookup,
//!   and a fresh token is served from memory without touching the database;
//! - across processes, a transaction-level advisory lock on the cache key: the first instance
//!   to find the token missing or stale fetches it while the others wait, then they read what
//!   it stored.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use carrier::{CachedToken, CarrierError, MemoryTokenCache, TokenCache, TokenFetch, TokenKey};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, Row};

use crate::account::PLATFORM_CONTEXT_TENANT;
use crate::db::Database;
use crate::vault::{KeyContext, MasterKeyring, Purpose, WrappedKey};

/// A [`TokenCache`] shared through Postgres.
pub struct PgTokenCache {
    db: Database,
    keyring: Arc<MasterKeyring>,
    local: MemoryTokenCache,
    lookups: AtomicU64,
    fetches: AtomicU64,
}

/// How the cache has served this process: lookups, and how many of them called the carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCacheStats {
    pub lookups: u64,
    pub fetches: u64,
}

impl TokenCacheStats {
    /// Lookups answered without a token call.
    pub fn hits(&self) -> u64 {
        self.lookups.saturating_sub(self.fetches)
    }
}

impl fmt::Debug for PgTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTokenCache")
            .field("local", &self.local)
            .finish()
    }
}

fn unavailable(error: impl fmt::Display) -> CarrierError {
    CarrierError::Unavailable {
        carrier: "token-cache",
        message: format!("the shared token cache is unavailable: {error}"),
        retry_after: None,
    }
}

impl PgTokenCache {
    pub fn new(db: Database, keyring: Arc<MasterKeyring>) -> Self {
        Self {
            db,
            keyring,
            local: MemoryTokenCache::new(),
            lookups: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            lookups: self.lookups.load(Ordering::Relaxed),
            fetches: self.fetches.load(Ordering::Relaxed),
        }
    }

    fn context(key: &TokenKey) -> KeyContext<'_> {
        KeyContext {
            tenant_id: PLATFORM_CONTEXT_TENANT,
            account_id: key.as_str(),
        }
    }

    async fn read(
        &self,
        tx: &mut PgConnection,
        key: &TokenKey,
    ) -> Result<Option<CachedToken>, CarrierError> {
        let row = sqlx::query(
            "SELECT sealed, data_key_wrapped, master_key_id, expires_at FROM carrier_tokens WHERE cache_key = $1",
        )
        .bind(key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let decoded = (|| -> Result<(Vec<u8>, WrappedKey, DateTime<Utc>), sqlx::Error> {
            Ok((
                row.try_get("sealed")?,
                WrappedKey {
                    ciphertext: row.try_get("data_key_wrapped")?,
                    master_key_id: row.try_get("master_key_id")?,
                },
                row.try_get("expires_at")?,
            ))
        })();
        let (sealed, wrapped, expires_at) = decoded.map_err(unavailable)?;
        let context = Self::context(key);
        // A row that no longer opens (its master key retired) is as good as missing.
        let opened = self
            .keyring
            .unwrap_data_key(&wrapped, &context)
            .and_then(|data_key| data_key.open(&context, Purpose::CarrierToken, &sealed));
        Ok(match opened {
            Ok(plain) => match String::from_utf8(plain.to_vec()) {
                Ok(value) => Some(CachedToken {
                    value: SecretString::from(value),
                    expires_at,
                }),
                Err(_) => None,
            },
            Err(error) => {
                tracing::warn!(key = key.as_str(), %error, "a cached carrier token does not open; fetching a new one");
                None
            }
        })
    }

    async fn write(
        &self,
        tx: &mut PgConnection,
        key: &TokenKey,
        token: &CachedToken,
    ) -> Result<(), CarrierError> {
        let context = Self::context(key);
        let (data_key, wrapped) = self.keyring.new_data_key(&context).map_err(unavailable)?;
        let sealed = data_key
            .seal(
                &context,
                Purpose::CarrierToken,
                token.value.expose_secret().as_bytes(),
            )
            .map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO carrier_tokens (cache_key, sealed, data_key_wrapped, master_key_id, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (cache_key) DO UPDATE SET sealed = excluded.sealed,
                 data_key_wrapped = excluded.data_key_wrapped, master_key_id = excluded.master_key_id,
                 expires_at = excluded.expires_at, updated_at = now()",
        )
        .bind(key.as_str())
        .bind(&sealed)
        .bind(&wrapped.ciphertext)
        .bind(&wrapped.master_key_id)
        .bind(token.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    /// The cross-process layer: read, else lock, read again, fetch and store.
    async fn shared(
        &self,
        key: &TokenKey,
        margin: Duration,
        fetch: TokenFetch<'_>,
    ) -> Result<CachedToken, CarrierError> {
        let mut tx = self.db.unscoped().await.map_err(unavailable)?;
        if let Some(token) = self.read(&mut tx, key).await? {
            if token.is_fresh(margin, Utc::now()) {
                return Ok(token);
            }
        }
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('carrier-token:' || $1, 0))")
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        if let Some(token) = self.read(&mut tx, key).await? {
            if token.is_fresh(margin, Utc::now()) {
                return Ok(token);
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let token = fetch.await?;
        self.write(&mut tx, key, &token).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(token)
    }
}

#[async_trait]
impl TokenCache for PgTokenCache {
    async fn get_or_fetch(
        &self,
        key: &TokenKey,
        margin: Duration,
        fetch: TokenFetch<'_>,
    ) -> Result<CachedToken, CarrierError> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        self.local
            .get_or_fetch(key, margin, Box::pin(self.shared(key, margin, fetch)))
            .await
    }

    async fn invalidate(&self, key: &TokenKey, rejected: &SecretString) {
        self.local.invalidate(key, rejected).await;
        let result = async {
            let mut tx = self.db.unscoped().await.map_err(unavailable)?;
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtextextended('carrier-token:' || $1, 0))",
            )
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            let stored = self.read(&mut tx, key).await?;
            if stored.is_some_and(|token| token.value.expose_secret() == rejected.expose_secret()) {
                sqlx::query("DELETE FROM carrier_tokens WHERE cache_key = $1")
                    .bind(key.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            }
            tx.commit().await.map_err(unavailable)
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(key = key.as_str(), %error, "could not drop a rejected carrier token");
        }
    }
}
