//! The console knows carriers only through what their plugins publish: beside USPS, a fake
//! carrier shaped like none of ours ("Depot Freight": a depot code, a region a loading dock
//! depends on, a service level, a pickup flag, a return address; an API token) is listed under
//! "Add carrier", connected, edited and rotated with forms rendered from its schema, and its
//! accounts' label form offers its services and formats only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use backhaul_tests::console::{ConsoleSession, hidden, location};
use backhaul_tests::depot::DepotCarrier;
use backhaul_tests::{PluginOptions, TestApp};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn spawn(owner: PgPool) -> TestApp {
    TestApp::spawn_with(
        owner,
        PluginOptions {
            more_carriers: vec![Arc::new(DepotCarrier)],
            ..PluginOptions::default()
        },
    )
    .await
}

const CONNECT: &str = "/console/accounts/new/depot/api_token";

/// The connect form's fields for a complete south-region account.
fn south_account() -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "Depot south"),
        ("depot_code", "ABC-12"),
        ("region", "south"),
        ("dock_door", "D7"),
        ("service_level", "priority"),
        ("pickup", "true"),
        ("return_address.firm", "Acme Returns"),
        ("return_address.street1", "1 Dock Rd"),
        ("return_address.city", "Springfield"),
        ("return_address.state", "IL"),
        ("return_address.postal_code", "62701"),
        ("credentials.token", "depot-token-1"),
    ]
}

