//! `GET /oauth2-oidc/v3/userinfo` — the OIDC UserInfo endpoint that tells "Login with USPS"
//! which business signed in (`shared/reference/usps-v3/userinfo.md`, derived from USPS's SDK;
//! not in the bundled `oauth2.yaml`). Its `ResourceOwnerUserClaims`:
//!
//! ```json
//! {"sub": "…", "updated_at": …,
//!  "payment_accounts": {"accounts": "1000004321, 1000007777",
//!                       "permits": [{"permitNumber": "12345", "permitZIP": "63116"}]},
//!  "mail_owners": [{"crid": "56982563", "mids": "904128936, 904128937, 904128938"}]}
//! ```
//!
//! Read strictly — every member has the type the reference gives it (`mids` and `accounts` are
//! strings, the lists are lists), else the reply is malformed — but tolerantly of what it may
//! leave out: only `sub` is required, and claims we do not read are ignored (OIDC Core 5.3.2).
//! Values that could not be an account detail (a MID that is not 6 or 9 digits …) are dropped.
//!
//! What the prefill makes of it, detail by detail: a value USPS names once pre-fills the
//! detail; several become the detail's choices (`AccountPrefill::options`). `mids` carries no
//! role, so every MID is offered for the label MID, the Manifest MID and the Returns MID.
//! Where the reference is silent we say so: it does not say how `accounts` separates its
//! numbers (read like `mids`: commas and spaces), nor which CRID a payment account belongs to
//! (payment accounts are the user's, not a mail owner's).
//!
//! EPS account numbers are secrets. One number is kept sealed as the account's
//! `eps_account_number` and shown masked (`******4321`). Several are kept sealed together as
//! `eps_account_choices` and offered masked, as a payments form shows cards: the merchant picks
//! one by its last four digits, and the account's validation resolves the masked choice to its
//! number (`crate::account`). No number is ever in the prefill, a log line or an error.

use carrier::AccountPrefill;
use carrier::account::mask_account_number;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::Reply;
use crate::error::{Error, Operation};

/// `ResourceOwnerUserClaims`.
#[derive(Deserialize)]
struct ResourceOwnerUserClaims {
    /// The user's identifier: required (the reference, OIDC Core 5.3.2), and not empty.
    sub: String,
    payment_accounts: Option<PaymentAccounts>,
    mail_owners: Option<Vec<MailOwner>>,
}

#[derive(Deserialize)]
struct PaymentAccounts {
    /// The EPS account numbers, in one string.
    accounts: Option<String>,
    permits: Option<Vec<Permit>>,
}

#[derive(Deserialize)]
struct Permit {
    #[serde(rename = "permitNumber")]
    permit_number: Option<String>,
    #[serde(rename = "permitZIP")]
    permit_zip: Option<String>,
}

#[derive(Deserialize)]
struct MailOwner {
    crid: Option<String>,
    /// "Comma and space separated".
    mids: Option<String>,
}

/// What to pre-fill, and the EPS numbers to keep sealed.
pub(crate) struct Prefill {
    pub(crate) prefill: AccountPrefill,
    /// The one EPS account's number, to store as the account's `eps_account_number`.
    pub(crate) eps_account_number: Option<SecretString>,
    /// Several EPS accounts' numbers (comma separated), to store as `eps_account_choices`.
    pub(crate) eps_account_choices: Option<SecretString>,
}

impl Prefill {
    /// Nothing to pre-fill, and why (no secret in `reason`).
    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            prefill: AccountPrefill {
                unavailable: Some(reason.into()),
                ..AccountPrefill::default()
            },
            eps_account_number: None,
            eps_account_choices: None,
        }
    }
}

/// The values of a "comma and space separated" list, each once, in order.
fn split_list(list: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for value in list.split(|c: char| c == ',' || c.is_whitespace()) {
        if !value.is_empty() && !values.iter().any(|seen| seen == value) {
            values.push(value.to_owned());
        }
    }
    values
}

