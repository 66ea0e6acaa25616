//! The UPS OAuth token grants (OAuthClientCredentials.yaml, OAuthAuthCode.yaml): form bodies
//! (`application/x-www-form-urlencoded`) and the `tokenSuccessResponse` /
//! `generateTokenSuccessResponse` / `refreshTokenSuccessResponse` replies.
//!
//! | grant | path | authentication | body |
//! |---|---|---|---|
//! | client credentials | `/security/v1/oauth/token` | Basic (client id, secret) | `grant_type=client_credentials` |
//! | authorization code, PKCE | `/security/v1/oauth/token` | none ("the BASIC Authorization header should **not** be included") | `grant_type=authorization_code`, `code`, `redirect_uri`, `code_verifier`, `client_id` |
//! | refresh | `/security/v1/oauth/refresh` | Basic | `grant_type=refresh_token`, `refresh_token` |
//!
//! The replies carry numbers as strings (`"expires_in": "14399"`); both forms are read.

use carrier::PkceVerifier;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::client::HttpClient;
use crate::error::{self, Error, Operation};

pub(crate) const TOKEN_PATH: &str = "/security/v1/oauth/token";
pub(crate) const REFRESH_PATH: &str = "/security/v1/oauth/refresh";
pub(crate) const AUTHORIZE_PATH: &str = "/security/v1/oauth/authorize";

/// An app's client id and secret.
pub(crate) struct AppCredentials<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) client_secret: &'a SecretString,
}

/// One token request. Secrets are exposed only when the body is written.
pub(crate) enum Grant<'a> {
    ClientCredentials(AppCredentials<'a>),
    /// PKCE: `client_id` and `code_verifier` in the body, no Basic header.
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        client_id: &'a str,
        verifier: &'a PkceVerifier,
    },
    Refresh {
        refresh_token: &'a SecretString,
        app: AppCredentials<'a>,
    },
}

impl Grant<'_> {
    pub(crate) fn operation(&self) -> Operation {
        match self {
            Grant::ClientCredentials(_) => Operation::Token,
            Grant::AuthorizationCode { .. } => Operation::CodeExchange,
            Grant::Refresh { .. } => Operation::Refresh,
        }
    }

    pub(crate) fn path(&self) -> &'static str {
        match self {
            Grant::Refresh { .. } => REFRESH_PATH,
            _ => TOKEN_PATH,
        }
    }

    /// The app whose Basic credentials go in the `Authorization` header, if any.
    pub(crate) fn basic(&self) -> Option<&AppCredentials<'_>> {
        match self {
            Grant::ClientCredentials(app) | Grant::Refresh { app, .. } => Some(app),
            Grant::AuthorizationCode { .. } => None,
        }
    }

    /// Every secret of the grant, to scrub from what UPS answers.
    fn secrets(&self) -> Vec<&str> {
        match self {
            Grant::ClientCredentials(app) => vec![app.client_secret.expose_secret()],
            Grant::AuthorizationCode { code, verifier, .. } => vec![code, verifier.expose()],
            Grant::Refresh { refresh_token, app } => vec![
                refresh_token.expose_secret(),
                app.client_secret.expose_secret(),
            ],
        }
    }

    /// The form body, as a secret (it may hold a code, a verifier or a refresh token).
    pub(crate) fn body(&self) -> SecretString {
        let pairs: Vec<(&str, &str)> = match self {
            Grant::ClientCredentials(_) => vec![("grant_type", "client_credentials")],
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                client_id,
                verifier,
            } => vec![
                ("grant_type", "authorization_code"),
                ("code", *code),
                ("redirect_uri", *redirect_uri),
                ("code_verifier", verifier.expose()),
                ("client_id", *client_id),
            ],
            Grant::Refresh { refresh_token, .. } => vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        };
        // Pairs of strings always encode.
        SecretString::from(serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

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
        Some(Flexible::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Flexible::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

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

/// Tokens a grant issued. No `Debug`: it holds secrets.
pub(crate) struct IssuedTokens {
    pub(crate) access_token: SecretString,
    pub(crate) access_expires_at: DateTime<Utc>,
    pub(crate) refresh: Option<(SecretString, Option<DateTime<Utc>>)>,
}

fn after(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    now.checked_add_signed(chrono::Duration::seconds(seconds))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Reads a successful token reply. `expires_in` is required: the specs give no default
/// lifetime.
pub(crate) fn parse(
    operation: Operation,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<IssuedTokens, Error> {
    let reply: TokenResponse = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(operation, format!("token reply: {}", json_problem(&error)))
    })?;
    if let Some(kind) = &reply.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(Error::malformed(
                operation,
                format!("token_type {kind:?} is not Bearer"),
            ));
        }
    }
    if reply.access_token.trim().is_empty() {
        return Err(Error::malformed(operation, "empty access_token"));
    }
    let lifetime = reply
        .expires_in
        .ok_or_else(|| Error::malformed(operation, "token reply without expires_in"))?;
    Ok(IssuedTokens {
        access_token: SecretString::from(reply.access_token),
        access_expires_at: after(now, lifetime),
        refresh: reply.refresh_token.filter(|t| !t.is_empty()).map(|token| {
            (
                SecretString::from(token),
                reply.refresh_token_expires_in.map(|s| after(now, s)),
            )
        }),
    })
}

