//! [`UspsBuilder`]: everything a [`UspsCarrier`] needs before its first call — the v3 host, the
//! Web Tools endpoint, the platform's own USPS app (for "Login with USPS" and `platform_app`
//! accounts), the shared token cache, timeouts, retries and the label reply format.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use carrier::{MemoryTokenCache, TokenCache};
use secrecy::SecretString;
use url::Url;

use crate::UspsCarrier;
use crate::client::HttpClient;

/// The production v3 host.
pub const PRODUCTION_URL: &str = "https://apis.usps.com";
/// The v3 test environment (TEM): production credentials, watermarked, unbilled labels.
pub const TEST_ENVIRONMENT_URL: &str = "https://apis-tem.usps.com";
/// The Web Tools endpoint of the USPSReturnsLabel API guide's "API Signature" (the secure host:
/// the request carries addresses). Test labels use the same endpoint with
/// `API=USPSReturnsLabelCertify`.
pub const WEBTOOLS_URL: &str = "https://secure.shippingapis.com/ShippingAPI.dll";

/// How USPS should format a return-label reply (the `Accept` header of the label POST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyFormat {
    /// `application/vnd.usps.labels+json`: one JSON document with Base64 images embedded.
    #[default]
    VendorJson,
    /// `multipart/form-data` (the USPS default): a `returnLabelMetadata` JSON part and Base64
    /// `returnLabelImage` / `returnReceiptImage` parts.
    Multipart,
}

/// Retries for calls the protocol makes safe to repeat (see the crate's `client` module); the
/// shared client's own configuration.
pub use carrier_http::RetryConfig;

/// The platform's own USPS app: used for the OAuth consent ("Login with USPS") and for the
/// token grants of `platform_app` accounts. `Debug` redacts the secret.
#[derive(Clone)]
pub struct PlatformApp {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) redirect_uri: String,
    pub(crate) authorize_url: Option<String>,
    pub(crate) scopes: Vec<String>,
}

/// The OAuth scopes a return-label integration needs: payment authorization and labels, the
/// `tracking` and `subscriptions-tracking` scopes of the Package Tracking and Subscriptions –
/// Tracking specs' security sections, and for the UserInfo prefill the OIDC scopes of
/// `userinfo.md` that its claims need: `openid` (OIDC Core: no UserInfo without it),
/// `oauth2-oidc` (the UserInfo API's own scope, as `labels` is the Labels API's),
/// `usps:MIDs` (`mail_owners`) and `usps:payment_methods` (`payment_accounts`). The reference
/// lists the scopes but not which claim each releases; the pairing is by their names.
/// `profile`, `address`, `email` and `usps:contract_rates` release nothing the prefill reads
/// and are not asked for.
pub const DEFAULT_SCOPES: &[&str] = &[
    "payments",
    "labels",
    "tracking",
    "subscriptions-tracking",
    "openid",
    "oauth2-oidc",
    "usps:MIDs",
    "usps:payment_methods",
];

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
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Where "Login with USPS" sends the browser; default `{base_url}/oauth2/v3/authorize`.
    pub fn with_authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// The scopes requested at consent; default [`DEFAULT_SCOPES`].
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
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
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a [`UspsBuilder`] could not build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid USPS base URL: {0}")]
    BaseUrl(String),
    #[error("invalid USPS Web Tools URL: {0}")]
    WebToolsUrl(String),
    #[error("invalid OAuth {field} URL: {message}")]
    OAuthUrl {
        field: &'static str,
        message: String,
    },
    #[error("the platform app needs a client id")]
    MissingClientId,
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

/// Builds a [`UspsCarrier`].
#[derive(Debug, Clone)]
pub struct UspsBuilder {
    base_url: String,
    webtools_url: String,
    platform_app: Option<PlatformApp>,
    token_cache: Option<Arc<dyn TokenCache>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryConfig,
    max_reply_bytes: usize,
    reply_format: ReplyFormat,
}

