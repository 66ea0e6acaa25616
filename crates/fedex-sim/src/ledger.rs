//! What the simulator did: the ledger of shipments and the per-route call counters
//! (`sim_kit`'s [`Counters`], shared with the other simulators). Routes are named by the
//! constants in [`route`], the names fault rules use too.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Route names used by counters and fault rules.
pub mod route {
    /// `POST /oauth/token` (every grant).
    pub const TOKEN: &str = "token";
    /// `POST /registration/v2/address/keysgeneration`.
    pub const ADDRESS_KEYS: &str = "address_keys";
    /// `POST /registration/v2/customerkeys/pingeneration`.
    pub const PIN_GENERATION: &str = "pin_generation";
    /// `POST /registration/v2/pin/keysgeneration`.
    pub const PIN_KEYS: &str = "pin_keys";
    /// `POST /registration/v2/invoice/keysgeneration`.
    pub const INVOICE_KEYS: &str = "invoice_keys";
    /// `POST /ship/v1/shipments`.
    pub const SHIP: &str = "ship";
    /// `PUT /ship/v1/shipments/cancel`.
    pub const CANCEL: &str = "cancel";
    /// `POST /track/v1/trackingnumbers`.
    pub const TRACK: &str = "track";

    /// Every route, for validating fault rules.
    pub const ALL: &[&str] = &[
        TOKEN,
        ADDRESS_KEYS,
        PIN_GENERATION,
        PIN_KEYS,
        INVOICE_KEYS,
        SHIP,
        CANCEL,
        TRACK,
    ];
}

/// One shipment the simulator created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The master tracking number (the first package's).
    pub master_tracking_number: String,
    /// Every package's 12-digit tracking number, in request order.
    pub tracking_numbers: Vec<String>,
    /// `accountNumber.value`.
    pub account_number: String,
    /// `serviceType`, e.g. `FEDEX_GROUND`.
    pub service_type: String,
    /// `returnShipmentDetail.returnType`: `PRINT_RETURN_LABEL` or `PENDING`.
    pub return_type: String,
    /// `labelSpecification.imageType` of the label drawn (`PDF`, `PNG`, `ZPLII`); `None` for an
    /// email label (`PENDING`), which FedEx e-mails.
    pub image_type: Option<String>,
    /// `labelResponseOptions` as sent.
    pub label_response: String,
    /// For an email label: the addresses FedEx e-mails it to.
    pub email_recipients: Vec<String>,
    /// For an email label: its `expirationTimeStamp`.
    pub email_label_expires_on: Option<NaiveDate>,
    /// `returnShipmentDetail.rma.reason` (the return's RMA), when sent.
    pub rma_reason: Option<String>,
    /// The simulated net charge in cents (money is never a float).
    pub total_net_charge_cents: u64,
    /// The OAuth client (app) whose token created the shipment.
    pub client_id: String,
    /// The child key the token stood for, if it was a `csp_credentials` token.
    pub child_key: Option<String>,
    /// When the shipment was created (simulator clock, UTC).
    pub created_at: DateTime<Utc>,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<DateTime<Utc>>,
}

pub use sim_kit::counters::{Counters, RouteCount};
