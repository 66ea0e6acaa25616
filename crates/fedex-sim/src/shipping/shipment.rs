//! `POST /ship/v1/shipments` (Shipment-Resource.json `Create Shipment`).
//!
//! In order: the bearer token (401 `NOT.AUTHORIZED.ERROR`), `content-type: application/json`,
//! the body against `Full_Schema_Ship` ([`crate::schema`]; every violation listed as
//! `INVALID.INPUT.EXCEPTION` naming the field), the account (`accountNumber.value` must be one
//! the token acts for), then the prose rules ([`super::rules`]). A valid return gets one
//! 12-digit tracking number per package, a label per package (none for an email label), a
//! ledger entry and the file's `SHPCResponseVO_ShipShipment`:
//! `output.transactionShipments[0]` with `masterTrackingNumber`, `serviceType`,
//! `serviceName`, `shipDatestamp`, `pieceResponses[]` (`trackingNumber`, `netChargeAmount`,
//! `packageDocuments[]` with `contentType: LABEL`, `docType` and `encodedLabel` (base64, for
//! `labelResponseOptions: LABEL`) or `url` (for `URL_ONLY`)), and `completedShipmentDetail`
//! with `shipmentRating.shipmentRateDetails[0].totalNetCharge`, the shipment's total.
//!
//! `URL_ONLY`: the URL is the simulator's own `GET /__sim/labels/{tracking_number}` (FedEx's
//! document host is not part of the files), serving the label's bytes.
//!
//! Charges are the simulator's own, not FedEx's prices (the file has none): per package a base
//! by service (Ground $9.95, Home Delivery $10.95, Express Saver $24.95, 2Day $29.95, 2Day AM
//! $34.95, Standard Overnight $49.95, Priority Overnight $59.95, First Overnight $89.95) plus
//! $0.85 per started unit of weight over the first; no surcharges, no discounts; USD; the net
//! charge is the base. Amounts are kept in cents and written as the JSON numbers the schema
//! declares.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{FedexError, transaction_id};
use crate::label::{self, LabelContent, pdf, raster};
use crate::ledger::LedgerEntry;
use crate::oauth::{customer_transaction_id, require_access, require_content_type, validated_json};
use crate::schema::Operation;
use crate::shipping::require_account;
use crate::shipping::rules::{self, Delivery, ImageType, Plan, SERVICES};
use crate::shipping::tracking::tracking_number;
use crate::state::{AccessGrant, Document, State};

/// `POST /ship/v1/shipments`.
pub(crate) async fn ship(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create(&state, &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "ship request refused");
            error
                .for_transaction(customer_transaction_id(&headers))
                .into_response()
        }
    }
}

fn create(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let grant = require_access(state, headers)?;
    require_content_type(headers, "application/json")?;
    let request = validated_json(Operation::Ship, body)?;
    let account = request["accountNumber"]["value"]
        .as_str()
        .unwrap_or_default()
        .trim();
    require_account(&state.config, &grant, account)?;
    let plan = rules::plan(&request, state.now().date_naive())?;
    let base_url = base_url(headers);
    issue(state, headers, &grant, &plan, &base_url)
}

/// `http://<Host>`: where `URL_ONLY` links point.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn package_cents(service_type: &str, weight_hundredths: u64) -> u64 {
    let base = match service_type {
        "FEDEX_GROUND" => 995,
        "GROUND_HOME_DELIVERY" => 1095,
        "FEDEX_EXPRESS_SAVER" => 2495,
        "FEDEX_2_DAY" => 2995,
        "FEDEX_2_DAY_AM" => 3495,
        "STANDARD_OVERNIGHT" => 4995,
        "PRIORITY_OVERNIGHT" => 5995,
        _ => 8995,
    };
    let units = weight_hundredths.div_ceil(100).max(1);
    base + 85 * (units - 1)
}

/// Cents as the JSON number the schema declares.
fn amount(cents: u64) -> Value {
    json!(cents as f64 / 100.0)
}

fn draw(content: &LabelContent, image: ImageType) -> Result<Vec<u8>, FedexError> {
    let failed = |error: label::RenderError| {
        tracing::error!(%error, "label rendering failed");
        FedexError::internal()
    };
    let elements = label::layout(content).map_err(failed)?;
    match image {
        ImageType::Png => raster::render_png(&elements).map_err(failed),
        ImageType::Pdf => Ok(pdf::render(&elements)),
        ImageType::Zpl => Ok(sim_kit::label::zpl(&elements)),
    }
}

