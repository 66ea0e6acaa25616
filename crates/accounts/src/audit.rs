//! The audit trail: every stored credential and every use of one, append-only.
//!
//! Events are written in the same transaction as the change they describe, without their
//! hash, and queued (`audit_pending`, by a trigger): writers never wait for one another. The
//! sequencer ([`chain_pending`], run by [`spawn_sequencer`] in every server, one leader at a
//! time by advisory lock) then chains the queued events in batches, within
//! [`MAX_MERGE_DELAY`] — the way a Certificate Transparency log integrates queued entries under
//! its maximum merge delay — writing each event's link (`audit_links`: its place in its chain,
//! the hash it follows, its own). Each tenant's events (and the
//! platform's own, with no tenant) form a SHA-256 hash chain: an event's `hash` covers the
//! previous event's hash and every column of the event, so an event edited or removed
//! afterwards (only possible for a superuser who first disables the append-only trigger)
//! breaks the chain exactly there, and [`verify`] reports its id. [`verify`] also reports any
//! event still unchained after [`MAX_MERGE_DELAY`] (a sequencer that stopped), since an event
//! is protected by the chain only once it is in it.
//!
//! Summaries are built by this crate from non-secret values only: credentials appear as their
//! mode, public fields and keyed fingerprint, never their secrets.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};

use crate::db::Database;
use crate::id::{ApiKeyId, TenantId};
use crate::statement::{self, Query};

/// The hash before the first event of a chain.
const GENESIS: [u8; 32] = [0; 32];

/// The longest an event may wait to be chained before [`verify`] reports it. The sequencer
/// chains within [`SEQUENCER_INTERVAL`] and a pass; this leaves room for a transaction that
/// commits its events long after writing them, and for a leader that is restarting.
pub const MAX_MERGE_DELAY: Duration = Duration::from_secs(60);
/// How often the sequencer looks for waiting events when the last pass found few.
pub const SEQUENCER_INTERVAL: Duration = Duration::from_millis(200);
/// The most events one pass chains (one statement each to read and to update them).
const SEQUENCER_BATCH: i64 = 2000;
/// The sequencer's transaction-level advisory lock (`hashtextextended(…, 0)`).
const SEQUENCER_LOCK: &str = "audit-sequencer";

/// Who did something: an API key (tenant or admin) or the platform itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    ApiKey(ApiKeyId),
    /// The service acting on its own (token refresh, an operator command).
    System,
}

impl Actor {
    const SYSTEM: &'static str = "system";

    pub fn as_stored(&self) -> String {
        match self {
            Actor::ApiKey(id) => id.to_string(),
            Actor::System => Self::SYSTEM.to_owned(),
        }
    }

    /// The actor [`Actor::as_stored`] wrote; `None` for anything else.
    pub fn from_stored(stored: &str) -> Option<Self> {
        if stored == Self::SYSTEM {
            return Some(Actor::System);
        }
        ApiKeyId::parse("actor", stored).ok().map(Actor::ApiKey)
    }
}

/// What happened. The names are part of the API (`GET /v1/admin/audit-events?action=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    TenantCreated,
    ApiKeyCreated,
    ApiKeyRevoked,
    AccountCreated,
    AccountUpdated,
    AccountDisabled,
    CredentialsRotated,
    CredentialsUsed,
    OauthConnected,
    OauthRefreshed,
    OauthFailed,
    LabelCreated,
    LabelFailed,
    LabelVoided,
    KeysRotated,
    WebhookEndpointCreated,
    WebhookEndpointUpdated,
    WebhookEndpointDeleted,
    WebhookSecretRotated,
    WebhookRedelivered,
    /// A carrier push subscription's secret chosen and stored (sealed) for an account.
    TrackingSubscriptionCreated,
    /// An account signed in again in place (`POST /v1/shipper-accounts/{id}/reconnect`): new
    /// tokens, the same id, tags, default and history.
    OauthReconnected,
    /// A registration sent an account to its carrier, which asked the merchant to prove it
    /// (`pending_verification`); also when the merchant starts again.
    VerificationStarted,
    /// A verification step answered and the carrier asked for the next (a code was sent).
    VerificationAdvanced,
    /// A registration or an answer refused (a wrong code, an unknown invoice), expired, locked
    /// after too many wrong proofs, or not answered by the carrier.
    VerificationFailed,
    /// The carrier issued the account's credentials: the account is `active`.
    Verified,
}

