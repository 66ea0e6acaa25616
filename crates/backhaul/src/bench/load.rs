//! The load phase: N clients, each with its own keep-alive HTTP connection and the API key of
//! its tenant (or of its tenants, in turn, when there are more tenants than clients), buy
//! return labels in a loop — every request with a new `Idempotency-Key` — until the phase ends. Each client sends at least one request, and a request in flight when the time is
//! up is waited for (and counted), so the phase ends by itself a little after its duration.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};

/// What to send.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `http://127.0.0.1:PORT/v1/return-labels`.
    pub(crate) url: String,
    /// The label request, serialized once.
    pub(crate) body: Bytes,
    /// Makes this run's idempotency keys unique across runs on the same database.
    pub(crate) run_id: String,
}

/// What the clients saw.
#[derive(Debug, Default)]
pub(crate) struct Load {
    /// Labels bought (201).
    pub(crate) labels: u64,
    /// Failed requests by cause (`409 idempotency_key_in_use`, `transport`, …).
    pub(crate) errors: BTreeMap<String, u64>,
    /// Total latency of each bought label, as the client saw it.
    pub(crate) latencies: Vec<Duration>,
    /// The carrier's share of each (the `Server-Timing: carrier;dur=` of the response).
    pub(crate) carrier: Vec<Duration>,
    /// Latency minus the carrier's share: the service's own time (and the loopback hops).
    pub(crate) overheads: Vec<Duration>,
    /// From the first request to the last response.
    pub(crate) elapsed: Duration,
}

impl Load {
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn merge(&mut self, other: Load) {
        self.labels += other.labels;
        for (cause, count) in other.errors {
            *self.errors.entry(cause).or_default() += count;
        }
        self.latencies.extend(other.latencies);
        self.carrier.extend(other.carrier);
        self.overheads.extend(other.overheads);
    }
}

/// One benchmark client: one HTTP connection, kept alive between requests, and the API keys of
/// the tenants it buys for, in turn (usually one).
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    /// Never empty.
    keys: Vec<String>,
}

impl Client {
    pub(crate) fn new(api_key: &str) -> anyhow::Result<Self> {
        Self::rotating(vec![api_key.to_owned()])
    }

