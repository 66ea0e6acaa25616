//! The Ship request's rules the file states in prose (or the simulator's scope), checked after
//! the schema, giving a `Plan`.
//!
//! - Only return shipments are simulated: `shipmentSpecialServices.specialServiceTypes` must
//!   hold `RETURN_SHIPMENT`, with `returnShipmentDetail` (and `returnShipmentDetail` needs
//!   `RETURN_SHIPMENT`). Any other special service type is not simulated.
//! - `returnType: PRINT_RETURN_LABEL` ("Required to be set to PRINT_RETURN_LABEL for printed
//!   return label shipments") needs `labelSpecification` with `imageType` `PDF`, `PNG` or
//!   `ZPLII` (`EPL2` is not simulated) and no `pendingShipmentDetail`.
//! - `returnType: PENDING` ("For email return label shipments returnType must be set to PENDING
//!   and pendingShipmentDetail must be set to EMAIL") needs `pendingShipmentDetail` with
//!   `pendingShipmentType: EMAIL`, `emailLabelDetail.recipients` ("Atleast one entry must be
//!   specified") and `expirationTimeStamp` (`YYYY-MM-DD`, "must be greater of equal to the day
//!   of the label request and not greater than 2 years in the future", read against the
//!   simulator clock's UTC date); and `returnShipmentDetail.returnEmailDetail.merchantPhoneNumber`
//!   ("required for Email Return Labels").
//! - Services: the US domestic parcel services FedEx offers returns with — `FEDEX_GROUND`,
//!   `GROUND_HOME_DELIVERY`, `FEDEX_EXPRESS_SAVER`, `FEDEX_2_DAY`, `FEDEX_2_DAY_AM`,
//!   `STANDARD_OVERNIGHT`, `PRIORITY_OVERNIGHT`, `FIRST_OVERNIGHT`. The file gives no list
//!   (`serviceType` points to a web page); any other value (international, freight,
//!   `SMART_POST`, …) is not simulated.
//! - Shipper and recipient in the US (international shipments, `customsClearanceDetail`, are
//!   not simulated), exactly one recipient, at least one package, each with a positive weight.
//! - `shippingChargesPayment.paymentType: SENDER` (billed to `accountNumber`; a `payor` account,
//!   if given, must be the same); the other payment types are not simulated.
//! - `shipAction`, `processingOptionType` (asynchronous), `oneLabelAtATime: true` are not
//!   simulated; `mergeLabelDocOption` is accepted and ignored (no merged document is made).
//! - `shipDatestamp`: "Default value is current date in case the date is not provided or a past
//!   date is provided"; a later date is kept.

use chrono::{Months, NaiveDate};
use serde_json::Value;

use crate::error::{FedexError, code};

/// An image type the simulator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImageType {
    Pdf,
    Png,
    Zpl,
}

impl ImageType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG",
            Self::Zpl => "ZPLII",
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Zpl => "application/x-zpl",
        }
    }
}

/// What a print label needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// `PRINT_RETURN_LABEL`: drawn and answered.
    Print { image: ImageType, url_only: bool },
    /// `PENDING`: e-mailed by FedEx.
    Email {
        recipients: Vec<String>,
        expires_on: NaiveDate,
    },
}

/// One package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Package {
    /// Weight in hundredths of its unit.
    pub(crate) weight_hundredths: u64,
    pub(crate) description: Option<String>,
    pub(crate) customer_references: Vec<Value>,
}

/// A valid return shipment, ready to issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) account_number: String,
    pub(crate) service_type: String,
    pub(crate) label_response: String,
    pub(crate) delivery: Delivery,
    pub(crate) ship_date: NaiveDate,
    pub(crate) weight_unit: String,
    pub(crate) packages: Vec<Package>,
    pub(crate) from_lines: Vec<String>,
    pub(crate) to_lines: Vec<String>,
    pub(crate) recipient_city: String,
    pub(crate) recipient_state: String,
    /// `returnShipmentDetail.rma.reason`, when the request gave one.
    pub(crate) rma_reason: Option<String>,
}

/// The services simulated, with their name and whether they are Ground.
pub(crate) const SERVICES: &[(&str, &str, bool)] = &[
    ("FEDEX_GROUND", "FedEx Ground", true),
    ("GROUND_HOME_DELIVERY", "FedEx Home Delivery", true),
    ("FEDEX_EXPRESS_SAVER", "FedEx Express Saver", false),
    ("FEDEX_2_DAY", "FedEx 2Day", false),
    ("FEDEX_2_DAY_AM", "FedEx 2Day AM", false),
    ("STANDARD_OVERNIGHT", "FedEx Standard Overnight", false),
    ("PRIORITY_OVERNIGHT", "FedEx Priority Overnight", false),
    ("FIRST_OVERNIGHT", "FedEx First Overnight", false),
];

