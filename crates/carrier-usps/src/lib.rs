//! Backhaul's USPS carrier plugin: return labels through the **USPS APIs v3** — OAuth 2.0 API
//! 3.0.5 (`oauth2.yaml`), Payments API 3.1.20 (`payments.yaml`) and Labels API 3.9.13
//! (`domestic-labels.yaml`, `POST /return-label`), the production path since USPS shut Web
//! Tools down on 2026-01-25 — and through the **Web Tools `USPSReturnsLabel` XML API** (User
//! Guide v1.2 with the v1.5 additions), exactly to its spec, for accounts whose details say
//! `"api": "webtools"`.
//!
//! Layout (the same file set as every carrier crate): [`builder`] configures a [`UspsCarrier`];
//! `account` validates shipper accounts of both APIs; `credential` gets and caches OAuth and
//! payment authorization tokens; `client` sends through the shared `carrier-http` client; `error`
//! classifies failures into [`carrier::CarrierError`]; `oauth` implements "Login with USPS";
//! `v3/` and `webtools/` hold the two wire protocols.
//!
//! ## v3
//!
//! One label purchase is: an access token (cached), a payment authorization token (cached), then
//! the label POST with `X-Payment-Authorization-Token` and an `X-Idempotency-Key` derived from
//! the client's idempotency key (see [`idempotency_key`]), so a resend after an ambiguous failure
//! returns the same label instead of buying a second one.
//!
//! `label_delivery: qr_code` asks USPS Label Broker for a printerless label (`imageType:
//! LABEL_BROKER`, see `v3::label`): the [`ReturnLabel`] then carries the QR code PNG and its
//! `labelBrokerID` as [`carrier::QrCode`], and the label's PDF only when `label_format` was
//! named (`includeLabelBrokerPDF`). USPS's 160129 (a destination Label Broker cannot serve) is a
//! rejection naming `label_delivery`; 160368 (Label Broker down) is `Unavailable`, nothing bought.
//! Web Tools accounts have no Label Broker and offer `download` only.
//!
//! ## Tracking
//!
//! v3 accounts are tracked by pull — the Package Tracking API 3.2.6, one
//! `GET /tracking/v3/tracking/{tn}?expand=DETAIL` per number within USPS's default quota of
//! about 60 calls an hour per app ([`Carrier::quota_app`]) — and by push: one Subscriptions –
//! Tracking 3.2.0 subscription per account on its label MID, whose notifications are checked by
//! `X-HMAC` and timestamp before anything is read from them (`tracking`, `v3::event`,
//! `v3::notification`). Web Tools accounts are not tracked: the reference has no Web Tools
//! tracking API.
//!
//! ## Web Tools
//!
//! One label purchase is one form POST to the Web Tools endpoint
//! ([`UspsBuilder::with_webtools_url`]): `API=USPSReturnsLabel` (or `USPSReturnsLabelCertify`
//! for accounts with `details.test_mode`) and `XML=<USPSReturnsLabelRequest USERID=… PASSWORD=…>`.
//! The user ID and password are secrets: they travel only in the POST body, never in a URL, a
//! log line (the logged document says `[REDACTED]`), an error or a `Debug` output. Web Tools
//! offers ground, priority and first class returns — not Priority Mail Express — as PDF, TIF or
//! (v1.5) ZPL labels; see [`Carrier::capabilities`]. The request is checked against the guides'
//! tag tables before it is sent (`ShipDate` against today's UTC date), every problem named by
//! our field. From the reply, the [`ReturnLabel`] gets the tracking number and routing code
//! (`BarcodeNumber` split and verified), the destination USPS printed, `Zone`, the images and
//! the charges: `Postage` as the postage (the guide: it excludes extra service fees), one fee
//! per `ExtraService` with a `Price` (code `ServiceID`, name `ServiceName`) and their sum as the
//! total; `RDC`, `Postnet`, `CarrierRoute`, `DimensionalWeight` and the charges are logged at
//! debug, `LogMessage` at info.
//!
//! Web Tools has no idempotency key, so [`Capabilities::idempotent_create`] is `false` for Web
//! Tools accounts. USPS returns labels are pay-on-use: postage is charged only when the label is
//! scanned, so a duplicate made by resending after an ambiguous failure costs nothing unless it
//! is mailed. The plugin itself never resends once the request may have been sent: a connect
//! error (provably not sent) is retried; a timeout, a reset or a malformed reply after sending is
//! `OutcomeUnknown`, and whether to resend is the server's decision.

