//! The document's schemas of what other crates define — the account service's accounts and
//! audit events, the carrier core's addresses, parcels and notifications — written here, where
//! the HTTP contract lives, so that neither crate knows about OpenAPI. Each mirrors the type it
//! names; the tests below hold the request schemas to the fields their types accept, and the
//! contract test (schemathesis) holds the answers to what the server sends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};

/// The pattern of a shipper account id.
pub const ACCOUNT_ID: &str = r"^sa_[A-Za-z0-9]{20}$";
/// The pattern of a return label id.
pub const LABEL_ID: &str = r"^lbl_[A-Za-z0-9]{20}$";

/// `{id}` of `/v1/shipper-accounts/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccountIdParam {
    /// The account's id (`sa_` and 20 letters or digits).
    #[param(pattern = r"^sa_[A-Za-z0-9]{20}$", example = "sa_4x8Qw2LmZ0aB7cD9eF1g")]
    pub id: String,
}

/// `{id}` of `/v1/return-labels/{id}`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LabelIdParam {
    /// The label's id (`lbl_` and 20 letters or digits).
    #[param(
        pattern = r"^lbl_[A-Za-z0-9]{20}$",
        example = "lbl_9Zk3Vb7Nq1Wx5Ty2Ur8P"
    )]
    pub id: String,
}

/// Free-form `name: value` tags (at most 20; names 1–64 letters, digits, `_`, `-`, `.`; values
/// 1–200 characters), matched by `account_selector`.
pub fn tags() -> Object {
    tags_of(Type::Object.into())
}

/// [`tags`] where `null` is accepted (and means none, or no change).
pub fn optional_tags() -> Object {
    tags_of(SchemaType::from_iter([Type::Object, Type::Null]))
}

fn tags_of(schema_type: SchemaType) -> Object {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(
            "Free-form `name: value` tags (at most 20; names 1–64 letters, digits, `_`, `-`, \
             `.`; values 1–200 characters), matched by `account_selector`.",
        ))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[A-Za-z0-9_.\-]{1,64}$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(200)),
        ))
        .max_properties(Some(20))
        .examples([serde_json::json!({"location": "east"})])
        .build()
}

/// An exact decimal: a JSON number, or a string of digits (`"10.5"`) where exactness matters;
/// over zero.
pub fn positive_decimal() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Number, Type::String]))
        .exclusive_minimum(Some(0))
        .pattern(Some(r"^[0-9]*\.?[0-9]+$"))
        .description(Some("A number, or a string of digits for an exact decimal"))
        .build()
}

/// [`positive_decimal`], or `null` for none.
pub fn optional_positive_decimal() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Number,
            Type::String,
            Type::Null,
        ]))
        .exclusive_minimum(Some(0))
        .pattern(Some(r"^[0-9]*\.?[0-9]+$"))
        .description(Some("A number, or a string of digits for an exact decimal"))
        .build()
}

/// Where an account stands.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    PendingDetails,
    /// Registered with the carrier, waiting for the merchant to prove it (`verification`).
    PendingVerification,
    ReauthorizationRequired,
    Disabled,
}

/// A label document's format.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LabelFormat {
    Pdf,
    Png,
    Gif,
    Tif,
    Zpl,
}

/// Where a label stands.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelStatus {
    Created,
    InTransit,
    Delivered,
    ReturnedToSender,
    Exception,
    Voided,
}

/// How the label reaches the customer: `download` (to print), `email` (the carrier emails it)
/// or `qr_code` (printerless: a code shown at the carrier's counter, the label's `qr_code`).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelDelivery {
    Download,
    Email,
    QrCode,
}

/// Whether and where a mailing receipt is printed.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    None,
    SamePage,
    SeparatePage,
}

/// How a label's account was chosen.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectedBy {
    Explicit,
    Selector,
    Default,
    Priority,
    Only,
}

/// The credentials as shown on read: the mode, public fields the carrier keeps (e.g.
/// `client_id`), a fingerprint of the secrets — never a secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsSummary {
    /// One of the carrier's modes (its `account_schema` at `GET /v1/carriers`), e.g.
    /// `own_app` or `platform_app` (connected by the carrier's sign-in).
    pub mode: String,
    /// A keyed fingerprint of the secrets: equal fingerprints, same secrets.
    #[schema(pattern = r"^sha256:")]
    pub fingerprint: String,
    pub updated_at: DateTime<Utc>,
    /// Public fields (e.g. `client_id`, token expiry times).
    #[serde(flatten)]
    pub public: BTreeMap<String, String>,
}

