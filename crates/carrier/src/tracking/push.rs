//! The hooks of carriers that push tracking events to a listener: subscribing (per account or
//! per label), noticing and repairing a subscription the carrier suspended, and reading a
//! pushed notification once its authenticity is checked the carrier's way.
//!
//! The server owns the listener (`POST /v1/carrier-webhooks/{carrier}`), stores subscriptions
//! and their secrets sealed, and decides when to subscribe and when to check; the plugin owns
//! every wire detail and every check of a notification.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};

use crate::account::AccountContext;
use crate::error::CarrierError;
use crate::tracking::event::TrackingEvent;
use crate::tracking::number::TrackingNumber;

/// What one subscription covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushScope {
    /// One subscription per account covers every label it buys (USPS Subscriptions – Tracking
    /// by MID). Created when the account is first tracked, checked now and then, and repaired
    /// when the carrier suspends it.
    Account,
    /// Each label is subscribed after purchase, at most `batch` tracking numbers per call, for
    /// `lifetime` (UPS Track Alert: 100 numbers, 14 days), and subscribed again before that
    /// runs out while the label is still moving.
    Label { batch: usize, lifetime: Duration },
}

/// The secret a carrier signs its notifications with, chosen by us at subscription time:
/// 32 ASCII letters and digits (USPS requires exactly 32 characters). `Debug` is redacted.
#[derive(Clone)]
pub struct SubscriptionSecret(SecretString);

impl SubscriptionSecret {
    pub const LENGTH: usize = 32;

    pub fn generate() -> Self {
        Self(SecretString::from(
            Alphanumeric.sample_string(&mut rand::rng(), Self::LENGTH),
        ))
    }

    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SubscriptionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubscriptionSecret([redacted])")
    }
}

/// What an account subscription is created (or resumed) with.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionRequest<'a> {
    /// This platform's listener for the carrier (`https://…/v1/carrier-webhooks/usps`).
    pub listener_url: &'a str,
    pub secret: &'a SubscriptionSecret,
    /// Where the carrier writes about the subscription itself (USPS `adminNotification`).
    pub contact_email: &'a str,
}

/// The carrier's view of an account subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSubscription {
    /// The carrier's subscription id.
    pub id: String,
    pub state: SubscriptionState,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionState {
    Enabled,
    /// The carrier stopped pushing (USPS: the listener could not be reached), with its reason.
    Suspended {
        reason: Option<String>,
    },
    Disabled,
    /// The carrier no longer knows the subscription.
    Gone,
}

impl SubscriptionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SubscriptionState::Enabled => "enabled",
            SubscriptionState::Suspended { .. } => "suspended",
            SubscriptionState::Disabled => "disabled",
            SubscriptionState::Gone => "gone",
        }
    }
}

/// The answer to subscribing labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSubscription {
    pub subscribed: Vec<TrackingNumber>,
    /// Numbers the carrier would not subscribe (they stay polled).
    pub refused: Vec<TrackingNumber>,
    /// When the subscriptions end.
    pub expires_at: DateTime<Utc>,
}

/// One event read from a verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedEvent {
    pub tracking_number: TrackingNumber,
    pub event: TrackingEvent,
}

/// Why a notification was refused. The listener answers 401 for the first two (nothing is
/// changed) and 400 for a malformed body. Messages never hold a secret or a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    #[error("the notification is not authentic: {0}")]
    Unauthenticated(&'static str),
    #[error("the notification is too old or from the future: {0}")]
    Stale(String),
    #[error("the notification is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    NotSupported(&'static str),
}

/// A bearer token the platform's listener issues to a carrier that authenticates its pushes
/// with OAuth client credentials it holds for us (UPS Track Alert v2). `Debug` is redacted.
pub struct ListenerToken {
    pub access_token: SecretString,
    pub expires_in: Duration,
}

impl fmt::Debug for ListenerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerToken")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A carrier's push side. Default methods refuse, so a plugin implements what its scope uses.
#[async_trait]
pub trait TrackingPush: fmt::Debug + Send + Sync {
    fn scope(&self) -> PushScope;

    /// [`PushScope::Account`]: subscribes the listener to every label of `account`.
    async fn subscribe_account(
        &self,
        account: AccountContext<'_>,
        request: &SubscriptionRequest<'_>,
    ) -> Result<AccountSubscription, CarrierError> {
        let _ = (account, request);
        Err(not_supported("account subscriptions"))
    }

    /// [`PushScope::Account`]: how the carrier sees an existing subscription now.
    async fn account_subscription(
        &self,
        account: AccountContext<'_>,
        id: &str,
    ) -> Result<AccountSubscription, CarrierError> {
        let _ = (account, id);
        Err(not_supported("account subscriptions"))
    }

    /// [`PushScope::Account`]: turns a suspended or disabled subscription back on (with the
    /// listener and secret given, which may replace the old ones).
    async fn resume_account_subscription(
        &self,
        account: AccountContext<'_>,
        id: &str,
        request: &SubscriptionRequest<'_>,
    ) -> Result<AccountSubscription, CarrierError> {
        let _ = (account, id, request);
        Err(not_supported("account subscriptions"))
    }

    /// [`PushScope::Label`]: subscribes these labels (at most the scope's `batch`).
    async fn subscribe_labels(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<LabelSubscription, CarrierError> {
        let _ = (account, tracking_numbers);
        Err(not_supported("label subscriptions"))
    }

    /// The carrier's subscription id a notification names, read *before* it is verified, so
    /// the server can find the secret to verify it with; `None` where the carrier
    /// authenticates notifications without a per-subscription secret.
    fn notification_subscription(&self, body: &[u8]) -> Result<Option<String>, NotificationError>;

    /// Checks a notification the carrier's way (a signature over the body with `secret`, a
    /// timestamp within the carrier's window of `now`, a listener token) and reads its events.
    /// Nothing unverified comes out.
    fn read_notification(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: Option<&SubscriptionSecret>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PushedEvent>, NotificationError>;

    /// For carriers that fetch a token from the listener before pushing: answers that token
    /// request (`POST /v1/carrier-webhooks/{carrier}/token`), checking the client credentials
    /// configured for the carrier.
    fn listener_token(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<ListenerToken, NotificationError> {
        let _ = (headers, body, now);
        Err(NotificationError::NotSupported(
            "this carrier does not fetch listener tokens",
        ))
    }
}

fn not_supported(operation: &'static str) -> CarrierError {
    CarrierError::NotSupported {
        carrier: "tracking push",
        operation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_secret_is_32_letters_and_digits_and_never_printed() {
        let secret = SubscriptionSecret::generate();
        assert_eq!(secret.expose().len(), SubscriptionSecret::LENGTH);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(secret.expose(), SubscriptionSecret::generate().expose());
        let printed = format!("{secret:?}");
        assert!(!printed.contains(secret.expose()), "{printed}");
    }

    #[test]
    fn a_listener_token_is_never_printed() {
        let token = ListenerToken {
            access_token: SecretString::from("tok-123456"),
            expires_in: Duration::from_secs(3600),
        };
        assert!(!format!("{token:?}").contains("tok-123456"));
    }
}
