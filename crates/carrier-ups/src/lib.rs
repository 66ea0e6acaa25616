//! Backhaul's UPS carrier plugin: return labels through the **UPS Ship API** (Shipping.yaml,
//! version `v2409`), voids, and the UPS OAuth APIs — client credentials for merchants' own apps
//! (OAuthClientCredentials.yaml) and "Login with UPS", the authorization-code flow with PKCE
//! (OAuthAuthCode.yaml).
//!
//! Layout (the same file set as every carrier crate): [`builder`] configures a [`UpsCarrier`];
//! `account` validates shipper accounts; `credential` gets and caches access tokens and
//! `grant` speaks the token endpoints; `client` sends through the shared `carrier-http`
//! client; `error` classifies failures into [`carrier::CarrierError`]; `oauth` implements
//! "Login with UPS"; `ship/` holds the Ship and Void wire protocol; `label` turns UPS's label
//! image into the requested document; `tracking` checks 1Z numbers; `track/` holds the Track
//! API and Track Alert v2 wire protocols.
//!
//! ## One label
//!
//! An access token (cached), then `POST {base}/api/shipments/v2409/ship` with a return
//! shipment: `ReturnService.Code` `9` (UPS Print Return Label: the label comes back as an
//! image) or `8` (UPS Electronic Return Label: UPS emails it to the customer). Services:
//!
//! | our code | UPS `Service.Code` |
//! |---|---|
//! | `ups_ground_return` | `03` Ground |
//! | `ups_3_day_select_return` | `12` 3 Day Select |
//! | `ups_2nd_day_air_return` | `02` 2nd Day Air |
//! | `ups_next_day_air_return` | `01` Next Day Air |
//!
//! From the reply the [`ReturnLabel`] gets the package's 1Z tracking number (check digit
//! verified), the `ShipmentIdentificationNumber` as `carrier_reference` (what a void names),
//! the charges (`TransportationCharges` as the postage, a non-zero `ServiceOptionsCharges` as
//! the fee `ServiceOptionsCharges`, `TotalCharges` as the total — UPS's, with a warning when
//! the two do not add up to it), and the label: GIF and ZPL as UPS sends them, PNG and PDF (a one-page
//! 4 × 6 in document) made from UPS's GIF. An emailed label (`label_delivery: email`, an
//! Electronic Return Label) comes back without an image. Voids delete the whole shipment
//! (`DELETE /api/shipments/v2409/void/cancel/{id}`); one UPS refuses because the package is
//! already moving is `LabelInUse`.
//!
//! ## Tracking
//!
//! Pulled with the Track API (`GET /api/track/v1/details/{number}`, one number a call) and
//! pushed by Track Alert v2: after purchase the server subscribes each label
//! (`POST /api/track/v2/subscription/standard/package`, up to 100 numbers, 14 days) and again
//! before that runs out. UPS sends events to the webhook URL registered for the app in its
//! portal, after fetching a token from the listener's token URL with the listener client
//! credentials registered beside it ([`ListenerCredentials`]); the plugin mints those tokens
//! (stateless, one hour) and checks each event's token, `x-api-key` and `User-Agent`. Without
//! listener credentials, labels are still subscribed, but every notification is refused as
//! unauthenticated: the poller covers them. See `track/` for the status mapping.
//!
//! ## Configuration
//!
//! [`UpsBuilder`]: the base URL ([`PRODUCTION_URL`], [`CIE_URL`] or a simulator's), the
//! platform's own UPS app for "Login with UPS" ([`PlatformApp`]: client id, client secret —
//! for the refresh grant's Basic auth — and the registered redirect URL), the shared token
//! cache, timeouts, retries and the reply size limit. Merchants' own apps need nothing here:
//! their client id and secret are the account's `own_app` credentials. The optional
//! `x-merchant-id` header of the token call is not sent: a token is the app's, cached once for
//! every account it serves.
//!
//! ## Resending, and what a duplicate costs
//!
//! UPS takes no idempotency key, so [`Capabilities::idempotent_create`] is `false`. The plugin
//! never resends a Ship request that may have left: the shared client retries it only after a
//! connect failure (provably not sent). Once the request may have left, every failure — a
//! timeout, a reset, a reply over the size limit, a 5xx, a reply we cannot read — is
//! `OutcomeUnknown`, never `Protocol` or `Validation` (the core's error contract: UPS may have
//! created the shipment). The one resend is after HTTP 401 ("Unauthorized Request"): UPS
//! refused the bearer token and so did not act; an own_app token is then renewed and the
//! request sent once more (a platform_app token is the server's to refresh).
//!
//! Shipping.yaml does not say whether a return shipment that is created but never used or
//! voided is billed: it describes the Void operation ("used to cancel the previously scheduled
//! shipment") and the charges of a created shipment, and nothing about charging on use. So the
//! plugin takes the safe side: UPS may bill a created shipment, a duplicate may cost a label's
//! charges until voided. Therefore the plugin never resends, and its capabilities say
//! `resend_after_unknown_outcome: false`: the server keeps the client's idempotency key on
//! `OutcomeUnknown` and answers a retry with it 409 `label_outcome_unknown` instead of buying
//! again (USPS Web Tools, pay-on-use, is resent: its unused duplicates cost nothing).

