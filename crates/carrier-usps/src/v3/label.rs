//! The `ReturnLabelRequest` body of `POST /labels/v3/return-label` (Labels API 3.9.13,
//! domestic-labels.yaml), built from a carrier-neutral request and checked against the spec's
//! rules before anything is sent; every problem is reported in our field names.
//!
//! | ours | USPS |
//! |---|---|
//! | account `return_address` | `toAddress` |
//! | `from_address` | `fromAddress` |
//! | `service` | `packageDescription.mailClass` |
//! | `parcel.weight_oz` | `weight` in `lb` (exact: ounces / 16), at most 70 lb |
//! | `parcel.length_in` … `girth_in` | `length`, `width`, `height` (required for returns), `girth` |
//! | sides over 12 in | `rateIndicator` `DR` (rectangular) / `DN` (with girth), else `SP` |
//! | `parcel.machinable` | `processingCategory` `MACHINABLE` / `NONSTANDARD` |
//! | `label_format` | `imageInfo.imageType` `PDF` `PNG` `TIFF` `ZPL203DPI`, `labelType` `4X6LABEL` |
//! | `receipt` | `imageInfo.receiptOption` `NONE` `SAME_PAGE` `SEPARATE_PAGE` |
//! | `reference` | `customerReference[0].referenceNumber` (printed) |
//! | `label_delivery: qr_code` | `imageInfo.imageType` `LABEL_BROKER`, `labelType` `4X6LABEL`, `receiptOption` `NONE` |
//! | `label_format` named with `qr_code` (PDF only) | `imageInfo.includeLabelBrokerPDF` `true` (else `false`) |
//!
//! ## Printerless labels (USPS Label Broker)
//!
//! `imageType: LABEL_BROKER` asks USPS for a QR code the customer shows at a Post Office, which
//! prints the label ("Only supports labelType of `4X6LABEL` or `6X4LABEL` and receiptOption of
//! `NONE`"; the return-label inventory's 160007 narrows it to `4X6LABEL`, which is what we
//! send). The reply's image is that QR code as a PNG — unless `includeLabelBrokerPDF` is
//! `true`, when the QR code comes as `labelBrokerQR` and the image is "the base64 PDF of the
//! Label stored in Label Broker". So the only printable copy a QR code can come with is a PDF:
//! `label_format` named with `qr_code` must be `PDF` (refused on `label_format` otherwise), and
//! left out it means the QR code alone. A receipt cannot come with one (refused on `receipt`).

use carrier::{
    LabelDelivery, LabelFormat, ReceiptOption, ReturnLabelRequest as Request, ServiceInfo,
    ValidationErrors, Warning,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use super::address::{self, DomesticLabelAddress};
use crate::account::UspsAccount;

/// One USPS return service: our code, its name, the v3 mail class it is sent as.
pub(crate) struct Service {
    pub(crate) info: ServiceInfo,
    pub(crate) mail_class: &'static str,
}

pub(crate) const GROUND_ADVANTAGE_RETURN: &str = "usps_ground_advantage_return";
pub(crate) const PRIORITY_MAIL_RETURN: &str = "usps_priority_mail_return";
pub(crate) const PRIORITY_MAIL_EXPRESS_RETURN: &str = "usps_priority_mail_express_return";
pub(crate) const FIRST_CLASS_PACKAGE_RETURN: &str = "usps_first_class_package_return";

/// The services, in the order they are listed.
pub(crate) static SERVICES: [Service; 4] = [
    Service {
        info: ServiceInfo {
            code: GROUND_ADVANTAGE_RETURN,
            name: "USPS Ground Advantage Return Service",
            superseded_by: None,
        },
        mail_class: "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
    },
    Service {
        info: ServiceInfo {
            code: PRIORITY_MAIL_RETURN,
            name: "Priority Mail Return Service",
            superseded_by: None,
        },
        mail_class: "PRIORITY_MAIL_RETURN_SERVICE",
    },
    Service {
        info: ServiceInfo {
            code: PRIORITY_MAIL_EXPRESS_RETURN,
            name: "Priority Mail Express Return Service",
            superseded_by: None,
        },
        mail_class: "PRIORITY_MAIL_EXPRESS_RETURN_SERVICE",
    },
    // First-Class Package Return Service became USPS Ground Advantage Return Service in July
    // 2023; USPS converts the deprecated mail class itself. We send the successor and say so.
    Service {
        info: ServiceInfo {
            code: FIRST_CLASS_PACKAGE_RETURN,
            name: "First-Class Package Return Service",
            superseded_by: Some(GROUND_ADVANTAGE_RETURN),
        },
        mail_class: "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
    },
];

pub(crate) fn service(code: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.info.code == code)
}

