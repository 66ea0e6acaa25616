//! "Login with UPS" (OAuthAuthCode.yaml): the authorization-code flow with PKCE for
//! `platform_app` accounts.
//!
//! - The authorize URL is `{base}/security/v1/oauth/authorize` with `client_id`,
//!   `redirect_uri`, `response_type=code`, `state` and, with PKCE, `code_challenge` (S256:
//!   base64url(SHA-256(verifier)), per the spec's note) and `code_challenge_method=S256`. The
//!   spec lists no `code_challenge_method` parameter, but RFC 7636 §4.3 reads an absent method
//!   as `plain`, which a S256 challenge would fail; sending it says what the challenge is.
//! - The code exchange is `{base}/security/v1/oauth/token`; with PKCE the body carries
//!   `code_verifier` and `client_id` and no Basic header ("When utilizing the PKCE flow, the
//!   BASIC Authorization header should not be included").
//! - Refreshing is `{base}/security/v1/oauth/refresh` with Basic auth. UPS refresh tokens are
//!   single-use: every refresh returns a new one, and the old one is dead from then on, so
//!   [`OAuthOnboarding::refresh`] returns credentials carrying the new token and the server
//!   stores them under its renewal lock before anything else can refresh. A refresh whose
//!   reply is lost (a timeout after sending) may have spent the old token with the new one
//!   never read: the spec offers no way to fetch it again, so the next refresh is refused and
//!   the merchant signs in again. The error is `Unavailable` (nothing we stored changed).
//! - The token reply carries no account identity (there is no userinfo): the prefill is empty
//!   and the merchant types the account number.
//!
//! Credentials it produces (mode `platform_app`): secrets `access_token` and `refresh_token`;
//! public `access_token_expires_at` and `refresh_token_expires_at` (RFC 3339, UTC).

use async_trait::async_trait;
use carrier::{
    AccountPrefill, CarrierError, Credentials, OAuthConnection, OAuthOnboarding, PkceChallenge,
    PkceVerifier,
};
use chrono::{DateTime, Utc};
use url::Url;

use crate::account::{MODE_PLATFORM_APP, field};
use crate::builder::PlatformApp;
use crate::credential::{ACCESS_TOKEN_MARGIN, Authenticator};
use crate::error::Error;
use crate::grant::{self, AppCredentials, Grant, IssuedTokens};

/// A refresh is due this long before the refresh token expires.
const REFRESH_TOKEN_MARGIN: chrono::Duration = chrono::Duration::days(1);

/// The UPS OAuth onboarding hooks (see [`carrier::OAuthOnboarding`]).
#[derive(Debug)]
pub struct UpsOAuth {
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

/// Writes freshly issued tokens into `credentials`.
fn with_tokens(mut credentials: Credentials, tokens: IssuedTokens) -> Credentials {
    credentials = credentials
        .with_secret(field::ACCESS_TOKEN, tokens.access_token)
        .with_public(
            field::ACCESS_TOKEN_EXPIRES_AT,
            rfc3339(tokens.access_expires_at),
        );
    if let Some((refresh, expires_at)) = tokens.refresh {
        credentials = credentials.with_secret(field::REFRESH_TOKEN, refresh);
        if let Some(at) = expires_at {
            credentials = credentials.with_public(field::REFRESH_TOKEN_EXPIRES_AT, rfc3339(at));
        }
    }
    credentials
}

impl UpsOAuth {
    pub(crate) fn new(auth: Authenticator, app: PlatformApp) -> Result<Self, url::ParseError> {
        let authorize_url = match &app.authorize_url {
            Some(url) => Url::parse(url)?,
            None => Url::parse(&format!("{}{}", auth.base_url(), grant::AUTHORIZE_PATH))?,
        };
        Ok(Self {
            auth,
            app,
            authorize_url,
        })
    }

    fn app(&self) -> AppCredentials<'_> {
        AppCredentials {
            client_id: &self.app.client_id,
            client_secret: &self.app.client_secret,
        }
    }

    /// The authorize URL carrying `state` and the S256 `code_challenge`.
    fn authorize_url_with(&self, state: &str, challenge: &PkceChallenge) -> Url {
        let mut url = self.authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.app.client_id)
                .append_pair("redirect_uri", &self.app.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("state", state)
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", PkceChallenge::METHOD);
        }
        url
    }

    /// Exchanges the callback's code with PKCE (no Basic header).
    async fn exchange(
        &self,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<OAuthConnection, CarrierError> {
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &self.app.redirect_uri,
            client_id: &self.app.client_id,
            verifier,
        };
        let tokens = grant::request(self.auth.http(), self.auth.base_url(), &grant).await?;
        if tokens.refresh.is_none() {
            tracing::warn!(
                "UPS issued no refresh token at consent; the account will need to connect again when the access token expires"
            );
        }
        Ok(OAuthConnection {
            credentials: with_tokens(Credentials::new(MODE_PLATFORM_APP), tokens),
            // The token reply says nothing about the account: the merchant types the number.
            prefill: AccountPrefill::default(),
        })
    }
}

