//! Accounts connected by registration with their carrier ([`carrier::RegistrationOnboarding`]):
//! the account's details are sent to the carrier when it is created, the merchant proves it is
//! theirs in the steps the carrier asks for, and the carrier's credentials are sealed when it
//! issues them.
//!
//! - `POST /v1/shipper-accounts` in the carrier's registration mode calls
//!   [`RegistrationOnboarding::register`] before anything is stored: a refusal (an unknown
//!   account number, an address the carrier does not have) creates nothing and names the field.
//!   A carrier that asks for proof makes the account `pending_verification`, with the step in
//!   `verification` and the carrier's state of the registration sealed as its credentials
//!   (never anything that can buy a label: only `active` accounts are selected).
//! - [`AccountService::answer_verification`] checks the answer with the plugin (no carrier call
//!   for a malformed one), reserves one of [`MAX_PROOF_ATTEMPTS`] when the answer is a proof — a
//!   conditional `UPDATE` before the carrier call, so concurrent answers cannot exceed the
//!   limit — calls the carrier with no transaction open, and stores what came back fenced by
//!   `renewal_fence`: of two answers handled at once, one is stored and the other is told so.
//!   An answer the carrier could not take (unavailable) gives its attempt back.
//! - A step whose `expires_at` has passed, or that the carrier says lapsed, is `expired`; a
//!   registration out of attempts is `locked`. Both only start again
//!   ([`AccountService::restart_verification`]: the stored details sent again, a fresh step,
//!   the attempts reset).
//! - Every step is audited: `account.verification_started`, `account.verification_advanced`,
//!   `account.verification_failed` (with the reason and the fields at fault — never an answer)
//!   and `account.verified` (the credentials' mode, public fields and fingerprint).

use carrier::{
    AccountDetails, Carrier, CarrierError, CheckedAnswer, Credentials, MAX_PROOF_ATTEMPTS,
    Registration, RegistrationError, RegistrationOnboarding, RegistrationStep, ValidationErrors,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::account::{
    AccountError, AccountService, AccountStatus, Context, ShipperAccount, account_columns,
    secret_material,
};
use crate::audit::{self, Action, NewEvent};
use crate::id::{AccountId, TenantId};
use crate::vault::{KeyContext, Purpose, WrappedKey};

/// The step a `pending_verification` account waits on, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationStep {
    /// The step's name (`choose_method`), the plugin's.
    pub step: String,
    /// What the merchant is asked to do.
    pub message: String,
    /// The JSON Schema of the answer `POST /v1/shipper-accounts/{id}/verification` takes.
    pub form: Value,
    /// When the carrier forgets the registration; `null` when it does not say.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many more wrong proofs the registration takes; at 0, only starting again helps.
    #[serde(default)]
    pub attempts_remaining: u32,
}

impl VerificationStep {
    fn new(step: RegistrationStep) -> Self {
        Self {
            step: step.name,
            message: step.message,
            form: step.form,
            expires_at: step.expires_at,
            attempts_remaining: MAX_PROOF_ATTEMPTS,
        }
    }

    /// As stored in `verification` (the attempts are counted in a column of their own).
    pub(crate) fn stored(&self) -> Value {
        json!({
            "step": self.step,
            "message": self.message,
            "form": self.form,
            "expires_at": self.expires_at,
        })
    }

    pub(crate) fn from_row(row: &PgRow) -> Result<Option<Self>, sqlx::Error> {
        let Some(stored) = row.try_get::<Option<Value>, _>("verification")? else {
            return Ok(None);
        };
        let attempts: i32 = row.try_get("verification_attempts")?;
        let mut step: Self =
            serde_json::from_value(stored).map_err(|e| sqlx::Error::Decode(e.into()))?;
        step.attempts_remaining = MAX_PROOF_ATTEMPTS.saturating_sub(attempts.max(0) as u32);
        Ok(Some(step))
    }

    /// Whether the step has lapsed at `now`.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The audit summary of the step (its name and expiry: nothing the merchant typed).
    pub(crate) fn summary(&self) -> Map<String, Value> {
        let mut summary = Map::new();
        summary.insert("step".into(), Value::String(self.step.clone()));
        summary.insert("expires_at".into(), json!(self.expires_at));
        summary
    }
}

