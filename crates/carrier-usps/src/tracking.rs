//! Tracking of v3 accounts' labels: pulled from the Package Tracking API 3.2.6 (tracking.yaml)
//! and pushed by Subscriptions – Tracking 3.2.0 (subscriptions-tracking.yaml), one
//! subscription per account on the MID its return labels carry (the Returns MID, else the
//! MID — the label owner MID of [`crate::v3::payment`]), so every label it buys is covered.
//!
//! Every call carries the account's OAuth access token, the same one the label path uses
//! (the scopes `tracking` and `subscriptions-tracking` that the specs' security sections name
//! must be granted to the app); a 401 on an `own_app` token renews it once. Calls are read-only
//! or create no charge, so the shared client retries them ([`carrier_http::RetryPolicy::Idempotent`])
//! and failures are classified like the token calls: 401 `Unauthenticated`, 429
//! `RateLimited` with `Retry-After`, 5xx and timeouts `Unavailable`, an unreadable reply
//! `Protocol`. A tracking number USPS answers 404 for comes back without events.
//!
//! The Web Tools API has no tracking call in the reference (the `USPSReturnsLabel` guides
//! describe labels only), so Web Tools accounts are not tracked.

use async_trait::async_trait;
use carrier::tracking::push::AccountSubscription;
use carrier::tracking::{
    NotificationError, PushScope, PushedEvent, SubscriptionRequest, SubscriptionSecret,
    SubscriptionState,
};
use carrier::{AccountContext, CarrierError, TrackedLabel, TrackingNumber, TrackingPush};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use crate::account::{Account, UspsAccount};
use crate::client::Reply;
use crate::credential::Authenticator;
use crate::error::{CARRIER, Operation, scrub};
use crate::v3;

/// Numbers per [`carrier::Carrier::track`] call. USPS answers one number per request, so a
/// batch is this many calls against the hourly quota; ten keeps one poll short.
pub(crate) const BATCH_SIZE: usize = 10;

/// USPS's default quota for its APIs: about 60 calls an hour per app (reference README).
pub(crate) const CALLS_PER_HOUR: u32 = 60;

/// Sends what `build` makes with the account's bearer token. A 401 on an `own_app` token
/// drops that token and tries once more with a fresh one; any other reply is returned.
async fn send_authorized(
    auth: &Authenticator,
    account: &UspsAccount,
    operation: Operation,
    build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Result<Reply, CarrierError> {
    let mut retried = false;
    loop {
        let access = auth.access_token(account).await?;
        let token = access.token.clone();
        let reply = auth
            .http()
            .send(operation, |client| {
                build(client).bearer_auth(token.expose_secret())
            })
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            let renewable = auth.reject_access_token(&access).await;
            if renewable && !retried {
                tracing::info!(account = %account.id, %operation, "USPS refused the access token; retrying once with a fresh one");
                retried = true;
                continue;
            }
        }
        return Ok(reply);
    }
}

/// The v3 account of a call, or `NotSupported` for a Web Tools account.
fn v3_account(
    context: &AccountContext<'_>,
    operation: &'static str,
) -> Result<UspsAccount, CarrierError> {
    match Account::from_context(context)? {
        Account::V3(account) => Ok(*account),
        Account::WebTools(_) => Err(CarrierError::NotSupported {
            carrier: CARRIER,
            operation,
        }),
    }
}

/// Pulls every number's tracking, one request each.
pub(crate) async fn track(
    auth: &Authenticator,
    context: &AccountContext<'_>,
    tracking_numbers: &[TrackingNumber],
) -> Result<Vec<TrackedLabel>, CarrierError> {
    let account = v3_account(context, "tracking Web Tools labels")?;
    let secrets = crate::secrets(&account);
    let mut tracked = Vec::with_capacity(tracking_numbers.len());
    for number in tracking_numbers {
        let one = track_one(auth, &account, number)
            .await
            .map_err(|error| scrub(error, &secrets))?;
        tracked.push(one);
    }
    Ok(tracked)
}

async fn track_one(
    auth: &Authenticator,
    account: &UspsAccount,
    number: &TrackingNumber,
) -> Result<TrackedLabel, CarrierError> {
    let url = v3::tracking::url(auth.base_url(), number)?;
    let reply = send_authorized(auth, account, Operation::Tracking, |client| {
        client
            .get(&url)
            .header(reqwest::header::ACCEPT, "application/json")
    })
    .await?;
    if reply.status == StatusCode::NOT_FOUND {
        // USPS does not know the number (yet): no events.
        return Ok(TrackedLabel {
            tracking_number: number.clone(),
            events: Vec::new(),
        });
    }
    if !reply.status.is_success() {
        return Err(v3::error::from_reply(Operation::Tracking, &reply).into());
    }
    Ok(v3::tracking::parse(number, &reply)?)
}

/// The push side: account subscriptions and the notifications USPS sends.
#[derive(Debug, Clone)]
pub(crate) struct UspsPush {
    auth: Authenticator,
}

impl UspsPush {
    pub(crate) fn new(auth: Authenticator) -> Self {
        Self { auth }
    }

    fn subscription_url(&self, id: Option<&str>) -> Result<String, CarrierError> {
        let base = format!(
            "{}{}",
            self.auth.base_url(),
            v3::subscription::SUBSCRIPTIONS_PATH
        );
        let Some(id) = id else {
            return Ok(base);
        };
        let mut url =
            url::Url::parse(&base).map_err(|_| unsendable("the base URL is not a URL"))?;
        url.path_segments_mut()
            .map_err(|_| unsendable("the base URL cannot carry a path"))?
            .push(id);
        Ok(url.to_string())
    }

