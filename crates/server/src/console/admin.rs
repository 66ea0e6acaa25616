//! The admin pages: every tenant's shipper accounts (secrets masked, credential fingerprints,
//! last use), the audit trail with filters (tenant, account, action, time), a per-account
//! timeline, and verifying the hash chains with the result shown.
//!
//! They read through the admin API's own handlers and services (`list_all`,
//! `GET /v1/admin/audit-events`, `POST /v1/admin/audit-events/verify`), with the admin key the
//! session was opened with.

use accounts::{AccountStatus, AuditEvent, TenantId};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::accounts::CarrierForm;
use super::form::{self, Errors, Input};
use super::page;
use super::session::{Admin, Posted};
use super::{ConsoleError, PageResult};
use crate::error::ApiError;
use crate::extract;
use crate::routes::admin::{self as api, EventQuery, VerifyResponse};
use crate::state::AppState;

const STATUSES: [AccountStatus; 4] = [
    AccountStatus::Active,
    AccountStatus::PendingDetails,
    AccountStatus::ReauthorizationRequired,
    AccountStatus::Disabled,
];

/// `GET /console/admin`.
pub async fn home(_admin: Admin) -> PageResult {
    Ok(Redirect::to("/console/admin/accounts").into_response())
}

/// `?tenant_id=&status=&carrier=` of the accounts page.
#[derive(Debug, Default, Deserialize)]
pub struct AccountFilters {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    carrier: String,
}

fn blank_to_none(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|value| !value.is_empty())
}

