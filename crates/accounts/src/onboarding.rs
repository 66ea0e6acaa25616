//! "Login with <carrier>" in the vault (API.md: `POST /v1/shipper-accounts/{carrier}/connect`
//! and the browser's callback): single-use sign-in states, the `pending_details` account a
//! consent creates, and keeping its OAuth tokens alive.
//!
//! - A state is stored only as its SHA-256, with the tenant, carrier and account name that
//!   started the sign-in, for [`STATE_LIFETIME_MINUTES`]. The callback arrives with no tenant:
//!   its transaction names the hash in `backhaul.oauth_state_hash`, which opens that one row to
//!   the row-level security policies `lookup_by_state` and `consume_by_state`, and consumes it
//!   exactly once.
//! - A consent creates the account `pending_details`: the carrier's prefill is its details and
//!   the choices offered (every value the carrier lists for a detail) are kept in `onboarding`
//!   for the details form, with the carrier's reason under `prefill_unavailable` when it shared
//!   nothing ([`AccountPrefill::onboarding`]). The merchant's `PATCH` of the missing details
//!   makes it `active`.
//! - When credentials are due for renewal is decided from their mode and public fields alone
//!   ([`AccountService::oauth_refresh_due_at`]), so due accounts are found without opening any
//!   secret. A [`Renewal`] holds the account's row lock (`FOR UPDATE`) while the carrier renews
//!   the tokens: two instances, or the refresh job and a label request, never renew the same
//!   tokens twice — with rotating refresh tokens the second renewal would present a revoked
//!   token and lock the merchant out — and a concurrent `PATCH` waits for the new tokens
//!   instead of writing the old ones back.

use std::collections::BTreeMap;
use std::fmt;

use carrier::{
    AccountDetails, AccountPrefill, Carrier, CarrierError, Credentials, OAuthConnection,
    OAuthOnboarding, PkceVerifier, ValidationErrors,
};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Row, Transaction};

use crate::account::{
    AccountError, AccountService, AccountStatus, Context, ShipperAccount, account_columns,
    check_name, default_for_new, secret_material,
};
use crate::audit::{self, Action, Actor, NewEvent};
use crate::id::{AccountId, TenantId};
use crate::vault::{KeyContext, Purpose, WrappedKey};

/// How long a sign-in may take from `connect` to the callback.
pub const STATE_LIFETIME_MINUTES: i32 = 10;

