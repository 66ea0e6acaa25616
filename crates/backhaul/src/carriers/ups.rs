//! UPS in the binary: `[ups]` settings, the plugin, `backhaul ups-sim` and the demo.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::PgTokenCache;
use anyhow::Context;
use carrier::Carrier;
use carrier_ups::{PlatformApp, UpsBuilder};
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use ups_sim::demo;

use super::{Demo, PlatformAppKeys, Plugin, load_simulator_config};
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
}

impl UpsSettings {
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
        })
    }

    fn serve_simulator(
        &self,
        listener: TcpListener,
        config: Option<&Path>,
    ) -> anyhow::Result<BoxFuture<'static, std::io::Result<()>>> {
        let config = match config {
            Some(path) => load_simulator_config(path)?,
            None => ups_sim::SimConfig::default(),
        };
        Ok(ups_sim::Simulator::new(config).serve(listener).boxed())
    }

    fn demo(&self) -> Demo {
        Demo {
            username: demo::USERNAME,
            password: demo::PASSWORD,
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
