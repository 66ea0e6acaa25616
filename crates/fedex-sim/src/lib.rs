//! A strict simulator of FedEx's REST APIs, written from FedEx's own OpenAPI files
//! (`shared/reference/fedex`: APIAuthorization-Resource.json, AccountRegistration-Resource.json,
//! Shipment-Resource.json, TrackingNumbers-Resource.json; copied unchanged into `spec/`), not
//! from any client: a request real FedEx would refuse by those files is refused here, in
//! FedEx's error shape `{"transactionId": "…", "errors": [{"code": "…", "message": "…",
//! "parameterList": […]}]}` with the status and codes the files give ([`error`]). It shares no
//! types with the FedEx carrier plugin.
//!
//! The root stands for `https://apis.fedex.com` (sandbox: `https://apis-sandbox.fedex.com`):
//!
//! | route | module |
//! |---|---|
//! | `POST /oauth/token` (`client_credentials`, `csp_credentials`) | [`oauth::token`] |
//! | `POST /registration/v2/address/keysgeneration` | [`registration::address`] |
//! | `POST /registration/v2/customerkeys/pingeneration` | [`registration::pin`] |
//! | `POST /registration/v2/pin/keysgeneration` | [`registration::pin`] |
//! | `POST /registration/v2/invoice/keysgeneration` | [`registration::invoice`] |
//! | `POST /ship/v1/shipments` (return labels) | [`shipping::shipment`] |
//! | `PUT /ship/v1/shipments/cancel` | [`shipping::cancel`] |
//! | `POST /track/v1/trackingnumbers` | [`track::details`] |
//! | `/__sim/ledger`, `/__sim/counters`, `/__sim/faults`, `/__sim/clock/advance`, `/__sim/tracking/…`, `/__sim/registration/pins`, `/__sim/labels/…` | [`admin`] |
//!
//! Every request body is validated against the file's own schema for the operation
//! ([`schema`]: unknown fields, required fields, types, enums), converted from OpenAPI 3.0 to
//! JSON Schema 2020-12, with the scalar coercion and the example-driven amendments that make
//! every one of FedEx's own example requests acceptable verbatim; then against the rules the
//! files state in prose ([`shipping::rules`], [`registration`]). Labels are PDF, PNG or ZPLII,
//! their Code 128 barcode the 12-digit tracking number ([`is_valid_tracking_number`]). The
//! clock, counters, Code 128 and the label font come from `sim_kit`, shared with the other
//! simulators. Test data comes from [`SimConfig`] (default: [`demo`]). Every shipment is
//! recorded in the [ledger](Simulator::ledger), every registration PIN in the
//! [outbox](Simulator::sent_pins), every token and child credential it generated in
//! [`Simulator::issued_credentials`] (for leak tests), calls are
//! [counted](Simulator::counters) per route, faults are injected at runtime ([`fault`]),
//! and the clock can be moved forward ([`Simulator::advance_clock`]) to expire tokens and
//! sessions without sleeping. Logs go through `tracing` and never carry client secrets, child
//! secrets, tokens, PINs or `accountAuthToken`s.
//!
//! Deliberately not simulated (each refused with code `SIMULATOR.FEATURE.NOTSIMULATED`, 400,
//! where a request asks for it): the `client_pc_credentials` grant; encoded account numbers
//! (`accountNumber.key` in registration); shipments other than returns (no `RETURN_SHIPMENT`),
//! other special services, international shipments (`customsClearanceDetail`, a non-US
//! party), services other than the eight US domestic parcel services of
//! [`shipping::rules`] (among them `SMART_POST`, freight and international services), payment
//! types other than `SENDER`, `EPL2` labels, open and asynchronous shipments (`shipAction`,
//! `processingOptionType`, `oneLabelAtATime`), more than one recipient. Not modelled at all:
//! `POST /ship/v1/shipments/results` and `/ship/v1/shipments/packages/validate` (unrouted),
//! tracking by anything but tracking number, real rates, surcharges and transit times,
//! the e-mail a `PENDING` label is sent by (recorded in the ledger instead) and its completion
//! page, merged label documents (`mergeLabelDocOption` is ignored), `x-locale` (accepted,
//! English answers), and `labelStockType` layouts (every label is 4×6 in).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let running = fedex_sim::Simulator::new(fedex_sim::SimConfig::default()).spawn().await?;
//! println!("FedEx simulator at {}", running.base_url);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::routing::{MethodRouter, get, post, put};
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
pub mod registration;
pub mod schema;
pub mod shipping;
mod state;
pub mod track;

