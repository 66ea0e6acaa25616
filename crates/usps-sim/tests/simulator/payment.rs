//! `POST /payments/v3/payment-authorization`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usps_sim::demo;

use crate::common::{Harness, eps_parties, error_codes, parties_of, permit_parties, user_tokens};

/// Sends `parties` with a client-credentials token; returns status, codes and body.
async fn authorize(parties: Value) -> (StatusCode, Vec<String>, Value) {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    error_codes(harness.authorize_payment(&access, &parties).await).await
}

/// `eps_parties()` with `edit` applied to role `index`.
fn edited(index: usize, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut parties = eps_parties();
    edit(parties["roles"][index].as_object_mut().unwrap());
    parties
}

async fn assert_code(parties: Value, code: &str) {
    let (status, codes, body) = authorize(parties).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        codes.iter().any(|found| found == code),
        "expected {code} in {body}"
    );
    assert_eq!(body["apiVersion"], "/payments/v3");
    assert_eq!(body["error"]["code"], "400");
}

#[tokio::test]
async fn eps_payer_gets_a_token_and_the_roles_echoed() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness.authorize_payment(&access, &eps_parties()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["paymentAuthorizationToken"].as_str().unwrap().len() >= 32);
    assert_eq!(body["roles"], eps_parties()["roles"]);
}

#[tokio::test]
async fn permit_payer_gets_a_token() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness.authorize_payment(&access, &permit_parties()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn missing_access_token_is_401_with_www_authenticate() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/payments/v3/payment-authorization"))
        .json(&eps_parties())
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let (status, codes, _) = error_codes(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(codes, ["SIM_UNAUTHORIZED"]);
}

#[tokio::test]
async fn role_without_crid_is_160218() {
    assert_code(edited(0, |role| drop(role.remove("CRID"))), "160218").await;
}

#[tokio::test]
async fn role_without_role_name_is_160219() {
    assert_code(edited(0, |role| drop(role.remove("roleName"))), "160219").await;
}

#[tokio::test]
async fn rate_holder_with_meter_account_is_160220() {
    let mut parties = eps_parties();
    parties["roles"].as_array_mut().unwrap().push(json!({
        "roleName": "RATE_HOLDER", "CRID": demo::CRID, "accountType": "METER", "accountNumber": "1"
    }));
    assert_code(parties, "160220").await;
}

#[tokio::test]
async fn label_owner_without_mid_is_160221() {
    assert_code(edited(1, |role| drop(role.remove("MID"))), "160221").await;
}

#[tokio::test]
async fn label_owner_without_manifest_mid_is_160222() {
    assert_code(edited(1, |role| drop(role.remove("manifestMID"))), "160222").await;
}

#[tokio::test]
async fn payer_without_account_type_is_160223() {
    assert_code(edited(0, |role| drop(role.remove("accountType"))), "160223").await;
}

#[tokio::test]
async fn eps_payer_without_account_number_is_160224() {
    assert_code(
        edited(0, |role| drop(role.remove("accountNumber"))),
        "160224",
    )
    .await;
}

#[tokio::test]
async fn permit_payer_without_permit_number_is_160225() {
    let mut parties = permit_parties();
    parties["roles"][0]
        .as_object_mut()
        .unwrap()
        .remove("permitNumber");
    assert_code(parties, "160225").await;
}

#[tokio::test]
async fn permit_payer_without_permit_zip_is_160226() {
    let mut parties = permit_parties();
    parties["roles"][0]
        .as_object_mut()
        .unwrap()
        .remove("permitZIP");
    assert_code(parties, "160226").await;
}

#[tokio::test]
async fn duplicate_roles_are_160227() {
    let mut parties = eps_parties();
    let payer = parties["roles"][0].clone();
    parties["roles"].as_array_mut().unwrap().push(payer);
    assert_code(parties, "160227").await;
}

#[tokio::test]
async fn missing_payer_is_160228() {
    let mut parties = eps_parties();
    parties["roles"].as_array_mut().unwrap().remove(0);
    assert_code(parties, "160228").await;
}

#[tokio::test]
async fn missing_label_owner_is_160229() {
    let mut parties = eps_parties();
    parties["roles"].as_array_mut().unwrap().remove(1);
    assert_code(parties, "160229").await;
}

#[tokio::test]
async fn unknown_eps_account_is_100001_naming_the_number() {
    let parties = edited(0, |role| {
        drop(role.insert("accountNumber".into(), json!("1999999999")))
    });
    let (status, codes, body) = authorize(parties).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["100001"]);
    assert_eq!(
        body["error"]["errors"][0]["detail"],
        "Could not find an EPS Account with number: 1999999999."
    );
}