impl Action {
    pub const ALL: [Action; 26] = [
        Action::TenantCreated,
        Action::ApiKeyCreated,
        Action::ApiKeyRevoked,
        Action::AccountCreated,
        Action::AccountUpdated,
        Action::AccountDisabled,
        Action::CredentialsRotated,
        Action::CredentialsUsed,
        Action::OauthConnected,
        Action::OauthRefreshed,
        Action::OauthFailed,
        Action::OauthReconnected,
        Action::VerificationStarted,
        Action::VerificationAdvanced,
        Action::VerificationFailed,
        Action::Verified,
        Action::LabelCreated,
        Action::LabelFailed,
        Action::LabelVoided,
        Action::KeysRotated,
        Action::WebhookEndpointCreated,
        Action::WebhookEndpointUpdated,
        Action::WebhookEndpointDeleted,
        Action::WebhookSecretRotated,
        Action::WebhookRedelivered,
        Action::TrackingSubscriptionCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::TenantCreated => "tenant.created",
            Action::ApiKeyCreated => "api_key.created",
            Action::ApiKeyRevoked => "api_key.revoked",
            Action::AccountCreated => "account.created",
            Action::AccountUpdated => "account.updated",
            Action::AccountDisabled => "account.disabled",
            Action::CredentialsRotated => "account.credentials_rotated",
            Action::CredentialsUsed => "account.credentials_used",
            Action::OauthConnected => "account.oauth_connected",
            Action::OauthRefreshed => "account.oauth_refreshed",
            Action::OauthFailed => "account.oauth_failed",
            Action::OauthReconnected => "account.oauth_reconnected",
            Action::VerificationStarted => "account.verification_started",
            Action::VerificationAdvanced => "account.verification_advanced",
            Action::VerificationFailed => "account.verification_failed",
            Action::Verified => "account.verified",
            Action::LabelCreated => "label.created",
            Action::LabelFailed => "label.failed",
            Action::LabelVoided => "label.voided",
            Action::KeysRotated => "keys.rotated",
            Action::WebhookEndpointCreated => "webhook_endpoint.created",
            Action::WebhookEndpointUpdated => "webhook_endpoint.updated",
            Action::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            Action::WebhookSecretRotated => "webhook_endpoint.secret_rotated",
            Action::WebhookRedelivered => "webhook_endpoint.redelivered",
            Action::TrackingSubscriptionCreated => "tracking.subscription_created",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// `None` for the platform's own chain (e.g. master-key rotation).
    pub tenant: Option<&'a TenantId>,
    pub actor: &'a Actor,
    pub action: Action,
    /// What it happened to (`sa_…`, `lbl_…`, `key_…`).
    pub target: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// Non-secret details; see the module docs.
    pub summary: Map<String, Value>,
}

/// A stored event, as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub tenant_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub request_id: Option<String>,
    pub summary: Value,
    /// Hex SHA-256 of this event in its chain; `None` until the sequencer chains it.
    pub hash: Option<String>,
    /// When the sequencer chained it.
    pub chained_at: Option<DateTime<Utc>>,
}

/// Writes `event` inside the caller's transaction (which must be scoped to the event's tenant,
/// or be an admin transaction for platform events), unchained: the sequencer links it into its
/// chain once the transaction has committed. Returns the event id.
pub async fn record(tx: &mut PgConnection, event: NewEvent<'_>) -> Result<i64, sqlx::Error> {
    static RECORD: LazyLock<String> = LazyLock::new(|| insert_sql(1));
    bind(sqlx::query(RECORD.as_str()), event)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)
}

