//! The logs never carry client secrets, child secrets, access tokens, PINs or
//! `accountAuthToken`s: a whole registration, token and ship flow is logged into a buffer, which
//! must hold the flow's events and none of its secrets.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use fedex_sim::demo;
use reqwest::StatusCode;

use crate::common::{Harness, print_return_request};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, from the moment it is first called.
fn captured() -> &'static Buffer {
    static BUFFER: OnceLock<Buffer> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
}

#[tokio::test]
async fn no_secret_of_a_registration_and_shipment_reaches_the_logs() {
    let buffer = captured();
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    harness.send_pin(&platform, &session, "SMS").await;
    let pin = harness.last_pin();
    let keys = harness.validate_pin(&platform, &session, &pin).await;
    assert_eq!(keys.status, StatusCode::OK);
    let child_secret = keys.body["output"]["child_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let child_key = keys.body["output"]["child_Key"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = harness.csp_token(&child_key, &child_secret).await;
    let access = token.body["access_token"].as_str().unwrap().to_owned();
    let shipped = harness.ship(&access, &print_return_request("PNG")).await;
    assert_eq!(shipped.status, StatusCode::OK);
    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    assert!(logs.contains("registration PIN sent"), "{logs}");
    assert!(logs.contains("return shipment created"), "{logs}");
    assert!(
        !contains_standalone(&logs, &pin),
        "the PIN was logged: {logs}"
    );
    for secret in [
        child_secret.as_str(),
        access.as_str(),
        platform.as_str(),
        session.as_str(),
        demo::CLIENT_SECRET,
    ] {
        assert!(!logs.contains(secret), "a secret was logged: {logs}");
    }
}

/// Whether `digits` occurs in `text` not as part of a longer run of digits (a tracking number
/// or a port may hold any six digits).
fn contains_standalone(text: &str, digits: &str) -> bool {
    text.match_indices(digits).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + digits.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}
