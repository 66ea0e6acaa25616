//! The simulator's test data: registered apps, consent-page users and the business accounts
//! (CRIDs with their MIDs, EPS accounts and permits) that the Payments and Labels APIs check
//! requests against, and the Web Tools users of the `USPSReturnsLabel` XML API with their
//! configured destination (retailer) addresses.
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
//!
//! [[webtools_users]]
//! user_id = "123ABCD456"
//! password = "webtools-password"  # omit for a user whose requests carry USERID only
//! crid = "11112222"
//! mid = "900000003"
//! option = "manifesting"          # non_manifesting | manifesting | efulfillment
//! live_labels = true              # false: USPSReturnsLabelCertify only
//! retailer = { attention = "Returns Dept", firm = "Alice Returns LLC", street_address = "1 Main St", city = "Springfield", state = "IL", zip_code = "62701", zip_plus4 = "1234" }
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
    /// Web Tools users of the `USPSReturnsLabel` XML API (`/ShippingAPI.dll`).
    #[serde(default)]
    pub webtools_users: Vec<WebToolsUserConfig>,
}

/// A USPS Web Tools user enrolled in USPS Returns: the credentials of the request's `USERID`
/// and `PASSWORD` attributes, the Mailer ID printed in its labels' IMpb barcodes, and the
/// destination (retailer) address configured at onboarding, which every label is addressed to
/// (except eFulfillment labels, which name theirs in the request). `Debug` redacts the user ID
/// and the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebToolsUserConfig {
    /// The Web Tools user ID (`USERID`).
    pub user_id: String,
    /// The Web Tools password (`PASSWORD`). `None`: the user's requests must not carry a
    /// `PASSWORD` attribute (the Returns Label guides' requests carry `USERID` only).
    #[serde(default)]
    pub password: Option<String>,
    /// The Customer Registration ID of the business, recorded in the ledger.
    pub crid: String,
    /// The 6- or 9-digit Mailer ID printed in the IMpb tracking numbers.
    pub mid: String,
    /// The configuration chosen at onboarding (Returns Label guide v1.5, section 2.1).
    pub option: ReturnsOption,
    /// Whether the user may call `API=USPSReturnsLabel` (billed labels); every user may call
    /// `API=USPSReturnsLabelCertify` (sample labels).
    #[serde(default = "default_true")]
    pub live_labels: bool,
    /// The configured delivery destination of the user's return labels.
    pub retailer: RetailerAddressConfig,
}

impl fmt::Debug for WebToolsUserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebToolsUserConfig")
            .field("user_id", &"[redacted]")
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("crid", &self.crid)
            .field("mid", &self.mid)
            .field("option", &self.option)
            .field("live_labels", &self.live_labels)
            .field("retailer", &self.retailer)
            .finish()
    }
}

/// The USPS Returns configuration options of a Web Tools user (Returns Label guide v1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnsOption {
    /// Labels to the one configured destination; Signature Confirmation only (no insurance).
    NonManifesting,
    /// Labels to the configured destination; Signature Confirmation and insurance.
    Manifesting,
    /// Labels to a destination named in each request (`ReturnsPostageType` 5 and the
    /// `Retailer*` tags are required); Signature Confirmation and insurance.
    Efulfillment,
}

/// A configured delivery destination ("Delivery Destination Company / Address / City / State /
/// Zip Code" in the guides), returned in the reply's `To*` (v1.2) or `Retailer*` (v1.5) tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetailerAddressConfig {
    /// Attention line (`RetailerATTN`), if any.
    #[serde(default)]
    pub attention: Option<String>,
    /// Company (`ToFirm` / `RetailerFirm`), 1 to 50 characters.
    pub firm: String,
    /// Primary street address (`ToAddress2` / `RetailerAddress2`).
    pub street_address: String,
    /// Secondary unit, e.g. `STE 100` (`ToAddress1` / `RetailerAddress1`); empty when none.
    #[serde(default)]
    pub secondary_address: String,
    /// City.
    pub city: String,
    /// Two-letter state.
    pub state: String,
    /// 5-digit ZIP Code.
    pub zip_code: String,
    /// 4-digit ZIP+4 add-on (the replies' `ToZip4` / `RetailerZip4` are required).
    pub zip_plus4: String,
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
    /// The business the user signs in for (shown on the consent page).
    pub business_name: String,
    /// The CRIDs of that business (each must be listed in [`SimConfig::crids`]): UserInfo's
    /// `mail_owners`, and with their EPS accounts and permits its `payment_accounts`.
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

