//! FedEx in the binary: `[fedex]` settings, the plugin, `backhaul fedex-sim` and the demo.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use accounts::PgTokenCache;
use anyhow::Context;
use carrier::Carrier;
use carrier_fedex::{FedexBuilder, PlatformApp};
use fedex_sim::demo;
use futures::FutureExt;
use futures::future::BoxFuture;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{Demo, DemoOnboarding, Plugin, load_simulator_config};
use crate::configuration::check_url;

/// `[fedex]`: the FedEx plugin.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FedexSettings {
    /// `fedex.base_url`: production (`https://apis.fedex.com`), the sandbox
    /// (`https://apis-sandbox.fedex.com`) or the simulator.
    pub(crate) base_url: String,
    /// `fedex.client_id`, `fedex.client_secret`: the platform's own FedEx app (an integrator /
    /// Compatible Provider project), with which merchants' accounts are registered
    /// (`registration` accounts) and their child keys used; both or neither. Without it only
    /// merchants' own apps (`own_app`) can be connected.
    #[serde(default)]
    pub(crate) client_id: Option<String>,
    #[serde(default)]
    pub(crate) client_secret: Option<SecretString>,
}

impl FedexSettings {
    fn platform_app(&self) -> Option<PlatformApp> {
        match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => Some(PlatformApp::new(id, secret.clone())),
            _ => None,
        }
    }
}

/// A demo address of the simulator's demo business (its billing address at FedEx).
fn demo_address() -> Value {
    json!({
        "firm": demo::CUSTOMER_NAME,
        "street1": demo::STREET,
        "city": demo::CITY,
        "state": demo::STATE,
        "postal_code": demo::POSTAL_CODE,
        "country": demo::COUNTRY,
        "phone": demo::PHONE,
    })
}

impl Plugin for FedexSettings {
    fn id(&self) -> &'static str {
        "fedex"
    }

    fn name(&self) -> &'static str {
        "FedEx"
    }

    fn validate(&self) -> anyhow::Result<()> {
        check_url(
            "fedex.base_url",
            "BACKHAUL__FEDEX__BASE_URL",
            &self.base_url,
        )?;
        match (&self.client_id, &self.client_secret) {
            (Some(_), Some(_)) | (None, None) => Ok(()),
            (Some(_), None) => anyhow::bail!(
                "fedex.client_id is set but fedex.client_secret (BACKHAUL__FEDEX__CLIENT_SECRET) is not: the platform FedEx app needs both"
            ),
            (None, Some(_)) => anyhow::bail!(
                "fedex.client_secret is set but fedex.client_id (BACKHAUL__FEDEX__CLIENT_ID) is not: the platform FedEx app needs both"
            ),
        }
    }

    fn build(&self, token_cache: Arc<PgTokenCache>) -> anyhow::Result<Arc<dyn Carrier>> {
        let mut builder = FedexBuilder::new()
            .with_base_url(&self.base_url)
            .with_token_cache(token_cache);
        if let Some(app) = self.platform_app() {
            builder = builder.with_platform_app(app);
        }
        let carrier = builder
            .build()
            .context("building the FedEx plugin (fedex.*)")?;
        Ok(Arc::new(carrier))
    }

    fn against_simulator(&self, simulator: &str, _api: SocketAddr) -> Box<dyn Plugin> {
        Box::new(FedexSettings {
            base_url: simulator.to_owned(),
            client_id: Some(demo::CLIENT_ID.to_owned()),
            client_secret: Some(SecretString::from(demo::CLIENT_SECRET.to_owned())),
        })
    }

    fn serve_simulator(
        &self,
        listener: TcpListener,
        config: Option<&Path>,
    ) -> anyhow::Result<BoxFuture<'static, std::io::Result<()>>> {
        let config: fedex_sim::SimConfig = match config {
            Some(path) => load_simulator_config(path)?,
            None => fedex_sim::SimConfig::default(),
        };
        Ok(fedex_sim::Simulator::new(config).serve(listener).boxed())
    }

    fn demo(&self) -> Demo {
        let details = json!({
            "account_number": demo::ACCOUNT_NUMBER,
            "customer_name": demo::CUSTOMER_NAME,
            "billing_address": demo_address(),
        });
        Demo {
            onboarding: DemoOnboarding::Registration {
                account: json!({
                    "carrier": "fedex",
                    "name": "Demo FedEx (registered)",
                    "details": details,
                    "credentials": {"mode": "registration"},
                }),
                codes_path: "/__sim/registration/pins",
            },
            account: json!({
                "carrier": "fedex",
                "name": "Demo FedEx warehouse",
                "details": details,
                "credentials": {
                    "mode": "own_app",
                    "client_id": demo::OWN_APP_CLIENT_ID,
                    "client_secret": demo::OWN_APP_CLIENT_SECRET,
                },
            }),
            label: json!({
                "service": "fedex_ground_return",
                "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                                 "city": "Saint Louis", "state": "MO", "postal_code": "63118",
                                 "country": "US", "phone": "3145550123"},
                "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
                "label_format": "PDF",
                "reference": "RMA-1003",
            }),
        }
    }
}