/// Write-only credentials, as the carrier's `account_schema` (`GET /v1/carriers`) describes
/// them: e.g. `{"mode": "own_app", "client_id", "client_secret"}`; `platform_app` accounts are
/// connected by the carrier's sign-in instead. Every value is a string.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CredentialsInput)]
pub struct Credentials {
    /// How the account authenticates with the carrier.
    #[schema(example = "own_app")]
    pub mode: Option<String>,
    /// The secrets and public fields of the mode.
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

/// A shipper account as the API shows it (secrets masked or absent).
#[derive(Debug, ToSchema)]
#[schema(as = ShipperAccount)]
pub struct Account {
    #[schema(pattern = r"^sa_[A-Za-z0-9]{20}$")]
    pub id: String,
    /// The carrier's id (`GET /v1/carriers`).
    pub carrier: String,
    pub name: String,
    pub status: AccountStatus,
    /// The tenant's default account for its carrier.
    pub is_default: bool,
    /// Lower is chosen first.
    pub priority: i32,
    #[schema(schema_with = tags)]
    pub tags: Value,
    /// Carrier-specific details as the carrier's `account_schema` describes them
    /// (`GET /v1/carriers`), secrets masked.
    #[schema(value_type = Object)]
    pub details: Value,
    pub credentials: CredentialsSummary,
    /// What the carrier offered at sign-in (accounts connected by the carrier's sign-in): the
    /// choices by detail name (`{"dock": ["D1", "D2"]}`, secrets masked), and
    /// `prefill_unavailable`, a sentence, when the carrier shared nothing (its details call
    /// failed or named nothing: the merchant types the details).
    #[schema(value_type = Option<Object>)]
    pub onboarding: Option<Value>,
    /// The step a `pending_verification` account waits on (accounts registered with their
    /// carrier); absent otherwise.
    pub verification: Option<VerificationStep>,
    /// When the account's credentials were last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the carrier asks the merchant for, to prove a registered account is theirs.
#[derive(Debug, ToSchema)]
pub struct VerificationStep {
    /// The step's name, the carrier plugin's (`choose_method`, `enter_pin`).
    #[schema(example = "enter_pin")]
    pub step: String,
    /// What to do, in a sentence for the merchant.
    #[schema(example = "We sent a 6-digit PIN by text message to ***-***-4222. Enter it below.")]
    pub message: String,
    /// The JSON Schema (2020-12) of the answer `POST /v1/shipper-accounts/{id}/verification`
    /// takes, a `title` and `description` on every field.
    #[schema(value_type = Object)]
    pub form: Value,
    /// When the carrier forgets this verification: after it, only
    /// `POST /v1/shipper-accounts/{id}/verification/restart` helps. `null` when the carrier
    /// does not say.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many more wrong answers (codes, invoices) the verification takes (of 5).
    #[schema(minimum = 0, maximum = 5)]
    pub attempts_remaining: u32,
}

/// A page of shipper accounts, oldest first.
#[derive(Debug, ToSchema)]
pub struct AccountPage {
    pub data: Vec<Account>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `starting_after` for the next page (when `has_more`).
    #[schema(pattern = r"^sa_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
}

/// A page of return labels, newest first.
#[derive(Debug, ToSchema)]
pub struct LabelPage {
    pub data: Vec<crate::label::ReturnLabelBody>,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `starting_after` for the next page (when `has_more`).
    #[schema(pattern = r"^lbl_[A-Za-z0-9]{20}$")]
    pub next_cursor: Option<String>,
}

/// Every tenant's shipper accounts.
#[derive(Debug, ToSchema)]
pub struct AdminAccountList {
    pub data: Vec<AdminAccount>,
}

/// A shipper account of any tenant (the admin view): its `tenant_id` beside its fields.
#[derive(Debug, ToSchema)]
#[schema(as = AdminShipperAccount)]
pub struct AdminAccount {
    #[schema(pattern = r"^ten_[A-Za-z0-9]{20}$")]
    pub tenant_id: String,
    #[serde(flatten)]
    pub account: Account,
}

/// One audit event: who did what to which target, hash-chained to its tenant's previous event.
#[derive(Debug, ToSchema)]
pub struct AuditEvent {
    #[schema(minimum = 1)]
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The tenant, for tenant events (none for platform events such as `keys.rotated`).
    pub tenant_id: Option<String>,
    /// `api_key:key_…`, `system`, …
    pub actor: String,
    /// e.g. `account.created`, `account.credentials_used`, `label.created`.
    pub action: String,
    /// The account or label acted on.
    pub target: Option<String>,
    pub request_id: Option<String>,
    /// What changed (never a secret).
    #[schema(value_type = Object)]
    pub summary: Value,
    /// Hex SHA-256 of this event in its chain; null for the moment (well under a minute)
    /// before the audit sequencer chains it.
    #[schema(pattern = r"^[0-9a-f]{64}$")]
    pub hash: Option<String>,
    /// When the sequencer chained it; null until then.
    pub chained_at: Option<DateTime<Utc>>,
}

/// A page of audit events, newest first.
#[derive(Debug, ToSchema)]
pub struct EventPage {
    pub data: Vec<AuditEvent>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// A postal address. Either `first_name` and `last_name`, or `firm`, are required; empty
/// strings count as absent. `country` is `US` when left out; a US address needs `state` and a
/// ZIP Code, as `postal_code` (`63118` or `63118-2520`) or as `zip5` (+ `zip4`).
#[derive(Debug, ToSchema)]
#[schema(as = AddressInput)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    #[schema(min_length = 1)]
    pub street1: String,
    pub street2: Option<String>,
    #[schema(min_length = 1)]
    pub city: String,
    /// The state or province code: for the US the two-letter state or territory code.
    #[schema(pattern = r"^[A-Za-z0-9]{1,3}$", example = "MO")]
    pub state: Option<String>,
    /// The postal code (US: `63118` or `63118-2520`).
    #[schema(example = "63118")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 (default `US`).
    #[schema(pattern = r"^[A-Za-z]{2}$", example = "US")]
    pub country: Option<String>,
    /// US only: the ZIP Code (or send `postal_code`).
    #[schema(pattern = r"^[0-9]{5}$", example = "63118")]
    pub zip5: Option<String>,
    #[schema(pattern = r"^[0-9]{4}$")]
    pub zip4: Option<String>,
    /// Puerto Rico addresses only.
    pub urbanization: Option<String>,
    /// 6 to 15 digits (spaces, dashes, dots, parentheses and a leading `+` allowed).
    pub phone: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
}

/// The parcel: weight in ounces; length, width and height in inches (all three or none);
/// girth only with them, for non-rectangular parcels. Numbers are exact decimals.
#[derive(Debug, ToSchema)]
#[schema(as = ParcelInput)]
#[serde(deny_unknown_fields)]
pub struct Parcel {
    #[schema(schema_with = positive_decimal, required = true)]
    pub weight_oz: Value,
    #[schema(schema_with = optional_positive_decimal)]
    pub length_in: Option<Value>,
    #[schema(schema_with = optional_positive_decimal)]
    pub width_in: Option<Value>,
    #[schema(schema_with = optional_positive_decimal)]
    pub height_in: Option<Value>,
    #[schema(schema_with = optional_positive_decimal)]
    pub girth_in: Option<Value>,
    /// Whether the parcel can go through the carrier's sorting machines (default `true`).
    pub machinable: Option<bool>,
}

/// Who the carrier notifies about the label, by email.
#[derive(Debug, ToSchema)]
#[schema(as = NotifyInput)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    pub sender_name: Option<String>,
    #[schema(format = Email)]
    pub sender_email: Option<String>,
    pub recipient_name: Option<String>,
    #[schema(format = Email)]
    pub recipient_email: Option<String>,
}

/// The address a label is sent to (the shipper account's return address), as printed.
#[derive(Debug, ToSchema)]
pub struct LabelAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip5: Option<String>,
    pub zip4: Option<String>,
}

