//! The operator commands: `migrate`, `tenants create`, `admin-keys create`, `api-keys`
//! (`list`, `create`, `revoke`; in [`api_keys`]), `keys rotate` and `audit verify`. They act
//! as [`Actor::System`] (so the audit trail names the platform, not an API key) through the
//! application role, except `migrate`, which is the owner's job.

mod api_keys;

use std::process::ExitCode;
use std::sync::Arc;

use accounts::audit::{self, Actor};
use accounts::{AccountService, Database, TenantId};
use anyhow::Context;
use carrier::CarrierRegistry;
use secrecy::ExposeSecret;

use crate::cli::print;
use crate::configuration::Settings;
use crate::migration;
use crate::startup::{connect_app, connect_owner};

pub(crate) use self::api_keys::{KeyListing, create_api_key, list_api_keys, revoke_api_key};

/// Operator commands need only a couple of connections.
const COMMAND_CONNECTIONS: u32 = 2;

/// `backhaul migrate`: applies what is pending and lists it.
pub(crate) async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let owner = connect_owner(&settings.database.owner_options()?).await?;
    let applied = migration::apply(&owner).await?;
    let total = migration::status(&owner).await?.applied;
    owner.close().await;
    if applied.is_empty() {
        print(format_args!(
            "The database is up to date ({total} migrations applied); nothing to do."
        ))?;
        return Ok(());
    }
    for migration in &applied {
        print(format_args!("applied {}", migration::describe(migration)))?;
    }
    print(format_args!(
        "Applied {} migration(s); {total} in all.",
        applied.len()
    ))
}

/// `backhaul tenants create --name NAME`.
pub(crate) async fn create_tenant(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let db = app_database(settings).await?;
    let (tenant, key) = accounts::tenant::create_tenant(&db, &Actor::System, name)
        .await
        .context("creating the tenant")?;
    db.pool().close().await;
    print(format_args!("Tenant id:      {}", tenant.id))?;
    print(format_args!("Tenant name:    {}", tenant.name))?;
    print(format_args!(
        "Tenant API key: {}",
        key.secret.expose_secret()
    ))?;
    print("The key is shown once: Backhaul keeps only its hash.")
}

/// `backhaul admin-keys create --name NAME`.
pub(crate) async fn create_admin_key(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let db = app_database(settings).await?;
    let key = accounts::tenant::create_api_key(&db, &Actor::System, None, name, None)
        .await
        .context("creating the admin key")?;
    db.pool().close().await;
    print(format_args!("Admin key id:  {}", key.id))?;
    print(format_args!(
        "Admin API key: {}",
        key.secret.expose_secret()
    ))?;
    print("The key is shown once: Backhaul keeps only its hash. It opens /v1/admin/* only.")
}

/// `backhaul keys rotate`: re-wraps every data key under the first configured master key.
pub(crate) async fn rotate_keys(settings: &Settings) -> anyhow::Result<()> {
    let keyring = Arc::new(settings.vault.keyring()?);
    let primary = keyring.primary().id().to_owned();
    let db = app_database(settings).await?;
    // Rotation touches no carrier: the registry may stay empty.
    let service = AccountService::new(db.clone(), keyring, CarrierRegistry::new());
    let rotation = service
        .rotate_master_keys(&Actor::System)
        .await
        .with_context(|| {
            format!("re-wrapping the stored data keys under master key {primary:?}")
        })?;
    db.pool().close().await;
    print(format_args!("Primary master key: {primary}"))?;
    print(format_args!(
        "Re-wrapped {} shipper account data key(s), {} cached carrier token(s), {} webhook \
         endpoint secret key(s) and {} tracking subscription secret key(s).",
        rotation.accounts,
        rotation.tokens,
        rotation.webhook_endpoints,
        rotation.tracking_subscriptions
    ))?;
    print(
        "Every stored credential is now wrapped under the primary key; older keys can be removed from vault.master_keys.",
    )
}

/// `backhaul audit verify [--tenant ID]`: exit 0 if intact, 1 with the first bad id if not.
pub(crate) async fn verify_audit(
    settings: &Settings,
    tenant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let tenant = tenant
        .map(|raw| TenantId::parse("--tenant", raw))
        .transpose()?;
    let db = app_database(settings).await?;
    let verification = audit::verify(&db, tenant.as_ref())
        .await
        .context("verifying the audit trail")?;
    db.pool().close().await;
    match (verification.first_bad_id, verification.first_overdue_id) {
        (None, None) => {
            print(format_args!(
                "ok, {} events checked{}",
                verification.checked,
                match verification.waiting {
                    0 => String::new(),
                    waiting => format!(" ({} waiting to be chained)", events(waiting)),
                }
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        (Some(id), _) => {
            print(format_args!(
                "FAILED: the audit trail was altered; first bad event id: {id} ({} events checked)",
                verification.checked
            ))?;
            Ok(ExitCode::FAILURE)
        }
        (None, Some(id)) => {
            print(format_args!(
                "FAILED: {} not chained within {} s of being written (is a server running its \
                 audit sequencer?); the oldest is event id {id} ({} events checked, all intact)",
                events(verification.overdue),
                audit::MAX_MERGE_DELAY.as_secs(),
                verification.checked
            ))?;
            Ok(ExitCode::FAILURE)
        }
    }
}

/// "1 event", "2 events".
fn events(count: u64) -> String {
    match count {
        1 => "1 event".to_owned(),
        count => format!("{count} events"),
    }
}

async fn app_database(settings: &Settings) -> anyhow::Result<Database> {
    let owner = settings.database.owner_options()?;
    connect_app(&owner, &settings.database, COMMAND_CONNECTIONS).await
}
