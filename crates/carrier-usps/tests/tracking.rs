//! Tracking against the USPS simulator: pulls (Package Tracking v3) and pushes (Subscriptions
//! – Tracking), through the plugin's `Carrier::track` and `TrackingPush` hooks, with a local
//! listener standing in for the platform's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use carrier::tracking::{SubscriptionRequest, SubscriptionSecret, SubscriptionState};
use carrier::{AccountContext, Carrier, ErrorKind, TrackingStatus, ValidatedAccount};
use chrono::Utc;
use usps_sim::{Fault, RunningSimulator, ScanStatus, demo};

/// The notifications a listener received: headers and body of each.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// What a local listener received: headers and body of each POST.
#[derive(Clone, Default)]
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
            "/v1/carrier-webhooks/usps",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (store, status) = (store.clone(), status.clone());
                async move {
                    store.lock().unwrap().push((headers, body.to_vec()));
                    StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v1/carrier-webhooks/usps",
            socket.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(socket, app).await.unwrap() });
        Self {
            received,
            answer,
            url,
        }
    }

    /// Waits (polling, with a deadline) until `count` notifications arrived.
    async fn wait_for(&self, count: usize) -> Vec<(HeaderMap, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} notifications did not arrive; got {}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Setup {
    simulator: RunningSimulator,
    carrier: carrier_usps::UspsCarrier,
    account: ValidatedAccount,
}

impl Setup {
    async fn start() -> Self {
        let simulator = support::simulator().await;
        let carrier = support::carrier(&simulator.base_url);
        let account = support::demo_account(&carrier);
        Self {
            simulator,
            carrier,
            account,
        }
    }

    fn context(&self) -> AccountContext<'_> {
        AccountContext {
            id: "sa_tracking",
            details: &self.account.details,
            credentials: &self.account.credentials,
        }
    }

    async fn label(&self) -> carrier::ReturnLabel {
        let key = format!("tracking-{}", uuid::Uuid::new_v4());
        support::buy(
            &self.carrier,
            &self.account,
            &support::request("usps_ground_advantage_return"),
            &support::key(&key),
        )
        .await
        .unwrap()
    }
}

fn secret() -> SubscriptionSecret {
    SubscriptionSecret::generate()
}

#[tokio::test]
async fn a_pushed_scan_is_verified_and_has_the_fingerprint_of_the_pulled_one() {
    let setup = Setup::start().await;
    let listener = Listener::start().await;
    let push = setup.carrier.tracking_push().unwrap();
    let secret = secret();
    let request = SubscriptionRequest {
        listener_url: &listener.url,
        secret: &secret,
        contact_email: "ops@backhaul.example",
    };
    let subscription = push
        .subscribe_account(setup.context(), &request)
        .await
        .unwrap();
    assert_eq!(subscription.state, SubscriptionState::Enabled);
    let views = setup.simulator.simulator.subscriptions();
    assert_eq!(
        views[0].filter,
        usps_sim::Filter::Mid(demo::RETURNS_MID.to_owned()),
        "the subscription covers the Returns MID the labels carry"
    );

    let label = setup.label().await;
    setup
        .simulator
        .simulator
        .scan(label.tracking_number.as_str(), ScanStatus::Accepted)
        .unwrap();
    let (headers, body) = listener.wait_for(1).await.remove(0);
    assert_eq!(
        push.notification_subscription(&body).unwrap().as_deref(),
        Some(subscription.id.as_str())
    );
    let pushed = push
        .read_notification(&headers, &body, Some(&secret), Utc::now())
        .unwrap();
    let pushed_scan = pushed
        .iter()
        .find(|event| event.event.status.is_scan())
        .unwrap();
    assert_eq!(pushed_scan.tracking_number, label.tracking_number);
    assert_eq!(pushed_scan.event.status, TrackingStatus::InTransit);

    let pulled = setup
        .carrier
        .track(
            setup.context(),
            std::slice::from_ref(&label.tracking_number),
        )
        .await
        .unwrap();
    let pulled_scan = pulled[0]
        .events
        .iter()
        .find(|event| event.status.is_scan())
        .unwrap();
    assert_eq!(pulled_scan.fingerprint(), pushed_scan.event.fingerprint());
}