pub mod builder;

mod account;
mod client;
mod credential;
mod error;
mod form;
mod oauth;
mod tracking;
mod v3;
mod webtools;

#[doc(hidden)]
pub mod bench;
#[doc(hidden)]
pub mod fuzz;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use carrier::{
    AccountContext, AccountDetails, AccountInput, Capabilities, Carrier, CarrierError,
    IdempotencyKey, LabelDelivery, OAuthOnboarding, ReturnLabel, ReturnLabelRequest, ServiceInfo,
    TokenCache, TrackedLabel, TrackingNumber, TrackingPush, TrackingSupport, ValidatedAccount,
    ValidationErrors,
};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use url::Url;
use uuid::Uuid;

pub use crate::builder::{
    BuildError, DEFAULT_SCOPES, PRODUCTION_URL, PlatformApp, ReplyFormat, RetryConfig,
    TEST_ENVIRONMENT_URL, UspsBuilder, WEBTOOLS_URL,
};
pub use crate::oauth::UspsOAuth;

use crate::account::{Account, Api, Auth, Payer, UspsAccount, WebToolsAccount};
use crate::client::HttpClient;
use crate::credential::Authenticator;
use crate::error::{Error, Operation, scrub, scrub_text};

/// The namespace of our `X-Idempotency-Key` UUIDs: the UUID v5 of the URL
/// `https://backhaul.dev/carrier-usps/v3/return-label` in the RFC 9562 URL namespace
/// (`afa549c6-c190-5de2-863f-026d34a8cc73`). Fixed forever: changing it would let a resend buy a
/// second label.
pub const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0xafa549c6_c190_5de2_863f_026d34a8cc73);

/// The `X-Idempotency-Key` for a purchase: a UUID v5 under [`IDEMPOTENCY_NAMESPACE`] of
/// `CRID` + `"\n"` + the client's idempotency key. USPS requires the key to be unique per CRID;
/// the same (CRID, key) always gives the same UUID, so a resend returns the same label.
pub fn idempotency_key(crid: &str, key: &IdempotencyKey) -> Uuid {
    let mut name = Vec::with_capacity(crid.len() + 1 + key.as_str().len());
    name.extend_from_slice(crid.as_bytes());
    // A CRID is digits and a key is printable ASCII, so a newline separates them unambiguously.
    name.push(b'\n');
    name.extend_from_slice(key.as_str().as_bytes());
    Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, &name)
}

/// The USPS carrier plugin (id `usps`).
pub struct UspsCarrier {
    base_url: String,
    webtools_url: String,
    auth: Authenticator,
    reply_format: ReplyFormat,
    onboarding: Option<UspsOAuth>,
    push: tracking::UspsPush,
}

impl fmt::Debug for UspsCarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UspsCarrier")
            .field("base_url", &self.base_url)
            .field("webtools_url", &self.webtools_url)
            .field("reply_format", &self.reply_format)
            .field("onboarding", &self.onboarding)
            .finish()
    }
}

impl UspsCarrier {
    /// A builder with the production defaults.
    pub fn builder() -> UspsBuilder {
        UspsBuilder::new()
    }

    pub(crate) fn from_parts(
        base_url: String,
        webtools_url: String,
        http: HttpClient,
        cache: Arc<dyn TokenCache>,
        platform_app: Option<(PlatformApp, Url)>,
        reply_format: ReplyFormat,
    ) -> Self {
        let platform_client_id = platform_app.as_ref().map(|(app, _)| app.client_id.clone());
        let auth = Authenticator::new(http, cache, base_url.clone(), platform_client_id);
        let onboarding = platform_app
            .map(|(app, authorize_url)| UspsOAuth::new(auth.clone(), app, authorize_url));
        let push = tracking::UspsPush::new(auth.clone());
        Self {
            base_url,
            webtools_url,
            auth,
            reply_format,
            onboarding,
            push,
        }
    }

    /// The v3 base URL this carrier calls.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The Web Tools endpoint this carrier calls.
    pub fn webtools_url(&self) -> &str {
        &self.webtools_url
    }

    /// The OAuth onboarding hooks, when a platform app is configured.
    pub fn onboarding(&self) -> Option<&UspsOAuth> {
        self.onboarding.as_ref()
    }

