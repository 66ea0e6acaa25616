//! The error answers of the document, in the one error shape (`ErrorEnvelope`), each with an
//! example, added to every operation by the rules the server's extractors follow:
//!
//! - an API key (the operation has a security requirement) → 401 `unauthenticated`, 403
//!   `forbidden` (the other kind of key), 429 `rate_limited` and 503 `service_unavailable`
//!   (both with `Retry-After`);
//! - a JSON request body → 413 `payload_too_large`, 415 `unsupported_media_type`, 422
//!   `validation_failed`;
//! - query or path parameters → 422 `validation_failed` naming the parameter;
//! - an `{id}` → 404 `not_found` (another tenant's is never told apart);
//! - query or path parameters → 414 `uri_too_long` past the request head's limit (8 KiB).
//!
//! Answers particular to one operation (409, 504, the label documents) are written on its
//! handler.

use serde_json::{Value, json};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// One reusable error answer: its component name, status, code and example message.
struct ErrorAnswer {
    name: &'static str,
    status: &'static str,
    code: &'static str,
    description: &'static str,
    message: &'static str,
    retry_after: bool,
    /// The field of the example's one detail, and its message.
    field: Option<(&'static str, &'static str)>,
}

const UNAUTHENTICATED: ErrorAnswer = ErrorAnswer {
    name: "Unauthenticated",
    status: "401",
    code: "unauthenticated",
    description: "No API key, or one that is unknown or revoked (`WWW-Authenticate: Bearer`)",
    message: "missing or invalid API key",
    retry_after: false,
    field: None,
};
const FORBIDDEN: ErrorAnswer = ErrorAnswer {
    name: "Forbidden",
    status: "403",
    code: "forbidden",
    description: "The other kind of key: tenant routes refuse admin keys, `/v1/admin` refuses tenant keys",
    message: "this key cannot use this route",
    retry_after: false,
    field: None,
};
const NOT_FOUND: ErrorAnswer = ErrorAnswer {
    name: "NotFound",
    status: "404",
    code: "not_found",
    description: "No such resource for this tenant (another tenant's is answered the same)",
    message: "not found",
    retry_after: false,
    field: None,
};
const PAYLOAD_TOO_LARGE: ErrorAnswer = ErrorAnswer {
    name: "PayloadTooLarge",
    status: "413",
    code: "payload_too_large",
    description: "The body is over 256 KiB",
    message: "the request body is larger than 262144 bytes",
    retry_after: false,
    field: None,
};
const UNSUPPORTED_MEDIA_TYPE: ErrorAnswer = ErrorAnswer {
    name: "UnsupportedMediaType",
    status: "415",
    code: "unsupported_media_type",
    description: "A body sent without `Content-Type: application/json`",
    message: "the request body must be sent with Content-Type: application/json",
    retry_after: false,
    field: None,
};
const VALIDATION_FAILED: ErrorAnswer = ErrorAnswer {
    name: "ValidationFailed",
    status: "422",
    code: "validation_failed",
    description: "Invalid: `details` names each field or parameter (dotted path) and what it must be. \
                  `POST /v1/return-labels` also answers `idempotency_key_reused`, \
                  `no_eligible_account` and `carrier_rejected` (the carrier's codes in `details`)",
    message: "from_address.zip5: must be 5 digits",
    retry_after: false,
    field: Some(("from_address.zip5", "must be 5 digits")),
};
const URI_TOO_LONG: ErrorAnswer = ErrorAnswer {
    name: "UriTooLong",
    status: "414",
    code: "uri_too_long",
    description: "The request URI (path and query) is over 8 KiB",
    message: "the request URI is longer than 8192 bytes",
    retry_after: false,
    field: None,
};

