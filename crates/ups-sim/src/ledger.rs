//! What the simulator did: the ledger of issued shipments and the per-route call counters.
//! Routes are named by the constants in [`route`], the names fault rules use too.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Route names used by counters and fault rules.
pub mod route {
    /// `GET` and `POST /security/v1/oauth/authorize` (the "Login with UPS" consent page).
    pub const AUTHORIZE: &str = "authorize";
    /// `POST /security/v1/oauth/token` (both grants).
    pub const TOKEN: &str = "token";
    /// `POST /security/v1/oauth/refresh`.
    pub const REFRESH: &str = "refresh";
    /// `POST /api/shipments/{version}/ship`.
    pub const SHIP: &str = "ship";
    /// `DELETE /api/shipments/{version}/void/cancel/{shipmentidentificationnumber}`.
    pub const VOID: &str = "void";

    /// Every route, for validating fault rules.
    pub const ALL: &[&str] = &[AUTHORIZE, TOKEN, REFRESH, SHIP, VOID];
}

/// One shipment the simulator issued a label for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// `ShipmentIdentificationNumber`: the 1Z number of the first package.
    pub shipment_identification_number: String,
    /// The packages' 1Z tracking numbers, in request order.
    pub tracking_numbers: Vec<String>,
    /// The 6-character `Shipper.ShipperNumber`.
    pub shipper_number: String,
    /// `Service.Code` as requested, e.g. `03`.
    pub service_code: String,
    /// `ReturnService.Code`, `None` for a forward shipment.
    pub return_service: Option<String>,
    /// `LabelImageFormat.Code` of the label drawn; `None` when no image was returned (an
    /// Electronic Return Label, which UPS delivers itself).
    pub label_format: Option<String>,
    /// The simulated total charges in cents (money is never a float).
    pub total_charges_cents: u64,
    /// The OAuth client whose token created the shipment.
    pub client_id: String,
    /// The UPS user the token stands for (authorization-code tokens), if any.
    pub username: Option<String>,
    /// When the shipment was created (simulator clock, UTC).
    pub created_at: DateTime<Utc>,
    /// When it was voided, if it was.
    pub voided_at: Option<DateTime<Utc>>,
}

/// Calls of one route (or one token grant type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// Requests received.
    pub calls: u64,
    /// Responses with a status below 400.
    pub ok: u64,
    /// Responses with a status of 400 or more, injected faults included.
    pub error: u64,
}

/// Call counters, by route name and by OAuth grant type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// By route name (see [`route`]).
    pub routes: BTreeMap<String, RouteCount>,
    /// Token and refresh requests by `grant_type` as sent (`client_credentials`,
    /// `authorization_code`, `refresh_token`, or whatever unsupported value a client sent).
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
