use std::time::Duration;

use carrier::ErrorKind;

use super::*;

fn status(operation: Operation, status: u16, code: &str) -> CarrierError {
    Error::Status {
        operation,
        status,
        messages: vec![CarrierMessage {
            code: code.into(),
            message: "FedEx said no".into(),
            field: field_of(code).map(str::to_owned),
        }],
        retry_after: Some(Duration::from_secs(7)),
    }
    .into()
}

fn transport(operation: Operation, source: TransportError) -> CarrierError {
    Error::Transport { operation, source }.into()
}

#[test]
fn the_classification_table_holds() {
    let timeout = || TransportError::Timeout {
        operation: "x",
        url: "u".into(),
    };
    let connect = || TransportError::Connect {
        operation: "x",
        url: "u".into(),
        message: "m".into(),
    };
    let cases = [
        (
            status(Operation::Ship, 401, "NOT.AUTHORIZED.ERROR"),
            ErrorKind::Unauthenticated,
        ),
        (
            status(Operation::Token, 401, "NOT.AUTHORIZED.ERROR"),
            ErrorKind::Unauthenticated,
        ),
        (
            status(Operation::Ship, 403, "FORBIDDEN.ERROR"),
            ErrorKind::Rejected,
        ),
        (
            status(Operation::Ship, 429, "TOO.MANY.REQUESTS"),
            ErrorKind::RateLimited,
        ),
        (
            status(Operation::Ship, 500, "INTERNAL.SERVER.ERROR"),
            ErrorKind::OutcomeUnknown,
        ),
        (
            status(Operation::Ship, 503, "SERVICE.UNAVAILABLE.ERROR"),
            ErrorKind::Unavailable,
        ),
        (
            status(Operation::Track, 503, "SERVICE.UNAVAILABLE.ERROR"),
            ErrorKind::Unavailable,
        ),
        (
            status(Operation::Cancel, 500, "INTERNAL.SERVER.ERROR"),
            ErrorKind::Unavailable,
        ),
        (
            status(Operation::Ship, 400, "ACCOUNTNUMBER.REGISTRATION.REQUIRED"),
            ErrorKind::Rejected,
        ),
        (status(Operation::Ship, 422, "X"), ErrorKind::Rejected),
        (
            status(Operation::Cancel, 400, "SHIPMENT.USER.UNAUTHORIZED"),
            ErrorKind::Rejected,
        ),
        (
            transport(Operation::Ship, timeout()),
            ErrorKind::OutcomeUnknown,
        ),
        (
            transport(Operation::Track, timeout()),
            ErrorKind::Unavailable,
        ),
        (
            transport(Operation::Ship, connect()),
            ErrorKind::Unavailable,
        ),
        (
            Error::malformed(Operation::Ship, "x").into(),
            ErrorKind::OutcomeUnknown,
        ),
        (
            Error::malformed(Operation::Track, "x").into(),
            ErrorKind::Protocol,
        ),
    ];
    for (error, kind) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
    }
}

#[test]
fn a_rate_limit_keeps_retry_after_and_a_field_code_names_our_field() {
    let limited = status(Operation::Track, 429, "X");
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
    let unavailable = status(Operation::Ship, 503, "SERVICE.UNAVAILABLE.ERROR");
    assert_eq!(unavailable.retry_after(), Some(Duration::from_secs(7)));
    let CarrierError::Rejected { messages, .. } =
        status(Operation::Ship, 400, "ACCOUNTNUMBER.REGISTRATION.REQUIRED")
    else {
        panic!("rejected");
    };
    assert_eq!(messages[0].field.as_deref(), Some("details.account_number"));
}

#[test]
fn a_cancel_refused_because_the_package_moves_is_label_in_use() {
    let error: CarrierError = Error::Status {
        operation: Operation::Cancel,
        status: 400,
        messages: vec![CarrierMessage {
            code: "SHIPMENT.CANCEL.FAILED".into(),
            message: "The shipment has already been picked up and cannot be cancelled".into(),
            field: None,
        }],
        retry_after: None,
    }
    .into();
    assert_eq!(error.kind(), ErrorKind::LabelInUse);
}

#[test]
fn the_files_error_bodies_are_read_and_echoed_secrets_scrubbed() {
    let body = br#"{"transactionId":"t","errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"token sentinel-token-123 expired"}]}"#;
    let reply = Reply {
        status: http::StatusCode::UNAUTHORIZED,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::from_static(body),
    };
    let error = from_reply(Operation::Ship, &reply);
    assert!(error.is_unauthorized());
    let scrubbed: CarrierError = error.scrubbed(&["sentinel-token-123"]).into();
    let printed = format!("{scrubbed} {scrubbed:?}");
    assert!(!printed.contains("sentinel-token-123"), "{printed}");
    assert!(printed.contains("NOT.AUTHORIZED.ERROR"), "{printed}");
    let session = Reply {
        status: http::StatusCode::UNAUTHORIZED,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::from_static(br#"{"errors":[{"code":"LOGIN.REAUTHENTICATE.ERROR","message":"Your session is expired."}]}"#),
    };
    assert!(!from_reply(Operation::IssuePin, &session).is_unauthorized());
}
