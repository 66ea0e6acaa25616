//! Shipper accounts: stored with their carrier-validated details and sealed credentials,
//! selected per label request, opened for use (audited) and re-keyed online.
//!
//! The service is carrier-agnostic: the carrier plugin (from the [`CarrierRegistry`]) validates
//! details and credentials and says which services an account offers; this module only stores,
//! seals, selects and audits.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use carrier::{
    AccountDetails, AccountInput, Carrier, CarrierExt, CarrierRegistry, Credentials,
    CredentialsInput, ServiceCode, ValidationErrors,
};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row, Transaction};

use crate::audit::{self, Action, Actor, NewEvent};
use crate::db::Database;
use crate::id::{AccountId, TenantId};
use crate::registration::{Created, VerificationStep};
use crate::selection::{self, Candidate, SelectedBy, Wanted};
use crate::vault::{KeyContext, MasterKeyring, Purpose, VaultError, WrappedKey};

/// How fresh an account's `last_used_at` is kept: a use moves it only when it is older than
/// this. The audit trail records every use.
pub const LAST_USED_RESOLUTION: std::time::Duration = std::time::Duration::from_secs(60);

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    PendingDetails,
    /// Registered with the carrier, waiting for the merchant to prove the account is theirs
    /// ([`crate::registration`]).
    PendingVerification,
    ReauthorizationRequired,
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::PendingDetails => "pending_details",
            AccountStatus::PendingVerification => "pending_verification",
            AccountStatus::ReauthorizationRequired => "reauthorization_required",
            AccountStatus::Disabled => "disabled",
        }
    }

    fn from_stored(raw: &str) -> Result<Self, sqlx::Error> {
        Ok(match raw {
            "active" => AccountStatus::Active,
            "pending_details" => AccountStatus::PendingDetails,
            "pending_verification" => AccountStatus::PendingVerification,
            "reauthorization_required" => AccountStatus::ReauthorizationRequired,
            "disabled" => AccountStatus::Disabled,
            other => {
                return Err(sqlx::Error::Decode(
                    format!("unknown account status {other:?}").into(),
                ));
            }
        })
    }
}

/// Free-form `key: value` labels on an account, used by selectors (`{"location": "east"}`).
pub type Tags = BTreeMap<String, String>;

/// Checks tags: at most 20, keys 1–64 characters of letters, digits, `_`, `-`, `.`, values
/// 1–200 characters.
pub fn parse_tags(field: &str, value: &Value) -> Result<Tags, ValidationErrors> {
    let Value::Object(map) = value else {
        return Err(ValidationErrors::single(
            field,
            "must be an object of strings",
        ));
    };
    let mut errors = ValidationErrors::new();
    if map.len() > 20 {
        errors.push(field, "may have at most 20 tags");
    }
    let mut tags = Tags::new();
    for (key, value) in map {
        let key_valid = (1..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !key_valid {
            errors.push(
                format!("{field}.{key}"),
                "tag names are 1-64 letters, digits, _, - or .",
            );
            continue;
        }
        match value {
            Value::String(text) if carrier::text::has_control(text) => {
                errors.push(format!("{field}.{key}"), carrier::text::CONTROL_CHARACTERS);
            }
            Value::String(text) if (1..=200).contains(&text.chars().count()) => {
                tags.insert(key.clone(), text.clone());
            }
            _ => errors.push(
                format!("{field}.{key}"),
                "must be a string of 1-200 characters",
            ),
        }
    }
    errors.finish(|| tags)
}

/// Refuses control characters anywhere in an account's details or credentials, whatever the
/// carrier (they would otherwise reach Postgres, which refuses a NUL, or the carrier). Secrets
/// are named by their field, never echoed.
fn check_plain_input(
    details: Option<&Value>,
    credentials: Option<&CredentialsInput>,
    errors: &mut ValidationErrors,
) {
    if let Some(details) = details {
        carrier::text::check_json("details", details, errors);
    }
    for (key, value) in credentials.into_iter().flat_map(CredentialsInput::iter) {
        if carrier::text::has_control(key) {
            errors.push("credentials", "has a field name with control characters");
        } else if carrier::text::has_control(value.expose_secret()) {
            errors.push(
                format!("credentials.{key}"),
                carrier::text::CONTROL_CHARACTERS,
            );
        }
    }
}

pub(crate) fn check_name(name: &str) -> Result<String, ValidationErrors> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ValidationErrors::single(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    carrier::text::check_plain("name", name)?;
    Ok(name.to_owned())
}

/// The credentials as shown on read: never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialsSummary {
    pub mode: String,
    /// Public fields the plugin keeps (e.g. `client_id`, token expiry times).
    #[serde(flatten)]
    pub public: BTreeMap<String, String>,
    /// A keyed fingerprint of the secrets (`sha256:…`): equal fingerprints, same secrets.
    pub fingerprint: String,
    pub updated_at: DateTime<Utc>,
}

/// A shipper account as the API shows it (secrets masked or absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipperAccount {
    pub id: AccountId,
    #[serde(skip)]
    pub tenant_id: TenantId,
    pub carrier: String,
    pub name: String,
    pub status: AccountStatus,
    pub is_default: bool,
    pub priority: i32,
    pub tags: Tags,
    pub details: Value,
    pub credentials: CredentialsSummary,
    /// What the carrier offered at sign-in (accounts connected by OAuth), for the details form:
    /// the choices by detail name, and under `prefill_unavailable` why it offered nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onboarding: Option<Value>,
    /// The step a `pending_verification` account waits on ([`crate::registration`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationStep>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns [`ShipperAccount::from_row`] reads, for `concat!` into static SQL.
