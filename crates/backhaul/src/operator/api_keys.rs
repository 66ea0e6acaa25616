//! `backhaul api-keys list | create | revoke`: the key lifecycle from the command line, over
//! `accounts::tenant`. A new key's secret is printed once, on create; a listing shows ids,
//! owners, names and times, never a secret or a hash. Creating and revoking are audited as
//! the system.

use std::fmt::Write as _;

use accounts::audit::Actor;
use accounts::tenant::{ApiKeyFilter, ApiKeyInfo, ApiKeyKind, MAX_KEYS_PER_PAGE, TenantError};
use accounts::{ApiKeyId, TenantId};
use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use super::app_database;
use crate::cli::{KeyOwner, print};
use crate::configuration::Settings;

/// What `api-keys list` shows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyListing<'a> {
    /// `--tenant`: only this tenant's keys (an id still to be checked).
    pub(crate) tenant: Option<&'a str>,
    /// `--admin`: only admin keys.
    pub(crate) admin: bool,
    /// `--include-revoked`.
    pub(crate) include_revoked: bool,
    /// `--json`: one JSON array instead of the table.
    pub(crate) json: bool,
}

/// `backhaul api-keys list [--tenant ID | --admin] [--include-revoked] [--json]`.
pub(crate) async fn list_api_keys(
    settings: &Settings,
    listing: &KeyListing<'_>,
) -> anyhow::Result<()> {
    let tenant = listing
        .tenant
        .map(|raw| TenantId::parse("--tenant", raw))
        .transpose()?;
    let db = app_database(settings).await?;
    let mut keys: Vec<ApiKeyInfo> = Vec::new();
    // Every page: an operator's listing is the whole of it.
    loop {
        let after = keys.last().map(|key| key.id.clone());
        let page = accounts::tenant::list_api_keys(
            &db,
            &ApiKeyFilter {
                tenant: tenant.as_ref(),
                kind: listing.admin.then_some(ApiKeyKind::Admin),
                include_revoked: listing.include_revoked,
                after: after.as_ref(),
                limit: MAX_KEYS_PER_PAGE,
            },
        )
        .await
        .context("listing the API keys")?;
        let last_page = i64::try_from(page.len()).map_or(true, |n| n < MAX_KEYS_PER_PAGE);
        keys.extend(page);
        if last_page {
            break;
        }
    }
    db.pool().close().await;
    if listing.json {
        return print(serde_json::to_string_pretty(&keys)?);
    }
    if keys.is_empty() {
        return print("No API keys match.");
    }
    print(table(&keys).trim_end())
}

/// `backhaul api-keys create (--tenant ID | --admin) --name NAME`.
pub(crate) async fn create_api_key(
    settings: &Settings,
    owner: &KeyOwner,
    name: &str,
) -> anyhow::Result<()> {
    let tenant = owner
        .tenant
        .as_deref()
        .map(|raw| TenantId::parse("--tenant", raw))
        .transpose()?;
    let db = app_database(settings).await?;
    let created =
        accounts::tenant::create_api_key(&db, &Actor::System, tenant.as_ref(), name, None).await;
    db.pool().close().await;
    let key = match (created, &tenant) {
        (Ok(key), _) => key,
        (Err(TenantError::NotFound), Some(tenant)) => {
            return Err(anyhow!(
                "--tenant {tenant}: no such tenant (`backhaul tenants create` makes one)"
            ));
        }
        (Err(error), _) => return Err(error).context("creating the API key"),
    };
    print(format_args!("API key id: {}", key.id))?;
    match &tenant {
        Some(tenant) => print(format_args!("Tenant:     {tenant}"))?,
        None => print("Kind:       admin (it opens /v1/admin/* only)")?,
    }
    print(format_args!("API key:    {}", key.secret.expose_secret()))?;
    print("The key is shown once: Backhaul keeps only its hash.")
}

/// `backhaul api-keys revoke KEY_ID`: exit 0 and a line; an unknown or already revoked key is
/// an error (exit 1) that says which.
pub(crate) async fn revoke_api_key(settings: &Settings, key_id: &str) -> anyhow::Result<()> {
    let id = ApiKeyId::parse("KEY_ID", key_id)?;
    let db = app_database(settings).await?;
    let revoked = accounts::tenant::revoke_api_key(&db, &Actor::System, None, &id, None).await;
    db.pool().close().await;
    let key = match revoked {
        Ok(key) => key,
        Err(TenantError::NotFound) => {
            return Err(anyhow!(
                "no API key {id}: nothing was revoked (`backhaul api-keys list \
                 --include-revoked` lists every key)"
            ));
        }
        Err(TenantError::AlreadyRevoked(at)) => {
            return Err(anyhow!(
                "API key {id} was already revoked at {}; nothing changed",
                time(at)
            ));
        }
        Err(error) => return Err(error).with_context(|| format!("revoking API key {id}")),
    };
    let owner = match &key.tenant_id {
        Some(tenant) => format!("tenant {tenant}"),
        None => "admin".to_owned(),
    };
    print(format_args!(
        "Revoked {id} ({owner}, {:?}): it no longer authenticates, and console sessions opened \
         with it have ended.",
        key.name
    ))
}

/// A time as the table shows it: UTC to the second.
fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The keys as a table with aligned columns, one key a line.
fn table(keys: &[ApiKeyInfo]) -> String {
    let or_dash = |at: Option<DateTime<Utc>>| at.map_or_else(|| "-".to_owned(), time);
    let header = [
        "ID",
        "KIND",
        "TENANT",
        "NAME",
        "CREATED",
        "LAST USED",
        "REVOKED",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = keys
        .iter()
        .map(|key| {
            [
                key.id.to_string(),
                key.kind.to_string(),
                key.tenant_id
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
                key.name.clone(),
                time(key.created_at),
                or_dash(key.last_used_at),
                or_dash(key.revoked_at),
            ]
        })
        .collect();
    let mut widths = [0; 7];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            // Infallible: writing to a String.
            let _ = write!(line, "{cell:<width$}  ");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, tenant: Option<TenantId>, revoked: bool) -> ApiKeyInfo {
        let at = DateTime::parse_from_rfc3339("2026-12-01T21:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        ApiKeyInfo {
            id: ApiKeyId::generate(),
            kind: if tenant.is_some() {
                ApiKeyKind::Tenant
            } else {
                ApiKeyKind::Admin
            },
            tenant_id: tenant,
            name: name.to_owned(),
            created_at: at,
            revoked_at: revoked.then_some(at),
            last_used_at: None,
        }
    }

    #[test]
    fn the_table_aligns_every_column_under_its_header() {
        let keys = [
            key("a much longer name", Some(TenantId::generate()), false),
            key("ops", None, true),
        ];
        let text = table(&keys);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let column = |line: &str, label: &str| line.find(label).unwrap();
        let name_at = column(lines[0], "NAME");
        assert_eq!(column(lines[1], "a much longer name"), name_at, "{text}");
        assert_eq!(column(lines[2], "ops"), name_at, "{text}");
        let revoked_at = column(lines[0], "REVOKED");
        assert_eq!(
            lines[2].rfind("2026-12-01 21:30:05Z"),
            Some(revoked_at),
            "{text}"
        );
        assert!(
            lines[1].ends_with('-'),
            "a live key shows no revocation: {text}"
        );
        assert!(lines[2].contains(" admin "), "{text}");
    }
}
