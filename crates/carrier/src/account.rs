//! A shipper account as a carrier plugin sees it: non-secret `details` (stored as JSON and
//! shown to the merchant) and `credentials` (sealed by the vault, secrets never shown).
//!
//! The plugin decides what is what: it validates raw input, moves anything secret (a client
//! secret, an EPS account number) into [`Credentials`] and leaves only masked or public values
//! in [`AccountDetails`]. That keeps the account service carrier-agnostic: a new carrier needs
//! no migration.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::error::ValidationErrors;
use crate::label::Warning;

/// Carrier-specific, non-secret account details, normalized by the plugin (a JSON object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountDetails(serde_json::Map<String, serde_json::Value>);

impl AccountDetails {
    pub fn new(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(map)
    }

    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// A string field, when present and a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(serde_json::Value::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    pub fn into_value(self) -> serde_json::Value {
        serde_json::Value::Object(self.0)
    }
}

/// Credentials as a client submits them: a JSON object of strings. Every value is treated as a
/// secret until the plugin says otherwise; `Debug` shows only the field names.
#[derive(Default)]
pub struct CredentialsInput(BTreeMap<String, SecretString>);

impl CredentialsInput {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0
            .insert(key.to_owned(), SecretString::from(value.into()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every field with its (secret) value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value))
    }
}

impl fmt::Debug for CredentialsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "[REDACTED]")))
            .finish()
    }
}

impl<'de> Deserialize<'de> for CredentialsInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, SecretString>::deserialize(deserializer)?;
        Ok(Self(map))
    }
}

/// Validated credentials: a mode (e.g. `own_app`), public fields shown on read (e.g.
/// `client_id`, token expiry times) and secrets that only the plugin's wire builders expose.
/// `Debug` prints the mode, the public fields and the *names* of the secrets.
#[derive(Clone)]
pub struct Credentials {
    mode: String,
    public: BTreeMap<String, String>,
    secrets: BTreeMap<String, SecretString>,
}

#[derive(Serialize, Deserialize)]
struct SealedCredentials {
    mode: String,
    public: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
}

impl Drop for SealedCredentials {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for value in self.secrets.values_mut() {
            value.zeroize();
        }
    }
}

impl Credentials {
    pub fn new(mode: impl Into<String>) -> Self {
        Self {
            mode: mode.into(),
            public: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    pub fn with_public(mut self, key: &str, value: impl Into<String>) -> Self {
        self.public.insert(key.to_owned(), value.into());
        self
    }

    pub fn with_secret(mut self, key: &str, value: SecretString) -> Self {
        self.secrets.insert(key.to_owned(), value);
        self
    }

    pub fn mode(&self) -> &str {
        &self.mode
    }

    pub fn public(&self, key: &str) -> Option<&str> {
        self.public.get(key).map(String::as_str)
    }

    pub fn public_fields(&self) -> &BTreeMap<String, String> {
        &self.public
    }

    pub fn secret(&self, key: &str) -> Option<&SecretString> {
        self.secrets.get(key)
    }

    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.secrets.keys().map(String::as_str)
    }

    /// The whole set as JSON for the vault to seal. The buffer is zeroized when dropped.
    pub fn to_sealed_json(&self) -> Zeroizing<Vec<u8>> {
        let sealed = SealedCredentials {
            mode: self.mode.clone(),
            public: self.public.clone(),
            secrets: self
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), v.expose_secret().to_owned()))
                .collect(),
        };
        // Serializing maps of strings cannot fail.
        Zeroizing::new(serde_json::to_vec(&sealed).unwrap_or_default())
    }

    /// Reads what [`Credentials::to_sealed_json`] wrote (after the vault opened it).
    pub fn from_sealed_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let mut sealed: SealedCredentials = serde_json::from_slice(bytes)?;
        let secrets = std::mem::take(&mut sealed.secrets)
            .into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect();
        Ok(Self {
            mode: std::mem::take(&mut sealed.mode),
            public: std::mem::take(&mut sealed.public),
            secrets,
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("mode", &self.mode)
            .field("public", &self.public)
            .field(
                "secrets",
                &self
                    .secrets
                    .keys()
                    .map(|k| (k, "[REDACTED]"))
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// What the account service hands a plugin to validate: the merged details JSON, the
/// credentials the client sent (if any) and the credentials already stored (on updates), so the
/// plugin can keep secrets the client did not resend.
#[derive(Debug, Clone, Copy)]
pub struct AccountInput<'a> {
    pub details: &'a serde_json::Value,
    pub credentials: Option<&'a CredentialsInput>,
    pub current: Option<&'a Credentials>,
}

/// A validated account, ready to store.
#[derive(Debug, Clone)]
pub struct ValidatedAccount {
    pub details: AccountDetails,
    pub credentials: Credentials,
    /// Whether the account still needs an onboarding step (e.g. the OAuth consent) before it can
    /// buy labels.
    pub needs_authorization: bool,
    pub warnings: Vec<Warning>,
}

/// The selected account, decrypted, as a plugin gets it for one carrier call.
#[derive(Debug, Clone, Copy)]
pub struct AccountContext<'a> {
    /// Our account id (`sa_…`), for logs and cache keys; never sent to the carrier.
    pub id: &'a str,
    pub details: &'a AccountDetails,
    pub credentials: &'a Credentials,
}

/// Keeps the last four characters of an account number, masking the rest with `*`
/// (`******4321`), as shown on read.
pub fn mask_account_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let keep = chars.len().min(4);
    let masked = chars.len() - keep;
    let mut out = "*".repeat(masked.max(2));
    out.extend(&chars[masked..]);
    out
}

