//! OAuth access tokens for Ship and Void calls, cached in the shared [`TokenCache`].
//!
//! - `own_app` accounts: a `client_credentials` grant (OAuthClientCredentials.yaml), cached
//!   under `ups:oauth:` + SHA-256 of (base URL, client id, client secret) — the key proves which
//!   secret it was made with without containing it. A burst of labels with a cold cache makes
//!   one token call (the cache's single flight).
//! - `platform_app` accounts: the account's own access token from "Login with UPS". One
//!   expiring within five minutes is `Unauthenticated`: the server renews it through
//!   [`carrier::OAuthOnboarding::refresh`] under its renewal lock and stores the new
//!   credentials (UPS refresh tokens are single-use, so two renewals must never race).

use std::sync::Arc;
use std::time::Duration;

use carrier::{CachedToken, CarrierError, TokenCache, TokenFetch, TokenKey};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::account::{Auth, UpsAccount};
use crate::client::HttpClient;
use crate::error::Error;
use crate::grant::{self, AppCredentials, Grant};

/// An access token is renewed this long before it expires.
pub(crate) const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);

/// SHA-256 over length-prefixed parts, hex encoded.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    format!("{:x}", hasher.finalize())
}

/// An access token for one call, with what is needed to invalidate it.
pub(crate) struct Access {
    pub(crate) token: SecretString,
    /// The cache key, for `own_app` tokens (platform tokens are not cached here).
    cache_key: Option<TokenKey>,
}

/// Gets and caches tokens.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    http: HttpClient,
    cache: Arc<dyn TokenCache>,
    base_url: String,
}

impl Authenticator {
    pub(crate) fn new(http: HttpClient, cache: Arc<dyn TokenCache>, base_url: String) -> Self {
        Self {
            http,
            cache,
            base_url,
        }
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The cache key of an `own_app` token.
    pub(crate) fn oauth_key(&self, client_id: &str, client_secret: &SecretString) -> TokenKey {
        TokenKey::new(format!(
            "ups:oauth:{}",
            digest(&[
                self.base_url.as_bytes(),
                client_id.as_bytes(),
                client_secret.expose_secret().as_bytes(),
            ])
        ))
    }

    /// An access token for `account`.
    pub(crate) async fn access_token(&self, account: &UpsAccount) -> Result<Access, CarrierError> {
        match &account.auth {
            Auth::OwnApp {
                client_id,
                client_secret,
            } => {
                let key = self.oauth_key(client_id, client_secret);
                let fetch: TokenFetch<'_> = Box::pin(async move {
                    let grant = Grant::ClientCredentials(AppCredentials {
                        client_id,
                        client_secret,
                    });
                    let tokens = grant::request(&self.http, &self.base_url, &grant).await?;
                    tracing::info!(client_id = %client_id, expires_at = %tokens.access_expires_at, "obtained a UPS access token");
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
                        "ups: the account's UPS authorization expires at {expires_at}; refresh it"
                    ))
                    .into());
                }
                Ok(Access {
                    token: access_token.clone(),
                    cache_key: None,
                })
            }
        }
    }

    /// Forgets an access token UPS refused. Returns whether a new one can be fetched (only
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::MemoryTokenCache;

    #[test]
    fn oauth_keys_hash_the_secret_and_never_contain_it() {
        let http = HttpClient::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            crate::RetryConfig::default(),
            1024,
        )
        .unwrap();
        let auth = Authenticator::new(
            http,
            Arc::new(MemoryTokenCache::new()),
            "https://onlinetools.ups.com".into(),
        );
        let secret = SecretString::from("sentinel-client-secret");
        let key = auth.oauth_key("app", &secret);
        assert!(key.as_str().starts_with("ups:oauth:"));
        assert!(!key.as_str().contains("sentinel"));
        assert_ne!(key, auth.oauth_key("app", &SecretString::from("other")));
        assert_ne!(key, auth.oauth_key("app2", &secret));
    }
}
