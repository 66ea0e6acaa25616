//! [`UpsBuilder`]: everything a [`UpsCarrier`] needs before its first call — the UPS host, the
//! platform's own UPS app (for "Login with UPS" and `platform_app` accounts), the shared token
//! cache, timeouts, retries and the reply size limit.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use carrier::{MemoryTokenCache, TokenCache};
use secrecy::SecretString;
use url::Url;

use crate::UpsCarrier;
use crate::client::HttpClient;
use crate::track::listener::ListenerCredentials;

/// The production host (`onlinetools.ups.com`; the Ship API lives under `/api`, OAuth under
/// `/security`).
pub const PRODUCTION_URL: &str = "https://onlinetools.ups.com";
/// The Customer Integration Environment: test credentials, labels that are never billed.
pub const CIE_URL: &str = "https://wwwcie.ups.com";

/// Retries for calls that are safe to repeat (see the crate's `client` module).
pub use carrier_http::RetryConfig;

/// The platform's own UPS app: used for "Login with UPS" (the authorization-code flow with PKCE)
/// and to refresh the tokens of `platform_app` accounts (Basic auth with the app's client id and
/// secret). `Debug` redacts the secret.
#[derive(Clone)]
pub struct PlatformApp {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) redirect_uri: String,
    /// Where "Login with UPS" sends the browser; `{base}/security/v1/oauth/authorize` when unset.
    pub(crate) authorize_url: Option<String>,
}

impl PlatformApp {
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            authorize_url: None,
        }
    }

    /// Sends the browser to `url` instead of the base URL's `/security/v1/oauth/authorize`.
    pub fn with_authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }
}

impl fmt::Debug for PlatformApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri)
            .field("authorize_url", &self.authorize_url)
            .finish()
    }
}

/// Why a [`UpsBuilder`] could not build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid UPS base URL: {0}")]
    BaseUrl(String),
    #[error("invalid UPS OAuth redirect URL: {0}")]
    RedirectUrl(String),
    #[error("the UPS platform app needs a client id")]
    MissingClientId,
    #[error("the UPS Track Alert listener credentials need a client id and a secret")]
    MissingListenerCredentials,
    #[error("{0}")]
    Http(String),
}

/// Builds a [`UpsCarrier`].
#[derive(Debug, Clone)]
pub struct UpsBuilder {
    base_url: String,
    platform_app: Option<PlatformApp>,
    listener: Option<ListenerCredentials>,
    token_cache: Option<Arc<dyn TokenCache>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryConfig,
    max_reply_bytes: usize,
}

impl Default for UpsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl UpsBuilder {
    pub fn new() -> Self {
        Self {
            base_url: PRODUCTION_URL.to_owned(),
            platform_app: None,
            listener: None,
            token_cache: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            max_reply_bytes: carrier_http::DEFAULT_MAX_REPLY_BYTES,
        }
    }

    /// The UPS host (default [`PRODUCTION_URL`]; [`CIE_URL`]; a simulator's URL). Paths
    /// (`/api/shipments/…`, `/security/v1/oauth/…`) are added to it.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn with_platform_app(mut self, app: PlatformApp) -> Self {
        self.platform_app = Some(app);
        self
    }

    /// The client credentials registered in UPS's portal ("Manage Webhook Credentials") that
    /// Track Alert fetches listener tokens with. Without them, pushed events are refused.
    pub fn with_listener_credentials(mut self, credentials: ListenerCredentials) -> Self {
        self.listener = Some(credentials);
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

    pub fn build(self) -> Result<UpsCarrier, BuildError> {
        let base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        check_endpoint(&base_url).map_err(BuildError::BaseUrl)?;
        if let Some(app) = &self.platform_app {
            if app.client_id.trim().is_empty() {
                return Err(BuildError::MissingClientId);
            }
            Url::parse(&app.redirect_uri).map_err(|e| BuildError::RedirectUrl(e.to_string()))?;
        }
        if let Some(listener) = &self.listener {
            use secrecy::ExposeSecret;
            if listener.client_id.trim().is_empty()
                || listener.client_secret.expose_secret().is_empty()
            {
                return Err(BuildError::MissingListenerCredentials);
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
        Ok(UpsCarrier::from_parts(
            base_url,
            http,
            cache,
            self.platform_app,
            self.listener,
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
            "https://onlinetools.ups.com?x=1",
            "https://user:pw@onlinetools.ups.com",
            "ftp://onlinetools.ups.com",
        ] {
            let error = UpsBuilder::new().with_base_url(url).build().unwrap_err();
            assert!(matches!(error, BuildError::BaseUrl(_)), "{url}");
        }
    }

    #[test]
    fn a_platform_app_needs_a_client_id_and_a_redirect_url() {
        let app = |id: &str, redirect: &str| {
            UpsBuilder::new()
                .with_platform_app(PlatformApp::new(id, SecretString::from("s"), redirect))
                .build()
                .unwrap_err()
        };
        assert!(matches!(
            app(" ", "https://backhaul.example/cb"),
            BuildError::MissingClientId
        ));
        assert!(matches!(app("id", "not a url"), BuildError::RedirectUrl(_)));
    }

    #[test]
    fn listener_credentials_need_an_id_and_a_secret() {
        for (id, secret) in [(" ", "secret"), ("id", "")] {
            let error = UpsBuilder::new()
                .with_listener_credentials(ListenerCredentials::new(id, SecretString::from(secret)))
                .build()
                .unwrap_err();
            assert!(matches!(error, BuildError::MissingListenerCredentials));
        }
    }

    #[test]
    fn the_platform_app_debug_hides_its_secret() {
        let app = PlatformApp::new(
            "app-id",
            SecretString::from("sentinel-app-secret"),
            "https://backhaul.example/v1/ups/oauth/callback",
        );
        assert!(!format!("{app:?}").contains("sentinel-app-secret"));
        let carrier = UpsBuilder::new()
            .with_platform_app(app)
            .with_listener_credentials(ListenerCredentials::new(
                "listener",
                SecretString::from("sentinel-listener-secret"),
            ))
            .build()
            .unwrap();
        let printed = format!("{carrier:?}");
        assert!(!printed.contains("sentinel-app-secret"), "{printed}");
        assert!(!printed.contains("sentinel-listener-secret"), "{printed}");
    }
}
