//! No secret — the client secret, the platform app's secret, access and refresh tokens, the
//! authorization code, the PKCE verifier — appears in any captured log line (every crate,
//! every level), error or `Debug` output, across successful and failing purchases, voids and
//! the OAuth flow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use carrier::{Carrier, Credentials, PkceVerifier};
use secrecy::SecretString;
use support::{Answer, FakeUps, buy, error_body, own_app, request, validate};

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

    let ups = FakeUps::start().await;
    let carrier = ups.carrier();
    let mut printed = vec![format!("{carrier:?}")];

    // A purchase, a refused token with its renewal, a rejection echoing the token, an
    // unreadable reply.
    let account = validate(&carrier, &own_app());
    printed.push(format!("{account:?}"));
    let label = buy(&carrier, &account, &request("PDF")).await.unwrap();
    printed.push(format!("{label:?}"));
    ups.ship(Answer::Json(
        StatusCode::UNAUTHORIZED,
        error_body("250002", "Invalid Authentication Information."),
    ));
    buy(&carrier, &account, &request("PNG")).await.unwrap();
    ups.ship(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body(
            "120100",
            "Bad token sentinel-access-2 for sentinel-client-secret",
        ),
    ));
    let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
    printed.push(format!("{error} {error:?}"));
    ups.ship(Answer::Text(StatusCode::OK, "not json"));
    let error = buy(&carrier, &account, &request("PDF")).await.unwrap_err();
    printed.push(format!("{error} {error:?}"));

    // Login with UPS: the exchange, a refresh, a refused refresh, a refused own app.
    let hooks = carrier.oauth().unwrap();
    let verifier = PkceVerifier::generate();
    let url = hooks
        .authorize_url("state-1", &verifier.challenge())
        .unwrap();
    printed.push(url.to_string());
    let connection = hooks
        .exchange_code("sentinel-authorization-code", &verifier)
        .await
        .unwrap();
    printed.push(format!("{connection:?} {verifier:?}"));
    let renewed = hooks.refresh(&connection.credentials).await.unwrap();
    printed.push(format!("{renewed:?}"));
    ups.token(Answer::Json(
        StatusCode::UNAUTHORIZED,
        error_body("10401", "ClientId is Invalid"),
    ));
    let error = hooks.refresh(&renewed).await.unwrap_err();
    printed.push(format!("{error} {error:?}"));
    ups.token(Answer::Json(
        StatusCode::BAD_REQUEST,
        error_body("10400", "Invalid refresh token sentinel-stale-refresh"),
    ));
    let stale = Credentials::new("platform_app").with_secret(
        "refresh_token",
        SecretString::from("sentinel-stale-refresh"),
    );
    let error = hooks.refresh(&stale).await.unwrap_err();
    printed.push(format!("{error} {error:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("UPS return label created"),
        "logs were captured"
    );
    let everything = format!("{logs}\n{}", printed.join("\n"));
    for secret in [
        support::CLIENT_SECRET,
        support::PLATFORM_SECRET,
        "sentinel-access-",
        "sentinel-refresh-",
        "sentinel-authorization-code",
        "sentinel-stale-refresh",
        verifier.expose(),
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
}
