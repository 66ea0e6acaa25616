//! "Login with USPS" in the vault: single-use sign-in states, accounts created from a consent,
//! renewals under the account's lock, and the refresh job's work list — on real Postgres as the
//! application role.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use accounts::audit::{self, Actor, EventFilter};
use accounts::{
    AccountChanges, AccountError, AccountService, AccountStatus, Context, Selector, ShipperAccount,
    SignIn, StateError, TenantId,
};
use carrier::{
    AccountPrefill, CarrierError, CarrierRegistry, Credentials, OAuthConnection, ServiceCode,
};
use carrier_usps::{PlatformApp, UspsBuilder};
use chrono::{SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use support::{SENTINEL, SENTINEL_EPS, key, keyring, return_address, usps_account};

const STATE: &str = "kq1YbqWn0vS9bcN5n1xQ-0d2A_x1rK8c7Yw4E9p3uZk";
const REFRESHED: &str = "SENTINEL-refreshed-access-token";

/// The USPS plugin with the platform's app, so that it offers the OAuth hooks (nothing is
/// called: the tokens are made up here).
fn registry() -> CarrierRegistry {
    let usps = UspsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .with_platform_app(PlatformApp::new(
            "platform-app",
            SecretString::from("platform-secret"),
            "http://127.0.0.1:9/v1/usps/oauth/callback",
        ))
        .build()
        .unwrap();
    CarrierRegistry::new().register(Arc::new(usps))
}

struct Vault {
    service: AccountService,
    actor: Actor,
}

async fn vault(owner: &PgPool) -> Vault {
    let db = support::app(owner).await;
    Vault {
        service: AccountService::new(db, keyring(&format!("k1:{}", key(1))), registry()),
        actor: Actor::System,
    }
}

impl Vault {
    async fn tenant(&self, name: &str) -> TenantId {
        accounts::tenant::create_tenant(self.service.database(), &self.actor, name)
            .await
            .unwrap()
            .0
            .id
    }

    fn context<'a>(&'a self, tenant: &'a TenantId) -> Context<'a> {
        Context {
            tenant,
            actor: &self.actor,
            request_id: Some("req_test"),
        }
    }

    async fn sign_in(&self, tenant: &TenantId, state: &str) -> SignIn {
        self.service
            .begin_oauth(self.context(tenant), "usps", "Consent", state)
            .await
            .unwrap();
        self.service.consume_oauth_state(state).await.unwrap()
    }

    async fn connected(
        &self,
        tenant: &TenantId,
        access_expires_in: chrono::Duration,
    ) -> ShipperAccount {
        let sign_in = self
            .sign_in(tenant, &format!("state-{}", rand_suffix()))
            .await;
        self.service
            .create_connected(
                &sign_in,
                Some("req_callback"),
                connection(access_expires_in),
            )
            .await
            .unwrap()
    }

    async fn events(&self, tenant: &TenantId, action: audit::Action) -> Vec<audit::AuditEvent> {
        audit::list(
            self.service.database(),
            &EventFilter {
                tenant: Some(tenant.clone()),
                action: Some(action),
                limit: 100,
                ..EventFilter::default()
            },
        )
        .await
        .unwrap()
    }
}

fn rand_suffix() -> String {
    accounts::AccountId::generate().to_string()
}

fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What the USPS plugin makes of a consent by the demo business.
fn connection(access_expires_in: chrono::Duration) -> OAuthConnection {
    let credentials = Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from(SENTINEL))
        .with_secret(
            "refresh_token",
            SecretString::from("SENTINEL-refresh-token"),
        )
        .with_secret("eps_account_number", SecretString::from(SENTINEL_EPS))
        .with_public(
            "access_token_expires_at",
            rfc3339(Utc::now() + access_expires_in),
        )
        .with_public(
            "refresh_token_expires_at",
            rfc3339(Utc::now() + chrono::Duration::days(7)),
        );
    let details = json!({
        "api": "v3", "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
        "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "******6688",
        "return_address": {"firm": "Acme Returns"},
    });
    let options = json!({
        "crid": ["56982563"], "mid": ["904128936"], "eps_account_number": ["******6688"],
        "permit_number": ["12345"], "permit_zip": ["63116"],
    });
    OAuthConnection {
        credentials,
        prefill: AccountPrefill {
            details: details.as_object().cloned().unwrap(),
            options: options.as_object().cloned().unwrap(),
            unavailable: None,
        },
    }
}

