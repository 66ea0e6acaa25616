use super::*;
use base64::Engine;
use carrier::{AccountDetails, Credentials, TrackingStatus};
use chrono::TimeZone;
use secrecy::SecretString;

const ID: &str = "backhaul-listener";
const SECRET: &str = "sentinel-listener-secret";

fn push(listener: bool) -> UpsTrackAlert {
    let carrier = crate::UpsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    UpsTrackAlert::new(
        carrier.base_url.clone(),
        carrier.auth.clone(),
        listener.then(|| ListenerCredentials::new(ID, SecretString::from(SECRET))),
    )
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 4, 23, 14, 0, 0).unwrap()
}

fn token(push: &UpsTrackAlert) -> String {
    let mut headers = http::HeaderMap::new();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{SECRET}"));
    headers.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
    );
    push.listener_token(&headers, b"grant_type=client_credentials", now())
        .unwrap()
        .access_token
        .expose_secret()
        .to_owned()
}

fn headers(token: &str, api_key: &str, agent: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers.insert("x-api-key", http::HeaderValue::from_str(api_key).unwrap());
    headers.insert(
        http::header::USER_AGENT,
        http::HeaderValue::from_str(agent).unwrap(),
    );
    headers
}

/// The `TrackingEvent` webhook's request example `n` of UPSTrackAlert.yaml, as JSON.
fn spec_example(n: &str) -> Vec<u8> {
    let document = crate::spec::load("UPSTrackAlert.yaml");
    let example = document
        .pointer(&format!(
            "/webhooks/TrackingEvent/post/requestBody/content/application~1json/examples/{n}/value"
        ))
        .unwrap_or_else(|| panic!("no example {n}"));
    serde_json::to_vec(example).unwrap()
}

#[test]
fn the_specs_out_for_delivery_example_reads_as_in_transit_at_its_gmt_time() {
    let push = push(true);
    let events = push
        .read_notification(
            &headers(&token(&push), ID, alert::USER_AGENT),
            &spec_example("1"),
            None,
            now(),
        )
        .unwrap();
    assert_eq!(events.len(), 1);
    let pushed = &events[0];
    assert_eq!(pushed.tracking_number.as_str(), "1Z204W4R0308071865");
    assert_eq!(pushed.event.status, TrackingStatus::InTransit);
    assert_eq!(pushed.event.carrier_code, "OT");
    assert_eq!(pushed.event.description, "Out for Delivery");
    assert_eq!(
        pushed.event.at,
        Utc.with_ymd_and_hms(2024, 4, 23, 13, 15, 19).unwrap()
    );
    assert_eq!(pushed.event.location.city.as_deref(), Some("Charlotte"));
    assert_eq!(pushed.event.location.state.as_deref(), Some("NC"));
}

#[test]
fn the_specs_delivery_example_reads_as_delivered() {
    let push = push(true);
    let events = push
        .read_notification(
            &headers(&token(&push), ID, alert::USER_AGENT),
            &spec_example("2"),
            None,
            now(),
        )
        .unwrap();
    assert_eq!(events[0].event.status, TrackingStatus::Delivered);
    assert_eq!(events[0].event.carrier_code, "FS");
    assert_eq!(
        events[0].event.at,
        Utc.with_ymd_and_hms(2024, 4, 23, 13, 50, 4).unwrap()
    );
    assert_eq!(
        events[0].event.location.postal_code.as_deref(),
        Some("28209")
    );
}

#[test]
fn a_pushed_and_a_pulled_scan_have_one_fingerprint() {
    let push = push(true);
    let pushed = push
        .read_notification(
            &headers(&token(&push), ID, alert::USER_AGENT),
            &spec_example("2"),
            None,
            now(),
        )
        .unwrap()
        .remove(0);
    let pulled = serde_json::json!({"trackResponse": {"shipment": [{"package": [{
        "trackingNumber": "1Z204W4R0308071865",
        "activity": [{"date": "20240423", "time": "095004", "gmtDate": "20240423", "gmtTime": "135004", "gmtOffset": "-04:00",
                      "status": {"type": "D", "code": "FS", "description": "DELIVERED", "statusCode": "011"}}]
    }]}]}});
    let tracked = details::parse(&pushed.tracking_number, pulled.to_string().as_bytes()).unwrap();
    assert_eq!(tracked.events[0].fingerprint(), pushed.event.fingerprint());
}

