//! FedEx account registration over HTTP, end to end against fedex-sim: the demo business's
//! account number and billing address sent to FedEx, then proven with a PIN FedEx "sends" by
//! text (read from the simulator's outbox) or with an invoice → `active`, its child key and
//! secret sealed; a wrong PIN refused by field with the attempts left; five wrong PINs lock the
//! verification until it is started again; FedEx's lapsed session is 409 and starting again
//! works; refused details create nothing; every step audited; another tenant sees nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use backhaul_tests::fedex::{invoice_answer, label_request_for, registration};
use fedex_sim::{demo, route};
use serde_json::{Value, json};
use sqlx::PgPool;

fn step(account: &Value) -> &str {
    account["verification"]["step"].as_str().unwrap()
}

async fn restart(app: &TestApp, key: &str, account: &Value) -> (u16, Value) {
    let id = account["id"].as_str().unwrap();
    let response = app
        .post(
            key,
            &format!("/v1/shipper-accounts/{id}/verification/restart"),
            &json!({}),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The audit actions recorded for `account`, oldest first.
async fn audited(app: &TestApp, account: &Value) -> Vec<(String, Value)> {
    let id = account["id"].as_str().unwrap();
    let page: Value = app
        .get(
            &app.admin_key,
            &format!("/v1/admin/audit-events?account_id={id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut events: Vec<(String, Value)> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["action"].as_str().unwrap().to_owned(),
                event["summary"].clone(),
            )
        })
        .collect();
    events.reverse();
    events
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_pin_sent_by_text_registers_the_account_and_it_buys_labels(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.register_fedex(&app.tenant_key, "Main").await;
    assert_eq!(step(&account), "choose_method");
    assert_eq!(account["credentials"]["mode"], "registration_pending");
    assert_eq!(account["verification"]["attempts_remaining"], 5);
    assert!(account["verification"]["expires_at"].is_string());
    // FedEx offered every way it has for this account: the choices are its, with its masks.
    let form = &account["verification"]["form"];
    let methods = form["properties"]["method"]["enum"].as_array().unwrap();
    for method in ["sms", "call", "email", "invoice"] {
        assert!(methods.contains(&json!(method)), "{form}");
    }
    assert!(
        !form.to_string().contains(demo::PHONE),
        "the phone is shown masked: {form}"
    );

    let (status, next) = app
        .verify(&app.tenant_key, &account, json!({"method": "sms"}))
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(step(&next), "enter_pin");
    let sent = app.fedex_pins();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].option, "SMS");
    assert_eq!(sent[0].destination, demo::PHONE);
    assert_eq!(sent[0].account_number, demo::ACCOUNT_NUMBER);

    let (status, active) = app
        .verify(&app.tenant_key, &account, json!({"pin": sent[0].pin}))
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
    assert_eq!(active["credentials"]["mode"], "platform_app");
    assert!(active.get("verification").is_none(), "{active}");
    assert!(!active.to_string().contains(&sent[0].pin));

    // The child key buys labels (a csp_credentials token).
    let label = app
        .buy(&app.tenant_key, "fedex-reg-1", &label_request_for(&active))
        .await;
    assert_eq!(label.status(), 201);
    let label: Value = label.json().await.unwrap();
    assert_eq!(label["carrier"], "fedex");
    assert_eq!(app.fedex_ledger().len(), 1);
    assert_eq!(app.fedex_ledger()[0].account_number, demo::ACCOUNT_NUMBER);

    let actions: Vec<String> = audited(&app, &account)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    for expected in [
        "account.created",
        "account.verification_started",
        "account.verification_advanced",
        "account.verified",
    ] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected}: {actions:?}"
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_invoice_registers_the_account_without_a_pin(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.register_fedex(&app.tenant_key, "Invoiced").await;
    let mut wrong = invoice_answer();
    wrong["invoice_amount"] = json!("1.00");
    let (status, refused) = app.verify(&app.tenant_key, &account, wrong).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "verification_refused");
    assert_eq!(refused["error"]["details"][0]["field"], "invoice_number");

    let (status, active) = app
        .verify(&app.tenant_key, &account, invoice_answer())
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
    assert!(app.fedex_pins().is_empty(), "no PIN was needed");
    assert_eq!(app.fedex_calls(route::INVOICE_KEYS), 2);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_wrong_pin_is_refused_by_field_and_the_fifth_locks_until_started_again(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.register_fedex(&app.tenant_key, "Main").await;
    app.verify(&app.tenant_key, &account, json!({"method": "email"}))
        .await;
    let pin = app.last_fedex_pin();
    let wrong = if pin == "000000" { "111111" } else { "000000" };

    // A PIN that is not six digits never reaches FedEx and costs nothing.
    let (status, malformed) = app
        .verify(&app.tenant_key, &account, json!({"pin": "12"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(malformed["error"]["code"], "validation_failed");
    assert_eq!(malformed["error"]["details"][0]["field"], "pin");
    assert_eq!(app.fedex_calls(route::PIN_KEYS), 0);

    for left in (0..5).rev() {
        let (status, refused) = app
            .verify(&app.tenant_key, &account, json!({"pin": wrong}))
            .await;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["error"]["code"], "verification_refused");
        assert_eq!(refused["error"]["details"][0]["field"], "pin");
        assert!(!refused.to_string().contains(wrong), "{refused}");
        let shown: Value = app
            .get(
                &app.tenant_key,
                &format!("/v1/shipper-accounts/{}", account["id"].as_str().unwrap()),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(shown["verification"]["attempts_remaining"], left);
    }
    assert_eq!(app.fedex_calls(route::PIN_KEYS), 5);
    let (status, locked) = app
        .verify(&app.tenant_key, &account, json!({"pin": pin}))
        .await;
    assert_eq!(status, 409, "{locked}");
    assert_eq!(locked["error"]["code"], "verification_locked");
    assert_eq!(app.fedex_calls(route::PIN_KEYS), 5, "not sent to FedEx");

    let (status, restarted) = restart(&app, &app.tenant_key, &account).await;
    assert_eq!(status, 200, "{restarted}");
    assert_eq!(step(&restarted), "choose_method");
    assert_eq!(restarted["verification"]["attempts_remaining"], 5);
    app.verify(&app.tenant_key, &account, json!({"method": "call"}))
        .await;
    let (status, active) = app
        .verify(
            &app.tenant_key,
            &account,
            json!({"pin": app.last_fedex_pin()}),
        )
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");

    let failures: Vec<Value> = audited(&app, &account)
        .await
        .into_iter()
        .filter(|(action, _)| action == "account.verification_failed")
        .map(|(_, summary)| summary)
        .collect();
    assert_eq!(failures.len(), 6, "{failures:?}");
    assert_eq!(failures[0]["reason"], "refused");
    assert_eq!(failures[0]["fields"], json!(["pin"]));
    assert_eq!(failures[5]["reason"], "locked");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn fedexs_lapsed_session_is_409_and_starting_again_sends_a_new_pin(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.register_fedex(&app.tenant_key, "Main").await;
    app.verify(&app.tenant_key, &account, json!({"method": "sms"}))
        .await;
    let first = app.last_fedex_pin();
    // FedEx's accountAuthToken lasts 30 minutes.
    app.fedex
        .simulator
        .advance_clock(std::time::Duration::from_secs(31 * 60));
    let (status, expired) = app
        .verify(&app.tenant_key, &account, json!({"pin": first}))
        .await;
    assert_eq!(status, 409, "{expired}");
    assert_eq!(expired["error"]["code"], "verification_expired");
    let (status, again) = app
        .verify(&app.tenant_key, &account, json!({"pin": first}))
        .await;
    assert_eq!(status, 409, "refused before FedEx from now on: {again}");
    assert_eq!(app.fedex_calls(route::PIN_KEYS), 1);

    let (status, restarted) = restart(&app, &app.tenant_key, &account).await;
    assert_eq!(status, 200, "{restarted}");
    app.verify(&app.tenant_key, &account, json!({"method": "sms"}))
        .await;
    let second = app.last_fedex_pin();
    assert_eq!(app.fedex_pins().len(), 2);
    let (status, active) = app
        .verify(&app.tenant_key, &account, json!({"pin": second}))
        .await;
    assert_eq!(status, 200, "{active}");
    assert_eq!(active["status"], "active");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn details_fedex_refuses_create_nothing_and_name_the_field(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut unknown = registration("Unknown");
    unknown["details"]["account_number"] = json!("123456789");
    let response = app
        .post(&app.tenant_key, "/v1/shipper-accounts", &unknown)
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["details"][0]["field"], "details.account_number",
        "{body}"
    );

    let mut moved = registration("Moved");
    moved["details"]["billing_address"]["postal_code"] = json!("10001");
    let response = app
        .post(&app.tenant_key, "/v1/shipper-accounts", &moved)
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let field = body["error"]["details"][0]["field"].as_str().unwrap();
    assert!(field.starts_with("details.billing_address"), "{body}");

    let accounts: Value = app
        .get(&app.tenant_key, "/v1/shipper-accounts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["data"], json!([]), "nothing was created");
    let failures = app.audit_events("account.verification_failed").await;
    assert_eq!(failures.len(), 2);
    assert!(failures.iter().all(|event| event["target"].is_null()));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_account_fedex_keys_at_once_is_active_immediately(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let mut body = registration("No proof");
    body["details"]["account_number"] = json!(demo::NO_MFA_ACCOUNT_NUMBER);
    body["details"]["customer_name"] = json!(demo::NO_MFA_CUSTOMER_NAME);
    let config = app.fedex.simulator.config().clone();
    let holder = config
        .accounts
        .iter()
        .find(|account| account.account_number == demo::NO_MFA_ACCOUNT_NUMBER)
        .unwrap();
    body["details"]["billing_address"] = json!({
        "firm": demo::NO_MFA_CUSTOMER_NAME,
        "street1": holder.street_lines[0],
        "city": holder.city,
        "state": holder.state_or_province_code,
        "postal_code": holder.postal_code,
        "country": holder.country_code,
        "phone": demo::PHONE,
    });
    let response = app
        .post(&app.tenant_key, "/v1/shipper-accounts", &body)
        .await;
    let status = response.status();
    let account: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["status"], "active");
    assert_eq!(account["credentials"]["mode"], "platform_app");
    assert!(app.fedex_pins().is_empty());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_pending_registration_is_another_tenants_404_and_refuses_patches(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let account = app.register_fedex(&app.tenant_key, "Main").await;
    let id = account["id"].as_str().unwrap();
    let (_, intruder) = app.other_tenant("Intruder").await;
    let (status, _) = app
        .verify(&intruder, &account, json!({"method": "sms"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = restart(&app, &intruder, &account).await;
    assert_eq!(status, 404);
    assert!(
        app.fedex_pins().is_empty(),
        "no PIN was sent for the intruder"
    );

    let path = format!("/v1/shipper-accounts/{id}");
    let response = app
        .patch(
            &app.tenant_key,
            &path,
            &json!({"details": {"customer_name": "Someone else"}}),
        )
        .await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "verification_in_progress");
    let response = app
        .patch(&app.tenant_key, &path, &json!({"name": "Renamed"}))
        .await;
    assert_eq!(response.status(), 200);

    // Not selectable while pending: a label request names why.
    let response = app
        .buy(&app.tenant_key, "pending-1", &label_request_for(&account))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_eligible_account", "{body}");
    assert!(app.fedex_ledger().is_empty());
}
