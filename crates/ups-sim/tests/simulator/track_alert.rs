//! Track Alert v2: subscriptions and each refusal of the spec's error table, expiry after 14
//! days on the simulator clock, and pushes through the `clientOauth2` flow to a test listener.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{Value, json};
use ups_sim::shipping::schema::{TrackingSpec, tracking_violations};
use ups_sim::{PushOutcome, PushRecord, ScanKind, WebhookConfig, demo};

use crate::common::{Answer, Harness, answer};
use crate::track::shipped;

const LISTENER_ID: &str = "test-listener";
const LISTENER_SECRET: &str = "test-listener-secret";
const PATH: &str = "/api/track/v2/subscription/standard/package";

async fn subscribe_raw(
    harness: &Harness,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut request = harness.http.post(harness.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    answer(request.send().await.unwrap()).await
}

const HEADERS: &[(&str, &str)] = &[("transId", "alert-test-0001"), ("transactionSrc", "tests")];

async fn subscribe(harness: &Harness, token: &str, numbers: &[&str]) -> Answer {
    let body = json!({"locale": "en_US", "countryCode": "US", "trackingNumberList": numbers});
    subscribe_raw(harness, token, PATH, HEADERS, Some(&body)).await
}

#[tokio::test]
async fn issued_numbers_are_subscribed_and_the_rest_listed_invalid() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let answer = subscribe(
        &harness,
        &token,
        &[&number, "1Z1234567$8", "1Z999AA10123456784"],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        tracking_violations(
            TrackingSpec::TrackAlert,
            "PackageSubscriptionSuccessResponse",
            &answer.body
        )
        .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(answer.body["validTrackingNumbers"], json!([number]));
    assert_eq!(
        answer.body["invalidTrackingNumbers"],
        json!(["1Z1234567$8", "1Z999AA10123456784"])
    );
    let subscriptions = harness.simulator().subscriptions();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].app, demo::CLIENT_ID);
}

#[tokio::test]
async fn no_valid_number_is_vss210_with_the_invalid_list() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = subscribe(&harness, &token, &["1Z999AA10123456784"]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "VSS210");
    assert_eq!(
        answer.body["invalidTrackingNumbers"],
        json!(["1Z999AA10123456784"])
    );
}

#[tokio::test]
async fn over_100_numbers_is_vss220() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let numbers = vec![number.as_str(); 101];
    assert_eq!(subscribe(&harness, &token, &numbers).await.code(), "VSS220");
}

#[tokio::test]
async fn each_body_refusal_has_the_specs_code() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    let cases = [
        (
            json!({"countryCode": "US", "trackingNumberList": [number]}),
            "VSS300",
        ),
        (
            json!({"locale": "english", "trackingNumberList": [number]}),
            "VSS310",
        ),
        (
            json!({"locale": "en_US", "countryCode": "usa", "trackingNumberList": [number]}),
            "VSS400",
        ),
        (json!({"locale": "en_US", "countryCode": "US"}), "VSS200"),
        (json!({}), "VSS110"),
        (
            json!({"locale": "en_US", "trackingNumberList": "1Z"}),
            "VSS000",
        ),
    ];
    for (body, code) in cases {
        let answer = subscribe_raw(&harness, &token, PATH, HEADERS, Some(&body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), code, "{body}: {}", answer.body);
    }
    let empty = subscribe_raw(
        &harness,
        &token,
        PATH,
        &[
            ("transId", "t"),
            ("transactionSrc", "s"),
            ("content-type", "application/json"),
        ],
        None,
    )
    .await;
    assert_eq!(empty.code(), "VSS110");
}

#[tokio::test]
async fn each_header_refusal_has_the_specs_code() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let body = json!({"locale": "en_US", "trackingNumberList": ["1Z999AA10123456784"]});
    let long = "x".repeat(33);
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("transactionSrc", "tests")], "VSS002"),
        (
            &[("transId", long.as_str()), ("transactionSrc", "tests")],
            "VSS003",
        ),
        (&[("transId", "t-1")], "VSS004"),
        (&[("transId", "t-1"), ("transactionSrc", " ")], "VSS006"),
    ];
    for (headers, code) in cases {
        assert_eq!(
            subscribe_raw(&harness, &token, PATH, headers, Some(&body))
                .await
                .code(),
            code
        );
    }
    let response = harness
        .http
        .post(harness.url(PATH))
        .bearer_auth(&token)
        .header("transId", "t-1")
        .header("transactionSrc", "tests")
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.code(), "10007");
}