pub mod builder;

mod account;
mod client;
mod credential;
mod error;
mod form;
mod grant;
mod label;
mod oauth;
mod ship;
mod track;
mod tracking;

#[cfg(test)]
mod spec;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use carrier::{
    AccountContext, AccountDetails, AccountInput, Capabilities, Carrier, CarrierError,
    IdempotencyKey, LabelAddress, LabelToVoid, OAuthOnboarding, ReturnLabel, ReturnLabelRequest,
    ServiceInfo, TokenCache, TrackedLabel, TrackingNumber, TrackingPush, TrackingSupport,
    ValidatedAccount, ValidationErrors, Warning,
};
use chrono::Utc;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

pub use crate::builder::{
    BuildError, CIE_URL, PRODUCTION_URL, PlatformApp, RetryConfig, UpsBuilder,
};
pub use crate::oauth::UpsOAuth;
pub use crate::track::listener::{ListenerCredentials, TOKEN_LIFETIME as LISTENER_TOKEN_LIFETIME};

use crate::account::{Auth, UpsAccount};
use crate::client::HttpClient;
use crate::credential::Authenticator;
use crate::error::{CARRIER, Operation, scrub};
use crate::ship::request::{PRINT_RETURN_LABEL, PreparedShipment};
use crate::ship::void::VoidOutcome;
use crate::track::UpsTrackAlert;

/// The UPS carrier plugin (id `ups`).
pub struct UpsCarrier {
    base_url: String,
    auth: Authenticator,
    onboarding: Option<UpsOAuth>,
    track_alert: UpsTrackAlert,
}

impl fmt::Debug for UpsCarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsCarrier")
            .field("base_url", &self.base_url)
            .field("onboarding", &self.onboarding)
            .field("track_alert", &self.track_alert)
            .finish()
    }
}

/// Secrets of an account that must never appear in an error.
pub(crate) fn secrets(account: &UpsAccount) -> Vec<&str> {
    match &account.auth {
        Auth::OwnApp { client_secret, .. } => vec![client_secret.expose_secret()],
        Auth::PlatformApp { access_token, .. } => vec![access_token.expose_secret()],
    }
}

impl UpsCarrier {
    /// A builder with the production defaults.
    pub fn builder() -> UpsBuilder {
        UpsBuilder::new()
    }

    pub(crate) fn from_parts(
        base_url: String,
        http: HttpClient,
        cache: Arc<dyn TokenCache>,
        platform_app: Option<PlatformApp>,
        listener: Option<ListenerCredentials>,
    ) -> Self {
        let auth = Authenticator::new(http, cache, base_url.clone());
        // The base URL was checked by the builder, so the authorize URL parses.
        let onboarding = platform_app.and_then(|app| UpsOAuth::new(auth.clone(), app).ok());
        let track_alert = UpsTrackAlert::new(base_url.clone(), auth.clone(), listener);
        Self {
            base_url,
            auth,
            onboarding,
            track_alert,
        }
    }

