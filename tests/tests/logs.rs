//! Every log line of a busy session, captured at TRACE from every crate as JSON: no secret
//! appears, and every request's lines carry its request id. (One test in this binary: the
//! subscriber is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use backhaul_tests::{TestApp, label_request, v3_account, webtools_account};
use serde_json::Value;
use sqlx::PgPool;
use usps_sim::demo;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn no_secret_reaches_a_log_line_and_every_request_line_has_its_id(owner: PgPool) {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let app = TestApp::spawn(owner).await;
    let mut ids = Vec::new();
    for body in [v3_account("East"), webtools_account("Legacy")] {
        let response = app
            .post(&app.tenant_key, "/v1/shipper-accounts", &body)
            .await;
        assert_eq!(response.status(), 201);
        ids.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    for (index, id) in ids.into_iter().enumerate() {
        let mut request = label_request("usps_ground_advantage_return");
        request["shipper_account_id"] = id;
        let response = app
            .buy(&app.tenant_key, &format!("logs-{index}"), &request)
            .await;
        assert_eq!(response.status(), 201);
    }
    let mut bad = v3_account("Broken");
    bad["credentials"]["client_secret"] = serde_json::json!(12345);
    assert_eq!(
        app.post(&app.tenant_key, "/v1/shipper-accounts", &bad)
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get(
            "bh_notakeynotakeynotakeynotakeynotakeynota",
            "/v1/return-labels"
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        app.get(&app.admin_key, "/v1/admin/audit-events")
            .await
            .status(),
        200
    );

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.lines().count() > 20, "the session was logged");
    for secret in [
        demo::CLIENT_SECRET,
        demo::EPS_ACCOUNT,
        demo::WEBTOOLS_USER_ID,
        demo::WEBTOOLS_PASSWORD,
        app.tenant_key.as_str(),
        app.admin_key.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} reached the logs");
    }
    let served: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["fields"]["message"] == "request served")
        .collect();
    assert!(served.len() >= 6);
    for event in served {
        assert!(
            event["span"]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("req_"),
            "{event}"
        );
    }
}