/// How many parameters [`insert_sql`] takes.
pub const INSERT_PARAMS: usize = 7;

/// [`record`]'s INSERT, its [`INSERT_PARAMS`] parameters numbered from `$first` and bound by
/// [`bind`]: also a `WITH` item for a caller that writes its change and the event in one
/// statement ([`crate::statement`]). It returns the event's `id`.
pub fn insert_sql(first: usize) -> String {
    format!(
        "INSERT INTO audit_events (tenant_id, at, actor, action, target, request_id, summary)
         VALUES ({}) RETURNING id",
        statement::params(first, INSERT_PARAMS)
    )
}

/// Binds `event` to [`insert_sql`]'s parameters.
pub fn bind<'q>(query: Query<'q>, event: NewEvent<'q>) -> Query<'q> {
    query
        .bind(event.tenant.map(TenantId::as_str))
        .bind(now_micros())
        .bind(event.actor.as_stored())
        .bind(event.action.as_str())
        .bind(event.target)
        .bind(event.request_id)
        .bind(Value::Object(event.summary))
}

/// The chain of the platform's own events in `audit_chain_heads`.
const PLATFORM_CHAIN: &str = "platform";

/// What one sequencer pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// This process led the pass and chained this many events (0: none were waiting).
    Chained(u64),
    /// Another instance holds the sequencer's lock; it chains them.
    NotLeader,
}