/// What a new account is created as: `active` with the credentials the client sent or the
/// carrier issued, or `pending_verification` with the registration's state and step.
pub(crate) struct Created {
    pub(crate) status: AccountStatus,
    pub(crate) credentials: Credentials,
    pub(crate) verification: Option<VerificationStep>,
}

impl Created {
    pub(crate) fn active(credentials: Credentials) -> Self {
        Self {
            status: AccountStatus::Active,
            credentials,
            verification: None,
        }
    }
}

/// A `PATCH` of details or credentials during a verification, and two answers handled at once.
pub(crate) fn in_progress(id: &AccountId) -> AccountError {
    AccountError::Conflict {
        code: "verification_in_progress",
        message: format!(
            "shipper account {id} is being verified with its carrier: answer the verification \
             (POST /v1/shipper-accounts/{id}/verification) or start it again \
             (POST /v1/shipper-accounts/{id}/verification/restart); GET the account to see where \
             it stands"
        ),
    }
}

fn expired(id: &AccountId) -> AccountError {
    AccountError::Conflict {
        code: "verification_expired",
        message: format!(
            "the verification of shipper account {id} has expired at the carrier: start it again \
             with POST /v1/shipper-accounts/{id}/verification/restart"
        ),
    }
}

fn locked(id: &AccountId) -> AccountError {
    AccountError::Conflict {
        code: "verification_locked",
        message: format!(
            "shipper account {id} had {MAX_PROOF_ATTEMPTS} wrong answers: start the verification \
             again with POST /v1/shipper-accounts/{id}/verification/restart (the carrier sends \
             a new code)"
        ),
    }
}

fn not_pending(account: &ShipperAccount) -> AccountError {
    AccountError::Conflict {
        code: "not_pending_verification",
        message: format!(
            "shipper account {} is {}, not pending_verification: there is nothing to verify",
            account.id,
            account.status.as_str()
        ),
    }
}

/// A `pending_verification` account as read for the next carrier call (no lock held).
struct Pending {
    account: ShipperAccount,
    step: VerificationStep,
    state: Credentials,
    details: AccountDetails,
    fence: i64,
    attempts: u32,
    wrapped: WrappedKey,
}

/// What failed, for `account.verification_failed`.
enum Failure<'a> {
    Refused(&'a ValidationErrors),
    Expired,
    Locked,
    Carrier(&'a CarrierError),
}

impl Failure<'_> {
    fn summary(&self, stage: &str) -> Map<String, Value> {
        let mut summary = Map::new();
        summary.insert("stage".into(), Value::String(stage.to_owned()));
        let reason = match self {
            Failure::Refused(errors) => {
                let fields: Vec<Value> = errors
                    .errors()
                    .iter()
                    .map(|error| Value::String(error.field.clone()))
                    .collect();
                summary.insert("fields".into(), Value::Array(fields));
                "refused"
            }
            Failure::Expired => "expired",
            Failure::Locked => "locked",
            Failure::Carrier(error) => {
                summary.insert(
                    "error".into(),
                    Value::String(error.kind().as_str().to_owned()),
                );
                "carrier_error"
            }
        };
        summary.insert("reason".into(), Value::String(reason.to_owned()));
        summary
    }
}