const RATE_LIMITED: ErrorAnswer = ErrorAnswer {
    name: "RateLimited",
    status: "429",
    code: "rate_limited",
    description: "Too many requests with this API key: retry after `Retry-After` seconds",
    message: "too many requests with this API key; retry after the time in Retry-After",
    retry_after: true,
    field: None,
};
const SERVICE_UNAVAILABLE: ErrorAnswer = ErrorAnswer {
    name: "ServiceUnavailable",
    status: "503",
    code: "service_unavailable",
    description: "The service (its database) or the carrier is unavailable, or the request took \
                  too long and was stopped (`request_timeout`; a label purchase may be retried \
                  with the same Idempotency-Key): retry after `Retry-After` seconds \
                  (`carrier_unavailable` for the carrier)",
    message: "the service is temporarily unavailable",
    retry_after: true,
    field: None,
};
const CONFLICT: ErrorAnswer = ErrorAnswer {
    name: "IdempotencyKeyInUse",
    status: "409",
    code: "idempotency_key_in_use",
    description: "A request with this Idempotency-Key is still running (`idempotency_key_in_use`: retry it \
                  later); or an earlier one's outcome is unknown at a carrier that takes no idempotency key \
                  and may bill a duplicate (`label_outcome_unknown`: it is not sent again — check the \
                  account's shipments at the carrier and buy with a new key)",
    message: "a request with this Idempotency-Key is still in progress",
    retry_after: false,
    field: None,
};
const OUTCOME_UNKNOWN: ErrorAnswer = ErrorAnswer {
    name: "OutcomeUnknown",
    status: "504",
    code: "carrier_unavailable",
    description: "The carrier did not confirm the label and may have made it: retry with the \
                  same Idempotency-Key after `Retry-After` seconds (never a second label)",
    message: "acme did not confirm the label; retry with the same Idempotency-Key",
    retry_after: true,
    field: None,
};

const LABEL_IN_USE: ErrorAnswer = ErrorAnswer {
    name: "LabelInUse",
    status: "409",
    code: "label_in_use",
    description: "The carrier has the parcel already (scanned or picked up): the label cannot be voided",
    message: "acme refused: the package is already in transit",
    retry_after: false,
    field: None,
};

const VERIFICATION_REFUSED: ErrorAnswer = ErrorAnswer {
    name: "VerificationRefused",
    status: "422",
    code: "verification_refused",
    description: "`verification_refused`: the carrier refused the answer (a wrong or expired code, an \
                  unknown invoice), `details` naming the field; the message says how many attempts \
                  are left. `validation_failed`: the answer does not fit the step's form (no carrier \
                  call, no attempt spent)",
    message: "the carrier refused the answer; 4 more attempts are left",
    retry_after: false,
    field: Some((
        "pin",
        "The PIN is wrong or has expired: check it, or start again for a new one",
    )),
};
const VERIFICATION_REGISTRATION_REFUSED: ErrorAnswer = ErrorAnswer {
    name: "VerificationRestartRefused",
    status: "422",
    code: "validation_failed",
    description: "The carrier no longer accepts the account's stored details (`details` names the \
                  field): the account stays `pending_verification`",
    message: "details.customer_name: the carrier has another name for this account",
    retry_after: false,
    field: Some((
        "details.customer_name",
        "the carrier has another name for this account",
    )),
};
const VERIFICATION_CONFLICT: ErrorAnswer = ErrorAnswer {
    name: "VerificationConflict",
    status: "409",
    code: "verification_expired",
    description: "`verification_expired`: the step's `expires_at` has passed (or the carrier says so); \
                  `verification_locked`: no attempts are left — both: start again with \
                  `POST /v1/shipper-accounts/{id}/verification/restart`. `verification_in_progress`: \
                  another answer was handled at the same time (GET the account). \
                  `not_pending_verification`: the account is not being verified",
    message: "the verification of shipper account sa_… has expired at the carrier: start it again",
    retry_after: false,
    field: None,
};

const NOTIFICATION_REFUSED: ErrorAnswer = ErrorAnswer {
    name: "NotificationRefused",
    status: "401",
    code: "notification_refused",
    description: "The carrier's check failed (signature, timestamp, token or client credentials): \
                  nothing changed",
    message: "the notification is not authentic: the signature does not match",
    retry_after: false,
    field: None,
};
const NOTIFICATION_MALFORMED: ErrorAnswer = ErrorAnswer {
    name: "NotificationMalformed",
    status: "400",
    code: "notification_malformed",
    description: "The body is not a notification of the carrier's format: nothing changed",
    message: "the notification is malformed: expected a JSON object",
    retry_after: false,
    field: None,
};
const NO_SUCH_CARRIER: ErrorAnswer = ErrorAnswer {
    name: "NoSuchCarrier",
    status: "404",
    code: "not_found",
    description: "No carrier of this id pushes tracking here",
    message: "not found",
    retry_after: false,
    field: None,
};

const ALL: [&ErrorAnswer; 18] = [
    &UNAUTHENTICATED,
    &FORBIDDEN,
    &NOT_FOUND,
    &URI_TOO_LONG,
    &PAYLOAD_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &VALIDATION_FAILED,
    &RATE_LIMITED,
    &SERVICE_UNAVAILABLE,
    &CONFLICT,
    &OUTCOME_UNKNOWN,
    &LABEL_IN_USE,
    &VERIFICATION_REFUSED,
    &VERIFICATION_REGISTRATION_REFUSED,
    &VERIFICATION_CONFLICT,
    &NOTIFICATION_REFUSED,
    &NOTIFICATION_MALFORMED,
    &NO_SUCH_CARRIER,
];

