//! "Login with USPS": the authorization-code flow of the USPS OAuth 2.0 API 3.0.5
//! (oauth2.yaml `/authorize`, `/token`) for `platform_app` accounts, plus the prefill from the
//! OIDC UserInfo endpoint (`GET /oauth2-oidc/v3/userinfo`, [`v3::userinfo`]), called once per
//! sign-in (the UserInfo product has the default quota of about 60 calls an hour).
//!
//! Credentials it produces (mode `platform_app`): secrets `access_token`, `refresh_token`, and
//! — when UserInfo names exactly one EPS account — `eps_account_number`, or — when it names
//! several — `eps_account_choices` (the merchant picks one by its masked number on the details
//! form); public `access_token_expires_at` and `refresh_token_expires_at` (RFC 3339, UTC).
//! Refreshing rotates both tokens (USPS revokes the old refresh token) and keeps every other
//! field.
//!
//! A UserInfo call that fails, or names nothing, never fails the sign-in: the tokens are what
//! matters (the code is single use), so the account is connected with an empty prefill whose
//! `unavailable` says why; the server logs it, counts it and shows it on the details form.

use async_trait::async_trait;
use carrier::{
    CarrierError, Credentials, OAuthConnection, OAuthOnboarding, PkceChallenge, PkceVerifier,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::account::{MODE_PLATFORM_APP, field};
use crate::builder::PlatformApp;
use crate::credential::{ACCESS_TOKEN_MARGIN, Authenticator};
use crate::error::{Error, Operation, scrub_text};
use crate::v3;

/// A refresh is due this long before the refresh token expires.
const REFRESH_TOKEN_MARGIN: chrono::Duration = chrono::Duration::days(1);

/// The USPS OAuth onboarding hooks (see [`carrier::OAuthOnboarding`]).
#[derive(Debug)]
pub struct UspsOAuth {
    auth: Authenticator,
    app: PlatformApp,
    authorize_url: Url,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(value: Option<&str>) -> Option<DateTime<Utc>> {
    value
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|at| at.with_timezone(&Utc))
}

impl UspsOAuth {
    pub(crate) fn new(auth: Authenticator, app: PlatformApp, authorize_url: Url) -> Self {
        Self {
            auth,
            app,
            authorize_url,
        }
    }

    async fn grant(&self, grant: v3::oauth::Grant<'_>) -> Result<v3::oauth::IssuedTokens, Error> {
        v3::oauth::request_token(
            self.auth.http(),
            self.auth.base_url(),
            &self.app.client_id,
            &self.app.client_secret,
            grant,
        )
        .await
    }

    /// `GET /oauth2-oidc/v3/userinfo` with the merchant's fresh access token.
    async fn userinfo(&self, access_token: &SecretString) -> Result<v3::userinfo::Prefill, Error> {
        let url = format!("{}{}", self.auth.base_url(), v3::USERINFO_PATH);
        let reply = self
            .auth
            .http()
            .send(Operation::UserInfo, |client| {
                client
                    .get(&url)
                    .bearer_auth(access_token.expose_secret())
                    .header(reqwest::header::ACCEPT, "application/json")
            })
            .await?;
        if !reply.status.is_success() {
            return Err(v3::error::from_reply(Operation::UserInfo, &reply));
        }
        v3::userinfo::parse_reply(&reply)
    }

    /// Writes freshly issued tokens into `credentials`.
    fn with_tokens(
        mut credentials: Credentials,
        tokens: v3::oauth::IssuedTokens,
        previous_refresh: Option<(&SecretString, Option<&str>)>,
    ) -> Credentials {
        credentials = credentials
            .with_secret(field::ACCESS_TOKEN, tokens.access_token)
            .with_public(
                field::ACCESS_TOKEN_EXPIRES_AT,
                rfc3339(tokens.access_expires_at),
            );
        match (tokens.refresh, previous_refresh) {
            (Some((refresh, expires_at)), _) => {
                credentials = credentials.with_secret(field::REFRESH_TOKEN, refresh);
                if let Some(at) = expires_at {
                    credentials =
                        credentials.with_public(field::REFRESH_TOKEN_EXPIRES_AT, rfc3339(at));
                }
            }
            // No new refresh token: the old one stays valid (RFC 6749 section 6).
            (None, Some((refresh, expires_at))) => {
                credentials = credentials.with_secret(field::REFRESH_TOKEN, refresh.clone());
                if let Some(at) = expires_at {
                    credentials = credentials.with_public(field::REFRESH_TOKEN_EXPIRES_AT, at);
                }
            }
            (None, None) => {}
        }
        credentials
    }
}

#[async_trait]
impl OAuthOnboarding for UspsOAuth {
    /// USPS's OAuth 2.0 API 3.0.5 (`oauth2.yaml`) lists no PKCE parameters. We send them
    /// anyway (RFC 7636: `code_challenge` with `code_challenge_method=S256` here, the
    /// `code_verifier` in the code exchange): the server derives the verifier from the
    /// sign-in's state, so a code approved for one sign-in cannot complete another wherever the
    /// authorization server honours PKCE, as RFC 7636 and OAuth 2.1 require it to.
    fn authorize_url(&self, state: &str, challenge: &PkceChallenge) -> Result<Url, CarrierError> {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.app.client_id)
            .append_pair("redirect_uri", &self.app.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.app.scopes.join(" "))
            .append_pair("state", state)
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", PkceChallenge::METHOD);
        Ok(url)
    }

    async fn exchange_code(
        &self,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<OAuthConnection, CarrierError> {
        let tokens = self
            .grant(v3::oauth::Grant::AuthorizationCode {
                code,
                redirect_uri: &self.app.redirect_uri,
                code_verifier: verifier.expose(),
            })
            .await?;
        let access_token = tokens.access_token.clone();
        let mut credentials = Self::with_tokens(Credentials::new(MODE_PLATFORM_APP), tokens, None);
        // The tokens are what matters: the code is single-use, so a failed prefill must not
        // lose them. The merchant then fills the form by hand.
        let prefill = match self.userinfo(&access_token).await {
            Ok(prefill) => prefill,
            Err(error) => {
                let message = scrub_text(
                    &error.to_string(),
                    &[(access_token.expose_secret(), "[REDACTED]".to_owned())],
                );
                tracing::warn!(error = %message, "USPS UserInfo failed; nothing to pre-fill");
                v3::userinfo::Prefill::unavailable(format!("the UserInfo call failed ({message})"))
            }
        };
        if let Some(number) = prefill.eps_account_number {
            credentials = credentials.with_secret(field::EPS_ACCOUNT_NUMBER, number);
        }
        if let Some(numbers) = prefill.eps_account_choices {
            credentials = credentials.with_secret(field::EPS_ACCOUNT_CHOICES, numbers);
        }
        let prefill = prefill.prefill;
        Ok(OAuthConnection {
            credentials,
            prefill,
        })
    }

    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, CarrierError> {
        if credentials.mode() != MODE_PLATFORM_APP {
            return Err(Error::Unauthenticated(format!(
                "usps: {} credentials are not renewed by OAuth",
                credentials.mode()
            ))
            .into());
        }
        let Some(refresh_token) = credentials.secret(field::REFRESH_TOKEN) else {
            return Err(Error::Unauthenticated(
                "usps: no refresh token; connect with USPS again".to_owned(),
            )
            .into());
        };
        let refresh_expires = credentials.public(field::REFRESH_TOKEN_EXPIRES_AT);
        if parse_time(refresh_expires).is_some_and(|at| at <= Utc::now()) {
            return Err(Error::Unauthenticated(
                "usps: the refresh token has expired; connect with USPS again".to_owned(),
            )
            .into());
        }
        let tokens = self
            .grant(v3::oauth::Grant::RefreshToken { refresh_token })
            .await?;
        // Keep everything else (the EPS number, other public fields).
        let mut renewed = Credentials::new(MODE_PLATFORM_APP);
        for (name, value) in credentials.public_fields() {
            if name != field::ACCESS_TOKEN_EXPIRES_AT && name != field::REFRESH_TOKEN_EXPIRES_AT {
                renewed = renewed.with_public(name, value.clone());
            }
        }
        for name in credentials.secret_names() {
            if name != field::ACCESS_TOKEN && name != field::REFRESH_TOKEN {
                if let Some(secret) = credentials.secret(name) {
                    renewed = renewed.with_secret(name, secret.clone());
                }
            }
        }
        Ok(Self::with_tokens(
            renewed,
            tokens,
            Some((refresh_token, refresh_expires)),
        ))
    }

    /// Decided from the public expiry fields alone, so the server can find due accounts
    /// without opening their secrets.
    fn refresh_due_at(&self, credentials: &Credentials) -> Option<DateTime<Utc>> {
        if credentials.mode() != MODE_PLATFORM_APP {
            return None;
        }
        let margin = chrono::Duration::from_std(ACCESS_TOKEN_MARGIN).unwrap_or_default();
        let access =
            parse_time(credentials.public(field::ACCESS_TOKEN_EXPIRES_AT)).map(|at| at - margin);
        let refresh = parse_time(credentials.public(field::REFRESH_TOKEN_EXPIRES_AT))
            .map(|at| at - REFRESH_TOKEN_MARGIN);
        match (access, refresh) {
            (Some(a), Some(r)) => Some(a.min(r)),
            (Some(a), None) => Some(a),
            (None, Some(r)) => Some(r),
            // Tokens without a known expiry: renew now. No tokens at all: nothing to renew.
            (None, None) => credentials.secret(field::ACCESS_TOKEN).map(|_| Utc::now()),
        }
    }

    /// The access token's expiry: a label may still use it while another request renews it.
    fn usable_until(&self, credentials: &Credentials) -> Option<DateTime<Utc>> {
        if credentials.mode() != MODE_PLATFORM_APP {
            return None;
        }
        parse_time(credentials.public(field::ACCESS_TOKEN_EXPIRES_AT))
            .or_else(|| self.refresh_due_at(credentials))
    }

    fn connected_mode(&self) -> &'static str {
        MODE_PLATFORM_APP
    }

    /// The EPS account number of the previous credentials stays when the new sign-in's
    /// UserInfo did not bring one (the merchant typed it on the details form).
    fn reconnected(&self, previous: &Credentials, signed_in: Credentials) -> Credentials {
        match (
            signed_in.secret(field::EPS_ACCOUNT_NUMBER),
            previous.secret(field::EPS_ACCOUNT_NUMBER),
        ) {
            (None, Some(number)) => {
                let number = number.clone();
                signed_in.with_secret(field::EPS_ACCOUNT_NUMBER, number)
            }
            _ => signed_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PlatformApp, UspsBuilder};

    fn onboarding() -> crate::UspsCarrier {
        UspsBuilder::new()
            .with_base_url("https://apis-tem.usps.com")
            .with_platform_app(PlatformApp::new(
                "platform-app",
                SecretString::from("sentinel-platform-secret"),
                "https://backhaul.example/v1/usps/oauth/callback?x=1",
            ))
            .build()
            .unwrap()
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_encoded() {
        let carrier = onboarding();
        let verifier = PkceVerifier::generate();
        let url = carrier
            .onboarding()
            .unwrap()
            .authorize_url("st ate&=1", &verifier.challenge())
            .unwrap();
        assert!(
            url.as_str()
                .starts_with("https://apis-tem.usps.com/oauth2/v3/authorize?")
        );
        let pairs: std::collections::BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["client_id"], "platform-app");
        assert_eq!(
            pairs["redirect_uri"],
            "https://backhaul.example/v1/usps/oauth/callback?x=1"
        );
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(
            pairs["scope"],
            "payments labels tracking subscriptions-tracking openid oauth2-oidc usps:MIDs usps:payment_methods"
        );
        assert_eq!(pairs["state"], "st ate&=1");
        assert_eq!(pairs["code_challenge"], verifier.challenge().as_str());
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert!(!url.as_str().contains(verifier.expose()));
        assert!(!url.as_str().contains("sentinel"));
    }

    #[test]
    fn a_refresh_is_due_five_minutes_before_the_access_token_expires() {
        let carrier = onboarding();
        let hooks = carrier.onboarding().unwrap();
        let credentials = Credentials::new("platform_app")
            .with_secret(field::ACCESS_TOKEN, SecretString::from("a"))
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T08:00:00Z")
            .with_public(field::REFRESH_TOKEN_EXPIRES_AT, "2030-01-07T00:00:00Z");
        assert_eq!(
            hooks.refresh_due_at(&credentials),
            parse_time(Some("2030-01-01T07:55:00Z"))
        );
    }

    #[test]
    fn a_refresh_is_due_a_day_before_the_refresh_token_expires_when_that_is_sooner() {
        let carrier = onboarding();
        let hooks = carrier.onboarding().unwrap();
        let credentials = Credentials::new("platform_app")
            .with_secret(field::ACCESS_TOKEN, SecretString::from("a"))
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T08:00:00Z")
            .with_public(field::REFRESH_TOKEN_EXPIRES_AT, "2030-01-01T12:00:00Z");
        assert_eq!(
            hooks.refresh_due_at(&credentials),
            parse_time(Some("2029-12-31T12:00:00Z"))
        );
    }

    #[test]
    fn the_public_expiry_fields_alone_decide_when_a_refresh_is_due() {
        let carrier = onboarding();
        let public_only = Credentials::new("platform_app")
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T08:00:00Z")
            .with_public(field::REFRESH_TOKEN_EXPIRES_AT, "2030-01-07T00:00:00Z");
        assert_eq!(
            carrier.onboarding().unwrap().refresh_due_at(&public_only),
            parse_time(Some("2030-01-01T07:55:00Z"))
        );
        let never_connected = Credentials::new("platform_app");
        assert_eq!(
            carrier
                .onboarding()
                .unwrap()
                .refresh_due_at(&never_connected),
            None
        );
    }

    #[test]
    fn own_app_credentials_never_need_a_refresh() {
        let carrier = onboarding();
        let credentials = Credentials::new("own_app").with_public("client_id", "x");
        assert_eq!(
            carrier.onboarding().unwrap().refresh_due_at(&credentials),
            None
        );
    }
}
