//! Subscriptions – Tracking: the CRUD routes' refusals and the signed pushes.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use usps_sim::{SubscriptionStatus, demo};

use crate::common::{Harness, error_codes};
use crate::tracking::{issued_label, scan};

const SECRET: &str = "MySecretKeyPhraseIs32BytesLength";
const COLLECTION: &str = "/subscriptions-tracking/v3r2/subscriptions";

/// The notifications a listener received: headers and body of each.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A local listener that records each POST and answers `answer`.
struct Listener {
    received: Received,
    answer: Arc<AtomicU16>,
    url: String,
}

impl Listener {
    async fn start() -> Self {
        let received: Received = Arc::default();
        let answer = Arc::new(AtomicU16::new(200));
        let (store, status) = (received.clone(), answer.clone());
        let app = axum::Router::new().route(
            "/listener",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (store, status) = (store.clone(), status.clone());
                async move {
                    store.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/listener", socket.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
        Self {
            received,
            answer,
            url,
        }
    }

    async fn wait_for(&self, count: usize) -> Vec<(HeaderMap, String)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} pushes arrived",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn subscription(listener: &str) -> Value {
    json!({"listenerURL": listener, "secret": SECRET,
           "adminNotification": [{"email": "user@example.com"}],
           "filterProperties": {"MID": demo::MID, "trackingEventTypes": ["ALL_UPDATES"]}})
}

async fn create(harness: &Harness, token: &str, body: &Value) -> reqwest::Response {
    harness
        .http
        .post(harness.url(COLLECTION))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn refusal(body: Value, parameter: &str) {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let (status, codes, body) = error_codes(create(&harness, &token, &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(codes.iter().all(|code| code == "OAS_VALIDATION"), "{body}");
    assert!(
        crate::common::parameters(&body)
            .iter()
            .any(|p| p == parameter),
        "{body}"
    );
}

#[tokio::test]
async fn a_secret_that_is_not_32_characters_is_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body["secret"] = json!("MySecretKeyPhraseIs31BytesLengt");
    refusal(body, "secret").await;
}

#[tokio::test]
async fn a_listener_that_is_not_a_uri_is_refused() {
    let mut body = subscription("not a uri");
    body["listenerURL"] = json!("not a uri");
    refusal(body, "listenerURL").await;
}

#[tokio::test]
async fn no_admin_notification_address_is_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body["adminNotification"] = json!([]);
    refusal(body, "adminNotification").await;
}

#[tokio::test]
async fn four_admin_notification_addresses_are_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body["adminNotification"] = json!([{"email": "a@example.com"}, {"email": "b@example.com"},
                                      {"email": "c@example.com"}, {"email": "d@example.com"}]);
    refusal(body, "adminNotification").await;
}

#[tokio::test]
async fn a_mid_of_seven_digits_is_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body["filterProperties"]["MID"] = json!("9041289");
    refusal(body, "filterProperties.MID").await;
}

#[tokio::test]
async fn a_subscription_without_filter_properties_is_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body.as_object_mut().unwrap().remove("filterProperties");
    refusal(body, "filterProperties").await;
}

#[tokio::test]
async fn a_filter_with_both_a_mid_and_a_tracking_number_is_refused() {
    let mut body = subscription("https://myserver.com/listener");
    body["filterProperties"]["trackingNumber"] = json!("9400112345678945613221");
    refusal(body, "filterProperties").await;
}

