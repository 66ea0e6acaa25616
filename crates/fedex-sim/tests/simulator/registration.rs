//! Account Registration: address check, PIN by each option, invoice, and the refusals.

use std::time::Duration;

use base64::Engine;
use fedex_sim::demo;
use fedex_sim::schema::SpecFile;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, address_body, assert_conforms};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_account_with_mfa_answers_the_files_mfa_options_shape() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let answer = harness
        .validate_address(&platform, &address_body(demo::ACCOUNT_NUMBER))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mfa = &answer.body["output"]["mfaOptions"];
    assert_eq!(mfa["mfaRequired"], true);
    assert_eq!(mfa["email"], "RE***@B***.EXAMPLE");
    assert_eq!(mfa["phoneNumber"], "***-***-0100");
    assert_eq!(
        mfa["options"],
        json!({"invoice": "INVOICE", "secureCode": ["SMS", "CALL", "EMAIL"]})
    );
    let token = mfa["accountAuthToken"].as_str().unwrap();
    assert!(token.starts_with("eyJhbGciOiJIUzI1NiJ9."));
    let claims = claims(token);
    assert_eq!(claims["TypeOfJWT"], "AddressValidated");
    assert_eq!(claims["AccountNumber"], demo::ACCOUNT_NUMBER);
    assert_eq!(claims["DateTime"], 1_800_000);
    // The file's schema says mfaOptions is an array; its example (and the simulator) send one
    // object: that is the one violation.
    let problems =
        fedex_sim::schema::violations(SpecFile::Registration, "IrcpResponseVO", &answer.body)
            .unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("output.mfaOptions"), "{problems:?}");
}

#[tokio::test]
async fn an_account_without_mfa_gets_keys_at_once() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let mut body = address_body(demo::NO_MFA_ACCOUNT_NUMBER);
    body["address"] = json!({
        "streetLines": ["500 congress ave"], "city": "AUSTIN", "stateOrProvinceCode": "tx",
        "postalCode": "78701", "countryCode": "US", "residential": false
    });
    let answer = harness.validate_address(&platform, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let output = &answer.body["output"];
    assert!(output["mfaOptions"].is_null());
    let token = harness
        .csp_token(
            output["child_Key"].as_str().unwrap(),
            output["child_secret"].as_str().unwrap(),
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
}

#[tokio::test]
async fn a_pin_goes_to_each_option_and_its_unmasked_destination() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    for (option, destination) in [
        ("SMS", demo::PHONE),
        ("CALL", demo::PHONE),
        ("EMAIL", demo::EMAIL),
    ] {
        let sent = harness.send_pin(&platform, &session, option).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert_eq!(sent.body["output"]["status"], "sent secured Pin");
        assert_conforms(SpecFile::Registration, "PinGenerationOutputVO", &sent.body);
        let pin = harness.simulator().sent_pins().last().unwrap().clone();
        assert_eq!(pin.option, option);
        assert_eq!(pin.destination, destination);
        assert_eq!(pin.account_number, demo::ACCOUNT_NUMBER);
        assert_eq!(pin.pin.len(), 6);
        assert!(pin.pin.bytes().all(|byte| byte.is_ascii_digit()));
    }
    let outbox: Vec<Value> = harness
        .http
        .get(harness.url("/__sim/registration/pins"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outbox.len(), 3);
    assert_eq!(outbox[2]["option"], "EMAIL");
    assert!(!format!("{:?}", harness.simulator().sent_pins()).contains(&harness.last_pin()));
}

#[tokio::test]
async fn the_right_pin_gets_keys_once_and_a_newer_pin_replaces_the_older() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    harness.send_pin(&platform, &session, "SMS").await;
    let first = harness.last_pin();
    harness.send_pin(&platform, &session, "EMAIL").await;
    let second = harness.last_pin();
    if first != second {
        harness
            .validate_pin(&platform, &session, &first)
            .await
            .expect(StatusCode::BAD_REQUEST, "PIN.OPTION.INVALIDEXPIRED");
    }
    let keys = harness.validate_pin(&platform, &session, &second).await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    let spent = harness.validate_pin(&platform, &session, &second).await;
    spent.expect(StatusCode::BAD_REQUEST, "PIN.OPTION.INVALIDEXPIRED");
    assert!(spent.messages().contains("Pin is invalid or expired.."));
}

