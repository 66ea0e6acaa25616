//! A strict simulator of UPS's APIs, written from UPS's official OpenAPI files
//! (`shared/reference/ups`: OAuthAuthCode.yaml, OAuthClientCredentials.yaml, Shipping.yaml,
//! Tracking.yaml, UPSTrackAlert.yaml),
//! not from any client: a request real UPS would refuse by those files is refused here, in
//! UPS's error shape `{"response": {"errors": [{"code": "…", "message": "…"}]}}`. It shares no
//! types with the UPS carrier plugin.
//!
//! The root stands for `https://onlinetools.ups.com` (CIE: `https://wwwcie.ups.com`):
//!
//! | route | module |
//! |---|---|
//! | `GET`/`POST /security/v1/oauth/authorize` ("Login with UPS" consent page) | [`oauth::authorize`] |
//! | `POST /security/v1/oauth/token` (`client_credentials`, `authorization_code` with or without PKCE) | [`oauth::token`] |
//! | `POST /security/v1/oauth/refresh` (single-use refresh tokens) | [`oauth::token`] |
//! | `POST /api/shipments/{version}/ship` | [`shipping::shipment`] |
//! | `DELETE /api/shipments/{version}/void/cancel/{shipmentidentificationnumber}` | [`shipping::void`] |
//! | `GET /api/track/v1/details/{inquiryNumber}` (Track API) | [`track::details`] |
//! | `POST /api/track/{version}/subscription/{type}/package` (Track Alert v2) | [`track::alert`] |
//! | Track Alert `TrackingEvent` pushes to each app's webhook | [`track::push`] |
//! | `/__sim/ledger`, `/__sim/counters`, `/__sim/faults`, `/__sim/tracking/…` | [`admin`] |
//!
//! Ship bodies are validated against the spec's own `SHIPRequestWrapper` schema
//! ([`shipping::schema`]: unknown fields, required fields, types, enums, lengths, patterns and
//! occurrence limits), then against the rules the spec states in prose ([`shipping::rules`]).
//! Labels are GIF or ZPL: the spec gives `PNG` only in the answer's description, where it says
//! "Only EPL, SPL, ZPL and GIF are currently supported", so a `PNG` request is refused as
//! invalid, not as unsimulated. The clock, counters, Code 128 and the label font come from
//! `sim_kit`, shared with the USPS simulator. Test data comes from
//! [`SimConfig`] (default: [`demo`]). Every shipment is recorded in the
//! [ledger](Simulator::ledger), calls are [counted](Simulator::counters) per route, faults
//! are injected at runtime ([`fault`]), and the clock can be moved forward
//! ([`Simulator::advance_clock`]) to expire codes and tokens without sleeping. Logs go through
//! `tracing` and never carry client secrets, passwords, codes, verifiers or tokens.
//!
//! Deliberately not simulated (each refused with a clear error, code `9999001`, where a
//! request asks for it): return services `2` (Print and Mail), `3`/`5` (Return Service 1- and
//! 3-Attempt) and `10`–`20` (Exchange, Pack & Collect); `EPL` and `SPL` labels;
//! `LabelLinksIndicator` and the label/receipt URLs; Mail Innovations, Roadie and Trade Direct
//! services (non-numeric service codes); BillShipper credit cards and alternate payment;
//! Ship versions other than `v2409` (the deprecated `v1`–`v2205` answer another shape) and
//! Void `v3`; voiding some packages of a shipment. Not modelled at all: Label Recovery
//! (`/labels/{version}/recovery`), tracking by reference number or by shipment, Track Alert
//! account subscriptions (`/subscription/{type}/account`), real address
//! validation, real rates, negotiated rates, international forms and their images, receipts
//! (`ReceiptSpecification` is validated, no receipt is drawn), the e-mail an Electronic Return
//! Label is sent by (its answer carries no image, as UPS delivers it), the 302 hop through
//! UPS's login site (the consent page is served directly), and scopes (accepted and echoed).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let running = ups_sim::Simulator::new(ups_sim::SimConfig::default()).spawn().await?;
//! println!("UPS simulator at {}", running.base_url);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::{MethodRouter, delete, get, post, put};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod admin;
pub mod config;
pub mod demo;
pub mod error;
pub mod fault;
mod label;
pub mod ledger;
pub mod oauth;
pub mod shipping;
mod state;
pub mod track;

