//! `GET` or `POST /oauth2-oidc/v3/userinfo` — the OIDC UserInfo endpoint, as
//! `shared/reference/usps-v3/userinfo.md` describes it (derived from USPS's SDK; not in the
//! bundled `oauth2.yaml`): the path template `/{scope}/v3/userinfo` with scope `oauth2-oidc`,
//! answering `ResourceOwnerUserClaims` about the user who signed in.
//!
//! Requires `Authorization: Bearer <access token>` from an authorization-code grant (or a
//! refresh of one). No or a dead token: 401 ErrorMessage with `WWW-Authenticate: Bearer`; a
//! client-credentials token (no signed-in user) or one without the `openid` scope (OIDC Core
//! 5.3: UserInfo answers OpenID tokens only): 403 `SIM_FORBIDDEN`. Response, for the demo
//! user `merchant`:
//!
//! ```json
//! {
//!   "sub": "merchant",
//!   "payment_accounts": {
//!     "accounts": "1000004321",
//!     "permits": [{"permitNumber": "12345", "permitZIP": "63116"}]
//!   },
//!   "mail_owners": [{"crid": "56982563", "mids": "904128936, 904128937, 904128938"}]
//! }
//! ```
//!
//! - `sub`: the user's sign-in name (the simulator's stable identifier for a user).
//! - `mail_owners`: one entry per CRID of the user's business, its MIDs (every role) as one
//!   "comma and space separated" string; released with the `usps:MIDs` scope.
//! - `payment_accounts`: every active EPS account of the business in one string and every
//!   permit; released with the `usps:payment_methods` scope. The reference says neither how
//!   `accounts` separates its numbers (the simulator writes them like `mids`) nor whether
//!   inactive accounts are listed (the simulator lists only the active ones: an inactive one
//!   cannot pay, and payment authorization refuses it with 100002).
//! - `updated_at` (optional in the reference) is left out: the simulator does not track when a
//!   user's claims changed.
//!
//! Which claim each scope releases is not in the reference; the pairing above follows the
//! scopes' names. A token without either scope gets `sub` alone.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::config::{CridConfig, UserConfig};
use crate::state::State;
use crate::v3::auth::require_access;
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};

const API: ApiVersion = ApiVersion::UserInfo;

/// Releases `mail_owners`.
const MIDS_SCOPE: &str = "usps:MIDs";
/// Releases `payment_accounts`.
const PAYMENT_SCOPE: &str = "usps:payment_methods";

/// The separator of the reference's "comma and space separated" lists.
const SEPARATOR: &str = ", ";

fn forbidden(detail: &str) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, API)
        .with(ErrorDetail::new("SIM_FORBIDDEN", detail).at("Header: Authorization"))
        .into_response()
}

/// `GET` and `POST /oauth2-oidc/v3/userinfo`.
pub(crate) async fn userinfo(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    let grant = match require_access(&state, &headers, API) {
        Ok(grant) => grant,
        Err(error) => return error.into_response(),
    };
    let Some(user) = grant
        .username
        .as_deref()
        .and_then(|username| state.config.user(username))
    else {
        return forbidden(
            "UserInfo requires an access token from the authorization_code grant; client_credentials tokens have no signed-in user",
        );
    };
    let scopes: Vec<&str> = grant.scope.split_whitespace().collect();
    if !scopes.contains(&"openid") {
        return forbidden("UserInfo requires an access token granted the openid scope");
    }
    let crids: Vec<&CridConfig> = user
        .crids
        .iter()
        .filter_map(|crid| state.config.crid(crid))
        .collect();
    Json(Value::Object(claims(user, &crids, &scopes))).into_response()
}

/// `ResourceOwnerUserClaims` of `user`, whose business holds `crids`, for a token of `scopes`.
fn claims(user: &UserConfig, crids: &[&CridConfig], scopes: &[&str]) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.username));
    if scopes.contains(&MIDS_SCOPE) {
        let owners: Vec<Value> = crids
            .iter()
            .map(|crid| {
                let mids: Vec<&str> = crid.mids.iter().map(|mid| mid.mid.as_str()).collect();
                json!({"crid": crid.crid, "mids": mids.join(SEPARATOR)})
            })
            .collect();
        claims.insert("mail_owners".into(), Value::Array(owners));
    }
    if scopes.contains(&PAYMENT_SCOPE) {
        let accounts: Vec<&str> = crids
            .iter()
            .flat_map(|crid| crid.eps_accounts.iter())
            .filter(|account| account.active)
            .map(|account| account.number.as_str())
            .collect();
        let permits: Vec<Value> = crids
            .iter()
            .flat_map(|crid| crid.permits.iter())
            .map(|permit| json!({"permitNumber": permit.number, "permitZIP": permit.zip}))
            .collect();
        claims.insert(
            "payment_accounts".into(),
            json!({"accounts": accounts.join(SEPARATOR), "permits": permits}),
        );
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn claims_of(username: &str, scopes: &[&str]) -> Value {
        let config = demo::config();
        let user = config.user(username).unwrap();
        let crids: Vec<&CridConfig> = user
            .crids
            .iter()
            .filter_map(|crid| config.crid(crid))
            .collect();
        Value::Object(claims(user, &crids, scopes))
    }

    #[test]
    fn the_demo_merchant_is_one_mail_owner_with_its_mids_in_one_string() {
        let claims = claims_of(demo::USERNAME, &["openid", MIDS_SCOPE, PAYMENT_SCOPE]);
        assert_eq!(
            claims,
            json!({
                "sub": demo::USERNAME,
                "mail_owners": [{"crid": demo::CRID,
                                 "mids": format!("{}, {}, {}", demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID)}],
                "payment_accounts": {"accounts": demo::EPS_ACCOUNT,
                                     "permits": [{"permitNumber": demo::PERMIT_NUMBER, "permitZIP": demo::PERMIT_ZIP}]},
            })
        );
    }

    #[test]
    fn each_claim_needs_its_scope() {
        assert_eq!(
            claims_of(demo::USERNAME, &["openid"]),
            json!({"sub": demo::USERNAME})
        );
        let only_mids = claims_of(demo::USERNAME, &["openid", MIDS_SCOPE]);
        assert!(only_mids.get("payment_accounts").is_none());
        assert!(only_mids.get("mail_owners").is_some());
    }

    #[test]
    fn a_business_of_two_crids_lists_both_and_every_active_account() {
        let claims = claims_of(demo::MULTI_USERNAME, &["openid", MIDS_SCOPE, PAYMENT_SCOPE]);
        assert_eq!(claims["mail_owners"].as_array().unwrap().len(), 2);
        assert_eq!(
            claims["payment_accounts"]["accounts"],
            format!("{}, {}", demo::EPS_ACCOUNT, demo::SECOND_EPS_ACCOUNT)
        );
        assert_eq!(
            claims["payment_accounts"]["permits"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