    async fn buy(
        &self,
        account: &UspsAccount,
        label: &v3::label::PreparedLabel,
        key: Uuid,
    ) -> Result<v3::reply::LabelReply, CarrierError> {
        let mut retried = false;
        loop {
            let access = self.auth.access_token(account).await?;
            let payment = self.auth.payment_token(account, &access).await?;
            // A 401 on the payment call renews an own_app token inside the cache: use the
            // current one (a cache hit) rather than the one it replaced.
            let access = self.auth.access_token(account).await?;
            match self.post_label(&access.token, &payment, label, key).await {
                Err(error) if error.is_unauthorized() => {
                    // Nothing was bought: a 401 is answered before the label is made. Drop
                    // both tokens; an own_app token can be renewed here, once.
                    self.auth
                        .reject_payment_token(account, &access, &payment)
                        .await;
                    let renewable = self.auth.reject_access_token(&access).await;
                    if renewable && !retried {
                        tracing::info!(account = %account.id, "USPS refused the access token; retrying once with a fresh one");
                        retried = true;
                        continue;
                    }
                    return Err(error.into());
                }
                Err(error) => return Err(error.into()),
                Ok(reply) => return Ok(reply),
            }
        }
    }

    async fn post_label(
        &self,
        access_token: &SecretString,
        payment_token: &SecretString,
        label: &v3::label::PreparedLabel,
        key: Uuid,
    ) -> Result<v3::reply::LabelReply, Error> {
        let url = format!("{}{}", self.base_url, v3::RETURN_LABEL_PATH);
        let accept = match self.reply_format {
            ReplyFormat::VendorJson => "application/vnd.usps.labels+json",
            ReplyFormat::Multipart => "multipart/form-data",
        };
        let key = key.to_string();
        let payment_header =
            client::sensitive_header(payment_token.expose_secret()).ok_or_else(|| {
                Error::Unsendable {
                    operation: Operation::ReturnLabel,
                    message: "the payment authorization token is not a valid header value"
                        .to_owned(),
                }
            })?;
        let reply = self
            .auth
            .http()
            .send(Operation::ReturnLabel, |client| {
                client
                    .post(&url)
                    .bearer_auth(access_token.expose_secret())
                    .header("X-Payment-Authorization-Token", payment_header.clone())
                    .header("X-Idempotency-Key", &key)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::ACCEPT, accept)
                    .body(label.body.clone())
            })
            .await?;
        if !reply.status.is_success() {
            return Err(v3::error::from_reply(Operation::ReturnLabel, &reply));
        }
        let content_type = reply.content_type().to_owned();
        v3::reply::parse(&content_type, reply.body, label.images).await
    }
}

impl UspsCarrier {
    async fn create_v3_label(
        &self,
        account: &UspsAccount,
        request: &ReturnLabelRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        let prepared = v3::label::prepare(account, request)?;
        let key = crate::idempotency_key(&account.crid, idempotency_key);
        let reply = self
            .buy(account, &prepared, key)
            .await
            .map_err(|error| scrub(error, &secrets(account)))?;
        let mut warnings = prepared.warnings;
        warnings.extend(reply.warnings);
        Ok(ReturnLabel {
            tracking_number: reply.tracking_number,
            routing_code: reply.routing_code,
            charges: reply.charges,
            zone: reply.zone,
            service: request.service.clone(),
            carrier_service: prepared.mail_class.to_owned(),
            to_address: reply.to_address,
            label: reply.label,
            receipt: reply.receipt,
            qr_code: reply.qr_code,
            warnings,
            carrier_idempotency_key: Some(key.to_string()),
            carrier_reference: None,
            created_at: Utc::now(),
        })
    }