fn default_true() -> bool {
    true
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
        let mut user_ids = std::collections::HashSet::new();
        for (index, user) in self.webtools_users.iter().enumerate() {
            // Messages name users by position: a user ID is a credential.
            let problem = check_webtools_user(user);
            if let Some(problem) = problem {
                return Err(ConfigError::Inconsistent(format!(
                    "webtools_users[{index}]: {problem}"
                )));
            }
            if !user_ids.insert(user.user_id.as_str()) {
                return Err(ConfigError::Inconsistent(format!(
                    "webtools_users[{index}]: the user ID is listed twice"
                )));
            }
        }
        Ok(self)
    }

    /// The Web Tools user with `user_id` (case-sensitive).
    pub fn webtools_user(&self, user_id: &str) -> Option<&WebToolsUserConfig> {
        self.webtools_users
            .iter()
            .find(|user| user.user_id == user_id)
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

fn all_digits(text: &str, lengths: &[usize]) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// What is wrong with a Web Tools user, if anything.
fn check_webtools_user(user: &WebToolsUserConfig) -> Option<&'static str> {
    let retailer = &user.retailer;
    let length = |text: &str| text.chars().count();
    if user.user_id.trim().is_empty() {
        Some("user_id is empty")
    } else if !all_digits(&user.mid, &[6, 9]) {
        Some("mid is not 6 or 9 digits")
    } else if !(1..=50).contains(&length(&retailer.firm)) {
        Some("retailer.firm must be 1 to 50 characters")
    } else if !(1..=50).contains(&length(&retailer.street_address))
        || length(&retailer.secondary_address) > 50
    {
        Some("retailer.street_address must be 1 to 50 characters, secondary_address at most 50")
    } else if retailer
        .attention
        .as_deref()
        .is_some_and(|line| length(line) > 50)
    {
        Some("retailer.attention is longer than 50 characters")
    } else if !(1..=28).contains(&length(&retailer.city)) {
        Some("retailer.city must be 1 to 28 characters")
    } else if retailer.state.len() != 2 {
        Some("retailer.state is not two letters")
    } else if !all_digits(&retailer.zip_code, &[5]) || !all_digits(&retailer.zip_plus4, &[4]) {
        Some("retailer.zip_code must be 5 digits and zip_plus4 4 digits")
    } else {
        None
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
    fn debug_output_redacts_webtools_user_ids_and_passwords() {
        let shown = format!("{:?}", SimConfig::default());
        assert!(!shown.contains(demo::WEBTOOLS_USER_ID));
        assert!(!shown.contains(demo::WEBTOOLS_PASSWORD));
        assert!(!shown.contains(demo::WEBTOOLS_CERTIFY_USER_ID));
    }

    #[test]
    fn webtools_user_with_a_malformed_mid_is_rejected_without_naming_the_user() {
        let mut config = SimConfig::default();
        config.webtools_users[0].mid = "12345".to_owned();
        let error = config.check().unwrap_err().to_string();
        assert!(error.contains("webtools_users[0]: mid"), "{error}");
        assert!(!error.contains(demo::WEBTOOLS_USER_ID));
    }

    #[test]
    fn webtools_user_listed_twice_is_rejected() {
        let mut config = SimConfig::default();
        let twin = config.webtools_users[0].clone();
        config.webtools_users.push(twin);
        assert!(config.check().is_err());
    }

    #[test]
    fn toml_webtools_user_loads_with_live_labels_by_default() {
        let text = r#"
            [[webtools_users]]
            user_id = "123ABCD456"
            crid = "11112222"
            mid = "900000003"
            option = "non_manifesting"
            retailer = { firm = "Alice Returns LLC", street_address = "1 Main St", city = "Springfield", state = "IL", zip_code = "62701", zip_plus4 = "1234" }
        "#;
        let config = SimConfig::from_toml_str(text).unwrap();
        let user = config.webtools_user("123ABCD456").unwrap();
        assert!(user.live_labels);
        assert_eq!(user.password, None);
        assert_eq!(user.option, ReturnsOption::NonManifesting);
        assert_eq!(user.retailer.secondary_address, "");
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
