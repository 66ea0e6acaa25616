//! `POST /labels/v3/return-label`.

use std::time::Duration;

use base64::Engine;
use carrier::tracking::TrackingNumber;
use reqwest::StatusCode;
use serde_json::{Value, json};
use usps_sim::demo;

use crate::common::{
    Harness, VENDOR_JSON, error_codes, label_body, parameters, parties_of, permit_parties,
};

pub(crate) fn decode(base64: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .unwrap()
}

/// One part of a multipart reply.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) content_type: String,
    pub(crate) transfer_encoding: Option<String>,
    pub(crate) body: Vec<u8>,
}

pub(crate) async fn parts(response: reqwest::Response) -> Vec<Part> {
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );
    let boundary = multer::parse_boundary(&content_type).unwrap();
    let mut multipart = multer::Multipart::new(response.bytes_stream(), boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        let name = field.name().unwrap().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().unwrap().to_string();
        let transfer_encoding = field
            .headers()
            .get("content-transfer-encoding")
            .map(|value| value.to_str().unwrap().to_owned());
        let body = field.bytes().await.unwrap().to_vec();
        parts.push(Part {
            name,
            file_name,
            content_type,
            transfer_encoding,
            body,
        });
    }
    parts
}

/// Posts `body` asking for vendor JSON; returns the reply body.
pub(crate) async fn vendor_label(harness: &Harness, body: &Value) -> Value {
    let response = harness.label(body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], VENDOR_JSON);
    response.json().await.unwrap()
}

async fn rejected(body: Value) -> (StatusCode, Vec<String>, Value) {
    let harness = Harness::start().await;
    error_codes(harness.label(&body).await).await
}

pub(crate) async fn assert_rejected(body: Value, code: &str, parameter: &str) {
    let (status, codes, reply) = rejected(body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert!(
        codes.iter().any(|found| found == code),
        "expected {code} in {reply}"
    );
    assert!(
        parameters(&reply).iter().any(|found| found == parameter),
        "expected parameter {parameter} in {reply}"
    );
    assert_eq!(reply["apiVersion"], "/labels/v3");
}

pub(crate) fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = label_body();
    edit(&mut body);
    body
}

#[tokio::test]
async fn vendor_json_reply_carries_metadata_and_a_pdf() {
    let harness = Harness::start().await;
    let reply = vendor_label(&harness, &label_body()).await;
    let tracking = reply["trackingNumber"].as_str().unwrap();
    assert!(TrackingNumber::parse_impb("trackingNumber", tracking).is_ok());
    assert!(
        tracking.starts_with(&format!("92021{}", demo::MID)),
        "{tracking}"
    );
    assert_eq!(reply["routingInformation"], "42063116");
    assert_eq!(reply["serviceTypeCode"], "021");
    assert_eq!(reply["zone"], "07");
    assert!(reply["postage"].as_f64().unwrap() > 0.0);
    assert!(reply["SKU"].as_str().unwrap().starts_with("DG"));
    assert_eq!(reply["weightUOM"], "lb");
    assert_eq!(reply["weight"], 1.5);
    assert_eq!(reply["labelAddress"]["city"], "ST. LOUIS");
    assert_eq!(reply["labelAddress"]["firm"], "BACKHAUL DEMO RETURNS CO.");
    assert_eq!(reply["extraServices"][0]["name"], "USPS Tracking");
    assert_eq!(reply["bannerText"], "USPS TRACKING # USPS Ship");
    assert!(reply["mailingDate"].as_str().unwrap().ends_with('Z'));
    let pdf = decode(reply["returnLabelImage"].as_str().unwrap());
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf).contains("(USPS GROUND ADVANTAGE RETURN) Tj"));
    assert!(reply.get("returnReceiptImage").is_none());
}

