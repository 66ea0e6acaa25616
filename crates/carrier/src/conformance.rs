//! The conformance suite every carrier plugin runs against its carrier or simulator, after
//! `object_store`'s `integration.rs`: one function per behaviour the platform relies on, and
//! [`run_all`] to run them in order. A plugin's test implements [`Fixture`] and calls
//! `carrier::conformance::run_all(&fixture).await`.
//!
//! Compiled only with the `conformance` feature (plugins enable it for their tests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::{
    AccountContext, AccountInput, Carrier, CarrierError, CredentialsInput, ErrorKind,
    IdempotencyKey, LabelDelivery, LabelFormat, LabelToVoid, ReturnLabel, ReturnLabelInput,
    ReturnLabelRequest, ServiceCode, ValidatedAccount,
};

/// What a plugin's test gives the suite.
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The plugin under test, configured against its carrier or simulator.
    fn carrier(&self) -> Arc<dyn Carrier>;

    /// Details and credentials of an account that can buy every service the plugin offers.
    fn account(&self) -> (serde_json::Value, CredentialsInput);

    /// Details and well-formed credentials that the carrier refuses (a wrong secret).
    fn refused_account(&self) -> (serde_json::Value, CredentialsInput);

    /// A request the carrier accepts, for `service`.
    fn request(&self, service: &str) -> ReturnLabelInput;

    /// How many labels the carrier has issued so far (the simulator's ledger).
    async fn labels_issued(&self) -> usize;

    /// Makes the carrier's next label reply fail *after* the label was made (the simulator's
    /// `malformed` or `reset_after_commit` fault on its label route, once).
    async fn fail_next_label_after_commit(&self, how: AfterCommit);

    /// Whether the carrier considers a label voided (the simulator's ledger); only asked of
    /// carriers whose capabilities say they can void.
    async fn is_voided(&self, tracking_number: &str) -> bool;

    /// Makes the carrier scan a label (the simulator's `POST /__sim/tracking/{tn}/events`);
    /// only asked of carriers whose [`Carrier::tracking`] is `Some`.
    async fn scan(&self, tracking_number: &str, scan: SimulatedScan);
}

/// A scan a simulator records (API.md, simulators' test controls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatedScan {
    Accepted,
    InTransit,
    OutForDelivery,
    Delivered,
    ReturnedToSender,
    Exception,
}

impl SimulatedScan {
    /// The name the simulators' control route takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SimulatedScan::Accepted => "accepted",
            SimulatedScan::InTransit => "in_transit",
            SimulatedScan::OutForDelivery => "out_for_delivery",
            SimulatedScan::Delivered => "delivered",
            SimulatedScan::ReturnedToSender => "returned_to_sender",
            SimulatedScan::Exception => "exception",
        }
    }
}

/// How a label reply fails after the carrier made the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCommit {
    /// The reply's body is cut short: unreadable.
    MalformedBody,
    /// The connection is reset mid-reply.
    ConnectionReset,
}

/// Runs every conformance check.
pub async fn run_all(fixture: &dyn Fixture) {
    describes_itself(fixture);
    validates_accounts(fixture);
    keeps_secrets_out_of_details_and_debug(fixture);
    creates_a_label_for_every_service(fixture).await;
    creates_a_label_in_every_format(fixture).await;
    delivers_a_qr_code_where_the_carrier_offers_one(fixture).await;
    resending_with_the_same_key_returns_the_same_label(fixture).await;
    distinct_keys_buy_distinct_labels(fixture).await;
    unknown_service_is_refused_before_sending(fixture).await;
    invalid_parcel_is_refused_before_sending(fixture).await;
    refused_credentials_are_unauthenticated(fixture).await;
    failures_after_the_label_was_made_keep_the_error_contract(fixture).await;
    voids_where_the_carrier_can(fixture).await;
    tracks_what_the_carrier_scanned(fixture).await;
    refuses_unauthenticated_notifications(fixture);
}

fn validated(fixture: &dyn Fixture) -> ValidatedAccount {
    let (details, credentials) = fixture.account();
    fixture
        .carrier()
        .validate_account(AccountInput {
            details: &details,
            credentials: Some(&credentials),
            current: None,
        })
        .unwrap_or_else(|errors| panic!("the fixture's account must validate: {errors}"))
}

fn unique_key(label: &str) -> IdempotencyKey {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    IdempotencyKey::parse("key", &format!("conformance-{label}-{nanos}-{n}")).unwrap()
}