pub use crate::config::WebhookConfig;
pub use crate::config::{AccountConfig, AppConfig, ConfigError, SimConfig, UserConfig};
pub use crate::error::UpsError;
pub use crate::fault::{Fault, FaultRule, FaultRuleError};
pub use crate::ledger::{Counters, LedgerEntry, RouteCount, route};
pub use crate::oauth::token::s256_challenge;
pub use crate::shipping::tracking::is_valid_1z;
pub use crate::track::push::{PushAttempt, PushOutcome, PushRecord};
pub use crate::track::{Scan, ScanError, ScanKind, Subscription};

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
    /// `http://127.0.0.1:<port>`, no trailing slash: the client's UPS base URL.
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
                "/security/v1/oauth/authorize",
                observed(
                    route::AUTHORIZE,
                    get(oauth::authorize::show).post(oauth::authorize::decide),
                ),
            )
            .route(
                "/security/v1/oauth/token",
                observed(route::TOKEN, post(oauth::token::token)),
            )
            .route(
                "/security/v1/oauth/refresh",
                observed(route::REFRESH, post(oauth::token::refresh)),
            )
            .route(
                "/api/shipments/{version}/ship",
                observed(route::SHIP, post(shipping::shipment::ship)),
            )
            .route(
                "/api/shipments/{version}/void/cancel/{shipmentidentificationnumber}",
                observed(route::VOID, delete(shipping::void::void)),
            )
            .route(
                "/api/track/v1/details/{inquiryNumber}",
                observed(route::TRACK, get(track::details::details)),
            )
            .route(
                "/api/track/{version}/subscription/{type}/package",
                observed(route::SUBSCRIBE, post(track::alert::subscribe)),
            )
            .route(
                "/__sim/tracking/{tracking_number}/events",
                post(admin::record_scan),
            )
            .route(
                "/__sim/tracking/{tracking_number}/push-again",
                post(admin::push_again),
            )
            .route("/__sim/tracking/pushes", get(admin::pushes))
            .route("/__sim/tracking/subscriptions", get(admin::subscriptions))
            .route("/__sim/apps/{client_id}/webhook", put(admin::set_webhook))
            .route("/__sim/ledger", get(admin::ledger))
            .route("/__sim/counters", get(admin::counters))
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
                tracing::error!(%error, "UPS simulator stopped serving");
            }
        });
        tracing::info!(%address, "UPS simulator serving");
        Ok(RunningSimulator {
            base_url: format!("http://{address}"),
            simulator: self,
            shutdown: Some(shutdown),
        })
    }

    /// Serves on `listener` until the process ends (for the CLI).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "UPS simulator serving");
        }
        axum::serve(listener, self.router()).await
    }

    /// Every shipment issued so far, oldest first (voided ones marked).
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.state.shipments().ledger.clone()
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

    /// Records a scan of `tracking_number` now (what `POST /__sim/tracking/{tn}/events` does):
    /// the Track API serves it from then on, and it is pushed to every app subscribed to the
    /// number. Returns how many pushes were queued.
    pub fn scan(&self, tracking_number: &str, kind: ScanKind) -> Result<usize, ScanError> {
        track::record(&self.state, tracking_number, kind).map(|(_, queued)| queued)
    }

    /// Pushes the last scan of `tracking_number` again (duplicate delivery); returns how many
    /// pushes were queued.
    pub fn push_again(&self, tracking_number: &str) -> Result<usize, ScanError> {
        track::push_again(&self.state, tracking_number)
    }

    /// Every Track Alert push so far, oldest first.
    pub fn pushes(&self) -> Vec<PushRecord> {
        self.state.tracking().pushes.clone()
    }

    /// Every Track Alert subscription, live or expired, by app and number.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut all: Vec<Subscription> = self
            .state
            .tracking()
            .subscriptions
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| (&a.app, &a.tracking_number).cmp(&(&b.app, &b.tracking_number)));
        all
    }

    /// Sets (or, with `None`, removes) the Track Alert webhook of the app `client_id`, as its
    /// owner would in UPS's portal. A held listener token of the app is forgotten.
    pub fn set_webhook(&self, client_id: &str, webhook: Option<WebhookConfig>) {
        let mut tracking = self.state.tracking();
        tracking.tokens.remove(client_id);
        match webhook {
            Some(mut webhook) => {
                webhook.app = client_id.to_owned();
                tracking.webhooks.insert(client_id.to_owned(), webhook);
            }
            None => {
                tracking.webhooks.remove(client_id);
            }
        }
    }

    /// Moves the simulator clock forward, so codes and tokens expire without waiting.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.state.advance_clock(by);
    }
}
