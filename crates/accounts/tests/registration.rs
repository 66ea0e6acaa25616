//! The vault's side of registration onboarding (`accounts::registration`), carrier-neutral:
//! a small registering carrier written here (a code the merchant chooses how to receive, then
//! the code) drives the states a real carrier's steps would, so that what the vault promises is
//! tested apart from any carrier — the state sealed, the attempts reserved before the carrier is
//! called (also under concurrent answers), an attempt given back when the carrier could not
//! judge it, expiry and locking before any carrier call, restart, fenced saves, `PATCH`
//! refused mid-verification, never selected while pending, every step audited without what the
//! merchant typed. The FedEx plugin's own registration runs end to end in `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use accounts::{
    AccountChanges, AccountError, AccountService, AccountStatus, NewAccount, Selector,
    ShipperAccount,
};
use async_trait::async_trait;
use carrier::{
    AccountContext, AccountDetails, AccountInput, Capabilities, Carrier, CarrierError,
    CarrierRegistry, CheckedAnswer, Credentials, CredentialsInput, IdempotencyKey,
    MAX_PROOF_ATTEMPTS, Registration, RegistrationError, RegistrationOnboarding, RegistrationStep,
    ReturnLabel, ReturnLabelRequest, ServiceCode, ServiceInfo, ValidatedAccount, ValidationErrors,
};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{SENTINEL, app, key, keyring};

/// The code the registrar "sends".
const CODE: &str = "424242";
/// The registrar's session token, as secret as a carrier's.
const SESSION: &str = "SESSION-SENTINEL-5b1e-never-in-plaintext";

/// A carrier onboarded by registration, scripted by its fields.
#[derive(Debug, Default)]
struct Registrar {
    /// Calls that judged a proof (a code).
    proofs: AtomicU32,
    /// Every registration call.
    calls: AtomicU32,
    /// The next calls fail as if the carrier were down.
    down: AtomicBool,
    /// The carrier says the session lapsed.
    lapsed: AtomicBool,
    /// How long a proof call takes (to make answers overlap).
    slow: AtomicBool,
    /// How long the steps last, in seconds (negative: already lapsed).
    lifetime: std::sync::atomic::AtomicI64,
}

impl Registrar {
    fn new() -> Arc<Self> {
        let registrar = Self::default();
        registrar.lifetime.store(1800, Ordering::SeqCst);
        Arc::new(registrar)
    }

    fn step(&self, name: &str, message: &str, form: Value) -> RegistrationStep {
        RegistrationStep {
            name: name.to_owned(),
            message: message.to_owned(),
            form,
            expires_at: Some(
                Utc::now() + chrono::Duration::seconds(self.lifetime.load(Ordering::SeqCst)),
            ),
        }
    }

    fn state(&self) -> Credentials {
        Credentials::new("registration_pending")
            .with_secret("session", SecretString::from(SESSION.to_owned()))
    }

    fn first_step(&self) -> Registration {
        Registration::Pending {
            step: self.step(
                "choose_method",
                "How should we send the code?",
                json!({"type": "object", "properties": {"method": {"enum": ["sms", "email"]}},
                       "required": ["method"]}),
            ),
            state: self.state(),
        }
    }

    fn trouble(&self) -> Option<RegistrationError> {
        if self.down.load(Ordering::SeqCst) {
            return Some(RegistrationError::Carrier(CarrierError::Unavailable {
                carrier: "registrar",
                message: "503".into(),
                retry_after: None,
            }));
        }
        if self.lapsed.load(Ordering::SeqCst) {
            return Some(RegistrationError::Expired("session expired".into()));
        }
        None
    }
}

/// The registrar as a plugin (the registry holds it; the test keeps the script).
#[derive(Debug, Clone)]
struct Plugin(Arc<Registrar>);

impl std::ops::Deref for Plugin {
    type Target = Registrar;

    fn deref(&self) -> &Registrar {
        &self.0
    }
}

