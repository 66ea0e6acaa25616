//! A tenant's webhook endpoints: create, list, read, update, delete, rotate the secret, send a
//! `webhook.test` event. The secret (`whsec_` + base64 of 24 random bytes, the Standard
//! Webhooks format) is sealed under the endpoint's own data key and shown only by [`create`]
//! and [`rotate`](WebhookService::rotate); every change is audited with its actor and request
//! id, never with a secret.
//!
//! [`create`]: WebhookService::create

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use zeroize::Zeroizing;

use crate::account::{AccountError, Context};
use crate::audit::{self, Action};
use crate::db::Database;
use crate::event::{self, EventType, NewEvent};
use crate::id::{EventId, TenantId, WebhookEndpointId};
use crate::vault::{KeyContext, MasterKeyring, Purpose, WrappedKey};

/// How long the previous secret keeps signing after a rotation, so the receiver can switch.
pub const ROTATION_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// The prefix of a secret as shown (Standard Webhooks).
const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 24;

/// A signing secret's bytes. Zeroized on drop; `Debug` redacts it.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// A secret of these bytes (one opened from the vault, or a receiver's in a test).
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The key of the HMAC.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_` + base64 of the bytes: what the tenant is shown once and configures in its
    /// receiver.
    pub fn encoded(&self) -> SecretString {
        let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.0[..]));
        SecretString::from(format!("{SECRET_PREFIX}{}", encoded.as_str()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

/// Whether an endpoint is sent events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    Enabled,
    Disabled,
}

impl EndpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Enabled => "enabled",
            EndpointStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "enabled" => Some(EndpointStatus::Enabled),
            "disabled" => Some(EndpointStatus::Disabled),
            _ => None,
        }
    }
}

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    /// Event type names, or `["*"]`.
    pub events: Vec<String>,
    pub description: String,
    pub status: EndpointStatus,
    /// Why the endpoint is disabled (by its owner, or after persistent failure).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, url, events, description, status, disabled_reason, disabled_at, \
     CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END \
         AS previous_secret_expires_at, \
     last_success_at, created_at, updated_at";

impl Endpoint {
    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: WebhookEndpointId::parse("id", &id)
                .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
            url: row.try_get("url")?,
            events: row.try_get("events")?,
            description: row.try_get("description")?,
            status: EndpointStatus::parse(&status)
                .ok_or_else(|| sqlx::Error::Decode(format!("endpoint status {status}").into()))?,
            disabled_reason: row.try_get("disabled_reason")?,
            disabled_at: row.try_get("disabled_at")?,
            previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
            last_success_at: row.try_get("last_success_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// What the audit trail records of it (no secret).
    fn summary(&self) -> Map<String, Value> {
        let summary = json!({
            "url": self.url,
            "events": self.events,
            "status": self.status.as_str(),
        });
        summary.as_object().cloned().unwrap_or_default()
    }
}

/// A new endpoint, its URL and event names already checked by the caller.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
}

/// Changes to an endpoint (each optional). Enabling clears why it was disabled.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub status: Option<EndpointStatus>,
}

/// The endpoints of every tenant, their secrets in the vault.
#[derive(Debug, Clone)]
pub struct WebhookService {
    db: Database,
    keyring: Arc<MasterKeyring>,
}

impl WebhookService {
    pub fn new(db: Database, keyring: Arc<MasterKeyring>) -> Self {
        Self { db, keyring }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn keyring(&self) -> &MasterKeyring {
        &self.keyring
    }

    /// Creates an endpoint with a fresh secret, returned this once.
    pub async fn create(
        &self,
        context: Context<'_>,
        new: NewEndpoint,
    ) -> Result<(Endpoint, WebhookSecret), AccountError> {
        let id = WebhookEndpointId::generate();
        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: id.as_str(),
        };
        let secret = WebhookSecret::generate();
        let (data_key, wrapped) = self.keyring.new_data_key(&key_context)?;
        let sealed = data_key.seal(&key_context, Purpose::WebhookSecret, secret.bytes())?;
        let mut tx = self.db.tenant(context.tenant).await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, events, description, status,
                 secret_sealed, data_key_wrapped, master_key_id)
             VALUES ($1, $2, $3, $4, $5, 'enabled', $6, $7, $8) RETURNING {COLUMNS}"
        )))
        .bind(id.as_str())
        .bind(context.tenant.as_str())
        .bind(&new.url)
        .bind(&new.events)
        .bind(&new.description)
        .bind(&sealed)
        .bind(&wrapped.ciphertext)
        .bind(&wrapped.master_key_id)
        .fetch_one(&mut *tx)
        .await?;
        let endpoint = Endpoint::from_row(&row)?;
        audit_change(&mut tx, &context, Action::WebhookEndpointCreated, &endpoint).await?;
        tx.commit().await?;
        Ok((endpoint, secret))
    }

    /// A page of the tenant's endpoints, oldest first, after the endpoint `after`.
    pub async fn list(
        &self,
        tenant: &TenantId,
        after: Option<&WebhookEndpointId>,
        limit: i64,
    ) -> Result<Vec<Endpoint>, AccountError> {
        let mut tx = self.db.tenant(tenant).await?;
        if let Some(after) = after {
            fetch(&mut tx, tenant, after, Read::Plain).await?;
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints
             WHERE tenant_id = $1 AND ($2::text IS NULL OR (created_at, id) >
                 (SELECT created_at, id FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2))
             ORDER BY created_at, id LIMIT $3"
        )))
        .bind(tenant.as_str())
        .bind(after.map(WebhookEndpointId::as_str))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(Endpoint::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// One of the tenant's endpoints.
    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &WebhookEndpointId,
    ) -> Result<Endpoint, AccountError> {
        let mut tx = self.db.tenant(tenant).await?;
        let endpoint = fetch(&mut tx, tenant, id, Read::Plain).await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Applies `changes`; enabling a disabled endpoint clears its reason, disabling records
    /// that its owner did it.
    pub async fn update(
        &self,
        context: Context<'_>,
        id: &WebhookEndpointId,
        changes: EndpointChanges,
    ) -> Result<Endpoint, AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        let current = fetch(&mut tx, context.tenant, id, Read::ForUpdate).await?;
        let status = changes.status.unwrap_or(current.status);
        let (reason, at) = match (status, current.status) {
            (EndpointStatus::Enabled, _) => (None, None),
            (EndpointStatus::Disabled, EndpointStatus::Disabled) => {
                (current.disabled_reason.clone(), current.disabled_at)
            }
            (EndpointStatus::Disabled, EndpointStatus::Enabled) => {
                (Some("disabled by its owner".to_owned()), Some(Utc::now()))
            }
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_endpoints SET url = $3, events = $4, description = $5, status = $6,
                 disabled_reason = $7, disabled_at = $8, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        )))
        .bind(context.tenant.as_str())
        .bind(id.as_str())
        .bind(changes.url.as_ref().unwrap_or(&current.url))
        .bind(changes.events.as_ref().unwrap_or(&current.events))
        .bind(changes.description.as_ref().unwrap_or(&current.description))
        .bind(status.as_str())
        .bind(reason)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let endpoint = Endpoint::from_row(&row)?;
        audit_change(&mut tx, &context, Action::WebhookEndpointUpdated, &endpoint).await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Deletes an endpoint with its deliveries and their attempts (the audit trail and the
    /// event log stay). Returns it as it was.
    pub async fn delete(
        &self,
        context: Context<'_>,
        id: &WebhookEndpointId,
    ) -> Result<Endpoint, AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        let endpoint = fetch(&mut tx, context.tenant, id, Read::ForUpdate).await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
            .bind(context.tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        audit_change(&mut tx, &context, Action::WebhookEndpointDeleted, &endpoint).await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// A new secret, returned this once; the current one keeps signing beside it for
    /// `grace` ([`ROTATION_GRACE`] in production).
    pub async fn rotate(
        &self,
        context: Context<'_>,
        id: &WebhookEndpointId,
        grace: Duration,
    ) -> Result<(Endpoint, WebhookSecret), AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        fetch(&mut tx, context.tenant, id, Read::ForUpdate).await?;
        let row = sqlx::query(
            "SELECT secret_sealed, data_key_wrapped, master_key_id FROM webhook_endpoints
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(context.tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let current: Vec<u8> = row.try_get("secret_sealed")?;
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: id.as_str(),
        };
        let data_key = self.keyring.unwrap_data_key(&wrapped, &key_context)?;
        let secret = WebhookSecret::generate();
        let sealed = data_key.seal(&key_context, Purpose::WebhookSecret, secret.bytes())?;
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_endpoints SET secret_sealed = $3, previous_secret_sealed = $4,
                 previous_secret_expires_at = now() + make_interval(secs => $5::double precision / 1000),
                 updated_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        )))
        .bind(context.tenant.as_str())
        .bind(id.as_str())
        .bind(&sealed)
        .bind(&current)
        .bind(grace_ms)
        .fetch_one(&mut *tx)
        .await?;
        let endpoint = Endpoint::from_row(&row)?;
        audit_change(&mut tx, &context, Action::WebhookSecretRotated, &endpoint).await?;
        tx.commit().await?;
        Ok((endpoint, secret))
    }

    /// Records a `webhook.test` event delivered to this endpoint alone (the event is its own
    /// subject, so test events are not held in order behind one another).
    pub async fn send_test(
        &self,
        context: Context<'_>,
        id: &WebhookEndpointId,
    ) -> Result<EventId, AccountError> {
        let mut tx = self.db.tenant(context.tenant).await?;
        let endpoint = fetch(&mut tx, context.tenant, id, Read::Plain).await?;
        let data = json!({
            "webhook_endpoint_id": endpoint.id,
            "url": endpoint.url,
            "message": "a test event sent from Backhaul",
        });
        let event_id = event::insert(
            &mut tx,
            &NewEvent {
                tenant_id: context.tenant,
                event_type: EventType::WebhookTest,
                subject_id: id.as_str(),
                data,
            },
            Some(id.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(event_id)
    }
}

/// How [`fetch`] reads an endpoint: as it is, or locked for a change (`FOR UPDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Plain,
    ForUpdate,
}