    /// The Track API's details of one number: its events, none when UPS does not know it.
    async fn track_number(
        &self,
        account: &UpsAccount,
        number: &TrackingNumber,
    ) -> Result<TrackedLabel, CarrierError> {
        let unknown = || TrackedLabel {
            tracking_number: number.clone(),
            events: Vec::new(),
        };
        if !track::details::is_inquiry_number(number.as_str()) {
            tracing::warn!(tracking_number = %number, "not a UPS inquiry number; no events");
            return Ok(unknown());
        }
        let url = format!(
            "{}{}?{}",
            self.base_url,
            track::details::path(number.as_str()),
            track::details::QUERY
        );
        let reply = track::send(&self.auth, account, Operation::Track, |client, token| {
            client
                .get(&url)
                .bearer_auth(token)
                .header("transId", track::transaction_id())
                .header("transactionSrc", track::TRANSACTION_SOURCE)
                .header(reqwest::header::ACCEPT, "application/json")
        })
        .await?;
        match reply {
            Ok(reply) => Ok(track::details::parse(number, &reply.body)?),
            // "Tracking number information not found": nothing scanned yet.
            Err(error::Error::Status { status: 404, .. }) => Ok(unknown()),
            Err(failure) => Err(failure.into()),
        }
    }

    /// The UPS host this carrier calls.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The OAuth onboarding hooks, when a platform app is configured.
    pub fn onboarding(&self) -> Option<&UpsOAuth> {
        self.onboarding.as_ref()
    }

    /// Sends one Ship request; a 401 (answered before anything is made) renews an own_app
    /// token and tries once more.
    async fn ship(
        &self,
        account: &UpsAccount,
        prepared: &PreparedShipment,
    ) -> Result<ship::reply::ShipReply, CarrierError> {
        let url = format!("{}{}", self.base_url, ship::ship_path());
        let mut retried = false;
        loop {
            let access = self.auth.access_token(account).await?;
            let result = self
                .auth
                .http()
                .send(Operation::Ship, |client| {
                    client
                        .post(&url)
                        .bearer_auth(access.token.expose_secret())
                        .header("transactionSrc", ship::TRANSACTION_SOURCE)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(reqwest::header::ACCEPT, "application/json")
                        .body(prepared.body.clone())
                })
                .await;
            let reply = match result {
                Ok(reply) if reply.status.is_success() => reply,
                Ok(reply) => {
                    let error = error::from_reply(Operation::Ship, &reply);
                    if error.is_unauthorized() {
                        let renewable = self.auth.reject_access_token(&access).await;
                        if renewable && !retried {
                            tracing::info!(account = %account.id, "UPS refused the access token; retrying once with a fresh one");
                            retried = true;
                            continue;
                        }
                    }
                    // UPS may echo the bearer token it refused.
                    return Err(scrub(error.into(), &[access.token.expose_secret()]));
                }
                Err(error) => return Err(error.into()),
            };
            let expect_label = prepared.return_service == PRINT_RETURN_LABEL;
            return ship::reply::parse(&reply.body, expect_label).map_err(CarrierError::from);
        }
    }