#[tokio::test]
async fn a_notification_checked_with_another_secret_is_refused() {
    let setup = Setup::start().await;
    let listener = Listener::start().await;
    let push = setup.carrier.tracking_push().unwrap();
    let secret = secret();
    let request = SubscriptionRequest {
        listener_url: &listener.url,
        secret: &secret,
        contact_email: "ops@backhaul.example",
    };
    push.subscribe_account(setup.context(), &request)
        .await
        .unwrap();
    let label = setup.label().await;
    setup
        .simulator
        .simulator
        .scan(label.tracking_number.as_str(), ScanStatus::Delivered)
        .unwrap();
    let (headers, body) = listener.wait_for(1).await.remove(0);
    let outcome = push.read_notification(
        &headers,
        &body,
        Some(&SubscriptionSecret::generate()),
        Utc::now(),
    );
    assert!(
        matches!(
            outcome,
            Err(carrier::tracking::NotificationError::Unauthenticated(_))
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_subscription_usps_suspended_is_seen_and_resumed() {
    let setup = Setup::start().await;
    let listener = Listener::start().await;
    listener.answer.store(503, Ordering::SeqCst);
    let push = setup.carrier.tracking_push().unwrap();
    let secret = secret();
    let request = SubscriptionRequest {
        listener_url: &listener.url,
        secret: &secret,
        contact_email: "ops@backhaul.example",
    };
    let subscription = push
        .subscribe_account(setup.context(), &request)
        .await
        .unwrap();
    let label = setup.label().await;
    setup
        .simulator
        .simulator
        .scan(label.tracking_number.as_str(), ScanStatus::Accepted)
        .unwrap();
    listener.wait_for(usps_sim::push::ATTEMPTS as usize).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let suspended = loop {
        let seen = push
            .account_subscription(setup.context(), &subscription.id)
            .await
            .unwrap();
        if seen.state != SubscriptionState::Enabled {
            break seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "never suspended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        suspended.state,
        SubscriptionState::Suspended {
            reason: Some("Unable to reach listener".to_owned())
        }
    );
    listener.answer.store(200, Ordering::SeqCst);
    let resumed = push
        .resume_account_subscription(setup.context(), &subscription.id, &request)
        .await
        .unwrap();
    assert_eq!(resumed.state, SubscriptionState::Enabled);
}

#[tokio::test]
async fn a_subscription_usps_does_not_know_is_gone() {
    let setup = Setup::start().await;
    let push = setup.carrier.tracking_push().unwrap();
    let seen = push
        .account_subscription(setup.context(), "NOSUCHID")
        .await
        .unwrap();
    assert_eq!(seen.state, SubscriptionState::Gone);
}

#[tokio::test]
async fn a_number_usps_does_not_know_comes_back_without_events() {
    let setup = Setup::start().await;
    let unknown = carrier::TrackingNumber::impb("021", demo::RETURNS_MID, 1).unwrap();
    let tracked = setup
        .carrier
        .track(setup.context(), &[unknown])
        .await
        .unwrap();
    assert!(tracked[0].events.is_empty());
}

#[tokio::test]
async fn a_rate_limited_pull_says_when_to_come_back() {
    let setup = Setup::start().await;
    let label = setup.label().await;
    setup.simulator.simulator.inject(support::fault(
        "tracking",
        Fault::RateLimit { retry_after_s: 30 },
    ));
    let error = setup
        .carrier
        .track(setup.context(), &[label.tracking_number])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn an_unavailable_tracking_api_is_unavailable() {
    let setup = Setup::start().await;
    let label = setup.label().await;
    setup
        .simulator
        .simulator
        .inject(support::fault("tracking", Fault::Status { status: 500 }));
    let error = setup
        .carrier
        .track(setup.context(), &[label.tracking_number])
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_for_a_pull() {
    let setup = Setup::start().await;
    let label = setup.label().await;
    setup.simulator.simulator.inject(usps_sim::FaultRule {
        route: "tracking".to_owned(),
        fault: Fault::ExpiredToken,
        times: Some(1),
        probability: None,
    });
    let tracked = setup
        .carrier
        .track(setup.context(), &[label.tracking_number])
        .await
        .unwrap();
    assert_eq!(tracked.len(), 1);
}

#[tokio::test]
async fn a_webtools_account_is_not_tracked() {
    let simulator = support::simulator().await;
    let carrier = support::webtools_carrier(&simulator.base_url);
    let account = support::webtools_account(&carrier);
    assert!(carrier.tracking(Some(&account.details)).is_none());
    assert!(carrier.tracking(None).is_some());
}

#[tokio::test]
async fn accounts_share_the_platform_app_quota_and_own_apps_are_named_by_a_hash() {
    let setup = Setup::start().await;
    let key = setup.carrier.quota_app(setup.context());
    assert!(key.starts_with("usps:app:"), "{key}");
    assert!(!key.contains(demo::CLIENT_ID), "{key}");
    assert!(!key.contains(demo::CLIENT_SECRET), "{key}");
    let platform = carrier::Credentials::new("platform_app");
    let context = AccountContext {
        id: "sa_platform",
        details: &setup.account.details,
        credentials: &platform,
    };
    assert_eq!(setup.carrier.quota_app(context), "usps:platform");
    let other = carrier::Credentials::new("platform_app");
    let context = AccountContext {
        id: "sa_other",
        details: &setup.account.details,
        credentials: &other,
    };
    assert_eq!(setup.carrier.quota_app(context), "usps:platform");
}
