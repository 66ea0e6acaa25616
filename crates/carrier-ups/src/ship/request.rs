//! The neutral return-label request as a UPS `ShipmentRequest` (Shipping.yaml
//! `SHIPRequestWrapper`): a return shipment (`Shipment.ReturnService`) from the customer
//! (`ShipFrom`) to the account's return address (`ShipTo`), shipped and billed by the account
//! (`Shipper.ShipperNumber`, `PaymentInformation.ShipmentCharge` type `01` Transportation with
//! `BillShipper.AccountNumber`; "Bill Receiver is invalid for a return's transportation
//! charges"), one customer-supplied package (`Packaging.Code` `02`) in pounds and inches.
//!
//! Everything UPS would refuse is refused here first, named by our field: services UPS does
//! not offer for returns, label formats and receipts it has not, lengths over Shipping.yaml's
//! limits, parcels over its dimension rules (length at most 108 in, length + 2 × (width +
//! height) at most 165 in).

use carrier::{
    LabelDelivery, LabelFormat, ReceiptOption, ReturnLabelRequest, ServiceInfo, ValidationErrors,
    Warning,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::account::UpsAccount;
use crate::ship::address::{self, Party, WireAddress, WirePhone};

/// One UPS return service: our code, UPS's `Service.Code` and its name in Shipping.yaml's
/// `Service.Code` list (none of these is in its "not available to return shipment" list).
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) info: ServiceInfo,
    pub(crate) code: &'static str,
}

const fn service(code: &'static str, name: &'static str, ups: &'static str) -> Service {
    Service {
        info: ServiceInfo {
            code,
            name,
            superseded_by: None,
        },
        code: ups,
    }
}

/// The services of API.md "Return labels — additions".
pub(crate) const SERVICES: [Service; 4] = [
    service("ups_ground_return", "UPS Ground (return)", "03"),
    service("ups_3_day_select_return", "UPS 3 Day Select (return)", "12"),
    service("ups_2nd_day_air_return", "UPS 2nd Day Air (return)", "02"),
    service("ups_next_day_air_return", "UPS Next Day Air (return)", "01"),
];

/// The label formats we hand back: GIF and ZPL as UPS returns them, PDF and PNG made from
/// UPS's GIF (see `crate::label`).
pub(crate) const LABEL_FORMATS: [LabelFormat; 4] = [
    LabelFormat::Pdf,
    LabelFormat::Png,
    LabelFormat::Gif,
    LabelFormat::Zpl,
];

/// `download` is a Print Return Label, `email` an Electronic Return Label. UPS has no
/// printerless code a customer shows at a counter in the Ship API, so no `qr_code`.
pub(crate) const LABEL_DELIVERIES: [LabelDelivery; 2] =
    [LabelDelivery::Download, LabelDelivery::Email];

/// `LabelDelivery.EMail.EMailAddress` is at most 50 characters.
const EMAIL_MAX: usize = 50;

/// "User can send up to 7 days in the future with current date as day zero" (`ShipmentDate`).
pub(crate) const SHIP_DATE_DAYS_AHEAD: u32 = 7;

/// `Package.Description` when the request has no reference ("Required for shipment with
/// return service").
pub(crate) const DEFAULT_DESCRIPTION: &str = "Return merchandise";
const DESCRIPTION_MAX: usize = 35;

/// `ReturnService.Code`: `9` UPS Print Return Label, `8` UPS Electronic Return Label.
pub(crate) const PRINT_RETURN_LABEL: &str = "9";
pub(crate) const ELECTRONIC_RETURN_LABEL: &str = "8";

/// "Valid values are 0 to 108 IN" for `Dimensions.Length`.
const MAX_LENGTH_IN: i64 = 108;
/// "Length + 2*(Width + Height) must be less than or equal to 165 IN".
const MAX_LENGTH_AND_GIRTH_IN: i64 = 165;
/// `PackageWeight.Weight` is at most 5 characters; we send pounds with one decimal
/// (`999.9`). Shipping.yaml states no per-package weight limit of its own.
const MAX_WEIGHT_TENTHS_LB: i64 = 9_999;

