//! The web console's sessions and protections over HTTP, as a browser without JavaScript uses
//! it: signing in with a key from a form, the session cookie's attributes, CSRF tokens on every
//! form post, another tenant's pages answering 404, merchant and admin pages kept apart,
//! signing out and revoked keys ending sessions, and the console's tables under row-level
//! security.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::console::{location, set_cookies};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn account_status(app: &TestApp, key: &str, id: &str) -> Value {
    let response = app.get(key, &format!("/v1/shipper-accounts/{id}")).await;
    assert_eq!(response.status(), 200);
    let account: Value = response.json().await.unwrap();
    account["status"].clone()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let id = account["id"].as_str().unwrap();
    let console = app.console_sign_in(&app.tenant_key).await;
    let path = format!("/console/accounts/{id}/disable");

    let missing = console.post_with(&path, None, &[]).await;
    assert_eq!(missing.status(), 403);
    let page = missing.text().await.unwrap();
    assert!(page.contains("Form expired"), "{page}");

    let wrong = console
        .post_with(&path, Some("not-the-sessions-token"), &[])
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(account_status(&app, &app.tenant_key, id).await, "active");

    // Another session's token does not do either.
    let other_session = app.console_sign_in(&app.tenant_key).await;
    assert_ne!(other_session.csrf, console.csrf);
    let crossed = console
        .post_with(&path, Some(&other_session.csrf), &[])
        .await;
    assert_eq!(crossed.status(), 403);
    assert_eq!(account_status(&app, &app.tenant_key, id).await, "active");

    let accepted = console.post(&path, &[]).await;
    assert_eq!(accepted.status(), 303);
    assert_eq!(
        location(&accepted),
        format!("/console/accounts/{id}?notice=disabled")
    );
    assert_eq!(account_status(&app, &app.tenant_key, id).await, "disabled");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_form_that_changes_something_carries_the_token(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let id = account["id"].as_str().unwrap();
    let console = app.console_sign_in(&app.tenant_key).await;
    for path in [
        "/console/accounts".to_owned(),
        format!("/console/accounts/{id}"),
        format!("/console/accounts/{id}/edit"),
        format!("/console/accounts/{id}/credentials"),
        format!("/console/accounts/{id}/disable"),
        "/console/accounts/new/usps".to_owned(),
        "/console/accounts/new/usps/own_app".to_owned(),
        "/console/labels/new".to_owned(),
    ] {
        let (status, page) = console.page(&path).await;
        assert_eq!(status, 200, "{path}");
        let posts = page.matches("method=\"post\"").count();
        let tokens = page
            .matches(&format!(
                "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
                console.csrf
            ))
            .count();
        assert!(posts > 0, "{path} has a form");
        assert_eq!(posts, tokens, "{path}: every post form carries the token");
    }
    // Posts to every state-changing route are refused without it.
    for path in [
        format!("/console/accounts/{id}/edit"),
        format!("/console/accounts/{id}/credentials"),
        format!("/console/accounts/{id}/default"),
        "/console/accounts/new/usps/connect".to_owned(),
        "/console/accounts/new/usps/own_app".to_owned(),
        "/console/labels/new".to_owned(),
        "/console/sign-out".to_owned(),
    ] {
        let response = console.post_with(&path, None, &[("name", "x")]).await;
        assert_eq!(response.status(), 403, "{path}");
    }
    let admin = app.console_sign_in(&app.admin_key).await;
    let response = admin
        .post_with("/console/admin/audit/verify", None, &[])
        .await;
    assert_eq!(response.status(), 403);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenants_pages_are_not_found(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (_, other_key) = app.other_tenant("Other Returns").await;
    let theirs = app
        .create_v3_account(&other_key, "Theirs", json!({"is_default": false}))
        .await;
    let their_id = theirs["id"].as_str().unwrap();
    let label = app
        .buy(
            &other_key,
            "theirs-1",
            &backhaul_tests::label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(label.status(), 201);
    let label: Value = label.json().await.unwrap();
    let label_id = label["id"].as_str().unwrap();

    let console = app.console_sign_in(&app.tenant_key).await;
    for path in [
        format!("/console/accounts/{their_id}"),
        format!("/console/accounts/{their_id}/edit"),
        format!("/console/accounts/{their_id}/credentials"),
        format!("/console/accounts/{their_id}/disable"),
        format!("/console/labels/{label_id}"),
        format!("/console/labels/{label_id}/label"),
        format!("/console/labels/{label_id}/label?download=1"),
        "/console/no-such-page".to_owned(),
    ] {
        let (status, page) = console.page(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found"), "{path}: {page}");
        assert!(!page.contains("Theirs"), "{path}");
    }
    for path in [
        format!("/console/accounts/{their_id}/edit"),
        format!("/console/accounts/{their_id}/default"),
        format!("/console/accounts/{their_id}/disable"),
    ] {
        let response = console.post(&path, &[("name", "Mine now")]).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let (status, list) = console.page("/console/accounts").await;
    assert_eq!(status, 200);
    assert!(!list.contains("Theirs"));
    let unchanged: Value = app
        .get(&other_key, &format!("/v1/shipper-accounts/{their_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["name"], "Theirs");
    assert_eq!(unchanged["status"], "active");
    assert_eq!(unchanged["is_default"], false);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn signing_in_sets_an_httponly_samesite_session_cookie_and_signing_out_ends_it(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let response = app.console_post_sign_in(&app.tenant_key).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/console/accounts");
    let cookies = set_cookies(&response, "backhaul_console");
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(
        !cookie.contains(&app.tenant_key),
        "the cookie is not the key"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM console_sessions")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let secret = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("backhaul_console=");
    let hashed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM console_sessions WHERE id_hash = sha256($1)")
            .bind(secret.as_bytes())
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(
        hashed, 1,
        "the session is stored as the SHA-256 of its secret"
    );

    let console = app.console_sign_in(&app.tenant_key).await;
    let signed_out = console.post("/console/sign-out", &[]).await;
    assert_eq!(signed_out.status(), 303);
    assert_eq!(location(&signed_out), "/console/sign-in");
    let cleared = set_cookies(&signed_out, "backhaul_console");
    assert!(cleared[0].contains("Max-Age=0"), "{cleared:?}");
    let after = console.get("/console/accounts").await;
    assert_eq!(after.status(), 303);
    assert!(location(&after).starts_with("/console/sign-in"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn behind_an_https_proxy_the_session_cookie_is_secure(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let form = app
        .client
        .get(app.url("/console/sign-in"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let token_cookie = set_cookies(&form, "backhaul_console_sign_in")[0].clone();
    assert!(token_cookie.contains("SameSite=Strict") && token_cookie.ends_with("Secure"));
    let page = form.text().await.unwrap();
    let token = backhaul_tests::console::hidden(&page, "csrf").unwrap();
    let response = app
        .client
        .post(app.url("/console/sign-in"))
        .header("x-forwarded-proto", "https")
        .header(
            reqwest::header::COOKIE,
            token_cookie.split(';').next().unwrap(),
        )
        .form(&[("csrf", token.as_str()), ("key", app.tenant_key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = set_cookies(&response, "backhaul_console")[0].clone();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_wrong_key_or_a_forged_sign_in_form_opens_no_session(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let wrong = app
        .console_post_sign_in("bh_0000000000000000000000000000000000000000")
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(set_cookies(&wrong, "backhaul_console").is_empty());
    let page = wrong.text().await.unwrap();
    assert!(page.contains("This key is not valid"), "{page}");
    assert!(!page.contains("bh_0000"), "the key is not shown back");

    // A cross-site form has neither the sign-in page's cookie nor its token.
    let forged = app
        .client
        .post(app.url("/console/sign-in"))
        .form(&[("csrf", "guess"), ("key", app.tenant_key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(set_cookies(&forged, "backhaul_console").is_empty());

    // Nor does a token and cookie the client made up, even when they agree: the server only
    // takes a sign-in token it issued.
    let made_up = app
        .client
        .post(app.url("/console/sign-in"))
        .header("cookie", "backhaul_console_sign_in=chosen.4102444800.0000")
        .form(&[
            ("csrf", "chosen.4102444800.0000"),
            ("key", app.tenant_key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 403);
    assert!(set_cookies(&made_up, "backhaul_console").is_empty());

    // A key in the address signs nobody in.
    let in_url = app
        .client
        .get(app.url(&format!("/console/sign-in?key={}", app.tenant_key)))
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), 200);
    assert!(set_cookies(&in_url, "backhaul_console").is_empty());
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM console_sessions")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn merchant_pages_need_a_tenant_session_and_admin_pages_an_admin_one(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let anonymous = app
        .client
        .get(app.url("/console/accounts/new/usps"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        location(&anonymous),
        "/console/sign-in?next=%2Fconsole%2Faccounts%2Fnew%2Fusps"
    );
    let anonymous_admin = app
        .client
        .get(app.url("/console/admin/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_admin.status(), 303);

    let merchant = app.console_sign_in(&app.tenant_key).await;
    let (status, page) = merchant.page("/console/admin/accounts").await;
    assert_eq!(status, 403);
    assert!(page.contains("for administrators"), "{page}");

    let admin = app.console_sign_in(&app.admin_key).await;
    let (status, page) = admin.page("/console/labels/new").await;
    assert_eq!(status, 403);
    assert!(page.contains("for merchants"), "{page}");
    let (status, _) = admin.page("/console/admin/accounts").await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_revoked_key_ends_its_console_sessions(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (tenant, key) = app.other_tenant("Short-lived").await;
    let console = app.console_sign_in(&key).await;
    let (status, _) = console.page("/console/accounts").await;
    assert_eq!(status, 200);
    let key_id: String = sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_one(&app.owner)
        .await
        .unwrap();
    accounts::tenant::revoke_api_key(
        app.instance.state.db(),
        &accounts::Actor::System,
        None,
        &accounts::ApiKeyId::parse("id", &key_id).unwrap(),
        None,
    )
    .await
    .unwrap();
    let after = console.get("/console/accounts").await;
    assert_eq!(after.status(), 303);
    assert!(location(&after).starts_with("/console/sign-in"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_console_tables_force_row_level_security_and_show_nothing_unscoped(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.console_sign_in(&app.tenant_key).await;
    let console = app.console_sign_in(&app.tenant_key).await;
    let started = console
        .post("/console/accounts/new/usps/connect", &[("name", "East")])
        .await;
    assert_eq!(started.status(), 303);
    for table in ["console_sessions", "console_sign_ins"] {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1",
        )
        .bind(table)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert!(enabled && forced, "{table}");
        let as_owner: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&app.owner)
                .await
                .unwrap();
        assert!(as_owner > 0, "{table} has rows");
        let unscoped: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(app.instance.state.db().pool())
                .await
                .unwrap();
        assert_eq!(
            unscoped, 0,
            "{table}: the application role sees no row unscoped"
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn with_secure_cookies_every_console_cookie_is_secure_even_over_plain_http(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.instance.state.set_secure_cookies(true);
    let form = app
        .client
        .get(app.url("/console/sign-in"))
        .send()
        .await
        .unwrap();
    let token_cookie = set_cookies(&form, "backhaul_console_sign_in");
    assert!(
        token_cookie
            .iter()
            .all(|cookie| cookie.ends_with("; Secure")),
        "{token_cookie:?}"
    );
    let signed_in = app.console_post_sign_in(&app.tenant_key).await;
    assert_eq!(signed_in.status(), 303);
    let session = set_cookies(&signed_in, "backhaul_console");
    assert!(!session.is_empty());
    assert!(
        session.iter().all(|cookie| cookie.ends_with("; Secure")),
        "{session:?}"
    );
}
