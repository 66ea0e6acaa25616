//! The simulator's test data: registered apps (client id, secret, whether the app is an
//! integrator that may register its customers' accounts, the accounts the app ships with
//! itself) and FedEx accounts (number, customer name, address, the e-mail and phone the
//! registration PIN goes to, the multi-factor options and the invoices of each).
//!
//! [`SimConfig::default`] is the demo data of [`crate::demo`]. A config loads from TOML or
//! JSON ([`SimConfig::load`]); a missing section is empty and unknown keys are refused:
//!
//! ```toml
//! [[apps]]
//! client_id = "my-platform"
//! client_secret = "my-secret"
//! name = "My Platform"
//! integrator = true              # may call Account Registration and csp_credentials
//! account_numbers = []           # accounts usable with its client_credentials tokens
//!
//! [[accounts]]
//! account_number = "123456789"
//! customer_name = "Alice Returns LLC"
//! street_lines = ["1 Main St"]
//! city = "Memphis"
//! state_or_province_code = "TN"
//! postal_code = "38116"
//! country_code = "US"
//! email = "alice@example.com"
//! phone = "9015550100"
//! mfa_options = ["INVOICE", "SMS", "CALL", "EMAIL"]   # empty: keys at once
//!
//! [[accounts.invoices]]
//! number = 293235673
//! currency = "USD"
//! date = "2025-06-09"
//! amount = "2323.22"
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
    /// Apps registered on the FedEx Developer Portal.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// FedEx accounts.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

/// A Developer Portal app (API key and secret). `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The API key (`client_id`).
    pub client_id: String,
    /// The secret key (`client_secret`).
    pub client_secret: String,
    /// The app's name.
    pub name: String,
    /// An integrator (Compatible Provider) app: its `client_credentials` tokens may call
    /// Account Registration, and it gets `csp_credentials` tokens for the children it
    /// registered.
    #[serde(default)]
    pub integrator: bool,
    /// The accounts the app itself ships with under `client_credentials` (a merchant's own
    /// app).
    #[serde(default)]
    pub account_numbers: Vec<String>,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("name", &self.name)
            .field("integrator", &self.integrator)
            .field("account_numbers", &self.account_numbers)
            .finish()
    }
}

/// A FedEx account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The account number (FedEx's are 9 digits; up to 9 letters or digits are accepted, so
    /// that the files' masked example numbers such as `XXX561073` can be configured).
    pub account_number: String,
    /// The customer (company) name on the account.
    pub customer_name: String,
    /// The billing address's street lines; registration matches the first.
    pub street_lines: Vec<String>,
    /// City.
    pub city: String,
    /// State or province code.
    pub state_or_province_code: String,
    /// Postal code.
    pub postal_code: String,
    /// Two-letter country code.
    pub country_code: String,
    /// The e-mail registration PINs go to (shown masked).
    #[serde(default)]
    pub email: Option<String>,
    /// The phone registration PINs go to by SMS or call (shown masked).
    #[serde(default)]
    pub phone: Option<String>,
    /// The multi-factor options registration offers: `INVOICE`, `SMS`, `CALL`, `EMAIL`; empty
    /// for an account that gets its keys right after the address check.
    #[serde(default)]
    pub mfa_options: Vec<String>,
    /// The invoices the `INVOICE` option matches.
    #[serde(default)]
    pub invoices: Vec<InvoiceConfig>,
}

/// An invoice FedEx sent the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceConfig {
    /// The invoice number.
    pub number: u64,
    /// Currency code, e.g. `USD`.
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The amount as a decimal string with at most two decimals, e.g. `"2323.22"`.
    pub amount: String,
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

/// The multi-factor options registration knows.
pub const MFA_OPTIONS: &[&str] = &["INVOICE", "SMS", "CALL", "EMAIL"];

