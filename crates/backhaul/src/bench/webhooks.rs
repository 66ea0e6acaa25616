//! `backhaul bench --webhooks`: a local receiver, one endpoint per benchmark tenant (every
//! event type), and the webhook figures.
//!
//! - During the label phase the receiver counts what the label path's events bring (each
//!   label change the server records as an event is delivered to the tenant's endpoint).
//! - Then a webhook phase: the clients send `webhook.test` events
//!   (`POST /v1/webhook-endpoints/{id}/test`, each one committed event and one delivery) for
//!   as long as a phase lasts; the receiver's 2xx times give deliveries per second and the lag
//!   from each event's commit (its `created_at`, the body's `timestamp`) to the receiver.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::load::Client;
use super::stats::Percentiles;

/// One delivery the receiver answered 2xx.
#[derive(Debug, Clone)]
struct Arrival {
    event_id: String,
    committed_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
}

/// The benchmark's webhook receiver on a loopback port.
#[derive(Debug, Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
}

impl Receiver {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the benchmark's webhook receiver")?;
        let url = format!("http://{}/hooks", listener.local_addr()?);
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(arrivals.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, arrivals })
    }

    async fn count(&self) -> usize {
        self.arrivals.lock().await.len()
    }
}

async fn receive(State(arrivals): State<Arc<Mutex<Vec<Arrival>>>>, body: Bytes) -> StatusCode {
    let received_at = Utc::now();
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let committed_at = event["timestamp"]
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc));
    match (event["id"].as_str(), committed_at) {
        (Some(id), Some(committed_at)) => {
            arrivals.lock().await.push(Arrival {
                event_id: id.to_owned(),
                committed_at,
                received_at,
            });
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Registers the receiver for every event type with `client`'s tenant; the endpoint's id.
pub(crate) async fn register(
    client: &Client,
    api: &str,
    receiver: &Receiver,
) -> anyhow::Result<String> {
    let response = client
        .http
        .post(format!("{api}/v1/webhook-endpoints"))
        .bearer_auth(client.api_key())
        .json(&serde_json::json!({"url": receiver.url, "events": ["*"], "description": "backhaul bench"}))
        .send()
        .await
        .context("registering the benchmark's webhook endpoint")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status != reqwest::StatusCode::CREATED {
        bail!("registering the benchmark's webhook endpoint was answered {status}: {body}");
    }
    body["id"]
        .as_str()
        .map(str::to_owned)
        .context("the endpoint's id")
}

/// The webhook figures of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct WebhookFigures {
    /// Deliveries the label phase's events brought (`return_label.created`, …), and their lag
    /// from the event's commit to the receiver's 2xx.
    pub(crate) during_labels: u64,
    pub(crate) label_lag_p50_ms: f64,
    pub(crate) label_lag_p99_ms: f64,
    /// `webhook.test` events sent in the webhook phase, and their deliveries received.
    pub(crate) test_events: u64,
    pub(crate) deliveries: u64,
    /// Deliveries per second, from the phase's start to the last arrival.
    pub(crate) deliveries_per_s: f64,
    /// From the event's commit to the receiver's 2xx.
    pub(crate) lag_p50_ms: f64,
    pub(crate) lag_p99_ms: f64,
    pub(crate) lag_max_ms: f64,
}

/// The deliveries so far (the label phase's, read after it): how many, and their lag
/// percentiles.
pub(crate) async fn delivered(receiver: &Receiver) -> (u64, Option<Percentiles>) {
    let arrivals = receiver.arrivals.lock().await.clone();
    (arrivals.len() as u64, Percentiles::of(lags(&arrivals)))
}

fn lags(arrivals: &[Arrival]) -> Vec<Duration> {
    arrivals
        .iter()
        .map(|arrival| {
            (arrival.received_at - arrival.committed_at)
                .to_std()
                .unwrap_or_default()
        })
        .collect()
}

/// The webhook phase: every client sends test events to its tenant's endpoint for
/// `duration`; then waits (at most a minute) for their deliveries.
pub(crate) async fn run(
    clients: &[(Client, String)],
    api: &str,
    receiver: &Receiver,
    duration: Duration,
    during_labels: (u64, Option<Percentiles>),
) -> anyhow::Result<WebhookFigures> {
    let before = receiver.count().await;
    let started = Instant::now();
    let started_at = Utc::now();
    let sends = clients.iter().map(|(client, endpoint)| async move {
        let url = format!("{api}/v1/webhook-endpoints/{endpoint}/test");
        let mut sent = Vec::new();
        while started.elapsed() < duration {
            let response = client
                .http
                .post(&url)
                .bearer_auth(client.api_key())
                .send()
                .await;
            if let Ok(response) = response
                && response.status() == reqwest::StatusCode::ACCEPTED
                && let Ok(body) = response.json::<serde_json::Value>().await
                && let Some(id) = body["event_id"].as_str()
            {
                sent.push(id.to_owned());
            }
        }
        sent
    });
    let sent: Vec<String> = futures::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let arrivals = loop {
        let arrivals = receiver.arrivals.lock().await[before..].to_vec();
        let arrived: std::collections::HashSet<&str> =
            arrivals.iter().map(|a| a.event_id.as_str()).collect();
        if sent.iter().all(|id| arrived.contains(id.as_str())) || Instant::now() > deadline {
            break arrivals;
        }
        drop(arrived);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let last = arrivals
        .iter()
        .map(|arrival| arrival.received_at)
        .max()
        .unwrap_or(started_at);
    let elapsed = (last - started_at).to_std().unwrap_or_default();
    let lag = Percentiles::of(lags(&arrivals));
    let (during_labels, label_lag) = during_labels;
    Ok(WebhookFigures {
        during_labels,
        label_lag_p50_ms: label_lag.map_or(0.0, |lag| lag.p50_ms),
        label_lag_p99_ms: label_lag.map_or(0.0, |lag| lag.p99_ms),
        test_events: sent.len() as u64,
        deliveries: arrivals.len() as u64,
        deliveries_per_s: super::stats::rate(arrivals.len() as u64, elapsed),
        lag_p50_ms: lag.map_or(0.0, |lag| lag.p50_ms),
        lag_p99_ms: lag.map_or(0.0, |lag| lag.p99_ms),
        lag_max_ms: lag.map_or(0.0, |lag| lag.max_ms),
    })
}
