//! Cancelling a shipment (`PUT /ship/v1/shipments/cancel`, `Full_Schema_Cancel_Shipment`):
//! the account number, the tracking number, `deletionControl: DELETE_ALL_PACKAGES`, the
//! sender's country and, for an emailed (pending) label, `emailShipment: true` ("whether a
//! shipment is a EMAIL shipment (Pending Shipment) or not"). The reply
//! (`SHPCResponseVO_CancelShipment`) says `cancelledShipment`; `false` with a message that
//! the package is moving is "label in use".

use carrier::CarrierMessage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Operation};
use crate::ship::request::AccountNumber;

/// What a label's `carrier_reference` holds for an emailed (pending) shipment.
pub(crate) const PENDING_EMAIL_REFERENCE: &str = "fedex_pending_email";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelRequest {
    account_number: AccountNumber,
    email_shipment: bool,
    sender_country_code: &'static str,
    deletion_control: &'static str,
    tracking_number: String,
}

impl CancelRequest {
    pub(crate) fn new(account_number: &str, tracking_number: &str, emailed: bool) -> Self {
        Self {
            account_number: AccountNumber {
                value: account_number.to_owned(),
            },
            email_shipment: emailed,
            sender_country_code: "US",
            deletion_control: "DELETE_ALL_PACKAGES",
            tracking_number: tracking_number.to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    output: Option<Output>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    cancelled_shipment: Option<bool>,
    message: Option<String>,
    #[serde(default)]
    alerts: Vec<crate::ship::reply::Alert>,
}

/// What FedEx said about a cancel it answered with 2xx.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CancelOutcome {
    Cancelled,
    NotCancelled(Vec<CarrierMessage>),
}

pub(crate) fn parse(body: &[u8]) -> Result<CancelOutcome, Error> {
    let reply: Reply = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(
            Operation::Cancel,
            format!("cancel reply: {}", crate::grant::json_problem(&error)),
        )
    })?;
    let output = reply
        .output
        .ok_or_else(|| Error::malformed(Operation::Cancel, "cancel reply without output"))?;
    match output.cancelled_shipment {
        Some(true) => Ok(CancelOutcome::Cancelled),
        Some(false) => {
            let mut messages: Vec<CarrierMessage> = output
                .alerts
                .into_iter()
                .map(|alert| CarrierMessage {
                    code: alert.code.unwrap_or_default(),
                    message: alert.message.unwrap_or_default(),
                    field: None,
                })
                .collect();
            if let Some(message) = output.message {
                messages.push(CarrierMessage {
                    code: String::new(),
                    message,
                    field: None,
                });
            }
            Ok(CancelOutcome::NotCancelled(messages))
        }
        None => Err(Error::malformed(
            Operation::Cancel,
            "cancel reply without cancelledShipment",
        )),
    }
}
