//! Backhaul's FedEx carrier plugin: return labels through the **FedEx Ship API**
//! (Shipment-Resource.json), cancels, tracking (TrackingNumbers-Resource.json), OAuth tokens
//! (APIAuthorization-Resource.json) and the **Account Registration** flow
//! (AccountRegistration-Resource.json) through which the platform obtains a merchant's child
//! key and secret.
//!
//! Layout (the same file set as every carrier crate): [`builder`] configures a
//! [`FedexCarrier`]; `account` validates shipper accounts; `form` describes them; `credential`
//! gets and caches tokens and `grant` speaks the token endpoint; `client` sends through the
//! shared `carrier-http` client; `error` classifies failures into [`carrier::CarrierError`];
//! `registration/` implements [`carrier::RegistrationOnboarding`]; `ship/` holds the Ship and
//! Cancel wire protocol; `tracking` checks FedEx numbers; `track` holds the Track API.
//!
//! ## Connecting an account
//!
//! `onboarding()` is `registration` then `own_app`. A `registration` account is sent to FedEx
//! by [`FedexRegistration`]: FedEx issues a child key and secret at once or after the
//! merchant proves the account with a PIN (text, call or email) or an invoice; the account
//! then has mode `platform_app` and gets `csp_credentials` tokens with the platform's app
//! ([`PlatformApp`]). An `own_app` account brings its own FedEx project's API key and secret
//! key (`client_credentials`).
//!
//! ## One label
//!
//! A token (cached for its hour), then `POST {base}/ship/v1/shipments` with a return
//! shipment (`RETURN_SHIPMENT`): `PRINT_RETURN_LABEL` for `download`, `PENDING` with an
//! `EMAIL` pending shipment for `email`. Services (the US `serviceType`s the Ship file names
//! that a return to a business can use):
//!
//! | our code | FedEx `serviceType` |
//! |---|---|
//! | `fedex_ground_return` | `FEDEX_GROUND` |
//! | `fedex_express_saver_return` | `FEDEX_EXPRESS_SAVER` |
//! | `fedex_2_day_am_return` | `FEDEX_2_DAY_AM` |
//! | `fedex_standard_overnight_return` | `STANDARD_OVERNIGHT` |
//! | `fedex_priority_overnight_return` | `PRIORITY_OVERNIGHT` |
//!
//! The Ship file lists no `serviceType` enum ("click here to see Service Types"); these are
//! the US domestic values its examples use. `FEDEX_2_DAY` (FedEx 2Day) is not among them, so
//! it is not offered; `GROUND_HOME_DELIVERY` delivers to residences, not to a merchant's
//! return address; `SMART_POST` returns need hub details the neutral request does not have;
//! `FIRST_OVERNIGHT` and the freight services are not in the file's US examples.
//!
//! From the reply the [`ReturnLabel`] gets the package's tracking number (12 or 15 digits,
//! check digit verified, see `tracking`), the charges (base charge as the postage,
//! discounts, surcharges and taxes as fees, the net charge as FedEx's total) and the label
//! (PDF, PNG or ZPL as FedEx encodes it). An emailed label comes back without an image.
//! A label is cancelled with `PUT /ship/v1/shipments/cancel`; a refusal because the package
//! is moving is `LabelInUse`.
//!
//! ## Resending, and what a duplicate costs
//!
//! The Ship file has no idempotency key or header (its only request headers are
//! `x-customer-transaction-id`, `content-type`, `x-locale` and `authorization`; the
//! transaction id is "returned in the reply" to match them, not deduplicated), so
//! [`Capabilities::idempotent_create`] is `false`. It does not say that an unused return
//! label is free, so `resend_after_unknown_outcome` is `false` too: once the request may have
//! left, every failure — a timeout, a reset, a reply over the size limit, a 500 or another 5xx,
//! a reply we cannot read — is `OutcomeUnknown` and never sent again. A 503
//! (`SERVICE.UNAVAILABLE.ERROR`) and a 429 are not: FedEx did not take the request, the answer
//! is `Unavailable` or `RateLimited` with FedEx's `Retry-After`, and the same key may try again. The one resend is after HTTP 401
//! (`NOT.AUTHORIZED.ERROR`): FedEx refused the bearer token and so did nothing; the token is
//! evicted and the request sent once more with a fresh one.
//!
//! ## Configuration
//!
//! [`FedexBuilder`]: the base URL ([`PRODUCTION_URL`], [`SANDBOX_URL`] or a simulator's),
//! the platform's FedEx app, the shared token cache, timeouts, retries and the reply size
//! limit.

