//! Every log line of a "Login with USPS" session, captured at TRACE from every crate: no
//! authorization code, sign-in state, access or refresh token appears — not on success, not on
//! a replayed, denied or unexchangeable callback, not when tokens are renewed or the renewal is
//! refused; and a failed UserInfo is logged with the callback's request id. (One test in this
//! binary: the subscriber is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backhaul_tests::{TestApp, label_request, return_address};
use reqwest::Url;
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::demo;

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

/// The `code` and `state` a callback URL carries.
fn bearer_values(callback: &str) -> Vec<String> {
    Url::parse(callback)
        .unwrap()
        .query_pairs()
        .filter(|(key, _)| key == "code" || key == "state")
        .map(|(_, value)| value.into_owned())
        .collect()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn no_code_state_or_token_of_a_login_reaches_a_log_line(owner: PgPool) {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let app = TestApp::spawn(owner).await;
    let mut secrets: Vec<String> = Vec::new();

    // Connected, replayed, then completed and renewed before a label.
    let connect = app.connect_usps("East").await;
    let callback = app
        .consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await;
    secrets.extend(bearer_values(&callback));
    assert_eq!(app.callback(&callback).await.0, 200);
    assert_eq!(app.callback(&callback).await.0, 400);
    let listed: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    let id = listed["data"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &json!({"details": {"mid": demo::MID, "manifest_mid": demo::MANIFEST_MID,
                                 "returns_mid": demo::RETURNS_MID, "return_address": return_address()}}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let (access, refresh) = app.oauth_tokens(&id).await;
    secrets.extend([access, refresh]);
    app.make_oauth_due(&id).await;
    let label = app
        .buy(
            &app.tenant_key,
            "rma-1",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(label.status(), 201);
    let (access, refresh) = app.oauth_tokens(&id).await;
    secrets.extend([access, refresh]);

    // Denied, and a code USPS will not exchange.
    let connect = app.connect_usps("Denied").await;
    let denied = app
        .consent(connect["authorize_url"].as_str().unwrap(), "deny")
        .await;
    secrets.extend(bearer_values(&denied));
    assert_eq!(app.callback(&denied).await.0, 400);
    let connect = app.connect_usps("Forged").await;
    let approved = app
        .consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await;
    secrets.extend(bearer_values(&approved));
    let forged = approved.replace("code=", "code=X");
    assert_eq!(app.callback(&forged).await.0, 400);

    // The renewal USPS refuses.
    app.simulator
        .simulator
        .advance_clock(Duration::from_secs(8 * 24 * 60 * 60));
    app.make_oauth_due(&id).await;
    let refused = app
        .buy(
            &app.tenant_key,
            "rma-2",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(refused.status(), 422);

    // A sign-in whose UserInfo fails: connected all the same, and the failure logged with the
    // callback's request id.
    app.simulator.simulator.inject(usps_sim::FaultRule {
        route: usps_sim::route::USERINFO.to_owned(),
        fault: usps_sim::Fault::Status { status: 503 },
        times: None,
        probability: None,
    });
    let connect = app.connect_usps("Blind").await;
    let blind = app
        .consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await;
    secrets.extend(bearer_values(&blind));
    let response = app
        .client
        .get(&blind)
        .header("x-request-id", "prefill-failed-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("Login failed"), "the failures were logged");
    let prefill_failure = text
        .lines()
        .find(|line| line.contains("the carrier shared no account details to pre-fill"))
        .expect("the failed UserInfo is logged");
    assert!(
        prefill_failure.contains("prefill-failed-1") && prefill_failure.contains("WARN"),
        "{prefill_failure}"
    );
    assert_eq!(secrets.len(), 11, "codes, states and tokens collected");
    secrets.extend([demo::CLIENT_SECRET.to_owned(), demo::EPS_ACCOUNT.to_owned()]);
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "{secret} reached the logs");
    }
}
