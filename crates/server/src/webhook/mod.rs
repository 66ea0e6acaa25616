//! Webhooks to the returns SaaS (API.md, "Webhooks to the returns SaaS (Standard Webhooks)"):
//! where they may go ([`address`]), how they are signed ([`signature`]) and the workers that
//! deliver the outbox ([`worker`]). The endpoints and deliveries are stored by
//! [`accounts::webhook`].

pub mod address;
pub mod signature;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

pub use self::address::{HostResolver, Reach, StaticResolver, SystemResolver, UrlRefusal};
pub use self::worker::{DeliverySettings, spawn_delivery_workers};

/// The webhook rules a server runs with.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `webhooks.allow_private_urls`: `http` and non-public addresses allowed (development and
    /// tests only).
    pub allow_private_urls: bool,
    /// How host names are resolved, at registration and at every delivery.
    pub resolver: Arc<dyn HostResolver>,
    /// How long the previous secret keeps signing after a rotation
    /// ([`accounts::webhook::ROTATION_GRACE`]).
    pub rotation_grace: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_private_urls: false,
            resolver: Arc::new(SystemResolver),
            rotation_grace: accounts::webhook::ROTATION_GRACE,
        }
    }
}

impl Policy {
    pub fn reach(&self) -> Reach {
        if self.allow_private_urls {
            Reach::Anywhere
        } else {
            Reach::PublicOnly
        }
    }
}