macro_rules! account_columns {
    () => {
        "id, tenant_id, carrier, name, status, is_default, priority, tags, details, \
         credentials_mode, credentials_public, credential_fingerprint, credentials_updated_at, \
         last_used_at, created_at, updated_at, onboarding, verification, verification_attempts"
    };
}
pub(crate) use account_columns;

fn decode_error(error: ValidationErrors) -> sqlx::Error {
    sqlx::Error::Decode(error.to_string().into())
}

impl ShipperAccount {
    /// Why the carrier shared nothing to pre-fill this account at sign-in, as its `onboarding`
    /// keeps it ([`carrier::AccountPrefill::onboarding`]).
    pub fn prefill_unavailable(&self) -> Option<&str> {
        self.onboarding
            .as_ref()?
            .get(carrier::AccountPrefill::UNAVAILABLE_KEY)?
            .as_str()
    }

    pub(crate) fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let tags: Value = row.try_get("tags")?;
        let public: Value = row.try_get("credentials_public")?;
        Ok(Self {
            id: AccountId::parse("id", row.try_get("id")?).map_err(decode_error)?,
            tenant_id: TenantId::parse("tenant_id", row.try_get("tenant_id")?)
                .map_err(decode_error)?,
            carrier: row.try_get("carrier")?,
            name: row.try_get("name")?,
            status: AccountStatus::from_stored(row.try_get("status")?)?,
            is_default: row.try_get("is_default")?,
            priority: row.try_get("priority")?,
            tags: serde_json::from_value(tags).map_err(|e| sqlx::Error::Decode(e.into()))?,
            details: row.try_get("details")?,
            credentials: CredentialsSummary {
                mode: row.try_get("credentials_mode")?,
                public: serde_json::from_value(public)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
                fingerprint: row.try_get("credential_fingerprint")?,
                updated_at: row.try_get("credentials_updated_at")?,
            },
            onboarding: row.try_get("onboarding")?,
            verification: VerificationStep::from_row(row)?,
            last_used_at: row.try_get("last_used_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A new account from the API (`POST /v1/shipper-accounts`).
#[derive(Debug)]
pub struct NewAccount {
    pub carrier: String,
    pub name: String,
    pub details: Value,
    pub credentials: CredentialsInput,
    /// `None`: the account becomes the default when the tenant has no default account of its
    /// carrier yet (a tenant's first account is its default).
    pub is_default: Option<bool>,
    pub priority: i32,
    pub tags: Tags,
}

/// A partial update (`PATCH /v1/shipper-accounts/{id}`): absent fields stay; `details` is a
/// JSON merge patch (RFC 7396) over the stored details; new credentials replace secrets.
#[derive(Debug, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub details: Option<Value>,
    pub credentials: Option<CredentialsInput>,
    pub is_default: Option<bool>,
    pub priority: Option<i32>,
    pub tags: Option<Tags>,
}

/// The request context of a change: the tenant, who acts, and the request id for the audit.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub tenant: &'a TenantId,
    pub actor: &'a Actor,
    pub request_id: Option<&'a str>,
}

/// What went wrong in the account service.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid account: {0}")]
    Validation(ValidationErrors),
    #[error("shipper account not found")]
    NotFound,
    #[error("no eligible account: {0}")]
    NoEligibleAccount(String),
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
    #[error("stored credentials are unreadable: {0}")]
    CorruptCredentials(String),
    /// The account's state does not allow this now; `code` names the state
    /// (`renewal_in_progress`, `account_disabled`) for the API's answer.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The account cannot do this at all (reconnect an account that was not signed in).
    #[error("{0}")]
    NotSupported(String),
    /// The carrier refused an answer to an account's verification (a wrong code): the fields
    /// at fault, and how many wrong proofs the registration still takes.
    #[error("the carrier refused the answer: {errors}")]
    VerificationRefused {
        errors: ValidationErrors,
        attempts_remaining: u32,
    },
    /// The carrier could not be asked (a registration call).
    #[error("{carrier}: {error}")]
    Carrier {
        carrier: &'static str,
        error: carrier::CarrierError,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<ValidationErrors> for AccountError {
    fn from(errors: ValidationErrors) -> Self {
        AccountError::Validation(errors)
    }
}

/// An account chosen for a label, opened for use.
pub struct UsableAccount {
    pub account: ShipperAccount,
    pub selected_by: SelectedBy,
    pub details: AccountDetails,
    pub credentials: Credentials,
}

impl std::fmt::Debug for UsableAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsableAccount")
            .field("account", &self.account.id)
            .field("selected_by", &self.selected_by)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// Which account to use for a label.
#[derive(Debug, Clone, Copy)]
pub struct Selector<'a> {
    pub carrier: &'a str,
    pub service: &'a ServiceCode,
    pub account_id: Option<&'a str>,
    pub tags: Option<&'a Tags>,
    /// The label purchase's `Idempotency-Key`, recorded in the `credentials_used` event so the
    /// trail says which purchase opened the credentials.
    pub idempotency_key: Option<&'a str>,
}

/// What a master-key rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rotation {
    pub accounts: u64,
    pub tokens: u64,
    /// Webhook endpoints (their signing secrets' data keys).
    pub webhook_endpoints: u64,
    /// Carrier push subscriptions (their notification secrets' data keys).
    pub tracking_subscriptions: u64,
}

/// The account service.
#[derive(Debug, Clone)]
pub struct AccountService {
    db: Database,
    pub(crate) keyring: Arc<MasterKeyring>,
    pub(crate) registry: CarrierRegistry,
}

/// The material a fingerprint covers: the secrets only, by name, in order.
pub(crate) fn secret_material(credentials: &Credentials) -> Vec<u8> {
    let mut material = Vec::new();
    for name in credentials.secret_names() {
        if let Some(secret) = credentials.secret(name) {
            material.extend_from_slice(name.as_bytes());
            material.push(0);
            material.extend_from_slice(secret.expose_secret().as_bytes());
            material.push(0);
        }
    }
    material
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

pub(crate) struct Sealed {
    pub(crate) credentials: Vec<u8>,
    pub(crate) wrapped: WrappedKey,
    pub(crate) fingerprint: String,
}

impl AccountService {
    pub fn new(db: Database, keyring: Arc<MasterKeyring>, registry: CarrierRegistry) -> Self {
        Self {
            db,
            keyring,
            registry,
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub(crate) fn carrier(&self, id: &str) -> Result<&Arc<dyn Carrier>, AccountError> {
        self.registry.get(id).ok_or_else(|| {
            let known = self.registry.ids().collect::<Vec<_>>().join(", ");
            AccountError::Validation(ValidationErrors::single(
                "carrier",
                format!("unknown carrier (known: {known})"),
            ))
        })
    }

    /// Seals `credentials` for a new account under a fresh data key.
    pub(crate) fn seal_new(
        &self,
        context: &KeyContext<'_>,
        credentials: &Credentials,
    ) -> Result<Sealed, AccountError> {
        let (data_key, wrapped) = self.keyring.new_data_key(context)?;
        let sealed = data_key.seal(context, Purpose::Credentials, &credentials.to_sealed_json())?;
        Ok(Sealed {
            credentials: sealed,
            wrapped,
            fingerprint: self.keyring.fingerprint(&secret_material(credentials)),
        })
    }

    pub(crate) fn open(
        &self,
        context: &KeyContext<'_>,
        wrapped: &WrappedKey,
        sealed: &[u8],
    ) -> Result<Credentials, AccountError> {
        let data_key = self.keyring.unwrap_data_key(wrapped, context)?;
        let plain = data_key.open(context, Purpose::Credentials, sealed)?;
        Credentials::from_sealed_json(&plain)
            .map_err(|error| AccountError::CorruptCredentials(error.to_string()))
    }

    pub(crate) fn credentials_summary(
        &self,
        credentials: &Credentials,
        fingerprint: &str,
    ) -> Map<String, Value> {
        let mut summary = Map::new();
        summary.insert("mode".into(), Value::String(credentials.mode().to_owned()));
        for (key, value) in credentials.public_fields() {
            summary.insert(key.clone(), Value::String(value.clone()));
        }
        summary.insert("fingerprint".into(), Value::String(fingerprint.to_owned()));
        summary
    }

    /// Creates an account whose credentials the client supplies (`own_app` …), or one the
    /// carrier registers ([`crate::registration`]): in the carrier's registration mode the
    /// details are sent to the carrier first, and the account is created `pending_verification`
    /// (or `active`, when the carrier issued credentials at once). Accounts connected by OAuth
    /// consent are created by the connect flow instead.
    pub async fn create(
        &self,
        context: Context<'_>,
        new: NewAccount,
    ) -> Result<ShipperAccount, AccountError> {
        let carrier = self.carrier(&new.carrier)?.clone();
        let mut errors = ValidationErrors::new();
        let name = errors.collect(check_name(&new.name));
        check_plain_input(Some(&new.details), Some(&new.credentials), &mut errors);
        let validated = errors.collect(carrier.validate_account(AccountInput {
            details: &new.details,
            credentials: Some(&new.credentials),
            current: None,
        }));
        let registers = validated.as_ref().is_some_and(|validated| {
            carrier
                .registration()
                .is_some_and(|hooks| hooks.mode() == validated.credentials.mode())
        });
        if let Some(validated) = &validated {
            if validated.needs_authorization && !registers {
                errors.push(
                    "credentials.mode",
                    format!(
                        "this mode is connected by signing in with {}: POST /v1/shipper-accounts/{}/connect",
                        carrier.name(),
                        carrier.id()
                    ),
                );
            }
        }
        let (Some(name), Some(validated)) = (name, validated) else {
            return Err(errors.into());
        };
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let created = if registers {
            self.register(context, carrier.as_ref(), &validated.details)
                .await?
        } else {
            Created::active(validated.credentials)
        };
        let id = AccountId::generate();
        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: id.as_str(),
        };
        let sealed = self.seal_new(&key_context, &created.credentials)?;
        let mut tx = self.db.tenant(context.tenant).await?;
        let is_default =
            default_for_new(&mut tx, context.tenant, carrier.id(), new.is_default).await?;
        let row = sqlx::query(concat!(
            "INSERT INTO shipper_accounts (id, tenant_id, carrier, name, status, is_default, priority, tags,
                 details, credentials_mode, credentials_public, credentials_sealed, data_key_wrapped,
                 master_key_id, credential_fingerprint, verification)
             VALUES ($1, $2, $3, $4, $15, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16)
             RETURNING ",
            account_columns!()
        ))
        .bind(id.as_str())
        .bind(context.tenant.as_str())
        .bind(carrier.id())
        .bind(&name)
        .bind(is_default)
        .bind(new.priority)
        .bind(json!(new.tags))
        .bind(validated.details.clone().into_value())
        .bind(created.credentials.mode())
        .bind(json!(created.credentials.public_fields()))
        .bind(&sealed.credentials)
        .bind(&sealed.wrapped.ciphertext)
        .bind(&sealed.wrapped.master_key_id)
        .bind(&sealed.fingerprint)
        .bind(created.status.as_str())
        .bind(created.verification.as_ref().map(VerificationStep::stored))
        .fetch_one(&mut *tx)
        .await?;
        let account = ShipperAccount::from_row(&row)?;
        let mut summary = Map::new();
        summary.insert("name".into(), Value::String(account.name.clone()));
        summary.insert("carrier".into(), Value::String(account.carrier.clone()));
        summary.insert(
            "credentials".into(),
            Value::Object(self.credentials_summary(&created.credentials, &sealed.fingerprint)),
        );
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(context.tenant),
                actor: context.actor,
                action: Action::AccountCreated,
                target: Some(id.as_str()),
                request_id: context.request_id,
                summary,
            },
        )
        .await?;
        if registers {
            let (action, summary) = match &created.verification {
                Some(step) => (Action::VerificationStarted, step.summary()),
                None => (
                    Action::Verified,
                    self.credentials_summary(&created.credentials, &sealed.fingerprint),
                ),
            };
            audit::record(
                &mut tx,
                NewEvent {
                    tenant: Some(context.tenant),
                    actor: context.actor,
                    action,
                    target: Some(id.as_str()),
                    request_id: context.request_id,
                    summary,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(account)
    }

    /// One account of the tenant; another tenant's id is `NotFound`.
    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<ShipperAccount, AccountError> {
        let mut tx = self.db.tenant(tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM shipper_accounts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        tx.commit().await?;
        Ok(ShipperAccount::from_row(&row)?)
    }

    /// The tenant's accounts, oldest first, after the cursor `after` (an account id).
    pub async fn list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ShipperAccount>, AccountError> {
        let mut tx = self.db.tenant(tenant).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM shipper_accounts
             WHERE tenant_id = $1 AND ($2::text IS NULL OR (created_at, id) >
                 (SELECT created_at, id FROM shipper_accounts WHERE tenant_id = $1 AND id = $2))
             ORDER BY created_at, id LIMIT $3"
        ))
        .bind(tenant.as_str())
        .bind(after)
        .bind(limit.clamp(1, 100))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| ShipperAccount::from_row(row).map_err(AccountError::from))
            .collect()
    }

    /// Every tenant's accounts (the admin view), filtered.
    pub async fn list_all(
        &self,
        tenant: Option<&TenantId>,
        carrier: Option<&str>,
        status: Option<AccountStatus>,
        limit: i64,
    ) -> Result<Vec<ShipperAccount>, AccountError> {
        let mut tx = self.db.admin().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM shipper_accounts
             WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR carrier = $2)
               AND ($3::text IS NULL OR status = $3)
             ORDER BY created_at, id LIMIT $4"
        ))
        .bind(tenant.map(TenantId::as_str))
        .bind(carrier)
        .bind(status.map(AccountStatus::as_str))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| ShipperAccount::from_row(row).map_err(AccountError::from))
            .collect()
    }

    /// Applies `changes`; new secrets rotate the credentials (audited as such).
    pub async fn update(
        &self,
        context: Context<'_>,
        id: &str,
        changes: AccountChanges,
    ) -> Result<ShipperAccount, AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            ", credentials_sealed, data_key_wrapped, master_key_id,
               coalesce(renewal_lease_until > now(), false) AS renewal_in_progress
             FROM shipper_accounts WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ))
        .bind(context.tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        let current = ShipperAccount::from_row(&row)?;
        let renewal_in_progress: bool = row.try_get("renewal_in_progress")?;
        let carrier = self.carrier(&current.carrier)?.clone();
        let mut errors = ValidationErrors::new();
        let name = match &changes.name {
            Some(name) => errors.collect(check_name(name)),
            None => Some(current.name.clone()),
        };
        if changes.is_default == Some(true) && current.status == AccountStatus::Disabled {
            errors.push("is_default", "a disabled account cannot be the default");
        }

        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: current.id.as_str(),
        };
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let sealed: Vec<u8> = row.try_get("credentials_sealed")?;
        let mut details = current.details.clone();
        let mut status = current.status;
        let mut new_credentials: Option<(Credentials, String, Vec<u8>)> = None;
        let mut new_details: Option<Value> = None;
        check_plain_input(
            changes.details.as_ref(),
            changes.credentials.as_ref(),
            &mut errors,
        );
        if current.status == AccountStatus::PendingVerification
            && (changes.details.is_some() || changes.credentials.is_some())
        {
            // The carrier is verifying the account as it was registered: new details or
            // credentials would be stored without it.
            return Err(crate::registration::in_progress(&current.id));
        }
        if changes.details.is_some() || changes.credentials.is_some() {
            let stored = self.open(&key_context, &wrapped, &sealed)?;
            if let Some(patch) = &changes.details {
                if patch.is_object() {
                    merge_patch(&mut details, patch);
                } else {
                    errors.push("details", "must be an object");
                }
            }
            let validated = errors.collect(carrier.validate_account(AccountInput {
                details: &details,
                credentials: changes.credentials.as_ref(),
                current: Some(&stored),
            }));
            let registering = |credentials: &Credentials| {
                carrier
                    .registration()
                    .is_some_and(|hooks| hooks.mode() == credentials.mode())
            };
            if let Some(validated) = &validated {
                if registering(&validated.credentials) && !registering(&stored) {
                    errors.push(
                        "credentials.mode",
                        "a registration with the carrier starts a new account: POST /v1/shipper-accounts",
                    );
                }
            }
            if let Some(validated) = validated {
                if status == AccountStatus::PendingDetails && !validated.needs_authorization {
                    status = AccountStatus::Active;
                }
                let fingerprint = self
                    .keyring
                    .fingerprint(&secret_material(&validated.credentials));
                let credentials_changed = fingerprint != current.credentials.fingerprint
                    || validated.credentials.mode() != stored.mode()
                    || validated.credentials.public_fields() != stored.public_fields();
                if credentials_changed {
                    let data_key = self.keyring.unwrap_data_key(&wrapped, &key_context)?;
                    let resealed = data_key.seal(
                        &key_context,
                        Purpose::Credentials,
                        &validated.credentials.to_sealed_json(),
                    )?;
                    new_credentials = Some((validated.credentials, fingerprint, resealed));
                }
                new_details = Some(validated.details.into_value());
            }
        }
        let Some(name) = name else {
            return Err(errors.into());
        };
        if !errors.is_empty() {
            return Err(errors.into());
        }
        if new_credentials.is_some() && renewal_in_progress {
            // Written now, these credentials would race the tokens the renewal is about to
            // store (see `onboarding`): the client retries once the lease has cleared.
            return Err(AccountError::Conflict {
                code: "renewal_in_progress",
                message: format!(
                    "shipper account {} is renewing its authorization with the carrier right now; \
                     retry the credentials change in a few seconds",
                    current.id
                ),
            });
        }
        if changes.is_default == Some(true) {
            clear_default(&mut tx, context.tenant, &current.carrier).await?;
        }
        let details = new_details.unwrap_or(details);
        let (mode, public, fingerprint, sealed_out) = match &new_credentials {
            Some((credentials, fingerprint, resealed)) => (
                Some(credentials.mode().to_owned()),
                Some(json!(credentials.public_fields())),
                Some(fingerprint.clone()),
                Some(resealed.clone()),
            ),
            None => (None, None, None, None),
        };
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET
                 name = $3, status = $4, is_default = coalesce($5, is_default),
                 priority = coalesce($6, priority), tags = coalesce($7, tags), details = $8,
                 credentials_mode = coalesce($9, credentials_mode),
                 credentials_public = coalesce($10, credentials_public),
                 credential_fingerprint = coalesce($11, credential_fingerprint),
                 credentials_sealed = coalesce($12, credentials_sealed),
                 credentials_updated_at = CASE WHEN $12 IS NULL THEN credentials_updated_at ELSE now() END,
                 renewal_fence = CASE WHEN $12 IS NULL THEN renewal_fence ELSE renewal_fence + 1 END,
                 updated_at = now()
             WHERE tenant_id = $1 AND id = $2
             RETURNING ",
            account_columns!()
        ))
        .bind(context.tenant.as_str())
        .bind(current.id.as_str())
        .bind(&name)
        .bind(status.as_str())
        .bind(changes.is_default)
        .bind(changes.priority)
        .bind(changes.tags.as_ref().map(|tags| json!(tags)))
        .bind(&details)
        .bind(mode)
        .bind(public)
        .bind(fingerprint)
        .bind(sealed_out)
        .fetch_one(&mut *tx)
        .await?;
        let updated = ShipperAccount::from_row(&row)?;

        let changed: Vec<Value> = [
            ("name", changes.name.is_some()),
            ("details", changes.details.is_some()),
            ("is_default", changes.is_default.is_some()),
            ("priority", changes.priority.is_some()),
            ("tags", changes.tags.is_some()),
            ("status", status != current.status),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(field, _)| Value::String(field.to_owned()))
        .collect();
        if !changed.is_empty() {
            let mut summary = Map::new();
            summary.insert("changed".into(), Value::Array(changed));
            summary.insert("status".into(), Value::String(status.as_str().to_owned()));
            audit::record(
                &mut tx,
                NewEvent {
                    tenant: Some(context.tenant),
                    actor: context.actor,
                    action: Action::AccountUpdated,
                    target: Some(updated.id.as_str()),
                    request_id: context.request_id,
                    summary,
                },
            )
            .await?;
        }
        if let Some((credentials, fingerprint, _)) = &new_credentials {
            let mut summary = self.credentials_summary(credentials, fingerprint);
            summary.insert(
                "previous_fingerprint".into(),
                Value::String(current.credentials.fingerprint.clone()),
            );
            audit::record(
                &mut tx,
                NewEvent {
                    tenant: Some(context.tenant),
                    actor: context.actor,
                    action: Action::CredentialsRotated,
                    target: Some(updated.id.as_str()),
                    request_id: context.request_id,
                    summary,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// Disables an account (`DELETE`): it is never selected again; history and audit stay.
    pub async fn disable(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<ShipperAccount, AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET status = 'disabled', is_default = false, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING ",
            account_columns!()
        ))
        .bind(context.tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        let account = ShipperAccount::from_row(&row)?;
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(context.tenant),
                actor: context.actor,
                action: Action::AccountDisabled,
                target: Some(account.id.as_str()),
                request_id: context.request_id,
                summary: Map::new(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Selects the account for a label and opens its credentials for use, in one transaction:
    /// the decryption is audited (`account.credentials_used`) and `last_used_at` is set (to
    /// the minute: [`LAST_USED_RESOLUTION`]).
    pub async fn select_for_use(
        &self,
        context: Context<'_>,
        selector: Selector<'_>,
    ) -> Result<UsableAccount, AccountError> {
        let carrier = self.carrier(selector.carrier)?.clone();
        let tx = self.db.tenant(context.tenant).await?;
        self.select_for_use_in(tx, carrier, context, selector).await
    }

    /// [`AccountService::select_for_use`] inside the caller's transaction (which must be
    /// scoped to `context.tenant`), which the caller commits: the label flow selects, opens and
    /// records its `carrier_called` phase in one transaction, so a label costs one commit before
    /// the carrier is called, not three. Rolled back, nothing of the selection remains (its
    /// audit event included): the credentials were opened but never left the process.
    pub async fn select_for_use_within(
        &self,
        tx: &mut PgConnection,
        context: Context<'_>,
        selector: Selector<'_>,
    ) -> Result<UsableAccount, AccountError> {
        let carrier = self.carrier(selector.carrier)?.clone();
        self.choose_and_open(tx, carrier, context, selector).await
    }

    async fn select_for_use_in(
        &self,
        mut tx: Transaction<'static, Postgres>,
        carrier: Arc<dyn Carrier>,
        context: Context<'_>,
        selector: Selector<'_>,
    ) -> Result<UsableAccount, AccountError> {
        let usable = self
            .choose_and_open(&mut tx, carrier, context, selector)
            .await?;
        tx.commit().await?;
        Ok(usable)
    }

    async fn choose_and_open(
        &self,
        tx: &mut PgConnection,
        carrier: Arc<dyn Carrier>,
        context: Context<'_>,
        selector: Selector<'_>,
    ) -> Result<UsableAccount, AccountError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM shipper_accounts
             WHERE tenant_id = $1 AND carrier = $2 ORDER BY created_at, id"
        ))
        .bind(context.tenant.as_str())
        .bind(carrier.id())
        .fetch_all(&mut *tx)
        .await?;
        let accounts = rows
            .iter()
            .map(ShipperAccount::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let offers: Vec<bool> = accounts
            .iter()
            .map(|account| match &account.details {
                Value::Object(map) => {
                    carrier.supports_service(&AccountDetails::new(map.clone()), selector.service)
                }
                _ => false,
            })
            .collect();
        let candidates: Vec<Candidate<'_>> = accounts
            .iter()
            .zip(&offers)
            .map(|(account, offers)| Candidate {
                id: account.id.as_str(),
                name: &account.name,
                status: account.status,
                is_default: account.is_default,
                priority: account.priority,
                tags: &account.tags,
                created_at: account.created_at,
                offers_service: *offers,
            })
            .collect();
        let (index, selected_by) = selection::choose(
            &candidates,
            Wanted {
                carrier_name: carrier.name(),
                service: selector.service.as_str(),
                explicit_id: selector.account_id,
                selector: selector.tags,
            },
        )
        .map_err(AccountError::NoEligibleAccount)?;
        let account = accounts
            .into_iter()
            .nth(index)
            .ok_or(AccountError::NotFound)?;
        let used_for = selector.idempotency_key.map(|key| {
            Map::from_iter([
                ("operation".to_owned(), json!("return_label.create")),
                ("idempotency_key".to_owned(), json!(key)),
            ])
        });
        let (details, credentials) = self.open_in(tx, context, &account, used_for).await?;
        Ok(UsableAccount {
            account,
            selected_by,
            details,
            credentials,
        })
    }

    /// Opens one account's credentials for `operation` on `target` (audited with both, e.g.
    /// `return_label.void` of `lbl_…`), whatever the account's status: a label bought with an
    /// account since disabled can still be voided.
    pub async fn open_for_operation(
        &self,
        context: Context<'_>,
        id: &str,
        operation: &str,
        target: &str,
    ) -> Result<(ShipperAccount, AccountDetails, Credentials), AccountError> {
        let account = self.get(context.tenant, id).await?;
        let used_for = Map::from_iter([
            ("operation".to_owned(), json!(operation)),
            ("target".to_owned(), json!(target)),
        ]);
        let mut tx = self.db.tenant(context.tenant).await?;
        let (details, credentials) = self
            .open_in(&mut tx, context, &account, Some(used_for))
            .await?;
        tx.commit().await?;
        Ok((account, details, credentials))
    }

    /// Opens one account's credentials for use (audited), whatever its status: the OAuth
    /// refresh job needs accounts that cannot buy labels yet.
    pub async fn open_for_use(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<(ShipperAccount, AccountDetails, Credentials), AccountError> {
        let account = self.get(context.tenant, id).await?;
        let mut tx = self.db.tenant(context.tenant).await?;
        let (details, credentials) = self.open_in(&mut tx, context, &account, None).await?;
        tx.commit().await?;
        Ok((account, details, credentials))
    }

    async fn open_in(
        &self,
        tx: &mut PgConnection,
        context: Context<'_>,
        account: &ShipperAccount,
        used_for: Option<Map<String, Value>>,
    ) -> Result<(AccountDetails, Credentials), AccountError> {
        // `last_used_at` is kept to the minute ([`LAST_USED_RESOLUTION`]): writing it on every
        // use would lock the account's row for every label, queueing a busy account's
        // purchases behind one another (and piling key-share locks of the label inserts into
        // multixacts). The audit trail has every use to the microsecond.
        //
        // The use is audited in the same statement, before the credentials are opened: if they
        // cannot be (not found, a wrong key), the error rolls the caller's transaction back,
        // event and all, as every caller does.
        static OPEN: LazyLock<String> = LazyLock::new(|| {
            format!(
                "WITH touched AS (
                     UPDATE shipper_accounts SET last_used_at = now()
                     WHERE tenant_id = $1 AND id = $2
                       AND (last_used_at IS NULL
                            OR last_used_at < now() - make_interval(secs => $3))),
                 used AS ({})
                 SELECT credentials_sealed, data_key_wrapped, master_key_id FROM shipper_accounts
                 WHERE tenant_id = $1 AND id = $2",
                audit::insert_sql(4)
            )
        });
        let mut summary = used_for.unwrap_or_default();
        summary.insert(
            "fingerprint".into(),
            Value::String(account.credentials.fingerprint.clone()),
        );
        let query = sqlx::query(OPEN.as_str())
            .bind(context.tenant.as_str())
            .bind(account.id.as_str())
            .bind(LAST_USED_RESOLUTION.as_secs_f64());
        let used = NewEvent {
            tenant: Some(context.tenant),
            actor: context.actor,
            action: Action::CredentialsUsed,
            target: Some(account.id.as_str()),
            request_id: context.request_id,
            summary,
        };
        let row = audit::bind(query, used)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AccountError::NotFound)?;
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
        let details = match &account.details {
            Value::Object(map) => AccountDetails::new(map.clone()),
            _ => AccountDetails::default(),
        };
        Ok((details, credentials))
    }

    /// Re-wraps every data key under the primary master key, in small batches, while reads go
    /// on (`backhaul keys rotate`). Rows being written are skipped and picked up on the next
    /// pass; the rotation ends when no row is left on another key.
    pub async fn rotate_master_keys(&self, actor: &Actor) -> Result<Rotation, AccountError> {
        let primary = self.keyring.primary().id().to_owned();
        let accounts = self.rotate_table(&primary, Table::Accounts).await?;
        let tokens = self.rotate_table(&primary, Table::CarrierTokens).await?;
        let webhook_endpoints = self.rotate_table(&primary, Table::WebhookEndpoints).await?;
        let tracking_subscriptions = self
            .rotate_table(&primary, Table::TrackingSubscriptions)
            .await?;
        let mut tx = self.db.admin().await?;
        let summary = json!({
            "primary": primary, "accounts": accounts, "tokens": tokens,
            "webhook_endpoints": webhook_endpoints,
            "tracking_subscriptions": tracking_subscriptions,
        });
        audit::record(
            &mut tx,
            NewEvent {
                tenant: None,
                actor,
                action: Action::KeysRotated,
                target: None,
                request_id: None,
                summary: summary.as_object().cloned().unwrap_or_default(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Rotation {
            accounts,
            tokens,
            webhook_endpoints,
            tracking_subscriptions,
        })
    }

    async fn rotate_table(&self, primary: &str, table: Table) -> Result<u64, AccountError> {
        let mut rotated = 0;
        loop {
            let mut tx = self.db.admin().await?;
            let rows = sqlx::query(table.select_batch())
                .bind(primary)
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                tx.commit().await?;
                let left: i64 = sqlx::query_scalar(table.count_left())
                    .bind(primary)
                    .fetch_one(&mut *self.db.admin().await?)
                    .await?;
                if left == 0 {
                    return Ok(rotated);
                }
                // Rows locked by a writer: wait for it rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            for row in rows {
                let id: String = row.try_get("id")?;
                let tenant: String = row.try_get("tenant")?;
                let wrapped = WrappedKey {
                    master_key_id: row.try_get("master_key_id")?,
                    ciphertext: row.try_get("data_key_wrapped")?,
                };
                let context = KeyContext {
                    tenant_id: &tenant,
                    account_id: &id,
                };
                let rewrapped = self.keyring.rewrap(&wrapped, &context)?;
                sqlx::query(table.update())
                    .bind(&id)
                    .bind(&rewrapped.ciphertext)
                    .bind(&rewrapped.master_key_id)
                    .execute(&mut *tx)
                    .await?;
                rotated += 1;
            }
            tx.commit().await?;
        }
    }
}

/// The sealed tables a rotation walks.
#[derive(Debug, Clone, Copy)]
enum Table {
    Accounts,
    CarrierTokens,
    /// Keyed like accounts: the endpoint's id stands where an account's would.
    WebhookEndpoints,
    /// Keyed by the account the subscription belongs to (one per account).
    TrackingSubscriptions,
}

/// Carrier tokens have no tenant; their key context uses this one.
pub const PLATFORM_CONTEXT_TENANT: &str = "platform";

impl Table {
    fn select_batch(self) -> &'static str {
        match self {
            Table::Accounts => {
                "SELECT id, tenant_id AS tenant, master_key_id, data_key_wrapped FROM shipper_accounts
                 WHERE master_key_id <> $1 ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
            }
            Table::CarrierTokens => {
                "SELECT cache_key AS id, 'platform' AS tenant, master_key_id, data_key_wrapped
                 FROM carrier_tokens WHERE master_key_id <> $1 ORDER BY cache_key LIMIT 100
                 FOR UPDATE SKIP LOCKED"
            }
            Table::WebhookEndpoints => {
                "SELECT id, tenant_id AS tenant, master_key_id, data_key_wrapped FROM webhook_endpoints
                 WHERE master_key_id <> $1 ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED"
            }
            Table::TrackingSubscriptions => {
                "SELECT shipper_account_id AS id, tenant_id AS tenant, master_key_id, data_key_wrapped
                 FROM tracking_subscriptions WHERE master_key_id <> $1 ORDER BY shipper_account_id
                 LIMIT 100 FOR UPDATE SKIP LOCKED"
            }
        }
    }

    fn count_left(self) -> &'static str {
        match self {
            Table::Accounts => "SELECT count(*) FROM shipper_accounts WHERE master_key_id <> $1",
            Table::CarrierTokens => "SELECT count(*) FROM carrier_tokens WHERE master_key_id <> $1",
            Table::WebhookEndpoints => {
                "SELECT count(*) FROM webhook_endpoints WHERE master_key_id <> $1"
            }
            Table::TrackingSubscriptions => {
                "SELECT count(*) FROM tracking_subscriptions WHERE master_key_id <> $1"
            }
        }
    }

    fn update(self) -> &'static str {
        match self {
            Table::Accounts => {
                "UPDATE shipper_accounts SET data_key_wrapped = $2, master_key_id = $3 WHERE id = $1"
            }
            Table::CarrierTokens => {
                "UPDATE carrier_tokens SET data_key_wrapped = $2, master_key_id = $3 WHERE cache_key = $1"
            }
            Table::WebhookEndpoints => {
                "UPDATE webhook_endpoints SET data_key_wrapped = $2, master_key_id = $3 WHERE id = $1"
            }
            Table::TrackingSubscriptions => {
                "UPDATE tracking_subscriptions SET data_key_wrapped = $2, master_key_id = $3
                 WHERE shipper_account_id = $1"
            }
        }
    }
}

