//! The Ship reply (`SHPCResponseVO_ShipShipment`): the first `transactionShipments` entry's
//! package — its tracking number (`pieceResponses[].trackingNumber`, else the
//! `masterTrackingNumber`, else `completedPackageDetails[].trackingIds[]`), its label
//! (`packageDocuments[]` of `contentType` `LABEL` with `encodedLabel`, base64) and its
//! charges — and the alerts.
//!
//! Charges come from the package's rating (`completedPackageDetails[].packageRating`: the
//! `packageRateDetails` entry of the `actualRateType`, else the first): `baseCharge` is the
//! postage; `totalFreightDiscounts` (negative), `totalSurcharges` and `totalTaxes` are the
//! fees; `netCharge` ("the sum of net freight, total surcharges and total taxes") is the
//! total — FedEx's, with a warning when the parts do not add up to it. Without a package
//! rating, `pieceResponses[].baseRateAmount` and `netChargeAmount` are used, in the
//! shipment rating's currency (USD when none is named). A pending (emailed) shipment that
//! FedEx did not rate has zero charges and a `fedex_charges_unknown` warning.
//!
//! The file gives no example of this reply; the tests build theirs and validate them
//! against its schema.

use base64::Engine;
use bytes::Bytes;
use carrier::{Charges, Currency, Document, Fee, LabelFormat, Money, TrackingNumber, Warning};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Operation};

