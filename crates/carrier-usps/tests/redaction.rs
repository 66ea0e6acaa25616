//! No secret — client secret, access or refresh token, payment authorization token, EPS account
//! number — appears in any captured log line (every crate, every level), error or `Debug`
//! output, across successful and failing purchases and the OAuth flow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use carrier::{
    AccountInput, CachedToken, Carrier, CarrierError, MemoryTokenCache, TokenCache, TokenFetch,
    TokenKey,
};
use carrier_usps::PlatformApp;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{buy, fault, key, request};
use usps_sim::{Fault, demo, route};

/// Every token that passes through the cache, so the test knows what must not leak.
#[derive(Debug, Default)]
struct RecordingCache {
    inner: MemoryTokenCache,
    seen: Mutex<Vec<String>>,
}

#[async_trait]
impl TokenCache for RecordingCache {
    async fn get_or_fetch(
        &self,
        key: &TokenKey,
        margin: Duration,
        fetch: TokenFetch<'_>,
    ) -> Result<CachedToken, CarrierError> {
        let token = self.inner.get_or_fetch(key, margin, fetch).await?;
        self.seen
            .lock()
            .unwrap()
            .push(token.value.expose_secret().to_owned());
        Ok(token)
    }

    async fn invalidate(&self, key: &TokenKey, rejected: &SecretString) {
        self.inner.invalidate(key, rejected).await;
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_appears_in_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = support::simulator().await;
    let cache = Arc::new(RecordingCache::default());
    let carrier = support::builder(&sim.base_url)
        .with_token_cache(cache.clone())
        .with_platform_app(PlatformApp::new(
            demo::CLIENT_ID,
            SecretString::from(demo::CLIENT_SECRET),
            "http://127.0.0.1:9/callback",
        ))
        .build()
        .unwrap();
    let mut printed = Vec::new();

    // A purchase, a 401 with its retry, an echoed EPS number, a malformed reply.
    let account = support::demo_account(&carrier);
    printed.push(format!("{account:?} {carrier:?}"));
    let label = buy(
        &carrier,
        &account,
        &request("usps_priority_mail_return"),
        &key("ok"),
    )
    .await
    .unwrap();
    printed.push(format!("{label:?}"));
    sim.simulator
        .inject(fault(route::RETURN_LABEL, Fault::ExpiredToken));
    buy(
        &carrier,
        &account,
        &request("usps_priority_mail_return"),
        &key("retry"),
    )
    .await
    .unwrap();
    let mut unknown = support::eps_details();
    unknown["eps_account_number"] = json!("1000000042");
    let unknown = support::validate(&carrier, &unknown, &support::own_app());
    let error = buy(
        &carrier,
        &unknown,
        &request("usps_priority_mail_return"),
        &key("unknown"),
    )
    .await
    .unwrap_err();
    printed.push(format!("{error} {error:?}"));
    sim.simulator
        .inject(fault(route::RETURN_LABEL, Fault::Malformed));
    let error = buy(
        &carrier,
        &account,
        &request("usps_priority_mail_return"),
        &key("bad"),
    )
    .await
    .unwrap_err();
    printed.push(format!("{error} {error:?}"));
    let refused = support::validate(
        &carrier,
        &support::eps_details(),
        &carrier::CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", demo::CLIENT_ID)
            .with("client_secret", "sentinel-wrong-secret"),
    );
    let error = buy(
        &carrier,
        &refused,
        &request("usps_priority_mail_return"),
        &key("refused"),
    )
    .await
    .unwrap_err();
    printed.push(format!("{error} {error:?}"));

    // The OAuth flow: exchange, userinfo, refresh, a purchase with the platform token.
    let hooks = carrier.oauth().unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = carrier::PkceVerifier::generate();
    let challenge = verifier.challenge();
    let page = browser
        .get(hooks.authorize_url("s", &challenge).unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Approve"));
    let scope = carrier_usps::DEFAULT_SCOPES.join(" ");
    let approve = browser
        .post(format!("{}/oauth2/v3/authorize", sim.base_url))
        .form(&[
            ("client_id", demo::CLIENT_ID),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("response_type", "code"),
            ("scope", scope.as_str()),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("username", demo::USERNAME),
            ("password", demo::PASSWORD),
            ("consent", "yes"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let location = approve.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    let connection = hooks.exchange_code(&code, &verifier).await.unwrap();
    printed.push(format!("{connection:?}"));
    let renewed = hooks.refresh(&connection.credentials).await.unwrap();
    printed.push(format!("{renewed:?}"));
    assert_eq!(connection.prefill.unavailable, None, "UserInfo answered");
    let mut details = serde_json::Value::Object(connection.prefill.details.clone());
    details["mid"] = serde_json::json!(demo::MID);
    details["returns_mid"] = serde_json::json!(demo::RETURNS_MID);
    details["return_address"] = support::return_address();
    let platform = carrier
        .validate_account(AccountInput {
            details: &details,
            credentials: None,
            current: Some(&renewed),
        })
        .unwrap();
    buy(
        &carrier,
        &platform,
        &request("usps_priority_mail_return"),
        &key("platform"),
    )
    .await
    .unwrap();
    sim.simulator
        .inject(fault(route::RETURN_LABEL, Fault::ExpiredToken));
    let error = buy(
        &carrier,
        &platform,
        &request("usps_priority_mail_return"),
        &key("revoked"),
    )
    .await
    .unwrap_err();
    printed.push(format!("{error} {error:?}"));

    let mut secrets: Vec<String> = vec![
        demo::CLIENT_SECRET.to_owned(),
        "sentinel-wrong-secret".to_owned(),
        demo::EPS_ACCOUNT.to_owned(),
        "1000000042".to_owned(),
        verifier.expose().to_owned(),
        code.clone(),
    ];
    for credentials in [&connection.credentials, &renewed] {
        for name in ["access_token", "refresh_token"] {
            secrets.push(credentials.secret(name).unwrap().expose_secret().to_owned());
        }
    }
    let cached = cache.seen.lock().unwrap().clone();
    assert!(cached.len() >= 4, "access and payment tokens were recorded");
    secrets.extend(cached);

    drop(_guard);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("carrier_usps"), "our logs were captured");
    assert!(logs.lines().count() > 20);
    let printed = printed.join("\n");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
        assert!(
            !printed.contains(secret.as_str()),
            "a secret leaked into output: {printed}"
        );
    }
}