#[tokio::test]
async fn issued_label_is_in_the_ledger() {
    let harness = Harness::start().await;
    let reply = vendor_label(&harness, &label_body()).await;
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    let entry = &ledger[0];
    assert_eq!(
        entry.tracking_number,
        reply["trackingNumber"].as_str().unwrap()
    );
    assert_eq!(entry.routing, "42063116");
    assert_eq!(entry.crid, demo::CRID);
    assert_eq!(entry.mid, demo::MID);
    assert_eq!(entry.mail_class, "USPS_GROUND_ADVANTAGE_RETURN_SERVICE");
    assert_eq!(
        entry.postage_cents as f64 / 100.0,
        reply["postage"].as_f64().unwrap()
    );
    assert_eq!(entry.api, "v3");
    let over_http: Value = harness
        .http
        .get(harness.url("/__sim/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http[0]["tracking_number"], reply["trackingNumber"]);
}

#[tokio::test]
async fn default_reply_is_multipart_with_metadata_and_base64_pdf_parts() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let parts = parts(response).await;
    let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
    assert_eq!(names, ["returnLabelMetadata", "returnLabelImage"]);
    assert_eq!(parts[0].content_type, "application/json");
    let metadata: Value = serde_json::from_slice(&parts[0].body).unwrap();
    assert!(metadata["trackingNumber"].is_string());
    assert_eq!(parts[1].content_type, "application/pdf");
    assert_eq!(parts[1].file_name.as_deref(), Some("label.pdf"));
    assert_eq!(parts[1].transfer_encoding.as_deref(), Some("base64"));
    assert!(decode(std::str::from_utf8(&parts[1].body).unwrap()).starts_with(b"%PDF-"));
}

#[tokio::test]
async fn accept_application_json_still_gets_multipart() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .header("Accept", "application/json")
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(parts(response).await.len(), 2);
}

#[tokio::test]
async fn separate_page_receipt_is_a_third_part() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let body = with(|body| body["imageInfo"]["receiptOption"] = json!("SEPARATE_PAGE"));
    let response = harness
        .label_post(&access, &payment)
        .json(&body)
        .send()
        .await
        .unwrap();
    let parts = parts(response).await;
    assert_eq!(parts[2].name, "returnReceiptImage");
    assert_eq!(parts[2].file_name.as_deref(), Some("receipt.pdf"));
    let receipt = decode(std::str::from_utf8(&parts[2].body).unwrap());
    assert!(String::from_utf8_lossy(&receipt).contains("(USPS RETURN LABEL RECEIPT) Tj"));
}

async fn image_of(image_type: &str) -> Vec<u8> {
    let harness = Harness::start().await;
    let reply = vendor_label(
        &harness,
        &with(|body| body["imageInfo"]["imageType"] = json!(image_type)),
    )
    .await;
    decode(reply["returnLabelImage"].as_str().unwrap())
}

