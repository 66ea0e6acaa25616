//! The reply to `POST /labels/v3/return-label`: `ReturnLabelVendorResponse`
//! (`application/vnd.usps.labels+json`, images embedded in Base64) or
//! `ReturnLabelMultiPartResponse` (`multipart/form-data`: a `returnLabelMetadata` JSON part and
//! `returnLabelImage` / `returnReceiptImage` / `labelBrokerQR` parts whose contents "are always
//! Base64 encoded", whatever their `Content-Transfer-Encoding` says).
//!
//! A Label Broker reply (`imageType: LABEL_BROKER`) carries `labelBrokerID` in the metadata and
//! the QR code as a PNG: as `labelBrokerQR` beside the label's PDF in `returnLabelImage` when
//! `includeLabelBrokerPDF` was `true`, otherwise as the one image, `returnLabelImage`
//! (`ImageInfo.includeLabelBrokerPDF` says `labelImage`, the outbound label's name for it). The
//! spec's field descriptions also say `labelBrokerQR` is "only provided if `imageType` … is
//! `LABEL_BROKER`" without naming the PDF, so without it a `labelBrokerQR`, when present, is
//! taken as the code all the same.
//!
//! Whatever went wrong while reading a successful reply, the label was bought: the caller
//! turns these errors into `OutcomeUnknown`, and a resend with the same idempotency key returns
//! the label.
//!
//! Charges (`ReturnLabelMetadata`): `postage` is the base ("does not include insurance or other
//! extra service fees"); each priced entry of `extraServices` (`ExtraServiceResponse`: `name`,
//! `SKU`, `price`) and of `fees` (`name`, `SKU`, `price`) is a fee, its code the `SKU`; the
//! total is their sum, as the metadata states none. The prices are read from their JSON text
//! (never through `f64`). A fee list or price that cannot be read does not lose the label: it
//! is left out of the charges with a `fee_not_reported` warning. Backhaul's requests ask for no
//! extra service today (`v3::label` sends no `extraServices`), so the fees a label carries are
//! the ones USPS applies to the parcel itself (a nonstandard length or volume); the reading is
//! the same for the priced extra services a later request may ask for.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use carrier::{
    Charges, Currency, Document, Fee, LabelAddress, LabelFormat, Money, QrCode, TrackingNumber,
    Warning,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::address::ReturnedLabelAddress;
use super::label::Images;
use crate::error::{Error, Operation};

/// `ReturnLabelMetadata`, plus the embedded images of `ReturnLabelVendorResponse`.
#[derive(Deserialize)]
struct ReturnLabelVendorResponse {
    #[serde(rename = "labelAddress")]
    label_address: Option<ReturnedLabelAddress>,
    #[serde(rename = "routingInformation")]
    routing_information: Option<String>,
    #[serde(rename = "trackingNumber")]
    tracking_number: Option<String>,
    /// Kept as its JSON text so the amount never passes through `f64`.
    postage: Option<Box<RawValue>>,
    /// `ExtraServiceResponse`, read item by item ([`priced`]).
    #[serde(rename = "extraServices")]
    extra_services: Option<Box<RawValue>>,
    /// The package's fees, read like the extra services.
    fees: Option<Box<RawValue>>,
    zone: Option<serde_json::Value>,
    #[serde(rename = "returnLabelImage")]
    return_label_image: Option<String>,
    #[serde(rename = "returnReceiptImage")]
    return_receipt_image: Option<String>,
    #[serde(rename = "labelBrokerID")]
    label_broker_id: Option<String>,
    #[serde(rename = "labelBrokerQR")]
    label_broker_qr: Option<String>,
}

/// An entry of `extraServices` or `fees`: `name`, `SKU` and `price` (a JSON number).
#[derive(Deserialize)]
struct PricedEntry {
    name: Option<String>,
    #[serde(rename = "SKU")]
    sku: Option<String>,
    price: Option<Box<RawValue>>,
}

/// `labelBrokerID`'s `maxLength`.
const LABEL_BROKER_ID_MAX: usize = 10;

