//! Buying a return label exactly once per `Idempotency-Key` (Stripe's semantics, built in
//! Brandur Leach's atomic phases).
//!
//! 1. The key is recorded with a SHA-256 of the request before anything else. The same key
//!    with the same body returns the stored response (no carrier call); with another body it
//!    is 422 `idempotency_key_reused`; while the first request still runs it is 409
//!    `idempotency_key_in_use` (the row is locked for [`AppState::label_lock`]).
//! 2. In the same transaction the account is selected and its credentials opened (audited),
//!    and the phase becomes `carrier_called` with the account and the carrier-side key; the
//!    transaction commits synchronously *before* the carrier is called, so a crash or an
//!    ambiguous failure can be resumed. One commit, not one per step: a request that stops
//!    here (no eligible account, a bad ship date) rolls it back, and nothing is kept. Only an
//!    OAuth renewal, which calls the carrier, splits it ([`Pending`]).
//! 3. The carrier is called outside any transaction, with a carrier idempotency key derived from
//!    (tenant, key): a resend after an ambiguous failure returns the same label where the
//!    carrier deduplicates by such a key ([`carrier::Capabilities::idempotent_create`]).
//! 4. The label, its bytes, the stored response, the outbox event, the audit event and the
//!    tracking job are written in one statement ([`finish_statement`]), committed
//!    synchronously before the answer is sent.
//!
//! Outcomes: a carrier refusal is final and stored (same answer on every retry). When the
//! carrier may have acted (timeout, reset, 5xx after sending) the key stays `outcome_unknown`
//! and the answer is 504 with `Retry-After`; a retry resumes with the same account and the same
//! carrier key. When nothing reached the carrier (unreachable, 503, rate limited) the key is
//! released and the answer is 503 with `Retry-After`.
//!
//! A carrier without idempotency keys (`idempotent_create: false`): the server never resends by
//! itself, and whatever error a plugin returns after its request may have left (the core's
//! contract on [`carrier::CarrierError`]) keeps the key as `outcome_unknown`. A retry with the
//! same key then sends the request again only where an unused duplicate costs nothing
//! ([`carrier::Capabilities::resend_after_unknown_outcome`]: pay-on-use labels — the duplicate
//! is never returned to anyone and never billed). Where it may cost, the retry is answered 409
//! `label_outcome_unknown` and nothing is sent: the label is never bought twice by accident, and
//! a second purchase is the client's own choice, with a new key.

use std::sync::LazyLock;
use std::time::Duration;

use accounts::audit::{self, Action, NewEvent};
use accounts::{Context, LabelId, SelectedBy, Selector, Tags, TenantId, UsableAccount};
use axum::http::StatusCode;
use carrier::{
    AccountContext, CarrierError, CarrierExt, IdempotencyKey, ReturnLabel, ReturnLabelInput,
    ReturnLabelRequest, ValidationErrors,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Postgres, Row, Transaction};

use crate::auth::TenantKey;
use crate::error::{self, ApiError};
use crate::extract::parse_json;
use crate::openapi::schema;
use crate::request_id;
use crate::state::AppState;

/// How long a running purchase holds its key before another request may resume it (a crashed
/// instance's purchase is resumed after this).
pub const DEFAULT_LOCK: Duration = Duration::from_secs(60);

/// `account_selector` of the request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSelector {
    /// Every tag the account must carry, e.g. `{"location": "east"}`.
    #[schema(schema_with = schema::optional_tags)]
    pub tags: Option<Value>,
}

