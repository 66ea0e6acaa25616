//! The simulator's test data: registered apps (client id, secret, redirect URIs, the accounts
//! the app itself ships with under client credentials), UPS users who sign in on the consent
//! page (with the shipper accounts they hold), and the shipper accounts.
//!
//! [`SimConfig::default`] is the demo data of [`crate::demo`]. A config loads from TOML or
//! JSON ([`SimConfig::load`]); a missing section is empty and unknown keys are refused:
//!
//! ```toml
//! [[apps]]
//! client_id = "my-app"
//! client_secret = "my-secret"
//! name = "My App"
//! redirect_uris = ["https://example.com/callback"]
//! allow_loopback_redirects = false
//! shipper_numbers = ["A1B2C3"]   # accounts usable with client-credentials tokens
//!
//! [[users]]
//! username = "alice"
//! password = "wonderland"
//! shipper_numbers = ["A1B2C3"]
//!
//! [[accounts]]
//! shipper_number = "A1B2C3"
//! name = "Alice Returns LLC"
//! country_code = "US"
//!
//! [[webhooks]]                   # what UPS's portal holds for an app's Track Alert pushes
//! app = "my-app"
//! url = "https://example.com/v1/carrier-webhooks/ups"
//! token_url = "https://example.com/v1/carrier-webhooks/ups/token"
//! client_id = "listener-id"
//! client_secret = "listener-secret"
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::demo;

/// Everything the simulator knows about its world. `Default` is the demo data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// OAuth client applications.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// UPS users of the consent page.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Shipper accounts.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    /// Track Alert webhook settings per app, as UPS's portal holds them ("Manage Webhook
    /// Credentials"; v2 subscription requests carry no destination). Changed at runtime with
    /// [`crate::Simulator::set_webhook`].
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

/// Where and how Track Alert pushes an app's events: the webhook URL, and the token URL and
/// client credentials it fetches a bearer token with first (UPSTrackAlert.yaml `clientOauth2`,
/// `client_secret_basic`). `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The app (its Client ID) whose subscriptions push here.
    pub app: String,
    /// The webhook URL events are POSTed to.
    pub url: String,
    /// The listener's token URL.
    pub token_url: String,
    /// The client id UPS authenticates to the token URL with (sent back as `x-api-key`).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("app", &self.app)
            .field("url", &self.url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// A registered OAuth client application. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The Client ID.
    pub client_id: String,
    /// The Client Secret.
    pub client_secret: String,
    /// The application name shown on the consent page.
    pub name: String,
    /// Registered redirect URIs, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Also accept any plain-HTTP `127.0.0.1` / `localhost` redirect URI on any port (local
    /// development, RFC 8252 section 7.3). Not something UPS offers; off by default.
    #[serde(default)]
    pub allow_loopback_redirects: bool,
    /// The accounts the integration owner ships with under client-credentials tokens
    /// (OAuthClientCredentials.yaml: "the integration owner is also the UPS shipper").
    #[serde(default)]
    pub shipper_numbers: Vec<String>,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .field("allow_loopback_redirects", &self.allow_loopback_redirects)
            .field("shipper_numbers", &self.shipper_numbers)
            .finish()
    }
}

/// A UPS user who signs in on the consent page. `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The ups.com login name.
    pub username: String,
    /// The password.
    pub password: String,
    /// The shipper accounts the user holds (each listed in [`SimConfig::accounts`]).
    pub shipper_numbers: Vec<String>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("shipper_numbers", &self.shipper_numbers)
            .finish()
    }
}

/// A UPS shipper account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 6-character account number (`Shipper.ShipperNumber`).
    pub shipper_number: String,
    /// The account holder's name.
    pub name: String,
    /// The account's two-letter country code (US-origin rules follow the ShipFrom address).
    pub country_code: String,
}

/// Failure to load a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read simulator config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text did not parse as a [`SimConfig`].
    #[error("invalid simulator config {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// The config parsed but is inconsistent.
    #[error("inconsistent simulator config: {0}")]
    Inconsistent(String),
}

/// Whether `number` looks like a UPS account number: six upper-case letters or digits.
pub fn is_shipper_number(number: &str) -> bool {
    number.len() == 6
        && number
            .bytes()
            .all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase())
}

