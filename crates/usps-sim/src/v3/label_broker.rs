//! USPS Label Broker ("printerless") return labels: `imageInfo.imageType: LABEL_BROKER` on
//! `POST /labels/v3/return-label` (domestic-labels.yaml 3.9.13, `ImageInfo`), checked against
//! the spec's prose and the return-label error inventory.
//!
//! # Rules (reported with the request's other rule errors)
//! - 160368 "Label Broker Service is unavailable" (`imageInfo.imageType`) while the service is
//!   down: [`crate::Simulator::set_label_broker_available`] or `PUT /__sim/label-broker`.
//! - 160007 "labelType must be 4X6LABEL when imageType is LABEL_BROKER" (`imageInfo.imageType`).
//!   `ImageInfo.imageType` says Label Broker "only supports labelType of `4X6LABEL` or
//!   `6X4LABEL`", but the return-label inventory answers 160007 for anything but `4X6LABEL` (and
//!   160367 refuses `6X4LABEL` on return labels whatever the image), so the inventory wins here.
//! - `receiptOption` other than `NONE` — the same `ImageInfo` text: "only supports … receiptOption
//!   of `NONE`". The inventory has no code for it: `SIM_INVALID_COMBINATION` on
//!   `imageInfo.receiptOption`.
//! - 160062 "LABEL_BROKER cannot be requested with Global Direct Entry (extra service = 365)".
//! - 160129 "Label Broker requests are incompatible with destination zip code" (parameter
//!   `labelType`, as the inventory has it). USPS publishes no list of such ZIP Codes; the
//!   simulator refuses destinations (`toAddress.ZIPCode`) starting with
//!   [`INCOMPATIBLE_ZIP_PREFIX`] — Guam, the Northern Mariana Islands and the Pacific freely
//!   associated states — so a test can ask for the refusal by the merchant's return address.
//!
//! Not applicable to the simulator's return labels: 160061 (the USPS Connect mail classes,
//! which are not return classes), 160043 (`destinationEntryFacilityAddress`: return labels have
//! no destination entry) and 160124 ("`LABEL_BROKER` is not a supported imageType in the TEM
//! environment": the simulator stands for production, `apis.usps.com`).
//! `includeLabelBrokerPDF` is "applicable only when imageType is LABEL_BROKER" and is ignored
//! with any other image.
//!
//! # Label
//! `labelBrokerID` (at most 10 characters: `maxLength: 10`): `LB` and eight base-36 characters,
//! a bijection of the label's IMpb serial ([`label_broker_id`]), so no two labels of a run share
//! one. The QR code encodes that id ([`crate::label::qr`]). The images are those `ImageInfo`'s
//! `includeLabelBrokerPDF` describes: when `false`, one image, `returnLabelImage`, "the base64
//! PNG of the Label Broker QR Code"; when `true`, `labelBrokerQR` (the QR code PNG) and
//! `returnLabelImage` "the base64 PDF of the Label stored in Label Broker". (The spec says
//! `labelImage`; in the return-label reply that image is `returnLabelImage`.)

use serde_json::Value;

use crate::v3::error::ErrorDetail;

/// The `imageType` that asks for a Label Broker QR code.
pub(crate) const IMAGE_TYPE: &str = "LABEL_BROKER";

/// Destination ZIP Codes starting with this are refused with 160129 (see the module docs).
pub const INCOMPATIBLE_ZIP_PREFIX: &str = "969";

fn image_info<'a>(request: &'a Value, key: &str) -> Option<&'a Value> {
    request.get("imageInfo").and_then(|info| info.get(key))
}

/// Whether `request` asks for a Label Broker QR code.
pub(crate) fn requested(request: &Value) -> bool {
    image_info(request, "imageType").and_then(Value::as_str) == Some(IMAGE_TYPE)
}

/// Whether a Label Broker request asks for the label's PDF as well (`includeLabelBrokerPDF`,
/// default `false`).
pub(crate) fn includes_pdf(request: &Value) -> bool {
    image_info(request, "includeLabelBrokerPDF").and_then(Value::as_bool) == Some(true)
}

