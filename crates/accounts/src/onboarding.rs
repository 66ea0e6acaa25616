//! "Login with <carrier>" in the vault (API.md: `POST /v1/shipper-accounts/{carrier}/connect`
//! and the browser's callback): single-use sign-in states, the `pending_details` account a
//! consent creates, re-authorizing an account in place, and keeping its OAuth tokens alive.
//!
//! - A state is stored only as its SHA-256, with the tenant, carrier and account name that
//!   started the sign-in, who started it (the audit actor of its callback) and, for a
//!   re-authorization, the account it signs in again for, for [`STATE_LIFETIME_MINUTES`]. The
//!   callback arrives with no tenant: its transaction names the hash in
//!   `backhaul.oauth_state_hash`, which opens that one row to the row-level security policies
//!   `lookup_by_state` and `consume_by_state`, and consumes it exactly once.
//! - A consent creates the account `pending_details`: the carrier's prefill is its details and
//!   the choices offered (every value the carrier lists for a detail) are kept in `onboarding`
//!   for the details form, with the carrier's reason under `prefill_unavailable` when it shared
//!   nothing ([`AccountPrefill::onboarding`]). The merchant's `PATCH` of the missing details
//!   makes it `active`.
//! - A re-authorization ([`AccountService::begin_reconnect`]) replaces the tokens of an account
//!   the carrier signed in before, keeping its id, details, tags, default and history.
//! - When credentials are due for renewal is decided from their mode and public fields alone
//!   ([`AccountService::oauth_refresh_due_at`]), so due accounts are found without opening any
//!   secret. A [`Renewal`] holds a short lease on the account (`renewal_lease_until`, taken and
//!   given back in transactions of their own) while the carrier renews the tokens, and no
//!   transaction or row lock across that HTTP call: a slow carrier ties up no pool connection
//!   and blocks nothing else on the account. Two instances, or the refresh job and a label
//!   request, still never renew the same tokens twice — with rotating refresh tokens the second
//!   renewal would present a revoked token and lock the merchant out: the second renewer waits
//!   for the lease and reads what the first stored. What a renewal stores is fenced
//!   (`renewal_fence`, bumped by every lease and every credentials change), so a renewal that
//!   outlived its lease, or whose tokens a re-authorization replaced meanwhile, never writes
//!   old tokens over new ones; a credentials `PATCH` during a lease is refused (409
//!   `renewal_in_progress`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use carrier::{
    AccountDetails, AccountPrefill, Carrier, CarrierError, Credentials, OAuthConnection,
    OAuthOnboarding, PkceVerifier, ValidationErrors,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::account::{
    AccountError, AccountService, AccountStatus, Context, ShipperAccount, account_columns,
    check_name, default_for_new, secret_material,
};
use crate::audit::{self, Action, Actor, NewEvent};
use crate::id::{AccountId, TenantId};
use crate::vault::{KeyContext, Purpose, WrappedKey};

/// How long a sign-in may take from `connect` to the callback.
pub const STATE_LIFETIME_MINUTES: i32 = 10;

/// How long a renewal's lease lasts: longer than the carrier's token call can take (the HTTP
/// client's 30-second request timeout, and a retry), so a live renewal keeps it; if its holder
/// dies, the account is free to renew again after this.
pub const RENEWAL_LEASE_SECONDS: f64 = 120.0;

/// How often a renewer waiting for another's lease looks again.
const LEASE_POLL: Duration = Duration::from_millis(50);

/// The sign-in a consumed state started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub tenant: TenantId,
    pub carrier: String,
    pub account_name: String,
    /// Who started the sign-in (an API key, or the console session's key): the actor of what
    /// its callback records.
    pub started_by: Actor,
    /// The account this sign-in re-authorizes; `None` when it creates one.
    pub account_id: Option<AccountId>,
}

/// Why a callback's state was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no sign-in was started with this state")]
    Unknown,
    #[error("the sign-in has expired")]
    Expired,
    #[error("the sign-in was already completed")]
    AlreadyUsed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StateError {
    /// A stable name for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            StateError::Unknown => "unknown_state",
            StateError::Expired => "expired_state",
            StateError::AlreadyUsed => "replayed_state",
            StateError::Database(_) => "database",
        }
    }
}

