//! Keeping the tokens of accounts connected by OAuth (a carrier's sign-in) alive.
//!
//! - Inline: [`ensure_fresh`] runs right after a label request has selected its account. When
//!   the carrier says the credentials are due (`OAuthOnboarding::refresh_due_at`), the request
//!   takes the account's renewal lease and renews them before the carrier is called. If another
//!   request or instance holds the lease, a label whose current access token still works
//!   (`OAuthOnboarding::usable_until`) goes on with it; one whose token has expired waits for
//!   the lease and uses what the renewal stored — which matters where a refresh token is single
//!   use: it is spent once, and the new one is stored with the lease given back. No
//!   transaction is open during the carrier's call (see `accounts::onboarding`).
//! - In the background: [`spawn_refresh_job`] renews every `active` or `pending_details`
//!   account whose credentials are due, so an idle account's refresh token is renewed before it
//!   expires.
//!
//! When the carrier refuses the renewal (the refresh token expired or was revoked) the account
//! becomes `reauthorization_required` (audited `account.oauth_failed`) and the merchant has to
//! sign in again (`POST /v1/shipper-accounts/{id}/reconnect`); when the carrier cannot be
//! reached nothing changes and a later attempt renews. A renewal a label request makes is
//! audited with that request's key as its actor; the refresh job's with `system`. Logs name
//! accounts, tenants and the carrier's (secret-free) reason, never a token.

use std::time::Duration;

use accounts::audit::Actor;
use accounts::{
    AccountError, AccountStatus, Context, DueAccount, Leased, OpenedAccount, Renewal,
    ShipperAccount, UsableAccount,
};
use axum::http::StatusCode;
use carrier::{Carrier, CarrierError, CarrierMessage, ErrorKind, OAuthOnboarding};
use chrono::Utc;
use futures::StreamExt;

use crate::error::ApiError;
use crate::state::AppState;

/// At most this many due accounts are renewed per run of the refresh job.
pub const REFRESH_BATCH: usize = 100;

/// At most this many renewals of one run are in flight at once.
const REFRESH_CONCURRENCY: usize = 4;

/// What renewing one account came to.
enum Outcome {
    /// Fresh credentials: renewed now, or by another renewal while this one waited.
    Fresh(OpenedAccount),
    /// The carrier refused: the account now waits for its merchant to sign in again.
    ReauthorizationRequired(CarrierError),
    /// The account is not renewed in this status (disabled or waiting for its merchant).
    NotRenewable(ShipperAccount),
    /// The carrier could not be reached; nothing changed.
    Deferred(CarrierError),
}

/// Whether the carrier's answer means the stored authorization is gone for good.
fn is_refusal(error: &CarrierError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Unauthenticated | ErrorKind::Rejected | ErrorKind::Validation
    )
}

/// Renews the credentials of a locked account if they are still due.
async fn renew(hooks: &dyn OAuthOnboarding, renewal: Renewal) -> Result<Outcome, AccountError> {
    if !matches!(
        renewal.account().status,
        AccountStatus::Active | AccountStatus::PendingDetails
    ) {
        return Ok(Outcome::NotRenewable(renewal.release().await?.account));
    }
    if renewal.due_at().is_none_or(|at| at > Utc::now()) {
        return Ok(Outcome::Fresh(renewal.release().await?));
    }
    match hooks.refresh(renewal.credentials()).await {
        Ok(renewed) => Ok(Outcome::Fresh(renewal.save(renewed).await?)),
        Err(error) if is_refusal(&error) => {
            renewal.fail(&error).await?;
            Ok(Outcome::ReauthorizationRequired(error))
        }
        Err(error) => {
            renewal.release().await?;
            Ok(Outcome::Deferred(error))
        }
    }
}