/// `GET /console/admin/accounts`.
pub async fn accounts(
    State(state): State<AppState>,
    admin: Admin,
    Query(filters): Query<AccountFilters>,
) -> PageResult {
    let mut errors = Errors::new();
    let tenant = match blank_to_none(&filters.tenant_id) {
        Some(raw) => match TenantId::parse("tenant_id", raw) {
            Ok(tenant) => Some(tenant),
            Err(invalid) => {
                errors.extend(Errors::from_validation(&invalid, ""));
                None
            }
        },
        None => None,
    };
    let status = STATUSES
        .into_iter()
        .find(|status| status.as_str() == filters.status);
    let found = if errors.is_empty() {
        state
            .accounts()
            .list_all(
                tenant.as_ref(),
                blank_to_none(&filters.carrier),
                status,
                500,
            )
            .await?
    } else {
        Vec::new()
    };
    let mut status_options = vec![(String::new(), "Any status".to_owned())];
    status_options.extend(
        STATUSES
            .iter()
            .map(|status| (status.as_str().to_owned(), status.as_str().to_owned())),
    );
    let mut carrier_options = vec![(String::new(), "Any carrier".to_owned())];
    carrier_options.extend(
        state
            .registry()
            .iter()
            .map(|carrier| (carrier.id().to_owned(), carrier.name().to_owned())),
    );
    let body = html! {
        h1 { "All shipper accounts" }
        p { "Every tenant's carrier accounts. Secrets are never shown: secret details are \
             masked, credentials appear as their fingerprint." }
        form.filters method="get" action="/console/admin/accounts" aria-label="Filter accounts" {
            (Input::text("tenant_id", "Tenant id", filters.tenant_id.trim()).hint("ten_…").render(&errors))
            (form::select("status", "Status", &filters.status, &status_options, &errors))
            (form::select("carrier", "Carrier", &filters.carrier, &carrier_options, &errors))
            button type="submit" { "Filter" }
        }
        p.muted { (found.len()) " account" @if found.len() != 1 { "s" } }
        @if !found.is_empty() {
            div.table-scroll {
                table.stacked #accounts {
                    caption.visually-hidden { "Shipper accounts of every tenant" }
                    thead { tr {
                        th scope="col" { "Account" } th scope="col" { "Tenant" } th scope="col" { "Carrier" }
                        th scope="col" { "Status" } th scope="col" { "Summary" }
                        th scope="col" { "Credentials" } th scope="col" { "Last used" }
                    } }
                    tbody {
                        @for account in &found {
                            tr {
                                td data-label="Account" {
                                    a href={ "/console/admin/accounts/" (account.id) } { (account.name) }
                                    br; span.mono.muted { (account.id) }
                                }
                                td.mono data-label="Tenant" { a href={ "/console/admin/accounts?tenant_id=" (account.tenant_id) } { (account.tenant_id) } }
                                @let carrier = CarrierForm::of(&state, &account.carrier);
                                td data-label="Carrier" { (carrier.name) }
                                td data-label="Status" { (page::status(account.status)) }
                                td data-label="Summary" { (page::or_dash(&carrier.summary(account))) }
                                td data-label="Credentials" { (account.credentials.mode) br; span.mono { (account.credentials.fingerprint) } }
                                td data-label="Last used" { (page::time_or_never(account.last_used_at.as_ref())) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        "All shipper accounts",
        admin.nav(),
        body,
    ))
}

/// An event's summary as `key: value` lines, nested objects as nested lists.
fn summary(value: &Value) -> Markup {
    html! {
        @match value {
            Value::Object(map) if map.is_empty() => {}
            Value::Object(map) => {
                ul.summary {
                    @for (key, value) in map {
                        li { span.muted { (key) ": " } (summary(value)) }
                    }
                }
            }
            Value::Array(items) if items.iter().all(Value::is_string) => {
                span.mono { (items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }
            }
            Value::String(text) => { span.mono { (text) } }
            other => { span.mono { (other.to_string()) } }
        }
    }
}

/// An event's target, linked to the account timeline when it is an account.
fn target(event: &AuditEvent) -> Markup {
    html! {
        @match event.target.as_deref() {
            Some(target) if target.starts_with("sa_") => {
                a.mono href={ "/console/admin/accounts/" (target) } { (target) }
            }
            Some(target) => { span.mono { (target) } }
            None => { span.muted { "—" } }
        }
    }
}

/// Events, newest first; `of_one_account` leaves out the columns that would repeat.
fn events_table(events: &[AuditEvent], caption: &str, of_one_account: bool) -> Markup {
    html! {
        div.table-scroll {
            table.stacked #events {
                caption.visually-hidden { (caption) }
                thead { tr {
                    th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Action" }
                    @if !of_one_account { th scope="col" { "Target" } th scope="col" { "Tenant" } }
                    th scope="col" { "Actor" } th scope="col" { "Details" } th scope="col" { "Request" }
                } }
                tbody {
                    @for event in events {
                        tr {
                            td.num data-label="Event" { (event.id) }
                            td data-label="When" { (page::time(&event.at)) }
                            td.mono.nowrap data-label="Action" { (event.action) }
                            @if !of_one_account {
                                td data-label="Target" { (target(event)) }
                                td.mono data-label="Tenant" { (event.tenant_id.as_deref().unwrap_or("platform")) }
                            }
                            td.mono data-label="Actor" { (event.actor) }
                            td data-label="Details" { (summary(&event.summary)) }
                            td.mono data-label="Request" { (event.request_id.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/admin/accounts/{id}`: one account and its timeline (every audit event about
/// it, newest first).
pub async fn timeline(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> PageResult {
    accounts::AccountId::parse("id", &id).map_err(|_| ConsoleError::NotFound)?;
    let axum::Json(events) = api::events(
        State(state.clone()),
        admin.caller.clone(),
        extract::Query(EventQuery {
            tenant_id: None,
            account_id: Some(id.clone()),
            action: None,
            since: None,
            cursor: None,
            limit: Some(1000),
        }),
    )
    .await?;
    // Every account has audit events from its creation on; they name its tenant.
    let tenant = events
        .data
        .iter()
        .find_map(|event| event.tenant_id.as_deref())
        .ok_or(ConsoleError::NotFound)?;
    let tenant = TenantId::parse("tenant_id", tenant).map_err(|_| ConsoleError::NotFound)?;
    let account = state.accounts().get(&tenant, &id).await?;
    let carrier = CarrierForm::of(&state, &account.carrier);
    let body = html! {
        p { a href="/console/admin/accounts" { "← All shipper accounts" } }
        h1 { (account.name) }
        dl.facts {
            dt { "Account id" } dd.mono { (account.id) }
            dt { "Tenant" } dd.mono { (account.tenant_id) }
            dt { "Carrier" } dd { (carrier.name) }
            dt { "Status" } dd { (page::status(account.status)) }
            dt { "Summary" } dd { (page::or_dash(&carrier.summary(&account))) }
            dt { "Credentials" } dd { (carrier.mode_title(&state, &account.carrier, &account.credentials.mode)) }
            dt { "Fingerprint" } dd.mono { (account.credentials.fingerprint) }
            dt { "Credentials updated" } dd { (page::time(&account.credentials.updated_at)) }
            dt { "Last used" } dd { (page::time_or_never(account.last_used_at.as_ref())) }
        }
        div.actions {
            a.button href={ "/console/admin/audit?account_id=" (account.id) } { "Filter the audit trail by this account" }
        }
        h2 { "Timeline" }
        p.muted { (events.data.len()) " event" @if events.data.len() != 1 { "s" } ", newest first" }
        (events_table(&events.data, "Audit events of this account, newest first", true))
        @if let Some(cursor) = events.next_cursor {
            p { a href={ "/console/admin/audit?account_id=" (account.id) "&cursor=" (cursor) } { "Older events of this account" } }
        }
    };
    Ok(page::render(
        StatusCode::OK,
        &account.name,
        admin.nav(),
        body,
    ))
}

/// `?tenant_id=&account_id=&action=&since=&cursor=` of the audit page.
#[derive(Debug, Default, Deserialize)]
pub struct AuditFilters {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DDTHH:MM` (a `datetime-local` input), in UTC.
    #[serde(default)]
    since: String,
    cursor: Option<i64>,
}

impl AuditFilters {
    /// The query string of these filters (for the next page's link).
    fn query(&self, cursor: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("tenant_id", &self.tenant_id),
            ("account_id", &self.account_id),
            ("action", &self.action),
            ("since", &self.since),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(key, value.trim());
            }
        }
        query.append_pair("cursor", &cursor.to_string());
        query.finish()
    }
}

/// A `datetime-local` value (or RFC 3339) as a UTC time.
fn parse_since(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
                .map(|at| at.and_utc())
        })
}

async fn audit_page(
    state: &AppState,
    admin: &Admin,
    filters: &AuditFilters,
    verification: Option<(&VerifyResponse, Option<&str>)>,
) -> PageResult {
    let mut errors = Errors::new();
    let since = match blank_to_none(&filters.since) {
        Some(raw) => {
            let parsed = parse_since(raw);
            if parsed.is_none() {
                errors.push("since", "must be a date and time, e.g. 2025-01-31T09:00");
            }
            parsed
        }
        None => None,
    };
    let events = if errors.is_empty() {
        let result = api::events(
            State(state.clone()),
            admin.caller.clone(),
            extract::Query(EventQuery {
                tenant_id: blank_to_none(&filters.tenant_id).map(str::to_owned),
                account_id: blank_to_none(&filters.account_id).map(str::to_owned),
                action: blank_to_none(&filters.action).map(str::to_owned),
                since,
                cursor: filters.cursor,
                limit: Some(100),
            }),
        )
        .await;
        match result {
            Ok(axum::Json(page)) => Some(page),
            Err(ApiError::Validation(invalid)) => {
                errors.extend(Errors::from_validation(&invalid, ""));
                None
            }
            Err(other) => return Err(other.into()),
        }
    } else {
        None
    };
    let mut action_options = vec![(String::new(), "Any action".to_owned())];
    action_options.extend(
        accounts::Action::ALL
            .iter()
            .map(|action| (action.as_str().to_owned(), action.as_str().to_owned())),
    );
    let verify_tenant = blank_to_none(&filters.tenant_id).unwrap_or_default();
    let body = html! {
        h1 { "Audit trail" }
        @if let Some((result, tenant)) = verification {
            @let scope = tenant.map_or_else(|| "every chain".to_owned(), |tenant| format!("the chain of {tenant}"));
            @if result.ok {
                div.alert.ok.verify-result role="status" #verify-result {
                    h2 { "Chain intact" }
                    p { "Verified " (scope) ": " (result.checked) " events checked, none edited or removed."
                        @if result.waiting > 0 {
                            " " (result.waiting) " newer events are waiting to be chained (within a minute)."
                        } }
                }
            } @else if let Some(bad) = result.first_bad_id {
                div.alert.error.verify-result role="alert" #verify-result {
                    h2 { "Chain broken" }
                    p { "Verified " (scope) ": " (result.checked) " events checked. The first event that does not match its hash is "
                        strong { "#" (bad) } "." }
                }
            } @else {
                div.alert.error.verify-result role="alert" #verify-result {
                    h2 { "Events not chained" }
                    p { "Verified " (scope) ": " (result.checked) " events checked, none edited or removed, but "
                        (result.overdue) " events have waited over a minute to be chained, from "
                        strong { "#" (result.first_overdue_id.map_or_else(String::new, |id| id.to_string())) }
                        ". Until they are chained, nothing would show if they were changed: check that a server is running and its log for the audit sequencer." }
                }
            }
        }
        section aria-labelledby="verify-title" {
            h2 #verify-title { "Verify the hash chain" }
            p { "Recomputes every event's hash and link: an event edited or removed after it was \
                 written breaks the chain there." }
            form.filters method="post" action="/console/admin/audit/verify" {
                (form::csrf(&admin.csrf))
                (Input::text("tenant_id", "Tenant id", verify_tenant)
                    .hint("Empty: every tenant's chain and the platform's.").render(&Errors::new()))
                button.primary type="submit" { "Verify chain" }
            }
        }
        section aria-labelledby="events-title" {
            h2 #events-title { "Events" }
            (errors.summary(&[("tenant_id", "Tenant id"), ("account_id", "Account id"), ("action", "Action"), ("since", "Since (UTC)")]))
            form.filters method="get" action="/console/admin/audit" aria-label="Filter events" {
                (Input::text("tenant_id", "Tenant id", filters.tenant_id.trim()).render(&errors))
                (Input::text("account_id", "Account id", filters.account_id.trim()).render(&errors))
                (form::select("action", "Action", &filters.action, &action_options, &errors))
                (Input::text("since", "Since (UTC)", filters.since.trim()).kind("datetime-local").render(&errors))
                button type="submit" { "Filter" }
            }
            @if let Some(events) = &events {
                @if events.data.is_empty() {
                    p { "No event matches." }
                } @else {
                    (events_table(&events.data, "Audit events, newest first", false))
                    @if let Some(cursor) = events.next_cursor {
                        p { a href={ "/console/admin/audit?" (filters.query(cursor)) } { "Older events" } }
                    }
                }
            }
        }
    };
    Ok(page::render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        "Audit trail",
        admin.nav(),
        body,
    ))
}

/// `GET /console/admin/audit`.
pub async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    Query(filters): Query<AuditFilters>,
) -> PageResult {
    audit_page(&state, &admin, &filters, None).await
}

/// `POST /console/admin/audit/verify`: verifies the chains (one tenant's, or all) and shows the
/// result above the trail.
pub async fn verify(
    State(state): State<AppState>,
    Posted {
        session: admin,
        fields,
    }: Posted<Admin>,
) -> PageResult {
    let tenant = fields.get("tenant_id").map(str::to_owned);
    let request = match &tenant {
        Some(tenant) => json!({"tenant_id": tenant}),
        None => json!({}),
    };
    let bytes = Bytes::from(request.to_string());
    let filters = AuditFilters {
        tenant_id: tenant.clone().unwrap_or_default(),
        ..AuditFilters::default()
    };
    let result = match api::verify(
        State(state.clone()),
        admin.caller.clone(),
        extract::OptionalJsonBody(Some(bytes)),
    )
    .await
    {
        Ok(axum::Json(result)) => result,
        // An invalid tenant id: the page shows the error beside the filter.
        Err(ApiError::Validation(_)) => return audit_page(&state, &admin, &filters, None).await,
        Err(other) => return Err(other.into()),
    };
    tracing::info!(
        ok = result.ok,
        checked = result.checked,
        "audit chain verified from the console"
    );
    audit_page(&state, &admin, &filters, Some((&result, tenant.as_deref()))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_datetime_local_as_utc() {
        let at = parse_since("2025-01-31T09:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2025-01-31T09:00:00+00:00");
        assert!(parse_since("2025-01-31T09:00:00Z").is_some());
        assert!(parse_since("yesterday").is_none());
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let filters = AuditFilters {
            action: "label.created".into(),
            ..AuditFilters::default()
        };
        assert_eq!(filters.query(41), "action=label.created&cursor=41");
    }
}