#[tokio::test]
async fn a_wrong_pin_or_none_issued_is_invalid_and_may_be_retried() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    harness
        .validate_pin(&platform, &session, "123456")
        .await
        .expect(StatusCode::BAD_REQUEST, "PIN.OPTION.INVALIDEXPIRED");
    harness.send_pin(&platform, &session, "CALL").await;
    let pin = harness.last_pin();
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        harness
            .validate_pin(&platform, &session, wrong)
            .await
            .expect(StatusCode::BAD_REQUEST, "PIN.OPTION.INVALIDEXPIRED");
    }
    let keys = harness.validate_pin(&platform, &session, &pin).await;
    assert_eq!(keys.status, StatusCode::OK, "no lockout: {}", keys.body);
}

#[tokio::test]
async fn an_expired_session_and_a_forged_token_are_refused() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    let forged = format!("{session}x");
    harness
        .send_pin(&platform, &forged, "SMS")
        .await
        .expect(StatusCode::BAD_REQUEST, "UNAUTHORIZED.ACCESS.ERROR");
    harness.send_pin(&platform, &session, "SMS").await;
    let pin = harness.last_pin();
    harness
        .simulator()
        .advance_clock(Duration::from_secs(30 * 60 + 1));
    let platform = harness.platform_token().await;
    harness
        .send_pin(&platform, &session, "SMS")
        .await
        .expect(StatusCode::BAD_REQUEST, "SESSION.EXPIRED.ERROR");
    harness
        .validate_pin(&platform, &session, &pin)
        .await
        .expect(StatusCode::BAD_REQUEST, "SESSION.EXPIRED.ERROR");
}

#[tokio::test]
async fn pin_options_need_a_registered_destination_and_an_option() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let mut body = address_body(demo::OTHER_ACCOUNT_NUMBER);
    body["address"] = json!({
        "streetLines": ["3875 Airways Blvd"], "city": "Memphis", "stateOrProvinceCode": "TN",
        "postalCode": "38116", "countryCode": "US", "residential": false
    });
    let answer = harness.validate_address(&platform, &body).await;
    let session = answer.body["output"]["mfaOptions"]["accountAuthToken"]
        .as_str()
        .unwrap()
        .to_owned();
    harness
        .send_pin(&platform, &session, "SMS")
        .await
        .expect(StatusCode::BAD_REQUEST, "PHONENUMBER.NOT.REGISTERED");
    let empty = harness
        .post(
            "/registration/v2/customerkeys/pingeneration",
            &platform,
            &[("accountAuthToken", &session)],
            &json!({}),
        )
        .await;
    empty.expect(StatusCode::BAD_REQUEST, "PIN.OPTION.REQUIRED");
    harness
        .send_pin(&platform, &session, "FAX")
        .await
        .expect(StatusCode::BAD_REQUEST, "INVALID.INPUT.EXCEPTION");
    let sent = harness.send_pin(&platform, &session, "EMAIL").await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(
        harness.simulator().sent_pins()[0].destination,
        demo::OTHER_EMAIL
    );
}

fn invoice(number: u64, amount: f64) -> Value {
    json!({"invoiceDetail": {
        "number": number, "currency": demo::INVOICE_CURRENCY,
        "date": demo::INVOICE_DATE, "amount": amount
    }})
}

#[tokio::test]
async fn the_right_invoice_gets_keys_and_a_wrong_one_is_unknown() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    let path = "/registration/v2/invoice/keysgeneration";
    let headers = [("accountAuthToken", session.as_str())];
    harness
        .post(
            path,
            &platform,
            &headers,
            &invoice(demo::INVOICE_NUMBER, 2323.21),
        )
        .await
        .expect(StatusCode::BAD_REQUEST, "INVOICE.UNKNOWN.ERROR");
    harness
        .post(path, &platform, &headers, &json!({}))
        .await
        .expect(StatusCode::BAD_REQUEST, "INVOICE.DETAILS.REQUIRED");
    harness
        .post(
            path,
            &platform,
            &headers,
            &json!({"invoiceDetail": {"currency": "USD"}}),
        )
        .await
        .expect(StatusCode::BAD_REQUEST, "INVOICEDETAILS.NUMBER.REQUIRED");
    let keys = harness
        .post(
            path,
            &platform,
            &headers,
            &invoice(demo::INVOICE_NUMBER, 2323.22),
        )
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    assert!(keys.body["output"]["child_Key"].is_string());
}

