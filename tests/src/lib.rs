//! The harness shared by the end-to-end tests in `tests/`: the carrier registry as the binary
//! wires it, pointed at an in-process USPS simulator.

use std::sync::Arc;

use carrier::CarrierRegistry;
use usps_sim::{RunningSimulator, SimConfig, Simulator};

/// A running simulator with the demo data and a registry whose USPS plugin talks to it.
#[derive(Debug)]
pub struct System {
    pub simulator: RunningSimulator,
    pub registry: CarrierRegistry,
}

impl System {
    pub async fn start() -> std::io::Result<Self> {
        let simulator = Simulator::new(SimConfig::default()).spawn().await?;
        let usps = carrier_usps::UspsBuilder::new()
            .with_base_url(&simulator.base_url)
            .build()
            .map_err(std::io::Error::other)?;
        let registry = CarrierRegistry::new().register(Arc::new(usps));
        Ok(Self {
            simulator,
            registry,
        })
    }
}
