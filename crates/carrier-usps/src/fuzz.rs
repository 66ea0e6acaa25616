//! Entry points for the fuzz targets (`crates/fuzz`): every reader of bytes that come from USPS
//! or from a client, callable on arbitrary input. Not a stable API; bytes and domain types in,
//! domain types or [`CarrierError`] out, so no wire type leaves the crate. The property the
//! fuzzers check is that none of these panics, whatever the input.

use bytes::Bytes;
use carrier::{
    AccountContext, AccountInput, CarrierError, CredentialsInput, LabelFormat, ReturnLabelInput,
    ReturnLabelRequest, TrackingNumber, ValidationErrors,
};
use chrono::{NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use crate::account::{Account, UspsAccount};
use crate::client::Reply;
use crate::error::Operation;
use crate::{account, v3, webtools};

/// A reply as the HTTP client hands it over. A status outside 100–999 becomes 500.
fn reply(status: u16, content_type: Option<&str>, retry_after: Option<&str>, body: &[u8]) -> Reply {
    let mut headers = HeaderMap::new();
    let mut set = |name, value: Option<&str>| {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(value).ok()) {
            headers.insert(name, value);
        }
    };
    set(CONTENT_TYPE, content_type);
    set(RETRY_AFTER, retry_after);
    Reply {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: Bytes::copy_from_slice(body),
    }
}

/// Reads a Web Tools reply body as a purchase does: its `<Error>` documents as a refusal, else
/// the `USPSReturnsLabelResponse` with its images decoded as `format`.
pub fn webtools_reply(body: &[u8], format: LabelFormat) -> Result<TrackingNumber, CarrierError> {
    let reply = webtools::reply::parse(body)?;
    reply.documents(format)?;
    Ok(reply.tracking_number)
}

/// Classifies a Web Tools answer with an HTTP error `status` (a proxy's or an outage's), whose
/// `<Error>` body, if any, lends its messages.
pub fn webtools_error(status: u16, retry_after: Option<&str>, body: &[u8]) -> CarrierError {
    let reply = reply(status, Some("text/xml"), retry_after, body);
    webtools::error::from_status(Operation::WebToolsReturnLabel, &reply).into()
}

/// Reads a successful v3 return-label reply by its content type: the vendor JSON
/// (`ReturnLabelVendorResponse`) or the multipart form (`ReturnLabelMultiPartResponse`).
pub async fn v3_label_reply(
    content_type: &str,
    body: &[u8],
    format: LabelFormat,
) -> Result<TrackingNumber, CarrierError> {
    Ok(v3::reply::parse(
        content_type,
        Bytes::copy_from_slice(body),
        v3::label::Images::Label(format),
    )
    .await?
    .tracking_number)
}

/// Classifies a v3 error reply (`status` of 400 or more) of the label purchase: `ErrorMessage`,
/// OAuth `StandardErrorResponse` or anything else.
pub fn v3_error(status: u16, retry_after: Option<&str>, body: &[u8]) -> CarrierError {
    let reply = reply(status, Some("application/json"), retry_after, body);
    v3::error::from_reply(Operation::ReturnLabel, &reply).into()
}

/// Reads the other v3 JSON replies of a purchase and of "Login with USPS": the OAuth token
/// reply, the payment authorization token and the user info. Returns how many were read.
pub fn v3_other_replies(body: &[u8]) -> usize {
    let reply = reply(200, Some("application/json"), None, body);
    let now = Utc
        .timestamp_opt(1_767_225_600, 0)
        .single()
        .unwrap_or_default();
    [
        v3::oauth::parse_token_reply(&reply, now).is_ok(),
        v3::payment::parse_reply(&reply).is_ok(),
        v3::userinfo::parse_reply(&reply).is_ok(),
    ]
    .into_iter()
    .filter(|read| *read)
    .count()
}

/// Validates a shipper account as `POST /v1/shipper-accounts` does.
pub fn validate_account(
    details: &serde_json::Value,
    credentials: &CredentialsInput,
) -> Result<(), ValidationErrors> {
    account::validate(AccountInput {
        details,
        credentials: Some(credentials),
        current: None,
    })
    .map(|_| ())
}

/// Validates a purchase as `POST /v1/return-labels` does: the carrier-neutral request, then
/// the plugin's checks and request building for a v3 account and for a Web Tools account (the
/// demo business's), on `today`.
pub fn validate_purchase(
    input: &ReturnLabelInput,
    today: NaiveDate,
) -> Result<ReturnLabelRequest, CarrierError> {
    let request = ReturnLabelRequest::parse(input)?;
    let v3 = demo_account(
        serde_json::json!({
            "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
            "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "1000004321",
            "return_address": {"firm": "Backhaul Demo Returns Co.", "street1": "4120 Bingham Ave",
                               "city": "St. Louis", "state": "MO", "zip5": "63116"}
        }),
        CredentialsInput::new()
            .with("mode", "own_app")
            .with("client_id", "app")
            .with("client_secret", "secret"),
    )?;
    let webtools = demo_account(
        serde_json::json!({
            "api": "webtools", "crid": "56982563", "mid": "904128936",
            "manifest_mid": "904128937", "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "1000004321"
        }),
        CredentialsInput::new()
            .with("mode", "webtools")
            .with("user_id", "641BACKH4321")
            .with("password", "password"),
    )?;
    let v3_result = v3_body(&v3, &request);
    let webtools_result = webtools_xml(&webtools, &request, today);
    v3_result.and(webtools_result).map(|()| request)
}

fn demo_account(
    details: serde_json::Value,
    credentials: CredentialsInput,
) -> Result<carrier::ValidatedAccount, CarrierError> {
    Ok(account::validate(AccountInput {
        details: &details,
        credentials: Some(&credentials),
        current: None,
    })?)
}

fn v3_body(
    account: &carrier::ValidatedAccount,
    request: &ReturnLabelRequest,
) -> Result<(), CarrierError> {
    let context = AccountContext {
        id: "sa_fuzz",
        details: &account.details,
        credentials: &account.credentials,
    };
    let account = UspsAccount::from_context(&context)?;
    v3::label::prepare(&account, request)?;
    Ok(())
}

fn webtools_xml(
    account: &carrier::ValidatedAccount,
    request: &ReturnLabelRequest,
    today: NaiveDate,
) -> Result<(), CarrierError> {
    let context = AccountContext {
        id: "sa_fuzz",
        details: &account.details,
        credentials: &account.credentials,
    };
    let Account::WebTools(account) = Account::from_context(&context)? else {
        return Err(CarrierError::invalid("details.api", "must be webtools"));
    };
    let prepared = webtools::label::prepare(&account, request, today)?;
    prepared.request.to_xml(prepared.api, &account.credentials);
    Ok(())
}
