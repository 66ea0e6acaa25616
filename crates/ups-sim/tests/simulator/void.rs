//! Void: a ledger shipment is marked voided once; unknown and repeated voids are refused.

use reqwest::StatusCode;
use ups_sim::demo;
use ups_sim::shipping::schema::violations;

use crate::common::{Harness, answer, print_return_request, tracking_number};

async fn shipped(harness: &Harness, token: &str) -> String {
    let answer = harness.ship(token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    tracking_number(&answer)
}

#[tokio::test]
async fn voiding_a_shipment_marks_it_in_the_ledger_and_answers_the_specs_shape() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let answer = harness.void(&token, &number).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        violations("VOIDSHIPMENTResponseWrapper", &answer.body).unwrap(),
        Vec::<String>::new()
    );
    let response = &answer.body["VoidShipmentResponse"];
    assert_eq!(response["SummaryResult"]["Status"]["Code"], "1");
    assert_eq!(
        response["PackageLevelResults"][0]["TrackingNumber"],
        number.as_str()
    );
    assert!(harness.simulator().ledger()[0].voided_at.is_some());
}

#[tokio::test]
async fn voiding_twice_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    assert_eq!(harness.void(&token, &number).await.status, StatusCode::OK);
    let again = harness.void(&token, &number).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.code(), "190117");
}

#[tokio::test]
async fn an_unknown_shipment_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.void(&token, "1Z999AA10123456784").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "190102");
}

#[tokio::test]
async fn a_number_failing_the_1z_rules_is_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    for number in ["1Z999AA10123456785", "1z999aa10123456784", "12345"] {
        let answer = harness.void(&token, number).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{number}");
        assert!(answer.messages().contains("1Z rules"), "{number}");
    }
}

#[tokio::test]
async fn another_accounts_shipment_cannot_be_voided() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let other = harness.user_tokens(demo::OTHER_USERNAME).await;
    let answer = harness
        .void(other["access_token"].as_str().unwrap(), &number)
        .await;
    assert_eq!(answer.code(), "190102");
    assert!(harness.simulator().ledger()[0].voided_at.is_none());
}

#[tokio::test]
async fn the_tracking_number_parameter_must_name_the_shipments_packages() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let send = |query: String| {
        let url = reqwest::Url::parse_with_params(
            &harness.url(&format!("/api/shipments/v2409/void/cancel/{number}")),
            &[("trackingnumber", query)],
        )
        .unwrap();
        harness.http.delete(url).bearer_auth(&token).send()
    };
    let stranger = answer(send("1Z999AA10123456784".to_owned()).await.unwrap()).await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    assert!(stranger.messages().contains("is not a package"));
    let listed = answer(send(format!("[\"{number}\"]")).await.unwrap()).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
}

#[tokio::test]
async fn void_without_a_token_is_401_and_v3_is_not_simulated() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .delete(harness.url("/api/shipments/v2409/void/cancel/1Z999AA10123456784"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = harness.client_token().await;
    let response = harness
        .http
        .delete(harness.url("/api/shipments/v3/void/cancel/1Z999AA10123456784"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.code(), "9999001");
}