/// What a label reply says, in domain types.
#[derive(Debug)]
pub(crate) struct LabelReply {
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) routing_code: Option<String>,
    pub(crate) charges: Charges,
    pub(crate) zone: Option<String>,
    pub(crate) to_address: Option<LabelAddress>,
    /// The label to print: always for a label image, the PDF of a Label Broker label when it
    /// was asked for.
    pub(crate) label: Option<Document>,
    pub(crate) receipt: Option<Document>,
    /// The Label Broker QR code and its `labelBrokerID`.
    pub(crate) qr_code: Option<QrCode>,
    pub(crate) warnings: Vec<Warning>,
}

fn malformed(message: impl Into<String>) -> Error {
    Error::malformed(Operation::ReturnLabel, message)
}

/// Base64 as USPS sends it: standard alphabet, padding optional, line breaks ignored.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_image(part: &str, encoded: &[u8], format: LabelFormat) -> Result<Document, Error> {
    let compact: Vec<u8> = encoded
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = BASE64
        .decode(&compact)
        .map_err(|error| malformed(format!("{part} is not Base64: {error}")))?;
    if !format.matches(&bytes) {
        return Err(malformed(format!(
            "{part} is not a {} document",
            format.as_str()
        )));
    }
    Ok(Document {
        format,
        bytes: Bytes::from(bytes),
    })
}

/// The priced entries of the metadata's `list` (`extraServices` or `fees`) as fees; what cannot
/// be read is left out with a warning.
fn priced(list: &str, raw: Option<&RawValue>, warnings: &mut Vec<Warning>) -> Vec<Fee> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let mut not_reported = |what: String| {
        tracing::warn!(list, problem = %what, "USPS returned label charges that cannot be read; left out");
        warnings.push(Warning::new(
            "fee_not_reported",
            Some("fees"),
            format!("USPS returned {what}; it is not in fees or total"),
        ));
    };
    let entries: Option<Vec<PricedEntry>> = match serde_json::from_str(raw.get()) {
        Ok(entries) => entries,
        Err(_) => {
            not_reported(format!(
                "a {list} list that is not a list of priced entries"
            ));
            return Vec::new();
        }
    };
    let mut fees = Vec::new();
    for entry in entries.unwrap_or_default() {
        let Some(price) = entry.price.filter(|price| price.get() != "null") else {
            continue;
        };
        match Money::parse("price", price.get(), Currency::USD) {
            Ok(amount) => fees.push(Fee::new(
                entry.sku.as_deref(),
                entry.name.as_deref(),
                amount,
            )),
            Err(_) => not_reported(format!(
                "a price for {} in {list} that is not an amount in cents",
                entry.name.as_deref().unwrap_or("an entry")
            )),
        }
    }
    fees
}

fn parse_metadata(bytes: &[u8]) -> Result<ReturnLabelVendorResponse, Error> {
    serde_json::from_slice(bytes).map_err(|error| {
        malformed(format!(
            "label metadata: {}",
            super::describe_json_error(&error)
        ))
    })
}

/// The image parts of a reply, still Base64.
#[derive(Default)]
struct Encoded<'a> {
    label: Option<&'a [u8]>,
    receipt: Option<&'a [u8]>,
    label_broker_qr: Option<&'a [u8]>,
}

/// The label, receipt and QR code of a reply to a request that asked for `images`.
type Decoded = (Option<Document>, Option<Document>, Option<QrCode>);

