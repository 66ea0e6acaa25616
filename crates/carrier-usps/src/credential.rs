//! OAuth access tokens and payment authorization tokens, cached in the shared [`TokenCache`].
//!
//! USPS rations calls (about 60 an hour for many APIs) and both tokens live eight hours, so each
//! is fetched once and shared until shortly before it expires; a burst of label requests with a
//! cold cache makes one token call and one payment-authorization call (the cache's single
//! flight).
//!
//! - `own_app` accounts: a `client_credentials` grant at `{base}/oauth2/v3/token`, cached
//!   under `usps:oauth:` + SHA-256 of (base URL, client id, client secret) — the key proves
//!   which secret it was made with without containing it.
//! - `platform_app` accounts: the account's own access token from its credentials (from the
//!   OAuth consent). One expiring within five minutes is `Unauthenticated`: the server renews it
//!   through [`carrier::OAuthOnboarding::refresh`] and stores the new credentials.
//! - Payment authorization tokens (`POST {base}/payments/v3/payment-authorization`): cached
//!   under `usps:payment:` + SHA-256 of (account id, CRID, MIDs, payer account, OAuth app key)
//!   for eight hours less a margin. No secret is in any key.

use std::sync::Arc;
use std::time::Duration;

use carrier::{CachedToken, CarrierError, TokenCache, TokenFetch, TokenKey};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::account::{Auth, Payer, UspsAccount};
use crate::client::HttpClient;
use crate::error::{Error, Operation};
use crate::v3;

/// An access token is renewed this long before it expires.
pub(crate) const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);
/// A payment authorization token lives eight hours (payments.yaml).
const PAYMENT_TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(8);
/// … and is renewed this long before that.
const PAYMENT_TOKEN_MARGIN: Duration = Duration::from_secs(15 * 60);

/// SHA-256 over length-prefixed parts, hex encoded.
pub(crate) fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    format!("{:x}", hasher.finalize())
}

/// Which app a token belongs to, as a hash (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppKey(String);

impl AppKey {
    pub(crate) fn own_app(base_url: &str, client_id: &str, client_secret: &SecretString) -> Self {
        Self(digest(&[
            base_url.as_bytes(),
            client_id.as_bytes(),
            client_secret.expose_secret().as_bytes(),
        ]))
    }

    /// Tokens of `platform_app` accounts are issued to the platform's app; payment tokens are
    /// usable only with access tokens of the app they were issued to.
    pub(crate) fn platform_app(base_url: &str, platform_client_id: Option<&str>) -> Self {
        Self(digest(&[
            b"platform_app",
            base_url.as_bytes(),
            platform_client_id.unwrap_or("").as_bytes(),
        ]))
    }
}

/// An access token for one call, with what is needed to invalidate it.
pub(crate) struct Access {
    pub(crate) token: SecretString,
    /// The cache key, for `own_app` tokens (platform tokens are not cached here).
    cache_key: Option<TokenKey>,
    pub(crate) app: AppKey,
}

/// Gets and caches tokens.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    http: HttpClient,
    cache: Arc<dyn TokenCache>,
    base_url: String,
    platform_client_id: Option<String>,
}