    /// Reads one subscription: its state and the `ETag` a `PUT` needs; `None` when USPS does
    /// not know it (404: the spec lists no answer for an unknown id; 404 is what a missing
    /// resource gets).
    async fn fetch(
        &self,
        account: &UspsAccount,
        id: &str,
    ) -> Result<Option<(AccountSubscription, Option<String>)>, CarrierError> {
        let url = self.subscription_url(Some(id))?;
        let reply = send_authorized(&self.auth, account, Operation::Subscription, |client| {
            client
                .get(&url)
                .header(reqwest::header::ACCEPT, "application/json")
        })
        .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(v3::error::from_reply(Operation::Subscription, &reply).into());
        }
        let etag = reply
            .headers
            .get(reqwest::header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Some((
            v3::subscription::parse(Operation::Subscription, &reply)?,
            etag,
        )))
    }
}

fn unsendable(message: &str) -> CarrierError {
    CarrierError::Protocol {
        carrier: CARRIER,
        message: format!("tracking subscription: request not sent: {message}"),
    }
}

/// The account's secrets and the subscription secret, for scrubbing errors.
fn secrets<'a>(account: &'a UspsAccount, secret: &'a SubscriptionSecret) -> Vec<(&'a str, String)> {
    let mut secrets = crate::secrets(account);
    secrets.push((secret.expose(), "[REDACTED]".to_owned()));
    secrets
}

fn gone(id: &str) -> AccountSubscription {
    AccountSubscription {
        id: id.to_owned(),
        state: SubscriptionState::Gone,
        expires_at: None,
    }
}

/// The MID an account's return labels carry (see the module docs).
fn label_mid(account: &UspsAccount) -> &str {
    account.returns_mid.as_deref().unwrap_or(&account.mid)
}

#[async_trait]
impl TrackingPush for UspsPush {
    fn scope(&self) -> PushScope {
        PushScope::Account
    }

    /// `POST /subscriptions`: a `MIDTrackingFilter` on the account's label MID, every update,
    /// to the listener with the secret; `adminNotification` is the contact email.
    async fn subscribe_account(
        &self,
        context: AccountContext<'_>,
        request: &SubscriptionRequest<'_>,
    ) -> Result<AccountSubscription, CarrierError> {
        let account = v3_account(&context, "subscribing Web Tools accounts")?;
        let secrets = secrets(&account, request.secret);
        let body = v3::subscription::body(label_mid(&account), request, false);
        let url = self.subscription_url(None)?;
        let outcome = async {
            let reply = send_authorized(&self.auth, &account, Operation::Subscription, |client| {
                client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(body.clone())
            })
            .await?;
            if !reply.status.is_success() {
                return Err(v3::error::from_reply(Operation::Subscription, &reply).into());
            }
            let subscription = v3::subscription::parse(Operation::Subscription, &reply)?;
            tracing::info!(account = %account.id, subscription = %subscription.id, "subscribed to USPS tracking events");
            Ok(subscription)
        }
        .await;
        outcome.map_err(|error| scrub(error, &secrets))
    }

    /// `GET /subscriptions/{id}`; an id USPS does not know is [`SubscriptionState::Gone`].
    async fn account_subscription(
        &self,
        context: AccountContext<'_>,
        id: &str,
    ) -> Result<AccountSubscription, CarrierError> {
        let account = v3_account(&context, "subscribing Web Tools accounts")?;
        let secrets = crate::secrets(&account);
        match self.fetch(&account, id).await {
            Ok(Some((subscription, _))) => Ok(subscription),
            Ok(None) => Ok(gone(id)),
            Err(error) => Err(scrub(error, &secrets)),
        }
    }

    /// `GET` for the `ETag`, then `PUT /subscriptions/{id}` with `If-Match`, status `ENABLED`
    /// and the listener and secret given (the filter cannot change: it is sent as it was).
    async fn resume_account_subscription(
        &self,
        context: AccountContext<'_>,
        id: &str,
        request: &SubscriptionRequest<'_>,
    ) -> Result<AccountSubscription, CarrierError> {
        let account = v3_account(&context, "subscribing Web Tools accounts")?;
        let secrets = secrets(&account, request.secret);
        let outcome = async {
            let Some((_, etag)) = self.fetch(&account, id).await? else {
                return Ok(gone(id));
            };
            let etag = etag.ok_or_else(|| CarrierError::Protocol {
                carrier: CARRIER,
                message: "tracking subscription: USPS sent no ETag to update with".to_owned(),
            })?;
            let body = v3::subscription::body(label_mid(&account), request, true);
            let url = self.subscription_url(Some(id))?;
            let reply = send_authorized(&self.auth, &account, Operation::Subscription, |client| {
                client
                    .put(&url)
                    .header(reqwest::header::IF_MATCH, &etag)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(body.clone())
            })
            .await?;
            if reply.status == StatusCode::NOT_FOUND {
                return Ok(gone(id));
            }
            if !reply.status.is_success() {
                return Err(v3::error::from_reply(Operation::Subscription, &reply).into());
            }
            let subscription = v3::subscription::parse(Operation::Subscription, &reply)?;
            tracing::info!(account = %account.id, subscription = %subscription.id, state = subscription.state.as_str(), "resumed a USPS tracking subscription");
            Ok(subscription)
        }
        .await;
        outcome.map_err(|error| scrub(error, &secrets))
    }

    fn notification_subscription(&self, body: &[u8]) -> Result<Option<String>, NotificationError> {
        v3::notification::subscription_id(body)
    }

    fn read_notification(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        secret: Option<&SubscriptionSecret>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PushedEvent>, NotificationError> {
        v3::notification::read(headers, body, secret, now)
    }
}
