//! The neutral return-label request as a FedEx Ship request (`Full_Schema_Ship`): a return
//! shipment (`shipmentSpecialServices.specialServiceTypes: [RETURN_SHIPMENT]`) from the
//! customer (`shipper`) to the account's return address (`recipients[0]`), billed to the
//! account (`accountNumber`, `shippingChargesPayment.paymentType: SENDER` as in the file's
//! return examples), one customer-packed package (`YOUR_PACKAGING`) in pounds and inches,
//! dropped off by the customer (`pickupType: DROPOFF_AT_FEDEX_LOCATION`).
//!
//! - `download`: `returnShipmentDetail.returnType: PRINT_RETURN_LABEL`; the label comes back
//!   in the reply (`labelResponseOptions: LABEL`, base64).
//! - `email`: `returnType: PENDING` with `pendingShipmentDetail` (`pendingShipmentType:
//!   EMAIL`, the customer as `SHIPMENT_COMPLETOR`, `expirationTimeStamp` = ship date +
//!   `email_label_days`) and `returnEmailDetail.merchantPhoneNumber` ("required for Email
//!   Return Labels"); `itemDescription` is "required for Email Label return shipments".
//!   The file's email example sends no `shipAction`, so none is sent.
//!
//! `rma.reason` carries the request's `reference`. Everything FedEx would refuse is refused
//! first, by our field: the shipper's phone (`contact.phoneNumber` is required), lengths,
//! dimensions over 999 in (the file's maximum), a weight over 150 lb (FedEx's package limit
//! for Express and Ground, which the file does not state).

use carrier::{
    LabelDelivery, LabelFormat, ReturnLabelRequest, ServiceInfo, ValidationErrors, Warning,
};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::account::FedexAccount;
use crate::ship::address::{self, Party};

/// One FedEx return service: our code and the Ship file's `serviceType`.
#[derive(Debug)]
pub(crate) struct Service {
    pub(crate) info: ServiceInfo,
    pub(crate) service_type: &'static str,
}

const fn service(code: &'static str, name: &'static str, service_type: &'static str) -> Service {
    Service {
        info: ServiceInfo {
            code,
            name,
            superseded_by: None,
        },
        service_type,
    }
}

/// The US domestic `serviceType`s the Ship file names in its examples that a return to a
/// business address can use (see the crate docs for what is left out and why).
pub(crate) const SERVICES: [Service; 5] = [
    service(
        "fedex_ground_return",
        "FedEx Ground (return)",
        "FEDEX_GROUND",
    ),
    service(
        "fedex_express_saver_return",
        "FedEx Express Saver (return)",
        "FEDEX_EXPRESS_SAVER",
    ),
    service(
        "fedex_2_day_am_return",
        "FedEx 2Day A.M. (return)",
        "FEDEX_2_DAY_AM",
    ),
    service(
        "fedex_standard_overnight_return",
        "FedEx Standard Overnight (return)",
        "STANDARD_OVERNIGHT",
    ),
    service(
        "fedex_priority_overnight_return",
        "FedEx Priority Overnight (return)",
        "PRIORITY_OVERNIGHT",
    ),
];

/// `labelSpecification.imageType` offers `ZPLII`, `EPL2`, `PDF`, `PNG`.
pub(crate) const LABEL_FORMATS: [LabelFormat; 3] =
    [LabelFormat::Pdf, LabelFormat::Png, LabelFormat::Zpl];

pub(crate) const LABEL_DELIVERIES: [LabelDelivery; 2] =
    [LabelDelivery::Download, LabelDelivery::Email];

/// The Ship file states no ship-date window (`shipDatestamp` only defaults to today), so the
/// plugin asks for today's labels only rather than guess one.
pub(crate) const SHIP_DATE_DAYS_AHEAD: u32 = 0;

/// `itemDescription` when the request has no reference: at most 50 characters.
pub(crate) const DEFAULT_DESCRIPTION: &str = "Return merchandise";
const DESCRIPTION_MAX: usize = 50;
/// FedEx's package weight limit for Express and Ground (not in the file).
const MAX_WEIGHT_TENTHS_LB: i64 = 1_500;
/// `dimensions.length` etc.: "Maximum value: 999".
const MAX_DIMENSION_IN: i64 = 999;

