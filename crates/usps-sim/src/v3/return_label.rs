//! `POST /labels/v3/return-label` from domestic-labels.yaml (Labels API 3.9.13) and the
//! return-label error inventory (errors-domestic-labels-returns.csv).
//!
//! # Request
//! Checks, in order (the first failing stage answers):
//! 1. `Authorization: Bearer` access token — 401 (`SIM_UNAUTHORIZED`, `WWW-Authenticate`).
//! 2. `Accept` — `application/vnd.usps.labels+xml` alone is 406 (`SIM_NOT_ACCEPTABLE`).
//! 3. `Content-Type: application/json` — else 415 (`application/xml` is not simulated).
//! 4. `X-Payment-Authorization-Token` — missing: 400 `OAS_VALIDATION` (the header is
//!    `required: true`); unknown, expired (8 hours) or issued to another OAuth client: 401
//!    `SIM_PAYMENT_TOKEN` (an authorization credential that is not valid).
//! 5. `X-Idempotency-Key` — optional; when present it must be a UUID (`format: uuid`), else
//!    400 `OAS_VALIDATION`.
//! 6. Dimensions that mix zero and non-zero `length`/`width`/`height` — 160294.
//! 7. The body against `ReturnLabelRequest` ([`crate::v3::schema`]) — 400 `OAS_VALIDATION`,
//!    every violation listed, `source.parameter` the JSON path.
//! 8. The label owner of the payment token must be enrolled in USPS Ship Returns — 160304,
//!    parameter `Header: X-Payment-Authorization-Token`.
//! 9. Rules from the inventory and the spec's prose, all reported together:
//!    160285 / 160286 / 160284 / 160287 (`rateIndicator` xor `shape` + `packagingType`),
//!    160075 (first and last name or firm on every address), 160182 (`LETTERS` only for
//!    the Priority classes), 160098 (weight over 70 lb), 160042 (length + girth over 130 in,
//!    108 in for Priority Mail Express), 160183 (`ignoreBadAddress` without `ZIPPlus4` on
//!    `toAddress`), 160192 (ZIP Code `000xx`), 160193 (APO/FPO/DPO state without
//!    `customsForm`), 160060 (`REDIRECT` without `redirectAddress`), 160395 (OMAS
//!    chargeback code without an OMAS payer), 160234 (cremated remains outside Priority Mail
//!    Express), 030024 (insurance 930 without a package value), 160010 (extra services the
//!    simulator's return classes do not offer: 365, 415, 910–913, 934, 991, and 925/981/986
//!    outside Priority Mail Express), 160346 (`4X4LABEL`), 160367 (`6X4LABEL`), 160214
//!    (`2X7LABEL` with ZPL), the Label Broker rules of [`label_broker`] (160368, 160007,
//!    160062, 160129, `NONE` receipts only), and `SIM_INVALID_COMBINATION` for
//!    `FLATS` with Ground Advantage, `EPL300DPI` (not supported for return labels),
//!    `SAME_PAGE` receipts with ZPL, girth on a rectangular package, Priority Mail Express
//!    packaging (E4, E6, PA) with another class, flat-rate packaging with Ground Advantage, and
//!    `SENDER_INFORMATION` without a complete `senderAddress`; `SIM_UNSUPPORTED` for `JPG`,
//!    `GIF` and branding images.
//!
//! # Label
//! Tracking number: a valid IMpb from the payment token's LABEL_OWNER MID and the service type
//! code of the [`rate`] module (`92…` for 9-digit MIDs, `93…` for 6-digit ones).
//! Routing: `420` + `toAddress.ZIPCode`. Postage, zone, SKU and fees: [`crate::rate`], from
//! `packageDescription.inductionZIPCode` (else `fromAddress.ZIPCode`) to `toAddress.ZIPCode`.
//! `mailingDate`: the processing time plus two hours (as the spec describes), RFC 3339 UTC.
//! `labelAddress`: the `toAddress` upper-cased. Images: [`crate::label`].
//!
//! # Reply
//! `Accept: application/vnd.usps.labels+json` → ReturnLabelVendorResponse JSON (metadata at
//! the top level plus base64 `returnLabelImage` / `returnReceiptImage`). Anything else (none,
//! `*/*`, `multipart/form-data`, `application/json`) → the default `multipart/form-data`:
//! part `returnLabelMetadata` (`application/json`), part `returnLabelImage` (the image's
//! content type, `filename="label.<ext>"`, base64 with `Content-Transfer-Encoding: base64`),
//! and part `returnReceiptImage` when `receiptOption` is `SEPARATE_PAGE` (except ZPL, where
//! the receipt is a second segment of the label). `imageType: NONE` returns no image.
//! `imageType: LABEL_BROKER` ([`label_broker`]): `labelBrokerID` in the metadata and the QR
//! code PNG as `returnLabelImage`; with `includeLabelBrokerPDF: true` the label's PDF as
//! `returnLabelImage` and the QR code as `labelBrokerQR` (a vendor JSON field, or a part
//! `labelBrokerQR` with `filename="label-broker-qr.png"`).
//!
//! # Idempotency
//! `X-Idempotency-Key` is scoped to the label owner's CRID. The same key with a structurally
//! identical body returns the stored label again (same tracking number, same image bytes) and
//! adds nothing to the ledger; the same key with a different body is 400
//! `SIM_IDEMPOTENCY_CONFLICT` (simulator behaviour: USPS does not document this case).