/// The answer to a label request whose account lost its authorization.
fn reauthorization_required(
    carrier: &dyn Carrier,
    account: &ShipperAccount,
    reason: Option<&CarrierError>,
) -> ApiError {
    let reason = reason.map_or_else(String::new, |error| format!(" ({error})"));
    ApiError::CarrierRejected {
        carrier: carrier.id().to_owned(),
        messages: vec![CarrierMessage {
            code: AccountStatus::ReauthorizationRequired.as_str().to_owned(),
            message: format!(
                "{name} no longer accepts the authorization of shipper account {id} ({account}){reason}; \
                 it needs to be re-authorized: sign in with {name} again to reconnect it in place \
                 (POST /v1/shipper-accounts/{id}/reconnect)",
                name = carrier.name(),
                id = account.id,
                account = account.name,
            ),
            field: Some("shipper_account_id".to_owned()),
        }],
    }
}

/// Whether [`ensure_fresh`] has anything to do for `usable`: its carrier signs in with OAuth
/// and the credentials are due for renewal. No I/O, so the label flow can ask it inside its
/// transaction and leave the transaction only when a renewal (a carrier call) is needed.
pub fn renewal_due(state: &AppState, usable: &UsableAccount) -> bool {
    state
        .registry()
        .get(&usable.account.carrier)
        .is_some_and(|carrier| carrier.oauth().is_some())
        && state
            .accounts()
            .oauth_refresh_due_at(&usable.account)
            .is_some_and(|at| at <= Utc::now())
}

/// Renews the selected account's OAuth credentials when they are due, before the carrier is
/// called with them; any other account is returned as it is. `context` is the label request's
/// (its key is the renewal's audit actor). A refusal by the carrier marks the account
/// `reauthorization_required` and answers 422 `carrier_rejected` telling the merchant to
/// reconnect; an unreachable carrier answers 503 with `Retry-After`.
pub async fn ensure_fresh(
    state: &AppState,
    context: Context<'_>,
    usable: UsableAccount,
) -> Result<UsableAccount, ApiError> {
    let Some(carrier) = state.registry().get(&usable.account.carrier) else {
        return Ok(usable);
    };
    let Some(hooks) = carrier.oauth() else {
        return Ok(usable);
    };
    let now = Utc::now();
    let due = state.accounts().oauth_refresh_due_at(&usable.account);
    if due.is_none_or(|at| at > now) {
        return Ok(usable);
    }
    let tenant = context.tenant;
    let id = usable.account.id.as_str();
    let renewal = match state.accounts().try_begin_renewal(context, id).await? {
        Leased::Taken(renewal) => *renewal,
        // Another request is renewing: go on with the current token while it still works.
        Leased::Held
            if hooks
                .usable_until(&usable.credentials)
                .is_some_and(|at| at > now) =>
        {
            return Ok(usable);
        }
        Leased::Held => state.accounts().begin_renewal(context, id).await?,
    };
    match renew(hooks, renewal).await? {
        Outcome::Fresh(opened) => Ok(UsableAccount {
            account: opened.account,
            selected_by: usable.selected_by,
            details: opened.details,
            credentials: opened.credentials,
        }),
        Outcome::ReauthorizationRequired(error) => {
            tracing::warn!(account = %usable.account.id, %tenant, kind = error.kind().as_str(), %error,
                "the carrier refused to renew OAuth credentials; the account needs re-authorization");
            Err(reauthorization_required(
                carrier.as_ref(),
                &usable.account,
                Some(&error),
            ))
        }
        Outcome::NotRenewable(account)
            if account.status == AccountStatus::ReauthorizationRequired =>
        {
            Err(reauthorization_required(carrier.as_ref(), &account, None))
        }
        Outcome::NotRenewable(account) => Err(ApiError::NoEligibleAccount(format!(
            "shipper account {} ({}) is {}",
            account.id,
            account.name,
            account.status.as_str()
        ))),
        Outcome::Deferred(error) => {
            tracing::warn!(account = %usable.account.id, %tenant, kind = error.kind().as_str(), %error,
                "could not renew OAuth credentials; the carrier is unavailable");
            Err(ApiError::CarrierUnavailable {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: format!(
                    "{} could not renew the account's authorization; retry later",
                    carrier.name()
                ),
                retry_after: error
                    .retry_after()
                    .unwrap_or(Duration::from_secs(2))
                    .max(Duration::from_secs(1)),
            })
        }
    }
}

