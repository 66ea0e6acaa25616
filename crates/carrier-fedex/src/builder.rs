//! [`FedexBuilder`]: everything a [`FedexCarrier`] needs before its first call — the FedEx host,
//! the platform's own FedEx app (registration and `platform_app` accounts), the shared token
//! cache, timeouts, retries and the reply size limit.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use carrier::{MemoryTokenCache, TokenCache};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::FedexCarrier;
use crate::client::HttpClient;

/// FedEx's production host. The OpenAPI files in `shared/reference/fedex/` name only the
/// sandbox host and a SwaggerHub mock; this is the production host FedEx documents on its
/// developer portal.
pub const PRODUCTION_URL: &str = "https://apis.fedex.com";
/// FedEx's sandbox (test) host, the one server the AccountRegistration file names.
pub const SANDBOX_URL: &str = "https://apis-sandbox.fedex.com";

/// Retries for calls that are safe to repeat (see the crate's `client` module).
pub use carrier_http::RetryConfig;

/// The platform's own FedEx app: the integrator ("Compatible Provider") project of FedEx's
/// developer portal. Its API key and secret key get the `client_credentials` tokens of the
/// Account Registration calls, and, with an account's child key and secret, the
/// `csp_credentials` tokens of `platform_app` accounts. `Debug` redacts the secret.
#[derive(Clone)]
pub struct PlatformApp {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
}

impl PlatformApp {
    /// The app's API key (`client_id`) and secret key (`client_secret`).
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

impl fmt::Debug for PlatformApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

/// Why a [`FedexBuilder`] could not build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid FedEx base URL: {0}")]
    BaseUrl(String),
    #[error("the FedEx platform app needs an API key and a secret key")]
    IncompletePlatformApp,
    #[error("{0}")]
    Http(String),
}

/// Builds a [`FedexCarrier`].
#[derive(Debug, Clone)]
pub struct FedexBuilder {
    base_url: String,
    platform_app: Option<PlatformApp>,
    token_cache: Option<Arc<dyn TokenCache>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryConfig,
    max_reply_bytes: usize,
}

impl Default for FedexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl FedexBuilder {
    pub fn new() -> Self {
        Self {
            base_url: PRODUCTION_URL.to_owned(),
            platform_app: None,
            token_cache: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            max_reply_bytes: carrier_http::DEFAULT_MAX_REPLY_BYTES,
        }
    }

    /// The FedEx host (default [`PRODUCTION_URL`]; [`SANDBOX_URL`]; a simulator's URL). The
    /// paths (`/oauth/token`, `/ship/v1/…`, `/registration/v2/…`) are added to it.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The platform's FedEx app. Without it, only `own_app` accounts work: registration is
    /// not offered and `platform_app` accounts cannot get tokens.
    pub fn with_platform_app(mut self, app: PlatformApp) -> Self {
        self.platform_app = Some(app);
        self
    }

    /// The cache shared by every instance (default: a per-process [`MemoryTokenCache`]).
    pub fn with_token_cache(mut self, cache: Arc<dyn TokenCache>) -> Self {
        self.token_cache = Some(cache);
        self
    }

    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The whole-exchange timeout of one HTTP request.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The largest reply body read (default [`carrier_http::DEFAULT_MAX_REPLY_BYTES`]); a larger
    /// Ship reply is an unknown outcome.
    pub fn with_max_reply_bytes(mut self, limit: usize) -> Self {
        self.max_reply_bytes = limit;
        self
    }

    pub fn build(self) -> Result<FedexCarrier, BuildError> {
        let base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        check_endpoint(&base_url).map_err(BuildError::BaseUrl)?;
        if let Some(app) = &self.platform_app {
            if app.client_id.trim().is_empty() || app.client_secret.expose_secret().is_empty() {
                return Err(BuildError::IncompletePlatformApp);
            }
        }
        let http = HttpClient::new(
            self.connect_timeout,
            self.request_timeout,
            self.retry,
            self.max_reply_bytes,
        )
        .map_err(|e| BuildError::Http(e.to_string()))?;
        let cache = self
            .token_cache
            .unwrap_or_else(|| Arc::new(MemoryTokenCache::new()));
        Ok(FedexCarrier::from_parts(
            base_url,
            http,
            cache,
            self.platform_app,
        ))
    }
}

/// An endpoint we may send secrets to: http(s), a host, no query, fragment or user info.
fn check_endpoint(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err("must be an http(s) URL with a host and no query or user info".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_with_a_query_or_user_info_is_refused() {
        for url in [
            "https://apis.fedex.com?x=1",
            "https://user:pw@apis.fedex.com",
            "ftp://apis.fedex.com",
            "not a url",
        ] {
            let error = FedexBuilder::new().with_base_url(url).build().unwrap_err();
            assert!(matches!(error, BuildError::BaseUrl(_)), "{url}");
        }
    }

    #[test]
    fn a_platform_app_needs_a_key_and_a_secret() {
        for (id, secret) in [(" ", "s"), ("id", "")] {
            let error = FedexBuilder::new()
                .with_platform_app(PlatformApp::new(id, SecretString::from(secret)))
                .build()
                .unwrap_err();
            assert!(matches!(error, BuildError::IncompletePlatformApp));
        }
    }

    #[test]
    fn the_platform_app_secret_never_shows_in_debug() {
        let app = PlatformApp::new("platform-key", SecretString::from("sentinel-app-secret"));
        assert!(!format!("{app:?}").contains("sentinel-app-secret"));
        let carrier = FedexBuilder::new()
            .with_base_url(SANDBOX_URL)
            .with_platform_app(app)
            .build()
            .unwrap();
        let printed = format!("{carrier:?} {carrier:#?}");
        assert!(!printed.contains("sentinel-app-secret"), "{printed}");
        assert!(printed.contains("platform-key"), "{printed}");
    }
}