/// `POST /v1/return-labels`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReturnLabel {
    /// Use this account (else the selection rules choose).
    #[schema(pattern = r"^sa_[A-Za-z0-9]{20}$")]
    pub shipper_account_id: Option<String>,
    /// Choose among the accounts carrying these tags.
    pub account_selector: Option<AccountSelector>,
    /// The carrier's id (`GET /v1/carriers`); when left out, the carrier whose service code
    /// `service` is (every code starts with its carrier's id).
    pub carrier: Option<String>,
    /// One of the carrier's service codes (`GET /v1/carriers`).
    #[schema(value_type = String, required = true)]
    pub service: Option<String>,
    /// Where the parcel comes from (the customer).
    #[schema(value_type = schema::Address, required = true)]
    pub from_address: Option<carrier::AddressInput>,
    #[schema(value_type = schema::Parcel, required = true)]
    pub parcel: Option<carrier::ParcelInput>,
    /// `PDF` (default), `PNG`, `GIF`, `TIF` or `ZPL` (case does not matter), as the account's
    /// carrier offers them. With `label_delivery: qr_code`, naming a format asks for a label to
    /// print as well as the QR code (in a format the carrier returns with one); left out, the
    /// QR code is the label.
    #[schema(value_type = Option<schema::LabelFormat>)]
    pub label_format: Option<String>,
    /// `download` (default), `email` (the carrier emails the label to
    /// `notify.recipient_email`) or `qr_code` (printerless: the answer's `qr_code`, shown at the
    /// carrier's counter, which prints the label; no receipt), as the account's carrier offers
    /// them.
    #[schema(value_type = Option<schema::LabelDelivery>)]
    pub label_delivery: Option<String>,
    /// Whether and where a mailing receipt is printed: `none` (default), `same_page`, or
    /// `separate_page` (then at `receipt_url`).
    #[schema(value_type = Option<schema::Receipt>)]
    pub receipt: Option<String>,
    /// The merchant's reference (e.g. the RMA), printed on the label.
    #[schema(example = "RMA-1001")]
    pub reference: Option<String>,
    #[schema(value_type = Option<schema::Notify>)]
    pub notify: Option<carrier::NotifyInput>,
    /// The day the parcel is to be mailed (default today).
    pub ship_date: Option<chrono::NaiveDate>,
}

/// Money as a decimal string and a currency (never a float).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Money)]
pub struct MoneyBody {
    #[schema(pattern = r"^-?[0-9]+(\.[0-9]+)?$", example = "8.44")]
    pub amount: String,
    /// ISO 4217, e.g. `USD`.
    #[schema(pattern = r"^[A-Z]{3}$", example = "USD")]
    pub currency: String,
}

impl From<carrier::Money> for MoneyBody {
    fn from(money: carrier::Money) -> Self {
        Self {
            amount: money.amount(),
            currency: money.currency().code().to_owned(),
        }
    }
}

/// A fee the carrier charged on top of the postage (an extra service, a surcharge).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Fee)]
pub struct FeeBody {
    /// The carrier's code for the fee, when it has one (an extra service's id such as `156`, a
    /// pricing SKU, the name of the carrier's charge element).
    #[schema(example = "156")]
    pub code: Option<String>,
    /// The carrier's name for the fee, when it gives one.
    #[schema(example = "Signature Confirmation Electronic")]
    pub name: Option<String>,
    /// Never zero: a service the carrier lists at no charge is no fee.
    pub amount: MoneyBody,
}

impl From<&carrier::Fee> for FeeBody {
    fn from(fee: &carrier::Fee) -> Self {
        Self {
            code: fee.code.clone(),
            name: fee.name.clone(),
            amount: fee.amount.into(),
        }
    }
}

/// A bought return label.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReturnLabel)]
pub struct ReturnLabelBody {
    #[schema(pattern = r"^lbl_[A-Za-z0-9]{20}$")]
    pub id: String,
    pub carrier: String,
    #[schema(pattern = r"^sa_[A-Za-z0-9]{20}$")]
    pub shipper_account_id: String,
    /// How the account was chosen.
    #[schema(value_type = schema::SelectedBy)]
    pub selected_by: String,
    pub service: String,
    #[schema(example = "9302012345600000007248")]
    pub tracking_number: String,
    pub routing_code: Option<String>,
    /// The base postage, without the fees.
    pub postage: MoneyBody,
    /// What the carrier charged on top of the postage, in the postage's currency.
    pub fees: Vec<FeeBody>,
    /// What the label costs: the postage plus the fees, or the carrier's own total where it
    /// states one (then, when they do not add up to it, with the warning
    /// `charges_do_not_add_up`).
    pub total: MoneyBody,
    pub zone: Option<String>,
    /// Where the label sends the parcel (the account's return address), as printed.
    #[schema(value_type = Option<schema::LabelAddress>)]
    pub to_address: Option<Value>,
    #[schema(value_type = schema::LabelFormat)]
    pub label_format: String,
    #[schema(value_type = schema::LabelDelivery)]
    pub label_delivery: String,
    /// `created` until the carrier scans it; then as its tracking says; `voided` once voided.
    #[schema(value_type = schema::LabelStatus)]
    pub status: String,
    /// The label's tracking summary (the events at `GET /v1/return-labels/{id}/tracking`).
    pub tracking: TrackingBody,
    /// The request's `reference`, as given.
    pub reference: Option<String>,
    /// The label document (`GET`), when the carrier made one.
    pub label_url: Option<String>,
    /// The separate receipt (`GET`), for `receipt: separate_page`.
    pub receipt_url: Option<String>,
    /// For `label_delivery: qr_code`: the code the customer shows at the carrier's counter,
    /// which prints the label there; `null` otherwise.
    pub qr_code: Option<QrCodeBody>,
    #[schema(value_type = Vec<schema::Warning>)]
    pub warnings: Vec<Value>,
    pub created_at: DateTime<Utc>,
}

