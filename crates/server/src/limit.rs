//! Limits applied per request: a per-API-key request rate (429 `rate_limited` with
//! `Retry-After`) and a request timeout (503 `request_timeout`).
//!
//! The rate is a GCRA token bucket per key — `per_second` sustained, bursts up to `burst` — kept
//! in this instance's memory: no database round trip on the label path. With N instances
//! behind a balancer a key can reach N × the rate; set the limit per instance accordingly.
//! Only authenticated keys get a bucket, so the table is bounded by the number of keys, and
//! buckets that have refilled are dropped as it grows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// `server.rate_limit_per_second` and `server.rate_limit_burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second per key.
    pub per_second: u32,
    /// Requests a key may make at once after being quiet.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 100,
            burst: 200,
        }
    }
}

/// Buckets above this count are swept of the ones that have refilled.
const SWEEP_ABOVE: usize = 10_000;

/// The per-key buckets of one instance.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Mutex<RateLimit>,
    /// Each key's theoretical arrival time (GCRA): the bucket is full when it is in the past.
    buckets: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit: Mutex::new(limit),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_limit(&self, limit: RateLimit) {
        if let Ok(mut current) = self.limit.lock() {
            *current = limit;
        }
    }

    /// Takes one request from `key`'s bucket, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let limit = self.limit.lock().map(|limit| *limit).unwrap_or_default();
        let interval = Duration::from_secs(1) / limit.per_second.max(1);
        let tolerance = interval * limit.burst.max(1).saturating_sub(1);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > SWEEP_ABOVE {
            buckets.retain(|_, arrival| *arrival > now);
        }
        let arrival = buckets.get(key).copied().unwrap_or(now).max(now);
        let ahead = arrival - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        buckets.insert(key.to_owned(), arrival + interval);
        Ok(())
    }
}

/// Middleware: a request that takes longer than `server.request_timeout` is answered 503
/// (its work is dropped: a label purchase cut off this way is resumed by the client's retry
/// with the same `Idempotency-Key`, like one cut off by a crash).
pub async fn request_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let timeout = state.limits().request_timeout;
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 10,
            burst: 3,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("k", start).is_ok());
        }
        let wait = limiter.check_at("k", start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert!(limiter.check_at("k", start + wait).is_ok());
        assert!(limiter.check_at("k", start + wait).is_err());
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 1,
        });
        let now = Instant::now();
        assert!(limiter.check_at("a", now).is_ok());
        assert!(limiter.check_at("a", now).is_err());
        assert!(limiter.check_at("b", now).is_ok());
    }

    #[test]
    fn refilled_buckets_are_swept() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1000,
            burst: 1,
        });
        let now = Instant::now();
        for key in 0..=SWEEP_ABOVE {
            limiter.check_at(&key.to_string(), now).unwrap();
        }
        limiter
            .check_at("late", now + Duration::from_secs(1))
            .unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
