//! FedEx's 12-digit Express and Ground tracking numbers: 11 digits and a check digit.
//!
//! The check digit (FedEx's "mod 11" for 12-digit numbers): weigh the first 11 digits, from
//! the 11th leftwards, by 1, 3, 7, 1, 3, 7, …; add the products; the remainder of the sum
//! divided by 11 is the check digit, 10 counting as 0. For `794843185271` (the Tracking file's
//! example): 7·3 + 9·1 + 4·7 + 8·3 + 4·1 + 3·7 + 1·3 + 8·1 + 5·7 + 2·3 + 7·1 = 166, and
//! 166 mod 11 = 1, the last digit.

/// The check digit of an 11-digit body.
pub(crate) fn check_digit(body: &str) -> Option<u32> {
    if body.len() != 11 {
        return None;
    }
    let weights = [1, 3, 7];
    let mut sum = 0;
    for (index, character) in body.bytes().rev().enumerate() {
        let digit = char::from(character).to_digit(10)?;
        sum += digit * weights[index % 3];
    }
    Some(sum % 11 % 10)
}

/// The tracking number of an 11-digit `serial`.
pub(crate) fn tracking_number(serial: u64) -> Option<String> {
    let body = format!("{:011}", serial % 100_000_000_000);
    let check = check_digit(&body)?;
    Some(format!("{body}{check}"))
}

/// Whether `number` is a 12-digit FedEx Express/Ground tracking number with a valid check
/// digit.
pub fn is_valid_tracking_number(number: &str) -> bool {
    if number.len() != 12 || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let (body, check) = number.split_at(11);
    check_digit(body).is_some_and(|digit| check == digit.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_files_example_numbers_pass() {
        for number in [
            "794843185271",
            "128667043726",
            "794953555571",
            "794842623031",
            "794810209259",
            "123456789012",
        ] {
            assert!(is_valid_tracking_number(number), "{number}");
        }
    }

    #[test]
    fn a_changed_digit_or_bad_shape_fails() {
        assert!(!is_valid_tracking_number("794843185272"));
        assert!(!is_valid_tracking_number("79484318527"));
        assert!(!is_valid_tracking_number("79484318527a"));
    }

    #[test]
    fn issued_numbers_pass() {
        for serial in [0, 1, 79_000_000_123, 99_999_999_999] {
            assert!(is_valid_tracking_number(&tracking_number(serial).unwrap()));
        }
    }
}