#[tokio::test]
async fn inactive_eps_account_is_100002() {
    assert_code(
        edited(0, |role| {
            drop(role.insert("accountNumber".into(), json!(demo::INACTIVE_EPS_ACCOUNT)))
        }),
        "100002",
    )
    .await;
}

#[tokio::test]
async fn unknown_permit_is_refused() {
    let mut parties = permit_parties();
    parties["roles"][0]["permitNumber"] = json!("99999");
    assert_code(parties, "SIM_PERMIT_NOT_FOUND").await;
}

#[tokio::test]
async fn permit_at_the_wrong_zip_is_refused() {
    let mut parties = permit_parties();
    parties["roles"][0]["permitZIP"] = json!("63117");
    assert_code(parties, "SIM_PERMIT_ZIP_MISMATCH").await;
}

#[tokio::test]
async fn mid_of_another_crid_is_refused() {
    assert_code(
        edited(1, |role| {
            drop(role.insert("MID".into(), json!(demo::UNENROLLED_MID)))
        }),
        "SIM_MID_NOT_OWNED",
    )
    .await;
}

#[tokio::test]
async fn unknown_crid_is_refused() {
    assert_code(
        parties_of("11223344", demo::MID, demo::MANIFEST_MID, demo::EPS_ACCOUNT),
        "SIM_UNKNOWN_CRID",
    )
    .await;
}

#[tokio::test]
async fn mid_with_seven_digits_breaks_the_pattern() {
    let (status, codes, body) = authorize(edited(1, |role| {
        drop(role.insert("MID".into(), json!("1234567")))
    }))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(
        body["error"]["errors"][0]["source"]["parameter"],
        "roles[1].MID"
    );
}

#[tokio::test]
async fn one_character_crid_is_too_short() {
    let (_, codes, body) = authorize(edited(0, |role| {
        drop(role.insert("CRID".into(), json!("5")))
    }))
    .await;
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(
        body["error"]["errors"][0]["source"]["parameter"],
        "roles[0].CRID"
    );
}

#[tokio::test]
async fn unknown_role_name_is_a_schema_error() {
    let (_, codes, _) = authorize(edited(0, |role| {
        drop(role.insert("roleName".into(), json!("BUYER")))
    }))
    .await;
    assert_eq!(codes, ["OAS_VALIDATION"]);
}

#[tokio::test]
async fn misspelt_role_property_is_refused() {
    let parties = edited(0, |role| {
        let number = role.remove("accountNumber").unwrap();
        role.insert("accountnumber".into(), number);
    });
    let (_, codes, body) = authorize(parties).await;
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(
        body["error"]["errors"][0]["source"]["parameter"],
        "roles[0].accountnumber"
    );
}

#[tokio::test]
async fn empty_roles_are_refused() {
    let (status, codes, _) = authorize(json!({"roles": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["OAS_VALIDATION"]);
}

#[tokio::test]
async fn missing_roles_are_refused() {
    let (_, codes, body) = authorize(json!({})).await;
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(body["error"]["errors"][0]["source"]["parameter"], "roles");
}

#[tokio::test]
async fn account_number_as_a_number_is_a_type_error() {
    let (_, codes, body) = authorize(edited(0, |role| {
        drop(role.insert("accountNumber".into(), json!(1000004321)))
    }))
    .await;
    assert_eq!(codes, ["OAS_VALIDATION"]);
    assert_eq!(
        body["error"]["errors"][0]["source"]["parameter"],
        "roles[0].accountNumber"
    );
}

#[tokio::test]
async fn xml_body_is_unsupported_media_type() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    let response = harness
        .http
        .post(harness.url("/payments/v3/payment-authorization"))
        .bearer_auth(&access)
        .header("content-type", "application/xml")
        .body("<Parties/>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn signed_in_user_cannot_pay_from_another_business() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::SMALL_USERNAME).await;
    let (status, codes, _) =
        error_codes(harness.authorize_payment(&access, &eps_parties()).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(codes, ["SIM_FORBIDDEN"]);
}

#[tokio::test]
async fn signed_in_user_pays_from_their_own_business() {
    let harness = Harness::start().await;
    let (access, _) = user_tokens(&harness, demo::USERNAME).await;
    let response = harness.authorize_payment(&access, &eps_parties()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn payment_authorization_calls_are_counted() {
    let harness = Harness::start().await;
    let access = harness.access_token().await;
    harness.authorize_payment(&access, &eps_parties()).await;
    harness.authorize_payment(&access, &json!({})).await;
    let count = harness
        .simulator()
        .counters()
        .route("payment-authorization");
    assert_eq!((count.calls, count.ok, count.error), (2, 1, 1));
}