fn example(answer: &ErrorAnswer) -> Value {
    let mut error = json!({
        "code": answer.code,
        "message": answer.message,
        "request_id": "req_8GKfY2cQbW1mZ7tR0xLp",
    });
    if let Some((field, message)) = answer.field {
        error["details"] = json!([{"field": field, "message": message}]);
    }
    json!({ "error": error })
}

fn response(answer: &ErrorAnswer) -> Response {
    let mut builder = ResponseBuilder::new()
        .description(answer.description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .example(Some(example(answer)))
                .build(),
        );
    if answer.retry_after {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    builder.build()
}

/// Registers every error answer under `components.responses`.
pub fn register(components: &mut Components) {
    for answer in ALL {
        components
            .responses
            .insert(answer.name.to_owned(), RefOr::T(response(answer)));
    }
}

fn add(operation: &mut Operation, answer: &ErrorAnswer) {
    operation
        .responses
        .responses
        .entry(answer.status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(answer.name)));
}

/// The answers of a verification beyond the common ones: 409 and the carrier's refusals (422),
/// for answering a step (`refusal`) or starting again.
pub fn verification(operation: &mut Operation, refusal: bool) {
    if refusal {
        add(operation, &VERIFICATION_REFUSED);
    } else {
        add(operation, &VERIFICATION_REGISTRATION_REFUSED);
    }
    add(operation, &VERIFICATION_CONFLICT);
}

/// The answers of `POST /v1/return-labels` beyond the common ones: 409 and 504.
pub fn label_purchase(operation: &mut Operation) {
    add(operation, &CONFLICT);
    add(operation, &OUTCOME_UNKNOWN);
}

/// The answers of `POST /v1/return-labels/{id}/void` beyond the common ones: 409 (`422
/// not_supported` is a common 422).
pub fn label_void(operation: &mut Operation) {
    add(operation, &LABEL_IN_USE);
}

/// The answers of a carrier listener (and its token route): the carrier's check refused (401),
/// a body not in the carrier's format (400), no such carrier (404). The body is the carrier's,
/// of whatever media type it sends, so no 415.
pub fn carrier_listener(operation: &mut Operation) {
    operation.responses.responses.remove("415");
    add(operation, &NOTIFICATION_REFUSED);
    add(operation, &NOTIFICATION_MALFORMED);
    add(operation, &NO_SUCH_CARRIER);
}

/// The 200 of a label document: the bytes, typed by the label's format.
pub fn label_document(operation: &mut Operation, description: &str) {
    let mut builder = ResponseBuilder::new().description(description).header(
        "Content-Disposition",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("`inline; filename=\"label-lbl_….pdf\"`"))
            .build(),
    );
    for format in carrier::LabelFormat::ALL {
        builder = builder.content(
            format.content_type(),
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .content_media_type(format.content_type()),
                ))
                .build(),
        );
    }
    operation
        .responses
        .responses
        .insert("200".to_owned(), RefOr::T(builder.build()));
}

/// The 200 of a printerless label's QR code: a PNG.
pub fn qr_code_image(operation: &mut Operation) {
    let png = carrier::LabelFormat::Png.content_type();
    let response = ResponseBuilder::new()
        .description("The QR code the customer shows at the carrier's counter, a PNG")
        .header(
            "Content-Disposition",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`inline; filename=\"qr-code-lbl_….png\"`"))
                .build(),
        )
        .content(
            png,
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .content_media_type(png),
                ))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .insert("200".to_owned(), RefOr::T(response));
}

/// Adds the common error answers to every operation of `openapi`, by the rules above.
pub fn add_common(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has_id = parameters
                .iter()
                .any(|p| p.parameter_in == ParameterIn::Path && p.name == "id");
            let has_parameters = parameters
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
            let authenticated = operation
                .security
                .as_ref()
                .is_some_and(|security| !security.is_empty());
            let has_body = operation.request_body.is_some();
            if authenticated {
                add(operation, &UNAUTHENTICATED);
                add(operation, &FORBIDDEN);
                add(operation, &RATE_LIMITED);
                add(operation, &SERVICE_UNAVAILABLE);
            }
            if has_id {
                add(operation, &NOT_FOUND);
            }
            if has_body {
                add(operation, &PAYLOAD_TOO_LARGE);
                add(operation, &UNSUPPORTED_MEDIA_TYPE);
            }
            if has_body || has_parameters {
                add(operation, &VALIDATION_FAILED);
            }
            if has_parameters {
                add(operation, &URI_TOO_LONG);
            }
        }
    }
}
