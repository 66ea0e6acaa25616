//! What the Track API's `Activity` (Tracking.yaml) and Track Alert's `TrackingEventRequest`
//! (UPSTrackAlert.yaml) share: an activity status (`type`, `code`, `description`), a GMT and a
//! local date and time, and a place. Both are mapped here, by the same rules, so one scan gives
//! one [`TrackingEvent::fingerprint`] whether it was pulled or pushed (same code, same instant
//! to the second).
//!
//! ## Status
//!
//! UPSTrackAlert.yaml documents the status types: `M` and `MV` manifest information, `I` in
//! progress, `X` exception ("something out of the normal happened to your package, but it may
//! still be delivered on time"), `U` update (normally a changed scheduled delivery) and `D`
//! delivery information ("loaded on delivery vehicle, out for delivery, delivered"). Tracking.yaml
//! has the same `status.type` and `status.code`. Neither file lists the two-character status
//! codes (both point to a "Status Codes" document that is not part of the specs), so the codes
//! read here are the ones the specs' own examples show, and each is said below:
//!
//! | type | code | status |
//! |---|---|---|
//! | any | `RS` | `ReturnedToSender` (UPS's "Returned to Shipper" code; not in these specs) |
//! | `D` | `FS` | `Delivered` (UPSTrackAlert.yaml's "Delivery message" example: `D`, `FS`, "Delivered") |
//! | `D` | any other | `InTransit` (loaded on the delivery vehicle, out for delivery) |
//! | `M`, `MV` | any | `Created` (label information, no scan) |
//! | `I` | any | `InTransit` (the "Out for delivery message" example is `I`, `OT`) |
//! | `X` | any | `Exception` |
//! | `U` | any | no event: a changed delivery date is not a scan and changes no status |
//!
//! ## Time
//!
//! `at` is the GMT date and time where the event carries them (Track API `gmtDate` +
//! `gmtTime`; Track Alert `gmtActivityDate` + `gmtActivityTime`). Without them it is the local
//! date and time less the `gmtOffset` ("shows how local time was calculated": Tracking.yaml's
//! example is `-05:00`, UPSTrackAlert.yaml's pattern `(-/+)HH.MM`; both separators are read).
//! Without either, the event has no instant and is left out (and logged). Tracking.yaml's
//! `gmtTime` example (`74700`) drops the leading zero of the hour, so a five-digit time is read
//! as `074700`.

use carrier::{EventLocation, TrackingEvent, TrackingStatus};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Where an event's instant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The GMT date and time UPS gives.
    Gmt,
    /// The local date and time less the GMT offset.
    LocalWithOffset,
}

/// The status of an activity by its `type` and `code`; `None` for a `U` (update) activity,
/// which is not an event in our vocabulary, and `Err` for a type neither spec lists.
pub(crate) fn status(kind: &str, code: &str) -> Result<Option<TrackingStatus>, String> {
    let code = code.trim().to_ascii_uppercase();
    if code == "RS" {
        return Ok(Some(TrackingStatus::ReturnedToSender));
    }
    match kind.trim().to_ascii_uppercase().as_str() {
        "D" if code == "FS" => Ok(Some(TrackingStatus::Delivered)),
        "D" | "I" => Ok(Some(TrackingStatus::InTransit)),
        "M" | "MV" => Ok(Some(TrackingStatus::Created)),
        "X" => Ok(Some(TrackingStatus::Exception)),
        "U" => Ok(None),
        other => Err(format!(
            "activity status type {other:?} is not one UPS documents"
        )),
    }
}

fn date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y%m%d").ok()
}

fn time(raw: &str) -> Option<NaiveTime> {
    let raw = raw.trim();
    if !(5..=6).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::parse_from_str(&format!("{raw:0>6}"), "%H%M%S").ok()
}

/// `-05:00` or `-04.00` as a signed offset from GMT.
fn offset(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(['.', ':'])?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: i64 = hours.parse().ok()?;
    let minutes: i64 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(Duration::minutes(sign * (hours * 60 + minutes)))
}

/// The instant of an event: GMT where given, else local less the offset.
pub(crate) fn instant(
    gmt_date: Option<&str>,
    gmt_time: Option<&str>,
    local_date: Option<&str>,
    local_time: Option<&str>,
    gmt_offset: Option<&str>,
) -> Option<(DateTime<Utc>, Clock)> {
    if let (Some(day), Some(at)) = (gmt_date.and_then(date), gmt_time.and_then(time)) {
        return Some((NaiveDateTime::new(day, at).and_utc(), Clock::Gmt));
    }
    let day = local_date.and_then(date)?;
    let at = local_time.and_then(time)?;
    let offset = gmt_offset.and_then(offset)?;
    Some((
        NaiveDateTime::new(day, at).and_utc() - offset,
        Clock::LocalWithOffset,
    ))
}

fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A place from the parts UPS gives.
pub(crate) fn location(
    city: Option<&str>,
    state: Option<&str>,
    postal_code: Option<&str>,
    country: Option<&str>,
) -> EventLocation {
    EventLocation {
        city: text(city),
        state: text(state),
        postal_code: text(postal_code),
        country: text(country)
            .filter(|country| country.len() == 2)
            .map(|country| country.to_ascii_uppercase()),
    }
}

