//! The rules Shipping.yaml states in prose, checked after the schema has passed, and the
//! `Plan` of what to issue. Each rule cites the description it comes from.
//!
//! Checked: `RequestOption`, `ReturnService.Code`, the ShipperNumber and BillShipper account
//! against the token, `Service.Code` (listed values; not-for-returns codes), `ShipFrom` for
//! returns, `ShipmentDate`, the payment containers, `Package.Description` for returns and the
//! package count, `LabelDelivery` and `LabelSpecification` by return service, the label image
//! format and stock size.
//!
//! Supported: forward shipments and the return services `9` (Print Return Label) and `8`
//! (Electronic Return Label, delivered by UPS by e-mail: the answer carries no image). Refused
//! as not simulated, with a clear error: return services `2`, `3`, `5` and `10`–`20`;
//! `LabelLinksIndicator` (its `LabelURL` points at a UPS page the simulator does not serve);
//! service codes that are not two digits (Mail Innovations, Roadie, Trade Direct);
//! `EPL` and `SPL` labels.

use chrono::NaiveDate;
use serde_json::Value;

use crate::config::SimConfig;
use crate::error::{UpsError, code};
use crate::state::AccessGrant;

/// A return service the simulator issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReturnService {
    /// `8`: UPS Electronic Return Label (ERL).
    Electronic,
    /// `9`: UPS Print Return Label (PRL).
    Print,
}

impl ReturnService {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Electronic => "8",
            Self::Print => "9",
        }
    }
}

/// A label image format the simulator draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelFormat {
    Gif,
    Zpl,
}

impl LabelFormat {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Gif => "GIF",
            Self::Zpl => "ZPL",
        }
    }
}

/// One package to issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PackagePlan {
    /// `PackageWeight.Weight` in hundredths of the unit (0 when not sent).
    pub(crate) weight_hundredths: u64,
    pub(crate) description: Option<String>,
}

/// What a valid Ship request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) shipper_number: String,
    pub(crate) service_code: String,
    /// The service's name as the spec lists it, e.g. `Ground`.
    pub(crate) service_name: &'static str,
    pub(crate) return_service: Option<ReturnService>,
    /// `None` for an Electronic Return Label (UPS e-mails it).
    pub(crate) label_format: Option<LabelFormat>,
    pub(crate) weight_unit: String,
    pub(crate) packages: Vec<PackagePlan>,
    pub(crate) customer_context: Option<String>,
    pub(crate) from_lines: Vec<String>,
    pub(crate) to_lines: Vec<String>,
}

/// The name of a `Service.Code`, from the list in its description ("Valid values: …").
fn service_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "01" => "Next Day Air",
        "02" => "2nd Day Air",
        "03" => "Ground",
        "07" => "Express",
        "08" => "Expedited",
        "11" => "UPS Standard",
        "12" => "3 Day Select",
        "13" => "Next Day Air Saver",
        "14" => "UPS Next Day Air Early",
        "17" => "UPS Worldwide Economy DDU",
        "54" => "Express Plus",
        "59" => "2nd Day Air A.M.",
        "65" => "UPS Saver",
        "70" => "UPS Access Point Economy",
        "71" => "UPS Worldwide Express Freight Midday",
        "72" => "UPS Worldwide Economy DDP",
        "74" => "UPS Express 12:00",
        "75" => "UPS Heavy Goods",
        "82" => "UPS Today Standard",
        "83" => "UPS Today Dedicated Courier",
        "84" => "UPS Today Intercity",
        "85" => "UPS Today Express",
        "86" => "UPS Today Express Saver",
        "96" => "UPS Worldwide Express Freight",
        "M2" | "M3" | "M4" | "M5" | "M6" | "M7" | "C6" | "C7" | "C8" | "T0" | "T1" => "",
        _ => return None,
    })
}

fn rule(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::RULE, message)
}

