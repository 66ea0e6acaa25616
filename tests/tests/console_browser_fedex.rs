//! FedEx registration through the web console in a real headless Chromium, clicked through as
//! a merchant would (screenshots in `target/console-screenshots/fedex-*`): sign in → "Add
//! carrier" → FedEx → "Register with FedEx" → the account number, customer name and billing
//! address → the verification page's way to confirm → a PIN by text message, read from the
//! FedEx simulator's outbox, or the demo invoice → active, and a FedEx label bought from the
//! label form; and a wrong PIN refused beside its input with the attempts left, then the right
//! one. The console has no FedEx code: every form here is rendered from the plugin's account
//! schema and its registration steps' schemas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::browser::Browser;
use fedex_sim::demo;
use serde_json::Value;
use sqlx::PgPool;

/// Signs in to the console with the tenant's key, landing on "Carrier accounts".
async fn sign_in(app: &TestApp, browser: &Browser) {
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;
}

/// From any console page: "Add carrier" → FedEx → "Register with FedEx", then the form filled
/// with the demo business as account `name` and sent; leaves the browser on the verification
/// page's first step. `shots` names the screenshots' prefix.
async fn register(browser: &Browser, name: &str, shots: Option<&str>) {
    browser.click_link("Carrier accounts").await;
    browser.wait_for_heading("Carrier accounts").await;
    browser.click_link("Add carrier").await;
    browser.wait_for_heading("Add carrier").await;
    browser.click_link("Connect FedEx").await;
    browser
        .wait_for_heading("Connect your FedEx business account")
        .await;
    // The ways in the plugin's order: registering comes first.
    let ways = browser.text("main").await;
    let registering = ways.find("Register with FedEx").expect(&ways);
    let own_app = ways.find("Your own FedEx API project").expect(&ways);
    assert!(registering < own_app, "{ways}");
    if let Some(prefix) = shots {
        browser.screenshot(&format!("{prefix}-connect-fedex")).await;
    }
    // Each way's "Continue" (named "Continue: <the way>" for screen readers).
    browser
        .click("section a[href='/console/accounts/new/fedex/registration']")
        .await;
    browser
        .wait_for_heading("Connect FedEx: Register with FedEx")
        .await;
    browser.fill("#f-name", name).await;
    browser
        .fill_all(&[
            ("#f-account-number", demo::ACCOUNT_NUMBER),
            ("#f-customer-name", demo::CUSTOMER_NAME),
            ("#f-billing-address-firm", demo::CUSTOMER_NAME),
            ("#f-billing-address-street1", demo::STREET),
            ("#f-billing-address-city", demo::CITY),
            ("#f-billing-address-state", demo::STATE),
            ("#f-billing-address-postal-code", demo::POSTAL_CODE),
            ("#f-billing-address-country", demo::COUNTRY),
            ("#f-billing-address-phone", demo::PHONE),
        ])
        .await;
    if let Some(prefix) = shots {
        browser
            .screenshot(&format!("{prefix}-registration-form"))
            .await;
    }
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading(&format!("Verify {name}")).await;
    browser
        .wait_for_text(
            "form.stack",
            "FedEx needs to confirm that the account is yours",
        )
        .await;
}

/// Chooses a PIN by text message on the verification page; leaves it on the PIN step.
async fn choose_text_message(browser: &Browser) {
    let choice = browser.text("#f-method").await;
    assert!(choice.contains("Text a PIN to"), "{choice}");
    browser.click("#f-method-sms").await;
    assert!(!browser.displayed("#f-invoice-number").await);
    browser.click("form.stack button.primary").await;
    browser
        .wait_for_text("form.stack", "FedEx sent a six-digit PIN by text message")
        .await;
}

/// Types `pin` on the PIN step and sends it.
async fn enter_pin(browser: &Browser, pin: &str) {
    browser.fill("#f-pin", pin).await;
    browser.click("form.stack button.primary").await;
}

/// The tenant's accounts, as the API lists them.
async fn accounts(app: &TestApp) -> Vec<Value> {
    let listed: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    listed["data"].as_array().unwrap().clone()
}