#[tokio::test]
async fn an_unknown_account_a_wrong_address_and_missing_fields_are_refused() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    harness
        .validate_address(&platform, &address_body("999999999"))
        .await
        .expect(StatusCode::BAD_REQUEST, "ACCOUNT.NUMBER.NOTFOUND");
    let mut wrong = address_body(demo::ACCOUNT_NUMBER);
    wrong["address"]["postalCode"] = "63117".into();
    harness
        .validate_address(&platform, &wrong)
        .await
        .expect(StatusCode::BAD_REQUEST, "ADDRESS.DETAIL.INVALID");
    let mut street = address_body(demo::ACCOUNT_NUMBER);
    street["address"]["streetLines"] = json!(["1 Other St"]);
    harness
        .validate_address(&platform, &street)
        .await
        .expect(StatusCode::BAD_REQUEST, "ADDRESS.DETAIL.INVALID");
    let mut nameless = address_body(demo::ACCOUNT_NUMBER);
    nameless["customerName"] = "".into();
    harness
        .validate_address(&platform, &nameless)
        .await
        .expect(StatusCode::BAD_REQUEST, "CUSTOMER.NAME.REQUIRED");
    let mut numberless = address_body(demo::ACCOUNT_NUMBER);
    numberless["accountNumber"] = json!({"key": "", "value": ""});
    harness
        .validate_address(&platform, &numberless)
        .await
        .expect(StatusCode::BAD_REQUEST, "ACCOUNT.NUMBER.REQUIRED");
    let mut keyless = address_body(demo::ACCOUNT_NUMBER);
    keyless["accountNumber"] = json!({"value": demo::ACCOUNT_NUMBER});
    let refused = harness.validate_address(&platform, &keyless).await;
    refused.expect(StatusCode::BAD_REQUEST, "INVALID.INPUT.EXCEPTION");
    assert!(refused.messages().contains("key"), "{}", refused.messages());
    let mut unknown = address_body(demo::ACCOUNT_NUMBER);
    unknown["address"]["county"] = "St. Louis City".into();
    let refused = harness.validate_address(&platform, &unknown).await;
    refused.expect(StatusCode::BAD_REQUEST, "INVALID.INPUT.EXCEPTION");
    assert!(
        refused.messages().contains("county"),
        "{}",
        refused.messages()
    );
}

#[tokio::test]
async fn only_an_integrators_own_token_may_register() {
    let harness = Harness::start().await;
    let own = harness.own_app_token().await;
    harness
        .validate_address(&own, &address_body(demo::ACCOUNT_NUMBER))
        .await
        .expect(StatusCode::FORBIDDEN, "FORBIDDEN.ERROR");
    harness
        .validate_address("not-a-token", &address_body(demo::ACCOUNT_NUMBER))
        .await
        .expect(StatusCode::UNAUTHORIZED, "NOT.AUTHORIZED.ERROR");
}

#[tokio::test]
async fn registering_an_account_twice_makes_two_children() {
    let harness = Harness::start().await;
    let first = harness.registered_child_token().await;
    let second = harness.registered_child_token().await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn every_generated_credential_is_listed_for_leak_tests_and_debug_hides_them() {
    let harness = Harness::start().await;
    let platform = harness.platform_token().await;
    let session = harness.session(&platform).await;
    harness.send_pin(&platform, &session, "SMS").await;
    let keys = harness
        .validate_pin(&platform, &session, &harness.last_pin())
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    let output = &keys.body["output"];
    let (child_key, child_secret) = (
        output["child_Key"].as_str().unwrap(),
        output["child_secret"].as_str().unwrap(),
    );
    let csp = harness.csp_token(child_key, child_secret).await;
    let csp = csp.body["access_token"].as_str().unwrap();
    // Revoked tokens stay listed.
    harness.simulator().inject(fedex_sim::FaultRule {
        route: fedex_sim::route::TRACK.to_owned(),
        fault: fedex_sim::Fault::ExpiredToken,
        times: Some(1),
        probability: None,
    });
    harness.track(csp, &["794843185271"], false).await;

    let issued = harness.simulator().issued_credentials();
    assert_eq!(issued.access_tokens, [platform.as_str(), csp]);
    assert_eq!(issued.account_auth_tokens, [session.as_str()]);
    assert_eq!(issued.children.len(), 1);
    assert_eq!(issued.children[0].child_key, child_key);
    assert_eq!(issued.children[0].child_secret, child_secret);
    let shown = format!("{issued:?} {:?}", issued.children[0]);
    for secret in [
        platform.as_str(),
        csp,
        session.as_str(),
        child_key,
        child_secret,
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
