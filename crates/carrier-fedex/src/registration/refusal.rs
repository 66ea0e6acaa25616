//! What each error code of the AccountRegistration file means for the merchant: a refusal
//! by field (`Refused`), a lapsed session (`Expired`) or a carrier failure (`Carrier`,
//! classified like every FedEx call). Every code the file lists is here, deliberately:
//!
//! | code (call) | outcome | field |
//! |---|---|---|
//! | `ACCOUNT.NUMBER.NOTFOUND` (address) | Refused | `details.account_number` |
//! | `USER.ACCOUNT.NOTFOUND` (address) | Refused | `details.account_number` |
//! | `ACCOUNT.NUMBER.REQUIRED` (address) | Refused | `details.account_number` |
//! | `ACCOUNTVALIDATION.UNKNOWN.ERROR` (address) | Refused | `details.account_number` |
//! | `ADDRESS.DETAIL.INVALID` (address: "City, State/Province and ZIP/Postal code combination … not valid") | Refused | `details.billing_address.postal_code` |
//! | `ADDRESS.VALIDATION.UNKNOWN.ERROR` (address) | Refused | `details.billing_address` |
//! | `CUSTOMER.NAME.REQUIRED` (address) | Refused | `details.customer_name` |
//! | `CHILDKEYNAME.UNIQUENESS.ERROR` (address, PIN, invoice: "Child key name already exists") | Refused | `details.customer_name` |
//! | `SESSION.EXPIRED.ERROR` (PIN, PIN generation) | Expired | — |
//! | `LOGIN.REAUTHENTICATE.ERROR` (PIN generation, 401: "Your session is expired") | Expired | — |
//! | `UNAUTHORIZED.ACCESS.ERROR` (PIN, PIN generation) | Carrier (`Rejected`): the platform's access, not the merchant's answer | — |
//! | `PIN.OPTION.INVALIDEXPIRED` (PIN) | Refused | `pin` |
//! | `PIN.PINSECURECODE.REQUIRED` (PIN) | Refused | `pin` |
//! | `PIN.UNKNOWN.ERROR` (PIN, PIN generation: "try again later") | Carrier (`Unavailable`) | — |
//! | `PIN.OPTION.REQUIRED` (PIN generation) | Refused | `method` |
//! | `EMAIL.NOT.REGISTERED`, `PHONENUMBER.NOT.REGISTERED` (PIN generation) | Refused | `method` |
//! | `ISSUE.PIN.FAILED` (PIN generation: "try again later") | Carrier (`Unavailable`) | — |
//! | `INVOICEDETAILS.NUMBER.REQUIRED`, `INVOICE.DETAILS.REQUIRED` (invoice) | Refused | `invoice_number` |
//! | `INVOICE.UNKNOWN.ERROR` (invoice) | Refused | `invoice_number` |
//! | `INVOICEDETAILS.NUMBER.NOTEXIST` (invoice, 404) | Refused | `invoice_number` |
//! | `NOT.AUTHORIZED.ERROR` (401), `FORBIDDEN.ERROR` (403), `NOT.FOUND.ERROR` (404), `INTERNAL.SERVER.ERROR` (500) | Carrier (by status) | — |
//!
//! Any other code is classified by its HTTP status like every FedEx call.

use carrier::{CarrierError, ValidationErrors};

use carrier::RegistrationError;

use crate::error::Error;

/// The merchant-facing outcome of one code, when the code has one.
fn refusal(code: &str) -> Option<RegistrationError> {
    let refused = |field: &str, message: &str| {
        Some(RegistrationError::Refused(ValidationErrors::single(
            field, message,
        )))
    };
    match code {
        "ACCOUNT.NUMBER.NOTFOUND" | "USER.ACCOUNT.NOTFOUND" => refused(
            "details.account_number",
            "FedEx has no account with this number: check it against your FedEx invoices",
        ),
        "ACCOUNT.NUMBER.REQUIRED" => refused("details.account_number", "is required by FedEx"),
        "ACCOUNTVALIDATION.UNKNOWN.ERROR" => refused(
            "details.account_number",
            "FedEx could not validate this account: check the number, or try again later",
        ),
        "ADDRESS.DETAIL.INVALID" => refused(
            "details.billing_address.postal_code",
            "FedEx says the city, state and ZIP Code combination is not valid: check them against your FedEx invoices",
        ),
        "ADDRESS.VALIDATION.UNKNOWN.ERROR" => refused(
            "details.billing_address",
            "FedEx could not check this address against the account: it must be the billing address FedEx has (on your invoices); try again later if it is",
        ),
        "CUSTOMER.NAME.REQUIRED" => refused("details.customer_name", "is required by FedEx"),
        "CHILDKEYNAME.UNIQUENESS.ERROR" => refused(
            "details.customer_name",
            "FedEx already has a registration under this name for the account: choose another customer name",
        ),
        "SESSION.EXPIRED.ERROR" | "LOGIN.REAUTHENTICATE.ERROR" => Some(RegistrationError::Expired(
            "FedEx's registration session expired: start the registration again".to_owned(),
        )),
        "PIN.OPTION.INVALIDEXPIRED" => refused(
            "pin",
            "The PIN is wrong or has expired: check it, or start again for a new one",
        ),
        "PIN.PINSECURECODE.REQUIRED" => refused("pin", "is required"),
        "PIN.OPTION.REQUIRED" => refused("method", "is required"),
        "EMAIL.NOT.REGISTERED" => refused(
            "method",
            "FedEx has no email address for this account: choose another way",
        ),
        "PHONENUMBER.NOT.REGISTERED" => refused(
            "method",
            "FedEx has no phone number for this account: choose another way",
        ),
        "INVOICEDETAILS.NUMBER.REQUIRED" | "INVOICE.DETAILS.REQUIRED" => {
            refused("invoice_number", "is required")
        }
        "INVOICE.UNKNOWN.ERROR" | "INVOICEDETAILS.NUMBER.NOTEXIST" => refused(
            "invoice_number",
            "FedEx could not match this invoice to the account: check its number, date, amount and currency",
        ),
        _ => None,
    }
}

/// Codes that say FedEx could not act now: a carrier failure worth retrying, whatever the
/// status (the file gives them with 400).
fn unavailable(code: &str) -> bool {
    matches!(code, "PIN.UNKNOWN.ERROR" | "ISSUE.PIN.FAILED")
}

/// A failed registration call as the merchant should see it.
pub(crate) fn classify(error: Error) -> RegistrationError {
    for message in error.messages() {
        if let Some(outcome) = refusal(&message.code) {
            return outcome;
        }
        if unavailable(&message.code) {
            return RegistrationError::Carrier(CarrierError::Unavailable {
                carrier: crate::error::CARRIER,
                message: error.to_string(),
                retry_after: None,
            });
        }
    }
    RegistrationError::Carrier(error.into())
}
