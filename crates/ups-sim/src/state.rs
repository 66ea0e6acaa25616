//! The simulator's mutable state behind one `Arc`: issued OAuth codes and tokens, the ledger
//! of shipments, counters, armed fault rules and the simulator clock.
//!
//! Lifetimes: the OAuth files give none (their `expires_in` and `refresh_token_expires_in` are
//! typed but never valued), so these are the simulator's choice, in line with what UPS sends.
//! Every lock is a short `std::sync::Mutex` critical section that never spans an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use sim_kit::SimClock;

use crate::config::SimConfig;
use crate::fault::FaultRule;
use crate::ledger::{Counters, LedgerEntry};
use crate::track::TrackingBook;
use crate::track::push::PushJob;

/// Access tokens live 4 hours less a second (`expires_in: "14399"`; the spec is silent).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 4 * 60 * 60 - 1;
/// Refresh tokens live 60 days less a second (`refresh_token_expires_in: "5183999"`; the spec
/// is silent).
pub(crate) const REFRESH_TOKEN_SECONDS: i64 = 60 * 24 * 60 * 60 - 1;
/// Authorization codes live 5 minutes (the spec is silent).
pub(crate) const AUTHORIZATION_CODE_SECONDS: i64 = 5 * 60;

/// Who an access token stands for.
#[derive(Clone, Debug)]
pub(crate) struct AccessGrant {
    pub(crate) client_id: String,
    /// The UPS user (authorization-code and refreshed tokens); `None` for client credentials.
    pub(crate) username: Option<String>,
    /// The accounts the token may ship with.
    pub(crate) shipper_numbers: Vec<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// An issued, not yet used refresh token.
#[derive(Clone, Debug)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) username: String,
    pub(crate) scope: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) refresh_count: u32,
}

/// An issued, not yet redeemed authorization code. `Debug` hides the challenge.
#[derive(Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) username: String,
    pub(crate) scope: String,
    /// `code_challenge` (S256) of a PKCE request.
    pub(crate) code_challenge: Option<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for CodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeGrant")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("username", &self.username)
            .field("pkce", &self.code_challenge.is_some())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// OAuth codes and tokens by their value. `Debug` shows only how many there are: the keys
/// are credentials.
#[derive(Default)]
pub(crate) struct OAuthStore {
    pub(crate) access: HashMap<String, AccessGrant>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    pub(crate) codes: HashMap<String, CodeGrant>,
}

impl std::fmt::Debug for OAuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthStore")
            .field("access_tokens", &self.access.len())
            .field("refresh_tokens", &self.refresh.len())
            .field("codes", &self.codes.len())
            .finish()
    }
}

/// The ledger and the next package reference.
#[derive(Debug)]
pub(crate) struct ShipmentBook {
    pub(crate) ledger: Vec<LedgerEntry>,
    /// The 7-digit reference of the next 1Z number; starts at random so runs differ.
    pub(crate) next_reference: u32,
}

/// All shared state.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: SimConfig,
    clock: SimClock,
    oauth: Mutex<OAuthStore>,
    shipments: Mutex<ShipmentBook>,
    counters: Mutex<Counters>,
    faults: Mutex<Vec<FaultRule>>,
    tracking: Mutex<TrackingBook>,
    /// The queue of the task that sends Track Alert pushes, once started.
    pusher: Mutex<Option<tokio::sync::mpsc::UnboundedSender<PushJob>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind; keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A random opaque token of `length` ASCII letters and digits.
pub(crate) fn random_token(length: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

impl State {
    pub(crate) fn new(config: SimConfig) -> Self {
        Self {
            clock: SimClock::default(),
            oauth: Mutex::new(OAuthStore::default()),
            shipments: Mutex::new(ShipmentBook {
                ledger: Vec::new(),
                next_reference: rand::rng().random_range(1..5_000_000),
            }),
            counters: Mutex::new(Counters::default()),
            faults: Mutex::new(Vec::new()),
            tracking: Mutex::new(TrackingBook::new(&config.webhooks)),
            pusher: Mutex::new(None),
            config,
        }
    }

    /// The simulator clock: wall-clock UTC plus whatever [`State::advance_clock`] added.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn advance_clock(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }

    pub(crate) fn oauth(&self) -> MutexGuard<'_, OAuthStore> {
        lock(&self.oauth)
    }

    pub(crate) fn shipments(&self) -> MutexGuard<'_, ShipmentBook> {
        lock(&self.shipments)
    }

    pub(crate) fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.faults)
    }

    pub(crate) fn tracking(&self) -> MutexGuard<'_, TrackingBook> {
        lock(&self.tracking)
    }

    pub(crate) fn pusher(
        &self,
    ) -> MutexGuard<'_, Option<tokio::sync::mpsc::UnboundedSender<PushJob>>> {
        lock(&self.pusher)
    }

    /// Removes an access token, as its expiry would.
    pub(crate) fn revoke_access_token(&self, token: &str) {
        self.oauth().access.remove(token);
    }

    /// Issues an access token for `grant`.
    pub(crate) fn issue_access_token(&self, grant: AccessGrant) -> String {
        let token = random_token(64);
        self.oauth().access.insert(token.clone(), grant);
        token
    }

    /// The live grant behind an access token, forgetting it when it has expired.
    pub(crate) fn access_grant(&self, token: &str) -> Option<AccessGrant> {
        let now = self.now();
        let mut oauth = self.oauth();
        let grant = oauth.access.get(token)?.clone();
        if grant.expires_at <= now {
            oauth.access.remove(token);
            return None;
        }
        Some(grant)
    }
}
