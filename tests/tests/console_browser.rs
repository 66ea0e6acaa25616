//! The web console in a real headless Chromium, clicked through as a merchant and an admin
//! would, with screenshots saved to `target/console-screenshots/` (at 1280 px and at a phone's
//! 390 px):
//!
//! sign in → "Add carrier" → USPS → "Login with USPS" → the simulator's consent page → back on
//! the details form, pre-filled with what USPS's UserInfo named once and offering what it named
//! several of; an EPS account, a PERMIT account, and one with mistakes shown
//! beside its fields; a declined sign-in's "Login failed — try again"; a PDF return label
//! created, shown and downloaded, and a PNG one; then as admin: the account found among every
//! tenant's, its audit events, and the hash chain verified. And a carrier shaped unlike USPS
//! (the tests' Depot Freight) connected from its schema, its choice showing only the fields
//! the chosen option needs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::browser::Browser;
use backhaul_tests::depot::DepotCarrier;
use sqlx::PgPool;
use usps_sim::demo;

/// The account id in a console URL (`/console/accounts/{id}…`).
fn account_id(url: &reqwest::Url) -> String {
    url.path()
        .trim_start_matches("/console/accounts/")
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

/// "Add carrier" → USPS → "Login with USPS" with `name`, then the simulator's consent page:
/// signs in as the demo merchant, ticks the box and chooses `decision`.
async fn login_with_usps(browser: &Browser, name: &str, decision: &str, shots: Option<&str>) {
    login_with_usps_as(browser, demo::USERNAME, name, decision, shots).await;
}

/// [`login_with_usps`] signed in as the simulator's user `username`.
async fn login_with_usps_as(
    browser: &Browser,
    username: &str,
    name: &str,
    decision: &str,
    shots: Option<&str>,
) {
    let shot = shots.map(|prefix| format!("{prefix}-login-with-usps"));
    browser.start_login("USPS", name, shot.as_deref()).await;
    if let Some(prefix) = shots {
        browser.screenshot(&format!("{prefix}-usps-consent")).await;
    }
    browser.fill("#username", username).await;
    browser.fill("#password", demo::PASSWORD).await;
    browser.click("#consent").await;
    browser
        .click(&format!("button[name=decision][value={decision}]"))
        .await;
}

/// The MIDs, chosen among those USPS offered (it names them without their roles).
async fn fill_mids(browser: &Browser) {
    browser.fill("#f-mid", demo::MID).await;
    browser.fill("#f-manifest-mid", demo::MANIFEST_MID).await;
    browser.fill("#f-returns-mid", demo::RETURNS_MID).await;
}

async fn fill_return_address(browser: &Browser) {
    browser
        .fill("#f-return-address-firm", demo::RETURN_ADDRESS_FIRM)
        .await;
    browser
        .fill("#f-return-address-street1", demo::RETURN_ADDRESS_STREET)
        .await;
    browser
        .fill("#f-return-address-city", demo::RETURN_ADDRESS_CITY)
        .await;
    browser
        .fill("#f-return-address-state", demo::RETURN_ADDRESS_STATE)
        .await;
    browser
        .fill("#f-return-address-zip5", demo::RETURN_ADDRESS_ZIP)
        .await;
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_connects_usps_and_downloads_a_label_and_an_admin_verifies_its_trail(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let browser = Browser::start().await;

    // Sign in: the console sends a stranger to the sign-in form.
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.screenshot("01-sign-in").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;
    browser.screenshot("02-accounts-empty").await;
    // Keyboard: the first Tab reaches the skip link, which leads to the content.
    let focused = browser.tab().await;
    assert_eq!(focused.text().await.unwrap(), "Skip to content");

    // An EPS account: Login with USPS, consent, back on the pre-filled details form.
    login_with_usps(&browser, "East warehouse", "approve", Some("03")).await;
    browser.wait_for_heading("Account details").await;
    browser.wait_for_text(".alert.ok", "USPS connected").await;
    assert_eq!(browser.value("#f-crid").await, demo::CRID);
    // Three MIDs without roles: offered as the inputs' suggestions, none chosen.
    assert_eq!(browser.value("#f-mid").await, "");
    for mid in [demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID] {
        browser
            .find(&format!("#f-mid-options option[value='{mid}']"))
            .await;
    }
    // A secret is never filled in: the masked number is named in its hint.
    assert_eq!(browser.value("#f-eps-account-number").await, "");
    browser
        .wait_for_text("#f-eps-account-number-hint", "Now ******4321")
        .await;
    assert!(
        browser
            .find("#f-account-type-eps")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    assert!(browser.displayed("#f-eps-account-number").await);
    assert!(
        !browser.displayed("#f-permit-number").await,
        "an EPS account shows no permit fields"
    );
    browser.screenshot("05-details-prefilled-eps").await;
    fill_mids(&browser).await;
    fill_return_address(&browser).await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("East warehouse").await;
    browser
        .wait_for_text(".alert.ok", "account is active")
        .await;
    let east = account_id(&browser.url().await);
    browser.screenshot("06-account-active").await;

    // A PERMIT account: choosing the type shows the permit's fields instead.
    login_with_usps(&browser, "West warehouse", "approve", None).await;
    browser.wait_for_heading("Account details").await;
    browser.click("#f-account-type-permit").await;
    assert!(browser.displayed("#f-permit-number").await);
    assert!(!browser.displayed("#f-eps-account-number").await);
    browser.fill("#f-permit-number", demo::PERMIT_NUMBER).await;
    browser.fill("#f-permit-zip", demo::PERMIT_ZIP).await;
    fill_mids(&browser).await;
    fill_return_address(&browser).await;
    browser.screenshot("07-details-permit").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("West warehouse").await;
    browser
        .wait_for_text(".alert.ok", "account is active")
        .await;
    browser
        .wait_for_text("main", &format!("Permit {}", demo::PERMIT_NUMBER))
        .await;
    browser.click("form[action$='/default'] button").await;
    browser
        .wait_for_text(".alert.ok", "now the default account")
        .await;

    // One with mistakes: each is shown beside its field, and the summary links to it.
    login_with_usps(&browser, "North warehouse", "approve", None).await;
    browser.wait_for_heading("Account details").await;
    browser.fill("#f-mid", "12345").await;
    browser.fill("#f-return-address-zip5", "631").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_text(".alert.error h2", "There are").await;
    browser
        .wait_for_text("#f-mid-error", "must be 6 or 9 digits")
        .await;
    browser.find("#f-return-address-zip5-error").await;
    browser.find("#f-return-address-street1-error").await;
    assert_eq!(
        browser.value("#f-mid").await,
        "12345",
        "what was typed stays"
    );
    browser.screenshot("08-details-with-errors").await;
    browser.resize(390, 844).await;
    browser.screenshot("08b-details-with-errors-390px").await;
    browser.resize(1280, 900).await;
    browser.click(".alert.error a[href='#f-mid']").await;
    let focused = browser.client.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("f-mid"));

    // A business with two EPS accounts: both offered by their last digits, one chosen.
    login_with_usps_as(
        &browser,
        demo::MULTI_USERNAME,
        "South warehouse",
        "approve",
        None,
    )
    .await;
    browser.wait_for_heading("Account details").await;
    browser
        .wait_for_text(
            "#f-eps-account-number-hint",
            "only their last digits are shown",
        )
        .await;
    browser.screenshot("08c-details-several-eps-accounts").await;
    browser.fill("#f-crid", demo::SECOND_CRID).await;
    browser.fill("#f-mid", demo::SECOND_MID).await;
    browser.click("#f-eps-account-number-choice-1").await;
    fill_return_address(&browser).await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("South warehouse").await;
    browser
        .wait_for_text(".alert.ok", "account is active")
        .await;
    browser.wait_for_text("main", "******7777").await;

    // A declined consent: "Login failed — try again", and nothing stored.
    login_with_usps(&browser, "Declined", "deny", None).await;
    browser.wait_for_heading("Login failed — try again").await;
    browser.find("form[action$='/connect'] button").await;
    browser.screenshot("09-login-failed").await;

    browser.click_link("Carrier accounts").await;
    browser.wait_for_heading("Carrier accounts").await;
    let list = browser.text("table").await;
    for expected in [
        "East warehouse",
        "West warehouse",
        "North warehouse",
        "EPS (Enterprise Payment System) ******4321",
        "Permit 12345",
        "Needs details",
        "Default",
    ] {
        assert!(list.contains(expected), "{expected}: {list}");
    }
    assert!(!list.contains("Declined"));
    browser.screenshot("10-accounts").await;
    browser.resize(390, 844).await;
    browser.screenshot("10b-accounts-390px").await;
    browser.resize(1280, 900).await;

    // A return label (the default account: West, PERMIT), shown and downloaded.
    browser.click_link("Create a return label").await;
    browser.wait_for_heading("Create a return label").await;
    browser.fill_label_form("RMA-1001").await;
    browser.screenshot("11-label-form").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Return label").await;
    let tracking = browser.text("#tracking-number").await;
    assert!(tracking.len() >= 20, "{tracking}");
    let postage = browser.text("#postage").await;
    assert!(postage.starts_with('$'), "{postage}");
    browser.find("object[type='application/pdf']").await;
    browser.screenshot("12-label-pdf").await;
    browser.click("a[download]").await;
    let downloaded = browser.downloaded().await;
    let bytes = std::fs::read(&downloaded).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "{downloaded:?} is a PDF");
    assert!(
        downloaded
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with(".pdf")
    );
    let label_id = browser
        .url()
        .await
        .path()
        .trim_start_matches("/console/labels/")
        .to_owned();
    let api_bytes = app
        .get(
            &app.tenant_key,
            &format!("/v1/return-labels/{label_id}/label"),
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes, api_bytes.to_vec(), "the label the API serves");
    let label: serde_json::Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{label_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(label["tracking_number"], tracking);
    assert_ne!(
        label["shipper_account_id"], east,
        "the default account was used"
    );

    // A PNG label from the EPS account, chosen by name.
    browser.click_link("Create a return label").await;
    browser.wait_for_heading("Create a return label").await;
    browser
        .find("#f-shipper-account-id")
        .await
        .select_by_label("East warehouse")
        .await
        .unwrap();
    browser.click("#f-label-format-png").await;
    browser.fill_label_form("RMA-1001").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Return label").await;
    let image = browser.find(".label-preview img").await;
    let loaded = browser
        .client
        .execute(
            "return arguments[0].complete && arguments[0].naturalWidth > 0",
            vec![serde_json::to_value(&image).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(loaded, serde_json::Value::Bool(true), "the PNG label shows");
    browser.screenshot("13-label-png").await;
    browser.resize(390, 844).await;
    browser.screenshot("13b-label-png-390px").await;
    browser.resize(1280, 900).await;

    browser.click_link("Return labels").await;
    browser.wait_for_heading("Return labels").await;
    browser.wait_for_text("table", &tracking).await;
    browser.screenshot("14-labels").await;

    browser.click("form.sign-out button").await;
    browser.wait_for_heading("Sign in to Backhaul").await;

    // The admin finds the account, reads its audit events and verifies the chain.
    browser.fill("#key", &app.admin_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("All shipper accounts").await;
    browser.fill("#f-tenant-id", app.tenant.as_str()).await;
    browser.click("form.filters button").await;
    browser.wait_for_text("#accounts", "North warehouse").await;
    browser.screenshot("15-admin-accounts").await;
    browser.click_link("East warehouse").await;
    browser.wait_for_heading("East warehouse").await;
    let timeline = browser.text("#events").await;
    for action in [
        "account.oauth_connected",
        "account.updated",
        "account.credentials_used",
    ] {
        assert!(timeline.contains(action), "{action}: {timeline}");
    }
    browser.screenshot("16-admin-timeline").await;
    browser
        .click_link("Filter the audit trail by this account")
        .await;
    browser.wait_for_heading("Audit trail").await;
    assert_eq!(browser.value("#f-account-id").await, east);
    browser
        .find("#f-action")
        .await
        .select_by_value("account.oauth_connected")
        .await
        .unwrap();
    browser
        .click("form[aria-label='Filter events'] button")
        .await;
    browser
        .wait_for_text("#events", "account.oauth_connected")
        .await;
    assert!(!browser.text("#events").await.contains("account.updated"));
    browser.screenshot("17-admin-audit-filtered").await;
    // What the server's audit sequencer does every 200 ms (this test takes over its minute).
    app.chain_audit().await;
    browser
        .click("form[action='/console/admin/audit/verify'] button")
        .await;
    let result = browser
        .wait_for_text("#verify-result", "Chain intact")
        .await;
    assert!(result.contains("events checked"), "{result}");
    browser.screenshot("18-admin-chain-verified").await;
    browser.resize(390, 844).await;
    browser.screenshot("18b-admin-chain-verified-390px").await;

    browser.client.clone().close().await.unwrap();
}

/// A carrier shaped unlike USPS, connected in the browser from its schema: its region shows the
/// loading dock only for the south, without a script.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_merchant_connects_a_carrier_unlike_usps_from_its_schema(owner: PgPool) {
    let app = TestApp::spawn_with(
        owner,
        backhaul_tests::PluginOptions {
            more_carriers: vec![std::sync::Arc::new(DepotCarrier)],
            ..backhaul_tests::PluginOptions::default()
        },
    )
    .await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/console")).await;
    browser.wait_for_heading("Sign in to Backhaul").await;
    browser.fill("#key", &app.tenant_key).await;
    browser
        .click("form[action='/console/sign-in'] button")
        .await;
    browser.wait_for_heading("Carrier accounts").await;
    browser.click_link("Add carrier").await;
    browser.wait_for_heading("Add carrier").await;
    browser.screenshot("20-add-carrier").await;
    browser.click_link("API token").await;
    browser
        .wait_for_heading("Connect Depot Freight: API token")
        .await;
    assert!(
        !browser.displayed("#f-dock-door").await,
        "no region chosen yet: no region's field shows"
    );
    browser.click("#f-region-north").await;
    assert!(
        !browser.displayed("#f-dock-door").await,
        "the north has none"
    );
    browser.click("#f-region-south").await;
    assert!(browser.displayed("#f-dock-door").await);
    browser.fill("#f-depot-code", "ABC-12").await;
    browser.fill("#f-dock-door", "D7").await;
    browser.choose("#f-service-level", "priority").await;
    browser.click("#f-pickup").await;
    browser.fill("#f-return-address-street1", "1 Dock Rd").await;
    browser.fill("#f-return-address-city", "Springfield").await;
    browser.fill("#f-name", "Depot south").await;
    browser.fill("#f-credentials-token", "depot-token-1").await;
    browser.screenshot("21-depot-connect").await;
    browser.click("form.stack button.primary").await;
    browser.wait_for_heading("Depot south").await;
    browser.wait_for_text(".alert.ok", "can buy labels").await;
    browser.wait_for_text("main", "South region D7").await;
    browser.screenshot("22-depot-account").await;
    let accounts: serde_json::Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    let details = &accounts["data"][0]["details"];
    assert_eq!(details["pickup"], true);
    assert_eq!(details["service_level"], "priority");
    assert_eq!(details["dock_door"], "D7");

    browser.client.clone().close().await.unwrap();
}