/// What kind of JSON failure it was, without quoting the input (a token reply holds secrets).
fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the documented token response",
        serde_json::error::Category::Eof => "cut short",
    }
}

/// Runs one grant against `base_url`.
pub(crate) async fn request(
    http: &HttpClient,
    base_url: &str,
    grant: &Grant<'_>,
) -> Result<IssuedTokens, Error> {
    let operation = grant.operation();
    let url = format!("{base_url}{}", grant.path());
    let body = grant.body();
    let basic = grant.basic();
    let reply = http
        .send(operation, |client| {
            let request = client
                .post(&url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.expose_secret().to_owned());
            match basic {
                Some(app) => {
                    request.basic_auth(app.client_id, Some(app.client_secret.expose_secret()))
                }
                None => request,
            }
        })
        .await?;
    if !reply.status.is_success() {
        return Err(error::from_reply(operation, &reply).scrubbed(&grant.secrets()));
    }
    parse(operation, &reply.body, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(grant: &Grant<'_>) -> Vec<(String, String)> {
        serde_urlencoded::from_str(grant.body().expose_secret()).unwrap()
    }

    #[test]
    fn client_credentials_send_only_the_grant_type_with_basic_auth() {
        let secret = SecretString::from("s");
        let grant = Grant::ClientCredentials(AppCredentials {
            client_id: "app",
            client_secret: &secret,
        });
        assert_eq!(
            form(&grant),
            [("grant_type".into(), "client_credentials".into())]
        );
        assert!(grant.basic().is_some());
        assert_eq!(grant.path(), TOKEN_PATH);
    }

    #[test]
    fn the_pkce_exchange_sends_the_verifier_and_client_id_and_no_basic_header() {
        let verifier = PkceVerifier::generate();
        let grant = Grant::AuthorizationCode {
            code: "code-1",
            redirect_uri: "https://backhaul.example/v1/ups/oauth/callback",
            client_id: "platform-app",
            verifier: &verifier,
        };
        let body = form(&grant);
        for (key, value) in [
            ("grant_type", "authorization_code"),
            ("code", "code-1"),
            (
                "redirect_uri",
                "https://backhaul.example/v1/ups/oauth/callback",
            ),
            ("code_verifier", verifier.expose()),
            ("client_id", "platform-app"),
        ] {
            assert!(body.contains(&(key.to_owned(), value.to_owned())), "{key}");
        }
        assert!(grant.basic().is_none());
        assert_eq!(grant.path(), TOKEN_PATH);
    }

    #[test]
    fn a_refresh_goes_to_the_refresh_path_with_basic_auth() {
        let secret = SecretString::from("s");
        let refresh = SecretString::from("r-1");
        let grant = Grant::Refresh {
            refresh_token: &refresh,
            app: AppCredentials {
                client_id: "app",
                client_secret: &secret,
            },
        };
        assert_eq!(
            form(&grant),
            [
                ("grant_type".into(), "refresh_token".into()),
                ("refresh_token".into(), "r-1".into())
            ]
        );
        assert!(grant.basic().is_some());
        assert_eq!(grant.path(), REFRESH_PATH);
    }

    /// A form body as the JSON object the specs' form schemas describe.
    fn as_json(grant: &Grant<'_>) -> serde_json::Value {
        serde_json::Value::Object(
            form(grant)
                .into_iter()
                .map(|(key, value)| (key, serde_json::Value::String(value)))
                .collect(),
        )
    }

    const FORM: &str = "requestBody/content/application~1x-www-form-urlencoded/schema";

    #[test]
    fn every_grant_body_matches_its_specs_form_schema_and_the_validators_bite() {
        let secret = SecretString::from("s");
        let refresh = SecretString::from("r-1");
        let verifier = PkceVerifier::generate();
        let app = || AppCredentials {
            client_id: "app",
            client_secret: &secret,
        };
        let cases = [
            (
                crate::spec::validator(
                    "OAuthClientCredentials.yaml",
                    &format!("/paths/~1security~1v1~1oauth~1token/post/{FORM}"),
                ),
                Grant::ClientCredentials(app()),
                "grant_type",
            ),
            (
                crate::spec::validator(
                    "OAuthAuthCode.yaml",
                    &format!("/paths/~1v1~1oauth~1token/post/{FORM}"),
                ),
                Grant::AuthorizationCode {
                    code: "code-1",
                    redirect_uri: "https://backhaul.example/cb",
                    client_id: "app",
                    verifier: &verifier,
                },
                "code",
            ),
            (
                crate::spec::validator(
                    "OAuthAuthCode.yaml",
                    &format!("/paths/~1v1~1oauth~1refresh/post/{FORM}"),
                ),
                Grant::Refresh {
                    refresh_token: &refresh,
                    app: app(),
                },
                "refresh_token",
            ),
        ];
        for (validator, grant, required) in cases {
            let body = as_json(&grant);
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{body}: {errors:?}");
            let mut with_secret = body.clone();
            with_secret["client_secret"] = serde_json::json!("s");
            assert!(!validator.is_valid(&with_secret), "{with_secret}");
            let mut missing = body;
            missing.as_object_mut().unwrap().remove(required);
            assert!(!validator.is_valid(&missing), "{missing}");
        }
    }

    #[test]
    fn token_replies_read_string_numbers_and_the_refresh_token() {
        let now = Utc::now();
        let body = br#"{"token_type":"Bearer","issued_at":"1700000000000","client_id":"app","access_token":"a-1","expires_in":"14399","refresh_token":"r-2","refresh_token_expires_in":"5183999","status":"approved"}"#;
        let tokens = parse(Operation::Refresh, body, now).unwrap();
        assert_eq!(tokens.access_token.expose_secret(), "a-1");
        assert_eq!(
            tokens.access_expires_at,
            now + chrono::Duration::seconds(14_399)
        );
        let (refresh, expires) = tokens.refresh.unwrap();
        assert_eq!(refresh.expose_secret(), "r-2");
        assert_eq!(expires, Some(now + chrono::Duration::seconds(5_183_999)));
    }

    #[test]
    fn a_token_reply_without_a_lifetime_or_token_is_malformed_and_quotes_nothing() {
        for body in [
            &br#"{"access_token":"sentinel-a","token_type":"Bearer"}"#[..],
            br#"{"access_token":"","expires_in":"1"}"#,
            br#"{"access_token":"sentinel-a","expires_in":"soon"}"#,
            br#"{"access_token":"sentinel-a","expires_in":"1","token_type":"MAC"}"#,
        ] {
            let error = parse(Operation::Token, body, Utc::now()).err().unwrap();
            assert!(matches!(error, Error::Malformed { .. }));
            assert!(!error.to_string().contains("sentinel"), "{error}");
        }
    }
}