    async fn create_webtools_label(
        &self,
        account: &WebToolsAccount,
        request: &ReturnLabelRequest,
    ) -> Result<ReturnLabel, CarrierError> {
        let prepared = webtools::label::prepare(account, request, Utc::now().date_naive())?;
        let secrets = webtools_secrets(account);
        let reply = self
            .post_returns_label(account, &prepared)
            .await
            .map_err(|error| scrub(error.into(), &secrets))?;
        if let Some(message) = &reply.log_message {
            // "whenever this tag is encountered, the message is written to the console log".
            let message = scrub_text(message, &secrets);
            tracing::info!(account = %account.id, log_message = %message, "USPS Web Tools LogMessage");
        }
        let (label, receipt) = reply
            .documents(prepared.format)
            .map_err(|error| scrub(error.into(), &secrets))?;
        let charges = reply
            .charges()
            .map_err(|error| scrub(error.into(), &secrets))?;
        let mut warnings = prepared.warnings;
        warnings.extend(reply.warnings.iter().cloned());
        if receipt.is_none() && prepared.receipt == carrier::ReceiptOption::SeparatePage {
            warnings.push(carrier::Warning::new(
                "receipt_not_returned",
                Some("receipt"),
                "USPS Web Tools returned no separate receipt (ReceiptImage) for this label",
            ));
        }
        // What the reply says beyond the ReturnLabel: for operators, never for the merchant.
        tracing::debug!(
            account = %account.id,
            api = prepared.api,
            tracking_number = %reply.tracking_number,
            charges = %charges,
            dimensional_weight = ?reply.dimensional_weight,
            postnet = reply.postnet.as_deref().unwrap_or(""),
            rdc = reply.rdc.as_deref().unwrap_or(""),
            carrier_route = reply.carrier_route.as_deref().unwrap_or(""),
            retailer_attn = reply.retailer_attn.as_deref().unwrap_or(""),
            "USPS Web Tools returns label created"
        );
        Ok(ReturnLabel {
            tracking_number: reply.tracking_number.clone(),
            routing_code: reply.routing_code.clone(),
            charges,
            zone: reply.zone.clone(),
            service: request.service.clone(),
            carrier_service: prepared.service_type.to_owned(),
            to_address: Some(reply.to_address.clone()),
            label: Some(label),
            receipt,
            qr_code: None,
            warnings,
            // Web Tools has no idempotency key.
            carrier_idempotency_key: None,
            carrier_reference: None,
            created_at: Utc::now(),
        })
    }

    /// Sends one `USPSReturnsLabelRequest` as a form POST body. Only a connect failure is
    /// retried (by the client): anything after sending may have made a label.
    async fn post_returns_label(
        &self,
        account: &WebToolsAccount,
        prepared: &webtools::label::PreparedLabel,
    ) -> Result<webtools::reply::ReturnsLabelReply, Error> {
        let operation = Operation::WebToolsReturnLabel;
        tracing::trace!(
            account = %account.id,
            api = prepared.api,
            xml = %prepared.request.to_redacted_xml(prepared.api),
            "USPS Web Tools request"
        );
        let xml = prepared.request.to_xml(prepared.api, &account.credentials);
        let reply = self
            .auth
            .http()
            .send(operation, |client| {
                client
                    .post(&self.webtools_url)
                    .form(&[("API", prepared.api), ("XML", xml.expose_secret())])
            })
            .await?;
        if !reply.status.is_success() {
            return Err(webtools::error::from_status(operation, &reply));
        }
        webtools::reply::parse(&reply.body)
    }
}

/// The Web Tools user ID and password, which must never appear in an error or a log line.
fn webtools_secrets(account: &WebToolsAccount) -> Vec<(&str, String)> {
    vec![
        (
            account.credentials.user_id.expose_secret(),
            "[REDACTED]".to_owned(),
        ),
        (
            account.credentials.password.expose_secret(),
            "[REDACTED]".to_owned(),
        ),
    ]
}

/// Secrets of an account that must never appear in an error, with what replaces them.
pub(crate) fn secrets(account: &UspsAccount) -> Vec<(&str, String)> {
    let mut secrets = Vec::new();
    if let Payer::Eps { account_number } = &account.payer {
        let number = account_number.expose_secret();
        secrets.push((number, carrier::account::mask_account_number(number)));
    }
    match &account.auth {
        Auth::OwnApp { client_secret, .. } => {
            secrets.push((client_secret.expose_secret(), "[REDACTED]".to_owned()));
        }
        Auth::PlatformApp { access_token, .. } => {
            secrets.push((access_token.expose_secret(), "[REDACTED]".to_owned()));
        }
    }
    secrets
}

