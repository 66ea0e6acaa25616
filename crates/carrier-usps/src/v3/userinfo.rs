//! `GET /oauth2/v3/userinfo` — the business information a consenting USPS user shares with the
//! app (CRIDs, MIDs by role, EPS accounts, permits). USPS hands this over through its customer
//! onboarding; the simulator (`usps-sim`, module `v3::userinfo`) exposes it as this resource, and
//! its documented shape is what we read:
//!
//! ```json
//! {"username": "merchant", "client_id": "…", "scope": "…",
//!  "business": {"name": "…", "CRIDs": [{"CRID": "56982563", "enrolledInShipReturns": true,
//!     "MIDs": [{"MID": "904128936", "role": "label"}, {"MID": "904128937", "role": "manifest"},
//!              {"MID": "904128938", "role": "returns"}],
//!     "EPSAccounts": [{"accountNumber": "1000004321", "status": "active"}],
//!     "permits": [{"permitNumber": "12345", "permitZIP": "63116"}]}]}}
//! ```
//!
//! EPS account numbers are secrets: the prefill shows them masked. When the chosen CRID has
//! exactly one active EPS account, its number is returned separately so the plugin can store it
//! in the credentials and the merchant need not type it (see [`Prefill::eps_account_number`]).

use carrier::AccountPrefill;
use carrier::account::mask_account_number;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::Reply;
use crate::error::{Error, Operation};

#[derive(Deserialize)]
struct UserInfo {
    business: Option<Business>,
}

#[derive(Deserialize)]
struct Business {
    name: Option<String>,
    #[serde(rename = "CRIDs", default)]
    crids: Vec<Crid>,
}

#[derive(Deserialize)]
struct Crid {
    #[serde(rename = "CRID")]
    crid: String,
    #[serde(rename = "enrolledInShipReturns")]
    enrolled_in_ship_returns: Option<bool>,
    #[serde(rename = "MIDs", default)]
    mids: Vec<Mid>,
    #[serde(rename = "EPSAccounts", default)]
    eps_accounts: Vec<EpsAccount>,
    #[serde(default)]
    permits: Vec<Permit>,
}

#[derive(Deserialize)]
struct Mid {
    #[serde(rename = "MID")]
    mid: String,
    role: Option<String>,
}

#[derive(Deserialize)]
struct EpsAccount {
    #[serde(rename = "accountNumber")]
    account_number: String,
    status: Option<String>,
}

#[derive(Deserialize)]
struct Permit {
    #[serde(rename = "permitNumber")]
    permit_number: String,
    #[serde(rename = "permitZIP")]
    permit_zip: Option<String>,
}

/// What to pre-fill, and the EPS number to keep secret (when there is exactly one active one).
pub(crate) struct Prefill {
    pub(crate) prefill: AccountPrefill,
    pub(crate) eps_account_number: Option<SecretString>,
}

fn mids_with_role<'a>(crid: &'a Crid, role: &str) -> Vec<&'a str> {
    crid.mids
        .iter()
        .filter(|mid| mid.role.as_deref() == Some(role))
        .map(|mid| mid.mid.as_str())
        .collect()
}

fn strings(values: &[&str]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| Value::String((*v).to_owned()))
            .collect(),
    )
}

