//! The audit trail: every stored credential and every use of one, append-only.
//!
//! Events are written in the same transaction as the change they describe. Each tenant's events
//! (and the platform's own, with no tenant) form a SHA-256 hash chain: an event's `hash` covers
//! the previous event's hash and every column of the event, so an event edited or removed
//! afterwards (only possible for a superuser who first disables the append-only trigger) breaks
//! the chain exactly there, and [`verify`] reports its id. Writers of one chain take a
//! transaction-level advisory lock so the chain stays linear under concurrency.
//!
//! Summaries are built by this crate from non-secret values only: credentials appear as their
//! mode, public fields and keyed fingerprint, never their secrets.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};

use crate::db::Database;
use crate::id::{ApiKeyId, TenantId};

/// The hash before the first event of a chain.
const GENESIS: [u8; 32] = [0; 32];

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
    /// Hex SHA-256 of this event in its chain.
    pub hash: String,
}

/// Appends `event` to its chain, inside the caller's transaction (which must be scoped to the
/// event's tenant, or be an admin transaction for platform events). Returns the event id.
///
/// One statement moves the chain's head (`audit_chain_heads`) and inserts the event with the
/// head's old and new hash. The head row stays locked until the transaction ends, so a chain's
/// writers queue there and each links to the one before; ids are drawn after the lock is held,
/// so a chain's order is its id order, which is how [`verify`] walks it.
pub async fn record(tx: &mut PgConnection, event: NewEvent<'_>) -> Result<i64, sqlx::Error> {
    let tenant = event.tenant.map(TenantId::as_str);
    let at = now_micros();
    let summary = Value::Object(event.summary);
    let actor = event.actor.as_stored();
    let fields = Fields {
        tenant,
        at,
        actor: &actor,
        action: event.action.as_str(),
        target: event.target,
        request_id: event.request_id,
        summary: &summary,
    };
    sqlx::query_scalar(APPEND)
        .bind(tenant)
        .bind(at)
        .bind(&actor)
        .bind(event.action.as_str())
        .bind(event.target)
        .bind(event.request_id)
        .bind(&summary)
        .bind(fields.canonical().as_bytes())
        .bind(&GENESIS[..])
        .bind(PLATFORM_CHAIN)
        .fetch_one(&mut *tx)
        .await
}

/// The chain of the platform's own events in `audit_chain_heads`.
const PLATFORM_CHAIN: &str = "platform";

/// Appends to a chain ($1 the tenant, NULL for the platform; $8 the canonical fields; $9 the
/// genesis hash; $10 the platform chain's name). The new hash is SHA-256 of the previous hash
/// followed by the canonical fields, as [`Fields::hash`] computes it.
const APPEND: &str = "
    WITH head AS (
        INSERT INTO audit_chain_heads AS head (chain, prev_hash, hash)
        VALUES (coalesce($1, $10), $9::bytea, sha256($9::bytea || $8::bytea))
        ON CONFLICT (chain) DO UPDATE
            SET prev_hash = head.hash, hash = sha256(head.hash || $8::bytea)
        RETURNING prev_hash, hash)
    INSERT INTO audit_events (tenant_id, at, actor, action, target, request_id, summary, prev_hash, hash)
    SELECT $1, $2, $3, $4, $5, $6, $7, head.prev_hash, head.hash FROM head
    RETURNING id";

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
    pub ok: bool,
    pub checked: u64,
    /// The first event (lowest id) whose hash or link does not match.
    pub first_bad_id: Option<i64>,
}

/// A batch of a tenant's chain for [`verify`] ($1 the tenant, $2 the last id seen).
const TENANT_CHAIN_BATCH: &str = "
    SELECT id, tenant_id, at, actor, action, target, request_id, summary, prev_hash, hash
    FROM audit_events WHERE tenant_id = $1 AND id > $2 ORDER BY tenant_id, id LIMIT 1000";

/// A batch of the platform's chain ($1 is NULL and unused).
const PLATFORM_CHAIN_BATCH: &str = "
    SELECT id, tenant_id, at, actor, action, target, request_id, summary, prev_hash, hash
    FROM audit_events WHERE tenant_id IS NULL AND $1::text IS NULL AND id > $2
    ORDER BY tenant_id, id LIMIT 1000";

/// Recomputes the chain of `tenant` (every chain when `None`) and reports the first event that
/// was edited, or whose predecessor was removed.
pub async fn verify(db: &Database, tenant: Option<&TenantId>) -> Result<Verification, sqlx::Error> {
    let mut tx = db.admin().await?;
    let chains: Vec<Option<String>> = match tenant {
        Some(tenant) => vec![Some(tenant.to_string())],
        None => {
            sqlx::query_scalar("SELECT DISTINCT tenant_id FROM audit_events")
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
            // `=` or `IS NULL`, which audit_events_tenant (tenant_id, id) serves; `IS NOT
            // DISTINCT FROM` would scan the whole table for every batch.
            let batch = match chain {
                Some(_) => TENANT_CHAIN_BATCH,
                None => PLATFORM_CHAIN_BATCH,
            };
            let rows = sqlx::query(batch)
                .bind(chain.as_deref())
                .bind(after)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let id: i64 = row.try_get("id")?;
                after = id;
                checked += 1;
                let summary: Value = row.try_get("summary")?;
                let fields = Fields {
                    tenant: row.try_get("tenant_id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    target: row.try_get("target")?,
                    request_id: row.try_get("request_id")?,
                    summary: &summary,
                };
                let prev_hash: Vec<u8> = row.try_get("prev_hash")?;
                let hash: Vec<u8> = row.try_get("hash")?;
                let intact = prev_hash == expected_prev && fields.hash(&prev_hash)[..] == hash[..];
                if !intact && first_bad.is_none_or(|bad| id < bad) {
                    first_bad = Some(id);
                }
                expected_prev = hash;
            }
        }
    }
    tx.commit().await?;
    Ok(Verification {
        ok: first_bad.is_none(),
        checked,
        first_bad_id: first_bad,
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
        "SELECT id, at, tenant_id, actor, action, target, request_id, summary, hash FROM audit_events
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
            let hash: Vec<u8> = row.try_get("hash")?;
            Ok(AuditEvent {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                tenant_id: row.try_get("tenant_id")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                request_id: row.try_get("request_id")?,
                summary: row.try_get("summary")?,
                hash: hex::encode(hash),
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
