//! The carrier conformance suite (`carrier::conformance::run_all`) against the USPS simulator,
//! once with a v3 account and once with a Web Tools account.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use carrier::conformance::{AfterCommit, Fixture, SimulatedScan, run_all};
use carrier::{Carrier, CredentialsInput, ReturnLabelInput};
use usps_sim::{Fault, FaultRule, RunningSimulator, demo};

/// Scans a label through the simulator's control route (`POST /__sim/tracking/{tn}/events`).
async fn scan_through_the_control_route(
    simulator: &RunningSimulator,
    tracking_number: &str,
    scan: SimulatedScan,
) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/__sim/tracking/{tracking_number}/events",
            simulator.base_url
        ))
        .json(&serde_json::json!({"status": scan.as_str()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::CREATED,
        "{tracking_number}"
    );
}

/// Arms `how` once on the simulator's `route`.
fn fail_after_commit(simulator: &RunningSimulator, route: &str, how: AfterCommit) {
    let fault = match how {
        AfterCommit::MalformedBody => Fault::Malformed,
        AfterCommit::ConnectionReset => Fault::ResetAfterCommit,
    };
    simulator
        .simulator
        .try_inject(FaultRule {
            route: route.to_owned(),
            fault,
            times: Some(1),
            probability: None,
        })
        .unwrap();
}

struct UspsFixture {
    simulator: RunningSimulator,
    carrier: Arc<dyn Carrier>,
}

#[async_trait]
impl Fixture for UspsFixture {
    fn carrier(&self) -> Arc<dyn Carrier> {
        self.carrier.clone()
    }

    fn account(&self) -> (serde_json::Value, CredentialsInput) {
        (support::eps_details(), support::own_app())
    }

    fn refused_account(&self) -> (serde_json::Value, CredentialsInput) {
        let credentials = CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", demo::CLIENT_ID)
            .with("client_secret", "not-the-demo-secret");
        (support::eps_details(), credentials)
    }

    fn request(&self, service: &str) -> ReturnLabelInput {
        support::input(service)
    }

    async fn labels_issued(&self) -> usize {
        self.simulator.simulator.ledger().len()
    }

    async fn fail_next_label_after_commit(&self, how: AfterCommit) {
        fail_after_commit(&self.simulator, "return-label", how);
    }

    /// USPS returns labels cannot be voided; the suite never asks.
    async fn is_voided(&self, _tracking_number: &str) -> bool {
        false
    }

    async fn scan(&self, tracking_number: &str, scan: SimulatedScan) {
        scan_through_the_control_route(&self.simulator, tracking_number, scan).await;
    }
}

#[tokio::test]
async fn the_usps_plugin_passes_the_carrier_conformance_suite() {
    let simulator = support::simulator().await;
    let carrier = Arc::new(support::carrier(&simulator.base_url));
    let fixture = UspsFixture { simulator, carrier };
    run_all(&fixture).await;
}

/// A Web Tools account (`details.api = "webtools"`, the demo Web Tools user).
struct WebToolsFixture {
    simulator: RunningSimulator,
    carrier: Arc<dyn Carrier>,
}

#[async_trait]
impl Fixture for WebToolsFixture {
    fn carrier(&self) -> Arc<dyn Carrier> {
        self.carrier.clone()
    }

    fn account(&self) -> (serde_json::Value, CredentialsInput) {
        (
            support::webtools_details(),
            support::webtools_demo_credentials(),
        )
    }

    fn refused_account(&self) -> (serde_json::Value, CredentialsInput) {
        (
            support::webtools_details(),
            support::webtools_credentials(demo::WEBTOOLS_USER_ID, "not-the-demo-password"),
        )
    }

    fn request(&self, service: &str) -> ReturnLabelInput {
        support::input(service)
    }

    async fn labels_issued(&self) -> usize {
        self.simulator.simulator.ledger().len()
    }

    async fn fail_next_label_after_commit(&self, how: AfterCommit) {
        fail_after_commit(&self.simulator, "webtools", how);
    }

    /// USPS returns labels cannot be voided; the suite never asks.
    async fn is_voided(&self, _tracking_number: &str) -> bool {
        false
    }

    async fn scan(&self, tracking_number: &str, scan: SimulatedScan) {
        scan_through_the_control_route(&self.simulator, tracking_number, scan).await;
    }
}

#[tokio::test]
async fn the_usps_plugin_passes_the_carrier_conformance_suite_with_a_webtools_account() {
    let simulator = support::simulator().await;
    let carrier = Arc::new(support::webtools_carrier(&simulator.base_url));
    let fixture = WebToolsFixture { simulator, carrier };
    run_all(&fixture).await;
}
