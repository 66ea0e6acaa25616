//! FedEx tracking numbers. The files give examples only (`794953555571`, `128667043726`,
//! "Maximum length" nowhere); the check digits are FedEx's published schemes, as implemented
//! by tracking-number libraries (e.g. `jbittel/drogher`):
//!
//! - **12 digits** (FedEx Express, and Ground numbers issued in the Express range): the
//!   first 11 digits weighted 1, 3, 7, 1, 3, 7 … from the right; the sum modulo 11, then
//!   modulo 10, is the check digit.
//! - **15 digits** (FedEx Ground, the tracking part of a `96` barcode): over the first 14
//!   digits from the right, digits in odd positions (1st, 3rd …) count three times and the
//!   others once; the check digit brings the sum to a multiple of ten.
//!
//! Numbers of any other shape are refused: the Ship reply's number is what a void and every
//! tracking call name later.

use carrier::{TrackingNumber, ValidationErrors};

fn digits(raw: &str) -> Option<Vec<u32>> {
    raw.chars().map(|c| c.to_digit(10)).collect()
}

/// The check digit of the first 11 digits of a 12-digit number.
pub(crate) fn express_check_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .zip([1, 3, 7].iter().cycle())
        .map(|(digit, weight)| digit * weight)
        .sum();
    sum % 11 % 10
}

/// The check digit of the first 14 digits of a 15-digit Ground number.
pub(crate) fn ground_check_digit(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(index, digit)| if index % 2 == 0 { digit * 3 } else { *digit })
        .sum();
    (10 - sum % 10) % 10
}

/// Whether `raw` is a 12- or 15-digit FedEx number with a valid check digit.
pub(crate) fn is_valid(raw: &str) -> bool {
    let Some(digits) = digits(raw) else {
        return false;
    };
    match digits.split_last() {
        Some((check, body)) if body.len() == 11 => express_check_digit(body) == *check,
        Some((check, body)) if body.len() == 14 => ground_check_digit(body) == *check,
        _ => false,
    }
}

/// Parses a tracking number FedEx returned, refusing anything but a valid FedEx number.
pub(crate) fn parse(field: &str, raw: &str) -> Result<TrackingNumber, ValidationErrors> {
    let raw = raw.trim();
    if !is_valid(raw) {
        return Err(ValidationErrors::single(
            field,
            "is not a FedEx tracking number (12 or 15 digits) with a valid check digit",
        ));
    }
    TrackingNumber::other(field, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_example_numbers_pass() {
        // The cancel example, the tracking example, the Cancel_Shipment sample and a
        // document URL's number, all from the FedEx files.
        for number in [
            "794953555571",
            "128667043726",
            "794842623031",
            "794816968200",
        ] {
            assert!(is_valid(number), "{number}");
        }
    }

    #[test]
    fn a_changed_digit_fails_the_check() {
        assert!(!is_valid("794953555572"));
        assert!(!is_valid("794953555561"));
        assert!(!is_valid("128667043727"));
    }

    #[test]
    fn fifteen_digit_ground_numbers_use_the_mod_ten_scheme() {
        let body: Vec<u32> = digits("12345678901234").unwrap();
        let check = ground_check_digit(&body);
        let valid = format!("12345678901234{check}");
        assert!(is_valid(&valid), "{valid}");
        let wrong = format!("12345678901234{}", (check + 1) % 10);
        assert!(!is_valid(&wrong));
    }

    #[test]
    fn other_shapes_are_refused() {
        for number in [
            "",
            "79495355557",
            "7949535555711",
            "79495355557X",
            "1Z999AA10123456784",
            " 794953555571",
        ] {
            assert!(!is_valid(number), "{number:?}");
        }
        assert!(
            parse("tracking_number", "794953555572")
                .unwrap_err()
                .names("tracking_number")
        );
        assert_eq!(
            parse("t", " 794953555571 ").unwrap().as_str(),
            "794953555571"
        );
    }
}
