//! "Login with UPS" over HTTP, the merchant's browser played by a client that follows no
//! redirects: connect, ups-sim's consent page, the callback that seals the tokens, the details
//! that make the account active, a label bought with it; a declined consent, a replayed
//! callback and an injected authorization code that store nothing; and the renewal of the
//! account's single-use refresh token — before a label, and by two instances at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use backhaul_tests::ups::label_request;
use backhaul_tests::{PluginOptions, TestApp, start_instance};
use reqwest::Url;
use serde_json::Value;
use sqlx::PgPool;
use ups_sim::{Fault, FaultRule, demo, route};

const LOGIN_FAILED: &str = "Login failed — try again";

/// The value of the query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The page never shows the code or the state of the callback it answers.
fn assert_no_leak(page: &str, callback: &str) {
    for secret in [param(callback, "code"), param(callback, "state")]
        .into_iter()
        .flatten()
    {
        assert!(!page.contains(&secret), "the page shows {secret}: {page}");
    }
}

async fn accounts_of(app: &TestApp, key: &str) -> Vec<Value> {
    let response = app.get(key, "/v1/shipper-accounts").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Asserts that the authorize URL's `code_challenge` is the S256 (computed by ups-sim) of the
/// verifier our server derives for the URL's state — the verifier the code exchange sends.
fn assert_challenge_binds_the_state(app: &TestApp, authorize_url: &str) {
    assert_eq!(
        param(authorize_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = param(authorize_url, "state").unwrap();
    let verifier = app.instance.state.accounts().pkce_verifier(&state);
    assert_eq!(
        param(authorize_url, "code_challenge").unwrap(),
        ups_sim::s256_challenge(verifier.expose()),
        "the challenge is S256 of the state's verifier"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn login_with_ups_connects_an_account_that_buys_labels_once_its_details_are_complete(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_ups("UPS East").await;
    let authorize_url = connect["authorize_url"].as_str().unwrap();
    assert!(
        authorize_url.starts_with(&format!(
            "{}/security/v1/oauth/authorize?",
            app.ups.base_url
        )),
        "{authorize_url}"
    );
    assert_eq!(
        param(authorize_url, "client_id").as_deref(),
        Some(demo::CLIENT_ID)
    );
    assert_eq!(
        param(authorize_url, "redirect_uri"),
        Some(app.url("/v1/ups/oauth/callback"))
    );
    assert_challenge_binds_the_state(&app, authorize_url);

    let callback = app.consent_ups(authorize_url, "approve").await;
    assert!(
        callback.starts_with(&app.url("/v1/ups/oauth/callback?")),
        "{callback}"
    );
    assert_eq!(param(&callback, "state"), param(authorize_url, "state"));
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("UPS connected — finish your account details"),
        "{page}"
    );
    assert_no_leak(&page, &callback);

    let listed = accounts_of(&app, &app.tenant_key).await;
    assert_eq!(listed.len(), 1);
    let pending = &listed[0];
    let id = pending["id"].as_str().unwrap();
    assert!(page.contains(id), "the page names the account: {page}");
    assert_eq!(pending["carrier"], "ups");
    assert_eq!(pending["name"], "UPS East");
    assert_eq!(pending["status"], "pending_details");
    assert_eq!(pending["credentials"]["mode"], "platform_app");
    assert!(pending["credentials"]["access_token_expires_at"].is_string());
    let counters = app.ups.simulator.counters();
    assert_eq!(counters.grant("authorization_code").ok, 1);

    let early = app
        .buy(&app.tenant_key, "too-early", &label_request())
        .await;
    assert_eq!(early.status(), 422);
    let early: Value = early.json().await.unwrap();
    assert_eq!(early["error"]["code"], "no_eligible_account");
    assert_eq!(app.ups_calls(route::SHIP), 0);

    let active = app.complete_ups_details(id).await;
    assert_eq!(active["credentials"]["mode"], "platform_app");
    let label = app.buy(&app.tenant_key, "rma-1", &label_request()).await;
    assert_eq!(label.status(), 201);
    let label: Value = label.json().await.unwrap();
    assert_eq!(label["carrier"], "ups");
    assert_eq!(label["shipper_account_id"], id);
    let ledger = app.ups_ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        ledger[0].username.as_deref(),
        Some(demo::USERNAME),
        "bought with the merchant's own token from the consent"
    );
    assert_eq!(ledger[0].shipper_number, demo::SHIPPER_NUMBER);
    let counters = app.ups.simulator.counters();
    assert_eq!(counters.grant("client_credentials").calls, 0);
    assert_eq!(counters.grant("authorization_code").calls, 1);

    let connected = app.audit_events("account.oauth_connected").await;
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0]["target"], id);
    let (access, refresh) = app.oauth_tokens(id).await;
    for shown in [page, pending.to_string(), active.to_string()] {
        assert!(!shown.contains(&access) && !shown.contains(&refresh));
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_declined_consent_fails_stores_nothing_and_is_audited(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_ups("UPS East").await;
    let callback = app
        .consent_ups(connect["authorize_url"].as_str().unwrap(), "decline")
        .await;
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&callback, "code"), None);
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &callback);
    assert!(accounts_of(&app, &app.tenant_key).await.is_empty());
    assert_eq!(app.ups_calls(route::TOKEN), 0, "no code to exchange");
    let failed = app.audit_events("account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["tenant_id"], app.tenant.as_str());
    let reason = failed[0]["summary"]["reason"].as_str().unwrap();
    assert!(reason.contains("access_denied"), "{reason}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_replayed_callback_is_refused_and_creates_nothing_more(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let callback = app.approved_ups_callback("UPS East").await;
    let (first, _) = app.callback(&callback).await;
    assert_eq!(first, 200);
    let accounts = accounts_of(&app, &app.tenant_key).await;
    assert_eq!(accounts.len(), 1);

    let (second, page) = app.callback(&callback).await;
    assert_eq!(second, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &callback);
    assert_eq!(
        accounts_of(&app, &app.tenant_key).await,
        accounts,
        "nothing created or changed"
    );
    assert_eq!(
        app.ups
            .simulator
            .counters()
            .grant("authorization_code")
            .calls,
        1,
        "the replay never reached UPS"
    );
    assert_eq!(app.audit_events("account.oauth_connected").await.len(), 1);
}

/// The authorization-code injection defence (RFC 9700 §4.5): a code the victim approved for
/// their sign-in, presented at our callback with the state of the attacker's own sign-in,
/// is exchanged with the attacker's sign-in's verifier — which is not the one the victim's
/// code was issued for, so UPS refuses it and no account appears anywhere.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_code_presented_with_another_sign_ins_state_fails_at_ups_and_creates_no_account(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let (_, victim) = app.other_tenant("Victim Returns").await;
    let victims = app.connect_ups_as(&victim, "Victim UPS").await;
    let victims_url = victims["authorize_url"].as_str().unwrap();
    let attackers = app.connect_ups("Attacker UPS").await;
    let attackers_url = attackers["authorize_url"].as_str().unwrap();
    assert_challenge_binds_the_state(&app, victims_url);
    assert_challenge_binds_the_state(&app, attackers_url);
    assert_ne!(
        param(victims_url, "code_challenge"),
        param(attackers_url, "code_challenge")
    );

    let victims_callback = app.consent_ups(victims_url, "approve").await;
    let stolen_code = param(&victims_callback, "code").unwrap();
    let attackers_state = param(attackers_url, "state").unwrap();
    let injected = Url::parse_with_params(
        &app.url("/v1/ups/oauth/callback"),
        [("code", &stolen_code), ("state", &attackers_state)],
    )
    .unwrap()
    .to_string();
    let (status, page) = app.callback(&injected).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_no_leak(&page, &injected);

    let exchanges = app.ups.simulator.counters().grant("authorization_code");
    assert_eq!(
        (exchanges.calls, exchanges.error),
        (1, 1),
        "UPS refused the exchange"
    );
    let failed = app.audit_events("account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["tenant_id"], app.tenant.as_str());
    let reason = failed[0]["summary"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("code_verifier does not match"),
        "UPS refused it for the verifier: {reason}"
    );
    assert!(!failed[0].to_string().contains(&stolen_code));
    assert!(accounts_of(&app, &app.tenant_key).await.is_empty());
    assert!(accounts_of(&app, &victim).await.is_empty());
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM shipper_accounts")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_due_account_is_refreshed_before_a_label_and_ups_refuses_the_spent_refresh_token(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let active = app.active_ups_platform_account("UPS East").await;
    let id = active["id"].as_str().unwrap();
    let (old_access, old_refresh) = app.oauth_tokens(id).await;
    app.make_oauth_due(id).await;

    let label = app.buy(&app.tenant_key, "rma-1", &label_request()).await;
    assert_eq!(label.status(), 201, "{}", label.text().await.unwrap());
    assert_eq!(app.ups_calls(route::REFRESH), 1);
    let (new_access, new_refresh) = app.oauth_tokens(id).await;
    assert_ne!(new_refresh, old_refresh, "UPS rotated the refresh token");
    assert_ne!(new_access, old_access);
    let renewed: Value = app
        .get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renewed["status"], "active");
    assert_ne!(
        renewed["credentials"]["fingerprint"],
        active["credentials"]["fingerprint"]
    );
    let refreshed = app.audit_events("account.oauth_refreshed").await;
    assert_eq!(refreshed.len(), 1);
    assert_eq!(refreshed[0]["target"], id);

    let replay = |refresh_token: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(format!("{}/security/v1/oauth/refresh", app.ups.base_url))
                .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, refused) = replay(old_refresh).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["response"]["errors"][0]["code"], "10402",
        "invalid grant"
    );
    // Control: the same request with the stored token is accepted.
    let (status, accepted) = replay(new_refresh).await;
    assert_eq!(status, 200, "{accepted}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn two_instances_refreshing_a_due_account_at_once_make_one_refresh_call(owner: PgPool) {
    let app = Arc::new(TestApp::spawn(owner.clone()).await);
    let active = app.active_ups_platform_account("UPS East").await;
    let id = active["id"].as_str().unwrap();
    let second = start_instance(
        &owner,
        &app.simulator.base_url,
        PluginOptions {
            ups_url: Some(app.ups.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;
    app.make_oauth_due(id).await;
    // A slow refresh keeps every purchase inside the first renewal's window.
    app.ups.simulator.inject(FaultRule {
        route: route::REFRESH.to_owned(),
        fault: Fault::Latency { ms: 300 },
        times: None,
        probability: None,
    });
    let purchases = (0..6).map(|index| {
        let base = if index % 2 == 0 {
            app.instance.base_url.clone()
        } else {
            second.base_url.clone()
        };
        let app = app.clone();
        async move {
            let response = app
                .client
                .post(format!("{base}/v1/return-labels"))
                .bearer_auth(&app.tenant_key)
                .header("Idempotency-Key", format!("two-instances-{index}"))
                .json(&label_request())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    });
    for (status, body) in futures::future::join_all(purchases).await {
        assert_eq!(status, 201, "{body}");
    }
    // UPS refresh tokens are single-use: a second renewal would have presented a spent one.
    assert_eq!(app.ups_calls(route::REFRESH), 1);
    assert_eq!(app.ups.simulator.counters().grant("refresh_token").ok, 1);
    assert_eq!(app.audit_events("account.oauth_refreshed").await.len(), 1);
    assert_eq!(app.ups_ledger().len(), 6);
    let renewed: Value = app
        .get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renewed["status"], "active");
}