/// An amount such as `"2323.22"` or `2323.2` in cents; `None` for anything else.
pub fn cents(amount: &str) -> Option<u64> {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.bytes().all(|byte| byte.is_ascii_digit())
        || !fraction.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
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

    /// Checks cross references: account numbers well formed and unique, every app's account
    /// configured, client ids unique, each MFA option known and with somewhere to send the
    /// PIN (or an invoice to match), invoice amounts decimal.
    pub fn check(self) -> Result<Self, ConfigError> {
        let inconsistent = |message: String| Err(ConfigError::Inconsistent(message));
        let mut numbers = HashSet::new();
        for account in &self.accounts {
            let number = &account.account_number;
            if number.is_empty()
                || number.len() > 9
                || !number.bytes().all(|byte| byte.is_ascii_alphanumeric())
            {
                return inconsistent(format!("account {number} is not 1 to 9 letters or digits"));
            }
            if !numbers.insert(number.as_str()) {
                return inconsistent(format!("account {number} is listed twice"));
            }
            if account.street_lines.is_empty() {
                return inconsistent(format!("account {number} has no street line"));
            }
            for option in &account.mfa_options {
                let reachable = match option.as_str() {
                    "INVOICE" => !account.invoices.is_empty(),
                    "SMS" | "CALL" => account.phone.is_some(),
                    "EMAIL" => account.email.is_some(),
                    _ => {
                        return inconsistent(format!(
                            "account {number}: MFA option {option} is not one of {}",
                            MFA_OPTIONS.join(", ")
                        ));
                    }
                };
                if !reachable {
                    return inconsistent(format!(
                        "account {number}: MFA option {option} has no phone, e-mail or invoice behind it"
                    ));
                }
            }
            if let Some(invoice) = account
                .invoices
                .iter()
                .find(|invoice| cents(&invoice.amount).is_none())
            {
                return inconsistent(format!(
                    "account {number}: invoice {} amount {:?} is not a decimal with at most two places",
                    invoice.number, invoice.amount
                ));
            }
        }
        let mut client_ids = HashSet::new();
        for app in &self.apps {
            if !client_ids.insert(app.client_id.as_str()) {
                return inconsistent(format!("client_id {} is listed twice", app.client_id));
            }
            if let Some(missing) = app
                .account_numbers
                .iter()
                .find(|number| !numbers.contains(number.as_str()))
            {
                return inconsistent(format!(
                    "app {} ships with account {missing}, which is not configured",
                    app.client_id
                ));
            }
        }
        Ok(self)
    }

    /// The app registered under `client_id`.
    pub fn app(&self, client_id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    /// The account numbered `account_number`.
    pub fn account(&self, account_number: &str) -> Option<&AccountConfig> {
        self.accounts
            .iter()
            .find(|account| account.account_number == account_number)
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
    fn debug_output_redacts_client_secrets() {
        let shown = format!("{:?}", SimConfig::default());
        assert!(!shown.contains(demo::CLIENT_SECRET), "{shown}");
        assert!(!shown.contains(demo::OWN_APP_CLIENT_SECRET), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn demo_config_passes_its_own_check() {
        assert!(SimConfig::default().check().is_ok());
    }

    #[test]
    fn an_mfa_option_without_a_destination_is_refused() {
        let mut config = SimConfig::default();
        config.accounts[0].phone = None;
        assert!(config.check().is_err());
        let mut config = SimConfig::default();
        config.accounts[0].mfa_options.push("FAX".to_owned());
        assert!(config.check().is_err());
    }

    #[test]
    fn an_app_shipping_with_an_unknown_account_is_refused() {
        let mut config = SimConfig::default();
        config.apps[1].account_numbers.push("999999999".to_owned());
        assert!(config.check().is_err());
    }

    #[test]
    fn amounts_read_as_cents() {
        assert_eq!(cents("2323.22"), Some(232_322));
        assert_eq!(cents("2323.2"), Some(232_320));
        assert_eq!(cents("7"), Some(700));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("-1"), None);
    }

    #[test]
    fn misspelt_key_is_refused_and_a_full_toml_config_loads() {
        assert!(SimConfig::from_toml_str("[[apps]]\nclient_ident = \"a\"\n").is_err());
        let text = r#"
            [[apps]]
            client_id = "a"
            client_secret = "b"
            name = "App"
            account_numbers = ["123456789"]
            [[accounts]]
            account_number = "123456789"
            customer_name = "Q"
            street_lines = ["1 Main St"]
            city = "Memphis"
            state_or_province_code = "TN"
            postal_code = "38116"
            country_code = "US"
            mfa_options = ["INVOICE"]
            [[accounts.invoices]]
            number = 1
            currency = "USD"
            date = "2025-01-01"
            amount = "10.00"
        "#;
        let config = SimConfig::from_toml_str(text).unwrap();
        assert!(!config.apps[0].integrator);
        assert_eq!(config.account("123456789").unwrap().customer_name, "Q");
    }
}
