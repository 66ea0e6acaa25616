//! The simulator's mutable state behind one `Arc`: issued OAuth tokens and codes, payment
//! authorization tokens, the label ledger with its idempotency store, the scans, tracking
//! subscriptions and push log, counters, armed fault rules and the simulator clock.
//!
//! Every lock is a short `std::sync::Mutex` critical section that never spans an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use sim_kit::SimClock;

use crate::config::SimConfig;
use crate::fault::FaultRule;
use crate::ledger::{Counters, LedgerEntry};
use crate::push::PushRecord;
use crate::tracking::Scan;
use crate::v3::return_label::IssuedLabel;
use crate::v3::subscription::SubscriptionBook;

/// Access tokens live 8 hours.
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 8 * 60 * 60;
/// Refresh tokens live 7 days.
pub(crate) const REFRESH_TOKEN_SECONDS: i64 = 7 * 24 * 60 * 60;
/// Authorization codes live 5 minutes.
pub(crate) const AUTHORIZATION_CODE_SECONDS: i64 = 5 * 60;
/// Payment authorization tokens live 8 hours.
pub(crate) const PAYMENT_TOKEN_SECONDS: i64 = 8 * 60 * 60;

/// An issued access token.
#[derive(Clone, Debug)]
pub(crate) struct AccessGrant {
    pub(crate) client_id: String,
    /// The signed-in user for authorization-code (and refreshed) tokens.
    pub(crate) username: Option<String>,
    pub(crate) scope: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// An issued refresh token.
#[derive(Clone, Debug)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) username: String,
    pub(crate) scope: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) refresh_count: u32,
}

/// An issued, not yet redeemed authorization code.
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) username: String,
    pub(crate) scope: String,
    pub(crate) expires_at: DateTime<Utc>,
    /// `code_challenge` (S256) of a PKCE authorization request.
    pub(crate) code_challenge: Option<String>,
}

/// The label owner a payment authorization token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LabelOwner {
    pub(crate) crid: String,
    pub(crate) mid: String,
    pub(crate) manifest_mid: String,
}

/// The payer a payment authorization token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Payer {
    pub(crate) crid: String,
    pub(crate) account_type: String,
    /// EPS account number or permit number.
    pub(crate) account: String,
}

/// An issued payment authorization token.
#[derive(Clone, Debug)]
pub(crate) struct PaymentGrant {
    pub(crate) client_id: String,
    pub(crate) label_owner: LabelOwner,
    pub(crate) payer: Payer,
    pub(crate) expires_at: DateTime<Utc>,
}

/// OAuth tokens and codes by their value.
#[derive(Debug, Default)]
pub(crate) struct OAuthStore {
    pub(crate) access: HashMap<String, AccessGrant>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    pub(crate) codes: HashMap<String, CodeGrant>,
}

/// A label remembered under an idempotency key.
#[derive(Clone, Debug)]
pub(crate) struct IdempotentLabel {
    /// The request body as parsed, compared structurally on a retry.
    pub(crate) request: serde_json::Value,
    pub(crate) label: Arc<IssuedLabel>,
}

/// The ledger and what belongs with it.
#[derive(Debug)]
pub(crate) struct LabelBook {
    pub(crate) ledger: Vec<LedgerEntry>,
    /// By (label owner CRID, idempotency key).
    pub(crate) idempotency: HashMap<(String, String), IdempotentLabel>,
    /// The next IMpb serial; starts at random so separate runs do not repeat numbers.
    pub(crate) next_serial: u64,
}

/// All shared state.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: SimConfig,
    clock: SimClock,
    oauth: Mutex<OAuthStore>,
    payments: Mutex<HashMap<String, PaymentGrant>>,
    labels: Mutex<LabelBook>,
    counters: Mutex<Counters>,
    faults: Mutex<Vec<FaultRule>>,
    /// Recorded scans by tracking number, oldest first.
    scans: Mutex<HashMap<String, Vec<Scan>>>,
    subscriptions: Mutex<SubscriptionBook>,
    pushes: Mutex<Vec<PushRecord>>,
    /// Whether USPS Label Broker answers: when not, `LABEL_BROKER` labels are refused with
    /// 160368 ([`crate::Simulator::set_label_broker_available`]).
    label_broker_available: AtomicBool,
    /// The client notifications are pushed with: no redirects, a short timeout.
    pub(crate) push_client: reqwest::Client,
}

/// How long a listener has to answer a push.
const PUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

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
            config,
            clock: SimClock::default(),
            oauth: Mutex::new(OAuthStore::default()),
            payments: Mutex::new(HashMap::new()),
            labels: Mutex::new(LabelBook {
                ledger: Vec::new(),
                idempotency: HashMap::new(),
                next_serial: rand::rng().random_range(1..5_000_000),
            }),
            counters: Mutex::new(Counters::default()),
            faults: Mutex::new(Vec::new()),
            scans: Mutex::new(HashMap::new()),
            subscriptions: Mutex::new(SubscriptionBook::default()),
            pushes: Mutex::new(Vec::new()),
            label_broker_available: AtomicBool::new(true),
            push_client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(PUSH_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    pub(crate) fn label_broker_available(&self) -> bool {
        self.label_broker_available.load(Ordering::SeqCst)
    }

    pub(crate) fn set_label_broker_available(&self, available: bool) {
        self.label_broker_available
            .store(available, Ordering::SeqCst);
    }

    pub(crate) fn scans(&self) -> MutexGuard<'_, HashMap<String, Vec<Scan>>> {
        lock(&self.scans)
    }

    pub(crate) fn subscriptions(&self) -> MutexGuard<'_, SubscriptionBook> {
        lock(&self.subscriptions)
    }

    pub(crate) fn pushes(&self) -> MutexGuard<'_, Vec<PushRecord>> {
        lock(&self.pushes)
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

    pub(crate) fn payments(&self) -> MutexGuard<'_, HashMap<String, PaymentGrant>> {
        lock(&self.payments)
    }

    pub(crate) fn labels(&self) -> MutexGuard<'_, LabelBook> {
        lock(&self.labels)
    }

    pub(crate) fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        lock(&self.faults)
    }

    /// Removes an access token, as its expiry or a revocation would.
    pub(crate) fn revoke_access_token(&self, token: &str) {
        self.oauth().access.remove(token);
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
