//! Envelope encryption as stored in Postgres: sealed credentials open only in their own row,
//! tenant and key; rotation is online; nothing secret reaches the database in plaintext.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use accounts::{AccountError, VaultError};
use base64::Engine as _;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use support::{SENTINEL, SENTINEL_EPS, key, usps_account, vault, vault_with_keys};

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn stored_credentials_open_to_what_was_sealed(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let (_, _, credentials) = vault
        .service
        .open_for_use(vault.context(&tenant), account.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        credentials.secret("client_secret").unwrap().expose_secret(),
        SENTINEL
    );
    assert_eq!(
        credentials
            .secret("eps_account_number")
            .unwrap()
            .expose_secret(),
        SENTINEL_EPS
    );
}

async fn copy_sealed(owner: &PgPool, from: &str, to: &str) {
    sqlx::query(
        "UPDATE shipper_accounts SET credentials_sealed = source.credentials_sealed,
             data_key_wrapped = source.data_key_wrapped
         FROM shipper_accounts AS source WHERE source.id = $1 AND shipper_accounts.id = $2",
    )
    .bind(from)
    .bind(to)
    .execute(owner)
    .await
    .unwrap();
}

fn is_refused(result: Result<impl Sized, AccountError>) -> bool {
    matches!(result, Err(AccountError::Vault(VaultError::Refused)))
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ciphertext_copied_into_another_row_is_refused(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let east = vault.create(&tenant, usps_account("East")).await;
    let west = vault.create(&tenant, usps_account("West")).await;
    copy_sealed(&owner, east.id.as_str(), west.id.as_str()).await;
    assert!(is_refused(
        vault
            .service
            .open_for_use(vault.context(&tenant), west.id.as_str())
            .await
    ));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_ciphertext_copied_into_another_tenants_row_is_refused(owner: PgPool) {
    let vault = vault(&owner).await;
    let acme = vault.tenant("Acme").await;
    let globex = vault.tenant("Globex").await;
    let theirs = vault.create(&acme, usps_account("Acme East")).await;
    let ours = vault.create(&globex, usps_account("Globex East")).await;
    copy_sealed(&owner, theirs.id.as_str(), ours.id.as_str()).await;
    assert!(is_refused(
        vault
            .service
            .open_for_use(vault.context(&globex), ours.id.as_str())
            .await
    ));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_flipped_bit_in_storage_is_refused(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    sqlx::query(
        "UPDATE shipper_accounts SET credentials_sealed =
             set_byte(credentials_sealed, 20, get_byte(credentials_sealed, 20) # 1) WHERE id = $1",
    )
    .bind(account.id.as_str())
    .execute(&owner)
    .await
    .unwrap();
    assert!(is_refused(
        vault
            .service
            .open_for_use(vault.context(&tenant), account.id.as_str())
            .await
    ));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_wrong_master_key_cannot_open_credentials(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    let account = vault.create(&tenant, usps_account("East")).await;
    let impostor = vault_with_keys(&owner, &format!("k1:{}", key(9))).await;
    assert!(is_refused(
        impostor
            .service
            .open_for_use(impostor.context(&tenant), account.id.as_str())
            .await
    ));
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn rotation_while_eight_tasks_read_loses_nothing(owner: PgPool) {
    let before = vault(&owner).await;
    let tenant = before.tenant("Acme").await;
    let mut ids = Vec::new();
    for index in 0..24 {
        ids.push(
            before
                .create(&tenant, usps_account(&format!("Account {index}")))
                .await
                .id,
        );
    }
    let during = Arc::new(vault_with_keys(&owner, &format!("k2:{},k1:{}", key(2), key(1))).await);
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for reader in 0..8 {
        let (vault, stop, failures, reads, tenant, ids) = (
            during.clone(),
            stop.clone(),
            failures.clone(),
            reads.clone(),
            tenant.clone(),
            ids.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut index = reader;
            while !stop.load(Ordering::SeqCst) {
                let id = &ids[index % ids.len()];
                match vault
                    .service
                    .open_for_use(vault.context(&tenant), id.as_str())
                    .await
                {
                    Ok((_, _, credentials))
                        if credentials.secret("client_secret").unwrap().expose_secret()
                            == SENTINEL => {}
                    _ => {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
                reads.fetch_add(1, Ordering::SeqCst);
                index += 1;
            }
        }));
    }
    let rotation = during
        .service
        .rotate_master_keys(&during.actor)
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        reader.await.unwrap();
    }
    assert_eq!(rotation.accounts, 24);
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "{} reads",
        reads.load(Ordering::SeqCst)
    );
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM shipper_accounts WHERE master_key_id <> 'k2'")
            .fetch_one(&owner)
            .await
            .unwrap();
    assert_eq!(left, 0);
    // The old key can now be retired: the new one alone opens everything.
    let after = vault_with_keys(&owner, &format!("k2:{}", key(2))).await;
    for id in &ids {
        after
            .service
            .open_for_use(after.context(&tenant), id.as_str())
            .await
            .unwrap();
    }
}

fn pg_tool(name: &str) -> std::path::PathBuf {
    let mut candidates: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin").join(name))
        .filter(|path| path.exists())
        .collect();
    candidates.sort();
    candidates.pop().unwrap_or_else(|| name.into())
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_database_dump_holds_no_secret_in_any_encoding(owner: PgPool) {
    let vault = vault(&owner).await;
    let tenant = vault.tenant("Acme").await;
    for name in ["East", "West"] {
        let account = vault.create(&tenant, usps_account(name)).await;
        vault
            .service
            .open_for_use(vault.context(&tenant), account.id.as_str())
            .await
            .unwrap();
    }
    let options = owner.connect_options();
    let dump = tokio::process::Command::new(pg_tool("pg_dump"))
        .arg("--host")
        .arg(options.get_host())
        .arg("--port")
        .arg(options.get_port().to_string())
        .arg("--username")
        .arg(options.get_username())
        .arg("--dbname")
        .arg(options.get_database().unwrap())
        .output()
        .await
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("shipper_accounts"),
        "the dump holds the accounts table"
    );
    let engine = base64::engine::general_purpose::STANDARD;
    for secret in [SENTINEL, SENTINEL_EPS] {
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        for needle in [
            secret.to_owned(),
            engine.encode(secret),
            hex.clone(),
            hex.to_uppercase(),
        ] {
            assert_eq!(
                text.matches(&needle).count(),
                0,
                "{needle} found in the dump"
            );
        }
    }
}
