//! A strict simulator of the USPS APIs v3 — OAuth 2.0 (oauth2.yaml 3.0.5), Payments
//! (payments.yaml 3.1.20) and the Labels API's `POST /return-label` (domestic-labels.yaml
//! 3.9.13) — validated from the official OpenAPI specs and USPS's error inventory, not from
//! any client, and of the Web Tools `USPSReturnsLabel` XML API (Returns Label guides v1.2 and
//! v1.5, Web Tools developer guide v4.5), checked against the guides' tag tables. A request
//! that real USPS would refuse is refused here too, with the inventory's code (v3) or an
//! `<Error>` document (Web Tools) where one exists.
//!
//! The simulator's root stands for `https://apis.usps.com` and, for Web Tools,
//! `https://secure.shippingapis.com`:
//!
//! | route | module |
//! |---|---|
//! | `POST /oauth2/v3/token`, `POST /oauth2/v3/revoke` | [`v3::oauth`] |
//! | `GET`/`POST /oauth2/v3/authorize` (HTML consent page) | [`v3::authorize`] |
//! | `GET`/`POST /oauth2-oidc/v3/userinfo` (OIDC UserInfo, `userinfo.md`) | [`v3::userinfo`] |
//! | `POST /payments/v3/payment-authorization` | [`v3::payment`] |
//! | `POST /labels/v3/return-label` | [`v3::return_label`] |
//! | `GET /tracking/v3/tracking/{trackingNumber}` | [`v3::tracking`] |
//! | `GET`/`POST /subscriptions-tracking/v3r2/subscriptions`, `GET`/`PUT`/`DELETE …/subscriptions/{subscriptionId}` | [`v3::subscription`]; pushes to listeners: [`push`] |
//! | `GET /ShippingAPI.dll?API=…&XML=…`, `POST /ShippingAPI.dll` (form `API`, `XML`): `API=USPSReturnsLabel` and `API=USPSReturnsLabelCertify` | [`webtools`] |
//! | `/__sim/ledger`, `/__sim/counters`, `/__sim/faults`, `/__sim/label-broker`, `/__sim/tracking/{tracking_number}/events`, `/__sim/subscriptions`, `/__sim/pushes`, `/__sim/subscriptions/{id}/redeliver-last` | [`admin`], [`tracking`] |
//!
//! Test data comes from [`SimConfig`] (default: [`demo`]), Web Tools users and their
//! destination addresses included. Every label issued, by either protocol, is recorded in
//! the [`ledger`](Simulator::ledger) (`api` `"v3"` or `"webtools"`); calls are
//! [counted](Simulator::counters) per route (Web Tools: `"webtools"`; its `<Error>` documents
//! count as errors though sent with status 200); faults are injected at runtime with
//! [`FaultRule`]s ([`fault`]) on any route. The simulator clock can be moved forward
//! ([`Simulator::advance_clock`]) to expire tokens and codes without sleeping. Logs go through
//! `tracing` and never carry secrets, tokens, Web Tools user IDs or passwords.
//!
//! Deliberately not simulated (each refused with a clear error where a request asks for it):
//! XML bodies and `application/vnd.usps.labels+xml` replies of the v3 APIs; `JPG`, `GIF`,
//! `EPL300DPI` images; label branding images; the PC Postage flow and OMAS
//! accounts; real address validation (ZIP+4 lookup, ZIP Code–state consistency,
//! deliverability; Web Tools' `AllowNonCleansedOriginAddr` is accepted and changes nothing);
//! printing customs forms (they are validated, not drawn); outbound labels, cancel, edit and
//! reprint endpoints; real USPS prices, commitments and delivery dates. For tracking: XML
//! replies, the tracking-by-email and proof-of-delivery endpoints
//! (`/tracking/{trackingNumber}/notifications`, `…/proof-of-delivery`), expected and predicted
//! delivery dates, cities of scans (only ZIP Codes are known), delay scans, subscription
//! expiry, and IP allow-listing of pushes. For Web Tools: any API
//! but `USPSReturnsLabel` and `USPSReturnsLabelCertify` (refused as USPS refuses unknown
//! APIs), the old `/ShippingAPITest.dll` test server, USPS Tracking emails (the email tags are
//! validated, nothing is sent), the Shipping Services File of manifesting accounts
//! (`MailOwnerMID` is validated, not used), CCITT Group 4 compression of TIF images (they are
//! uncompressed bilevel TIFFs), 8.5×11 in pages for `6X4PAGE` and separate receipts (the
//! label is 4×6 with the receipt below it, a separate receipt its own 4×3 in image),
//! `Machinable` in pricing, real `RDC`, `CarrierRoute` and delivery points, ISO-8859-1
//! request decoding (parameters are read as UTF-8) and USPS's local time for `ShipDate` (the
//! simulator's UTC date).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let running = usps_sim::Simulator::new(usps_sim::SimConfig::default()).spawn().await?;
//! println!("USPS simulator at {}", running.base_url);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::{MethodRouter, get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod admin;
pub mod config;
pub mod demo;
pub mod fault;
pub mod label;
pub mod ledger;
pub mod push;
pub mod rate;
mod state;
pub mod tracking;
pub mod v3;
pub mod webtools;

