//! UPS in the binary: `[ups]` settings, the plugin, `backhaul ups-sim` and the demo.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::PgTokenCache;
use anyhow::Context;
use carrier::Carrier;
use carrier_ups::{ListenerCredentials, PlatformApp, UpsBuilder};
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use ups_sim::demo;

use super::{Demo, DemoOnboarding, PlatformAppKeys, Plugin, load_simulator_config};
use crate::configuration::check_url;

/// `[ups]`: the UPS plugin.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UpsSettings {
    /// `ups.base_url`: production (`https://onlinetools.ups.com`), CIE
    /// (`https://wwwcie.ups.com`) or the simulator.
    pub(crate) base_url: String,
    /// `ups.client_id`, `ups.client_secret`, `ups.redirect_uri`: the platform's own UPS app
    /// ("Login with UPS", `platform_app` accounts); all three or none.
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) redirect_uri: Option<String>,
    /// `ups.authorize_url`: where "Login with UPS" sends the browser; derived from the base
    /// URL when unset.
    pub(crate) authorize_url: Option<String>,
    /// `ups.listener_client_id`, `ups.listener_client_secret`: the client credentials
    /// registered in UPS's portal ("Manage Webhook Credentials") with which Track Alert fetches
    /// a token from `/v1/carrier-webhooks/ups/token` before pushing events; both or neither.
    /// Without them labels are still subscribed, but every pushed event is refused (401) and
    /// tracking relies on polling.
    #[serde(default)]
    pub(crate) listener_client_id: Option<String>,
    #[serde(default)]
    pub(crate) listener_client_secret: Option<SecretString>,
    /// The simulator's Track Alert webhook (`[ups_sim]`), copied here by
    /// [`UpsSimulatorSettings::apply_to`] because this block serves the simulator.
    #[serde(skip)]
    pub(crate) simulator_webhook: Option<SimulatorWebhook>,
}

/// The listener secret's shortest length: the key of the listener's tokens derives from it.
const LISTENER_SECRET_MIN_LENGTH: usize = 16;

/// `[ups_sim]`: where `backhaul ups-sim` listens, and the webhook settings UPS's portal would
/// hold for the simulator's demo app (`webhook_url`, `webhook_token_url`, `webhook_client_id`,
/// `webhook_client_secret`; all four or none — none keeps the simulator's own defaults, which
/// point at `127.0.0.1:8080`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UpsSimulatorSettings {
    pub(crate) listen: SocketAddr,
    #[serde(default)]
    pub(crate) webhook_url: Option<String>,
    #[serde(default)]
    pub(crate) webhook_token_url: Option<String>,
    #[serde(default)]
    pub(crate) webhook_client_id: Option<String>,
    #[serde(default)]
    pub(crate) webhook_client_secret: Option<SecretString>,
}

/// The simulator's webhook settings, checked.
#[derive(Debug, Clone)]
pub(crate) struct SimulatorWebhook {
    url: String,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
}

impl UpsSimulatorSettings {
    /// Checks the webhook keys and hands them to the `[ups]` block that serves the simulator.
    pub(crate) fn apply_to(&self, ups: &mut UpsSettings) -> anyhow::Result<()> {
        let keys = [
            ("ups_sim.webhook_url", self.webhook_url.is_some()),
            (
                "ups_sim.webhook_token_url",
                self.webhook_token_url.is_some(),
            ),
            (
                "ups_sim.webhook_client_id",
                self.webhook_client_id.is_some(),
            ),
            (
                "ups_sim.webhook_client_secret",
                self.webhook_client_secret.is_some(),
            ),
        ];
        let missing: Vec<&str> = keys
            .iter()
            .filter(|(_, set)| !set)
            .map(|(key, _)| *key)
            .collect();
        if !missing.is_empty() && missing.len() < keys.len() {
            anyhow::bail!(
                "the UPS simulator's webhook is partly configured: {} must be set too (the four ups_sim.webhook_* keys go together)",
                missing.join(", ")
            );
        }
        let (Some(url), Some(token_url), Some(client_id), Some(client_secret)) = (
            &self.webhook_url,
            &self.webhook_token_url,
            &self.webhook_client_id,
            &self.webhook_client_secret,
        ) else {
            return Ok(());
        };
        check_url("ups_sim.webhook_url", "BACKHAUL__UPS_SIM__WEBHOOK_URL", url)?;
        check_url(
            "ups_sim.webhook_token_url",
            "BACKHAUL__UPS_SIM__WEBHOOK_TOKEN_URL",
            token_url,
        )?;
        ups.simulator_webhook = Some(SimulatorWebhook {
            url: url.clone(),
            token_url: token_url.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
        });
        Ok(())
    }
}

impl UpsSettings {
    /// The Track Alert listener credentials, when configured.
    fn listener(&self) -> Option<ListenerCredentials> {
        match (&self.listener_client_id, &self.listener_client_secret) {
            (Some(id), Some(secret)) => Some(ListenerCredentials::new(id, secret.clone())),
            _ => None,
        }
    }