async fn connect_south(console: &ConsoleSession) -> String {
    let response = console.post(CONNECT, &south_account()).await;
    assert_eq!(response.status(), 303);
    let landed = location(&response);
    assert!(landed.ends_with("?notice=created"), "{landed}");
    landed
        .trim_start_matches("/console/accounts/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

async fn api_account(app: &TestApp, id: &str) -> Value {
    app.get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn add_carrier_lists_every_carrier_with_the_ways_it_connects(owner: PgPool) {
    let app = spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console.page("/console/accounts/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h2>Depot Freight</h2>"), "{page}");
    assert!(
        page.contains("An API token from the Depot Freight portal."),
        "the schema's description: {page}"
    );
    assert!(
        page.contains(&format!("<a href=\"{CONNECT}\">API token</a>")),
        "{page}"
    );
    assert!(
        !page.contains("Login with Depot Freight"),
        "it has no sign-in: {page}"
    );
    // USPS: its sign-in and each credentials mode it offers, from its own plugin.
    assert!(page.contains("Login with USPS"), "{page}");
    assert!(
        page.contains("href=\"/console/accounts/new/usps/own_app\""),
        "{page}"
    );

    let (status, page) = console.page("/console/accounts/new/depot").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Connect your Depot Freight business account"),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"{CONNECT}\"")), "{page}");
    assert!(!page.contains("/connect\""), "no sign-in form: {page}");
    let (status, _) = console.page("/console/accounts/new/depot/own_app").await;
    assert_eq!(status, 404, "a mode the carrier does not offer");
    let (status, _) = console.page("/console/accounts/new/nobody").await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_carrier_unlike_usps_is_connected_with_a_form_from_its_schema(owner: PgPool) {
    let app = spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console.page(CONNECT).await;
    assert_eq!(status, 200);
    for expected in [
        r#"name="depot_code" type="text" value="" aria-required="true""#,
        r#"pattern="^[A-Z]{3}-[0-9]{2}$""#,
        r#"type="radio" id="f-region-south" name="region" value="south""#,
        "Loading dock door<span class=\"optional\"> (required when Region is South region)</span>",
        r#"<select id="f-service-level" name="service_level""#,
        r#"<option value="priority">Priority handling</option>"#,
        r#"type="checkbox" id="f-pickup" name="pickup" value="true""#,
        r#"name="return_address.city""#,
        r#"name="credentials.token" type="password" value="""#,
        "The depot code and region are on your Depot Freight contract.",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    for foreign in ["USPS", "CRID", "MID", "EPS", "Permit"] {
        assert!(
            !page.contains(foreign),
            "{foreign} on a Depot Freight form: {page}"
        );
    }

    // Mistakes: the plugin's own messages beside the inputs, and the token not echoed.
    let mut wrong = south_account();
    for (name, value) in &mut wrong {
        match *name {
            "depot_code" => *value = "abc-12",
            "dock_door" | "return_address.city" => *value = "",
            _ => {}
        }
    }
    let response = console.post(CONNECT, &wrong).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for (input, message) in [
        ("f-depot-code", "must be three capital letters"),
        ("f-dock-door", "is required for the south region"),
        ("f-return-address-city", "is required"),
    ] {
        let at = page
            .find(&format!("<p class=\"field-error\" id=\"{input}-error\">"))
            .unwrap_or_else(|| panic!("an error beside {input}: {page}"));
        assert!(page[at..].contains(message), "{input}: {page}");
        assert!(
            page.contains(&format!("href=\"#{input}\"")),
            "{input} linked from the summary"
        );
    }
    assert!(page.contains("value=\"abc-12\""), "what was typed stays");
    assert!(
        !page.contains("depot-token-1"),
        "the token is never shown back"
    );
    let none: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["data"], json!([]), "nothing stored");

    let id = connect_south(&console).await;
    let account = api_account(&app, &id).await;
    assert_eq!(account["carrier"], "depot");
    assert_eq!(account["status"], "active");
    assert_eq!(
        account["details"],
        json!({"depot_code": "ABC-12", "region": "south", "dock_door": "D7",
               "service_level": "priority", "pickup": true,
               "return_address": {"firm": "Acme Returns", "street1": "1 Dock Rd",
                                  "city": "Springfield", "state": "IL", "postal_code": "62701"}})
    );
    assert_eq!(account["credentials"]["mode"], "api_token");

    let (_, page) = console.page(&format!("/console/accounts/{id}")).await;
    for expected in [
        "<dt>Carrier</dt><dd>Depot Freight</dd>",
        "<dt>Summary</dt><dd>South region D7</dd>",
        "<dt>Region</dt><dd>South region</dd>",
        "<dt>Scheduled pickup</dt><dd>Yes</dd>",
        "<dd>Acme Returns<br>1 Dock Rd<br>Springfield IL 62701</dd>",
        "<dt>Mode</dt><dd>API token</dd>",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let (_, list) = console.page("/console/accounts").await;
    assert!(
        list.contains("<td data-label=\"Carrier\">Depot Freight</td>"),
        "{list}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_depot_account_is_edited_and_its_token_rotated_from_its_schema(owner: PgPool) {
    let app = spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let id = connect_south(&console).await;

    let edit = format!("/console/accounts/{id}/edit");
    let (status, page) = console.page(&edit).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"value="ABC-12""#), "{page}");
    assert!(page.contains(r#"value="south" checked"#), "{page}");
    assert!(
        page.contains(r#"<option value="priority" selected>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"value="true" checked"#),
        "the pickup flag: {page}"
    );
    assert!(page.contains(r#"value="Springfield""#), "{page}");

    // North: the dock door goes with the south region, the flag is cleared, a part removed.
    let saved = console
        .post(
            &edit,
            &[
                ("name", "Depot north"),
                ("priority", "3"),
                ("tags", ""),
                ("depot_code", "XYZ-99"),
                ("region", "north"),
                ("dock_door", "D7"),
                ("service_level", "standard"),
                ("return_address.street1", "1 Dock Rd"),
                ("return_address.city", "Springfield"),
                ("return_address.postal_code", "62701"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved),
        format!("/console/accounts/{id}?notice=saved")
    );
    let account = api_account(&app, &id).await;
    assert_eq!(account["name"], "Depot north");
    assert_eq!(
        account["details"],
        json!({"depot_code": "XYZ-99", "region": "north", "service_level": "standard",
               "return_address": {"street1": "1 Dock Rd", "city": "Springfield",
                                  "postal_code": "62701"}})
    );

    let rotate = format!("/console/accounts/{id}/credentials");
    let (status, page) = console.page(&rotate).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"name="token" type="password" value="""#),
        "{page}"
    );
    let before = account["credentials"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let empty = console.post(&rotate, &[("token", "")]).await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("enter the api token"));
    let rotated = console.post(&rotate, &[("token", "depot-token-2")]).await;
    assert_eq!(rotated.status(), 303);
    let after = api_account(&app, &id).await;
    assert_ne!(after["credentials"]["fingerprint"], before);
    let (_, page) = console.page(&location(&rotated)).await;
    assert!(!page.contains("depot-token-2"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_label_form_offers_what_the_accounts_carrier_offers(owner: PgPool) {
    let app = spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let id = connect_south(&console).await;

    let (status, page) = console.page("/console/labels/new").await;
    assert_eq!(status, 200);
    // South: economy only, the first offered chosen; no other carrier's services.
    assert!(
        page.contains(r#"<option value="depot:depot_economy" selected>Depot Freight — Depot Economy Return</option>"#),
        "{page}"
    );
    assert!(
        !page.contains("depot_overnight"),
        "not for the south: {page}"
    );
    assert!(!page.contains("usps"), "no account of USPS: {page}");
    assert!(
        page.contains(r#"id="f-label-format-zpl" name="label_format" value="ZPL" checked"#),
        "{page}"
    );
    assert!(page.contains(r#"id="f-label-format-png""#), "{page}");
    assert!(
        !page.contains(r#"value="PDF""#),
        "Depot Freight makes no PDF: {page}"
    );
    assert!(
        page.contains(r#"id="f-label-delivery-email" name="label_delivery" value="email""#),
        "{page}"
    );
    assert!(page.contains(r#"name="notify.recipient_email""#), "{page}");

    let key = hidden(&page, "idempotency_key").unwrap();
    let response = console
        .post(
            "/console/labels/new",
            &[
                ("idempotency_key", key.as_str()),
                ("shipper_account_id", id.as_str()),
                ("service", "depot:depot_economy"),
                ("label_format", "ZPL"),
                ("label_delivery", "download"),
                ("from_address.first_name", "Jane"),
                ("from_address.last_name", "Doe"),
                ("from_address.street1", "1100 Wyoming St"),
                ("from_address.city", "Saint Louis"),
                ("from_address.state", "MO"),
                ("from_address.zip5", "63118"),
                ("parcel.weight_oz", "24"),
                ("parcel.length_in", "10"),
                ("parcel.width_in", "7"),
                ("parcel.height_in", "4"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("The label was not created"), "{page}");
    assert!(page.contains("does not support buying labels"), "{page}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn usps_is_connected_with_its_own_app_from_its_schema_and_buys_a_label(owner: PgPool) {
    let app = spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let path = "/console/accounts/new/usps/own_app";
    let (status, page) = console.page(path).await;
    assert_eq!(status, 200);
    // USPS's texts come from its schema.
    for expected in [
        "Not sure? Sign in to the USPS Business Customer Gateway",
        "Customer Registration ID: 2 to 18 digits.",
        r#"name="credentials.client_secret" type="password" value="""#,
        r#"type="radio" id="f-account-type-permit" name="account_type" value="PERMIT""#,
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    let address = backhaul_tests::return_address();
    let part = |key: &str| address[key].as_str().unwrap().to_owned();
    let (firm, street, city, state, zip) = (
        part("firm"),
        part("street1"),
        part("city"),
        part("state"),
        part("zip5"),
    );
    let response = console
        .post(
            path,
            &[
                ("name", "Own app"),
                ("api", "v3"),
                ("crid", usps_sim::demo::CRID),
                ("mid", usps_sim::demo::MID),
                ("account_type", "EPS"),
                ("eps_account_number", usps_sim::demo::EPS_ACCOUNT),
                ("permit_number", "99999"),
                ("return_address.firm", &firm),
                ("return_address.street1", &street),
                ("return_address.city", &city),
                ("return_address.state", &state),
                ("return_address.zip5", &zip),
                ("credentials.client_id", usps_sim::demo::CLIENT_ID),
                ("credentials.client_secret", usps_sim::demo::CLIENT_SECRET),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let landed = location(&response);
    let id = landed
        .trim_start_matches("/console/accounts/")
        .split('?')
        .next()
        .unwrap();
    let account = api_account(&app, id).await;
    assert_eq!(account["status"], "active");
    assert_eq!(account["credentials"]["mode"], "own_app");
    assert_eq!(account["details"]["eps_account_number"], "******4321");
    assert_eq!(
        account["details"]["permit_number"],
        Value::Null,
        "a PERMIT field is not sent for an EPS account: {account}"
    );
    let (_, page) = console.page(&landed).await;
    assert!(!page.contains(usps_sim::demo::CLIENT_SECRET));
    assert!(!page.contains(usps_sim::demo::EPS_ACCOUNT));
    let label = app
        .buy(
            &app.tenant_key,
            "own-app-1",
            &backhaul_tests::label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(label.status(), 201);
}

/// UPS, the second real carrier, registered beside USPS without a sign-in (its own API app
/// only), its plugin never called: onboarding needs nothing but its schema.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn ups_is_connected_with_its_own_app_from_its_schema(owner: PgPool) {
    let ups = carrier_ups::UpsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let app = TestApp::spawn_with(
        owner,
        PluginOptions {
            more_carriers: vec![Arc::new(ups)],
            ..PluginOptions::default()
        },
    )
    .await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (_, page) = console.page("/console/accounts/new").await;
    assert!(page.contains("<h2>UPS</h2>"), "{page}");
    assert!(
        page.contains(r#"<a href="/console/accounts/new/ups/own_app">Your own UPS API app</a>"#),
        "{page}"
    );
    assert!(
        !page.contains("/console/accounts/new/ups#login"),
        "no sign-in configured: {page}"
    );

    let path = "/console/accounts/new/ups/own_app";
    let (status, page) = console.page(path).await;
    assert_eq!(status, 200);
    for expected in [
        r#"name="account_number" type="text" value="" aria-required="true""#,
        r#"pattern="^[A-Za-z0-9]{6}$""#,
        "The number is on your UPS invoices",
        r#"name="credentials.client_secret" type="password" value="""#,
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    assert!(!page.contains("CRID") && !page.contains("EPS"), "{page}");
    let response = console
        .post(
            path,
            &[
                ("name", "UPS east"),
                ("account_number", "A1B2C3"),
                ("return_address.firm", "Acme Returns"),
                ("return_address.street1", "1100 Wyoming St"),
                ("return_address.city", "Saint Louis"),
                ("return_address.state", "MO"),
                ("return_address.zip5", "63118"),
                ("credentials.client_id", "ups-client"),
                ("credentials.client_secret", "ups-secret"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let landed = location(&response);
    let (_, page) = console.page(&landed).await;
    assert!(
        page.contains("<dt>UPS account number</dt><dd>A1B2C3</dd>"),
        "{page}"
    );
    assert!(
        page.contains("<dt>Mode</dt><dd>Your own UPS API app</dd>"),
        "{page}"
    );
    assert!(!page.contains("ups-secret"));

    let (_, form) = console.page("/console/labels/new").await;
    assert!(
        form.contains(r#"<option value="ups:ups_ground_return""#),
        "{form}"
    );
    assert!(!form.contains("usps:"), "no USPS account: {form}");
}
