//! USPS in the binary: `[usps]` settings, the plugin, `backhaul usps-sim` and the demo.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::PgTokenCache;
use anyhow::Context;
use carrier::Carrier;
use carrier_usps::{PlatformApp, UspsBuilder};
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use usps_sim::demo;

use super::{Demo, DemoOnboarding, PlatformAppKeys, Plugin, load_simulator_config};
use crate::configuration::check_url;

/// `[usps]`: the USPS plugin.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct UspsSettings {
    /// `usps.base_url`: the v3 host (production, TEM or the simulator).
    pub(crate) base_url: String,
    /// `usps.webtools_url`: the Web Tools `ShippingAPI.dll` endpoint.
    pub(crate) webtools_url: String,
    /// `usps.client_id`, `usps.client_secret`, `usps.redirect_uri`: the platform's own USPS
    /// app ("Login with USPS", `platform_app` accounts); all three or none.
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) redirect_uri: Option<String>,
    /// `usps.authorize_url`: where "Login with USPS" sends the browser; derived from the base
    /// URL when unset.
    pub(crate) authorize_url: Option<String>,
}

impl UspsSettings {
    /// The platform app, when configured.
    pub(crate) fn platform_app(&self) -> Option<PlatformApp> {
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

impl Plugin for UspsSettings {
    fn id(&self) -> &'static str {
        "usps"
    }

    fn name(&self) -> &'static str {
        "USPS"
    }

    fn validate(&self) -> anyhow::Result<()> {
        check_url("usps.base_url", "BACKHAUL__USPS__BASE_URL", &self.base_url)?;
        check_url(
            "usps.webtools_url",
            "BACKHAUL__USPS__WEBTOOLS_URL",
            &self.webtools_url,
        )?;
        if let Some(uri) = &self.redirect_uri {
            check_url("usps.redirect_uri", "BACKHAUL__USPS__REDIRECT_URI", uri)?;
        }
        if let Some(url) = &self.authorize_url {
            check_url("usps.authorize_url", "BACKHAUL__USPS__AUTHORIZE_URL", url)?;
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
        let mut builder = UspsBuilder::new()
            .with_base_url(&self.base_url)
            .with_webtools_url(&self.webtools_url)
            .with_token_cache(token_cache);
        if let Some(app) = self.platform_app() {
            builder = builder.with_platform_app(app);
        }
        let carrier = builder
            .build()
            .context("building the USPS plugin (usps.*)")?;
        Ok(Arc::new(carrier))
    }

    fn against_simulator(&self, simulator: &str, api: SocketAddr) -> Box<dyn Plugin> {
        Box::new(UspsSettings {
            base_url: simulator.to_owned(),
            webtools_url: format!("{simulator}/ShippingAPI.dll"),
            client_id: Some(demo::CLIENT_ID.to_owned()),
            client_secret: Some(SecretString::from(demo::CLIENT_SECRET.to_owned())),
            redirect_uri: Some(format!("http://{api}/v1/usps/oauth/callback")),
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
            None => usps_sim::SimConfig::default(),
        };
        Ok(usps_sim::Simulator::new(config).serve(listener).boxed())
    }

    fn demo(&self) -> Demo {
        Demo {
            onboarding: DemoOnboarding::SignIn {
                username: demo::USERNAME,
                password: demo::PASSWORD,
            },
            account: json!({
                "carrier": "usps",
                "name": "Demo warehouse",
                "details": {
                    "api": "v3",
                    "crid": demo::CRID,
                    "mid": demo::MID,
                    "manifest_mid": demo::MANIFEST_MID,
                    "returns_mid": demo::RETURNS_MID,
                    "account_type": "EPS",
                    "eps_account_number": demo::EPS_ACCOUNT,
                    "return_address": {
                        "firm": demo::RETURN_ADDRESS_FIRM,
                        "street1": demo::RETURN_ADDRESS_STREET,
                        "city": demo::RETURN_ADDRESS_CITY,
                        "state": demo::RETURN_ADDRESS_STATE,
                        "zip5": demo::RETURN_ADDRESS_ZIP,
                    },
                },
                "credentials": {
                    "mode": "own_app",
                    "client_id": demo::CLIENT_ID,
                    "client_secret": demo::CLIENT_SECRET,
                },
            }),
            // The API.md label request.
            label: json!({
                "service": "usps_ground_advantage_return",
                "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                                 "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
                "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
                "label_format": "PDF",
                "reference": "RMA-1001",
            }),
        }
    }
}