pub mod builder;

mod account;
mod client;
mod credential;
mod error;
mod form;
mod grant;
mod registration;
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
    IdempotencyKey, LabelAddress, LabelToVoid, RegistrationOnboarding, ReturnLabel,
    ReturnLabelRequest, ServiceInfo, TokenCache, TrackedLabel, TrackingNumber, TrackingSupport,
    ValidatedAccount, ValidationErrors,
};
use chrono::Utc;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

pub use crate::builder::{
    BuildError, FedexBuilder, PRODUCTION_URL, PlatformApp, RetryConfig, SANDBOX_URL,
};
pub use crate::registration::FedexRegistration;

use crate::account::{Auth, FedexAccount};
use crate::client::{HttpClient, Reply};
use crate::credential::{Authenticator, Principal};
use crate::error::{CARRIER, Operation, scrub};
use crate::ship::cancel::{CancelOutcome, CancelRequest, PENDING_EMAIL_REFERENCE};

/// The FedEx carrier plugin (id `fedex`).
pub struct FedexCarrier {
    base_url: String,
    auth: Authenticator,
    registration: Option<FedexRegistration>,
}

impl fmt::Debug for FedexCarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FedexCarrier")
            .field("base_url", &self.base_url)
            .field("platform_app", &self.auth.platform())
            .finish()
    }
}

impl FedexCarrier {
    /// A builder with the production defaults.
    pub fn builder() -> FedexBuilder {
        FedexBuilder::new()
    }

    pub(crate) fn from_parts(
        base_url: String,
        http: HttpClient,
        cache: Arc<dyn TokenCache>,
        platform_app: Option<PlatformApp>,
    ) -> Self {
        let has_platform = platform_app.is_some();
        let auth = Authenticator::new(http, cache, base_url.clone(), platform_app);
        let registration = has_platform.then(|| FedexRegistration::new(auth.clone()));
        Self {
            base_url,
            auth,
            registration,
        }
    }

