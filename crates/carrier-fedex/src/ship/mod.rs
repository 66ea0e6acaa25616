//! The FedEx Ship API (Shipment-Resource.json):
//!
//! - `POST /ship/v1/shipments` ([`request`] builds the `Full_Schema_Ship` body of a return
//!   shipment, [`reply`] reads `SHPCResponseVO_ShipShipment`);
//! - `PUT /ship/v1/shipments/cancel` ([`cancel`]).

pub(crate) mod address;
pub(crate) mod cancel;
pub(crate) mod reply;
pub(crate) mod request;

pub(crate) const SHIP_PATH: &str = "/ship/v1/shipments";
pub(crate) const CANCEL_PATH: &str = "/ship/v1/shipments/cancel";
