//! Labels, cancels, tracking and failures against the FedEx simulator: every format, emailed
//! labels, a cancel refused because the package was scanned, tracking after scans, 429, 503
//! and timeouts classified, and no secret in any log line, error or `Debug` output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use carrier::{AccountContext, Carrier, ErrorKind, LabelFormat, LabelToVoid, TrackingStatus};
use fedex_sim::{Fault, FaultRule, ScanKind, demo, route};
use serde_json::json;

fn inject(sim: &fedex_sim::RunningSimulator, route: &str, fault: Fault) {
    sim.simulator
        .try_inject(FaultRule {
            route: route.to_owned(),
            fault,
            times: Some(1),
            probability: None,
        })
        .unwrap();
}

#[tokio::test]
async fn labels_come_in_every_format_and_by_email() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = support::validate(
        &carrier,
        &support::demo_details(),
        &support::own_app(demo::OWN_APP_CLIENT_SECRET),
    );
    for format in [LabelFormat::Pdf, LabelFormat::Png, LabelFormat::Zpl] {
        let mut input = support::request("fedex_express_saver_return");
        input.label_format = Some(format.as_str().to_owned());
        let label = support::buy(&carrier, &account, &input).await.unwrap();
        let document = label.label.unwrap();
        assert!(format.matches(&document.bytes), "{format:?}");
        assert_eq!(label.carrier_service, "FEDEX_EXPRESS_SAVER");
    }
    let mut input = support::request("fedex_ground_return");
    input.label_delivery = Some("email".into());
    input.notify =
        Some(serde_json::from_value(json!({"recipient_email": "jane@example.com"})).unwrap());
    let label = support::buy(&carrier, &account, &input).await.unwrap();
    assert!(label.label.is_none());
    let entry = sim.simulator.ledger().into_iter().last().unwrap();
    assert_eq!(entry.return_type, "PENDING");
    assert_eq!(entry.email_recipients, ["jane@example.com"]);
    let context = AccountContext {
        id: "sa_1",
        details: &account.details,
        credentials: &account.credentials,
    };
    let to_void = LabelToVoid {
        tracking_number: &label.tracking_number,
        carrier_reference: label.carrier_reference.as_deref(),
        service: &label.service,
    };
    carrier.void_label(context, &to_void).await.unwrap();
}

#[tokio::test]
async fn a_scanned_label_cannot_be_cancelled_and_its_scans_are_tracked() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = support::validate(
        &carrier,
        &support::demo_details(),
        &support::own_app(demo::OWN_APP_CLIENT_SECRET),
    );
    let label = support::buy(&carrier, &account, &support::request("fedex_ground_return"))
        .await
        .unwrap();
    sim.simulator
        .scan(
            label.tracking_number.as_str(),
            ScanKind::parse("accepted").unwrap(),
        )
        .unwrap();
    let context = AccountContext {
        id: "sa_1",
        details: &account.details,
        credentials: &account.credentials,
    };
    let to_void = LabelToVoid {
        tracking_number: &label.tracking_number,
        carrier_reference: None,
        service: &label.service,
    };
    let error = carrier.void_label(context, &to_void).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LabelInUse, "{error:?}");
    let tracked = carrier
        .track(context, std::slice::from_ref(&label.tracking_number))
        .await
        .unwrap();
    assert!(
        tracked[0]
            .events
            .iter()
            .any(|e| e.status == TrackingStatus::InTransit),
        "{tracked:?}"
    );
}

#[tokio::test]
async fn rate_limits_outages_and_timeouts_are_classified() {
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let account = support::validate(
        &carrier,
        &support::demo_details(),
        &support::own_app(demo::OWN_APP_CLIENT_SECRET),
    );
    let input = support::request("fedex_ground_return");
    support::buy(&carrier, &account, &input).await.unwrap();
    inject(&sim, route::SHIP, Fault::RateLimit { retry_after_s: 3 });
    let limited = support::buy(&carrier, &account, &input).await.unwrap_err();
    assert_eq!(limited.kind(), ErrorKind::RateLimited, "{limited:?}");
    // 503: FedEx did not take the request (nothing bought, FedEx's Retry-After kept); 500:
    // FedEx may have acted first.
    inject(&sim, route::SHIP, Fault::Status { status: 503 });
    let unavailable = support::buy(&carrier, &account, &input).await.unwrap_err();
    assert_eq!(
        unavailable.kind(),
        ErrorKind::Unavailable,
        "{unavailable:?}"
    );
    assert_eq!(
        unavailable.retry_after(),
        Some(std::time::Duration::from_secs(1))
    );
    inject(&sim, route::SHIP, Fault::Status { status: 500 });
    assert_eq!(
        support::buy(&carrier, &account, &input)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::OutcomeUnknown
    );
    inject(&sim, route::SHIP, Fault::Latency { ms: 3000 });
    assert_eq!(
        support::buy(&carrier, &account, &input)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::OutcomeUnknown
    );
    let before = sim.simulator.ledger().len();
    inject(&sim, route::SHIP, Fault::ExpiredToken);
    support::buy(&carrier, &account, &input)
        .await
        .expect("a refused token is renewed once");
    assert_eq!(sim.simulator.ledger().len(), before + 1);
}

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
async fn no_secret_appears_in_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let sim = support::simulator().await;
    let carrier = support::carrier(&sim);
    let mut printed = vec![format!("{carrier:?}")];
    let account = support::validate(
        &carrier,
        &support::demo_details(),
        &support::own_app(demo::OWN_APP_CLIENT_SECRET),
    );
    printed.push(format!("{account:?}"));
    printed.push(format!(
        "{:?}",
        support::buy(&carrier, &account, &support::request("fedex_ground_return")).await
    ));
    let refused = support::validate(
        &carrier,
        &support::demo_details(),
        &support::own_app("sentinel-wrong-secret"),
    );
    printed.push(format!(
        "{:?}",
        support::buy(&carrier, &refused, &support::request("fedex_ground_return")).await
    ));
    let registration = carrier.registration().unwrap();
    let pending = support::validate(
        &carrier,
        &support::demo_details(),
        &carrier::CredentialsInput::new().with("mode", "registration"),
    );
    let outcome = registration.register(&pending.details).await.unwrap();
    printed.push(format!("{outcome:?}"));
    let pin = registration
        .check_answer("enter_pin", &json!({"pin": "000000"}))
        .unwrap();
    if let carrier::Registration::Pending { state, .. } = &outcome {
        printed.push(format!(
            "{:?}",
            registration
                .answer(&pending.details, state, "enter_pin", &pin)
                .await
        ));
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let all = format!("{logs}\n{}", printed.join("\n"));
    for secret in [
        demo::CLIENT_SECRET,
        demo::OWN_APP_CLIENT_SECRET,
        "sentinel-wrong-secret",
        "eyJ",
    ] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}