#[derive(Deserialize)]
struct Reply {
    output: Option<Output>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    transaction_shipments: Vec<TransactionShipment>,
    #[serde(default)]
    alerts: Vec<Alert>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Alert {
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionShipment {
    master_tracking_number: Option<String>,
    service_type: Option<String>,
    #[serde(default)]
    piece_responses: Vec<PieceResponse>,
    completed_shipment_detail: Option<CompletedShipmentDetail>,
    #[serde(default)]
    shipment_documents: Vec<PackageDocument>,
    #[serde(default)]
    alerts: Vec<Alert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PieceResponse {
    tracking_number: Option<String>,
    master_tracking_number: Option<String>,
    base_rate_amount: Option<Value>,
    net_charge_amount: Option<Value>,
    #[serde(default)]
    package_documents: Vec<PackageDocument>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageDocument {
    content_type: Option<String>,
    encoded_label: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompletedShipmentDetail {
    #[serde(default)]
    completed_package_details: Vec<CompletedPackageDetail>,
    shipment_rating: Option<ShipmentRating>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentRating {
    #[serde(default)]
    shipment_rate_details: Vec<ShipmentRateDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentRateDetail {
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompletedPackageDetail {
    #[serde(default)]
    tracking_ids: Vec<TrackingId>,
    package_rating: Option<PackageRating>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackingId {
    tracking_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageRating {
    actual_rate_type: Option<String>,
    #[serde(default)]
    package_rate_details: Vec<PackageRateDetail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageRateDetail {
    rate_type: Option<String>,
    base_charge: Option<Value>,
    total_freight_discounts: Option<Value>,
    total_surcharges: Option<Value>,
    total_taxes: Option<Value>,
    net_charge: Option<Value>,
    currency: Option<String>,
}

/// A Ship reply, read.
#[derive(Debug)]
pub(crate) struct ShipReply {
    pub(crate) tracking_number: TrackingNumber,
    pub(crate) service_type: Option<String>,
    pub(crate) label: Option<Document>,
    pub(crate) charges: Charges,
    pub(crate) warnings: Vec<Warning>,
}

fn malformed(message: impl Into<String>) -> Error {
    Error::malformed(Operation::Ship, message)
}

/// A JSON number (or numeric string) as money: its shortest decimal text, parsed exactly.
fn money(value: &Value, currency: Currency, what: &str) -> Result<Money, Error> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return Err(malformed(format!("{what} is not an amount"))),
    };
    Money::parse(what, &text, currency).map_err(|_| {
        malformed(format!(
            "{what} {text:?} is not an amount of {}",
            currency.code()
        ))
    })
}

fn currency(raw: Option<&str>) -> Result<Currency, Error> {
    match raw {
        None => Ok(Currency::USD),
        Some(code) => {
            Currency::parse("currency", code).map_err(|_| malformed(format!("currency {code:?}")))
        }
    }
}

fn charges_of(shipment: &TransactionShipment) -> Result<(Charges, Option<Warning>), Error> {
    let detail = shipment.completed_shipment_detail.as_ref();
    let rating = detail
        .and_then(|d| d.completed_package_details.first())
        .and_then(|p| p.package_rating.as_ref());
    if let Some(rating) = rating {
        let chosen = rating
            .package_rate_details
            .iter()
            .find(|d| d.rate_type.is_some() && d.rate_type == rating.actual_rate_type)
            .or_else(|| rating.package_rate_details.first());
        if let Some(rate) = chosen {
            let currency = currency(rate.currency.as_deref())?;
            let base = rate
                .base_charge
                .as_ref()
                .ok_or_else(|| malformed("packageRateDetails without baseCharge"))?;
            let postage = money(base, currency, "baseCharge")?;
            let mut fees = Vec::new();
            if let Some(discounts) = &rate.total_freight_discounts {
                let amount = money(discounts, currency, "totalFreightDiscounts")?;
                // Discounts reduce the charge, whichever sign FedEx writes them with.
                let amount = Money::from_minor(-amount.minor_units().abs(), currency);
                fees.push(Fee::new(
                    Some("FREIGHT_DISCOUNTS"),
                    Some("Freight discounts"),
                    amount,
                ));
            }
            for (value, code, name) in [
                (&rate.total_surcharges, "SURCHARGES", "Surcharges"),
                (&rate.total_taxes, "TAXES", "Taxes"),
            ] {
                if let Some(value) = value {
                    fees.push(Fee::new(
                        Some(code),
                        Some(name),
                        money(value, currency, code)?,
                    ));
                }
            }
            return match &rate.net_charge {
                Some(net) => {
                    let total = money(net, currency, "netCharge")?;
                    Charges::stated(postage, fees, total, "FedEx")
                        .map_err(|e| malformed(e.to_string()))
                }
                None => Charges::itemized(postage, fees)
                    .map(|c| (c, None))
                    .map_err(|e| malformed(e.to_string())),
            };
        }
    }
    let currency = currency(
        detail
            .and_then(|d| d.shipment_rating.as_ref())
            .and_then(|r| r.shipment_rate_details.first())
            .and_then(|d| d.currency.as_deref()),
    )?;
    let piece = shipment.piece_responses.first();
    match (
        piece.and_then(|p| p.base_rate_amount.as_ref()),
        piece.and_then(|p| p.net_charge_amount.as_ref()),
    ) {
        (Some(base), Some(net)) => {
            let postage = money(base, currency, "baseRateAmount")?;
            let total = money(net, currency, "netChargeAmount")?;
            Charges::stated(postage, Vec::new(), total, "FedEx")
                .map_err(|e| malformed(e.to_string()))
        }
        (Some(base), None) | (None, Some(base)) => Ok((
            Charges::postage_only(money(base, currency, "charge")?),
            None,
        )),
        (None, None) => Err(malformed("the reply rates the shipment nowhere")),
    }
}

/// The label of the package: the first `LABEL` document with an encoded image.
fn label_of(
    shipment: &TransactionShipment,
    format: LabelFormat,
) -> Result<Option<Document>, Error> {
    let documents = shipment
        .piece_responses
        .iter()
        .flat_map(|p| p.package_documents.iter())
        .chain(shipment.shipment_documents.iter());
    let encoded = documents
        .filter(|d| d.content_type.as_deref().is_none_or(|t| t == "LABEL"))
        .find_map(|d| d.encoded_label.as_deref().filter(|l| !l.is_empty()));
    let Some(encoded) = encoded else {
        return Ok(None);
    };
    let cleaned: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|_| malformed("the label is not base64"))?;
    if !format.matches(&bytes) {
        return Err(malformed(format!(
            "the label is not a {} document",
            format.as_str()
        )));
    }
    Ok(Some(Document {
        format,
        bytes: Bytes::from(bytes),
    }))
}

/// Reads a Ship reply. A `download` label must come with its image; an emailed one comes
/// without (FedEx emails it).
pub(crate) fn parse(body: &[u8], format: LabelFormat, emailed: bool) -> Result<ShipReply, Error> {
    let reply: Reply = serde_json::from_slice(body).map_err(|error| {
        malformed(format!(
            "Ship reply: {}",
            crate::grant::json_problem(&error)
        ))
    })?;
    let output = reply
        .output
        .ok_or_else(|| malformed("Ship reply without output"))?;
    let shipment = output
        .transaction_shipments
        .first()
        .ok_or_else(|| malformed("Ship reply without transactionShipments"))?;
    let piece = shipment.piece_responses.first();
    let raw_number = piece
        .and_then(|p| p.tracking_number.clone())
        .or_else(|| piece.and_then(|p| p.master_tracking_number.clone()))
        .or_else(|| shipment.master_tracking_number.clone())
        .or_else(|| {
            shipment
                .completed_shipment_detail
                .as_ref()
                .and_then(|d| d.completed_package_details.first())
                .and_then(|p| p.tracking_ids.first())
                .and_then(|t| t.tracking_number.clone())
        })
        .ok_or_else(|| malformed("Ship reply without a tracking number"))?;
    let tracking_number = crate::tracking::parse("trackingNumber", &raw_number).map_err(|_| {
        malformed(format!(
            "tracking number {raw_number:?} fails FedEx's check digit"
        ))
    })?;
    let label = label_of(shipment, format)?;
    if label.is_none() && !emailed {
        return Err(malformed(format!(
            "FedEx made shipment {tracking_number} but returned no label"
        )));
    }
    let mut warnings = Vec::new();
    let charges = match charges_of(shipment) {
        Ok((charges, warning)) => {
            warnings.extend(warning);
            charges
        }
        Err(_) if emailed => {
            warnings.push(Warning::new(
                "fedex_charges_unknown",
                Some("charges"),
                "FedEx did not rate this emailed label; its charges are known once the customer uses it",
            ));
            Charges::postage_only(Money::usd_cents(0))
        }
        Err(error) => return Err(error),
    };
    for alert in output.alerts.iter().chain(shipment.alerts.iter()) {
        let code = alert.code.clone().unwrap_or_default();
        warnings.push(Warning::new(
            &format!(
                "fedex_alert_{}",
                code.to_ascii_lowercase().replace('.', "_")
            ),
            None,
            alert.message.clone().unwrap_or(code),
        ));
    }
    Ok(ShipReply {
        tracking_number,
        service_type: shipment.service_type.clone(),
        label,
        charges,
        warnings,
    })
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
