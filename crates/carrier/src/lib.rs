//! Backhaul's carrier core.
//!
//! One object-safe [`Carrier`] trait that every carrier plugin implements (the way
//! `object_store::ObjectStore` fronts many storage backends), the carrier-neutral domain types
//! it speaks (addresses, parcels, services, label formats, money, tracking numbers, return
//! labels), one classified [`CarrierError`], a [`CarrierRegistry`] of plugins by id, a shared
//! [`TokenCache`] abstraction and, behind the `conformance` feature, the test suite every plugin
//! runs against its carrier or simulator.
//!
//! Nothing here names a carrier: the server, the account service and the CLI work only through
//! these types, so adding a carrier is adding a crate.

pub mod account;
pub mod address;
pub mod charges;
pub mod error;
pub mod form;
pub mod label;
pub mod money;
pub mod oauth;
pub mod parcel;
pub mod registration;
pub mod registry;
pub mod request;
pub mod text;
pub mod token;
pub mod tracking;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::fmt;

use async_trait::async_trait;
use serde::Serialize;

pub use crate::account::{
    AccountContext, AccountDetails, AccountInput, Credentials, CredentialsInput, ValidatedAccount,
};
pub use crate::address::{
    Address, AddressInput, Country, Email, Phone, PostalCode, State, UsParts, Zip4, Zip5,
};
pub use crate::charges::{Charges, ChargesError, Fee};
pub use crate::error::{CarrierError, CarrierMessage, ErrorKind, FieldError, ValidationErrors};
pub use crate::label::{
    Document, LabelAddress, LabelDelivery, LabelFormat, LabelToVoid, QrCode, ReceiptOption,
    ReturnLabel, ServiceCode, ServiceInfo, Warning,
};
pub use crate::money::{Currency, Money};
pub use crate::oauth::{
    AccountPrefill, OAuthConnection, OAuthOnboarding, PkceChallenge, PkceVerifier,
};
pub use crate::parcel::{Dimensions, Parcel, ParcelInput};
pub use crate::registration::{
    CheckedAnswer, MAX_PROOF_ATTEMPTS, Registration, RegistrationError, RegistrationOnboarding,
    RegistrationStep,
};
pub use crate::registry::CarrierRegistry;
pub use crate::request::{
    IdempotencyKey, Notify, NotifyInput, ReturnLabelInput, ReturnLabelRequest,
};
pub use crate::token::{CachedToken, MemoryTokenCache, TokenCache, TokenFetch, TokenKey};
pub use crate::tracking::{
    EventLocation, TrackedLabel, TrackingEvent, TrackingNumber, TrackingPush, TrackingStatus,
    TrackingSupport,
};

/// What a carrier (or one of a carrier's accounts) can do. The server acts on every flag: it
/// refuses what an account does not offer before the carrier is called (formats, deliveries,
/// receipts, the ship-date window, by [`ReturnLabelRequest::check_for`]), answers a void of a
/// carrier that cannot void with `not_supported`, and publishes them at `GET /v1/carriers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// Service codes this account can buy.
    pub services: Vec<&'static str>,
    pub label_formats: Vec<LabelFormat>,
    /// How labels can reach the customer.
    pub label_deliveries: Vec<LabelDelivery>,
    /// Whether a mailing receipt can be requested.
    pub receipts: bool,
    /// Whether the carrier itself deduplicates label purchases by an idempotency key, so a
    /// resend after an ambiguous failure cannot buy a second label.
    pub idempotent_create: bool,
    /// Whether a purchase whose outcome was unknown may be sent again although the carrier
    /// takes no idempotency key (`idempotent_create: false`), because a duplicate it might make
    /// costs nothing unless it is used (USPS Web Tools: returns labels are pay-on-use). Where
    /// neither holds (UPS: its spec does not say an unused return shipment is free), the server
    /// never sends a purchase with an unknown outcome again: a second label could be billed.
    pub resend_after_unknown_outcome: bool,
    /// Whether bought return labels can be voided ([`Carrier::void_label`]; USPS: no, they are
    /// pay-on-use).
    pub cancellable: bool,
    /// How many days after today a request's `ship_date` may be (0: today only). Checked for
    /// every carrier by [`ReturnLabelRequest::check_for`] before the carrier is called.
    pub ship_date_days_ahead: u32,
}

impl Capabilities {
    pub fn offers(&self, service: &ServiceCode) -> bool {
        self.services.contains(&service.as_str())
    }
}