async fn buy(
    fixture: &dyn Fixture,
    account: &ValidatedAccount,
    input: &ReturnLabelInput,
    key: &IdempotencyKey,
) -> Result<ReturnLabel, CarrierError> {
    let request = ReturnLabelRequest::parse(input)
        .unwrap_or_else(|errors| panic!("the fixture's request must parse: {errors}"));
    fixture
        .carrier()
        .create_return_label(
            AccountContext {
                id: "sa_conformance",
                details: &account.details,
                credentials: &account.credentials,
            },
            &request,
            key,
        )
        .await
}

/// The plugin names itself and its services consistently.
pub fn describes_itself(fixture: &dyn Fixture) {
    let carrier = fixture.carrier();
    let id = carrier.id();
    assert!(
        !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "carrier id must be lower-case alphanumeric: {id:?}"
    );
    assert!(!carrier.name().is_empty());
    let services = carrier.services();
    assert!(
        !services.is_empty(),
        "a carrier offers at least one service"
    );
    let mut codes: Vec<_> = services.iter().map(|s| s.code).collect();
    for code in &codes {
        ServiceCode::parse("service", code).expect("service codes must parse");
    }
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), services.len(), "service codes are unique");
    let capabilities = carrier.capabilities(None);
    assert!(!capabilities.label_formats.is_empty());
    for offered in &capabilities.services {
        assert!(
            codes.contains(offered),
            "capability lists unknown service {offered}"
        );
        assert!(
            offered.starts_with(&format!("{id}_")),
            "service codes start with the carrier's id: {offered}"
        );
    }
    assert!(!capabilities.label_deliveries.is_empty());
    assert!(
        !carrier.onboarding().is_empty(),
        "the carrier says how accounts connect"
    );
    describes_its_account_form(fixture);
}

/// The account schema is a JSON Schema object of `details` and `credentials` that names every
/// detail the plugin keeps and marks every secret `writeOnly`.
fn describes_its_account_form(fixture: &dyn Fixture) {
    let schema = fixture.carrier().account_schema();
    assert_eq!(schema["type"], "object", "{schema}");
    let details = &schema["properties"]["details"];
    let credentials = &schema["properties"]["credentials"];
    assert_eq!(details["type"], "object", "details schema: {schema}");
    assert!(credentials.is_object(), "credentials schema: {schema}");
    let (input, _) = fixture.account();
    for key in input.as_object().into_iter().flatten().map(|(key, _)| key) {
        assert!(
            details["properties"].get(key).is_some(),
            "the account schema describes details.{key}"
        );
    }
    // A secret may be typed in the details (USPS's EPS account number) or the credentials;
    // either way the schema marks it `writeOnly`.
    let account = validated(fixture);
    let text = schema.to_string();
    for secret in account.credentials.secret_names() {
        let described = find_property(&schema, secret)
            .unwrap_or_else(|| panic!("the account schema describes the secret {secret}: {text}"));
        assert_eq!(
            described["writeOnly"], true,
            "the secret {secret} is writeOnly"
        );
    }
}

/// The schema of property `name` anywhere under `schema` (through `oneOf` and the like).
fn find_property<'a>(schema: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    match schema {
        serde_json::Value::Object(map) => {
            if let Some(found) = map.get("properties").and_then(|p| p.get(name)) {
                return Some(found);
            }
            map.values().find_map(|value| find_property(value, name))
        }
        serde_json::Value::Array(items) => {
            items.iter().find_map(|value| find_property(value, name))
        }
        _ => None,
    }
}

/// A complete account validates; an empty one is refused with errors naming their fields.
pub fn validates_accounts(fixture: &dyn Fixture) {
    let account = validated(fixture);
    assert!(
        !account.needs_authorization,
        "the fixture's account is ready to use"
    );
    let empty = serde_json::json!({});
    let errors = fixture
        .carrier()
        .validate_account(AccountInput {
            details: &empty,
            credentials: Some(&CredentialsInput::new()),
            current: None,
        })
        .expect_err("empty details must be refused");
    assert!(!errors.is_empty());
    for error in errors.errors() {
        assert!(
            error.field.starts_with("details.") || error.field.starts_with("credentials."),
            "field paths are rooted at details or credentials: {}",
            error.field
        );
    }
}

