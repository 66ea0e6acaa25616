//! The API's edges, as a probe found them: control characters that reached Postgres (a 500),
//! the neutral label request one carrier checked and another did not, the metrics an invented
//! method could grow, the request id a client could choose for the audit trail, the first-use
//! surprises of the label flow, and the bearer scheme's case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::{TestApp, label_request, v3_account};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

async fn status_and_fields(response: reqwest::Response) -> (u16, Vec<String>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let fields = body["error"]["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|detail| detail["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (status, fields)
}

/// `body` with the field at `pointer` (a JSON pointer) set to `value`.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, field) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent).unwrap()[field] = value;
    body
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn control_characters_are_a_422_naming_the_field_wherever_they_come_in(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let id = account["id"].as_str().unwrap();
    let tenant = app.tenant_key.clone();
    let admin = app.admin_key.clone();
    let account_body = v3_account("West");

    // (key, method, path, body, field named)
    let cases: Vec<(&str, Method, String, Option<Value>, &str)> = vec![
        (
            &tenant,
            Method::GET,
            "/v1/shipper-accounts/%00".into(),
            None,
            "id",
        ),
        (
            &tenant,
            Method::PATCH,
            "/v1/shipper-accounts/sa_%00".into(),
            Some(json!({"name": "x"})),
            "id",
        ),
        (
            &tenant,
            Method::DELETE,
            "/v1/shipper-accounts/%00".into(),
            None,
            "id",
        ),
        (
            &tenant,
            Method::GET,
            "/v1/return-labels/lbl_%0A".into(),
            None,
            "id",
        ),
        (
            &tenant,
            Method::GET,
            "/v1/return-labels/%00/label".into(),
            None,
            "id",
        ),
        (
            &admin,
            Method::GET,
            "/v1/admin/audit-events?account_id=%00".into(),
            None,
            "account_id",
        ),
        (
            &admin,
            Method::GET,
            "/v1/admin/shipper-accounts?carrier=us%00ps".into(),
            None,
            "carrier",
        ),
        (
            &tenant,
            Method::POST,
            "/v1/shipper-accounts".into(),
            Some(with(account_body.clone(), "/name", json!("West\u{0}"))),
            "name",
        ),
        (
            &tenant,
            Method::POST,
            "/v1/shipper-accounts".into(),
            Some(with(
                account_body.clone(),
                "/tags",
                json!({"location": "we\u{0}st"}),
            )),
            "tags.location",
        ),
        (
            &tenant,
            Method::POST,
            "/v1/shipper-accounts".into(),
            Some(with(
                account_body.clone(),
                "/credentials/client_id",
                json!("app\u{0}"),
            )),
            "credentials.client_id",
        ),
        (
            &tenant,
            Method::PATCH,
            format!("/v1/shipper-accounts/{id}"),
            Some(json!({"tags": {"floor": "1\r\n"}})),
            "tags.floor",
        ),
        (
            &tenant,
            Method::POST,
            "/v1/shipper-accounts/usps/connect".into(),
            Some(json!({"name": "Conn\u{0}ect"})),
            "name",
        ),
    ];
    for (key, method, path, body, field) in cases {
        let mut request = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(key);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let (status, fields) = status_and_fields(request.send().await.unwrap()).await;
        assert_eq!(status, 422, "{method} {path}");
        assert!(
            fields.iter().any(|f| f == field),
            "{method} {path}: {fields:?}"
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_v3_label_refuses_what_web_tools_refuses(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let base = label_request("usps_ground_advantage_return");
    let cases = [
        (
            with(base.clone(), "/reference", json!("RMA\u{0}1")),
            "reference",
        ),
        (
            with(base.clone(), "/reference", json!("RMA\u{0b}1")),
            "reference",
        ),
        (
            with(base.clone(), "/from_address/street2", json!("Ste\r\n150")),
            "from_address.street2",
        ),
        (
            json!({"notify": {"sender_name": "Jane\r\nBcc: all"}, "service": base["service"],
                   "from_address": base["from_address"], "parcel": base["parcel"]}),
            "notify.sender_name",
        ),
        (
            json!({"notify": {"recipient_email": "a@b\u{0}.co"}, "service": base["service"],
                   "from_address": base["from_address"], "parcel": base["parcel"]}),
            "notify.recipient_email",
        ),
        (
            json!({"ship_date": "9999-12-31", "service": base["service"],
                "from_address": base["from_address"], "parcel": base["parcel"]}),
            "ship_date",
        ),
        (
            json!({"ship_date": "2000-01-01", "service": base["service"],
                "from_address": base["from_address"], "parcel": base["parcel"]}),
            "ship_date",
        ),
    ];
    for (index, (body, field)) in cases.into_iter().enumerate() {
        let response = app
            .buy(&app.tenant_key, &format!("edge-{index}"), &body)
            .await;
        let (status, fields) = status_and_fields(response).await;
        assert_eq!(status, 422, "{field}");
        assert!(fields.iter().any(|f| f == field), "{field}: {fields:?}");
    }
    assert_eq!(
        app.simulator.simulator.ledger().len(),
        0,
        "nothing reached USPS"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_plugin_validation_failure_is_not_stored_against_the_key(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    // USPS v3 needs the parcel's dimensions: the plugin refuses before sending anything.
    let mut without_dimensions = label_request("usps_ground_advantage_return");
    without_dimensions["parcel"] = json!({"weight_oz": 24});
    let (status, fields) =
        status_and_fields(app.buy(&app.tenant_key, "rma-7", &without_dimensions).await).await;
    assert_eq!(status, 422);
    assert!(fields.iter().any(|f| f.starts_with("parcel")), "{fields:?}");

    // The corrected request may use the same key (Stripe: nothing executed, nothing saved).
    let corrected = label_request("usps_ground_advantage_return");
    let response = app.buy(&app.tenant_key, "rma-7", &corrected).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let label: Value = response.json().await.unwrap();
    assert_eq!(label["reference"], "RMA-1001");

    let replay = app.buy(&app.tenant_key, "rma-7", &corrected).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let id = label["id"].as_str().unwrap();
    let read: Value = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["reference"], "RMA-1001");
    assert_eq!(app.simulator.simulator.ledger().len(), 1);

    let document = app
        .get(&app.tenant_key, &format!("/v1/return-labels/{id}/label"))
        .await;
    assert_eq!(document.status(), 200);
    assert_eq!(document.headers()["cache-control"], "private, no-store");
    assert_eq!(document.headers()["x-content-type-options"], "nosniff");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_key_over_its_rate_is_told_when_to_come_back(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.instance
        .state
        .rate_limiter()
        .set_limit(server::limit::RateLimit {
            per_second: 1,
            burst: 2,
        });
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..3 {
        let response = app.get(&app.tenant_key, "/v1/shipper-accounts").await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            limited = Some(response);
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
    let limited = limited.unwrap();
    assert_eq!(limited.headers()["retry-after"], "1");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another key has its own bucket.
    let response = app.get(&app.admin_key, "/v1/admin/shipper-accounts").await;
    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_tenants_first_account_is_its_default(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let first = app
        .create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    assert_eq!(first["is_default"], true);
    let second = app
        .create_v3_account(&app.tenant_key, "West", json!({}))
        .await;
    assert_eq!(second["is_default"], false);
    let third = app
        .create_v3_account(&app.tenant_key, "North", json!({"is_default": true}))
        .await;
    assert_eq!(third["is_default"], true);
    let first_now: Value = app
        .get(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{}", first["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first_now["is_default"], false);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_audit_trail_records_the_services_request_id_never_the_clients(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut ids = Vec::new();
    for name in ["East", "West"] {
        let response = app
            .client
            .post(app.url("/v1/shipper-accounts"))
            .bearer_auth(&app.tenant_key)
            .header("x-request-id", "chosen-by-client")
            .json(&v3_account(name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(id.starts_with("req_"), "{id}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    let events: Value = app
        .get(
            &app.admin_key,
            "/v1/admin/audit-events?action=account.created",
        )
        .await
        .json()
        .await
        .unwrap();
    let recorded: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["request_id"].as_str())
        .collect();
    assert_eq!(recorded.len(), 2, "{events}");
    for id in &ids {
        assert!(recorded.contains(&id.as_str()), "{id} in {recorded:?}");
    }
    assert!(!recorded.contains(&"chosen-by-client"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_credentials_used_event_names_the_purchase(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let response = app
        .buy(
            &app.tenant_key,
            "rma-9",
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    assert_eq!(response.status(), 201);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let events: Value = app
        .get(
            &app.admin_key,
            "/v1/admin/audit-events?action=account.credentials_used",
        )
        .await
        .json()
        .await
        .unwrap();
    let event = &events["data"][0];
    assert_eq!(event["request_id"], request_id.as_str(), "{events}");
    assert_eq!(event["summary"]["operation"], "return_label.create");
    assert_eq!(event["summary"]["idempotency_key"], "rma-9");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn invented_methods_share_one_metrics_series(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let before = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .len();
    for index in 0..200 {
        let method =
            Method::from_bytes(format!("X{index}{}", "Y".repeat(1000)).as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url("/v1/shipper-accounts"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }
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
        !metrics.contains("YYYY"),
        "an invented method became a label"
    );
    assert!(metrics.contains("method=\"other\""), "{metrics}");
    // One new series per (route, status) at most: a few kilobytes, not 200 × 1,000 bytes.
    assert!(
        metrics.len() < before + 8 * 1024,
        "{} → {}",
        before,
        metrics.len()
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_bearer_scheme_is_case_insensitive(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(app.url("/v1/shipper-accounts"))
            .header("authorization", format!("{scheme} {}", app.tenant_key))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let response = app
        .client
        .get(app.url("/v1/shipper-accounts"))
        .header("authorization", format!("Basic {}", app.tenant_key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