use std::sync::Arc;

use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use carrier::tracking::TrackingNumber;
use chrono::{Duration, SecondsFormat};
use serde_json::{Map, Value, json};

use crate::label::{self, ImageFormat, LabelContent, PageSize, Receipt, RenderOptions};
use crate::ledger::LedgerEntry;
use crate::rate::{self, Package, ReturnService};
use crate::state::{IdempotentLabel, PaymentGrant, State, random_token};
use crate::v3::auth::{parse_json, require_access, require_json};
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};
use crate::v3::label_broker;
use crate::v3::schema::{self, Pattern, RETURN_LABEL_REQUEST};

const API: ApiVersion = ApiVersion::Labels;
const PAYMENT_HEADER: &str = "X-Payment-Authorization-Token";
const IDEMPOTENCY_HEADER: &str = "X-Idempotency-Key";
const VENDOR_JSON: &str = "application/vnd.usps.labels+json";

/// A label as issued: its metadata and images, kept for idempotent replays.
#[derive(Clone, Debug)]
pub(crate) struct IssuedLabel {
    pub(crate) metadata: Map<String, Value>,
    pub(crate) label_image: Option<label::Image>,
    pub(crate) receipt_image: Option<label::Image>,
    /// `labelBrokerQR`: the Label Broker QR code, when `includeLabelBrokerPDF` made
    /// `label_image` the label's PDF.
    pub(crate) label_broker_qr: Option<label::Image>,
}

/// How to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Vendor,
    Multipart,
}

/// `POST /labels/v3/return-label`.
pub(crate) async fn return_label(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create(&state, &headers, &body) {
        Ok((label, reply)) => respond(&label, reply),
        Err(error) => {
            tracing::info!(status = %error.status(), "return label refused");
            error.into_response()
        }
    }
}

fn negotiate(headers: &HeaderMap) -> Result<Reply, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let types: Vec<&str> = accept
        .split(',')
        .map(|part| part.split(';').next().unwrap_or("").trim())
        .filter(|part| !part.is_empty())
        .collect();
    if types.contains(&VENDOR_JSON) {
        return Ok(Reply::Vendor);
    }
    if !types.is_empty()
        && types
            .iter()
            .all(|kind| *kind == "application/vnd.usps.labels+xml")
    {
        return Err(ApiError::new(StatusCode::NOT_ACCEPTABLE, API).with(
            ErrorDetail::new(
                "SIM_NOT_ACCEPTABLE",
                "application/vnd.usps.labels+xml is not supported by the simulator; accept application/vnd.usps.labels+json or multipart/form-data",
            )
            .at("Header: Accept"),
        ));
    }
    Ok(Reply::Multipart)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(|text| Some(text.trim())).map_err(|_| {
            ApiError::schema(
                API,
                format!("Header: {name}"),
                format!("{name} must be ASCII text"),
            )
        }),
    }
}

fn payment_grant(
    state: &State,
    headers: &HeaderMap,
    client_id: &str,
) -> Result<PaymentGrant, ApiError> {
    let token = header_text(headers, PAYMENT_HEADER)?
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::schema(
                API,
                format!("Header: {PAYMENT_HEADER}"),
                format!("{PAYMENT_HEADER} header is required; get one from POST /payments/v3/payment-authorization"),
            )
        })?;
    let now = state.now();
    let grant = state
        .payments()
        .get(token)
        .filter(|grant| grant.expires_at > now && grant.client_id == client_id)
        .cloned();
    grant.ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, API).with(
            ErrorDetail::new(
                "SIM_PAYMENT_TOKEN",
                "The payment authorization token is invalid, has expired (tokens last 8 hours) or was issued to another client",
            )
            .at(format!("Header: {PAYMENT_HEADER}")),
        )
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(key) = header_text(headers, IDEMPOTENCY_HEADER)? else {
        return Ok(None);
    };
    if Pattern::Uuid.matches(key) && key.len() == 36 {
        Ok(Some(key.to_ascii_lowercase()))
    } else {
        Err(ApiError::bad_request(
            API,
            vec![
                ErrorDetail::new(
                    "OAS_VALIDATION",
                    format!("{IDEMPOTENCY_HEADER} must be a UUID (format: uuid), got {key:?}"),
                )
                .at(format!("Header: {IDEMPOTENCY_HEADER}"))
                .example("8be4df61-93ca-11d2-aa0d-00e098032b8c"),
            ],
        ))
    }
}