fn digits(value: &str, lengths: impl Fn(usize) -> bool) -> bool {
    lengths(value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// Keeps the values that pass `valid`, logging (by name only) how many did not.
fn kept(what: &'static str, values: Vec<String>, valid: impl Fn(&str) -> bool) -> Vec<String> {
    let before = values.len();
    let values: Vec<String> = values.into_iter().filter(|value| valid(value)).collect();
    if values.len() < before {
        tracing::warn!(
            claim = what,
            dropped = before - values.len(),
            "USPS UserInfo named values that cannot be account details; dropped"
        );
    }
    values
}

fn strings(values: &[String]) -> Value {
    json!(values)
}

/// Reads a UserInfo reply into a prefill.
pub(crate) fn parse_reply(reply: &Reply) -> Result<Prefill, Error> {
    let claims: ResourceOwnerUserClaims = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            Operation::UserInfo,
            format!("UserInfo reply: {}", super::describe_json_error(&error)),
        )
    })?;
    if claims.sub.trim().is_empty() {
        return Err(Error::malformed(
            Operation::UserInfo,
            "UserInfo reply: sub is empty",
        ));
    }
    Ok(prefill(claims))
}

fn prefill(claims: ResourceOwnerUserClaims) -> Prefill {
    let owners = claims.mail_owners.unwrap_or_default();
    let crids = kept(
        "mail_owners.crid",
        owners
            .iter()
            .filter_map(|owner| owner.crid.as_deref())
            .map(|crid| crid.trim().to_owned())
            .fold(Vec::new(), |mut crids, crid| {
                if !crid.is_empty() && !crids.contains(&crid) {
                    crids.push(crid);
                }
                crids
            }),
        |crid| digits(crid, |len| (2..=18).contains(&len)),
    );
    let mids = kept(
        "mail_owners.mids",
        split_list(
            &owners
                .iter()
                .filter_map(|owner| owner.mids.as_deref())
                .collect::<Vec<_>>()
                .join(","),
        ),
        |mid| digits(mid, |len| len == 6 || len == 9),
    );
    let payment = claims.payment_accounts;
    let eps_accounts = kept(
        "payment_accounts.accounts",
        split_list(
            payment
                .as_ref()
                .and_then(|payment| payment.accounts.as_deref())
                .unwrap_or_default(),
        ),
        |number| digits(number, |len| (1..=20).contains(&len)),
    );
    let permits: Vec<(String, String)> = payment
        .and_then(|payment| payment.permits)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|permit| {
            let number = permit.permit_number?.trim().to_owned();
            let zip = permit.permit_zip?.trim().to_owned();
            let valid = !number.is_empty()
                && number.len() <= 20
                && number.bytes().all(|b| b.is_ascii_alphanumeric())
                && digits(&zip, |len| len == 5);
            valid.then_some((number, zip))
        })
        .collect();
    if crids.is_empty() && mids.is_empty() && eps_accounts.is_empty() && permits.is_empty() {
        return Prefill::unavailable("USPS's UserInfo named no CRID, MID, EPS account or permit");
    }

    let mut details = Map::new();
    let mut options = Map::new();
    details.insert("api".into(), json!("v3"));
    let mut offer = |detail: &str, values: &[String], details: &mut Map<String, Value>| {
        if values.is_empty() {
            return;
        }
        options.insert(detail.into(), strings(values));
        if let [only] = values {
            details.insert(detail.into(), json!(only));
        }
    };
    offer("crid", &crids, &mut details);
    offer("mid", &mids, &mut details);
    // Without roles, every MID may be the Manifest or Returns MID: offered, never guessed.
    if mids.len() > 1 {
        for detail in ["manifest_mid", "returns_mid"] {
            options.insert(detail.into(), strings(&mids));
        }
    }
    let permit_numbers: Vec<String> = permits.iter().map(|(number, _)| number.clone()).collect();
    let permit_zips: Vec<String> = permits.iter().map(|(_, zip)| zip.clone()).collect();
    let mut types = Vec::new();
    if !eps_accounts.is_empty() {
        types.push("EPS".to_owned());
    }
    if !permits.is_empty() {
        types.push("PERMIT".to_owned());
    }
    // An EPS account when there is one (USPS's default payment for labels), else a permit.
    if let Some(first) = types.first() {
        details.insert("account_type".into(), json!(first));
    }
    options.insert("account_type".into(), strings(&types));
    let masked: Vec<String> = eps_accounts
        .iter()
        .map(|number| mask_account_number(number))
        .collect();
    let mut eps_account_number = None;
    let mut eps_account_choices = None;
    match eps_accounts.as_slice() {
        [] => {}
        [only] => {
            details.insert("eps_account_number".into(), json!(masked[0]));
            eps_account_number = Some(SecretString::from(only.clone()));
        }
        several => eps_account_choices = Some(SecretString::from(several.join(","))),
    }
    if !masked.is_empty() {
        options.insert("eps_account_number".into(), strings(&masked));
    }
    if !permits.is_empty() {
        options.insert("permit_number".into(), strings(&permit_numbers));
        options.insert("permit_zip".into(), strings(&permit_zips));
        if eps_accounts.is_empty() {
            if let [(number, zip)] = permits.as_slice() {
                details.insert("permit_number".into(), json!(number));
                details.insert("permit_zip".into(), json!(zip));
            }
        }
    }
    Prefill {
        prefill: AccountPrefill {
            details,
            options,
            unavailable: None,
        },
        eps_account_number,
        eps_account_choices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use secrecy::ExposeSecret;

    /// The reference's shape: two mail owners, `mids` comma-and-space separated, two EPS
    /// accounts in one string, two permits, and claims we do not read.
    const SEVERAL: &str = r#"{"sub": "b3f1c0de", "updated_at": 1767225600,
      "email": "ops@example.com",
      "payment_accounts": {"accounts": "1000004321, 1000007777",
        "permits": [{"permitNumber": "12345", "permitZIP": "63116"},
                    {"permitNumber": "P9876", "permitZIP": "10001"}]},
      "mail_owners": [{"crid": "56982563", "mids": "904128936, 904128937, 904128938"},
                      {"crid": "71234567", "mids": "904128940"}]}"#;

    /// One of each: every detail pre-filled.
    const ONE: &str = r#"{"sub": "merchant",
      "payment_accounts": {"accounts": "1000004321", "permits": []},
      "mail_owners": [{"crid": "56982563", "mids": "904128936"}]}"#;

    fn reply(body: &str) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn parsed(body: &str) -> Prefill {
        parse_reply(&reply(body)).unwrap()
    }

    #[test]
    fn several_mail_owners_mids_accounts_and_permits_become_choices() {
        let prefill = parsed(SEVERAL);
        let options = &prefill.prefill.options;
        assert_eq!(options["crid"], json!(["56982563", "71234567"]));
        let mids = json!(["904128936", "904128937", "904128938", "904128940"]);
        for detail in ["mid", "manifest_mid", "returns_mid"] {
            assert_eq!(options[detail], mids, "{detail}");
        }
        assert_eq!(options["account_type"], json!(["EPS", "PERMIT"]));
        assert_eq!(
            options["eps_account_number"],
            json!(["******4321", "******7777"])
        );
        assert_eq!(options["permit_number"], json!(["12345", "P9876"]));
        assert_eq!(options["permit_zip"], json!(["63116", "10001"]));
        let details = &prefill.prefill.details;
        assert_eq!(
            details.clone(),
            json!({"api": "v3", "account_type": "EPS"})
                .as_object()
                .unwrap()
                .clone(),
            "nothing chosen for the merchant where USPS named several"
        );
        assert!(prefill.eps_account_number.is_none());
        assert_eq!(
            prefill.eps_account_choices.unwrap().expose_secret(),
            "1000004321,1000007777"
        );
        assert_eq!(prefill.prefill.unavailable, None);
    }

    #[test]
    fn a_single_value_prefills_its_detail() {
        let prefill = parsed(ONE);
        let details = &prefill.prefill.details;
        assert_eq!(details["crid"], json!("56982563"));
        assert_eq!(details["mid"], json!("904128936"));
        assert_eq!(details["account_type"], json!("EPS"));
        assert_eq!(details["eps_account_number"], json!("******4321"));
        assert!(details.get("manifest_mid").is_none());
        assert_eq!(
            prefill.eps_account_number.unwrap().expose_secret(),
            "1000004321"
        );
        assert!(prefill.eps_account_choices.is_none());
    }

    #[test]
    fn no_eps_number_is_in_the_prefill() {
        for body in [SEVERAL, ONE] {
            let printed = serde_json::to_string(&parsed(body).prefill).unwrap();
            assert!(
                !printed.contains("1000004321") && !printed.contains("1000007777"),
                "{printed}"
            );
        }
    }

    #[test]
    fn a_single_permit_without_eps_accounts_prefills_a_permit_account() {
        let prefill = parsed(
            r#"{"sub": "s", "payment_accounts": {"permits": [{"permitNumber": "12345", "permitZIP": "63116"}]},
                "mail_owners": [{"crid": "56982563", "mids": "904128936"}]}"#,
        );
        let details = &prefill.prefill.details;
        assert_eq!(details["account_type"], json!("PERMIT"));
        assert_eq!(details["permit_number"], json!("12345"));
        assert_eq!(details["permit_zip"], json!("63116"));
        assert!(prefill.prefill.options.get("eps_account_number").is_none());
    }

    #[test]
    fn mids_split_on_commas_and_spaces_once_each() {
        assert_eq!(
            split_list("904128936, 904128937,904128938 ,  904128936,"),
            ["904128936", "904128937", "904128938"]
        );
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn absent_optional_members_are_tolerated() {
        let prefill = parsed(r#"{"sub": "s", "mail_owners": [{"crid": "56982563"}]}"#);
        assert_eq!(prefill.prefill.details["crid"], json!("56982563"));
        assert!(prefill.prefill.options.get("mid").is_none());
        let prefill = parsed(
            r#"{"sub": "s", "payment_accounts": {"accounts": null}, "mail_owners": [{"mids": "904128936"}]}"#,
        );
        assert_eq!(prefill.prefill.details["mid"], json!("904128936"));
    }

    #[test]
    fn values_that_cannot_be_details_are_dropped() {
        let prefill = parsed(
            r#"{"sub": "s", "payment_accounts": {"accounts": "10000A4321, 1000004321"},
                "mail_owners": [{"crid": "x56", "mids": "12345, 904128936"}]}"#,
        );
        assert!(prefill.prefill.options.get("crid").is_none());
        assert_eq!(prefill.prefill.options["mid"], json!(["904128936"]));
        assert_eq!(
            prefill.prefill.options["eps_account_number"],
            json!(["******4321"])
        );
    }

    #[test]
    fn an_empty_userinfo_prefills_nothing_and_says_so() {
        for body in [
            r#"{"sub": "s"}"#,
            r#"{"sub": "s", "mail_owners": [], "payment_accounts": {"accounts": "", "permits": []}}"#,
        ] {
            let prefill = parsed(body);
            assert!(prefill.prefill.details.is_empty());
            assert!(prefill.prefill.options.is_empty());
            assert_eq!(
                prefill.prefill.unavailable.as_deref(),
                Some("USPS's UserInfo named no CRID, MID, EPS account or permit")
            );
        }
    }

    #[test]
    fn the_wrong_shape_is_malformed() {
        for body in [
            r#"{"mail_owners": [{"crid": "56982563", "mids": "904128936"}]}"#,
            r#"{"sub": "s", "mail_owners": [{"crid": "56982563", "mids": ["904128936"]}]}"#,
            r#"{"sub": "s", "payment_accounts": {"accounts": ["1000004321"]}}"#,
            r#"{"sub": "s", "mail_owners": {"crid": "56982563"}}"#,
            r#"{"sub": " ", "mail_owners": [{"crid": "56982563"}]}"#,
            "not json",
        ] {
            let error = parse_reply(&reply(body)).err().unwrap();
            assert!(matches!(error, Error::Malformed { .. }), "{body}");
            assert!(!error.to_string().contains("1000004321"), "{error}");
        }
    }
}