    /// The FedEx host this carrier calls.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one JSON call with the account's token; a 401 evicts the token and tries once
    /// more (FedEx did nothing). Returns the 2xx reply or the classified error, scrubbed of
    /// the token and the account's secrets.
    async fn call(
        &self,
        account: &FedexAccount,
        operation: Operation,
        method: reqwest::Method,
        path: &str,
        body: &[u8],
    ) -> Result<Result<Reply, error::Error>, CarrierError> {
        let url = format!("{}{path}", self.base_url);
        let mut retried = false;
        loop {
            let access = self.auth.access(Principal::Account(&account.auth)).await?;
            let token = access.token.expose_secret();
            let transaction = registration::transaction_id();
            let reply = self
                .auth
                .http()
                .send(operation, |client| {
                    client
                        .request(method.clone(), &url)
                        .bearer_auth(token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header("x-customer-transaction-id", &transaction)
                        .header("x-locale", "en_US")
                        .body(body.to_vec())
                })
                .await
                .map_err(|error| scrub(error.into(), &account.auth.secrets()))?;
            if reply.status.is_success() {
                return Ok(Ok(reply));
            }
            let mut secrets = account.auth.secrets();
            secrets.push(token);
            let failure = error::from_reply(operation, &reply).scrubbed(&secrets);
            if failure.is_unauthorized() && !retried {
                self.auth.reject(&access).await;
                retried = true;
                tracing::info!(account = %account.id, operation = %operation, "FedEx refused the access token; retrying once with a fresh one");
                continue;
            }
            return Ok(Err(failure));
        }
    }

    async fn create_label(
        &self,
        account: &FedexAccount,
        request: &ReturnLabelRequest,
    ) -> Result<ReturnLabel, CarrierError> {
        let prepared = ship::request::prepare(account, request, Utc::now().date_naive())?;
        let reply = self
            .call(
                account,
                Operation::Ship,
                reqwest::Method::POST,
                ship::SHIP_PATH,
                &prepared.body,
            )
            .await?
            .map_err(CarrierError::from)?;
        let reply = ship::reply::parse(&reply.body, prepared.format, prepared.emailed)
            .map_err(CarrierError::from)?;
        let mut warnings = prepared.warnings;
        warnings.extend(reply.warnings);
        tracing::info!(
            account = %account.id,
            tracking_number = %reply.tracking_number,
            service = prepared.service_type,
            charges = %reply.charges,
            emailed = prepared.emailed,
            "FedEx return label created"
        );
        let to = account.profile.destination();
        Ok(ReturnLabel {
            tracking_number: reply.tracking_number,
            routing_code: None,
            charges: reply.charges,
            zone: None,
            service: request.service.clone(),
            carrier_service: reply
                .service_type
                .unwrap_or_else(|| prepared.service_type.to_owned()),
            // FedEx does not echo the recipient; it is the account's return address.
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
            label: reply.label,
            receipt: None,
            qr_code: None,
            warnings,
            carrier_idempotency_key: None,
            carrier_reference: prepared.emailed.then(|| PENDING_EMAIL_REFERENCE.to_owned()),
            created_at: Utc::now(),
        })
    }

    async fn cancel(
        &self,
        account: &FedexAccount,
        label: &LabelToVoid<'_>,
    ) -> Result<(), CarrierError> {
        let number = label.tracking_number.as_str();
        if !tracking::is_valid(number) {
            return Err(CarrierError::invalid(
                "tracking_number",
                "is not a FedEx tracking number with a valid check digit",
            ));
        }
        let emailed = label.carrier_reference == Some(PENDING_EMAIL_REFERENCE);
        let body = serde_json::to_vec(&CancelRequest::new(
            &account.profile.account_number,
            number,
            emailed,
        ))
        .map_err(|error| CarrierError::Protocol {
            carrier: CARRIER,
            message: format!("cancel request not written: {error}"),
        })?;
        let reply = self
            .call(
                account,
                Operation::Cancel,
                reqwest::Method::PUT,
                ship::CANCEL_PATH,
                &body,
            )
            .await?
            .map_err(CarrierError::from)?;
        match ship::cancel::parse(&reply.body)? {
            CancelOutcome::Cancelled => {
                tracing::info!(account = %account.id, tracking_number = number, "FedEx shipment cancelled");
                Ok(())
            }
            CancelOutcome::NotCancelled(messages) => Err(if error::cancel_refusal(&messages) {
                error::label_in_use(&messages)
            } else {
                CarrierError::Rejected {
                    carrier: CARRIER,
                    status: Some(reply.status.as_u16()),
                    messages,
                }
            }),
        }
    }

    async fn track_batch(
        &self,
        account: &FedexAccount,
        numbers: &[TrackingNumber],
    ) -> Result<Vec<TrackedLabel>, CarrierError> {
        let body = serde_json::to_vec(&track::TrackRequest::new(numbers)).map_err(|error| {
            CarrierError::Protocol {
                carrier: CARRIER,
                message: format!("track request not written: {error}"),
            }
        })?;
        let reply = match self
            .call(
                account,
                Operation::Track,
                reqwest::Method::POST,
                track::TRACK_PATH,
                &body,
            )
            .await?
        {
            Ok(reply) => reply,
            // Every number unknown: FedEx answers 404 NOT.FOUND.ERROR.
            Err(error::Error::Status { status: 404, .. }) => {
                return Ok(numbers
                    .iter()
                    .map(|number| TrackedLabel {
                        tracking_number: number.clone(),
                        events: Vec::new(),
                    })
                    .collect());
            }
            Err(failure) => return Err(failure.into()),
        };
        track::parse(numbers, &reply.body)
    }
}

#[async_trait]
impl Carrier for FedexCarrier {
    fn id(&self) -> &'static str {
        "fedex"
    }

