//! "Login with USPS" end to end (the AfterShip flow): connect, the simulator's consent page, the
//! callback that stores the tokens sealed and pre-fills the account from the OIDC UserInfo
//! (what it names once pre-filled, what it names several of offered as choices, a failed one
//! connecting all the same and saying so), the details that make it active, a label bought
//! with it; denied, expired, replayed and tampered sign-ins that store nothing; and the renewal
//! of its tokens — before a label, by the refresh job, and when USPS refuses it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::{TestApp, label_request, return_address};
use reqwest::Url;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::types::chrono::{DateTime, Utc};
use usps_sim::{Fault, FaultRule, demo, route};

const GROUND: &str = "usps_ground_advantage_return";
const LOGIN_FAILED: &str = "Login failed — try again";

/// The callback URL's `code` and `state`.
fn code_and_state(callback: &str) -> (Option<String>, Option<String>) {
    let url = Url::parse(callback).unwrap();
    let find = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    (find("code"), find("state"))
}

/// `callback` with its `name` parameter replaced.
fn with_param(callback: &str, name: &str, value: Option<&str>) -> String {
    let mut url = Url::parse(callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(key, _)| key != name)
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (key, existing) in &pairs {
            query.append_pair(key, existing);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    url.to_string()
}

/// The page never shows the code or the state of the callback it answers.
fn assert_no_leak(page: &str, callback: &str) {
    let (code, state) = code_and_state(callback);
    for secret in [code, state].into_iter().flatten() {
        assert!(!page.contains(&secret), "the page shows {secret}: {page}");
    }
}

async fn accounts(app: &TestApp) -> Vec<Value> {
    let response = app.get(&app.tenant_key, "/v1/shipper-accounts").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

async fn account(app: &TestApp, id: &str) -> Value {
    let response = app
        .get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn audit_events(app: &TestApp, action: &str) -> Vec<Value> {
    let response = app
        .get(
            &app.admin_key,
            &format!("/v1/admin/audit-events?action={action}"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// Connect, approve, come back: the callback URL the simulator sent the browser to.
async fn approved_callback(app: &TestApp, name: &str) -> String {
    let connect = app.connect_usps(name).await;
    app.consent(connect["authorize_url"].as_str().unwrap(), "approve")
        .await
}

/// A connected account, `pending_details`.
async fn connected(app: &TestApp, name: &str) -> Value {
    let callback = approved_callback(app, name).await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    let found = accounts(app).await;
    found
        .into_iter()
        .find(|account| account["name"] == name)
        .unwrap()
}

/// What the merchant completes a connected demo account with: the MIDs, chosen among those
/// USPS offered (it names them without their roles), and the return address.
fn missing_details() -> Value {
    json!({"details": {"mid": demo::MID, "manifest_mid": demo::MANIFEST_MID,
                       "returns_mid": demo::RETURNS_MID, "return_address": return_address()}})
}

/// A connected account with its details completed: `active`.
async fn connected_and_active(app: &TestApp, name: &str) -> Value {
    let pending = connected(app, name).await;
    let response = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{}", pending["id"].as_str().unwrap()),
            &missing_details(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let active: Value = response.json().await.unwrap();
    assert_eq!(active["status"], "active");
    active
}

fn expiry(account: &Value, field: &str) -> DateTime<Utc> {
    account["credentials"][field]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn login_with_usps_connects_a_prefilled_account_that_buys_labels_once_its_details_are_complete(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_usps("East warehouse").await;
    let authorize_url = connect["authorize_url"].as_str().unwrap();
    assert!(
        authorize_url.starts_with(&format!("{}/oauth2/v3/authorize?", app.simulator.base_url)),
        "{authorize_url}"
    );
    let expires_at: DateTime<Utc> = connect["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = (expires_at - Utc::now()).num_seconds();
    assert!((9 * 60..=10 * 60).contains(&lifetime), "{lifetime}");

    let callback = app.consent(authorize_url, "approve").await;
    assert!(
        callback.starts_with(&app.url("/v1/usps/oauth/callback?")),
        "{callback}"
    );
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("USPS connected — finish your account details"),
        "{page}"
    );
    assert_no_leak(&page, &callback);

    let listed = accounts(&app).await;
    assert_eq!(listed.len(), 1);
    let pending = &listed[0];
    let id = pending["id"].as_str().unwrap();
    assert!(page.contains(id), "the page names the account: {page}");
    assert!(page.contains(&format!("PATCH /v1/shipper-accounts/{id}")));
    assert_eq!(pending["name"], "East warehouse");
    assert_eq!(pending["status"], "pending_details");
    // UserInfo named one CRID and one EPS account (pre-filled) and three MIDs without their
    // roles (offered, not guessed).
    let details = &pending["details"];
    assert_eq!(details["crid"], demo::CRID);
    assert_eq!(details.get("mid"), None);
    assert_eq!(details["account_type"], "EPS");
    assert_eq!(details["eps_account_number"], "******4321");
    let onboarding = &pending["onboarding"];
    assert_eq!(onboarding["crid"], json!([demo::CRID]));
    let mids = json!([demo::MID, demo::MANIFEST_MID, demo::RETURNS_MID]);
    for detail in ["mid", "manifest_mid", "returns_mid"] {
        assert_eq!(onboarding[detail], mids, "{detail}");
    }
    assert_eq!(onboarding["eps_account_number"], json!(["******4321"]));
    assert_eq!(onboarding["permit_number"], json!([demo::PERMIT_NUMBER]));
    assert_eq!(onboarding.get("prefill_unavailable"), None);
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .route(route::USERINFO)
            .calls,
        1
    );
    assert_eq!(pending["credentials"]["mode"], "platform_app");
    let refresh_lifetime = expiry(pending, "refresh_token_expires_at") - Utc::now();
    assert!(refresh_lifetime.num_days() >= 6, "{refresh_lifetime}");

    // Not usable before its details are complete.
    let early = app
        .buy(&app.tenant_key, "too-early", &label_request(GROUND))
        .await;
    assert_eq!(early.status(), 422);
    let early: Value = early.json().await.unwrap();
    assert_eq!(early["error"]["code"], "no_eligible_account");

    let response = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &missing_details(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let active: Value = response.json().await.unwrap();
    assert_eq!(active["status"], "active");
    assert_eq!(active["details"]["eps_account_number"], "******4321");

    let label = app
        .buy(&app.tenant_key, "rma-1", &label_request(GROUND))
        .await;
    assert_eq!(label.status(), 201);
    let label: Value = label.json().await.unwrap();
    assert_eq!(label["shipper_account_id"], id);
    let counters = app.simulator.simulator.counters();
    assert_eq!(
        counters.grant("client_credentials").calls,
        0,
        "the merchant's own token from the consent was used"
    );
    assert_eq!(counters.grant("authorization_code").calls, 1);

    let connected = audit_events(&app, "account.oauth_connected").await;
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0]["target"], id);

    // The tokens are nowhere in plaintext: not in the API, the audit trail or the row.
    let (access, refresh) = app.oauth_tokens(id).await;
    let everything = app.get(&app.admin_key, "/v1/admin/audit-events").await;
    let everything = everything.text().await.unwrap();
    let row: String =
        sqlx::query_scalar("SELECT row_to_json(s)::text FROM (SELECT * FROM shipper_accounts) s")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    for shown in [
        page.as_str(),
        &everything,
        &row,
        &active.to_string(),
        &pending.to_string(),
    ] {
        assert!(!shown.contains(&access) && !shown.contains(&refresh));
        assert!(!shown.contains(demo::EPS_ACCOUNT));
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_denied_consent_fails_and_stores_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_usps("East").await;
    let callback = app
        .consent(connect["authorize_url"].as_str().unwrap(), "deny")
        .await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &callback);
    assert!(accounts(&app).await.is_empty());
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .route(usps_sim::route::TOKEN)
            .calls,
        0
    );
    let failed = audit_events(&app, "account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["tenant_id"], app.tenant.as_str());
    assert!(
        failed[0]["summary"]["reason"]
            .as_str()
            .unwrap()
            .contains("access_denied")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_expired_sign_in_fails_and_stores_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let callback = approved_callback(&app, "East").await;
    sqlx::query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(&app.owner)
        .await
        .unwrap();
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &callback);
    assert!(accounts(&app).await.is_empty());
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("authorization_code")
            .calls,
        0,
        "the code was never exchanged"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_replayed_callback_fails_and_leaves_exactly_one_account(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let callback = approved_callback(&app, "East").await;
    let (first, _) = app.callback(&callback).await;
    assert_eq!(first, 200);
    let (second, page) = app.callback(&callback).await;
    assert_eq!(second, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &callback);
    assert_eq!(accounts(&app).await.len(), 1);
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("authorization_code")
            .calls,
        1,
        "the replay never reached USPS"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_tampered_or_missing_state_fails_and_leaves_the_real_sign_in_usable(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let callback = approved_callback(&app, "East").await;
    let (_, state) = code_and_state(&callback);
    let mut tampered_state = state.unwrap();
    tampered_state.replace_range(
        0..1,
        if tampered_state.starts_with('A') {
            "B"
        } else {
            "A"
        },
    );
    for forged in [
        with_param(&callback, "state", Some(&tampered_state)),
        with_param(&callback, "state", None),
        format!("{callback}&state=again"),
    ] {
        let (status, page) = app.callback(&forged).await;
        assert_eq!(status, 400, "{forged}");
        assert!(page.contains(LOGIN_FAILED), "{page}");
        assert_no_leak(&page, &forged);
    }
    assert!(accounts(&app).await.is_empty());
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("authorization_code")
            .calls,
        0
    );
    let (status, _) = app.callback(&callback).await;
    assert_eq!(status, 200, "the genuine callback still completes");
    assert_eq!(accounts(&app).await.len(), 1);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_code_usps_will_not_exchange_fails_is_audited_and_uses_up_the_sign_in(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let callback = approved_callback(&app, "East").await;
    let forged = with_param(&callback, "code", Some("NOTACODE"));
    let (status, page) = app.callback(&forged).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &forged);
    assert!(accounts(&app).await.is_empty());
    let failed = audit_events(&app, "account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(!failed[0].to_string().contains("NOTACODE"));

    let (status, _) = app.callback(&callback).await;
    assert_eq!(
        status, 400,
        "the state is single-use even when the exchange failed"
    );
    assert!(accounts(&app).await.is_empty());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn connect_needs_a_tenant_key_a_carrier_with_sign_in_and_a_name(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let unknown = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts/fedex/connect",
            &json!({"name": "East"}),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(unknown["error"]["details"][0]["field"], "carrier");

    let unnamed = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts/usps/connect",
            &json!({"name": ""}),
        )
        .await;
    assert_eq!(unnamed.status(), 422);
    let unnamed: Value = unnamed.json().await.unwrap();
    assert_eq!(unnamed["error"]["details"][0]["field"], "name");

    let anonymous = app
        .client
        .post(app.url("/v1/shipper-accounts/usps/connect"))
        .json(&json!({"name": "East"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let admin = app
        .post(
            &app.admin_key,
            "/v1/shipper-accounts/usps/connect",
            &json!({"name": "East"}),
        )
        .await;
    assert_eq!(admin.status(), 403);

    let (status, page) = app
        .callback(&app.url("/v1/fedex/oauth/callback?code=abc&state=def"))
        .await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED));

    let openapi: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/v1/shipper-accounts/{carrier}/connect"]["post"].is_object());
    assert!(openapi["paths"]["/v1/{carrier}/oauth/callback"]["get"].is_object());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn due_tokens_are_renewed_before_a_label_is_bought(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let active = connected_and_active(&app, "East").await;
    let id = active["id"].as_str().unwrap();
    let (old_access, _) = app.oauth_tokens(id).await;
    // At USPS the consent's access token has expired (8 hours); the refresh token has not.
    app.simulator
        .simulator
        .advance_clock(Duration::from_secs(9 * 60 * 60));
    app.make_oauth_due(id).await;

    let label = app
        .buy(&app.tenant_key, "rma-1", &label_request(GROUND))
        .await;
    assert_eq!(label.status(), 201, "{}", label.text().await.unwrap());
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("refresh_token")
            .calls,
        1
    );
    let renewed = account(&app, id).await;
    assert_eq!(renewed["status"], "active");
    assert!(expiry(&renewed, "access_token_expires_at") > Utc::now());
    assert_ne!(
        renewed["credentials"]["fingerprint"],
        active["credentials"]["fingerprint"]
    );
    let (new_access, _) = app.oauth_tokens(id).await;
    assert_ne!(new_access, old_access);

    let refreshed = audit_events(&app, "account.oauth_refreshed").await;
    assert_eq!(refreshed.len(), 1);
    assert_eq!(refreshed[0]["target"], id);
    assert_eq!(
        refreshed[0]["summary"]["previous_fingerprint"],
        active["credentials"]["fingerprint"]
    );
    assert!(!refreshed[0].to_string().contains(&new_access));

    let again = app
        .buy(&app.tenant_key, "rma-2", &label_request(GROUND))
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("refresh_token")
            .calls,
        1,
        "fresh tokens are not renewed again"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn concurrent_labels_on_a_due_account_renew_its_tokens_once(owner: PgPool) {
    let app = std::sync::Arc::new(TestApp::spawn(owner).await);
    let active = connected_and_active(&app, "East").await;
    let id = active["id"].as_str().unwrap();
    app.make_oauth_due(id).await;
    // A slow token call keeps every purchase inside the first renewal's window.
    app.simulator.simulator.inject(usps_sim::FaultRule {
        route: usps_sim::route::TOKEN.to_owned(),
        fault: usps_sim::Fault::Latency { ms: 300 },
        times: None,
        probability: None,
    });
    let purchases = (0..4).map(|n| {
        let app = app.clone();
        async move {
            app.buy(&app.tenant_key, &format!("rma-{n}"), &label_request(GROUND))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(purchases).await;
    assert!(statuses.iter().all(|status| *status == 201), "{statuses:?}");
    // USPS rotates refresh tokens: a second renewal would have presented a revoked one.
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .grant("refresh_token")
            .calls,
        1
    );
    assert_eq!(audit_events(&app, "account.oauth_refreshed").await.len(), 1);
    assert_eq!(account(&app, id).await["status"], "active");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_refused_renewal_requires_reauthorization_and_label_selection_says_so(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let active = connected_and_active(&app, "East").await;
    let id = active["id"].as_str().unwrap();
    // Eight days later at USPS, the seven-day refresh token has expired.
    app.simulator
        .simulator
        .advance_clock(Duration::from_secs(8 * 24 * 60 * 60));
    app.make_oauth_due(id).await;

    let refused = app
        .buy(&app.tenant_key, "rma-1", &label_request(GROUND))
        .await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "carrier_rejected");
    assert_eq!(
        refused["error"]["details"][0]["code"],
        "reauthorization_required"
    );
    let message = refused["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("POST /v1/shipper-accounts/{id}/reconnect")),
        "{message}"
    );
    assert_eq!(
        account(&app, id).await["status"],
        "reauthorization_required"
    );
    let failed = audit_events(&app, "account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["target"], id);
    assert_eq!(failed[0]["summary"]["stage"], "refresh");
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .route(usps_sim::route::RETURN_LABEL)
            .calls,
        0
    );

    let next = app
        .buy(&app.tenant_key, "rma-2", &label_request(GROUND))
        .await;
    assert_eq!(next.status(), 422);
    let next: Value = next.json().await.unwrap();
    assert_eq!(next["error"]["code"], "no_eligible_account");
    assert!(
        next["error"]["message"]
            .as_str()
            .unwrap()
            .contains("re-authorized"),
        "{next}"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_refresh_job_renews_idle_accounts_and_flags_refused_ones(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let state = &app.instance.state;
    let idle = connected(&app, "Idle").await;
    let id = idle["id"].as_str().unwrap();
    let nothing = server::oauth::refresh_due(state).await.unwrap();
    assert_eq!(nothing, server::oauth::RefreshRun::default());

    app.make_oauth_due(id).await;
    let run = server::oauth::refresh_due(state).await.unwrap();
    assert_eq!(run.renewed, 1, "{run:?}");
    let renewed = account(&app, id).await;
    assert_eq!(renewed["status"], "pending_details");
    assert!(expiry(&renewed, "access_token_expires_at") > Utc::now());
    assert_eq!(audit_events(&app, "account.oauth_refreshed").await.len(), 1);

    app.simulator
        .simulator
        .advance_clock(Duration::from_secs(8 * 24 * 60 * 60));
    app.make_oauth_due(id).await;
    let run = server::oauth::refresh_due(state).await.unwrap();
    assert_eq!(run.reauthorization_required, 1, "{run:?}");
    assert_eq!(
        account(&app, id).await["status"],
        "reauthorization_required"
    );
    assert_eq!(audit_events(&app, "account.oauth_failed").await.len(), 1);
    let run = server::oauth::refresh_due(state).await.unwrap();
    assert_eq!(run, server::oauth::RefreshRun::default(), "not retried");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_spawned_refresh_job_renews_due_accounts_on_its_own(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let idle = connected(&app, "Idle").await;
    let id = idle["id"].as_str().unwrap();
    app.make_oauth_due(id).await;
    let job =
        server::oauth::spawn_refresh_job(app.instance.state.clone(), Duration::from_millis(50));
    // The job runs in the background: watch for its audit event, bounded.
    let renewed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if !audit_events(&app, "account.oauth_refreshed")
                .await
                .is_empty()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    })
    .await;
    job.abort();
    assert!(renewed.is_ok(), "the job renewed the account");
    assert!(expiry(&account(&app, id).await, "access_token_expires_at") > Utc::now());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_account_that_needs_reauthorization_is_announced_to_the_webhook_endpoints(
    owner: PgPool,
) {
    use backhaul_tests::webhook::{Receiver, fast_delivery, register, start_workers};
    let app = TestApp::spawn(owner).await;
    let receiver = Receiver::start().await;
    register(
        &app,
        &app.tenant_key,
        &receiver.url,
        json!(["shipper_account.reauthorization_required"]),
    )
    .await;
    let _workers = start_workers(&app.instance.state, fast_delivery());
    let idle = connected(&app, "Idle").await;
    let id = idle["id"].as_str().unwrap();
    app.simulator
        .simulator
        .advance_clock(Duration::from_secs(8 * 24 * 60 * 60));
    app.make_oauth_due(id).await;
    server::oauth::refresh_due(&app.instance.state)
        .await
        .unwrap();

    let got = receiver
        .wait_until("the event", |got| !got.is_empty())
        .await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["type"], "shipper_account.reauthorization_required");
    assert_eq!(body["data"]["id"], id);
    assert_eq!(body["data"]["status"], "reauthorization_required");
    let (access, refresh) = app.oauth_tokens(id).await;
    assert!(!got[0].body.contains(&access) && !got[0].body.contains(&refresh));
}

/// A business USPS names several of everything for — two mail owners, five MIDs, two EPS
/// accounts, two permits: each is a choice in the account's `onboarding` and on the console's
/// details form (the EPS accounts masked, as a payments form shows cards), nothing is chosen
/// for the merchant, and the merchant's choice of a masked EPS account pays for its labels.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn several_crids_mids_eps_accounts_and_permits_are_choices_on_the_details_form(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_usps("Two docks").await;
    let callback = app
        .consent_as(
            connect["authorize_url"].as_str().unwrap(),
            demo::MULTI_USERNAME,
            "approve",
        )
        .await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    let pending = accounts(&app).await.remove(0);
    let id = pending["id"].as_str().unwrap().to_owned();
    assert_eq!(pending["status"], "pending_details");
    assert_eq!(
        pending["details"],
        json!({"api": "v3", "account_type": "EPS"}),
        "nothing chosen where USPS named several"
    );
    let onboarding = &pending["onboarding"];
    assert_eq!(onboarding["crid"], json!([demo::CRID, demo::SECOND_CRID]));
    let mids = json!([
        demo::MID,
        demo::MANIFEST_MID,
        demo::RETURNS_MID,
        demo::SECOND_MID,
        demo::SECOND_RETURNS_MID
    ]);
    for detail in ["mid", "manifest_mid", "returns_mid"] {
        assert_eq!(onboarding[detail], mids, "{detail}");
    }
    assert_eq!(
        onboarding["eps_account_number"],
        json!(["******4321", "******7777"])
    );
    assert_eq!(onboarding["account_type"], json!(["EPS", "PERMIT"]));
    assert_eq!(
        onboarding["permit_number"],
        json!([demo::PERMIT_NUMBER, demo::SECOND_PERMIT_NUMBER])
    );

    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, form) = console.page(&format!("/console/accounts/{id}/edit")).await;
    assert_eq!(status, 200);
    for offered in [
        demo::CRID,
        demo::SECOND_CRID,
        demo::MID,
        demo::SECOND_RETURNS_MID,
        demo::SECOND_PERMIT_NUMBER,
    ] {
        assert!(
            form.contains(&format!("<option value=\"{offered}\">")),
            "{offered} offered: {form}"
        );
    }
    for (index, masked) in ["******4321", "******7777"].iter().enumerate() {
        assert!(
            form.contains(&format!(
                "<input type=\"radio\" id=\"f-eps-account-number-choice-{index}\" name=\"eps_account_number\" value=\"{masked}\">"
            )),
            "{masked} offered: {form}"
        );
    }
    assert!(form.contains("USPS shared these; only their last digits are shown."));
    assert!(!form.contains("prefill-unavailable"));
    for secret in [demo::EPS_ACCOUNT, demo::SECOND_EPS_ACCOUNT] {
        assert!(!form.contains(secret) && !pending.to_string().contains(secret));
    }

    let saved = console
        .post(
            &format!("/console/accounts/{id}/edit"),
            &[
                ("name", "Two docks"),
                ("priority", "0"),
                ("tags", ""),
                ("crid", demo::SECOND_CRID),
                ("mid", demo::SECOND_MID),
                ("returns_mid", demo::SECOND_RETURNS_MID),
                ("account_type", "EPS"),
                ("eps_account_number", "******7777"),
                ("eps_account_number", ""),
                ("return_address.firm", demo::RETURN_ADDRESS_FIRM),
                ("return_address.street1", demo::RETURN_ADDRESS_STREET),
                ("return_address.city", demo::RETURN_ADDRESS_CITY),
                ("return_address.state", demo::RETURN_ADDRESS_STATE),
                ("return_address.zip5", demo::RETURN_ADDRESS_ZIP),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let active = account(&app, &id).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["details"]["eps_account_number"], "******7777");

    let label = app
        .buy(&app.tenant_key, "two-docks-1", &label_request(GROUND))
        .await;
    assert_eq!(label.status(), 201);
    let ledger = app.simulator.simulator.ledger();
    assert_eq!(ledger[0].crid, demo::SECOND_CRID);
    assert!(ledger[0].tracking_number.contains(demo::SECOND_RETURNS_MID));
}

/// UserInfo failing never blocks the sign-in: the account is connected `pending_details` with
/// nothing pre-filled, its `onboarding` keeps why, the callback page and the console's details
/// form say so, the metric counts it, and the typed details make the account active.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_failed_userinfo_connects_the_account_and_the_form_and_the_metric_say_so(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.simulator.simulator.inject(FaultRule {
        route: route::USERINFO.to_owned(),
        fault: Fault::Status { status: 503 },
        times: None,
        probability: None,
    });
    let callback = approved_callback(&app, "Blind").await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("USPS did not tell us your account details"),
        "{page}"
    );
    let pending = accounts(&app).await.remove(0);
    let id = pending["id"].as_str().unwrap().to_owned();
    assert_eq!(pending["status"], "pending_details");
    assert_eq!(pending["credentials"]["mode"], "platform_app");
    assert_eq!(pending["details"], json!({}));
    let reason = pending["onboarding"]["prefill_unavailable"]
        .as_str()
        .unwrap();
    assert!(reason.contains("UserInfo call failed"), "{reason}");
    assert!(reason.contains("503"), "{reason}");

    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, form) = console.page(&format!("/console/accounts/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("<div class=\"alert warn\" id=\"prefill-unavailable\" role=\"status\"><p><strong>USPS did not tell us your account details</strong>"),
        "{form}"
    );
    assert!(form.contains("; type the details."), "{form}");

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("backhaul_oauth_prefill_failures_total{carrier=\"usps\"} 1"),
        "{metrics}"
    );

    let typed = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &json!({"details": {"crid": demo::CRID, "mid": demo::MID,
                                "returns_mid": demo::RETURNS_MID, "account_type": "EPS",
                                "eps_account_number": demo::EPS_ACCOUNT,
                                "return_address": return_address()}}),
        )
        .await;
    assert_eq!(typed.status(), 200);
    let active: Value = typed.json().await.unwrap();
    assert_eq!(active["status"], "active");
    let (status, form) = console.page(&format!("/console/accounts/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(
        !form.contains("prefill-unavailable"),
        "an active account needs no such line"
    );
}
