//! Tracking against the UPS simulator: the Track API pulled, Track Alert subscriptions, and a
//! scan pushed by the simulator through a listener that answers with this plugin's
//! `listener_token` and `read_notification` — the same event, by fingerprint, as the pull.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use bytes::Bytes;
use carrier::tracking::PushedEvent;
use carrier::{
    AccountContext, AccountInput, Carrier, CredentialsInput, ErrorKind, IdempotencyKey,
    ReturnLabelInput, ReturnLabelRequest, TrackingNumber, TrackingStatus, ValidatedAccount,
};
use carrier_ups::{ListenerCredentials, UpsBuilder, UpsCarrier};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use ups_sim::{
    Fault, FaultRule, PushOutcome, RunningSimulator, ScanKind, SimConfig, Simulator, WebhookConfig,
    demo, route,
};

const LISTENER_ID: &str = "backhaul-listener";
const LISTENER_SECRET: &str = "sentinel-listener-secret";

struct World {
    simulator: RunningSimulator,
    carrier: Arc<UpsCarrier>,
    account: ValidatedAccount,
}

impl World {
    async fn start() -> Self {
        let simulator = Simulator::new(SimConfig::default()).spawn().await.unwrap();
        let carrier = Arc::new(
            UpsBuilder::new()
                .with_base_url(&simulator.base_url)
                .with_listener_credentials(ListenerCredentials::new(
                    LISTENER_ID,
                    SecretString::from(LISTENER_SECRET),
                ))
                .build()
                .unwrap(),
        );
        let details = json!({
            "account_number": demo::SHIPPER_NUMBER,
            "return_address": {"firm": "Backhaul Demo Returns Co.", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
        });
        let credentials = CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", demo::CLIENT_ID)
            .with("client_secret", demo::CLIENT_SECRET);
        let account = carrier
            .validate_account(AccountInput {
                details: &details,
                credentials: Some(&credentials),
                current: None,
            })
            .unwrap();
        Self {
            simulator,
            carrier,
            account,
        }
    }

    fn context(&self) -> AccountContext<'_> {
        AccountContext {
            id: "sa_track",
            details: &self.account.details,
            credentials: &self.account.credentials,
        }
    }