    fn validate_listener(&self) -> anyhow::Result<()> {
        match (&self.listener_client_id, &self.listener_client_secret) {
            (None, None) => Ok(()),
            (Some(id), Some(secret)) => {
                if id.trim().is_empty() {
                    anyhow::bail!(
                        "ups.listener_client_id (BACKHAUL__UPS__LISTENER_CLIENT_ID) must not be empty"
                    );
                }
                if secret.expose_secret().chars().count() < LISTENER_SECRET_MIN_LENGTH {
                    anyhow::bail!(
                        "ups.listener_client_secret (BACKHAUL__UPS__LISTENER_CLIENT_SECRET) must be at least {LISTENER_SECRET_MIN_LENGTH} characters: the listener's tokens are signed with a key derived from it"
                    );
                }
                Ok(())
            }
            (Some(_), None) => anyhow::bail!(
                "ups.listener_client_id is set but ups.listener_client_secret (BACKHAUL__UPS__LISTENER_CLIENT_SECRET) is not: the two go together"
            ),
            (None, Some(_)) => anyhow::bail!(
                "ups.listener_client_secret is set but ups.listener_client_id (BACKHAUL__UPS__LISTENER_CLIENT_ID) is not: the two go together"
            ),
        }
    }

    /// The platform app, when configured.
    fn platform_app(&self) -> Option<PlatformApp> {
        let (Some(client_id), Some(client_secret), Some(redirect_uri)) =
            (&self.client_id, &self.client_secret, &self.redirect_uri)
        else {
            return None;
        };
        let app = PlatformApp::new(client_id, client_secret.clone(), redirect_uri);
        Some(match &self.authorize_url {
            Some(url) => app.with_authorize_url(url),
            None => app,
        })
    }
}

impl Plugin for UpsSettings {
    fn id(&self) -> &'static str {
        "ups"
    }

    fn name(&self) -> &'static str {
        "UPS"
    }

    fn validate(&self) -> anyhow::Result<()> {
        check_url("ups.base_url", "BACKHAUL__UPS__BASE_URL", &self.base_url)?;
        if let Some(uri) = &self.redirect_uri {
            check_url("ups.redirect_uri", "BACKHAUL__UPS__REDIRECT_URI", uri)?;
        }
        if let Some(url) = &self.authorize_url {
            check_url("ups.authorize_url", "BACKHAUL__UPS__AUTHORIZE_URL", url)?;
        }
        self.validate_listener()?;
        PlatformAppKeys {
            client_id: self.client_id.is_some(),
            client_secret: self.client_secret.is_some(),
            redirect_uri: self.redirect_uri.is_some(),
            authorize_url: self.authorize_url.is_some(),
        }
        .check(self.id(), self.name())
    }

    fn build(&self, token_cache: Arc<PgTokenCache>) -> anyhow::Result<Arc<dyn Carrier>> {
        let mut builder = UpsBuilder::new()
            .with_base_url(&self.base_url)
            .with_token_cache(token_cache);
        if let Some(app) = self.platform_app() {
            builder = builder.with_platform_app(app);
        }
        if let Some(listener) = self.listener() {
            builder = builder.with_listener_credentials(listener);
        }
        let carrier = builder.build().context("building the UPS plugin (ups.*)")?;
        Ok(Arc::new(carrier))
    }

    fn against_simulator(&self, simulator: &str, api: SocketAddr) -> Box<dyn Plugin> {
        Box::new(UpsSettings {
            base_url: simulator.to_owned(),
            client_id: Some(demo::CLIENT_ID.to_owned()),
            client_secret: Some(SecretString::from(demo::CLIENT_SECRET.to_owned())),
            redirect_uri: Some(format!("http://{api}/v1/ups/oauth/callback")),
            authorize_url: None,
            // What the simulator's demo app holds for its Track Alert webhook.
            listener_client_id: Some(demo::WEBHOOK_CLIENT_ID.to_owned()),
            listener_client_secret: Some(SecretString::from(
                demo::WEBHOOK_CLIENT_SECRET.to_owned(),
            )),
            simulator_webhook: None,
        })
    }

    fn serve_simulator(
        &self,
        listener: TcpListener,
        config: Option<&Path>,
    ) -> anyhow::Result<BoxFuture<'static, std::io::Result<()>>> {
        let mut config: ups_sim::SimConfig = match config {
            Some(path) => load_simulator_config(path)?,
            None => ups_sim::SimConfig::default(),
        };
        if let Some(webhook) = &self.simulator_webhook {
            // `[ups_sim]` sets the demo app's webhook, as its owner would in UPS's portal.
            config
                .webhooks
                .retain(|existing| existing.app != demo::CLIENT_ID);
            config.webhooks.push(ups_sim::WebhookConfig {
                app: demo::CLIENT_ID.to_owned(),
                url: webhook.url.clone(),
                token_url: webhook.token_url.clone(),
                client_id: webhook.client_id.clone(),
                client_secret: webhook.client_secret.expose_secret().to_owned(),
            });
            config = config
                .check()
                .context("the UPS simulator's config with [ups_sim]'s webhook")?;
        }
        Ok(ups_sim::Simulator::new(config).serve(listener).boxed())
    }

    fn demo(&self) -> Demo {
        Demo {
            onboarding: DemoOnboarding::SignIn {
                username: demo::USERNAME,
                password: demo::PASSWORD,
            },
            account: json!({
                "carrier": "ups",
                "name": "Demo UPS warehouse",
                "details": {
                    "account_number": demo::SHIPPER_NUMBER,
                    "return_address": {
                        "firm": "Backhaul Demo Returns",
                        "street1": "55 Glenlake Pkwy NE",
                        "city": "Atlanta",
                        "state": "GA",
                        "postal_code": "30328",
                        "country": "US",
                    },
                },
                "credentials": {
                    "mode": "own_app",
                    "client_id": demo::CLIENT_ID,
                    "client_secret": demo::CLIENT_SECRET,
                },
            }),
            label: json!({
                "service": "ups_ground_return",
                "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                                 "city": "Saint Louis", "state": "MO", "postal_code": "63118",
                                 "country": "US"},
                "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
                "label_format": "PDF",
                "reference": "RMA-1002",
            }),
        }
    }
}