pub use crate::config::{
    AppConfig, ConfigError, CridConfig, EpsAccountConfig, MidConfig, MidRole, PermitConfig,
    RetailerAddressConfig, ReturnsOption, SimConfig, UserConfig, WebToolsUserConfig,
};
pub use crate::fault::{Fault, FaultRule, FaultRuleError};
pub use crate::ledger::{Counters, LedgerEntry, RouteCount, route};
pub use crate::push::{PushRecord, RedeliverError};
pub use crate::tracking::{Scan, ScanError, ScanStatus};
pub use crate::v3::oauth::s256_challenge;
pub use crate::v3::subscription::{Filter, SubscriptionStatus, SubscriptionView};

use crate::state::State;

/// The simulator: a cheap handle over shared state. Clones see the same ledger, tokens and
/// faults.
#[derive(Clone, Debug)]
pub struct Simulator {
    state: Arc<State>,
}

/// A simulator serving on `127.0.0.1` in the background; stops serving when dropped.
#[derive(Debug)]
pub struct RunningSimulator {
    /// `http://127.0.0.1:<port>`, no trailing slash: the client's USPS base URL.
    pub base_url: String,
    /// The served simulator, for the ledger, counters and faults.
    pub simulator: Simulator,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already have stopped; nothing to do then.
            let _ = shutdown.send(());
        }
    }
}

impl Simulator {
    /// A simulator over `config`.
    pub fn new(config: SimConfig) -> Self {
        Self {
            state: Arc::new(State::new(config)),
        }
    }

