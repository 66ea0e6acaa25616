//! "Login with USPS" binds every authorization code to the sign-in it was issued for (PKCE,
//! RFC 7636, S256): the authorize URL carries the challenge of the verifier our server derives
//! from the sign-in's state, the code exchange proves it, and a code approved for one sign-in
//! cannot complete another — the authorization-code injection of RFC 9700 §4.5.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use backhaul_tests::TestApp;
use reqwest::Url;
use serde_json::Value;
use sqlx::PgPool;

const LOGIN_FAILED: &str = "Login failed — try again";

fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The authorize URL's `code_challenge` is the S256 (as usps-sim computes it) of the verifier
/// our server derives for the URL's state, which the code exchange sends.
fn assert_challenge_binds_the_state(app: &TestApp, authorize_url: &str) {
    assert_eq!(
        param(authorize_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = param(authorize_url, "state").unwrap();
    let verifier = app.instance.state.accounts().pkce_verifier(&state);
    assert_eq!(
        param(authorize_url, "code_challenge").unwrap(),
        usps_sim::s256_challenge(verifier.expose()),
        "the challenge is S256 of the state's verifier"
    );
    assert!(!authorize_url.contains(verifier.expose()));
}

async fn account_count(app: &TestApp, key: &str) -> usize {
    let response = app.get(key, "/v1/shipper-accounts").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().len()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_sign_in_proves_its_challenge_and_connects(owner: PgPool) {
    let app = TestApp::spawn(owner).await;
    let connect = app.connect_usps("East").await;
    let authorize_url = connect["authorize_url"].as_str().unwrap();
    assert_challenge_binds_the_state(&app, authorize_url);
    let callback = app.consent(authorize_url, "approve").await;
    let (status, page) = app.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(account_count(&app, &app.tenant_key).await, 1);
}

/// Tenant A's merchant approves A's sign-in; the code is presented at our callback with the
/// state of tenant B's own sign-in. Our server exchanges it with B's verifier, which is not the
/// one A's code was issued for: USPS refuses it, "Login failed", and nothing is stored for
/// either tenant. B's state is spent, and A's code with it.
#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_code_presented_with_another_sign_ins_state_fails_at_usps_and_stores_nothing(
    owner: PgPool,
) {
    let app = TestApp::spawn(owner).await;
    let (_, victim) = app.other_tenant("Victim Returns").await;
    let victims = app.connect_usps_as(&victim, "Victim USPS").await;
    let victims_url = victims["authorize_url"].as_str().unwrap();
    let attackers = app.connect_usps("Attacker USPS").await;
    let attackers_url = attackers["authorize_url"].as_str().unwrap();
    assert_challenge_binds_the_state(&app, victims_url);
    assert_challenge_binds_the_state(&app, attackers_url);
    assert_ne!(
        param(victims_url, "code_challenge"),
        param(attackers_url, "code_challenge")
    );

    let victims_callback = app.consent(victims_url, "approve").await;
    let stolen_code = param(&victims_callback, "code").unwrap();
    let attackers_state = param(attackers_url, "state").unwrap();
    let injected = Url::parse_with_params(
        &app.url("/v1/usps/oauth/callback"),
        [("code", &stolen_code), ("state", &attackers_state)],
    )
    .unwrap()
    .to_string();
    let (status, page) = app.callback(&injected).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert!(!page.contains(&stolen_code) && !page.contains(&attackers_state));

    let exchanges = app
        .simulator
        .simulator
        .counters()
        .grant("authorization_code");
    assert_eq!(
        (exchanges.calls, exchanges.error),
        (1, 1),
        "USPS refused the exchange"
    );
    let failed = app.audit_events("account.oauth_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["tenant_id"], app.tenant.as_str());
    let reason = failed[0]["summary"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("code_verifier does not match"),
        "USPS refused it for the verifier: {reason}"
    );
    assert!(!failed[0].to_string().contains(&stolen_code));
    assert_eq!(account_count(&app, &app.tenant_key).await, 0);
    assert_eq!(account_count(&app, &victim).await, 0);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM shipper_accounts")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // The victim's own callback cannot use the code any more: USPS spent it.
    let (status, page) = app.callback(&victims_callback).await;
    assert_eq!(status, 400);
    assert!(page.contains(LOGIN_FAILED), "{page}");
    assert_eq!(account_count(&app, &victim).await, 0);
}
