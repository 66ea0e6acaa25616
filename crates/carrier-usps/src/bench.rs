//! Entry points for the criterion benches (`benches/v3.rs`, `benches/webtools.rs`): the pure,
//! CPU-bound halves of a label purchase — building the request body and reading a reply —
//! without the network. Not a stable API; domain types in, domain types out, so no wire type
//! leaves the crate.

use base64::Engine;
use bytes::Bytes;
use carrier::{AccountContext, CarrierError, LabelFormat, ReturnLabelRequest, TrackingNumber};
use chrono::NaiveDate;
use secrecy::SecretString;

use crate::account::{Account, UspsAccount};
use crate::{v3, webtools};

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
    Ok(v3::reply::parse_vendor(body, v3::label::Images::Label(format))?.tracking_number)
}

/// Reads a `ReturnLabelMultiPartResponse` body.
pub async fn parse_multipart_reply(
    content_type: &str,
    body: Bytes,
    format: LabelFormat,
) -> Result<TrackingNumber, CarrierError> {
    Ok(
        v3::reply::parse_multipart(content_type, body, v3::label::Images::Label(format))
            .await?
            .tracking_number,
    )
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

/// The `XML` form field of a Web Tools purchase for `request` with the Web Tools `account`:
/// mapped, checked against the tag tables and written, credentials included (hence a secret).
pub fn webtools_request_xml(
    account: AccountContext<'_>,
    request: &ReturnLabelRequest,
    today: NaiveDate,
) -> Result<SecretString, CarrierError> {
    let Account::WebTools(account) = Account::from_context(&account)? else {
        return Err(CarrierError::invalid("details.api", "must be webtools"));
    };
    let prepared = webtools::label::prepare(&account, request, today)?;
    Ok(prepared.request.to_xml(prepared.api, &account.credentials))
}

/// Reads a `USPSReturnsLabelResponse` body and decodes its images.
pub fn parse_webtools_reply(
    body: &[u8],
    format: LabelFormat,
) -> Result<TrackingNumber, CarrierError> {
    let reply = webtools::reply::parse(body)?;
    reply.documents(format)?;
    Ok(reply.tracking_number)
}

/// A v1.5 `USPSReturnsLabelResponse` carrying `label` (a PDF) as the label and receipt image.
pub fn sample_webtools_reply(label: &[u8]) -> Vec<u8> {
    let image = base64::engine::general_purpose::STANDARD.encode(label);
    let tracking = TrackingNumber::impb("021", "904128938", 123)
        .map(|tracking| tracking.as_str().to_owned())
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<USPSReturnsLabelResponse>\
         <BarcodeNumber>42063116{tracking}</BarcodeNumber>\
         <LabelImage>{image}</LabelImage><ReceiptImage>{image}</ReceiptImage>\
         <RetailerATTN>Returns Department</RetailerATTN><RetailerFirm>Backhaul Demo Returns Co.</RetailerFirm>\
         <RetailerAddress1/><RetailerAddress2>4120 Bingham Ave</RetailerAddress2>\
         <RetailerCity>St. Louis</RetailerCity><RetailerState>MO</RetailerState>\
         <RetailerZip5>63116</RetailerZip5><RetailerZip4>1311</RetailerZip4><RDC>0066</RDC>\
         <Postage>8.44</Postage><ExtraServices><ExtraService><ServiceID>156</ServiceID>\
         <ServiceName>Signature Confirmation Electronic</ServiceName><Price>2.65</Price>\
         </ExtraService></ExtraServices><Zone>01</Zone><CarrierRoute>C012</CarrierRoute>\
         </USPSReturnsLabelResponse>"
    )
    .into_bytes()
}
