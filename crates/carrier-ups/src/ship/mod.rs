//! The UPS Ship API (Shipping.yaml, "Ship" with `Shipment.ReturnService`, and "Void Shipment"),
//! version [`VERSION`] — the one version the spec lists for both paths:
//!
//! - `POST /api/shipments/v2409/ship` ([`request`] builds the `ShipmentRequest`, [`reply`]
//!   reads the `ShipmentResponse`);
//! - `DELETE /api/shipments/v2409/void/cancel/{shipmentidentificationnumber}` ([`void`]).
//!
//! The spec's servers are `https://wwwcie.ups.com/api` and `https://onlinetools.ups.com/api`;
//! the paths here carry the `/api` so that one base URL serves Ship and OAuth (`/security`).

pub(crate) mod address;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod void;

#[cfg(test)]
mod schema;

/// The Ship and Void API version (the path's `{version}`: "Valid values: v2409").
pub(crate) const VERSION: &str = "v2409";

/// The Ship path under the base URL.
pub(crate) fn ship_path() -> String {
    format!("/api/shipments/{VERSION}/ship")
}

/// The Void path for one shipment identification number (18 upper-case 1Z characters, so it
/// needs no escaping; [`void::check_shipment_id`] makes sure).
pub(crate) fn void_path(shipment_id: &str) -> String {
    format!("/api/shipments/{VERSION}/void/cancel/{shipment_id}")
}

/// Sent as `transactionSrc` ("An identifier of the client/source application").
pub(crate) const TRANSACTION_SOURCE: &str = "backhaul";
