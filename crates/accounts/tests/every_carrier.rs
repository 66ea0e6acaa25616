//! The account service's carrier-neutral behaviour, run for every carrier plugin: the same
//! sealing, masking, selection and isolation whatever the details and credentials look like.
//! The service names no carrier; these tests prove it behaves alike for carriers shaped unlike
//! each other (USPS: CRID, MIDs and an EPS number moved out of the details; UPS: a shipper
//! number and a client secret; FedEx: an account number, a billing address and its own app's
//! secret key).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::{AccountChanges, AccountError, NewAccount, SelectedBy, Selector};
use carrier::ServiceCode;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use support::{SENTINEL, fedex_account, ups_account, usps_account, vault};

/// One carrier: its id, a service its accounts offer, and a new account with a secret.
struct Case {
    carrier: &'static str,
    service: &'static str,
    account: fn(&str) -> NewAccount,
    /// The credential that holds [`SENTINEL`].
    secret: &'static str,
}

const CASES: [Case; 3] = [
    Case {
        carrier: "usps",
        service: "usps_ground_advantage_return",
        account: usps_account,
        secret: "client_secret",
    },
    Case {
        carrier: "ups",
        service: "ups_ground_return",
        account: ups_account,
        secret: "client_secret",
    },
    Case {
        carrier: "fedex",
        service: "fedex_ground_return",
        account: fedex_account,
        secret: "client_secret",
    },
];

/// Every stored text column of every row, as Postgres would dump it.
async fn stored_text(owner: &PgPool) -> String {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(a)::text FROM shipper_accounts a
         UNION ALL SELECT row_to_json(e)::text FROM audit_events e",
    )
    .fetch_all(owner)
    .await
    .unwrap();
    rows.join("\n")
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_carriers_secret_is_sealed_never_shown_and_opens_as_given(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    for case in &CASES {
        let account = vault.create(&tenant, (case.account)(case.carrier)).await;
        assert_eq!(account.carrier, case.carrier);
        let shown = format!(
            "{} {account:?}",
            serde_json::to_string(&account.details).unwrap()
        );
        assert!(!shown.contains(SENTINEL), "{}: {shown}", case.carrier);
        assert!(account.credentials.fingerprint.starts_with("sha256:"));
        let (_, _, credentials) = vault
            .service
            .open_for_use(vault.context(&tenant), account.id.as_str())
            .await
            .unwrap();
        assert_eq!(
            credentials.secret(case.secret).unwrap().expose_secret(),
            SENTINEL,
            "{}",
            case.carrier
        );
    }
    let stored = stored_text(&owner).await;
    assert!(
        !stored.contains(SENTINEL),
        "a secret is stored in plaintext"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn selection_keeps_carriers_apart_and_follows_the_default_for_each(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    for case in &CASES {
        let first = vault.create(&tenant, (case.account)("First")).await;
        assert!(
            first.is_default,
            "{}: the first account is the default",
            case.carrier
        );
        let second = vault
            .create(
                &tenant,
                NewAccount {
                    priority: -1,
                    ..(case.account)("Second")
                },
            )
            .await;
        let service = ServiceCode::parse("service", case.service).unwrap();
        let chosen = vault
            .service
            .select_for_use(
                vault.context(&tenant),
                Selector {
                    carrier: case.carrier,
                    service: &service,
                    account_id: None,
                    tags: None,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            chosen.account.id, first.id,
            "{}: the default wins",
            case.carrier
        );
        assert_eq!(chosen.selected_by, SelectedBy::Default);
        let explicit = vault
            .service
            .select_for_use(
                vault.context(&tenant),
                Selector {
                    carrier: case.carrier,
                    service: &service,
                    account_id: Some(second.id.as_str()),
                    tags: None,
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(explicit.account.id, second.id);
        // Another carrier's account is never this carrier's, not even by id.
        for other in CASES.iter().filter(|other| other.carrier != case.carrier) {
            let other_service = ServiceCode::parse("service", other.service).unwrap();
            let refused = vault
                .service
                .select_for_use(
                    vault.context(&tenant),
                    Selector {
                        carrier: other.carrier,
                        service: &other_service,
                        account_id: Some(first.id.as_str()),
                        tags: None,
                        idempotency_key: None,
                    },
                )
                .await;
            assert!(
                matches!(refused, Err(AccountError::NoEligibleAccount(_))),
                "{} account chosen for {}: {refused:?}",
                case.carrier,
                other.carrier
            );
        }
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_partial_update_keeps_every_carriers_secret(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    for case in &CASES {
        let account = vault.create(&tenant, (case.account)("East")).await;
        let updated = vault
            .service
            .update(
                vault.context(&tenant),
                account.id.as_str(),
                AccountChanges {
                    name: Some("East warehouse".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.name, "East warehouse");
        assert_eq!(
            updated.credentials.fingerprint,
            account.credentials.fingerprint
        );
        let (_, _, credentials) = vault
            .service
            .open_for_use(vault.context(&tenant), account.id.as_str())
            .await
            .unwrap();
        assert_eq!(
            credentials.secret(case.secret).unwrap().expose_secret(),
            SENTINEL
        );
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn another_tenant_never_reads_or_uses_any_carriers_account(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let globex = vault.tenant("Globex").await;
    for case in &CASES {
        let theirs = vault.create(&globex, (case.account)("Globex")).await;
        let id = theirs.id.as_str();
        assert!(matches!(
            vault.service.get(&acme, id).await,
            Err(AccountError::NotFound)
        ));
        assert!(matches!(
            vault.service.open_for_use(vault.context(&acme), id).await,
            Err(AccountError::NotFound)
        ));
        let service = ServiceCode::parse("service", case.service).unwrap();
        let selected = vault
            .service
            .select_for_use(
                vault.context(&acme),
                Selector {
                    carrier: case.carrier,
                    service: &service,
                    account_id: Some(id),
                    tags: None,
                    idempotency_key: None,
                },
            )
            .await;
        assert!(selected.is_err(), "{}: {selected:?}", case.carrier);
    }
    assert!(
        vault
            .service
            .list(&acme, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
