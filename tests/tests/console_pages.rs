//! The web console's pages over HTTP (forms posted as a browser without JavaScript posts
//! them): Login with USPS started from the console lands on its details form, and a failed one
//! on its "Login failed — try again" page; the details form shows the API's own field errors;
//! rotating credentials, choosing the default, buying a label once per form; the admin's
//! accounts, timeline, audit filters and chain verification.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::console::{ConsoleSession, hidden, location};
use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::demo;

/// Starts Login with USPS from the console and consents with `decision`; returns where the
/// callback sent the browser.
async fn console_login(
    app: &TestApp,
    console: &ConsoleSession,
    name: &str,
    decision: &str,
) -> String {
    let started = console
        .post("/console/accounts/new/usps/connect", &[("name", name)])
        .await;
    assert_eq!(started.status(), 303);
    let authorize_url = location(&started);
    assert!(
        authorize_url.starts_with(&format!("{}/oauth2/v3/authorize?", app.simulator.base_url)),
        "{authorize_url}"
    );
    let callback = app.consent(&authorize_url, decision).await;
    assert!(callback.starts_with(&app.url("/v1/usps/oauth/callback?")));
    // The browser carries the console cookie back (SameSite=Lax on a top-level navigation).
    let response = app
        .client
        .get(&callback)
        .header(reqwest::header::COOKIE, &console.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "the callback redirects to the console"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    location(&response)
}

async fn api_account(app: &TestApp, id: &str) -> Value {
    app.get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

fn account_id_of(details_url: &str) -> String {
    details_url
        .trim_start_matches("/console/accounts/")
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn login_with_usps_from_the_console_lands_on_the_prefilled_details_form(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let landed = console_login(&app, &console, "East warehouse", "approve").await;
    assert!(landed.ends_with("/edit?notice=connected"), "{landed}");
    let id = account_id_of(&landed);

    let (status, page) = console.page(&landed).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("USPS connected."), "{page}");
    assert!(
        page.contains(&format!("value=\"{}\"", demo::CRID)),
        "CRID pre-filled"
    );
    // USPS names the MIDs without their roles: each is offered, none chosen.
    assert!(
        page.contains(r#"name="mid" type="text" value="""#),
        "{page}"
    );
    for mid in [demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID] {
        assert!(
            page.contains(&format!("<option value=\"{mid}\">")),
            "{mid} offered: {page}"
        );
    }
    // A writeOnly detail is a password input never filled in; the masked copy the details
    // keep is named beside it.
    assert!(
        page.contains(r#"name="eps_account_number" type="password" value="""#),
        "{page}"
    );
    assert!(
        page.contains("Now ******4321: kept encrypted; leave empty to keep the current one."),
        "EPS shown masked: {page}"
    );
    assert!(
        !page.contains(demo::EPS_ACCOUNT),
        "never the EPS number itself"
    );
    assert!(
        page.contains(r#"id="f-account-type-eps" name="account_type" value="EPS" checked"#),
        "{page}"
    );
    assert!(
        page.contains(&format!("<option value=\"{}\">", demo::PERMIT_NUMBER)),
        "permits offered"
    );
    assert_eq!(api_account(&app, &id).await["status"], "pending_details");

    let saved = console
        .post(
            &format!("/console/accounts/{id}/edit"),
            &[
                ("name", "East warehouse"),
                ("priority", "0"),
                ("tags", "location=east"),
                ("crid", demo::CRID),
                ("mid", demo::MID),
                ("account_type", "EPS"),
                ("eps_account_number", "******4321"),
                ("manifest_mid", demo::MANIFEST_MID),
                ("returns_mid", demo::RETURNS_MID),
                ("return_address.firm", demo::RETURN_ADDRESS_FIRM),
                ("return_address.street1", demo::RETURN_ADDRESS_STREET),
                ("return_address.city", demo::RETURN_ADDRESS_CITY),
                ("return_address.state", demo::RETURN_ADDRESS_STATE),
                ("return_address.zip5", demo::RETURN_ADDRESS_ZIP),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved),
        format!("/console/accounts/{id}?notice=activated")
    );
    let active = api_account(&app, &id).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["tags"], json!({"location": "east"}));
    assert_eq!(active["details"]["eps_account_number"], "******4321");

    // The account is bought with like any other.
    let label = app
        .buy(
            &app.tenant_key,
            "rma-1",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(label.status(), 201);

    // Changes made in the console are audited with the key the session was opened with.
    let key_id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1")
        .bind(app.tenant.as_str())
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let events: Value = app
        .get(
            &app.admin_key,
            &format!("/v1/admin/audit-events?account_id={id}&action=account.updated"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["data"][0]["actor"], key_id);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_declined_login_from_the_console_lands_on_login_failed_try_again(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let landed = console_login(&app, &console, "East", "deny").await;
    assert_eq!(landed, "/console/accounts/new/usps/failed");
    let (status, page) = console.page(&landed).await;
    assert_eq!(status, 200);
    assert!(page.contains("Login failed — try again"), "{page}");
    assert!(
        page.contains("Login with USPS"),
        "the way to try again: {page}"
    );
    let accounts: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["data"], json!([]), "nothing stored");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_sign_in_started_over_the_api_still_gets_the_apis_page(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let connect = app.connect_usps("API-started").await;
    let callback = app
        .consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await;
    // Even from a browser that has a console session.
    let response = app
        .client
        .get(&callback)
        .header(reqwest::header::COOKIE, &console.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("USPS connected — finish your account details"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_details_form_shows_the_apis_own_errors_beside_each_field(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let landed = console_login(&app, &console, "West", "approve").await;
    let id = account_id_of(&landed);
    let fields = [
        ("name", "West"),
        ("priority", "0"),
        ("tags", ""),
        ("crid", demo::CRID),
        ("mid", "12345"),
        ("account_type", "PERMIT"),
        ("permit_number", ""),
        ("permit_zip", "6311"),
        ("return_address.street1", "4120 Bingham Ave"),
        ("return_address.city", "St. Louis"),
        ("return_address.state", "MO"),
        ("return_address.zip5", "631"),
    ];
    let response = console
        .post(&format!("/console/accounts/{id}/edit"), &fields)
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();

    // The same details over the API: the console shows exactly the API's messages.
    let api = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &json!({"details": {"mid": "12345", "account_type": "PERMIT", "eps_account_number": null,
                                "permit_zip": "6311", "return_address": {"zip5": "631"}}}),
        )
        .await;
    assert_eq!(api.status(), 422);
    let api: Value = api.json().await.unwrap();
    let details = api["error"]["details"].as_array().unwrap();
    for field in ["mid", "permit_number", "permit_zip", "return_address.zip5"] {
        let message = details
            .iter()
            .find(|detail| detail["field"] == format!("details.{field}"))
            .unwrap_or_else(|| panic!("the API names details.{field}: {api}"))["message"]
            .as_str()
            .unwrap();
        let input_id = format!("f-{}", field.replace(['.', '_'], "-"));
        let error = format!("<p class=\"field-error\" id=\"{input_id}-error\">");
        let at = page
            .find(&error)
            .unwrap_or_else(|| panic!("an error beside {field}: {page}"));
        assert!(page[at..].contains(message), "{field}: {message}");
        assert!(
            page.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{input_id}-hint {input_id}-error\""
            )) || page.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{input_id}-error\""
            )),
            "{field} is marked invalid"
        );
    }
    // What was typed stays in the form.
    assert!(page.contains("value=\"12345\""));
    assert!(page.contains("value=\"6311\""));
    assert_eq!(api_account(&app, &id).await["status"], "pending_details");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn rotating_credentials_in_the_console_replaces_them_and_is_audited(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "Own app", json!({}))
        .await;
    let id = account["id"].as_str().unwrap();
    let before = account["credentials"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console
        .page(&format!("/console/accounts/{id}/credentials"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("value=\"{}\"", demo::CLIENT_ID)));
    assert!(
        !page.contains(demo::CLIENT_SECRET),
        "secrets are never shown"
    );

    let empty = console
        .post(
            &format!("/console/accounts/{id}/credentials"),
            &[("client_id", demo::CLIENT_ID), ("client_secret", "")],
        )
        .await;
    assert_eq!(empty.status(), 422, "a rotation needs the new secret");

    let rotated = console
        .post(
            &format!("/console/accounts/{id}/credentials"),
            &[
                ("client_id", demo::CLIENT_ID),
                ("client_secret", "a-new-secret"),
            ],
        )
        .await;
    assert_eq!(rotated.status(), 303);
    let after = api_account(&app, id).await;
    let fingerprint = after["credentials"]["fingerprint"].as_str().unwrap();
    assert_ne!(fingerprint, before);
    let (_, page) = console.page(&location(&rotated)).await;
    assert!(page.contains(fingerprint), "the new fingerprint is shown");
    assert!(!page.contains("a-new-secret"));
    let events: Value = app
        .get(
            &app.admin_key,
            &format!("/v1/admin/audit-events?account_id={id}&action=account.credentials_rotated"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["data"][0]["summary"]["previous_fingerprint"], before);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_default_is_chosen_and_a_disabled_account_cannot_be_it(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let first = app
        .create_v3_account(&app.tenant_key, "First", json!({"is_default": true}))
        .await;
    let second = app
        .create_v3_account(&app.tenant_key, "Second", json!({}))
        .await;
    let (first, second) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    let console = app.console_sign_in(&app.tenant_key).await;
    let response = console
        .post(&format!("/console/accounts/{second}/default"), &[])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(api_account(&app, second).await["is_default"], true);
    assert_eq!(api_account(&app, first).await["is_default"], false);
    let (_, list) = console.page("/console/accounts").await;
    assert!(list.contains("Default"));

    console
        .post(&format!("/console/accounts/{first}/disable"), &[])
        .await;
    let refused = console
        .post(&format!("/console/accounts/{first}/default"), &[])
        .await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("a disabled account cannot be the default"),
        "{page}"
    );
}

/// The label form's fields for the API.md example.
fn label_form(key: &str) -> Vec<(&'static str, String)> {
    [
        ("idempotency_key", key),
        ("shipper_account_id", ""),
        ("service", "usps:usps_ground_advantage_return"),
        ("label_format", "PDF"),
        ("reference", "RMA-1001"),
        ("from_address.first_name", "Jane"),
        ("from_address.last_name", "Doe"),
        ("from_address.street1", "1100 Wyoming St"),
        ("from_address.street2", "Ste 150"),
        ("from_address.city", "Saint Louis"),
        ("from_address.state", "MO"),
        ("from_address.zip5", "63118"),
        ("parcel.weight_oz", "24"),
        ("parcel.length_in", "10"),
        ("parcel.width_in", "7"),
        ("parcel.height_in", "4"),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .collect()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_label_form_buys_one_label_however_often_it_is_sent(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console.page("/console/labels/new").await;
    assert_eq!(status, 200);
    let key = hidden(&page, "idempotency_key").unwrap();
    let fields = label_form(&key);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let first = console.post("/console/labels/new", &fields).await;
    assert_eq!(first.status(), 303);
    let label_page = location(&first);
    let again = console.post("/console/labels/new", &fields).await;
    assert_eq!(
        location(&again),
        label_page,
        "a double submission shows the same label"
    );
    let labels: Value = app
        .get(&app.tenant_key, "/v1/return-labels")
        .await
        .json()
        .await
        .unwrap();
    let labels = labels["data"].as_array().unwrap();
    assert_eq!(labels.len(), 1);
    let label = &labels[0];

    let (status, page) = console.page(&label_page).await;
    assert_eq!(status, 200);
    assert!(page.contains(label["tracking_number"].as_str().unwrap()));
    assert!(page.contains(&format!(
        "${}",
        label["postage"]["amount"].as_str().unwrap()
    )));
    let id = label["id"].as_str().unwrap();
    assert!(page.contains(&format!(
        "<object data=\"/console/labels/{id}/label\" type=\"application/pdf\""
    )));

    let inline = console.get(&format!("/console/labels/{id}/label")).await;
    assert_eq!(inline.status(), 200);
    assert_eq!(inline.headers()["content-type"], "application/pdf");
    let download = console
        .get(&format!("/console/labels/{id}/label?download=1"))
        .await;
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"label-")
    );
    let bytes = download.bytes().await.unwrap();
    let api_bytes = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/label"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes, api_bytes, "the same bytes as the API's");
    assert!(bytes.starts_with(b"%PDF"));
}

/// A label with a fee: its page shows the postage, the fee by name and the total; the list
/// shows each label's total as its cost.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_labels_page_shows_its_postage_each_fee_and_the_total(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let mut body = label_request("usps_ground_advantage_return");
    body["parcel"]["length_in"] = json!(24);
    let bought = app.buy(&app.tenant_key, "long-console", &body).await;
    assert_eq!(bought.status(), 201);
    let label: Value = bought.json().await.unwrap();
    let amount = |money: &Value| format!("${}", money["amount"].as_str().unwrap());
    let console = app.console_sign_in(&app.tenant_key).await;
    let id = label["id"].as_str().unwrap();
    let (status, page) = console.page(&format!("/console/labels/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!(
            "<dd id=\"postage\">{}</dd>",
            amount(&label["postage"])
        )),
        "{page}"
    );
    assert!(
        page.contains(
            "<dt>Nonstandard Length fee &gt; 22 in.</dt><dd class=\"fee\" id=\"fee-0\">$4.00</dd>"
        ),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<dd id=\"total\"><strong>{}</strong></dd>",
            amount(&label["total"])
        )),
        "{page}"
    );
    let (status, list) = console.page("/console/labels").await;
    assert_eq!(status, 200);
    assert!(
        list.contains(&format!(
            "<td class=\"num\" data-label=\"Cost\">{}</td>",
            amount(&label["total"])
        )),
        "{list}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_label_form_with_mistakes_shows_them_beside_the_fields(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let mut fields = label_form("console-mistakes");
    for (name, value) in &mut fields {
        match *name {
            "from_address.zip5" => *value = "6311".to_owned(),
            "parcel.weight_oz" => *value = "heavy".to_owned(),
            _ => {}
        }
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = console.post("/console/labels/new", &fields).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"f-parcel-weight-oz-error\""), "{page}");

    let fields: Vec<(&str, String)> = label_form("console-no-account");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = console.post("/console/labels/new", &fields).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("The label was not created"), "{page}");
    assert!(
        page.contains("USPS"),
        "the API's no_eligible_account reason: {page}"
    );
    assert_ne!(
        hidden(&page, "idempotency_key").unwrap(),
        "console-no-account",
        "a corrected form is a new request"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_label_the_carrier_refuses_before_sending_marks_the_inputs_it_names(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (_, form) = console.page("/console/labels/new").await;
    for name in ["length-in", "width-in", "height-in"] {
        let label = format!("for=\"f-parcel-{name}\"");
        let at = form.find(&label).unwrap();
        let tail = &form[at..at + 120];
        assert!(!tail.contains("(optional)"), "{name} is asked for: {tail}");
    }
    // USPS v3 needs the dimensions: the plugin refuses before anything is sent.
    let fields: Vec<(&str, String)> = label_form("console-no-dimensions")
        .into_iter()
        .filter(|(name, _)| {
            !matches!(
                *name,
                "parcel.length_in" | "parcel.width_in" | "parcel.height_in"
            )
        })
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = console.post("/console/labels/new", &fields).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for name in ["length-in", "width-in", "height-in"] {
        assert!(
            page.contains(&format!("id=\"f-parcel-{name}-error\"")),
            "{name} marked: {page}"
        );
        assert!(
            page.contains(&format!("href=\"#f-parcel-{name}\"")),
            "{name} linked"
        );
    }
    // Nothing was kept against the key: the corrected form buys with it.
    let fields = label_form("console-no-dimensions");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = console.post("/console/labels/new", &fields).await;
    assert_eq!(response.status(), 303);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_admin_sees_every_tenants_accounts_masked_with_their_timeline(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (other, other_key) = app.other_tenant("Other Returns").await;
    let ours = app
        .create_v3_account(&app.tenant_key, "Ours", json!({}))
        .await;
    app.create_v3_account(&other_key, "Theirs", json!({})).await;
    let label = app
        .buy(
            &app.tenant_key,
            "rma-1",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(label.status(), 201);
    let id = ours["id"].as_str().unwrap();
    let admin = app.console_sign_in(&app.admin_key).await;

    let (status, page) = admin.page("/console/admin/accounts").await;
    assert_eq!(status, 200);
    assert!(page.contains("Ours") && page.contains("Theirs"));
    assert!(
        page.contains("EPS (Enterprise Payment System) ******4321"),
        "{page}"
    );
    assert!(!page.contains(demo::EPS_ACCOUNT) && !page.contains(demo::CLIENT_SECRET));
    assert!(page.contains(ours["credentials"]["fingerprint"].as_str().unwrap()));

    let (_, filtered) = admin
        .page(&format!("/console/admin/accounts?tenant_id={other}"))
        .await;
    assert!(filtered.contains("Theirs") && !filtered.contains("Ours"));
    let (status, _) = admin.page("/console/admin/accounts?tenant_id=nope").await;
    assert_eq!(status, 422);

    let (status, timeline) = admin.page(&format!("/console/admin/accounts/{id}")).await;
    assert_eq!(status, 200);
    // The account's own events; each label bought with it shows as a use of its credentials.
    for action in ["account.created", "account.credentials_used"] {
        assert!(timeline.contains(action), "{action}: {timeline}");
    }
    let (status, _) = admin
        .page("/console/admin/accounts/sa_00000000000000000000")
        .await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_audit_trail_filters_and_verifying_finds_a_tampered_event(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let id = account["id"].as_str().unwrap();
    let admin = app.console_sign_in(&app.admin_key).await;

    let (status, page) = admin
        .page(&format!(
            "/console/admin/audit?action=account.created&account_id={id}"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-label="Action">account.created</td>"#));
    assert!(
        !page.contains(r#"data-label="Action">tenant.created</td>"#),
        "filtered by action"
    );
    let (_, none) = admin
        .page("/console/admin/audit?since=2999-01-01T00:00")
        .await;
    assert!(none.contains("No event matches."));
    let (status, bad) = admin.page("/console/admin/audit?since=yesterday").await;
    assert_eq!(status, 422);
    assert!(bad.contains("must be a date and time"));
    let (status, _) = admin.page("/console/admin/audit?action=no.such").await;
    assert_eq!(status, 422);

    let verified = admin
        .post("/console/admin/audit/verify", &[("tenant_id", "")])
        .await;
    assert_eq!(verified.status(), 200);
    let page = verified.text().await.unwrap();
    assert!(page.contains("Chain intact"), "{page}");
    assert!(page.contains("waiting to be chained"), "{page}");
    app.chain_audit().await;

    // Edit an event behind the application's back (as the owner, trigger off).
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        .execute(&app.owner)
        .await
        .unwrap();
    let tampered: i64 = sqlx::query_scalar(
        "UPDATE audit_events SET actor = 'someone else'
         WHERE id = (SELECT min(id) FROM audit_events WHERE target = $1) RETURNING id",
    )
    .bind(id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let verified = admin
        .post(
            "/console/admin/audit/verify",
            &[("tenant_id", app.tenant.as_str())],
        )
        .await;
    let page = verified.text().await.unwrap();
    assert!(page.contains("Chain broken"), "{page}");
    assert!(page.contains(&format!("#{tampered}")), "{page}");
}
