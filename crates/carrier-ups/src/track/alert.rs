//! UPS Track Alert v2 (UPSTrackAlert.yaml): the package subscription
//! (`POST /api/track/v2/subscription/{type}/package`, `PackageSubscriptionRequest` →
//! `PackageSubscriptionSuccessResponse`) and the `TrackingEvent` webhook's body
//! (`TrackingEventRequest`), which UPS POSTs to the URL registered for the app in its portal
//! ("Manage Webhook Credentials"; v2 requests carry no destination).
//!
//! The plugin subscribes `standard` (the `enhanced` type adds a delivery photo and the
//! signer's name, which the platform does not use), `locale` `en_US` ("Currently only English
//! (en_US) is supported") and the account's country. A subscription lasts 14 days (the FAQ:
//! "Each tracking number subscription is valid for 14 days"); the reply says nothing of when it
//! ends, so the plugin counts from the call.

use carrier::{CarrierMessage, TrackingNumber};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Operation};
use crate::track::scan::{self, Activity, Clock, Skipped};

/// The path's `{version}` ("Valid values: v2").
pub(crate) const VERSION: &str = "v2";
/// The path's `{type}`.
pub(crate) const STANDARD: &str = "standard";
/// "You can subscribe to up to 100 tracking numbers in each submission" (`maxItems: 100`).
pub(crate) const MAX_NUMBERS: usize = 100;
/// "Currently only English (en_US) is supported".
pub(crate) const LOCALE: &str = "en_US";
/// `User-Agent` of every Track Alert push: "Represents Track Alert application with value
/// 'UPSPubSubTrackingService'" (required).
pub(crate) const USER_AGENT: &str = "UPSPubSubTrackingService";

/// The subscription path under the base URL.
pub(crate) fn subscription_path() -> String {
    format!("/api/track/{VERSION}/subscription/{STANDARD}/package")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageSubscriptionRequest<'a> {
    locale: &'a str,
    country_code: &'a str,
    tracking_number_list: Vec<&'a str>,
}

/// The request body for `numbers` (at most [`MAX_NUMBERS`]).
pub(crate) fn subscription_body(country_code: &str, numbers: &[TrackingNumber]) -> Vec<u8> {
    let request = PackageSubscriptionRequest {
        locale: LOCALE,
        country_code,
        tracking_number_list: numbers.iter().map(TrackingNumber::as_str).collect(),
    };
    // A struct of strings always serializes.
    serde_json::to_vec(&request).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageSubscriptionSuccessResponse {
    #[serde(default)]
    valid_tracking_numbers: Vec<String>,
    #[serde(default)]
    invalid_tracking_numbers: Vec<String>,
}

/// Which of the numbers asked for UPS subscribed and which it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub(crate) subscribed: Vec<TrackingNumber>,
    pub(crate) refused: Vec<TrackingNumber>,
}

/// Splits `asked` by the reply's lists. A number in neither list is counted as refused: it
/// is not known to be subscribed, so it stays polled.
fn split(asked: &[TrackingNumber], valid: &[String]) -> Split {
    let (subscribed, refused) = asked
        .iter()
        .cloned()
        .partition(|number| valid.iter().any(|v| v.trim() == number.as_str()));
    Split {
        subscribed,
        refused,
    }
}

/// Reads a 200 subscription reply.
pub(crate) fn parse_subscription(asked: &[TrackingNumber], body: &[u8]) -> Result<Split, Error> {
    let reply: PackageSubscriptionSuccessResponse =
        serde_json::from_slice(body).map_err(|error| {
            Error::malformed(
                Operation::Subscribe,
                format!("PackageSubscriptionSuccessResponse: {error}"),
            )
        })?;
    if !reply.invalid_tracking_numbers.is_empty() {
        tracing::info!(
            refused = reply.invalid_tracking_numbers.len(),
            "UPS Track Alert refused some numbers"
        );
    }
    Ok(split(asked, &reply.valid_tracking_numbers))
}

/// The refusals that are an answer rather than a failure: "The Subscription request should
/// have at least one valid tracking number" (`VSS210`) and "not a valid CIE tracking number"
/// (`VSS215`) mean every number asked was refused (the body's `invalidTrackingNumbers` lists
/// them).
pub(crate) fn refuses_every_number(messages: &[CarrierMessage]) -> bool {
    messages
        .iter()
        .any(|message| matches!(message.code.as_str(), "VSS210" | "VSS215"))
}