fn issue(
    state: &State,
    headers: &HeaderMap,
    grant: &AccessGrant,
    plan: &Plan,
    base_url: &str,
) -> Result<Value, FedexError> {
    let now = state.now();
    let (service_name, ground) = SERVICES
        .iter()
        .find(|(name, _, _)| *name == plan.service_type)
        .map(|(_, title, ground)| (*title, *ground))
        .unwrap_or(("FedEx", false));
    let numbers: Vec<String> = {
        let mut book = state.shipments();
        let first = book.next_serial;
        book.next_serial = first + plan.packages.len() as u64;
        (0..plan.packages.len() as u64)
            .filter_map(|offset| tracking_number(first + offset))
            .collect()
    };
    let master = numbers.first().cloned().unwrap_or_default();
    let count = plan.packages.len();
    let mut pieces = Vec::new();
    let mut completed = Vec::new();
    let mut documents = Vec::new();
    let mut total_cents = 0;
    let mut total_weight = 0;
    for (index, (package, number)) in plan.packages.iter().zip(&numbers).enumerate() {
        let cents = package_cents(&plan.service_type, package.weight_hundredths);
        total_cents += cents;
        total_weight += package.weight_hundredths;
        let mut package_documents = Vec::new();
        if let Delivery::Print { image, url_only } = &plan.delivery {
            let content = LabelContent {
                service: service_name.to_uppercase(),
                return_mark: "RETURN LABEL".to_owned(),
                tracking_number: number.clone(),
                package_of: format!("{} OF {count}", index + 1),
                weight: format!(
                    "{} {}",
                    package.weight_hundredths.div_ceil(100).max(1),
                    plan.weight_unit
                ),
                date: plan.ship_date.format("%Y-%m-%d").to_string(),
                from_lines: plan.from_lines.clone(),
                to_lines: plan.to_lines.clone(),
                description: package.description.clone(),
            };
            let bytes = draw(&content, *image)?;
            let mut document = json!({
                "contentType": "LABEL",
                "copiesToPrint": 1,
                "docType": image.name(),
                "trackingNumber": number,
            });
            if *url_only {
                document["url"] = json!(format!("{base_url}/__sim/labels/{number}"));
            } else {
                document["encodedLabel"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(&bytes));
            }
            documents.push((
                number.clone(),
                Document {
                    content_type: image.content_type(),
                    bytes,
                },
            ));
            package_documents.push(document);
        }
        pieces.push(json!({
            "trackingNumber": number,
            "masterTrackingNumber": master,
            "packageSequenceNumber": index + 1,
            "serviceCategory": if ground { "GROUND" } else { "EXPRESS" },
            "netChargeAmount": amount(cents),
            "baseRateAmount": amount(cents),
            "packageDocuments": package_documents,
            "customerReferences": package.customer_references,
        }));
        completed.push(json!({
            "sequenceNumber": index + 1,
            "trackingIds": [{
                "trackingIdType": if ground { "GROUND" } else { "FEDEX" },
                "trackingNumber": number,
            }],
        }));
    }
    let (image_type, recipients, expires_on) = match &plan.delivery {
        Delivery::Print { image, .. } => (Some(image.name().to_owned()), Vec::new(), None),
        Delivery::Email {
            recipients,
            expires_on,
        } => (None, recipients.clone(), Some(*expires_on)),
    };
    {
        let mut book = state.shipments();
        book.documents.extend(documents);
        book.ledger.push(LedgerEntry {
            master_tracking_number: master.clone(),
            tracking_numbers: numbers.clone(),
            account_number: plan.account_number.clone(),
            service_type: plan.service_type.clone(),
            return_type: if image_type.is_some() {
                "PRINT_RETURN_LABEL"
            } else {
                "PENDING"
            }
            .to_owned(),
            image_type,
            label_response: plan.label_response.clone(),
            email_recipients: recipients,
            email_label_expires_on: expires_on,
            rma_reason: plan.rma_reason.clone(),
            total_net_charge_cents: total_cents,
            client_id: grant.client_id.clone(),
            child_key: grant.child_key.clone(),
            created_at: now,
            cancelled_at: None,
        });
    }
    tracing::info!(shipment = %master, packages = count, "return shipment created");
    let billing_weight = total_weight.div_ceil(100).max(1);
    let mut body = json!({
        "transactionId": transaction_id(),
        "output": {
            "transactionShipments": [{
                "masterTrackingNumber": master,
                "serviceType": plan.service_type,
                "serviceName": service_name,
                "serviceCategory": if ground { "GROUND" } else { "EXPRESS" },
                "shipDatestamp": plan.ship_date.format("%Y-%m-%d").to_string(),
                "shipmentDocuments": [],
                "pieceResponses": pieces,
                "completedShipmentDetail": {
                    "usDomestic": true,
                    "carrierCode": if ground { "FDXG" } else { "FDXE" },
                    "masterTrackingId": {
                        "trackingIdType": if ground { "GROUND" } else { "FEDEX" },
                        "trackingNumber": master,
                    },
                    "serviceDescription": {
                        "serviceType": plan.service_type,
                        "description": service_name,
                    },
                    "shipmentRating": {
                        "actualRateType": "PAYOR_ACCOUNT_PACKAGE",
                        "shipmentRateDetails": [{
                            "rateType": "PAYOR_ACCOUNT_PACKAGE",
                            "totalBaseCharge": amount(total_cents),
                            "totalNetFedExCharge": amount(total_cents),
                            "totalNetCharge": amount(total_cents),
                            "totalNetChargeWithDutiesAndTaxes": amount(total_cents),
                            "totalSurcharges": 0,
                            "totalFreightDiscounts": 0,
                            "totalBillingWeight": {
                                "units": if plan.weight_unit == "KG" { "KG" } else { "LB" },
                                "value": billing_weight,
                            },
                            "currency": "USD",
                        }],
                    },
                    "completedPackageDetails": completed,
                },
            }],
        },
    });
    if let Some(id) = customer_transaction_id(headers) {
        body["customerTransactionId"] = json!(id);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_grow_with_weight_and_speed() {
        assert_eq!(package_cents("FEDEX_GROUND", 100), 995);
        assert_eq!(package_cents("FEDEX_GROUND", 250), 995 + 170);
        assert!(package_cents("PRIORITY_OVERNIGHT", 100) > package_cents("FEDEX_2_DAY", 100));
    }
}