pub use crate::config::{AccountConfig, AppConfig, ConfigError, InvoiceConfig, SimConfig};
pub use crate::error::FedexError;
pub use crate::fault::{Fault, FaultRule, FaultRuleError};
pub use crate::ledger::{Counters, LedgerEntry, RouteCount, route};
pub use crate::shipping::tracking::is_valid_tracking_number;
pub use crate::state::{IssuedChild, IssuedCredentials, SentPin};
pub use crate::track::{Scan, ScanError, ScanKind};

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
    /// `http://127.0.0.1:<port>`, no trailing slash: the client's FedEx base URL.
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
                "/oauth/token",
                observed(route::TOKEN, post(oauth::token::token)),
            )
            .route(
                "/registration/v2/address/keysgeneration",
                observed(route::ADDRESS_KEYS, post(registration::address::keys)),
            )
            .route(
                "/registration/v2/customerkeys/pingeneration",
                observed(route::PIN_GENERATION, post(registration::pin::generate)),
            )
            .route(
                "/registration/v2/pin/keysgeneration",
                observed(route::PIN_KEYS, post(registration::pin::keys)),
            )
            .route(
                "/registration/v2/invoice/keysgeneration",
                observed(route::INVOICE_KEYS, post(registration::invoice::keys)),
            )
            .route(
                "/ship/v1/shipments",
                observed(route::SHIP, post(shipping::shipment::ship)),
            )
            .route(
                "/ship/v1/shipments/cancel",
                observed(route::CANCEL, put(shipping::cancel::cancel)),
            )
            .route(
                "/track/v1/trackingnumbers",
                observed(route::TRACK, post(track::details::track)),
            )
            .route(
                "/__sim/tracking/{tracking_number}/events",
                post(admin::record_scan),
            )
            .route("/__sim/registration/pins", get(admin::pins))
            .route("/__sim/labels/{tracking_number}", get(admin::label))
            .route("/__sim/clock/advance", post(admin::advance_clock))
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
                tracing::error!(%error, "FedEx simulator stopped serving");
            }
        });
        tracing::info!(%address, "FedEx simulator serving");
        Ok(RunningSimulator {
            base_url: format!("http://{address}"),
            simulator: self,
            shutdown: Some(shutdown),
        })
    }

    /// Serves on `listener` until the process ends (for the CLI).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "FedEx simulator serving");
        }
        axum::serve(listener, self.router()).await
    }

    /// Every shipment created so far, oldest first (cancelled ones marked).
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.state.shipments().ledger.clone()
    }

    /// Every registration PIN sent so far, oldest first (the PIN outbox).
    pub fn sent_pins(&self) -> Vec<SentPin> {
        self.state.credentials().outbox.clone()
    }

    /// Every bearer token, `accountAuthToken`, child key and child secret issued so far, also
    /// those since expired, revoked or spent: what a leak test looks for (read-only).
    pub fn issued_credentials(&self) -> IssuedCredentials {
        self.state.credentials().issued.clone()
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
    /// the Track API serves it from then on.
    pub fn scan(&self, tracking_number: &str, kind: ScanKind) -> Result<Scan, ScanError> {
        track::record(&self.state, tracking_number, kind)
    }

    /// Moves the simulator clock forward, so tokens and sessions expire without waiting.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.state.advance_clock(by);
    }
}
