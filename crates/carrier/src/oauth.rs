//! The hooks a carrier onboarded by OAuth ("Login with USPS") gives the server, so that nothing
//! outside the plugin names a carrier: where to send the browser, how to turn the returned code
//! into stored credentials and pre-filled account details, and how to keep those credentials
//! alive.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::account::Credentials;
use crate::error::CarrierError;

/// What the carrier told us about the merchant who signed in: suggested account details and
/// the choices they can pick from (e.g. every CRID, MID, EPS account and permit they hold).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccountPrefill {
    /// Details to pre-fill the form with (same shape as the account's `details`).
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The alternatives offered, keyed by detail name (`{"mid": ["904128936", "904128937"]}`).
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// The result of a successful consent: credentials to seal and what to pre-fill.
#[derive(Debug, Clone)]
pub struct OAuthConnection {
    pub credentials: Credentials,
    pub prefill: AccountPrefill,
}

/// OAuth onboarding hooks of one carrier.
#[async_trait]
pub trait OAuthOnboarding: Send + Sync {
    /// The carrier's authorize URL for the browser, carrying our single-use `state`.
    fn authorize_url(&self, state: &str) -> Result<Url, CarrierError>;

    /// Exchanges the authorization code from the callback for tokens and reads what the carrier
    /// offers to pre-fill.
    async fn exchange_code(&self, code: &str) -> Result<OAuthConnection, CarrierError>;

    /// Renews the credentials' tokens (a refresh-token grant). The result replaces the stored
    /// credentials.
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, CarrierError>;

    /// When the credentials should be renewed; `None` when they never need it (not OAuth).
    /// Decided from the mode and the public fields alone: the server asks with credentials
    /// that carry no secrets to find due accounts without opening them.
    fn refresh_due_at(&self, credentials: &Credentials) -> Option<DateTime<Utc>>;
}
