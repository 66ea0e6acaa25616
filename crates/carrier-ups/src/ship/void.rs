//! The `VoidShipmentResponse` (Shipping.yaml `VOIDSHIPMENTResponseWrapper`). Voiding is whole
//! shipments only ("Package level Void is not applicable for return service"), by the
//! `ShipmentIdentificationNumber` the Ship reply gave.
//!
//! Shipping.yaml says what the package-level status code means ("1 = Voided or Already
//! Voided; 0 = Not Voided") but not the summary's; `SummaryResult.Status.Code` `1` is read the
//! same way, anything else as a refusal with UPS's description.

use carrier::CarrierMessage;
use serde::Deserialize;

use crate::error::{Error, Operation};
use crate::ship::reply::ResponseInfo;
use crate::tracking;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wrapper {
    void_shipment_response: VoidShipmentResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VoidShipmentResponse {
    response: ResponseInfo,
    summary_result: SummaryResult,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryResult {
    status: crate::ship::reply::Status,
}

/// What a successful void reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VoidOutcome {
    Voided,
    /// UPS answered, but did not void: its status code and description.
    NotVoided(CarrierMessage),
}

/// Reads a successful (HTTP 2xx) void reply.
pub(crate) fn parse(body: &[u8]) -> Result<VoidOutcome, Error> {
    let wrapper: Wrapper = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(Operation::Void, format!("VoidShipmentResponse: {error}"))
    })?;
    let response = wrapper.void_shipment_response;
    let status = response.summary_result.status;
    if response.response.response_status.code == "1" && status.code == "1" {
        Ok(VoidOutcome::Voided)
    } else {
        Ok(VoidOutcome::NotVoided(CarrierMessage {
            code: status.code,
            message: status.description,
            field: None,
        }))
    }
}

/// Whether `id` can be a `shipmentidentificationnumber` ("Alpha-numeric. Must pass 1Z rules.
/// Must be upper case. Length 18"), so it goes into the path unescaped.
pub(crate) fn check_shipment_id(id: &str) -> bool {
    tracking::is_valid(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(summary: &str, description: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "VoidShipmentResponse": {
                "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                "SummaryResult": {"Status": {"Code": summary, "Description": description}}
            }
        }))
        .unwrap()
    }

    #[test]
    fn a_voided_shipment_reads_as_voided() {
        assert_eq!(parse(&body("1", "Voided")).unwrap(), VoidOutcome::Voided);
    }

    #[test]
    fn any_other_summary_is_not_voided_with_its_description() {
        match parse(&body("0", "Not Voided")).unwrap() {
            VoidOutcome::NotVoided(message) => {
                assert_eq!(
                    (message.code.as_str(), message.message.as_str()),
                    ("0", "Not Voided")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_malformed_void_reply_is_an_error() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn only_1z_numbers_go_into_the_void_path() {
        assert!(check_shipment_id("1Z999AA10123456784"));
        assert!(!check_shipment_id("1Z999AA10123456784/../x"));
        assert!(!check_shipment_id("1z999aa10123456784"));
    }
}