    async fn create_label(
        &self,
        account: &UpsAccount,
        request: &ReturnLabelRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        let prepared = ship::request::prepare(account, request, idempotency_key.as_str())?;
        let reply = self
            .ship(account, &prepared)
            .await
            .map_err(|error| scrub(error, &secrets(account)))?;
        let mut warnings: Vec<Warning> = prepared.warnings;
        warnings.extend(reply.charges_warning.clone());
        for (code, description) in &reply.alerts {
            warnings.push(Warning::new(
                &format!("ups_alert_{code}"),
                None,
                description.clone(),
            ));
        }
        let label = match reply.label {
            Some(image) => Some(label::document(prepared.format, image).map_err(|message| {
                // The label exists at UPS: whoever resolves the unknown outcome needs its number.
                CarrierError::OutcomeUnknown {
                    carrier: CARRIER,
                    message: format!(
                        "UPS created shipment {} (tracking {}) but its label could not be made: {message}",
                        reply.shipment_id, reply.tracking_number
                    ),
                }
            })?),
            None => None,
        };
        tracing::info!(
            account = %account.id,
            tracking_number = %reply.tracking_number,
            shipment = %reply.shipment_id,
            service = prepared.service_code,
            charges = %reply.charges,
            "UPS return label created"
        );
        let to = &account.return_address;
        Ok(ReturnLabel {
            tracking_number: reply.tracking_number,
            routing_code: None,
            charges: reply.charges,
            zone: None,
            service: request.service.clone(),
            carrier_service: prepared.service_code.to_owned(),
            // UPS does not echo the destination; it is the account's return address.
            to_address: Some(LabelAddress {
                first_name: to.first_name.clone(),
                last_name: to.last_name.clone(),
                firm: to.firm.clone(),
                street1: Some(to.street1.clone()),
                street2: to.street2.clone(),
                city: Some(to.city.clone()),
                state: to.state.as_ref().map(ToString::to_string),
                zip5: to.us().map(|us| us.zip5.to_owned()),
                zip4: to.us().and_then(|us| us.zip4.map(str::to_owned)),
            }),
            label,
            receipt: None,
            qr_code: None,
            warnings,
            // UPS has no idempotency key.
            carrier_idempotency_key: None,
            carrier_reference: Some(reply.shipment_id),
            created_at: Utc::now(),
        })
    }

    /// Voids the shipment `shipment_id` (the label's carrier reference).
    async fn void_shipment(
        &self,
        account: &UpsAccount,
        shipment_id: &str,
    ) -> Result<(), CarrierError> {
        if !ship::void::check_shipment_id(shipment_id) {
            return Err(CarrierError::invalid(
                "carrier_reference",
                "is not a UPS shipment identification number (1Z, 18 characters)",
            ));
        }
        let url = format!("{}{}", self.base_url, ship::void_path(shipment_id));
        let mut retried = false;
        let outcome = loop {
            let access = self.auth.access_token(account).await?;
            let reply = self
                .auth
                .http()
                .send(Operation::Void, |client| {
                    client
                        .delete(&url)
                        .bearer_auth(access.token.expose_secret())
                        .header("transactionSrc", ship::TRANSACTION_SOURCE)
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await
                .map_err(|error| scrub(error.into(), &secrets(account)))?;
            if reply.status.is_success() {
                break ship::void::parse(&reply.body)?;
            }
            let error = error::from_reply(Operation::Void, &reply);
            if error.is_unauthorized() && !retried && self.auth.reject_access_token(&access).await {
                retried = true;
                continue;
            }
            return Err(scrub(
                scrub(error.into(), &[access.token.expose_secret()]),
                &secrets(account),
            ));
        };
        match outcome {
            VoidOutcome::Voided => {
                tracing::info!(account = %account.id, shipment = shipment_id, "UPS shipment voided");
                Ok(())
            }
            VoidOutcome::NotVoided(message) => {
                let messages = vec![message];
                Err(if error::void_refusal(&messages) {
                    error::label_in_use(&messages)
                } else {
                    CarrierError::Rejected {
                        carrier: CARRIER,
                        status: Some(200),
                        messages,
                    }
                })
            }
        }
    }
}

#[async_trait]
impl Carrier for UpsCarrier {
    fn id(&self) -> &'static str {
        "ups"
    }

    fn name(&self) -> &'static str {
        "UPS"
    }

