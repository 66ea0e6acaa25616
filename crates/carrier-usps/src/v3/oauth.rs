//! `POST /oauth2/v3/token` of the USPS OAuth 2.0 API 3.0.5 (oauth2.yaml): the
//! `ClientCredentials`, `AuthorizationCodeCredentials` and `RefreshTokenCredentials` request
//! bodies (sent as JSON, as USPS's own examples do) and the `ProviderAccessTokenResponse` /
//! `ProviderTokensResponse` replies.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};

use crate::client::{HttpClient, Reply};
use crate::error::{Error, Operation};

/// One token request body. Secrets are exposed only when the body is serialized.
pub(crate) enum Grant<'a> {
    ClientCredentials,
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        /// RFC 7636's `code_verifier` of the sign-in the code was issued for.
        code_verifier: &'a str,
    },
    RefreshToken {
        refresh_token: &'a SecretString,
    },
}

/// The wire body: `TokenRequest` + the grant's own schema (all `additionalProperties: false`,
/// so nothing else may be sent — not even the `state` USPS's README example adds), plus one
/// member the spec does not list: the authorization-code grant's `code_verifier` (RFC 7636
/// section 4.5). USPS's schema is silent on PKCE; we send it because a code bound to its
/// sign-in is the only defence against a code replayed into another sign-in, and a server that
/// supports PKCE requires it whenever the authorize request carried a challenge.
#[derive(Serialize)]
struct TokenRequest<'a> {
    grant_type: &'static str,
    client_id: &'a str,
    client_secret: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_verifier: Option<&'a str>,
}

/// The JSON body of a token request.
pub(crate) fn token_request_body(
    client_id: &str,
    client_secret: &SecretString,
    grant: &Grant<'_>,
) -> Vec<u8> {
    let (grant_type, code, redirect_uri, refresh_token, code_verifier) = match grant {
        Grant::ClientCredentials => ("client_credentials", None, None, None, None),
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => (
            "authorization_code",
            Some(*code),
            Some(*redirect_uri),
            None,
            Some(*code_verifier),
        ),
        Grant::RefreshToken { refresh_token } => (
            "refresh_token",
            None,
            None,
            Some(refresh_token.expose_secret()),
            None,
        ),
    };
    let body = TokenRequest {
        grant_type,
        client_id,
        client_secret: client_secret.expose_secret(),
        code,
        redirect_uri,
        refresh_token,
        code_verifier,
    };
    // A struct of strings always serializes.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// An integer the USPS examples sometimes send as a string (`"expires_in": "11111"`).
fn flexible_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Number(u64),
        Text(String),
    }
    match Option::<Flexible>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Flexible::Number(n)) => Ok(Some(n)),
        Some(Flexible::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// `ProviderAccessTokenResponse` / `ProviderTokensResponse`: the fields we use.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: Option<String>,
    #[serde(default, deserialize_with = "flexible_seconds")]
    expires_in: Option<u64>,
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "flexible_seconds")]
    refresh_token_expires_in: Option<u64>,
}

/// Tokens issued by a grant. No `Debug`: it holds secrets.
pub(crate) struct IssuedTokens {
    pub(crate) access_token: SecretString,
    pub(crate) access_expires_at: DateTime<Utc>,
    pub(crate) refresh: Option<(SecretString, Option<DateTime<Utc>>)>,
}

/// USPS access tokens live eight hours; used when a reply omits `expires_in`.
const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

fn after(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    now.checked_add_signed(chrono::Duration::seconds(seconds))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Parses a successful token reply.
pub(crate) fn parse_token_reply(reply: &Reply, now: DateTime<Utc>) -> Result<IssuedTokens, Error> {
    let body: TokenResponse = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            Operation::Token,
            format!("token reply: {}", super::describe_json_error(&error)),
        )
    })?;
    if let Some(kind) = &body.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(Error::malformed(
                Operation::Token,
                format!("token_type {kind:?} is not Bearer"),
            ));
        }
    }
    if body.access_token.trim().is_empty() {
        return Err(Error::malformed(Operation::Token, "empty access_token"));
    }
    let lifetime = body.expires_in.unwrap_or(DEFAULT_ACCESS_LIFETIME.as_secs());
    Ok(IssuedTokens {
        access_token: SecretString::from(body.access_token),
        access_expires_at: after(now, lifetime),
        refresh: body.refresh_token.filter(|t| !t.is_empty()).map(|token| {
            (
                SecretString::from(token),
                body.refresh_token_expires_in.map(|s| after(now, s)),
            )
        }),
    })
}

/// Runs one token grant against `{base_url}/oauth2/v3/token`.
pub(crate) async fn request_token(
    http: &HttpClient,
    base_url: &str,
    client_id: &str,
    client_secret: &SecretString,
    grant: Grant<'_>,
) -> Result<IssuedTokens, Error> {
    let body = token_request_body(client_id, client_secret, &grant);
    let url = format!("{base_url}{}", super::TOKEN_PATH);
    let reply = http
        .send(Operation::Token, |client| {
            client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone())
        })
        .await?;
    if !reply.status.is_success() {
        return Err(super::error::from_reply(Operation::Token, &reply));
    }
    parse_token_reply(&reply, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn ok(body: &str) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn client_credentials_body_has_exactly_the_schema_fields() {
        let body = token_request_body("app", &SecretString::from("s"), &Grant::ClientCredentials);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"grant_type": "client_credentials", "client_id": "app", "client_secret": "s"})
        );
    }

    #[test]
    fn expires_in_may_be_a_number_or_a_string() {
        let now = Utc::now();
        let numeric = parse_token_reply(
            &ok(r#"{"access_token": "t", "token_type": "Bearer", "expires_in": 28800}"#),
            now,
        )
        .unwrap();
        let text = parse_token_reply(
            &ok(r#"{"access_token": "t", "token_type": "Bearer", "expires_in": "28800"}"#),
            now,
        )
        .unwrap();
        assert_eq!(numeric.access_expires_at, text.access_expires_at);
        assert_eq!(numeric.access_expires_at, now + chrono::Duration::hours(8));
    }

    #[test]
    fn refresh_tokens_and_their_expiry_are_read() {
        let now = Utc::now();
        let tokens = parse_token_reply(
            &ok(
                r#"{"access_token": "a", "token_type": "Bearer", "expires_in": 28800,
                     "refresh_token": "r", "refresh_token_expires_in": 604800}"#,
            ),
            now,
        )
        .unwrap();
        let (refresh, expires) = tokens.refresh.unwrap();
        assert_eq!(refresh.expose_secret(), "r");
        assert_eq!(expires, Some(now + chrono::Duration::days(7)));
    }

    #[test]
    fn a_token_reply_without_an_access_token_is_malformed_and_says_no_secret() {
        let error =
            match parse_token_reply(&ok(r#"{"refresh_token": "sentinel-refresh"}"#), Utc::now()) {
                Err(error) => error,
                Ok(_) => panic!("must fail"),
            };
        let carrier: carrier::CarrierError = error.into();
        assert_eq!(carrier.kind(), carrier::ErrorKind::Protocol);
        assert!(!carrier.to_string().contains("sentinel-refresh"));
    }
}