    /// The test data the simulator serves.
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// Every route, ready to serve.
    pub fn router(&self) -> Router {
        let state = Arc::clone(&self.state);
        let observed = |route_name: &'static str, handler: MethodRouter<Arc<State>>| {
            let state = Arc::clone(&state);
            handler.layer(middleware::from_fn(move |request: Request, next: Next| {
                fault::observe(Arc::clone(&state), route_name, request, next)
            }))
        };
        Router::new()
            .route(
                "/oauth2/v3/token",
                observed(route::TOKEN, post(v3::oauth::token)),
            )
            .route(
                "/oauth2/v3/revoke",
                observed(route::REVOKE, post(v3::oauth::revoke)),
            )
            .route(
                "/oauth2/v3/authorize",
                observed(
                    route::AUTHORIZE,
                    get(v3::authorize::show).post(v3::authorize::decide),
                ),
            )
            .route(
                "/oauth2-oidc/v3/userinfo",
                observed(
                    route::USERINFO,
                    get(v3::userinfo::userinfo).post(v3::userinfo::userinfo),
                ),
            )
            .route(
                "/payments/v3/payment-authorization",
                observed(
                    route::PAYMENT_AUTHORIZATION,
                    post(v3::payment::payment_authorization),
                ),
            )
            .route(
                "/labels/v3/return-label",
                observed(route::RETURN_LABEL, post(v3::return_label::return_label)),
            )
            .route(
                "/tracking/v3/tracking/{trackingNumber}",
                observed(route::TRACKING, get(v3::tracking::tracking)),
            )
            .route(
                v3::subscription::COLLECTION,
                observed(
                    route::SUBSCRIPTIONS,
                    get(v3::subscription::get_all).post(v3::subscription::post),
                ),
            )
            .route(
                "/subscriptions-tracking/v3r2/subscriptions/{subscriptionId}",
                observed(
                    route::SUBSCRIPTIONS,
                    get(v3::subscription::get_one)
                        .put(v3::subscription::put)
                        .delete(v3::subscription::remove),
                ),
            )
            .route(
                "/ShippingAPI.dll",
                observed(
                    route::WEBTOOLS,
                    get(webtools::shipping_api_get).post(webtools::shipping_api_post),
                ),
            )
            .route("/__sim/ledger", get(admin::ledger))
            .route("/__sim/counters", get(admin::counters))
            .route(
                "/__sim/tracking/{tracking_number}/events",
                post(tracking::record),
            )
            .route("/__sim/subscriptions", get(admin::subscriptions))
            .route(
                "/__sim/subscriptions/{id}/redeliver-last",
                post(admin::redeliver_last),
            )
            .route("/__sim/pushes", get(admin::pushes))
            .route(
                "/__sim/label-broker",
                get(admin::label_broker).put(admin::set_label_broker),
            )
            .route(
                "/__sim/faults",
                get(admin::faults)
                    .post(admin::add_fault)
                    .delete(admin::clear_faults),
            )
            .with_state(Arc::clone(&self.state))
    }

    /// Binds `127.0.0.1:0` and serves in the background until the returned handle is dropped.
    pub async fn spawn(self) -> std::io::Result<RunningSimulator> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let router = self.router();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "USPS simulator stopped serving");
            }
        });
        tracing::info!(%address, "USPS simulator serving");
        Ok(RunningSimulator {
            base_url: format!("http://{address}"),
            simulator: self,
            shutdown: Some(shutdown),
        })
    }

    /// Serves on `listener` until the process ends (for the CLI).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "USPS simulator serving");
        }
        axum::serve(listener, self.router()).await
    }

    /// Every label issued so far, oldest first.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.state.labels().ledger.clone()
    }

    /// Call counters so far.
    pub fn counters(&self) -> Counters {
        self.state.counters().clone()
    }

    /// Arms a fault rule. A rule that fails [`FaultRule::check`] is not armed and an error is
    /// logged; use [`Simulator::try_inject`] to get the reason.
    pub fn inject(&self, rule: FaultRule) {
        if let Err(error) = self.try_inject(rule) {
            tracing::error!(%error, "fault rule refused");
        }
    }

    /// Arms a fault rule after checking it.
    pub fn try_inject(&self, rule: FaultRule) -> Result<(), FaultRuleError> {
        rule.check()?;
        tracing::info!(route = %rule.route, fault = ?rule.fault, "fault rule armed");
        self.state.faults().push(rule);
        Ok(())
    }

    /// Disarms every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults().clear();
    }

    /// Makes USPS Label Broker available (the default) or not: while it is not, every
    /// `imageType: LABEL_BROKER` return label is refused with 160368 ("Label Broker Service is
    /// unavailable"), as `PUT /__sim/label-broker` does. Other labels are not affected.
    pub fn set_label_broker_available(&self, available: bool) {
        self.state.set_label_broker_available(available);
    }

    /// Records a scan of an issued label now (as `POST /__sim/tracking/{tn}/events` does) and
    /// pushes it to the matching subscriptions in the background. Needs a Tokio runtime.
    pub fn scan(&self, tracking_number: &str, status: ScanStatus) -> Result<Scan, ScanError> {
        self.state.record_scan(tracking_number, status)
    }

    /// Every tracking subscription (no secrets).
    pub fn subscriptions(&self) -> Vec<SubscriptionView> {
        self.state
            .subscriptions()
            .subscriptions
            .iter()
            .map(|subscription| subscription.view())
            .collect()
    }

    /// Every push attempt so far, oldest first.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.state.pushes().clone()
    }

    /// Sends a subscription's last notification again, unchanged (a duplicate delivery).
    pub async fn redeliver_last(
        &self,
        subscription_id: &str,
    ) -> Result<PushRecord, RedeliverError> {
        self.state.redeliver_last(subscription_id).await
    }

    /// Moves the simulator clock forward, so tokens, codes and payment authorizations expire
    /// without waiting.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.state.advance_clock(by);
    }
}
