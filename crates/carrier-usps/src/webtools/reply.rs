//! The `USPSReturnsLabelResponse` document (USPS Returns Label API v1.2 response tag table, with
//! the v1.5 `Retailer*` names of the destination tags), read into domain values, or the
//! `<Error>` documents it carries.
//!
//! Whatever is wrong with a reply that is not an `<Error>`, the label may exist: the caller turns
//! these errors into `OutcomeUnknown`. Once a `BarcodeNumber` is there, only what a label cannot
//! do without (the tracking number, `Postage`, the label image) fails the reply; a tracking
//! number that fails IMpb verification and informational values that do not parse are kept,
//! logged or dropped, never fatal.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use carrier::tracking::split_impb_barcode;
use carrier::{
    Charges, Currency, Document, Fee, LabelAddress, LabelFormat, Money, TrackingNumber, Warning,
};
use rust_decimal::Decimal;

use super::{Element, collapse};
use crate::error::{Error, Operation};

/// The response root; test-mode (`USPSReturnsLabelCertify`) replies may name it after that API.
const ROOTS: [&str; 2] = [
    "USPSReturnsLabelResponse",
    "USPSReturnsLabelCertifyResponse",
];

/// `USPSReturnsLabelResponse`, as text. The destination comes as `To*` (v1.2) or `Retailer*`
/// (v1.5).
#[derive(Debug, Default)]
struct USPSReturnsLabelResponse {
    barcode_number: Option<String>,
    label_image: Option<String>,
    receipt_image: Option<String>,
    to_firm: Option<String>,
    to_address1: Option<String>,
    to_address2: Option<String>,
    to_city: Option<String>,
    to_state: Option<String>,
    to_zip5: Option<String>,
    to_zip4: Option<String>,
    retailer_attn: Option<String>,
    retailer_firm: Option<String>,
    retailer_address1: Option<String>,
    retailer_address2: Option<String>,
    retailer_city: Option<String>,
    retailer_state: Option<String>,
    retailer_zip5: Option<String>,
    retailer_zip4: Option<String>,
    postnet: Option<String>,
    rdc: Option<String>,
    /// `None` when the tag is missing; `Some("")` when it is empty (`minLength=0`).
    postage: Option<String>,
    extra_services: Vec<ExtraServiceElement>,
    zone: Option<String>,
    dimensional_weight: Option<String>,
    carrier_route: Option<String>,
    log_message: Option<String>,
}

/// `ExtraServices/ExtraService` of a response.
#[derive(Debug, Default)]
struct ExtraServiceElement {
    service_id: Option<String>,
    service_name: Option<String>,
    price: Option<String>,
}