/// The heaviest parcel USPS carries: 70 lb.
pub(crate) const MAX_WEIGHT_OZ: Decimal = Decimal::from_parts(1120, 0, 0, false, 0);
/// Over this many inches on any side, dimensional pricing applies (`DR`/`DN`).
const DIMENSIONAL_THRESHOLD_IN: Decimal = Decimal::from_parts(12, 0, 0, false, 0);
/// `CustomerReference.referenceNumber` `maxLength`.
pub(crate) const REFERENCE_MAX: usize = 30;

#[derive(Serialize)]
struct ReturnLabelRequest<'a> {
    #[serde(rename = "imageInfo")]
    image_info: ImageInfo,
    #[serde(rename = "toAddress")]
    to_address: DomesticLabelAddress<'a>,
    #[serde(rename = "fromAddress")]
    from_address: DomesticLabelAddress<'a>,
    #[serde(rename = "packageDescription")]
    package_description: ReturnsPackageDescription<'a>,
}

#[derive(Serialize)]
struct ImageInfo {
    #[serde(rename = "imageType")]
    image_type: &'static str,
    #[serde(rename = "labelType")]
    label_type: &'static str,
    #[serde(rename = "receiptOption")]
    receipt_option: &'static str,
    /// Sent with `LABEL_BROKER` only ("Applicable only when `imageType` is `LABEL_BROKER`").
    #[serde(
        rename = "includeLabelBrokerPDF",
        skip_serializing_if = "Option::is_none"
    )]
    include_label_broker_pdf: Option<bool>,
}

/// `imageInfo.imageType` of a printerless label.
const LABEL_BROKER: &str = "LABEL_BROKER";

#[derive(Serialize)]
struct ReturnsPackageDescription<'a> {
    #[serde(rename = "mailClass")]
    mail_class: &'static str,
    #[serde(rename = "rateIndicator")]
    rate_indicator: &'static str,
    #[serde(rename = "weightUOM")]
    weight_uom: &'static str,
    weight: Box<RawValue>,
    #[serde(rename = "dimensionsUOM")]
    dimensions_uom: &'static str,
    length: Box<RawValue>,
    width: Box<RawValue>,
    height: Box<RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    girth: Option<Box<RawValue>>,
    #[serde(rename = "processingCategory")]
    processing_category: &'static str,
    #[serde(rename = "customerReference", skip_serializing_if = "Option::is_none")]
    customer_reference: Option<[DomesticCustomerReference<'a>; 1]>,
}

#[derive(Serialize)]
struct DomesticCustomerReference<'a> {
    #[serde(rename = "referenceNumber")]
    reference_number: &'a str,
    #[serde(rename = "printReferenceNumber")]
    print_reference_number: bool,
}

/// A JSON number with exactly the decimal's digits (no trip through `f64`).
fn number(value: Decimal) -> Option<Box<RawValue>> {
    RawValue::from_string(value.normalize().to_string()).ok()
}

/// The label formats a v3 return label comes in (domestic-labels.yaml also has `JPG`, `GIF`
/// and `EPL300DPI` images, which the platform does not ask for).
pub(crate) const LABEL_FORMATS: [LabelFormat; 4] = [
    LabelFormat::Pdf,
    LabelFormat::Png,
    LabelFormat::Tif,
    LabelFormat::Zpl,
];

