//! UPS "1Z" tracking numbers: `1Z`, a 6-character shipper number, a 2-digit service code, a
//! 7-digit reference and a check digit — 18 upper-case characters (Shipping.yaml:
//! `PackageResults.TrackingNumber`, length 18; the void's "Must pass 1Z rules. Must be upper
//! case."). The spec names the rules but does not spell out the check digit; this is UPS's
//! published mod-10 scheme: over the 15 characters after `1Z` (letters mapped to
//! `(ASCII − 63) mod 10`, so `A` = 2 … `I` = 0 …), odd positions count once and even positions
//! twice, and the check digit brings the sum to a multiple of ten.

use carrier::{TrackingNumber, ValidationErrors};

/// The check digit of the 15 characters after `1Z`, or `None` when they are not 15 upper-case
/// letters or digits.
pub(crate) fn check_digit(body: &str) -> Option<u32> {
    if body.len() != 15 {
        return None;
    }
    let mut sum = 0;
    for (index, byte) in body.bytes().enumerate() {
        let value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => (u32::from(byte) - 63) % 10,
            _ => return None,
        };
        // `index` counts from 0, so even indexes are the odd (1st, 3rd, …) positions.
        sum += if index % 2 == 0 { value } else { 2 * value };
    }
    Some((10 - sum % 10) % 10)
}

/// Whether `raw` is a well-formed 1Z number with a valid check digit.
pub(crate) fn is_valid(raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix("1Z") else {
        return false;
    };
    if rest.len() != 16 || !rest.is_ascii() {
        return false;
    }
    let (body, check) = rest.split_at(15);
    match (check_digit(body), check.parse::<u32>()) {
        (Some(expected), Ok(found)) => expected == found,
        _ => false,
    }
}

/// Parses a tracking number UPS returned, refusing anything but a valid 1Z number.
pub(crate) fn parse(field: &str, raw: &str) -> Result<TrackingNumber, ValidationErrors> {
    let raw = raw.trim();
    if !is_valid(raw) {
        return Err(ValidationErrors::single(
            field,
            "is not a UPS 1Z tracking number with a valid check digit",
        ));
    }
    TrackingNumber::other(field, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_numbers_pass() {
        // UPS's published test number and the Void example in Shipping.yaml.
        for number in ["1Z999AA10123456784", "1ZISUS010330563105"] {
            assert!(is_valid(number), "{number}");
        }
    }

    #[test]
    fn a_changed_character_fails_the_check() {
        assert!(!is_valid("1Z999AA10123456785"));
        assert!(!is_valid("1Z999AA10123456774"));
        assert!(!is_valid("1Z999AB10123456784"));
    }

    #[test]
    fn the_shape_is_checked_before_the_digit() {
        for number in [
            "",
            "1Z999AA1012345678",
            "1Z999AA101234567845",
            "2Z999AA10123456784",
            "1z999aa10123456784",
            "1Z999AA1012345678X",
            "1Z999-A10123456784",
            "1Z999AA1012345678é",
        ] {
            assert!(!is_valid(number), "{number}");
        }
    }

    #[test]
    fn parsing_names_the_field() {
        assert_eq!(
            parse("tracking_number", " 1Z999AA10123456784 ")
                .unwrap()
                .as_str(),
            "1Z999AA10123456784"
        );
        assert!(
            parse("tracking_number", "1Z999AA10123456785")
                .unwrap_err()
                .names("tracking_number")
        );
    }
}
