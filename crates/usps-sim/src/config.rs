//! The simulator's test data: registered apps, consent-page users and the business accounts
//! (CRIDs with their MIDs, EPS accounts and permits) that the Payments and Labels APIs check
//! requests against.
//!
//! [`SimConfig::default`] is the demo data of [`crate::demo`]. A config can be loaded from a
//! TOML or JSON file ([`SimConfig::load`]); a missing section is empty (not the demo data) and
//! unknown keys are rejected, so a misspelt key fails loudly instead of silently falling back to a default:
//!
//! ```toml
//! [[apps]]
//! client_id = "my-app"
//! client_secret = "my-secret"
//! name = "My App"
//! redirect_uris = ["https://example.com/callback"]
//! allow_loopback_redirects = true
//!
//! [[users]]
//! username = "alice"
//! password = "wonderland"
//! business_name = "Alice Returns LLC"
//! crids = ["11112222"]
//!
//! [[crids]]
//! crid = "11112222"
//! enrolled_in_ship_returns = true
//! mids = [{ mid = "900000001", role = "label" }, { mid = "900000002", role = "manifest" }]
//! eps_accounts = [{ number = "1000000001", active = true }]
//! permits = [{ number = "4242", zip = "10001" }]
//! ```

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::demo;

/// Everything the simulator knows about its world. `Default` is the demo data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// OAuth client applications allowed to call the APIs.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// USPS business users who can sign in on the consent page.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Business accounts by Customer Registration ID.
    #[serde(default)]
    pub crids: Vec<CridConfig>,
    /// Value of `issuer` in token responses.
    #[serde(default = "default_issuer")]
    pub issuer: String,
}

/// A registered OAuth client application. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The Consumer Key.
    pub client_id: String,
    /// The Consumer Secret.
    pub client_secret: String,
    /// The application name returned as `application_name` and shown on the consent page.
    pub name: String,
    /// Registered redirect URIs for the authorization-code flow, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Also accept any `http://127.0.0.1:<port>/…` or `http://localhost:<port>/…` redirect URI
    /// (local development; RFC 8252 section 7.3 loopback redirects).
    #[serde(default)]
    pub allow_loopback_redirects: bool,
    /// Scopes the app may request; the default scope when a request names none.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .field("allow_loopback_redirects", &self.allow_loopback_redirects)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A USPS business user for the consent page. `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Sign-in name.
    pub username: String,
    /// Sign-in password.
    pub password: String,
    /// The business the user signs in for, returned by `/oauth2/v3/userinfo`.
    pub business_name: String,
    /// The CRIDs of that business (each must be listed in [`SimConfig::crids`]).
    pub crids: Vec<String>,
}

impl fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserConfig")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("business_name", &self.business_name)
            .field("crids", &self.crids)
            .finish()
    }
}

/// A business location registered with USPS (Customer Registration ID) and its accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CridConfig {
    /// The CRID.
    pub crid: String,
    /// Mailer IDs assigned to this CRID.
    #[serde(default)]
    pub mids: Vec<MidConfig>,
    /// Enterprise Payment System accounts of this CRID.
    #[serde(default)]
    pub eps_accounts: Vec<EpsAccountConfig>,
    /// Postage permits of this CRID.
    #[serde(default)]
    pub permits: Vec<PermitConfig>,
    /// Whether the CRID is enrolled in USPS Ship Returns (else return labels fail with 160304).
    #[serde(default)]
    pub enrolled_in_ship_returns: bool,
}

/// A Mailer ID and what the business uses it for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MidConfig {
    /// The 6- or 9-digit MID.
    pub mid: String,
    /// Its use.
    pub role: MidRole,
}

/// What a MID is used for (the AfterShip onboarding form's "MID", "MMID", "Returns MID").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MidRole {
    /// Label MID, printed in the tracking numbers of outbound labels.
    Label,
    /// Manifest MID (MMID), used for the shipping services file.
    Manifest,
    /// Returns MID, printed in the tracking numbers of return labels.
    Returns,
}

impl MidRole {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Label => "label",
            Self::Manifest => "manifest",
            Self::Returns => "returns",
        }
    }
}

/// An Enterprise Payment System account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpsAccountConfig {
    /// The account number.
    pub number: String,
    /// Inactive accounts fail payment authorization with 100002.
    pub active: bool,
}

/// A postage permit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermitConfig {
    /// The permit number.
    pub number: String,
    /// The 5-digit ZIP Code of the Post Office that issued the permit.
    pub zip: String,
}

/// Failure to load a config file.
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
    /// The TOML did not match [`SimConfig`].
    #[error("invalid simulator config {path}: {source}")]
    Toml {
        /// The file.
        path: String,
        /// The parse error.
        source: toml::de::Error,
    },
    /// The JSON did not match [`SimConfig`].
    #[error("invalid simulator config {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The config parsed but is inconsistent.
    #[error("inconsistent simulator config: {0}")]
    Inconsistent(String),
}

fn default_issuer() -> String {
    demo::ISSUER.to_owned()
}

fn default_scopes() -> Vec<String> {
    demo::SCOPES.split(' ').map(str::to_owned).collect()
}

