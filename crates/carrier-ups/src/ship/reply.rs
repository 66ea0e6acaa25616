//! The `ShipmentResponse` (Shipping.yaml `SHIPResponseWrapper`): the package's 1Z tracking
//! number (check digit verified), the `ShipmentIdentificationNumber` (what a void names), the
//! charges and the label image (`PackageResults.ShippingLabel.GraphicImage`, Base64).
//!
//! Nothing here may panic or guess: a reply without what a label needs is an error, which the
//! caller reports as an unknown outcome (the label may exist).

use base64::Engine;
use carrier::{Charges, Currency, Fee, Money, TrackingNumber, Warning};
use serde::Deserialize;

use crate::error::{Error, Operation};
use crate::tracking;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wrapper {
    shipment_response: ShipmentResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShipmentResponse {
    response: ResponseInfo,
    shipment_results: ShipmentResults,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ResponseInfo {
    pub(crate) response_status: Status,
    #[serde(default)]
    pub(crate) alert: Vec<Alert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Status {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Alert {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShipmentResults {
    shipment_charges: Option<ShipmentCharges>,
    shipment_identification_number: Option<String>,
    #[serde(default)]
    package_results: OneOrMany<PackageResults>,
}

/// "For versions >= v2403, this element will always be returned as an array"; a single object
/// (older versions) is read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    fn into_first(self) -> Option<T> {
        match self {
            OneOrMany::Many(items) => items.into_iter().next(),
            OneOrMany::One(item) => Some(item),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShipmentCharges {
    transportation_charges: Option<Charge>,
    service_options_charges: Option<Charge>,
    total_charges: Option<Charge>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Charge {
    currency_code: String,
    monetary_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PackageResults {
    tracking_number: String,
    shipping_label: Option<ShippingLabel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShippingLabel {
    image_format: ImageFormat,
    graphic_image: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageFormat {
    code: String,
}

/// The fee code of `ServiceOptionsCharges`: UPS gives the amount no code of its own, so the
/// element's name stands for it.
pub(crate) const SERVICE_OPTIONS_FEE: &str = "ServiceOptionsCharges";

/// The image UPS returned, by its `ImageFormat.Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageKind {
    Gif,
    Png,
    Zpl,
}

/// A label image as UPS sent it, decoded from Base64.
#[derive(Debug, Clone)]
pub(crate) struct LabelImage {
    pub(crate) kind: ImageKind,
    pub(crate) bytes: Vec<u8>,
}

/// A read `ShipmentResponse`.
#[derive(Debug, Clone)]
pub(crate) struct ShipReply {
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) shipment_id: String,
    /// `TransportationCharges` as the postage, a non-zero `ServiceOptionsCharges` as the one
    /// fee, `TotalCharges` as the total.
    pub(crate) charges: Charges,
    /// Said when `TotalCharges` is not the transportation plus the service options.
    pub(crate) charges_warning: Option<Warning>,
    /// Absent for an Electronic Return Label that UPS emails.
    pub(crate) label: Option<LabelImage>,
    pub(crate) alerts: Vec<(String, String)>,
}

fn malformed(message: impl Into<String>) -> Error {
    Error::malformed(Operation::Ship, message)
}

fn money(name: &str, charge: &Charge) -> Result<Money, Error> {
    let currency = Currency::parse(name, &charge.currency_code).map_err(|_| {
        malformed(format!(
            "{name} currency {:?} is not an ISO 4217 code",
            charge.currency_code
        ))
    })?;
    Money::parse(name, &charge.monetary_value, currency).map_err(|_| {
        malformed(format!(
            "{name} {:?} is not an amount",
            charge.monetary_value
        ))
    })
}

/// `ShipmentCharges` (shipment level: every package together) as the label's charges.
/// `TransportationCharges` ("transportation and surcharges") is the postage; the accessorial
/// `ServiceOptionsCharges` the one fee (left out when zero); `TotalCharges` the total, UPS's
/// word on it even when the two do not add up to it (then with a warning). `ItemizedCharges`
/// (Subversion 1601 and later) are not broken out: the spec does not say which of the two
/// sums each item belongs to, and the base and service-option split above is what it does say.
fn charges(charges: Option<ShipmentCharges>) -> Result<(Charges, Option<Warning>), Error> {
    let charges = charges.ok_or_else(|| malformed("no ShipmentCharges"))?;
    let transportation = charges
        .transportation_charges
        .as_ref()
        .ok_or_else(|| malformed("no TransportationCharges"))
        .and_then(|charge| money("TransportationCharges", charge))?;
    let service_options = charges
        .service_options_charges
        .as_ref()
        .map(|charge| money("ServiceOptionsCharges", charge))
        .transpose()?;
    let total = charges
        .total_charges
        .as_ref()
        .ok_or_else(|| malformed("no TotalCharges"))
        .and_then(|charge| money("TotalCharges", charge))?;
    let fees = service_options
        .map(|amount| Fee::new(Some(SERVICE_OPTIONS_FEE), Some("Service options"), amount))
        .into_iter()
        .collect();
    Charges::stated(transportation, fees, total, "UPS")
        .map_err(|error| malformed(format!("ShipmentCharges: {error}")))
}

fn label(label: ShippingLabel) -> Result<LabelImage, Error> {
    let kind = match label.image_format.code.to_ascii_uppercase().as_str() {
        "GIF" => ImageKind::Gif,
        "PNG" => ImageKind::Png,
        "ZPL" => ImageKind::Zpl,
        other => return Err(malformed(format!("label image format {other:?}"))),
    };
    // Base64 in JSON may be wrapped; whitespace is not part of it.
    let text: String = label
        .graphic_image
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|error| malformed(format!("GraphicImage is not Base64: {error}")))?;
    let looks_right = match kind {
        ImageKind::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        ImageKind::Png => carrier::LabelFormat::Png.matches(&bytes),
        ImageKind::Zpl => carrier::LabelFormat::Zpl.matches(&bytes),
    };
    if !looks_right {
        return Err(malformed(format!(
            "GraphicImage is not the {kind:?} its ImageFormat says"
        )));
    }
    Ok(LabelImage { kind, bytes })
}

/// Reads a successful Ship reply. `expect_label` is false for an emailed Electronic Return
/// Label.
pub(crate) fn parse(body: &[u8], expect_label: bool) -> Result<ShipReply, Error> {
    let wrapper: Wrapper = serde_json::from_slice(body)
        .map_err(|error| malformed(format!("ShipmentResponse: {error}")))?;
    let response = wrapper.shipment_response;
    // "1 = Successful".
    if response.response.response_status.code != "1" {
        return Err(malformed(format!(
            "ResponseStatus {} {}",
            response.response.response_status.code, response.response.response_status.description
        )));
    }
    let results = response.shipment_results;
    let package = results
        .package_results
        .into_first()
        .ok_or_else(|| malformed("no PackageResults"))?;
    let tracking_number =
        tracking::parse("TrackingNumber", &package.tracking_number).map_err(|_| {
            malformed(format!(
                "TrackingNumber {:?} is not a valid 1Z number",
                package.tracking_number
            ))
        })?;
    let shipment_id = match results.shipment_identification_number {
        Some(id) if tracking::is_valid(id.trim()) => id.trim().to_owned(),
        Some(id) => {
            return Err(malformed(format!(
                "ShipmentIdentificationNumber {id:?} is not a valid 1Z number"
            )));
        }
        None => return Err(malformed("no ShipmentIdentificationNumber")),
    };
    let (charges, charges_warning) = charges(results.shipment_charges)?;
    let label = match (package.shipping_label, expect_label) {
        (Some(shipping_label), _) => Some(label(shipping_label)?),
        (None, false) => None,
        (None, true) => return Err(malformed("no ShippingLabel")),
    };
    Ok(ShipReply {
        tracking_number,
        shipment_id,
        charges,
        charges_warning,
        label,
        alerts: response
            .response
            .alert
            .into_iter()
            .map(|alert| (alert.code, alert.description))
            .collect(),
    })
}

#[cfg(test)]
#[path = "reply_tests.rs"]
pub(crate) mod tests;
