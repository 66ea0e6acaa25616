//! The carrier conformance suite (`carrier::conformance::run_all`) against the FedEx simulator,
//! with an own_app account of the simulator's demo merchant app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use carrier::conformance::{AfterCommit, Fixture, SimulatedScan, run_all};
use carrier::{Carrier, CredentialsInput, ReturnLabelInput};
use fedex_sim::{Fault, FaultRule, RunningSimulator, ScanKind, demo, route};

struct FedexFixture {
    simulator: RunningSimulator,
    carrier: Arc<dyn Carrier>,
}

#[async_trait]
impl Fixture for FedexFixture {
    fn carrier(&self) -> Arc<dyn Carrier> {
        self.carrier.clone()
    }

    fn account(&self) -> (serde_json::Value, CredentialsInput) {
        (
            support::demo_details(),
            support::own_app(demo::OWN_APP_CLIENT_SECRET),
        )
    }

    fn refused_account(&self) -> (serde_json::Value, CredentialsInput) {
        (
            support::demo_details(),
            support::own_app("not-the-demo-secret"),
        )
    }

    fn request(&self, service: &str) -> ReturnLabelInput {
        support::request(service)
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
            entry.cancelled_at.is_some()
                && entry
                    .tracking_numbers
                    .iter()
                    .any(|number| number == tracking_number)
        })
    }
}

#[tokio::test]
async fn the_fedex_plugin_passes_the_carrier_conformance_suite() {
    let simulator = support::simulator().await;
    let carrier = Arc::new(support::carrier(&simulator));
    let fixture = FedexFixture { simulator, carrier };
    run_all(&fixture).await;
}
