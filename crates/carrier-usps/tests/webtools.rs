//! Web Tools `USPSReturnsLabel` purchases against the simulator's `/ShippingAPI.dll`: live and
//! certify labels, every format and receipt, authorization failures, USPS refusals, injected
//! faults (never resent once sent), a property test that any request the plugin builds is
//! accepted and read back into the same values, and — against a one-shot server that records
//! the raw request — proof that `USERID` and `PASSWORD` travel only in the form body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use carrier::{
    CarrierError, ErrorKind, LabelAddress, LabelFormat, ReturnLabelInput, ReturnLabelRequest,
    TrackingNumber,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use support::{buy, fault, key, simulator, webtools_account, webtools_carrier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use usps_sim::{Fault, demo, route};

const GROUND: &str = "usps_ground_advantage_return";

fn input(value: Value) -> ReturnLabelRequest {
    let input: ReturnLabelInput = serde_json::from_value(value).unwrap();
    ReturnLabelRequest::parse(&input).unwrap()
}

fn request(service: &str) -> ReturnLabelRequest {
    support::request(service)
}

/// The demo user's configured destination, as the reply reports it.
fn demo_destination() -> LabelAddress {
    LabelAddress {
        firm: Some(demo::RETURN_ADDRESS_FIRM.into()),
        street1: Some(demo::RETURN_ADDRESS_STREET.into()),
        city: Some(demo::RETURN_ADDRESS_CITY.into()),
        state: Some(demo::RETURN_ADDRESS_STATE.into()),
        zip5: Some(demo::RETURN_ADDRESS_ZIP.into()),
        zip4: Some(demo::RETURN_ADDRESS_ZIP4.into()),
        ..LabelAddress::default()
    }
}

#[tokio::test]
async fn a_label_is_bought_with_the_demo_webtools_account() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    let label = buy(&carrier, &account, &request(GROUND), &key("wt-first"))
        .await
        .unwrap();
    assert!(label.tracking_number.as_str().starts_with("92"));
    assert!(label.tracking_number.as_str().contains(demo::RETURNS_MID));
    assert_eq!(label.routing_code.as_deref(), Some("42063116"));
    assert_eq!(label.carrier_service, "GROUND");
    assert_eq!(label.to_address, Some(demo_destination()));
    assert_eq!(label.carrier_idempotency_key, None);
    assert!(LabelFormat::Pdf.matches(&label.label.as_ref().unwrap().bytes));
    let ledger = sim.simulator.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].api, "webtools");
    assert_eq!(ledger[0].tracking_number, label.tracking_number.as_str());
    assert_eq!(ledger[0].mail_class, "GROUND");
    assert_eq!(
        i64::try_from(ledger[0].postage_cents).unwrap(),
        label.charges.postage().minor_units()
    );
    let counters = sim.simulator.counters();
    assert_eq!(counters.route(route::WEBTOOLS).calls, 1);
    assert_eq!(counters.route(route::TOKEN).calls, 0);
}

#[tokio::test]
async fn each_service_is_sent_as_its_service_type() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    for (service, service_type) in [
        ("usps_ground_advantage_return", "GROUND"),
        ("usps_priority_mail_return", "PRIORITY"),
        ("usps_first_class_package_return", "FIRST CLASS"),
    ] {
        let label = buy(&carrier, &account, &request(service), &key(service))
            .await
            .unwrap();
        assert_eq!(label.carrier_service, service_type);
        assert_eq!(
            sim.simulator.ledger().last().unwrap().mail_class,
            service_type
        );
    }
}

#[tokio::test]
async fn express_is_refused_before_anything_is_sent() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    let error = buy(
        &carrier,
        &account,
        &request("usps_priority_mail_express_return"),
        &key("wt-express"),
    )
    .await
    .unwrap_err();
    match error {
        CarrierError::Validation(errors) => assert!(errors.names("service")),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.simulator.counters().route(route::WEBTOOLS).calls, 0);
}

