//! UPS tracking: the **Track API** (Tracking.yaml, pulled: [`details`]) and **Track Alert v2**
//! (UPSTrackAlert.yaml, pushed: [`alert`] for the subscription and the event body,
//! [`listener`] for the `clientOauth2` tokens UPS fetches from us before each push). Both map
//! their activities through [`scan`], so one scan is one event either way.
//!
//! Budget: neither spec publishes an hourly quota for the Track API (UPS answers 429 "Rate
//! Limit Exceeded" with `Retry-After` when a limit is hit). The plugin tells the poller
//! [`CALLS_PER_HOUR`], its own default of one call a second per app, one number per call
//! (the details call takes one `inquiryNumber`).

pub(crate) mod alert;
pub(crate) mod details;
pub(crate) mod listener;
pub(crate) mod scan;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use carrier::tracking::{
    LabelSubscription, NotificationError, PushScope, PushedEvent, SubscriptionSecret, TrackingPush,
};
use carrier::{AccountContext, CarrierError, TrackingNumber};
use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use secrecy::ExposeSecret;

use crate::account::UpsAccount;
use crate::credential::Authenticator;
use crate::error::{self, Operation, scrub};
use crate::track::listener::ListenerCredentials;

/// The poller's hourly budget per UPS app: the plugin's default (one call a second); the specs
/// publish none.
pub(crate) const CALLS_PER_HOUR: u32 = 3_600;

/// How long a Track Alert subscription lasts ("valid for 14 days").
pub(crate) const SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);

/// `transactionSrc` of tracking calls ("Identifies the client/source application").
pub(crate) const TRANSACTION_SOURCE: &str = "backhaul";

/// A fresh `transId` ("An identifier unique to the request"; Shipping.yaml gives the same
/// header a length of 32, which these specs do not contradict).
pub(crate) fn transaction_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// Sends one GET or POST with the account's token; a 401 renews an own_app token and tries
/// once more (UPS did not act). Returns the 2xx reply or the classified error.
pub(crate) async fn send(
    auth: &Authenticator,
    account: &UpsAccount,
    operation: Operation,
    build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> Result<Result<crate::client::Reply, error::Error>, CarrierError> {
    let mut retried = false;
    loop {
        let access = auth.access_token(account).await?;
        let token = access.token.expose_secret();
        let reply = auth
            .http()
            .send(operation, |client| build(client, token))
            .await
            .map_err(CarrierError::from)?;
        if reply.status.is_success() {
            return Ok(Ok(reply));
        }
        let failure = error::from_reply(operation, &reply);
        if failure.is_unauthorized() && !retried && auth.reject_access_token(&access).await {
            retried = true;
            continue;
        }
        return Ok(Err(failure.scrubbed(&[token])));
    }
}

/// Track Alert v2: label subscriptions and the listener's checks.
pub(crate) struct UpsTrackAlert {
    base_url: String,
    auth: Authenticator,
    listener: Option<ListenerCredentials>,
}

impl fmt::Debug for UpsTrackAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsTrackAlert")
            .field("base_url", &self.base_url)
            .field("listener", &self.listener)
            .finish()
    }
}

impl UpsTrackAlert {
    pub(crate) fn new(
        base_url: String,
        auth: Authenticator,
        listener: Option<ListenerCredentials>,
    ) -> Self {
        Self {
            base_url,
            auth,
            listener,
        }
    }

    fn listener(&self) -> Result<&ListenerCredentials, NotificationError> {
        self.listener
            .as_ref()
            .ok_or(NotificationError::Unauthenticated(
                "no UPS listener credentials are configured (ups.listener_client_id)",
            ))
    }

    async fn subscribe(
        &self,
        account: &UpsAccount,
        numbers: &[TrackingNumber],
    ) -> Result<LabelSubscription, CarrierError> {
        let started = Utc::now();
        let expires_at = started
            + chrono::Duration::from_std(SUBSCRIPTION_LIFETIME)
                .unwrap_or(chrono::Duration::days(14));
        if numbers.is_empty() {
            return Ok(LabelSubscription {
                subscribed: Vec::new(),
                refused: Vec::new(),
                expires_at,
            });
        }
        if numbers.len() > alert::MAX_NUMBERS {
            return Err(CarrierError::invalid(
                "tracking_numbers",
                "Track Alert takes at most 100 tracking numbers per subscription",
            ));
        }
        let url = format!("{}{}", self.base_url, alert::subscription_path());
        let body = alert::subscription_body(account.return_address.country.as_str(), numbers);
        let reply = send(
            &self.auth,
            account,
            Operation::Subscribe,
            |client, token| {
                client
                    .post(&url)
                    .bearer_auth(token)
                    .header("transId", transaction_id())
                    .header("transactionSrc", TRANSACTION_SOURCE)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, "application/json")
                    .body(body.clone())
            },
        )
        .await?;
        let split = match reply {
            Ok(reply) => alert::parse_subscription(numbers, &reply.body)?,
            Err(error::Error::Status {
                status: 400,
                messages,
                ..
            }) if alert::refuses_every_number(&messages) => alert::all_refused(numbers),
            Err(failure) => return Err(failure.into()),
        };
        tracing::info!(
            account = %account.id,
            subscribed = split.subscribed.len(),
            refused = split.refused.len(),
            "UPS Track Alert subscription"
        );
        Ok(LabelSubscription {
            subscribed: split.subscribed,
            refused: split.refused,
            expires_at,
        })
    }
}

#[async_trait]
impl TrackingPush for UpsTrackAlert {
    fn scope(&self) -> PushScope {
        PushScope::Label {
            batch: alert::MAX_NUMBERS,
            lifetime: SUBSCRIPTION_LIFETIME,
        }
    }

    async fn subscribe_labels(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<LabelSubscription, CarrierError> {
        let account = UpsAccount::from_context(&account)?;
        self.subscribe(&account, tracking_numbers)
            .await
            .map_err(|error| scrub(error, &crate::secrets(&account)))
    }

    /// Track Alert authenticates pushes with the listener's own tokens, not a secret per
    /// subscription.
    fn notification_subscription(&self, _body: &[u8]) -> Result<Option<String>, NotificationError> {
        Ok(None)
    }

    fn read_notification(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        _secret: Option<&SubscriptionSecret>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PushedEvent>, NotificationError> {
        self.listener()?.check_push(headers, now)?;
        match alert::parse_event(body).map_err(NotificationError::Malformed)? {
            Some((tracking_number, event, clock)) => {
                tracing::debug!(%tracking_number, code = %event.carrier_code, ?clock, "UPS Track Alert event read");
                Ok(vec![PushedEvent {
                    tracking_number,
                    event,
                }])
            }
            None => Ok(Vec::new()),
        }
    }

    fn listener_token(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<carrier::tracking::ListenerToken, NotificationError> {
        self.listener()?.token(headers, body, now)
    }
}

#[cfg(test)]
#[path = "push_tests.rs"]
mod tests;
