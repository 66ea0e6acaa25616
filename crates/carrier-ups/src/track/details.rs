//! The Track API's details call (Tracking.yaml, `GET /api/track/v1/details/{inquiryNumber}`)
//! and its `TrackApiResponse`: `trackResponse.shipment[].package[].activity[]`, most recent
//! first. The plugin asks for one inquiry number per call, `locale=en_US`, and
//! `returnSignature`, `returnMilestones` and `returnPOD` all `false` (a delivery signature or
//! proof of delivery is personal data the platform does not need). `transId` and
//! `transactionSrc` are required headers.
//!
//! "Tracking number information not found" is HTTP 404 in the spec; a number UPS does not know
//! yet is answered as known with no events, as [`carrier::Carrier::track`] asks. A 200 whose
//! shipment holds no package (UPS's warnings instead) reads the same way.

use carrier::{EventLocation, TrackedLabel, TrackingEvent, TrackingNumber};
use serde::Deserialize;

use crate::error::{Error, Operation};
use crate::track::scan::{self, Activity as ScanActivity, Skipped};

/// Whether `number` can be an `inquiryNumber` ("between 7 and 34 characters in length"; UPS's
/// numbers are letters and digits, so it goes into the path unescaped). A number that cannot
/// is one UPS cannot know: it is answered with no events without a call.
pub(crate) fn is_inquiry_number(number: &str) -> bool {
    (7..=34).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The details path for one number that [`is_inquiry_number`].
pub(crate) fn path(inquiry_number: &str) -> String {
    format!("/api/track/v1/details/{inquiry_number}")
}

/// The query every details call sends.
pub(crate) const QUERY: &str =
    "locale=en_US&returnSignature=false&returnMilestones=false&returnPOD=false";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackApiResponse {
    track_response: TrackResponse,
}

#[derive(Deserialize)]
struct TrackResponse {
    #[serde(default)]
    shipment: Vec<Shipment>,
}

#[derive(Deserialize)]
struct Shipment {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(default)]
    tracking_number: Option<String>,
    #[serde(default)]
    activity: Vec<Activity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    gmt_date: Option<String>,
    #[serde(default)]
    gmt_time: Option<String>,
    #[serde(default)]
    gmt_offset: Option<String>,
    #[serde(default)]
    location: Option<Location>,
    status: Status,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    address: Option<Address>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Address {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state_province: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Reads a 200 details reply for `number`: every activity of its package that maps onto an
/// event. Activities that cannot be read are logged and left out rather than failing the
/// label's whole history.
pub(crate) fn parse(number: &TrackingNumber, body: &[u8]) -> Result<TrackedLabel, Error> {
    let reply: TrackApiResponse = serde_json::from_slice(body).map_err(|error| {
        Error::malformed(Operation::Track, format!("TrackApiResponse: {error}"))
    })?;
    let packages = reply
        .track_response
        .shipment
        .into_iter()
        .flat_map(|shipment| shipment.package);
    let mut events: Vec<TrackingEvent> = Vec::new();
    for package in packages {
        // A shipment may list other packages; only the asked number's count (a package
        // without a number is the one asked for: the call names one package).
        if package
            .tracking_number
            .as_deref()
            .is_some_and(|found| !found.trim().eq_ignore_ascii_case(number.as_str()))
        {
            continue;
        }
        // Most recent first in the reply; walked oldest first so that activities of the same
        // second keep their order through the sort below.
        for activity in package.activity.iter().rev() {
            let address = activity.location.as_ref().and_then(|l| l.address.as_ref());
            let location = address.map_or_else(EventLocation::default, |address| {
                scan::location(
                    address.city.as_deref(),
                    address.state_province.as_deref(),
                    address.postal_code.as_deref(),
                    address
                        .country_code
                        .as_deref()
                        .or(address.country.as_deref()),
                )
            });
            let parts = ScanActivity {
                kind: activity.status.kind.as_deref().unwrap_or_default(),
                code: activity.status.code.as_deref().unwrap_or_default(),
                description: activity.status.description.as_deref().unwrap_or_default(),
                gmt_date: activity.gmt_date.as_deref(),
                gmt_time: activity.gmt_time.as_deref(),
                local_date: activity.date.as_deref(),
                local_time: activity.time.as_deref(),
                gmt_offset: activity.gmt_offset.as_deref(),
            };
            match scan::event(parts, location) {
                Ok((event, clock)) => {
                    tracing::trace!(tracking_number = %number, code = %event.carrier_code, ?clock, "UPS activity read");
                    if !events.contains(&event) {
                        events.push(event);
                    }
                }
                Err(Skipped::Update) => {}
                Err(Skipped::Unreadable(reason)) => {
                    tracing::warn!(tracking_number = %number, %reason, "UPS activity left out");
                }
            }
        }
    }
    events.sort_by_key(|event| event.at);
    Ok(TrackedLabel {
        tracking_number: number.clone(),
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::TrackingStatus;
    use serde_json::json;

    fn number() -> TrackingNumber {
        TrackingNumber::other("t", "1Z999AA10123456784").unwrap()
    }

    fn reply(activities: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"trackResponse": {"shipment": [{
            "inquiryNumber": "1Z999AA10123456784",
            "package": [{"trackingNumber": "1Z999AA10123456784", "activity": activities}]
        }]}}))
        .unwrap()
    }

    #[test]
    fn activities_become_events_oldest_first_with_their_codes_and_places() {
        let body = reply(json!([
            {"date": "20240423", "time": "095004", "gmtDate": "20240423", "gmtTime": "135004", "gmtOffset": "-04:00",
             "location": {"address": {"city": "CHARLOTTE", "stateProvince": "NC", "postalCode": "28209", "countryCode": "US"}},
             "status": {"type": "D", "code": "FS", "description": "Delivered", "statusCode": "011"}},
            {"date": "20240422", "time": "180000", "gmtOffset": "-04:00",
             "location": {"address": {"city": "Atlanta", "country": "US"}},
             "status": {"type": "I", "code": "OR", "description": "Origin Scan"}},
            {"date": "20240422", "time": "100000", "gmtDate": "20240422", "gmtTime": "140000",
             "status": {"type": "M", "code": "MP", "description": "Shipper created a label"}}
        ]));
        let tracked = parse(&number(), &body).unwrap();
        let statuses: Vec<_> = tracked.events.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            [
                TrackingStatus::Created,
                TrackingStatus::InTransit,
                TrackingStatus::Delivered
            ]
        );
        let delivered = &tracked.events[2];
        assert_eq!(delivered.carrier_code, "FS");
        assert_eq!(delivered.description, "Delivered");
        assert_eq!(delivered.location.city.as_deref(), Some("CHARLOTTE"));
        assert_eq!(delivered.location.country.as_deref(), Some("US"));
        assert_eq!(delivered.at.to_rfc3339(), "2024-04-23T13:50:04+00:00");
        assert_eq!(
            tracked.events[1].at.to_rfc3339(),
            "2024-04-22T22:00:00+00:00"
        );
    }

    #[test]
    fn a_shipment_without_packages_has_no_events() {
        let body = serde_json::to_vec(&json!({"trackResponse": {"shipment": [{
            "inquiryNumber": "1Z999AA10123456784",
            "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}]
        }]}}))
        .unwrap();
        assert!(parse(&number(), &body).unwrap().events.is_empty());
    }

    #[test]
    fn an_unreadable_activity_is_left_out_and_the_rest_kept() {
        let body = reply(json!([
            {"date": "20240422", "time": "100000", "status": {"type": "I", "code": "OR", "description": "no offset"}},
            {"gmtDate": "20240422", "gmtTime": "140000", "status": {"type": "Q", "code": "ZZ", "description": "?"}},
            {"gmtDate": "20240422", "gmtTime": "150000", "status": {"type": "I", "code": "DP", "description": "Departed"}}
        ]));
        let tracked = parse(&number(), &body).unwrap();
        assert_eq!(tracked.events.len(), 1);
        assert_eq!(tracked.events[0].carrier_code, "DP");
    }

    #[test]
    fn a_reply_that_is_not_a_track_response_is_malformed() {
        assert!(parse(&number(), b"{\"trackResponse\": 3}").is_err());
        assert!(parse(&number(), b"<html>").is_err());
    }

    #[test]
    fn only_7_to_34_letters_and_digits_go_into_the_path() {
        assert_eq!(
            path("1Z999AA10123456784"),
            "/api/track/v1/details/1Z999AA10123456784"
        );
        assert!(is_inquiry_number("1Z999AA10123456784"));
        assert!(!is_inquiry_number("1Z999"));
        assert!(!is_inquiry_number("1Z999AA1/../x"));
        assert!(!is_inquiry_number(&"1".repeat(35)));
    }
}
