//! API keys over HTTP: an admin lists, creates and revokes any key (`/v1/admin/api-keys`), a
//! tenant lists and revokes its own (`/v1/api-keys`); a revoked key — and every console session
//! opened with it — stops at once; each change is audited with the request that made it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use serde_json::{Value, json};
use sqlx::PgPool;

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_key_revoked_through_the_api_stops_at_once_with_its_console_sessions(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (status, created) = json_of(
        app.post(
            &app.admin_key,
            "/v1/admin/api-keys",
            &json!({"name": "warehouse scanner", "tenant_id": app.tenant.to_string()}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["kind"], "tenant");
    assert_eq!(created["tenant_id"], app.tenant.to_string());
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("bh_"));

    // The new key works, and its tenant sees it listed without the secret.
    let (status, own) = json_of(app.get(&secret, "/v1/api-keys").await).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = own["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{own}");
    assert!(ids.contains(&id.as_str()));
    assert!(
        !own.to_string().contains(&secret),
        "a listed key shows its secret"
    );
    let console = app.console_sign_in(&secret).await;
    assert_eq!(console.page("/console/accounts").await.0, 200);

    // The tenant revokes it (with its other key): it stops at once, the console session too.
    let revoke_path = format!("/v1/api-keys/{id}");
    let revoke = app.delete(&app.tenant_key, &revoke_path).await;
    let request_id = revoke.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, revoked) = json_of(revoke).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(app.get(&secret, "/v1/api-keys").await.status(), 401);
    let after = console.get("/console/accounts").await;
    assert_eq!(after.status(), 303, "the session outlived its key");

    // Revoking again answers the key as it stands; the live list no longer has it.
    let (status, again) = json_of(app.delete(&app.tenant_key, &revoke_path).await).await;
    assert_eq!((status, &again["id"]), (200, &json!(id)));
    let (_, live) = json_of(app.get(&app.tenant_key, "/v1/api-keys").await).await;
    assert_eq!(live["data"].as_array().unwrap().len(), 1);
    let (_, all) = json_of(
        app.get(
            &app.admin_key,
            &format!(
                "/v1/admin/api-keys?tenant_id={}&include_revoked=true",
                app.tenant
            ),
        )
        .await,
    )
    .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2, "{all}");

    let (_, events) = json_of(
        app.get(
            &app.admin_key,
            "/v1/admin/audit-events?action=api_key.revoked",
        )
        .await,
    )
    .await;
    let event = &events["data"][0];
    assert_eq!(event["target"], id.as_str(), "{events}");
    assert_eq!(event["request_id"], request_id.as_str());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_tenant_reaches_only_its_own_keys(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (_, other_key) = app.other_tenant("Other Returns").await;
    let (_, theirs) = json_of(app.get(&other_key, "/v1/api-keys").await).await;
    let their_id = theirs["data"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .delete(&app.tenant_key, &format!("/v1/api-keys/{their_id}"))
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.get(&other_key, "/v1/api-keys").await.status(), 200);
    // Tenant keys cannot use the admin routes, nor admin keys the tenant's.
    assert_eq!(
        app.get(&app.tenant_key, "/v1/admin/api-keys")
            .await
            .status(),
        403
    );
    assert_eq!(app.get(&app.admin_key, "/v1/api-keys").await.status(), 403);
    let (status, body) = json_of(app.get(&app.tenant_key, "/v1/api-keys?kind=admin").await).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"][0]["field"], "kind");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_admin_key_is_created_and_revoked_by_another(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let (status, created) = json_of(
        app.post(
            &app.admin_key,
            "/v1/admin/api-keys",
            &json!({"name": "on-call"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(created["kind"], "admin");
    assert!(created["tenant_id"].is_null());
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&secret, "/v1/admin/api-keys").await.status(), 200);
    let path = format!("/v1/admin/api-keys/{}", created["id"].as_str().unwrap());
    assert_eq!(app.delete(&app.admin_key, &path).await.status(), 200);
    assert_eq!(app.get(&secret, "/v1/admin/api-keys").await.status(), 401);

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (
            json!({"name": "x", "tenant_id": "ten_000000000000000000ab"}),
            "tenant_id",
        ),
        (json!({"name": "x", "tenant_id": "nope"}), "tenant_id"),
    ] {
        let (status, error) =
            json_of(app.post(&app.admin_key, "/v1/admin/api-keys", &body).await).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error["error"]["details"][0]["field"], field, "{error}");
    }
    assert_eq!(
        app.delete(&app.admin_key, "/v1/admin/api-keys/key_unknown")
            .await
            .status(),
        404
    );
}
