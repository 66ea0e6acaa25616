//! `POST /api/shipments/{version}/ship` (Shipping.yaml `Shipment`).
//!
//! In order: the version (`check_version`), the bearer token (401 `250002`), the
//! transaction headers, the query parameter `additionaladdressvalidation` ("Valid Values:
//! city"), `Content-Type: application/json`, the body against the spec's `SHIPRequestWrapper`
//! ([`super::schema`]; every violation listed, code `10002`, naming the field), then the prose
//! rules ([`super::rules`]). A valid request gets one 1Z number per package, a label per
//! package (GIF or ZPL; none for an Electronic Return Label, which UPS e-mails), a ledger entry
//! and a `SHIPResponseWrapper`.
//!
//! Charges are the simulator's own, not UPS's prices (the spec has none): per package
//! $8.00 + $1.00 per started unit of weight, times 3 for Next Day services (01, 13, 14), 2 for
//! 2nd Day (02, 59) and 1.5 for 3 Day Select (12), as the transportation charge
//! (`BaseServiceCharge` = `TransportationCharges`: the simulator adds no fuel surcharge); a
//! service-option charge of $1.50 per package for an Electronic Return Label (ReturnService 8,
//! which UPS bills as an accessorial), else 0.00; `TotalCharges` their sum; USD. The package
//! results carry each package's share, the shipment charges the sums. `BillingWeight` is the packages' weight rounded up to a
//! whole unit, at least 1, written with one decimal and zero-padded to the 8 characters the
//! schema requires (`minLength` = `maxLength` = 8: `"000003.0"`; a client should not rely on
//! the padding, which the spec implies but does not show).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{UpsError, code};
use crate::label::{self, LabelContent, raster};
use crate::ledger::LedgerEntry;
use crate::oauth::{form_pairs, require_access};
use crate::shipping::rules::{self, LabelFormat, Plan, ReturnService};
use crate::shipping::schema::SHIP_SCHEMA;
use crate::shipping::tracking::tracking_number;
use crate::shipping::{check_transaction_headers, check_version};
use crate::state::{AccessGrant, State};

/// At most this many schema violations are listed in one answer.
const VIOLATIONS_LISTED: usize = 10;

/// `POST /api/shipments/{version}/ship`.
pub(crate) async fn ship(
    Extract(state): Extract<Arc<State>>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create(&state, &version, query.as_deref(), &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "ship request refused");
            error.into_response()
        }
    }
}

fn schema_error(message: impl Into<String>) -> UpsError {
    UpsError::bad_request(code::SCHEMA, message)
}

fn check_query(query: Option<&str>) -> Result<(), UpsError> {
    let pairs = form_pairs(query.unwrap_or_default().as_bytes())?;
    for (name, value) in pairs {
        if name == "additionaladdressvalidation" && value != "city" {
            return Err(schema_error(format!(
                "additionaladdressvalidation {value:?} is not valid; valid value: city"
            )));
        }
    }
    Ok(())
}

fn check_json(headers: &HeaderMap) -> Result<(), UpsError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/json") {
        Ok(())
    } else {
        Err(UpsError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::SCHEMA,
            "Content-Type must be application/json",
        ))
    }
}

/// Parses and validates a Ship body against the spec's schema.
pub(crate) fn validated_body(body: &[u8]) -> Result<Value, UpsError> {
    let mut request: Value = serde_json::from_slice(body)
        .map_err(|error| schema_error(format!("The request body is not valid JSON: {error}")))?;
    let schema = SHIP_SCHEMA.as_ref().map_err(|error| {
        tracing::error!(%error, "the Ship schema is unusable");
        UpsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::FAULT,
            "The simulator's copy of Shipping.yaml is unusable",
        )
    })?;
    let violations = schema.check(&mut request, VIOLATIONS_LISTED);
    if violations.is_empty() {
        return Ok(request);
    }
    Err(UpsError {
        status: StatusCode::BAD_REQUEST,
        errors: violations
            .into_iter()
            .map(|violation| {
                (
                    code::SCHEMA.to_owned(),
                    format!("{}: {}", violation.path, violation.message),
                )
            })
            .collect(),
    })
}