    fn services(&self) -> &'static [ServiceInfo] {
        static INFOS: std::sync::LazyLock<Vec<ServiceInfo>> = std::sync::LazyLock::new(|| {
            ship::request::SERVICES
                .iter()
                .map(|service| service.info.clone())
                .collect()
        });
        INFOS.as_slice()
    }

    /// Every account can buy every service (UPS decides per shipper number, which the details
    /// cannot tell us); PDF, PNG and ZPL labels; no receipts; no carrier-side idempotency;
    /// voidable.
    fn capabilities(&self, _details: Option<&AccountDetails>) -> Capabilities {
        Capabilities {
            services: ship::request::SERVICES
                .iter()
                .map(|service| service.info.code)
                .collect(),
            label_formats: ship::request::LABEL_FORMATS.to_vec(),
            label_deliveries: ship::request::LABEL_DELIVERIES.to_vec(),
            receipts: false,
            idempotent_create: false,
            // Shipping.yaml does not say an unused return shipment is free: never resent.
            resend_after_unknown_outcome: false,
            cancellable: true,
            ship_date_days_ahead: ship::request::SHIP_DATE_DAYS_AHEAD,
        }
    }

    fn account_schema(&self) -> serde_json::Value {
        form::account_schema()
    }

    /// "Login with UPS" when a platform app is configured, and the merchant's own app.
    fn onboarding(&self) -> &'static [&'static str] {
        if self.onboarding.is_some() {
            &["oauth", "own_app"]
        } else {
            &["own_app"]
        }
    }

    fn validate_account(
        &self,
        input: AccountInput<'_>,
    ) -> Result<ValidatedAccount, ValidationErrors> {
        account::validate(input)
    }

    async fn create_return_label(
        &self,
        account: AccountContext<'_>,
        request: &ReturnLabelRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        let account = UpsAccount::from_context(&account)?;
        self.create_label(&account, request, idempotency_key).await
    }

    /// Voids the whole shipment by the `ShipmentIdentificationNumber` the label was bought with
    /// (its `carrier_reference`). Shipping.yaml does not say that a shipment's identification
    /// number equals its package's tracking number, so a label without the reference is
    /// refused rather than guessed at.
    async fn void_label(
        &self,
        account: AccountContext<'_>,
        label: &LabelToVoid<'_>,
    ) -> Result<(), CarrierError> {
        let account = UpsAccount::from_context(&account)?;
        let Some(shipment_id) = label.carrier_reference else {
            return Err(CarrierError::invalid(
                "carrier_reference",
                "the label has no UPS shipment identification number to void",
            ));
        };
        self.void_shipment(&account, shipment_id).await
    }

    fn oauth(&self) -> Option<&dyn OAuthOnboarding> {
        self.onboarding
            .as_ref()
            .map(|onboarding| onboarding as &dyn OAuthOnboarding)
    }

    /// One number per Track API call, within the plugin's default budget (the specs publish
    /// no hourly quota), and Track Alert pushes.
    fn tracking(&self, _details: Option<&AccountDetails>) -> Option<TrackingSupport> {
        Some(TrackingSupport {
            batch_size: 1,
            calls_per_hour: track::CALLS_PER_HOUR,
            one_call_per_batch: true,
            push: true,
            give_up_unused_after: TrackingSupport::GIVE_UP_UNUSED_AFTER,
        })
    }

    async fn track(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<Vec<TrackedLabel>, CarrierError> {
        let account = UpsAccount::from_context(&account)?;
        let mut tracked = Vec::with_capacity(tracking_numbers.len());
        for number in tracking_numbers {
            let label = self
                .track_number(&account, number)
                .await
                .map_err(|error| scrub(error, &secrets(&account)))?;
            tracked.push(label);
        }
        Ok(tracked)
    }

    fn tracking_push(&self) -> Option<&dyn TrackingPush> {
        Some(&self.track_alert)
    }

    /// `platform_app` accounts all draw on the platform's app (`ups:platform`); an `own_app`
    /// account on its app's, named by a short SHA-256 of its client id so the id is never
    /// shown.
    fn quota_app(&self, account: AccountContext<'_>) -> String {
        quota_app(&account)
    }
}

fn quota_app(account: &AccountContext<'_>) -> String {
    let credentials = account.credentials;
    if credentials.mode() != account::MODE_OWN_APP {
        return "ups:platform".to_owned();
    }
    match credentials.public(account::field::CLIENT_ID) {
        Some(client_id) => {
            let digest = Sha256::digest(client_id.as_bytes());
            let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("ups:app:{short}")
        }
        None => format!("ups:account:{}", account.id),
    }
}