impl AccountService {
    fn registration_hooks<'a>(
        &self,
        carrier: &'a dyn Carrier,
    ) -> Result<&'a dyn RegistrationOnboarding, AccountError> {
        carrier.registration().ok_or_else(|| {
            AccountError::NotSupported(format!(
                "{} accounts are not connected by registration",
                carrier.name()
            ))
        })
    }

    /// Sends a new account's details to its carrier (`POST /v1/shipper-accounts` in the
    /// registration mode). A refusal is audited (no account exists: no target) and creates
    /// nothing.
    pub(crate) async fn register(
        &self,
        context: Context<'_>,
        carrier: &dyn Carrier,
        details: &AccountDetails,
    ) -> Result<Created, AccountError> {
        let hooks = self.registration_hooks(carrier)?;
        let outcome = hooks.register(details).await;
        let failure = match &outcome {
            Ok(_) => None,
            Err(RegistrationError::Refused(errors)) => Some(Failure::Refused(errors)),
            Err(RegistrationError::Expired(_)) => Some(Failure::Expired),
            Err(RegistrationError::Carrier(error)) => Some(Failure::Carrier(error)),
        };
        if let Some(failure) = failure {
            let mut summary = failure.summary("register");
            summary.insert("carrier".into(), Value::String(carrier.id().to_owned()));
            self.record_verification_event(context, None, Action::VerificationFailed, summary)
                .await?;
        }
        match outcome {
            Ok(Registration::Pending { step, state }) => Ok(Created {
                status: AccountStatus::PendingVerification,
                credentials: state,
                verification: Some(VerificationStep::new(step)),
            }),
            Ok(Registration::Complete { credentials }) => Ok(Created::active(credentials)),
            Err(RegistrationError::Refused(errors)) => Err(AccountError::Validation(errors)),
            // A registration that lapses before its first step is the carrier's fault.
            Err(RegistrationError::Expired(message)) => Err(AccountError::Carrier {
                carrier: carrier.id(),
                error: CarrierError::Protocol {
                    carrier: carrier.id(),
                    message: format!("the registration lapsed as it started: {message}"),
                },
            }),
            Err(RegistrationError::Carrier(error)) => Err(AccountError::Carrier {
                carrier: carrier.id(),
                error,
            }),
        }
    }

    /// Answers the step a `pending_verification` account waits on
    /// (`POST /v1/shipper-accounts/{id}/verification`).
    pub async fn answer_verification(
        &self,
        context: Context<'_>,
        id: &str,
        answer: &Value,
    ) -> Result<ShipperAccount, AccountError> {
        let pending = self.pending(context.tenant, id).await?;
        let carrier = self.carrier(&pending.account.carrier)?.clone();
        let hooks = self.registration_hooks(carrier.as_ref())?;
        let checked = hooks.check_answer(&pending.step.step, answer)?;
        if pending.step.expired_at(Utc::now()) {
            self.record_failure(context, &pending, Failure::Expired, "answer")
                .await?;
            return Err(expired(&pending.account.id));
        }
        if pending.attempts >= MAX_PROOF_ATTEMPTS {
            self.record_failure(context, &pending, Failure::Locked, "answer")
                .await?;
            return Err(locked(&pending.account.id));
        }
        if checked.proof {
            self.reserve_attempt(context, &pending).await?;
        }
        let outcome = hooks
            .answer(
                &pending.details,
                &pending.state,
                &pending.step.step,
                &checked,
            )
            .await;
        self.settle(context, pending, &checked, outcome, "answer")
            .await
    }

    /// Starts a `pending_verification` account's registration again
    /// (`POST /v1/shipper-accounts/{id}/verification/restart`): its stored details are sent
    /// to the carrier again, which gives a fresh first step; the attempts start again.
    pub async fn restart_verification(
        &self,
        context: Context<'_>,
        id: &str,
    ) -> Result<ShipperAccount, AccountError> {
        let pending = self.pending(context.tenant, id).await?;
        let carrier = self.carrier(&pending.account.carrier)?.clone();
        let hooks = self.registration_hooks(carrier.as_ref())?;
        let outcome = hooks.register(&pending.details).await;
        let restart = CheckedAnswer {
            proof: false,
            answer: Value::Null,
        };
        self.settle(context, pending, &restart, outcome, "restart")
            .await
    }

    /// Reads a `pending_verification` account and opens its registration state.
    async fn pending(&self, tenant: &TenantId, id: &str) -> Result<Pending, AccountError> {
        let mut tx = self.database().tenant(tenant).await?;
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            ", credentials_sealed, data_key_wrapped, master_key_id, renewal_fence
             FROM shipper_accounts WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AccountError::NotFound)?;
        tx.commit().await?;
        let account = ShipperAccount::from_row(&row)?;
        let step = match (&account.status, &account.verification) {
            (AccountStatus::PendingVerification, Some(step)) => step.clone(),
            _ => return Err(not_pending(&account)),
        };
        let wrapped = WrappedKey {
            master_key_id: row.try_get("master_key_id")?,
            ciphertext: row.try_get("data_key_wrapped")?,
        };
        let sealed: Vec<u8> = row.try_get("credentials_sealed")?;
        let key_context = KeyContext {
            tenant_id: tenant.as_str(),
            account_id: account.id.as_str(),
        };
        let state = self.open(&key_context, &wrapped, &sealed)?;
        let details = match &account.details {
            Value::Object(map) => AccountDetails::new(map.clone()),
            _ => AccountDetails::default(),
        };
        Ok(Pending {
            fence: row.try_get("renewal_fence")?,
            attempts: MAX_PROOF_ATTEMPTS - step.attempts_remaining,
            account,
            step,
            state,
            details,
            wrapped,
        })
    }

    /// Takes one proof attempt before the carrier is asked, or refuses when none is left — or
    /// when the account moved on since it was read (another answer verified it).
    async fn reserve_attempt(
        &self,
        context: Context<'_>,
        pending: &Pending,
    ) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        let (reserved, still_pending): (bool, bool) = sqlx::query_as(
            "WITH reserved AS (
                 UPDATE shipper_accounts SET verification_attempts = verification_attempts + 1
                 WHERE tenant_id = $1 AND id = $2 AND status = 'pending_verification'
                   AND verification_attempts < $3
                 RETURNING id)
             SELECT EXISTS (SELECT 1 FROM reserved),
                    coalesce((SELECT status = 'pending_verification' FROM shipper_accounts
                              WHERE tenant_id = $1 AND id = $2), false)",
        )
        .bind(context.tenant.as_str())
        .bind(pending.account.id.as_str())
        .bind(MAX_PROOF_ATTEMPTS as i32)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        if reserved {
            return Ok(());
        }
        if !still_pending {
            return Err(in_progress(&pending.account.id));
        }
        self.record_failure(context, pending, Failure::Locked, "answer")
            .await?;
        Err(locked(&pending.account.id))
    }

    /// Stores what the carrier answered, fenced, and audits it.
    async fn settle(
        &self,
        context: Context<'_>,
        pending: Pending,
        checked: &CheckedAnswer,
        outcome: Result<Registration, RegistrationError>,
        stage: &str,
    ) -> Result<ShipperAccount, AccountError> {
        let restart = stage == "restart";
        match outcome {
            Ok(Registration::Pending { step, state }) => {
                let step = VerificationStep::new(step);
                let mut summary = step.summary();
                summary.insert("from".into(), Value::String(pending.step.step.clone()));
                let action = if restart {
                    Action::VerificationStarted
                } else {
                    Action::VerificationAdvanced
                };
                self.save(
                    context,
                    &pending,
                    &state,
                    Some(&step),
                    restart,
                    action,
                    summary,
                )
                .await
            }
            Ok(Registration::Complete { credentials }) => {
                let fingerprint = self.keyring.fingerprint(&secret_material(&credentials));
                let summary = self.credentials_summary(&credentials, &fingerprint);
                self.save(
                    context,
                    &pending,
                    &credentials,
                    None,
                    restart,
                    Action::Verified,
                    summary,
                )
                .await
            }
            Err(RegistrationError::Refused(errors)) => {
                let remaining = if checked.proof {
                    self.attempts_remaining(context.tenant, &pending.account.id)
                        .await?
                } else {
                    MAX_PROOF_ATTEMPTS.saturating_sub(pending.attempts)
                };
                let mut summary = Failure::Refused(&errors).summary(stage);
                summary.insert("attempts_remaining".into(), json!(remaining));
                self.record_verification_event(
                    context,
                    Some(&pending.account.id),
                    Action::VerificationFailed,
                    summary,
                )
                .await?;
                if restart {
                    return Err(AccountError::Validation(errors));
                }
                Err(AccountError::VerificationRefused {
                    errors,
                    attempts_remaining: remaining,
                })
            }
            Err(RegistrationError::Expired(_)) => {
                self.lapse(context, &pending).await?;
                self.record_failure(context, &pending, Failure::Expired, stage)
                    .await?;
                Err(expired(&pending.account.id))
            }
            Err(RegistrationError::Carrier(error)) => {
                if checked.proof {
                    self.give_back_attempt(context, &pending).await?;
                }
                self.record_failure(context, &pending, Failure::Carrier(&error), stage)
                    .await?;
                let carrier = self.carrier(&pending.account.carrier)?.id();
                Err(AccountError::Carrier { carrier, error })
            }
        }
    }

    /// Stores the next step (`step`) with the carrier's new state, or — `step: None` — the
    /// issued credentials and `active`. Fenced: nothing is stored if another answer was
    /// stored since `pending` was read.
    #[allow(clippy::too_many_arguments)]
    async fn save(
        &self,
        context: Context<'_>,
        pending: &Pending,
        credentials: &Credentials,
        step: Option<&VerificationStep>,
        reset_attempts: bool,
        action: Action,
        summary: Map<String, Value>,
    ) -> Result<ShipperAccount, AccountError> {
        let key_context = KeyContext {
            tenant_id: context.tenant.as_str(),
            account_id: pending.account.id.as_str(),
        };
        let data_key = self
            .keyring
            .unwrap_data_key(&pending.wrapped, &key_context)?;
        let sealed = data_key.seal(
            &key_context,
            Purpose::Credentials,
            &credentials.to_sealed_json(),
        )?;
        let fingerprint = self.keyring.fingerprint(&secret_material(credentials));
        let status = match step {
            Some(_) => AccountStatus::PendingVerification,
            None => AccountStatus::Active,
        };
        let mut tx = self.database().tenant(context.tenant).await?;
        let row = sqlx::query(concat!(
            "UPDATE shipper_accounts SET status = $4, verification = $5,
                 verification_attempts = CASE WHEN $6 OR $4 = 'active' THEN 0
                                              ELSE verification_attempts END,
                 credentials_mode = $7, credentials_public = $8, credentials_sealed = $9,
                 credential_fingerprint = $10, credentials_updated_at = now(),
                 renewal_fence = renewal_fence + 1, updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND renewal_fence = $3
               AND status = 'pending_verification'
             RETURNING ",
            account_columns!()
        ))
        .bind(context.tenant.as_str())
        .bind(pending.account.id.as_str())
        .bind(pending.fence)
        .bind(status.as_str())
        .bind(step.map(VerificationStep::stored))
        .bind(reset_attempts)
        .bind(credentials.mode())
        .bind(json!(credentials.public_fields()))
        .bind(&sealed)
        .bind(&fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(in_progress(&pending.account.id));
        };
        let account = ShipperAccount::from_row(&row)?;
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(context.tenant),
                actor: context.actor,
                action,
                target: Some(account.id.as_str()),
                request_id: context.request_id,
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Marks the step lapsed now (the carrier said so before its `expires_at`).
    async fn lapse(&self, context: Context<'_>, pending: &Pending) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        sqlx::query(
            "UPDATE shipper_accounts
             SET verification = jsonb_set(verification, '{expires_at}', to_jsonb(now())),
                 updated_at = now()
             WHERE tenant_id = $1 AND id = $2 AND renewal_fence = $3
               AND status = 'pending_verification'",
        )
        .bind(context.tenant.as_str())
        .bind(pending.account.id.as_str())
        .bind(pending.fence)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives back an attempt the carrier never judged (it could not be asked).
    async fn give_back_attempt(
        &self,
        context: Context<'_>,
        pending: &Pending,
    ) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        sqlx::query(
            "UPDATE shipper_accounts SET verification_attempts = verification_attempts - 1
             WHERE tenant_id = $1 AND id = $2 AND status = 'pending_verification'
               AND verification_attempts > 0",
        )
        .bind(context.tenant.as_str())
        .bind(pending.account.id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn attempts_remaining(
        &self,
        tenant: &TenantId,
        id: &AccountId,
    ) -> Result<u32, AccountError> {
        let mut tx = self.database().tenant(tenant).await?;
        let attempts: i32 = sqlx::query_scalar(
            "SELECT verification_attempts FROM shipper_accounts WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(MAX_PROOF_ATTEMPTS.saturating_sub(attempts.max(0) as u32))
    }

    async fn record_failure(
        &self,
        context: Context<'_>,
        pending: &Pending,
        failure: Failure<'_>,
        stage: &str,
    ) -> Result<(), AccountError> {
        let mut summary = failure.summary(stage);
        summary.insert("step".into(), Value::String(pending.step.step.clone()));
        self.record_verification_event(
            context,
            Some(&pending.account.id),
            Action::VerificationFailed,
            summary,
        )
        .await
    }

    async fn record_verification_event(
        &self,
        context: Context<'_>,
        account: Option<&AccountId>,
        action: Action,
        summary: Map<String, Value>,
    ) -> Result<(), AccountError> {
        let mut tx = self.database().tenant(context.tenant).await?;
        audit::record(
            &mut tx,
            NewEvent {
                tenant: Some(context.tenant),
                actor: context.actor,
                action,
                target: account.map(AccountId::as_str),
                request_id: context.request_id,
                summary,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