#[async_trait]
impl Carrier for Plugin {
    fn id(&self) -> &'static str {
        "registrar"
    }

    fn name(&self) -> &'static str {
        "Registrar"
    }

    fn services(&self) -> &'static [ServiceInfo] {
        &[ServiceInfo {
            code: "registrar_ground",
            name: "Ground",
            superseded_by: None,
        }]
    }

    fn capabilities(&self, _details: Option<&AccountDetails>) -> Capabilities {
        Capabilities {
            services: vec!["registrar_ground"],
            label_formats: vec![carrier::LabelFormat::Pdf],
            label_deliveries: vec![carrier::LabelDelivery::Download],
            receipts: false,
            idempotent_create: false,
            resend_after_unknown_outcome: false,
            cancellable: false,
            ship_date_days_ahead: 0,
        }
    }

    fn account_schema(&self) -> Value {
        json!({"type": "object"})
    }

    fn onboarding(&self) -> &'static [&'static str] {
        &["registration"]
    }

    fn validate_account(
        &self,
        input: AccountInput<'_>,
    ) -> Result<ValidatedAccount, ValidationErrors> {
        let details = input
            .details
            .as_object()
            .cloned()
            .ok_or_else(|| ValidationErrors::single("details", "must be an object"))?;
        let credentials = match (input.credentials, input.current) {
            (Some(sent), _) if !sent.is_empty() => {
                let mode = sent.get("mode").map(|m| m.expose_secret().to_owned());
                Credentials::new(mode.unwrap_or_default())
            }
            (_, Some(current)) => current.clone(),
            _ => return Err(ValidationErrors::single("credentials", "is required")),
        };
        Ok(ValidatedAccount {
            details: AccountDetails::new(details),
            credentials,
            needs_authorization: false,
            warnings: Vec::new(),
        })
    }

    async fn create_return_label(
        &self,
        _account: AccountContext<'_>,
        _request: &ReturnLabelRequest,
        _key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        Err(CarrierError::NotSupported {
            carrier: "registrar",
            operation: "labels",
        })
    }

    fn registration(&self) -> Option<&dyn RegistrationOnboarding> {
        Some(self)
    }
}

#[async_trait]
impl RegistrationOnboarding for Plugin {
    fn mode(&self) -> &'static str {
        "registration"
    }

    fn pending_mode(&self) -> &'static str {
        "registration_pending"
    }

    async fn register(&self, details: &AccountDetails) -> Result<Registration, RegistrationError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(trouble) = self.trouble() {
            return Err(trouble);
        }
        match details.str("number") {
            Some("1000") => Ok(self.first_step()),
            Some("2000") => Ok(Registration::Complete {
                credentials: Credentials::new("platform_app")
                    .with_secret("child_secret", SecretString::from(SENTINEL.to_owned())),
            }),
            _ => Err(RegistrationError::Refused(ValidationErrors::single(
                "details.number",
                "the carrier does not know this number",
            ))),
        }
    }

    fn check_answer(&self, step: &str, answer: &Value) -> Result<CheckedAnswer, ValidationErrors> {
        let field = if step == "choose_method" {
            "method"
        } else {
            "code"
        };
        match answer.get(field).and_then(Value::as_str) {
            Some(value) if !value.is_empty() => Ok(CheckedAnswer {
                proof: field == "code",
                answer: json!({ field: value }),
            }),
            _ => Err(ValidationErrors::single(field, "is required")),
        }
    }

    async fn answer(
        &self,
        _details: &AccountDetails,
        state: &Credentials,
        step: &str,
        answer: &CheckedAnswer,
    ) -> Result<Registration, RegistrationError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            state.secret("session").unwrap().expose_secret(),
            SESSION,
            "the state is handed back as stored"
        );
        if answer.proof {
            self.proofs.fetch_add(1, Ordering::SeqCst);
        }
        if self.slow.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if let Some(trouble) = self.trouble() {
            return Err(trouble);
        }
        if step == "choose_method" {
            return Ok(Registration::Pending {
                step: self.step(
                    "enter_code",
                    "We sent a code to ***-4222.",
                    json!({"type": "object", "properties": {"code": {"type": "string"}},
                           "required": ["code"]}),
                ),
                state: self.state(),
            });
        }
        if answer.answer["code"] == CODE {
            Ok(Registration::Complete {
                credentials: Credentials::new("platform_app")
                    .with_public("registered", "yes")
                    .with_secret("child_secret", SecretString::from(SENTINEL.to_owned())),
            })
        } else {
            Err(RegistrationError::Refused(ValidationErrors::single(
                "code",
                "the code is wrong or has expired",
            )))
        }
    }
}

