//! The hooks a carrier onboarded by **registration** gives the server: the platform sends the
//! merchant's account to the carrier, the merchant proves the account is theirs in one or more
//! steps the carrier chooses (a code sent by text, call or email; an invoice), and the carrier
//! issues credentials the platform stores. FedEx's Account Registration API works this way; so
//! can any carrier whose onboarding is "tell us the account, then prove it".
//!
//! Nothing here names a step: each [`RegistrationStep`] carries its own form (a JSON Schema,
//! rendered by the console like an account form) and a sentence for the merchant, and the
//! server only stores the step, seals the carrier's state between steps, counts the merchant's
//! proof attempts and keeps the step's expiry. The server enforces
//! [`MAX_PROOF_ATTEMPTS`] per registration: carriers rarely document a lockout of their own,
//! and a six-digit code must not be guessable through us.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::account::{AccountDetails, Credentials};
use crate::error::{CarrierError, ValidationErrors};

/// How many wrong proofs (a wrong code, an unknown invoice) one registration takes before the
/// server refuses more and the merchant has to start the registration again (which makes the
/// carrier issue a new code).
pub const MAX_PROOF_ATTEMPTS: u32 = 5;

/// What the merchant is asked for now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistrationStep {
    /// A stable name of the step (`choose_method`), for clients and logs.
    pub name: String,
    /// What to do, in a sentence for the merchant ("We sent a PIN to ***-***-4222.").
    pub message: String,
    /// The JSON Schema (2020-12) of the answer the step takes, an object with a `title` and
    /// `description` on every field, like [`Carrier::account_schema`](crate::Carrier::account_schema).
    pub form: Value,
    /// When the carrier forgets the registration (its session lapses): after that, only
    /// starting again helps. `None` when the carrier does not say.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a registration stands after a carrier call.
#[derive(Debug, Clone)]
pub enum Registration {
    /// The carrier wants another step. `state` is what the plugin needs to go on (the carrier's
    /// session token …): the server seals it like credentials and hands it back with the next
    /// answer; its mode is the plugin's ([`RegistrationOnboarding::pending_mode`]).
    Pending {
        step: RegistrationStep,
        state: Credentials,
    },
    /// The carrier issued credentials: the account can buy labels.
    Complete { credentials: Credentials },
}

/// An answer to a step, checked by the plugin before any carrier call.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAnswer {
    /// Whether the answer proves ownership (a code, an invoice), so that a wrong one counts
    /// against [`MAX_PROOF_ATTEMPTS`]; choosing how to receive a code does not.
    pub proof: bool,
    /// The answer, normalized.
    pub answer: Value,
}

/// Why a registration call did not move on.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The carrier refused an answer or the account's details, by field (`pin`,
    /// `details.account_number`): the merchant fixes it and tries again. A refused proof counts
    /// as a failed attempt.
    #[error("refused: {0}")]
    Refused(ValidationErrors),
    /// The carrier's session lapsed: the registration has to start again.
    #[error("the registration expired: {0}")]
    Expired(String),
    /// The carrier could not be asked (unavailable, unauthenticated, a malformed reply).
    #[error(transparent)]
    Carrier(#[from] CarrierError),
}

/// Registration hooks of one carrier ([`Carrier::registration`](crate::Carrier::registration)).
#[async_trait]
pub trait RegistrationOnboarding: Send + Sync {
    /// The credentials mode of the account schema that starts a registration (`registration`):
    /// a `POST /v1/shipper-accounts` in this mode sends the details to the carrier.
    fn mode(&self) -> &'static str;

    /// The mode of the sealed state of a registration in progress (never a mode that can buy
    /// labels).
    fn pending_mode(&self) -> &'static str;

    /// Sends the account (as [`Carrier::validate_account`](crate::Carrier::validate_account)
    /// normalized it) to the carrier.
    async fn register(&self, details: &AccountDetails) -> Result<Registration, RegistrationError>;

    /// Checks an answer to `step` (by its name) against the step's form: named field errors, or
    /// the answer normalized. No carrier call.
    fn check_answer(&self, step: &str, answer: &Value) -> Result<CheckedAnswer, ValidationErrors>;

    /// Sends a checked answer to the current step, with the state the last call left.
    async fn answer(
        &self,
        details: &AccountDetails,
        state: &Credentials,
        step: &str,
        answer: &CheckedAnswer,
    ) -> Result<Registration, RegistrationError>;
}