fn decode_images(
    metadata: &ReturnLabelVendorResponse,
    encoded: &Encoded<'_>,
    images: Images,
    warnings: &mut Vec<Warning>,
) -> Result<Decoded, Error> {
    match images {
        Images::Label(format) => {
            let label_image = encoded
                .label
                .ok_or_else(|| malformed("no returnLabelImage"))?;
            let label = decode_image("returnLabelImage", label_image, format)?;
            let receipt = encoded
                .receipt
                .map(|image| decode_image("returnReceiptImage", image, format))
                .transpose()?;
            Ok((Some(label), receipt, None))
        }
        Images::LabelBroker { with_pdf } => {
            let id = metadata
                .label_broker_id
                .as_deref()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| malformed("no labelBrokerID for a LABEL_BROKER label"))?;
            let (qr_part, qr_image, label) = match (encoded.label_broker_qr, with_pdf) {
                (Some(qr), true) => {
                    let pdf = encoded
                        .label
                        .ok_or_else(|| malformed("no returnLabelImage (the Label Broker PDF)"))?;
                    let label = decode_image("returnLabelImage", pdf, LabelFormat::Pdf)?;
                    ("labelBrokerQR", qr, Some(label))
                }
                (None, true) => return Err(malformed("no labelBrokerQR beside the PDF")),
                (Some(qr), false) => ("labelBrokerQR", qr, None),
                (None, false) => {
                    let qr = encoded.label.ok_or_else(|| {
                        malformed("no returnLabelImage (the Label Broker QR code)")
                    })?;
                    ("returnLabelImage", qr, None)
                }
            };
            let image = decode_image(qr_part, qr_image, LabelFormat::Png)?;
            if id.chars().count() > LABEL_BROKER_ID_MAX {
                // The label was bought and a Post Office prints it by this id: keep it.
                tracing::warn!(label_broker_id = %id, "USPS returned a labelBrokerID longer than the spec's 10 characters");
                warnings.push(Warning::new(
                    "label_broker_id_unverified",
                    Some("qr_code.label_broker_id"),
                    format!(
                        "USPS returned a Label Broker ID of more than {LABEL_BROKER_ID_MAX} characters"
                    ),
                ));
            }
            let qr_code = QrCode::new(id, image)
                .map_err(|problem| malformed(format!("labelBrokerID: {problem}")))?;
            Ok((label, None, Some(qr_code)))
        }
    }
}

/// Turns the metadata and the image parts into a [`LabelReply`].
fn assemble(
    metadata: ReturnLabelVendorResponse,
    encoded: Encoded<'_>,
    images: Images,
) -> Result<LabelReply, Error> {
    let mut warnings = Vec::new();
    let (label, receipt, qr_code) = decode_images(&metadata, &encoded, images, &mut warnings)?;
    let raw_tracking = metadata
        .tracking_number
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| malformed("no trackingNumber"))?;
    let tracking_number = match TrackingNumber::parse_impb("trackingNumber", &raw_tracking) {
        Ok(tracking) => tracking,
        Err(problem) => {
            // The label was bought and USPS will scan what it printed: keep the number.
            tracing::warn!(tracking_number = %raw_tracking, %problem, "USPS returned a tracking number that is not a valid IMpb");
            warnings.push(Warning::new(
                "tracking_number_unverified",
                Some("tracking_number"),
                format!(
                    "USPS returned a tracking number that failed IMpb verification ({problem})"
                ),
            ));
            TrackingNumber::other("trackingNumber", &raw_tracking)
                .map_err(|_| malformed("trackingNumber is not a tracking number"))?
        }
    };
    let postage = match metadata.postage {
        Some(raw) => Money::parse("postage", raw.get(), Currency::USD)
            .map_err(|_| malformed("postage is not an amount in cents"))?,
        None => return Err(malformed("no postage")),
    };
    let mut fees = priced(
        "extraServices",
        metadata.extra_services.as_deref(),
        &mut warnings,
    );
    fees.extend(priced("fees", metadata.fees.as_deref(), &mut warnings));
    let charges = Charges::itemized(postage, fees)
        .map_err(|error| malformed(format!("the label's charges: {error}")))?;
    let zone = match metadata.zone {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(zone)) => Some(zone),
        Some(serde_json::Value::Number(zone)) => Some(zone.to_string()),
        Some(_) => return Err(malformed("zone is not a string")),
    };
    Ok(LabelReply {
        tracking_number,
        routing_code: metadata
            .routing_information
            .filter(|r| !r.trim().is_empty()),
        charges,
        zone,
        to_address: metadata
            .label_address
            .map(ReturnedLabelAddress::into_label_address),
        label,
        receipt,
        qr_code,
        warnings,
    })
}

/// Parses a `ReturnLabelVendorResponse` body.
pub(crate) fn parse_vendor(body: &[u8], images: Images) -> Result<LabelReply, Error> {
    let mut metadata = parse_metadata(body)?;
    let label = metadata.return_label_image.take();
    let receipt = metadata.return_receipt_image.take();
    let label_broker_qr = metadata.label_broker_qr.take();
    let encoded = Encoded {
        label: label.as_deref().map(str::as_bytes),
        receipt: receipt.as_deref().map(str::as_bytes),
        label_broker_qr: label_broker_qr.as_deref().map(str::as_bytes),
    };
    assemble(metadata, encoded, images)
}

