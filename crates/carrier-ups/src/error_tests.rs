//! The classification table of the module docs, row by row.

use bytes::Bytes;
use carrier::ErrorKind;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use super::*;

fn reply(status: u16, body: &str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
    Reply {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: Bytes::from(body.to_owned()),
    }
}

fn status(operation: Operation, code: u16) -> CarrierError {
    from_reply(operation, &reply(code, "")).into()
}

fn transport(operation: Operation, source: TransportError) -> CarrierError {
    Error::Transport { operation, source }.into()
}

const URL: &str = "https://onlinetools.ups.com/api/shipments/v2409/ship";

#[test]
fn a_ups_error_body_is_a_rejection_keeping_every_code_and_text() {
    let body = r#"{"response":{"errors":[{"code":"120100","message":"Missing or invalid shipper number"},{"code":"120802","message":"Address Validation Error on ShipTo address"}]}}"#;
    let error: CarrierError = from_reply(Operation::Ship, &reply(400, body)).into();
    match error {
        CarrierError::Rejected {
            status, messages, ..
        } => {
            assert_eq!(status, Some(400));
            assert_eq!(messages.len(), 2);
            assert_eq!(messages[0].code, "120100");
            assert_eq!(
                messages[1].message,
                "Address Validation Error on ShipTo address"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreadable_error_body_keeps_the_status() {
    let error: CarrierError = from_reply(Operation::Ship, &reply(400, "<html>")).into();
    assert!(matches!(
        error,
        CarrierError::Rejected {
            status: Some(400),
            ..
        }
    ));
}

#[test]
fn a_401_is_unauthenticated_everywhere() {
    for operation in [
        Operation::Token,
        Operation::Refresh,
        Operation::Ship,
        Operation::Void,
    ] {
        assert_eq!(
            status(operation, 401).kind(),
            ErrorKind::Unauthenticated,
            "{operation}"
        );
    }
}

#[test]
fn a_blocked_merchant_is_unauthenticated_for_tokens_and_a_rejection_for_ship() {
    assert_eq!(
        status(Operation::Token, 403).kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(status(Operation::Ship, 403).kind(), ErrorKind::Rejected);
}

#[test]
fn a_refused_refresh_means_connecting_again() {
    assert_eq!(
        status(Operation::Refresh, 400).kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        status(Operation::CodeExchange, 400).kind(),
        ErrorKind::Rejected
    );
}

#[test]
fn a_429_is_rate_limited_with_its_retry_after() {
    let error = status(Operation::Ship, 429);
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

#[test]
fn a_5xx_on_ship_is_outcome_unknown_and_elsewhere_unavailable() {
    for code in [500, 502, 503, 504] {
        assert_eq!(
            status(Operation::Ship, code).kind(),
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(status(Operation::Void, code).kind(), ErrorKind::Unavailable);
        assert_eq!(
            status(Operation::Token, code).kind(),
            ErrorKind::Unavailable
        );
    }
}

#[test]
fn after_sending_a_ship_request_transport_failures_are_outcome_unknown() {
    let sent = [
        TransportError::Timeout {
            operation: "s",
            url: URL.into(),
        },
        TransportError::Reset {
            operation: "s",
            url: URL.into(),
            message: "reset".into(),
        },
        TransportError::TooLarge {
            operation: "s",
            url: URL.into(),
            limit: 16,
        },
    ];
    for source in sent {
        let error = transport(Operation::Ship, source.clone());
        assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{source:?}");
        assert!(error.may_follow_a_sent_purchase());
        assert_eq!(
            transport(Operation::Void, source).kind(),
            ErrorKind::Unavailable
        );
    }
}

#[test]
fn a_connect_failure_is_unavailable_and_an_unbuilt_request_a_protocol_error() {
    let connect = TransportError::Connect {
        operation: "s",
        url: URL.into(),
        message: "refused".into(),
    };
    assert_eq!(
        transport(Operation::Ship, connect).kind(),
        ErrorKind::Unavailable
    );
    let unsendable = TransportError::Unsendable {
        operation: "s",
        message: "bad header".into(),
    };
    assert_eq!(
        transport(Operation::Ship, unsendable).kind(),
        ErrorKind::Protocol
    );
}

#[test]
fn a_malformed_ship_reply_is_outcome_unknown_but_a_malformed_token_reply_is_protocol() {
    let ship: CarrierError = Error::malformed(Operation::Ship, "x").into();
    let token: CarrierError = Error::malformed(Operation::Token, "x").into();
    assert_eq!(ship.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(token.kind(), ErrorKind::Protocol);
}

#[test]
fn a_void_refused_because_the_package_moved_is_label_in_use() {
    let body = r#"{"response":{"errors":[{"code":"190117","message":"The package has already been picked up and cannot be voided"}]}}"#;
    let error: CarrierError = from_reply(Operation::Void, &reply(400, body)).into();
    assert_eq!(error.kind(), ErrorKind::LabelInUse, "{error:?}");
    assert!(error.to_string().contains("190117"), "{error}");
    let unknown = r#"{"response":{"errors":[{"code":"190102","message":"No shipment found within the allowed void period"}]}}"#;
    let error: CarrierError = from_reply(Operation::Void, &reply(400, unknown)).into();
    assert_eq!(error.kind(), ErrorKind::Rejected, "{error:?}");
    // The same words on a Ship refusal are only a rejection.
    let error: CarrierError = from_reply(Operation::Ship, &reply(400, body)).into();
    assert_eq!(error.kind(), ErrorKind::Rejected);
}

#[test]
fn every_error_names_ups() {
    let errors = [
        status(Operation::Ship, 500),
        status(Operation::Ship, 401),
        status(Operation::Ship, 400),
        Error::Unauthenticated("expired".into()).into(),
        Error::malformed(Operation::Token, "x").into(),
    ];
    for error in errors {
        assert!(error.to_string().starts_with("ups"), "{error}");
    }
}

#[test]
fn scrub_removes_an_echoed_secret_from_every_text() {
    let error = CarrierError::Rejected {
        carrier: CARRIER,
        status: Some(400),
        messages: vec![CarrierMessage {
            code: "250002".into(),
            message: "Invalid token sentinel-token-value".into(),
            field: None,
        }],
    };
    let scrubbed = scrub(error, &["sentinel-token-value"]);
    let printed = format!("{scrubbed} {scrubbed:?}");
    assert!(!printed.contains("sentinel"), "{printed}");
    assert!(printed.contains("[REDACTED]"));
}
