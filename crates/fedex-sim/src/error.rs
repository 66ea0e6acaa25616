//! FedEx's one error shape, the `ErrorResponseVO` of every file:
//! `{"transactionId": "…", "customerTransactionId": "…", "errors": [{"code": "…", "message": "…",
//! "parameterList": [{"key": "…", "value": "…"}]}]}`.
//!
//! Codes come from the files' own error examples where they have one; the few the files do not
//! give are the simulator's choice, each marked so below.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Error codes and the messages the files give them.
pub mod code {
    /// 401, every file: bad client credentials, or a missing, unknown or expired bearer token.
    pub const NOT_AUTHORIZED: &str = "NOT.AUTHORIZED.ERROR";
    /// 403, every file: a token that may not act for the account named.
    pub const FORBIDDEN: &str = "FORBIDDEN.ERROR";
    /// 500, every file.
    pub const INTERNAL: &str = "INTERNAL.SERVER.ERROR";
    /// 503, every file.
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE.UNAVAILABLE.ERROR";
    /// Simulator's choice (the files list none for it): the body is not JSON or breaks the
    /// operation's schema; one error per violation, the field in `parameterList`.
    pub const INVALID_INPUT: &str = "INVALID.INPUT.EXCEPTION";
    /// Simulator's choice: a request for something FedEx offers that this simulator does not
    /// simulate (see the crate docs' list).
    pub const NOT_SIMULATED: &str = "SIMULATOR.FEATURE.NOTSIMULATED";
    /// Simulator's choice: a 429 fault (the files define no 429).
    pub const RATE_LIMIT: &str = "RATE.LIMIT.EXCEEDED";

    /// Registration: no configured account has the number.
    pub const ACCOUNT_NOT_FOUND: &str = "ACCOUNT.NUMBER.NOTFOUND";
    /// Registration: the account number is empty.
    pub const ACCOUNT_REQUIRED: &str = "ACCOUNT.NUMBER.REQUIRED";
    /// Registration: the address does not match the account's.
    pub const ADDRESS_INVALID: &str = "ADDRESS.DETAIL.INVALID";
    /// Registration: the customer name is empty.
    pub const CUSTOMER_NAME_REQUIRED: &str = "CUSTOMER.NAME.REQUIRED";
    /// Registration: the `accountAuthToken` has expired.
    pub const SESSION_EXPIRED: &str = "SESSION.EXPIRED.ERROR";
    /// Registration: the `accountAuthToken` is missing, forged or not the bearer's.
    pub const UNAUTHORIZED_ACCESS: &str = "UNAUTHORIZED.ACCESS.ERROR";
    /// PIN generation: no option.
    pub const PIN_OPTION_REQUIRED: &str = "PIN.OPTION.REQUIRED";
    /// PIN generation: e-mail chosen, none registered.
    pub const EMAIL_NOT_REGISTERED: &str = "EMAIL.NOT.REGISTERED";
    /// PIN generation: SMS or call chosen, no phone registered.
    pub const PHONE_NOT_REGISTERED: &str = "PHONENUMBER.NOT.REGISTERED";
    /// PIN generation: an option the account does not offer.
    pub const ISSUE_PIN_FAILED: &str = "ISSUE.PIN.FAILED";
    /// PIN validation: wrong PIN, spent PIN or none issued.
    pub const PIN_INVALID: &str = "PIN.OPTION.INVALIDEXPIRED";
    /// PIN validation: empty `secureCodePin`.
    pub const PIN_REQUIRED: &str = "PIN.PINSECURECODE.REQUIRED";
    /// Invoice validation: the details match no invoice of the account.
    pub const INVOICE_UNKNOWN: &str = "INVOICE.UNKNOWN.ERROR";
    /// Invoice validation: no invoice number.
    pub const INVOICE_NUMBER_REQUIRED: &str = "INVOICEDETAILS.NUMBER.REQUIRED";
    /// Invoice validation: no invoice details.
    pub const INVOICE_DETAILS_REQUIRED: &str = "INVOICE.DETAILS.REQUIRED";

