//! Tracking numbers and the USPS Intelligent Mail package barcode (IMpb) check digit.
//!
//! Shared by the USPS plugin (to verify what USPS returns) and the simulator (to issue valid
//! numbers); a domain rule, not a wire type. Formats (USPS Publication 199, section 3.6):
//! `92` + service type code (3) + 9-digit MID + serial (7) + check digit, or
//! `93` + service type code (3) + 6-digit MID + serial (10) + check digit — 22 digits. The check
//! digit is mod 10 with weights 3, 1, 3, … from the right over the preceding digits. A full
//! barcode adds the routing part `420` + ZIP5 (or ZIP9) in front.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// The IMpb mod-10 check digit for `digits` (all ASCII digits, without the check digit).
///
/// Returns `None` when `digits` contains anything but ASCII digits.
pub fn impb_check_digit(digits: &str) -> Option<u8> {
    let mut sum: u32 = 0;
    for (position, byte) in digits.bytes().rev().enumerate() {
        if !byte.is_ascii_digit() {
            return None;
        }
        let value = u32::from(byte - b'0');
        sum += if position % 2 == 0 { value * 3 } else { value };
    }
    // The result is always a single digit.
    Some(((10 - sum % 10) % 10) as u8)
}

/// A carrier tracking number. For USPS it is an IMpb whose check digit has been verified.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackingNumber(String);

impl TrackingNumber {
    /// Parses a USPS IMpb tracking number (20 to 34 digits, the last a valid check digit).
    /// Spaces, which USPS prints for legibility, are removed first.
    pub fn parse_impb(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let digits: String = raw.chars().filter(|c| *c != ' ').collect();
        if digits.len() < 20 || digits.len() > 34 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationErrors::single(
                field,
                "must be an IMpb tracking number of 20 to 34 digits",
            ));
        }
        let (body, check) = digits.split_at(digits.len() - 1);
        let expected = impb_check_digit(body);
        if expected.map(|d| d.to_string()).as_deref() != Some(check) {
            return Err(ValidationErrors::single(
                field,
                "has an invalid IMpb check digit",
            ));
        }
        Ok(Self(digits))
    }

    /// Builds a 22-digit IMpb from its parts: a 9-digit MID takes a 7-digit serial (`92…`), a
    /// 6-digit MID a 10-digit serial (`93…`). `serial` is reduced modulo the serial's range.
    pub fn impb(service_type_code: &str, mid: &str, serial: u64) -> Option<Self> {
        if service_type_code.len() != 3 || !service_type_code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !mid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let body = match mid.len() {
            9 => format!("92{service_type_code}{mid}{:07}", serial % 10_000_000),
            6 => format!("93{service_type_code}{mid}{:010}", serial % 10_000_000_000),
            _ => return None,
        };
        let check = impb_check_digit(&body)?;
        Some(Self(format!("{body}{check}")))
    }

    /// A tracking number from a carrier that does not use IMpb; only emptiness is checked.
    pub fn other(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 64 {
            return Err(ValidationErrors::single(
                field,
                "must be 1 to 64 characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingNumber({})", self.0)
    }
}

/// Splits a full IMpb barcode (`420` + ZIP5 or ZIP9, then the tracking number) into its routing
/// part and a verified tracking number, as Web Tools returns it in `BarcodeNumber`.
pub fn split_impb_barcode(
    field: &str,
    barcode: &str,
) -> Result<(String, TrackingNumber), ValidationErrors> {
    let digits: String = barcode.chars().filter(|c| *c != ' ').collect();
    if !digits.starts_with("420") {
        return Err(ValidationErrors::single(
            field,
            "must start with the routing application identifier 420",
        ));
    }
    // The routing part is 420 + ZIP5 (8 digits) or 420 + ZIP9 (12 digits); the tracking number
    // that remains must then carry a valid check digit. Try the shorter ZIP first, as USPS
    // returns for returns labels.
    for routing_len in [8, 12] {
        // Not a char boundary (the reply is any text): not a routing part either.
        let Some((routing, rest)) = digits.split_at_checked(routing_len) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        if let Ok(tracking) = TrackingNumber::parse_impb(field, rest) {
            return Ok((routing.to_owned(), tracking));
        }
    }
    Err(ValidationErrors::single(
        field,
        "is not 420 + ZIP followed by a valid IMpb tracking number",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_barcode_with_multibyte_characters_is_refused_not_a_panic() {
        // Found by the webtools_reply fuzz target: `ÿ` spans bytes 7 and 8.
        let barcode = "420ÿÿÿÿ631169202190412893804982096";
        assert!(split_impb_barcode("BarcodeNumber", barcode).is_err());
        assert!(split_impb_barcode("BarcodeNumber", "4206311ÿ9202190412893804982096").is_err());
    }

    #[test]
    fn web_tools_sample_barcode_splits_into_routing_and_valid_tracking() {
        let (routing, tracking) =
            split_impb_barcode("BarcodeNumber", "420211449302012345600000007248").unwrap();
        assert_eq!(routing, "42021144");
        assert_eq!(tracking.as_str(), "9302012345600000007248");
    }

    #[test]
    fn wrong_check_digit_is_rejected() {
        let error = TrackingNumber::parse_impb("tracking", "9302012345600000007249").unwrap_err();
        assert!(error.to_string().contains("check digit"));
    }

    #[test]
    fn non_digits_are_rejected() {
        assert!(TrackingNumber::parse_impb("t", "93020123456000000072AB").is_err());
    }

    proptest! {
        #[test]
        fn built_impb_numbers_always_verify(serial in any::<u64>(), nine in any::<bool>()) {
            let mid = if nine { "904128936" } else { "901234" };
            let tracking = TrackingNumber::impb("021", mid, serial).unwrap();
            prop_assert_eq!(tracking.as_str().len(), 22);
            prop_assert!(TrackingNumber::parse_impb("t", tracking.as_str()).is_ok());
        }

        #[test]
        fn changing_one_digit_breaks_the_check(serial in any::<u64>(), position in 0usize..21, delta in 1u8..10) {
            let tracking = TrackingNumber::impb("021", "904128936", serial).unwrap();
            let mut bytes = tracking.as_str().as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(TrackingNumber::parse_impb("t", &changed).is_err());
        }
    }
}
