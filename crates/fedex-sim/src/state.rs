//! The simulator's mutable state behind one `Arc`: access tokens, registered children,
//! registration sessions and PINs, the PIN outbox, the ledger with its scans and label
//! documents, counters, armed fault rules and the simulator clock.
//!
//! Every lock is a short `std::sync::Mutex` critical section that never spans an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use sim_kit::SimClock;

use crate::config::SimConfig;
use crate::fault::FaultRule;
use crate::ledger::{Counters, LedgerEntry};
use crate::track::Scan;

/// Access tokens live one hour (APIAuthorization-Resource.json: "The standard token
/// expiration time is one hour", `expires_in: 3600`).
pub(crate) const ACCESS_TOKEN_SECONDS: i64 = 3600;

/// Who an access token stands for.
#[derive(Clone, Debug)]
pub(crate) struct AccessGrant {
    /// The app (API key) that asked for it.
    pub(crate) client_id: String,
    /// The child key of a `csp_credentials` token.
    pub(crate) child_key: Option<String>,
    /// A `client_credentials` token of an integrator app: may call Account Registration.
    pub(crate) may_register: bool,
    /// The accounts the token may ship, cancel and track with.
    pub(crate) account_numbers: Vec<String>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// A child registered through Account Registration. `Debug` hides the secret.
#[derive(Clone)]
pub(crate) struct Child {
    pub(crate) secret: String,
    /// The integrator app that registered it.
    pub(crate) client_id: String,
    pub(crate) account_number: String,
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("client_id", &self.client_id)
            .field("account_number", &self.account_number)
            .finish_non_exhaustive()
    }
}

/// A registration session opened by an address check that asked for MFA.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) client_id: String,
    pub(crate) account_number: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// A PIN "delivered" by `POST /registration/v2/customerkeys/pingeneration`: what a test or a
/// developer reads in the outbox (`Simulator::sent_pins`, `GET /__sim/registration/pins`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentPin {
    /// The account being registered.
    pub account_number: String,
    /// `SMS`, `CALL` or `EMAIL`.
    pub option: String,
    /// The unmasked phone number or e-mail address it went to.
    pub destination: String,
    /// The 6-digit PIN.
    pub pin: String,
    /// When it was sent (simulator clock).
    pub sent_at: DateTime<Utc>,
}

impl std::fmt::Debug for SentPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentPin")
            .field("account_number", &self.account_number)
            .field("option", &self.option)
            .field("destination", &self.destination)
            .field("pin", &"[redacted]")
            .field("sent_at", &self.sent_at)
            .finish()
    }
}

/// A child key and secret the simulator issued. `Debug` hides both.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedChild {
    /// `child_Key`: a UUID.
    pub child_key: String,
    /// `child_secret`: 25 random letters and digits.
    pub child_secret: String,
}

impl std::fmt::Debug for IssuedChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedChild([redacted])")
    }
}

/// Every secret the simulator generated, oldest first, kept after it expired, was revoked or
/// was spent: what a leak test looks for where no secret may be (the PINs are in the
/// [outbox](crate::Simulator::sent_pins)). Read through
/// [`Simulator::issued_credentials`](crate::Simulator::issued_credentials); nothing here
/// changes what the simulator answers. `Debug` shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// Every bearer token `POST /oauth/token` answered, of every grant.
    pub access_tokens: Vec<String>,
    /// Every `accountAuthToken` an address check answered.
    pub account_auth_tokens: Vec<String>,
    /// Every child registered through Account Registration.
    pub children: Vec<IssuedChild>,
}

impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("access_tokens", &self.access_tokens.len())
            .field("account_auth_tokens", &self.account_auth_tokens.len())
            .field("children", &self.children.len())
            .finish()
    }
}

/// Credentials by their value. `Debug` shows only how many there are: the keys are secrets.
#[derive(Default)]
pub(crate) struct CredentialStore {
    pub(crate) access: HashMap<String, AccessGrant>,
    /// By child key.
    pub(crate) children: HashMap<String, Child>,
    /// By the `jti` of their `accountAuthToken`.
    pub(crate) sessions: HashMap<String, Session>,
    /// The live PIN of each session, by `jti`.
    pub(crate) pins: HashMap<String, String>,
    pub(crate) outbox: Vec<SentPin>,
    /// Everything issued, for [`IssuedCredentials`].
    pub(crate) issued: IssuedCredentials,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("access_tokens", &self.access.len())
            .field("children", &self.children.len())
            .field("sessions", &self.sessions.len())
            .field("pins", &self.pins.len())
            .field("outbox", &self.outbox.len())
            .field("issued", &self.issued)
            .finish()
    }
}

/// A drawn label kept for its `URL_ONLY` link.
#[derive(Clone, Debug)]
pub(crate) struct Document {
    pub(crate) content_type: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// The ledger, the scans of each tracking number and the next tracking serial.
#[derive(Debug)]
pub(crate) struct ShipmentBook {
    pub(crate) ledger: Vec<LedgerEntry>,
    /// Recorded scans by tracking number, oldest first.
    pub(crate) scans: HashMap<String, Vec<Scan>>,
    /// Label documents by tracking number (for `URL_ONLY`).
    pub(crate) documents: HashMap<String, Document>,
    /// The 11-digit body of the next tracking number; starts at random so runs differ.
    pub(crate) next_serial: u64,
}

/// All shared state.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: SimConfig,
    clock: SimClock,
    /// The HS256 key `accountAuthToken`s are signed with, random per simulator.
    pub(crate) jwt_key: Vec<u8>,
    credentials: Mutex<CredentialStore>,
    shipments: Mutex<ShipmentBook>,
    counters: Mutex<Counters>,
    faults: Mutex<Vec<FaultRule>>,
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
        let mut jwt_key = vec![0u8; 32];
        rand::rng().fill(&mut jwt_key[..]);
        Self {
            clock: SimClock::default(),
            jwt_key,
            credentials: Mutex::new(CredentialStore::default()),
            shipments: Mutex::new(ShipmentBook {
                ledger: Vec::new(),
                scans: HashMap::new(),
                documents: HashMap::new(),
                next_serial: rand::rng().random_range(79_000_000_000..79_900_000_000),
            }),
            counters: Mutex::new(Counters::default()),
            faults: Mutex::new(Vec::new()),
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

    pub(crate) fn credentials(&self) -> MutexGuard<'_, CredentialStore> {
        lock(&self.credentials)
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

    /// Issues an access token for `grant`.
    pub(crate) fn issue_access_token(&self, grant: AccessGrant) -> String {
        let token = random_token(64);
        let mut credentials = self.credentials();
        credentials.access.insert(token.clone(), grant);
        credentials.issued.access_tokens.push(token.clone());
        token
    }

    /// Removes an access token, as its expiry would.
    pub(crate) fn revoke_access_token(&self, token: &str) {
        self.credentials().access.remove(token);
    }

    /// The live grant behind an access token, forgetting it when it has expired.
    pub(crate) fn access_grant(&self, token: &str) -> Option<AccessGrant> {
        let now = self.now();
        let mut credentials = self.credentials();
        let grant = credentials.access.get(token)?.clone();
        if grant.expires_at <= now {
            credentials.access.remove(token);
            return None;
        }
        Some(grant)
    }
}
