//! FedEx's own example requests, read here straight from the four files (the request bodies'
//! `examples` and the `example` of every sample-payload schema), are accepted verbatim: the
//! schema passes every one, and over HTTP none is refused as invalid input. The return examples
//! get their labels; the email-label example is refused only by the expiration rule (its
//! `expirationTimeStamp`, 2021-05-30, is in the past), and accepted with that date moved.

use fedex_sim::schema::{Operation, request_violations};
use fedex_sim::{AccountConfig, SimConfig, demo};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, days_from_today};

fn file(name: &str) -> Value {
    let path = format!("{}/spec/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every example request body of `path`/`method` in `spec`, by name.
fn examples(spec: &Value, path: &str, method: &str) -> Vec<(String, Value)> {
    let content = &spec["paths"][path][method]["requestBody"]["content"];
    let mut found = Vec::new();
    for media in content.as_object().unwrap().values() {
        for (name, example) in media["examples"].as_object().into_iter().flatten() {
            found.push((name.clone(), example["value"].clone()));
        }
        for branch in media["schema"]["oneOf"].as_array().into_iter().flatten() {
            let name = branch["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            let example = &spec["components"]["schemas"][name]["example"];
            if !example.is_null() {
                found.push((name.to_owned(), example.clone()));
            }
        }
    }
    found
}

fn all_examples() -> Vec<(Operation, String, Value)> {
    let authorization = file("APIAuthorization-Resource.json");
    let shipment = file("Shipment-Resource.json");
    let tracking = file("TrackingNumbers-Resource.json");
    let mut all = Vec::new();
    for (operation, spec, path, method) in [
        (Operation::Token, &authorization, "/oauth/token", "post"),
        (Operation::Ship, &shipment, "/ship/v1/shipments", "post"),
        (
            Operation::Cancel,
            &shipment,
            "/ship/v1/shipments/cancel",
            "put",
        ),
        (
            Operation::Track,
            &tracking,
            "/track/v1/trackingnumbers",
            "post",
        ),
    ] {
        for (name, body) in examples(spec, path, method) {
            all.push((operation, name, body));
        }
    }
    all
}

#[test]
fn the_files_hold_the_examples_the_tests_expect() {
    let all = all_examples();
    let count = |operation| all.iter().filter(|(op, _, _)| *op == operation).count();
    assert_eq!(count(Operation::Token), 3);
    assert_eq!(count(Operation::Ship), 35);
    assert_eq!(count(Operation::Cancel), 1);
    assert_eq!(count(Operation::Track), 1);
    // The registration file gives no example request body.
    let registration = file("AccountRegistration-Resource.json");
    for path in registration["paths"].as_object().unwrap().keys() {
        assert!(examples(&registration, path, "post").is_empty(), "{path}");
    }
}

#[test]
fn every_example_passes_the_schema_verbatim() {
    for (operation, name, body) in all_examples() {
        let problems = request_violations(operation, &body).unwrap();
        assert!(problems.is_empty(), "{operation:?} {name}: {problems:?}");
    }
}

#[test]
fn each_amendment_names_a_real_example_and_the_schema_stays_closed_elsewhere() {
    let all = all_examples();
    let amendments = fedex_sim::schema::amendments(Operation::Ship).unwrap();
    assert!(!amendments.is_empty());
    for amendment in &amendments {
        assert!(
            all.iter().any(|(_, name, _)| *name == amendment.example),
            "{amendment}"
        );
    }
    assert!(
        fedex_sim::schema::amendments(Operation::Track)
            .unwrap()
            .is_empty()
    );
}

/// The demo config plus every account number the examples use, all shippable by the
/// merchant's own app.
fn config_with_example_accounts() -> SimConfig {
    let mut config = SimConfig::default();
    let template: AccountConfig = config.accounts[0].clone();
    let mut numbers = Vec::new();
    for (_, _, body) in all_examples() {
        if let Some(number) = body["accountNumber"]["value"].as_str() {
            if !numbers.contains(&number.to_owned()) && config.account(number).is_none() {
                numbers.push(number.to_owned());
            }
        }
    }
    for number in numbers {
        let mut account = template.clone();
        account.account_number = number.clone();
        config.accounts.push(account);
        config.apps[1].account_numbers.push(number);
    }
    config.check().unwrap()
}

#[tokio::test]
async fn no_example_is_refused_as_invalid_input_over_http() {
    let harness = Harness::with(config_with_example_accounts()).await;
    let token = harness.own_app_token().await;
    for (operation, name, body) in all_examples() {
        let answer = match operation {
            Operation::Token => {
                let form: Vec<(String, String)> = body
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(key, value)| (key.clone(), value.as_str().unwrap().to_owned()))
                    .collect();
                let form: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                harness.token_request(&form).await
            }
            Operation::Ship => harness.ship(&token, &body).await,
            Operation::Cancel => harness.cancel(&token, &body).await,
            _ => {
                harness
                    .post("/track/v1/trackingnumbers", &token, &[], &body)
                    .await
            }
        };
        assert_ne!(
            answer.code(),
            "INVALID.INPUT.EXCEPTION",
            "{name}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn the_official_print_return_example_gets_a_label_verbatim() {
    let harness = Harness::with(config_with_example_accounts()).await;
    let token = harness.own_app_token().await;
    let all = all_examples();
    let (_, _, body) = all
        .iter()
        .find(|(_, name, _)| name == "US_Domestic_Print_Return_Label_Shipment")
        .unwrap();
    let answer = harness.ship(&token, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let piece = &answer.body["output"]["transactionShipments"][0]["pieceResponses"][0];
    // labelResponseOptions URL_ONLY: a link to the label, which serves a PDF.
    let url = piece["packageDocuments"][0]["url"].as_str().unwrap();
    let pdf = harness.http.get(url).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-1.4"));
    let entry = &harness.simulator().ledger()[0];
    assert_eq!(entry.return_type, "PRINT_RETURN_LABEL");
    assert_eq!(entry.service_type, "PRIORITY_OVERNIGHT");
}

#[tokio::test]
async fn the_official_email_return_example_fails_only_its_past_expiration_date() {
    let harness = Harness::with(config_with_example_accounts()).await;
    let token = harness.own_app_token().await;
    let all = all_examples();
    let (_, _, body) = all
        .iter()
        .find(|(_, name, _)| name == "US_Domestic_Email_Return_Label_Shipment")
        .unwrap();
    let verbatim = harness.ship(&token, body).await;
    verbatim.expect(
        StatusCode::BAD_REQUEST,
        "PENDINGSHIPMENT.EXPIRATIONDATE.INVALID",
    );
    let mut moved = body.clone();
    moved["requestedShipment"]["shipmentSpecialServices"]["pendingShipmentDetail"]["expirationTimeStamp"] =
        json!(days_from_today(30));
    let answer = harness.ship(&token, &moved).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let entry = &harness.simulator().ledger()[0];
    assert_eq!(entry.return_type, "PENDING");
    assert_eq!(
        entry.email_recipients,
        vec!["testuser@email.com".to_owned()]
    );
    assert_eq!(entry.account_number, "XXX561073");
    assert_ne!(entry.account_number, demo::ACCOUNT_NUMBER);
}
