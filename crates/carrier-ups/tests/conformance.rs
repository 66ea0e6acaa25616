//! The carrier conformance suite (`carrier::conformance::run_all`) against the UPS simulator
//! (`ups-sim`, written from UPS's OpenAPI files and sharing no types with this plugin), with an
//! own_app account of the simulator's demo app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use carrier::conformance::{AfterCommit, Fixture, SimulatedScan, run_all};
use carrier::{Carrier, CredentialsInput, ReturnLabelInput};
use carrier_ups::UpsBuilder;
use serde_json::json;
use ups_sim::{Fault, FaultRule, RunningSimulator, ScanKind, SimConfig, Simulator, demo, route};

struct UpsFixture {
    simulator: RunningSimulator,
    carrier: Arc<dyn Carrier>,
}

fn details() -> serde_json::Value {
    json!({
        "account_number": demo::SHIPPER_NUMBER,
        "return_address": {"firm": "Backhaul Demo Returns Co.", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
    })
}

fn credentials(secret: &str) -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", demo::CLIENT_ID)
        .with("client_secret", secret)
}

#[async_trait]
impl Fixture for UpsFixture {
    fn carrier(&self) -> Arc<dyn Carrier> {
        self.carrier.clone()
    }

    fn account(&self) -> (serde_json::Value, CredentialsInput) {
        (details(), credentials(demo::CLIENT_SECRET))
    }

    fn refused_account(&self) -> (serde_json::Value, CredentialsInput) {
        (details(), credentials("not-the-demo-secret"))
    }

    fn request(&self, service: &str) -> ReturnLabelInput {
        serde_json::from_value(json!({
            "service": service,
            "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118"},
            "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
            "reference": "RMA-1001",
        }))
        .unwrap()
    }

    async fn labels_issued(&self) -> usize {
        self.simulator.simulator.ledger().len()
    }

    async fn fail_next_label_after_commit(&self, how: AfterCommit) {
        let fault = match how {
            AfterCommit::MalformedBody => Fault::Malformed,
            AfterCommit::ConnectionReset => Fault::ResetAfterCommit,
        };
        self.simulator
            .simulator
            .try_inject(FaultRule {
                route: route::SHIP.to_owned(),
                fault,
                times: Some(1),
                probability: None,
            })
            .unwrap();
    }

    async fn scan(&self, tracking_number: &str, scan: SimulatedScan) {
        let kind = ScanKind::parse(scan.as_str()).expect("the simulator knows every scan");
        self.simulator
            .simulator
            .scan(tracking_number, kind)
            .expect("the simulator issued the number");
    }

    async fn is_voided(&self, tracking_number: &str) -> bool {
        self.simulator.simulator.ledger().iter().any(|entry| {
            entry.voided_at.is_some()
                && entry
                    .tracking_numbers
                    .iter()
                    .any(|number| number == tracking_number)
        })
    }
}

#[tokio::test]
async fn the_ups_plugin_passes_the_carrier_conformance_suite() {
    let simulator = Simulator::new(SimConfig::default()).spawn().await.unwrap();
    let carrier = Arc::new(
        UpsBuilder::new()
            .with_base_url(&simulator.base_url)
            .build()
            .unwrap(),
    );
    let fixture = UpsFixture { simulator, carrier };
    run_all(&fixture).await;
}
