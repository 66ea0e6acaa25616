//! What the simulator did: the ledger of issued labels and the per-route call counters.
//!
//! Both are protocol-agnostic so that every wire protocol the simulator speaks (the v3 REST
//! APIs and the Web Tools `ShippingAPI.dll` XML API) records into the same books. Routes are
//! named by the constants in [`route`].

use std::collections::BTreeMap;

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
    /// `GET /oauth2/v3/userinfo`.
    pub const USERINFO: &str = "userinfo";
    /// `POST /payments/v3/payment-authorization`.
    pub const PAYMENT_AUTHORIZATION: &str = "payment-authorization";
    /// `POST /labels/v3/return-label`.
    pub const RETURN_LABEL: &str = "return-label";
    /// `GET` and `POST /ShippingAPI.dll` (Web Tools `USPSReturnsLabel` and
    /// `USPSReturnsLabelCertify`).
    pub const WEBTOOLS: &str = "webtools";

    /// Every route, for validating fault rules.
    pub const ALL: &[&str] = &[
        TOKEN,
        REVOKE,
        AUTHORIZE,
        USERINFO,
        PAYMENT_AUTHORIZATION,
        RETURN_LABEL,
        WEBTOOLS,
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
}

/// Calls of one route (or one token grant type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// Requests received.
    pub calls: u64,
    /// Responses with a status below 400, except Web Tools `<Error>` documents.
    pub ok: u64,
    /// Responses with a status of 400 or more (including injected faults), and Web Tools
    /// `<Error>` documents, which USPS sends with status 200.
    pub error: u64,
}

/// Call counters, by route name and by OAuth grant type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// By route name (see [`route`]).
    pub routes: BTreeMap<String, RouteCount>,
    /// Token requests by `grant_type` as sent (`client_credentials`, `authorization_code`,
    /// `refresh_token`, or whatever unsupported value a client sent).
    pub token_grants: BTreeMap<String, RouteCount>,
    /// Fault rules applied.
    pub faults_injected: u64,
}

impl Counters {
    /// The counts of `route` (zero when it was never called).
    pub fn route(&self, route: &str) -> RouteCount {
        self.routes.get(route).copied().unwrap_or_default()
    }

    /// The counts of token requests with `grant_type`.
    pub fn grant(&self, grant_type: &str) -> RouteCount {
        self.token_grants
            .get(grant_type)
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn record(map: &mut BTreeMap<String, RouteCount>, name: &str, ok: bool) {
        let count = map.entry(name.to_owned()).or_default();
        count.calls += 1;
        if ok {
            count.ok += 1;
        } else {
            count.error += 1;
        }
    }
}