/// The Label Broker rules of a request that asks for a QR code; nothing otherwise.
pub(crate) fn check(request: &Value, available: bool, errors: &mut Vec<ErrorDetail>) {
    if !requested(request) {
        return;
    }
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    if !available {
        errors.push(
            ErrorDetail::new(
                "160368",
                "Label Broker Service is unavailable. For any questions, please reach out to us at https://emailus.usps.com/s/web-tools-inquiry",
            )
            .at("imageInfo.imageType"),
        );
    }
    let label_type = text(image_info(request, "labelType")).unwrap_or_else(|| "4X6LABEL".into());
    if label_type != "4X6LABEL" {
        errors.push(
            ErrorDetail::new(
                "160007",
                "labelType must be 4X6LABEL when imageType is LABEL_BROKER",
            )
            .at("imageInfo.imageType"),
        );
    }
    // The return label's `receiptOption` defaults to NONE (ReturnLabelRequest.imageInfo).
    let receipt = text(image_info(request, "receiptOption")).unwrap_or_else(|| "NONE".into());
    if receipt != "NONE" {
        errors.push(
            ErrorDetail::new(
                "SIM_INVALID_COMBINATION",
                format!("LABEL_BROKER only supports receiptOption of NONE, not {receipt}"),
            )
            .at("imageInfo.receiptOption"),
        );
    }
    let global_direct_entry = request
        .pointer("/packageDescription/extraServices")
        .and_then(Value::as_array)
        .is_some_and(|codes| codes.iter().any(|code| code.as_i64() == Some(365)));
    if global_direct_entry {
        errors.push(
            ErrorDetail::new(
                "160062",
                "LABEL_BROKER cannot be requested with Global Direct Entry (extra service = 365)",
            )
            .at("imageInfo.imageType"),
        );
    }
    let destination = request
        .pointer("/toAddress/ZIPCode")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if destination.starts_with(INCOMPATIBLE_ZIP_PREFIX) {
        errors.push(
            ErrorDetail::new(
                "160129",
                "Label Broker requests are incompatible with destination zip code",
            )
            .at("labelType"),
        );
    }
}

/// Base 36, upper case.
const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// 36⁸: the number of eight-character ids.
const SPACE: u128 = 2_821_109_907_456;
/// Odd and not a multiple of 3, so coprime with 36⁸: multiplying by it permutes the space.
const MULTIPLIER: u128 = 2_654_435_761;
/// Moves serial 0 away from id 0.
const OFFSET: u128 = 1_475_739_525_896;

/// The `labelBrokerID` of the label with IMpb `serial`: `LB` and eight base-36 characters of
/// `(serial × MULTIPLIER + OFFSET) mod 36⁸`, a bijection, so distinct serials never share an id.
pub(crate) fn label_broker_id(serial: u64) -> String {
    let mut value = (u128::from(serial) * MULTIPLIER + OFFSET) % SPACE;
    let mut tail = [b'0'; 8];
    for slot in tail.iter_mut().rev() {
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
    let mut id = String::with_capacity(10);
    id.push_str("LB");
    id.extend(tail.iter().map(|&digit| char::from(digit)));
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_broker_ids_are_ten_letters_and_digits_and_never_repeat() {
        let mut seen = std::collections::HashSet::new();
        for serial in (0..20_000).chain(4_999_000..5_001_000) {
            let id = label_broker_id(serial);
            assert_eq!(id.len(), 10, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            );
            assert!(seen.insert(id), "serial {serial} repeats an id");
        }
        assert_eq!(label_broker_id(42), label_broker_id(42));
    }

    fn codes(request: Value, available: bool) -> Vec<String> {
        let mut errors = Vec::new();
        check(&request, available, &mut errors);
        errors.into_iter().map(|error| error.code).collect()
    }

    #[test]
    fn only_label_broker_requests_are_checked() {
        let request = json!({"imageInfo": {"imageType": "PDF", "receiptOption": "SAME_PAGE",
            "includeLabelBrokerPDF": true}, "toAddress": {"ZIPCode": "96910"}});
        assert!(codes(request, false).is_empty());
    }

    #[test]
    fn a_label_broker_request_needs_a_four_by_six_label_without_receipt() {
        let request = json!({"imageInfo": {"imageType": "LABEL_BROKER", "labelType": "4X5LABEL",
            "receiptOption": "SEPARATE_PAGE"}, "toAddress": {"ZIPCode": "63116"}});
        assert_eq!(codes(request, true), ["160007", "SIM_INVALID_COMBINATION"]);
        let request = json!({"imageInfo": {"imageType": "LABEL_BROKER"},
            "toAddress": {"ZIPCode": "63116"}});
        assert!(codes(request, true).is_empty());
    }

    #[test]
    fn pacific_destinations_unavailability_and_global_direct_entry_are_refused() {
        let request = json!({"imageInfo": {"imageType": "LABEL_BROKER"},
            "toAddress": {"ZIPCode": "96910"},
            "packageDescription": {"extraServices": [365]}});
        assert_eq!(codes(request, false), ["160368", "160062", "160129"]);
    }
}