#[tokio::test]
async fn a_separate_receipt_comes_back_as_its_own_document() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    let mut value = serde_json::to_value(support::input(GROUND)).unwrap();
    value["receipt"] = json!("separate_page");
    value["label_format"] = json!("TIF");
    let label = buy(&carrier, &account, &input(value), &key("wt-receipt"))
        .await
        .unwrap();
    let receipt = label.receipt.unwrap();
    assert_eq!(receipt.format, LabelFormat::Tif);
    assert!(LabelFormat::Tif.matches(&receipt.bytes));
}

#[tokio::test]
async fn a_test_mode_account_gets_an_unbilled_certify_sample() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = support::validate(
        &carrier,
        &support::webtools_test_details(),
        &support::webtools_demo_credentials(),
    );
    let label = buy(&carrier, &account, &request(GROUND), &key("wt-certify"))
        .await
        .unwrap();
    assert!(label.warnings.iter().any(|w| w.code == "test_label"));
    assert!(LabelFormat::Pdf.matches(&label.label.as_ref().unwrap().bytes));
    assert!(
        sim.simulator.ledger().is_empty(),
        "certify labels are not billed"
    );
    assert_eq!(sim.simulator.counters().route(route::WEBTOOLS).calls, 1);
}

#[tokio::test]
async fn a_certify_only_user_buys_in_test_mode_and_is_refused_live() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let credentials =
        support::webtools_credentials(demo::WEBTOOLS_CERTIFY_USER_ID, demo::WEBTOOLS_PASSWORD);
    let test = support::validate(&carrier, &support::webtools_test_details(), &credentials);
    buy(&carrier, &test, &request(GROUND), &key("wt-certify-user"))
        .await
        .unwrap();
    let live = support::validate(&carrier, &support::webtools_details(), &credentials);
    let error = buy(&carrier, &live, &request(GROUND), &key("wt-live-user"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert!(error.to_string().contains("not authorized"), "{error}");
}

#[tokio::test]
async fn a_wrong_password_is_unauthenticated_and_the_error_shows_no_secret() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = support::validate(
        &carrier,
        &support::webtools_details(),
        &support::webtools_credentials(demo::WEBTOOLS_USER_ID, "sentinel-wrong-password"),
    );
    let error = buy(&carrier, &account, &request(GROUND), &key("wt-wrong"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    let printed = format!("{error} {error:?}");
    assert!(printed.contains("80040B1A"), "{printed}");
    assert!(!printed.contains("sentinel-wrong-password"), "{printed}");
    assert!(!printed.contains(demo::WEBTOOLS_USER_ID), "{printed}");
    assert_eq!(sim.simulator.counters().route(route::WEBTOOLS).calls, 1);
}

#[tokio::test]
async fn a_refusal_carries_the_usps_number_and_description() {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    // A ship date that is "today" for us is in the past once the simulator's clock is moved
    // a week ahead: the simulator refuses it and says why.
    let mut value = serde_json::to_value(support::input(GROUND)).unwrap();
    value["ship_date"] = json!(chrono::Utc::now().date_naive().to_string());
    sim.simulator
        .advance_clock(Duration::from_secs(7 * 24 * 3600));
    let error = buy(&carrier, &account, &input(value), &key("wt-refused"))
        .await
        .unwrap_err();
    match error {
        CarrierError::Rejected {
            status, messages, ..
        } => {
            assert_eq!(status, None);
            assert_eq!(messages[0].code, "-2147219084");
            assert!(messages[0].message.contains("ShipDate"), "{messages:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.simulator.ledger().is_empty());
}

async fn label_call_fails_with(fault_kind: Fault) -> (CarrierError, usize, u64) {
    let sim = simulator().await;
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    sim.simulator.inject(fault(route::WEBTOOLS, fault_kind));
    let error = buy(&carrier, &account, &request(GROUND), &key("wt-fault"))
        .await
        .unwrap_err();
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains(demo::WEBTOOLS_PASSWORD), "{printed}");
    (
        error,
        sim.simulator.ledger().len(),
        sim.simulator.counters().route(route::WEBTOOLS).calls,
    )
}

#[tokio::test]
async fn a_server_error_after_sending_is_outcome_unknown_and_not_resent() {
    let (error, _, calls) = label_call_fails_with(Fault::Status { status: 500 }).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert_eq!(
        calls, 1,
        "a label call that may have been made is never resent"
    );
}

#[tokio::test]
async fn service_unavailable_is_unavailable_with_its_retry_after() {
    let (error, _, calls) = label_call_fails_with(Fault::Status { status: 503 }).await;
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn too_many_requests_is_rate_limited() {
    let (error, _, calls) = label_call_fails_with(Fault::RateLimit { retry_after_s: 3 }).await;
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn a_reset_after_the_label_was_made_is_outcome_unknown() {
    let (error, issued, calls) = label_call_fails_with(Fault::ResetAfterCommit).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert_eq!(issued, 1, "the label exists");
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn a_truncated_reply_is_outcome_unknown() {
    let (error, issued, calls) = label_call_fails_with(Fault::Malformed).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert_eq!(issued, 1, "the label exists");
    assert_eq!(calls, 1);
}

#[tokio::test]
async fn a_reply_slower_than_the_timeout_is_outcome_unknown() {
    let sim = simulator().await;
    let carrier = support::builder(&sim.base_url)
        .with_webtools_url(support::webtools_url(&sim.base_url))
        .with_request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let account = webtools_account(&carrier);
    sim.simulator
        .inject(fault(route::WEBTOOLS, Fault::Latency { ms: 1_000 }));
    let error = buy(&carrier, &account, &request(GROUND), &key("wt-slow"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    // One request arrived (and is still being answered); a resend would have been answered
    // before the error came back.
    let counters = sim.simulator.counters();
    assert_eq!(counters.faults_injected, 1);
    assert_eq!(counters.route(route::WEBTOOLS).calls, 0);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable_after_connect_retries() {
    // Port 9 on loopback (discard) is closed: the request is provably never sent.
    let carrier = support::builder("http://127.0.0.1:9")
        .with_webtools_url("http://127.0.0.1:9/ShippingAPI.dll")
        .build()
        .unwrap();
    let account = webtools_account(&carrier);
    let error = buy(&carrier, &account, &request(GROUND), &key("wt-down"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
    assert!(
        error
            .to_string()
            .contains("http://127.0.0.1:9/ShippingAPI.dll")
    );
}

/// A valid request for the Web Tools tables: Latin-1 text (markup characters included), every
/// optional part on or off, sides in any order, each format with the receipts it allows.
fn valid_input() -> impl Strategy<Value = Value> {
    let text = |max: usize| {
        proptest::string::string_regex(&format!(
            "[A-Za-z][A-Za-z0-9 &<>\"'.,#\\-\u{e9}\u{f1}\u{fc}]{{0,{}}}",
            max - 1
        ))
        .unwrap()
        .prop_map(|value| value.trim().to_owned())
        .prop_filter("not blank", |value| !value.is_empty())
    };
    let email = || {
        proptest::string::string_regex("[a-z][a-z0-9._-]{0,10}@[a-z]{1,8}\\.[a-z]{2,4}").unwrap()
    };
    let side =
        (1u32..=400).prop_map(|tenths| json!(rust_decimal::Decimal::new(i64::from(tenths), 1)));
    let states = carrier::address::US_STATES;
    let format_and_receipt = prop_oneof![
        Just(("PDF", "none")),
        Just(("PDF", "same_page")),
        Just(("PDF", "separate_page")),
        Just(("TIF", "none")),
        Just(("TIF", "same_page")),
        Just(("TIF", "separate_page")),
        Just(("ZPL", "none")),
    ];
    let names = prop_oneof![
        (text(20), text(20), proptest::option::of(text(50))).prop_map(|(first, last, firm)| (
            Some(first),
            Some(last),
            firm
        )),
        text(50).prop_map(|firm| (None, None, Some(firm))),
    ];
    let address = (
        names,
        text(50),
        proptest::option::of(text(50)),
        text(28),
        0..states.len(),
        "[0-9]{5}",
        proptest::option::of("[0-9]{4}"),
    );
    let parcel = (
        1u32..=11_200,
        proptest::option::of((
            side.clone(),
            side.clone(),
            side,
            proptest::option::of(1u32..=108),
        )),
        any::<bool>(),
    );
    let extras = (
        prop_oneof![
            Just("usps_ground_advantage_return"),
            Just("usps_priority_mail_return"),
            Just("usps_first_class_package_return"),
        ],
        format_and_receipt,
        proptest::option::of("[A-Z0-9-]{1,30}"),
        proptest::option::of(1u64..=2),
        proptest::option::of((
            proptest::option::of(text(50)),
            email(),
            proptest::option::of(email()),
        )),
    );
    (address, parcel, extras).prop_map(
        move |(
            ((first, last, firm), street1, street2, city, state, zip5, zip4),
            (tenth_ounces, sides, machinable),
            (service, (format, receipt), reference, days_ahead, notify),
        )| {
            let mut parcel = json!({
                "weight_oz": rust_decimal::Decimal::new(i64::from(tenth_ounces), 1),
                "machinable": machinable,
            });
            if let Some((length, width, height, girth)) = sides {
                parcel["length_in"] = length;
                parcel["width_in"] = width;
                parcel["height_in"] = height;
                if let Some(girth) = girth {
                    parcel["girth_in"] = json!(girth);
                }
            }
            let mut value = json!({
                "service": service,
                "from_address": {"first_name": first, "last_name": last, "firm": firm,
                                 "street1": street1, "street2": street2, "city": city,
                                 "state": states[state], "zip5": zip5, "zip4": zip4},
                "parcel": parcel,
                "label_format": format,
                "receipt": receipt,
                "reference": reference,
            });
            if let Some(days) = days_ahead {
                // Tomorrow or the day after: inside the window on both clocks, even across
                // midnight.
                let date = chrono::Utc::now().date_naive() + chrono::Days::new(days);
                value["ship_date"] = json!(date.to_string());
            }
            if let Some((sender_name, sender_email, recipient_email)) = notify {
                value["notify"] = json!({"sender_name": sender_name, "sender_email": sender_email,
                                         "recipient_email": recipient_email});
            }
            value
        },
    )
}

#[test]
fn any_request_the_plugin_builds_is_accepted_and_read_back_into_the_same_values() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime.block_on(simulator());
    let carrier = webtools_carrier(&sim.base_url);
    let account = webtools_account(&carrier);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let count = std::cell::Cell::new(0_usize);
    runner
        .run(&valid_input(), |value| {
            count.set(count.get() + 1);
            let request = input(value.clone());
            let label = runtime
                .block_on(buy(
                    &carrier,
                    &account,
                    &request,
                    &key(&format!("wt-prop-{}", count.get())),
                ))
                .map_err(|error| TestCaseError::fail(format!("{error}\n{value:#}")))?;
            let entry = sim.simulator.ledger().last().cloned().unwrap();
            prop_assert_eq!(&entry.tracking_number, label.tracking_number.as_str());
            prop_assert_eq!(Some(entry.routing.as_str()), label.routing_code.as_deref());
            prop_assert_eq!(&entry.mail_class, &label.carrier_service);
            prop_assert_eq!(
                i64::try_from(entry.postage_cents).unwrap(),
                label.charges.postage().minor_units()
            );
            prop_assert_eq!(entry.crid.as_str(), demo::CRID);
            prop_assert_eq!(&label.service, &request.service);
            prop_assert_eq!(label.to_address.clone(), Some(demo_destination()));
            let document = label.label.clone().unwrap();
            prop_assert_eq!(document.format, request.label_format);
            prop_assert!(request.label_format.matches(&document.bytes));
            prop_assert_eq!(
                label.receipt.is_some(),
                request.receipt == carrier::ReceiptOption::SeparatePage
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(sim.simulator.ledger().len(), count.get());
}

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
    assert_eq!(label.charges.postage().minor_units(), 844);

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
