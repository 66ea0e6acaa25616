//! Keeping carriers pushing: account subscriptions ([`carrier::tracking::PushScope::Account`])
//! made for every account with tracked labels, read back now and then and repaired when the
//! carrier suspended or lost them; label subscriptions ([`carrier::tracking::PushScope::Label`])
//! made after purchase and made again before they run out.
//!
//! A subscription's secret is chosen here, sealed under its own data key (like a cached carrier
//! token) and opened only to subscribe and to check a notification. Rows are claimed like poll
//! jobs (`SKIP LOCKED`, a lease in `next_check_at` / `next_subscribe_at`), so one instance works
//! on each at a time and none holds a transaction across a carrier call.

use std::collections::BTreeMap;
use std::time::Duration;

use accounts::audit::{self, Action, NewEvent};
use accounts::vault::{KeyContext, Purpose, WrappedKey};
use accounts::{Actor, Context, SubscriptionId, TenantId};
use carrier::tracking::{
    AccountSubscription, PushScope, SubscriptionRequest, SubscriptionSecret, SubscriptionState,
};
use carrier::{AccountContext, TrackingNumber};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::Row;

use crate::state::AppState;

/// How long a claimed subscription or label subscription is left to the instance working on it.
pub const LEASE: Duration = Duration::from_secs(300);

/// A label subscription is made again this long before it runs out.
pub const RENEW_BEFORE: Duration = Duration::from_secs(24 * 3600);

/// After a failed carrier call, the next try.
pub const RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// The carriers whose pushes are per account, by id.
fn account_scoped(state: &AppState) -> Vec<String> {
    state
        .registry()
        .iter()
        .filter(|carrier| {
            carrier
                .tracking_push()
                .is_some_and(|push| push.scope() == PushScope::Account)
        })
        .map(|carrier| carrier.id().to_owned())
        .collect()
}

