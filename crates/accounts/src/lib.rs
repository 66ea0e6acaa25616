//! The shipper-account vault: merchants' carrier accounts and credentials in Postgres,
//! encrypted at rest ([`vault`]), one selected per label request ([`selection`]), connected by
//! OAuth consent and kept renewed ([`onboarding`]) or by registration with the carrier
//! ([`registration`]), tenants and API keys ([`tenant`]), and every
//! credential and every use of it audited ([`audit`]).
//!
//! Tenant isolation is built twice: every function takes a [`TenantId`], and Postgres
//! row-level security (FORCE'd on every tenant table) scopes each transaction to one tenant
//! while the service connects as a role that owns nothing and cannot bypass it ([`db`]).

pub mod account;
pub mod audit;
pub mod db;
pub mod event;
pub mod id;
pub mod onboarding;
pub mod registration;
pub mod selection;
pub mod statement;
pub mod tenant;
pub mod token_cache;
pub mod vault;
pub mod webhook;

pub use crate::account::{
    AccountChanges, AccountError, AccountService, AccountStatus, Context, NewAccount, Rotation,
    Selector, ShipperAccount, Tags, UsableAccount,
};
pub use crate::audit::{Action, Actor, AuditEvent, Verification};
pub use crate::db::{APP_ROLE, Database, MIGRATOR};
pub use crate::event::{EventType, NewEvent};
pub use crate::id::{
    AccountId, ApiKeyId, DeliveryId, EventId, LabelId, SubscriptionId, TenantId, TrackingEventId,
    WebhookEndpointId,
};
pub use crate::onboarding::{
    DueAccount, Leased, OpenedAccount, RENEWAL_LEASE_SECONDS, Renewal, SignIn, StateError,
};
pub use crate::registration::VerificationStep;
pub use crate::selection::SelectedBy;
pub use crate::tenant::{
    ApiKeyFilter, ApiKeyInfo, ApiKeyKind, NewApiKey, Principal, Tenant, TenantError,
};
pub use crate::token_cache::{PgTokenCache, TokenCacheStats};
pub use crate::vault::{MasterKeyring, VaultError};
