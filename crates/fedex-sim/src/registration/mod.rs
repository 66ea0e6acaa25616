//! FedEx Account Registration (AccountRegistration-Resource.json): an integrator registers a
//! customer's FedEx account and gets a child key and secret for `csp_credentials` tokens.
//!
//! 1. [`address`]: `POST /registration/v2/address/keysgeneration` checks the account number
//!    and address; an account without MFA gets its keys at once, else the answer carries an
//!    `accountAuthToken` ([`jwt`], 30 minutes) and the MFA options.
//! 2. [`pin`]: `POST /registration/v2/customerkeys/pingeneration` sends a 6-digit PIN by SMS,
//!    call or e-mail (into the simulator's PIN outbox), and
//!    `POST /registration/v2/pin/keysgeneration` trades it for keys.
//! 3. [`invoice`]: `POST /registration/v2/invoice/keysgeneration` trades an invoice's details
//!    for keys.
//!
//! Every route needs a `client_credentials` bearer token of an integrator app (403
//! `FORBIDDEN.ERROR` for any other token) and `content-type: application/json`; the last three
//! also the `accountAuthToken` header of a session the same app opened. (The file describes
//! `sendPin`'s bearer token as "generated with child id and secret", which cannot exist before
//! registration ends; the simulator takes the integrator's token there too, as the other three
//! routes say: "Bearer token from oauth/token".) The file defines no
//! PIN lifetime other than the session's and no attempt limit: a PIN lives as long as its
//! session, a wrong PIN may be retried, and no lockout is simulated. A session stays usable
//! until it expires, also after it produced keys. Registering the same account again makes
//! another child (allowed); the file's `CHILDKEYNAME.UNIQUENESS.ERROR` concerns a child key
//! name that none of these request bodies can carry, so it never occurs.

pub mod address;
pub mod invoice;
pub mod jwt;
pub mod pin;

use axum::http::HeaderMap;
use chrono::Duration;
use serde_json::{Value, json};

use crate::config::AccountConfig;
use crate::error::{FedexError, code, transaction_id};
use crate::oauth::{customer_transaction_id, require_access};
use crate::state::{Child, IssuedChild, Session, State, random_token};

/// Checks the bearer token is an integrator app's `client_credentials` token; returns its
/// client id.
pub(crate) fn require_integrator(state: &State, headers: &HeaderMap) -> Result<String, FedexError> {
    let grant = require_access(state, headers)?;
    if grant.may_register {
        Ok(grant.client_id)
    } else {
        Err(FedexError::forbidden())
    }
}

fn unauthorized_access() -> FedexError {
    FedexError::bad_request(
        code::UNAUTHORIZED_ACCESS,
        "We are unable to process this request. Please try again later or contact FedEx Customer Service.",
    )
}

/// The session of the `accountAuthToken` header, opened by `client_id`, and its account.
pub(crate) fn require_session<'a>(
    state: &'a State,
    headers: &HeaderMap,
    client_id: &str,
) -> Result<(String, &'a AccountConfig), FedexError> {
    let token = headers
        .get("accountAuthToken")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(unauthorized_access)?;
    let claims = jwt::verify(&state.jwt_key, token, state.now()).map_err(|error| match error {
        jwt::TokenError::Expired => FedexError::bad_request(
            code::SESSION_EXPIRED,
            "Your session is expired. Please enter your user ID and password to log in again.",
        ),
        jwt::TokenError::Forged => unauthorized_access(),
    })?;
    let credentials = state.credentials();
    let session = credentials
        .sessions
        .get(&claims.session)
        .filter(|session| {
            session.client_id == client_id && session.account_number == claims.account_number
        })
        .ok_or_else(unauthorized_access)?;
    let account = state
        .config
        .account(&session.account_number)
        .ok_or_else(unauthorized_access)?;
    Ok((claims.session, account))
}

/// Opens a session for `account` by `client_id`; returns its `accountAuthToken`.
pub(crate) fn open_session(state: &State, client_id: &str, account: &AccountConfig) -> String {
    let session = uuid::Uuid::new_v4().to_string();
    let expires_at = state.now() + Duration::milliseconds(jwt::SESSION_MILLISECONDS);
    let token = jwt::sign(
        &state.jwt_key,
        &account.account_number,
        &session,
        expires_at,
    );
    let mut credentials = state.credentials();
    credentials.sessions.insert(
        session,
        Session {
            client_id: client_id.to_owned(),
            account_number: account.account_number.clone(),
            expires_at,
        },
    );
    credentials.issued.account_auth_tokens.push(token.clone());
    token
}

/// Registers a new child of `account` for `client_id` and answers its keys
/// (`IrcpResponseVO_1`: `output.child_Key`, `output.child_secret`).
pub(crate) fn issue_child(
    state: &State,
    headers: &HeaderMap,
    client_id: &str,
    account_number: &str,
) -> Value {
    let child_key = uuid::Uuid::new_v4().to_string();
    let child_secret = random_token(25);
    {
        let mut credentials = state.credentials();
        credentials.children.insert(
            child_key.clone(),
            Child {
                secret: child_secret.clone(),
                client_id: client_id.to_owned(),
                account_number: account_number.to_owned(),
            },
        );
        credentials.issued.children.push(IssuedChild {
            child_key: child_key.clone(),
            child_secret: child_secret.clone(),
        });
    }
    tracing::info!(%client_id, %account_number, "child registered");
    answer(
        headers,
        json!({"child_Key": child_key, "child_secret": child_secret}),
    )
}

/// `{transactionId, customerTransactionId?, output}`.
pub(crate) fn answer(headers: &HeaderMap, output: Value) -> Value {
    let mut body = json!({"transactionId": transaction_id(), "output": output});
    if let Some(id) = customer_transaction_id(headers) {
        body["customerTransactionId"] = json!(id);
    }
    body
}

/// Forgets expired sessions and their PINs.
pub(crate) fn sweep(state: &State) {
    let now = state.now();
    let mut credentials = state.credentials();
    let expired: Vec<String> = credentials
        .sessions
        .iter()
        .filter(|(_, session)| session.expires_at <= now)
        .map(|(id, _)| id.clone())
        .collect();
    for id in expired {
        credentials.sessions.remove(&id);
        credentials.pins.remove(&id);
    }
}