/// `imageInfo.imageType` for a label format, when v3 is asked for it.
pub(crate) fn image_type(format: LabelFormat) -> Option<&'static str> {
    match format {
        LabelFormat::Pdf => Some("PDF"),
        LabelFormat::Png => Some("PNG"),
        LabelFormat::Tif => Some("TIFF"),
        LabelFormat::Zpl => Some("ZPL203DPI"),
        _ => None,
    }
}

fn receipt_option(receipt: ReceiptOption) -> &'static str {
    match receipt {
        ReceiptOption::SamePage => "SAME_PAGE",
        ReceiptOption::SeparatePage => "SEPARATE_PAGE",
        _ => "NONE",
    }
}

/// The images a request asks for, so that the reply's are read as what they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Images {
    /// A label (and a receipt, if one was asked for) in this format.
    Label(LabelFormat),
    /// `LABEL_BROKER`: the QR code, and the label as PDF when `includeLabelBrokerPDF` is true.
    LabelBroker { with_pdf: bool },
}

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct PreparedLabel {
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    pub(crate) mail_class: &'static str,
    pub(crate) images: Images,
    pub(crate) warnings: Vec<Warning>,
}

/// Builds and checks the `ReturnLabelRequest` for `request` with `account`.
pub(crate) fn prepare(
    account: &UspsAccount,
    request: &Request,
) -> Result<PreparedLabel, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut warnings = Vec::new();

    let service = service(request.service.as_str());
    match service {
        None => errors.push(
            "service",
            format!(
                "is not a USPS return service; use one of {}",
                SERVICES
                    .iter()
                    .map(|s| s.info.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Some(service) => {
            if let Some(successor) = service.info.superseded_by {
                warnings.push(Warning::new(
                    "service_superseded",
                    Some("service"),
                    format!(
                        "USPS replaced {} with USPS Ground Advantage Return Service; the label was bought as {successor}",
                        service.info.name
                    ),
                ));
            }
        }
    }

    address::check("from_address", &request.from_address, &mut errors);
    address::check(
        "details.return_address",
        &account.return_address,
        &mut errors,
    );

    let parcel = &request.parcel;
    if parcel.weight_oz > MAX_WEIGHT_OZ {
        errors.push(
            "parcel.weight_oz",
            "must be at most 1120 oz (70 lb), the USPS limit",
        );
    }
    let weight = number(parcel.weight_lb());
    if weight.is_none() {
        errors.push("parcel.weight_oz", "must be a plain decimal number");
    }
    let dimensions = match parcel.dimensions {
        Some(dimensions) => Some(dimensions),
        None => {
            for field in ["length_in", "width_in", "height_in"] {
                errors.push(
                    format!("parcel.{field}"),
                    "is required: USPS v3 return labels need length, width and height",
                );
            }
            None
        }
    };

    let qr_code = request.label_delivery == LabelDelivery::QrCode;
    let image = image_type(request.label_format);
    if image.is_none() {
        errors.push(
            "label_format",
            format!(
                "{} is not offered for USPS labels; use PDF, PNG, TIF or ZPL",
                request.label_format.as_str()
            ),
        );
    }
    match request.label_delivery {
        LabelDelivery::Download => {}
        LabelDelivery::QrCode => {
            if request.label_with_qr_code && request.label_format != LabelFormat::Pdf {
                errors.push(
                    "label_format",
                    format!(
                        "{} cannot come with a USPS Label Broker QR code, whose printable copy is a PDF; \
                         send PDF to get both, or leave label_format out for the QR code alone",
                        request.label_format.as_str()
                    ),
                );
            }
            if request.receipt != ReceiptOption::None {
                errors.push(
                    "receipt",
                    "must be none with label_delivery qr_code: USPS Label Broker prints no receipt",
                );
            }
        }
        other => errors.push(
            "label_delivery",
            format!(
                "{} is not offered for USPS labels; use download or qr_code",
                other.as_str()
            ),
        ),
    }
    if !qr_code
        && request.label_format == LabelFormat::Zpl
        && request.receipt == ReceiptOption::SamePage
    {
        errors.push(
            "receipt",
            "same_page is not available with ZPL labels; use separate_page or none",
        );
    }

    let reference = request.reference.as_deref();
    if let Some(reference) = reference {
        if reference.chars().count() > REFERENCE_MAX {
            errors.push(
                "reference",
                format!("must be at most {REFERENCE_MAX} characters for USPS"),
            );
        }
    }

    let notify = &request.notify;
    if notify.sender_email.is_some()
        || notify.recipient_email.is_some()
        || notify.sender_name.is_some()
        || notify.recipient_name.is_some()
    {
        warnings.push(Warning::new(
            "notification_not_sent",
            Some("notify"),
            "USPS v3 return labels send no email; notify the customer yourself",
        ));
    }
    if request.ship_date.is_some() {
        warnings.push(Warning::new(
            "ship_date_ignored",
            Some("ship_date"),
            "USPS v3 return labels carry no mailing date; the label is valid whenever it is mailed",
        ));
    }

    let (Some(service), Some(weight), Some(dimensions)) = (service, weight, dimensions) else {
        return Err(errors);
    };
    let sides = [
        ("parcel.length_in", dimensions.length_in),
        ("parcel.width_in", dimensions.width_in),
        ("parcel.height_in", dimensions.height_in),
    ];
    let mut numbers = Vec::with_capacity(3);
    for (field, value) in sides {
        match number(value) {
            Some(raw) => numbers.push(raw),
            None => errors.push(field, "must be a plain decimal number"),
        }
    }
    let girth = match dimensions.girth_in.map(number) {
        Some(None) => {
            errors.push("parcel.girth_in", "must be a plain decimal number");
            None
        }
        Some(Some(raw)) => Some(raw),
        None => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let [length, width, height]: [Box<RawValue>; 3] = match numbers.try_into() {
        Ok(numbers) => numbers,
        Err(_) => return Err(errors),
    };
    let rate_indicator = if dimensions.longest_side() > DIMENSIONAL_THRESHOLD_IN {
        if dimensions.is_rectangular() {
            "DR"
        } else {
            "DN"
        }
    } else {
        "SP"
    };
    let (image_info, images) = if qr_code {
        let with_pdf = request.label_with_qr_code;
        let info = ImageInfo {
            image_type: LABEL_BROKER,
            label_type: "4X6LABEL",
            receipt_option: "NONE",
            include_label_broker_pdf: Some(with_pdf),
        };
        (info, Images::LabelBroker { with_pdf })
    } else {
        let info = ImageInfo {
            image_type: image.unwrap_or_default(),
            label_type: "4X6LABEL",
            receipt_option: receipt_option(request.receipt),
            include_label_broker_pdf: None,
        };
        (info, Images::Label(request.label_format))
    };
    let body = ReturnLabelRequest {
        image_info,
        to_address: DomesticLabelAddress::from_address(&account.return_address),
        from_address: DomesticLabelAddress::from_address(&request.from_address),
        package_description: ReturnsPackageDescription {
            mail_class: service.mail_class,
            rate_indicator,
            weight_uom: "lb",
            weight,
            dimensions_uom: "in",
            length,
            width,
            height,
            girth,
            processing_category: if parcel.machinable {
                "MACHINABLE"
            } else {
                "NONSTANDARD"
            },
            customer_reference: reference.map(|reference| {
                [DomesticCustomerReference {
                    reference_number: reference,
                    print_reference_number: true,
                }]
            }),
        },
    };
    let body = serde_json::to_vec(&body).map_err(|error| {
        ValidationErrors::single("parcel", format!("could not be encoded: {error}"))
    })?;
    Ok(PreparedLabel {
        body,
        mail_class: service.mail_class,
        images,
        warnings,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::v3::payment::tests::{account, eps};
    use carrier::{ReturnLabelInput, ReturnLabelRequest};
    use serde_json::{Value, json};

    pub(crate) fn input() -> Value {
        json!({
            "service": "usps_ground_advantage_return",
            "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                             "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
            "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
            "reference": "RMA-1001"
        })
    }

    fn request(value: Value) -> ReturnLabelRequest {
        let input: ReturnLabelInput = serde_json::from_value(value).unwrap();
        ReturnLabelRequest::parse(&input).unwrap()
    }

    fn prepared(value: Value) -> Result<PreparedLabel, ValidationErrors> {
        prepare(&account(eps(), None, None), &request(value))
    }

    fn body(value: Value) -> Value {
        serde_json::from_slice(&prepared(value).unwrap().body).unwrap()
    }

    #[test]
    fn the_api_example_maps_onto_a_return_label_request() {
        let body = body(input());
        assert_eq!(
            body,
            json!({
                "imageInfo": {"imageType": "PDF", "labelType": "4X6LABEL", "receiptOption": "NONE"},
                "toAddress": {"firm": "Backhaul Demo Returns Co.", "streetAddress": "4120 Bingham Ave",
                              "city": "St. Louis", "state": "MO", "ZIPCode": "63116"},
                "fromAddress": {"firstName": "Jane", "lastName": "Doe", "streetAddress": "1100 Wyoming St",
                                "secondaryAddress": "Ste 150", "city": "Saint Louis", "state": "MO",
                                "ZIPCode": "63118"},
                "packageDescription": {"mailClass": "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
                    "rateIndicator": "SP", "weightUOM": "lb", "weight": 1.5, "dimensionsUOM": "in",
                    "length": 10, "width": 7, "height": 4, "processingCategory": "MACHINABLE",
                    "customerReference": [{"referenceNumber": "RMA-1001", "printReferenceNumber": true}]}
            })
        );
    }

    #[test]
    fn weight_is_sent_as_exact_pounds() {
        let mut value = input();
        value["parcel"]["weight_oz"] = json!(24.1);
        let prepared = prepared(value).unwrap();
        let text = String::from_utf8(prepared.body).unwrap();
        assert!(text.contains(r#""weight":1.50625"#), "{text}");
    }

    #[test]
    fn each_service_maps_to_its_mail_class() {
        for (code, class) in [
            (
                "usps_ground_advantage_return",
                "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
            ),
            ("usps_priority_mail_return", "PRIORITY_MAIL_RETURN_SERVICE"),
            (
                "usps_priority_mail_express_return",
                "PRIORITY_MAIL_EXPRESS_RETURN_SERVICE",
            ),
            (
                "usps_first_class_package_return",
                "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
            ),
        ] {
            let mut value = input();
            value["service"] = json!(code);
            assert_eq!(body(value)["packageDescription"]["mailClass"], json!(class));
        }
    }

    #[test]
    fn first_class_package_return_warns_that_it_was_superseded() {
        let mut value = input();
        value["service"] = json!("usps_first_class_package_return");
        let warnings = prepared(value).unwrap().warnings;
        assert_eq!(warnings[0].code, "service_superseded");
        assert_eq!(warnings[0].field.as_deref(), Some("service"));
    }

    #[test]
    fn an_unknown_service_is_a_service_error() {
        let mut value = input();
        value["service"] = json!("usps_media_mail");
        assert!(prepared(value).unwrap_err().names("service"));
    }

    #[test]
    fn label_formats_map_to_image_types() {
        for (format, image) in [
            ("PDF", "PDF"),
            ("PNG", "PNG"),
            ("TIF", "TIFF"),
            ("ZPL", "ZPL203DPI"),
        ] {
            let mut value = input();
            value["label_format"] = json!(format);
            assert_eq!(body(value)["imageInfo"]["imageType"], json!(image));
        }
    }

    #[test]
    fn receipts_map_to_receipt_options() {
        for (receipt, option) in [
            ("none", "NONE"),
            ("same_page", "SAME_PAGE"),
            ("separate_page", "SEPARATE_PAGE"),
        ] {
            let mut value = input();
            value["receipt"] = json!(receipt);
            assert_eq!(body(value)["imageInfo"]["receiptOption"], json!(option));
        }
    }

    fn qr_code(format: Option<&str>) -> Value {
        let mut value = input();
        value["label_delivery"] = json!("qr_code");
        if let Some(format) = format {
            value["label_format"] = json!(format);
        }
        value
    }

    #[test]
    fn a_qr_code_alone_asks_label_broker_for_no_pdf() {
        let prepared = prepared(qr_code(None)).unwrap();
        assert_eq!(prepared.images, Images::LabelBroker { with_pdf: false });
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(
            body["imageInfo"],
            json!({"imageType": "LABEL_BROKER", "labelType": "4X6LABEL", "receiptOption": "NONE",
                   "includeLabelBrokerPDF": false})
        );
    }

    #[test]
    fn a_qr_code_with_pdf_named_asks_for_the_label_broker_pdf() {
        let prepared = prepared(qr_code(Some("PDF"))).unwrap();
        assert_eq!(prepared.images, Images::LabelBroker { with_pdf: true });
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(body["imageInfo"]["includeLabelBrokerPDF"], json!(true));
    }

    #[test]
    fn a_qr_code_with_another_format_is_a_label_format_error() {
        for format in ["PNG", "TIF", "ZPL"] {
            let errors = prepared(qr_code(Some(format))).unwrap_err();
            assert!(errors.names("label_format"), "{format}: {errors}");
            assert!(errors.to_string().contains("PDF"), "{errors}");
        }
    }

    #[test]
    fn a_qr_code_with_a_receipt_is_a_receipt_error() {
        for receipt in ["same_page", "separate_page"] {
            let mut value = qr_code(None);
            value["receipt"] = json!(receipt);
            assert!(prepared(value).unwrap_err().names("receipt"), "{receipt}");
        }
    }

    #[test]
    fn an_emailed_label_is_a_label_delivery_error() {
        let mut value = input();
        value["label_delivery"] = json!("email");
        value["notify"] = json!({"recipient_email": "jane@example.com"});
        let errors = prepared(value).unwrap_err();
        assert!(errors.names("label_delivery"), "{errors}");
        assert!(errors.to_string().contains("qr_code"), "{errors}");
    }

    #[test]
    fn a_downloaded_label_sends_no_label_broker_flag() {
        let prepared = prepared(input()).unwrap();
        assert_eq!(prepared.images, Images::Label(LabelFormat::Pdf));
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert!(body["imageInfo"].get("includeLabelBrokerPDF").is_none());
    }

    #[test]
    fn a_same_page_receipt_with_zpl_is_a_receipt_error() {
        let mut value = input();
        value["receipt"] = json!("same_page");
        value["label_format"] = json!("ZPL");
        assert!(prepared(value).unwrap_err().names("receipt"));
    }

    #[test]
    fn a_side_over_twelve_inches_is_dimensional_rectangular() {
        let mut value = input();
        value["parcel"]["length_in"] = json!(12.5);
        assert_eq!(
            body(value)["packageDescription"]["rateIndicator"],
            json!("DR")
        );
    }

    #[test]
    fn a_large_parcel_with_girth_is_dimensional_nonrectangular() {
        let mut value = input();
        value["parcel"]["length_in"] = json!(20);
        value["parcel"]["girth_in"] = json!(30);
        let body = body(value);
        assert_eq!(body["packageDescription"]["rateIndicator"], json!("DN"));
        assert_eq!(body["packageDescription"]["girth"], json!(30));
    }

    #[test]
    fn twelve_inches_exactly_is_single_piece() {
        let mut value = input();
        value["parcel"]["length_in"] = json!(12);
        assert_eq!(
            body(value)["packageDescription"]["rateIndicator"],
            json!("SP")
        );
    }

    #[test]
    fn a_nonmachinable_parcel_is_nonstandard() {
        let mut value = input();
        value["parcel"]["machinable"] = json!(false);
        assert_eq!(
            body(value)["packageDescription"]["processingCategory"],
            json!("NONSTANDARD")
        );
    }

    #[test]
    fn over_seventy_pounds_is_a_weight_error() {
        let mut value = input();
        value["parcel"]["weight_oz"] = json!(1121);
        assert!(prepared(value).unwrap_err().names("parcel.weight_oz"));
        let mut value = input();
        value["parcel"]["weight_oz"] = json!(1120);
        assert!(prepared(value).is_ok());
    }

    #[test]
    fn missing_dimensions_are_each_named() {
        let mut value = input();
        value["parcel"] = json!({"weight_oz": 24});
        let errors = prepared(value).unwrap_err();
        for field in ["parcel.length_in", "parcel.width_in", "parcel.height_in"] {
            assert!(errors.names(field), "{field}");
        }
        assert!(errors.to_string().contains("USPS v3"));
    }

    #[test]
    fn a_reference_over_thirty_characters_is_a_reference_error() {
        let mut value = input();
        value["reference"] = json!("R".repeat(31));
        assert!(prepared(value).unwrap_err().names("reference"));
    }

    #[test]
    fn no_reference_sends_no_customer_reference() {
        let mut value = input();
        value.as_object_mut().unwrap().remove("reference");
        assert!(
            body(value)["packageDescription"]
                .get("customerReference")
                .is_none()
        );
    }

    #[test]
    fn from_address_limits_are_named_in_our_fields() {
        let mut value = input();
        value["from_address"]["street1"] = json!("S".repeat(51));
        value["from_address"]["street2"] = json!("T".repeat(51));
        value["from_address"]["city"] = json!("C".repeat(29));
        value["from_address"]["first_name"] = json!("F".repeat(51));
        value["from_address"]["phone"] = json!("+0123456");
        value["from_address"]["email"] = json!("o'brien@example.com");
        let errors = prepared(value).unwrap_err();
        for field in [
            "from_address.street1",
            "from_address.street2",
            "from_address.city",
            "from_address.first_name",
            "from_address.phone",
            "from_address.email",
        ] {
            assert!(errors.names(field), "{field}: {errors}");
        }
    }

    #[test]
    fn a_firm_longer_than_fifty_characters_is_a_firm_error() {
        let mut value = input();
        value["from_address"]["firm"] = json!("F".repeat(51));
        assert!(prepared(value).unwrap_err().names("from_address.firm"));
    }

    #[test]
    fn a_firm_with_half_a_name_sends_only_the_firm() {
        let mut value = input();
        value["from_address"]["firm"] = json!("Jane's Shop");
        value["from_address"]
            .as_object_mut()
            .unwrap()
            .remove("last_name");
        let body = body(value);
        assert_eq!(body["fromAddress"]["firm"], json!("Jane's Shop"));
        assert!(body["fromAddress"].get("firstName").is_none());
    }

    #[test]
    fn notify_fields_warn_that_no_email_is_sent() {
        let mut value = input();
        value["notify"] = json!({"recipient_email": "jane@example.com"});
        let warnings = prepared(value).unwrap().warnings;
        assert!(warnings.iter().any(|w| w.code == "notification_not_sent"));
    }

    #[test]
    fn a_ship_date_warns_that_it_is_ignored() {
        let mut value = input();
        value["ship_date"] = json!("2026-07-01");
        let warnings = prepared(value).unwrap().warnings;
        assert!(
            warnings
                .iter()
                .any(|w| w.code == "ship_date_ignored" && w.field.as_deref() == Some("ship_date"))
        );
    }

    #[test]
    fn phones_and_emails_travel_in_the_from_address() {
        let mut value = input();
        value["from_address"]["phone"] = json!("(314) 555-0100");
        value["from_address"]["email"] = json!("jane@example.com");
        let body = body(value);
        assert_eq!(body["fromAddress"]["phone"], json!("3145550100"));
        assert_eq!(body["fromAddress"]["email"], json!("jane@example.com"));
    }
}
