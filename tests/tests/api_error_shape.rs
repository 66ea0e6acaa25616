//! Every answer of the JSON API is in its one error shape — `{"error": {"code", "message",
//! "request_id", "details"}}` as `application/json` — including those axum and tower-http
//! answer in plain text or with an empty body by default: an unknown route, a wrong method, a
//! body over the limit, a long URI, a missing `Content-Type`, large headers, a bad query value,
//! a bad cursor, JSON that is not the request's shape. End to end, through a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use sqlx::PgPool;

/// One request and the answer it must get.
struct Case {
    what: &'static str,
    status: u16,
    code: &'static str,
    /// The field `details` must name, when the answer is about one.
    field: Option<&'static str>,
}

/// Sends `request` and checks its answer against `case`; returns the error object.
async fn answers(request: RequestBuilder, case: &Case) -> Value {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), case.status, "{}", case.what);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/json", "{}", case.what);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], case.code, "{}: {body}", case.what);
    assert_eq!(error["request_id"], request_id.as_str(), "{}", case.what);
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        case.what
    );
    if let Some(field) = case.field {
        assert_eq!(error["details"][0]["field"], field, "{}: {body}", case.what);
    }
    error.clone()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn answers_axum_gives_in_plain_text_or_empty_are_in_the_error_shape(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let client = &app.client;
    let key = app.tenant_key.as_str();
    let too_large = "x".repeat(300 * 1024);
    let long_path = format!("/v1/shipper-accounts?limit=1&x={}", "a".repeat(9 * 1024));
    let cases: Vec<(RequestBuilder, Case)> = vec![
        (
            client.get(app.url("/v1/no-such-route")).bearer_auth(key),
            Case {
                what: "an unknown route",
                status: 404,
                code: "not_found",
                field: None,
            },
        ),
        (
            client.put(app.url("/v1/return-labels")).bearer_auth(key),
            Case {
                what: "a wrong method",
                status: 405,
                code: "method_not_allowed",
                field: None,
            },
        ),
        (
            client
                .post(app.url("/v1/shipper-accounts"))
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(format!("{{\"name\": \"{too_large}\"}}")),
            Case {
                what: "a body over 256 KiB",
                status: 413,
                code: "payload_too_large",
                field: None,
            },
        ),
        (
            client.get(app.url(&long_path)).bearer_auth(key),
            Case {
                what: "a URI over 8 KiB",
                status: 414,
                code: "uri_too_long",
                field: None,
            },
        ),
        (
            client
                .post(app.url("/v1/shipper-accounts"))
                .bearer_auth(key)
                .body(json!({"name": "East"}).to_string()),
            Case {
                what: "a body without Content-Type",
                status: 415,
                code: "unsupported_media_type",
                field: None,
            },
        ),
        (
            client
                .post(app.url("/v1/shipper-accounts"))
                .bearer_auth(key)
                .header("content-type", "text/plain")
                .body(json!({"name": "East"}).to_string()),
            Case {
                what: "a body as text/plain",
                status: 415,
                code: "unsupported_media_type",
                field: None,
            },
        ),
        (
            client
                .get(app.url("/v1/shipper-accounts"))
                .bearer_auth(key)
                .header("x-padding", "p".repeat(40 * 1024)),
            Case {
                what: "headers over 32 KiB",
                status: 431,
                code: "headers_too_large",
                field: None,
            },
        ),
        (
            client
                .get(app.url("/v1/shipper-accounts?limit=ten"))
                .bearer_auth(key),
            Case {
                what: "a limit that is not a number",
                status: 422,
                code: "validation_failed",
                field: Some("limit"),
            },
        ),
        (
            client
                .get(app.url("/v1/return-labels?limit=1000"))
                .bearer_auth(key),
            Case {
                what: "a limit out of range",
                status: 422,
                code: "validation_failed",
                field: Some("limit"),
            },
        ),
        (
            client
                .get(app.url("/v1/return-labels?starting_after=lbl_nope"))
                .bearer_auth(key),
            Case {
                what: "a malformed starting_after",
                status: 422,
                code: "validation_failed",
                field: Some("starting_after"),
            },
        ),
        (
            client
                .get(app.url("/v1/shipper-accounts?starting_after=sa_AAAAAAAAAAAAAAAAAAAA"))
                .bearer_auth(key),
            Case {
                what: "a starting_after of no page",
                status: 422,
                code: "validation_failed",
                field: Some("starting_after"),
            },
        ),
        (
            client
                .get(app.url("/v1/admin/audit-events?since=yesterday"))
                .bearer_auth(&app.admin_key),
            Case {
                what: "a since that is no time",
                status: 422,
                code: "validation_failed",
                field: Some("since"),
            },
        ),
        (
            client
                .get(app.url("/v1/admin/audit-events?cursor=abc"))
                .bearer_auth(&app.admin_key),
            Case {
                what: "a cursor that is no event id",
                status: 422,
                code: "validation_failed",
                field: Some("cursor"),
            },
        ),
        (
            client
                .get(app.url("/v1/admin/audit-events?cursor=-4"))
                .bearer_auth(&app.admin_key),
            Case {
                what: "a negative cursor",
                status: 422,
                code: "validation_failed",
                field: Some("cursor"),
            },
        ),
        (
            client
                .post(app.url("/v1/admin/audit-events/verify"))
                .bearer_auth(&app.admin_key)
                .header("content-type", "application/json")
                .body("{\"tenant_id\": "),
            Case {
                what: "broken JSON",
                status: 422,
                code: "validation_failed",
                field: Some("body"),
            },
        ),
    ];
    for (request, case) in cases {
        answers(request, &case).await;
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_wrong_method_keeps_the_allow_header(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let response = app
        .client
        .request(Method::PUT, app.url("/v1/shipper-accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn json_errors_name_the_field_in_our_words_never_a_rust_type(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let cases = [
        (json!([1, 2, 3]), "body", "must be an object"),
        (
            json!({"servce": "usps_priority_mail_return"}),
            "servce",
            "is not a known field",
        ),
        (
            json!({"service": "usps_priority_mail_return", "parcel": {"weight_oz": "heavy"}}),
            "parcel.weight_oz",
            "must be a number",
        ),
        (
            json!({"service": "usps_priority_mail_return", "from_address": ["Jane", "Doe"]}),
            "from_address",
            "must not be an array",
        ),
        (json!({"service": 7}), "service", "must be a string"),
    ];
    for (body, field, message) in cases {
        let response = app.buy(&app.tenant_key, "shape-1", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.unwrap();
        let detail = &answer["error"]["details"][0];
        assert_eq!(detail["field"], field, "{answer}");
        let said = detail["message"].as_str().unwrap();
        assert!(said.starts_with(message), "{body}: {said}");
        for rust in ["struct", "CreateReturnLabel", "Decimal", "`", "elements"] {
            assert!(!said.contains(rust), "{body}: {said}");
        }
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_optional_body_may_be_empty_without_a_content_type(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let response = app
        .client
        .post(app.url("/v1/admin/audit-events/verify"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let verified: Value = response.json().await.unwrap();
    assert_eq!(verified["ok"], true);
    let refused = app
        .client
        .post(app.url("/v1/admin/audit-events/verify"))
        .bearer_auth(&app.admin_key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_cursor_from_a_page_gives_the_next_page(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    for name in ["East", "West"] {
        app.create_v3_account(&app.tenant_key, name, json!({}))
            .await;
    }
    let first: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["has_more"], true);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get(
            &app.tenant_key,
            &format!("/v1/shipper-accounts?limit=1&starting_after={cursor}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"][0]["name"], "West");
    assert_eq!(second["has_more"], false);
}
