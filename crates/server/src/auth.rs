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

/// A request made with any valid key, tenant or admin (platform-wide reads such as
/// `GET /v1/carriers`).
#[derive(Debug, Clone)]
pub struct AnyKey;

impl FromRequestParts<AppState> for AnyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        principal(parts, state).await.map(|_| AnyKey)
    }
}

/// The credentials of `Authorization: Bearer <key>`; the scheme is case-insensitive
/// (RFC 9110 §11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
        .filter(|credentials| !credentials.is_empty())
}

/// The key's principal, once its request fits the key's rate limit.
async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let presented = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer)
        .ok_or(ApiError::Unauthenticated)?;
    let principal = state
        .authenticate(presented)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let key = match &principal {
        Principal::Tenant { key, .. } | Principal::Admin { key } => key,
    };
    state
        .rate_limiter()
        .check(key.as_str())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    Ok(principal)
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

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for header in ["Bearer bh_1", "bearer bh_1", "BEARER  bh_1 ", "BeArEr bh_1"] {
            assert_eq!(bearer(header), Some("bh_1"), "{header}");
        }
        for header in ["Basic bh_1", "Bearer", "Bearer ", "Bearerbh_1", "bh_1"] {
            assert_eq!(bearer(header), None, "{header}");
        }
    }
}