struct Setup {
    service: AccountService,
    registrar: Arc<Registrar>,
    tenant: accounts::TenantId,
    actor: accounts::Actor,
}

async fn setup(owner: &PgPool) -> Setup {
    let db = app(owner).await;
    let registrar = Registrar::new();
    let registry = CarrierRegistry::new().register(Arc::new(Plugin(registrar.clone())));
    let service = AccountService::new(db.clone(), keyring(&format!("k1:{}", key(1))), registry);
    let actor = accounts::Actor::System;
    let (tenant, _key) = accounts::tenant::create_tenant(&db, &actor, "Acme")
        .await
        .unwrap();
    Setup {
        service,
        registrar,
        tenant: tenant.id,
        actor,
    }
}

impl Setup {
    fn context(&self) -> accounts::Context<'_> {
        accounts::Context {
            tenant: &self.tenant,
            actor: &self.actor,
            request_id: Some("req_test"),
        }
    }

    async fn register(&self, number: &str) -> Result<ShipperAccount, AccountError> {
        self.service
            .create(
                self.context(),
                NewAccount {
                    carrier: "registrar".into(),
                    name: "Main".into(),
                    details: json!({"number": number}),
                    credentials: CredentialsInput::new().with("mode", "registration"),
                    is_default: None,
                    priority: 0,
                    tags: Default::default(),
                },
            )
            .await
    }

    async fn answer(&self, id: &str, answer: Value) -> Result<ShipperAccount, AccountError> {
        self.service
            .answer_verification(self.context(), id, &answer)
            .await
    }

    /// A pending account at its code step.
    async fn at_code_step(&self) -> ShipperAccount {
        let account = self.register("1000").await.unwrap();
        self.answer(account.id.as_str(), json!({"method": "sms"}))
            .await
            .unwrap()
    }
}