/// Something the carrier changed or noted, such as a name truncated on the label.
#[derive(Debug, ToSchema)]
pub struct Warning {
    /// e.g. `truncated_on_label`.
    pub code: String,
    /// The request field it is about.
    pub field: Option<String>,
    pub message: String,
}

/// `{"status": …}` of the health and readiness checks.
#[derive(Debug, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
    /// `unreachable` when the database does not answer.
    pub database: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use utoipa::PartialSchema;
    use utoipa::openapi::schema::AdditionalProperties;

    /// The fields `T` accepts, as its own `deny_unknown_fields` refusal lists them.
    fn accepted_fields<T: serde::de::DeserializeOwned>() -> BTreeSet<String> {
        let refusal = serde_json::from_value::<T>(serde_json::json!({"no such field": 1}))
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        let known = refusal
            .split_once("expected")
            .map_or("", |(_, known)| known);
        known
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    fn documented_fields<S: PartialSchema>() -> BTreeSet<String> {
        match S::schema() {
            utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(object)) => {
                object.properties.keys().cloned().collect()
            }
            _ => BTreeSet::new(),
        }
    }

    #[test]
    fn the_address_schema_names_exactly_the_fields_an_address_accepts() {
        let accepted = accepted_fields::<carrier::AddressInput>();
        assert!(!accepted.is_empty());
        assert_eq!(documented_fields::<Address>(), accepted);
    }

    #[test]
    fn the_parcel_schema_names_exactly_the_fields_a_parcel_accepts() {
        assert_eq!(
            documented_fields::<Parcel>(),
            accepted_fields::<carrier::ParcelInput>()
        );
    }

    #[test]
    fn the_notify_schema_names_exactly_the_fields_a_notification_accepts() {
        assert_eq!(
            documented_fields::<Notify>(),
            accepted_fields::<carrier::NotifyInput>()
        );
    }

    #[test]
    fn the_address_schema_refuses_unknown_fields_as_the_server_does() {
        let object = match Address::schema() {
            utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(object)) => object,
            _ => panic!("the address schema is an object"),
        };
        assert!(matches!(
            object.additional_properties.as_deref(),
            Some(AdditionalProperties::FreeForm(false))
        ));
    }
}