impl Authenticator {
    pub(crate) fn new(
        http: HttpClient,
        cache: Arc<dyn TokenCache>,
        base_url: String,
        platform_client_id: Option<String>,
    ) -> Self {
        Self {
            http,
            cache,
            base_url,
            platform_client_id,
        }
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The cache key of an `own_app` OAuth token.
    pub(crate) fn oauth_key(&self, app: &AppKey) -> TokenKey {
        TokenKey::new(format!("usps:oauth:{}", app.0))
    }

    /// The cache key of an account's payment authorization token.
    pub(crate) fn payment_key(&self, account: &UspsAccount, app: &AppKey) -> TokenKey {
        let payer: Vec<u8> = match &account.payer {
            Payer::Eps { account_number } => [
                b"EPS:".as_slice(),
                account_number.expose_secret().as_bytes(),
            ]
            .concat(),
            Payer::Permit { number, zip } => format!("PERMIT:{number}:{zip}").into_bytes(),
        };
        TokenKey::new(format!(
            "usps:payment:{}",
            digest(&[
                account.id.as_bytes(),
                account.crid.as_bytes(),
                account.mid.as_bytes(),
                account.manifest_mid.as_deref().unwrap_or("").as_bytes(),
                account.returns_mid.as_deref().unwrap_or("").as_bytes(),
                &payer,
                app.0.as_bytes(),
            ])
        ))
    }

    /// An access token for `account`.
    pub(crate) async fn access_token(&self, account: &UspsAccount) -> Result<Access, CarrierError> {
        match &account.auth {
            Auth::OwnApp {
                client_id,
                client_secret,
            } => {
                let app = AppKey::own_app(&self.base_url, client_id, client_secret);
                let key = self.oauth_key(&app);
                let fetch: TokenFetch<'_> = Box::pin(async move {
                    let tokens = v3::oauth::request_token(
                        &self.http,
                        &self.base_url,
                        client_id,
                        client_secret,
                        v3::oauth::Grant::ClientCredentials,
                    )
                    .await?;
                    tracing::info!(client_id = %client_id, expires_at = %tokens.access_expires_at, "obtained a USPS access token");
                    Ok(CachedToken {
                        value: tokens.access_token,
                        expires_at: tokens.access_expires_at,
                    })
                });
                let token = self
                    .cache
                    .get_or_fetch(&key, ACCESS_TOKEN_MARGIN, fetch)
                    .await?;
                Ok(Access {
                    token: token.value,
                    cache_key: Some(key),
                    app,
                })
            }
            Auth::PlatformApp {
                access_token,
                expires_at,
            } => {
                let token = CachedToken {
                    value: access_token.clone(),
                    expires_at: *expires_at,
                };
                if !token.is_fresh(ACCESS_TOKEN_MARGIN, Utc::now()) {
                    return Err(Error::Unauthenticated(format!(
                        "usps: the account's USPS authorization expires at {expires_at}; refresh it"
                    ))
                    .into());
                }
                Ok(Access {
                    token: access_token.clone(),
                    cache_key: None,
                    app: AppKey::platform_app(&self.base_url, self.platform_client_id.as_deref()),
                })
            }
        }
    }

    /// Forgets an access token USPS refused. Returns whether a new one can be fetched (only
    /// `own_app` tokens can; a platform token is renewed by the server).
    pub(crate) async fn reject_access_token(&self, access: &Access) -> bool {
        match &access.cache_key {
            Some(key) => {
                self.cache.invalidate(key, &access.token).await;
                true
            }
            None => false,
        }
    }

    /// Forgets a payment authorization token.
    pub(crate) async fn reject_payment_token(
        &self,
        account: &UspsAccount,
        access: &Access,
        token: &SecretString,
    ) {
        let key = self.payment_key(account, &access.app);
        self.cache.invalidate(&key, token).await;
    }

    /// A payment authorization token for `account`, fetched with `access`. A 401 from the
    /// payments API on an `own_app` token drops that token and tries once more with a fresh one.
    pub(crate) async fn payment_token(
        &self,
        account: &UspsAccount,
        access: &Access,
    ) -> Result<SecretString, CarrierError> {
        let key = self.payment_key(account, &access.app);
        let fetch: TokenFetch<'_> = Box::pin(async move {
            let body = v3::payment::body(account);
            let mut token = access.token.clone();
            let mut retried = false;
            loop {
                match self.authorize_payment(&token, &body).await {
                    Err(error) if error.is_unauthorized() && !retried => {
                        if !self.reject_access_token(access).await {
                            return Err(error.into());
                        }
                        retried = true;
                        token = self.access_token(account).await?.token;
                    }
                    Err(error) => return Err(error.into()),
                    Ok(payment) => {
                        tracing::info!(account = %account.id, crid = %account.crid, "obtained a USPS payment authorization");
                        return Ok(CachedToken {
                            value: payment,
                            expires_at: Utc::now() + PAYMENT_TOKEN_LIFETIME,
                        });
                    }
                }
            }
        });
        let token = self
            .cache
            .get_or_fetch(&key, PAYMENT_TOKEN_MARGIN, fetch)
            .await?;
        Ok(token.value)
    }

    async fn authorize_payment(
        &self,
        access_token: &SecretString,
        body: &[u8],
    ) -> Result<SecretString, Error> {
        let url = format!("{}{}", self.base_url, v3::PAYMENT_AUTHORIZATION_PATH);
        let reply = self
            .http
            .send(Operation::PaymentAuthorization, |client| {
                client
                    .post(&url)
                    .bearer_auth(access_token.expose_secret())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(body.to_vec())
            })
            .await?;
        if !reply.status.is_success() {
            return Err(v3::error::from_reply(
                Operation::PaymentAuthorization,
                &reply,
            ));
        }
        v3::payment::parse_reply(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v3::payment::tests::{account, eps};
    use carrier::MemoryTokenCache;

    fn authenticator() -> Authenticator {
        Authenticator::new(
            HttpClient::new(
                Duration::from_secs(1),
                Duration::from_secs(1),
                crate::RetryConfig::default(),
                carrier_http::DEFAULT_MAX_REPLY_BYTES,
            )
            .unwrap(),
            Arc::new(MemoryTokenCache::new()),
            "https://apis.usps.com".into(),
            None,
        )
    }

    #[test]
    fn oauth_keys_hash_the_secret_and_never_contain_it() {
        let auth = authenticator();
        let secret = SecretString::from("sentinel-client-secret");
        let key = auth.oauth_key(&AppKey::own_app("https://apis.usps.com", "app", &secret));
        assert!(!key.as_str().contains("sentinel"));
        assert!(key.as_str().starts_with("usps:oauth:"));
        let other = auth.oauth_key(&AppKey::own_app(
            "https://apis.usps.com",
            "app",
            &SecretString::from("another-secret"),
        ));
        assert_ne!(key, other, "a rotated secret gets its own token");
        let tem = auth.oauth_key(&AppKey::own_app(
            "https://apis-tem.usps.com",
            "app",
            &secret,
        ));
        assert_ne!(key, tem, "each environment has its own token");
    }

    #[test]
    fn payment_keys_differ_by_payer_and_mids_and_hide_the_eps_number() {
        let auth = authenticator();
        let app = AppKey::own_app("https://apis.usps.com", "app", &SecretString::from("s"));
        let base = auth.payment_key(&account(eps(), None, None), &app);
        assert!(!base.as_str().contains("1000004321"));
        let with_returns = auth.payment_key(&account(eps(), None, Some("904128938")), &app);
        let other_payer = auth.payment_key(
            &account(
                Payer::Eps {
                    account_number: SecretString::from("1000009876"),
                },
                None,
                None,
            ),
            &app,
        );
        assert_ne!(base, with_returns);
        assert_ne!(base, other_payer);
    }

    #[test]
    fn digests_are_unambiguous_about_part_boundaries() {
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }

    #[tokio::test]
    async fn an_expiring_platform_token_is_unauthenticated_without_a_call() {
        let mut account = account(eps(), None, None);
        account.auth = Auth::PlatformApp {
            access_token: SecretString::from("sentinel-platform-token"),
            expires_at: Utc::now() + chrono::Duration::minutes(4),
        };
        let error = match authenticator().access_token(&account).await {
            Err(error) => error,
            Ok(_) => panic!("must refuse"),
        };
        assert_eq!(error.kind(), carrier::ErrorKind::Unauthenticated);
        assert!(!format!("{error:?}").contains("sentinel"));
    }

    #[tokio::test]
    async fn a_fresh_platform_token_is_used_as_is() {
        let mut account = account(eps(), None, None);
        account.auth = Auth::PlatformApp {
            access_token: SecretString::from("platform-token"),
            expires_at: Utc::now() + chrono::Duration::hours(1),
        };
        let access = authenticator().access_token(&account).await.ok().unwrap();
        assert_eq!(access.token.expose_secret(), "platform-token");
    }
}