impl SimConfig {
    /// Loads a `.json` file, or TOML for any other extension, and checks it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let parsed = if path.extension().is_some_and(|ext| ext == "json") {
            serde_json::from_str(&text).map_err(|error| error.to_string())
        } else {
            toml::from_str(&text).map_err(|error| error.to_string())
        };
        let config = parsed.map_err(|message| ConfigError::Parse {
            path: shown,
            message,
        })?;
        Self::check(config)
    }

    /// Parses and checks a TOML config.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: "<string>".to_owned(),
            message: error.to_string(),
        })?;
        Self::check(config)
    }

    /// Checks cross references: account numbers are well formed and unique, every user's and
    /// app's account is configured, no client id or username repeats.
    pub fn check(self) -> Result<Self, ConfigError> {
        let inconsistent = |message: String| Err(ConfigError::Inconsistent(message));
        let mut accounts = HashSet::new();
        for account in &self.accounts {
            if !is_shipper_number(&account.shipper_number) {
                return inconsistent(format!(
                    "account {} is not six upper-case letters or digits",
                    account.shipper_number
                ));
            }
            if !accounts.insert(account.shipper_number.as_str()) {
                return inconsistent(format!(
                    "account {} is listed twice",
                    account.shipper_number
                ));
            }
        }
        let mut usernames = HashSet::new();
        for user in &self.users {
            if !usernames.insert(user.username.as_str()) {
                return inconsistent(format!("user {} is listed twice", user.username));
            }
            if let Some(missing) = user
                .shipper_numbers
                .iter()
                .find(|number| !accounts.contains(number.as_str()))
            {
                return inconsistent(format!(
                    "user {} holds account {missing}, which is not configured",
                    user.username
                ));
            }
        }
        let mut client_ids = HashSet::new();
        for app in &self.apps {
            if !client_ids.insert(app.client_id.as_str()) {
                return inconsistent(format!("client_id {} is listed twice", app.client_id));
            }
            if let Some(missing) = app
                .shipper_numbers
                .iter()
                .find(|number| !accounts.contains(number.as_str()))
            {
                return inconsistent(format!(
                    "app {} ships with account {missing}, which is not configured",
                    app.client_id
                ));
            }
        }
        let mut webhook_apps = HashSet::new();
        for webhook in &self.webhooks {
            if !client_ids.contains(webhook.app.as_str()) {
                return inconsistent(format!(
                    "the webhook of app {} names no configured app",
                    webhook.app
                ));
            }
            if !webhook_apps.insert(webhook.app.as_str()) {
                return inconsistent(format!("app {} has two webhooks", webhook.app));
            }
            for (name, url) in [("url", &webhook.url), ("token_url", &webhook.token_url)] {
                let parsed = url::Url::parse(url).map_err(|error| {
                    ConfigError::Inconsistent(format!(
                        "the webhook {name} of app {} is not a URL: {error}",
                        webhook.app
                    ))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return inconsistent(format!(
                        "the webhook {name} of app {} is not http(s)",
                        webhook.app
                    ));
                }
            }
        }
        Ok(self)
    }

    /// The app registered under `client_id`.
    pub fn app(&self, client_id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    /// The user named `username`.
    pub fn user(&self, username: &str) -> Option<&UserConfig> {
        self.users.iter().find(|user| user.username == username)
    }

    /// The account numbered `shipper_number`.
    pub fn account(&self, shipper_number: &str) -> Option<&AccountConfig> {
        self.accounts
            .iter()
            .find(|account| account.shipper_number == shipper_number)
    }
}

impl AppConfig {
    /// Whether `redirect_uri` may receive codes: an exact match of a registered URI, or, when
    /// allowed, a plain-HTTP loopback URI without a fragment or user info.
    pub fn accepts_redirect(&self, redirect_uri: &str) -> bool {
        if self.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return true;
        }
        if !self.allow_loopback_redirects {
            return false;
        }
        let Ok(url) = url::Url::parse(redirect_uri) else {
            return false;
        };
        url.scheme() == "http"
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && matches!(url.host_str(), Some("127.0.0.1" | "localhost"))
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        demo::config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_client_secrets_and_passwords() {
        let shown = format!("{:?}", SimConfig::default());
        assert!(!shown.contains(demo::CLIENT_SECRET));
        assert!(!shown.contains(&format!("\"{}\"", demo::PASSWORD)));
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn a_webhook_secret_is_never_printed_and_must_name_an_app() {
        let config = SimConfig::default();
        let shown = format!("{config:?}");
        assert!(!shown.contains(demo::WEBHOOK_CLIENT_SECRET), "{shown}");
        let mut stray = config.clone();
        stray.webhooks[0].app = "nobody".to_owned();
        assert!(stray.check().is_err());
        let mut twice = config.clone();
        twice.webhooks.push(twice.webhooks[0].clone());
        assert!(twice.check().is_err());
        let mut bad_url = config;
        bad_url.webhooks[0].token_url = "ftp://x".to_owned();
        assert!(bad_url.check().is_err());
    }

    #[test]
    fn demo_config_passes_its_own_check() {
        assert!(SimConfig::default().check().is_ok());
    }

    #[test]
    fn user_holding_an_unknown_account_is_refused() {
        let mut config = SimConfig::default();
        config.users[0].shipper_numbers.push("ZZZZZZ".to_owned());
        assert!(config.check().is_err());
    }

    #[test]
    fn malformed_account_number_is_refused() {
        let mut config = SimConfig::default();
        config.accounts[0].shipper_number = "a1b2".to_owned();
        assert!(config.check().is_err());
    }

    #[test]
    fn misspelt_key_is_refused_and_a_full_toml_config_loads() {
        assert!(SimConfig::from_toml_str("[[apps]]\nclient_ident = \"a\"\n").is_err());
        let text = r#"
            [[apps]]
            client_id = "a"
            client_secret = "b"
            name = "App"
            redirect_uris = ["https://example.com/cb"]
            shipper_numbers = ["Q1W2E3"]
            [[users]]
            username = "u"
            password = "p"
            shipper_numbers = ["Q1W2E3"]
            [[accounts]]
            shipper_number = "Q1W2E3"
            name = "Q"
            country_code = "US"
        "#;
        let config = SimConfig::from_toml_str(text).unwrap();
        assert!(!config.apps[0].allow_loopback_redirects);
        assert_eq!(config.account("Q1W2E3").unwrap().name, "Q");
    }

    #[test]
    fn redirects_match_exactly_unless_loopback_is_allowed() {
        let mut app = SimConfig::default().apps[0].clone();
        app.allow_loopback_redirects = false;
        assert!(app.accepts_redirect(demo::REDIRECT_URI));
        assert!(!app.accepts_redirect(&format!("{}/", demo::REDIRECT_URI)));
        assert!(!app.accepts_redirect("http://127.0.0.1:9/x"));
        app.allow_loopback_redirects = true;
        assert!(app.accepts_redirect("http://127.0.0.1:9/x"));
        assert!(!app.accepts_redirect("https://evil.example/callback"));
    }
}
