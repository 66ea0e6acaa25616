//! Buying and voiding labels against a local stand-in for UPS: what is sent, what is resent
//! (only what provably was not sent), and how every failure is classified.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use axum::http::StatusCode;
use carrier::{AccountContext, Carrier, CarrierError, ErrorKind, LabelFormat, LabelToVoid};
use serde_json::json;
use support::{Answer, FakeUps, TRACKING, buy, error_body, own_app, request, ship_reply, validate};

#[tokio::test]
async fn a_label_is_bought_with_one_cached_token_and_comes_back_as_a_pdf() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    let first = buy(&carrier, &account, &request("PDF")).await.unwrap();
    buy(&carrier, &account, &request("PDF")).await.unwrap();
    assert_eq!(ups.seen_on("/oauth/token").len(), 1, "the token is cached");
    let token = &ups.seen_on("/oauth/token")[0];
    assert!(token.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(
        token.form(),
        [("grant_type".into(), "client_credentials".into())]
    );
    let ship = &ups.seen_on("/api/shipments/v2409/ship")[0];
    assert_eq!(
        ship.header("authorization"),
        Some("Bearer sentinel-access-1")
    );
    assert_eq!(ship.header("transactionsrc"), Some("backhaul"));
    assert_eq!(
        ship.json()["ShipmentRequest"]["Shipment"]["Shipper"]["ShipperNumber"],
        "A1B2C3"
    );
    assert_eq!(first.tracking_number.as_str(), TRACKING);
    assert_eq!(first.carrier_reference.as_deref(), Some(TRACKING));
    assert_eq!(
        first.charges,
        carrier::Charges::postage_only(carrier::Money::usd_cents(1120)),
        "no service-option charges: no fee"
    );
    assert_eq!(first.carrier_service, "03");
    let label = first.label.unwrap();
    assert_eq!(label.format, LabelFormat::Pdf);
    assert!(LabelFormat::Pdf.matches(&label.bytes));
}

#[tokio::test]
async fn png_gif_and_zpl_labels_come_back_in_their_format() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    for format in [LabelFormat::Png, LabelFormat::Gif] {
        let label = buy(&carrier, &account, &request(format.as_str()))
            .await
            .unwrap()
            .label
            .unwrap();
        assert!(format.matches(&label.bytes), "{format:?}");
    }
    ups.ship(Answer::Json(
        StatusCode::OK,
        ship_reply(TRACKING, Some(("ZPL", b"^XA^FO10,10^FDreturn^FS^XZ"))),
    ));
    let label = buy(&carrier, &account, &request("ZPL")).await.unwrap();
    assert_eq!(
        label.label.unwrap().bytes.as_ref(),
        b"^XA^FO10,10^FDreturn^FS^XZ"
    );
}

#[tokio::test]
async fn an_emailed_label_is_an_electronic_return_label_without_an_image() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    ups.ship(Answer::Json(StatusCode::OK, ship_reply(TRACKING, None)));
    let mut input = request("PDF");
    input.label_delivery = Some("email".into());
    let label = buy(&carrier, &account, &input).await.unwrap();
    assert!(label.label.is_none());
    let sent = ups.seen_on("/ship")[0].json();
    assert_eq!(
        sent["ShipmentRequest"]["Shipment"]["ReturnService"]["Code"],
        "8"
    );
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_then_unauthenticated() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    let expired = || {
        Answer::Json(
            StatusCode::UNAUTHORIZED,
            error_body("250002", "Invalid Authentication Information."),
        )
    };
    ups.ship(expired());
    buy(&carrier, &account, &request("PDF")).await.unwrap();
    assert_eq!(ups.seen_on("/oauth/token").len(), 2);
    assert_eq!(ups.seen_on("/ship").len(), 2);
    ups.ship(expired());
    ups.ship(expired());
    let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert_eq!(ups.seen_on("/ship").len(), 4);
}

#[tokio::test]
async fn a_rejection_keeps_ups_codes_and_is_not_resent() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    ups.ship(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body("120100", "Missing or invalid shipper number"),
    ));
    match buy(&carrier, &account, &request("PDF")).await.unwrap_err() {
        CarrierError::Rejected {
            messages, status, ..
        } => {
            assert_eq!(status, Some(400));
            assert_eq!(messages[0].code, "120100");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ups.seen_on("/ship").len(), 1);
}

#[tokio::test]
async fn rate_limiting_is_reported_with_its_delay_and_not_resent() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    ups.ship(Answer::RetryAfter(
        StatusCode::TOO_MANY_REQUESTS,
        "0",
        error_body("429", "Rate Limit Exceeded"),
    ));
    let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(ups.seen_on("/ship").len(), 1);
}

