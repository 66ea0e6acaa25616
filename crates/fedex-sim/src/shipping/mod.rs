//! FedEx's Ship API (Shipment-Resource.json): create a return shipment ([`shipment`], with
//! the prose rules in [`rules`]) and cancel one ([`cancel`]); 12-digit tracking numbers
//! ([`tracking`]).
//!
//! The file has no idempotency header (its headers are `x-customer-transaction-id`,
//! `content-type`, `x-locale`, `authorization`), so every accepted request creates a new
//! shipment, as FedEx does; `x-customer-transaction-id` is only echoed.

pub mod cancel;
pub mod rules;
pub mod shipment;
pub mod tracking;

use crate::error::{FedexError, code};
use crate::state::AccessGrant;

/// Checks the token may act for `account_number`: a number no configured account has is the
/// file's `ACCOUNTNUMBER.REGISTRATION.REQUIRED`; another merchant's is 403 `FORBIDDEN.ERROR`.
pub(crate) fn require_account(
    config: &crate::SimConfig,
    grant: &AccessGrant,
    account_number: &str,
) -> Result<(), FedexError> {
    if config.account(account_number).is_none() {
        return Err(FedexError::bad_request(
            code::ACCOUNT_REGISTRATION_REQUIRED,
            "Please enter a valid 9-digit FedEx account number or register for a new FedEx account number.",
        ));
    }
    if grant
        .account_numbers
        .iter()
        .any(|number| number == account_number)
    {
        Ok(())
    } else {
        Err(FedexError::forbidden())
    }
}
