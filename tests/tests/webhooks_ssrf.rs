//! Where webhooks may not go, under the production rules (`webhooks.allow_private_urls =
//! false`): private, loopback, link-local (metadata) addresses and names resolving to them are
//! refused at registration (422 on `url`), and a name that resolves to a public address at
//! registration and to loopback later (DNS rebinding) is refused at delivery, before any
//! connection. Names resolve through a resolver the test feeds (no network).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use backhaul_tests::TestApp;
use backhaul_tests::webhook::{Receiver, fast_delivery, start_workers};
use serde_json::{Value, json};
use server::webhook::{Policy, StaticResolver};
use sqlx::PgPool;

/// A public address (documentation ranges are refused; this one is an ordinary public one).
const PUBLIC: &str = "93.184.216.34";

/// The production rules, names resolved by `resolver`.
fn production(app: &TestApp, resolver: &StaticResolver) {
    app.instance.state.set_webhook_policy(Policy {
        allow_private_urls: false,
        resolver: Arc::new(resolver.clone()),
        ..Policy::default()
    });
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn refusal(app: &TestApp, url: &str) -> (u16, Value) {
    let response = app
        .post(
            &app.tenant_key,
            "/v1/webhook-endpoints",
            &json!({"url": url, "events": ["*"]}),
        )
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn private_loopback_and_metadata_targets_are_refused_under_the_production_rules(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let resolver = StaticResolver::default();
    resolver.set("loopback.test", &[ip("127.0.0.1")]);
    resolver.set("split.test", &[ip(PUBLIC), ip("10.1.2.3")]);
    resolver.set("hooks.test", &[ip(PUBLIC)]);
    production(&app, &resolver);

    for url in [
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://100.64.0.1/hooks",
        "https://loopback.test/hooks",
        "https://split.test/hooks",
        "http://hooks.test/hooks",
        "https://user:hunter2@hooks.test/hooks",
        "https://unresolvable.test/hooks",
    ] {
        let (status, body) = refusal(&app, url).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["error"]["details"][0]["field"], "url", "{url}: {body}");
        // The refusal never echoes the URL (it may carry credentials).
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }
    let (status, created) = refusal(&app, "https://hooks.test/hooks").await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let patched = app
        .patch(
            &app.tenant_key,
            &format!("/v1/webhook-endpoints/{id}"),
            &json!({"url": "https://169.254.169.254/"}),
        )
        .await;
    assert_eq!(patched.status(), 422);
    let listed: Value = app
        .get(&app.tenant_key, "/v1/webhook-endpoints")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["data"][0]["url"], "https://hooks.test/hooks");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_name_rebound_to_loopback_after_registration_is_refused_at_delivery(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hooks")
        .to_owned();
    let resolver = StaticResolver::default();
    resolver.set("rebind.test", &[ip(PUBLIC)]);
    production(&app, &resolver);
    let url = format!("https://rebind.test:{port}/hooks");
    let (status, created) = refusal(&app, &url).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();

    // The name now points at the receiver on loopback.
    resolver.set("rebind.test", &[ip("127.0.0.1")]);
    let _workers = start_workers(&app.instance.state, fast_delivery());
    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let error = loop {
        let page: Value = app
            .get(
                &app.tenant_key,
                &format!("/v1/webhook-endpoints/{id}/deliveries"),
            )
            .await
            .json()
            .await
            .unwrap();
        if let Some(error) = page["data"][0]["error"].as_str() {
            break error.to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(error, "refused: rebind.test resolves to no public address");
    assert!(receiver.received().await.is_empty());
}