#[async_trait]
impl Carrier for UspsCarrier {
    fn id(&self) -> &'static str {
        "usps"
    }

    fn name(&self) -> &'static str {
        "USPS"
    }

    fn services(&self) -> &'static [ServiceInfo] {
        static INFOS: std::sync::LazyLock<Vec<ServiceInfo>> = std::sync::LazyLock::new(|| {
            v3::label::SERVICES
                .iter()
                .map(|service| service.info.clone())
                .collect()
        });
        INFOS.as_slice()
    }

    /// For a Web Tools account (`details.api = "webtools"`): ground, priority and first class
    /// returns (no Priority Mail Express), PDF, TIF and ZPL labels (v1.5 `ImageType`), receipts,
    /// downloads only (Web Tools has no Label Broker) and no carrier-side idempotency.
    /// Otherwise (v3, or no account): everything, printerless `qr_code` labels included.
    fn capabilities(&self, details: Option<&AccountDetails>) -> Capabilities {
        if details.map(Api::of) == Some(Api::WebTools) {
            return Capabilities {
                services: webtools::label::SERVICE_TYPES
                    .iter()
                    .map(|(code, _)| *code)
                    .collect(),
                label_formats: webtools::label::LABEL_FORMATS.to_vec(),
                // The Returns Label API has no Label Broker (no QR codes, no emailed labels).
                label_deliveries: vec![LabelDelivery::Download],
                receipts: true,
                idempotent_create: false,
                // Pay-on-use: an unused duplicate costs nothing.
                resend_after_unknown_outcome: true,
                cancellable: false,
                ship_date_days_ahead: webtools::label::SHIP_DATE_DAYS_AHEAD,
            };
        }
        // Every v3 account can buy every return service (USPS checks Ship Returns enrollment
        // per label owner, which the details cannot tell us).
        Capabilities {
            services: v3::label::SERVICES
                .iter()
                .map(|service| service.info.code)
                .collect(),
            label_formats: v3::label::LABEL_FORMATS.to_vec(),
            // USPS Label Broker (`imageType: LABEL_BROKER`): printerless labels.
            label_deliveries: vec![LabelDelivery::Download, LabelDelivery::QrCode],
            receipts: true,
            idempotent_create: true,
            resend_after_unknown_outcome: true,
            cancellable: false,
            // The v3 return label has no mailing date (the spec has no such field: a
            // `ship_date` only earns a warning). The Web Tools window is kept so a USPS request
            // means the same thing on both APIs.
            ship_date_days_ahead: webtools::label::SHIP_DATE_DAYS_AHEAD,
        }
    }

    fn account_schema(&self) -> serde_json::Value {
        form::account_schema()
    }

    /// "Login with USPS" when a platform app is configured, the merchant's own app, and the
    /// Web Tools user ID of accounts still on that API.
    fn onboarding(&self) -> &'static [&'static str] {
        if self.onboarding.is_some() {
            &["oauth", "own_app", "webtools"]
        } else {
            &["own_app", "webtools"]
        }
    }

    fn validate_account(
        &self,
        input: AccountInput<'_>,
    ) -> Result<ValidatedAccount, ValidationErrors> {
        account::validate(input)
    }

    async fn create_return_label(
        &self,
        account: AccountContext<'_>,
        request: &ReturnLabelRequest,
        idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        match Account::from_context(&account)? {
            Account::V3(account) => {
                self.create_v3_label(&account, request, idempotency_key)
                    .await
            }
            // Web Tools has no idempotency key: the client's key stays with the server.
            Account::WebTools(account) => self.create_webtools_label(&account, request).await,
        }
    }

    fn oauth(&self) -> Option<&dyn OAuthOnboarding> {
        self.onboarding
            .as_ref()
            .map(|onboarding| onboarding as &dyn OAuthOnboarding)
    }

    /// v3 accounts (and the carrier in general): pulled one number per call within USPS's
    /// default quota, and pushed by Subscriptions – Tracking. Web Tools accounts: `None` — the
    /// reference has no Web Tools tracking API (its guides describe `USPSReturnsLabel` only).
    fn tracking(&self, details: Option<&AccountDetails>) -> Option<TrackingSupport> {
        if details.map(Api::of) == Some(Api::WebTools) {
            return None;
        }
        Some(TrackingSupport {
            batch_size: tracking::BATCH_SIZE,
            calls_per_hour: tracking::CALLS_PER_HOUR,
            one_call_per_batch: false,
            push: true,
            give_up_unused_after: TrackingSupport::GIVE_UP_UNUSED_AFTER,
        })
    }

    async fn track(
        &self,
        account: AccountContext<'_>,
        tracking_numbers: &[TrackingNumber],
    ) -> Result<Vec<TrackedLabel>, CarrierError> {
        tracking::track(&self.auth, &account, tracking_numbers).await
    }

    fn tracking_push(&self) -> Option<&dyn TrackingPush> {
        Some(&self.push)
    }

    /// `usps:platform` for accounts connected through the platform's app ("Login with USPS"),
    /// `usps:app:` + the first 16 hex digits of SHA-256(client id) for an account with its own
    /// app — the id itself is not shown — and `usps:` + the account id for accounts that make
    /// no OAuth calls (Web Tools).
    fn quota_app(&self, account: AccountContext<'_>) -> String {
        match account.credentials.mode() {
            account::MODE_PLATFORM_APP => "usps:platform".to_owned(),
            account::MODE_OWN_APP => {
                let client_id = account
                    .credentials
                    .public(account::field::CLIENT_ID)
                    .unwrap_or("");
                let digest = credential::digest(&[client_id.as_bytes()]);
                format!("usps:app:{}", &digest[..16])
            }
            _ => format!("usps:{}", account.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &str) -> IdempotencyKey {
        IdempotencyKey::parse("key", raw).unwrap()
    }

    #[test]
    fn the_namespace_is_the_documented_v5_of_our_url() {
        // Documented derivation; the constant is spelled out so that no dependency change can
        // move it.
        let derived = Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            b"https://backhaul.dev/carrier-usps/v3/return-label",
        );
        assert_eq!(IDEMPOTENCY_NAMESPACE, derived, "{derived}");
    }

    #[test]
    fn idempotency_keys_are_deterministic() {
        assert_eq!(
            idempotency_key("56982563", &key("order-1001-return")),
            idempotency_key("56982563", &key("order-1001-return"))
        );
        assert_eq!(
            idempotency_key("56982563", &key("order-1001-return")).get_version_num(),
            5
        );
    }

    #[test]
    fn idempotency_keys_differ_by_crid() {
        assert_ne!(
            idempotency_key("56982563", &key("order-1001-return")),
            idempotency_key("71234567", &key("order-1001-return"))
        );
    }

    #[test]
    fn idempotency_keys_differ_by_key() {
        assert_ne!(
            idempotency_key("56982563", &key("order-1001-return")),
            idempotency_key("56982563", &key("order-1002-return"))
        );
    }

    #[test]
    fn the_carrier_describes_itself() {
        let carrier = UspsBuilder::new().build().unwrap();
        assert_eq!(carrier.id(), "usps");
        assert_eq!(carrier.name(), "USPS");
        assert_eq!(carrier.services().len(), 4);
        let capabilities = carrier.capabilities(None);
        assert!(capabilities.idempotent_create && !capabilities.cancellable);
        assert!(carrier.oauth().is_none());
        assert!(!Carrier::onboarding(&carrier).contains(&"oauth"));
    }

    fn details(api: &str) -> AccountDetails {
        let mut map = serde_json::Map::new();
        map.insert("api".into(), serde_json::Value::String(api.into()));
        AccountDetails::new(map)
    }

    #[test]
    fn a_webtools_account_offers_no_express_no_png_and_no_idempotency() {
        let carrier = UspsBuilder::new().build().unwrap();
        let capabilities = carrier.capabilities(Some(&details("webtools")));
        assert_eq!(
            capabilities.services,
            vec![
                "usps_ground_advantage_return",
                "usps_priority_mail_return",
                "usps_first_class_package_return"
            ]
        );
        assert_eq!(
            capabilities.label_formats,
            vec![
                carrier::LabelFormat::Pdf,
                carrier::LabelFormat::Tif,
                carrier::LabelFormat::Zpl
            ]
        );
        assert!(capabilities.receipts);
        assert!(!capabilities.idempotent_create && !capabilities.cancellable);
        assert!(capabilities.resend_after_unknown_outcome);
        assert_eq!(
            capabilities.label_deliveries,
            vec![carrier::LabelDelivery::Download]
        );
    }

    #[test]
    fn a_v3_account_offers_printerless_qr_code_labels() {
        let carrier = UspsBuilder::new().build().unwrap();
        let capabilities = carrier.capabilities(Some(&details("v3")));
        assert_eq!(
            capabilities.label_deliveries,
            vec![LabelDelivery::Download, LabelDelivery::QrCode]
        );
    }

    #[test]
    fn a_v3_account_keeps_every_capability() {
        let carrier = UspsBuilder::new().build().unwrap();
        assert_eq!(
            carrier.capabilities(Some(&details("v3"))),
            carrier.capabilities(None)
        );
    }
}