/// A printerless label's code (`label_delivery: qr_code`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LabelQrCode)]
pub struct QrCodeBody {
    /// The carrier's id of the stored label, which the counter can type instead of scanning
    /// the QR code.
    #[schema(example = "LB7K2Q9XZA", pattern = r"^[A-Za-z0-9-]{1,64}$")]
    pub label_broker_id: String,
    /// The QR code, a PNG (`GET`).
    #[schema(example = "/v1/return-labels/lbl_7Yp2Kq9ZxW4mN8bR3tVc/qr-code")]
    pub url: String,
}

impl QrCodeBody {
    /// The code of label `id`, whose carrier id is `label_broker_id`.
    pub fn of(id: &str, label_broker_id: String) -> Self {
        Self {
            label_broker_id,
            url: format!("/v1/return-labels/{id}/qr-code"),
        }
    }
}

/// A label's tracking as the label shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LabelTracking)]
pub struct TrackingBody {
    #[schema(value_type = schema::LabelStatus)]
    pub status: String,
    /// The carrier's first scan of the parcel (when the returns SaaS refunds); set once.
    pub first_scan_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When tracking last changed anything.
    pub updated_at: Option<DateTime<Utc>>,
}

impl TrackingBody {
    /// A label just bought.
    pub fn created() -> Self {
        Self {
            status: "created".to_owned(),
            first_scan_at: None,
            delivered_at: None,
            updated_at: None,
        }
    }
}

/// A parsed, validated request.
struct Parsed {
    /// As the client named it, if it did.
    carrier: Option<String>,
    account_id: Option<String>,
    tags: Option<Tags>,
    request: ReturnLabelRequest,
    hash: [u8; 32],
}

fn parse(body: &[u8]) -> Result<Parsed, ApiError> {
    let (input, value): (CreateReturnLabel, Value) = parse_json(body)?;
    let hash: [u8; 32] = Sha256::digest(audit::canonical_json(&value).as_bytes()).into();

    let mut errors = ValidationErrors::new();
    let request = errors.collect(ReturnLabelRequest::parse(&ReturnLabelInput {
        service: input.service,
        from_address: input.from_address,
        parcel: input.parcel,
        label_format: input.label_format,
        label_delivery: input.label_delivery,
        receipt: input.receipt,
        reference: input.reference,
        notify: input.notify,
        ship_date: input.ship_date,
    }));
    let account_id = match input.shipper_account_id {
        Some(raw) => errors
            .collect(accounts::AccountId::parse("shipper_account_id", &raw))
            .map(|id| id.to_string()),
        None => None,
    };
    let tags = match input.account_selector.and_then(|selector| selector.tags) {
        Some(tags) => errors.collect(accounts::account::parse_tags(
            "account_selector.tags",
            &tags,
        )),
        None => None,
    };
    let carrier = input.carrier;
    match request {
        Some(request) if errors.is_empty() => Ok(Parsed {
            carrier,
            account_id,
            tags,
            request,
            hash,
        }),
        _ => Err(errors.into()),
    }
}

/// The carrier-side idempotency key: one per (tenant, client key), bounded in length.
fn carrier_key(tenant: &TenantId, key: &IdempotencyKey) -> Result<IdempotencyKey, ApiError> {
    let digest = Sha256::digest(format!("{tenant}\n{key}").as_bytes());
    IdempotencyKey::parse("Idempotency-Key", &hex::encode(digest)).map_err(ApiError::from)
}

/// What the key's row says when a request claims it.
enum Claim {
    /// Nothing done yet (or a stale attempt that never reached the carrier): go ahead.
    Fresh,
    /// A previous attempt may have reached the carrier with this account: resume it.
    Resume {
        account_id: String,
        selected_by: SelectedBy,
    },
    /// Finished: answer as before.
    Replay { status: StatusCode, body: Value },
}

fn selected_by_from(raw: &str) -> SelectedBy {
    match raw {
        "explicit" => SelectedBy::Explicit,
        "selector" => SelectedBy::Selector,
        "default" => SelectedBy::Default,
        "priority" => SelectedBy::Priority,
        _ => SelectedBy::Only,
    }
}