#[tokio::test]
async fn only_v2_and_the_two_types_exist() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let body = json!({"locale": "en_US", "trackingNumberList": ["1Z999AA10123456784"]});
    let v1 = subscribe_raw(
        &harness,
        &token,
        "/api/track/v1/subscription/standard/package",
        HEADERS,
        Some(&body),
    )
    .await;
    assert_eq!(v1.code(), "9999001");
    for path in [
        "/api/track/v3/subscription/standard/package",
        "/api/track/v2/subscription/premium/package",
    ] {
        let answer = subscribe_raw(&harness, &token, path, HEADERS, Some(&body)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn subscribing_without_a_token_is_unauthorized() {
    let harness = Harness::start().await;
    let answer = subscribe(&harness, "nope", &["1Z999AA10123456784"]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "250002");
}

/// What the test listener saw.
#[derive(Default)]
struct Seen {
    token_requests: Vec<(Option<String>, String)>,
    events: Vec<(HeaderMap, Value)>,
    /// Answer 503 to this many events first.
    failures_left: usize,
}

struct Listener {
    base_url: String,
    seen: Arc<Mutex<Seen>>,
}

const LISTENER_TOKEN: &str = "listener-token-1";

async fn listener(failures: usize) -> Listener {
    let seen = Arc::new(Mutex::new(Seen {
        failures_left: failures,
        ..Seen::default()
    }));
    let token_seen = Arc::clone(&seen);
    let event_seen = Arc::clone(&seen);
    let app = Router::new()
        .route(
            "/token",
            post(move |headers: HeaderMap, body: String| {
                let seen = Arc::clone(&token_seen);
                async move {
                    let authorization = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    seen.lock().unwrap().token_requests.push((authorization, body));
                    axum::Json(json!({"access_token": LISTENER_TOKEN, "token_type": "Bearer", "expires_in": 3600}))
                }
            }),
        )
        .route(
            "/events",
            post(move |headers: HeaderMap, body: axum::Json<Value>| {
                let seen = Arc::clone(&event_seen);
                async move {
                    let mut seen = seen.lock().unwrap();
                    seen.events.push((headers, body.0));
                    if seen.failures_left > 0 {
                        seen.failures_left -= 1;
                        AxumStatus::SERVICE_UNAVAILABLE
                    } else {
                        AxumStatus::OK
                    }
                }
            }),
        );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", socket.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(socket, app).await.unwrap();
    });
    Listener { base_url, seen }
}

async fn subscribed_to_listener(failures: usize) -> (Harness, Listener, String) {
    let harness = Harness::start().await;
    let listener = listener(failures).await;
    harness.simulator().set_webhook(
        demo::CLIENT_ID,
        Some(WebhookConfig {
            app: demo::CLIENT_ID.to_owned(),
            url: format!("{}/events", listener.base_url),
            token_url: format!("{}/token", listener.base_url),
            client_id: LISTENER_ID.to_owned(),
            client_secret: LISTENER_SECRET.to_owned(),
        }),
    );
    let token = harness.client_token().await;
    let number = shipped(&harness, &token).await;
    assert_eq!(
        subscribe(&harness, &token, &[&number]).await.status,
        StatusCode::OK
    );
    (harness, listener, number)
}

/// Polls the push log until `done` holds, for at most five seconds.
async fn pushes_until(harness: &Harness, done: impl Fn(&[PushRecord]) -> bool) -> Vec<PushRecord> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pushes = harness.simulator().pushes();
        if done(&pushes) {
            return pushes;
        }
        assert!(
            Instant::now() < deadline,
            "pushes never settled: {pushes:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn settled(pushes: &[PushRecord], count: usize) -> bool {
    pushes.len() == count
        && pushes
            .iter()
            .all(|push| push.outcome != PushOutcome::Pending)
}

