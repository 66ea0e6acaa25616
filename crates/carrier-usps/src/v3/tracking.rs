//! `GET /tracking/v3/tracking/{trackingNumber}?expand=DETAIL` of the USPS Package Tracking API
//! 3.2.6 (tracking.yaml): the `TrackingDetails` reply, read for its `trackingEvents` (each a
//! `TrackingEvent`, mapped by [`super::event`]). The operation's security requirement is the
//! OAuth scope `tracking`.

use carrier::{TrackedLabel, TrackingNumber};
use serde::Deserialize;

use super::event::TrackingEvent;
use crate::client::Reply;
use crate::error::{Error, Operation};

/// The URL of one number's tracking with `expand=DETAIL`. The number travels as one path
/// segment, percent-encoded where it is not letters and digits.
pub(crate) fn url(base_url: &str, tracking_number: &TrackingNumber) -> Result<String, Error> {
    let unsendable = || Error::Unsendable {
        operation: Operation::Tracking,
        message: "the base URL cannot carry a tracking path".to_owned(),
    };
    let mut url = url::Url::parse(base_url).map_err(|_| unsendable())?;
    url.path_segments_mut()
        .map_err(|_| unsendable())?
        .pop_if_empty()
        .extend(["tracking", "v3", "tracking", tracking_number.as_str()]);
    url.query_pairs_mut().append_pair("expand", "DETAIL");
    Ok(url.to_string())
}

/// `TrackingDetails`: the fields we read (`additionalProperties: true`).
#[derive(Deserialize)]
struct TrackingDetails {
    #[serde(rename = "trackingEvents", default)]
    tracking_events: Vec<TrackingEvent>,
}

/// Parses a successful reply for `tracking_number`.
pub(crate) fn parse(
    tracking_number: &TrackingNumber,
    reply: &Reply,
) -> Result<TrackedLabel, Error> {
    let details: TrackingDetails = serde_json::from_slice(&reply.body).map_err(|error| {
        Error::malformed(
            Operation::Tracking,
            format!("tracking reply: {}", super::describe_json_error(&error)),
        )
    })?;
    Ok(TrackedLabel {
        tracking_number: tracking_number.clone(),
        events: details
            .tracking_events
            .into_iter()
            .filter_map(|event| event.into_event(tracking_number.as_str()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::TrackingStatus;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn reply(body: &str) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn number() -> TrackingNumber {
        TrackingNumber::other("t", "9202190412893800000018").unwrap()
    }

    #[test]
    fn the_url_names_the_number_and_asks_for_detail() {
        assert_eq!(
            url("https://apis.usps.com", &number()).unwrap(),
            "https://apis.usps.com/tracking/v3/tracking/9202190412893800000018?expand=DETAIL"
        );
        let odd = TrackingNumber::other("t", "EA 1/2").unwrap();
        assert_eq!(
            url("http://127.0.0.1:9", &odd).unwrap(),
            "http://127.0.0.1:9/tracking/v3/tracking/EA%201%2F2?expand=DETAIL"
        );
    }

    #[test]
    fn every_event_of_the_details_is_read_with_its_code_text_and_place() {
        let body = r#"{"trackingNumber": "9202190412893800000018", "statusCategory": "Delivered",
            "trackingEvents": [
              {"eventType": "Delivered, Front Door/Porch", "eventTimestamp": "2026-12-02T09:10:00-06:00",
               "GMTTimestamp": "2026-12-02T15:10:00.123Z", "GMTOffset": "-6:00", "eventCountry": "US",
               "eventCity": "ST LOUIS", "eventState": "MO", "eventZIP": "63116", "eventCode": "01"},
              {"eventType": "Accepted at USPS Origin Facility", "eventTimestamp": "2026-12-01T08:00:00-06:00",
               "eventCity": "SAINT LOUIS", "eventState": "MO", "eventZIP": "63118", "eventCode": "03"}]}"#;
        let tracked = parse(&number(), &reply(body)).unwrap();
        assert_eq!(tracked.events.len(), 2);
        let delivered = &tracked.events[0];
        assert_eq!(delivered.status, TrackingStatus::Delivered);
        assert_eq!(delivered.carrier_code, "01");
        assert_eq!(delivered.description, "Delivered, Front Door/Porch");
        assert_eq!(delivered.location.city.as_deref(), Some("ST LOUIS"));
        assert_eq!(delivered.location.postal_code.as_deref(), Some("63116"));
        assert_eq!(delivered.at.to_rfc3339(), "2026-12-02T15:10:00.123+00:00");
        assert_eq!(tracked.events[1].status, TrackingStatus::InTransit);
        assert_eq!(
            tracked.events[1].at.to_rfc3339(),
            "2026-12-01T14:00:00+00:00"
        );
    }

    #[test]
    fn details_without_events_are_a_label_without_events() {
        let tracked = parse(&number(), &reply(r#"{"trackingNumber": "9202"}"#)).unwrap();
        assert!(tracked.events.is_empty());
    }

    #[test]
    fn an_unreadable_reply_is_a_protocol_error() {
        let error: carrier::CarrierError = match parse(&number(), &reply("{\"trackingEvents\": 4"))
        {
            Err(error) => error.into(),
            Ok(_) => panic!("must fail"),
        };
        assert_eq!(error.kind(), carrier::ErrorKind::Protocol);
    }
}