#[async_trait]
impl OAuthOnboarding for UpsOAuth {
    fn authorize_url(&self, state: &str, challenge: &PkceChallenge) -> Result<Url, CarrierError> {
        Ok(self.authorize_url_with(state, challenge))
    }

    async fn exchange_code(
        &self,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<OAuthConnection, CarrierError> {
        self.exchange(code, verifier).await
    }

    async fn refresh(&self, credentials: &Credentials) -> Result<Credentials, CarrierError> {
        if credentials.mode() != MODE_PLATFORM_APP {
            return Err(Error::Unauthenticated(format!(
                "ups: {} credentials are not renewed by OAuth",
                credentials.mode()
            ))
            .into());
        }
        let Some(refresh_token) = credentials.secret(field::REFRESH_TOKEN) else {
            return Err(Error::Unauthenticated(
                "ups: no refresh token; connect with UPS again".to_owned(),
            )
            .into());
        };
        if parse_time(credentials.public(field::REFRESH_TOKEN_EXPIRES_AT))
            .is_some_and(|at| at <= Utc::now())
        {
            return Err(Error::Unauthenticated(
                "ups: the refresh token has expired; connect with UPS again".to_owned(),
            )
            .into());
        }
        let grant = Grant::Refresh {
            refresh_token,
            app: self.app(),
        };
        let tokens = grant::request(self.auth.http(), self.auth.base_url(), &grant).await?;
        if tokens.refresh.is_none() {
            // The old refresh token was spent by this call: keeping it would only fail later.
            tracing::warn!(
                "UPS issued no new refresh token; the account will need to connect again when the access token expires"
            );
        }
        // Keep every other field; the token fields are all replaced.
        let tokens_fields = [
            field::ACCESS_TOKEN,
            field::REFRESH_TOKEN,
            field::ACCESS_TOKEN_EXPIRES_AT,
            field::REFRESH_TOKEN_EXPIRES_AT,
        ];
        let mut renewed = Credentials::new(MODE_PLATFORM_APP);
        for (name, value) in credentials.public_fields() {
            if !tokens_fields.contains(&name.as_str()) {
                renewed = renewed.with_public(name, value.clone());
            }
        }
        for name in credentials.secret_names() {
            if !tokens_fields.contains(&name) {
                if let Some(secret) = credentials.secret(name) {
                    renewed = renewed.with_secret(name, secret.clone());
                }
            }
        }
        Ok(with_tokens(renewed, tokens))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UpsBuilder;

    fn carrier() -> crate::UpsCarrier {
        UpsBuilder::new()
            .with_base_url("https://wwwcie.ups.com")
            .with_platform_app(PlatformApp::new(
                "platform-app",
                secrecy::SecretString::from("sentinel-platform-secret"),
                "https://backhaul.example/v1/ups/oauth/callback?x=1",
            ))
            .build()
            .unwrap()
    }

    #[test]
    fn the_authorize_url_carries_every_parameter_and_the_s256_challenge() {
        let carrier = carrier();
        let verifier = PkceVerifier::generate();
        let url = carrier
            .onboarding()
            .unwrap()
            .authorize_url("st ate&=1", &verifier.challenge())
            .unwrap();
        assert!(
            url.as_str()
                .starts_with("https://wwwcie.ups.com/security/v1/oauth/authorize?")
        );
        let pairs: std::collections::BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["client_id"], "platform-app");
        assert_eq!(
            pairs["redirect_uri"],
            "https://backhaul.example/v1/ups/oauth/callback?x=1"
        );
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["state"], "st ate&=1");
        assert_eq!(pairs["code_challenge"], verifier.challenge().as_str());
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert!(!url.as_str().contains("sentinel"));
        assert!(!url.as_str().contains(verifier.expose()));
    }

    #[test]
    fn a_refresh_is_due_before_the_access_or_the_refresh_token_expires() {
        let carrier = carrier();
        let hooks = carrier.onboarding().unwrap();
        let credentials = Credentials::new(MODE_PLATFORM_APP)
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T04:00:00Z")
            .with_public(field::REFRESH_TOKEN_EXPIRES_AT, "2030-03-01T00:00:00Z");
        assert_eq!(
            hooks.refresh_due_at(&credentials),
            parse_time(Some("2030-01-01T03:55:00Z"))
        );
        let soon = Credentials::new(MODE_PLATFORM_APP)
            .with_public(field::ACCESS_TOKEN_EXPIRES_AT, "2030-01-01T04:00:00Z")
            .with_public(field::REFRESH_TOKEN_EXPIRES_AT, "2030-01-01T12:00:00Z");
        assert_eq!(
            hooks.refresh_due_at(&soon),
            parse_time(Some("2029-12-31T12:00:00Z"))
        );
        assert_eq!(
            hooks.refresh_due_at(&Credentials::new(MODE_PLATFORM_APP)),
            None
        );
        assert_eq!(hooks.refresh_due_at(&Credentials::new("own_app")), None);
    }
}
