//! The hooks a carrier onboarded by OAuth ("Login with USPS") gives the server, so that nothing
//! outside the plugin names a carrier: where to send the browser, how to turn the returned code
//! into stored credentials and pre-filled account details, and how to keep those credentials
//! alive.

use std::fmt;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::account::Credentials;
use crate::error::CarrierError;

/// What the carrier told us about the merchant who signed in: suggested account details and
/// the choices they can pick from (e.g. every CRID, MID, EPS account and permit they hold).
///
/// A prefill is a convenience, never a condition: when the carrier could not say (its call
/// failed, or it named nothing), the sign-in still completes, `unavailable` says why, and the
/// merchant types the details.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccountPrefill {
    /// Details to pre-fill the form with (same shape as the account's `details`).
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The alternatives offered, keyed by detail name (`{"mid": ["904128936", "904128937"]}`).
    /// Secret details are offered masked (`["******4321", "******7777"]`).
    pub options: serde_json::Map<String, serde_json::Value>,
    /// Why the carrier told us nothing, in a sentence for the merchant and the operator (no
    /// secret): `None` when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl AccountPrefill {
    /// The key of [`AccountPrefill::unavailable`] in [`AccountPrefill::onboarding`]; no carrier
    /// may name a detail so.
    pub const UNAVAILABLE_KEY: &'static str = "prefill_unavailable";

    /// The account's `onboarding` record: the options by detail name, and the reason under
    /// [`AccountPrefill::UNAVAILABLE_KEY`] when there is one.
    pub fn onboarding(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut onboarding = self.options.clone();
        if let Some(reason) = &self.unavailable {
            onboarding.insert(
                Self::UNAVAILABLE_KEY.to_owned(),
                serde_json::Value::String(reason.clone()),
            );
        }
        onboarding
    }
}

/// The result of a successful consent: credentials to seal and what to pre-fill.
#[derive(Debug, Clone)]
pub struct OAuthConnection {
    pub credentials: Credentials,
    pub prefill: AccountPrefill,
}

/// The PKCE code verifier of one sign-in (RFC 7636): 43 characters of base64url from 32 random
/// bytes, kept by the server with the sign-in's state and sent only in the code exchange, so a
/// code approved for one sign-in cannot complete another. `Debug` never shows it.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A fresh verifier from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A verifier as stored; `None` unless it has RFC 7636's shape (43 to 128 characters of
    /// `[A-Za-z0-9-._~]`).
    pub fn from_stored(value: SecretString) -> Option<Self> {
        let text = value.expose_secret();
        let valid = (43..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        valid.then_some(Self(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Its S256 challenge, for the authorize URL.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge::s256(self.expose())
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

/// `BASE64URL(SHA256(verifier))` without padding: the `code_challenge` of the `S256` method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The method's name for `code_challenge_method`.
    pub const METHOD: &'static str = "S256";

    pub fn s256(verifier: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// OAuth onboarding hooks of one carrier.
#[async_trait]
pub trait OAuthOnboarding: Send + Sync {
    /// The carrier's authorize URL for the browser, carrying our single-use `state` and the
    /// sign-in's PKCE challenge (`S256`).
    fn authorize_url(&self, state: &str, challenge: &PkceChallenge) -> Result<Url, CarrierError>;

    /// Exchanges the authorization code from the callback for tokens, proving with the
    /// sign-in's `verifier` that it started the sign-in, and reads what the carrier offers to
    /// pre-fill.
    async fn exchange_code(
        &self,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<OAuthConnection, CarrierError>;

    /// Renews the credentials' tokens (a refresh-token grant). The result replaces the stored
    /// credentials.
    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, CarrierError>;

    /// When the credentials should be renewed; `None` when they never need it (not OAuth).
    /// Decided from the mode and the public fields alone: the server asks with credentials
    /// that carry no secrets to find due accounts without opening them.
    fn refresh_due_at(&self, credentials: &Credentials) -> Option<DateTime<Utc>>;

    /// Until when the credentials can still be used as they are, renewed or not: a renewal is
    /// due some margin before this (the access token's expiry), and while another request
    /// renews them a label can go on with the current ones until then. Decided from the public
    /// fields, like [`OAuthOnboarding::refresh_due_at`]; by default no later than that.
    fn usable_until(&self, credentials: &Credentials) -> Option<DateTime<Utc>> {
        self.refresh_due_at(credentials)
    }

    /// The credentials mode a sign-in creates (`platform_app`): the accounts that can sign in
    /// again in place (`POST /v1/shipper-accounts/{id}/reconnect`) are those in this mode.
    fn connected_mode(&self) -> &'static str;

    /// The credentials a re-authorization stores: those of the new sign-in (`signed_in`), and
    /// whatever of the `previous` ones the plugin keeps because the merchant entered it rather
    /// than the sign-in bringing it. By default, the new sign-in's alone.
    fn reconnected(&self, previous: &Credentials, signed_in: Credentials) -> Credentials {
        let _ = previous;
        signed_in
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_onboarding_record_holds_the_options_and_why_nothing_was_shared() {
        let mut prefill = AccountPrefill::default();
        prefill
            .options
            .insert("mid".into(), serde_json::json!(["904128936", "904128937"]));
        assert_eq!(
            serde_json::Value::Object(prefill.onboarding()),
            serde_json::json!({"mid": ["904128936", "904128937"]})
        );
        prefill.unavailable = Some("the carrier did not answer".into());
        assert_eq!(
            prefill.onboarding()[AccountPrefill::UNAVAILABLE_KEY],
            "the carrier did not answer"
        );
    }

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636 appendix B.
        let challenge = PkceChallenge::s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_fresh_shaped_and_never_printed() {
        let one = PkceVerifier::generate();
        let two = PkceVerifier::generate();
        assert_ne!(one.expose(), two.expose());
        assert_eq!(one.expose().len(), 43);
        assert!(PkceVerifier::from_stored(SecretString::from(one.expose().to_owned())).is_some());
        assert!(PkceVerifier::from_stored(SecretString::from("short".to_owned())).is_none());
        assert!(!format!("{one:?}").contains(one.expose()));
        assert_eq!(one.challenge(), PkceChallenge::s256(one.expose()));
    }
}