/// Creates the missing account subscriptions (accounts with tracked labels of an
/// account-scoped carrier), then claims the due ones and brings each in line with the carrier.
pub async fn check_accounts(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let carriers = account_scoped(state);
    if carriers.is_empty() || state.tracking().listener_base_url.is_none() {
        return Ok(0);
    }
    create_missing(state, &carriers, now).await?;
    let mut tx = state.db().admin().await?;
    let due = sqlx::query(
        "WITH due AS (
             SELECT id FROM tracking_subscriptions WHERE next_check_at <= $1
             ORDER BY next_check_at LIMIT 50 FOR UPDATE SKIP LOCKED)
         UPDATE tracking_subscriptions AS subscription
         SET next_check_at = $1 + make_interval(secs => $2)
         FROM due WHERE subscription.id = due.id
         RETURNING subscription.id, subscription.tenant_id, subscription.shipper_account_id,
             subscription.carrier, subscription.carrier_subscription_id, subscription.state,
             subscription.secret_sealed, subscription.data_key_wrapped, subscription.master_key_id",
    )
    .bind(now)
    .bind(LEASE.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut checked = 0;
    for row in &due {
        let stored = Stored::from_row(row)?;
        let outcome = bring_in_line(state, &stored).await;
        let mut tx = state.db().admin().await?;
        match outcome {
            Ok(subscription) => {
                let check_every = state.tracking().subscription_check_every;
                sqlx::query(
                    "UPDATE tracking_subscriptions SET carrier_subscription_id = $2, state = $3,
                         state_reason = $4, expires_at = $5, last_error = NULL,
                         next_check_at = $6, updated_at = now()
                     WHERE id = $1",
                )
                .bind(&stored.id)
                .bind(&subscription.id)
                .bind(subscription.state.as_str())
                .bind(match &subscription.state {
                    SubscriptionState::Suspended { reason } => reason.clone(),
                    _ => None,
                })
                .bind(subscription.expires_at)
                .bind(now + chrono::Duration::from_std(check_every).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
                state
                    .metrics()
                    .tracking_subscription(&stored.carrier, subscription.state.as_str());
            }
            Err(error) => {
                tracing::warn!(subscription = %stored.id, carrier = %stored.carrier, %error,
                    "tracking: could not bring a subscription in line; will retry");
                sqlx::query(
                    "UPDATE tracking_subscriptions SET last_error = $2, next_check_at = $3,
                         updated_at = now()
                     WHERE id = $1",
                )
                .bind(&stored.id)
                .bind(error.to_string())
                .bind(now + chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default())
                .execute(&mut *tx)
                .await?;
                state
                    .metrics()
                    .tracking_subscription(&stored.carrier, "failed");
            }
        }
        tx.commit().await?;
        checked += 1;
    }
    Ok(checked)
}

/// One subscription row as stored.
struct Stored {
    id: String,
    tenant: TenantId,
    account: String,
    carrier: String,
    carrier_id: Option<String>,
    state: String,
    sealed: Vec<u8>,
    wrapped: WrappedKey,
}

impl Stored {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        let tenant: String = row.try_get("tenant_id")?;
        Ok(Self {
            id: row.try_get("id")?,
            tenant: TenantId::parse("tenant_id", &tenant)
                .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?,
            account: row.try_get("shipper_account_id")?,
            carrier: row.try_get("carrier")?,
            carrier_id: row.try_get("carrier_subscription_id")?,
            state: row.try_get("state")?,
            sealed: row.try_get("secret_sealed")?,
            wrapped: WrappedKey {
                master_key_id: row.try_get("master_key_id")?,
                ciphertext: row.try_get("data_key_wrapped")?,
            },
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("the carrier is not configured")]
    NoCarrier,
    #[error("no listener URL is configured")]
    NoListener,
    #[error("the subscription secret does not open: {0}")]
    Vault(#[from] accounts::VaultError),
    #[error("the account cannot be opened: {0}")]
    Account(#[from] accounts::AccountError),
    #[error("the carrier refused: {0}")]
    Carrier(#[from] carrier::CarrierError),
}

/// Subscribes, or reads the carrier's view and resumes a suspended or disabled subscription.
async fn bring_in_line(
    state: &AppState,
    stored: &Stored,
) -> Result<AccountSubscription, CheckError> {
    let carrier = state
        .registry()
        .get(&stored.carrier)
        .cloned()
        .ok_or(CheckError::NoCarrier)?;
    let push = carrier.tracking_push().ok_or(CheckError::NoCarrier)?;
    let settings = state.tracking();
    let listener = settings
        .listener_url(carrier.id())
        .ok_or(CheckError::NoListener)?;
    let secret = open_secret(state, stored)?;
    let actor = Actor::System;
    let context = Context {
        tenant: &stored.tenant,
        actor: &actor,
        request_id: None,
    };
    let (_, details, credentials) = state
        .accounts()
        .open_for_operation(context, &stored.account, "tracking.subscribe", &stored.id)
        .await?;
    let account = AccountContext {
        id: &stored.account,
        details: &details,
        credentials: &credentials,
    };
    let request = SubscriptionRequest {
        listener_url: &listener,
        secret: &secret,
        contact_email: &settings.contact_email,
    };
    let Some(carrier_id) = stored
        .carrier_id
        .as_deref()
        .filter(|_| stored.state != "gone")
    else {
        let made = push.subscribe_account(account, &request).await?;
        tracing::info!(subscription = %stored.id, account = %stored.account, carrier = carrier.id(),
            "tracking: account subscribed");
        return Ok(made);
    };
    let current = push.account_subscription(account, carrier_id).await?;
    Ok(match current.state {
        SubscriptionState::Enabled => current,
        SubscriptionState::Gone => {
            tracing::warn!(subscription = %stored.id, carrier = carrier.id(),
                "tracking: the carrier lost a subscription; subscribing again");
            push.subscribe_account(account, &request).await?
        }
        _ => {
            tracing::warn!(subscription = %stored.id, carrier = carrier.id(), state = current.state.as_str(),
                "tracking: the carrier stopped a subscription; resuming it");
            push.resume_account_subscription(account, carrier_id, &request)
                .await?
        }
    })
}

fn open_secret(
    state: &AppState,
    stored: &Stored,
) -> Result<SubscriptionSecret, accounts::VaultError> {
    let context = KeyContext {
        tenant_id: stored.tenant.as_str(),
        account_id: &stored.account,
    };
    let data_key = state.keyring().unwrap_data_key(&stored.wrapped, &context)?;
    let plain = data_key.open(&context, Purpose::SubscriptionSecret, &stored.sealed)?;
    let text = String::from_utf8(plain.to_vec()).map_err(|_| accounts::VaultError::Refused)?;
    Ok(SubscriptionSecret::new(SecretString::from(text)))
}

/// Rows for accounts that have tracked labels of an account-scoped carrier and no subscription.
async fn create_missing(
    state: &AppState,
    carriers: &[String],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let missing = sqlx::query(
        "SELECT DISTINCT job.tenant_id, job.shipper_account_id, job.carrier FROM tracking_jobs AS job
         WHERE job.carrier = ANY($1) AND NOT EXISTS (
             SELECT 1 FROM tracking_subscriptions AS subscription
             WHERE subscription.shipper_account_id = job.shipper_account_id)
         LIMIT 100",
    )
    .bind(carriers)
    .fetch_all(&mut *tx)
    .await?;
    for row in &missing {
        let tenant: String = row.try_get("tenant_id")?;
        let account: String = row.try_get("shipper_account_id")?;
        let carrier: String = row.try_get("carrier")?;
        let context = KeyContext {
            tenant_id: &tenant,
            account_id: &account,
        };
        let secret = SubscriptionSecret::generate();
        let sealed = state
            .keyring()
            .new_data_key(&context)
            .and_then(|(key, wrapped)| {
                key.seal(
                    &context,
                    Purpose::SubscriptionSecret,
                    secret.expose().as_bytes(),
                )
                .map(|sealed| (sealed, wrapped))
            });
        let (sealed, wrapped) = match sealed {
            Ok(sealed) => sealed,
            Err(error) => {
                tracing::warn!(%error, "tracking: could not seal a subscription secret");
                continue;
            }
        };
        let id = SubscriptionId::generate();
        let inserted = sqlx::query(
            "INSERT INTO tracking_subscriptions (id, tenant_id, shipper_account_id, carrier,
                 secret_sealed, data_key_wrapped, master_key_id, state, next_check_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)
             ON CONFLICT (shipper_account_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(&tenant)
        .bind(&account)
        .bind(&carrier)
        .bind(&sealed)
        .bind(&wrapped.ciphertext)
        .bind(&wrapped.master_key_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            // A stored credential: audited like an account's (never its value).
            let tenant = TenantId::parse("tenant_id", &tenant)
                .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?;
            let summary = serde_json::Map::from_iter([
                ("account".to_owned(), serde_json::json!(account)),
                ("carrier".to_owned(), serde_json::json!(carrier)),
            ]);
            audit::record(
                &mut tx,
                NewEvent {
                    tenant: Some(&tenant),
                    actor: &Actor::System,
                    action: Action::TrackingSubscriptionCreated,
                    target: Some(id.as_str()),
                    request_id: None,
                    summary,
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The account subscription a carrier's notification names, with its secret opened: what
/// the listener checks the notification with.
pub async fn for_notification(
    state: &AppState,
    carrier: &str,
    carrier_subscription_id: &str,
) -> Result<Option<(String, SubscriptionSecret)>, sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let row = sqlx::query(
        "SELECT id, tenant_id, shipper_account_id, carrier, carrier_subscription_id, state,
             secret_sealed, data_key_wrapped, master_key_id
         FROM tracking_subscriptions WHERE carrier = $1 AND carrier_subscription_id = $2",
    )
    .bind(carrier)
    .bind(carrier_subscription_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored = Stored::from_row(&row)?;
    match open_secret(state, &stored) {
        Ok(secret) => Ok(Some((stored.account, secret))),
        Err(error) => {
            tracing::warn!(subscription = %stored.id, %error, "tracking: a subscription secret does not open");
            Ok(None)
        }
    }
}

/// Subscribes labels of label-scoped carriers that are due (just bought, or about to run out).
pub async fn subscribe_labels(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let mut tx = state.db().admin().await?;
    let due = sqlx::query(
        "WITH due AS (
             SELECT label_id FROM tracking_jobs WHERE next_subscribe_at <= $1
             ORDER BY next_subscribe_at LIMIT 500 FOR UPDATE SKIP LOCKED)
         UPDATE tracking_jobs AS job SET next_subscribe_at = $1 + make_interval(secs => $2)
         FROM due, return_labels AS label
         WHERE job.label_id = due.label_id AND label.id = job.label_id
         RETURNING job.label_id, job.tenant_id, job.shipper_account_id, job.carrier,
             label.tracking_number",
    )
    .bind(now)
    .bind(LEASE.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut by_account: BTreeMap<(String, String, String), Vec<(String, String)>> = BTreeMap::new();
    for row in &due {
        by_account
            .entry((
                row.try_get("tenant_id")?,
                row.try_get("shipper_account_id")?,
                row.try_get("carrier")?,
            ))
            .or_default()
            .push((row.try_get("label_id")?, row.try_get("tracking_number")?));
    }
    let mut subscribed = 0;
    for ((tenant, account, carrier_id), labels) in by_account {
        subscribed +=
            subscribe_account_labels(state, now, &tenant, &account, &carrier_id, &labels).await?;
    }
    Ok(subscribed)
}

async fn subscribe_account_labels(
    state: &AppState,
    now: DateTime<Utc>,
    tenant: &str,
    account: &str,
    carrier_id: &str,
    labels: &[(String, String)],
) -> Result<usize, sqlx::Error> {
    let carrier = state.registry().get(carrier_id).cloned();
    let batch = match carrier
        .as_ref()
        .and_then(|carrier| carrier.tracking_push())
        .map(|push| push.scope())
    {
        Some(PushScope::Label { batch, .. }) => batch.max(1),
        _ => {
            // No longer a label-scoped carrier: these labels are polled only.
            set_subscribed(state, labels, None, None).await?;
            return Ok(0);
        }
    };
    let Some(carrier) = carrier else {
        return Ok(0);
    };
    let Some(push) = carrier.tracking_push() else {
        return Ok(0);
    };
    let tenant = TenantId::parse("tenant_id", tenant)
        .map_err(|error| sqlx::Error::Decode(error.to_string().into()))?;
    let actor = Actor::System;
    let context = Context {
        tenant: &tenant,
        actor: &actor,
        request_id: None,
    };
    let opened = state
        .accounts()
        .open_for_operation(context, account, "tracking.subscribe", account)
        .await;
    let (_, details, credentials) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::warn!(%account, %error, "tracking: the account cannot be opened; subscribing later");
            let retry = now + chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default();
            set_subscribed(state, labels, None, Some(retry)).await?;
            return Ok(0);
        }
    };
    let account_context = AccountContext {
        id: account,
        details: &details,
        credentials: &credentials,
    };
    let mut subscribed = 0;
    for chunk in labels.chunks(batch) {
        let numbers: Vec<TrackingNumber> = chunk
            .iter()
            .filter_map(|(_, number)| TrackingNumber::other("tracking_number", number).ok())
            .collect();
        match push.subscribe_labels(account_context, &numbers).await {
            Ok(answer) => {
                let renew_at = answer.expires_at
                    - chrono::Duration::from_std(RENEW_BEFORE).unwrap_or_default();
                let (made, refused): (Vec<_>, Vec<_>) = chunk
                    .iter()
                    .cloned()
                    .partition(|(_, n)| answer.subscribed.iter().any(|s| s.as_str() == n.as_str()));
                set_subscribed(state, &made, Some(answer.expires_at), Some(renew_at)).await?;
                set_subscribed(state, &refused, None, None).await?;
                state
                    .metrics()
                    .tracking_subscription(carrier.id(), "label_subscribed");
                subscribed += made.len();
                if !refused.is_empty() {
                    tracing::warn!(%account, carrier = carrier.id(), refused = refused.len(),
                        "tracking: the carrier would not subscribe some labels; they are polled");
                }
            }
            Err(error) => {
                tracing::warn!(%account, carrier = carrier.id(), kind = error.kind().as_str(), %error,
                    "tracking: subscribing labels failed; will retry");
                state
                    .metrics()
                    .tracking_subscription(carrier.id(), "failed");
                let retry = now
                    + error
                        .retry_after()
                        .and_then(|after| chrono::Duration::from_std(after).ok())
                        .unwrap_or_else(|| {
                            chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default()
                        });
                set_subscribed(state, chunk, None, Some(retry)).await?;
            }
        }
    }
    Ok(subscribed)
}

async fn set_subscribed(
    state: &AppState,
    labels: &[(String, String)],
    until: Option<DateTime<Utc>>,
    next: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    if labels.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = labels.iter().map(|(id, _)| id.as_str()).collect();
    let mut tx = state.db().admin().await?;
    sqlx::query(
        "UPDATE tracking_jobs SET push_subscribed_until = coalesce($2, push_subscribed_until),
             next_subscribe_at = $3
         WHERE label_id = ANY($1)",
    )
    .bind(&ids)
    .bind(until)
    .bind(next)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
