//! API-key authentication (`Authorization: Bearer <key>`). Tenant keys reach the tenant routes
//! and see only their tenant; admin keys reach `/v1/admin/*` only.

use accounts::audit::Actor;
use accounts::{ApiKeyId, Principal, TenantId};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// A request made with a tenant key.
#[derive(Debug, Clone)]
pub struct TenantKey {
    pub tenant: TenantId,
    pub key: ApiKeyId,
}

impl TenantKey {
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key.clone())
    }
}

/// A request made with an admin key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub key: ApiKeyId,
}

impl AdminKey {
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key.clone())
    }
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let presented = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthenticated)?;
    state
        .authenticate(presented)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

impl FromRequestParts<AppState> for TenantKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Tenant { tenant, key } => Ok(TenantKey { tenant, key }),
            Principal::Admin { .. } => Err(ApiError::Forbidden),
        }
    }
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Admin { key } => Ok(AdminKey { key }),
            Principal::Tenant { .. } => Err(ApiError::Forbidden),
        }
    }
}