async fn fetch(
    tx: &mut PgConnection,
    tenant: &TenantId,
    id: &WebhookEndpointId,
    read: Read,
) -> Result<Endpoint, AccountError> {
    let lock = if read == Read::ForUpdate {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2{lock}"
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AccountError::NotFound)?;
    Ok(Endpoint::from_row(&row)?)
}

async fn audit_change(
    tx: &mut PgConnection,
    context: &Context<'_>,
    action: Action,
    endpoint: &Endpoint,
) -> Result<(), sqlx::Error> {
    audit::record(
        tx,
        audit::NewEvent {
            tenant: Some(context.tenant),
            actor: context.actor,
            action,
            target: Some(endpoint.id.as_str()),
            request_id: context.request_id,
            summary: endpoint.summary(),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_secret_is_whsec_and_base64_of_24_random_bytes() {
        let secret = WebhookSecret::generate();
        let shown = secret.encoded();
        let encoded = shown.expose_secret().strip_prefix("whsec_").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(bytes, secret.bytes());
        assert_eq!(bytes.len(), 24);
        assert_ne!(WebhookSecret::generate().bytes(), secret.bytes());
    }

    #[test]
    fn a_secret_s_debug_output_is_redacted() {
        let secret = WebhookSecret::generate();
        let printed = format!("{secret:?} {:?}", secret.encoded());
        assert!(!printed.contains("whsec_"), "{printed}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(secret.bytes());
        assert!(!printed.contains(&encoded), "{printed}");
    }
}
