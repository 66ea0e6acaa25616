//! FedEx's token endpoint (APIAuthorization-Resource.json, `POST /oauth/token`): a form body
//! (`application/x-www-form-urlencoded`, schema `FullSchema`) with the credentials in the body
//! — FedEx takes no Basic header — and the `Response` reply.
//!
//! | grant | used for | body |
//! |---|---|---|
//! | `client_credentials` | `own_app` accounts; the platform app's registration calls ("brand new Compatible Provider customers who are yet to unboard child accounts") | `grant_type`, `client_id`, `client_secret` |
//! | `csp_credentials` | `platform_app` accounts ("Compatible Provider customers with existing child accounts") | the platform's `client_id`, `client_secret` and the account's `child_Key`, `child_secret` |
//!
//! `expires_in` is read when FedEx sends it; without it the token is taken to last the hour
//! the file calls standard ("The standard token expiration time is one hour").

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::client::HttpClient;
use crate::error::{self, Error, Operation};

pub(crate) const TOKEN_PATH: &str = "/oauth/token";

/// "The standard token expiration time is one hour."
pub(crate) const STANDARD_LIFETIME_SECONDS: u64 = 3600;

/// One token request. Secrets are exposed only when the body is written.
pub(crate) enum Grant<'a> {
    ClientCredentials {
        client_id: &'a str,
        client_secret: &'a SecretString,
    },
    CspCredentials {
        client_id: &'a str,
        client_secret: &'a SecretString,
        child_key: &'a SecretString,
        child_secret: &'a SecretString,
    },
}

impl Grant<'_> {
    /// Every secret of the grant, to scrub from what FedEx answers.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Grant::ClientCredentials { client_secret, .. } => vec![client_secret.expose_secret()],
            Grant::CspCredentials {
                client_secret,
                child_key,
                child_secret,
                ..
            } => vec![
                client_secret.expose_secret(),
                child_key.expose_secret(),
                child_secret.expose_secret(),
            ],
        }
    }

    /// The form body, as a secret.
    pub(crate) fn body(&self) -> SecretString {
        let pairs: Vec<(&str, &str)> = match self {
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose_secret()),
            ],
            Grant::CspCredentials {
                client_id,
                client_secret,
                child_key,
                child_secret,
            } => vec![
                ("grant_type", "csp_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose_secret()),
                ("child_Key", child_key.expose_secret()),
                ("child_secret", child_secret.expose_secret()),
            ],
        };
        // Pairs of strings always encode.
        SecretString::from(serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<u64>,
}

/// A token FedEx issued. No `Debug`: it holds a secret.
pub(crate) struct IssuedToken {
    pub(crate) access_token: SecretString,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Reads a successful token reply.
pub(crate) fn parse(body: &[u8], now: DateTime<Utc>) -> Result<IssuedToken, Error> {
    let reply: TokenResponse = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(
            Operation::Token,
            format!("token reply: {}", json_problem(&error)),
        )
    })?;
    if let Some(kind) = &reply.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(Error::malformed(
                Operation::Token,
                format!("token_type {kind:?} is not bearer"),
            ));
        }
    }
    if reply.access_token.trim().is_empty() {
        return Err(Error::malformed(Operation::Token, "empty access_token"));
    }
    let seconds = reply.expires_in.unwrap_or(STANDARD_LIFETIME_SECONDS);
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    Ok(IssuedToken {
        access_token: SecretString::from(reply.access_token),
        expires_at: now
            .checked_add_signed(chrono::Duration::seconds(seconds))
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    })
}

/// What kind of JSON failure it was, without quoting the input (a token reply holds secrets).
pub(crate) fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the documented shape",
        serde_json::error::Category::Eof => "cut short",
    }
}

/// Runs one grant against `base_url`.
pub(crate) async fn request(
    http: &HttpClient,
    base_url: &str,
    grant: &Grant<'_>,
) -> Result<IssuedToken, Error> {
    let url = format!("{base_url}{TOKEN_PATH}");
    let body = grant.body();
    let reply = http
        .send(Operation::Token, |client| {
            client
                .post(&url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.expose_secret().to_owned())
        })
        .await?;
    if !reply.status.is_success() {
        return Err(error::from_reply(Operation::Token, &reply).scrubbed(&grant.secrets()));
    }
    parse(&reply.body, Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(grant: &Grant<'_>) -> serde_json::Value {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(grant.body().expose_secret()).unwrap();
        serde_json::Value::Object(
            pairs
                .into_iter()
                .map(|(key, value)| (key, serde_json::Value::String(value)))
                .collect(),
        )
    }

    #[test]
    fn both_grants_match_the_files_form_schema_and_the_validator_bites() {
        let validator = crate::spec::validator(
            "APIAuthorization-Resource.json",
            "/paths/~1oauth~1token/post/requestBody/content/application~1x-www-form-urlencoded/schema",
        );
        let secret = SecretString::from("secret");
        let child_key = SecretString::from("child-key");
        let child_secret = SecretString::from("child-secret");
        let client = Grant::ClientCredentials {
            client_id: "key",
            client_secret: &secret,
        };
        let csp = Grant::CspCredentials {
            client_id: "key",
            client_secret: &secret,
            child_key: &child_key,
            child_secret: &child_secret,
        };
        for (grant, kind) in [(client, "client_credentials"), (csp, "csp_credentials")] {
            let body = form(&grant);
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{body}: {errors:?}");
            assert_eq!(body["grant_type"], kind);
            let mut misspelled = body.clone();
            misspelled["child_key"] = serde_json::json!("x");
            assert!(!validator.is_valid(&misspelled), "{misspelled}");
            let mut missing = body;
            missing.as_object_mut().unwrap().remove("client_secret");
            assert!(!validator.is_valid(&missing));
        }
    }

    #[test]
    fn the_csp_grant_sends_the_child_key_as_the_file_spells_it() {
        let secret = SecretString::from("s");
        let key = SecretString::from("k");
        let body = form(&Grant::CspCredentials {
            client_id: "id",
            client_secret: &secret,
            child_key: &key,
            child_secret: &secret,
        });
        assert_eq!(body["child_Key"], "k");
    }

    #[test]
    fn the_files_token_reply_reads_with_its_hour() {
        let now = Utc::now();
        let document = crate::spec::load("APIAuthorization-Resource.json");
        let example = crate::spec::examples_of(&document, "/components/schemas/Response");
        let token = parse(example.to_string().as_bytes(), now).unwrap();
        assert_eq!(token.expires_at, now + chrono::Duration::seconds(3600));
        let without: serde_json::Value =
            serde_json::json!({"access_token": "a", "token_type": "bearer"});
        let token = parse(without.to_string().as_bytes(), now).unwrap();
        assert_eq!(token.expires_at, now + chrono::Duration::hours(1));
    }

    #[test]
    fn a_bad_token_reply_is_malformed_and_quotes_nothing() {
        for body in [
            &br#"{"access_token":"","expires_in":3600}"#[..],
            br#"{"access_token":"sentinel-a","expires_in":"soon"}"#,
            br#"{"access_token":"sentinel-a","token_type":"MAC"}"#,
            br#"sentinel-a"#,
        ] {
            let error = parse(body, Utc::now()).err().unwrap();
            assert!(matches!(error, Error::Malformed { .. }));
            assert!(!error.to_string().contains("sentinel"), "{error}");
        }
    }
}