/// The account page says FedEx verified the account, and the API agrees.
async fn assert_verified(app: &TestApp, browser: &Browser, name: &str) {
    browser.wait_for_heading(name).await;
    browser
        .wait_for_text(".alert.ok", "FedEx verified the account")
        .await;
    let facts = browser.text("main").await;
    assert!(facts.contains("Registered with FedEx"), "{facts}");
    let accounts = accounts(app).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let account = &accounts[0];
    assert_eq!(account["carrier"], "fedex");
    assert_eq!(account["status"], "active", "{account}");
    assert_eq!(account["credentials"]["mode"], "platform_app", "{account}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_registers_fedex_with_a_texted_pin_and_buys_a_label(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let browser = Browser::start().await;
    sign_in(&app, &browser).await;

    register(&browser, "St. Louis returns", Some("fedex-01")).await;
    browser.screenshot("fedex-02-choose-method").await;
    assert!(app.fedex_pins().is_empty());
    choose_text_message(&browser).await;
    let pins = app.fedex_pins();
    assert_eq!(pins.len(), 1, "{pins:?}");
    assert_eq!(pins[0].option, "SMS");
    assert_eq!(pins[0].destination, demo::PHONE);
    browser.fill("#f-pin", &pins[0].pin).await;
    browser.screenshot("fedex-03-enter-pin").await;
    browser.click("form.stack button.primary").await;
    assert_verified(&app, &browser, "St. Louis returns").await;
    browser.screenshot("fedex-04-account-active").await;

    // A FedEx Ground return from the label form, whose services are FedEx's.
    browser.click_link("Create a return label").await;
    browser.wait_for_heading("Create a return label").await;
    let services = browser.text("#f-service").await;
    assert!(services.contains("Ground"), "{services}");
    browser.fill_label_form("RMA-3001").await;
    // FedEx needs the customer's phone.
    browser.fill("#f-from-address-phone", "3145550123").await;
    browser.screenshot("fedex-05-label-form").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Return label").await;
    let tracking = browser.text("#tracking-number").await;
    let ledger = app.fedex_ledger();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].master_tracking_number, tracking);
    browser.screenshot("fedex-06-label").await;

    browser.client.clone().close().await.unwrap();
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_registers_fedex_with_an_invoice(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let browser = Browser::start().await;
    sign_in(&app, &browser).await;

    register(&browser, "Invoice returns", None).await;
    // The invoice's fields show only once the invoice is chosen; its currency starts as the
    // step's default.
    assert!(!browser.displayed("#f-invoice-number").await);
    assert!(!browser.displayed("#f-invoice-currency").await);
    browser.click("#f-method-invoice").await;
    assert!(browser.displayed("#f-invoice-number").await);
    assert!(browser.displayed("#f-invoice-currency").await);
    assert_eq!(
        browser.value("#f-invoice-currency").await,
        demo::INVOICE_CURRENCY
    );
    browser
        .fill_all(&[
            ("#f-invoice-number", &demo::INVOICE_NUMBER.to_string()),
            ("#f-invoice-date", demo::INVOICE_DATE),
            ("#f-invoice-amount", demo::INVOICE_AMOUNT),
        ])
        .await;
    browser.screenshot("fedex-07-invoice").await;
    browser.click("form.stack button.primary").await;
    assert_verified(&app, &browser, "Invoice returns").await;
    assert!(app.fedex_pins().is_empty(), "no PIN is sent for an invoice");

    browser.client.clone().close().await.unwrap();
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_wrong_pin_is_refused_beside_its_input_and_the_right_one_then_works(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let browser = Browser::start().await;
    sign_in(&app, &browser).await;

    register(&browser, "Careful returns", None).await;
    choose_text_message(&browser).await;
    let pin = app.last_fedex_pin();
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    enter_pin(&browser, wrong).await;
    // Beside the PIN input: what is wrong, and how many attempts are left.
    let refusal = browser
        .wait_for_text("#f-pin-error", "The PIN is wrong or has expired")
        .await;
    assert!(refusal.contains("4 attempts are left."), "{refusal}");
    let summary = browser.text(".alert.error").await;
    assert!(summary.contains("4 attempts are left."), "{summary}");
    assert_eq!(
        browser
            .find("#f-pin")
            .await
            .attr("aria-invalid")
            .await
            .unwrap(),
        Some("true".to_owned())
    );
    browser.screenshot("fedex-08-wrong-pin").await;
    let accounts = accounts(&app).await;
    assert_eq!(accounts[0]["status"], "pending_verification");
    assert_eq!(
        accounts[0]["verification"]["attempts_remaining"], 4,
        "{}",
        accounts[0]
    );

    enter_pin(&browser, &pin).await;
    assert_verified(&app, &browser, "Careful returns").await;

    browser.client.clone().close().await.unwrap();
}
