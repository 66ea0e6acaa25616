//! What the simulator did: the ledger of issued labels and the per-route call counters.
//!
//! Both are protocol-agnostic so that every wire protocol the simulator speaks (the v3 REST
//! APIs and the Web Tools `ShippingAPI.dll` XML API) records into the same books; the counters
//! are `sim_kit`'s [`Counters`], shared with the UPS simulator. Routes are named by the
//! constants in [`route`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Route names used by counters and fault rules.
pub mod route {
    /// `POST /oauth2/v3/token`.
    pub const TOKEN: &str = "token";
    /// `POST /oauth2/v3/revoke`.
    pub const REVOKE: &str = "revoke";
    /// `GET` and `POST /oauth2/v3/authorize` (the consent page).
    pub const AUTHORIZE: &str = "authorize";
    /// `GET`/`POST /oauth2-oidc/v3/userinfo`.
    pub const USERINFO: &str = "userinfo";
    /// `POST /payments/v3/payment-authorization`.
    pub const PAYMENT_AUTHORIZATION: &str = "payment-authorization";
    /// `POST /labels/v3/return-label`.
    pub const RETURN_LABEL: &str = "return-label";
    /// `GET` and `POST /ShippingAPI.dll` (Web Tools `USPSReturnsLabel` and
    /// `USPSReturnsLabelCertify`).
    pub const WEBTOOLS: &str = "webtools";
    /// `GET /tracking/v3/tracking/{trackingNumber}`.
    pub const TRACKING: &str = "tracking";
    /// `/subscriptions-tracking/v3r2/subscriptions` and `…/subscriptions/{subscriptionId}`.
    pub const SUBSCRIPTIONS: &str = "subscriptions";

    /// Every route, for validating fault rules.
    pub const ALL: &[&str] = &[
        TOKEN,
        REVOKE,
        AUTHORIZE,
        USERINFO,
        PAYMENT_AUTHORIZATION,
        RETURN_LABEL,
        WEBTOOLS,
        TRACKING,
        SUBSCRIPTIONS,
    ];
}

/// One label the simulator issued (and charged for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The 22-digit IMpb tracking number.
    pub tracking_number: String,
    /// The routing part of the barcode: `420` + destination ZIP Code.
    pub routing: String,
    /// The label owner's CRID.
    pub crid: String,
    /// The MID in the tracking number.
    pub mid: String,
    /// The mail class as requested (v3 `mailClass`, Web Tools `ServiceType`).
    pub mail_class: String,
    /// Postage in cents (money is never a float).
    pub postage_cents: u64,
    /// The idempotency key the label was created with, if any (v3 only).
    pub idempotency_key: Option<String>,
    /// When the label was issued (simulator clock, UTC).
    pub created_at: DateTime<Utc>,
    /// Which API issued it: `"v3"` or `"webtools"`.
    pub api: String,
    /// The ZIP Code the parcel starts from (v3 `inductionZIPCode`, else `fromAddress.ZIPCode`;
    /// Web Tools `POZipCode`, else `CustomerZip5`), where acceptance scans happen.
    #[serde(default)]
    pub origin_zip: Option<String>,
    /// The `labelBrokerID` of a v3 `imageType: LABEL_BROKER` label (printerless: the QR code
    /// or this id is shown at a Post Office, which prints the label).
    #[serde(default)]
    pub label_broker_id: Option<String>,
}

pub use sim_kit::counters::{Counters, RouteCount};