fn create(
    state: &State,
    version: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, UpsError> {
    check_version(version, &[])?;
    let grant = require_access(state, headers)?;
    check_transaction_headers(headers)?;
    check_query(query)?;
    check_json(headers)?;
    let request = validated_body(body)?;
    let plan = rules::plan(&request, &grant, &state.config, state.now().date_naive())?;
    issue(state, &grant, &plan)
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn package_cents(service_code: &str, weight_hundredths: u64) -> u64 {
    let units = weight_hundredths.div_ceil(100).max(1);
    let base = 800 + 100 * units;
    match service_code {
        "01" | "13" | "14" => base * 3,
        "02" | "59" => base * 2,
        "12" => base * 3 / 2,
        _ => base,
    }
}

/// The service-option charge per package of an Electronic Return Label.
const ELECTRONIC_RETURN_LABEL_CENTS: u64 = 150;

fn service_option_cents(return_service: Option<ReturnService>) -> u64 {
    match return_service {
        Some(ReturnService::Electronic) => ELECTRONIC_RETURN_LABEL_CENTS,
        Some(ReturnService::Print) | None => 0,
    }
}

fn charge(cents: u64) -> Value {
    json!({"CurrencyCode": "USD", "MonetaryValue": money(cents)})
}

fn draw(content: &LabelContent, format: LabelFormat) -> Result<Vec<u8>, UpsError> {
    let failed = |error: label::RenderError| {
        tracing::error!(%error, "label rendering failed");
        UpsError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::FAULT,
            "The label could not be drawn",
        )
    };
    let elements = label::layout(content).map_err(failed)?;
    match format {
        LabelFormat::Gif => raster::render_gif(&elements).map_err(failed),
        LabelFormat::Zpl => Ok(sim_kit::label::zpl(&elements)),
    }
}

fn issue(state: &State, grant: &AccessGrant, plan: &Plan) -> Result<Value, UpsError> {
    let now = state.now();
    let references: Vec<u32> = {
        let mut book = state.shipments();
        let first = book.next_reference;
        book.next_reference = first.wrapping_add(plan.packages.len() as u32) % 10_000_000;
        (0..plan.packages.len() as u32)
            .map(|offset| (first + offset) % 10_000_000)
            .collect()
    };
    let mut tracking_numbers = Vec::new();
    let mut package_results = Vec::new();
    let mut transportation_cents = 0;
    let mut service_options_cents = 0;
    let count = plan.packages.len();
    for (index, (package, reference)) in plan.packages.iter().zip(references).enumerate() {
        let number = tracking_number(&plan.shipper_number, &plan.service_code, reference)
            .ok_or_else(|| UpsError::bad_request(code::SHIPPER_NUMBER, "Invalid shipper number"))?;
        let cents = package_cents(&plan.service_code, package.weight_hundredths);
        let options = service_option_cents(plan.return_service);
        transportation_cents += cents;
        service_options_cents += options;
        let mut result = json!({
            "TrackingNumber": number,
            "BaseServiceCharge": charge(cents),
            "ServiceOptionsCharges": charge(options),
        });
        if let Some(format) = plan.label_format {
            let content = LabelContent {
                service: format!("UPS {}", plan.service_name).to_uppercase(),
                return_mark: match plan.return_service {
                    Some(ReturnService::Print) => "PRINT RETURN LABEL".to_owned(),
                    Some(ReturnService::Electronic) => "ELECTRONIC RETURN LABEL".to_owned(),
                    None => String::new(),
                },
                tracking_number: number.clone(),
                package_of: format!("{} OF {count}", index + 1),
                weight: format!(
                    "{} {}",
                    package.weight_hundredths.div_ceil(100).max(1),
                    plan.weight_unit
                ),
                date: now.format("%Y-%m-%d").to_string(),
                from_lines: plan.from_lines.clone(),
                to_lines: plan.to_lines.clone(),
                description: package.description.clone(),
            };
            let image = draw(&content, format)?;
            result["ShippingLabel"] = json!({
                "ImageFormat": {"Code": format.code(), "Description": format.code()},
                "GraphicImage": base64::engine::general_purpose::STANDARD.encode(image),
            });
        }
        tracking_numbers.push(number);
        package_results.push(result);
    }
    let billing_weight = plan
        .packages
        .iter()
        .map(|package| package.weight_hundredths)
        .sum::<u64>()
        .div_ceil(100)
        .max(1);
    let shipment_id = tracking_numbers.first().cloned().unwrap_or_default();
    state.shipments().ledger.push(LedgerEntry {
        shipment_identification_number: shipment_id.clone(),
        tracking_numbers,
        shipper_number: plan.shipper_number.clone(),
        service_code: plan.service_code.clone(),
        return_service: plan.return_service.map(|service| service.code().to_owned()),
        label_format: plan.label_format.map(|format| format.code().to_owned()),
        total_charges_cents: transportation_cents + service_options_cents,
        client_id: grant.client_id.clone(),
        username: grant.username.clone(),
        created_at: now,
        voided_at: None,
    });
    tracing::info!(shipment = %shipment_id, packages = count, "shipment created");
    let mut response = json!({
        "ResponseStatus": {"Code": "1", "Description": "Success"},
    });
    if let Some(context) = &plan.customer_context {
        response["TransactionReference"] = json!({"CustomerContext": context});
    }
    let unit = if plan.weight_unit == "KGS" {
        ("KGS", "Kilograms")
    } else {
        ("LBS", "Pounds")
    };
    Ok(json!({
        "ShipmentResponse": {
            "Response": response,
            "ShipmentResults": {
                "ShipmentCharges": {
                    "BaseServiceCharge": charge(transportation_cents),
                    "TransportationCharges": charge(transportation_cents),
                    "ServiceOptionsCharges": charge(service_options_cents),
                    "TotalCharges": charge(transportation_cents + service_options_cents),
                },
                "BillingWeight": {
                    "UnitOfMeasurement": {"Code": unit.0, "Description": unit.1},
                    // The schema gives Weight minLength and maxLength 8: zero-padded to 8.
                    "Weight": format!("{:08.1}", billing_weight as f64),
                },
                "ShipmentIdentificationNumber": shipment_id,
                "PackageResults": package_results,
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_grow_with_weight_and_speed() {
        assert_eq!(package_cents("03", 500), 1300);
        assert_eq!(package_cents("03", 0), 900);
        assert_eq!(package_cents("01", 500), 3900);
        assert_eq!(money(1305), "13.05");
    }

    #[test]
    fn only_an_electronic_return_label_has_a_service_option_charge() {
        assert_eq!(service_option_cents(Some(ReturnService::Electronic)), 150);
        assert_eq!(service_option_cents(Some(ReturnService::Print)), 0);
        assert_eq!(service_option_cents(None), 0);
    }
}
