//! `POST /registration/v2/invoice/keysgeneration` (`validateInvoice`, body
//! `ValidateInvoiceInputVO {invoiceDetail {number, currency, date, amount}}`).
//!
//! A missing `invoiceDetail` is `INVOICE.DETAILS.REQUIRED`, a missing `invoiceDetail.number`
//! `INVOICEDETAILS.NUMBER.REQUIRED` (the file's codes), then the schema. An account that does
//! not offer `INVOICE`, or details that match none of its invoices (number, currency
//! case-insensitively, date, amount to the cent), is `INVOICE.UNKNOWN.ERROR`. A match gets
//! keys. The file's 404 `INVOICEDETAILS.NUMBER.NOTEXIST` is not used: a wrong number answers
//! like any other mismatch, so nothing tells which detail was wrong.

use std::sync::Arc;

use axum::extract::State as Extract;
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::config::cents;
use crate::error::{FedexError, code};
use crate::oauth::{require_content_type, validated_json};
use crate::registration::pin::respond;
use crate::registration::{issue_child, require_integrator, require_session};
use crate::schema::Operation;
use crate::state::State;

/// `POST /registration/v2/invoice/keysgeneration`.
pub(crate) async fn keys(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        &headers,
        validate_invoice(&state, &headers, &body),
        "invoice validation",
    )
}

fn validate_invoice(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, FedexError> {
    let client_id = require_integrator(state, headers)?;
    let (_, account) = require_session(state, headers, &client_id)?;
    require_content_type(headers, "application/json")?;
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if raw.is_object() && raw["invoiceDetail"].is_null() {
        return Err(FedexError::bad_request(
            code::INVOICE_DETAILS_REQUIRED,
            "Invoice details are required.",
        ));
    }
    if raw["invoiceDetail"].is_object() && raw["invoiceDetail"]["number"].is_null() {
        return Err(FedexError::bad_request(
            code::INVOICE_NUMBER_REQUIRED,
            "Please provide invoice number.",
        ));
    }
    let request = validated_json(Operation::InvoiceKeys, body)?;
    let detail = &request["invoiceDetail"];
    let amount = detail["amount"].as_number().map(ToString::to_string);
    let matched = account.mfa_options.iter().any(|option| option == "INVOICE")
        && account.invoices.iter().any(|invoice| {
            detail["number"].as_u64() == Some(invoice.number)
                && detail["currency"]
                    .as_str()
                    .is_some_and(|currency| currency.eq_ignore_ascii_case(&invoice.currency))
                && detail["date"].as_str() == Some(invoice.date.as_str())
                && amount.as_deref().and_then(cents) == cents(&invoice.amount)
        });
    if !matched {
        return Err(FedexError::bad_request(
            code::INVOICE_UNKNOWN,
            "We are unable to process this request. Please try again later or contact FedEx Customer Service.",
        ));
    }
    Ok(issue_child(
        state,
        headers,
        &client_id,
        &account.account_number,
    ))
}
