//! What clients see when something is wrong: their input (422 with field paths), the
//! carrier's refusal (its code kept), or the carrier's health (503/504 with Retry-After, never
//! a 500) — and that a retry with the same key completes with exactly one label.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::{PluginOptions, TestApp, label_request, v3_account};
use serde_json::{Value, json};
use sqlx::PgPool;
use usps_sim::{Fault, FaultRule, demo, route};

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn fields(error: &Value) -> Vec<String> {
    error["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|detail| detail["field"].as_str().map(str::to_owned))
        .collect()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_class_of_bad_label_input_is_a_422_naming_its_field(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    let with = |change: Value| {
        let mut body = label_request("usps_ground_advantage_return");
        let (Value::Object(body_map), Value::Object(change)) = (&mut body, change) else {
            unreachable!()
        };
        for (key, value) in change {
            body_map.insert(key, value);
        }
        body
    };
    let cases = [
        (with(json!({"service": "usps_overnight"})), "service"),
        (
            with(
                json!({"from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1 Main St",
                                      "city": "Saint Louis", "state": "MO", "zip5": "631"}}),
            ),
            "from_address.zip5",
        ),
        (
            with(
                json!({"from_address": {"street1": "1 Main St", "city": "Saint Louis", "state": "ZZ", "zip5": "63118"}}),
            ),
            "from_address.state",
        ),
        (
            with(json!({"parcel": {"weight_oz": 0}})),
            "parcel.weight_oz",
        ),
        (
            with(json!({"parcel": {"weight_oz": "heavy"}})),
            "parcel.weight_oz",
        ),
        (
            with(json!({"parcel": {"weight_oz": 12, "length_in": 10}})),
            "parcel.width_in",
        ),
        (
            with(
                json!({"parcel": {"weight_oz": 2000, "length_in": 10, "width_in": 7, "height_in": 4}}),
            ),
            "parcel.weight_oz",
        ),
        (with(json!({"label_format": "GIF"})), "label_format"),
        (with(json!({"receipt": "sometimes"})), "receipt"),
        (
            with(json!({"shipper_account_id": "acct_1"})),
            "shipper_account_id",
        ),
        (
            with(json!({"account_selector": {"tags": {"location": 7}}})),
            "account_selector.tags.location",
        ),
        (
            with(json!({"notify": {"recipient_email": "not-an-email"}})),
            "notify.recipient_email",
        ),
        (with(json!({"colour": "blue"})), "colour"),
    ];
    for (index, (body, field)) in cases.into_iter().enumerate() {
        let (status, error) = error_of(
            app.buy(&app.tenant_key, &format!("bad-{index}"), &body)
                .await,
        )
        .await;
        assert_eq!(status, 422, "{field}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed");
        assert!(
            error["error"]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("req_")
        );
        let named = fields(&error);
        assert!(
            named.iter().any(|f| f == field
                || (field == "colour"
                    && error["error"]["details"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("colour"))),
            "{field} not in {named:?}"
        );
    }
    let (status, error) = error_of(
        app.client
            .post(app.url("/v1/return-labels"))
            .bearer_auth(&app.tenant_key)
            .json(&label_request("usps_ground_advantage_return"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, fields(&error)),
        (422, vec!["Idempotency-Key".to_owned()])
    );
    let (status, error) = error_of(
        app.client
            .post(app.url("/v1/return-labels"))
            .bearer_auth(&app.tenant_key)
            .header("Idempotency-Key", "k")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, fields(&error)), (422, vec!["body".to_owned()]));
    assert!(
        app.simulator.simulator.ledger().is_empty(),
        "nothing was bought"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn bad_account_input_is_a_422_naming_its_field_and_never_echoing_secrets(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut body = v3_account("Permit");
    body["details"] = json!({"crid": demo::CRID, "mid": "12345", "account_type": "PERMIT", "permit_number": "12345"});
    body["credentials"]["client_secret"] = json!(987_654_321);
    let (status, error) = error_of(
        app.post(&app.tenant_key, "/v1/shipper-accounts", &body)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(!error.to_string().contains("987654321"), "{error}");
    assert_eq!(fields(&error), ["credentials.client_secret"]);
    body["credentials"]["client_secret"] = json!(demo::CLIENT_SECRET);
    let (status, error) = error_of(
        app.post(&app.tenant_key, "/v1/shipper-accounts", &body)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    let named = fields(&error);
    for field in ["details.mid", "details.permit_zip"] {
        assert!(named.iter().any(|f| f == field), "{field} not in {named:?}");
    }
    assert!(!error.to_string().contains(demo::CLIENT_SECRET));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_carrier_refusal_keeps_the_carriers_code(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut body = v3_account("Outbound only");
    body["details"]["crid"] = json!(demo::UNENROLLED_CRID);
    body["details"]["mid"] = json!(demo::UNENROLLED_MID);
    body["details"]["manifest_mid"] = json!(demo::UNENROLLED_MANIFEST_MID);
    body["details"]["returns_mid"] = json!(null);
    body["details"]["eps_account_number"] = json!(demo::UNENROLLED_EPS_ACCOUNT);
    assert_eq!(
        app.post(&app.tenant_key, "/v1/shipper-accounts", &body)
            .await
            .status(),
        201
    );
    let (status, error) = error_of(
        app.buy(
            &app.tenant_key,
            "k1",
            &label_request("usps_priority_mail_return"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["code"], "carrier_rejected");
    assert_eq!(error["error"]["details"][0]["code"], "160304");
    // The refusal is final for this key: the same answer again, no second carrier call.
    let calls = app
        .simulator
        .simulator
        .counters()
        .route(route::RETURN_LABEL)
        .calls;
    let (again, _) = error_of(
        app.buy(
            &app.tenant_key,
            "k1",
            &label_request("usps_priority_mail_return"),
        )
        .await,
    )
    .await;
    assert_eq!(again, 422);
    assert_eq!(
        app.simulator
            .simulator
            .counters()
            .route(route::RETURN_LABEL)
            .calls,
        calls
    );
}

fn fault(route: &str, fault: Fault) -> FaultRule {
    FaultRule {
        route: route.to_owned(),
        fault,
        times: Some(1),
        probability: None,
    }
}

async fn retryable(app: &TestApp, key: &str) -> (u16, Value, u64) {
    let response = app
        .buy(
            &app.tenant_key,
            key,
            &label_request("usps_ground_advantage_return"),
        )
        .await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body, retry_after.expect("Retry-After is set"))
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_ambiguous_carrier_failure_is_a_504_and_the_retry_completes_with_one_label(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    for (index, kind) in [
        Fault::ResetAfterCommit,
        Fault::Status { status: 500 },
        Fault::Malformed,
    ]
    .into_iter()
    .enumerate()
    {
        app.simulator
            .simulator
            .inject(fault(route::RETURN_LABEL, kind));
        let key = format!("ambiguous-{index}");
        let (status, error, retry_after) = retryable(&app, &key).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (504, Some("carrier_unavailable"))
        );
        assert!(retry_after >= 1);
        let retried = app
            .buy(
                &app.tenant_key,
                &key,
                &label_request("usps_ground_advantage_return"),
            )
            .await;
        assert_eq!(retried.status(), 201);
        assert_eq!(
            app.simulator.simulator.ledger().len(),
            index + 1,
            "one label per key, never two"
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_unavailable_or_rate_limited_carrier_is_a_503_with_retry_after(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    for (index, kind) in [
        Fault::Status { status: 503 },
        Fault::RateLimit { retry_after_s: 7 },
    ]
    .into_iter()
    .enumerate()
    {
        app.simulator.simulator.inject(FaultRule {
            times: None,
            ..fault(route::RETURN_LABEL, kind)
        });
        let (status, error, retry_after) = retryable(&app, &format!("busy-{index}")).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (503, Some("carrier_unavailable"))
        );
        if index == 1 {
            assert_eq!(retry_after, 7, "the carrier's Retry-After is passed on");
        }
        app.simulator.simulator.clear_faults();
    }
    assert!(app.simulator.simulator.ledger().is_empty());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_slow_carrier_is_a_504_and_an_unreachable_one_a_503(owner: PgPool) {
    let mut app = TestApp::spawn_with(
        owner,
        PluginOptions {
            request_timeout: Duration::from_millis(500),
            ..PluginOptions::default()
        },
    )
    .await;
    app.create_v3_account(&app.tenant_key, "East", json!({}))
        .await;
    app.simulator
        .simulator
        .inject(fault(route::RETURN_LABEL, Fault::Latency { ms: 2_000 }));
    let (status, _, _) = retryable(&app, "slow").await;
    assert_eq!(status, 504);
    // The simulator goes away: nothing listens on its port any more.
    let old_url = app.simulator.base_url.clone();
    let replacement = usps_sim::Simulator::new(usps_sim::SimConfig::default())
        .spawn()
        .await
        .unwrap();
    drop(std::mem::replace(&mut app.simulator, replacement));
    let address = old_url.trim_start_matches("http://").to_owned();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&address).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let (status, error, _) = retryable(&app, "down").await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (503, Some("carrier_unavailable"))
    );
}