/// What the label image is asked for as, and what we make of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageRequest {
    /// `GIF` (PRL's image format), converted to the requested PNG or PDF.
    Gif,
    /// `ZPL`, handed back as it comes.
    Zpl,
}

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct PreparedShipment {
    pub(crate) body: Vec<u8>,
    pub(crate) format: LabelFormat,
    pub(crate) service_code: &'static str,
    pub(crate) return_service: &'static str,
    pub(crate) warnings: Vec<Warning>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShipRequestWrapper {
    pub(crate) shipment_request: ShipmentRequest,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShipmentRequest {
    pub(crate) request: RequestInfo,
    pub(crate) shipment: Shipment,
    pub(crate) label_specification: LabelSpecification,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RequestInfo {
    pub(crate) request_option: &'static str,
    pub(crate) sub_version: &'static str,
    pub(crate) transaction_reference: TransactionReference,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TransactionReference {
    pub(crate) customer_context: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Shipment {
    pub(crate) return_service: Code,
    pub(crate) shipper: Shipper,
    pub(crate) ship_to: Contact,
    pub(crate) ship_from: Contact,
    pub(crate) payment_information: PaymentInformation,
    pub(crate) service: Code,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shipment_service_options: Option<ShipmentServiceOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shipment_date: Option<String>,
    pub(crate) package: Vec<Package>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Code {
    pub(crate) code: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Shipper {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attention_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<WirePhone>,
    pub(crate) shipper_number: String,
    pub(crate) address: WireAddress,
}

/// `ShipTo` and `ShipFrom` share these fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Contact {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attention_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) phone: Option<WirePhone>,
    pub(crate) address: WireAddress,
}

impl From<Party> for Contact {
    fn from(party: Party) -> Self {
        Self {
            name: party.name,
            attention_name: party.attention,
            phone: party.phone,
            address: party.address,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PaymentInformation {
    pub(crate) shipment_charge: Vec<ShipmentCharge>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShipmentCharge {
    #[serde(rename = "Type")]
    pub(crate) kind: &'static str,
    pub(crate) bill_shipper: BillShipper,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BillShipper {
    pub(crate) account_number: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ShipmentServiceOptions {
    pub(crate) label_delivery: LabelDeliveryOption,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelDeliveryOption {
    #[serde(rename = "EMail")]
    pub(crate) email: LabelEmail,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelEmail {
    #[serde(rename = "EMailAddress")]
    pub(crate) email_address: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Package {
    pub(crate) description: String,
    pub(crate) packaging: Code,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dimensions: Option<PackageDimensions>,
    pub(crate) package_weight: PackageWeight,
    pub(crate) reference_number: Vec<ReferenceNumber>,
}

/// `Package.ReferenceNumber` ("Customer supplied reference number. Valid if the
/// origin/destination pair is US/US or PR/PR", at most 35 characters): our purchase key, so a
/// shipment whose reply was lost — which is never sent again, UPS taking no idempotency key —
/// can be found in the account's UPS shipping history and voided there.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReferenceNumber {
    pub(crate) value: String,
}

/// The most characters of a `Package.ReferenceNumber.Value`.
const REFERENCE_NUMBER_MAX: usize = 35;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PackageDimensions {
    pub(crate) unit_of_measurement: Code,
    pub(crate) length: String,
    pub(crate) width: String,
    pub(crate) height: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PackageWeight {
    pub(crate) unit_of_measurement: Code,
    pub(crate) weight: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelSpecification {
    pub(crate) label_image_format: Code,
    #[serde(rename = "HTTPUserAgent", skip_serializing_if = "Option::is_none")]
    pub(crate) http_user_agent: Option<&'static str>,
    pub(crate) label_stock_size: LabelStockSize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LabelStockSize {
    pub(crate) height: &'static str,
    pub(crate) width: &'static str,
}

/// The UPS service for one of our codes.
pub(crate) fn find_service(code: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.info.code == code)
}

/// Whole inches, rounded up (UPS's dimensions are at most 3 characters: "0 to 108 IN"; the spec
/// gives no decimal form, and rounding up never understates the parcel).
fn whole_inches(value: Decimal) -> i64 {
    value.ceil().to_i64().unwrap_or(i64::MAX)
}

/// The package's weight and dimensions, or the errors naming the parcel's fields.
fn package_measures(
    request: &ReturnLabelRequest,
    errors: &mut ValidationErrors,
) -> (Option<PackageWeight>, Option<PackageDimensions>) {
    let tenths = (request.parcel.weight_oz * Decimal::TEN / Decimal::from(16))
        .ceil()
        .to_i64()
        .unwrap_or(i64::MAX);
    let weight = if tenths > MAX_WEIGHT_TENTHS_LB {
        errors.push(
            "parcel.weight_oz",
            "is more than UPS's weight field can carry (999.9 lb)",
        );
        None
    } else {
        Some(PackageWeight {
            unit_of_measurement: Code { code: "LBS" },
            weight: format!("{}.{}", tenths / 10, tenths % 10),
        })
    };
    let dimensions = request.parcel.dimensions.and_then(|dimensions| {
        let mut sides = [
            ("parcel.length_in", whole_inches(dimensions.length_in)),
            ("parcel.width_in", whole_inches(dimensions.width_in)),
            ("parcel.height_in", whole_inches(dimensions.height_in)),
        ];
        // "Length must be the longest dimension of the container."
        sides.sort_by_key(|side| std::cmp::Reverse(side.1));
        let [(longest_field, length), (_, width), (_, height)] = sides;
        let girth = dimensions
            .girth_in
            .map(whole_inches)
            .unwrap_or_else(|| width.saturating_add(height).saturating_mul(2));
        let before = errors.len();
        if length > MAX_LENGTH_IN {
            errors.push(
                longest_field,
                format!("UPS takes parcels up to {MAX_LENGTH_IN} in long"),
            );
        } else if length.saturating_add(girth) > MAX_LENGTH_AND_GIRTH_IN {
            errors.push(
                longest_field,
                format!("length plus girth must be at most {MAX_LENGTH_AND_GIRTH_IN} in for UPS"),
            );
        }
        (errors.len() == before).then(|| PackageDimensions {
            unit_of_measurement: Code { code: "IN" },
            length: length.to_string(),
            width: width.to_string(),
            height: height.to_string(),
        })
    });
    (weight, dimensions)
}

/// The `Package.Description`: the reference, cut to 35 characters with a warning.
fn description(reference: Option<&str>, warnings: &mut Vec<Warning>) -> String {
    let Some(reference) = reference else {
        return DEFAULT_DESCRIPTION.to_owned();
    };
    if reference.chars().count() <= DESCRIPTION_MAX {
        return reference.to_owned();
    }
    warnings.push(Warning::new(
        "reference_truncated",
        Some("reference"),
        format!("UPS prints at most {DESCRIPTION_MAX} characters of the package description"),
    ));
    reference.chars().take(DESCRIPTION_MAX).collect()
}

/// How the label is delivered: UPS's `ReturnService.Code` and the email for an Electronic
/// Return Label.
pub(crate) struct Delivery {
    pub(crate) return_service: &'static str,
    pub(crate) email: Option<String>,
}

/// The delivery `request` asks for. An Electronic Return Label needs
/// `notify.recipient_email`: `LabelDelivery` is "Required for shipments with … Electronic
/// Return Label Return Service".
fn delivery(request: &ReturnLabelRequest, errors: &mut ValidationErrors) -> Option<Delivery> {
    match request.label_delivery {
        LabelDelivery::Download => Some(Delivery {
            return_service: PRINT_RETURN_LABEL,
            email: None,
        }),
        LabelDelivery::Email => match &request.notify.recipient_email {
            Some(email) if email.as_str().chars().count() <= EMAIL_MAX => Some(Delivery {
                return_service: ELECTRONIC_RETURN_LABEL,
                email: Some(email.as_str().to_owned()),
            }),
            Some(_) => {
                errors.push(
                    "notify.recipient_email",
                    format!("UPS emails labels to addresses of at most {EMAIL_MAX} characters"),
                );
                None
            }
            None => {
                errors.push(
                    "notify.recipient_email",
                    "is required when label_delivery is email (UPS emails the label to it)",
                );
                None
            }
        },
        other => {
            errors.push(
                "label_delivery",
                format!(
                    "UPS does not offer {}; it offers download and email",
                    other.as_str()
                ),
            );
            None
        }
    }
}

/// Builds the Ship request for `request`, refusing what UPS would refuse.
pub(crate) fn prepare(
    account: &UpsAccount,
    request: &ReturnLabelRequest,
    customer_context: &str,
) -> Result<PreparedShipment, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut warnings = Vec::new();
    let delivery = delivery(request, &mut errors);
    let service = find_service(request.service.as_str());
    if service.is_none() {
        errors.push(
            "service",
            format!(
                "UPS offers {}",
                SERVICES
                    .iter()
                    .map(|s| s.info.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let image = match request.label_format {
        LabelFormat::Pdf | LabelFormat::Png | LabelFormat::Gif => Some(ImageRequest::Gif),
        LabelFormat::Zpl => Some(ImageRequest::Zpl),
        _ => {
            errors.push("label_format", "UPS labels come as PDF, PNG, GIF or ZPL");
            None
        }
    };
    if request.receipt != ReceiptOption::None {
        errors.push("receipt", "UPS return labels have no mailing receipt");
    }
    address::check("from_address", &request.from_address, &mut errors);
    let (weight, dimensions) = package_measures(request, &mut errors);
    let description = description(request.reference.as_deref(), &mut warnings);
    let (Some(service), Some(image), Some(package_weight), Some(delivery)) =
        (service, image, weight, delivery)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let shipper = address::party(&account.return_address);
    let body = ShipRequestWrapper {
        shipment_request: ShipmentRequest {
            request: RequestInfo {
                // City/state/postal code checked by UPS before the label is made.
                request_option: "validate",
                // The newest SubVersion the spec lists; it only adds response elements.
                sub_version: "2205",
                transaction_reference: TransactionReference {
                    customer_context: customer_context.to_owned(),
                },
            },
            shipment: Shipment {
                return_service: Code {
                    code: delivery.return_service,
                },
                shipper: Shipper {
                    name: shipper.name,
                    attention_name: shipper.attention,
                    phone: shipper.phone,
                    shipper_number: account.account_number.clone(),
                    address: shipper.address,
                },
                ship_to: address::party(&account.return_address).into(),
                ship_from: address::party(&request.from_address).into(),
                payment_information: PaymentInformation {
                    shipment_charge: vec![ShipmentCharge {
                        kind: "01",
                        bill_shipper: BillShipper {
                            account_number: account.account_number.clone(),
                        },
                    }],
                },
                service: Code { code: service.code },
                shipment_service_options: delivery.email.map(|email| ShipmentServiceOptions {
                    label_delivery: LabelDeliveryOption {
                        email: LabelEmail {
                            email_address: email,
                        },
                    },
                }),
                shipment_date: request
                    .ship_date
                    .map(|date| date.format("%Y%m%d").to_string()),
                package: vec![Package {
                    description,
                    packaging: Code { code: "02" },
                    dimensions,
                    package_weight,
                    reference_number: vec![ReferenceNumber {
                        value: customer_context
                            .chars()
                            .take(REFERENCE_NUMBER_MAX)
                            .collect(),
                    }],
                }],
            },
            label_specification: LabelSpecification {
                label_image_format: Code {
                    code: match image {
                        ImageRequest::Gif => "GIF",
                        ImageRequest::Zpl => "ZPL",
                    },
                },
                // "Required if … LabelImageFormat/Code = Gif. Default to Mozilla/4.5".
                http_user_agent: (image == ImageRequest::Gif).then_some("Mozilla/4.5"),
                // 4 × 6 in: "Only valid values are 6 or 8" (height), "Valid value is 4".
                label_stock_size: LabelStockSize {
                    height: "6",
                    width: "4",
                },
            },
        },
    };
    // A tree of strings always serializes.
    let body = serde_json::to_vec(&body).unwrap_or_default();
    Ok(PreparedShipment {
        body,
        format: request.label_format,
        service_code: service.code,
        return_service: delivery.return_service,
        warnings,
    })
}

#[cfg(test)]
#[path = "request_tests.rs"]
pub(crate) mod tests;