#[tokio::test]
async fn png_label_starts_with_the_png_signature() {
    assert!(image_of("PNG").await.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[tokio::test]
async fn tiff_label_starts_with_the_little_endian_tiff_header() {
    assert!(image_of("TIFF").await.starts_with(b"II*\0"));
}

#[tokio::test]
async fn zpl_203_label_is_one_zpl_segment() {
    let zpl = String::from_utf8(image_of("ZPL203DPI").await).unwrap();
    assert!(zpl.starts_with("^XA"));
    assert!(zpl.contains("^BC") && zpl.contains("^FD>;>842063116>8"));
    assert!(zpl.trim_end().ends_with("^XZ"));
}

#[tokio::test]
async fn zpl_300_label_is_sized_for_300_dpi() {
    let zpl = String::from_utf8(image_of("ZPL300DPI").await).unwrap();
    assert!(zpl.starts_with("^XA") && zpl.contains("^PW1200"));
}

#[tokio::test]
async fn svg_label_is_an_svg_document() {
    let svg = String::from_utf8(image_of("SVG").await).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
}

#[tokio::test]
async fn image_type_none_returns_metadata_only() {
    let harness = Harness::start().await;
    let reply = vendor_label(
        &harness,
        &with(|body| body["imageInfo"]["imageType"] = json!("NONE")),
    )
    .await;
    assert!(reply["trackingNumber"].is_string());
    assert!(reply.get("returnLabelImage").is_none());
}

#[tokio::test]
async fn zpl_separate_receipt_is_a_second_segment_not_a_part() {
    let harness = Harness::start().await;
    let body = with(|body| {
        body["imageInfo"]["imageType"] = json!("ZPL203DPI");
        body["imageInfo"]["receiptOption"] = json!("SEPARATE_PAGE");
    });
    let reply = vendor_label(&harness, &body).await;
    let zpl = String::from_utf8(decode(reply["returnLabelImage"].as_str().unwrap())).unwrap();
    assert_eq!(zpl.matches("^XA").count(), 2);
    assert!(reply.get("returnReceiptImage").is_none());
}

#[tokio::test]
async fn jpg_is_not_produced_by_the_simulator() {
    assert_rejected(
        with(|body| body["imageInfo"]["imageType"] = json!("JPG")),
        "SIM_UNSUPPORTED",
        "imageInfo.imageType",
    )
    .await;
}

#[tokio::test]
async fn epl_is_not_supported_for_return_labels() {
    assert_rejected(
        with(|body| body["imageInfo"]["imageType"] = json!("EPL300DPI")),
        "SIM_INVALID_COMBINATION",
        "imageInfo.imageType",
    )
    .await;
}

#[tokio::test]
async fn six_digit_mid_gets_a_93_tracking_number() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let parties = parties_of(
        demo::SMALL_CRID,
        demo::SMALL_MID,
        demo::SMALL_MANIFEST_MID,
        demo::SMALL_EPS_ACCOUNT,
    );
    let payment = harness.payment_token_for(&access, &parties).await;
    let reply: Value = harness
        .label_post(&access, &payment)
        .header("Accept", VENDOR_JSON)
        .json(&label_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tracking = reply["trackingNumber"].as_str().unwrap();
    assert!(
        tracking.starts_with(&format!("93021{}", demo::SMALL_MID)),
        "{tracking}"
    );
    assert!(TrackingNumber::parse_impb("t", tracking).is_ok());
}

#[tokio::test]
async fn permit_paid_label_is_issued() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let payment = harness.payment_token_for(&access, &permit_parties()).await;
    let response = harness
        .label_post(&access, &payment)
        .header("Accept", VENDOR_JSON)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn spec_example_ground_advantage_return_label_request_is_accepted() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/usps-v3/domestic-labels.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let spec: Value = serde_norway::from_str(&text).unwrap();
    let example =
        spec["components"]["examples"]["GroundAdvantageReturnLabelRequest"]["value"].clone();
    assert!(
        example.is_object(),
        "example missing from {}",
        path.display()
    );
    let harness = Harness::start().await;
    let response = harness.label(&example).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["routingInformation"], "42020004");
    assert_eq!(body["serviceTypeCode"], "020");
}

#[tokio::test]
async fn unknown_top_level_property_is_rejected() {
    assert_rejected(
        with(|body| body["shipDate"] = json!("2026-01-01")),
        "OAS_VALIDATION",
        "shipDate",
    )
    .await;
}

#[tokio::test]
async fn outbound_only_mailing_date_is_not_a_returns_package_property() {
    assert_rejected(
        with(|body| body["packageDescription"]["mailingDate"] = json!("2026-01-01")),
        "OAS_VALIDATION",
        "packageDescription.mailingDate",
    )
    .await;
}

#[tokio::test]
async fn misspelt_nested_property_is_rejected_with_a_hint() {
    let (_, codes, reply) = rejected(with(|body| {
        let zip = body["toAddress"]
            .as_object_mut()
            .unwrap()
            .remove("ZIPCode")
            .unwrap();
        body["toAddress"]["zipCode"] = zip;
    }))
    .await;
    assert!(codes.iter().all(|code| code == "OAS_VALIDATION"));
    let details = reply.to_string();
    assert!(details.contains("did you mean ZIPCode?"), "{details}");
    assert!(parameters(&reply).contains(&"toAddress.ZIPCode".to_owned()));
}