/// Whether a new account of `carrier` is the tenant's default for it: as `requested`, the
/// current default stepping down for a new one; when not said, only if the tenant has no
/// default for that carrier yet — a tenant's first account is its default, as API.md's example
/// shows. Creations of one tenant's accounts of one carrier take turns here (a
/// transaction-scoped advisory lock), so two concurrent first accounts cannot both become the
/// default.
pub(crate) async fn default_for_new(
    tx: &mut PgConnection,
    tenant: &TenantId,
    carrier: &str,
    requested: Option<bool>,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('shipper_accounts.default:' || $1 || ':' || $2, 0))")
        .bind(tenant.as_str())
        .bind(carrier)
        .execute(&mut *tx)
        .await?;
    match requested {
        Some(true) => {
            clear_default(tx, tenant, carrier).await?;
            Ok(true)
        }
        Some(false) => Ok(false),
        None => {
            sqlx::query_scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM shipper_accounts
                                     WHERE tenant_id = $1 AND carrier = $2 AND is_default)",
            )
            .bind(tenant.as_str())
            .bind(carrier)
            .fetch_one(&mut *tx)
            .await
        }
    }
}

async fn clear_default(
    tx: &mut PgConnection,
    tenant: &TenantId,
    carrier: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE shipper_accounts SET is_default = false, updated_at = now()
         WHERE tenant_id = $1 AND carrier = $2 AND is_default",
    )
    .bind(tenant.as_str())
    .bind(carrier)
    .execute(tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_replaces_adds_and_removes() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut target, &json!({"a": null, "b": {"c": 5}, "e": "x"}));
        assert_eq!(target, json!({"b": {"c": 5, "d": 3}, "e": "x"}));
    }

    #[test]
    fn tags_are_checked_by_name() {
        let errors =
            parse_tags("tags", &json!({"location": "east", "bad key": "x", "n": 1})).unwrap_err();
        assert!(errors.names("tags.bad key"));
        assert!(errors.names("tags.n"));
        assert_eq!(
            parse_tags("tags", &json!({"location": "east"}))
                .unwrap()
                .get("location")
                .map(String::as_str),
            Some("east")
        );
    }
}