/// One sequencer pass: in an admin transaction holding the sequencer's advisory lock (or
/// nothing, if another instance holds it), up to [`SEQUENCER_BATCH`] queued events taken from
/// the queue in id order, each linked to its chain's head, and the heads moved, in five
/// statements.
///
/// A chain's order is the order in which its events were found here; an event committed after
/// one with a higher id simply comes after it. Events are hashed from the stored row, so the
/// hash covers exactly what [`verify`] reads back. `chained_at` is the INSERT's start, after
/// every event it links was committed (`now()`, the transaction's start, may not be).
pub async fn chain_pending(db: &Database) -> Result<Pass, sqlx::Error> {
    let mut tx = db.admin().await?;
    let leader: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(SEQUENCER_LOCK)
            .fetch_one(&mut *tx)
            .await?;
    if !leader {
        tx.rollback().await?;
        return Ok(Pass::NotLeader);
    }
    // A queued id with no event, or one already linked (queued by hand), is dropped.
    let rows = sqlx::query(
        "WITH taken AS (
             DELETE FROM audit_pending WHERE event_id IN (
                 SELECT event_id FROM audit_pending ORDER BY event_id LIMIT $1)
             RETURNING event_id)
         SELECT event.id, event.tenant_id, event.at, event.actor, event.action, event.target,
                event.request_id, event.summary
         FROM taken JOIN audit_events AS event ON event.id = taken.event_id
         WHERE NOT EXISTS (SELECT 1 FROM audit_links AS link WHERE link.event_id = event.id)
         ORDER BY event.id",
    )
    .bind(SEQUENCER_BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(Pass::Chained(0));
    }
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        events.push(StoredEvent::from_row(row)?);
    }
    let chains: Vec<String> = {
        let mut chains: Vec<String> = events
            .iter()
            .map(|event| event.chain().to_owned())
            .collect();
        chains.sort_unstable();
        chains.dedup();
        chains
    };
    let mut heads: HashMap<String, Head> = sqlx::query_as::<_, (String, i64, Vec<u8>, Vec<u8>)>(
        "SELECT chain, seq, prev_hash, hash FROM audit_chain_heads
         WHERE chain = ANY($1) ORDER BY chain FOR UPDATE",
    )
    .bind(&chains)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(chain, seq, prev_hash, hash)| {
        (
            chain,
            Head {
                seq,
                prev_hash,
                hash,
            },
        )
    })
    .collect();
    let mut links = Links::with_capacity(events.len());
    for event in &events {
        let head = heads
            .entry(event.chain().to_owned())
            .or_insert_with(|| Head {
                seq: 0,
                prev_hash: GENESIS.to_vec(),
                hash: GENESIS.to_vec(),
            });
        let hash = event.fields().hash(&head.hash).to_vec();
        head.seq += 1;
        head.prev_hash = std::mem::replace(&mut head.hash, hash.clone());
        links.event_ids.push(event.id);
        links.chains.push(event.chain());
        links.seqs.push(head.seq);
        links.prev_hashes.push(head.prev_hash.clone());
        links.hashes.push(hash);
    }
    sqlx::query(
        "INSERT INTO audit_links (event_id, chain, chain_seq, prev_hash, hash, chained_at)
         SELECT link.*, statement_timestamp()
         FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[]) AS link",
    )
    .bind(&links.event_ids)
    .bind(&links.chains)
    .bind(&links.seqs)
    .bind(&links.prev_hashes)
    .bind(&links.hashes)
    .execute(&mut *tx)
    .await?;
    let moved: Vec<(String, Head)> = chains
        .into_iter()
        .filter_map(|chain| heads.remove(&chain).map(|head| (chain, head)))
        .collect();
    sqlx::query(
        "INSERT INTO audit_chain_heads AS head (chain, seq, prev_hash, hash)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[])
         ON CONFLICT (chain) DO UPDATE
             SET seq = excluded.seq, prev_hash = excluded.prev_hash, hash = excluded.hash",
    )
    .bind(
        moved
            .iter()
            .map(|(chain, _)| chain.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(moved.iter().map(|(_, head)| head.seq).collect::<Vec<_>>())
    .bind(
        moved
            .iter()
            .map(|(_, head)| head.prev_hash.as_slice())
            .collect::<Vec<_>>(),
    )
    .bind(
        moved
            .iter()
            .map(|(_, head)| head.hash.as_slice())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Pass::Chained(events.len() as u64))
}

/// Runs [`chain_pending`] until the task is aborted: again at once after a full batch, else
/// every [`SEQUENCER_INTERVAL`]. Every instance runs one; the advisory lock lets one lead.
pub fn spawn_sequencer(db: Database) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pause = match chain_pending(&db).await {
                Ok(Pass::Chained(count)) if count as i64 >= SEQUENCER_BATCH => Duration::ZERO,
                Ok(_) => SEQUENCER_INTERVAL,
                Err(error) => {
                    tracing::warn!(%error, "audit sequencer: a pass failed; will retry");
                    SEQUENCER_INTERVAL
                }
            };
            tokio::time::sleep(pause).await;
        }
    })
}

/// Where a chain ends: the hash its next event follows.
struct Head {
    seq: i64,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// The links a pass writes, as the arrays of its INSERT.
struct Links<'a> {
    event_ids: Vec<i64>,
    chains: Vec<&'a str>,
    seqs: Vec<i64>,
    prev_hashes: Vec<Vec<u8>>,
    hashes: Vec<Vec<u8>>,
}

impl Links<'_> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            event_ids: Vec::with_capacity(capacity),
            chains: Vec::with_capacity(capacity),
            seqs: Vec::with_capacity(capacity),
            prev_hashes: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
        }
    }
}

/// An event's columns as stored, which its hash covers.
struct StoredEvent {
    id: i64,
    tenant: Option<String>,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target: Option<String>,
    request_id: Option<String>,
    summary: Value,
}