impl SimConfig {
    /// Loads a config from a `.json` file, or from TOML for any other extension, and checks it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let config = if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            serde_json::from_str(&text).map_err(|source| ConfigError::Json {
                path: shown,
                source,
            })?
        } else {
            Self::from_toml_str_unchecked(&text).map_err(|source| ConfigError::Toml {
                path: shown,
                source,
            })?
        };
        Self::check(config)
    }

    /// Parses and checks a TOML config.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = Self::from_toml_str_unchecked(text).map_err(|source| ConfigError::Toml {
            path: "<string>".to_owned(),
            source,
        })?;
        Self::check(config)
    }

    fn from_toml_str_unchecked(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Checks cross references: every user's CRID exists, no CRID, MID or client id repeats.
    pub fn check(self) -> Result<Self, ConfigError> {
        let mut crids = std::collections::HashSet::new();
        let mut mids = std::collections::HashSet::new();
        for crid in &self.crids {
            if !crids.insert(crid.crid.as_str()) {
                return Err(ConfigError::Inconsistent(format!(
                    "CRID {} is listed twice",
                    crid.crid
                )));
            }
            for mid in &crid.mids {
                let valid = (mid.mid.len() == 6 || mid.mid.len() == 9)
                    && mid.mid.bytes().all(|byte| byte.is_ascii_digit());
                if !valid {
                    return Err(ConfigError::Inconsistent(format!(
                        "MID {} of CRID {} is not 6 or 9 digits",
                        mid.mid, crid.crid
                    )));
                }
                if !mids.insert(mid.mid.as_str()) {
                    return Err(ConfigError::Inconsistent(format!(
                        "MID {} is listed twice",
                        mid.mid
                    )));
                }
            }
        }
        for user in &self.users {
            if let Some(missing) = user
                .crids
                .iter()
                .find(|crid| !crids.contains(crid.as_str()))
            {
                return Err(ConfigError::Inconsistent(format!(
                    "user {} owns CRID {missing}, which is not configured",
                    user.username
                )));
            }
        }
        let mut client_ids = std::collections::HashSet::new();
        for app in &self.apps {
            if !client_ids.insert(app.client_id.as_str()) {
                return Err(ConfigError::Inconsistent(format!(
                    "client_id {} is listed twice",
                    app.client_id
                )));
            }
        }
        Ok(self)
    }

    /// The app registered under `client_id`.
    pub fn app(&self, client_id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    /// The business account registered under `crid`.
    pub fn crid(&self, crid: &str) -> Option<&CridConfig> {
        self.crids.iter().find(|entry| entry.crid == crid)
    }

    /// The consent-page user named `username`.
    pub fn user(&self, username: &str) -> Option<&UserConfig> {
        self.users.iter().find(|user| user.username == username)
    }
}

impl CridConfig {
    /// Whether `mid` is one of this CRID's MIDs, whatever its role.
    pub fn owns_mid(&self, mid: &str) -> bool {
        self.mids.iter().any(|entry| entry.mid == mid)
    }

    /// The EPS account numbered `number`.
    pub fn eps_account(&self, number: &str) -> Option<&EpsAccountConfig> {
        self.eps_accounts
            .iter()
            .find(|account| account.number == number)
    }

    /// The permit numbered `number`.
    pub fn permit(&self, number: &str) -> Option<&PermitConfig> {
        self.permits.iter().find(|permit| permit.number == number)
    }
}

impl AppConfig {
    /// Whether `redirect_uri` may receive authorization codes for this app: an exact match of
    /// a registered URI, or, when allowed, any plain-HTTP loopback URI without a fragment.
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
    fn demo_config_passes_its_own_consistency_check() {
        assert!(SimConfig::default().check().is_ok());
    }

    #[test]
    fn toml_config_with_every_section_loads() {
        let text = r#"
            issuer = "sim"
            [[apps]]
            client_id = "a"
            client_secret = "b"
            name = "App"
            redirect_uris = ["https://example.com/cb"]
            [[users]]
            username = "u"
            password = "p"
            business_name = "Biz"
            crids = ["123"]
            [[crids]]
            crid = "123"
            enrolled_in_ship_returns = true
            mids = [{ mid = "900000001", role = "returns" }]
            eps_accounts = [{ number = "1", active = false }]
            permits = [{ number = "2", zip = "10001" }]
        "#;
        let config = SimConfig::from_toml_str(text).unwrap();
        assert_eq!(config.crids[0].mids[0].role, MidRole::Returns);
        assert_eq!(config.apps[0].scopes, default_scopes());
    }

    #[test]
    fn json_config_file_loads_back_to_the_same_config() {
        let path =
            std::env::temp_dir().join(format!("usps-sim-config-{}.json", std::process::id()));
        std::fs::write(&path, serde_json::to_string(&SimConfig::default()).unwrap()).unwrap();
        let loaded = SimConfig::load(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.unwrap(), SimConfig::default());
    }

    #[test]
    fn missing_config_file_is_a_read_error() {
        let error = SimConfig::load("/nonexistent/usps-sim.toml").unwrap_err();
        assert!(matches!(error, ConfigError::Read { .. }));
    }

    #[test]
    fn misspelt_config_key_is_rejected() {
        let text = "[[apps]]\nclient_id = \"a\"\nclient_secret = \"b\"\nname = \"A\"\nredirect_uri = \"x\"\n";
        assert!(SimConfig::from_toml_str(text).is_err());
    }

    #[test]
    fn user_owning_an_unknown_crid_is_rejected() {
        let mut config = SimConfig::default();
        config.users[0].crids.push("999".to_owned());
        assert!(config.check().is_err());
    }

    #[test]
    fn loopback_redirects_on_any_port_are_accepted_only_when_allowed() {
        let mut app = SimConfig::default().apps[0].clone();
        assert!(app.accepts_redirect("http://localhost:5173/callback"));
        assert!(app.accepts_redirect("http://127.0.0.1:9/x?y=1"));
        assert!(!app.accepts_redirect("https://evil.example/callback"));
        assert!(!app.accepts_redirect("http://127.0.0.1:9/x#fragment"));
        app.allow_loopback_redirects = false;
        assert!(!app.accepts_redirect("http://localhost:5173/callback"));
        assert!(app.accepts_redirect(demo::REDIRECT_URI));
    }
}