async fn actions(owner: &PgPool) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT action, summary FROM audit_events WHERE action LIKE 'account.%' ORDER BY id",
    )
    .fetch_all(owner)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_registration_goes_pending_then_active_its_state_and_credentials_sealed(owner: PgPool) {
    let setup = setup(&owner).await;
    let account = setup.register("1000").await.unwrap();
    assert_eq!(account.status, AccountStatus::PendingVerification);
    assert_eq!(account.credentials.mode, "registration_pending");
    let step = account.verification.clone().unwrap();
    assert_eq!(step.step, "choose_method");
    assert_eq!(step.attempts_remaining, MAX_PROOF_ATTEMPTS);

    let next = setup
        .answer(account.id.as_str(), json!({"method": "sms"}))
        .await
        .unwrap();
    let step = next.verification.clone().unwrap();
    assert_eq!(step.step, "enter_code");
    assert_eq!(step.message, "We sent a code to ***-4222.");
    assert_eq!(
        step.attempts_remaining, MAX_PROOF_ATTEMPTS,
        "choosing is no proof"
    );

    let active = setup
        .answer(account.id.as_str(), json!({"code": CODE}))
        .await
        .unwrap();
    assert_eq!(active.status, AccountStatus::Active);
    assert_eq!(active.credentials.mode, "platform_app");
    assert!(active.verification.is_none());
    assert_ne!(
        active.credentials.fingerprint,
        account.credentials.fingerprint
    );

    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(a)::text FROM shipper_accounts a
         UNION ALL SELECT row_to_json(e)::text FROM audit_events e",
    )
    .fetch_all(&owner)
    .await
    .unwrap();
    let stored = stored.join("\n");
    for secret in [SENTINEL, SESSION, CODE] {
        assert!(!stored.contains(secret), "{secret} is stored in plaintext");
    }
    let (_, _, opened) = setup
        .service
        .open_for_operation(setup.context(), account.id.as_str(), "test", "none")
        .await
        .unwrap();
    assert_eq!(
        opened.secret("child_secret").unwrap().expose_secret(),
        SENTINEL
    );

    let audited: Vec<String> = actions(&owner).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        audited,
        [
            "account.created",
            "account.verification_started",
            "account.verification_advanced",
            "account.verified",
            "account.credentials_used"
        ]
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_refused_registration_creates_nothing_and_is_audited(owner: PgPool) {
    let setup = setup(&owner).await;
    let Err(AccountError::Validation(errors)) = setup.register("9999").await else {
        panic!("an unknown number is refused by field");
    };
    assert!(errors.names("details.number"), "{errors}");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM shipper_accounts")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(accounts, 0);
    let audited = actions(&owner).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, "account.verification_failed");
    assert_eq!(audited[0].1["reason"], "refused");
    assert_eq!(audited[0].1["fields"], json!(["details.number"]));

    let immediate = setup.register("2000").await.unwrap();
    assert_eq!(
        immediate.status,
        AccountStatus::Active,
        "keys at once: active"
    );
    assert!(immediate.verification.is_none());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn wrong_codes_count_and_the_fifth_locks_until_started_again(owner: PgPool) {
    let setup = setup(&owner).await;
    let account = setup.at_code_step().await;
    let id = account.id.as_str();
    for left in (0..MAX_PROOF_ATTEMPTS).rev() {
        let Err(AccountError::VerificationRefused {
            errors,
            attempts_remaining,
        }) = setup.answer(id, json!({"code": "000000"})).await
        else {
            panic!("a wrong code is refused");
        };
        assert!(errors.names("code"));
        assert_eq!(attempts_remaining, left);
    }
    let proofs = setup.registrar.proofs.load(Ordering::SeqCst);
    // Locked: even the right code is not sent to the carrier.
    let Err(AccountError::Conflict { code, .. }) = setup.answer(id, json!({"code": CODE})).await
    else {
        panic!("locked");
    };
    assert_eq!(code, "verification_locked");
    assert_eq!(setup.registrar.proofs.load(Ordering::SeqCst), proofs);
    let shown = setup.service.get(&setup.tenant, id).await.unwrap();
    assert_eq!(shown.verification.unwrap().attempts_remaining, 0);

    let restarted = setup
        .service
        .restart_verification(setup.context(), id)
        .await
        .unwrap();
    let step = restarted.verification.unwrap();
    assert_eq!(step.step, "choose_method");
    assert_eq!(step.attempts_remaining, MAX_PROOF_ATTEMPTS);
    setup.answer(id, json!({"method": "email"})).await.unwrap();
    let active = setup.answer(id, json!({"code": CODE})).await.unwrap();
    assert_eq!(active.status, AccountStatus::Active);

    let failures: Vec<Value> = actions(&owner)
        .await
        .into_iter()
        .filter(|(action, _)| action == "account.verification_failed")
        .map(|(_, summary)| summary)
        .collect();
    assert_eq!(failures.len(), MAX_PROOF_ATTEMPTS as usize + 1);
    assert_eq!(failures.last().unwrap()["reason"], "locked");
    assert!(!failures.iter().any(|f| f.to_string().contains("000000")));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn concurrent_wrong_codes_never_reach_the_carrier_more_than_the_attempts(owner: PgPool) {
    let setup = setup(&owner).await;
    let account = setup.at_code_step().await;
    setup.registrar.slow.store(true, Ordering::SeqCst);
    let id = account.id.as_str();
    let answers = (0..12).map(|n| setup.answer(id, json!({"code": format!("{n:06}")})));
    let outcomes = futures::future::join_all(answers).await;
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AccountError::VerificationRefused { .. })))
        .count();
    let locked = outcomes
        .iter()
        .filter(|o| {
            matches!(o, Err(AccountError::Conflict { code, .. }) if *code == "verification_locked")
        })
        .count();
    assert_eq!(refused, MAX_PROOF_ATTEMPTS as usize);
    assert_eq!(locked, 12 - MAX_PROOF_ATTEMPTS as usize);
    assert_eq!(
        setup.registrar.proofs.load(Ordering::SeqCst),
        MAX_PROOF_ATTEMPTS
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_carrier_that_cannot_judge_gives_the_attempt_back(owner: PgPool) {
    let setup = setup(&owner).await;
    let account = setup.at_code_step().await;
    setup.registrar.down.store(true, Ordering::SeqCst);
    let Err(AccountError::Carrier { error, .. }) = setup
        .answer(account.id.as_str(), json!({"code": CODE}))
        .await
    else {
        panic!("the carrier is down");
    };
    assert!(error.is_retryable());
    let shown = setup
        .service
        .get(&setup.tenant, account.id.as_str())
        .await
        .unwrap();
    let step = shown.verification.unwrap();
    assert_eq!(step.attempts_remaining, MAX_PROOF_ATTEMPTS);
    assert_eq!(step.step, "enter_code", "nothing else changed");
    let failed = actions(&owner).await.pop().unwrap();
    assert_eq!(failed.0, "account.verification_failed");
    assert_eq!(failed.1["reason"], "carrier_error");
    assert_eq!(failed.1["error"], "unavailable");

    setup.registrar.down.store(false, Ordering::SeqCst);
    let active = setup
        .answer(account.id.as_str(), json!({"code": CODE}))
        .await
        .unwrap();
    assert_eq!(active.status, AccountStatus::Active);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_expired_step_is_refused_before_the_carrier_and_a_lapse_is_recorded(owner: PgPool) {
    let setup = setup(&owner).await;
    setup.registrar.lifetime.store(-1, Ordering::SeqCst);
    let account = setup.register("1000").await.unwrap();
    let calls = setup.registrar.calls.load(Ordering::SeqCst);
    let Err(AccountError::Conflict { code, .. }) = setup
        .answer(account.id.as_str(), json!({"method": "sms"}))
        .await
    else {
        panic!("expired");
    };
    assert_eq!(code, "verification_expired");
    assert_eq!(setup.registrar.calls.load(Ordering::SeqCst), calls);

    // The carrier says the session lapsed before its expiry: recorded as expired now.
    setup.registrar.lifetime.store(1800, Ordering::SeqCst);
    setup
        .service
        .restart_verification(setup.context(), account.id.as_str())
        .await
        .unwrap();
    setup.registrar.lapsed.store(true, Ordering::SeqCst);
    let Err(AccountError::Conflict { code, .. }) = setup
        .answer(account.id.as_str(), json!({"method": "sms"}))
        .await
    else {
        panic!("lapsed");
    };
    assert_eq!(code, "verification_expired");
    let shown = setup
        .service
        .get(&setup.tenant, account.id.as_str())
        .await
        .unwrap();
    assert!(shown.verification.unwrap().expired_at(Utc::now()));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_pending_account_is_never_selected_nor_patched_in_its_details(owner: PgPool) {
    let setup = setup(&owner).await;
    let account = setup.register("1000").await.unwrap();
    let service = ServiceCode::parse("service", "registrar_ground").unwrap();
    let Err(AccountError::NoEligibleAccount(reason)) = setup
        .service
        .select_for_use(
            setup.context(),
            Selector {
                carrier: "registrar",
                service: &service,
                account_id: None,
                tags: None,
                idempotency_key: None,
            },
        )
        .await
        .map(|_| ())
    else {
        panic!("a pending account is not eligible");
    };
    assert!(reason.contains("verify"), "{reason}");

    let Err(AccountError::Conflict { code, .. }) = setup
        .service
        .update(
            setup.context(),
            account.id.as_str(),
            AccountChanges {
                details: Some(json!({"number": "2000"})),
                ..Default::default()
            },
        )
        .await
    else {
        panic!("details are not patched mid-verification");
    };
    assert_eq!(code, "verification_in_progress");
    let renamed = setup
        .service
        .update(
            setup.context(),
            account.id.as_str(),
            AccountChanges {
                name: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.status, AccountStatus::PendingVerification);

    let active = setup.register("2000").await.unwrap();
    let Err(AccountError::Conflict { code, .. }) = setup
        .answer(active.id.as_str(), json!({"code": CODE}))
        .await
    else {
        panic!("nothing to verify");
    };
    assert_eq!(code, "not_pending_verification");
}
