//! "Login with UPS" through the web console in a real headless Chromium, clicked through as a
//! merchant would (screenshots in `target/console-screenshots/ups-*`): sign in → "Add carrier"
//! → UPS → "Login with UPS" → the UPS simulator's login page → back on the details form → the
//! account number and return address → active → a UPS Print Return Label bought from the label
//! form and shown; and a declined login's "Login failed — try again", with nothing stored. The
//! console has no UPS code: every form here is rendered from the plugin's account schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::browser::Browser;
use sqlx::PgPool;
use ups_sim::demo;

/// "Add carrier" → UPS → "Login with UPS" with `name`, then the simulator's login page as the
/// demo merchant, choosing `decision` (`approve` or `decline`).
async fn login_with_ups(browser: &Browser, name: &str, decision: &str, shots: bool) {
    let shot = shots.then_some("ups-01-login-with-ups");
    browser.start_login("UPS", name, shot).await;
    if shots {
        browser.screenshot("ups-02-ups-login").await;
    }
    browser.fill("#username", demo::USERNAME).await;
    browser.fill("#password", demo::PASSWORD).await;
    browser
        .click(&format!("button[name=decision][value={decision}]"))
        .await;
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_logs_in_with_ups_completes_the_details_and_buys_a_label(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;

    login_with_ups(&browser, "Atlanta returns", "approve", true).await;
    browser.wait_for_heading("Account details").await;
    browser.wait_for_text(".alert.ok", "UPS connected").await;
    // UPS's token names no account: the merchant types the number.
    assert_eq!(browser.value("#f-account-number").await, "");
    browser.screenshot("ups-03-details").await;
    browser
        .fill("#f-account-number", demo::SHIPPER_NUMBER)
        .await;
    browser
        .fill_all(&[
            ("#f-return-address-firm", "Backhaul Demo Returns"),
            ("#f-return-address-street1", "55 Glenlake Pkwy NE"),
            ("#f-return-address-city", "Atlanta"),
            ("#f-return-address-state", "GA"),
            ("#f-return-address-postal-code", "30328"),
        ])
        .await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Atlanta returns").await;
    browser
        .wait_for_text(".alert.ok", "account is active")
        .await;
    browser.screenshot("ups-04-account-active").await;
    let accounts: serde_json::Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    let account = &accounts["data"][0];
    assert_eq!(account["carrier"], "ups");
    assert_eq!(account["status"], "active");
    assert_eq!(account["credentials"]["mode"], "platform_app");

    // A Print Return Label from the label form, whose services are UPS's.
    browser.click_link("Create a return label").await;
    browser.wait_for_heading("Create a return label").await;
    let services = browser.text("#f-service").await;
    assert!(services.contains("Ground"), "{services}");
    browser.fill_label_form("RMA-2001").await;
    browser.screenshot("ups-05-label-form").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Return label").await;
    let tracking = browser.text("#tracking-number").await;
    assert!(ups_sim::is_valid_1z(&tracking), "{tracking}");
    browser.find("object[type='application/pdf']").await;
    browser.screenshot("ups-06-label").await;
    assert_eq!(app.ups.simulator.ledger().len(), 1);

    // A declined login: "Login failed — try again", and no account stored.
    login_with_ups(&browser, "Declined", "decline", false).await;
    browser.wait_for_heading("Login failed — try again").await;
    browser.screenshot("ups-07-login-failed").await;
    let accounts: serde_json::Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["data"].as_array().unwrap().len(), 1);

    browser.client.clone().close().await.unwrap();
}