fn create(
    state: &State,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Arc<IssuedLabel>, Reply), ApiError> {
    let access = require_access(state, headers, API)?;
    let reply = negotiate(headers)?;
    require_json(headers, API)?;
    let payment = payment_grant(state, headers, &access.client_id)?;
    let key = idempotency_key(headers)?;
    let request = parse_json(body, API)?;

    if let Some(error) = mixed_dimensions(&request) {
        return Err(ApiError::bad_request(API, vec![error]));
    }
    let mut errors = Vec::new();
    schema::check(&RETURN_LABEL_REQUEST, &request, "", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::bad_request(API, errors));
    }

    let owner = &payment.label_owner;
    let enrolled = state
        .config
        .crid(&owner.crid)
        .is_some_and(|crid| crid.enrolled_in_ship_returns);
    if !enrolled {
        return Err(ApiError::bad_request(
            API,
            vec![
                ErrorDetail::new(
                    "160304",
                    "Must be enrolled in USPS Ship Returns in order to create return labels",
                )
                .at(format!("Header: {PAYMENT_HEADER}")),
            ],
        ));
    }

    check_rules(&request, state.label_broker_available(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::bad_request(API, errors));
    }

    let mut book = state.labels();
    if let Some(key) = &key {
        if let Some(stored) = book.idempotency.get(&(owner.crid.clone(), key.clone())) {
            if stored.request == request {
                tracing::info!(crid = %owner.crid, idempotency_key = %key, "idempotent replay of a return label");
                return Ok((Arc::clone(&stored.label), reply));
            }
            return Err(ApiError::bad_request(
                API,
                vec![
                    ErrorDetail::new(
                        "SIM_IDEMPOTENCY_CONFLICT",
                        format!(
                            "X-Idempotency-Key {key} was already used by CRID {} with a different request body; use a new key for a new label",
                            owner.crid
                        ),
                    )
                    .at(format!("Header: {IDEMPOTENCY_HEADER}")),
                ],
            ));
        }
    }
    let serial = book.next_serial;
    book.next_serial += 1;
    let now = state.now();
    let issued = issue(&request, &payment, serial, now)?;
    let label = Arc::new(issued.label);
    book.ledger.push(LedgerEntry {
        tracking_number: issued.tracking_number.clone(),
        routing: issued.routing,
        crid: owner.crid.clone(),
        mid: owner.mid.clone(),
        mail_class: issued.mail_class,
        postage_cents: issued.postage_cents,
        idempotency_key: key.clone(),
        created_at: now,
        api: "v3".to_owned(),
        origin_zip: text(&request["packageDescription"], "inductionZIPCode")
            .or_else(|| text(&request["fromAddress"], "ZIPCode"))
            .map(str::to_owned),
        label_broker_id: issued.label_broker_id.clone(),
    });
    if let Some(key) = key {
        book.idempotency.insert(
            (owner.crid.clone(), key),
            IdempotentLabel {
                request,
                label: Arc::clone(&label),
            },
        );
    }
    tracing::info!(
        tracking_number = %issued.tracking_number,
        crid = %owner.crid,
        mid = %owner.mid,
        postage_cents = issued.postage_cents,
        label_broker_id = issued.label_broker_id.as_deref().unwrap_or(""),
        "return label issued"
    );
    Ok((label, reply))
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn number(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

/// 160294: `length`, `width` and `height` all zero or all greater than zero.
fn mixed_dimensions(request: &Value) -> Option<ErrorDetail> {
    let package = request.get("packageDescription")?;
    let sizes: Vec<f64> = ["length", "width", "height"]
        .iter()
        .filter_map(|key| number(package, key))
        .collect();
    let zero = sizes.contains(&0.0);
    let positive = sizes.iter().any(|size| *size > 0.0);
    (zero && positive).then(|| {
        ErrorDetail::new(
            "160294",
            "length, width, and height must either be all zero or greater than zero",
        )
        .at("packageDescription.length, packageDescription.width, packageDescription.height")
    })
}

fn rule(code: &str, detail: impl Into<String>, parameter: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(code, detail).at(parameter)
}

fn combination(detail: impl Into<String>, parameter: impl Into<String>) -> ErrorDetail {
    rule("SIM_INVALID_COMBINATION", detail, parameter)
}

const ADDRESSES: &[&str] = &["toAddress", "fromAddress", "senderAddress", "returnAddress"];
const MILITARY_STATES: &[&str] = &["AA", "AE", "AP"];
const FLAT_RATE: &[&str] = &["FE", "FA", "FP", "FS", "FB", "PL", "PM"];
const EXPRESS_ONLY: &[&str] = &["E4", "E6", "PA"];

fn non_empty(value: &Value, key: &str) -> bool {
    text(value, key).is_some_and(|text| !text.trim().is_empty())
}

fn check_addresses(request: &Value, errors: &mut Vec<ErrorDetail>) {
    let has_customs_form = request.get("customsForm").is_some();
    for name in ADDRESSES {
        let Some(address) = request.get(*name) else {
            continue;
        };
        let named = non_empty(address, "firstName") && non_empty(address, "lastName");
        if !named && !non_empty(address, "firm") {
            errors.push(rule(
                "160075",
                "firstName and lastName or firm name are required",
                format!("{name}.firstName, {name}.lastName, {name}.firm"),
            ));
        }
        if text(address, "ZIPCode").is_some_and(|zip| zip.starts_with("000")) {
            errors.push(rule(
                "160192",
                "ZIP Code is not valid",
                format!("{name}.ZIPCode"),
            ));
        }
        let military = text(address, "state").is_some_and(|state| MILITARY_STATES.contains(&state));
        if military && !has_customs_form && (*name == "toAddress" || *name == "fromAddress") {
            errors.push(rule(
                "160193",
                "Military ZIP Code requires a customs form",
                *name,
            ));
        }
    }
    if let Some(to) = request.get("toAddress") {
        let ignore_bad = to.get("ignoreBadAddress").and_then(Value::as_bool) == Some(true);
        if ignore_bad && text(to, "ZIPPlus4").is_none() {
            errors.push(rule("160183", "ZIPPlus4 is required", "toAddress"));
        }
    }
}

fn check_package(package: &Value, service: ReturnService, errors: &mut Vec<ErrorDetail>) {
    let mail_class = text(package, "mailClass").unwrap_or_default();
    let rate_indicator = text(package, "rateIndicator");
    let shape = text(package, "shape");
    let packaging = text(package, "packagingType");
    match (rate_indicator, shape, packaging) {
        (Some(_), Some(_), _) => errors.push(rule(
            "160284",
            "cannot include shape or packagingType with rateIndicator",
            "packageDescription.packagingType, packageDescription.shape",
        )),
        (Some(_), None, Some(_)) => errors.push(rule(
            "160287",
            "cannot include packagingType with rateIndicator",
            "packageDescription.packagingType",
        )),
        (None, Some(_), None) => errors.push(rule(
            "160286",
            "either rateIndicator or packagingType is required",
            "packageDescription.packagingType, packageDescription.rateIndicator",
        )),
        (None, None, _) => errors.push(rule(
            "160285",
            "either rateIndicator or shape and packagingType are required",
            "packageDescription.packagingType, packageDescription.shape, packageDescription.rateIndicator",
        )),
        _ => {}
    }
    if let Some(indicator) = rate_indicator {
        if EXPRESS_ONLY.contains(&indicator) && service != ReturnService::PriorityExpress {
            errors.push(combination(
                format!("rateIndicator {indicator} is only valid for PRIORITY_MAIL_EXPRESS_RETURN_SERVICE"),
                "packageDescription.rateIndicator",
            ));
        }
        if FLAT_RATE.contains(&indicator) && service == ReturnService::GroundAdvantage {
            errors.push(combination(
                format!(
                    "flat-rate rateIndicator {indicator} is not valid for mailClass {mail_class}"
                ),
                "packageDescription.rateIndicator",
            ));
        }
    }

    let processing = text(package, "processingCategory").unwrap_or_default();
    if processing == "LETTERS" && service == ReturnService::GroundAdvantage {
        errors.push(rule(
            "160182",
            "'LETTERS' is only a valid processingCategory when the mail class is 'PRIORITY_MAIL_RETURN_SERVICE' or 'PRIORITY_MAIL_EXPRESS_RETURN_SERVICE'",
            "processingCategory/mailClass",
        ));
    }
    if processing == "FLATS" && service == ReturnService::GroundAdvantage {
        errors.push(combination(
            format!("The processing category FLATS is not valid for mail class {mail_class} (USPS_GROUND_ADVANTAGE_RETURN_SERVICE)"),
            "packageDescription.processingCategory",
        ));
    }

    let weight = number(package, "weight").unwrap_or_default();
    if weight > 70.0 {
        errors.push(rule(
            "160098",
            "Weight should be greater than 0 LB and should not exceed 70 LB",
            "packageDescription.weight, packageDescription.mailClass",
        ));
    }
    let length = number(package, "length").unwrap_or_default();
    let width = number(package, "width").unwrap_or_default();
    let height = number(package, "height").unwrap_or_default();
    let girth = number(package, "girth");
    let rectangular = shape == Some("RECTANGULAR") || rate_indicator == Some("DR");
    if girth.is_some() && rectangular {
        errors.push(combination(
            "For rectangular packages, the girth dimension must be left blank",
            "packageDescription.girth",
        ));
    }
    let ceiling = if service == ReturnService::PriorityExpress {
        108.0
    } else {
        130.0
    };
    let combined = length + girth.unwrap_or(2.0 * (width + height));
    if combined > ceiling {
        errors.push(rule(
            "160042",
            format!("Dimensions cannot exceed overall {ceiling} inches"),
            "packageDescription.length, packageDescription.girth, packageDescription.mailClass",
        ));
    }

    let options = package.get("packageOptions");
    if let Some(options) = options {
        if text(options, "nonDeliveryOption") == Some("REDIRECT")
            && options.get("redirectAddress").is_none()
        {
            errors.push(rule(
                "160060",
                "redirectAddress is required when nonDeliveryOption is 'REDIRECT'",
                "nonDeliveryOption",
            ));
        }
        if options
            .get("omas")
            .and_then(|omas| omas.get("chargebackCode"))
            .is_some()
        {
            errors.push(rule(
                "160395",
                "Cannot use chargebackCode when no OMAS payer role is present",
                "packageDescription.packageOptions.omas.chargebackCode",
            ));
        }
        if text(options, "contentType") == Some("CREMATED_REMAINS")
            && service != ReturnService::PriorityExpress
        {
            errors.push(rule(
                "160234",
                "currently only packageDescription.mailClass 'PRIORITY_MAIL_EXPRESS' is supported for packageDescription.packageOptions.contentType 'CREMATED_REMAINS'",
                "packageDescription.mailClass, packageDescription.packageOptions.contentType",
            ));
        }
    }

    let codes: Vec<i64> = package
        .get("extraServices")
        .and_then(Value::as_array)
        .map(|codes| codes.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let package_value = options
        .and_then(|options| number(options, "packageValue"))
        .unwrap_or(0.0);
    if codes.contains(&930) && package_value <= 0.0 {
        errors.push(rule(
            "030024",
            "A non-zero item value is required for this extra service code.",
            "packageDescription.packageOptions.packageValue",
        ));
    }
    let unsupported: Vec<String> = codes
        .iter()
        .filter(|code| {
            matches!(code, 365 | 415 | 910..=913 | 934 | 991)
                || (matches!(code, 925 | 981 | 986) && service != ReturnService::PriorityExpress)
        })
        .map(i64::to_string)
        .collect();
    if !unsupported.is_empty() {
        errors.push(rule(
            "160010",
            format!(
                "mailClass: {mail_class} with ExtraServices: [{}] is an unsupported combination",
                unsupported.join(", ")
            ),
            "packageDescription.mailClass, packageDescription.extraServices",
        ));
    }
}

fn check_sender(request: &Value, errors: &mut Vec<ErrorDetail>) {
    let wants_sender = request
        .get("packageDescription")
        .and_then(|package| text(package, "shipperVisibilityMethod"))
        == Some("SENDER_INFORMATION");
    if !wants_sender {
        return;
    }
    let complete = request.get("senderAddress").is_some_and(|sender| {
        ["phone", "email", "platformUserId"]
            .iter()
            .all(|key| non_empty(sender, key))
    });
    if !complete {
        errors.push(combination(
            "senderAddress with phone, email and platformUserId is required when shipperVisibilityMethod is SENDER_INFORMATION",
            "senderAddress",
        ));
    }
}

fn check_image(request: &Value, errors: &mut Vec<ErrorDetail>) {
    let info = request.get("imageInfo");
    let get = |key: &str| info.and_then(|info| text(info, key));
    let image_type = get("imageType").unwrap_or("PDF");
    let label_type = get("labelType").unwrap_or("4X6LABEL");
    let receipt = get("receiptOption").unwrap_or("NONE");
    let zpl = image_type.starts_with("ZPL");
    match image_type {
        "EPL300DPI" => errors.push(combination(
            "EPL300DPI is not supported for Return Labels",
            "imageInfo.imageType",
        )),
        "JPG" | "GIF" => errors.push(rule(
            "SIM_UNSUPPORTED",
            format!("imageType {image_type} is not supported by the simulator; use PDF, PNG, TIFF, SVG, ZPL203DPI, ZPL300DPI or NONE"),
            "imageInfo.imageType",
        )),
        _ => {}
    }
    match label_type {
        "4X4LABEL" => errors.push(rule(
            "160346",
            "4X4LABEL is not supported for this request",
            "imageInfo.labelType",
        )),
        "6X4LABEL" => errors.push(rule(
            "160367",
            "6X4LABEL is not currently supported",
            "imageInfo.labelType",
        )),
        "2X7LABEL" if zpl => errors.push(rule(
            "160214",
            "2X7LABEL currently does not support imageInfo.imageType of 'ZPL203DPI' or 'ZPL300DPI'",
            "imageInfo.labelType",
        )),
        _ => {}
    }
    if zpl && receipt == "SAME_PAGE" {
        errors.push(combination(
            "When imageType is ZPL203DPI, ZPL300DPI, or EPL300DPI, a receiptOption of SAME_PAGE is not supported",
            "imageInfo.receiptOption",
        ));
    }
    let branding = get("brandingImageFormat").is_some_and(|format| format != "NONE")
        || info
            .and_then(|info| info.get("brandingImageUUIDs"))
            .and_then(Value::as_array)
            .is_some_and(|uuids| !uuids.is_empty());
    if branding {
        errors.push(rule(
            "SIM_UNSUPPORTED",
            "Label branding images are not supported by the simulator (no image was uploaded with POST /labels/v3/branding)",
            "imageInfo.brandingImageUUIDs",
        ));
    }
}

fn check_rules(request: &Value, label_broker_available: bool, errors: &mut Vec<ErrorDetail>) {
    let package = &request["packageDescription"];
    let service = ReturnService::from_mail_class(text(package, "mailClass").unwrap_or_default());
    check_package(package, service, errors);
    check_addresses(request, errors);
    check_sender(request, errors);
    check_image(request, errors);
    label_broker::check(request, label_broker_available, errors);
}

/// A price in cents as the JSON number USPS sends (e.g. 8.44).
fn price(cents: u64) -> Value {
    serde_json::Number::from_f64(cents as f64 / 100.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn upper_address(address: &Value) -> Value {
    let mut printed = Map::new();
    for key in [
        "streetAddress",
        "secondaryAddress",
        "city",
        "state",
        "ZIPCode",
        "ZIPPlus4",
        "urbanization",
        "firstName",
        "lastName",
        "firm",
    ] {
        if let Some(value) = text(address, key) {
            printed.insert(key.to_owned(), json!(value.to_uppercase()));
        }
    }
    printed.insert(
        "ignoreBadAddress".to_owned(),
        json!(
            address
                .get("ignoreBadAddress")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        ),
    );
    Value::Object(printed)
}

fn address_lines(address: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    let name = [text(address, "firstName"), text(address, "lastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.trim().is_empty() {
        lines.push(name);
    }
    if let Some(firm) = text(address, "firm").filter(|firm| !firm.trim().is_empty()) {
        lines.push(firm.to_owned());
    }
    for key in ["streetAddress", "secondaryAddress"] {
        if let Some(line) = text(address, key).filter(|line| !line.trim().is_empty()) {
            lines.push(line.to_owned());
        }
    }
    let zip = match text(address, "ZIPPlus4") {
        Some(plus4) => format!("{}-{plus4}", text(address, "ZIPCode").unwrap_or_default()),
        None => text(address, "ZIPCode").unwrap_or_default().to_owned(),
    };
    lines.push(format!(
        "{} {} {zip}",
        text(address, "city").unwrap_or_default(),
        text(address, "state").unwrap_or_default()
    ));
    lines.into_iter().map(|line| line.to_uppercase()).collect()
}

fn printed_weight(pounds: f64) -> String {
    let ounces = (pounds * 16.0).ceil().max(1.0) as u64;
    match (ounces / 16, ounces % 16) {
        (0, ounces) => format!("{ounces} OZ"),
        (pounds, 0) => format!("{pounds} LB"),
        (pounds, ounces) => format!("{pounds} LB {ounces} OZ"),
    }
}

/// What issuing produced, for the ledger.
struct Issued {
    label: IssuedLabel,
    tracking_number: String,
    routing: String,
    mail_class: String,
    postage_cents: u64,
    label_broker_id: Option<String>,
}

fn internal(detail: &str) -> ApiError {
    tracing::error!(detail, "return label could not be produced");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, API).with(ErrorDetail::new(
        "500",
        "The simulator could not produce the label",
    ))
}

fn issue(
    request: &Value,
    payment: &PaymentGrant,
    serial: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Issued, ApiError> {
    let package = &request["packageDescription"];
    let to = &request["toAddress"];
    let from = &request["fromAddress"];
    let mail_class = text(package, "mailClass").unwrap_or_default().to_owned();
    let service = ReturnService::from_mail_class(&mail_class);
    let tracking = TrackingNumber::impb(
        service.service_type_code(),
        &payment.label_owner.mid,
        serial,
    )
    .ok_or_else(|| internal("label owner MID cannot form an IMpb"))?;
    let tracking_number = tracking.as_str().to_owned();
    let to_zip = text(to, "ZIPCode").unwrap_or_default().to_owned();
    let routing = format!("420{to_zip}");
    let origin_zip = text(package, "inductionZIPCode")
        .or_else(|| text(from, "ZIPCode"))
        .unwrap_or_default();
    let weight = number(package, "weight").unwrap_or_default();
    let rate_indicator = text(package, "rateIndicator");
    let quote = rate::quote(&Package {
        service,
        rate_indicator,
        weight_pounds: weight,
        length: number(package, "length").unwrap_or_default(),
        width: number(package, "width").unwrap_or_default(),
        height: number(package, "height").unwrap_or_default(),
        origin_zip,
        destination_zip: &to_zip,
    });
    let package_value_cents = package
        .get("packageOptions")
        .and_then(|options| number(options, "packageValue"))
        .map(|value| (value * 100.0).round() as u64)
        .unwrap_or(0);
    let extra_services: Vec<Value> =
        package
            .get("extraServices")
            .and_then(Value::as_array)
            .map(|codes| {
                codes
                .iter()
                .filter_map(Value::as_i64)
                .map(|code| {
                    // The spec: 930 with a value over $500 is replaced by 931.
                    let code = if code == 930 && package_value_cents > 50_000 { 931 } else { code };
                    let priced = rate::extra_service(code, package_value_cents);
                    json!({"name": priced.name, "price": price(priced.cents), "SKU": priced.sku})
                })
                .collect()
            })
            .unwrap_or_default();
    let fees: Vec<Value> = quote
        .fees
        .iter()
        .map(|fee| json!({"name": fee.name, "SKU": fee.sku, "price": price(fee.cents)}))
        .collect();
    let mailing_date = now + Duration::hours(2);
    let mut metadata = Map::new();
    metadata.insert("labelAddress".to_owned(), upper_address(to));
    metadata.insert("routingInformation".to_owned(), json!(routing));
    metadata.insert("trackingNumber".to_owned(), json!(tracking_number));
    metadata.insert("SKU".to_owned(), json!(quote.sku));
    metadata.insert("postage".to_owned(), price(quote.postage_cents));
    metadata.insert("extraServices".to_owned(), Value::Array(extra_services));
    metadata.insert(
        "serviceTypeCode".to_owned(),
        json!(service.service_type_code()),
    );
    metadata.insert("zone".to_owned(), json!(format!("{:02}", quote.zone)));
    metadata.insert(
        "mailingDate".to_owned(),
        json!(mailing_date.to_rfc3339_opts(SecondsFormat::Secs, true)),
    );
    metadata.insert("weightUOM".to_owned(), json!("lb"));
    metadata.insert("weight".to_owned(), package["weight"].clone());
    metadata.insert(
        "dimensionalWeight".to_owned(),
        json!(quote.dimensional_weight_ounces),
    );
    metadata.insert("fees".to_owned(), Value::Array(fees));
    metadata.insert("bannerText".to_owned(), json!("USPS TRACKING # USPS Ship"));
    metadata.insert(
        "links".to_owned(),
        json!([{
            "rel": ["Tracking URL"],
            "href": format!("https://tools.usps.com/go/TrackConfirmAction_input?origTrackNum={tracking_number}"),
            "method": "GET",
        }]),
    );

    let info = request.get("imageInfo");
    let image_setting = |key: &str, default: &'static str| {
        info.and_then(|info| text(info, key))
            .unwrap_or(default)
            .to_owned()
    };
    let image_type = image_setting("imageType", "PDF");
    let receipt_option = image_setting("receiptOption", "NONE");
    let comments = ["addImageComments", "addZPLComments"].iter().any(|key| {
        info.and_then(|info| info.get(*key))
            .and_then(Value::as_bool)
            == Some(true)
    });
    let references: Vec<String> = package
        .get("customerReference")
        .and_then(Value::as_array)
        .map(|references| {
            references
                .iter()
                .filter(|reference| {
                    reference
                        .get("printReferenceNumber")
                        .and_then(Value::as_bool)
                        == Some(true)
                })
                .filter_map(|reference| text(reference, "referenceNumber"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let content = LabelContent {
        title: service.label_title().to_owned(),
        service_mark: service.service_mark().to_owned(),
        tracking_number: tracking_number.clone(),
        routing_zip: to_zip.clone(),
        from_lines: address_lines(from),
        to_lines: address_lines(to),
        mailing_date: mailing_date.format("%Y-%m-%d").to_string(),
        zone: format!("{:02}", quote.zone),
        weight: printed_weight(weight),
        postage: format!(
            "${}.{:02}",
            quote.postage_cents / 100,
            quote.postage_cents % 100
        ),
        references,
    };
    let label_broker_id =
        label_broker::requested(request).then(|| label_broker::label_broker_id(serial));
    if let Some(id) = &label_broker_id {
        metadata.insert("labelBrokerID".to_owned(), json!(id));
    }
    // LABEL_BROKER: the QR code is the image, unless the label's PDF is asked for as well.
    let image_type = match &label_broker_id {
        Some(_) if label_broker::includes_pdf(request) => "PDF".to_owned(),
        _ => image_type,
    };
    let label_broker_qr = label_broker_id
        .as_deref()
        .map(label::qr::render_label_broker_qr)
        .transpose()
        .map_err(|error| internal(&error.to_string()))?;
    let (label_image, receipt_image, label_broker_qr) =
        match ImageFormat::from_image_type(&image_type) {
            None => (label_broker_qr, None, None),
            Some(format) => {
                let (label_image, receipt_image) = render_images(
                    &content,
                    format,
                    &image_setting("labelType", "4X6LABEL"),
                    &receipt_option,
                    comments,
                )?;
                (Some(label_image), receipt_image, label_broker_qr)
            }
        };
    Ok(Issued {
        label: IssuedLabel {
            metadata,
            label_image,
            receipt_image,
            label_broker_qr,
        },
        tracking_number,
        routing,
        mail_class,
        postage_cents: quote.postage_cents,
        label_broker_id,
    })
}

/// The label and separate receipt images of a label in `format`.
fn render_images(
    content: &LabelContent,
    format: ImageFormat,
    label_type: &str,
    receipt_option: &str,
    comments: bool,
) -> Result<(label::Image, Option<label::Image>), ApiError> {
    let zpl = matches!(format, ImageFormat::Zpl { .. });
    let receipt = match receipt_option {
        "SAME_PAGE" => Receipt::SamePage,
        "SEPARATE_PAGE" if zpl => Receipt::ZplSegment,
        _ => Receipt::None,
    };
    let options = RenderOptions {
        format,
        size: PageSize::of_label_type(label_type),
        receipt,
        comments,
    };
    let label_image =
        label::render_label(content, &options).map_err(|error| internal(&error.to_string()))?;
    let receipt_image = if receipt_option == "SEPARATE_PAGE" && !zpl {
        Some(
            label::render_receipt(content, &options)
                .map_err(|error| internal(&error.to_string()))?,
        )
    } else {
        None
    };
    Ok((label_image, receipt_image))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn respond(label: &IssuedLabel, reply: Reply) -> Response {
    match reply {
        Reply::Vendor => {
            let mut body = label.metadata.clone();
            if let Some(image) = &label.label_image {
                body.insert("returnLabelImage".to_owned(), json!(base64(&image.bytes)));
            }
            if let Some(image) = &label.receipt_image {
                body.insert("returnReceiptImage".to_owned(), json!(base64(&image.bytes)));
            }
            if let Some(image) = &label.label_broker_qr {
                body.insert("labelBrokerQR".to_owned(), json!(base64(&image.bytes)));
            }
            let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
            (
                [(header::CONTENT_TYPE, HeaderValue::from_static(VENDOR_JSON))],
                bytes,
            )
                .into_response()
        }
        Reply::Multipart => {
            let boundary = format!("usps-sim-{}", random_token(24));
            let mut body = Vec::new();
            let metadata =
                serde_json::to_vec(&Value::Object(label.metadata.clone())).unwrap_or_default();
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"returnLabelMetadata\"\r\nContent-Type: application/json\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(&metadata);
            body.extend_from_slice(b"\r\n");
            for (name, image) in [
                ("returnLabelImage", &label.label_image),
                ("returnReceiptImage", &label.receipt_image),
                ("labelBrokerQR", &label.label_broker_qr),
            ] {
                if let Some(image) = image {
                    body.extend_from_slice(
                        format!(
                            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                            image.file_name,
                            image.content_type,
                            base64(&image.bytes)
                        )
                        .as_bytes(),
                    );
                }
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            let content_type = format!("multipart/form-data; boundary={boundary}");
            match HeaderValue::from_str(&content_type) {
                Ok(value) => ([(header::CONTENT_TYPE, value)], body).into_response(),
                Err(_) => {
                    internal("multipart boundary is not a valid header value").into_response()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_print_in_pounds_and_ounces() {
        assert_eq!(printed_weight(0.5), "8 OZ");
        assert_eq!(printed_weight(2.0), "2 LB");
        assert_eq!(printed_weight(1.5), "1 LB 8 OZ");
    }

    #[test]
    fn prices_become_two_decimal_json_numbers() {
        assert_eq!(price(844).to_string(), "8.44");
        assert_eq!(price(1000).to_string(), "10.0");
    }

    #[test]
    fn vendor_json_is_chosen_from_a_list_of_accepted_types() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, application/vnd.usps.labels+json;q=0.9"),
        );
        assert_eq!(negotiate(&headers).unwrap(), Reply::Vendor);
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert_eq!(negotiate(&headers).unwrap(), Reply::Multipart);
    }
}
