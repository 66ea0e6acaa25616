//! `/v1/shipper-accounts`: create, list, read, update (secrets write-only; rotation = a new
//! secret), disable, and the verification of an account registered with its carrier (answer a
//! step, start again). Another tenant's account is a 404, never a 403.

use accounts::AccountId;
use accounts::{AccountChanges, Context, NewAccount, ShipperAccount};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use carrier::CredentialsInput;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::TenantKey;
use crate::error::ApiError;
use crate::extract::{JsonBody, Path, Query, parse_json};
use crate::openapi::schema;
use crate::request_id;
use crate::state::AppState;

/// The carrier a new account is for: the one named, or the only one registered.
fn carrier_of(state: &AppState, named: Option<String>) -> Result<String, ApiError> {
    if let Some(named) = named {
        return Ok(named);
    }
    let mut ids = state.registry().ids();
    match (ids.next(), ids.next()) {
        (Some(only), None) => Ok(only.to_owned()),
        _ => {
            let known: Vec<&str> = state.registry().ids().collect();
            Err(ApiError::invalid(
                "carrier",
                format!("is required: one of {}", known.join(", ")),
            ))
        }
    }
}

/// `POST /v1/shipper-accounts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// The carrier's id (`GET /v1/carriers`); required when the deployment offers more than one
    /// carrier.
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,31}$")]
    pub carrier: Option<String>,
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200, example = "East warehouse")]
    pub name: String,
    /// Carrier-specific details, as the carrier's `account_schema` describes them
    /// (`GET /v1/carriers`).
    #[schema(value_type = Object)]
    pub details: Value,
    #[schema(value_type = Option<schema::Credentials>)]
    pub credentials: Option<CredentialsInput>,
    /// When absent, the account becomes the default if the tenant has no default account of
    /// this carrier yet (a tenant's first account is its default).
    pub is_default: Option<bool>,
    /// Lower is chosen first (default 0).
    #[serde(default)]
    pub priority: i32,
    #[schema(schema_with = schema::optional_tags)]
    pub tags: Option<Value>,
}

/// `PATCH /v1/shipper-accounts/{id}`: every field optional; `details` is merged.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Merged into the stored details (carrier-specific, as on create).
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    /// New credentials (rotation): the secrets are replaced, never shown.
    #[schema(value_type = Option<schema::Credentials>)]
    pub credentials: Option<CredentialsInput>,
    pub is_default: Option<bool>,
    pub priority: Option<i32>,
    /// Replace the tags.
    #[schema(schema_with = schema::optional_tags)]
    pub tags: Option<Value>,
}

/// A page of a list (documented per list as [`schema::AccountPage`], [`schema::LabelPage`]).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page.
    pub next_cursor: Option<String>,
}

/// `?limit=&starting_after=`: cursor pagination. A page holds up to `limit` items; when
/// `has_more` is true, pass its `next_cursor` as `starting_after` for the next one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items a page holds: 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (the id of its last item).
    pub starting_after: Option<String>,
}

impl PageQuery {
    /// The page size; out of 1–100 is refused, naming `limit`.
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(20),
            Some(limit @ 1..=100) => Ok(limit),
            Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 100")),
        }
    }
}

/// A `starting_after` that is no id from a previous page.
pub fn bad_cursor() -> ApiError {
    ApiError::invalid(
        "starting_after",
        "must be the next_cursor of a previous page",
    )
}

/// Secrets may sit in a mistyped field: never echo a value from the credentials.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_json::<T>(bytes)
        .map(|(parsed, _)| parsed)
        .map_err(|error| match error {
            ApiError::Validation(errors)
                if errors
                    .errors()
                    .iter()
                    .any(|e| e.field.starts_with("credentials")) =>
            {
                let fields: Vec<String> = errors.errors().iter().map(|e| e.field.clone()).collect();
                let mut redacted = carrier::ValidationErrors::new();
                for field in fields {
                    redacted.push(field, "must be a string");
                }
                ApiError::Validation(redacted)
            }
            other => other,
        })
}

fn tags(value: Option<&Value>) -> Result<Option<accounts::Tags>, ApiError> {
    value
        .map(|value| accounts::account::parse_tags("tags", value))
        .transpose()
        .map_err(ApiError::from)
}

