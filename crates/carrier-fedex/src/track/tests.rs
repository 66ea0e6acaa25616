use serde_json::{Value, json};

use super::*;

fn number(raw: &str) -> TrackingNumber {
    TrackingNumber::other("t", raw).unwrap()
}

fn reply() -> Value {
    json!({
        "transactionId": "t",
        "output": {"completeTrackResults": [
            {"trackingNumber": "794953555571", "trackResults": [{
                "trackingNumberInfo": {"trackingNumber": "794953555571", "carrierCode": "FDXE"},
                "scanEvents": [
                    {"date": "2018-02-02T12:01:00-07:00", "eventType": "PU", "eventDescription": "Picked up", "derivedStatusCode": "PU", "derivedStatus": "Picked up", "scanLocation": {"city": "SEATTLE", "stateOrProvinceCode": "WA", "postalCode": "98101", "countryCode": "US"}},
                    {"date": "2018-02-03T09:00:00-05:00", "eventType": "DL", "eventDescription": "Delivered", "derivedStatusCode": "DL"},
                    {"date": "2018-02-01T10:00:00Z", "eventType": "OC", "eventDescription": "Shipment information sent to FedEx"}
                ]
            }]},
            {"trackingNumber": "128667043726", "trackResults": [{"error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "Tracking number cannot be found."}}]}
        ]}
    })
}

#[test]
fn the_request_matches_the_track_schema_with_detailed_scans() {
    let validator = crate::spec::validator(
        "TrackingNumbers-Resource.json",
        "/components/schemas/Full_Schema_Tracking_Numbers",
    );
    let body = serde_json::to_value(TrackRequest::new(&[
        number("794953555571"),
        number("128667043726"),
    ]))
    .unwrap();
    crate::spec::assert_valid(&validator, &body);
    assert_eq!(body["includeDetailedScans"], true);
}

#[test]
fn the_test_reply_matches_the_reply_schema() {
    let validator = crate::spec::validator(
        "TrackingNumbers-Resource.json",
        "/components/schemas/TrkcResponseVO_TrackingNumber",
    );
    crate::spec::assert_valid(&validator, &reply());
}

#[test]
fn scans_map_to_events_and_unknown_numbers_have_none() {
    let numbers = [number("794953555571"), number("128667043726")];
    let tracked = parse(&numbers, reply().to_string().as_bytes()).unwrap();
    assert_eq!(tracked.len(), 2);
    let events = &tracked[0].events;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].status, TrackingStatus::InTransit);
    assert_eq!(events[0].carrier_code, "PU");
    assert_eq!(events[0].at.to_rfc3339(), "2018-02-02T19:01:00+00:00");
    assert_eq!(events[0].location.city.as_deref(), Some("SEATTLE"));
    assert_eq!(events[1].status, TrackingStatus::Delivered);
    assert_eq!(events[2].status, TrackingStatus::Created);
    assert!(tracked[1].events.is_empty());
}

#[test]
fn the_status_table_covers_the_files_codes() {
    for (code, status) in [
        ("PU", TrackingStatus::InTransit),
        ("DP", TrackingStatus::InTransit),
        ("HL", TrackingStatus::InTransit),
        ("OC", TrackingStatus::Created),
        ("DE", TrackingStatus::Exception),
        ("IT", TrackingStatus::InTransit),
        ("OD", TrackingStatus::InTransit),
        ("RS", TrackingStatus::ReturnedToSender),
        ("CA", TrackingStatus::Voided),
    ] {
        assert_eq!(status_of(code), Some(status), "{code}");
    }
    assert_eq!(status_of("ZZ"), None);
}

#[test]
fn a_scan_with_a_bad_date_is_malformed() {
    let body = json!({"output": {"completeTrackResults": [{"trackingNumber": "794953555571", "trackResults": [{"scanEvents": [{"date": "yesterday", "eventType": "PU"}]}]}]}});
    let error = parse(&[number("794953555571")], body.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.kind(), carrier::ErrorKind::Protocol);
}