#[tokio::test]
async fn a_token_without_the_subscriptions_scope_is_forbidden() {
    let harness = Harness::start().await;
    let response = harness
        .token_request(
            json!({"grant_type": "client_credentials", "client_id": demo::CLIENT_ID,
                              "client_secret": demo::CLIENT_SECRET, "scope": "tracking"}),
        )
        .await;
    let token: Value = response.json().await.unwrap();
    let response = create(
        &harness,
        token["access_token"].as_str().unwrap(),
        &subscription("https://myserver.com/listener"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_created_subscription_is_read_and_listed_by_mid() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let response = create(
        &harness,
        &token,
        &subscription("https://myserver.com/listener"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("etag"));
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "ENABLED");
    let id = created["subscriptionId"].as_str().unwrap();
    let read = harness
        .http
        .get(harness.url(&format!("{COLLECTION}/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let listed: Value = harness
        .http
        .get(harness.url(&format!("{COLLECTION}?MID={},123456&limit=5", demo::MID)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["metadata"]["totalCount"], 1);
    assert_eq!(listed["subscriptions"][0]["subscriptionId"], id);
    let other: Value = harness
        .http
        .get(harness.url(&format!("{COLLECTION}?MID=123456")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["metadata"]["totalCount"], 0);
}

#[tokio::test]
async fn a_limit_over_one_hundred_is_refused() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let response = harness
        .http
        .get(harness.url(&format!("{COLLECTION}?limit=101")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_put_without_if_match_is_refused_and_one_with_a_used_etag_fails_its_precondition() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let response = create(
        &harness,
        &token,
        &subscription("https://myserver.com/listener"),
    )
    .await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let id = response.json::<Value>().await.unwrap()["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = harness.url(&format!("{COLLECTION}/{id}"));
    let mut body = subscription("https://myserver.com/other");
    let missing = harness
        .http
        .put(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    body["status"] = json!("DISABLED");
    let first = harness
        .http
        .put(&url)
        .bearer_auth(&token)
        .header("If-Match", &etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.json::<Value>().await.unwrap()["status"], "DISABLED");
    let again = harness
        .http
        .put(&url)
        .bearer_auth(&token)
        .header("If-Match", &etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn a_client_cannot_suspend_its_subscription() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let mut body = subscription("https://myserver.com/listener");
    body["status"] = json!("SUSPENDED");
    let (status, codes, _) = error_codes(create(&harness, &token, &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(codes, ["SIM_INVALID_COMBINATION"]);
}

#[tokio::test]
async fn a_deleted_subscription_is_gone() {
    let harness = Harness::start().await;
    let token = harness.access_token().await;
    let response = create(
        &harness,
        &token,
        &subscription("https://myserver.com/listener"),
    )
    .await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let id = response.json::<Value>().await.unwrap()["subscriptionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = harness.url(&format!("{COLLECTION}/{id}"));
    let deleted = harness
        .http
        .delete(&url)
        .bearer_auth(&token)
        .header("If-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let read = harness
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
}

fn independent_hmac(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_scan_is_pushed_signed_over_timestamp_and_payload() {
    let harness = Harness::start().await;
    let listener = Listener::start().await;
    let token = harness.access_token().await;
    let created: Value = create(&harness, &token, &subscription(&listener.url))
        .await
        .json()
        .await
        .unwrap();
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    let (headers, body) = listener.wait_for(1).await.remove(0);
    let notification: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(notification["subscriptionId"], created["subscriptionId"]);
    assert_eq!(notification["subscriptionType"], "TRACKING");
    let timestamp = notification["timestamp"].as_str().unwrap();
    let payload = notification["payload"].as_str().unwrap();
    let expected = independent_hmac(SECRET, &format!("{timestamp}{payload}"));
    assert_eq!(headers["x-hmac"].to_str().unwrap(), expected);
    let payload: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(payload["trackingNumber"], number.as_str());
    assert_eq!(payload["trackingEvents"][0]["eventCode"], "03");
    assert!(payload["trackingEvents"][0]["eventZIPCode"].is_string());
}

#[tokio::test]
async fn a_label_of_another_mid_is_not_pushed() {
    let harness = Harness::start().await;
    let other = Listener::start().await;
    let matching = Listener::start().await;
    let token = harness.access_token().await;
    let mut body = subscription(&other.url);
    body["filterProperties"]["MID"] = json!(demo::RETURNS_MID);
    create(&harness, &token, &body).await;
    create(&harness, &token, &subscription(&matching.url)).await;
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    matching.wait_for(1).await;
    assert!(other.received.lock().unwrap().is_empty());
    assert_eq!(harness.simulator().pushes().len(), 1);
}

#[tokio::test]
async fn a_failing_listener_suspends_the_subscription_until_it_is_put_back() {
    let harness = Harness::start().await;
    let listener = Listener::start().await;
    listener.answer.store(500, Ordering::SeqCst);
    let token = harness.access_token().await;
    let created: Value = create(&harness, &token, &subscription(&listener.url))
        .await
        .json()
        .await
        .unwrap();
    let id = created["subscriptionId"].as_str().unwrap().to_owned();
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while harness.simulator().subscriptions()[0].status != SubscriptionStatus::Suspended {
        assert!(tokio::time::Instant::now() < deadline, "never suspended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        listener.received.lock().unwrap().len(),
        usps_sim::push::ATTEMPTS as usize
    );
    let url = harness.url(&format!("{COLLECTION}/{id}"));
    let read = harness
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let seen: Value = read.json().await.unwrap();
    assert_eq!(seen["status"], "SUSPENDED");
    assert_eq!(seen["statusReason"], "Unable to reach listener");

    scan(&harness, &number, "in_transit").await;
    assert_eq!(
        listener.received.lock().unwrap().len(),
        usps_sim::push::ATTEMPTS as usize,
        "nothing is pushed while suspended"
    );

    listener.answer.store(200, Ordering::SeqCst);
    let mut body = subscription(&listener.url);
    body["status"] = json!("ENABLED");
    let put = harness
        .http
        .put(&url)
        .bearer_auth(&token)
        .header("If-Match", &etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    scan(&harness, &number, "delivered").await;
    let received = listener
        .wait_for(usps_sim::push::ATTEMPTS as usize + 1)
        .await;
    let last: Value = serde_json::from_str(&received.last().unwrap().1).unwrap();
    let payload: Value = serde_json::from_str(last["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["trackingEvents"][0]["eventCode"], "01");
}

#[tokio::test]
async fn the_last_notification_can_be_delivered_again_unchanged() {
    let harness = Harness::start().await;
    let listener = Listener::start().await;
    let token = harness.access_token().await;
    let created: Value = create(&harness, &token, &subscription(&listener.url))
        .await
        .json()
        .await
        .unwrap();
    let id = created["subscriptionId"].as_str().unwrap();
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    listener.wait_for(1).await;
    let redelivered = harness
        .http
        .post(harness.url(&format!("/__sim/subscriptions/{id}/redeliver-last")))
        .send()
        .await
        .unwrap();
    assert_eq!(redelivered.status(), StatusCode::OK);
    let received = listener.wait_for(2).await;
    assert_eq!(received[0].1, received[1].1);
    assert_eq!(received[0].0["x-hmac"], received[1].0["x-hmac"]);
    let log: Value = harness
        .http
        .get(harness.url("/__sim/pushes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_fault_on_the_subscriptions_route_answers_its_error() {
    let harness = Harness::start().await;
    harness.simulator().inject(usps_sim::FaultRule {
        route: "subscriptions".to_owned(),
        fault: usps_sim::Fault::RateLimit { retry_after_s: 7 },
        times: Some(1),
        probability: None,
    });
    let token = harness.access_token().await;
    let response = create(
        &harness,
        &token,
        &subscription("https://myserver.com/listener"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
}

#[tokio::test]
async fn a_scan_event_extract_subscription_gets_the_one_new_event() {
    let harness = Harness::start().await;
    let listener = Listener::start().await;
    let token = harness.access_token().await;
    let mut body = subscription(&listener.url);
    body["filterProperties"]["trackingEventTypes"] = json!(["SCAN_EVENT_EXTRACT"]);
    assert_eq!(
        create(&harness, &token, &body).await.status(),
        StatusCode::CREATED
    );
    let number = issued_label(&harness).await;
    scan(&harness, &number, "accepted").await;
    scan(&harness, &number, "delivered").await;
    let received = listener.wait_for(2).await;
    let payloads: Vec<Value> = received
        .iter()
        .map(|(_, body)| {
            let notification: Value = serde_json::from_str(body).unwrap();
            serde_json::from_str(notification["payload"].as_str().unwrap()).unwrap()
        })
        .collect();
    let mut codes: Vec<&str> = payloads
        .iter()
        .map(|payload| payload["trackingEvent"]["eventCode"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["01", "03"]);
    assert!(payloads.iter().all(|p| p.get("trackingEvents").is_none()));
    assert!(payloads.iter().all(|p| p["mailerID"] == demo::MID));
}

#[tokio::test]
async fn a_tracking_number_filter_may_not_ask_for_scan_event_extract() {
    let mut body = subscription("https://myserver.com/listener");
    body["filterProperties"] = json!({"trackingNumber": "9400112345678945613221", "trackingEventTypes": ["SCAN_EVENT_EXTRACT"]});
    refusal(body, "filterProperties.trackingEventTypes[0]").await;
}

#[tokio::test]
async fn another_client_neither_lists_nor_reads_a_subscription() {
    let mut config = usps_sim::SimConfig::default();
    let mut other = config.apps[0].clone();
    other.client_id = "other-app".to_owned();
    other.client_secret = "other-app-secret".to_owned();
    config.apps.push(other);
    let running = usps_sim::Simulator::new(config).spawn().await.unwrap();
    let http = reqwest::Client::new();
    let token = |client_id: &'static str, secret: &'static str| {
        let http = http.clone();
        let url = format!("{}/oauth2/v3/token", running.base_url);
        async move {
            let body: Value = http
                .post(url)
                .json(&json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let owner = token(demo::CLIENT_ID, demo::CLIENT_SECRET).await;
    let stranger = token("other-app", "other-app-secret").await;
    let collection = format!("{}{COLLECTION}", running.base_url);
    let created: Value = http
        .post(&collection)
        .bearer_auth(&owner)
        .json(&subscription("https://myserver.com/listener"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["subscriptionId"].as_str().unwrap();
    let read = http
        .get(format!("{collection}/{id}"))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let listed: Value = http
        .get(&collection)
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["metadata"]["totalCount"], 0);
}