    /// A client buying for each of `keys`' tenants in turn.
    pub(crate) fn rotating(keys: Vec<String>) -> anyhow::Result<Self> {
        if keys.is_empty() {
            anyhow::bail!("a benchmark client needs an API key");
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the benchmark's HTTP client")?;
        Ok(Self { http, keys })
    }

    /// The key of its first tenant (the only one, unless it rotates).
    pub(crate) fn api_key(&self) -> &str {
        &self.keys[0]
    }

    /// The key of its `request`th request.
    fn key_for(&self, request: u64) -> &str {
        &self.keys[(request % self.keys.len() as u64) as usize]
    }
}

/// The tenants' keys client `index` of `clients` buys with: tenant `index mod tenants` when
/// there are as many clients as tenants or more, else every tenant `t` with `t mod clients =
/// index`, so that every tenant has a client.
pub(crate) fn keys_of_client(index: usize, clients: usize, keys: &[String]) -> Vec<String> {
    if keys.len() <= clients {
        return vec![keys[index % keys.len()].clone()];
    }
    keys.iter().skip(index).step_by(clients).cloned().collect()
}

/// Buys one label with `idempotency_key`; the status, the carrier's share and the body.
pub(crate) async fn buy(
    client: &Client,
    target: &Target,
    idempotency_key: &str,
) -> Result<(StatusCode, Option<Duration>, Bytes), reqwest::Error> {
    buy_with(client, client.api_key(), target, idempotency_key).await
}

async fn buy_with(
    client: &Client,
    api_key: &str,
    target: &Target,
    idempotency_key: &str,
) -> Result<(StatusCode, Option<Duration>, Bytes), reqwest::Error> {
    let response = client
        .http
        .post(&target.url)
        .bearer_auth(api_key)
        .header("idempotency-key", idempotency_key)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(target.body.clone())
        .send()
        .await?;
    let status = response.status();
    let carrier = response
        .headers()
        .get("server-timing")
        .and_then(|value| value.to_str().ok())
        .and_then(carrier_duration);
    let body = response.bytes().await?;
    Ok((status, carrier, body))
}

/// The `carrier` metric's duration from a `Server-Timing` header value
/// (`carrier;dur=12.345`, possibly among other metrics).
pub(crate) fn carrier_duration(header: &str) -> Option<Duration> {
    header.split(',').find_map(|metric| {
        let mut parts = metric.split(';').map(str::trim);
        if parts.next()? != "carrier" {
            return None;
        }
        let ms: f64 = parts
            .find_map(|param| param.strip_prefix("dur="))?
            .parse()
            .ok()?;
        (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
    })
}

/// Why a response is not a label, for the error breakdown.
fn error_cause(status: StatusCode, body: &[u8]) -> String {
    let code = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value["error"]["code"].as_str().map(str::to_owned));
    match code {
        Some(code) => format!("{} {code}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The target of client `index`: the servers in turn.
fn target_of(index: usize, targets: &[Target]) -> &Target {
    &targets[index % targets.len()]
}

/// One request per client, not measured: opens every connection before the clock starts.
/// `targets` (one per server) is never empty.
pub(crate) async fn warm_up(clients: &[Client], targets: &[Target]) -> anyhow::Result<()> {
    let requests = clients
        .iter()
        .enumerate()
        .map(|(index, client)| async move {
            let target = target_of(index, targets);
            let key = format!("bench-{}-warm-{index}", target.run_id);
            let (status, _, body) = buy(client, target, &key)
                .await
                .context("warming up: a label request failed")?;
            if status != StatusCode::CREATED {
                anyhow::bail!(
                    "warming up: a label request was answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            Ok(())
        });
    futures::future::try_join_all(requests).await?;
    Ok(())
}

/// Runs every client for `duration`, client i against `targets[i mod targets.len()]`.
pub(crate) async fn run(
    clients: Vec<Client>,
    targets: &[Target],
    duration: Duration,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(index, client)| {
            let target = target_of(index, targets).clone();
            tokio::spawn(async move { client_loop(index, &client, &target, deadline).await })
        })
        .collect();
    let mut load = Load::default();
    for task in tasks {
        load.merge(task.await.context("a benchmark client task failed")?);
    }
    load.elapsed = started.elapsed();
    Ok(load)
}

async fn client_loop(index: usize, client: &Client, target: &Target, deadline: Instant) -> Load {
    let mut load = Load::default();
    let mut sequence: u64 = 0;
    loop {
        let key = format!("bench-{}-{index}-{sequence}", target.run_id);
        let api_key = client.key_for(sequence);
        sequence += 1;
        let sent = Instant::now();
        match buy_with(client, api_key, target, &key).await {
            Ok((StatusCode::CREATED, carrier, _)) => {
                let latency = sent.elapsed();
                load.labels += 1;
                load.latencies.push(latency);
                // A fresh purchase always carries it; a replay would not (keys are unique).
                if let Some(carrier) = carrier {
                    load.carrier.push(carrier);
                    load.overheads.push(latency.saturating_sub(carrier));
                }
            }
            Ok((status, _, body)) => {
                *load.errors.entry(error_cause(status, &body)).or_default() += 1;
            }
            Err(error) => {
                let cause = if error.is_timeout() {
                    "timeout"
                } else {
                    "transport"
                };
                *load.errors.entry(cause.to_owned()).or_default() += 1;
            }
        }
        if Instant::now() >= deadline {
            return load;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carrier_duration_is_read_from_server_timing() {
        assert_eq!(
            carrier_duration("carrier;dur=12.500"),
            Some(Duration::from_micros(12_500))
        );
        assert_eq!(
            carrier_duration("db;dur=3, carrier;desc=\"USPS\";dur=0.250"),
            Some(Duration::from_micros(250))
        );
    }

    #[test]
    fn other_or_malformed_metrics_give_no_carrier_duration() {
        for header in ["db;dur=3", "carrier", "carrier;dur=x", "carrier;dur=-1", ""] {
            assert_eq!(carrier_duration(header), None, "{header}");
        }
    }

    #[test]
    fn every_tenant_has_a_client_and_every_client_a_tenant() {
        let keys: Vec<String> = (0..5).map(|t| format!("key{t}")).collect();
        assert_eq!(keys_of_client(3, 8, &keys), ["key3"]);
        assert_eq!(keys_of_client(7, 8, &keys), ["key2"]);
        assert_eq!(keys_of_client(0, 2, &keys), ["key0", "key2", "key4"]);
        assert_eq!(keys_of_client(1, 2, &keys), ["key1", "key3"]);
        assert_eq!(keys_of_client(0, 1, &keys).len(), 5);
    }

    #[test]
    fn clients_take_the_servers_in_turn() {
        let targets: Vec<Target> = ["a", "b"]
            .into_iter()
            .map(|url| Target {
                url: url.to_owned(),
                body: Bytes::new(),
                run_id: "r".to_owned(),
            })
            .collect();
        let urls: Vec<&str> = (0..4)
            .map(|index| target_of(index, &targets).url.as_str())
            .collect();
        assert_eq!(urls, ["a", "b", "a", "b"]);
    }

    #[test]
    fn a_rotating_client_takes_its_keys_in_turn() {
        let client = Client::rotating(vec!["a".to_owned(), "b".to_owned()]).unwrap();
        assert_eq!(client.api_key(), "a");
        let used: Vec<&str> = (0..4).map(|request| client.key_for(request)).collect();
        assert_eq!(used, ["a", "b", "a", "b"]);
    }

    #[test]
    fn errors_are_named_by_status_and_api_code() {
        let body = br#"{"error": {"code": "idempotency_key_in_use", "message": "busy"}}"#;
        assert_eq!(
            error_cause(StatusCode::CONFLICT, body),
            "409 idempotency_key_in_use"
        );
        assert_eq!(error_cause(StatusCode::BAD_GATEWAY, b"<html>"), "502");
    }
}