fn renewed(from: &Credentials) -> Credentials {
    Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from(REFRESHED))
        .with_secret(
            "refresh_token",
            SecretString::from("SENTINEL-rotated-refresh"),
        )
        .with_secret(
            "eps_account_number",
            from.secret("eps_account_number").unwrap().clone(),
        )
        .with_public(
            "access_token_expires_at",
            rfc3339(Utc::now() + chrono::Duration::hours(8)),
        )
        .with_public(
            "refresh_token_expires_at",
            rfc3339(Utc::now() + chrono::Duration::days(7)),
        )
}

fn validation_fields(error: AccountError) -> carrier::ValidationErrors {
    match error {
        AccountError::Validation(errors) => errors,
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_state_is_consumed_exactly_once(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let expires_at = vault
        .service
        .begin_oauth(vault.context(&tenant), "usps", "East warehouse", STATE)
        .await
        .unwrap();
    let lifetime = expires_at - Utc::now();
    assert!(
        lifetime > chrono::Duration::minutes(9) && lifetime <= chrono::Duration::minutes(10),
        "{lifetime}"
    );
    let sign_in = vault.service.consume_oauth_state(STATE).await.unwrap();
    assert_eq!(
        sign_in,
        SignIn {
            tenant: tenant.clone(),
            carrier: "usps".into(),
            account_name: "East warehouse".into(),
            started_by: Actor::System,
            account_id: None,
        }
    );
    let replay = vault.service.consume_oauth_state(STATE).await.unwrap_err();
    assert!(matches!(replay, StateError::AlreadyUsed), "{replay:?}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_unknown_state_is_refused(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault
        .service
        .begin_oauth(vault.context(&tenant), "usps", "East", STATE)
        .await
        .unwrap();
    let error = vault
        .service
        .consume_oauth_state(&STATE.replace('k', "K"))
        .await
        .unwrap_err();
    assert!(matches!(error, StateError::Unknown), "{error:?}");
    assert!(vault.service.consume_oauth_state(STATE).await.is_ok());
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_expired_state_is_refused_and_stays_unused(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault
        .service
        .begin_oauth(vault.context(&tenant), "usps", "East", STATE)
        .await
        .unwrap();
    sqlx::query("UPDATE oauth_states SET expires_at = now() - interval '1 second'")
        .execute(&owner)
        .await
        .unwrap();
    let error = vault.service.consume_oauth_state(STATE).await.unwrap_err();
    assert!(matches!(error, StateError::Expired), "{error:?}");
    let consumed: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT consumed_at FROM oauth_states")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert_eq!(consumed, None);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn only_the_hash_of_a_state_is_stored_and_only_its_tenant_sees_it(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let other = vault.tenant("Other").await;
    vault
        .service
        .begin_oauth(vault.context(&tenant), "usps", "East", STATE)
        .await
        .unwrap();
    let (hash, row): (Vec<u8>, String) =
        sqlx::query_as("SELECT state_hash, row_to_json(oauth_states)::text FROM oauth_states")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert_eq!(hash, Sha256::digest(STATE.as_bytes()).to_vec());
    assert!(!row.contains(STATE), "{row}");
    let visible = |tenant: TenantId| {
        let db = vault.service.database().clone();
        async move {
            let mut tx = db.tenant(&tenant).await.unwrap();
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_states")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            count
        }
    };
    assert_eq!(visible(tenant).await, 1);
    assert_eq!(visible(other).await, 0);
    let mut unscoped = vault.service.database().unscoped().await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_states")
        .fetch_one(&mut *unscoped)
        .await
        .unwrap();
    assert_eq!(count, 0, "no tenant and no state hash: nothing is visible");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_sign_in_needs_a_carrier_with_oauth_and_a_name(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let unknown = vault
        .service
        .begin_oauth(vault.context(&tenant), "fedex", "East", STATE)
        .await
        .unwrap_err();
    assert!(validation_fields(unknown).names("carrier"));
    let unnamed = vault
        .service
        .begin_oauth(vault.context(&tenant), "usps", "  ", STATE)
        .await
        .unwrap_err();
    assert!(validation_fields(unnamed).names("name"));

    // The plugin without the platform's app offers no sign-in.
    let plain = support::vault(&owner).await;
    let error = plain
        .service
        .begin_oauth(plain.context(&tenant), "usps", "East", STATE)
        .await
        .unwrap_err();
    assert!(validation_fields(error).names("carrier"));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_consent_creates_a_pending_account_with_the_prefill_and_sealed_tokens(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::hours(8)).await;
    assert_eq!(account.status, AccountStatus::PendingDetails);
    assert_eq!(account.name, "Consent");
    assert_eq!(account.details["crid"], "56982563");
    assert_eq!(account.details["eps_account_number"], "******6688");
    assert_eq!(
        account.onboarding.as_ref().unwrap()["permit_number"],
        json!(["12345"])
    );
    assert_eq!(account.credentials.mode, "platform_app");
    assert!(
        account
            .credentials
            .public
            .contains_key("access_token_expires_at")
    );
    assert!(account.credentials.fingerprint.starts_with("sha256:"));

    let stored: String =
        sqlx::query_scalar("SELECT row_to_json(s)::text FROM (SELECT * FROM shipper_accounts) s")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert!(!stored.contains(SENTINEL) && !stored.contains(SENTINEL_EPS));

    let events = vault.events(&tenant, audit::Action::OauthConnected).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.target.as_deref(), Some(account.id.as_str()));
    assert_eq!(event.request_id.as_deref(), Some("req_callback"));
    assert_eq!(
        event.summary["credentials"]["fingerprint"],
        json!(account.credentials.fingerprint)
    );
    let summary = event.summary.to_string();
    assert!(
        !summary.contains(SENTINEL) && !summary.contains(SENTINEL_EPS),
        "{summary}"
    );

    let (_, _, credentials) = vault
        .service
        .open_for_use(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        credentials.secret("access_token").unwrap().expose_secret(),
        SENTINEL
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_missing_details_make_a_connected_account_active(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::hours(8)).await;
    let incomplete = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                details: Some(
                    json!({"return_address": {"firm": "Acme Returns", "city": "St. Louis"}}),
                ),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        validation_fields(incomplete)
            .errors()
            .iter()
            .any(|e| e.field.starts_with("details.return_address"))
    );
    let active = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                details: Some(json!({"return_address": return_address()})),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(active.status, AccountStatus::Active);
    assert_eq!(active.details["eps_account_number"], "******6688");
    let usable = vault
        .service
        .select_for_use(
            vault.context(&tenant),
            Selector {
                carrier: "usps",
                service: &ServiceCode::parse("service", "usps_ground_advantage_return").unwrap(),
                account_id: None,
                tags: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(usable.account.id, account.id);
    assert_eq!(
        usable
            .credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        SENTINEL_EPS
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_renewal_reseals_the_new_tokens_and_audits_the_new_fingerprint(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let renewal = vault
        .service
        .begin_renewal(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert!(renewal.due_at().unwrap() <= Utc::now());
    let new = renewed(renewal.credentials());
    let opened = renewal.save(new).await.unwrap();
    assert_eq!(opened.account.status, AccountStatus::PendingDetails);
    assert_ne!(
        opened.account.credentials.fingerprint,
        account.credentials.fingerprint
    );
    assert!(vault.service.oauth_refresh_due_at(&opened.account).unwrap() > Utc::now());

    let (_, _, stored) = vault
        .service
        .open_for_use(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        stored.secret("access_token").unwrap().expose_secret(),
        REFRESHED
    );
    assert_eq!(
        stored.secret("eps_account_number").unwrap().expose_secret(),
        SENTINEL_EPS
    );

    let events = vault.events(&tenant, audit::Action::OauthRefreshed).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].summary["previous_fingerprint"],
        json!(account.credentials.fingerprint)
    );
    assert_eq!(
        events[0].summary["fingerprint"],
        json!(opened.account.credentials.fingerprint)
    );
    let summary = events[0].summary.to_string();
    assert!(
        !summary.contains(REFRESHED) && !summary.contains(SENTINEL),
        "{summary}"
    );
    support::chain_audit(vault.service.database()).await;
    assert!(
        audit::verify(vault.service.database(), Some(&tenant))
            .await
            .unwrap()
            .ok
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_failed_renewal_requires_reauthorization_and_is_audited(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                details: Some(json!({"return_address": return_address()})),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap();
    let renewal = vault
        .service
        .begin_renewal(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    let refused = CarrierError::Unauthenticated {
        carrier: "usps",
        message: "The refresh token has expired".into(),
    };
    let failed = renewal.fail(&refused).await.unwrap();
    assert_eq!(failed.status, AccountStatus::ReauthorizationRequired);
    assert_eq!(
        failed.credentials.fingerprint,
        account.credentials.fingerprint
    );

    let events = vault.events(&tenant, audit::Action::OauthFailed).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].target.as_deref(), Some(account.id.as_str()));
    assert_eq!(events[0].summary["previous_status"], "active");
    assert_eq!(events[0].summary["kind"], "unauthenticated");

    let error = vault
        .service
        .select_for_use(
            vault.context(&tenant),
            Selector {
                carrier: "usps",
                service: &ServiceCode::parse("service", "usps_ground_advantage_return").unwrap(),
                account_id: None,
                tags: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap_err();
    match error {
        AccountError::NoEligibleAccount(reason) => {
            assert!(reason.contains("re-authorized"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        vault
            .service
            .oauth_due(Utc::now(), 10)
            .await
            .unwrap()
            .is_empty(),
        "an account waiting for its merchant is not renewed again"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn due_accounts_are_found_from_public_fields_across_tenants(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let other = vault.tenant("Other").await;
    let due = vault.connected(&acme, chrono::Duration::minutes(1)).await;
    let due_elsewhere = vault.connected(&other, chrono::Duration::minutes(2)).await;
    vault.connected(&acme, chrono::Duration::hours(8)).await;
    let disabled = vault.connected(&acme, chrono::Duration::minutes(1)).await;
    vault
        .service
        .disable(vault.context(&acme), disabled.id.as_str())
        .await
        .unwrap();
    support::vault(&owner)
        .await
        .create(&acme, usps_account("Own app"))
        .await;

    let found = vault.service.oauth_due(Utc::now(), 10).await.unwrap();
    let ids: Vec<_> = found
        .iter()
        .map(|d| (d.tenant.clone(), d.id.clone()))
        .collect();
    assert_eq!(ids, [(acme.clone(), due.id), (other, due_elsewhere.id)]);
    assert_eq!(found[0].carrier, "usps");
    assert_eq!(
        vault.service.oauth_due(Utc::now(), 1).await.unwrap().len(),
        1
    );
    let used: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'account.credentials_used'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(used, 0, "deciding opened no credentials");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_second_renewal_waits_for_the_first_and_reads_what_it_stored(owner: PgPool) {
    let vault = Arc::new(vault(&owner).await);
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let first = vault
        .service
        .begin_renewal(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    let mut second = tokio::spawn({
        let vault = vault.clone();
        let tenant = tenant.clone();
        let id = account.id.clone();
        async move {
            let renewal = vault
                .service
                .begin_renewal(vault.context(&tenant), id.as_str())
                .await
                .unwrap();
            let due = renewal.due_at();
            (due, renewal.release().await.unwrap())
        }
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut second)
            .await
            .is_err(),
        "the second renewal waits for the account's lease"
    );
    let new = renewed(first.credentials());
    first.save(new).await.unwrap();
    let (due, opened) = second.await.unwrap();
    assert!(due.unwrap() > Utc::now(), "nothing is due any more");
    assert_eq!(
        opened
            .credentials
            .secret("access_token")
            .unwrap()
            .expose_secret(),
        REFRESHED
    );
    let refreshed = vault.events(&tenant, audit::Action::OauthRefreshed).await;
    assert_eq!(refreshed.len(), 1);
}

/// The lease of the account's renewal, as stored.
async fn lease(owner: &PgPool, id: &str) -> (Option<chrono::DateTime<Utc>>, i64) {
    sqlx::query_as("SELECT renewal_lease_until, renewal_fence FROM shipper_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(owner)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_renewal_holds_a_lease_not_a_lock_and_refuses_a_credentials_change_meanwhile(
    owner: PgPool,
) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let renewal = vault
        .service
        .begin_renewal(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    let (until, _) = lease(&owner, account.id.as_str()).await;
    assert!(until.unwrap() > Utc::now(), "the lease is recorded");

    // No row lock is held while the carrier is called: another session can lock the row.
    let mut other = owner.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM shipper_accounts WHERE id = $1 FOR UPDATE NOWAIT")
        .bind(account.id.as_str())
        .execute(&mut *other)
        .await
        .expect("the account's row is not locked during a renewal");
    other.rollback().await.unwrap();

    // Details may change; credentials may not until the lease is back.
    let renamed = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                name: Some("Renamed".into()),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    let refused = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                details: Some(json!({"return_address": return_address()})),
                credentials: Some(support::own_app()),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            AccountError::Conflict {
                code: "renewal_in_progress",
                ..
            }
        ),
        "{refused:?}"
    );

    let new = renewed(renewal.credentials());
    renewal.save(new).await.unwrap();
    assert_eq!(lease(&owner, account.id.as_str()).await.0, None);
    let rotated = vault
        .service
        .update(
            vault.context(&tenant),
            account.id.as_str(),
            AccountChanges {
                details: Some(json!({"return_address": return_address()})),
                credentials: Some(support::own_app()),
                ..AccountChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rotated.credentials.mode, "own_app");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_renewal_that_lost_its_lease_stores_nothing_and_reads_what_was_stored(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let id = account.id.as_str();
    let slow = vault
        .service
        .begin_renewal(vault.context(&tenant), id)
        .await
        .unwrap();
    // The slow renewal outlives its lease (as if its holder hung): a second one takes over.
    sqlx::query("UPDATE shipper_accounts SET renewal_lease_until = now() - interval '1 second' WHERE id = $1")
        .bind(id)
        .execute(&owner)
        .await
        .unwrap();
    let second = vault
        .service
        .begin_renewal(vault.context(&tenant), id)
        .await
        .unwrap();
    let stored = second
        .save(renewed(&account_credentials(&vault, &tenant, id).await))
        .await
        .unwrap();

    let late = Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from("SENTINEL-late-token"))
        .with_public(
            "access_token_expires_at",
            rfc3339(Utc::now() + chrono::Duration::hours(8)),
        );
    let opened = slow.save(late).await.unwrap();
    assert_eq!(
        opened
            .credentials
            .secret("access_token")
            .unwrap()
            .expose_secret(),
        REFRESHED,
        "the late renewal hands back what the second one stored"
    );
    assert_eq!(
        opened.account.credentials.fingerprint,
        stored.account.credentials.fingerprint
    );
    assert_eq!(
        account_credentials(&vault, &tenant, id)
            .await
            .secret("access_token")
            .unwrap()
            .expose_secret(),
        REFRESHED
    );
    let refreshed = vault.events(&tenant, audit::Action::OauthRefreshed).await;
    assert_eq!(
        refreshed.len(),
        1,
        "only the renewal that held the lease is audited"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_renewal_dropped_midway_gives_its_lease_back(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let id = account.id.as_str();
    let renewal = vault
        .service
        .begin_renewal(vault.context(&tenant), id)
        .await
        .unwrap();
    assert!(lease(&owner, id).await.0.is_some());
    drop(renewal);
    let mut given_back = false;
    for _ in 0..200 {
        if lease(&owner, id).await.0.is_none() {
            given_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(given_back, "the lease was given back in the background");
    assert!(matches!(
        vault
            .service
            .try_begin_renewal(vault.context(&tenant), id)
            .await
            .unwrap(),
        accounts::Leased::Taken(_)
    ));
}

async fn account_credentials(vault: &Vault, tenant: &TenantId, id: &str) -> Credentials {
    vault
        .service
        .open_for_use(vault.context(tenant), id)
        .await
        .unwrap()
        .2
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_reconnect_replaces_the_tokens_in_place_and_names_who_started_it(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.connected(&tenant, chrono::Duration::minutes(1)).await;
    let id = account.id.as_str();
    sqlx::query("UPDATE shipper_accounts SET status = 'reauthorization_required' WHERE id = $1")
        .bind(id)
        .execute(&owner)
        .await
        .unwrap();
    let key = accounts::ApiKeyId::generate();
    let merchant = Actor::ApiKey(key.clone());
    let context = Context {
        tenant: &tenant,
        actor: &merchant,
        request_id: Some("req_reconnect"),
    };
    let (found, _) = vault
        .service
        .begin_reconnect(context, id, STATE)
        .await
        .unwrap();
    assert_eq!(found.id, account.id);
    let sign_in = vault.service.consume_oauth_state(STATE).await.unwrap();
    assert_eq!(sign_in.account_id.as_ref(), Some(&account.id));
    assert_eq!(sign_in.started_by, merchant);

    // The new sign-in's UserInfo brought no EPS account: the one stored stays.
    let mut fresh = connection(chrono::Duration::hours(8));
    fresh.credentials = Credentials::new("platform_app")
        .with_secret("access_token", SecretString::from("SENTINEL-reconnected"))
        .with_secret("refresh_token", SecretString::from("SENTINEL-new-refresh"))
        .with_public(
            "access_token_expires_at",
            rfc3339(Utc::now() + chrono::Duration::hours(8)),
        );
    let reconnected = vault
        .service
        .complete_reconnect(&sign_in, Some("req_callback"), fresh)
        .await
        .unwrap();
    assert_eq!(reconnected.id, account.id);
    assert_eq!(reconnected.created_at, account.created_at);
    assert_eq!(
        reconnected.status,
        AccountStatus::PendingDetails,
        "details still incomplete"
    );
    let stored = account_credentials(&vault, &tenant, id).await;
    assert_eq!(
        stored.secret("access_token").unwrap().expose_secret(),
        "SENTINEL-reconnected"
    );
    assert_eq!(
        stored.secret("eps_account_number").unwrap().expose_secret(),
        SENTINEL_EPS
    );
    let events = vault.events(&tenant, audit::Action::OauthReconnected).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, key.to_string());
    assert_eq!(events[0].target.as_deref(), Some(id));
    assert_eq!(
        events[0].summary["previous_status"],
        "reauthorization_required"
    );
    assert_eq!(events[0].summary["status"], "pending_details");
    assert!(!events[0].summary.to_string().contains("SENTINEL"));
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM shipper_accounts")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(accounts, 1, "no second account");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn only_signed_in_enabled_accounts_can_reconnect(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let own = vault
        .service
        .create(vault.context(&tenant), usps_account("Own app"))
        .await
        .unwrap();
    let refused = vault
        .service
        .begin_reconnect(vault.context(&tenant), own.id.as_str(), "state-own")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AccountError::NotSupported(_)),
        "{refused:?}"
    );

    let signed_in = vault.connected(&tenant, chrono::Duration::hours(8)).await;
    vault
        .service
        .disable(vault.context(&tenant), signed_in.id.as_str())
        .await
        .unwrap();
    let refused = vault
        .service
        .begin_reconnect(vault.context(&tenant), signed_in.id.as_str(), "state-off")
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            AccountError::Conflict {
                code: "account_disabled",
                ..
            }
        ),
        "{refused:?}"
    );
    let other = vault.tenant("Other").await;
    let hidden = vault
        .service
        .begin_reconnect(vault.context(&other), signed_in.id.as_str(), "state-other")
        .await
        .unwrap_err();
    assert!(matches!(hidden, AccountError::NotFound), "{hidden:?}");
}
