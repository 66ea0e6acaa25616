//! FedEx Account Registration (AccountRegistration-Resource.json): how the platform obtains
//! a merchant's child key and secret, implementing [`carrier::RegistrationOnboarding`].
//!
//! 1. `register`: a platform `client_credentials` token, then
//!    `POST /registration/v2/address/keysgeneration` with the account number, customer name
//!    and billing address (`CustomerKeyInputVO`). FedEx either issues the child key and
//!    secret at once (`Complete`, mode `platform_app`) or answers `mfaOptions`: the
//!    `accountAuthToken` (a JWT whose `exp` ends the session), the masked phone and email it
//!    has for the account and the options it accepts (`secureCode`: `SMS`, `CALL`, `EMAIL`;
//!    `invoice`). Then the step is `choose_method` (see [`step`]).
//! 2. `choose_method` with `sms`, `call` or `email`:
//!    `POST /registration/v2/customerkeys/pingeneration` (`IssuePinInputVO`), then the step is
//!    `enter_pin`; with `invoice`: `POST /registration/v2/invoice/keysgeneration`
//!    (`ValidateInvoiceInputVO`) → `Complete`.
//! 3. `enter_pin`: `POST /registration/v2/pin/keysgeneration` (`ValidatePinInputVO`) →
//!    `Complete`.
//!
//! Every call after the first sends the `accountAuthToken` header. The bearer token: the file
//! says "Bearer token from oauth/token" for every call but pingeneration, whose
//! `Authorization` is a "Bearer token generated with child id and secret" — which cannot
//! exist yet, since the child credentials are what the registration produces. The plugin
//! sends the platform's `client_credentials` token there too.
//!
//! FedEx's error codes map onto the merchant's fields, an expired session or a carrier
//! failure as [`refusal`] tabulates.

pub(crate) mod refusal;
pub(crate) mod step;
pub(crate) mod wire;

use async_trait::async_trait;
use carrier::{
    AccountDetails, CheckedAnswer, Credentials, Registration, RegistrationError,
    RegistrationOnboarding, ValidationErrors,
};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;

use crate::account::{
    MODE_PLATFORM_APP, MODE_REGISTRATION, MODE_REGISTRATION_PENDING, Profile, field,
};
use crate::client::Reply;
use crate::credential::{Authenticator, Principal};
use crate::error::{self, Error, Operation};
use crate::registration::step::{CHOOSE_METHOD, ENTER_PIN, Invoice, Method, Pending};
use crate::registration::wire::KeysReply;

/// A fresh `x-customer-transaction-id` ("a unique identifier to your transaction").
pub(crate) fn transaction_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// The registration hooks of the FedEx plugin.
#[derive(Debug, Clone)]
pub struct FedexRegistration {
    auth: Authenticator,
}

fn complete(child_key: SecretString, child_secret: SecretString) -> Registration {
    Registration::Complete {
        credentials: Credentials::new(MODE_PLATFORM_APP)
            .with_secret(field::CHILD_KEY, child_key)
            .with_secret(field::CHILD_SECRET, child_secret),
    }
}

fn protocol(operation: Operation, message: String) -> RegistrationError {
    RegistrationError::Carrier(Error::malformed(operation, message).into())
}

impl FedexRegistration {
    pub(crate) fn new(auth: Authenticator) -> Self {
        Self { auth }
    }

    /// Sends one registration call with the platform's token (renewed once after a 401) and
    /// the session's `accountAuthToken`, if any. Returns the 2xx reply.
    async fn send(
        &self,
        operation: Operation,
        path: &str,
        body: &impl Serialize,
        session: Option<&SecretString>,
    ) -> Result<Reply, RegistrationError> {
        let url = format!("{}{path}", self.auth.base_url());
        let body = serde_json::to_vec(body)
            .map_err(|error| protocol(operation, format!("request not written: {error}")))?;
        let mut retried = false;
        loop {
            let access = self.auth.access(Principal::Platform).await?;
            let token = access.token.expose_secret();
            let transaction = transaction_id();
            let reply = self
                .auth
                .http()
                .send(operation, |client| {
                    let request = client
                        .post(&url)
                        .bearer_auth(token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header("x-customer-transaction-id", &transaction)
                        .header("x-locale", wire::LOCALE)
                        .body(body.clone());
                    match session.and_then(|s| carrier_http::sensitive_header(s.expose_secret())) {
                        Some(value) => request.header("accountAuthToken", value),
                        None => request,
                    }
                })
                .await
                .map_err(|error| RegistrationError::Carrier(error.into()))?;
            if reply.status.is_success() {
                return Ok(reply);
            }
            let mut secrets = vec![token];
            secrets.extend(session.map(|s| s.expose_secret()));
            let failure = error::from_reply(operation, &reply).scrubbed(&secrets);
            if failure.is_unauthorized() && !retried {
                self.auth.reject(&access).await;
                retried = true;
                tracing::info!(operation = %operation, "FedEx refused the platform token; retrying once with a fresh one");
                continue;
            }
            tracing::info!(operation = %operation, error = %failure, "FedEx refused a registration call");
            return Err(refusal::classify(failure));
        }
    }

    async fn keys(
        &self,
        operation: Operation,
        path: &str,
        body: &impl Serialize,
        session: &SecretString,
    ) -> Result<Registration, RegistrationError> {
        let reply = self.send(operation, path, body, Some(session)).await?;
        match wire::parse_keys(&reply.body).map_err(|message| protocol(operation, message))? {
            KeysReply::Keys {
                child_key,
                child_secret,
            } => {
                tracing::info!(operation = %operation, "FedEx issued child credentials");
                Ok(complete(child_key, child_secret))
            }
            KeysReply::Proof(_) => Err(protocol(
                operation,
                "FedEx asked for proof again instead of issuing keys".to_owned(),
            )),
        }
    }
}

fn profile(details: &AccountDetails) -> Result<Profile, RegistrationError> {
    Profile::parse(details.as_map()).map_err(RegistrationError::Refused)
}

#[async_trait]
impl RegistrationOnboarding for FedexRegistration {
    fn mode(&self) -> &'static str {
        MODE_REGISTRATION
    }

