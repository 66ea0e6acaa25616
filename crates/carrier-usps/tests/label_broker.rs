//! Printerless labels (`label_delivery: qr_code`, USPS Label Broker) bought from the USPS
//! simulator: the QR code and its id in both reply formats, the PDF when a format is named,
//! and USPS's Label Broker refusals classified.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use carrier::{CarrierError, ErrorKind, LabelDelivery, LabelFormat, ReturnLabelRequest};
use carrier_usps::ReplyFormat;
use serde_json::json;
use support::{buy, demo_account, input, key, simulator};

const GROUND: &str = "usps_ground_advantage_return";

fn qr_request(format: Option<&str>) -> ReturnLabelRequest {
    let mut input = input(GROUND);
    input.label_delivery = Some("qr_code".to_owned());
    input.label_format = format.map(str::to_owned);
    ReturnLabelRequest::parse(&input).unwrap()
}

#[tokio::test]
async fn a_qr_code_label_comes_back_as_the_code_in_both_reply_formats() {
    let sim = simulator().await;
    for format in [ReplyFormat::VendorJson, ReplyFormat::Multipart] {
        let carrier = support::carrier_with_format(&sim.base_url, format);
        let account = demo_account(&carrier);
        let label = buy(
            &carrier,
            &account,
            &qr_request(None),
            &key(&format!("qr-{format:?}")),
        )
        .await
        .unwrap();
        let code = label.qr_code.expect("a QR code");
        assert!(LabelFormat::Png.matches(&code.image.bytes), "{format:?}");
        assert!(label.label.is_none(), "{format:?}: nothing to print");
        let entry = sim
            .simulator
            .ledger()
            .into_iter()
            .find(|entry| entry.tracking_number == label.tracking_number.as_str())
            .unwrap();
        assert_eq!(entry.label_broker_id.as_deref(), Some(code.id.as_str()));
    }
}

#[tokio::test]
async fn a_qr_code_with_pdf_named_comes_with_the_printable_pdf() {
    let sim = simulator().await;
    for format in [ReplyFormat::VendorJson, ReplyFormat::Multipart] {
        let carrier = support::carrier_with_format(&sim.base_url, format);
        let account = demo_account(&carrier);
        let label = buy(
            &carrier,
            &account,
            &qr_request(Some("PDF")),
            &key(&format!("qr-pdf-{format:?}")),
        )
        .await
        .unwrap();
        let code = label.qr_code.expect("a QR code");
        assert!(LabelFormat::Png.matches(&code.image.bytes));
        let pdf = label.label.expect("the PDF");
        assert_eq!(pdf.format, LabelFormat::Pdf);
        assert!(LabelFormat::Pdf.matches(&pdf.bytes));
    }
}

#[tokio::test]
async fn the_qr_code_reads_as_its_label_broker_id() {
    if !sim_kit::zbar::available() {
        return;
    }
    let sim = simulator().await;
    let carrier = support::carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let label = buy(&carrier, &account, &qr_request(None), &key("qr-read"))
        .await
        .unwrap();
    let code = label.qr_code.unwrap();
    assert_eq!(
        sim_kit::zbar::read(&code.image.bytes, "png", "qrcode").unwrap(),
        code.id
    );
}

#[tokio::test]
async fn a_return_address_label_broker_cannot_serve_is_refused_naming_label_delivery() {
    let sim = simulator().await;
    let carrier = support::carrier(&sim.base_url);
    let mut details = support::eps_details();
    details["return_address"] = json!({"firm": "Backhaul Guam Returns", "street1": "120 Father Duenas Ave",
        "city": "Hagatna", "state": "GU", "zip5": "96910"});
    let account = support::validate(&carrier, &details, &support::own_app());
    let error = buy(&carrier, &account, &qr_request(None), &key("qr-guam"))
        .await
        .unwrap_err();
    let CarrierError::Rejected { messages, .. } = &error else {
        panic!("expected a rejection, got {error:?}");
    };
    assert_eq!(messages[0].code, "160129");
    assert_eq!(messages[0].field.as_deref(), Some("label_delivery"));
    assert!(sim.simulator.ledger().is_empty());
    // The same address takes a label to print.
    let mut download = qr_request(None);
    download.label_delivery = LabelDelivery::Download;
    buy(&carrier, &account, &download, &key("guam-download"))
        .await
        .unwrap();
}

#[tokio::test]
async fn label_broker_down_is_unavailable_and_a_retry_succeeds_once_it_is_back() {
    let sim = simulator().await;
    let carrier = support::carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator.set_label_broker_available(false);
    let error = buy(&carrier, &account, &qr_request(None), &key("qr-down"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
    assert!(error.is_retryable());
    assert!(sim.simulator.ledger().is_empty());
    sim.simulator.set_label_broker_available(true);
    let label = buy(&carrier, &account, &qr_request(None), &key("qr-down"))
        .await
        .unwrap();
    assert!(label.qr_code.is_some());
}

#[tokio::test]
async fn a_qr_code_with_a_receipt_or_a_png_is_refused_before_sending() {
    let sim = simulator().await;
    let carrier = support::carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let mut receipt = qr_request(None);
    receipt.receipt = carrier::ReceiptOption::SamePage;
    let png = qr_request(Some("PNG"));
    for (request, field) in [(receipt, "receipt"), (png, "label_format")] {
        match buy(&carrier, &account, &request, &key(field)).await {
            Err(CarrierError::Validation(errors)) => assert!(errors.names(field), "{errors}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(
        sim.simulator
            .counters()
            .routes
            .get("return-label")
            .map_or(0, |count| count.calls),
        0
    );
}