/// Collects field errors for required string details (`details.crid` …).
pub fn required_detail<'a>(
    details: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
    errors: &mut ValidationErrors,
) -> Option<&'a str> {
    match details.get(key) {
        Some(serde_json::Value::String(value)) if !value.trim().is_empty() => Some(value.trim()),
        Some(serde_json::Value::String(_)) | Some(serde_json::Value::Null) | None => {
            errors.push(format!("details.{key}"), "is required");
            None
        }
        Some(_) => {
            errors.push(format!("details.{key}"), "must be a string");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_values() {
        let credentials = Credentials::new("own_app")
            .with_public("client_id", "app-123")
            .with_secret("client_secret", SecretString::from("sentinel-secret-value"));
        let input = CredentialsInput::new().with("client_secret", "sentinel-secret-value");
        let printed = format!("{credentials:?} {credentials:#?} {input:?}");
        assert!(!printed.contains("sentinel-secret-value"), "{printed}");
        assert!(printed.contains("client_secret"));
        assert!(printed.contains("app-123"));
    }

    #[test]
    fn sealed_json_round_trips() {
        let credentials = Credentials::new("webtools")
            .with_public("user_id_hint", "…89")
            .with_secret("password", SecretString::from("pw"));
        let json = credentials.to_sealed_json();
        let back = Credentials::from_sealed_json(&json).unwrap();
        assert_eq!(back.mode(), "webtools");
        assert_eq!(back.secret("password").unwrap().expose_secret(), "pw");
        assert_eq!(back.public("user_id_hint"), Some("…89"));
    }

    #[test]
    fn account_numbers_are_masked_to_the_last_four() {
        assert_eq!(mask_account_number("1000004321"), "******4321");
        assert_eq!(mask_account_number("123"), "**123");
    }

    #[test]
    fn credentials_input_reads_a_json_object_of_strings() {
        let input: CredentialsInput =
            serde_json::from_str(r#"{"client_id":"a","client_secret":"b"}"#).unwrap();
        assert_eq!(
            input.keys().collect::<Vec<_>>(),
            ["client_id", "client_secret"]
        );
        assert!(serde_json::from_str::<CredentialsInput>(r#"{"x": 1}"#).is_err());
    }
}