#[tokio::test]
async fn deprecated_listed_properties_are_accepted() {
    let harness = Harness::start().await;
    let body = with(|body| {
        body["imageInfo"]["suppressPostage"] = json!(true);
        body["imageInfo"]["returnLabel"] = json!(false);
        body["imageInfo"]["shipInfo"] = json!(true);
        body["packageDescription"]["packageOptions"] =
            json!({"ancillaryServiceEndorsements": "RETURN_SERVICE_REQUESTED"});
        body["packageDescription"]["mailClass"] = json!("GROUND_RETURN_SERVICE");
    });
    let response = harness.label(&body).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_city_is_rejected() {
    assert_rejected(
        with(|body| drop(body["toAddress"].as_object_mut().unwrap().remove("city"))),
        "OAS_VALIDATION",
        "toAddress.city",
    )
    .await;
}

#[tokio::test]
async fn missing_package_description_is_rejected() {
    assert_rejected(
        with(|body| drop(body.as_object_mut().unwrap().remove("packageDescription"))),
        "OAS_VALIDATION",
        "packageDescription",
    )
    .await;
}

#[tokio::test]
async fn outbound_mail_class_is_not_a_return_mail_class() {
    assert_rejected(
        with(|body| body["packageDescription"]["mailClass"] = json!("PRIORITY_MAIL")),
        "OAS_VALIDATION",
        "packageDescription.mailClass",
    )
    .await;
}

#[tokio::test]
async fn four_digit_zip_breaks_the_pattern() {
    assert_rejected(
        with(|body| body["fromAddress"]["ZIPCode"] = json!("2000")),
        "OAS_VALIDATION",
        "fromAddress.ZIPCode",
    )
    .await;
}

#[tokio::test]
async fn unknown_state_breaks_the_pattern() {
    assert_rejected(
        with(|body| body["fromAddress"]["state"] = json!("XX")),
        "OAS_VALIDATION",
        "fromAddress.state",
    )
    .await;
}

#[tokio::test]
async fn formatted_phone_breaks_the_pattern() {
    assert_rejected(
        with(|body| body["fromAddress"]["phone"] = json!("(202) 555-0123")),
        "OAS_VALIDATION",
        "fromAddress.phone",
    )
    .await;
}

#[tokio::test]
async fn street_address_over_fifty_characters_is_rejected() {
    assert_rejected(
        with(|body| body["fromAddress"]["streetAddress"] = json!("1".repeat(51))),
        "OAS_VALIDATION",
        "fromAddress.streetAddress",
    )
    .await;
}

#[tokio::test]
async fn reference_number_over_thirty_characters_is_rejected() {
    assert_rejected(
        with(|body| {
            body["packageDescription"]["customerReference"][0]["referenceNumber"] =
                json!("R".repeat(31))
        }),
        "OAS_VALIDATION",
        "packageDescription.customerReference[0].referenceNumber",
    )
    .await;
}

#[tokio::test]
async fn weight_as_a_string_is_a_type_error() {
    assert_rejected(
        with(|body| body["packageDescription"]["weight"] = json!("1.5")),
        "OAS_VALIDATION",
        "packageDescription.weight",
    )
    .await;
}

#[tokio::test]
async fn null_city_is_a_type_error() {
    assert_rejected(
        with(|body| body["fromAddress"]["city"] = Value::Null),
        "OAS_VALIDATION",
        "fromAddress.city",
    )
    .await;
}

#[tokio::test]
async fn negative_weight_is_rejected() {
    assert_rejected(
        with(|body| body["packageDescription"]["weight"] = json!(-1)),
        "OAS_VALIDATION",
        "packageDescription.weight",
    )
    .await;
}

#[tokio::test]
async fn six_extra_services_are_too_many() {
    assert_rejected(
        with(|body| {
            body["packageDescription"]["extraServices"] = json!([920, 921, 922, 924, 955, 957])
        }),
        "OAS_VALIDATION",
        "packageDescription.extraServices",
    )
    .await;
}

#[tokio::test]
async fn address_without_names_or_firm_is_160075() {
    assert_rejected(
        with(|body| {
            let from = body["fromAddress"].as_object_mut().unwrap();
            from.remove("firstName");
        }),
        "160075",
        "fromAddress.firstName, fromAddress.lastName, fromAddress.firm",
    )
    .await;
}

#[tokio::test]
async fn label_owner_not_enrolled_in_ship_returns_is_160304() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let parties = parties_of(
        demo::UNENROLLED_CRID,
        demo::UNENROLLED_MID,
        demo::UNENROLLED_MANIFEST_MID,
        demo::UNENROLLED_EPS_ACCOUNT,
    );
    let payment = harness.payment_token_for(&access, &parties).await;
    let response = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    let (status, codes, reply) = error_codes(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["160304"]);
    assert_eq!(
        reply["error"]["errors"][0]["source"]["parameter"],
        "Header: X-Payment-Authorization-Token"
    );
    assert_eq!(
        reply["error"]["errors"][0]["detail"],
        "Must be enrolled in USPS Ship Returns in order to create return labels"
    );
}

