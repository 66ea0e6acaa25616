//! Re-authorizing an account in place (`POST /v1/shipper-accounts/{id}/reconnect`, the console's
//! "Reconnect with …"): a merchant whose sign-in lapsed signs in again and keeps the account —
//! its id, tags, default and history — instead of starting over with a new one; and every
//! event of a sign-in names who started it, not `system`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::console::location;
use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::demo;

const GROUND: &str = "usps_ground_advantage_return";

async fn account(app: &TestApp, id: &str) -> Value {
    let response = app
        .get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn account_count(app: &TestApp) -> usize {
    let response = app.get(&app.tenant_key, "/v1/shipper-accounts").await;
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().len()
}

/// The id of the tenant's API key (the audit trail's actor for what it does).
async fn tenant_key_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1")
        .bind(app.tenant.as_str())
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// The merchant revokes the app's authorization at USPS; the next label needs a renewal, finds
/// out, and the account needs re-authorization.
async fn lapse(app: &TestApp, id: &str) {
    let (_, refresh) = app.oauth_tokens(id).await;
    let revoked = app
        .client
        .post(format!("{}/oauth2/v3/revoke", app.simulator.base_url))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[
            ("token", refresh.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    app.make_oauth_due(id).await;
    let refused = app
        .buy(&app.tenant_key, "rma-lapsed", &label_request(GROUND))
        .await;
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.unwrap();
    let message = refused["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("POST /v1/shipper-accounts/{id}/reconnect")),
        "the refusal says how to reconnect: {message}"
    );
    assert_eq!(account(app, id).await["status"], "reauthorization_required");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_lapsed_account_reconnects_in_place_and_buys_labels_again(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let id = app.signed_in_usps_account("East").await;
    let before = account(&app, &id).await;
    let first = app
        .buy(&app.tenant_key, "rma-before", &label_request(GROUND))
        .await;
    assert_eq!(first.status(), 201);
    lapse(&app, &id).await;

    let response = app
        .post(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}/reconnect"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let reconnect: Value = response.json().await.unwrap();
    let authorize_url = reconnect["authorize_url"].as_str().unwrap();
    assert!(authorize_url.contains("code_challenge="), "{authorize_url}");
    assert!(reconnect["expires_at"].is_string());
    let callback = app.consent(authorize_url, "approve").await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("reconnected"), "{page}");
    assert!(page.contains(&id), "{page}");

    let after = account(&app, &id).await;
    assert_eq!(after["status"], "active");
    for kept in [
        "id",
        "name",
        "tags",
        "is_default",
        "priority",
        "details",
        "created_at",
    ] {
        assert_eq!(after[kept], before[kept], "{kept} is kept");
    }
    assert_ne!(
        after["credentials"]["fingerprint"], before["credentials"]["fingerprint"],
        "new tokens"
    );
    assert_eq!(account_count(&app).await, 1, "no second account");

    let label = app
        .buy(&app.tenant_key, "rma-after", &label_request(GROUND))
        .await;
    let status = label.status();
    let label: Value = label.json().await.unwrap();
    assert_eq!(status, 201, "{label}");
    assert_eq!(label["shipper_account_id"], id.as_str());

    // Every step of both sign-ins names the key that started it.
    let key = tenant_key_id(&app).await;
    let reconnected = app.audit_events("account.oauth_reconnected").await;
    assert_eq!(reconnected.len(), 1);
    assert_eq!(reconnected[0]["actor"], key.as_str());
    assert_eq!(reconnected[0]["target"], id.as_str());
    assert_eq!(
        reconnected[0]["summary"]["previous_status"],
        "reauthorization_required"
    );
    assert_eq!(reconnected[0]["summary"]["status"], "active");
    let connected = app.audit_events("account.oauth_connected").await;
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0]["actor"], key.as_str());
    // The label request that found the refresh token lapsed was the renewal's actor.
    let failed = app.audit_events("account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["actor"], key.as_str());
    let verified = app
        .post(&app.admin_key, "/v1/admin/audit-events/verify", &json!({}))
        .await;
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(verified["ok"], true, "{verified}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_declined_reconnect_changes_nothing_and_is_audited_on_the_account(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let id = app.signed_in_usps_account("East").await;
    lapse(&app, &id).await;
    let before = account(&app, &id).await;
    let response = app
        .post(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}/reconnect"),
            &json!({}),
        )
        .await;
    let reconnect: Value = response.json().await.unwrap();
    let callback = app
        .consent(reconnect["authorize_url"].as_str().unwrap(), "deny")
        .await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("Login failed — try again"), "{page}");
    assert_eq!(account(&app, &id).await, before);
    let failed = app.audit_events("account.oauth_failed").await;
    let reconnect_failure = failed
        .iter()
        .find(|event| event["summary"]["stage"] == "reconnect")
        .expect("the declined reconnect is audited");
    assert_eq!(reconnect_failure["target"], id.as_str());
    assert_eq!(
        reconnect_failure["actor"],
        tenant_key_id(&app).await.as_str()
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn only_the_tenants_own_signed_in_enabled_accounts_reconnect(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let own_app = app
        .create_v3_account(&app.tenant_key, "Own app", json!({}))
        .await;
    let own_id = own_app["id"].as_str().unwrap();
    let response = app
        .post(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{own_id}/reconnect"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_supported");

    let id = app.signed_in_usps_account("East").await;
    let (_, other) = app.other_tenant("Other Returns").await;
    let response = app
        .post(
            &other,
            &format!("/v1/shipper-accounts/{id}/reconnect"),
            &json!({}),
        )
        .await;
    assert_eq!(
        response.status(),
        404,
        "another tenant's account does not exist"
    );
    let response = app
        .post(
            &app.admin_key,
            &format!("/v1/shipper-accounts/{id}/reconnect"),
            &json!({}),
        )
        .await;
    assert_eq!(
        response.status(),
        403,
        "admin keys do not sign in for merchants"
    );

    let disabled = app
        .delete(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await;
    assert!(disabled.status().is_success());
    let response = app
        .post(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}/reconnect"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "account_disabled");

    let response = app
        .post(
            &app.tenant_key,
            "/v1/shipper-accounts/sa_00000000000000000000/reconnect",
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_console_reconnects_a_lapsed_account_from_its_page(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let id = app.signed_in_usps_account("East").await;
    lapse(&app, &id).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = console.page(&format!("/console/accounts/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Reconnect with USPS"), "{page}");
    assert!(
        page.contains(&format!("action=\"/console/accounts/{id}/reconnect\"")),
        "{page}"
    );

    let started = console
        .post(&format!("/console/accounts/{id}/reconnect"), &[])
        .await;
    assert_eq!(started.status(), 303);
    let authorize_url = location(&started);
    assert!(
        authorize_url.starts_with(&app.simulator.base_url),
        "{authorize_url}"
    );
    let callback = app.consent(&authorize_url, "approve").await;
    let back = app.client.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(
        location(&back),
        format!("/console/accounts/{id}?notice=reconnected")
    );
    let (_, page) = console
        .page(&format!("/console/accounts/{id}?notice=reconnected"))
        .await;
    assert!(page.contains("connected again"), "{page}");
    assert_eq!(account(&app, &id).await["status"], "active");
    assert_eq!(account_count(&app).await, 1);

    // Without the session's CSRF token nothing starts.
    let forged = console
        .post_with(&format!("/console/accounts/{id}/reconnect"), None, &[])
        .await;
    assert_eq!(forged.status(), 403);
}
