//! `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date.

use std::time::{Duration, SystemTime};

/// Parses a `Retry-After` value: delay-seconds or an HTTP date. A date in the past means "now";
/// anything else (negative numbers, words) is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_reads_delay_seconds() {
        assert_eq!(
            parse_retry_after("30", SystemTime::now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(" 0 ", SystemTime::now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_reads_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_717); // Sun, 06 Nov 1994 08:48:37 GMT
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_in_the_past_means_now() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777 + 3600);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
        assert_eq!(parse_retry_after("-5", SystemTime::now()), None);
    }
}
