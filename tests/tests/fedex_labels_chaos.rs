//! FedEx purchases and their keys through the HTTP API, against the strict FedEx simulator:
//! the same key and body answer the same label, another body under the key is refused, one
//! key under 64 concurrent requests makes one Ship call, and what FedEx's failures do to a key.
//!
//! FedEx's Ship API takes no idempotency key and the plugin never resends a purchase whose
//! outcome is unknown (`Capabilities::resend_after_unknown_outcome` is false, as for UPS): a
//! timeout, a reset or a broken reply once FedEx may have committed is 504 and the key stays
//! `outcome_unknown` — the same key then answers 409 `label_outcome_unknown` and sends nothing,
//! so no second label is ever bought by accident. A 503 or a 429 is FedEx refusing to take the
//! request: 503 `carrier_unavailable` with `Retry-After`, and the same key buys exactly one
//! label afterwards. Under load with every fault at random, the simulator's ledger holds exactly
//! the labels the clients were given plus one per key left in doubt.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backhaul_tests::fedex::label_request;
use backhaul_tests::{PluginOptions, TestApp};
use fedex_sim::{Fault, FaultRule, route};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Mutex;

/// The plugin's request timeout in these tests, and a delay that outlasts it.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(800);
const SPIKE_MS: u64 = 1_500;

/// `POST /v1/return-labels`: the status, `Retry-After` and the JSON answer.
async fn buy(app: &TestApp, key: &str, body: &Value) -> (u16, Option<u64>, Value) {
    let response = app.buy(&app.tenant_key, key, body).await;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.json().await.unwrap())
}

/// The phase the server keeps for `key`.
async fn key_phase(app: &TestApp, key: &str) -> Option<String> {
    sqlx::query_scalar("SELECT phase FROM idempotency_keys WHERE key = $1")
        .bind(key)
        .fetch_optional(&app.owner)
        .await
        .unwrap()
}