/// An OAuth account whose credentials are due for renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAccount {
    pub tenant: TenantId,
    pub id: AccountId,
    pub carrier: String,
    pub due_at: DateTime<Utc>,
}

/// An account with its credentials open, as a renewal leaves it.
#[derive(Debug)]
pub struct OpenedAccount {
    pub account: ShipperAccount,
    pub details: AccountDetails,
    pub credentials: Credentials,
}

/// Credentials with the mode and public fields only: what deciding a renewal needs.
fn public_credentials(mode: &str, public: &BTreeMap<String, String>) -> Credentials {
    public
        .iter()
        .fold(Credentials::new(mode), |credentials, (key, value)| {
            credentials.with_public(key, value.clone())
        })
}

fn decode_error(error: impl fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(error.to_string().into())
}

fn details_of(account: &ShipperAccount) -> AccountDetails {
    match &account.details {
        Value::Object(map) => AccountDetails::new(map.clone()),
        _ => AccountDetails::default(),
    }
}

/// Stores a new sign-in's state (its hash), started by `context.actor`.
async fn insert_state(
    tx: &mut sqlx::PgConnection,
    hash: &[u8],
    context: Context<'_>,
    carrier: &str,
    account_name: &str,
    account: Option<&AccountId>,
) -> Result<DateTime<Utc>, AccountError> {
    let expires_at = sqlx::query_scalar(
        "INSERT INTO oauth_states
             (state_hash, tenant_id, carrier, account_name, started_by, account_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7))
         RETURNING expires_at",
    )
    .bind(hash)
    .bind(context.tenant.as_str())
    .bind(carrier)
    .bind(account_name)
    .bind(context.actor.as_stored())
    .bind(account.map(AccountId::as_str))
    .bind(STATE_LIFETIME_MINUTES)
    .fetch_one(tx)
    .await?;
    Ok(expires_at)
}

/// Whether `account` can sign in again in place: signed in with its carrier before, and not
/// disabled.
fn check_reconnectable(
    carrier: &dyn Carrier,
    hooks: &dyn OAuthOnboarding,
    account: &ShipperAccount,
) -> Result<(), AccountError> {
    if account.status == AccountStatus::Disabled {
        return Err(AccountError::Conflict {
            code: "account_disabled",
            message: format!(
                "shipper account {} is disabled; connect a new account instead",
                account.id
            ),
        });
    }
    if account.credentials.mode != hooks.connected_mode() {
        return Err(AccountError::NotSupported(format!(
            "shipper account {} uses {} credentials, which are not connected by signing in with {}; \
             change them with PATCH /v1/shipper-accounts/{}",
            account.id,
            account.credentials.mode,
            carrier.name(),
            account.id
        )));
    }
    Ok(())
}

impl AccountService {
    /// The carrier `id` and its OAuth hooks, when it is known and connects accounts by OAuth
    /// consent; otherwise a validation error on `carrier`.
    pub fn oauth_carrier(
        &self,
        id: &str,
    ) -> Result<(&dyn Carrier, &dyn OAuthOnboarding), AccountError> {
        let carrier = self.carrier(id)?.as_ref();
        let hooks = carrier.oauth().ok_or_else(|| {
            AccountError::Validation(ValidationErrors::single(
                "carrier",
                format!(
                    "{} accounts are not connected by signing in; create them with POST /v1/shipper-accounts",
                    carrier.name()
                ),
            ))
        })?;
        Ok((carrier, hooks))
    }

    /// Records a sign-in `context.tenant` starts with `state` (only its hash is stored), to
    /// create an account named `account_name`. Returns when the sign-in expires.
    pub async fn begin_oauth(
        &self,
        context: Context<'_>,
        carrier: &str,
        account_name: &str,
        state: &str,
    ) -> Result<DateTime<Utc>, AccountError> {
        let carrier = self.oauth_carrier(carrier)?.0.id();
        let name = check_name(account_name)?;
        let hash = Sha256::digest(state.as_bytes());
        let mut tx = self.database().tenant(context.tenant).await?;
        let expires_at = insert_state(&mut tx, &hash, context, carrier, &name, None).await?;
        tx.commit().await?;
        Ok(expires_at)
    }