    fn pending_mode(&self) -> &'static str {
        MODE_REGISTRATION_PENDING
    }

    async fn register(&self, details: &AccountDetails) -> Result<Registration, RegistrationError> {
        let profile = profile(details)?;
        let body = wire::CustomerKeyInput::new(&profile);
        let reply = self
            .send(Operation::RegisterAddress, wire::ADDRESS_PATH, &body, None)
            .await?;
        match wire::parse_keys(&reply.body)
            .map_err(|message| protocol(Operation::RegisterAddress, message))?
        {
            KeysReply::Keys {
                child_key,
                child_secret,
            } => {
                tracing::info!("FedEx issued child credentials without further proof");
                Ok(complete(child_key, child_secret))
            }
            KeysReply::Proof(option) => {
                let pending = Pending::from_mfa(option);
                tracing::info!(
                    options = pending.options.len(),
                    "FedEx asks the merchant to confirm the account"
                );
                Ok(Registration::Pending {
                    step: pending.choose_method(),
                    state: pending.to_state(),
                })
            }
        }
    }

    fn check_answer(&self, step: &str, answer: &Value) -> Result<CheckedAnswer, ValidationErrors> {
        step::check(step, answer)
    }

    async fn answer(
        &self,
        details: &AccountDetails,
        state: &Credentials,
        step: &str,
        answer: &CheckedAnswer,
    ) -> Result<Registration, RegistrationError> {
        // Details are not sent again, but they must still be the account's.
        profile(details)?;
        let Some(mut pending) = Pending::from_state(state) else {
            return Err(RegistrationError::Expired(
                "no FedEx registration is in progress for this account: start it again".to_owned(),
            ));
        };
        let checked = step::check(step, &answer.answer).map_err(RegistrationError::Refused)?;
        match step {
            CHOOSE_METHOD => {
                let method = checked
                    .answer
                    .get("method")
                    .and_then(Value::as_str)
                    .and_then(Method::parse)
                    .ok_or_else(|| {
                        RegistrationError::Refused(ValidationErrors::single(
                            "method",
                            "is required",
                        ))
                    })?;
                if !pending.options.contains(&method) {
                    return Err(RegistrationError::Refused(ValidationErrors::single(
                        "method",
                        format!(
                            "FedEx did not offer {} for this account; choose one of {}",
                            method.as_str(),
                            pending
                                .options
                                .iter()
                                .map(|m| m.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )));
                }
                match method.pin_option() {
                    Some(option) => {
                        let body = wire::IssuePinInput {
                            locale: wire::LOCALE,
                            option,
                        };
                        let reply = self
                            .send(
                                Operation::IssuePin,
                                wire::PIN_GENERATION_PATH,
                                &body,
                                Some(&pending.account_auth_token),
                            )
                            .await?;
                        wire::parse_pin_generation(&reply.body)
                            .map_err(|message| protocol(Operation::IssuePin, message))?;
                        pending.pin_method = Some(method);
                        tracing::info!(method = method.as_str(), "FedEx sent a registration PIN");
                        Ok(Registration::Pending {
                            step: pending.enter_pin(method),
                            state: pending.to_state(),
                        })
                    }
                    None => {
                        let invoice = Invoice::from_answer(&checked.answer).ok_or_else(|| {
                            RegistrationError::Refused(ValidationErrors::single(
                                "invoice_number",
                                "is required when method is invoice",
                            ))
                        })?;
                        let amount =
                            wire::InvoiceDetails::amount(invoice.amount).ok_or_else(|| {
                                RegistrationError::Refused(ValidationErrors::single(
                                    "invoice_amount",
                                    "must have at most two decimals",
                                ))
                            })?;
                        let body = wire::ValidateInvoiceInput {
                            invoice_detail: wire::InvoiceDetails {
                                number: invoice.number,
                                currency: invoice.currency.code().to_owned(),
                                date: invoice.date,
                                amount,
                            },
                            locale: wire::LOCALE,
                        };
                        self.keys(
                            Operation::ValidateInvoice,
                            wire::INVOICE_PATH,
                            &body,
                            &pending.account_auth_token,
                        )
                        .await
                    }
                }
            }
            ENTER_PIN => {
                let pin = checked
                    .answer
                    .get("pin")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let body = wire::ValidatePinInput {
                    locale: wire::LOCALE,
                    secure_code_pin: pin.to_owned(),
                };
                self.keys(
                    Operation::ValidatePin,
                    wire::PIN_PATH,
                    &body,
                    &pending.account_auth_token,
                )
                .await
            }
            other => Err(RegistrationError::Refused(ValidationErrors::single(
                "step",
                format!("{other:?} is not a FedEx registration step"),
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
