//! Webhooks to the returns SaaS (API.md, "Webhooks to the returns SaaS (Standard Webhooks)"):
//! the tenant's endpoints with their signing secrets sealed in the vault ([`endpoint`]), and the
//! deliveries of the event log to them — queued by [`crate::event::record`] in the event's own
//! statement, claimed by delivery workers with `SKIP LOCKED`, every attempt logged
//! ([`delivery`]). The HTTP side (the URL rules, signing, the POST) is the server's.

pub mod delivery;
pub mod endpoint;

pub use self::delivery::{Attempt, ClaimedDelivery, Delivery, DeliveryState, Next, OutboxDepth};
pub use self::endpoint::{
    Endpoint, EndpointChanges, EndpointStatus, NewEndpoint, ROTATION_GRACE, WebhookSecret,
    WebhookService,
};