/// One carrier plugin. Object safe: the registry holds `Arc<dyn Carrier>`.
///
/// A plugin owns everything carrier-specific: which details and credentials an account needs
/// (and which of them are secret), how the neutral request maps onto the carrier's wire
/// protocol, and how the carrier's replies and failures map onto [`ReturnLabel`] and
/// [`CarrierError`].
#[async_trait]
pub trait Carrier: fmt::Debug + Send + Sync + 'static {
    /// A stable lower-case id (`usps`), used in URLs, storage and the API.
    fn id(&self) -> &'static str;

    /// The carrier's name for people (`USPS`).
    fn name(&self) -> &'static str;

    /// Every service code the carrier accepts.
    fn services(&self) -> &'static [ServiceInfo];

    /// What the carrier can do in general (`None`) or for one account's details.
    fn capabilities(&self, details: Option<&AccountDetails>) -> Capabilities;

    /// The account form as a JSON Schema (2020-12): `{"type": "object", "properties":
    /// {"details": {…}, "credentials": {…}}}` of what `POST /v1/shipper-accounts` takes for this
    /// carrier, secrets marked `writeOnly`, conditional requirements (`oneOf`, `if`/`then`) as
    /// the carrier has them, and a `title` and `description` on every field for the forms the
    /// console renders from it. [`Carrier::validate_account`] stays the judge; the schema
    /// describes what it accepts.
    fn account_schema(&self) -> serde_json::Value;

    /// How merchants connect accounts: `oauth` (a consent page, [`Carrier::oauth`]),
    /// `registration` (the account registered with the carrier and proven, a credentials mode
    /// handled by [`Carrier::registration`]), `own_app` (credentials of the merchant's own API
    /// app) and so on, in the order a form
    /// should offer them.
    fn onboarding(&self) -> &'static [&'static str];

    /// Validates and normalizes an account: named field errors for the merchant, secrets moved
    /// into the credentials, masked copies left in the details.
    fn validate_account(
        &self,
        input: AccountInput<'_>,
    ) -> Result<ValidatedAccount, ValidationErrors>;

    /// Buys one return label with the selected account. `idempotency_key` is the client's key
    /// for this purchase: a plugin whose carrier supports it derives the carrier-side key from
    /// it, so sending the same request again returns the same label.
    async fn create_return_label(
        &self,
        account: AccountContext<'_>,
        request: &ReturnLabelRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError>;

    /// Voids a bought label, where [`Capabilities::cancellable`] says the carrier can. Nothing
    /// is bought, so a plugin may retry where its protocol makes it safe. `LabelInUse` when the
    /// carrier refuses because the parcel is already in its network.
    async fn void_label(
        &self,
        account: AccountContext<'_>,
        label: &LabelToVoid<'_>,
    ) -> Result<(), CarrierError> {
        let _ = (account, label);
        Err(CarrierError::NotSupported {
            carrier: self.id(),
            operation: "voiding labels",
        })
    }

    /// The OAuth onboarding hooks, for carriers connected by consent.
    fn oauth(&self) -> Option<&dyn OAuthOnboarding> {
        None
    }

    /// The registration hooks, for carriers connected by registering the merchant's account
    /// and having the merchant prove it (a code, an invoice).
    fn registration(&self) -> Option<&dyn RegistrationOnboarding> {
        None
    }

    /// How the carrier can be tracked in general (`None` details) or with one account's details;
    /// `None` when it cannot (then [`Carrier::track`] refuses).
    fn tracking(&self, details: Option<&AccountDetails>) -> Option<TrackingSupport> {
        let _ = details;
        None
    }

    /// The tracking of up to [`TrackingSupport::batch_size`] labels bought with `account`:
    /// every event the carrier knows for each number it knows (a number it does not know yet
    /// comes back with no events). Read-only, so a plugin retries where it likes.
    async fn track(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<Vec<TrackedLabel>, CarrierError> {
        let _ = (account, tracking_numbers);
        Err(CarrierError::NotSupported {
            carrier: self.id(),
            operation: "tracking",
        })
    }

    /// The push hooks, for carriers that push tracking events to a listener.
    fn tracking_push(&self) -> Option<&dyn TrackingPush> {
        None
    }

    /// The API app whose quota a call made with `account` draws on, as a stable, non-secret
    /// key: accounts connected through the platform's app share one; an account with its own
    /// app has its own. The server's tracking budget is kept per key.
    fn quota_app(&self, account: AccountContext<'_>) -> String {
        format!("{}:{}", self.id(), account.id)
    }
}

/// Conveniences over [`Carrier`] that need no carrier of their own.
pub trait CarrierExt: Carrier {
    /// Whether an account with `details` can buy `service`.
    fn supports_service(&self, details: &AccountDetails, service: &ServiceCode) -> bool {
        self.capabilities(Some(details)).offers(service)
    }

    /// The service info for a code, if the carrier knows it.
    fn service_info(&self, service: &ServiceCode) -> Option<&'static ServiceInfo> {
        self.services()
            .iter()
            .find(|info| info.code == service.as_str())
    }
}

impl<T: Carrier + ?Sized> CarrierExt for T {}
