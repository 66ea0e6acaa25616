//! Entry points for the criterion bench (`benches/v3.rs`): the pure, CPU-bound halves of a label
//! purchase — building the `ReturnLabelRequest` body and reading a reply — without the network.
//! Not a stable API; domain types in, domain types out, so no wire type leaves the crate.

use base64::Engine;
use bytes::Bytes;
use carrier::{AccountContext, CarrierError, LabelFormat, ReturnLabelRequest, TrackingNumber};

use crate::account::UspsAccount;
use crate::v3;

/// The JSON body of the return-label POST for `request` with `account`.
pub fn return_label_body(
    account: AccountContext<'_>,
    request: &ReturnLabelRequest,
) -> Result<Vec<u8>, CarrierError> {
    let account = UspsAccount::from_context(&account)?;
    Ok(v3::label::prepare(&account, request)?.body)
}

/// Reads a `ReturnLabelVendorResponse` body.
pub fn parse_vendor_reply(
    body: &[u8],
    format: LabelFormat,
) -> Result<TrackingNumber, CarrierError> {
    Ok(v3::reply::parse_vendor(body, format)?.tracking_number)
}

/// Reads a `ReturnLabelMultiPartResponse` body.
pub async fn parse_multipart_reply(
    content_type: &str,
    body: Bytes,
    format: LabelFormat,
) -> Result<TrackingNumber, CarrierError> {
    Ok(v3::reply::parse_multipart(content_type, body, format)
        .await?
        .tracking_number)
}

/// A vendor JSON reply carrying `label` (a PDF) as the label and receipt image.
pub fn sample_vendor_reply(label: &[u8]) -> Vec<u8> {
    let image = base64::engine::general_purpose::STANDARD.encode(label);
    serde_json::json!({
        "labelAddress": {"firm": "BACKHAUL DEMO RETURNS CO", "streetAddress": "4120 BINGHAM AVE",
                         "city": "SAINT LOUIS", "state": "MO", "ZIPCode": "63116", "ZIPPlus4": "2520"},
        "routingInformation": "420631162520",
        "trackingNumber": "9302012345600000007248",
        "postage": 8.44,
        "zone": "01",
        "returnLabelImage": image,
        "returnReceiptImage": image,
    })
    .to_string()
    .into_bytes()
}

/// A multipart reply with the same content: `(content type, body)`.
pub fn sample_multipart_reply(label: &[u8]) -> (String, Vec<u8>) {
    let boundary = "XkxytuhvSSXDz-aV1q2YverB";
    let image = base64::engine::general_purpose::STANDARD.encode(label);
    let metadata = serde_json::json!({
        "labelAddress": {"firm": "BACKHAUL DEMO RETURNS CO", "streetAddress": "4120 BINGHAM AVE",
                         "city": "SAINT LOUIS", "state": "MO", "ZIPCode": "63116", "ZIPPlus4": "2520"},
        "routingInformation": "420631162520",
        "trackingNumber": "9302012345600000007248",
        "postage": 8.44,
        "zone": "01",
    });
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelMetadata\"\r\nContent-Type: application/json\r\n\r\n{metadata}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelImage\"; filename=\"label.pdf\"\r\nContent-Type: application/pdf\r\n\r\n{image}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"returnReceiptImage\"; filename=\"receipt.pdf\"\r\nContent-Type: application/pdf\r\n\r\n{image}\r\n\
         --{boundary}--\r\n"
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}
