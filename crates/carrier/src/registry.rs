//! Carrier plugins by id. The binary registers the plugins it ships; the server and the account
//! service look carriers up here and know them only through [`Carrier`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Carrier;

/// The set of carrier plugins this process serves.
#[derive(Debug, Default, Clone)]
pub struct CarrierRegistry {
    carriers: BTreeMap<&'static str, Arc<dyn Carrier>>,
}

impl CarrierRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plugin, replacing any earlier one with the same id.
    pub fn register(mut self, carrier: Arc<dyn Carrier>) -> Self {
        self.carriers.insert(carrier.id(), carrier);
        self
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn Carrier>> {
        self.carriers.get(id)
    }

    /// The carrier that offers `service`: every service code starts with its carrier's id
    /// (`ups_ground_return`), and a carrier lists its codes in [`Carrier::services`].
    pub fn for_service(&self, service: &str) -> Option<&Arc<dyn Carrier>> {
        self.iter()
            .find(|carrier| carrier.services().iter().any(|info| info.code == service))
    }

    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.carriers.keys().copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Carrier>> {
        self.carriers.values()
    }
}