/// Create a shipper account.
///
/// Details and credentials are the carrier's (its `account_schema` at `GET /v1/carriers`).
/// Secrets go in `credentials` (e.g. `client_secret` for `own_app`) and are never shown again;
/// `platform_app` accounts are connected by the carrier's sign-in instead
/// (`POST /v1/shipper-accounts/{carrier}/connect`). The account is `active` when its details
/// are complete.
///
/// A carrier whose `onboarding` lists `registration` registers the account itself: in that
/// credentials mode the details are sent to the carrier first (a refusal names the field and
/// creates nothing), and the account is created `pending_verification` with the step the
/// carrier asks for in `verification` (answer it with
/// `POST /v1/shipper-accounts/{id}/verification`), or `active` when the carrier issued the
/// credentials at once.
#[utoipa::path(post, path = "/v1/shipper-accounts", operation_id = "create_shipper_account", tag = "shipper accounts",
    request_body = CreateAccount,
    responses((status = 201, description = "The account, created (`active`, or `pending_verification` for a registration the merchant must prove)", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: TenantKey,
    JsonBody(bytes): JsonBody,
) -> Result<(StatusCode, Json<ShipperAccount>), ApiError> {
    let input: CreateAccount = body(&bytes)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let account = state
        .accounts()
        .create(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            NewAccount {
                carrier: carrier_of(&state, input.carrier)?,
                name: input.name,
                details: input.details,
                credentials: input.credentials.unwrap_or_default(),
                is_default: input.is_default,
                priority: input.priority,
                tags: tags(input.tags.as_ref())?.unwrap_or_default(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// List the tenant's shipper accounts, oldest first.
#[utoipa::path(get, path = "/v1/shipper-accounts", operation_id = "list_shipper_accounts", tag = "shipper accounts", params(PageQuery),
    responses((status = 200, description = "A page of accounts, oldest first", body = schema::AccountPage)),
    security(("tenant_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ShipperAccount>>, ApiError> {
    let limit = page.limit()?;
    if let Some(cursor) = &page.starting_after {
        let id = AccountId::parse("starting_after", cursor).map_err(|_| bad_cursor())?;
        match state.accounts().get(&caller.tenant, id.as_str()).await {
            Err(accounts::AccountError::NotFound) => return Err(bad_cursor()),
            other => other?,
        };
    }
    let mut accounts = state
        .accounts()
        .list(&caller.tenant, page.starting_after.as_deref(), limit + 1)
        .await?;
    let has_more = accounts.len() as i64 > limit;
    accounts.truncate(limit as usize);
    let next_cursor = has_more
        .then(|| accounts.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Json(Page {
        data: accounts,
        has_more,
        next_cursor,
    }))
}

/// The account id of a path: a malformed one names no account (404, like another tenant's).
fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse("id", raw).map_err(|_| ApiError::NotFound)
}

/// Read a shipper account (secrets masked).
#[utoipa::path(get, path = "/v1/shipper-accounts/{id}", operation_id = "get_shipper_account", tag = "shipper accounts",
    params(schema::AccountIdParam),
    responses((status = 200, description = "The account", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ShipperAccount>, ApiError> {
    let id = account_id(&id)?;
    Ok(Json(
        state.accounts().get(&caller.tenant, id.as_str()).await?,
    ))
}

/// Update a shipper account: every field optional, `details` merged, secrets write-only
/// (rotation: send the new secret).
#[utoipa::path(patch, path = "/v1/shipper-accounts/{id}", operation_id = "update_shipper_account", tag = "shipper accounts",
    params(schema::AccountIdParam),
    request_body = UpdateAccount,
    responses((status = 200, description = "The account, updated", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<ShipperAccount>, ApiError> {
    let id = account_id(&id)?;
    let input: UpdateAccount = body(&bytes)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let account = state
        .accounts()
        .update(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            id.as_str(),
            AccountChanges {
                name: input.name,
                details: input.details,
                credentials: input.credentials,
                is_default: input.is_default,
                priority: input.priority,
                tags: tags(input.tags.as_ref())?,
            },
        )
        .await?;
    Ok(Json(account))
}

/// Disable a shipper account: it is never selected again; its history and audit stay.
#[utoipa::path(delete, path = "/v1/shipper-accounts/{id}", operation_id = "disable_shipper_account", tag = "shipper accounts",
    params(schema::AccountIdParam),
    responses((status = 200, description = "The account, disabled", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ShipperAccount>, ApiError> {
    let id = account_id(&id)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let account = state
        .accounts()
        .disable(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            id.as_str(),
        )
        .await?;
    Ok(Json(account))
}

/// Answer the verification step of an account registered with its carrier.
///
/// The body is the answer the account's `verification.form` (a JSON Schema) describes: e.g. how
/// to receive a code, then the code. The answer comes back as the account: the next step in
/// `verification`, or `active` once the carrier issued the credentials (sealed; never shown).
/// A wrong proof (a code, an invoice) is `422 verification_refused` naming the field, with
/// `verification.attempts_remaining` one less; after the last one, or when the step's
/// `expires_at` has passed, only starting again helps
/// (`POST /v1/shipper-accounts/{id}/verification/restart`).
#[utoipa::path(post, path = "/v1/shipper-accounts/{id}/verification", operation_id = "answer_shipper_account_verification", tag = "shipper accounts",
    params(schema::AccountIdParam),
    request_body(content = Object, description = "The answer, as the account's `verification.form` describes it", content_type = "application/json"),
    responses((status = 200, description = "The account: the next step, or `active`", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn answer_verification(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
    JsonBody(bytes): JsonBody,
) -> Result<Json<ShipperAccount>, ApiError> {
    let id = account_id(&id)?;
    let answer: Value = body(&bytes)?;
    if !answer.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    let actor = caller.actor();
    let request_id = request_id::current();
    let account = state
        .accounts()
        .answer_verification(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            id.as_str(),
            &answer,
        )
        .await?;
    Ok(Json(account))
}

/// Start an account's verification again.
///
/// The account's stored details are sent to its carrier again, which starts a new
/// verification (and sends a new code when asked); the attempts start again. For an expired
/// step, after too many wrong answers, or to choose another way of proving the account.
#[utoipa::path(post, path = "/v1/shipper-accounts/{id}/verification/restart", operation_id = "restart_shipper_account_verification", tag = "shipper accounts",
    params(schema::AccountIdParam),
    responses((status = 200, description = "The account, with the first step of the new verification (or `active`)", body = schema::Account)),
    security(("tenant_key" = [])))]
pub async fn restart_verification(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ShipperAccount>, ApiError> {
    let id = account_id(&id)?;
    let actor = caller.actor();
    let request_id = request_id::current();
    let account = state
        .accounts()
        .restart_verification(
            Context {
                tenant: &caller.tenant,
                actor: &actor,
                request_id: Some(&request_id),
            },
            id.as_str(),
        )
        .await?;
    Ok(Json(account))
}
