//! `GET /oauth2/v3/userinfo` — a simulator extension, not in oauth2.yaml.
//!
//! USPS's customer onboarding lets a business user grant an application access to the
//! business's protected information (payments.yaml: "Customer Registration users may grant
//! applications access to their protected business information"); the real platform hands that
//! information to the app through the onboarding experience. The simulator exposes it as one
//! JSON resource so an app can prefill CRID, MIDs, EPS account and permit after "Login with
//! USPS".
//!
//! Requires `Authorization: Bearer <access token>` from an authorization-code grant (or a
//! refresh of one). No or a dead token: 401 ErrorMessage with `WWW-Authenticate: Bearer`; a
//! client-credentials token (which has no signed-in user): 403 `SIM_FORBIDDEN`. Response:
//!
//! ```json
//! {
//!   "username": "merchant",
//!   "client_id": "backhaul-sim",
//!   "scope": "addresses prices labels payments tracking",
//!   "business": {
//!     "name": "Backhaul Demo Returns Co.",
//!     "CRIDs": [
//!       {
//!         "CRID": "56982563",
//!         "enrolledInShipReturns": true,
//!         "MIDs": [
//!           {"MID": "904128936", "role": "label"},
//!           {"MID": "904128937", "role": "manifest"},
//!           {"MID": "904128938", "role": "returns"}
//!         ],
//!         "EPSAccounts": [
//!           {"accountNumber": "1000004321", "status": "active"},
//!           {"accountNumber": "1000009876", "status": "inactive"}
//!         ],
//!         "permits": [{"permitNumber": "12345", "permitZIP": "63116"}]
//!       }
//!     ]
//!   }
//! }
//! ```
//!
//! `role` is `label`, `manifest` or `returns`; `status` is `active` or `inactive`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::State;
use crate::v3::auth::require_access;
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};

/// `GET /oauth2/v3/userinfo`.
pub(crate) async fn userinfo(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    let grant = match require_access(&state, &headers, ApiVersion::OAuth) {
        Ok(grant) => grant,
        Err(error) => return error.into_response(),
    };
    let Some(user) = grant
        .username
        .as_deref()
        .and_then(|username| state.config.user(username))
    else {
        return ApiError::new(StatusCode::FORBIDDEN, ApiVersion::OAuth)
            .with(
                ErrorDetail::new(
                    "SIM_FORBIDDEN",
                    "userinfo requires an access token from the authorization_code grant; client_credentials tokens have no signed-in user",
                )
                .at("Header: Authorization"),
            )
            .into_response();
    };
    let crids: Vec<Value> = user
        .crids
        .iter()
        .filter_map(|crid| state.config.crid(crid))
        .map(|crid| {
            json!({
                "CRID": crid.crid,
                "enrolledInShipReturns": crid.enrolled_in_ship_returns,
                "MIDs": crid.mids.iter().map(|mid| json!({"MID": mid.mid, "role": mid.role.as_str()})).collect::<Vec<_>>(),
                "EPSAccounts": crid.eps_accounts.iter().map(|account| json!({
                    "accountNumber": account.number,
                    "status": if account.active { "active" } else { "inactive" },
                })).collect::<Vec<_>>(),
                "permits": crid.permits.iter().map(|permit| json!({
                    "permitNumber": permit.number,
                    "permitZIP": permit.zip,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({
        "username": user.username,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "business": {"name": user.business_name, "CRIDs": crids},
    }))
    .into_response()
}