fn rule(message: impl Into<String>) -> FedexError {
    FedexError::bad_request(code::SHIPMENT_RULE, message)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().trim().to_owned()
}

fn party_lines(party: &Value) -> Vec<String> {
    let contact = &party["contact"];
    let address = &party["address"];
    let mut lines = Vec::new();
    for name in [&contact["personName"], &contact["companyName"]] {
        let name = text(name);
        if !name.is_empty() {
            lines.push(name.to_uppercase());
        }
    }
    for line in address["streetLines"].as_array().into_iter().flatten() {
        lines.push(text(line).to_uppercase());
    }
    lines.push(
        format!(
            "{} {} {}",
            text(&address["city"]),
            text(&address["stateOrProvinceCode"]),
            text(&address["postalCode"])
        )
        .trim()
        .to_uppercase(),
    );
    lines
}

/// Weight in hundredths: `value` is a JSON number after coercion.
fn hundredths(value: &Value) -> Option<u64> {
    let number = value.as_f64()?;
    (number > 0.0 && number.is_finite()).then(|| (number * 100.0).round() as u64)
}

/// Checks the prose rules of a schema-valid body; `today` is the simulator clock's UTC date.
pub(crate) fn plan(request: &Value, today: NaiveDate) -> Result<Plan, FedexError> {
    for (field, what) in [
        ("shipAction", "shipAction (open shipments)"),
        (
            "processingOptionType",
            "processingOptionType (asynchronous shipments)",
        ),
    ] {
        if !request[field].is_null() {
            return Err(FedexError::not_simulated(what));
        }
    }
    if request["oneLabelAtATime"] == Value::Bool(true) {
        return Err(FedexError::not_simulated("oneLabelAtATime"));
    }
    let shipment = &request["requestedShipment"];
    let special = &shipment["shipmentSpecialServices"];
    let types: Vec<String> = special["specialServiceTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    if !types.iter().any(|kind| kind == "RETURN_SHIPMENT") {
        if !special["returnShipmentDetail"].is_null() {
            return Err(rule(
                "requestedShipment.shipmentSpecialServices.returnShipmentDetail needs RETURN_SHIPMENT in specialServiceTypes",
            ));
        }
        return Err(FedexError::not_simulated(
            "A shipment other than a return (specialServiceTypes without RETURN_SHIPMENT)",
        ));
    }
    if let Some(other) = types.iter().find(|kind| kind.as_str() != "RETURN_SHIPMENT") {
        return Err(FedexError::not_simulated(format!(
            "Special service {other}"
        )));
    }
    let detail = &special["returnShipmentDetail"];
    if detail.is_null() {
        return Err(rule(
            "RETURN_SHIPMENT needs requestedShipment.shipmentSpecialServices.returnShipmentDetail",
        ));
    }
    if !shipment["customsClearanceDetail"].is_null() {
        return Err(FedexError::not_simulated(
            "An international shipment (customsClearanceDetail)",
        ));
    }
    let service_type = text(&shipment["serviceType"]);
    if !SERVICES.iter().any(|(name, _, _)| *name == service_type) {
        return Err(FedexError::not_simulated(format!(
            "serviceType {service_type}"
        )));
    }
    let recipients = shipment["recipients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if recipients.len() != 1 {
        return Err(FedexError::not_simulated(
            "A shipment to other than exactly one recipient",
        ));
    }
    let recipient = &recipients[0];
    let shipper = &shipment["shipper"];
    for (party, name) in [(shipper, "shipper"), (recipient, "recipients[0]")] {
        if party["address"].is_null() || party["contact"].is_null() {
            return Err(rule(format!(
                "requestedShipment.{name} needs address and contact"
            )));
        }
        let country = text(&party["address"]["countryCode"]);
        if country != "US" {
            return Err(FedexError::not_simulated(format!(
                "An international shipment ({name} in {country})"
            )));
        }
    }
    let account_number = text(&request["accountNumber"]["value"]);
    let payment = &shipment["shippingChargesPayment"];
    let payment_type = text(&payment["paymentType"]);
    if payment_type != "SENDER" {
        return Err(FedexError::not_simulated(format!(
            "paymentType {payment_type}"
        )));
    }
    let payor = text(&payment["payor"]["responsibleParty"]["accountNumber"]["value"]);
    if !payor.is_empty() && payor != account_number {
        return Err(rule(
            "shippingChargesPayment.payor.responsibleParty.accountNumber must be the accountNumber for SENDER",
        ));
    }
    let items = shipment["requestedPackageLineItems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        return Err(rule(
            "requestedShipment.requestedPackageLineItems needs at least one package",
        ));
    }
    let mut packages = Vec::new();
    let mut weight_unit = String::from("LB");
    for (index, item) in items.iter().enumerate() {
        let weight_hundredths = hundredths(&item["weight"]["value"]).ok_or_else(|| {
            rule(format!(
                "requestedShipment.requestedPackageLineItems[{index}].weight needs a positive value"
            ))
        })?;
        weight_unit = text(&item["weight"]["units"]);
        let description = Some(text(&item["itemDescription"])).filter(|line| !line.is_empty());
        packages.push(Package {
            weight_hundredths,
            description,
            customer_references: item["customerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        });
    }
    let label_response = text(&request["labelResponseOptions"]);
    let return_type = text(&detail["returnType"]);
    let pending = &special["pendingShipmentDetail"];
    let delivery = match return_type.as_str() {
        "PRINT_RETURN_LABEL" => {
            if !pending.is_null() {
                return Err(rule(
                    "pendingShipmentDetail applies to returnType PENDING only",
                ));
            }
            if label_response.is_empty() {
                return Err(rule(
                    "labelResponseOptions is required for a printed return label",
                ));
            }
            let specification = &shipment["labelSpecification"];
            if specification.is_null() {
                return Err(rule(
                    "requestedShipment.labelSpecification is required for a printed return label",
                ));
            }
            let image = match text(&specification["imageType"]).as_str() {
                "PDF" => ImageType::Pdf,
                "PNG" => ImageType::Png,
                "ZPLII" => ImageType::Zpl,
                "" => {
                    return Err(rule(
                        "requestedShipment.labelSpecification.imageType is required",
                    ));
                }
                other => return Err(FedexError::not_simulated(format!("imageType {other}"))),
            };
            if text(&specification["labelStockType"]).is_empty() {
                return Err(rule(
                    "requestedShipment.labelSpecification.labelStockType is required",
                ));
            }
            Delivery::Print {
                image,
                url_only: label_response == "URL_ONLY",
            }
        }
        _ => {
            if text(&pending["pendingShipmentType"]) != "EMAIL" {
                return Err(rule(
                    "returnType PENDING needs pendingShipmentDetail with pendingShipmentType EMAIL",
                ));
            }
            let recipients: Vec<String> = pending["emailLabelDetail"]["recipients"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|recipient| text(&recipient["emailAddress"]))
                .filter(|address| !address.is_empty())
                .collect();
            if recipients.is_empty() {
                return Err(rule(
                    "pendingShipmentDetail.emailLabelDetail.recipients needs at least one entry",
                ));
            }
            if text(&detail["returnEmailDetail"]["merchantPhoneNumber"]).is_empty() {
                return Err(rule(
                    "returnShipmentDetail.returnEmailDetail.merchantPhoneNumber is required for Email Return Labels",
                ));
            }
            let raw = text(&pending["expirationTimeStamp"]);
            let expires_on = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| {
                FedexError::bad_request(
                    code::EXPIRATION_INVALID,
                    "pendingShipmentDetail.expirationTimeStamp (YYYY-MM-DD) is required for an email label",
                )
            })?;
            let latest = today.checked_add_months(Months::new(24)).unwrap_or(today);
            if expires_on < today || expires_on > latest {
                return Err(FedexError::bad_request(
                    code::EXPIRATION_INVALID,
                    format!(
                        "pendingShipmentDetail.expirationTimeStamp {expires_on} must be from {today} to {latest}"
                    ),
                ));
            }
            Delivery::Email {
                recipients,
                expires_on,
            }
        }
    };
    let ship_date = match text(&shipment["shipDatestamp"]) {
        raw if raw.is_empty() => today,
        raw => NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .map_err(|_| rule("requestedShipment.shipDatestamp must be YYYY-MM-DD"))?
            .max(today),
    };
    Ok(Plan {
        account_number,
        service_type,
        label_response,
        delivery,
        ship_date,
        weight_unit,
        packages,
        from_lines: party_lines(shipper),
        to_lines: party_lines(recipient),
        recipient_city: text(&recipient["address"]["city"]),
        recipient_state: text(&recipient["address"]["stateOrProvinceCode"]),
        rma_reason: detail["rma"]["reason"].as_str().map(str::to_owned),
    })
}
