//! The audit trail: every credential change and use recorded, append-only, and a tampered
//! event found at its exact id.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use accounts::audit::{self, Actor, EventFilter};
use accounts::{AccountChanges, Selector};
use carrier::{CredentialsInput, ServiceCode};
use sqlx::PgPool;
use support::{SENTINEL, SENTINEL_EPS, usps_account, vault};

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn every_credential_change_and_use_is_audited_in_order(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let context = vault.context(&tenant);
    let rotated = CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", "acme-app")
        .with("client_secret", "a-new-secret");
    vault
        .service
        .update(
            context,
            account.id.as_str(),
            AccountChanges {
                credentials: Some(rotated),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let service = ServiceCode::parse("service", "usps_ground_advantage_return").unwrap();
    vault
        .service
        .select_for_use(
            context,
            Selector {
                carrier: "usps",
                service: &service,
                account_id: None,
                tags: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    vault
        .service
        .disable(context, account.id.as_str())
        .await
        .unwrap();

    let events = audit::list(
        &vault.db,
        &EventFilter {
            target: Some(account.id.to_string()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = events.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account.created",
            "account.credentials_rotated",
            "account.credentials_used",
            "account.disabled"
        ]
    );
    for event in &events {
        assert_eq!(event.request_id.as_deref(), Some("req_test"));
        assert_eq!(event.actor, "system");
    }
    let rotation = &events[2];
    assert_eq!(
        rotation.summary["fingerprint"],
        events[1].summary["fingerprint"]
    );
    assert_ne!(
        rotation.summary["fingerprint"],
        rotation.summary["previous_fingerprint"]
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn audit_summaries_name_credentials_by_fingerprint_only(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    vault
        .service
        .open_for_use(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    let events = audit::list(
        &vault.db,
        &EventFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(SENTINEL) && !text.contains(SENTINEL_EPS));
    assert!(text.contains(&account.credentials.fingerprint));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_application_role_cannot_change_or_remove_events(owner: PgPool) {
    let vault = vault(&owner).await;
    vault.tenant("Acme").await;
    vault.chain_audit().await;
    for statement in [
        "UPDATE audit_links SET chain_seq = chain_seq + 1",
        "DELETE FROM audit_links",
    ] {
        let mut tx = vault.db.admin().await.unwrap();
        let error = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert!(
            error.to_string().contains("permission denied"),
            "{statement}: {error}"
        );
    }
    let mut tx = vault.db.admin().await.unwrap();
    let update = sqlx::query("UPDATE audit_events SET actor = 'someone else'")
        .execute(&mut *tx)
        .await;
    assert!(
        update
            .unwrap_err()
            .to_string()
            .contains("permission denied")
    );
    drop(tx);
    let mut tx = vault.db.admin().await.unwrap();
    let delete = sqlx::query("DELETE FROM audit_events")
        .execute(&mut *tx)
        .await;
    assert!(
        delete
            .unwrap_err()
            .to_string()
            .contains("permission denied")
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_trigger_refuses_changes_even_from_a_superuser(owner: PgPool) {
    let vault = vault(&owner).await;
    vault.tenant("Acme").await;
    vault.chain_audit().await;
    for statement in [
        "UPDATE audit_events SET actor = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE audit_links SET hash = sha256(hash)",
        "DELETE FROM audit_links",
        "TRUNCATE audit_links",
    ] {
        let error = sqlx::query(statement).execute(&owner).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
}

async fn tamper(owner: &PgPool, statement: &'static str, id: i64) {
    let mut tx = owner.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(statement)
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn busy_tenant(vault: &support::Vault) -> Vec<i64> {
    let tenant = vault.tenant("Acme").await;
    for name in ["East", "West", "North"] {
        let account = vault.create(&tenant, usps_account(name)).await;
        vault
            .service
            .open_for_use(vault.context(&tenant), account.id.as_str())
            .await
            .unwrap();
    }
    let mut ids: Vec<i64> = audit::list(
        &vault.db,
        &EventFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .iter()
    .map(|event| event.id)
    .collect();
    ids.sort_unstable();
    assert_eq!(vault.chain_audit().await, ids.len() as u64);
    ids
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_intact_trail_verifies(owner: PgPool) {
    let vault = vault(&owner).await;
    let ids = busy_tenant(&vault).await;
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(report.ok);
    assert_eq!(report.checked, ids.len() as u64);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_edited_event_is_reported_at_its_exact_id(owner: PgPool) {
    let vault = vault(&owner).await;
    let ids = busy_tenant(&vault).await;
    let edited = ids[4];
    tamper(
        &owner,
        "UPDATE audit_events SET summary = '{\"fingerprint\": \"forged\"}' WHERE id = $1",
        edited,
    )
    .await;
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_id, Some(edited));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_removed_event_is_reported_at_its_id(owner: PgPool) {
    let vault = vault(&owner).await;
    let ids = busy_tenant(&vault).await;
    tamper(&owner, "DELETE FROM audit_events WHERE id = $1", ids[3]).await;
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert_eq!(report.first_bad_id, Some(ids[3]));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_removed_event_and_link_are_reported_at_the_event_after_them(owner: PgPool) {
    let vault = vault(&owner).await;
    let ids = busy_tenant(&vault).await;
    tamper(&owner, "DELETE FROM audit_events WHERE id = $1", ids[3]).await;
    let mut tx = owner.begin().await.unwrap();
    for statement in [
        "ALTER TABLE audit_links DISABLE TRIGGER audit_links_append_only",
        "DELETE FROM audit_links WHERE event_id = $1",
        "ALTER TABLE audit_links ENABLE TRIGGER audit_links_append_only",
    ] {
        sqlx::query(statement)
            .bind(ids[3])
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert_eq!(report.first_bad_id, Some(ids[4]));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_forged_chain_head_is_reported_at_the_next_event(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault.create(&tenant, usps_account("East")).await;
    vault.chain_audit().await;
    sqlx::query("UPDATE audit_chain_heads SET hash = sha256('forged') WHERE chain = $1")
        .bind(tenant.as_str())
        .execute(&owner)
        .await
        .unwrap();
    assert!(audit::verify(&vault.db, None).await.unwrap().ok);
    let account = vault.create(&tenant, usps_account("West")).await;
    vault.chain_audit().await;
    let next: i64 = sqlx::query_scalar("SELECT min(id) FROM audit_events WHERE target = $1")
        .bind(account.id.as_str())
        .fetch_one(&owner)
        .await
        .unwrap();
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_id, Some(next));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn concurrent_writers_keep_one_linear_chain(owner: PgPool) {
    let vault = std::sync::Arc::new(vault(&owner).await);
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (vault, tenant, id) = (vault.clone(), tenant.clone(), account.id.clone());
        tasks.push(tokio::spawn(async move {
            vault
                .service
                .open_for_use(vault.context(&tenant), id.as_str())
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    vault.chain_audit().await;
    let report = audit::verify(&vault.db, Some(&tenant)).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, 1 + 1 + 1 + 16); // tenant, key, account, 16 uses
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn interleaved_tenant_and_platform_chains_each_stay_linear(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let globex = vault.tenant("Globex").await;
    for round in 0..3 {
        for tenant in [&acme, &globex] {
            let account = vault
                .create(tenant, usps_account(&format!("Warehouse {round}")))
                .await;
            vault
                .service
                .open_for_use(vault.context(tenant), account.id.as_str())
                .await
                .unwrap();
        }
        // An admin key: an event of the platform's own chain (no tenant).
        accounts::tenant::create_api_key(
            &vault.db,
            &Actor::System,
            None,
            &format!("ops {round}"),
            None,
        )
        .await
        .unwrap();
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&owner)
        .await
        .unwrap();
    vault.chain_audit().await;
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, events as u64);
    for tenant in [&acme, &globex] {
        assert!(audit::verify(&vault.db, Some(tenant)).await.unwrap().ok);
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn events_wait_unchained_until_the_sequencer_chains_them(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault.create(&tenant, usps_account("East")).await;
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&owner)
        .await
        .unwrap();
    let before = audit::verify(&vault.db, None).await.unwrap();
    assert!(before.ok, "waiting events are not a fault: {before:?}");
    assert_eq!((before.checked, before.waiting), (0, written as u64));
    let listed = audit::list(
        &vault.db,
        &EventFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        listed
            .iter()
            .all(|e| e.hash.is_none() && e.chained_at.is_none())
    );

    assert_eq!(vault.chain_audit().await, written as u64);
    assert_eq!(vault.chain_audit().await, 0, "nothing is chained twice");
    let after = audit::verify(&vault.db, None).await.unwrap();
    assert!(after.ok, "{after:?}");
    assert_eq!((after.checked, after.waiting), (written as u64, 0));
    let listed = audit::list(
        &vault.db,
        &EventFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for event in &listed {
        assert_eq!(event.hash.as_ref().map(String::len), Some(64), "{event:?}");
        assert!(event.chained_at.unwrap() >= event.at, "{event:?}");
    }
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn an_event_left_unchained_past_the_merge_delay_fails_verification(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault.chain_audit().await;
    // As if written two minutes ago by a server whose sequencer then stopped.
    let stale: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events (tenant_id, at, actor, action)
         VALUES ($1, now() - interval '2 minutes', 'system', 'account.created') RETURNING id",
    )
    .bind(tenant.as_str())
    .fetch_one(&owner)
    .await
    .unwrap();
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_id, None, "nothing was altered");
    assert_eq!((report.overdue, report.first_overdue_id), (1, Some(stale)));
    assert_eq!(
        audit::verify(&vault.db, Some(&tenant))
            .await
            .unwrap()
            .first_overdue_id,
        Some(stale)
    );
    vault.chain_audit().await;
    assert!(audit::verify(&vault.db, None).await.unwrap().ok);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_chain_follows_commit_order_not_id_order(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    vault.chain_audit().await;
    let event = |action| audit::NewEvent {
        tenant: Some(&tenant),
        actor: &vault.actor,
        action,
        target: None,
        request_id: None,
        summary: serde_json::Map::new(),
    };
    let mut first = vault.db.tenant(&tenant).await.unwrap();
    let lower = audit::record(&mut first, event(audit::Action::AccountCreated))
        .await
        .unwrap();
    let mut second = vault.db.tenant(&tenant).await.unwrap();
    let higher = audit::record(&mut second, event(audit::Action::AccountUpdated))
        .await
        .unwrap();
    assert!(lower < higher);
    second.commit().await.unwrap();
    assert_eq!(vault.chain_audit().await, 1, "only the committed event");
    first.commit().await.unwrap();
    assert_eq!(vault.chain_audit().await, 1);
    let place = |id: i64| {
        sqlx::query_scalar::<_, i64>("SELECT chain_seq FROM audit_links WHERE event_id = $1")
            .bind(id)
            .fetch_one(&owner)
    };
    assert_eq!(
        place(lower).await.unwrap(),
        place(higher).await.unwrap() + 1
    );
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn one_sequencer_leads_at_a_time(owner: PgPool) {
    let vault = vault(&owner).await;
    vault.tenant("Acme").await;
    let mut leader = vault.db.admin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('audit-sequencer', 0))")
        .execute(&mut *leader)
        .await
        .unwrap();
    assert_eq!(
        audit::chain_pending(&vault.db).await.unwrap(),
        audit::Pass::NotLeader
    );
    leader.rollback().await.unwrap();
    assert!(matches!(
        audit::chain_pending(&vault.db).await.unwrap(),
        audit::Pass::Chained(2)
    ));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn sequencers_racing_writers_keep_every_chain_linear(owner: PgPool) {
    let vault = std::sync::Arc::new(vault(&owner).await);
    let tenants = [vault.tenant("Acme").await, vault.tenant("Globex").await];
    let mut writers = Vec::new();
    for index in 0..8 {
        let (vault, tenant) = (vault.clone(), tenants[index % 2].clone());
        writers.push(tokio::spawn(async move {
            for round in 0..3 {
                vault
                    .create(&tenant, usps_account(&format!("Warehouse {index}-{round}")))
                    .await;
            }
        }));
    }
    let mut sequencers = Vec::new();
    for _ in 0..3 {
        let vault = vault.clone();
        sequencers.push(tokio::spawn(async move {
            for _ in 0..20 {
                audit::chain_pending(&vault.db).await.unwrap();
            }
        }));
    }
    for task in writers.into_iter().chain(sequencers) {
        task.await.unwrap();
    }
    vault.chain_audit().await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&owner)
        .await
        .unwrap();
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checked, events as u64);
    let gaps: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
             SELECT chain_seq - lag(chain_seq, 1, 0::bigint) OVER (PARTITION BY chain ORDER BY chain_seq) AS step
             FROM audit_links) AS steps
         WHERE step <> 1",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    assert_eq!(gaps, 0, "every chain is numbered 1, 2, … without a gap");
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn only_the_sequencer_chains_and_only_once(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    // A tenant's transaction cannot link an event, take the queue, or move a head.
    let mut tx = vault.db.tenant(&tenant).await.unwrap();
    let forged = sqlx::query(
        "INSERT INTO audit_links (event_id, chain, chain_seq, prev_hash, hash, chained_at)
         SELECT min(id), $1, 1, sha256('a'), sha256('b'), now() FROM audit_events",
    )
    .bind(tenant.as_str())
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(
        forged.to_string().contains("row-level security"),
        "{forged}"
    );
    drop(tx);
    let mut tx = vault.db.tenant(&tenant).await.unwrap();
    let taken = sqlx::query("DELETE FROM audit_pending")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(taken.rows_affected(), 0);
    drop(tx);
    assert_eq!(vault.chain_audit().await, 2);
    let mut tx = vault.db.tenant(&tenant).await.unwrap();
    let moved = sqlx::query("UPDATE audit_chain_heads SET seq = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected(), 0);
    // Queuing a chained event again (or one that does not exist) chains nothing twice.
    sqlx::query(
        "INSERT INTO audit_pending (event_id) SELECT id FROM audit_events UNION SELECT 999999",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(vault.chain_audit().await, 0);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_pending")
        .fetch_one(&owner)
        .await
        .unwrap();
    assert_eq!(queued, 0, "the sequencer dropped what it could not chain");
    let report = audit::verify(&vault.db, None).await.unwrap();
    assert!(report.ok && report.checked == 2, "{report:?}");
}
