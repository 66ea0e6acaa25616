//! Error bodies: the `ErrorMessage` schema of the Labels and Payments APIs and the OAuth
//! `StandardErrorResponse`, turned into this crate's [`Error`].

use carrier::CarrierMessage;
use serde::Deserialize;

use crate::client::Reply;
use crate::error::{Error, Operation};

/// `ErrorMessage` (domestic-labels.yaml, payments.yaml).
#[derive(Deserialize)]
struct ErrorMessage {
    error: ErrorMessageError,
}

#[derive(Deserialize)]
struct ErrorMessageError {
    code: Option<String>,
    message: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorMessageItem>,
}

#[derive(Deserialize)]
struct ErrorMessageItem {
    code: Option<String>,
    title: Option<String>,
    detail: Option<String>,
    source: Option<ErrorMessageSource>,
}

#[derive(Deserialize)]
struct ErrorMessageSource {
    parameter: Option<String>,
}

/// `StandardErrorResponse` (oauth2.yaml).
#[derive(Deserialize)]
struct StandardErrorResponse {
    error: String,
    error_description: Option<String>,
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// The messages of an `ErrorMessage` body, each with its USPS code, text and parameter.
fn messages(body: ErrorMessage, status: u16) -> Vec<CarrierMessage> {
    let top_code = present(body.error.code).unwrap_or_else(|| status.to_string());
    let top_message = present(body.error.message);
    let mut messages: Vec<CarrierMessage> = body
        .error
        .errors
        .into_iter()
        .map(|item| CarrierMessage {
            code: present(item.code).unwrap_or_else(|| top_code.clone()),
            message: present(item.detail)
                .or(present(item.title))
                .or_else(|| top_message.clone())
                .unwrap_or_default(),
            field: item.source.and_then(|source| present(source.parameter)),
        })
        .collect();
    if messages.is_empty() {
        messages.push(CarrierMessage {
            code: top_code,
            message: top_message.unwrap_or_default(),
            field: None,
        });
    }
    messages
}

/// "Label Broker requests are incompatible with destination zip code" (return-label
/// inventory; its parameter `labelType`): the merchant's return address cannot take printerless
/// labels, so the request's `label_delivery` is what must change.
const LABEL_BROKER_INCOMPATIBLE_ZIP: &str = "160129";
/// "'LABEL_BROKER' is not a supported imageType in the TEM environment": the deployment points
/// at USPS's test environment, where only a label to print can be bought.
const LABEL_BROKER_NOT_IN_TEM: &str = "160124";
/// "Label Broker Service is unavailable" (return-label inventory, `imageInfo.imageType`): USPS's
/// side is down and nothing was bought; the same request may succeed later.
const LABEL_BROKER_UNAVAILABLE: &str = "160368";

/// What the return-label inventory's codes mean beyond their status (a 400): 160368 alone is
/// USPS unavailable (retryable, nothing bought), and 160129 and 160124 blame our
/// `label_delivery`.
fn return_label_error(
    status: u16,
    mut messages: Vec<CarrierMessage>,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let operation = Operation::ReturnLabel;
    if !messages.is_empty()
        && messages
            .iter()
            .all(|message| message.code == LABEL_BROKER_UNAVAILABLE)
    {
        return Error::LabelBrokerUnavailable {
            operation,
            messages,
        };
    }
    for message in &mut messages {
        if message.code == LABEL_BROKER_INCOMPATIBLE_ZIP || message.code == LABEL_BROKER_NOT_IN_TEM
        {
            message.field = Some("label_delivery".to_owned());
        }
    }
    Error::Status {
        operation,
        status,
        messages,
        retry_after,
    }
}

/// Classifies an error reply (any status of 400 or more) of `operation`.
pub(crate) fn from_reply(operation: Operation, reply: &Reply) -> Error {
    let status = reply.status.as_u16();
    let retry_after = reply.retry_after();
    if let Ok(body) = serde_json::from_slice::<ErrorMessage>(&reply.body) {
        let messages = messages(body, status);
        if operation == Operation::ReturnLabel && status == 400 {
            return return_label_error(status, messages, retry_after);
        }
        return Error::Status {
            operation,
            status,
            messages,
            retry_after,
        };
    }
    if let Ok(body) = serde_json::from_slice::<StandardErrorResponse>(&reply.body) {
        if matches!(status, 400 | 401 | 403) {
            return Error::OAuth {
                operation,
                status,
                error: body.error,
                description: present(body.error_description),
            };
        }
        return Error::Status {
            operation,
            status,
            messages: vec![CarrierMessage {
                code: body.error,
                message: body.error_description.unwrap_or_default(),
                field: None,
            }],
            retry_after,
        };
    }
    // No body we understand: keep the status and its reason phrase.
    Error::Status {
        operation,
        status,
        messages: vec![CarrierMessage {
            code: status.to_string(),
            message: reply
                .status
                .canonical_reason()
                .unwrap_or("error")
                .to_owned(),
            field: None,
        }],
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::{CarrierError, ErrorKind};
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn a_usps_error_message_keeps_each_code_text_and_parameter() {
        let body = r#"{"apiVersion": "/labels/v3", "error": {"code": "400", "message": "Bad Request",
            "errors": [{"status": "400", "code": "160304", "title": "Bad Request",
                        "detail": "Must be enrolled in USPS Ship Returns in order to create return labels",
                        "source": {"parameter": "Header: X-Payment-Authorization-Token"}},
                       {"status": "400", "code": "160075", "title": "Bad Request",
                        "detail": "firstName and lastName or firm name are required",
                        "source": {"parameter": "fromAddress.firstName"}}]}}"#;
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(400, body)).into();
        let CarrierError::Rejected {
            carrier,
            status,
            messages,
        } = error
        else {
            panic!("expected a rejection");
        };
        assert_eq!(carrier, "usps");
        assert_eq!(status, Some(400));
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].code, "160304");
        assert!(
            messages[0]
                .message
                .starts_with("Must be enrolled in USPS Ship Returns")
        );
        assert_eq!(
            messages[0].field.as_deref(),
            Some("Header: X-Payment-Authorization-Token")
        );
        assert_eq!(messages[1].field.as_deref(), Some("fromAddress.firstName"));
    }

    fn label_broker_error(code: &str, detail: &str, parameter: &str) -> String {
        format!(
            r#"{{"apiVersion": "/labels/v3", "error": {{"code": "400", "message": "Bad Request",
            "errors": [{{"status": "400", "code": "{code}", "title": "Bad Request",
                        "detail": "{detail}", "source": {{"parameter": "{parameter}"}}}}]}}}}"#
        )
    }

    #[test]
    fn an_incompatible_destination_for_label_broker_is_a_rejection_naming_label_delivery() {
        let body = label_broker_error(
            "160129",
            "Label Broker requests are incompatible with destination zip code",
            "labelType",
        );
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(400, &body)).into();
        let CarrierError::Rejected { messages, .. } = error else {
            panic!("expected a rejection, got {error:?}");
        };
        assert_eq!(messages[0].code, "160129");
        assert_eq!(messages[0].field.as_deref(), Some("label_delivery"));
        assert!(messages[0].message.contains("destination zip code"));
    }

    #[test]
    fn label_broker_in_the_test_environment_is_a_rejection_naming_label_delivery() {
        let body = label_broker_error(
            "160124",
            "LABEL_BROKER' is not a supported imageType in the TEM environment",
            "imageInfo.imageType",
        );
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(400, &body)).into();
        let CarrierError::Rejected { messages, .. } = error else {
            panic!("expected a rejection");
        };
        assert_eq!(messages[0].field.as_deref(), Some("label_delivery"));
    }

    #[test]
    fn label_broker_unavailable_is_a_retryable_unavailability() {
        let body = label_broker_error(
            "160368",
            "Label Broker Service is unavailable. For any questions, please reach out to us at https://emailus.usps.com/s/web-tools-inquiry",
            "imageInfo.imageType",
        );
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(400, &body)).into();
        assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
        assert!(error.is_retryable());
        assert!(error.to_string().contains("Label Broker"), "{error}");
    }

    #[test]
    fn label_broker_unavailable_beside_another_refusal_is_a_rejection() {
        let body = r#"{"error": {"code": "400", "errors": [
            {"code": "160368", "detail": "Label Broker Service is unavailable"},
            {"code": "160007", "detail": "labelType must be 4X6LABEL when imageType is LABEL_BROKER"}]}}"#;
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(400, body)).into();
        assert_eq!(error.kind(), ErrorKind::Rejected);
    }

    #[test]
    fn an_error_message_without_items_uses_the_top_level_code() {
        let body = r#"{"error": {"code": "403", "message": "Access is denied"}}"#;
        let error: CarrierError = from_reply(Operation::ReturnLabel, &reply(403, body)).into();
        match error {
            CarrierError::Rejected { messages, .. } => {
                assert_eq!(messages[0].code, "403");
                assert_eq!(messages[0].message, "Access is denied");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_oauth_invalid_client_is_unauthenticated() {
        let body =
            r#"{"error": "invalid_client", "error_description": "Client authentication failed"}"#;
        let error: CarrierError = from_reply(Operation::Token, &reply(401, body)).into();
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
        assert!(error.to_string().contains("invalid_client"));
    }

    #[test]
    fn an_oauth_invalid_grant_is_unauthenticated() {
        let body = r#"{"error": "invalid_grant", "error_description": "expired"}"#;
        let error: CarrierError = from_reply(Operation::Token, &reply(400, body)).into();
        assert_eq!(error.kind(), ErrorKind::Unauthenticated);
    }

    #[test]
    fn a_rate_limit_reads_retry_after() {
        let mut limited = reply(
            429,
            r#"{"error": {"code": "429", "message": "Too Many Requests"}}"#,
        );
        limited
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("12"));
        let error: CarrierError = from_reply(Operation::ReturnLabel, &limited).into();
        assert_eq!(error.kind(), ErrorKind::RateLimited);
        assert_eq!(
            error.retry_after(),
            Some(std::time::Duration::from_secs(12))
        );
    }

    #[test]
    fn an_unreadable_error_body_keeps_the_status() {
        let error: CarrierError =
            from_reply(Operation::ReturnLabel, &reply(404, "<html>nope</html>")).into();
        match error {
            CarrierError::Rejected {
                status, messages, ..
            } => {
                assert_eq!(status, Some(404));
                assert_eq!(messages[0].code, "404");
                assert_eq!(messages[0].message, "Not Found");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_oauth_error_with_a_server_status_is_classified_by_status() {
        let body = r#"{"error": "invalid_request", "error_description": "Simulated fault: 503"}"#;
        let error: CarrierError = from_reply(Operation::Token, &reply(503, body)).into();
        assert_eq!(error.kind(), ErrorKind::Unavailable);
    }
}
