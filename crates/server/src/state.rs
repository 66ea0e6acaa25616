//! What every handler shares: the database, the account service, the carrier registry and the
//! metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use accounts::{AccountService, Database, MasterKeyring, PgTokenCache, Principal};
use carrier::CarrierRegistry;

use crate::limit::{RateLimit, RateLimiter};
use crate::metrics::Metrics;
use crate::serve::Limits;
use crate::tracking::TrackingSettings;
use crate::webhook::Policy;

/// Cheap to clone; built once by the binary (or a test).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    accounts: AccountService,
    registry: CarrierRegistry,
    keyring: Arc<MasterKeyring>,
    metrics: Metrics,
    /// How long a running label purchase holds its idempotency key, in milliseconds.
    label_lock_ms: AtomicU64,
    limits: RwLock<Limits>,
    webhooks: accounts::webhook::WebhookService,
    webhook_policy: RwLock<Policy>,
    rate_limiter: RateLimiter,
    tracking: RwLock<Arc<TrackingSettings>>,
    /// `console.secure_cookies`: console cookies always carry `Secure`.
    secure_cookies: AtomicBool,
}

impl AppState {
    /// `token_cache` is the cache the carrier plugins were built with, for its metrics.
    pub fn new(
        db: Database,
        keyring: Arc<MasterKeyring>,
        registry: CarrierRegistry,
        token_cache: Option<Arc<PgTokenCache>>,
    ) -> Self {
        let accounts = AccountService::new(db.clone(), keyring.clone(), registry.clone());
        let webhooks = accounts::webhook::WebhookService::new(db.clone(), keyring.clone());
        Self {
            inner: Arc::new(Inner {
                db,
                accounts,
                registry,
                keyring,
                metrics: Metrics::new(token_cache),
                label_lock_ms: AtomicU64::new(crate::label::DEFAULT_LOCK.as_millis() as u64),
                limits: RwLock::new(Limits::default()),
                rate_limiter: RateLimiter::new(RateLimit::default()),
                webhooks,
                webhook_policy: RwLock::new(Policy::default()),
                tracking: RwLock::new(Arc::new(TrackingSettings::default())),
                secure_cookies: AtomicBool::new(false),
            }),
        }
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    pub fn accounts(&self) -> &AccountService {
        &self.inner.accounts
    }

    pub fn registry(&self) -> &CarrierRegistry {
        &self.inner.registry
    }

    pub fn keyring(&self) -> &Arc<MasterKeyring> {
        &self.inner.keyring
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// How long a running label purchase holds its idempotency key before another request may
    /// resume it (after a crash). [`crate::label::DEFAULT_LOCK`] unless changed.
    pub fn label_lock(&self) -> Duration {
        Duration::from_millis(self.inner.label_lock_ms.load(Ordering::Relaxed))
    }

    /// Changes [`AppState::label_lock`] (tests of crash recovery use a short one).
    pub fn set_label_lock(&self, lock: Duration) {
        let millis = u64::try_from(lock.as_millis()).unwrap_or(u64::MAX);
        self.inner.label_lock_ms.store(millis, Ordering::Relaxed);
    }

    /// The server's connection and time limits ([`Limits::default`] unless changed).
    pub fn limits(&self) -> Limits {
        self.inner
            .limits
            .read()
            .map(|limits| *limits)
            .unwrap_or_default()
    }

    /// Changes [`AppState::limits`]; the connection limits apply to a server started after.
    pub fn set_limits(&self, limits: Limits) {
        if let Ok(mut current) = self.inner.limits.write() {
            *current = limits;
        }
    }

    /// How tracking behaves ([`TrackingSettings::default`] unless changed).
    pub fn tracking(&self) -> Arc<TrackingSettings> {
        self.inner
            .tracking
            .read()
            .map(|settings| settings.clone())
            .unwrap_or_default()
    }

    /// Changes [`AppState::tracking`] (for jobs started after; runs already going keep theirs).
    pub fn set_tracking(&self, settings: TrackingSettings) {
        if let Ok(mut current) = self.inner.tracking.write() {
            *current = Arc::new(settings);
        }
    }

    /// The tenants' webhook endpoints and deliveries.
    pub fn webhooks(&self) -> &accounts::webhook::WebhookService {
        &self.inner.webhooks
    }

    /// The webhook rules ([`Policy::default`], production's, unless changed).
    pub fn webhook_policy(&self) -> Policy {
        self.inner
            .webhook_policy
            .read()
            .map(|policy| policy.clone())
            .unwrap_or_default()
    }

    /// Changes [`AppState::webhook_policy`]; delivery workers started after use it.
    pub fn set_webhook_policy(&self, policy: Policy) {
        if let Ok(mut current) = self.inner.webhook_policy.write() {
            *current = policy;
        }
    }

    /// Whether console cookies always carry `Secure` (else only over https).
    pub fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies.load(Ordering::Relaxed)
    }

    pub fn set_secure_cookies(&self, secure: bool) {
        self.inner.secure_cookies.store(secure, Ordering::Relaxed);
    }

    /// The per-key request rate limiter.
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.rate_limiter
    }

    /// The principal behind a presented API key.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Principal>, sqlx::Error> {
        accounts::tenant::authenticate(&self.inner.db, presented).await
    }
}