/// What one run of the refresh job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshRun {
    /// Credentials renewed (or found renewed by a concurrent renewal).
    pub renewed: usize,
    /// Accounts the carrier refused to renew, now `reauthorization_required`.
    pub reauthorization_required: usize,
    /// Renewals left for a later run (carrier or database unavailable, account changed).
    pub deferred: usize,
}

/// Renews one due account (the refresh job's step); `None` when another renewal of it is under
/// way.
async fn refresh_one(state: &AppState, due: &DueAccount) -> Result<Option<Outcome>, AccountError> {
    let (_, hooks) = state.accounts().oauth_carrier(&due.carrier)?;
    let context = Context {
        tenant: &due.tenant,
        actor: &Actor::System,
        request_id: None,
    };
    let renewal = match state
        .accounts()
        .try_begin_renewal(context, due.id.as_str())
        .await?
    {
        Leased::Taken(renewal) => *renewal,
        // A label request (or another instance) is renewing it right now.
        Leased::Held => return Ok(None),
    };
    renew(hooks, renewal).await.map(Some)
}

/// Renews every account whose OAuth credentials are due now, at most [`REFRESH_BATCH`] of them
/// (the soonest due first), a few at a time.
pub async fn refresh_due(state: &AppState) -> Result<RefreshRun, AccountError> {
    let due = state
        .accounts()
        .oauth_due(Utc::now(), REFRESH_BATCH)
        .await?;
    // Each renewal owns what it needs, so that the stream is `Send` for `tokio::spawn`.
    let outcomes: Vec<_> = futures::stream::iter(due)
        .map(|due| {
            let state = state.clone();
            async move {
                let outcome = refresh_one(&state, &due).await;
                (due, outcome)
            }
        })
        .buffer_unordered(REFRESH_CONCURRENCY)
        .collect()
        .await;
    let mut run = RefreshRun::default();
    for (due, outcome) in outcomes {
        let (account, tenant) = (&due.id, &due.tenant);
        match outcome {
            Ok(Some(Outcome::Fresh(_))) => {
                run.renewed += 1;
                tracing::info!(%account, %tenant, carrier = %due.carrier, "renewed OAuth credentials");
            }
            Ok(Some(Outcome::ReauthorizationRequired(error))) => {
                run.reauthorization_required += 1;
                tracing::warn!(%account, %tenant, carrier = %due.carrier, kind = error.kind().as_str(), %error,
                    "the carrier refused to renew OAuth credentials; the account needs re-authorization");
            }
            Ok(Some(Outcome::NotRenewable(_)) | None) => run.deferred += 1,
            Ok(Some(Outcome::Deferred(error))) => {
                run.deferred += 1;
                tracing::warn!(%account, %tenant, carrier = %due.carrier, kind = error.kind().as_str(), %error,
                    "could not renew OAuth credentials; will retry");
            }
            Err(error) => {
                run.deferred += 1;
                tracing::warn!(%account, %tenant, %error, "could not renew OAuth credentials; will retry");
            }
        }
    }
    Ok(run)
}

/// Runs [`refresh_due`] every `every` (the first run at once) until the task is aborted.
pub fn spawn_refresh_job(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match refresh_due(&state).await {
                Ok(run) if run == RefreshRun::default() => {}
                Ok(run) => tracing::info!(
                    renewed = run.renewed,
                    reauthorization_required = run.reauthorization_required,
                    deferred = run.deferred,
                    "OAuth refresh run"
                ),
                Err(error) => tracing::warn!(%error, "OAuth refresh run failed; will retry"),
            }
        }
    })
}