#[tokio::test]
async fn mixed_zero_and_non_zero_dimensions_are_160294() {
    let (_, codes, _) =
        rejected(with(|body| body["packageDescription"]["height"] = json!(0))).await;
    assert_eq!(codes, ["160294"]);
}

#[tokio::test]
async fn weight_over_seventy_pounds_is_160098() {
    assert_rejected(
        with(|body| body["packageDescription"]["weight"] = json!(70.5)),
        "160098",
        "packageDescription.weight, packageDescription.mailClass",
    )
    .await;
}

#[tokio::test]
async fn letters_with_ground_advantage_are_160182() {
    assert_rejected(
        with(|body| body["packageDescription"]["processingCategory"] = json!("LETTERS")),
        "160182",
        "processingCategory/mailClass",
    )
    .await;
}

#[tokio::test]
async fn flats_with_ground_advantage_are_refused() {
    assert_rejected(
        with(|body| body["packageDescription"]["processingCategory"] = json!("FLATS")),
        "SIM_INVALID_COMBINATION",
        "packageDescription.processingCategory",
    )
    .await;
}

#[tokio::test]
async fn neither_rate_indicator_nor_shape_is_160285() {
    let (_, codes, _) = rejected(with(|body| {
        drop(
            body["packageDescription"]
                .as_object_mut()
                .unwrap()
                .remove("rateIndicator"),
        )
    }))
    .await;
    assert_eq!(codes, ["160285"]);
}

#[tokio::test]
async fn shape_without_packaging_type_is_160286() {
    let (_, codes, _) = rejected(with(|body| {
        let package = body["packageDescription"].as_object_mut().unwrap();
        package.remove("rateIndicator");
        package.insert("shape".into(), json!("RECTANGULAR"));
    }))
    .await;
    assert_eq!(codes, ["160286"]);
}

#[tokio::test]
async fn shape_with_rate_indicator_is_160284() {
    let (_, codes, _) = rejected(with(|body| {
        body["packageDescription"]["shape"] = json!("RECTANGULAR")
    }))
    .await;
    assert_eq!(codes, ["160284"]);
}

#[tokio::test]
async fn packaging_type_with_rate_indicator_is_160287() {
    let (_, codes, _) = rejected(with(|body| {
        body["packageDescription"]["packagingType"] = json!("VARIABLE")
    }))
    .await;
    assert_eq!(codes, ["160287"]);
}

