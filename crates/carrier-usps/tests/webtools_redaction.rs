//! The Web Tools `USERID` and `PASSWORD` are secrets: they appear in no captured log line (every
//! crate, every level, the logged request document included), no error and no `Debug` output.
//! (That they travel only in the form POST body, never in a URL, is proven in `webtools.rs`.)
//!
//! Alone in its test binary: `tracing` caches per-callsite interest process-wide, so a test
//! running beside it without a subscriber could hide our TRACE events from the capture.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use carrier::ErrorKind;
use serde_json::json;
use support::{buy, fault, key, request, webtools_carrier};
use usps_sim::{Fault, demo, route};

const GROUND: &str = "usps_ground_advantage_return";

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

#[tokio::test(flavor = "current_thread")]
async fn no_webtools_secret_appears_in_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = support::simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let mut printed = Vec::new();

    // A live label, a certify label with its LogMessage, a refused password, a refused API
    // permission, a truncated reply and a server error.
    let account = support::webtools_account(&carrier);
    printed.push(format!("{account:?} {carrier:?}"));
    let mut value = serde_json::to_value(support::input(GROUND)).unwrap();
    value["notify"] = json!({"sender_email": "returns@acme.example.com",
                             "recipient_email": "jane@example.com"});
    let with_notify: carrier::ReturnLabelInput = serde_json::from_value(value).unwrap();
    let with_notify = carrier::ReturnLabelRequest::parse(&with_notify).unwrap();
    let label = buy(&carrier, &account, &with_notify, &key("wt-ok"))
        .await
        .unwrap();
    printed.push(format!("{label:?}"));
    let test_mode = support::validate(
        &carrier,
        &support::webtools_test_details(),
        &support::webtools_demo_credentials(),
    );
    let label = buy(&carrier, &test_mode, &request(GROUND), &key("wt-certify"))
        .await
        .unwrap();
    printed.push(format!("{label:?} {test_mode:?}"));
    let wrong = support::validate(
        &carrier,
        &support::webtools_details(),
        &support::webtools_credentials(demo::WEBTOOLS_USER_ID, "sentinel-wrong-password"),
    );
    let error = buy(&carrier, &wrong, &request(GROUND), &key("wt-wrong"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    printed.push(format!("{error} {error:?}"));
    let certify_only = support::validate(
        &carrier,
        &support::webtools_details(),
        &support::webtools_credentials(demo::WEBTOOLS_CERTIFY_USER_ID, demo::WEBTOOLS_PASSWORD),
    );
    let error = buy(&carrier, &certify_only, &request(GROUND), &key("wt-perm"))
        .await
        .unwrap_err();
    printed.push(format!("{error} {error:?}"));
    for injected in [Fault::Malformed, Fault::Status { status: 500 }] {
        sim.simulator.inject(fault(route::WEBTOOLS, injected));
        let error = buy(&carrier, &account, &request(GROUND), &key("wt-fault"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::OutcomeUnknown);
        printed.push(format!("{error} {error:?}"));
    }

    drop(_guard);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("carrier_usps"), "our logs were captured");
    assert!(
        logs.contains("USERID=\"[REDACTED]\" PASSWORD=\"[REDACTED]\""),
        "the request document is logged, redacted"
    );
    assert!(logs.contains("USPS Web Tools LogMessage"), "{logs}");
    let printed = printed.join("\n");
    for secret in [
        demo::WEBTOOLS_USER_ID,
        demo::WEBTOOLS_CERTIFY_USER_ID,
        demo::WEBTOOLS_PASSWORD,
        "sentinel-wrong-password",
        demo::EPS_ACCOUNT,
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
        assert!(
            !printed.contains(secret),
            "{secret} leaked into output: {printed}"
        );
    }
}