    /// Ship: the account number is not a FedEx account (the file's 400 example).
    pub const ACCOUNT_REGISTRATION_REQUIRED: &str = "ACCOUNTNUMBER.REGISTRATION.REQUIRED";
    /// Ship, simulator's choice: a prose rule of the file is broken (the message names it).
    pub const SHIPMENT_RULE: &str = "SHIPMENT.VALIDATION.ERROR";
    /// Ship, simulator's choice: the Email Label `expirationTimeStamp` is before today or
    /// more than two years ahead.
    pub const EXPIRATION_INVALID: &str = "PENDINGSHIPMENT.EXPIRATIONDATE.INVALID";
    /// Cancel: unknown number, or another account's (the file's 400 example).
    pub const SHIPMENT_USER_UNAUTHORIZED: &str = "SHIPMENT.USER.UNAUTHORIZED";
    /// Cancel, simulator's choice: cancelled before.
    pub const SHIPMENT_ALREADY_CANCELLED: &str = "SHIPMENT.ALREADY.CANCELLED";
    /// Cancel, simulator's choice (the file has none): FedEx has scanned the package.
    pub const SHIPMENT_ALREADY_SCANNED: &str = "SHIPMENT.CANCEL.NOTALLOWED";
    /// Track: no tracking numbers (the file's 400 example).
    pub const TRACKING_EMPTY: &str = "TRACKING.TRACKINGNUMBER.EMPTY";
    /// Track, simulator's choice: more than the 30 numbers the file allows.
    pub const TRACKING_LIMIT: &str = "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED";
    /// Track, per number (FedEx's known code; the file names only `TRACKING.DATA.NOTFOUND`
    /// as an alert): the number is unknown, or not one of the caller's.
    pub const TRACKING_NOT_FOUND: &str = "TRACKING.TRACKINGNUMBER.NOTFOUND";
}

/// One FedEx error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FedexError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The errors, in order.
    pub errors: Vec<ErrorItem>,
    /// The request's `x-customer-transaction-id`, echoed as `customerTransactionId`.
    pub customer_transaction_id: Option<String>,
}

/// One `CXSError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorItem {
    /// `code`.
    pub code: String,
    /// `message`.
    pub message: String,
    /// `parameterList` as (key, value) pairs.
    pub parameters: Vec<(String, String)>,
}

impl FedexError {
    /// An answer with one error and no parameters.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            errors: vec![ErrorItem {
                code: code.to_owned(),
                message: message.into(),
                parameters: Vec::new(),
            }],
            customer_transaction_id: None,
        }
    }

    /// 400 with one error.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A refusal of something not simulated.
    pub fn not_simulated(what: impl Into<String>) -> Self {
        Self::bad_request(
            code::NOT_SIMULATED,
            format!("{} is not simulated.", what.into()),
        )
    }

    /// 401 for a missing, unknown or expired bearer token (the files' example message).
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::NOT_AUTHORIZED,
            "Access token expired. Please modify your request and try again.",
        )
    }

    /// 403 (the files' example message).
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "We could not authorize your credentials. Please check your permissions and try again.",
        )
    }

    /// 500 (the files' example message), for a broken spec copy or a label that failed.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "We encountered an unexpected error and are working to resolve the issue. We apologize for any inconvenience. Please check back at a later time.",
        )
    }

    /// Adds a `parameterList` entry to the first error.
    pub fn with_parameter(mut self, key: &str, value: impl Into<String>) -> Self {
        if let Some(first) = self.errors.first_mut() {
            first.parameters.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Echoes the request's `x-customer-transaction-id`.
    pub fn for_transaction(mut self, customer_transaction_id: Option<String>) -> Self {
        self.customer_transaction_id = customer_transaction_id;
        self
    }

    /// The first error's code.
    pub fn code(&self) -> &str {
        self.errors.first().map_or("", |error| error.code.as_str())
    }

    /// The body as JSON, with a fresh `transactionId`.
    pub fn body(&self) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|error| {
                let parameters: Vec<Value> = error
                    .parameters
                    .iter()
                    .map(|(key, value)| json!({"key": key, "value": value}))
                    .collect();
                json!({"code": error.code, "message": error.message, "parameterList": parameters})
            })
            .collect();
        let mut body = json!({"transactionId": transaction_id(), "errors": errors});
        if let Some(id) = &self.customer_transaction_id {
            body["customerTransactionId"] = json!(id);
        }
        body
    }
}

/// A new `transactionId` (a UUID, as in every example of the files).
pub(crate) fn transaction_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl IntoResponse for FedexError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
