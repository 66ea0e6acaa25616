//! 1Z tracking numbers: `1Z` + the 6-character shipper number + a 2-digit service indicator +
//! a 7-digit package reference + one check digit, 18 characters (Shipping.yaml:
//! "Alpha-numeric. Must pass 1Z rules. Must be upper case. Length 18").
//!
//! The check digit, over the 15 characters between `1Z` and the check digit:
//! 1. each digit counts as itself; each letter as `(ASCII code − 63) mod 10`, i.e. UPS's
//!    table `A=2 B=3 … H=9 I=0 J=1 … R=9 S=0 … Z=7`;
//! 2. add the values in odd positions (1st, 3rd, …, 15th) and twice the values in even
//!    positions (2nd, …, 14th);
//! 3. the check digit is what brings the sum to the next multiple of 10: `(10 − sum mod 10) mod 10`.
//!
//! For `1Z999AA10123456784`: the body `999AA1012345678` has the values
//! 9 9 9 2 2 1 0 1 2 3 4 5 6 7 8; the odd positions add to 9+9+2+0+2+4+6+8 = 40, the even
//! ones to 9+2+1+1+3+5+7 = 28; 40 + 2 × 28 = 96, and the check digit is 10 − 6 = 4.

/// The value of one character of a 1Z body, or `None` for anything but `0-9A-Z`.
fn value(character: u8) -> Option<u32> {
    match character {
        b'0'..=b'9' => Some(u32::from(character - b'0')),
        b'A'..=b'Z' => Some((u32::from(character) - 63) % 10),
        _ => None,
    }
}

/// The check digit of the 15-character body (shipper number, service, reference).
pub(crate) fn check_digit(body: &str) -> Option<u32> {
    if body.len() != 15 {
        return None;
    }
    let mut sum = 0;
    for (index, character) in body.bytes().enumerate() {
        let value = value(character)?;
        // Index 0 is the 1st (odd) position.
        sum += if index % 2 == 0 { value } else { 2 * value };
    }
    Some((10 - sum % 10) % 10)
}

/// The 1Z number of `shipper_number`, `service` (2 digits) and `reference` (below 10⁷).
pub(crate) fn tracking_number(
    shipper_number: &str,
    service: &str,
    reference: u32,
) -> Option<String> {
    let body = format!("{shipper_number}{service}{:07}", reference % 10_000_000);
    let check = check_digit(&body)?;
    Some(format!("1Z{body}{check}"))
}

/// Whether `number` is a well-formed 1Z number with a valid check digit.
pub fn is_valid_1z(number: &str) -> bool {
    let Some(rest) = number.strip_prefix("1Z") else {
        return false;
    };
    if rest.len() != 16 {
        return false;
    }
    let (body, check) = rest.split_at(15);
    check_digit(body).is_some_and(|digit| check == digit.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_numbers_pass() {
        for number in [
            "1Z999AA10123456784",
            "1Z12345E6605272234",
            "1Z12345E1512345676",
            "1ZWX0692YP40636269",
        ] {
            assert!(is_valid_1z(number), "{number}");
        }
    }

    #[test]
    fn a_changed_digit_or_bad_shape_fails() {
        assert!(!is_valid_1z("1Z999AA10123456785"));
        assert!(!is_valid_1z("1Z999AA1012345678"));
        assert!(!is_valid_1z("1z999AA10123456784"));
        assert!(!is_valid_1z("1Z999aa10123456784"));
    }

    #[test]
    fn issued_numbers_carry_their_parts_and_pass() {
        let number = tracking_number("A1B2C3", "03", 42).unwrap();
        assert_eq!(&number[..16], "1ZA1B2C303000004");
        assert_eq!(number.len(), 18);
        assert!(is_valid_1z(&number));
    }
}