impl Default for UspsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl UspsBuilder {
    pub fn new() -> Self {
        Self {
            base_url: PRODUCTION_URL.to_owned(),
            webtools_url: WEBTOOLS_URL.to_owned(),
            platform_app: None,
            token_cache: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryConfig::default(),
            max_reply_bytes: carrier_http::DEFAULT_MAX_REPLY_BYTES,
            reply_format: ReplyFormat::default(),
        }
    }

    /// The v3 host (default [`PRODUCTION_URL`]; [`TEST_ENVIRONMENT_URL`]; a simulator's URL).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The Web Tools `ShippingAPI.dll` endpoint (default [`WEBTOOLS_URL`]; a simulator's
    /// `…/ShippingAPI.dll`). Configuration key `BACKHAUL__USPS__WEBTOOLS_URL`.
    pub fn with_webtools_url(mut self, url: impl Into<String>) -> Self {
        self.webtools_url = url.into();
        self
    }

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
    /// label reply is an unknown outcome, any other a failure to retry.
    pub fn with_max_reply_bytes(mut self, limit: usize) -> Self {
        self.max_reply_bytes = limit;
        self
    }

    pub fn with_reply_format(mut self, format: ReplyFormat) -> Self {
        self.reply_format = format;
        self
    }

    pub fn build(self) -> Result<UspsCarrier, BuildError> {
        let trimmed = self.base_url.trim_end_matches('/');
        check_endpoint(trimmed).map_err(BuildError::BaseUrl)?;
        let webtools_url = self.webtools_url.trim().to_owned();
        check_endpoint(&webtools_url).map_err(BuildError::WebToolsUrl)?;
        let platform_app = match self.platform_app {
            Some(app) => {
                if app.client_id.trim().is_empty() {
                    return Err(BuildError::MissingClientId);
                }
                Url::parse(&app.redirect_uri).map_err(|e| BuildError::OAuthUrl {
                    field: "redirect",
                    message: e.to_string(),
                })?;
                let authorize = app
                    .authorize_url
                    .clone()
                    .unwrap_or_else(|| format!("{trimmed}/oauth2/v3/authorize"));
                let authorize_url = Url::parse(&authorize).map_err(|e| BuildError::OAuthUrl {
                    field: "authorize",
                    message: e.to_string(),
                })?;
                Some((app, authorize_url))
            }
            None => None,
        };
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
        Ok(UspsCarrier::from_parts(
            trimmed.to_owned(),
            webtools_url,
            http,
            cache,
            platform_app,
            self.reply_format,
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
    fn the_webtools_url_defaults_to_the_secure_production_endpoint() {
        let carrier = UspsBuilder::new().build().unwrap();
        assert_eq!(
            carrier.webtools_url(),
            "https://secure.shippingapis.com/ShippingAPI.dll"
        );
    }

    #[test]
    fn a_webtools_url_with_a_query_or_user_info_is_refused() {
        for url in [
            "https://secure.shippingapis.com/ShippingAPI.dll?API=USPSReturnsLabel",
            "https://user:pw@secure.shippingapis.com/ShippingAPI.dll",
            "ftp://secure.shippingapis.com/ShippingAPI.dll",
        ] {
            let error = UspsBuilder::new()
                .with_webtools_url(url)
                .build()
                .unwrap_err();
            assert!(matches!(error, BuildError::WebToolsUrl(_)), "{url}");
        }
    }

    #[test]
    fn a_base_url_with_a_query_is_refused() {
        let error = UspsBuilder::new()
            .with_base_url("https://apis.usps.com?x=1")
            .build()
            .unwrap_err();
        assert!(matches!(error, BuildError::BaseUrl(_)));
    }

    #[test]
    fn the_platform_app_debug_hides_its_secret() {
        let app = PlatformApp::new(
            "app-id",
            SecretString::from("sentinel-app-secret"),
            "https://backhaul.example/v1/usps/oauth/callback",
        );
        let printed = format!("{app:?}");
        assert!(!printed.contains("sentinel-app-secret"));
        let carrier = UspsBuilder::new().with_platform_app(app).build().unwrap();
        assert!(!format!("{carrier:?}").contains("sentinel-app-secret"));
    }
}