/// The sign-in a consumed state started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub tenant: TenantId,
    pub carrier: String,
    pub account_name: String,
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
        let expires_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO oauth_states (state_hash, tenant_id, carrier, account_name, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))
             RETURNING expires_at",
        )
        .bind(&hash[..])
        .bind(context.tenant.as_str())
        .bind(carrier)
        .bind(&name)
        .bind(STATE_LIFETIME_MINUTES)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(expires_at)
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
             RETURNING tenant_id, carrier, account_name",
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
        Ok(SignIn {
            tenant: TenantId::parse("tenant_id", &tenant).map_err(decode_error)?,
            carrier: row.try_get("carrier")?,
            account_name: row.try_get("account_name")?,
        })
    }

    /// Creates the account a consent connected: `pending_details`, the prefill as its details,
    /// the offered choices in `onboarding`, the credentials sealed under a new data key.
    /// Audited `account.oauth_connected` (mode, public fields and fingerprint only).
    pub async fn create_connected(
        &self,
        sign_in: &SignIn,
        actor: &Actor,
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
                actor,
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

    /// Records a sign-in that failed after its state was accepted (consent denied, code
    /// exchange refused): `account.oauth_failed`, with no account. `reason` must hold no
    /// secret.
    pub async fn record_oauth_failure(
        &self,
        sign_in: &SignIn,
        actor: &Actor,
        request_id: Option<&str>,
        reason: &str,
    ) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(&sign_in.tenant).await?;
        let summary = json!({
            "stage": "connect",
            "carrier": sign_in.carrier,
            "name": sign_in.account_name,
            "reason": reason,
        });
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(&sign_in.tenant),
                actor,
                action: Action::OauthFailed,
                target: None,
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

    /// Locks one account for the renewal of its credentials and opens them. Whoever takes the
    /// lock second reads what the first stored. End it with [`Renewal::save`],
    /// [`Renewal::fail`] or [`Renewal::release`]; dropping it changes nothing.
    pub async fn begin_renewal(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<Renewal, AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            ", credentials_sealed, data_key_wrapped, master_key_id
             FROM shipper_accounts WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(context.tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
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
        let credentials = self.open(&key_context, &wrapped, &sealed)?;
        Ok(Renewal {
            tx,
            service: self.clone(),
            actor: context.actor.clone(),
            request_id: context.request_id.map(str::to_owned),
            details: details_of(&account),
            account,
            credentials,
            wrapped,
        })
    }
}

/// One account locked for the renewal of its OAuth credentials (see the module docs).
pub struct Renewal {
    tx: Transaction<'static, Postgres>,
    service: AccountService,
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
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Renewal {
    /// The account as stored when the lock was taken.
    pub fn account(&self) -> &ShipperAccount {
        &self.account
    }

    /// The stored credentials, opened.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// When the stored credentials are due (after whatever another renewal stored).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.service.oauth_refresh_due_at(&self.account)
    }

    fn context(&self) -> KeyContext<'_> {
        KeyContext {
            tenant_id: self.account.tenant_id.as_str(),
            account_id: self.account.id.as_str(),
        }
    }

    /// Stores the renewed credentials (resealed under the account's data key, new
    /// fingerprint); the status stays. Audited `account.oauth_refreshed`.
    pub async fn save(mut self, renewed: Credentials) -> Result<OpenedAccount, AccountError> {
        let keyring = &self.service.keyring;
        let data_key = keyring.unwrap_data_key(&self.wrapped, &self.context())?;
        let sealed = data_key.seal(
            &self.context(),
            Purpose::Credentials,
            &renewed.to_sealed_json(),
        )?;
        let fingerprint = keyring.fingerprint(&secret_material(&renewed));
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET credentials_mode = $3, credentials_public = $4,
                 credentials_sealed = $5, credential_fingerprint = $6,
                 credentials_updated_at = now(), updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            account_columns!()
        ))
        .bind(self.account.tenant_id.as_str())
        .bind(self.account.id.as_str())
        .bind(renewed.mode())
        .bind(json!(renewed.public_fields()))
        .bind(&sealed)
        .bind(&fingerprint)
        .fetch_one(&mut *self.tx)
        .await?;
        let account = ShipperAccount::from_row(&row)?;
        let mut summary = self.service.credentials_summary(&renewed, &fingerprint);
        summary.insert(
            "previous_fingerprint".into(),
            Value::String(self.account.credentials.fingerprint.clone()),
        );
        audit::record(
            &mut self.tx,
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
        self.tx.commit().await?;
        Ok(OpenedAccount {
            account,
            details: self.details,
            credentials: renewed,
        })
    }

    /// The carrier would not renew the credentials: the account becomes
    /// `reauthorization_required` until the merchant signs in again. Audited
    /// `account.oauth_failed` with the carrier's (secret-free) reason.
    pub async fn fail(mut self, error: &CarrierError) -> Result<ShipperAccount, AccountError> {
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET status = 'reauthorization_required', updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            account_columns!()
        ))
        .bind(self.account.tenant_id.as_str())
        .bind(self.account.id.as_str())
        .fetch_one(&mut *self.tx)
        .await?;
        let account = ShipperAccount::from_row(&row)?;
        let summary = json!({
            "stage": "refresh",
            "kind": error.kind().as_str(),
            "reason": error.to_string(),
            "previous_status": self.account.status.as_str(),
            "status": AccountStatus::ReauthorizationRequired.as_str(),
        });
        audit::record(
            &mut self.tx,
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
            &mut self.tx,
            &crate::event::NewEvent {
                tenant_id: &self.account.tenant_id,
                event_type: crate::event::EventType::AccountReauthorizationRequired,
                subject_id: self.account.id.as_str(),
                data,
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(account)
    }

    /// Ends the renewal without a change (nothing was due any more, or the carrier could not
    /// be reached and a later attempt will renew).
    pub async fn release(self) -> Result<OpenedAccount, AccountError> {
        self.tx.commit().await?;
        Ok(OpenedAccount {
            account: self.account,
            details: self.details,
            credentials: self.credentials,
        })
    }
}