    /// Records a sign-in that re-authorizes account `id` in place (`POST
    /// /v1/shipper-accounts/{id}/reconnect`), started with `state`. The account must belong to
    /// `context.tenant`, be signed in with its carrier (its credentials mode is the one a
    /// sign-in creates) and not be disabled. Returns the account and when the sign-in expires.
    pub async fn begin_reconnect(
        &self,
        context: Context<'_>,
        id: &str,
        state: &str,
    ) -> Result<(ShipperAccount, DateTime<Utc>), AccountError> {
        let hash = Sha256::digest(state.as_bytes());
        let mut tx = self.database().tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM shipper_accounts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(context.tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        let account = ShipperAccount::from_row(&row)?;
        let (carrier, hooks) = self.oauth_carrier(&account.carrier)?;
        check_reconnectable(carrier, hooks, &account)?;
        let expires_at = insert_state(
            &mut tx,
            &hash,
            context,
            carrier.id(),
            &account.name,
            Some(&account.id),
        )
        .await?;
        tx.commit().await?;
        Ok((account, expires_at))
    }

    /// The PKCE verifier (RFC 7636) of the sign-in started with `state`: derived from the state
    /// under the vault's key rather than stored, so it is bound to that one sign-in, never
    /// sits in the database, and cannot be computed by whoever sees the state (it travels
    /// through the browser and the carrier; the verifier only in our code exchange).
    pub fn pkce_verifier(&self, state: &str) -> PkceVerifier {
        use base64::Engine;
        let bytes = self
            .keyring
            .derive(b"backhaul/oauth-pkce-verifier/v1", state.as_bytes());
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..]);
        // 32 bytes are 43 base64url characters: always a valid verifier.
        PkceVerifier::from_stored(SecretString::from(encoded))
            .unwrap_or_else(PkceVerifier::generate)
    }

    /// Consumes a callback's state exactly once; says whether it was unknown, expired or
    /// already used otherwise. Needs no tenant: the state names its own row.
    pub async fn consume_oauth_state(&self, state: &str) -> Result<SignIn, StateError> {
        let hash = Sha256::digest(state.as_bytes());
        let mut tx = self.database().unscoped().await?;
        sqlx::query("SELECT set_config('backhaul.oauth_state_hash', $1, true)")
            .bind(format!("{hash:x}"))
            .execute(&mut *tx)
            .await?;
        let consumed = sqlx::query(
            "UPDATE oauth_states SET consumed_at = now()
             WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > now()
             RETURNING tenant_id, carrier, account_name, started_by, account_id",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = consumed else {
            let used: Option<bool> = sqlx::query_scalar(
                "SELECT consumed_at IS NOT NULL FROM oauth_states WHERE state_hash = $1",
            )
            .bind(&hash[..])
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return Err(match used {
                None => StateError::Unknown,
                Some(true) => StateError::AlreadyUsed,
                Some(false) => StateError::Expired,
            });
        };
        tx.commit().await?;
        let tenant: String = row.try_get("tenant_id")?;
        let started_by: String = row.try_get("started_by")?;
        let account_id: Option<String> = row.try_get("account_id")?;
        Ok(SignIn {
            tenant: TenantId::parse("tenant_id", &tenant).map_err(decode_error)?,
            carrier: row.try_get("carrier")?,
            account_name: row.try_get("account_name")?,
            started_by: Actor::from_stored(&started_by)
                .ok_or_else(|| decode_error(format!("started_by {started_by:?} is no actor")))?,
            account_id: account_id
                .map(|id| AccountId::parse("account_id", &id).map_err(decode_error))
                .transpose()?,
        })
    }

    /// Creates the account a consent connected: `pending_details`, the prefill as its details,
    /// the offered choices in `onboarding`, the credentials sealed under a new data key.
    /// Audited `account.oauth_connected` (mode, public fields and fingerprint only).
    pub async fn create_connected(
        &self,
        sign_in: &SignIn,
        request_id: Option<&str>,
        connection: OAuthConnection,
    ) -> Result<ShipperAccount, AccountError> {
        let carrier = self.oauth_carrier(&sign_in.carrier)?.0.id();
        let name = check_name(&sign_in.account_name)?;
        let id = AccountId::generate();
        let key_context = KeyContext {
            tenant_id: sign_in.tenant.as_str(),
            account_id: id.as_str(),
        };
        let credentials = &connection.credentials;
        let sealed = self.seal_new(&key_context, credentials)?;
        let prefilled: Vec<Value> = connection
            .prefill
            .details
            .keys()
            .map(|key| Value::String(key.clone()))
            .collect();
        let mut tx = self.database().tenant(&sign_in.tenant).await?;
        let is_default = default_for_new(&mut tx, &sign_in.tenant, carrier, None).await?;
        let row = sqlx::query(concat!(
            "INSERT INTO shipper_accounts (id, tenant_id, carrier, name, status, details, onboarding,
                 credentials_mode, credentials_public, credentials_sealed, data_key_wrapped,
                 master_key_id, credential_fingerprint, is_default)
             VALUES ($1, $2, $3, $4, 'pending_details', $5, $6, $7, $8, $9, $10, $11, $12, $13)
             RETURNING ",
            account_columns!()
        ))
        .bind(id.as_str())
        .bind(sign_in.tenant.as_str())
        .bind(carrier)
        .bind(&name)
        .bind(Value::Object(connection.prefill.details.clone()))
        .bind(Value::Object(connection.prefill.onboarding()))
        .bind(credentials.mode())
        .bind(json!(credentials.public_fields()))
        .bind(&sealed.credentials)
        .bind(&sealed.wrapped.ciphertext)
        .bind(&sealed.wrapped.master_key_id)
        .bind(&sealed.fingerprint)
        .bind(is_default)
        .fetch_one(&mut *tx)
        .await?;
        let account = ShipperAccount::from_row(&row)?;
        let mut summary = Map::new();
        summary.insert("name".into(), Value::String(account.name.clone()));
        summary.insert("carrier".into(), Value::String(account.carrier.clone()));
        summary.insert(
            "credentials".into(),
            Value::Object(self.credentials_summary(credentials, &sealed.fingerprint)),
        );
        summary.insert("prefilled".into(), Value::Array(prefilled));
        if let Some(reason) = &connection.prefill.unavailable {
            summary.insert(
                AccountPrefill::UNAVAILABLE_KEY.into(),
                Value::String(reason.clone()),
            );
        }
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&sign_in.tenant),
                actor: &sign_in.started_by,
                action: Action::OauthConnected,
                target: Some(id.as_str()),
                request_id,
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Stores the tokens of a consent that re-authorized `sign_in.account_id`: the new
    /// credentials (with what the plugin keeps of the old ones,
    /// [`OAuthOnboarding::reconnected`]) resealed under the account's data key, the choices the
    /// carrier offered in `onboarding`; id, details, tags, default and history stay. The
    /// account becomes `active` when its details are complete for the new credentials, else
    /// `pending_details`. Any renewal in flight is fenced out, so it cannot write the old
    /// tokens' successors over these. Audited `account.oauth_reconnected`.
    pub async fn complete_reconnect(
        &self,
        sign_in: &SignIn,
        request_id: Option<&str>,
        connection: OAuthConnection,
    ) -> Result<ShipperAccount, AccountError> {
        let id = sign_in.account_id.as_ref().ok_or(AccountError::NotFound)?;
        let mut tx = self.database().tenant(&sign_in.tenant).await?;
        // A short lock: the carrier was called before this transaction began.
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            ", credentials_sealed, data_key_wrapped, master_key_id
             FROM shipper_accounts WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(sign_in.tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        let current = ShipperAccount::from_row(&row)?;
        let (carrier, hooks) = self.oauth_carrier(&current.carrier)?;
        check_reconnectable(carrier, hooks, &current)?;
        let key_context = KeyContext {
            tenant_id: sign_in.tenant.as_str(),
            account_id: current.id.as_str(),
        };
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let sealed: Vec<u8> = row.try_get("credentials_sealed")?;
        let previous = self.open(&key_context, &wrapped, &sealed)?;
        let credentials = hooks.reconnected(&previous, connection.credentials);
        let complete = carrier
            .validate_account(carrier::AccountInput {
                details: &current.details,
                credentials: None,
                current: Some(&credentials),
            })
            .is_ok_and(|validated| !validated.needs_authorization);
        let status = if complete {
            AccountStatus::Active
        } else {
            AccountStatus::PendingDetails
        };
        let data_key = self.keyring.unwrap_data_key(&wrapped, &key_context)?;
        let resealed = data_key.seal(
            &key_context,
            Purpose::Credentials,
            &credentials.to_sealed_json(),
        )?;
        let fingerprint = self.keyring.fingerprint(&secret_material(&credentials));
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET status = $3, onboarding = $4, credentials_mode = $5,
                 credentials_public = $6, credentials_sealed = $7, credential_fingerprint = $8,
                 credentials_updated_at = now(), renewal_lease_until = NULL,
                 renewal_fence = renewal_fence + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            account_columns!()
        ))
        .bind(sign_in.tenant.as_str())
        .bind(current.id.as_str())
        .bind(status.as_str())
        .bind(Value::Object(connection.prefill.onboarding()))
        .bind(credentials.mode())
        .bind(json!(credentials.public_fields()))
        .bind(&resealed)
        .bind(&fingerprint)
        .fetch_one(&mut *tx)
        .await?;
        let account = ShipperAccount::from_row(&row)?;
        let mut summary = self.credentials_summary(&credentials, &fingerprint);
        summary.insert(
            "previous_fingerprint".into(),
            Value::String(current.credentials.fingerprint.clone()),
        );
        summary.insert(
            "previous_status".into(),
            Value::String(current.status.as_str().to_owned()),
        );
        summary.insert("status".into(), Value::String(status.as_str().to_owned()));
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&sign_in.tenant),
                actor: &sign_in.started_by,
                action: Action::OauthReconnected,
                target: Some(current.id.as_str()),
                request_id,
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Records a sign-in that failed after its state was accepted (consent denied, code
    /// exchange refused): `account.oauth_failed` by whoever started it, on the account a
    /// reconnect named (`stage: reconnect`) or on none (`stage: connect`). `reason` must hold
    /// no secret.
    pub async fn record_oauth_failure(
        &self,
        sign_in: &SignIn,
        request_id: Option<&str>,
        reason: &str,
    ) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(&sign_in.tenant).await?;
        let stage = if sign_in.account_id.is_some() {
            "reconnect"
        } else {
            "connect"
        };
        let summary = json!({
            "stage": stage,
            "carrier": sign_in.carrier,
            "name": sign_in.account_name,
            "reason": reason,
        });
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&sign_in.tenant),
                actor: &sign_in.started_by,
                action: Action::OauthFailed,
                target: sign_in.account_id.as_ref().map(AccountId::as_str),
                request_id,
                summary: summary.as_object().cloned().unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When an account's OAuth credentials should be renewed, from its mode and public
    /// credential fields (no secret is opened); `None` when they never need it.
    pub fn oauth_refresh_due_at(&self, account: &ShipperAccount) -> Option<DateTime<Utc>> {
        let hooks = self.registry.get(&account.carrier)?.oauth()?;
        hooks.refresh_due_at(&public_credentials(
            &account.credentials.mode,
            &account.credentials.public,
        ))
    }

    /// The `active` and `pending_details` accounts of every tenant whose OAuth credentials are
    /// due at `now`, soonest first, at most `limit` (the refresh job's work list).
    pub async fn oauth_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DueAccount>, AccountError> {
        let carriers: Vec<&str> = self
            .registry
            .iter()
            .filter(|carrier| carrier.oauth().is_some())
            .map(|carrier| carrier.id())
            .collect();
        if carriers.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.database().admin().await?;
        let rows = sqlx::query(
            "SELECT id, tenant_id, carrier, credentials_mode, credentials_public
             FROM shipper_accounts
             WHERE status IN ('active', 'pending_details') AND carrier = ANY($1)",
        )
        .bind(&carriers)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut due = Vec::new();
        for row in rows {
            let carrier: String = row.try_get("carrier")?;
            let Some(hooks) = self.registry.get(&carrier).and_then(|c| c.oauth()) else {
                continue;
            };
            let mode: String = row.try_get("credentials_mode")?;
            let public: Value = row.try_get("credentials_public")?;
            let public: BTreeMap<String, String> =
                serde_json::from_value(public).map_err(decode_error)?;
            let Some(due_at) = hooks.refresh_due_at(&public_credentials(&mode, &public)) else {
                continue;
            };
            if due_at <= now {
                let id: String = row.try_get("id")?;
                let tenant: String = row.try_get("tenant_id")?;
                due.push(DueAccount {
                    tenant: TenantId::parse("tenant_id", &tenant).map_err(decode_error)?,
                    id: AccountId::parse("id", &id).map_err(decode_error)?,
                    carrier,
                    due_at,
                });
            }
        }
        due.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.id.cmp(&b.id)));
        due.truncate(limit);
        Ok(due)
    }

    /// Takes the renewal lease of one account and opens its credentials, waiting while another
    /// renewal holds it: whoever takes it second reads what the first stored. End it with
    /// [`Renewal::save`], [`Renewal::fail`] or [`Renewal::release`]; dropped unended, it gives
    /// the lease back in the background.
    pub async fn begin_renewal(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<Renewal, AccountError> {
        loop {
            if let Leased::Taken(renewal) = self.try_begin_renewal(context, id).await? {
                return Ok(*renewal);
            }
            // The holder is calling the carrier; its lease clears when it stores the result,
            // or expires if it died.
            tokio::time::sleep(LEASE_POLL).await;
        }
    }

    /// [`AccountService::begin_renewal`] without waiting: [`Leased::Held`] when another renewal
    /// holds the lease now.
    pub async fn try_begin_renewal(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<Leased, AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts
             SET renewal_lease_until = now() + make_interval(secs => $3),
                 renewal_fence = renewal_fence + 1
             WHERE tenant_id = $1 AND id = $2
               AND (renewal_lease_until IS NULL OR renewal_lease_until <= now())
             RETURNING ",
            account_columns!(),
            ", renewal_fence, credentials_sealed, data_key_wrapped, master_key_id"
        ))
        .bind(context.tenant.as_str())
        .bind(id)
        .bind(RENEWAL_LEASE_SECONDS)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM shipper_accounts WHERE tenant_id = $1 AND id = $2",
            )
            .bind(context.tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            return match exists {
                Some(_) => Ok(Leased::Held),
                None => Err(AccountError::NotFound),
            };
        };
        tx.commit().await?;
        let account = ShipperAccount::from_row(&row)?;
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let sealed: Vec<u8> = row.try_get("credentials_sealed")?;
        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: account.id.as_str(),
        };
        let lease = Lease {
            service: self.clone(),
            tenant: context.tenant.clone(),
            account: account.id.clone(),
            fence: row.try_get("renewal_fence")?,
            ended: false,
        };
        // Opened after the lease is recorded, so a failure here gives it back (drop).
        let credentials = self.open(&key_context, &wrapped, &sealed)?;
        Ok(Leased::Taken(Box::new(Renewal {
            lease,
            actor: context.actor.clone(),
            request_id: context.request_id.map(str::to_owned),
            details: details_of(&account),
            account,
            credentials,
            wrapped,
        })))
    }

    /// The account and its credentials as stored now (after a renewal was fenced out).
    async fn reopen(
        &self,
        tenant: &TenantId,
        id: &AccountId,
    ) -> Result<OpenedAccount, AccountError> {
        let mut tx = self.database().tenant(tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            ", credentials_sealed, data_key_wrapped, master_key_id
             FROM shipper_accounts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        tx.commit().await?;
        let account = ShipperAccount::from_row(&row)?;
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let sealed: Vec<u8> = row.try_get("credentials_sealed")?;
        let key_context = KeyContext {
            tenant_id: tenant.as_str(),
            account_id: id.as_str(),
        };
        let credentials = self.open(&key_context, &wrapped, &sealed)?;
        Ok(OpenedAccount {
            details: details_of(&account),
            account,
            credentials,
        })
    }
}

