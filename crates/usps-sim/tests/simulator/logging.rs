//! Logs never carry secrets or tokens.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use usps_sim::{SimConfig, Simulator, demo};

use crate::common::{Harness, eps_parties, label_body};
use crate::webtools::request;

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

// A current-thread runtime runs the server's tasks on this thread, under this subscriber.
#[tokio::test]
async fn a_full_flow_logs_no_secret_password_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut config = SimConfig::default();
    let password = "Distinctive-Pa55word";
    config.users[0].password = password.to_owned();
    let running = Simulator::new(config).spawn().await.unwrap();
    let harness = Harness {
        running,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let access = harness.access_token().await;
    let consent = harness
        .http
        .post(harness.url("/oauth2/v3/authorize"))
        .form(&[
            ("client_id", demo::CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
            ("username", demo::USERNAME),
            ("password", password),
            ("consent", "yes"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let location = consent.headers()["location"].to_str().unwrap().to_owned();
    let code = location.split("code=").nth(1).unwrap().to_owned();
    let tokens: Value = harness
        .token_request(
            json!({"grant_type": "authorization_code", "client_id": demo::CLIENT_ID,
                              "client_secret": demo::CLIENT_SECRET, "code": code,
                              "redirect_uri": demo::REDIRECT_URI}),
        )
        .await
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let payment = harness.payment_token_for(&access, &eps_parties()).await;
    let label = harness
        .label_post(&access, &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();
    assert!(label.status().is_success());
    harness
        .label_post("wrong-token", &payment)
        .json(&label_body())
        .send()
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("return label issued"), "the flow was logged");
    for secret in [
        demo::CLIENT_SECRET,
        password,
        access.as_str(),
        refresh.as_str(),
        payment.as_str(),
        code.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret or token was logged");
    }
}

#[tokio::test]
async fn a_web_tools_flow_logs_no_user_id_or_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let harness = Harness::start_with(SimConfig::default()).await;
    let (_, issued) = harness.webtools_post("USPSReturnsLabel", &request()).await;
    assert_eq!(issued.root, "USPSReturnsLabelResponse");
    let wrong_password = request().replace(demo::WEBTOOLS_PASSWORD, "not-the-password");
    harness
        .webtools_post("USPSReturnsLabel", &wrong_password)
        .await;
    let certify = request().replace("USPSReturnsLabelRequest", "USPSReturnsLabelCertifyRequest");
    harness
        .webtools_post("USPSReturnsLabelCertify", &certify)
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("Web Tools return label issued"),
        "the flow was logged"
    );
    assert!(logs.contains("Web Tools request refused"));
    for secret in [
        demo::WEBTOOLS_USER_ID,
        demo::WEBTOOLS_PASSWORD,
        "not-the-password",
    ] {
        assert!(!logs.contains(secret), "a Web Tools credential was logged");
    }
}