fn not_simulated(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::NOT_SIMULATED, message)
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// Printable address lines of a Shipper / ShipTo / ShipFrom container.
fn address_lines(party: Option<&Value>) -> Vec<String> {
    let Some(party) = party else {
        return Vec::new();
    };
    let mut lines: Vec<String> = ["/Name", "/AttentionName"]
        .iter()
        .filter_map(|pointer| text(party, pointer).map(str::to_owned))
        .collect();
    if let Some(Value::Array(street)) = party.pointer("/Address/AddressLine") {
        lines.extend(street.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let place: Vec<&str> = [
        "/Address/City",
        "/Address/StateProvinceCode",
        "/Address/PostalCode",
    ]
    .iter()
    .filter_map(|pointer| text(party, pointer))
    .collect();
    lines.push(format!(
        "{} {}",
        place.join(" "),
        text(party, "/Address/CountryCode").unwrap_or_default()
    ));
    lines
}

/// Parses a `Weight` string (up to two decimals) into hundredths.
fn hundredths(weight: &str, field: &str) -> Result<u64, UpsError> {
    let invalid = || rule(format!("{field} must be a positive number, got {weight:?}"));
    let (whole, fraction) = weight.split_once('.').unwrap_or((weight, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    let total = whole * 100 + fraction;
    if total == 0 {
        Err(invalid())
    } else {
        Ok(total)
    }
}

/// Checks the prose rules of a schema-valid request and plans the shipment.
pub(crate) fn plan(
    request: &Value,
    grant: &AccessGrant,
    config: &SimConfig,
    today: NaiveDate,
) -> Result<Plan, UpsError> {
    let shipment = request
        .pointer("/ShipmentRequest/Shipment")
        .ok_or_else(|| rule("ShipmentRequest.Shipment is required"))?;
    // RequestOption: "Valid values: nonvalidate … validate".
    let option = text(request, "/ShipmentRequest/Request/RequestOption").unwrap_or_default();
    if !matches!(option, "nonvalidate" | "validate") {
        return Err(rule(format!(
            "ShipmentRequest.Request.RequestOption {option:?} is not valid; valid values: nonvalidate, validate"
        )));
    }
    let return_service = match text(shipment, "/ReturnService/Code") {
        None => None,
        Some("8") => Some(ReturnService::Electronic),
        Some("9") => Some(ReturnService::Print),
        Some(
            other @ ("2" | "3" | "5" | "10" | "11" | "12" | "13" | "14" | "15" | "16" | "17" | "18"
            | "19" | "20"),
        ) => {
            return Err(not_simulated(format!(
                "ReturnService.Code {other} is valid at UPS but not simulated; the simulator issues 8 (Electronic Return Label) and 9 (Print Return Label)"
            )));
        }
        Some(other) => {
            return Err(rule(format!(
                "ReturnService.Code {other} is not a UPS return service (valid: 2, 3, 5, 8, 9, 10-20)"
            )));
        }
    };
    let is_return = return_service.is_some();
    // Shipper.ShipperNumber: "Must be associated with the UserId" — here: held by the token.
    let shipper_number = text(shipment, "/Shipper/ShipperNumber").unwrap_or_default();
    let may_use = |number: &str| grant.shipper_numbers.iter().any(|held| held == number);
    if config.account(shipper_number).is_none() || !may_use(shipper_number) {
        return Err(UpsError::bad_request(
            code::SHIPPER_NUMBER,
            format!(
                "Missing or invalid shipper number: {shipper_number} is not an account this token may ship with"
            ),
        ));
    }
    let service_code = text(shipment, "/Service/Code").unwrap_or_default();
    let service_name = match service_name(service_code) {
        Some(name) if service_code.bytes().all(|byte| byte.is_ascii_digit()) => name,
        Some(_) => {
            return Err(not_simulated(format!(
                "Service.Code {service_code} is valid at UPS but not simulated (only two-digit package services are)"
            )));
        }
        None => {
            return Err(rule(format!(
                "Service.Code {service_code} is not one of the valid values Shipping.yaml lists"
            )));
        }
    };
    // Service.Code: "The following Services are not available to return shipment: 13, 59, 82, …".
    if is_return && matches!(service_code, "13" | "59" | "82" | "83" | "84" | "85" | "86") {
        return Err(rule(format!(
            "Service.Code {service_code} is not available to return shipments"
        )));
    }
    // ShipFrom: "Ship From Container. Required for return shipment."
    let ship_from = shipment.get("ShipFrom");
    if is_return && ship_from.is_none() {
        return Err(rule("Shipment.ShipFrom is required for a return shipment"));
    }
    if let Some(date) = text(shipment, "/ShipmentDate") {
        check_shipment_date(date, today)?;
    }
    check_payment(shipment, is_return, &may_use)?;
    let packages = check_packages(shipment, is_return, ship_from)?;
    let label_format = check_labels(request, shipment, return_service)?;
    let weight_unit = text(shipment, "/Package/0/PackageWeight/UnitOfMeasurement/Code")
        .unwrap_or("LBS")
        .to_owned();
    Ok(Plan {
        shipper_number: shipper_number.to_owned(),
        service_code: service_code.to_owned(),
        service_name,
        return_service,
        label_format,
        weight_unit,
        packages,
        customer_context: text(
            request,
            "/ShipmentRequest/Request/TransactionReference/CustomerContext",
        )
        .map(str::to_owned),
        from_lines: address_lines(ship_from.or_else(|| shipment.get("Shipper"))),
        to_lines: address_lines(shipment.get("ShipTo")),
    })
}

/// ShipmentDate: "User can send up to 7 days in the future with current date as day zero.
/// Format: YYYYMMDD" — read as today (the simulator clock's UTC date) to today + 7.
fn check_shipment_date(date: &str, today: NaiveDate) -> Result<(), UpsError> {
    let parsed = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| {
        rule(format!(
            "Shipment.ShipmentDate {date} is not a date in the format YYYYMMDD"
        ))
    })?;
    let days = (parsed - today).num_days();
    if (0..=7).contains(&days) {
        Ok(())
    } else {
        Err(rule(format!(
            "Shipment.ShipmentDate {date} must be today or up to 7 days in the future"
        )))
    }
}

fn check_payment(
    shipment: &Value,
    is_return: bool,
    may_use: &dyn Fn(&str) -> bool,
) -> Result<(), UpsError> {
    let charges = shipment
        .pointer("/PaymentInformation/ShipmentCharge")
        .and_then(Value::as_array)
        .ok_or_else(|| rule("Shipment.PaymentInformation.ShipmentCharge is required (a Transportation charge, Type 01)"))?;
    // ShipmentCharge.Type: "A shipment charge type of 01 = Transportation is required."
    if !charges
        .iter()
        .any(|charge| text(charge, "/Type") == Some("01"))
    {
        return Err(rule(
            "A ShipmentCharge of Type 01 (Transportation) is required",
        ));
    }
    for (index, charge) in charges.iter().enumerate() {
        let field = format!("Shipment.PaymentInformation.ShipmentCharge[{index}]");
        let kind = text(charge, "/Type").unwrap_or_default();
        if !matches!(kind, "01" | "02" | "03") {
            return Err(rule(format!(
                "{field}.Type {kind} is not valid (01, 02 or 03)"
            )));
        }
        // BillReceiver: "This element or its sibling element, BillShipper, BillThirdParty or
        // Consignee Billed, must be present but no more than one can be present."
        let payers: Vec<&str> = [
            "BillShipper",
            "BillReceiver",
            "BillThirdParty",
            "ConsigneeBilledIndicator",
        ]
        .into_iter()
        .filter(|payer| charge.get(payer).is_some())
        .collect();
        if payers.len() != 1 {
            return Err(rule(format!(
                "{field} must name exactly one of BillShipper, BillReceiver, BillThirdParty, ConsigneeBilledIndicator"
            )));
        }
        // "For a return shipment, Bill Receiver is invalid for Transportation charges."
        if is_return && kind == "01" && payers[0] == "BillReceiver" {
            return Err(rule(format!(
                "{field}: BillReceiver is invalid for the Transportation charges of a return shipment"
            )));
        }
        if let Some(bill) = charge.get("BillShipper") {
            // CreditCard: "Credit card payment is valid for shipments without return service only."
            if is_return && bill.get("CreditCard").is_some() {
                return Err(rule(format!(
                    "{field}.BillShipper.CreditCard is valid for shipments without return service only"
                )));
            }
            match text(bill, "/AccountNumber") {
                Some(account) if !may_use(account) => {
                    return Err(UpsError::bad_request(
                        code::SHIPPER_NUMBER,
                        format!(
                            "{field}.BillShipper.AccountNumber {account} is not an account this token may bill"
                        ),
                    ));
                }
                Some(_) => {}
                None if bill.get("CreditCard").is_some()
                    || bill.get("AlternatePaymentMethod").is_some() =>
                {
                    return Err(not_simulated(format!(
                        "{field}.BillShipper: credit card and alternate payment are not simulated"
                    )));
                }
                None => {
                    return Err(rule(format!(
                        "{field}.BillShipper needs AccountNumber, CreditCard or AlternatePaymentMethod"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn check_packages(
    shipment: &Value,
    is_return: bool,
    ship_from: Option<&Value>,
) -> Result<Vec<PackagePlan>, UpsError> {
    let packages = shipment
        .get("Package")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if packages.is_empty() {
        return Err(rule("Shipment.Package needs at least one package"));
    }
    // Package: "For Return Shipments up to 20 packages are allowed. US/PR origin return
    // movements are limited to only one package."
    if is_return {
        let origin = ship_from
            .and_then(|from| text(from, "/Address/CountryCode"))
            .unwrap_or_default();
        if matches!(origin, "US" | "PR") && packages.len() > 1 {
            return Err(rule(
                "US/PR origin return shipments are limited to only one package",
            ));
        }
        if packages.len() > 20 {
            return Err(rule("Return shipments allow up to 20 packages"));
        }
    }
    packages
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let field = format!("Shipment.Package[{index}]");
            let description = text(package, "/Description").map(str::to_owned);
            // Package.Description: "Required for shipment with return service."
            if is_return && description.is_none() {
                return Err(rule(format!(
                    "{field}.Description is required for a return shipment"
                )));
            }
            let weight_hundredths = match text(package, "/PackageWeight/Weight") {
                Some(weight) => hundredths(weight, &format!("{field}.PackageWeight.Weight"))?,
                None => 0,
            };
            Ok(PackagePlan {
                weight_hundredths,
                description,
            })
        })
        .collect()
}

fn check_labels(
    request: &Value,
    shipment: &Value,
    return_service: Option<ReturnService>,
) -> Result<Option<LabelFormat>, UpsError> {
    let delivery = shipment.pointer("/ShipmentServiceOptions/LabelDelivery");
    if let Some(delivery) = delivery {
        if delivery.get("LabelLinksIndicator").is_some() {
            return Err(not_simulated(
                "LabelDelivery.LabelLinksIndicator (label URLs) is not simulated",
            ));
        }
    }
    let specification = request.pointer("/ShipmentRequest/LabelSpecification");
    if return_service == Some(ReturnService::Electronic) {
        // LabelDelivery: "Required for shipments with either Electronic Return Label Return
        // Service …; either of the LabelLinksIndicator or EMail container should be provided."
        if delivery
            .and_then(|delivery| delivery.get("EMail"))
            .is_none()
        {
            return Err(rule(
                "ShipmentServiceOptions.LabelDelivery with EMail is required for ReturnService 8 (Electronic Return Label)",
            ));
        }
        // LabelSpecification: "Required for Electronic Return Label … with SubVersion greater
        // than or equal to 1707."
        let subversion: u32 = text(request, "/ShipmentRequest/Request/SubVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if subversion >= 1707 && specification.is_none() {
            return Err(rule(
                "ShipmentRequest.LabelSpecification is required for an Electronic Return Label with SubVersion 1707 or later",
            ));
        }
        return Ok(None);
    }
    // LabelDelivery: "For shipments with Print Return Label Return Service … or Forward
    // movement, only LabelLinksIndicator is valid option for LabelDelivery container."
    if delivery
        .and_then(|delivery| delivery.get("EMail"))
        .is_some()
    {
        return Err(rule(
            "LabelDelivery.EMail is valid only for ReturnService 8; for Print Return Label and forward shipments only LabelLinksIndicator is valid",
        ));
    }
    // LabelSpecification: "Required for shipment without return service or shipments with PRL
    // return service."
    let specification = specification.ok_or_else(|| {
        rule("ShipmentRequest.LabelSpecification is required for a printed label")
    })?;
    let format = match text(specification, "/LabelImageFormat/Code").unwrap_or_default() {
        "GIF" => LabelFormat::Gif,
        "ZPL" => LabelFormat::Zpl,
        code @ ("EPL" | "SPL") => {
            return Err(not_simulated(format!(
                "LabelImageFormat.Code {code} is valid at UPS but not simulated (GIF and ZPL are)"
            )));
        }
        // LabelImageFormat.Code: "For shipments with PRL return service, the valid values are
        // EPL, ZPL, SPL and GIF"; ShippingLabel.ImageFormat: "Only EPL, SPL, ZPL and GIF are
        // currently supported" (PNG is listed there but not supported).
        other => {
            return Err(rule(format!(
                "LabelImageFormat.Code {other} is not valid; valid values: GIF, ZPL, EPL, SPL"
            )));
        }
    };
    // LabelStockSize: "For EPL2, ZPL and SPL Labels. Only valid values are 6 or 8 … Valid value is 4."
    if format == LabelFormat::Zpl {
        let height = text(specification, "/LabelStockSize/Height").unwrap_or_default();
        let width = text(specification, "/LabelStockSize/Width").unwrap_or_default();
        if width != "4" || !matches!(height, "6" | "8") {
            return Err(rule(format!(
                "LabelStockSize {width}x{height} is not valid for ZPL: Width must be 4 and Height 6 or 8"
            )));
        }
    }
    Ok(Some(format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_dates_run_from_today_to_seven_days_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert!(check_shipment_date("20261202", today).is_ok());
        assert!(check_shipment_date("20261209", today).is_ok());
        assert!(check_shipment_date("20261210", today).is_err());
        assert!(check_shipment_date("20261201", today).is_err());
        assert!(check_shipment_date("20261332", today).is_err());
    }

    #[test]
    fn weights_are_read_to_the_hundredth() {
        assert_eq!(hundredths("5", "w").unwrap(), 500);
        assert_eq!(hundredths("1.5", "w").unwrap(), 150);
        assert_eq!(hundredths(".25", "w").unwrap(), 25);
        assert!(hundredths("0", "w").is_err());
        assert!(hundredths("1.234", "w").is_err());
        assert!(hundredths("abc", "w").is_err());
        assert!(hundredths(".", "w").is_err());
    }
}
