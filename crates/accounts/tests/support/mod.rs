//! Shared setup for the vault's tests: the service as the application role on a fresh
//! database, with the real USPS, UPS and FedEx plugins for validation (no carrier is called).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use accounts::audit::Actor;
use accounts::{
    AccountService, Context, Database, MasterKeyring, NewAccount, ShipperAccount, TenantId,
};
use base64::Engine as _;
use carrier::{CarrierRegistry, CredentialsInput};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;

/// A value that must never be found in plaintext anywhere it is stored or logged.
pub const SENTINEL: &str = "SENTINEL-c0ffee-9d41-never-in-plaintext";
/// An EPS account number that is just as secret.
pub const SENTINEL_EPS: &str = "7700446688";

pub fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

pub fn keyring(spec: &str) -> Arc<MasterKeyring> {
    Arc::new(MasterKeyring::parse(&SecretString::from(spec.to_owned())).unwrap())
}

pub fn registry() -> CarrierRegistry {
    let usps = carrier_usps::UspsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let ups = carrier_ups::UpsBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let fedex = carrier_fedex::FedexBuilder::new()
        .with_base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    CarrierRegistry::new()
        .register(Arc::new(usps))
        .register(Arc::new(ups))
        .register(Arc::new(fedex))
}

pub async fn app(owner: &PgPool) -> Database {
    Database::connect_as_app(&owner.connect_options(), None, 16)
        .await
        .unwrap()
}

/// Runs the audit sequencer once, as a server's would within a moment: every event written so
/// far is chained. Returns how many.
pub async fn chain_audit(db: &Database) -> u64 {
    match accounts::audit::chain_pending(db).await.unwrap() {
        accounts::audit::Pass::Chained(count) => count,
        accounts::audit::Pass::NotLeader => panic!("another sequencer holds the lock"),
    }
}

pub struct Vault {
    pub db: Database,
    pub service: AccountService,
    pub actor: Actor,
}

pub async fn vault(owner: &PgPool) -> Vault {
    vault_with_keys(owner, &format!("k1:{}", key(1))).await
}

pub async fn vault_with_keys(owner: &PgPool, keys: &str) -> Vault {
    let db = app(owner).await;
    let service = AccountService::new(db.clone(), keyring(keys), registry());
    Vault {
        db,
        service,
        actor: Actor::System,
    }
}

impl Vault {
    pub async fn tenant(&self, name: &str) -> TenantId {
        let (tenant, _key) = accounts::tenant::create_tenant(&self.db, &self.actor, name)
            .await
            .unwrap();
        tenant.id
    }

    pub fn context<'a>(&'a self, tenant: &'a TenantId) -> Context<'a> {
        Context {
            tenant,
            actor: &self.actor,
            request_id: Some("req_test"),
        }
    }

    /// [`chain_audit`] on the vault's database.
    pub async fn chain_audit(&self) -> u64 {
        chain_audit(&self.db).await
    }

    pub async fn create(&self, tenant: &TenantId, account: NewAccount) -> ShipperAccount {
        self.service
            .create(self.context(tenant), account)
            .await
            .unwrap()
    }
}

pub fn return_address() -> Value {
    json!({"firm": "Acme Returns", "street1": "4120 Bingham Ave", "city": "St. Louis",
           "state": "MO", "zip5": "63116"})
}

pub fn eps_details() -> Value {
    json!({
        "api": "v3", "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
        "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": SENTINEL_EPS,
        "return_address": return_address(),
    })
}

pub fn own_app() -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", "acme-app")
        .with("client_secret", SENTINEL)
}

/// A UPS own-app account whose client secret is [`SENTINEL`].
pub fn ups_account(name: &str) -> NewAccount {
    NewAccount {
        carrier: "ups".into(),
        name: name.into(),
        details: json!({
            "account_number": "A1B2C3",
            "return_address": {"firm": "Acme Returns", "street1": "55 Glenlake Pkwy NE",
                               "city": "Atlanta", "state": "GA", "postal_code": "30328",
                               "country": "US"},
        }),
        credentials: CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", "acme-ups-app")
            .with("client_secret", SENTINEL),
        is_default: None,
        priority: 0,
        tags: Default::default(),
    }
}

/// A FedEx own-app account whose client secret (the secret key) is [`SENTINEL`].
pub fn fedex_account(name: &str) -> NewAccount {
    NewAccount {
        carrier: "fedex".into(),
        name: name.into(),
        details: json!({
            "account_number": "740561073",
            "customer_name": "Acme Returns",
            "billing_address": {"firm": "Acme Returns", "street1": "4120 Bingham Ave",
                                "city": "St. Louis", "state": "MO", "postal_code": "63116",
                                "country": "US", "phone": "3145550100"},
        }),
        credentials: CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", "acme-fedex-app")
            .with("client_secret", SENTINEL),
        is_default: None,
        priority: 0,
        tags: Default::default(),
    }
}

pub fn usps_account(name: &str) -> NewAccount {
    NewAccount {
        carrier: "usps".into(),
        name: name.into(),
        details: eps_details(),
        credentials: own_app(),
        is_default: None,
        priority: 0,
        tags: Default::default(),
    }
}
