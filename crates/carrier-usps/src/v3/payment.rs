//! `POST /payments/v3/payment-authorization` of the USPS Payments API 3.1.20 (payments.yaml):
//! the `Parties` body with the two roles a return label needs, and the
//! `paymentAuthorizationToken` of the reply.
//!
//! - `PAYER`: `CRID`, `MID`, `manifestMID` (the Manifest MID when there is one, else the MID)
//!   and the payment account: `accountType` `EPS` + `accountNumber`, or `PERMIT` +
//!   `permitNumber` + `permitZIP`.
//! - `LABEL_OWNER`: `CRID`, `MID` (the Returns MID when there is one — its label ranges number
//!   the return labels — else the MID) and `manifestMID` (the Manifest MID, else the MID).
//!   The spec requires the label owner's CRID and MID to be enrolled in USPS Ship Returns.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::account::{Payer, UspsAccount};
use crate::client::Reply;
use crate::error::{Error, Operation};

#[derive(Serialize)]
struct Parties<'a> {
    roles: [Role<'a>; 2],
}

#[derive(Serialize)]
struct Role<'a> {
    #[serde(rename = "roleName")]
    role_name: &'static str,
    #[serde(rename = "CRID")]
    crid: &'a str,
    #[serde(rename = "MID")]
    mid: &'a str,
    #[serde(rename = "manifestMID")]
    manifest_mid: &'a str,
    #[serde(rename = "accountType", skip_serializing_if = "Option::is_none")]
    account_type: Option<&'static str>,
    #[serde(rename = "accountNumber", skip_serializing_if = "Option::is_none")]
    account_number: Option<&'a str>,
    #[serde(rename = "permitNumber", skip_serializing_if = "Option::is_none")]
    permit_number: Option<&'a str>,
    #[serde(rename = "permitZIP", skip_serializing_if = "Option::is_none")]
    permit_zip: Option<&'a str>,
}

/// The JSON `Parties` body for `account`. The EPS number is exposed only here.
pub(crate) fn body(account: &UspsAccount) -> Vec<u8> {
    let manifest_mid = account.manifest_mid.as_deref().unwrap_or(&account.mid);
    let (account_type, account_number, permit_number, permit_zip) = match &account.payer {
        Payer::Eps { account_number } => ("EPS", Some(account_number.expose_secret()), None, None),
        Payer::Permit { number, zip } => {
            ("PERMIT", None, Some(number.as_str()), Some(zip.as_str()))
        }
    };
    let parties = Parties {
        roles: [
            Role {
                role_name: "PAYER",
                crid: &account.crid,
                mid: &account.mid,
                manifest_mid,
                account_type: Some(account_type),
                account_number,
                permit_number,
                permit_zip,
            },
            Role {
                role_name: "LABEL_OWNER",
                crid: &account.crid,
                mid: account.returns_mid.as_deref().unwrap_or(&account.mid),
                manifest_mid,
                account_type: None,
                account_number: None,
                permit_number: None,
                permit_zip: None,
            },
        ],
    };
    // A struct of strings always serializes.
    serde_json::to_vec(&parties).unwrap_or_default()
}

#[derive(Deserialize)]
struct PartiesReply {
    #[serde(rename = "paymentAuthorizationToken")]
    payment_authorization_token: Option<String>,
}

/// The payment authorization token of a successful reply.
pub(crate) fn parse_reply(reply: &Reply) -> Result<SecretString, Error> {
    let parsed: PartiesReply = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            Operation::PaymentAuthorization,
            format!("Parties reply: {}", super::describe_json_error(&error)),
        )
    })?;
    match parsed.payment_authorization_token {
        Some(token) if !token.trim().is_empty() => Ok(SecretString::from(token)),
        _ => Err(Error::malformed(
            Operation::PaymentAuthorization,
            "no paymentAuthorizationToken in the reply",
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::account::Auth;
    use carrier::{Address, AddressInput};
    use serde_json::json;

    pub(crate) fn account(
        payer: Payer,
        manifest: Option<&str>,
        returns: Option<&str>,
    ) -> UspsAccount {
        UspsAccount {
            id: "sa_1".into(),
            crid: "56982563".into(),
            mid: "904128936".into(),
            manifest_mid: manifest.map(str::to_owned),
            returns_mid: returns.map(str::to_owned),
            payer,
            return_address: Address::parse(
                "details.return_address",
                &AddressInput {
                    firm: Some("Backhaul Demo Returns Co.".into()),
                    street1: Some("4120 Bingham Ave".into()),
                    city: Some("St. Louis".into()),
                    state: Some("MO".into()),
                    zip5: Some("63116".into()),
                    ..AddressInput::default()
                },
            )
            .unwrap(),
            auth: Auth::OwnApp {
                client_id: "app".into(),
                client_secret: SecretString::from("s"),
            },
        }
    }

    pub(crate) fn eps() -> Payer {
        Payer::Eps {
            account_number: SecretString::from("1000004321"),
        }
    }

    #[test]
    fn eps_payer_and_returns_label_owner() {
        let body = body(&account(eps(), Some("904128937"), Some("904128938")));
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            json!({"roles": [
                {"roleName": "PAYER", "CRID": "56982563", "MID": "904128936", "manifestMID": "904128937",
                 "accountType": "EPS", "accountNumber": "1000004321"},
                {"roleName": "LABEL_OWNER", "CRID": "56982563", "MID": "904128938", "manifestMID": "904128937"}
            ]})
        );
    }

    #[test]
    fn without_manifest_or_returns_mid_the_mid_stands_in() {
        let payer = Payer::Permit {
            number: "12345".into(),
            zip: "63116".into(),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&body(&account(payer, None, None))).unwrap();
        assert_eq!(
            value,
            json!({"roles": [
                {"roleName": "PAYER", "CRID": "56982563", "MID": "904128936", "manifestMID": "904128936",
                 "accountType": "PERMIT", "permitNumber": "12345", "permitZIP": "63116"},
                {"roleName": "LABEL_OWNER", "CRID": "56982563", "MID": "904128936", "manifestMID": "904128936"}
            ]})
        );
    }
}