#[test]
fn an_event_without_a_bearer_token_is_unauthenticated() {
    let push = push(true);
    let mut headers = headers("x", ID, alert::USER_AGENT);
    headers.remove(http::header::AUTHORIZATION);
    let outcome = push.read_notification(&headers, &spec_example("1"), None, now());
    assert!(
        matches!(outcome, Err(NotificationError::Unauthenticated(_))),
        "{outcome:?}"
    );
}

#[test]
fn an_event_with_an_expired_token_is_unauthenticated() {
    let push = push(true);
    let later = now() + chrono::Duration::hours(2);
    let outcome = push.read_notification(
        &headers(&token(&push), ID, alert::USER_AGENT),
        &spec_example("1"),
        None,
        later,
    );
    assert!(
        matches!(outcome, Err(NotificationError::Unauthenticated(_))),
        "{outcome:?}"
    );
}

#[test]
fn an_event_with_another_api_key_is_unauthenticated() {
    let push = push(true);
    let outcome = push.read_notification(
        &headers(&token(&push), "someone-else", alert::USER_AGENT),
        &spec_example("1"),
        None,
        now(),
    );
    assert!(
        matches!(outcome, Err(NotificationError::Unauthenticated(_))),
        "{outcome:?}"
    );
}

#[test]
fn an_event_from_another_user_agent_is_unauthenticated() {
    let push = push(true);
    let outcome = push.read_notification(
        &headers(&token(&push), ID, "curl/8.0"),
        &spec_example("1"),
        None,
        now(),
    );
    assert!(
        matches!(outcome, Err(NotificationError::Unauthenticated(_))),
        "{outcome:?}"
    );
}

#[test]
fn an_authentic_event_with_a_bad_body_is_malformed() {
    let push = push(true);
    let outcome = push.read_notification(
        &headers(&token(&push), ID, alert::USER_AGENT),
        br#"{"trackingNumber": "1Z204W4R0308071865"}"#,
        None,
        now(),
    );
    assert!(
        matches!(outcome, Err(NotificationError::Malformed(_))),
        "{outcome:?}"
    );
}

#[test]
fn without_listener_credentials_every_event_and_token_request_is_refused() {
    let configured = push(true);
    let token = token(&configured);
    let bare = push(false);
    let outcome = bare.read_notification(
        &headers(&token, ID, alert::USER_AGENT),
        &spec_example("1"),
        None,
        now(),
    );
    assert!(
        matches!(outcome, Err(NotificationError::Unauthenticated(_))),
        "{outcome:?}"
    );
    let refused = bare.listener_token(
        &http::HeaderMap::new(),
        b"grant_type=client_credentials",
        now(),
    );
    assert!(matches!(
        refused,
        Err(NotificationError::Unauthenticated(_))
    ));
    assert_eq!(bare.notification_subscription(b"{}"), Ok(None));
}

#[test]
fn the_scope_is_labels_in_hundreds_for_fourteen_days() {
    assert_eq!(
        push(false).scope(),
        PushScope::Label {
            batch: 100,
            lifetime: Duration::from_secs(14 * 24 * 3600)
        }
    );
}

fn context_quota(mode: &str, client_id: Option<&str>) -> String {
    let details = AccountDetails::default();
    let mut credentials = Credentials::new(mode);
    if let Some(id) = client_id {
        credentials = credentials.with_public("client_id", id);
    }
    crate::quota_app(&AccountContext {
        id: "sa_1",
        details: &details,
        credentials: &credentials,
    })
}

#[test]
fn platform_app_accounts_share_one_quota_key() {
    assert_eq!(context_quota("platform_app", None), "ups:platform");
}

#[test]
fn own_app_quota_keys_never_show_the_client_id() {
    let key = context_quota("own_app", Some("merchant-client-id-123"));
    assert!(key.starts_with("ups:app:"), "{key}");
    assert!(!key.contains("merchant-client-id-123"), "{key}");
    assert_eq!(key.len(), "ups:app:".len() + 16);
    assert_eq!(
        key,
        context_quota("own_app", Some("merchant-client-id-123"))
    );
    assert_ne!(key, context_quota("own_app", Some("another-app")));
}