/// Parses a `ReturnLabelMultiPartResponse` body with the `boundary` of its content type.
pub(crate) async fn parse_multipart(
    content_type: &str,
    body: Bytes,
    images: Images,
) -> Result<LabelReply, Error> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|error| malformed(format!("multipart content type: {error}")))?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut metadata = None;
    let mut label = None;
    let mut receipt = None;
    let mut label_broker_qr = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(malformed(format!("multipart body: {error}"))),
        };
        let name = field.name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|error| malformed(format!("multipart part: {error}")))?;
        match name.as_deref() {
            Some("returnLabelMetadata") => metadata = Some(parse_metadata(&bytes)?),
            Some("returnLabelImage") => label = Some(bytes),
            Some("returnReceiptImage") => receipt = Some(bytes),
            Some("labelBrokerQR") => label_broker_qr = Some(bytes),
            // Parts a later API version adds are not ours to read.
            _ => {}
        }
    }
    let metadata = metadata.ok_or_else(|| malformed("no returnLabelMetadata part"))?;
    let encoded = Encoded {
        label: label.as_deref(),
        receipt: receipt.as_deref(),
        label_broker_qr: label_broker_qr.as_deref(),
    };
    assemble(metadata, encoded, images)
}

/// Parses a successful reply, by its content type.
pub(crate) async fn parse(
    content_type: &str,
    body: Bytes,
    images: Images,
) -> Result<LabelReply, Error> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.starts_with("multipart/") {
        parse_multipart(content_type, body, images).await
    } else if essence == "application/vnd.usps.labels+json" || essence == "application/json" {
        parse_vendor(&body, images)
    } else {
        Err(malformed(format!(
            "unexpected content type {essence:?} for a return label"
        )))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::{Value, json};

    pub(crate) const PDF: &[u8] = b"%PDF-1.4\n% test label\n%%EOF\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n test QR code";
    const PDF_LABEL: Images = Images::Label(LabelFormat::Pdf);
    pub(crate) const TRACKING: &str = "9302012345600000007248";

    pub(crate) fn vendor_json(tracking: &str, postage: &str) -> Vec<u8> {
        format!(
            r#"{{"labelAddress": {{"firm": "BACKHAUL DEMO RETURNS CO", "streetAddress": "4120 BINGHAM AVE",
                 "city": "SAINT LOUIS", "state": "MO", "ZIPCode": "63116", "ZIPPlus4": "2520"}},
               "routingInformation": "420631162520", "trackingNumber": "{tracking}", "postage": {postage},
               "zone": "01", "SKU": "DUXP0RXXXC01010", "returnLabelImage": "{image}",
               "returnReceiptImage": "{image}"}}"#,
            image = STANDARD.encode(PDF)
        )
        .into_bytes()
    }

    pub(crate) fn multipart(boundary: &str, tracking: &str) -> Vec<u8> {
        let metadata = json!({"labelAddress": {"firm": "BACKHAUL DEMO RETURNS CO", "streetAddress": "4120 BINGHAM AVE",
            "city": "SAINT LOUIS", "state": "MO", "ZIPCode": "63116", "ZIPPlus4": "2520"},
            "routingInformation": "420631162520", "trackingNumber": tracking, "zone": "01"});
        let mut metadata = metadata.to_string();
        // The postage as USPS writes it: a JSON number.
        metadata.insert_str(metadata.len() - 1, r#","postage":8.44"#);
        let image = STANDARD.encode(PDF);
        // Base64 with line breaks, as MIME bodies often are.
        let (first, second) = image.split_at(image.len() / 2);
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelMetadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelImage\"; filename=\"label.pdf\"\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\n\r\n{first}\r\n{second}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"returnReceiptImage\"; filename=\"receipt.pdf\"\r\nContent-Type: application/pdf\r\n\r\n{image}\r\n\
             --{boundary}--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn a_vendor_reply_becomes_a_label() {
        let reply = parse_vendor(&vendor_json(TRACKING, "8.44"), PDF_LABEL).unwrap();
        assert_eq!(reply.tracking_number.as_str(), TRACKING);
        assert_eq!(reply.routing_code.as_deref(), Some("420631162520"));
        assert_eq!(reply.charges, Charges::postage_only(Money::usd_cents(844)));
        assert_eq!(reply.zone.as_deref(), Some("01"));
        assert_eq!(reply.label.unwrap().bytes.as_ref(), PDF);
        assert!(reply.qr_code.is_none());
        assert_eq!(reply.receipt.unwrap().bytes.as_ref(), PDF);
        let to = reply.to_address.unwrap();
        assert_eq!(to.zip4.as_deref(), Some("2520"));
        assert_eq!(to.street1.as_deref(), Some("4120 BINGHAM AVE"));
        assert!(reply.warnings.is_empty());
    }

    #[tokio::test]
    async fn a_multipart_reply_becomes_the_same_label() {
        let body = Bytes::from(multipart("XkxytuhvSSXDz-aV1q2YverB", TRACKING));
        let reply = parse(
            "multipart/form-data; boundary=XkxytuhvSSXDz-aV1q2YverB",
            body,
            PDF_LABEL,
        )
        .await
        .unwrap();
        let vendor = parse_vendor(&vendor_json(TRACKING, "8.44"), PDF_LABEL).unwrap();
        assert_eq!(reply.tracking_number, vendor.tracking_number);
        assert_eq!(reply.routing_code, vendor.routing_code);
        assert_eq!(reply.charges, vendor.charges);
        assert_eq!(reply.zone, vendor.zone);
        assert_eq!(reply.to_address, vendor.to_address);
        assert_eq!(reply.label, vendor.label);
        assert_eq!(reply.receipt, vendor.receipt);
    }

    fn label_broker_json(with_pdf: bool, id: Option<&str>) -> Vec<u8> {
        let mut body = json!({"routingInformation": "42063116", "trackingNumber": TRACKING,
            "postage": 8.44, "zone": "01"});
        if let Some(id) = id {
            body["labelBrokerID"] = json!(id);
        }
        if with_pdf {
            body["labelBrokerQR"] = json!(STANDARD.encode(PNG));
            body["returnLabelImage"] = json!(STANDARD.encode(PDF));
        } else {
            body["returnLabelImage"] = json!(STANDARD.encode(PNG));
        }
        body.to_string().into_bytes()
    }

    #[test]
    fn a_label_broker_reply_is_a_qr_code_and_no_label() {
        let body = label_broker_json(false, Some("LB12345"));
        let reply = parse_vendor(&body, Images::LabelBroker { with_pdf: false }).unwrap();
        let code = reply.qr_code.unwrap();
        assert_eq!(code.id, "LB12345");
        assert_eq!(code.image.format, LabelFormat::Png);
        assert_eq!(code.image.bytes.as_ref(), PNG);
        assert!(reply.label.is_none() && reply.receipt.is_none());
        assert_eq!(reply.tracking_number.as_str(), TRACKING);
    }

    #[test]
    fn a_label_broker_reply_with_its_pdf_is_a_qr_code_and_a_label() {
        let body = label_broker_json(true, Some("1234567890"));
        let reply = parse_vendor(&body, Images::LabelBroker { with_pdf: true }).unwrap();
        assert_eq!(reply.qr_code.unwrap().id, "1234567890");
        assert_eq!(reply.label.unwrap().bytes.as_ref(), PDF);
    }

    #[test]
    fn a_label_broker_qr_field_is_the_code_even_without_the_pdf() {
        let mut body: serde_json::Value =
            serde_json::from_slice(&label_broker_json(false, Some("LB12345"))).unwrap();
        body["labelBrokerQR"] = body["returnLabelImage"].clone();
        let reply = parse_vendor(
            body.to_string().as_bytes(),
            Images::LabelBroker { with_pdf: false },
        )
        .unwrap();
        assert_eq!(reply.qr_code.unwrap().image.bytes.as_ref(), PNG);
        assert!(reply.label.is_none());
    }

    #[test]
    fn a_label_broker_reply_without_its_id_or_its_qr_code_is_outcome_unknown() {
        let body = label_broker_json(false, None);
        let error: carrier::CarrierError =
            parse_vendor(&body, Images::LabelBroker { with_pdf: false })
                .unwrap_err()
                .into();
        assert_eq!(error.kind(), carrier::ErrorKind::OutcomeUnknown);
        // Asked with the PDF, a reply with only the QR code as its image is not the answer.
        let body = label_broker_json(false, Some("LB12345"));
        assert!(parse_vendor(&body, Images::LabelBroker { with_pdf: true }).is_err());
    }

    #[test]
    fn a_label_broker_id_over_ten_characters_is_kept_with_a_warning() {
        let body = label_broker_json(false, Some("LB123456789"));
        let reply = parse_vendor(&body, Images::LabelBroker { with_pdf: false }).unwrap();
        assert_eq!(reply.qr_code.unwrap().id, "LB123456789");
        assert_eq!(reply.warnings[0].code, "label_broker_id_unverified");
    }

    #[tokio::test]
    async fn a_multipart_label_broker_reply_reads_the_label_broker_qr_part() {
        let metadata =
            json!({"trackingNumber": TRACKING, "postage": 8.44, "labelBrokerID": "LB12345"});
        let boundary = "b0undary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelMetadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelImage\"; filename=\"label.pdf\"\r\nContent-Type: application/pdf\r\n\r\n{pdf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"labelBrokerQR\"; filename=\"label-broker-qr.png\"\r\nContent-Type: image/png\r\n\r\n{png}\r\n\
             --{boundary}--\r\n",
            pdf = STANDARD.encode(PDF),
            png = STANDARD.encode(PNG),
        );
        let reply = parse(
            "multipart/form-data; boundary=b0undary",
            Bytes::from(body),
            Images::LabelBroker { with_pdf: true },
        )
        .await
        .unwrap();
        let code = reply.qr_code.unwrap();
        assert_eq!(
            (code.id.as_str(), code.image.bytes.as_ref()),
            ("LB12345", PNG)
        );
        assert_eq!(reply.label.unwrap().bytes.as_ref(), PDF);
    }

    #[test]
    fn postage_keeps_its_decimal_text() {
        // 0.07 has no exact binary form; read as text it is exactly 7 cents.
        let reply = parse_vendor(&vendor_json(TRACKING, "0.07"), PDF_LABEL).unwrap();
        assert_eq!(reply.charges.postage(), Money::usd_cents(7));
        let reply = parse_vendor(&vendor_json(TRACKING, "12"), PDF_LABEL).unwrap();
        assert_eq!(reply.charges.total(), Money::usd_cents(1200));
    }

    /// The spec's `JSONReturnLabelWithEmbeddedBased64Response` example, verbatim.
    fn spec_example(name: &str) -> Value {
        let spec = crate::v3::schema::load("domestic-labels.yaml");
        spec["components"]["examples"][name]["value"].clone()
    }

    fn usd(amount: &str) -> Money {
        Money::parse("amount", amount, Currency::USD).unwrap()
    }

    #[test]
    fn the_specs_return_label_example_gives_postage_each_fee_by_sku_and_their_total() {
        let example = spec_example("JSONReturnLabelWithEmbeddedBased64Response");
        // Its images are PNG (base64 starting iVBORw0KGgo).
        let reply = parse_vendor(
            &serde_json::to_vec(&example).unwrap(),
            Images::Label(LabelFormat::Png),
        )
        .unwrap();
        let charges = &reply.charges;
        assert_eq!(charges.postage(), usd("8.75"));
        assert_eq!(
            charges.fees(),
            [
                Fee::new(Some("67890"), Some("Certified Mail"), usd("3.50")),
                Fee::new(Some("54321"), Some("Return Receipt"), usd("2.75")),
            ]
        );
        assert_eq!(charges.total(), usd("15.00"));
    }

    #[test]
    fn free_extra_services_in_the_specs_examples_are_no_fees() {
        // Like the spec's EditResponse: "USPS Tracking" at 0.0 and `fees: []`.
        let mut body: Value = serde_json::from_slice(&vendor_json(TRACKING, "26.25")).unwrap();
        // The example indents every metadata member under its `labelAddress`.
        let edit = &spec_example("EditResponse")["labelAddress"];
        body["extraServices"] = edit["extraServices"].clone();
        body["fees"] = edit["fees"].clone();
        assert_eq!(body["extraServices"][0]["name"], "USPS Tracking");
        let reply = parse_vendor(&serde_json::to_vec(&body).unwrap(), PDF_LABEL).unwrap();
        assert_eq!(reply.charges, Charges::postage_only(usd("26.25")));
        assert!(reply.warnings.is_empty());
    }

    #[tokio::test]
    async fn fees_in_a_multipart_reply_are_read_like_the_vendor_ones() {
        let body = String::from_utf8(multipart("b0undary", TRACKING)).unwrap().replacen(
            r#""postage":8.44"#,
            r#""postage":8.44,"fees":[{"name":"Nonstandard Length fee > 22 in.","SKU":"DXNXXXXXXXX2200","price":4.0}]"#,
            1,
        );
        let reply = parse(
            "multipart/form-data; boundary=b0undary",
            Bytes::from(body),
            PDF_LABEL,
        )
        .await
        .unwrap();
        assert_eq!(
            reply.charges.fees(),
            [Fee::new(
                Some("DXNXXXXXXXX2200"),
                Some("Nonstandard Length fee > 22 in."),
                usd("4.00")
            )]
        );
        assert_eq!(reply.charges.total(), usd("12.44"));
    }

    #[test]
    fn unreadable_fees_are_left_out_with_a_warning_and_the_label_kept() {
        let mut body: Value = serde_json::from_slice(&vendor_json(TRACKING, "8.44")).unwrap();
        body["extraServices"] =
            json!([{"name": "Signature Confirmation", "SKU": "DXSU", "price": 3.655}]);
        body["fees"] = json!({"name": "not a list"});
        let reply = parse_vendor(&serde_json::to_vec(&body).unwrap(), PDF_LABEL).unwrap();
        assert_eq!(reply.charges, Charges::postage_only(usd("8.44")));
        let codes: Vec<&str> = reply.warnings.iter().map(|w| w.code.as_str()).collect();
        assert_eq!(codes, ["fee_not_reported", "fee_not_reported"]);
        assert!(reply.warnings[0].message.contains("Signature Confirmation"));
    }

    #[test]
    #[tracing_test::traced_test]
    fn a_bad_check_digit_is_logged_at_warn() {
        parse_vendor(&vendor_json("9302012345600000007249", "8.44"), PDF_LABEL).unwrap();
        assert!(logs_contain("WARN"));
        assert!(logs_contain("not a valid IMpb"));
    }

    #[test]
    fn a_bad_check_digit_keeps_the_label_with_a_warning() {
        let reply =
            parse_vendor(&vendor_json("9302012345600000007249", "8.44"), PDF_LABEL).unwrap();
        assert_eq!(reply.tracking_number.as_str(), "9302012345600000007249");
        assert_eq!(reply.warnings[0].code, "tracking_number_unverified");
    }

    #[test]
    fn an_image_of_the_wrong_format_is_malformed() {
        let error = parse_vendor(
            &vendor_json(TRACKING, "8.44"),
            Images::Label(LabelFormat::Png),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Malformed { .. }));
    }

    #[test]
    fn a_truncated_vendor_reply_is_outcome_unknown() {
        let body = vendor_json(TRACKING, "8.44");
        let error: carrier::CarrierError = parse_vendor(&body[..body.len() / 2], PDF_LABEL)
            .unwrap_err()
            .into();
        assert_eq!(error.kind(), carrier::ErrorKind::OutcomeUnknown);
    }

    #[test]
    fn a_reply_without_tracking_number_is_malformed() {
        let body = br#"{"postage": 1.0, "returnLabelImage": "JVBERi0="}"#;
        assert!(parse_vendor(body, PDF_LABEL).is_err());
    }

    #[tokio::test]
    async fn a_truncated_multipart_reply_is_malformed() {
        let body = multipart("b0undary", TRACKING);
        let error = parse(
            "multipart/form-data; boundary=b0undary",
            Bytes::from(body[..body.len() / 2].to_vec()),
            PDF_LABEL,
        )
        .await
        .unwrap_err();
        assert!(matches!(error, Error::Malformed { .. }), "{error}");
    }

    #[tokio::test]
    async fn an_unexpected_content_type_is_malformed() {
        let error = parse("text/html", Bytes::from_static(b"<html>"), PDF_LABEL)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Malformed { .. }));
    }
}