#[tokio::test]
async fn a_scan_is_pushed_with_a_token_fetched_by_client_credentials() {
    let (harness, listener, number) = subscribed_to_listener(0).await;
    assert_eq!(harness.simulator().scan(&number, ScanKind::Accepted), Ok(1));
    let pushes = pushes_until(&harness, |p| settled(p, 1)).await;
    assert_eq!(pushes[0].outcome, PushOutcome::Delivered);
    let seen = listener.seen.lock().unwrap();
    let (authorization, form) = &seen.token_requests[0];
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{LISTENER_ID}:{LISTENER_SECRET}"),
    );
    assert_eq!(
        authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(form, "grant_type=client_credentials");
    let (headers, body) = &seen.events[0];
    assert_eq!(
        headers["authorization"],
        format!("Bearer {LISTENER_TOKEN}").as_str()
    );
    assert_eq!(headers["x-api-key"], LISTENER_ID);
    assert_eq!(headers["user-agent"], "UPSPubSubTrackingService");
    assert_eq!(body["trackingNumber"], number.as_str());
    assert_eq!(body["activityStatus"]["code"], "OR");
    assert_eq!(
        tracking_violations(TrackingSpec::TrackAlert, "TrackingEventRequest", body).unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_listener_token_is_fetched_once_while_it_lasts() {
    let (harness, listener, number) = subscribed_to_listener(0).await;
    harness
        .simulator()
        .scan(&number, ScanKind::Accepted)
        .unwrap();
    harness
        .simulator()
        .scan(&number, ScanKind::InTransit)
        .unwrap();
    pushes_until(&harness, |p| settled(p, 2)).await;
    let seen = listener.seen.lock().unwrap();
    assert_eq!(seen.events.len(), 2);
    assert_eq!(seen.token_requests.len(), 1);
}

#[tokio::test]
async fn a_webhook_that_recovers_gets_the_event_on_a_retry() {
    let (harness, listener, number) = subscribed_to_listener(2).await;
    harness
        .simulator()
        .scan(&number, ScanKind::Delivered)
        .unwrap();
    let pushes = pushes_until(&harness, |p| settled(p, 1)).await;
    assert_eq!(pushes[0].outcome, PushOutcome::Delivered);
    assert_eq!(pushes[0].attempts.len(), 3);
    assert_eq!(pushes[0].attempts[0].status, Some(503));
    assert_eq!(listener.seen.lock().unwrap().events.len(), 3);
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_dropped_after_its_attempts() {
    let (harness, listener, number) = subscribed_to_listener(usize::MAX).await;
    harness
        .simulator()
        .scan(&number, ScanKind::Accepted)
        .unwrap();
    let pushes = pushes_until(&harness, |p| settled(p, 1)).await;
    assert_eq!(pushes[0].outcome, PushOutcome::Dropped);
    assert_eq!(pushes[0].attempts.len(), ups_sim::track::push::ATTEMPTS);
    assert_eq!(
        listener.seen.lock().unwrap().events.len(),
        ups_sim::track::push::ATTEMPTS
    );
}

#[tokio::test]
async fn pushing_again_sends_the_same_event_twice() {
    let (harness, listener, number) = subscribed_to_listener(0).await;
    harness
        .simulator()
        .scan(&number, ScanKind::Accepted)
        .unwrap();
    pushes_until(&harness, |p| settled(p, 1)).await;
    let response = harness
        .http
        .post(harness.url(&format!("/__sim/tracking/{number}/push-again")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    pushes_until(&harness, |p| settled(p, 2)).await;
    let seen = listener.seen.lock().unwrap();
    assert_eq!(seen.events[0].1, seen.events[1].1);
}

#[tokio::test]
async fn a_subscription_ends_14_days_later_on_the_simulator_clock() {
    let (harness, listener, number) = subscribed_to_listener(0).await;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(14 * 24 * 3600 - 60));
    assert_eq!(harness.simulator().scan(&number, ScanKind::Accepted), Ok(1));
    pushes_until(&harness, |p| settled(p, 1)).await;
    harness.simulator().advance_clock(Duration::from_secs(120));
    assert_eq!(
        harness.simulator().scan(&number, ScanKind::Delivered),
        Ok(0)
    );
    assert_eq!(listener.seen.lock().unwrap().events.len(), 1);
}

#[tokio::test]
async fn subscribing_again_extends_the_subscription() {
    let (harness, _listener, number) = subscribed_to_listener(0).await;
    let first = harness.simulator().subscriptions()[0].expires_at;
    harness
        .simulator()
        .advance_clock(Duration::from_secs(10 * 24 * 3600));
    let token = harness.client_token().await;
    assert_eq!(
        subscribe(&harness, &token, &[&number]).await.status,
        StatusCode::OK
    );
    let extended = harness.simulator().subscriptions()[0].expires_at;
    // Ten days of simulator clock, and the moments the test itself took.
    let gained = extended - first;
    assert!(
        gained >= chrono::Duration::days(10)
            && gained < chrono::Duration::days(10) + chrono::Duration::minutes(1),
        "{gained}"
    );
    harness
        .simulator()
        .advance_clock(Duration::from_secs(7 * 24 * 3600));
    assert_eq!(harness.simulator().scan(&number, ScanKind::Accepted), Ok(1));
}

#[tokio::test]
async fn an_app_without_a_webhook_is_not_pushed_to() {
    let (harness, listener, number) = subscribed_to_listener(0).await;
    harness.simulator().set_webhook(demo::CLIENT_ID, None);
    assert_eq!(harness.simulator().scan(&number, ScanKind::Accepted), Ok(0));
    assert!(harness.simulator().pushes().is_empty());
    assert!(listener.seen.lock().unwrap().events.is_empty());
}