pub(crate) const PRINT_RETURN_LABEL: &str = "PRINT_RETURN_LABEL";
pub(crate) const PENDING: &str = "PENDING";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShipRequest {
    label_response_options: &'static str,
    requested_shipment: RequestedShipment,
    account_number: AccountNumber,
}

#[derive(Debug, Serialize)]
pub(crate) struct AccountNumber {
    pub(crate) value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestedShipment {
    ship_datestamp: String,
    shipper: Party,
    recipients: Vec<Party>,
    pickup_type: &'static str,
    service_type: &'static str,
    packaging_type: &'static str,
    total_weight: f64,
    shipping_charges_payment: Payment,
    shipment_special_services: SpecialServices,
    label_specification: LabelSpecification,
    requested_package_line_items: Vec<PackageLineItem>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payment {
    payment_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SpecialServices {
    special_service_types: Vec<&'static str>,
    return_shipment_detail: ReturnShipmentDetail,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_shipment_detail: Option<PendingShipmentDetail>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReturnShipmentDetail {
    return_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rma: Option<Rma>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_email_detail: Option<ReturnEmailDetail>,
}

#[derive(Debug, Serialize)]
struct Rma {
    reason: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReturnEmailDetail {
    merchant_phone_number: String,
    /// Required by `Full_Schema_Ship`; none allowed.
    allowed_special_service: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingShipmentDetail {
    pending_shipment_type: &'static str,
    email_label_detail: EmailLabelDetail,
    expiration_time_stamp: String,
}

#[derive(Debug, Serialize)]
struct EmailLabelDetail {
    recipients: Vec<EmailRecipient>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EmailRecipient {
    email_address: String,
    role: &'static str,
    locale: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSpecification {
    image_type: &'static str,
    label_stock_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageLineItem {
    weight: Weight,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<Dimensions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_description: Option<String>,
}

#[derive(Debug, Serialize)]
struct Weight {
    units: &'static str,
    value: f64,
}

#[derive(Debug, Serialize)]
struct Dimensions {
    length: i64,
    width: i64,
    height: i64,
    units: &'static str,
}

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct PreparedShipment {
    pub(crate) body: Vec<u8>,
    pub(crate) format: LabelFormat,
    pub(crate) service_type: &'static str,
    pub(crate) emailed: bool,
    pub(crate) warnings: Vec<Warning>,
}

/// The image type and stock of a label format: PDF and PNG on 4 × 6 paper, ZPL (`ZPLII`) on
/// 4 × 6 thermal stock.
fn image(format: LabelFormat) -> Option<(&'static str, &'static str)> {
    match format {
        LabelFormat::Pdf => Some(("PDF", "PAPER_4X6")),
        LabelFormat::Png => Some(("PNG", "PAPER_4X6")),
        LabelFormat::Zpl => Some(("ZPLII", "STOCK_4X6")),
        _ => None,
    }
}

/// Whole inches, rounded up (the file: "No implied decimal places").
fn inches(value: Decimal) -> i64 {
    value.ceil().to_i64().unwrap_or(i64::MAX)
}

/// Tenths of a pound, rounded up (`totalWeight`: "1 explicit decimal position").
fn tenths_of_pound(weight_oz: Decimal) -> i64 {
    (weight_oz * Decimal::from(10) / Decimal::from(16))
        .ceil()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// Builds the Ship request, or every problem by our field.
pub(crate) fn prepare(
    account: &FedexAccount,
    request: &ReturnLabelRequest,
    today: NaiveDate,
) -> Result<PreparedShipment, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let warnings = Vec::new();
    let service = SERVICES
        .iter()
        .find(|s| s.info.code == request.service.as_str());
    if service.is_none() {
        errors.push(
            "service",
            format!(
                "is not a FedEx return service; FedEx offers {}",
                SERVICES
                    .iter()
                    .map(|s| s.info.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let image = image(request.label_format);
    if image.is_none() {
        errors.push("label_format", "FedEx labels are PDF, PNG or ZPL");
    }
    let emailed = match request.label_delivery {
        LabelDelivery::Download => false,
        LabelDelivery::Email => true,
        _ => {
            errors.push("label_delivery", "FedEx labels are downloaded or emailed");
            false
        }
    };
    let before = errors.len();
    address::check("from_address", &request.from_address, &mut errors);
    let shipper = if errors.len() == before {
        let party = address::party(&request.from_address);
        if party.is_none() {
            errors.push(
                "from_address.phone",
                "is required: FedEx prints the shipper's phone on the label",
            );
        }
        party
    } else {
        None
    };
    let destination = account.profile.destination();
    let recipient = address::party(destination);
    let tenths = tenths_of_pound(request.parcel.weight_oz);
    if tenths > MAX_WEIGHT_TENTHS_LB {
        errors.push(
            "parcel.weight_oz",
            "must be at most 150 lb (2400 oz): FedEx's package limit",
        );
    }
    let dimensions = request.parcel.dimensions.map(|d| Dimensions {
        length: inches(d.length_in),
        width: inches(d.width_in),
        height: inches(d.height_in),
        units: "IN",
    });
    if let Some(d) = &dimensions {
        for (field, value) in [
            ("length_in", d.length),
            ("width_in", d.width),
            ("height_in", d.height),
        ] {
            if value > MAX_DIMENSION_IN {
                errors.push(
                    format!("parcel.{field}"),
                    format!("must be at most {MAX_DIMENSION_IN} in for FedEx"),
                );
            }
        }
    }
    let ship_date = request.ship_date.unwrap_or(today);
    let recipient_email = request.notify.recipient_email.as_ref();
    if emailed && recipient_email.is_none() {
        errors.push(
            "notify.recipient_email",
            "is required when label_delivery is email",
        );
    }
    let (Some(service), Some((image_type, stock)), Some(shipper), Some(recipient)) =
        (service, image, shipper, recipient)
    else {
        if errors.is_empty() {
            errors.push(
                "details.return_address.phone",
                "the account's return address has no phone for FedEx",
            );
        }
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let weight = tenths as f64 / 10.0;
    let reference = request.reference.clone();
    let description = reference
        .clone()
        .filter(|r| r.chars().count() <= DESCRIPTION_MAX)
        .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned());
    let pending = match (emailed, recipient_email) {
        (true, Some(email)) => Some(PendingShipmentDetail {
            pending_shipment_type: "EMAIL",
            email_label_detail: EmailLabelDetail {
                recipients: vec![EmailRecipient {
                    email_address: email.to_string(),
                    role: "SHIPMENT_COMPLETOR",
                    locale: "en_US",
                }],
            },
            expiration_time_stamp: ship_date
                .checked_add_days(Days::new(account.profile.email_label_days.into()))
                .unwrap_or(ship_date)
                .to_string(),
        }),
        _ => None,
    };
    let body = ShipRequest {
        label_response_options: "LABEL",
        account_number: AccountNumber {
            value: account.profile.account_number.clone(),
        },
        requested_shipment: RequestedShipment {
            ship_datestamp: ship_date.to_string(),
            shipper,
            recipients: vec![recipient.clone()],
            pickup_type: "DROPOFF_AT_FEDEX_LOCATION",
            service_type: service.service_type,
            packaging_type: "YOUR_PACKAGING",
            total_weight: weight,
            shipping_charges_payment: Payment {
                payment_type: "SENDER",
            },
            shipment_special_services: SpecialServices {
                special_service_types: vec!["RETURN_SHIPMENT"],
                return_shipment_detail: ReturnShipmentDetail {
                    return_type: if emailed { PENDING } else { PRINT_RETURN_LABEL },
                    rma: reference.map(|reason| Rma { reason }),
                    return_email_detail: emailed.then(|| ReturnEmailDetail {
                        merchant_phone_number: recipient.contact.phone_number.clone(),
                        allowed_special_service: Vec::new(),
                    }),
                },
                pending_shipment_detail: pending,
            },
            label_specification: LabelSpecification {
                image_type,
                label_stock_type: stock,
            },
            requested_package_line_items: vec![PackageLineItem {
                weight: Weight {
                    units: "LB",
                    value: weight,
                },
                dimensions,
                item_description: emailed.then_some(description),
            }],
        },
    };
    let body = serde_json::to_vec(&body).map_err(|error| {
        ValidationErrors::single("request", format!("could not be written: {error}"))
    })?;
    Ok(PreparedShipment {
        body,
        format: request.label_format,
        service_type: service.service_type,
        emailed,
        warnings,
    })
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