/// Reads a userinfo reply into a prefill.
pub(crate) fn parse_reply(reply: &Reply) -> Result<Prefill, Error> {
    let info: UserInfo = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            Operation::UserInfo,
            format!("userinfo reply: {}", super::describe_json_error(&error)),
        )
    })?;
    let mut details = Map::new();
    let mut options = Map::new();
    let Some(business) = info.business else {
        return Ok(Prefill {
            prefill: AccountPrefill { details, options },
            eps_account_number: None,
        });
    };
    details.insert("api".into(), json!("v3"));
    if let Some(name) = business.name.filter(|n| !n.trim().is_empty()) {
        details.insert("return_address".into(), json!({"firm": name}));
    }
    let crids: Vec<&str> = business.crids.iter().map(|c| c.crid.as_str()).collect();
    options.insert("crid".into(), strings(&crids));
    // Return labels need Ship Returns enrollment: prefer a CRID that has it.
    let chosen = business
        .crids
        .iter()
        .find(|crid| crid.enrolled_in_ship_returns == Some(true))
        .or_else(|| business.crids.first());
    let mut eps_account_number = None;
    if let Some(crid) = chosen {
        details.insert("crid".into(), json!(crid.crid));
        for (detail, role) in [
            ("mid", "label"),
            ("manifest_mid", "manifest"),
            ("returns_mid", "returns"),
        ] {
            let mids = mids_with_role(crid, role);
            if let Some(first) = mids.first() {
                details.insert(detail.into(), json!(first));
            }
            options.insert(detail.into(), strings(&mids));
        }
        let active: Vec<&str> = crid
            .eps_accounts
            .iter()
            .filter(|account| account.status.as_deref() != Some("inactive"))
            .map(|account| account.account_number.as_str())
            .collect();
        let masked: Vec<String> = active.iter().map(|n| mask_account_number(n)).collect();
        options.insert("eps_account_number".into(), json!(masked));
        let permit_numbers: Vec<&str> = crid
            .permits
            .iter()
            .map(|p| p.permit_number.as_str())
            .collect();
        let permit_zips: Vec<&str> = crid
            .permits
            .iter()
            .filter_map(|p| p.permit_zip.as_deref())
            .collect();
        options.insert("permit_number".into(), strings(&permit_numbers));
        options.insert("permit_zip".into(), strings(&permit_zips));
        if !active.is_empty() {
            details.insert("account_type".into(), json!("EPS"));
            if let [only] = active.as_slice() {
                details.insert(
                    "eps_account_number".into(),
                    json!(mask_account_number(only)),
                );
                eps_account_number = Some(SecretString::from((*only).to_owned()));
            }
        } else if let [only] = crid.permits.as_slice() {
            details.insert("account_type".into(), json!("PERMIT"));
            details.insert("permit_number".into(), json!(only.permit_number));
            if let Some(zip) = &only.permit_zip {
                details.insert("permit_zip".into(), json!(zip));
            }
        }
    }
    Ok(Prefill {
        prefill: AccountPrefill { details, options },
        eps_account_number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use secrecy::ExposeSecret;

    const DEMO: &str = r#"{"username": "merchant", "client_id": "backhaul-sim", "scope": "labels payments",
      "business": {"name": "Backhaul Demo Returns Co.", "CRIDs": [{"CRID": "56982563", "enrolledInShipReturns": true,
        "MIDs": [{"MID": "904128936", "role": "label"}, {"MID": "904128937", "role": "manifest"},
                 {"MID": "904128938", "role": "returns"}],
        "EPSAccounts": [{"accountNumber": "1000004321", "status": "active"},
                        {"accountNumber": "1000009876", "status": "inactive"}],
        "permits": [{"permitNumber": "12345", "permitZIP": "63116"}]}]}}"#;

    fn reply(body: &str) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn the_demo_user_prefills_crid_mids_and_a_masked_eps_account() {
        let prefill = parse_reply(&reply(DEMO)).unwrap();
        let details = &prefill.prefill.details;
        assert_eq!(details["crid"], json!("56982563"));
        assert_eq!(details["mid"], json!("904128936"));
        assert_eq!(details["manifest_mid"], json!("904128937"));
        assert_eq!(details["returns_mid"], json!("904128938"));
        assert_eq!(details["account_type"], json!("EPS"));
        assert_eq!(details["eps_account_number"], json!("******4321"));
        assert_eq!(
            prefill.eps_account_number.unwrap().expose_secret(),
            "1000004321"
        );
        let printed = serde_json::to_string(&prefill.prefill).unwrap();
        assert!(
            !printed.contains("1000004321") && !printed.contains("1000009876"),
            "{printed}"
        );
        assert_eq!(prefill.prefill.options["permit_number"], json!(["12345"]));
    }

    #[test]
    fn two_active_eps_accounts_store_no_number() {
        let body = DEMO.replace(r#""status": "inactive""#, r#""status": "active""#);
        let prefill = parse_reply(&reply(&body)).unwrap();
        assert!(prefill.eps_account_number.is_none());
        assert!(prefill.prefill.details.get("eps_account_number").is_none());
        assert_eq!(
            prefill.prefill.options["eps_account_number"],
            json!(["******4321", "******9876"])
        );
    }
}