impl StoredEvent {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            tenant: row.try_get("tenant_id")?,
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            request_id: row.try_get("request_id")?,
            summary: row.try_get("summary")?,
        })
    }

    /// Its chain's name in `audit_chain_heads`.
    fn chain(&self) -> &str {
        self.tenant.as_deref().unwrap_or(PLATFORM_CHAIN)
    }

    fn fields(&self) -> Fields<'_> {
        Fields {
            tenant: self.tenant.as_deref(),
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            target: self.target.as_deref(),
            request_id: self.request_id.as_deref(),
            summary: &self.summary,
        }
    }
}

/// Postgres keeps microseconds; the hash must cover what is stored.
fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

struct Fields<'a> {
    tenant: Option<&'a str>,
    at: DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    request_id: Option<&'a str>,
    summary: &'a Value,
}

impl Fields<'_> {
    /// SHA-256 over the previous hash and the canonical fields ([`Fields::canonical`]).
    fn hash(&self, prev_hash: &[u8]) -> [u8; 32] {
        let mut digest = Sha256::new();
        digest.update(prev_hash);
        digest.update(self.canonical().as_bytes());
        digest.finalize().into()
    }

    /// A canonical JSON array of the fields (object keys sorted, so the jsonb round trip cannot
    /// change it).
    fn canonical(&self) -> String {
        let mut canonical = String::new();
        let array = Value::Array(vec![
            self.tenant
                .map_or(Value::Null, |t| Value::String(t.to_owned())),
            Value::String(self.at.to_rfc3339_opts(SecondsFormat::Micros, true)),
            Value::String(self.actor.to_owned()),
            Value::String(self.action.to_owned()),
            self.target
                .map_or(Value::Null, |t| Value::String(t.to_owned())),
            self.request_id
                .map_or(Value::Null, |r| Value::String(r.to_owned())),
            self.summary.clone(),
        ]);
        write_canonical(&array, &mut canonical);
        canonical
    }
}

/// `value` as canonical JSON: object keys sorted at every level, no insignificant white space,
/// so equal documents always give equal text (for hashes).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The result of checking the hash chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// No chained event is altered or missing, and none has waited past [`MAX_MERGE_DELAY`].
    pub ok: bool,
    /// How many chained events were checked.
    pub checked: u64,
    /// The first event (lowest id) whose hash, link or place in its chain does not match.
    pub first_bad_id: Option<i64>,
    /// Events not chained yet, within [`MAX_MERGE_DELAY`] of being written: in no chain, so
    /// not checked, and not a fault.
    pub waiting: u64,
    /// Events still unchained after [`MAX_MERGE_DELAY`] (the sequencer is not running, or is
    /// failing): not protected by a chain.
    pub overdue: u64,
    /// The oldest of them.
    pub first_overdue_id: Option<i64>,
}

/// A batch of a chain for [`verify`] ($1 the chain, $2 the last place seen): each link with its
/// event, which is missing (`id` null) if it was removed.
const CHAIN_BATCH: &str = "
    SELECT link.event_id, link.chain_seq, link.prev_hash, link.hash,
           event.id, event.tenant_id, event.at, event.actor, event.action, event.target,
           event.request_id, event.summary
    FROM audit_links AS link LEFT JOIN audit_events AS event ON event.id = link.event_id
    WHERE link.chain = $1 AND link.chain_seq > $2
    ORDER BY link.chain_seq LIMIT 1000";

