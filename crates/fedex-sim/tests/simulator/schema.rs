//! Schema refusals name the field: an unknown field, a wrong enum value, a missing required
//! field, a wrong type; the coercion FedEx's examples rely on is accepted.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Harness, print_return_request};

async fn refusal(body: serde_json::Value) -> String {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let answer = harness.ship(&token, &body).await;
    answer.expect(StatusCode::BAD_REQUEST, "INVALID.INPUT.EXCEPTION");
    assert!(harness.simulator().ledger().is_empty());
    answer.messages()
}

#[tokio::test]
async fn an_unknown_field_is_refused_by_name() {
    let mut body = print_return_request("PDF");
    body["requestedShipment"]["shipper"]["address"]["county"] = json!("Hudson");
    let messages = refusal(body).await;
    assert!(messages.contains("county"), "{messages}");
    assert!(
        messages.contains("requestedShipment.shipper.address"),
        "{messages}"
    );
}

#[tokio::test]
async fn a_wrong_enum_value_is_refused_by_field() {
    let mut body = print_return_request("PDF");
    body["requestedShipment"]["pickupType"] = json!("BY_CARRIER_PIGEON");
    let messages = refusal(body).await;
    assert!(
        messages.contains("requestedShipment.pickupType"),
        "{messages}"
    );
}

#[tokio::test]
async fn a_missing_required_field_is_refused_by_name() {
    let mut body = print_return_request("PDF");
    body["requestedShipment"]
        .as_object_mut()
        .unwrap()
        .remove("serviceType");
    let messages = refusal(body).await;
    assert!(messages.contains("serviceType"), "{messages}");
    let mut weightless = print_return_request("PDF");
    weightless["requestedShipment"]["requestedPackageLineItems"][0]["weight"]
        .as_object_mut()
        .unwrap()
        .remove("units");
    let messages = refusal(weightless).await;
    assert!(messages.contains("units"), "{messages}");
}

#[tokio::test]
async fn an_object_where_a_string_is_declared_is_refused() {
    let mut body = print_return_request("PDF");
    body["requestedShipment"]["serviceType"] = json!({"name": "FEDEX_GROUND"});
    let messages = refusal(body).await;
    assert!(
        messages.contains("requestedShipment.serviceType"),
        "{messages}"
    );
}

#[tokio::test]
async fn numbers_for_strings_and_strings_for_numbers_are_read_as_fedex_does() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let mut body = print_return_request("PDF");
    body["requestedShipment"]["shipper"]["address"]["postalCode"] = json!(7302);
    body["requestedShipment"]["shipper"]["contact"]["phoneNumber"] = json!(2015550123_u64);
    body["requestedShipment"]["requestedPackageLineItems"][0]["weight"]["value"] = json!("2.5");
    let answer = harness.ship(&token, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let response = harness
        .http
        .post(harness.url("/ship/v1/shipments"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let answer = crate::common::answer(response).await;
    answer.expect(StatusCode::BAD_REQUEST, "INVALID.INPUT.EXCEPTION");
}