async fn stored_labels(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM return_labels")
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

fn on_ship(fault: Fault, times: Option<u32>, probability: Option<f64>) -> FaultRule {
    FaultRule {
        route: route::SHIP.to_owned(),
        fault,
        times,
        probability,
    }
}

/// A system whose FedEx plugin gives up after [`REQUEST_TIMEOUT`], with the demo own-app
/// account.
async fn fedex_app(owner: PgPool) -> TestApp {
    let app = TestApp::spawn_with(
        owner,
        PluginOptions {
            request_timeout: REQUEST_TIMEOUT,
            ..PluginOptions::default()
        },
    )
    .await;
    app.create_fedex_account(&app.tenant_key, "FedEx East", json!({}))
        .await;
    app
}

/// Waits (bounded) until the simulator's ledger has `entries` shipments: a request delayed
/// past the plugin's timeout is handled by FedEx after the caller gave up.
async fn ledger_reaches(app: &TestApp, entries: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.fedex_ledger().len() < entries {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ledger has {} shipments, not {entries}",
            app.fedex_ledger().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_same_key_and_body_answer_the_same_fedex_label_without_a_second_ship_call(
    owner: PgPool,
) {
    let app = fedex_app(owner).await;
    let body = label_request();
    let (status, _, first) = buy(&app, "rma-1", &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, _, again) = buy(&app, "rma-1", &body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again, first, "the stored answer, replayed");
    assert_eq!(app.fedex_calls(route::SHIP), 1);
    assert_eq!(app.fedex_ledger().len(), 1);
    assert_eq!(
        app.fedex_ledger()[0].tracking_numbers,
        [first["tracking_number"].as_str().unwrap()]
    );
    assert_eq!(stored_labels(&app).await, 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_same_key_with_another_body_is_refused_and_sends_nothing_to_fedex(owner: PgPool) {
    let app = fedex_app(owner).await;
    let (status, _, first) = buy(&app, "rma-2", &label_request()).await;
    assert_eq!(status, 201, "{first}");
    let mut other = label_request();
    other["service"] = json!("fedex_express_saver_return");
    let (status, _, refused) = buy(&app, "rma-2", &other).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.fedex_calls(route::SHIP), 1);
    assert_eq!(app.fedex_ledger().len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn sixty_four_concurrent_fedex_purchases_with_one_key_make_one_ship_call(owner: PgPool) {
    let app = Arc::new(fedex_app(owner).await);
    app.fedex
        .simulator
        .inject(on_ship(Fault::Latency { ms: 300 }, None, None));
    let body = label_request();
    let requests = (0..64).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        async move { buy(&app, "one-key", &body).await }
    });
    let outcomes = futures::future::join_all(requests).await;
    let successes: Vec<&Value> = outcomes
        .iter()
        .filter(|(status, _, _)| *status == 201)
        .map(|(_, _, body)| body)
        .collect();
    assert!(!successes.is_empty());
    assert!(
        successes.iter().all(|body| *body == successes[0]),
        "identical bodies"
    );
    for (status, _, body) in &outcomes {
        assert!(
            *status == 201 || (*status == 409 && body["error"]["code"] == "idempotency_key_in_use"),
            "{status} {body}"
        );
    }
    assert_eq!(app.fedex_calls(route::SHIP), 1, "one Ship call");
    let ledger = app.fedex_ledger();
    assert_eq!(ledger.len(), 1, "exactly one label at FedEx");
    assert_eq!(
        ledger[0].tracking_numbers,
        [successes[0]["tracking_number"].as_str().unwrap()]
    );
}

/// Buys with `fault` armed once on Ship, then retries with the same key; returns how many
/// shipments FedEx made for the first attempt. The first answer is 504 `carrier_unavailable`
/// with `Retry-After`, the key kept `outcome_unknown` and no label stored; each retry with the
/// key is 409 `label_outcome_unknown` and sends nothing. A new key buys one, deliberately.
async fn in_doubt_then_retried(app: &TestApp, fault: Fault) -> usize {
    app.fedex.simulator.inject(on_ship(fault, Some(1), None));
    let body = label_request();
    let (status, retry_after, first) = buy(app, "rma-unknown", &body).await;
    assert_eq!(status, 504, "{first}");
    assert_eq!(first["error"]["code"], "carrier_unavailable", "{first}");
    assert!(retry_after.expect("Retry-After") >= 1);
    assert_eq!(
        app.fedex_calls(route::SHIP),
        1,
        "the plugin did not resend by itself"
    );
    assert_eq!(
        key_phase(app, "rma-unknown").await.as_deref(),
        Some("outcome_unknown")
    );
    assert_eq!(stored_labels(app).await, 0);

    for _ in 0..2 {
        let (status, _, answer) = buy(app, "rma-unknown", &body).await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "label_outcome_unknown", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains("new Idempotency-Key"), "{message}");
    }
    assert_eq!(app.fedex_calls(route::SHIP), 1, "the retries sent nothing");
    assert_eq!(stored_labels(app).await, 0);
    assert_eq!(
        key_phase(app, "rma-unknown").await.as_deref(),
        Some("outcome_unknown")
    );
    let recorded = app.fedex_ledger().len();

    let (status, _, label) = buy(app, "rma-unknown-again", &body).await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(app.fedex_calls(route::SHIP), 2, "a new key buys once");
    assert_eq!(app.fedex_ledger().len(), recorded + 1);
    recorded
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_reset_after_fedex_committed_is_504_and_the_same_key_never_buys_a_second_label(
    owner: PgPool,
) {
    let app = fedex_app(owner).await;
    let recorded = in_doubt_then_retried(&app, Fault::ResetAfterCommit).await;
    assert_eq!(recorded, 1, "FedEx had made the shipment before the reset");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_fedex_timeout_is_504_and_the_same_key_never_buys_a_second_label(owner: PgPool) {
    let app = fedex_app(owner).await;
    // FedEx handles the delayed request after the plugin gave up: wait for its shipment
    // before the retries, so they run once FedEx has committed.
    app.fedex
        .simulator
        .inject(on_ship(Fault::Latency { ms: SPIKE_MS }, Some(1), None));
    let body = label_request();
    let (status, retry_after, first) = buy(&app, "rma-slow", &body).await;
    assert_eq!(status, 504, "{first}");
    assert_eq!(first["error"]["code"], "carrier_unavailable", "{first}");
    assert!(retry_after.expect("Retry-After") >= 1);
    ledger_reaches(&app, 1).await;
    for _ in 0..2 {
        let (status, _, answer) = buy(&app, "rma-slow", &body).await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "label_outcome_unknown", "{answer}");
    }
    assert_eq!(app.fedex_calls(route::SHIP), 1, "the retries sent nothing");
    assert_eq!(app.fedex_ledger().len(), 1, "one label at FedEx, never two");
    assert_eq!(stored_labels(&app).await, 0);
    assert_eq!(
        key_phase(&app, "rma-slow").await.as_deref(),
        Some("outcome_unknown")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_truncated_fedex_reply_is_504_and_the_same_key_never_buys_a_second_label(owner: PgPool) {
    let app = fedex_app(owner).await;
    let recorded = in_doubt_then_retried(&app, Fault::Malformed).await;
    assert_eq!(
        recorded, 1,
        "FedEx had made the shipment before the reply broke"
    );
}

/// fedex-sim's `status` fault answers without handling the request, so nothing is recorded;
/// the plugin cannot know that from a 500 ("We encountered an unexpected error").
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_fedex_500_is_an_unknown_outcome_and_the_same_key_sends_nothing(owner: PgPool) {
    let app = fedex_app(owner).await;
    let recorded = in_doubt_then_retried(&app, Fault::Status { status: 500 }).await;
    assert_eq!(recorded, 0, "fedex-sim made no shipment for its 500");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_fedex_503_or_429_is_503_with_retry_after_and_the_same_key_then_buys_one_label(
    owner: PgPool,
) {
    let app = fedex_app(owner).await;
    let body = label_request();
    for (index, (fault, expected_retry_after)) in [
        (Fault::Status { status: 503 }, 1),
        (Fault::RateLimit { retry_after_s: 7 }, 7),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("busy-{index}");
        let calls = app.fedex_calls(route::SHIP);
        app.fedex.simulator.inject(on_ship(fault, Some(1), None));
        let (status, retry_after, refused) = buy(&app, &key, &body).await;
        assert_eq!(status, 503, "{refused}");
        assert_eq!(refused["error"]["code"], "carrier_unavailable", "{refused}");
        assert_eq!(
            retry_after,
            Some(expected_retry_after),
            "FedEx's Retry-After is passed on"
        );
        assert_eq!(app.fedex_calls(route::SHIP), calls + 1);
        assert_eq!(app.fedex_ledger().len(), index, "FedEx bought nothing");
        let (status, _, label) = buy(&app, &key, &body).await;
        assert_eq!(status, 201, "{label}");
        let (status, _, again) = buy(&app, &key, &body).await;
        assert_eq!((status, &again), (201, &label), "the key's one label");
        assert_eq!(app.fedex_calls(route::SHIP), calls + 2, "sent once more");
        assert_eq!(app.fedex_ledger().len(), index + 1, "exactly one label");
        assert_eq!(
            app.fedex_ledger()[index].tracking_numbers,
            [label["tracking_number"].as_str().unwrap()]
        );
    }
}

/// What the clients of the load saw.
#[derive(Debug, Default)]
struct Load {
    /// Key → the tracking number its 201 carried.
    bought: BTreeMap<String, String>,
    /// Keys answered `label_outcome_unknown`: the client stopped using them.
    in_doubt: Vec<String>,
    /// Every status received, in order.
    statuses: Vec<u16>,
    /// Answers outside the contract.
    problems: Vec<String>,
}

/// Buys with `key` as a careful client does: 503 and 504 are retried with the same key after
/// `Retry-After` (at most half a second here); a 201 is the label; 409 `label_outcome_unknown`
/// means the key's purchase may have happened, so the client gives the key up rather than buy
/// twice. Anything else is a problem.
async fn buy_or_give_up(app: &TestApp, key: &str, body: &Value, load: &Mutex<Load>) {
    loop {
        let (status, retry_after, answer) = buy(app, key, body).await;
        let mut load = load.lock().await;
        load.statuses.push(status);
        match (status, retry_after, answer["error"]["code"].as_str()) {
            (201, _, _) => {
                let number = answer["tracking_number"].as_str().unwrap().to_owned();
                load.bought.insert(key.to_owned(), number);
                return;
            }
            (409, _, Some("label_outcome_unknown")) => {
                load.in_doubt.push(key.to_owned());
                return;
            }
            (503 | 504, Some(seconds), Some("carrier_unavailable")) => {
                drop(load);
                tokio::time::sleep(Duration::from_secs(seconds).min(Duration::from_millis(500)))
                    .await;
            }
            _ => {
                load.problems.push(format!(
                    "{key}: {status} (Retry-After {retry_after:?}): {answer}"
                ));
                return;
            }
        }
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn fedex_faults_under_load_buy_no_label_twice_and_lose_none(owner: PgPool) {
    tokio::time::timeout(Duration::from_secs(240), fedex_faults_under_load(owner))
        .await
        .expect("the FedEx chaos test finished in time");
}

/// Three clients buy eight labels each while FedEx's Ship route refuses 5 % of requests with a
/// 503, 5 % with a 429, cuts 5 % of the connections after committing, breaks 5 % of the replies
/// after committing and delays 5 % past the plugin's timeout (each fault also once for sure).
/// Afterwards: every label a client was given is FedEx's and stored once; FedEx made exactly
/// one more shipment per key left in doubt and no other; every Ship call is a shipment or a
/// refusal the client retried — nothing was ever resent after FedEx may have acted.
async fn fedex_faults_under_load(owner: PgPool) {
    const CLIENTS: usize = 3;
    const LABELS_PER_CLIENT: usize = 8;
    let app = Arc::new(fedex_app(owner).await);
    let faults = [
        Fault::Status { status: 503 },
        Fault::RateLimit { retry_after_s: 1 },
        Fault::ResetAfterCommit,
        Fault::Malformed,
        Fault::Latency { ms: SPIKE_MS },
    ];
    let simulator = &app.fedex.simulator;
    for fault in &faults {
        simulator
            .try_inject(on_ship(fault.clone(), Some(1), None))
            .unwrap();
    }
    for fault in &faults {
        simulator
            .try_inject(on_ship(fault.clone(), None, Some(0.05)))
            .unwrap();
    }
    let load = Arc::new(Mutex::new(Load::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (app, load) = (app.clone(), load.clone());
            tokio::spawn(async move {
                let body = label_request();
                for label in 0..LABELS_PER_CLIENT {
                    let key = format!("fedex-chaos-{client}-{label}");
                    buy_or_give_up(&app, &key, &body, &load).await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let load = load.lock().await;
    assert!(load.problems.is_empty(), "{:#?}", load.problems);
    assert_eq!(
        load.bought.len() + load.in_doubt.len(),
        CLIENTS * LABELS_PER_CLIENT
    );
    assert!(!load.in_doubt.is_empty(), "{:?}", load.statuses);
    assert!(load.statuses.contains(&503), "{:?}", load.statuses);
    assert!(simulator.counters().faults_injected >= faults.len() as u64);

    // Every fault here either commits (reset, broken reply, delay) or refuses (503, 429): once
    // the delayed requests have woken, FedEx's books are the labels given plus one per key in
    // doubt.
    ledger_reaches(&app, load.bought.len() + load.in_doubt.len()).await;
    let ledger = app.fedex_ledger();
    assert_eq!(ledger.len(), load.bought.len() + load.in_doubt.len());
    let issued: std::collections::BTreeSet<&String> = ledger
        .iter()
        .flat_map(|entry| &entry.tracking_numbers)
        .collect();
    assert_eq!(issued.len(), ledger.len(), "FedEx issued no number twice");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT idempotency_key, tracking_number FROM return_labels")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    let stored: BTreeMap<String, String> = rows.iter().cloned().collect();
    assert_eq!(stored.len(), rows.len(), "one label per key");
    assert_eq!(
        stored, load.bought,
        "every 201 is its key's one stored label"
    );
    assert!(
        load.bought.values().all(|number| issued.contains(number)),
        "every label given is FedEx's"
    );
    let refused = load
        .statuses
        .iter()
        .filter(|status| **status == 503)
        .count();
    assert_eq!(
        app.fedex_calls(route::SHIP) as usize,
        ledger.len() + refused,
        "each Ship call is a shipment or a refusal: none resent after FedEx may have acted"
    );
}