/// Every asked number, refused.
pub(crate) fn all_refused(asked: &[TrackingNumber]) -> Split {
    split(asked, &[])
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackingEventRequest {
    tracking_number: String,
    activity_status: ActivityStatus,
    #[serde(default)]
    local_activity_date: Option<String>,
    #[serde(default)]
    local_activity_time: Option<String>,
    #[serde(default)]
    gmt_activity_date: Option<String>,
    #[serde(default)]
    gmt_activity_time: Option<String>,
    #[serde(default)]
    gmt_offset: Option<String>,
    #[serde(default)]
    activity_location: Option<ActivityLocation>,
}

#[derive(Deserialize)]
struct ActivityStatus {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityLocation {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state_province: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

/// `TrackingNumber`: "'1Z' followed by 16 alphanumeric characters, or '1R' followed by 14 or
/// 26" (the spec's pattern; it does not ask for the check digit, and neither do we here).
fn is_track_alert_number(number: &str) -> bool {
    let alphanumeric = |rest: &str| {
        rest.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    match (number.strip_prefix("1Z"), number.strip_prefix("1R")) {
        (Some(rest), _) => rest.len() == 16 && alphanumeric(rest),
        (_, Some(rest)) => matches!(rest.len(), 14 | 26) && alphanumeric(rest),
        _ => false,
    }
}

/// One pushed event, read from a `TrackingEventRequest` body whose sender was verified.
/// `Ok(None)` for an update (`U`), which changes nothing.
pub(crate) fn parse_event(
    body: &[u8],
) -> Result<Option<(TrackingNumber, carrier::TrackingEvent, Clock)>, String> {
    let request: TrackingEventRequest =
        serde_json::from_slice(body).map_err(|error| format!("TrackingEventRequest: {error}"))?;
    let number = request.tracking_number.trim();
    if !is_track_alert_number(number) {
        return Err("trackingNumber is not a 1Z or 1R tracking number".to_owned());
    }
    let number = TrackingNumber::other("trackingNumber", number)
        .map_err(|_| "trackingNumber is not a tracking number".to_owned())?;
    let status = &request.activity_status;
    let location = request
        .activity_location
        .as_ref()
        .map(|place| {
            scan::location(
                place.city.as_deref(),
                place.state_province.as_deref(),
                place.postal_code.as_deref(),
                place.country.as_deref(),
            )
        })
        .unwrap_or_default();
    let activity = Activity {
        kind: status.kind.as_deref().unwrap_or_default(),
        code: status.code.as_deref().unwrap_or_default(),
        description: status.description.as_deref().unwrap_or_default(),
        gmt_date: request.gmt_activity_date.as_deref(),
        gmt_time: request.gmt_activity_time.as_deref(),
        local_date: request.local_activity_date.as_deref(),
        local_time: request.local_activity_time.as_deref(),
        gmt_offset: request.gmt_offset.as_deref(),
    };
    match scan::event(activity, location) {
        Ok((event, clock)) => Ok(Some((number, event, clock))),
        Err(Skipped::Update) => Ok(None),
        Err(Skipped::Unreadable(reason)) => Err(format!("activityStatus: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numbers(raw: &[&str]) -> Vec<TrackingNumber> {
        raw.iter()
            .map(|n| TrackingNumber::other("t", n).unwrap())
            .collect()
    }

    #[test]
    fn the_request_names_locale_country_and_numbers() {
        let body = subscription_body("US", &numbers(&["1Z999AA10123456784"]));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            json!({"locale": "en_US", "countryCode": "US", "trackingNumberList": ["1Z999AA10123456784"]})
        );
        assert_eq!(
            subscription_path(),
            "/api/track/v2/subscription/standard/package"
        );
    }

    #[test]
    fn a_partial_success_splits_the_numbers_and_unlisted_ones_are_refused() {
        let asked = numbers(&[
            "1Z999AA10123456784",
            "1ZISUS010330563105",
            "1Z12345E6605272234",
        ]);
        let body = json!({"validTrackingNumbers": ["1Z999AA10123456784"], "invalidTrackingNumbers": ["1ZISUS010330563105"]});
        let split = parse_subscription(&asked, body.to_string().as_bytes()).unwrap();
        assert_eq!(split.subscribed, asked[..1]);
        assert_eq!(split.refused, asked[1..]);
    }

    #[test]
    fn no_valid_number_is_an_answer_not_a_failure() {
        let messages = [CarrierMessage {
            code: "VSS210".to_owned(),
            message: "at least one valid tracking number".to_owned(),
            field: None,
        }];
        assert!(refuses_every_number(&messages));
        assert!(!refuses_every_number(&[CarrierMessage {
            code: "VSS300".to_owned(),
            message: "Locale is required.".to_owned(),
            field: None,
        }]));
    }

    #[test]
    fn a_pushed_number_must_have_the_spec_pattern() {
        assert!(is_track_alert_number("1Z204W4R0308071865"));
        assert!(is_track_alert_number("1R12345678912345"));
        assert!(!is_track_alert_number("1Z1234567$8"));
        assert!(!is_track_alert_number("9400111899223100000000"));
    }

    #[test]
    fn an_update_push_carries_no_event() {
        let body = json!({"trackingNumber": "1Z204W4R0308071865", "gmtActivityDate": "20240423", "gmtActivityTime": "131519",
                          "activityStatus": {"type": "U", "code": "SD", "description": "Delivery date updated"}});
        assert_eq!(parse_event(body.to_string().as_bytes()).unwrap(), None);
    }

    #[test]
    fn a_push_without_its_required_fields_is_malformed() {
        assert!(parse_event(br#"{"trackingNumber": "1Z204W4R0308071865"}"#).is_err());
        assert!(parse_event(br#"{"activityStatus": {"type": "I", "code": "OR"}}"#).is_err());
        assert!(parse_event(b"not json").is_err());
    }
}
