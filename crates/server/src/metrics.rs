//! Prometheus metrics (`GET /metrics`): requests by route and status, request latency,
//! carrier calls by outcome and their latency, and the carrier-token cache's hits and token
//! calls, sign-ins whose carrier shared nothing to pre-fill, and the webhook deliveries: attempts by outcome and their duration, the outbox's
//! depth and the age of its oldest undelivered event (read from Postgres at each scrape).

use std::sync::Arc;
use std::time::Duration;

use accounts::PgTokenCache;
use carrier::CarrierError;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CarrierLabels {
    carrier: String,
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CarrierOnly {
    carrier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DeliveryLabels {
    outcome: &'static str,
}

/// How a webhook delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// A 2xx.
    Succeeded,
    /// A failure that will be retried.
    FailedAttempt,
    /// The last failure of a delivery whose retries are over.
    Exhausted,
}

impl DeliveryOutcome {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Succeeded => "succeeded",
            DeliveryOutcome::FailedAttempt => "failed_attempt",
            DeliveryOutcome::Exhausted => "exhausted",
        }
    }
}

/// The `method` label of a request: the standard methods by name, anything else `other` (a
/// client can send any token as a method; each would otherwise become a series forever).
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    carrier_calls: Family<CarrierLabels, Counter>,
    carrier_latency: Family<CarrierLabels, Histogram>,
    connections: Gauge,
    tracking_polls: Family<CarrierLabels, Counter>,
    tracking_pushes: Family<CarrierLabels, Counter>,
    tracking_subscriptions: Family<CarrierLabels, Counter>,
    prefill_failures: Family<CarrierOnly, Counter>,
    token_cache: Option<Arc<PgTokenCache>>,
    deliveries: Family<DeliveryLabels, Counter>,
    delivery_latency: Histogram,
    outbox_depth: Gauge,
    outbox_oldest: Gauge<f64, std::sync::atomic::AtomicU64>,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new(token_cache: Option<Arc<PgTokenCache>>) -> Self {
        let mut registry = Registry::with_prefix("backhaul");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram);
        let carrier_calls = Family::<CarrierLabels, Counter>::default();
        let carrier_latency =
            Family::<CarrierLabels, Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "carrier_calls",
            "Carrier calls by outcome",
            carrier_calls.clone(),
        );
        registry.register(
            "carrier_call_duration_seconds",
            "Carrier call latency by outcome",
            carrier_latency.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "http_connections_open",
            "HTTP connections being served (at most server.max_connections)",
            connections.clone(),
        );
        let tracking_polls = Family::<CarrierLabels, Counter>::default();
        registry.register(
            "tracking_polls",
            "Labels polled for tracking, by carrier and outcome (polled, failed, over_budget)",
            tracking_polls.clone(),
        );
        let tracking_pushes = Family::<CarrierLabels, Counter>::default();
        registry.register(
            "tracking_pushes",
            "Carrier tracking notifications received, by carrier and outcome (accepted, \
             duplicate_or_unknown, refused, malformed, error, token_issued, token_refused)",
            tracking_pushes.clone(),
        );
        let tracking_subscriptions = Family::<CarrierLabels, Counter>::default();
        registry.register(
            "tracking_subscription_checks",
            "Push subscriptions checked or made, by carrier and the state found or the failure",
            tracking_subscriptions.clone(),
        );
        let prefill_failures = Family::<CarrierOnly, Counter>::default();
        registry.register(
            "oauth_prefill_failures",
            "Sign-ins whose carrier shared no account details to pre-fill (its call failed or \
             named nothing), by carrier; the account was connected all the same",
            prefill_failures.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome (succeeded, failed_attempt, exhausted)",
            deliveries.clone(),
        );
        let delivery_latency = latency_histogram();
        registry.register(
            "webhook_attempt_duration_seconds",
            "How long a webhook delivery attempt took",
            delivery_latency.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "webhook_outbox_depth",
            "Undelivered webhook deliveries of enabled endpoints",
            outbox_depth.clone(),
        );
        let outbox_oldest = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "webhook_outbox_oldest_age_seconds",
            "Age of the oldest undelivered webhook delivery's event",
            outbox_oldest.clone(),
        );
        Self {
            registry,
            deliveries,
            delivery_latency,
            outbox_depth,
            outbox_oldest,
            connections,
            tracking_polls,
            tracking_pushes,
            tracking_subscriptions,
            prefill_failures,
            requests,
            latency,
            carrier_calls,
            carrier_latency,
            token_cache,
        }
    }

    /// Records one HTTP request; `route` is the matched route template (or `unmatched`), never
    /// the raw path, and `method` one of [`method_label`]'s: the series are a closed set
    /// whatever clients send.
    pub fn request(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The gauge of open connections, which the server moves ([`crate::serve`]).
    pub fn connections(&self) -> &Gauge {
        &self.connections
    }

    /// Records one carrier call: `ok` or the error's kind.
    pub fn carrier_call(&self, carrier: &str, error: Option<&CarrierError>, elapsed: Duration) {
        let labels = CarrierLabels {
            carrier: carrier.to_owned(),
            outcome: error.map_or("ok", |error| error.kind().as_str()).to_owned(),
        };
        self.carrier_calls.get_or_create(&labels).inc();
        self.carrier_latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Records `labels` labels polled (or not) for tracking.
    pub fn tracking_poll(&self, carrier: &str, outcome: &'static str, labels: usize) {
        self.tracking_polls
            .get_or_create(&CarrierLabels {
                carrier: carrier.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(u64::try_from(labels).unwrap_or(u64::MAX));
    }

    /// Records one carrier notification (or listener token request) and what became of it.
    pub fn tracking_push(&self, carrier: &str, outcome: &'static str) {
        // `carrier` comes from the path: only registered carriers reach here.
        self.tracking_pushes
            .get_or_create(&CarrierLabels {
                carrier: carrier.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records one push subscription check or label subscription call.
    pub fn tracking_subscription(&self, carrier: &str, outcome: &str) {
        self.tracking_subscriptions
            .get_or_create(&CarrierLabels {
                carrier: carrier.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records one sign-in whose carrier shared nothing to pre-fill.
    pub fn oauth_prefill_failure(&self, carrier: &str) {
        // `carrier` is a registered carrier's id: the series are a closed set.
        self.prefill_failures
            .get_or_create(&CarrierOnly {
                carrier: carrier.to_owned(),
            })
            .inc();
    }

    /// Records one webhook delivery attempt.
    pub fn webhook_attempt(&self, outcome: DeliveryOutcome, elapsed: Duration) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                outcome: outcome.as_str(),
            })
            .inc();
        self.delivery_latency.observe(elapsed.as_secs_f64());
    }

    /// Sets the outbox gauges (at scrape time, from Postgres).
    pub fn set_outbox(&self, depth: accounts::webhook::OutboxDepth) {
        self.outbox_depth.set(depth.pending);
        self.outbox_oldest.set(depth.oldest_age.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        use std::fmt::Write as _;
        let mut out = String::new();
        encode_registry(&mut out, &self.registry)?;
        if let Some(cache) = &self.token_cache {
            let stats = cache.stats();
            writeln!(
                out,
                "# HELP backhaul_token_cache_hits Carrier-token lookups served without a token call."
            )?;
            writeln!(out, "# TYPE backhaul_token_cache_hits counter")?;
            writeln!(out, "backhaul_token_cache_hits_total {}", stats.hits())?;
            writeln!(
                out,
                "# HELP backhaul_token_cache_fetches Carrier-token lookups that called the carrier."
            )?;
            writeln!(out, "# TYPE backhaul_token_cache_fetches counter")?;
            writeln!(out, "backhaul_token_cache_fetches_total {}", stats.fetches)?;
        }
        encode_eof(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
        let invented = http::Method::from_bytes(b"XYZZY").unwrap();
        assert_eq!(method_label(&invented), "other");
    }
}