#[tokio::test]
async fn shape_and_packaging_type_without_rate_indicator_are_accepted() {
    let harness = Harness::start().await;
    let body = with(|body| {
        let package = body["packageDescription"].as_object_mut().unwrap();
        package.remove("rateIndicator");
        package.insert("shape".into(), json!("RECTANGULAR"));
        package.insert("packagingType".into(), json!("VARIABLE"));
    });
    assert_eq!(harness.label(&body).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn insurance_without_package_value_is_030024() {
    assert_rejected(
        with(|body| body["packageDescription"]["extraServices"] = json!([930])),
        "030024",
        "packageDescription.packageOptions.packageValue",
    )
    .await;
}

#[tokio::test]
async fn certified_mail_on_a_return_is_160010() {
    let (_, codes, _) = rejected(with(|body| {
        body["packageDescription"]["extraServices"] = json!([910])
    }))
    .await;
    assert_eq!(codes, ["160010"]);
}

#[tokio::test]
async fn four_by_four_label_is_160346() {
    let (_, codes, _) = rejected(with(|body| {
        body["imageInfo"]["labelType"] = json!("4X4LABEL")
    }))
    .await;
    assert_eq!(codes, ["160346"]);
}

#[tokio::test]
async fn ignore_bad_address_without_zip_plus_four_is_160183() {
    let (_, codes, _) = rejected(with(|body| {
        body["toAddress"]["ignoreBadAddress"] = json!(true)
    }))
    .await;
    assert_eq!(codes, ["160183"]);
}

#[tokio::test]
async fn non_json_body_is_unsupported_media_type() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .header("content-type", "text/plain")
        .body(label_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn broken_json_is_a_schema_error_on_the_body() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .header("content-type", "application/json")
        .body("{\"toAddress\":")
        .send()
        .await
        .unwrap();
    let (status, codes, reply) = error_codes(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(parameters(&reply), ["body"]);
}

#[tokio::test]
async fn missing_payment_token_header_is_400() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .http
        .post(harness.url("/labels/v3/return-label"))
        .bearer_auth(&access)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    let (status, _, reply) = error_codes(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        parameters(&reply),
        ["Header: X-Payment-Authorization-Token"]
    );
}

#[tokio::test]
async fn unknown_payment_token_is_401() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .label_post(&access, "not-a-token")
        .json(&label_body())
        .send()
        .await
        .unwrap();
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes, ["SIM_PAYMENT_TOKEN"]);
}

#[tokio::test]
async fn payment_token_expires_after_eight_hours() {
    let harness = Harness::start().await;
    let (_, payment) = harness.tokens().await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(8 * 3600 + 1));
    let access = harness.access_token().await;
    let response = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes, ["SIM_PAYMENT_TOKEN"]);
}

#[tokio::test]
async fn missing_access_token_is_401() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/labels/v3/return-label"))
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn idempotency_key_that_is_not_a_uuid_is_rejected() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let response = harness
        .label_post(&access, &payment)
        .header("X-Idempotency-Key", "order-1001")
        .json(&label_body())
        .send()
        .await
        .unwrap();
    let (status, codes, reply) = error_codes(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(parameters(&reply), ["Header: X-Idempotency-Key"]);
}

const KEY: &str = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

async fn keyed(harness: &Harness, access: &str, payment: &str, body: &Value) -> reqwest::Response {
    harness
        .label_post(access, payment)
        .header("Accept", VENDOR_JSON)
        .header("X-Idempotency-Key", KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn same_idempotency_key_and_body_returns_the_same_label_once() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    let first: Value = keyed(&harness, &access, &payment, &label_body())
        .await
        .json()
        .await
        .unwrap();
    let second: Value = keyed(&harness, &access, &payment, &label_body())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["trackingNumber"], second["trackingNumber"]);
    assert_eq!(first["returnLabelImage"], second["returnLabelImage"]);
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].idempotency_key.as_deref(), Some(KEY));
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_is_refused() {
    let harness = Harness::start().await;
    let (access, payment) = harness.tokens().await;
    assert_eq!(
        keyed(&harness, &access, &payment, &label_body())
            .await
            .status(),
        StatusCode::OK
    );
    let changed = with(|body| body["packageDescription"]["weight"] = json!(2));
    let (status, codes, _) = error_codes(keyed(&harness, &access, &payment, &changed).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["SIM_IDEMPOTENCY_CONFLICT"]);
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn labels_without_idempotency_keys_are_all_new() {
    let harness = Harness::start().await;
    let first = vendor_label(&harness, &label_body()).await;
    let second = vendor_label(&harness, &label_body()).await;
    assert_ne!(first["trackingNumber"], second["trackingNumber"]);
    assert_eq!(harness.simulator().ledger().len(), 2);
}

#[tokio::test]
async fn return_label_calls_are_counted_ok_and_error() {
    let harness = Harness::start().await;
    harness.label(&label_body()).await;
    harness.label(&with(|body| body["bogus"] = json!(1))).await;
    let count = harness.simulator().counters().route("return-label");
    assert_eq!((count.calls, count.ok, count.error), (2, 1, 1));
}
