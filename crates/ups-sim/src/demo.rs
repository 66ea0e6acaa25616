//! The demo data: the simulator's default [`SimConfig`], as constants that tests and
//! `backhaul dev` refer to.
//!
//! | who | login | accounts |
//! |---|---|---|
//! | app [`CLIENT_ID`] / [`CLIENT_SECRET`] ("Backhaul"), redirect [`REDIRECT_URI`] and any loopback URI | — | [`SHIPPER_NUMBER`] with client credentials |
//! | user [`USERNAME`] | [`PASSWORD`] | [`SHIPPER_NUMBER`] (Backhaul Demo Returns Co., US) |
//! | user [`OTHER_USERNAME`] | [`PASSWORD`] | [`OTHER_SHIPPER_NUMBER`] (Other Parcel Shop, US) |
//!
//! The demo app's Track Alert webhook points at `backhaul dev`'s API on `127.0.0.1:8080`:
//! [`WEBHOOK_URL`] and [`WEBHOOK_TOKEN_URL`], with [`WEBHOOK_CLIENT_ID`] /
//! [`WEBHOOK_CLIENT_SECRET`] (the listener credentials `config/local.toml` gives the plugin).

use crate::config::{AccountConfig, AppConfig, SimConfig, UserConfig, WebhookConfig};

/// The demo app's Client ID.
pub const CLIENT_ID: &str = "backhaul-demo";
/// The demo app's Client Secret.
pub const CLIENT_SECRET: &str = "backhaul-demo-secret";
/// The demo app's name, shown on the consent page.
pub const APP_NAME: &str = "Backhaul";
/// The demo app's registered redirect URI.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/ups/oauth/callback";
/// The demo UPS user, holding [`SHIPPER_NUMBER`].
pub const USERNAME: &str = "merchant";
/// The password of every demo user.
pub const PASSWORD: &str = "password";
/// The demo shipper account.
pub const SHIPPER_NUMBER: &str = "A1B2C3";
/// The demo account's holder.
pub const ACCOUNT_NAME: &str = "Backhaul Demo Returns Co.";
/// A second user, holding only [`OTHER_SHIPPER_NUMBER`].
pub const OTHER_USERNAME: &str = "other";
/// The second user's account, which [`USERNAME`] may not ship with.
pub const OTHER_SHIPPER_NUMBER: &str = "X9Y8Z7";

/// Where the demo app's Track Alert events go (`backhaul dev`'s listener).
pub const WEBHOOK_URL: &str = "http://127.0.0.1:8080/v1/carrier-webhooks/ups";
/// The listener's token URL the demo app's pushes fetch a bearer token from.
pub const WEBHOOK_TOKEN_URL: &str = "http://127.0.0.1:8080/v1/carrier-webhooks/ups/token";
/// The demo listener client id (sent as `x-api-key`).
pub const WEBHOOK_CLIENT_ID: &str = "backhaul-demo-listener";
/// The demo listener client secret.
pub const WEBHOOK_CLIENT_SECRET: &str = "backhaul-demo-listener-secret";

/// The demo [`SimConfig`]; the same as `SimConfig::default()`.
pub fn config() -> SimConfig {
    SimConfig {
        apps: vec![AppConfig {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            name: APP_NAME.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            allow_loopback_redirects: true,
            shipper_numbers: vec![SHIPPER_NUMBER.to_owned()],
        }],
        users: vec![
            UserConfig {
                username: USERNAME.to_owned(),
                password: PASSWORD.to_owned(),
                shipper_numbers: vec![SHIPPER_NUMBER.to_owned()],
            },
            UserConfig {
                username: OTHER_USERNAME.to_owned(),
                password: PASSWORD.to_owned(),
                shipper_numbers: vec![OTHER_SHIPPER_NUMBER.to_owned()],
            },
        ],
        accounts: vec![
            AccountConfig {
                shipper_number: SHIPPER_NUMBER.to_owned(),
                name: ACCOUNT_NAME.to_owned(),
                country_code: "US".to_owned(),
            },
            AccountConfig {
                shipper_number: OTHER_SHIPPER_NUMBER.to_owned(),
                name: "Other Parcel Shop".to_owned(),
                country_code: "US".to_owned(),
            },
        ],
        webhooks: vec![WebhookConfig {
            app: CLIENT_ID.to_owned(),
            url: WEBHOOK_URL.to_owned(),
            token_url: WEBHOOK_TOKEN_URL.to_owned(),
            client_id: WEBHOOK_CLIENT_ID.to_owned(),
            client_secret: WEBHOOK_CLIENT_SECRET.to_owned(),
        }],
    }
}
