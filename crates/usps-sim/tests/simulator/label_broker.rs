//! `imageInfo.imageType: LABEL_BROKER` on `POST /labels/v3/return-label`: printerless labels.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, error_codes, parameters};
use crate::return_label::{assert_rejected, decode, parts, vendor_label, with};

fn label_broker(include_pdf: Option<bool>) -> Value {
    with(|body| {
        body["imageInfo"] = json!({"imageType": "LABEL_BROKER"});
        if let Some(include) = include_pdf {
            body["imageInfo"]["includeLabelBrokerPDF"] = json!(include);
        }
    })
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[tokio::test]
async fn a_label_broker_label_is_a_qr_code_png_and_an_id_of_at_most_ten_characters() {
    let harness = Harness::start().await;
    let reply = vendor_label(&harness, &label_broker(None)).await;
    let id = reply["labelBrokerID"].as_str().unwrap();
    assert!(!id.is_empty() && id.len() <= 10, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    // includeLabelBrokerPDF false: "one image … as labelImage as the base64 PNG of the Label
    // Broker QR Code".
    let image = decode(reply["returnLabelImage"].as_str().unwrap());
    assert!(is_png(&image));
    assert!(reply.get("labelBrokerQR").is_none(), "{reply}");
    assert!(reply["trackingNumber"].is_string());
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].label_broker_id.as_deref(), Some(id));
    assert_eq!(ledger[0].tracking_number, reply["trackingNumber"]);
}

#[tokio::test]
async fn the_qr_code_reads_back_as_the_label_broker_id() {
    if !sim_kit::zbar::available() {
        return;
    }
    let harness = Harness::start().await;
    let reply = vendor_label(&harness, &label_broker(Some(false))).await;
    let image = decode(reply["returnLabelImage"].as_str().unwrap());
    let read = sim_kit::zbar::read(&image, "png", "qrcode").unwrap();
    assert_eq!(read, reply["labelBrokerID"].as_str().unwrap());
}

#[tokio::test]
async fn with_include_label_broker_pdf_the_qr_code_and_the_pdf_both_come_back() {
    let harness = Harness::start().await;
    let reply = vendor_label(&harness, &label_broker(Some(true))).await;
    assert!(is_png(&decode(reply["labelBrokerQR"].as_str().unwrap())));
    assert!(decode(reply["returnLabelImage"].as_str().unwrap()).starts_with(b"%PDF-"));
    assert!(reply["labelBrokerID"].is_string());
}

#[tokio::test]
async fn a_multipart_reply_carries_a_label_broker_qr_part() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .json(&label_broker(Some(true)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let parts = parts(response).await;
    let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
    assert_eq!(
        names,
        ["returnLabelMetadata", "returnLabelImage", "labelBrokerQR"]
    );
    let metadata: Value = serde_json::from_slice(&parts[0].body).unwrap();
    assert!(metadata["labelBrokerID"].is_string());
    assert_eq!(parts[1].content_type, "application/pdf");
    let qr = &parts[2];
    assert_eq!(qr.content_type, "image/png");
    assert_eq!(qr.file_name.as_deref(), Some("label-broker-qr.png"));
    assert!(is_png(&decode(std::str::from_utf8(&qr.body).unwrap())));
}

#[tokio::test]
async fn a_label_without_label_broker_has_no_label_broker_id() {
    let harness = Harness::start().await;
    let reply = vendor_label(
        &harness,
        &with(|body| body["imageInfo"]["includeLabelBrokerPDF"] = json!(true)),
    )
    .await;
    assert!(reply.get("labelBrokerID").is_none());
    assert!(reply.get("labelBrokerQR").is_none());
    assert!(harness.simulator().ledger()[0].label_broker_id.is_none());
}

#[tokio::test]
async fn label_broker_with_another_label_type_is_160007() {
    assert_rejected(
        with(|body| {
            body["imageInfo"] = json!({"imageType": "LABEL_BROKER", "labelType": "4X5LABEL"})
        }),
        "160007",
        "imageInfo.imageType",
    )
    .await;
}

#[tokio::test]
async fn label_broker_with_a_receipt_is_refused_on_receipt_option() {
    assert_rejected(
        with(|body| {
            body["imageInfo"] = json!({"imageType": "LABEL_BROKER", "receiptOption": "SAME_PAGE"})
        }),
        "SIM_INVALID_COMBINATION",
        "imageInfo.receiptOption",
    )
    .await;
}

#[tokio::test]
async fn a_pacific_destination_is_160129() {
    assert_rejected(
        with(|body| {
            body["imageInfo"] = json!({"imageType": "LABEL_BROKER"});
            body["toAddress"]["state"] = json!("GU");
            body["toAddress"]["city"] = json!("Hagatna");
            body["toAddress"]["ZIPCode"] = json!("96910");
        }),
        "160129",
        "labelType",
    )
    .await;
}

#[tokio::test]
async fn while_label_broker_is_down_its_labels_are_160368_and_others_are_issued() {
    let harness = Harness::start().await;
    harness.simulator().set_label_broker_available(false);
    let (status, codes, reply) = error_codes(harness.label(&label_broker(None)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(codes, ["160368"]);
    assert_eq!(parameters(&reply), ["imageInfo.imageType"]);
    assert!(harness.simulator().ledger().is_empty());
    vendor_label(&harness, &with(|_| {})).await;
    harness.simulator().set_label_broker_available(true);
    vendor_label(&harness, &label_broker(None)).await;
    assert_eq!(harness.simulator().ledger().len(), 2);
}

#[tokio::test]
async fn the_label_broker_control_route_switches_the_service() {
    let harness = Harness::start().await;
    let put = |available: Value| {
        harness
            .http
            .put(harness.url("/__sim/label-broker"))
            .json(&available)
            .send()
    };
    let answer = put(json!({"available": false})).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let (_, codes, _) = error_codes(harness.label(&label_broker(None)).await).await;
    assert_eq!(codes, ["160368"]);
    let read: Value = harness
        .http
        .get(harness.url("/__sim/label-broker"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, json!({"available": false}));
    let refused = put(json!({"up": true})).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    put(json!({"available": true})).await.unwrap();
    vendor_label(&harness, &label_broker(None)).await;
}
