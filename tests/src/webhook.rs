//! What the webhook tests share: a local receiver that records every delivery and answers as
//! told (2xx, 503, or never — a timeout), the delivery workers with a schedule in milliseconds,
//! and the verification of recorded deliveries by the Standard Webhooks reference library (the
//! `standardwebhooks` PyPI package, pinned by `.ci/install-contract-tools`), not by our code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use server::AppState;
use server::webhook::DeliverySettings;
use tokio::sync::Mutex;

use crate::{TestApp, contract};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: String,
}

impl Received {
    /// The body, parsed.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Answer {
    Ok = 0,
    Unavailable = 1,
    /// Never answers: the worker's timeout ends the attempt.
    Hang = 2,
    /// 307 to another path of the receiver (which would accept it).
    Redirect = 3,
}

#[derive(Debug, Default)]
struct Shared {
    answer: AtomicU8,
    received: Mutex<Vec<Received>>,
    /// Requests answered 2xx.
    accepted: Mutex<Vec<Received>>,
    /// Requests to where [`Answer::Redirect`] points.
    redirected: std::sync::atomic::AtomicUsize,
}

/// A webhook receiver on a loopback port.
#[derive(Debug, Clone)]
pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .route("/hooks/elsewhere", axum::routing::post(elsewhere))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared }
    }

    pub fn answer(&self, answer: Answer) {
        self.shared.answer.store(answer as u8, Ordering::SeqCst);
    }

    /// How many requests reached where [`Answer::Redirect`] points.
    pub fn redirected(&self) -> usize {
        self.shared.redirected.load(Ordering::SeqCst)
    }

    /// Every request received so far, in order.
    pub async fn received(&self) -> Vec<Received> {
        self.shared.received.lock().await.clone()
    }

    /// The requests answered 2xx, in order.
    pub async fn accepted(&self) -> Vec<Received> {
        self.shared.accepted.lock().await.clone()
    }

    /// Waits (bounded) until at least `count` requests were received, whatever the answers.
    pub async fn wait_until_received(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.received().await.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {count} requests"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (bounded) until `done` holds for the accepted requests.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let accepted = self.accepted().await;
            if done(&accepted) {
                return accepted;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; accepted {}, received {}",
                accepted.len(),
                self.received().await.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.received.lock().await.push(received.clone());
    match shared.answer.load(Ordering::SeqCst) {
        1 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        2 => std::future::pending().await,
        3 => (
            StatusCode::TEMPORARY_REDIRECT,
            [(axum::http::header::LOCATION, "/hooks/elsewhere")],
        )
            .into_response(),
        _ => {
            shared.accepted.lock().await.push(received);
            StatusCode::NO_CONTENT.into_response()
        }
    }
}

async fn elsewhere(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.redirected.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

/// The workers' settings for tests: retries in milliseconds, a short timeout and lease.
pub fn fast_delivery() -> DeliverySettings {
    DeliverySettings {
        workers: 2,
        batch: 16,
        poll_interval: Duration::from_millis(10),
        lease: Duration::from_millis(1500),
        timeout: Duration::from_millis(400),
        schedule: vec![
            Duration::from_millis(20),
            Duration::from_millis(50),
            Duration::from_millis(100),
        ],
        retry_window: Duration::from_secs(600),
    }
}

/// Starts delivery workers for `state`; they stop when the guard is dropped.
pub fn start_workers(state: &AppState, settings: DeliverySettings) -> Workers {
    Workers(server::webhook::spawn_delivery_workers(state.clone(), settings).unwrap())
}

/// Running delivery workers (aborted on drop).
#[derive(Debug)]
pub struct Workers(tokio::task::JoinHandle<()>);

impl Drop for Workers {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Registers an endpoint for `url` with the tenant's key; returns the answer's JSON (with its
/// secret).
pub async fn register(app: &TestApp, key: &str, url: &str, events: Value) -> Value {
    let response = app
        .post(
            key,
            "/v1/webhook-endpoints",
            &json!({"url": url, "events": events, "description": "the test receiver"}),
        )
        .await;
    assert_eq!(response.status(), 201, "registering {url}");
    response.json().await.unwrap()
}

/// Whether each delivery verifies with `secret` by the Standard Webhooks reference library
/// (`standardwebhooks.Webhook(secret).verify(body, headers)`), in order.
pub async fn verified_by_standardwebhooks(secret: &str, deliveries: &[Received]) -> Vec<bool> {
    let bin = contract::tools().await;
    let input = json!({
        "secret": secret,
        "deliveries": deliveries.iter().map(|delivery| json!({
            "id": delivery.id, "timestamp": delivery.timestamp,
            "signature": delivery.signature, "body": delivery.body,
        })).collect::<Vec<_>>(),
    });
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("deliveries.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
given = json.load(open(sys.argv[1]))
hook = Webhook(given["secret"])
results = []
for d in given["deliveries"]:
    headers = {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"], "webhook-signature": d["signature"]}
    try:
        hook.verify(d["body"], headers)
        results.append(True)
    except Exception:
        results.append(False)
print(json.dumps(results))
"#;
    let output = tokio::process::Command::new(bin.join("python"))
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "standardwebhooks: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