#[tokio::test]
async fn every_failure_after_the_ship_request_left_is_an_unknown_outcome_sent_once() {
    let ups = FakeUps::start().await;
    let carrier = ups
        .builder()
        .with_max_reply_bytes(64 * 1024)
        .build()
        .unwrap();
    let account = validate(&carrier, &own_app());
    let answers = [
        Answer::Json(
            StatusCode::SERVICE_UNAVAILABLE,
            error_body("503", "unavailable"),
        ),
        Answer::Json(StatusCode::INTERNAL_SERVER_ERROR, json!({})),
        Answer::Hang(Duration::from_secs(3)),
        Answer::Huge(128 * 1024),
        Answer::Reset,
        Answer::Json(StatusCode::OK, json!({"ShipmentResponse": {}})),
        Answer::Text(StatusCode::OK, "<html>maintenance</html>"),
        Answer::Json(StatusCode::OK, ship_reply("1Z999AA10123456785", None)),
    ];
    let count = answers.len();
    for answer in answers {
        ups.ship(answer);
    }
    for attempt in 1..=count {
        let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::OutcomeUnknown,
            "#{attempt}: {error:?}"
        );
        assert!(error.may_follow_a_sent_purchase());
        assert_eq!(
            ups.seen_on("/ship").len(),
            attempt,
            "#{attempt} was sent once"
        );
    }
}

#[tokio::test]
async fn a_connect_failure_is_unavailable() {
    let carrier = carrier_ups::UpsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .with_retry(carrier_ups::RetryConfig {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
        })
        .build()
        .unwrap();
    let account = validate(&carrier, &own_app());
    let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
}

#[tokio::test]
async fn an_invalid_request_is_refused_before_anything_is_sent() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    let mut input = request("PDF");
    input.label_delivery = Some("qr_code".into());
    let error = buy(&carrier, &account, &input).await.unwrap_err();
    match error {
        CarrierError::Validation(errors) => assert!(errors.names("label_delivery")),
        other => panic!("{other:?}"),
    }
    assert!(ups.seen().is_empty());
}

async fn void(
    carrier: &carrier_ups::UpsCarrier,
    account: &carrier::ValidatedAccount,
    reference: Option<&str>,
) -> Result<(), CarrierError> {
    let tracking = carrier::TrackingNumber::other("t", TRACKING).unwrap();
    let service = carrier::ServiceCode::parse("service", "ups_ground_return").unwrap();
    carrier
        .void_label(
            AccountContext {
                id: "sa_test",
                details: &account.details,
                credentials: &account.credentials,
            },
            &LabelToVoid {
                tracking_number: &tracking,
                carrier_reference: reference,
                service: &service,
            },
        )
        .await
}

#[tokio::test]
async fn a_void_deletes_the_shipment_by_its_identification_number() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    void(&carrier, &account, Some(TRACKING)).await.unwrap();
    let seen = &ups.seen_on("/void/cancel/")[0];
    assert_eq!(seen.method, axum::http::Method::DELETE);
    assert_eq!(
        seen.path,
        format!("/api/shipments/v2409/void/cancel/{TRACKING}")
    );
}

#[tokio::test]
async fn a_void_ups_refuses_because_the_package_moved_is_label_in_use() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    ups.void(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body(
            "190117",
            "The shipment has been picked up and cannot be voided",
        ),
    ));
    let error = void(&carrier, &account, Some(TRACKING)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LabelInUse, "{error:?}");
    ups.void(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body("190102", "No shipment found within the allowed void period"),
    ));
    let error = void(&carrier, &account, Some(TRACKING)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected, "{error:?}");
}

#[tokio::test]
async fn a_void_is_retried_when_ups_is_busy_because_voiding_twice_is_harmless() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    ups.void(Answer::Json(StatusCode::SERVICE_UNAVAILABLE, json!({})));
    void(&carrier, &account, Some(TRACKING)).await.unwrap();
    assert_eq!(ups.seen_on("/void/cancel/").len(), 2);
}

#[tokio::test]
async fn a_label_without_its_shipment_number_or_with_a_bad_one_is_not_sent_to_void() {
    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let account = validate(&carrier, &own_app());
    for reference in [None, Some("../../ship"), Some("1Z999AA10123456785")] {
        let error = void(&carrier, &account, reference).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Validation, "{reference:?}");
    }
    assert!(ups.seen_on("/void/").is_empty());
}
