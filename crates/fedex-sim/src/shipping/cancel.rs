//! `PUT /ship/v1/shipments/cancel` (Shipment-Resource.json `Cancel Shipment`, body
//! `Full_Schema_Cancel_Shipment`: `accountNumber`, `trackingNumber`, `senderCountryCode`,
//! `deletionControl`, `emailShipment`).
//!
//! The token must act for `accountNumber.value` (as on Ship). The `trackingNumber` may be any
//! package of the shipment; `deletionControl` has one value, `DELETE_ALL_PACKAGES`, and the
//! whole shipment is cancelled either way. A number the account never shipped (unknown, or
//! another account's) is the file's 400 `SHIPMENT.USER.UNAUTHORIZED`, so numbers do not leak
//! across accounts. The file gives no code for the other refusals; the simulator's:
//! `SHIPMENT.ALREADY.CANCELLED` for a second cancel, `SHIPMENT.CANCEL.NOTALLOWED` once FedEx
//! has scanned a package (a test-control scan). `emailShipment` ("whether a shipment is a EMAIL
//! shipment (Pending Shipment) or not") must be `true` exactly for an email label
//! (`SHIPMENT.VALIDATION.ERROR` otherwise); `senderCountryCode`, if given, must be `US`, the
//! shipper's country of every simulated shipment.
//!
//! The answer is `SHPCResponseVO_CancelShipment`: `cancelledShipment: true`,
//! `cancelledHistory: true`, `message: "Shipment is successfully cancelled"`. The ledger marks
//! the shipment cancelled, it takes no more scans and tracking no longer finds it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{FedexError, code, transaction_id};
use crate::oauth::{customer_transaction_id, require_access, require_content_type, validated_json};
use crate::schema::Operation;
use crate::shipping::require_account;
use crate::state::State;

/// `PUT /ship/v1/shipments/cancel`.
pub(crate) async fn cancel(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match cancel_shipment(&state, &headers, &body) {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            tracing::info!(code = error.code(), "cancel refused");
            error
                .for_transaction(customer_transaction_id(&headers))
                .into_response()
        }
    }
}

fn cancel_shipment(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let grant = require_access(state, headers)?;
    require_content_type(headers, "application/json")?;
    let request = validated_json(Operation::Cancel, body)?;
    let account = request["accountNumber"]["value"]
        .as_str()
        .unwrap_or_default()
        .trim();
    require_account(&state.config, &grant, account)?;
    let number = request["trackingNumber"]
        .as_str()
        .unwrap_or_default()
        .trim();
    if let Some(country) = request["senderCountryCode"].as_str() {
        if country != "US" {
            return Err(FedexError::bad_request(
                code::SHIPMENT_RULE,
                format!("senderCountryCode {country} is not the shipper's country"),
            ));
        }
    }
    let now = state.now();
    let mut book = state.shipments();
    let scanned = |numbers: &[String], book: &crate::state::ShipmentBook| {
        numbers.iter().any(|number| {
            book.scans
                .get(number)
                .is_some_and(|scans| !scans.is_empty())
        })
    };
    let index = book
        .ledger
        .iter()
        .position(|entry| {
            entry.account_number == account
                && entry.tracking_numbers.iter().any(|known| known == number)
        })
        .ok_or_else(|| {
            FedexError::bad_request(
                code::SHIPMENT_USER_UNAUTHORIZED,
                "Requested user is not authorized to perform the operation.",
            )
        })?;
    let entry = book.ledger[index].clone();
    if entry.cancelled_at.is_some() {
        return Err(FedexError::bad_request(
            code::SHIPMENT_ALREADY_CANCELLED,
            format!("The shipment of {number} has already been cancelled."),
        ));
    }
    let email = entry.return_type == "PENDING";
    if request["emailShipment"].as_bool().unwrap_or(false) != email {
        return Err(FedexError::bad_request(
            code::SHIPMENT_RULE,
            if email {
                "emailShipment must be true to cancel an email label (pending) shipment"
            } else {
                "emailShipment must be false for a shipment that is not an email label"
            },
        ));
    }
    if scanned(&entry.tracking_numbers, &book) {
        return Err(FedexError::bad_request(
            code::SHIPMENT_ALREADY_SCANNED,
            format!("The shipment of {number} has been scanned by FedEx and cannot be cancelled."),
        ));
    }
    book.ledger[index].cancelled_at = Some(now);
    tracing::info!(shipment = %entry.master_tracking_number, "shipment cancelled");
    let mut body = json!({
        "transactionId": transaction_id(),
        "output": {
            "cancelledShipment": true,
            "cancelledHistory": true,
            "message": "Shipment is successfully cancelled",
        },
    });
    if let Some(id) = customer_transaction_id(headers) {
        body["customerTransactionId"] = json!(id);
    }
    Ok(body)
}