/// No secret from the credentials ends up in the stored details or in any `Debug` output.
pub fn keeps_secrets_out_of_details_and_debug(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let details = serde_json::to_string(&account.details).unwrap();
    let printed = format!("{account:?}");
    let secret_names: Vec<String> = account
        .credentials
        .secret_names()
        .map(str::to_owned)
        .collect();
    assert!(
        !secret_names.is_empty(),
        "the fixture's account has secrets"
    );
    for name in secret_names {
        let value = account
            .credentials
            .secret(&name)
            .unwrap()
            .expose_secret()
            .to_owned();
        assert!(
            !details.contains(&value),
            "secret {name} leaked into details"
        );
        assert!(!printed.contains(&value), "secret {name} leaked into Debug");
    }
}

fn assert_label(label: &ReturnLabel, service: &str, format: LabelFormat) {
    assert_eq!(label.service.as_str(), service);
    assert!(!label.tracking_number.as_str().is_empty());
    let charges = &label.charges;
    assert!(charges.postage().minor_units() > 0, "postage is positive");
    let fees: i64 = charges
        .fees()
        .iter()
        .map(|fee| fee.amount.minor_units())
        .sum();
    assert!(
        charges.total().minor_units() == charges.postage().minor_units() + fees
            || label
                .warnings
                .iter()
                .any(|w| w.code == "charges_do_not_add_up"),
        "the total is the postage plus the fees, or a warning says it is not"
    );
    let document = label.label.as_ref().expect("a label image is returned");
    assert_eq!(document.format, format);
    assert!(
        format.matches(&document.bytes),
        "the {format:?} label bytes are a real {format:?} document"
    );
}

/// Every service the account offers yields a label.
pub async fn creates_a_label_for_every_service(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let services = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services;
    for service in services {
        let input = fixture.request(service);
        let label = buy(fixture, &account, &input, &unique_key(service))
            .await
            .unwrap_or_else(|error| panic!("{service}: {error}"));
        assert_label(&label, service, LabelFormat::Pdf);
    }
}

/// Every label format the carrier claims comes back as a real document of that format.
pub async fn creates_a_label_in_every_format(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let capabilities = fixture.carrier().capabilities(Some(&account.details));
    let service = capabilities.services[0];
    for format in capabilities.label_formats {
        let mut input = fixture.request(service);
        input.label_format = Some(format.as_str().to_owned());
        let label = buy(fixture, &account, &input, &unique_key("format"))
            .await
            .unwrap_or_else(|error| panic!("{format:?}: {error}"));
        assert_label(&label, service, format);
    }
}

/// Where an account offers `label_delivery: qr_code`, the label comes back as a code (a PNG
/// and a non-empty id) and, unless a label format was named, nothing to print.
pub async fn delivers_a_qr_code_where_the_carrier_offers_one(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let capabilities = fixture.carrier().capabilities(Some(&account.details));
    if !capabilities
        .label_deliveries
        .contains(&LabelDelivery::QrCode)
    {
        return;
    }
    let service = capabilities.services[0];
    let mut input = fixture.request(service);
    input.label_delivery = Some(LabelDelivery::QrCode.as_str().to_owned());
    input.label_format = None;
    let label = buy(fixture, &account, &input, &unique_key("qr-code"))
        .await
        .unwrap_or_else(|error| panic!("qr_code: {error}"));
    let code = label.qr_code.as_ref().expect("a QR code is returned");
    assert!(!code.id.is_empty(), "the code has an id to type");
    assert_eq!(code.image.format, LabelFormat::Png);
    assert!(LabelFormat::Png.matches(&code.image.bytes));
    assert!(label.label.is_none(), "no printable label was asked for");
}

/// With carrier-side idempotency, sending the same purchase twice buys one label.
pub async fn resending_with_the_same_key_returns_the_same_label(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let capabilities = fixture.carrier().capabilities(Some(&account.details));
    if !capabilities.idempotent_create {
        return;
    }
    let input = fixture.request(capabilities.services[0]);
    let key = unique_key("resend");
    let before = fixture.labels_issued().await;
    let first = buy(fixture, &account, &input, &key).await.unwrap();
    let second = buy(fixture, &account, &input, &key).await.unwrap();
    assert_eq!(first.tracking_number, second.tracking_number);
    assert_eq!(
        fixture.labels_issued().await,
        before + 1,
        "one label, not two"
    );
}