/// The outcome of trying to take a renewal's lease.
#[derive(Debug)]
pub enum Leased {
    /// This renewal holds the lease.
    Taken(Box<Renewal>),
    /// Another renewal holds it now.
    Held,
}

/// A renewal's hold on one account: its fence, and the lease it gives back once.
struct Lease {
    service: AccountService,
    tenant: TenantId,
    account: AccountId,
    fence: i64,
    ended: bool,
}

impl Lease {
    /// Gives the lease back, if it is still this renewal's.
    async fn give_back(
        service: &AccountService,
        tenant: &TenantId,
        account: &AccountId,
        fence: i64,
    ) -> Result<(), AccountError> {
        let mut tx = service.database().tenant(tenant).await?;
        sqlx::query(
            "UPDATE shipper_accounts SET renewal_lease_until = NULL
             WHERE tenant_id = $1 AND id = $2 AND renewal_fence = $3",
        )
        .bind(tenant.as_str())
        .bind(account.as_str())
        .bind(fence)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // A renewal abandoned midway (its request was cancelled): give the lease back rather
        // than make the next renewer wait for it to expire.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (service, tenant, account, fence) = (
            self.service.clone(),
            self.tenant.clone(),
            self.account.clone(),
            self.fence,
        );
        runtime.spawn(async move {
            if let Err(error) = Lease::give_back(&service, &tenant, &account, fence).await {
                tracing::warn!(%account, %error, "could not give back a renewal lease; it expires on its own");
            }
        });
    }
}