    async fn label(&self) -> TrackingNumber {
        let input: ReturnLabelInput = serde_json::from_value(json!({
            "service": "ups_ground_return",
            "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118"},
            "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        }))
        .unwrap();
        let request = ReturnLabelRequest::parse(&input).unwrap();
        let key = IdempotencyKey::parse("key", &format!("track-{}", rand_suffix())).unwrap();
        self.carrier
            .create_return_label(self.context(), &request, &key)
            .await
            .unwrap()
            .tracking_number
    }

    fn fault(&self, route: &str, fault: Fault, times: u32) {
        self.simulator
            .simulator
            .try_inject(FaultRule {
                route: route.to_owned(),
                fault,
                times: Some(times),
                probability: None,
            })
            .unwrap();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test]
async fn a_new_label_is_tracked_with_its_label_created_event_only() {
    let world = World::start().await;
    let number = world.label().await;
    let tracked = world
        .carrier
        .track(world.context(), std::slice::from_ref(&number))
        .await
        .unwrap();
    assert_eq!(tracked[0].tracking_number, number);
    let statuses: Vec<_> = tracked[0].events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [TrackingStatus::Created]);
}

#[tokio::test]
async fn each_scan_maps_onto_its_status() {
    let world = World::start().await;
    let table = [
        (ScanKind::Accepted, TrackingStatus::InTransit),
        (ScanKind::InTransit, TrackingStatus::InTransit),
        (ScanKind::OutForDelivery, TrackingStatus::InTransit),
        (ScanKind::Exception, TrackingStatus::Exception),
        (ScanKind::ReturnedToSender, TrackingStatus::ReturnedToSender),
        (ScanKind::Delivered, TrackingStatus::Delivered),
    ];
    for (kind, status) in table {
        let number = world.label().await;
        world
            .simulator
            .simulator
            .scan(number.as_str(), kind)
            .unwrap();
        let tracked = world
            .carrier
            .track(world.context(), &[number])
            .await
            .unwrap();
        let last = tracked[0].events.last().unwrap();
        assert_eq!(last.status, status, "{kind:?}: {last:?}");
    }
}

#[tokio::test]
async fn a_number_ups_does_not_know_has_no_events() {
    let world = World::start().await;
    let unknown = TrackingNumber::other("t", "1Z999AA10123456784").unwrap();
    let tracked = world
        .carrier
        .track(world.context(), &[unknown])
        .await
        .unwrap();
    assert!(tracked[0].events.is_empty());
}

#[tokio::test]
async fn track_failures_are_classified() {
    let world = World::start().await;
    let number = world.label().await;
    let cases = [
        (
            Fault::RateLimit { retry_after_s: 9 },
            ErrorKind::RateLimited,
        ),
        (Fault::Status { status: 503 }, ErrorKind::Unavailable),
        (Fault::Malformed, ErrorKind::Protocol),
        (Fault::Status { status: 403 }, ErrorKind::Rejected),
    ];
    for (fault, kind) in cases {
        // More times than the shared client retries a read.
        world.simulator.simulator.clear_faults();
        world.fault(route::TRACK, fault.clone(), 10);
        let error = world
            .carrier
            .track(world.context(), std::slice::from_ref(&number))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{fault:?}: {error:?}");
        if kind == ErrorKind::RateLimited {
            assert!(
                matches!(error, carrier::CarrierError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(9))
            );
        }
    }
    // A refused token is renewed once; refused twice it is unauthenticated.
    world.simulator.simulator.clear_faults();
    world.fault(route::TRACK, Fault::ExpiredToken, 2);
    let error = world
        .carrier
        .track(world.context(), &[number])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
}

#[tokio::test]
async fn subscribing_splits_what_ups_took_from_what_it_refused() {
    let world = World::start().await;
    let number = world.label().await;
    let stranger = TrackingNumber::other("t", "1Z999AA10123456784").unwrap();
    let push = world.carrier.tracking_push().unwrap();
    let answer = push
        .subscribe_labels(world.context(), &[number.clone(), stranger.clone()])
        .await
        .unwrap();
    assert_eq!(answer.subscribed, [number]);
    assert_eq!(answer.refused, std::slice::from_ref(&stranger));
    let days = (answer.expires_at - chrono::Utc::now()).num_hours();
    assert!((335..=336).contains(&days), "{days} hours");
    let none = push
        .subscribe_labels(world.context(), std::slice::from_ref(&stranger))
        .await
        .unwrap();
    assert!(none.subscribed.is_empty());
    assert_eq!(none.refused, [stranger]);
}

#[tokio::test]
async fn a_failing_subscription_is_unavailable() {
    let world = World::start().await;
    let number = world.label().await;
    world.fault(route::SUBSCRIBE, Fault::Status { status: 500 }, 3);
    let error = world
        .carrier
        .tracking_push()
        .unwrap()
        .subscribe_labels(world.context(), &[number])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
}

/// A listener of the kind the server runs, answering with the plugin's hooks.
async fn listener(
    carrier: Arc<UpsCarrier>,
) -> (String, Arc<Mutex<Vec<Result<Vec<PushedEvent>, String>>>>) {
    let read = Arc::new(Mutex::new(Vec::new()));
    let token_carrier = Arc::clone(&carrier);
    let events_read = Arc::clone(&read);
    let app = Router::new()
        .route(
            "/v1/carrier-webhooks/ups/token",
            post(move |headers: HeaderMap, body: Bytes| {
                let carrier = Arc::clone(&token_carrier);
                async move {
                    let push = carrier.tracking_push().unwrap();
                    match push.listener_token(&headers, &body, chrono::Utc::now()) {
                        Ok(token) => axum::Json(json!({
                            "access_token": token.access_token.expose_secret(),
                            "token_type": "Bearer",
                            "expires_in": token.expires_in.as_secs(),
                        }))
                        .into_response(),
                        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
                    }
                }
            }),
        )
        .route(
            "/v1/carrier-webhooks/ups",
            post(move |headers: HeaderMap, body: Bytes| {
                let carrier = Arc::clone(&carrier);
                let read = Arc::clone(&events_read);
                async move {
                    let push = carrier.tracking_push().unwrap();
                    let outcome = push.read_notification(&headers, &body, None, chrono::Utc::now());
                    let status = if outcome.is_ok() {
                        StatusCode::OK
                    } else {
                        StatusCode::UNAUTHORIZED
                    };
                    read.lock()
                        .unwrap()
                        .push(outcome.map_err(|e| e.to_string()));
                    status
                }
            }),
        );
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
    (base, read)
}

async fn settled(world: &World, count: usize) -> Vec<ups_sim::PushRecord> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pushes = world.simulator.simulator.pushes();
        if pushes.len() == count && pushes.iter().all(|p| p.outcome != PushOutcome::Pending) {
            return pushes;
        }
        assert!(Instant::now() < deadline, "{pushes:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_pushed_scan_is_read_once_authenticated_and_matches_the_pulled_one() {
    let world = World::start().await;
    let (base, read) = listener(Arc::clone(&world.carrier)).await;
    world.simulator.simulator.set_webhook(
        demo::CLIENT_ID,
        Some(WebhookConfig {
            app: demo::CLIENT_ID.to_owned(),
            url: format!("{base}/v1/carrier-webhooks/ups"),
            token_url: format!("{base}/v1/carrier-webhooks/ups/token"),
            client_id: LISTENER_ID.to_owned(),
            client_secret: LISTENER_SECRET.to_owned(),
        }),
    );
    let number = world.label().await;
    let push = world.carrier.tracking_push().unwrap();
    push.subscribe_labels(world.context(), std::slice::from_ref(&number))
        .await
        .unwrap();
    world
        .simulator
        .simulator
        .scan(number.as_str(), ScanKind::Accepted)
        .unwrap();
    let pushes = settled(&world, 1).await;
    assert_eq!(pushes[0].outcome, PushOutcome::Delivered, "{pushes:?}");
    let pushed = read.lock().unwrap()[0].clone().unwrap().remove(0);
    assert_eq!(pushed.tracking_number, number);
    assert_eq!(pushed.event.status, TrackingStatus::InTransit);
    let pulled = world
        .carrier
        .track(world.context(), &[number])
        .await
        .unwrap();
    let scan = pulled[0]
        .events
        .iter()
        .find(|e| e.status.is_scan())
        .unwrap();
    assert_eq!(scan.fingerprint(), pushed.event.fingerprint());
}

#[tokio::test]
async fn pushes_with_the_wrong_listener_secret_get_no_token_and_are_dropped() {
    let world = World::start().await;
    let (base, read) = listener(Arc::clone(&world.carrier)).await;
    world.simulator.simulator.set_webhook(
        demo::CLIENT_ID,
        Some(WebhookConfig {
            app: demo::CLIENT_ID.to_owned(),
            url: format!("{base}/v1/carrier-webhooks/ups"),
            token_url: format!("{base}/v1/carrier-webhooks/ups/token"),
            client_id: LISTENER_ID.to_owned(),
            client_secret: "not-the-secret".to_owned(),
        }),
    );
    let number = world.label().await;
    let push = world.carrier.tracking_push().unwrap();
    push.subscribe_labels(world.context(), std::slice::from_ref(&number))
        .await
        .unwrap();
    world
        .simulator
        .simulator
        .scan(number.as_str(), ScanKind::Accepted)
        .unwrap();
    let pushes = settled(&world, 1).await;
    assert_eq!(pushes[0].outcome, PushOutcome::Dropped);
    assert!(
        read.lock().unwrap().is_empty(),
        "no event reached the listener"
    );
}