/// The parts of one activity, from either API.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Activity<'a> {
    pub(crate) kind: &'a str,
    pub(crate) code: &'a str,
    pub(crate) description: &'a str,
    pub(crate) gmt_date: Option<&'a str>,
    pub(crate) gmt_time: Option<&'a str>,
    pub(crate) local_date: Option<&'a str>,
    pub(crate) local_time: Option<&'a str>,
    pub(crate) gmt_offset: Option<&'a str>,
}

/// Why an activity gives no event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skipped {
    /// A `U` update: nothing to record.
    Update,
    /// The activity cannot be read (an unknown type, no instant, no code).
    Unreadable(String),
}

/// The event of one activity.
pub(crate) fn event(
    activity: Activity<'_>,
    location: EventLocation,
) -> Result<(TrackingEvent, Clock), Skipped> {
    let status = status(activity.kind, activity.code)
        .map_err(Skipped::Unreadable)?
        .ok_or(Skipped::Update)?;
    let code = activity.code.trim();
    if code.is_empty() {
        return Err(Skipped::Unreadable(
            "the activity has no status code".to_owned(),
        ));
    }
    let (at, clock) = instant(
        activity.gmt_date,
        activity.gmt_time,
        activity.local_date,
        activity.local_time,
        activity.gmt_offset,
    )
    .ok_or_else(|| {
        Skipped::Unreadable(
            "the activity has neither a GMT date and time nor a local one with its offset"
                .to_owned(),
        )
    })?;
    Ok((
        TrackingEvent {
            at,
            status,
            carrier_code: code.to_ascii_uppercase(),
            description: activity.description.trim().to_owned(),
            location,
        },
        clock,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn statuses_follow_the_documented_types_and_codes() {
        let table = [
            ("M", "MP", Some(TrackingStatus::Created)),
            ("MV", "MV", Some(TrackingStatus::Created)),
            ("I", "OR", Some(TrackingStatus::InTransit)),
            ("I", "OT", Some(TrackingStatus::InTransit)),
            ("D", "OF", Some(TrackingStatus::InTransit)),
            ("D", "FS", Some(TrackingStatus::Delivered)),
            ("d", "fs", Some(TrackingStatus::Delivered)),
            ("X", "ED", Some(TrackingStatus::Exception)),
            ("X", "RS", Some(TrackingStatus::ReturnedToSender)),
            ("I", "RS", Some(TrackingStatus::ReturnedToSender)),
            ("U", "SD", None),
        ];
        for (kind, code, expected) in table {
            assert_eq!(status(kind, code).unwrap(), expected, "{kind} {code}");
        }
    }

    #[test]
    fn an_undocumented_status_type_is_refused() {
        assert!(status("Z", "FS").is_err());
        assert!(status("", "FS").is_err());
    }

    #[test]
    fn the_gmt_instant_wins_over_the_local_one() {
        let (at, clock) = instant(
            Some("20240423"),
            Some("131519"),
            Some("20240423"),
            Some("091519"),
            Some("-04.00"),
        )
        .unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2024, 4, 23, 13, 15, 19).unwrap());
        assert_eq!(clock, Clock::Gmt);
    }

    #[test]
    fn a_local_time_is_converted_by_its_offset_in_either_notation() {
        for offset in ["-04.00", "-04:00"] {
            let (at, clock) =
                instant(None, None, Some("20240423"), Some("091519"), Some(offset)).unwrap();
            assert_eq!(at, Utc.with_ymd_and_hms(2024, 4, 23, 13, 15, 19).unwrap());
            assert_eq!(clock, Clock::LocalWithOffset);
        }
        let (at, _) =
            instant(None, None, Some("20240423"), Some("011519"), Some("+05.30")).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2024, 4, 22, 19, 45, 19).unwrap());
    }

    #[test]
    fn a_five_digit_time_lost_its_leading_zero() {
        let (at, _) = instant(Some("20210210"), Some("74700"), None, None, None).unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2021, 2, 10, 7, 47, 0).unwrap());
    }

    #[test]
    fn a_local_time_without_an_offset_has_no_instant() {
        assert_eq!(
            instant(None, None, Some("20240423"), Some("091519"), None),
            None
        );
        assert_eq!(
            instant(Some("2024-04-23"), Some("131519"), None, None, None),
            None
        );
        assert_eq!(
            instant(None, None, Some("20240423"), Some("091519"), Some("-4")),
            None
        );
    }

    #[test]
    fn an_update_gives_no_event() {
        let activity = Activity {
            kind: "U",
            code: "SD",
            description: "Delivery date changed",
            gmt_date: Some("20240423"),
            gmt_time: Some("131519"),
            local_date: None,
            local_time: None,
            gmt_offset: None,
        };
        assert_eq!(
            event(activity, EventLocation::default()).unwrap_err(),
            Skipped::Update
        );
    }
}