/// Recomputes the chain of `tenant` (every chain when `None`), in chain order, and reports the
/// first event that was edited or removed (or whose link was: the next event's link no longer
/// follows); and counts the events the sequencer has not chained yet, reporting those that
/// waited past [`MAX_MERGE_DELAY`].
pub async fn verify(db: &Database, tenant: Option<&TenantId>) -> Result<Verification, sqlx::Error> {
    let mut tx = db.admin().await?;
    let chains: Vec<String> = match tenant {
        Some(tenant) => vec![tenant.to_string()],
        None => {
            sqlx::query_scalar("SELECT DISTINCT chain FROM audit_links ORDER BY chain")
                .fetch_all(&mut *tx)
                .await?
        }
    };
    let mut checked = 0;
    let mut first_bad: Option<i64> = None;
    for chain in chains {
        let mut expected_prev = GENESIS.to_vec();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(CHAIN_BATCH)
                .bind(&chain)
                .bind(after)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let event_id: i64 = row.try_get("event_id")?;
                let seq: i64 = row.try_get("chain_seq")?;
                let prev_hash: Vec<u8> = row.try_get("prev_hash")?;
                let hash: Vec<u8> = row.try_get("hash")?;
                checked += 1;
                let present: Option<i64> = row.try_get("id")?;
                let intact = present.is_some() && {
                    let event = StoredEvent::from_row(&row)?;
                    seq == after + 1
                        && event.chain() == chain
                        && prev_hash == expected_prev
                        && event.fields().hash(&prev_hash)[..] == hash[..]
                };
                if !intact && first_bad.is_none_or(|bad| event_id < bad) {
                    first_bad = Some(event_id);
                }
                after = seq;
                expected_prev = hash;
            }
        }
    }
    let (waiting, overdue, first_overdue): (i64, i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE at < now() - make_interval(secs => $2)),
                min(id) FILTER (WHERE at < now() - make_interval(secs => $2))
         FROM audit_events AS event
         WHERE ($1::text IS NULL OR tenant_id = $1)
           AND NOT EXISTS (SELECT 1 FROM audit_links AS link WHERE link.event_id = event.id)",
    )
    .bind(tenant.map(TenantId::as_str))
    .bind(MAX_MERGE_DELAY.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Verification {
        ok: first_bad.is_none() && overdue == 0,
        checked,
        first_bad_id: first_bad,
        waiting: u64::try_from(waiting - overdue).unwrap_or(0),
        overdue: u64::try_from(overdue).unwrap_or(0),
        first_overdue_id: first_overdue,
    })
}

/// Filters for the admin listing (`GET /v1/admin/audit-events`).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub tenant: Option<TenantId>,
    /// Events whose target is this account.
    pub target: Option<String>,
    pub action: Option<Action>,
    pub since: Option<DateTime<Utc>>,
    /// Events with ids below this one (the cursor of the previous page).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// The newest events first, across tenants (an admin view).
pub async fn list(db: &Database, filter: &EventFilter) -> Result<Vec<AuditEvent>, sqlx::Error> {
    let mut tx = db.admin().await?;
    let rows = sqlx::query(
        "SELECT id, at, tenant_id, actor, action, target, request_id, summary, link.hash,
                link.chained_at
         FROM audit_events AS event LEFT JOIN audit_links AS link ON link.event_id = event.id
         WHERE ($1::text IS NULL OR tenant_id = $1)
           AND ($2::text IS NULL OR target = $2)
           AND ($3::text IS NULL OR action = $3)
           AND ($4::timestamptz IS NULL OR at >= $4)
           AND ($5::bigint IS NULL OR id < $5)
         ORDER BY id DESC LIMIT $6",
    )
    .bind(filter.tenant.as_ref().map(TenantId::as_str))
    .bind(filter.target.as_deref())
    .bind(filter.action.map(Action::as_str))
    .bind(filter.since)
    .bind(filter.before_id)
    .bind(filter.limit.clamp(1, 1000))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|row| {
            let hash: Option<Vec<u8>> = row.try_get("hash")?;
            let event = StoredEvent::from_row(&row)?;
            Ok(AuditEvent {
                id: event.id,
                at: event.at,
                tenant_id: event.tenant,
                actor: event.actor,
                action: event.action,
                target: event.target,
                request_id: event.request_id,
                summary: event.summary,
                hash: hash.map(hex::encode),
                chained_at: row.try_get("chained_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":2}],"c":"x"}}"#).unwrap();
        let mut out = String::new();
        write_canonical(&value, &mut out);
        assert_eq!(out, r#"{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}"#);
    }

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
    }
}
