//! Who can see what: API keys, the tenant isolation matrix (USPS, UPS and FedEx accounts and
//! labels, FedEx's registration steps among the routes),
//! the admin views; account selection through the API; two instances sharing one OAuth token;
//! operations endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{PluginOptions, TestApp, fedex, label_request, start_instance, ups};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::route;

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn requests_without_a_valid_key_are_401_and_keys_stay_in_their_lane(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let anonymous = app
        .client
        .get(app.url("/v1/shipper-accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(
        app.get(
            "bh_wrongwrongwrongwrongwrongwrongwrongwrong",
            "/v1/shipper-accounts"
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        app.get(&app.admin_key, "/v1/shipper-accounts")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&app.tenant_key, "/v1/admin/audit-events")
            .await
            .status(),
        403
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenants_ids_are_404_on_every_route(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let label: Value = app
        .buy(
            &app.tenant_key,
            "k",
            &label_request("usps_ground_advantage_return"),
        )
        .await
        .json()
        .await
        .unwrap();
    let (_, intruder) = app.other_tenant("Globex").await;
    let account_path = format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap());
    let label_path = format!("/v1/return-labels/{}", label["id"].as_str().unwrap());
    let attempts = vec![
        app.get(&intruder, &account_path).await,
        app.patch(&intruder, &account_path, &json!({"name": "mine"}))
            .await,
        app.delete(&intruder, &account_path).await,
        app.get(&intruder, &label_path).await,
        app.get(&intruder, &format!("{label_path}/label")).await,
        app.get(&intruder, &format!("{label_path}/receipt")).await,
    ];
    for response in attempts {
        let url = response.url().clone();
        assert_eq!(response.status(), 404, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(!body.to_string().contains("East"), "no data leaks");
    }
    let mut explicit = label_request("usps_ground_advantage_return");
    explicit["shipper_account_id"] = account["id"].clone();
    let response = app.buy(&intruder, "theirs", &explicit).await;
    assert_eq!(response.status(), 422);
    let listed: Value = app
        .get(&intruder, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]));
    let labels: Value = app
        .get(&intruder, "/v1/return-labels")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(labels["data"], json!([]));
    // The owner still sees everything unchanged.
    let mine: Value = app
        .get(&app.tenant_key, &account_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "East");
    assert_eq!(mine["status"], "active");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenants_ups_accounts_and_labels_are_404_on_every_route(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let own_app = app
        .create_ups_account(&app.tenant_key, "UPS East", json!({}))
        .await;
    let bought = app
        .buy(&app.tenant_key, "ups-k", &ups::label_request_for(&own_app))
        .await;
    assert_eq!(bought.status(), 201);
    let label: Value = bought.json().await.unwrap();
    let pending = app.connected_ups_account("UPS Login").await;
    assert_eq!(pending["status"], "pending_details");
    let (_, intruder) = app.other_tenant("Globex").await;

    let own_app_path = format!("/v1/shipper-accounts/{}", own_app["id"].as_str().unwrap());
    let pending_path = format!("/v1/shipper-accounts/{}", pending["id"].as_str().unwrap());
    let label_path = format!("/v1/return-labels/{}", label["id"].as_str().unwrap());
    let attempts = vec![
        app.get(&intruder, &own_app_path).await,
        app.patch(&intruder, &own_app_path, &json!({"name": "mine"}))
            .await,
        app.patch(
            &intruder,
            &own_app_path,
            &json!({"credentials": {"mode": "own_app", "client_id": "theirs", "client_secret": "theirs"}}),
        )
        .await,
        app.delete(&intruder, &own_app_path).await,
        app.get(&intruder, &pending_path).await,
        // Completing another tenant's Login-with-UPS account.
        app.patch(&intruder, &pending_path, &ups::details()).await,
        app.get(&intruder, &label_path).await,
        app.get(&intruder, &format!("{label_path}/label")).await,
        app.post(&intruder, &format!("{label_path}/void"), &json!(null))
            .await,
    ];
    for response in attempts {
        let url = response.url().clone();
        assert_eq!(response.status(), 404, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(!body.to_string().contains("UPS East"), "no data leaks");
    }
    for account in [&own_app, &pending] {
        let response = app
            .buy(&intruder, "theirs", &ups::label_request_for(account))
            .await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "no_eligible_account");
    }
    for path in [
        "/v1/shipper-accounts",
        "/v1/return-labels",
        "/v1/return-labels?carrier=ups",
    ] {
        let listed: Value = app.get(&intruder, path).await.json().await.unwrap();
        assert_eq!(listed["data"], json!([]), "{path}");
    }
    assert_eq!(app.ups_ledger().len(), 1, "the intruder bought nothing");
    assert_eq!(
        app.ups_calls(ups_sim::route::VOID),
        0,
        "nor voided anything"
    );

    // The owner still sees everything unchanged.
    let mine: Value = app
        .get(&app.tenant_key, &own_app_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&mine["name"], &mine["status"], &mine["credentials"]),
        (
            &own_app["name"],
            &own_app["status"],
            &own_app["credentials"]
        )
    );
    let still_pending: Value = app
        .get(&app.tenant_key, &pending_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still_pending["status"], "pending_details");
    let label_now: Value = app
        .get(&app.tenant_key, &label_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(label_now["status"], "created");
}

/// FedEx: an own-app account with a label, an account registered and active, and one waiting
/// for its PIN. Every route the intruder tries on them — the registration steps and their
/// restart among them — is 404, and FedEx hears nothing of it: not one call, no PIN sent, the
/// owner's PIN still good.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenants_fedex_accounts_and_labels_are_404_on_every_route(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let own_app = app
        .create_fedex_account(&app.tenant_key, "FedEx East", json!({}))
        .await;
    let bought = app
        .buy(
            &app.tenant_key,
            "fedex-k",
            &fedex::label_request_for(&own_app),
        )
        .await;
    assert_eq!(bought.status(), 201);
    let label: Value = bought.json().await.unwrap();
    let registered = app
        .registered_fedex_account(&app.tenant_key, "FedEx Registered")
        .await;
    let pending = app.register_fedex(&app.tenant_key, "FedEx Pending").await;
    let (status, step) = app
        .verify(&app.tenant_key, &pending, json!({"method": "sms"}))
        .await;
    assert_eq!(status, 200, "{step}");
    let pin = app.last_fedex_pin();
    let accounts = [&own_app, &registered, &pending];
    let mut before = Vec::new();
    for account in accounts {
        let path = format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap());
        let shown: Value = app.get(&app.tenant_key, &path).await.json().await.unwrap();
        before.push(shown);
    }
    let (_, intruder) = app.other_tenant("Globex").await;
    let pins_before = app.fedex_pins();
    let counters_before = app.fedex.simulator.counters();

    let label_path = format!("/v1/return-labels/{}", label["id"].as_str().unwrap());
    let mut attempts = Vec::new();
    for account in accounts {
        let path = format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap());
        attempts.extend([
            app.get(&intruder, &path).await,
            app.patch(&intruder, &path, &json!({"name": "mine"})).await,
            app.patch(
                &intruder,
                &path,
                &json!({"credentials": {"mode": "own_app", "client_id": "theirs", "client_secret": "theirs"}}),
            )
            .await,
            app.patch(&intruder, &path, &json!({"details": fedex::details()}))
                .await,
            app.post(
                &intruder,
                &format!("{path}/verification"),
                &json!({"method": "sms"}),
            )
            .await,
            app.post(
                &intruder,
                &format!("{path}/verification"),
                &json!({"pin": pin}),
            )
            .await,
            app.post(
                &intruder,
                &format!("{path}/verification"),
                &fedex::invoice_answer(),
            )
            .await,
            app.post(
                &intruder,
                &format!("{path}/verification/restart"),
                &json!({}),
            )
            .await,
            app.post(&intruder, &format!("{path}/reconnect"), &json!({}))
                .await,
            app.delete(&intruder, &path).await,
        ]);
    }
    for suffix in ["", "/label", "/receipt", "/qr-code", "/tracking"] {
        attempts.push(app.get(&intruder, &format!("{label_path}{suffix}")).await);
    }
    attempts.push(
        app.post(&intruder, &format!("{label_path}/void"), &json!(null))
            .await,
    );
    for response in attempts {
        let url = response.url().clone();
        assert_eq!(response.status(), 404, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{url}");
        let text = body.to_string();
        assert!(
            !text.contains("FedEx") && !text.contains(&pin),
            "{url}: {text}"
        );
    }
    for account in accounts {
        let response = app
            .buy(&intruder, "theirs", &fedex::label_request_for(account))
            .await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "no_eligible_account");
    }
    for path in [
        "/v1/shipper-accounts",
        "/v1/return-labels",
        "/v1/return-labels?carrier=fedex",
    ] {
        let listed: Value = app.get(&intruder, path).await.json().await.unwrap();
        assert_eq!(listed["data"], json!([]), "{path}");
    }
    // FedEx heard nothing: no call on any route, no PIN sent, one label in its books.
    assert_eq!(app.fedex.simulator.counters(), counters_before);
    assert_eq!(app.fedex_pins(), pins_before);
    assert_eq!(app.fedex_ledger().len(), 1, "the intruder bought nothing");
    assert!(
        app.fedex_ledger()[0].cancelled_at.is_none(),
        "nor cancelled"
    );

    // The owner's accounts are as they were, and the owner's PIN still completes the
    // registration: the intruder spent none of its attempts.
    for (account, before) in accounts.into_iter().zip(&before) {
        let path = format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap());
        let mine: Value = app.get(&app.tenant_key, &path).await.json().await.unwrap();
        assert_eq!(&mine, before, "{path}");
    }
    let (status, active) = app
        .verify(&app.tenant_key, &pending, json!({"pin": pin}))
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
    let label_now: Value = app
        .get(&app.tenant_key, &label_path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(label_now["status"], "created");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn selection_through_the_api_says_why(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let east = app
        .create_v3_account(
            &app.tenant_key,
            "East",
            json!({"tags": {"location": "east"}, "priority": 5, "is_default": false}),
        )
        .await;
    let west = app
        .create_v3_account(
            &app.tenant_key,
            "West",
            json!({"tags": {"location": "west"}, "priority": 1, "is_default": false}),
        )
        .await;
    let buy = |key: &'static str, change: Value| {
        let app = &app;
        async move {
            let mut body = label_request("usps_priority_mail_return");
            if let (Value::Object(body), Value::Object(change)) = (&mut body, change) {
                body.extend(change);
            }
            let response = app.buy(&app.tenant_key, key, &body).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (_, label) = buy("s1", json!({})).await;
    assert_eq!(
        (
            label["shipper_account_id"].clone(),
            label["selected_by"].clone()
        ),
        (west["id"].clone(), json!("priority"))
    );
    let (_, label) = buy(
        "s2",
        json!({"account_selector": {"tags": {"location": "east"}}}),
    )
    .await;
    assert_eq!(
        (
            label["shipper_account_id"].clone(),
            label["selected_by"].clone()
        ),
        (east["id"].clone(), json!("selector"))
    );
    let (_, label) = buy("s3", json!({"shipper_account_id": east["id"]})).await;
    assert_eq!(label["selected_by"], "explicit");
    let east_path = format!("/v1/shipper-accounts/{}", east["id"].as_str().unwrap());
    assert_eq!(
        app.patch(&app.tenant_key, &east_path, &json!({"is_default": true}))
            .await
            .status(),
        200
    );
    let (_, label) = buy("s4", json!({})).await;
    assert_eq!(
        (
            label["shipper_account_id"].clone(),
            label["selected_by"].clone()
        ),
        (east["id"].clone(), json!("default"))
    );
    let (status, error) = buy(
        "s5",
        json!({"account_selector": {"tags": {"location": "north"}}}),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (422, json!("no_eligible_account"))
    );
    assert_eq!(
        error["error"]["message"],
        "no USPS account is tagged location=north"
    );
    let west_path = format!("/v1/shipper-accounts/{}", west["id"].as_str().unwrap());
    assert_eq!(app.delete(&app.tenant_key, &west_path).await.status(), 200);
    let (_, label) = buy("s6", json!({})).await;
    assert_eq!(label["selected_by"], "only");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn two_server_instances_make_one_oauth_token_call(owner: PgPool) {
    let app = TestApp::spawn(owner.clone()).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let second = start_instance(
        &owner,
        &app.simulator.base_url,
        PluginOptions {
            ups_url: Some(app.ups.base_url.clone()),
            ..PluginOptions::default()
        },
    )
    .await;
    let mut requests = Vec::new();
    for index in 0..12 {
        let base = if index % 2 == 0 {
            app.instance.base_url.clone()
        } else {
            second.base_url.clone()
        };
        let client = app.client.clone();
        let key = app.tenant_key.clone();
        requests.push(async move {
            client
                .post(format!("{base}/v1/return-labels"))
                .bearer_auth(key)
                .header("Idempotency-Key", format!("two-instances-{index}"))
                .json(&label_request("usps_ground_advantage_return"))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    for status in futures::future::join_all(requests).await {
        assert_eq!(status, 201);
    }
    let counters = app.simulator.simulator.counters();
    assert_eq!(
        counters.grant("client_credentials").calls,
        1,
        "one OAuth token between both instances"
    );
    assert_eq!(counters.route(route::PAYMENT_AUTHORIZATION).calls, 1);
    assert_eq!(app.simulator.simulator.ledger().len(), 12);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn admins_see_every_tenants_accounts_masked_and_the_audit_trail(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let (_, other) = app.other_tenant("Globex").await;
    app.create_v3_account(&other, "Globex East", json!({}))
        .await;
    app.buy(
        &app.tenant_key,
        "k",
        &label_request("usps_ground_advantage_return"),
    )
    .await;

    let accounts: Value = app
        .get(&app.admin_key, "/v1/admin/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    let rows = accounts["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let text = accounts.to_string();
    assert!(
        !text.contains(usps_sim::demo::CLIENT_SECRET)
            && !text.contains(usps_sim::demo::EPS_ACCOUNT)
    );
    assert!(rows.iter().all(|row| {
        row["credentials"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    }));
    let filtered: Value = app
        .get(
            &app.admin_key,
            &format!("/v1/admin/shipper-accounts?tenant_id={}", app.tenant),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    assert!(filtered["data"][0]["last_used_at"].is_string());

    let events: Value = app
        .get(
            &app.admin_key,
            &format!(
                "/v1/admin/audit-events?account_id={}",
                account["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["account.created", "account.credentials_used"]);
    let used: Value = app
        .get(
            &app.admin_key,
            "/v1/admin/audit-events?action=label.created",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(used["data"].as_array().unwrap().len(), 1);
    assert!(
        used["data"][0]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );

    app.chain_audit().await;
    let verified: Value = app
        .client
        .post(app.url("/v1/admin/audit-events/verify"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verified["ok"], true);
    assert!(verified["checked"].as_u64().unwrap() >= 6);
    assert_eq!(verified["first_bad_id"], Value::Null);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn operations_endpoints_report_health_metrics_and_the_openapi_document(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    app.buy(
        &app.tenant_key,
        "k",
        &label_request("usps_ground_advantage_return"),
    )
    .await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "backhaul_http_requests_total{method=\"POST\",route=\"/v1/return-labels\",status=\"201\"} 1",
        "backhaul_http_request_duration_seconds_bucket",
        "backhaul_carrier_calls_total{carrier=\"usps\",outcome=\"ok\"} 1",
        "backhaul_token_cache_fetches_total 2",
        "backhaul_token_cache_hits_total",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
    let openapi: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/shipper-accounts",
        "/v1/return-labels",
        "/v1/return-labels/{id}/label",
        "/v1/admin/audit-events/verify",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path}");
    }
    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // The service's own id, never the client's (which only goes to the logs).
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("req_"), "{id}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], id.as_str());
}