/// Two purchases with different keys are two labels.
pub async fn distinct_keys_buy_distinct_labels(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let service = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services[0];
    let input = fixture.request(service);
    let first = buy(fixture, &account, &input, &unique_key("a"))
        .await
        .unwrap();
    let second = buy(fixture, &account, &input, &unique_key("b"))
        .await
        .unwrap();
    assert_ne!(first.tracking_number, second.tracking_number);
}

async fn assert_refused_before_sending(
    fixture: &dyn Fixture,
    input: &ReturnLabelInput,
    field: &str,
) {
    let account = validated(fixture);
    let before = fixture.labels_issued().await;
    let error = buy(fixture, &account, input, &unique_key("invalid"))
        .await
        .expect_err("the request must be refused");
    match &error {
        CarrierError::Validation(errors) => {
            assert!(
                errors.names(field),
                "expected an error on {field}, got {errors}"
            )
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
    assert_eq!(fixture.labels_issued().await, before, "nothing was bought");
}

/// A service the carrier does not know is a validation error on `service`.
pub async fn unknown_service_is_refused_before_sending(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let service = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services[0];
    let mut input = fixture.request(service);
    input.service = Some("no_such_service".to_owned());
    assert_refused_before_sending(fixture, &input, "service").await;
}

/// A parcel no carrier carries (a tonne) is refused on `parcel.weight_oz` before sending.
pub async fn invalid_parcel_is_refused_before_sending(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let service = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services[0];
    let mut input = fixture.request(service);
    let mut parcel = input.parcel.clone().unwrap_or_default();
    parcel.weight_oz = Some(rust_decimal::Decimal::from(35_274));
    input.parcel = Some(parcel);
    assert_refused_before_sending(fixture, &input, "parcel.weight_oz").await;
}

/// Credentials the carrier refuses produce `Unauthenticated`, and the error shows no secret.
pub async fn refused_credentials_are_unauthenticated(fixture: &dyn Fixture) {
    let (details, credentials) = fixture.refused_account();
    let account = fixture
        .carrier()
        .validate_account(AccountInput {
            details: &details,
            credentials: Some(&credentials),
            current: None,
        })
        .unwrap_or_else(|errors| panic!("the refused account is well-formed: {errors}"));
    let service = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services[0];
    let error = buy(
        fixture,
        &account,
        &fixture.request(service),
        &unique_key("refused"),
    )
    .await
    .expect_err("the carrier must refuse these credentials");
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    let printed = format!("{error} {error:?}");
    for name in account.credentials.secret_names() {
        let value = account.credentials.secret(name).unwrap().expose_secret();
        assert!(
            !printed.contains(value),
            "secret {name} leaked into the error"
        );
    }
}

/// A label reply lost after the carrier made the label is `OutcomeUnknown` — never `Protocol`
/// or `Validation`, which would let the server release the key and buy a second label (the
/// contract on [`CarrierError`]).
pub async fn failures_after_the_label_was_made_keep_the_error_contract(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let service = fixture
        .carrier()
        .capabilities(Some(&account.details))
        .services[0];
    for how in [AfterCommit::MalformedBody, AfterCommit::ConnectionReset] {
        let before = fixture.labels_issued().await;
        fixture.fail_next_label_after_commit(how).await;
        let error = buy(
            fixture,
            &account,
            &fixture.request(service),
            &unique_key("lost"),
        )
        .await
        .expect_err("the reply was lost");
        assert!(
            error.may_follow_a_sent_purchase(),
            "{how:?}: {error:?} may not follow a sent purchase"
        );
        assert_eq!(
            error.kind(),
            ErrorKind::OutcomeUnknown,
            "{how:?}: {error:?}"
        );
        assert_eq!(
            fixture.labels_issued().await,
            before + 1,
            "{how:?}: the carrier made the label"
        );
    }
}

/// A carrier that can void does (once); one that cannot says `NotSupported`.
pub async fn voids_where_the_carrier_can(fixture: &dyn Fixture) {
    let account = validated(fixture);
    let carrier = fixture.carrier();
    let capabilities = carrier.capabilities(Some(&account.details));
    let service = capabilities.services[0];
    let label = buy(
        fixture,
        &account,
        &fixture.request(service),
        &unique_key("void"),
    )
    .await
    .unwrap();
    let context = AccountContext {
        id: "sa_conformance",
        details: &account.details,
        credentials: &account.credentials,
    };
    let to_void = LabelToVoid {
        tracking_number: &label.tracking_number,
        carrier_reference: label.carrier_reference.as_deref(),
        service: &label.service,
    };
    let outcome = carrier.void_label(context, &to_void).await;
    if !capabilities.cancellable {
        let error = outcome.expect_err("a carrier that cannot void says so");
        assert_eq!(error.kind(), ErrorKind::NotSupported, "{error:?}");
        return;
    }
    outcome.unwrap_or_else(|error| panic!("void: {error}"));
    assert!(
        fixture.is_voided(label.tracking_number.as_str()).await,
        "the carrier voided the label"
    );
    let again = carrier
        .void_label(context, &to_void)
        .await
        .expect_err("a voided label cannot be voided again");
    assert!(
        matches!(again.kind(), ErrorKind::Rejected | ErrorKind::LabelInUse),
        "{again:?}"
    );
}

/// A carrier that can be tracked reports a new label without scans, then each scan the carrier
/// made with its normalized status, the same events (by fingerprint) on every pull.
pub async fn tracks_what_the_carrier_scanned(fixture: &dyn Fixture) {
    let carrier = fixture.carrier();
    let account = validated(fixture);
    let Some(support) = carrier.tracking(Some(&account.details)) else {
        let context = AccountContext {
            id: "sa_conformance",
            details: &account.details,
            credentials: &account.credentials,
        };
        let number = crate::TrackingNumber::other("tracking_number", "0000000000").unwrap();
        let error = carrier
            .track(context, &[number])
            .await
            .expect_err("a carrier without tracking says so");
        assert_eq!(error.kind(), ErrorKind::NotSupported, "{error:?}");
        return;
    };
    assert!(support.batch_size >= 1);
    assert!(support.calls_per_hour >= 1);
    assert!(!support.push || carrier.tracking_push().is_some());
    let context = AccountContext {
        id: "sa_conformance",
        details: &account.details,
        credentials: &account.credentials,
    };
    let service = carrier.capabilities(Some(&account.details)).services[0];
    let label = buy(
        fixture,
        &account,
        &fixture.request(service),
        &unique_key("track"),
    )
    .await
    .unwrap();
    let pull = |expected: usize| {
        let carrier = carrier.clone();
        let number = label.tracking_number.clone();
        async move {
            let tracked = carrier.track(context, std::slice::from_ref(&number)).await;
            let tracked = tracked.unwrap_or_else(|error| panic!("track: {error}"));
            assert_eq!(tracked.len(), 1, "one answer per number: {tracked:?}");
            assert_eq!(tracked[0].tracking_number, number);
            let scans: Vec<_> = tracked[0]
                .events
                .iter()
                .filter(|event| event.status.is_scan())
                .cloned()
                .collect();
            assert_eq!(scans.len(), expected, "{tracked:?}");
            tracked.into_iter().next().unwrap().events
        }
    };
    pull(0).await;
    fixture
        .scan(label.tracking_number.as_str(), SimulatedScan::Accepted)
        .await;
    let first = pull(1).await;
    let accepted = first.iter().find(|e| e.status.is_scan()).unwrap();
    assert_eq!(
        accepted.status,
        crate::TrackingStatus::InTransit,
        "{accepted:?}"
    );
    assert!(!accepted.carrier_code.is_empty() && !accepted.description.is_empty());
    fixture
        .scan(label.tracking_number.as_str(), SimulatedScan::Delivered)
        .await;
    let second = pull(2).await;
    assert!(
        second
            .iter()
            .any(|e| e.fingerprint() == accepted.fingerprint()),
        "the acceptance scan keeps its fingerprint: {second:?}"
    );
    assert!(
        second
            .iter()
            .any(|e| e.status == crate::TrackingStatus::Delivered),
        "{second:?}"
    );
}

/// A carrier that pushes refuses a notification without its authentication, and reads nothing
/// from it.
pub fn refuses_unauthenticated_notifications(fixture: &dyn Fixture) {
    let carrier = fixture.carrier();
    let Some(push) = carrier.tracking_push() else {
        return;
    };
    let body = br#"{"trackingNumber":"1Z0000000000000000"}"#;
    let outcome = push.read_notification(&http::HeaderMap::new(), body, None, chrono::Utc::now());
    assert!(
        matches!(
            outcome,
            Err(crate::tracking::NotificationError::Unauthenticated(_)
                | crate::tracking::NotificationError::Malformed(_))
        ),
        "{outcome:?}"
    );
}