    fn name(&self) -> &'static str {
        "FedEx"
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

    /// Every account can buy every service (FedEx decides per account, which the details
    /// cannot tell); PDF, PNG and ZPL labels, downloaded or emailed; no receipts; no
    /// carrier-side idempotency; cancellable; today's labels only.
    fn capabilities(&self, _details: Option<&AccountDetails>) -> Capabilities {
        Capabilities {
            services: ship::request::SERVICES
                .iter()
                .map(|s| s.info.code)
                .collect(),
            label_formats: ship::request::LABEL_FORMATS.to_vec(),
            label_deliveries: ship::request::LABEL_DELIVERIES.to_vec(),
            receipts: false,
            idempotent_create: false,
            // The Ship file does not say an unused return label is free: never resent.
            resend_after_unknown_outcome: false,
            cancellable: true,
            ship_date_days_ahead: ship::request::SHIP_DATE_DAYS_AHEAD,
        }
    }

    fn account_schema(&self) -> serde_json::Value {
        form::account_schema()
    }

    /// Registration through the platform's app (when one is configured), and the merchant's
    /// own app.
    fn onboarding(&self) -> &'static [&'static str] {
        if self.registration.is_some() {
            &["registration", "own_app"]
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
        _idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        let account = FedexAccount::from_context(&account)?;
        self.create_label(&account, request).await
    }

    /// Cancels the shipment by its tracking number (the Ship file's cancel takes the tracking
    /// number; an emailed label is cancelled as a pending shipment).
    async fn void_label(
        &self,
        account: AccountContext<'_>,
        label: &LabelToVoid<'_>,
    ) -> Result<(), CarrierError> {
        let account = FedexAccount::from_context(&account)?;
        self.cancel(&account, label).await
    }

    fn registration(&self) -> Option<&dyn RegistrationOnboarding> {
        self.registration
            .as_ref()
            .map(|registration| registration as &dyn RegistrationOnboarding)
    }

    /// Up to 30 numbers per Track call, one call per batch, no pushes.
    fn tracking(&self, _details: Option<&AccountDetails>) -> Option<TrackingSupport> {
        Some(TrackingSupport {
            batch_size: track::BATCH_SIZE,
            calls_per_hour: track::CALLS_PER_HOUR,
            one_call_per_batch: true,
            push: false,
            give_up_unused_after: TrackingSupport::GIVE_UP_UNUSED_AFTER,
        })
    }

    async fn track(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<Vec<TrackedLabel>, CarrierError> {
        let account = FedexAccount::from_context(&account)?;
        let mut tracked = Vec::with_capacity(tracking_numbers.len());
        for batch in tracking_numbers.chunks(track::BATCH_SIZE) {
            tracked.extend(self.track_batch(&account, batch).await?);
        }
        Ok(tracked)
    }

    /// `platform_app` accounts all draw on the platform's app (`fedex:platform`); an
    /// `own_app` account on its app's, named by a short SHA-256 of its API key so the key is
    /// never shown.
    fn quota_app(&self, account: AccountContext<'_>) -> String {
        quota_app(&account)
    }
}

fn quota_app(account: &AccountContext<'_>) -> String {
    match FedexAccount::from_context(account).map(|a| a.auth) {
        Ok(Auth::OwnApp { client_id, .. }) => {
            let digest = Sha256::digest(client_id.as_bytes());
            let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("fedex:app:{short}")
        }
        Ok(Auth::PlatformApp { .. }) => "fedex:platform".to_owned(),
        Err(_) => format!("fedex:account:{}", account.id),
    }
}