/// Claims the key in the purchase's transaction ([`create`]), which commits it with the
/// selection and the `carrier_called` phase. A concurrent request with the same new key waits
/// on the uncommitted row for that long (no carrier call happens meanwhile), then sees it
/// locked: 409 `idempotency_key_in_use`.
async fn claim(
    tx: &mut PgConnection,
    state: &AppState,
    tenant: &TenantId,
    key: &IdempotencyKey,
    hash: &[u8; 32],
) -> Result<Claim, ApiError> {
    let lock_until =
        Utc::now() + chrono::Duration::from_std(state.label_lock()).unwrap_or_default();
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, phase, locked_until)
         VALUES ($1, $2, $3, 'started', $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(key.as_str())
    .bind(&hash[..])
    .bind(lock_until)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query(
        "SELECT request_hash, phase, locked_until, shipper_account_id, selected_by,
                response_status, response_body
         FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 FOR UPDATE",
    )
    .bind(tenant.as_str())
    .bind(key.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let stored_hash: Vec<u8> = row.try_get("request_hash")?;
    if stored_hash[..] != hash[..] {
        return Err(ApiError::IdempotencyKeyReused);
    }
    let phase: String = row.try_get("phase")?;
    if phase == "finished" {
        let status: i32 = row.try_get("response_status")?;
        let body: Value = row.try_get("response_body")?;
        return Ok(Claim::Replay {
            status: u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK),
            body,
        });
    }
    let locked_until: Option<DateTime<Utc>> = row.try_get("locked_until")?;
    if locked_until.is_some_and(|until| until > Utc::now()) {
        return Err(ApiError::IdempotencyKeyInUse);
    }
    sqlx::query("UPDATE idempotency_keys SET locked_until = $3, updated_at = now() WHERE tenant_id = $1 AND key = $2")
        .bind(tenant.as_str())
        .bind(key.as_str())
        .bind(lock_until)
        .execute(&mut *tx)
        .await?;
    let account_id: Option<String> = row.try_get("shipper_account_id")?;
    let selected_by: Option<String> = row.try_get("selected_by")?;
    Ok(match (phase.as_str(), account_id, selected_by) {
        ("carrier_called" | "outcome_unknown", Some(account_id), Some(selected_by)) => {
            Claim::Resume {
                account_id,
                selected_by: selected_by_from(&selected_by),
            }
        }
        _ => Claim::Fresh,
    })
}

