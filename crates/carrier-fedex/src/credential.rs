//! OAuth tokens for every FedEx call, cached in the shared [`TokenCache`] for their hour (less
//! a five-minute margin), keyed by an opaque SHA-256 over the base URL, the grant and its
//! credentials — the key proves which secrets it was made with without containing them. A
//! burst of calls with a cold cache makes one token call (the cache's single flight).
//!
//! | whose call | grant | key |
//! |---|---|---|
//! | an `own_app` account | `client_credentials` with its API key and secret key | `fedex:oauth:` + hash |
//! | a `platform_app` account | `csp_credentials`: the platform app's key and secret and the account's child key and secret | `fedex:oauth:` + hash |
//! | the platform's registration calls | `client_credentials` with the platform app's key and secret | `fedex:oauth:` + hash |
//!
//! A token FedEx refuses (HTTP 401) is evicted ([`Authenticator::reject`]) so the next call
//! fetches a new one.

use std::sync::Arc;
use std::time::Duration;

use carrier::{CachedToken, CarrierError, TokenCache, TokenFetch, TokenKey};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::account::Auth;
use crate::builder::PlatformApp;
use crate::client::HttpClient;
use crate::error::Error;
use crate::grant::{self, Grant};

/// A token is renewed this long before it expires.
pub(crate) const TOKEN_MARGIN: Duration = Duration::from_secs(5 * 60);

/// SHA-256 over length-prefixed parts, hex encoded.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    format!("{:x}", hasher.finalize())
}

/// A token for one call, with what is needed to evict it.
pub(crate) struct Access {
    pub(crate) token: SecretString,
    key: TokenKey,
}

/// Whose token a call needs.
#[derive(Clone, Copy)]
pub(crate) enum Principal<'a> {
    Account(&'a Auth),
    /// The platform app itself (registration calls).
    Platform,
}

/// Gets and caches tokens.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    http: HttpClient,
    cache: Arc<dyn TokenCache>,
    base_url: String,
    platform: Option<PlatformApp>,
}

impl Authenticator {
    pub(crate) fn new(
        http: HttpClient,
        cache: Arc<dyn TokenCache>,
        base_url: String,
        platform: Option<PlatformApp>,
    ) -> Self {
        Self {
            http,
            cache,
            base_url,
            platform,
        }
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn platform(&self) -> Option<&PlatformApp> {
        self.platform.as_ref()
    }

    fn platform_or_refuse(&self) -> Result<&PlatformApp, CarrierError> {
        self.platform.as_ref().ok_or_else(|| {
            Error::Unauthenticated(
                "fedex: no FedEx platform app is configured for registered accounts".to_owned(),
            )
            .into()
        })
    }

    /// The grant for `principal`.
    fn grant<'a>(&'a self, principal: Principal<'a>) -> Result<Grant<'a>, CarrierError> {
        Ok(match principal {
            Principal::Account(Auth::OwnApp {
                client_id,
                client_secret,
            }) => Grant::ClientCredentials {
                client_id,
                client_secret,
            },
            Principal::Account(Auth::PlatformApp {
                child_key,
                child_secret,
            }) => {
                let app = self.platform_or_refuse()?;
                Grant::CspCredentials {
                    client_id: &app.client_id,
                    client_secret: &app.client_secret,
                    child_key,
                    child_secret,
                }
            }
            Principal::Platform => {
                let app = self.platform_or_refuse()?;
                Grant::ClientCredentials {
                    client_id: &app.client_id,
                    client_secret: &app.client_secret,
                }
            }
        })
    }

    /// The cache key of a grant.
    pub(crate) fn key(&self, grant: &Grant<'_>) -> TokenKey {
        let hash = match grant {
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => digest(&[
                self.base_url.as_bytes(),
                b"client_credentials",
                client_id.as_bytes(),
                client_secret.expose_secret().as_bytes(),
            ]),
            Grant::CspCredentials {
                client_id,
                client_secret,
                child_key,
                child_secret,
            } => digest(&[
                self.base_url.as_bytes(),
                b"csp_credentials",
                client_id.as_bytes(),
                client_secret.expose_secret().as_bytes(),
                child_key.expose_secret().as_bytes(),
                child_secret.expose_secret().as_bytes(),
            ]),
        };
        TokenKey::new(format!("fedex:oauth:{hash}"))
    }

    /// A token for `principal`, from the cache or FedEx.
    pub(crate) async fn access(&self, principal: Principal<'_>) -> Result<Access, CarrierError> {
        let grant = self.grant(principal)?;
        let key = self.key(&grant);
        let fetch: TokenFetch<'_> = Box::pin(async {
            let token = grant::request(&self.http, &self.base_url, &grant)
                .await
                .map_err(CarrierError::from)?;
            tracing::info!(expires_at = %token.expires_at, "obtained a FedEx access token");
            Ok(CachedToken {
                value: token.access_token,
                expires_at: token.expires_at,
            })
        });
        let token = self.cache.get_or_fetch(&key, TOKEN_MARGIN, fetch).await?;
        Ok(Access {
            token: token.value,
            key,
        })
    }

    /// Forgets a token FedEx refused.
    pub(crate) async fn reject(&self, access: &Access) {
        self.cache.invalidate(&access.key, &access.token).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::MemoryTokenCache;

    fn authenticator() -> Authenticator {
        let http = HttpClient::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            crate::RetryConfig::default(),
            1024,
        )
        .unwrap();
        Authenticator::new(
            http,
            Arc::new(MemoryTokenCache::new()),
            "https://apis.fedex.com".into(),
            Some(PlatformApp::new(
                "platform",
                SecretString::from("sentinel-platform"),
            )),
        )
    }

    #[test]
    fn keys_hash_every_secret_and_contain_none() {
        let auth = authenticator();
        let secret = SecretString::from("sentinel-client-secret");
        let child = SecretString::from("sentinel-child-secret");
        let own = Auth::OwnApp {
            client_id: "app".into(),
            client_secret: secret.clone(),
        };
        let platform = Auth::PlatformApp {
            child_key: SecretString::from("sentinel-child-key"),
            child_secret: child.clone(),
        };
        let other_child = Auth::PlatformApp {
            child_key: SecretString::from("sentinel-child-key"),
            child_secret: SecretString::from("another"),
        };
        let keys: Vec<TokenKey> = [
            Principal::Account(&own),
            Principal::Account(&platform),
            Principal::Account(&other_child),
            Principal::Platform,
        ]
        .into_iter()
        .map(|principal| auth.key(&auth.grant(principal).unwrap()))
        .collect();
        for key in &keys {
            assert!(key.as_str().starts_with("fedex:oauth:"));
            assert!(!key.as_str().contains("sentinel"), "{key:?}");
        }
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "every grant has its own key");
    }

    #[test]
    fn without_a_platform_app_registered_accounts_are_unauthenticated() {
        let mut auth = authenticator();
        auth.platform = None;
        let platform = Auth::PlatformApp {
            child_key: SecretString::from("k"),
            child_secret: SecretString::from("s"),
        };
        let error = auth.grant(Principal::Account(&platform)).err().unwrap();
        assert_eq!(error.kind(), carrier::ErrorKind::Unauthenticated);
        assert!(auth.grant(Principal::Platform).is_err());
    }
}
