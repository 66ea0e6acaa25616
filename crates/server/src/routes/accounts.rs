//! `/v1/shipper-accounts`: create, list, read, update (secrets write-only; rotation = a new
//! secret), and disable. Another tenant's account is a 404, never a 403.

use accounts::{AccountChanges, Context, NewAccount, ShipperAccount};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bytes::Bytes;
use carrier::CredentialsInput;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::TenantKey;
use crate::error::{ApiError, ErrorEnvelope};
use crate::label::parse_body;
use crate::request_id;
use crate::state::AppState;

/// `POST /v1/shipper-accounts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// Defaults to `usps`.
    pub carrier: Option<String>,
    pub name: String,
    /// Carrier-specific details (USPS: api, crid, mid, manifest_mid, returns_mid, account_type,
    /// eps_account_number or permit_number + permit_zip, return_address).
    #[schema(value_type = Object)]
    pub details: Value,
    /// Write-only. USPS: `{"mode": "own_app", "client_id", "client_secret"}` or
    /// `{"mode": "webtools", "user_id", "password"}`.
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<CredentialsInput>,
    /// When absent, the account becomes the default if the tenant has no default account of
    /// this carrier yet (a tenant's first account is its default).
    pub is_default: Option<bool>,
    #[serde(default)]
    pub priority: i32,
    #[schema(value_type = Option<Object>)]
    pub tags: Option<Value>,
}

/// `PATCH /v1/shipper-accounts/{id}`: every field optional; `details` is merged.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<CredentialsInput>,
    pub is_default: Option<bool>,
    pub priority: Option<i32>,
    #[schema(value_type = Option<Object>)]
    pub tags: Option<Value>,
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page.
    pub next_cursor: Option<String>,
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// 1–100, default 20.
    pub limit: Option<i64>,
    /// The last id of the previous page.
    pub starting_after: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(20).clamp(1, 100)
    }
}

/// Secrets may sit in a mistyped field: never echo a value from the credentials.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_body::<T>(bytes)
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

#[utoipa::path(post, path = "/v1/shipper-accounts", tag = "shipper accounts",
    request_body = CreateAccount,
    responses((status = 201, description = "Created", body = Object),
              (status = 422, description = "Invalid", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: TenantKey,
    bytes: Bytes,
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
                carrier: input.carrier.unwrap_or_else(|| "usps".to_owned()),
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

#[utoipa::path(get, path = "/v1/shipper-accounts", tag = "shipper accounts", params(PageQuery),
    responses((status = 200, description = "A page of accounts", body = Object)),
    security(("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: TenantKey,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ShipperAccount>>, ApiError> {
    let limit = page.limit();
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

#[utoipa::path(get, path = "/v1/shipper-accounts/{id}", tag = "shipper accounts",
    responses((status = 200, description = "The account", body = Object),
              (status = 404, description = "No such account for this tenant", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ShipperAccount>, ApiError> {
    Ok(Json(state.accounts().get(&caller.tenant, &id).await?))
}

#[utoipa::path(patch, path = "/v1/shipper-accounts/{id}", tag = "shipper accounts",
    request_body = UpdateAccount,
    responses((status = 200, description = "Updated", body = Object),
              (status = 404, description = "No such account", body = ErrorEnvelope),
              (status = 422, description = "Invalid", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<ShipperAccount>, ApiError> {
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
            &id,
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

#[utoipa::path(delete, path = "/v1/shipper-accounts/{id}", tag = "shipper accounts",
    responses((status = 200, description = "Disabled (history and audit stay)", body = Object),
              (status = 404, description = "No such account", body = ErrorEnvelope)),
    security(("api_key" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    caller: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<ShipperAccount>, ApiError> {
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
            &id,
        )
        .await?;
    Ok(Json(account))
}
