//! What the simulator did: the ledger of issued shipments and the per-route call counters
//! (`sim_kit`'s [`Counters`], shared with the USPS simulator). Routes are named by the
//! constants in [`route`], the names fault rules use too.

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
    /// `GET /api/track/v1/details/{inquiryNumber}` (the Track API).
    pub const TRACK: &str = "track";
    /// `POST /api/track/{version}/subscription/{type}/package` (Track Alert).
    pub const SUBSCRIBE: &str = "subscribe";

    /// Every route, for validating fault rules.
    pub const ALL: &[&str] = &[AUTHORIZE, TOKEN, REFRESH, SHIP, VOID, TRACK, SUBSCRIBE];
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

pub use sim_kit::counters::{Counters, RouteCount};