/// One account leased for the renewal of its OAuth credentials (see the module docs).
pub struct Renewal {
    lease: Lease,
    actor: Actor,
    request_id: Option<String>,
    account: ShipperAccount,
    details: AccountDetails,
    credentials: Credentials,
    wrapped: WrappedKey,
}

impl fmt::Debug for Renewal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renewal")
            .field("account", &self.account.id)
            .field("status", &self.account.status)
            .field("fence", &self.lease.fence)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Renewal {
    /// The account as stored when the lease was taken.
    pub fn account(&self) -> &ShipperAccount {
        &self.account
    }

    /// The stored credentials, opened.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// When the stored credentials are due (after whatever another renewal stored).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.lease.service.oauth_refresh_due_at(&self.account)
    }

    fn context(&self) -> KeyContext<'_> {
        KeyContext {
            tenant_id: self.account.tenant_id.as_str(),
            account_id: self.account.id.as_str(),
        }
    }

    /// Stores the renewed credentials (resealed under the account's data key, new
    /// fingerprint) and gives the lease back; the status stays. Audited
    /// `account.oauth_refreshed`. If the lease was lost meanwhile (it expired and another
    /// renewal took over, or a re-authorization or a PATCH replaced the credentials), nothing
    /// is stored and the account is returned as stored now, which is newer than these.
    pub async fn save(mut self, renewed: Credentials) -> Result<OpenedAccount, AccountError> {
        self.lease.ended = true;
        let service = self.lease.service.clone();
        let keyring = &service.keyring;
        let data_key = keyring.unwrap_data_key(&self.wrapped, &self.context())?;
        let sealed = data_key.seal(
            &self.context(),
            Purpose::Credentials,
            &renewed.to_sealed_json(),
        )?;
        let fingerprint = keyring.fingerprint(&secret_material(&renewed));
        let mut tx = service.database().tenant(&self.account.tenant_id).await?;
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET credentials_mode = $4, credentials_public = $5,
                 credentials_sealed = $6, credential_fingerprint = $7,
                 credentials_updated_at = now(), updated_at = now(),
                 renewal_lease_until = NULL, renewal_fence = renewal_fence + 1
             WHERE tenant_id = $1 AND id = $2 AND renewal_fence = $3 RETURNING ",
            account_columns!()
        ))
        .bind(self.account.tenant_id.as_str())
        .bind(self.account.id.as_str())
        .bind(self.lease.fence)
        .bind(renewed.mode())
        .bind(json!(renewed.public_fields()))
        .bind(&sealed)
        .bind(&fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            tracing::warn!(account = %self.account.id, tenant = %self.account.tenant_id,
                "a renewal lost its lease before storing; the credentials stored since are used");
            return service
                .reopen(&self.account.tenant_id, &self.account.id)
                .await;
        };
        let account = ShipperAccount::from_row(&row)?;
        let mut summary = service.credentials_summary(&renewed, &fingerprint);
        summary.insert(
            "previous_fingerprint".into(),
            Value::String(self.account.credentials.fingerprint.clone()),
        );
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&self.account.tenant_id),
                actor: &self.actor,
                action: Action::OauthRefreshed,
                target: Some(self.account.id.as_str()),
                request_id: self.request_id.as_deref(),
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(OpenedAccount {
            account,
            details: self.details,
            credentials: renewed,
        })
    }

    /// The carrier would not renew the credentials: the account becomes
    /// `reauthorization_required` until the merchant signs in again, and the lease is given
    /// back. Audited `account.oauth_failed` with the carrier's (secret-free) reason. If the
    /// lease was lost meanwhile, or the account was disabled, nothing changes: the account is
    /// returned as stored now.
    pub async fn fail(mut self, error: &CarrierError) -> Result<ShipperAccount, AccountError> {
        self.lease.ended = true;
        let service = self.lease.service.clone();
        let mut tx = service.database().tenant(&self.account.tenant_id).await?;
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET status = 'reauthorization_required', updated_at = now(),
                 renewal_lease_until = NULL
             WHERE tenant_id = $1 AND id = $2 AND renewal_fence = $3
               AND status IN ('active', 'pending_details')
             RETURNING ",
            account_columns!()
        ))
        .bind(self.account.tenant_id.as_str())
        .bind(self.account.id.as_str())
        .bind(self.lease.fence)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            Lease::give_back(
                &service,
                &self.account.tenant_id,
                &self.account.id,
                self.lease.fence,
            )
            .await?;
            return Ok(service
                .reopen(&self.account.tenant_id, &self.account.id)
                .await?
                .account);
        };
        let account = ShipperAccount::from_row(&row)?;
        let summary = json!({
            "stage": "refresh",
            "kind": error.kind().as_str(),
            "reason": error.to_string(),
            "previous_status": self.account.status.as_str(),
            "status": AccountStatus::ReauthorizationRequired.as_str(),
        });
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&self.account.tenant_id),
                actor: &self.actor,
                action: Action::OauthFailed,
                target: Some(self.account.id.as_str()),
                request_id: self.request_id.as_deref(),
                summary: summary.as_object().cloned().unwrap_or_default(),
            },
        )
        .await?;
        // The returns SaaS hears of it in the same transaction as the change.
        let data = serde_json::to_value(&account).map_err(|error| {
            AccountError::CorruptCredentials(format!("the account as the API shows it: {error}"))
        })?;
        crate::event::record(
            &mut tx,
            &crate::event::NewEvent {
                tenant_id: &self.account.tenant_id,
                event_type: crate::event::EventType::AccountReauthorizationRequired,
                subject_id: self.account.id.as_str(),
                data,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Ends the renewal without a change (nothing was due any more, or the carrier could not
    /// be reached and a later attempt will renew) and gives the lease back.
    pub async fn release(mut self) -> Result<OpenedAccount, AccountError> {
        self.lease.ended = true;
        Lease::give_back(
            &self.lease.service,
            &self.account.tenant_id,
            &self.account.id,
            self.lease.fence,
        )
        .await?;
        Ok(OpenedAccount {
            account: self.account,
            details: self.details,
            credentials: self.credentials,
        })
    }
}