impl USPSReturnsLabelResponse {
    fn from_element(root: &Element) -> Self {
        let text = |name: &str| root.collapsed(name);
        let image = |name: &str| {
            root.child(name)
                .map(|child| child.text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        let extra_services = root
            .child("ExtraServices")
            .map(|group| {
                group
                    .children_named("ExtraService")
                    .map(|service| ExtraServiceElement {
                        service_id: service.collapsed("ServiceID"),
                        service_name: service.collapsed("ServiceName"),
                        price: service.collapsed("Price"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            barcode_number: text("BarcodeNumber"),
            label_image: image("LabelImage"),
            receipt_image: image("ReceiptImage"),
            to_firm: text("ToFirm"),
            to_address1: text("ToAddress1"),
            to_address2: text("ToAddress2"),
            to_city: text("ToCity"),
            to_state: text("ToState"),
            to_zip5: text("ToZip5"),
            to_zip4: text("ToZip4"),
            retailer_attn: text("RetailerATTN"),
            retailer_firm: text("RetailerFirm"),
            retailer_address1: text("RetailerAddress1"),
            retailer_address2: text("RetailerAddress2"),
            retailer_city: text("RetailerCity"),
            retailer_state: text("RetailerState"),
            retailer_zip5: text("RetailerZip5"),
            retailer_zip4: text("RetailerZip4"),
            postnet: text("Postnet"),
            rdc: text("RDC"),
            postage: root.child("Postage").map(|child| collapse(&child.text)),
            extra_services,
            zone: text("Zone"),
            dimensional_weight: text("DimensionalWeight"),
            carrier_route: text("CarrierRoute"),
            log_message: text("LogMessage"),
        }
    }
}

/// An extra service USPS applied, with its fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtraService {
    pub(crate) service_id: String,
    pub(crate) service_name: Option<String>,
    pub(crate) price: Option<Money>,
}

/// What a `USPSReturnsLabelResponse` says, in domain values. The images stay Base64 until
/// [`ReturnsLabelReply::documents`] decodes them for the requested format.
#[derive(Debug)]
pub(crate) struct ReturnsLabelReply {
    /// `420` + ZIP, the routing part of `BarcodeNumber`; `None` when the barcode could not be
    /// split.
    pub(crate) routing_code: Option<String>,
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) label_image: Option<String>,
    pub(crate) receipt_image: Option<String>,
    /// The destination USPS printed (`To*` / `Retailer*`).
    pub(crate) to_address: LabelAddress,
    pub(crate) retailer_attn: Option<String>,
    pub(crate) postnet: Option<String>,
    pub(crate) rdc: Option<String>,
    /// `Postage`: without extra service fees.
    pub(crate) postage: Money,
    pub(crate) extra_services: Vec<ExtraService>,
    pub(crate) zone: Option<String>,
    pub(crate) dimensional_weight: Option<Decimal>,
    pub(crate) carrier_route: Option<String>,
    pub(crate) log_message: Option<String>,
    pub(crate) warnings: Vec<Warning>,
}

fn malformed(message: impl Into<String>) -> Error {
    Error::malformed(Operation::WebToolsReturnLabel, message)
}

/// Base64 as Web Tools sends it: standard alphabet, padding optional, line breaks ignored.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_image(tag: &str, encoded: &str, format: LabelFormat) -> Result<Document, Error> {
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = BASE64
        .decode(&compact)
        .map_err(|error| malformed(format!("{tag} is not Base64: {error}")))?;
    if !format.matches(&bytes) {
        return Err(malformed(format!(
            "{tag} is not a {} document",
            format.as_str()
        )));
    }
    Ok(Document {
        format,
        bytes: Bytes::from(bytes),
    })
}

impl ReturnsLabelReply {
    /// What the label costs: `Postage` ("excludes extra service fees"), one fee per extra
    /// service with a `Price` (code `ServiceID`, name `ServiceName`), and their sum (Web Tools
    /// states no total).
    pub(crate) fn charges(&self) -> Result<Charges, Error> {
        let fees = self
            .extra_services
            .iter()
            .filter_map(|service| {
                let price = service.price?;
                Some(Fee::new(
                    Some(&service.service_id),
                    service.service_name.as_deref(),
                    price,
                ))
            })
            .collect();
        Charges::itemized(self.postage, fees)
            .map_err(|error| malformed(format!("the label's charges: {error}")))
    }

    /// The label and, when USPS sent one, the receipt, decoded and checked to be `format`
    /// documents.
    pub(crate) fn documents(
        &self,
        format: LabelFormat,
    ) -> Result<(Document, Option<Document>), Error> {
        let label = self
            .label_image
            .as_deref()
            .ok_or_else(|| malformed("no LabelImage"))?;
        let label = decode_image("LabelImage", label, format)?;
        let receipt = self
            .receipt_image
            .as_deref()
            .map(|receipt| decode_image("ReceiptImage", receipt, format))
            .transpose()?;
        Ok((label, receipt))
    }
}

/// Reads a reply body: its `<Error>` documents as a refusal, or its `USPSReturnsLabelResponse`.
pub(crate) fn parse(body: &[u8]) -> Result<ReturnsLabelReply, Error> {
    let root = super::parse_document(body).map_err(malformed)?;
    let errors = super::error::find(&root);
    if !errors.is_empty() {
        return Err(super::error::classify(
            Operation::WebToolsReturnLabel,
            errors,
        ));
    }
    if !ROOTS.contains(&root.name.as_str()) {
        return Err(malformed(format!(
            "the root element is {}, not USPSReturnsLabelResponse",
            root.name
        )));
    }
    read(USPSReturnsLabelResponse::from_element(&root))
}

fn read(response: USPSReturnsLabelResponse) -> Result<ReturnsLabelReply, Error> {
    let mut warnings = Vec::new();
    let barcode = response
        .barcode_number
        .ok_or_else(|| malformed("no BarcodeNumber"))?;
    let (routing_code, tracking_number) = match split_impb_barcode("BarcodeNumber", &barcode) {
        Ok((routing, tracking)) => (Some(routing), tracking),
        Err(problem) => {
            // The label exists and USPS will scan what it printed: keep the number.
            tracing::warn!(barcode = %barcode, %problem, "USPS Web Tools returned a BarcodeNumber that is not 420 + ZIP + a valid IMpb");
            warnings.push(Warning::new(
                "tracking_number_unverified",
                Some("tracking_number"),
                format!("USPS returned a barcode that failed IMpb verification ({problem})"),
            ));
            let tracking = TrackingNumber::other("BarcodeNumber", &barcode)
                .map_err(|_| malformed("BarcodeNumber is not a tracking number"))?;
            (None, tracking)
        }
    };
    let postage = match response.postage.as_deref() {
        None => return Err(malformed("no Postage")),
        // `minLength=0`: USPS may leave the amount out.
        Some("") => {
            warnings.push(Warning::new(
                "postage_not_reported",
                Some("postage"),
                "USPS Web Tools returned no postage amount for this label",
            ));
            Money::usd_cents(0)
        }
        Some(amount) => Money::parse("Postage", amount, Currency::USD)
            .map_err(|_| malformed("Postage is not an amount in cents"))?,
    };
    let extra_services = response
        .extra_services
        .into_iter()
        .filter_map(|service| {
            let service_id = service.service_id?;
            let price = service.price.and_then(|price| {
                Money::parse("Price", &price, Currency::USD)
                    .inspect_err(|_| {
                        tracing::warn!(service_id = %service_id, "USPS Web Tools returned an extra service Price that is not an amount; left out of the charges");
                        warnings.push(Warning::new(
                            "fee_not_reported",
                            Some("fees"),
                            format!("USPS Web Tools returned a price for extra service {service_id} that is not an amount; it is not in fees or total"),
                        ));
                    })
                    .ok()
            });
            Some(ExtraService {
                service_id,
                service_name: service.service_name,
                price,
            })
        })
        .collect();
    let dimensional_weight = response.dimensional_weight.and_then(|weight| {
        weight
            .parse::<Decimal>()
            .inspect_err(|_| {
                tracing::warn!(
                    "USPS Web Tools returned a DimensionalWeight that is not a number; ignored"
                );
            })
            .ok()
    });
    let v12 = response.to_address2.is_some() || response.to_zip5.is_some();
    let to_address = if v12 {
        LabelAddress {
            firm: response.to_firm,
            street1: response.to_address2,
            street2: response.to_address1,
            city: response.to_city,
            state: response.to_state,
            zip5: response.to_zip5,
            zip4: response.to_zip4,
            ..LabelAddress::default()
        }
    } else {
        LabelAddress {
            firm: response.retailer_firm,
            street1: response.retailer_address2,
            street2: response.retailer_address1,
            city: response.retailer_city,
            state: response.retailer_state,
            zip5: response.retailer_zip5,
            zip4: response.retailer_zip4,
            ..LabelAddress::default()
        }
    };
    Ok(ReturnsLabelReply {
        routing_code,
        tracking_number,
        label_image: response.label_image,
        receipt_image: response.receipt_image,
        to_address,
        retailer_attn: response.retailer_attn,
        postnet: response.postnet,
        rdc: response.rdc,
        postage,
        extra_services,
        zone: response.zone,
        dimensional_weight,
        carrier_route: response.carrier_route,
        log_message: response.log_message,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::{CarrierError, ErrorKind};

    /// The reference folder, from this crate's manifest directory.
    fn reference(path: &str) -> String {
        let file = format!(
            "{}/../../../shared/reference/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{file}: {error}"))
    }

    /// The guide's "XML Response:" sample, verbatim: from its root start tag to its end tag.
    fn sample_response(guide: &str) -> String {
        let after = &guide[guide.find("XML Response:").unwrap()..];
        let start = after.find("<USPSReturnsLabelResponse>").unwrap();
        let end = after.find("</USPSReturnsLabelResponse>").unwrap();
        after[start..end + "</USPSReturnsLabelResponse>".len()].to_owned()
    }

    fn v12_sample() -> String {
        sample_response(&reference("seeds/usps-returns-label-api-v1.2.txt"))
    }

    #[test]
    fn the_v1_2_sample_response_parses_to_exactly_the_documented_values() {
        let reply = parse(v12_sample().as_bytes()).unwrap();
        assert_eq!(reply.routing_code.as_deref(), Some("42021144"));
        assert_eq!(reply.tracking_number.as_str(), "9302012345600000007248");
        assert_eq!(
            reply.label_image.as_deref().map(collapse).as_deref(),
            Some("--- Base 64 Binary stream Suppressed for documentation---")
        );
        assert_eq!(reply.receipt_image, None);
        assert_eq!(
            reply.to_address,
            LabelAddress {
                firm: Some("Delivery Destination Company".into()),
                street1: Some("12000 CHERRY HILL RD".into()),
                street2: None,
                city: Some("Silver Spring".into()),
                state: Some("MD".into()),
                zip5: Some("20904".into()),
                zip4: Some("1985".into()),
                ..LabelAddress::default()
            }
        );
        assert_eq!(reply.postnet.as_deref(), Some("20904198500"));
        assert_eq!(reply.rdc.as_deref(), Some("0024"));
        assert_eq!(reply.postage, Money::usd_cents(844));
        assert_eq!(
            reply.extra_services,
            vec![ExtraService {
                service_id: "156".into(),
                service_name: Some("Signature Confirmation Electronic".into()),
                price: Some(Money::usd_cents(265)),
            }]
        );
        let charges = reply.charges().unwrap();
        assert_eq!(charges.postage(), Money::usd_cents(844));
        assert_eq!(
            charges.fees(),
            [Fee {
                code: Some("156".into()),
                name: Some("Signature Confirmation Electronic".into()),
                amount: Money::usd_cents(265),
            }]
        );
        assert_eq!(charges.total(), Money::usd_cents(1109));
        assert_eq!(reply.zone.as_deref(), Some("01"));
        assert_eq!(reply.dimensional_weight, None);
        assert_eq!(reply.carrier_route.as_deref(), Some("C031"));
        assert_eq!(reply.log_message, None);
        assert_eq!(reply.retailer_attn, None);
        assert!(reply.warnings.is_empty());
    }

    /// The guide prints "--- Base 64 Binary stream Suppressed for documentation---" where the
    /// label would be; read as a label, that text is refused.
    #[test]
    fn the_v1_2_samples_suppressed_image_is_not_a_label() {
        let reply = parse(v12_sample().as_bytes()).unwrap();
        let error: CarrierError = reply.documents(LabelFormat::Pdf).unwrap_err().into();
        assert_eq!(error.kind(), ErrorKind::OutcomeUnknown);
        assert!(
            error.to_string().contains("LabelImage is not Base64"),
            "{error}"
        );
    }

    #[test]
    fn the_v1_5_sample_response_reads_the_retailer_destination() {
        let xml = sample_response(&reference("usps-webtools/uspsreturnslabel-api-v1.5.txt"));
        let reply = parse(xml.as_bytes()).unwrap();
        assert_eq!(reply.tracking_number.as_str(), "9302012345600000007248");
        assert_eq!(
            reply.to_address,
            LabelAddress {
                firm: Some("Delivery Destination Company".into()),
                street1: Some("12000 CHERRY HILL RD".into()),
                city: Some("Silver Spring".into()),
                state: Some("MD".into()),
                zip5: Some("20904".into()),
                zip4: Some("1985".into()),
                ..LabelAddress::default()
            }
        );
        assert_eq!(reply.postnet, None);
        assert_eq!(reply.postage, Money::usd_cents(844));
    }

    fn response(children: &str) -> String {
        format!("<USPSReturnsLabelResponse>{children}</USPSReturnsLabelResponse>")
    }

    const PDF_BASE64: &str = "JVBERi0xLjQK"; // "%PDF-1.4\n"

    #[test]
    fn images_are_decoded_and_checked_against_the_format() {
        let xml = response(&format!(
            "<BarcodeNumber>420211449302012345600000007248</BarcodeNumber>\
             <LabelImage>{PDF_BASE64}</LabelImage><ReceiptImage>\nJVBERi0x\nLjQK\n</ReceiptImage>\
             <Postage>8.44</Postage>"
        ));
        let reply = parse(xml.as_bytes()).unwrap();
        let (label, receipt) = reply.documents(LabelFormat::Pdf).unwrap();
        assert_eq!(label.bytes.as_ref(), b"%PDF-1.4\n");
        assert_eq!(receipt.unwrap().bytes.as_ref(), b"%PDF-1.4\n");
        assert!(reply.documents(LabelFormat::Tif).is_err());
    }

    #[test]
    fn dimensional_weight_and_log_message_are_read() {
        let xml = response(
            "<BarcodeNumber>420211449302012345600000007248</BarcodeNumber><Postage>8.44</Postage>\
             <DimensionalWeight>14.0</DimensionalWeight><LogMessage>Web Tools will retire.</LogMessage>",
        );
        let reply = parse(xml.as_bytes()).unwrap();
        assert_eq!(reply.dimensional_weight, Some(Decimal::new(140, 1)));
        assert_eq!(reply.log_message.as_deref(), Some("Web Tools will retire."));
    }

    #[test]
    fn an_empty_postage_is_zero_with_a_warning() {
        let xml =
            response("<BarcodeNumber>420211449302012345600000007248</BarcodeNumber><Postage/>");
        let reply = parse(xml.as_bytes()).unwrap();
        assert_eq!(reply.postage, Money::usd_cents(0));
        assert_eq!(reply.warnings[0].code, "postage_not_reported");
    }

    #[test]
    fn extra_services_without_a_readable_price_are_left_out_with_a_warning() {
        let xml = response(
            "<BarcodeNumber>420211449302012345600000007248</BarcodeNumber><Postage>8.44</Postage>\
             <ExtraServices><ExtraService><ServiceID>156</ServiceID>\
             <ServiceName>Signature Confirmation Electronic</ServiceName><Price>$2.65</Price>\
             </ExtraService><ExtraService><ServiceID>100</ServiceID><ServiceName>Insurance</ServiceName>\
             </ExtraService></ExtraServices>",
        );
        let reply = parse(xml.as_bytes()).unwrap();
        let charges = reply.charges().unwrap();
        assert!(charges.fees().is_empty());
        assert_eq!(charges.total(), Money::usd_cents(844));
        assert_eq!(reply.warnings.len(), 1);
        assert_eq!(reply.warnings[0].code, "fee_not_reported");
        assert!(reply.warnings[0].message.contains("156"));
    }

    #[test]
    fn a_barcode_with_a_bad_check_digit_is_kept_with_a_warning() {
        let xml = response(
            "<BarcodeNumber>420211449302012345600000007249</BarcodeNumber><Postage>8.44</Postage>",
        );
        let reply = parse(xml.as_bytes()).unwrap();
        assert_eq!(reply.routing_code, None);
        assert_eq!(
            reply.tracking_number.as_str(),
            "420211449302012345600000007249"
        );
        assert_eq!(reply.warnings[0].code, "tracking_number_unverified");
    }

    #[test]
    fn replies_without_what_a_label_needs_are_outcome_unknown() {
        for xml in [
            response("<Postage>8.44</Postage>"),
            response("<BarcodeNumber>420211449302012345600000007248</BarcodeNumber>"),
            response(
                "<BarcodeNumber>420211449302012345600000007248</BarcodeNumber><Postage>$8.44</Postage>",
            ),
            "<USPSReturnsLabelResponse><BarcodeNumber>4202114493".to_owned(),
            "<SomethingElse/>".to_owned(),
            "not xml at all".to_owned(),
        ] {
            let error: CarrierError = parse(xml.as_bytes()).unwrap_err().into();
            assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{xml}");
        }
    }

    #[test]
    fn an_error_nested_in_the_response_wins_over_its_content() {
        let xml = response(
            "<BarcodeNumber>420211449302012345600000007248</BarcodeNumber>\
             <Error><Number>-2147219401</Number><Description>Address Not Found.</Description></Error>",
        );
        let error: CarrierError = parse(xml.as_bytes()).unwrap_err().into();
        assert_eq!(error.kind(), ErrorKind::Rejected);
    }

    #[test]
    fn a_certify_response_root_is_accepted() {
        let xml = "<USPSReturnsLabelCertifyResponse><BarcodeNumber>420211449302012345600000007248\
                   </BarcodeNumber><Postage>8.44</Postage></USPSReturnsLabelCertifyResponse>";
        assert!(parse(xml.as_bytes()).is_ok());
    }
}
