//! A renewal of an account's OAuth tokens holds a lease, not a row lock or a transaction,
//! across the carrier's call: with USPS slow to answer the refresh, that account's labels go on
//! with the still-valid access token, its details can change, a credentials change is refused
//! until the lease is back (409), and the tokens are renewed exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::{TestApp, label_request};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::types::chrono::{DateTime, Utc};
use usps_sim::{Fault, FaultRule, route};

const GROUND: &str = "usps_ground_advantage_return";

/// Whether the account's renewal lease is held now.
async fn leased(app: &TestApp, id: &str) -> bool {
    let until: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT renewal_lease_until FROM shipper_accounts WHERE id = $1")
            .bind(id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    until.is_some_and(|until| until > Utc::now())
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_slow_renewal_blocks_neither_the_accounts_labels_nor_its_details(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let id = app.signed_in_usps_account("East").await;
    let (access_before, _) = app.oauth_tokens(&id).await;
    // Due (renewals start five minutes before expiry) but still valid for two minutes.
    let expires_at = (Utc::now() + chrono::Duration::minutes(2)).to_rfc3339();
    sqlx::query(
        "UPDATE shipper_accounts SET credentials_public = credentials_public
             || jsonb_build_object('access_token_expires_at', $2::text)
         WHERE id = $1",
    )
    .bind(&id)
    .bind(&expires_at)
    .execute(&app.owner)
    .await
    .unwrap();
    // USPS takes six seconds to answer the next token request: the refresh.
    app.simulator.simulator.inject(FaultRule {
        route: route::TOKEN.to_owned(),
        fault: Fault::Latency { ms: 6_000 },
        times: Some(1),
        probability: None,
    });

    let job = tokio::spawn({
        let state = app.instance.state.clone();
        async move { server::oauth::refresh_due(&state).await.unwrap() }
    });
    let mut waited = 0;
    while !leased(&app, &id).await {
        assert!(waited < 200, "the refresh job takes the lease");
        waited += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // While USPS thinks: labels on the account are bought with the current token…
    for n in 0..3 {
        let label = app
            .buy(&app.tenant_key, &format!("rma-{n}"), &label_request(GROUND))
            .await;
        let status = label.status();
        let body: Value = label.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["shipper_account_id"], id.as_str());
    }
    // …its details change…
    let renamed = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &json!({"name": "East (renamed)"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    // …but its credentials wait for the lease.
    let rotated = app
        .patch(
            &app.tenant_key,
            &format!("/v1/shipper-accounts/{id}"),
            &json!({"credentials": {"mode": "own_app", "client_id": "acme-app",
                                    "client_secret": "a-new-secret"}}),
        )
        .await;
    assert_eq!(rotated.status(), 409);
    let rotated: Value = rotated.json().await.unwrap();
    assert_eq!(rotated["error"]["code"], "renewal_in_progress");
    assert!(
        !job.is_finished() && leased(&app, &id).await,
        "all of that happened while the renewal was still waiting for USPS"
    );

    let run = job.await.unwrap();
    assert_eq!(run.renewed, 1);
    assert!(!leased(&app, &id).await, "the lease is given back");
    let refreshes = app
        .simulator
        .simulator
        .counters()
        .grant("refresh_token")
        .calls;
    assert_eq!(refreshes, 1, "renewed exactly once");
    let (access_after, _) = app.oauth_tokens(&id).await;
    assert_ne!(access_after, access_before);
    let account: Value = app
        .get(&app.tenant_key, &format!("/v1/shipper-accounts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        account["name"], "East (renamed)",
        "the rename survived the renewal"
    );
    let label = app
        .buy(&app.tenant_key, "rma-after", &label_request(GROUND))
        .await;
    assert_eq!(label.status(), 201);
}
