//! The console's Webhooks page in a real headless Chromium: a merchant adds an endpoint (the
//! secret shown once, with the note that it will not be shown again), sends a test event that
//! the receiver gets, sees the delivery's outcome and status code, and redelivers it (the same
//! `webhook-id` again). Screenshots go to `target/console-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::TestApp;
use backhaul_tests::browser::Browser;
use backhaul_tests::webhook::{Answer, Receiver, fast_delivery, register, start_workers};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_adds_an_endpoint_sees_its_deliveries_and_redelivers_one(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let browser = Browser::start().await;
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;

    browser.click_link("Webhooks").await;
    browser.wait_for_heading("Webhooks").await;
    browser.fill("#url", &receiver.url).await;
    browser
        .click("form[action='/console/webhooks'] button")
        .await;
    browser.wait_for_heading("Endpoint added").await;
    let note = browser.text(".alert.warn").await;
    assert!(note.contains("It will not be shown again"), "{note}");
    let secret = browser.text("#secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    browser.screenshot("webhooks-01-secret-once").await;

    browser.click_link("Go to the endpoint").await;
    browser.click("form[action$='/test'] button").await;
    receiver
        .wait_until("the test event", |got| got.len() == 1)
        .await;
    // The page shows the delivery once it is recorded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        browser.goto(browser.url().await.as_ref()).await;
        if browser.text("table").await.contains("Delivered") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery never showed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = browser.text("tbody tr").await;
    assert!(row.contains("webhook.test") && row.contains("204"), "{row}");
    browser.screenshot("webhooks-02-delivered").await;
    browser.click("form[action$='/redeliver'] button").await;
    receiver
        .wait_until("the redelivery", |got| got.len() == 2)
        .await;
    let got = receiver.accepted().await;
    assert_eq!(got[0].id, got[1].id);

    // The secret is not on the page any more.
    browser.goto(&app.url("/console/webhooks")).await;
    assert!(!browser.text("main").await.contains(&secret));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_endpoint_disabled_after_persistent_failure_says_so_and_why(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    receiver.answer(Answer::Unavailable);
    let endpoint = register(&app, &app.tenant_key, &receiver.url, json!(["*"])).await;
    let id = endpoint["id"].as_str().unwrap();
    let mut settings = fast_delivery();
    settings.retry_window = Duration::from_millis(200);
    let _workers = start_workers(&app.instance.state, settings);
    app.post(
        &app.tenant_key,
        &format!("/v1/webhook-endpoints/{id}/test"),
        &json!({}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while app
        .get(&app.tenant_key, &format!("/v1/webhook-endpoints/{id}"))
        .await
        .json::<Value>()
        .await
        .unwrap()["status"]
        != "disabled"
    {
        assert!(tokio::time::Instant::now() < deadline, "never disabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let browser = Browser::start().await;
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;
    browser.goto(&app.url("/console/webhooks")).await;
    let listed = browser.text("tbody tr").await;
    assert!(
        listed.contains("Disabled") && listed.contains("HTTP 503"),
        "{listed}"
    );
    browser.click_link(&receiver.url).await;
    let alert = browser.text(".alert.error").await;
    assert!(alert.contains("This endpoint is disabled"), "{alert}");
    assert!(alert.contains("every delivery attempt failed"), "{alert}");
    browser.screenshot("webhooks-03-disabled").await;
    browser.click("form[action$='/enable'] button").await;
    receiver.answer(Answer::Ok);
    assert!(browser.text("dl.facts").await.contains("Enabled"));
}
