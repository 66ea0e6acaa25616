//! The Web Tools `USERID` and `PASSWORD` are secrets: they travel only in the form POST body,
//! and appear in no URL, no captured log line (every crate, every level, the logged request
//! document included), no error and no `Debug` output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use carrier::{ErrorKind, TrackingNumber};
use serde_json::json;
use support::{buy, fault, key, request, webtools_carrier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use usps_sim::{Fault, demo, route};

const GROUND: &str = "usps_ground_advantage_return";

/// What a one-shot HTTP server received: the request line, the headers and the body.
#[derive(Debug, Default)]
struct Received {
    head: String,
    body: Vec<u8>,
}

/// Serves one request on a loopback port, records it, and answers `reply` as `text/xml`.
async fn one_shot_server(reply: String) -> (String, Arc<Mutex<Received>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Received::default()));
    let record = received.clone();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        let mut buffer = [0_u8; 4096];
        let (head_end, length) = loop {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client closed the connection early");
            bytes.extend_from_slice(&buffer[..read]);
            if let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map(|value| value.trim().parse::<usize>().unwrap())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while bytes.len() < head_end + length {
            let read = socket.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the client closed the connection early");
            bytes.extend_from_slice(&buffer[..read]);
        }
        {
            let mut record = record.lock().unwrap();
            record.head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
            record.body = bytes[head_end..head_end + length].to_vec();
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    (format!("http://{address}/ShippingAPI.dll"), received)
}

/// A v1.5 reply with a (tiny) PDF label.
fn reply() -> String {
    let tracking = TrackingNumber::impb("021", demo::RETURNS_MID, 7).unwrap();
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n%%EOF\n");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<USPSReturnsLabelResponse>\
         <BarcodeNumber>42063116{tracking}</BarcodeNumber><LabelImage>{pdf}</LabelImage>\
         <RetailerFirm>Backhaul Demo Returns Co.</RetailerFirm><RetailerAddress1/>\
         <RetailerAddress2>4120 Bingham Ave</RetailerAddress2><RetailerCity>St. Louis</RetailerCity>\
         <RetailerState>MO</RetailerState><RetailerZip5>63116</RetailerZip5><RetailerZip4>1311</RetailerZip4>\
         <RDC>0069</RDC><Postage>8.44</Postage><Zone>01</Zone><CarrierRoute>C012</CarrierRoute>\
         </USPSReturnsLabelResponse>"
    )
}

#[tokio::test]
async fn the_user_id_and_password_travel_only_in_the_form_body() {
    let (url, received) = one_shot_server(reply()).await;
    let carrier = support::builder("http://127.0.0.1:9")
        .with_webtools_url(&url)
        .build()
        .unwrap();
    let account = support::validate(
        &carrier,
        &support::webtools_details(),
        &support::webtools_credentials("SENTINELUSER9", "sentinel-pass&word=1"),
    );
    let label = buy(&carrier, &account, &request(GROUND), &key("wt-capture"))
        .await
        .unwrap();
    assert_eq!(label.postage.minor_units(), 844);

    let received = received.lock().unwrap();
    let request_line = received.head.lines().next().unwrap();
    assert_eq!(request_line, "POST /ShippingAPI.dll HTTP/1.1");
    assert!(!received.head.to_ascii_lowercase().contains("sentinel"));
    assert!(
        received
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded"),
        "{}",
        received.head
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&received.body)
        .into_owned()
        .collect();
    assert_eq!(form[0], ("API".to_owned(), "USPSReturnsLabel".to_owned()));
    assert_eq!(form[1].0, "XML");
    assert!(
        form[1].1.starts_with(
            "<USPSReturnsLabelRequest USERID=\"SENTINELUSER9\" PASSWORD=\"sentinel-pass&amp;word=1\">"
        ),
        "{}",
        form[1].1
    );
    assert_eq!(form.len(), 2);
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