/// Forgets the key: nothing reached the carrier, so a retry may start over.
async fn release(
    state: &AppState,
    tenant: &TenantId,
    key: &IdempotencyKey,
) -> Result<(), ApiError> {
    let mut tx = state.db().tenant(tenant).await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2")
        .bind(tenant.as_str())
        .bind(key.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives up before the carrier was called: a fresh key is forgotten; a resumed one (whose
/// earlier attempt may have reached the carrier) is unlocked so the client can retry at once.
async fn abandon(
    state: &AppState,
    tenant: &TenantId,
    key: &IdempotencyKey,
    resumed: bool,
) -> Result<(), ApiError> {
    if !resumed {
        return release(state, tenant, key).await;
    }
    let mut tx = state.db().tenant(tenant).await?;
    sqlx::query("UPDATE idempotency_keys SET locked_until = NULL, updated_at = now() WHERE tenant_id = $1 AND key = $2")
        .bind(tenant.as_str())
        .bind(key.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The account a purchase goes to the carrier with: its id, how it was chosen, and the
/// carrier-side idempotency key.
type CalledWith<'a> = (&'a str, SelectedBy, &'a IdempotencyKey);

/// Records `phase` in a transaction of its own (after the carrier was called).
async fn set_phase(
    state: &AppState,
    tenant: &TenantId,
    key: &IdempotencyKey,
    phase: &str,
) -> Result<(), ApiError> {
    Pending::Committed
        .set_phase(state, tenant, key, phase, None)
        .await
}

async fn update_phase(
    tx: &mut PgConnection,
    tenant: &TenantId,
    key: &IdempotencyKey,
    phase: &str,
    account: Option<CalledWith<'_>>,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE idempotency_keys SET phase = $3,
             shipper_account_id = coalesce($4, shipper_account_id),
             selected_by = coalesce($5, selected_by),
             carrier_idempotency_key = coalesce($6, carrier_idempotency_key),
             locked_until = CASE WHEN $3 = 'outcome_unknown' THEN NULL ELSE locked_until END,
             updated_at = now()
         WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant.as_str())
    .bind(key.as_str())
    .bind(phase)
    .bind(account.map(|(id, _, _)| id))
    .bind(account.map(|(_, by, _)| by.as_str()))
    .bind(account.map(|(_, _, carrier_key)| carrier_key.as_str()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Where a purchase's state is written until the carrier is called.
enum Pending {
    /// The usual path: still in the claim's transaction, which records the `carrier_called`
    /// phase and commits (synchronously) once, just before the carrier call; given up, it is
    /// rolled back, which forgets a fresh key and leaves a resumed one as it was (unlocked:
    /// its lock had run out for this request to resume it).
    Open(Transaction<'static, Postgres>),
    /// The claim and the selection were committed so an OAuth renewal could call the carrier
    /// outside any transaction; each later write is a transaction of its own.
    Committed,
}

impl Pending {
    /// Commits what the transaction holds so far; later writes go in their own transactions.
    async fn commit(self) -> Result<Self, ApiError> {
        if let Pending::Open(tx) = self {
            tx.commit().await?;
        }
        Ok(Pending::Committed)
    }

    /// Gives up before the carrier was called (see [`abandon`]).
    async fn abandon(
        self,
        state: &AppState,
        tenant: &TenantId,
        key: &IdempotencyKey,
        resumed: bool,
    ) -> Result<(), ApiError> {
        match self {
            Pending::Open(tx) => Ok(tx.rollback().await?),
            Pending::Committed => abandon(state, tenant, key, resumed).await,
        }
    }

    /// Records `phase` (and the account the carrier is called with) and commits.
    async fn set_phase(
        self,
        state: &AppState,
        tenant: &TenantId,
        key: &IdempotencyKey,
        phase: &str,
        account: Option<CalledWith<'_>>,
    ) -> Result<(), ApiError> {
        let mut tx = match self {
            Pending::Open(tx) => tx,
            Pending::Committed => state.db().tenant(tenant).await?,
        };
        update_phase(&mut tx, tenant, key, phase, account).await?;
        Ok(tx.commit().await?)
    }
}

/// What `POST /v1/return-labels` answers.
#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    /// Also what is stored for replays.
    pub body: Value,
    /// How long the carrier call took, when this request made one (`Server-Timing`).
    pub carrier_time: Option<Duration>,
    /// Whether this is the stored answer of an earlier request with the same key
    /// (`Idempotent-Replayed: true`, as Stripe sends).
    pub replayed: bool,
}

/// Creates a return label for `POST /v1/return-labels`.
pub async fn create(
    state: &AppState,
    caller: &TenantKey,
    key: &IdempotencyKey,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let parsed = parse(body)?;
    let registry = state.registry();
    let carrier = match &parsed.carrier {
        Some(id) => registry.get(id).ok_or_else(|| {
            let known: Vec<&str> = registry.ids().collect();
            ApiError::invalid(
                "carrier",
                format!("unknown carrier; use one of {}", known.join(", ")),
            )
        })?,
        None => registry
            .for_service(parsed.request.service.as_str())
            .ok_or_else(|| {
                ApiError::invalid(
                    "service",
                    "is not a service of any carrier (GET /v1/carriers lists them)",
                )
            })?,
    }
    .clone();
    if carrier.service_info(&parsed.request.service).is_none() {
        let offered: Vec<&str> = carrier
            .services()
            .iter()
            .map(|service| service.code)
            .collect();
        return Err(ApiError::invalid(
            "service",
            format!(
                "{} does not offer this service (offered: {})",
                carrier.name(),
                offered.join(", ")
            ),
        ));
    }
    let tenant = &caller.tenant;
    // One transaction from the claim to the `carrier_called` phase, committed synchronously
    // before the carrier sees the credentials (see [`Pending`]).
    let mut tx = state.db().tenant(tenant).await?;
    let resume = match claim(&mut tx, state, tenant, key, &parsed.hash).await? {
        Claim::Replay { status, body } => {
            tx.commit().await?;
            return Ok(Outcome {
                status,
                body,
                carrier_time: None,
                replayed: true,
            });
        }
        Claim::Fresh => None,
        Claim::Resume {
            account_id,
            selected_by,
        } => Some((account_id, selected_by)),
    };

    let actor = caller.actor();
    let request_id = request_id::current();
    let context = Context {
        tenant,
        actor: &actor,
        request_id: Some(&request_id),
    };
    // An error rolls the transaction back: nothing was sent, so the key is not kept.
    let usable = state
        .accounts()
        .select_for_use_within(
            &mut tx,
            context,
            Selector {
                carrier: carrier.id(),
                service: &parsed.request.service,
                account_id: resume
                    .as_ref()
                    .map(|(id, _)| id.as_str())
                    .or(parsed.account_id.as_deref()),
                tags: parsed.tags.as_ref(),
                idempotency_key: Some(key.as_str()),
            },
        )
        .await?;
    let mut pending = Pending::Open(tx);
    let usable = if crate::oauth::renewal_due(state, &usable) {
        // The renewal calls the carrier: not inside a transaction.
        pending = pending.commit().await?;
        match crate::oauth::ensure_fresh(state, context, usable).await {
            Ok(usable) => usable,
            Err(error) => {
                pending
                    .abandon(state, tenant, key, resume.is_some())
                    .await?;
                return Err(error);
            }
        }
    } else {
        usable
    };
    // The neutral request's checks that depend on the account (the ship-date window), the
    // same for every carrier. Nothing was sent: the key is not kept (Stripe's rule).
    let capabilities = carrier.capabilities(Some(&usable.details));
    // An earlier attempt may have bought the label. Resending is safe with the carrier's
    // idempotency key, or where an unused duplicate costs nothing; otherwise it is not sent
    // again, and the key keeps its unknown outcome.
    if resume.is_some()
        && !capabilities.idempotent_create
        && !capabilities.resend_after_unknown_outcome
    {
        tracing::warn!(account = %usable.account.id, carrier = carrier.id(),
            "a purchase with an unknown outcome was not sent again: the carrier takes no idempotency key");
        // Unlocked for the next retry, which is answered the same (an attempt cut off by a
        // crashed instance is as unknown as a lost reply).
        pending
            .set_phase(state, tenant, key, "outcome_unknown", None)
            .await?;
        return Err(ApiError::OutcomeNotResent {
            carrier: carrier.name().to_owned(),
        });
    }
    if let Err(errors) = parsed
        .request
        .check_for(&capabilities, Utc::now().date_naive())
    {
        pending
            .abandon(state, tenant, key, resume.is_some())
            .await?;
        return Err(errors.into());
    }
    let selected_by = resume.as_ref().map_or(usable.selected_by, |(_, by)| *by);
    let carrier_key = carrier_key(tenant, key)?;
    pending
        .set_phase(
            state,
            tenant,
            key,
            "carrier_called",
            Some((usable.account.id.as_str(), selected_by, &carrier_key)),
        )
        .await?;

    let started = std::time::Instant::now();
    let outcome = carrier
        .create_return_label(
            AccountContext {
                id: usable.account.id.as_str(),
                details: &usable.details,
                credentials: &usable.credentials,
            },
            &parsed.request,
            &carrier_key,
        )
        .await;
    let carrier_time = started.elapsed();
    state
        .metrics()
        .carrier_call(carrier.id(), outcome.as_ref().err(), carrier_time);

    let (status, body) = match outcome {
        Ok(label) => finish(state, caller, key, &usable, selected_by, &parsed, label).await?,
        Err(error) => {
            let attempt = Attempt {
                key,
                usable: &usable,
                carrier: carrier.id(),
                resumed: resume.is_some(),
            };
            fail(state, caller, attempt, error).await?
        }
    };
    Ok(Outcome {
        status,
        body,
        carrier_time: Some(carrier_time),
        replayed: false,
    })
}

async fn finish(
    state: &AppState,
    caller: &TenantKey,
    key: &IdempotencyKey,
    usable: &UsableAccount,
    selected_by: SelectedBy,
    parsed: &Parsed,
    label: ReturnLabel,
) -> Result<(StatusCode, Value), ApiError> {
    let tenant = &caller.tenant;
    let id = LabelId::generate();
    let format = label
        .label
        .as_ref()
        .map_or(parsed.request.label_format, |document| document.format);
    let body = ReturnLabelBody {
        id: id.to_string(),
        carrier: usable.account.carrier.clone(),
        shipper_account_id: usable.account.id.to_string(),
        selected_by: selected_by.as_str().to_owned(),
        service: label.service.to_string(),
        tracking_number: label.tracking_number.to_string(),
        routing_code: label.routing_code.clone(),
        postage: label.charges.postage().into(),
        fees: label.charges.fees().iter().map(FeeBody::from).collect(),
        total: label.charges.total().into(),
        zone: label.zone.clone(),
        to_address: label.to_address.as_ref().map(|address| json!(address)),
        label_format: format.as_str().to_owned(),
        label_delivery: parsed.request.label_delivery.as_str().to_owned(),
        status: "created".to_owned(),
        tracking: TrackingBody::created(),
        reference: parsed.request.reference.clone(),
        label_url: label
            .label
            .as_ref()
            .map(|_| format!("/v1/return-labels/{id}/label")),
        receipt_url: label
            .receipt
            .as_ref()
            .map(|_| format!("/v1/return-labels/{id}/receipt")),
        qr_code: label
            .qr_code
            .as_ref()
            .map(|code| QrCodeBody::of(id.as_str(), code.id.clone())),
        warnings: label
            .warnings
            .iter()
            .map(|warning| json!(warning))
            .collect(),
        created_at: Utc::now(),
    };
    let response = json!(body);
    let mut summary = Map::new();
    summary.insert(
        "account".into(),
        Value::String(usable.account.id.to_string()),
    );
    summary.insert("service".into(), Value::String(body.service.clone()));
    summary.insert(
        "tracking_number".into(),
        Value::String(body.tracking_number.clone()),
    );
    summary.insert(
        "selected_by".into(),
        Value::String(body.selected_by.clone()),
    );
    let actor = caller.actor();
    let request_id = request_id::current();
    let audited = NewEvent {
        tenant: Some(tenant),
        actor: &actor,
        action: Action::LabelCreated,
        target: Some(id.as_str()),
        request_id: Some(&request_id),
        summary,
    };
    let event_id = accounts::EventId::generate();
    let event = accounts::NewEvent {
        tenant_id: tenant,
        event_type: accounts::EventType::LabelCreated,
        subject_id: id.as_str(),
        data: response.clone(),
    };
    let job = crate::tracking::Job::for_label(state, usable);
    let query = sqlx::query(finish_statement(job.is_some()))
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(usable.account.id.as_str())
        .bind(&usable.account.carrier)
        .bind(&body.service)
        .bind(selected_by.as_str())
        .bind(&body.tracking_number)
        .bind(&body.routing_code)
        .bind(label.charges.postage().minor_units())
        .bind(&body.postage.currency)
        .bind(&body.zone)
        .bind(&body.to_address)
        .bind(&body.label_format)
        .bind(label.label.as_ref().map(|document| &document.bytes[..]))
        .bind(label.receipt.as_ref().map(|document| &document.bytes[..]))
        .bind(json!(body.warnings))
        .bind(key.as_str())
        .bind(&label.carrier_idempotency_key)
        .bind(body.created_at)
        .bind(&body.reference)
        .bind(&label.carrier_reference)
        .bind(&body.label_delivery)
        .bind(json!(body.fees))
        .bind(label.charges.total().minor_units())
        .bind(label.qr_code.as_ref().map(|code| code.id.as_str()))
        .bind(label.qr_code.as_ref().map(|code| &code.image.bytes[..]))
        .bind(&response);
    let query = accounts::event::bind(query, &event_id, &event, None);
    let query = audit::bind(query, audited);
    let query = match &job {
        Some(job) => job.bind(query, tenant, &id),
        None => query,
    };
    // Committed synchronously: the answer is a promise that the label is stored.
    let mut tx = state.db().tenant(tenant).await?;
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, response))
}

/// Everything a bought label writes, in one statement ([`accounts::statement`]): the label, the
/// key's stored answer, the `return_label.created` event and its deliveries (the outbox), the
/// `label.created` audit event and, where the carrier tracks the label, its tracking job.
fn finish_statement(tracked: bool) -> &'static str {
    /// The label's 26 columns and the key's answer.
    const LABEL_PARAMS: usize = 27;
    fn statement(tracked: bool) -> String {
        let event = LABEL_PARAMS + 1;
        let audit = event + accounts::event::INSERT_PARAMS;
        let job = audit + audit::INSERT_PARAMS;
        format!(
            "WITH label AS (
                 INSERT INTO return_labels (id, tenant_id, shipper_account_id, carrier, service,
                     selected_by, tracking_number, routing_code, postage_minor, currency, zone,
                     to_address, label_format, label_bytes, receipt_bytes, warnings,
                     idempotency_key, carrier_idempotency_key, created_at, reference,
                     carrier_reference, label_delivery, fees, total_minor, qr_code_id,
                     qr_code_bytes)
                 VALUES ({})
                 RETURNING id, tenant_id, idempotency_key),
             answered AS (
                 UPDATE idempotency_keys SET phase = 'finished', response_status = 201,
                     response_body = ${LABEL_PARAMS}, return_label_id = label.id,
                     locked_until = NULL, updated_at = now()
                 FROM label WHERE idempotency_keys.tenant_id = label.tenant_id
                     AND idempotency_keys.key = label.idempotency_key),
             {},
             audited AS ({}){}
             SELECT 1",
            accounts::statement::params(1, LABEL_PARAMS - 1),
            accounts::event::insert_items(event),
            audit::insert_sql(audit),
            if tracked {
                format!(",\n{}", crate::tracking::Job::insert_item(job))
            } else {
                String::new()
            }
        )
    }
    static TRACKED: LazyLock<String> = LazyLock::new(|| statement(true));
    static UNTRACKED: LazyLock<String> = LazyLock::new(|| statement(false));
    if tracked { &TRACKED } else { &UNTRACKED }
}

/// The purchase a carrier failure belongs to.
struct Attempt<'a> {
    key: &'a IdempotencyKey,
    usable: &'a UsableAccount,
    carrier: &'a str,
    /// Whether an earlier attempt with this key may have reached the carrier.
    resumed: bool,
}

async fn fail(
    state: &AppState,
    caller: &TenantKey,
    attempt: Attempt<'_>,
    error: CarrierError,
) -> Result<(StatusCode, Value), ApiError> {
    let Attempt {
        key,
        usable,
        carrier,
        resumed,
    } = attempt;
    let tenant = &caller.tenant;
    tracing::warn!(account = %usable.account.id, kind = error.kind().as_str(), %error, "carrier call failed");
    match &error {
        CarrierError::OutcomeUnknown { .. } => {
            set_phase(state, tenant, key, "outcome_unknown").await?;
            return Err(error::from_carrier(carrier, error));
        }
        // The carrier said it did nothing: the same key may try again.
        CarrierError::Unavailable { .. } | CarrierError::RateLimited { .. } => {
            release(state, tenant, key).await?;
            return Err(error::from_carrier(carrier, error));
        }
        // The plugin refused the request before sending anything (`CarrierError::Validation`
        // is only ever that): like a bad ZIP, nothing executed, so nothing is stored against
        // the key and the corrected request may reuse it (Stripe's rule).
        CarrierError::Validation(_) => {
            abandon(state, tenant, key, resumed).await?;
            return Err(error::from_carrier(carrier, error));
        }
        CarrierError::Rejected { .. } | CarrierError::Unauthenticated { .. } => {}
        // Anything else breaks the core's contract for a sent purchase (a `Protocol` reply
        // may hide a bought label): kept as if the outcome were unknown, so only the same
        // key can resend — never a second label by accident, whatever a plugin does.
        _ => {
            set_phase(state, tenant, key, "outcome_unknown").await?;
            return Err(error::from_carrier(carrier, error));
        }
    }
    let kind = error.kind();
    let api_error = error::from_carrier(carrier, error);
    let status = api_error.status();
    let body = api_error.body();
    let mut tx = state.db().tenant(tenant).await?;
    sqlx::query(
        "UPDATE idempotency_keys SET phase = 'finished', response_status = $3, response_body = $4,
             locked_until = NULL, updated_at = now()
         WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant.as_str())
    .bind(key.as_str())
    .bind(i32::from(status.as_u16()))
    .bind(&body)
    .execute(&mut *tx)
    .await?;
    let mut summary = Map::new();
    summary.insert(
        "account".into(),
        Value::String(usable.account.id.to_string()),
    );
    summary.insert("kind".into(), Value::String(kind.as_str().to_owned()));
    summary.insert("error".into(), body["error"]["details"].clone());
    let actor = caller.actor();
    let request_id = request_id::current();
    audit::record(
        &mut tx,
        NewEvent {
            tenant: Some(tenant),
            actor: &actor,
            action: Action::LabelFailed,
            target: Some(usable.account.id.as_str()),
            request_id: Some(&request_id),
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_hash_ignores_key_order_and_whitespace() {
        let hash = |raw: &str| {
            let value: Value = serde_json::from_str(raw).unwrap();
            audit::canonical_json(&value)
        };
        assert_eq!(
            hash(r#"{"a": 1, "b": {"c": [1, 2]}}"#),
            hash(r#"{"b":{"c":[1,2]},"a":1}"#)
        );
        assert_ne!(hash(r#"{"a": 1}"#), hash(r#"{"a": 2}"#));
    }

    #[test]
    fn type_errors_name_their_field_path() {
        let error =
            parse(br#"{"service": "acme_ground_return", "parcel": {"weight_oz": "heavy"}}"#)
                .err()
                .unwrap();
        let body = error.body();
        assert_eq!(body["error"]["details"][0]["field"], "parcel.weight_oz");
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let error = parse(br#"{"servce": "x"}"#).err().unwrap();
        let detail = &error.body()["error"]["details"][0];
        assert_eq!(detail["field"], "servce");
        let message = detail["message"].as_str().unwrap();
        assert!(message.starts_with("is not a known field (known: shipper_account_id, "));
        assert!(!message.contains("CreateReturnLabel"), "{message}");
    }

    #[test]
    fn carrier_keys_differ_by_tenant() {
        let key = IdempotencyKey::parse("k", "order-1").unwrap();
        let a = carrier_key(&TenantId::generate(), &key).unwrap();
        let b = carrier_key(&TenantId::generate(), &key).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
    }
}
