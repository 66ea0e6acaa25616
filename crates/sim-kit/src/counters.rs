//! Per-route call counters, the same books for every simulator: calls, successes and
//! failures by route name and by OAuth grant type, and the number of faults applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Calls of one route (or one token grant type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// Requests received.
    pub calls: u64,
    /// Successful responses (a status below 400, unless the simulator's protocol refuses
    /// with another status, as USPS Web Tools does with 200).
    pub ok: u64,
    /// Refusals: a status of 400 or more (injected faults included), or the protocol's own
    /// refusal document.
    pub error: u64,
}

/// Call counters, by route name and by OAuth grant type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// By route name (each simulator's `route` module names them).
    pub routes: BTreeMap<String, RouteCount>,
    /// Token requests by `grant_type` as sent (`client_credentials`, `authorization_code`,
    /// `refresh_token`, or whatever unsupported value a client sent).
    pub token_grants: BTreeMap<String, RouteCount>,
    /// Fault rules applied.
    pub faults_injected: u64,
}

impl Counters {
    /// The counts of `route` (zero when it was never called).
    pub fn route(&self, route: &str) -> RouteCount {
        self.routes.get(route).copied().unwrap_or_default()
    }

    /// The counts of token requests with `grant_type`.
    pub fn grant(&self, grant_type: &str) -> RouteCount {
        self.token_grants
            .get(grant_type)
            .copied()
            .unwrap_or_default()
    }

    /// Counts one call of `name` in `map`, as a success when `ok`.
    pub fn record(map: &mut BTreeMap<String, RouteCount>, name: &str, ok: bool) {
        let count = map.entry(name.to_owned()).or_default();
        count.calls += 1;
        if ok {
            count.ok += 1;
        } else {
            count.error += 1;
        }
    }
}
