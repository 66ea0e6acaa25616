//! Addresses on the v3 wire: the `DomesticLabelAddress` element of the Labels API 3.9.13
//! (`DomesticAddress` + `Addressee` + `phone`/`email`) and the limits its schema sets, checked
//! before sending and reported in our field names.

use carrier::{Address, LabelAddress, ValidationErrors};
use serde::{Deserialize, Serialize};

/// `Addressee.firstName` / `lastName` / `firm` `maxLength`.
pub(crate) const NAME_MAX: usize = 50;
/// `Address.streetAddress` / `secondaryAddress` `maxLength`.
pub(crate) const STREET_MAX: usize = 50;
/// `DomesticAddress.city` `maxLength`.
pub(crate) const CITY_MAX: usize = 28;
/// `DomesticAddress.urbanization` `maxLength`.
pub(crate) const URBANIZATION_MAX: usize = 96;
/// `Email` `maxLength`.
pub(crate) const EMAIL_MAX: usize = 50;

/// The `DomesticLabelAddress` element as we send it.
#[derive(Debug, Serialize)]
pub(crate) struct DomesticLabelAddress<'a> {
    #[serde(rename = "firstName", skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(rename = "lastName", skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    firm: Option<&'a str>,
    #[serde(rename = "streetAddress")]
    street_address: &'a str,
    #[serde(rename = "secondaryAddress", skip_serializing_if = "Option::is_none")]
    secondary_address: Option<&'a str>,
    city: &'a str,
    state: &'a str,
    #[serde(rename = "ZIPCode")]
    zip_code: &'a str,
    #[serde(rename = "ZIPPlus4", skip_serializing_if = "Option::is_none")]
    zip_plus4: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urbanization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

impl<'a> DomesticLabelAddress<'a> {
    pub(crate) fn from_address(address: &'a Address) -> Self {
        // When a firm is given with only one of the two names, send the firm alone: USPS wants
        // "first and last name, or firm", and a lone name would print half a person.
        let us = address.us();
        let (first_name, last_name) = match (&address.first_name, &address.last_name) {
            (Some(first), Some(last)) => (Some(first.as_str()), Some(last.as_str())),
            _ => (None, None),
        };
        Self {
            first_name,
            last_name,
            firm: address.firm.as_deref(),
            street_address: &address.street1,
            secondary_address: address.street2.as_deref(),
            city: &address.city,
            // `check` refused every address that is not a US one before this is built.
            state: us.map_or("", |us| us.state.as_str()),
            zip_code: us.map_or("", |us| us.zip5),
            zip_plus4: us.and_then(|us| us.zip4),
            urbanization: address.urbanization.as_deref(),
            phone: address.phone.as_ref().map(|p| p.as_str()),
            email: address.email.as_ref().map(|e| e.as_str()),
        }
    }
}

/// The `labelAddress` USPS returns (the standardized destination it printed).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReturnedLabelAddress {
    #[serde(rename = "firstName")]
    first_name: Option<String>,
    #[serde(rename = "lastName")]
    last_name: Option<String>,
    firm: Option<String>,
    #[serde(rename = "streetAddress")]
    street_address: Option<String>,
    #[serde(rename = "secondaryAddress")]
    secondary_address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    #[serde(rename = "ZIPCode")]
    zip_code: Option<String>,
    #[serde(rename = "ZIPPlus4")]
    zip_plus4: Option<String>,
}

impl ReturnedLabelAddress {
    pub(crate) fn into_label_address(self) -> LabelAddress {
        let keep = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        LabelAddress {
            first_name: keep(self.first_name),
            last_name: keep(self.last_name),
            firm: keep(self.firm),
            street1: keep(self.street_address),
            street2: keep(self.secondary_address),
            city: keep(self.city),
            state: keep(self.state),
            zip5: keep(self.zip_code),
            zip4: keep(self.zip_plus4),
        }
    }
}

fn too_long(
    path: &str,
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut ValidationErrors,
) {
    if let Some(value) = value {
        if value.chars().count() > max {
            errors.push(
                format!("{path}.{field}"),
                format!("must be at most {max} characters for USPS"),
            );
        }
    }
}

/// Checks a parsed address against the v3 `DomesticLabelAddress` limits; errors are named
/// `{path}.{field}` in our naming (`from_address.street1`).
pub(crate) fn check(path: &str, address: &Address, errors: &mut ValidationErrors) {
    if address.us().is_none() {
        errors.push(
            format!("{path}.country"),
            format!(
                "USPS domestic return labels are for US addresses only, not {}",
                address.country
            ),
        );
    }
    too_long(
        path,
        "first_name",
        address.first_name.as_deref(),
        NAME_MAX,
        errors,
    );
    too_long(
        path,
        "last_name",
        address.last_name.as_deref(),
        NAME_MAX,
        errors,
    );
    too_long(path, "firm", address.firm.as_deref(), NAME_MAX, errors);
    too_long(path, "street1", Some(&address.street1), STREET_MAX, errors);
    too_long(
        path,
        "street2",
        address.street2.as_deref(),
        STREET_MAX,
        errors,
    );
    too_long(path, "city", Some(&address.city), CITY_MAX, errors);
    too_long(
        path,
        "urbanization",
        address.urbanization.as_deref(),
        URBANIZATION_MAX,
        errors,
    );
    if address.firm.is_none() && (address.first_name.is_none() || address.last_name.is_none()) {
        errors.push(
            format!("{path}.first_name"),
            "first and last name, or a firm name, are required by USPS",
        );
    }
    if let Some(phone) = &address.phone {
        if !is_usps_phone(phone.as_str()) {
            errors.push(
                format!("{path}.phone"),
                "must be 6 to 15 digits, or + and 8 to 15 digits not starting with 0, for USPS",
            );
        }
    }
    if let Some(email) = &address.email {
        if email.as_str().chars().count() > EMAIL_MAX {
            errors.push(
                format!("{path}.email"),
                format!("must be at most {EMAIL_MAX} characters for USPS"),
            );
        } else if !is_usps_email(email.as_str()) {
            errors.push(
                format!("{path}.email"),
                "must be an email address USPS accepts (letters, digits and _+&*- in the name)",
            );
        } else if !has_hostname_domain(email.as_str()) {
            errors.push(
                format!("{path}.email"),
                "must have a host-name domain (no - at either end of a part, no -- in its third and fourth places)",
            );
        }
    }
}

/// The `Phone` schema: `^\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$`.
pub(crate) fn is_usps_phone(phone: &str) -> bool {
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let international = {
        let rest = phone.strip_prefix('+').unwrap_or(phone);
        (8..=15).contains(&rest.len()) && all_digits(rest) && !rest.starts_with('0')
    };
    let national = (6..=15).contains(&phone.len()) && all_digits(phone);
    international || national
}

/// Whether the domain's labels are host names: no leading or trailing `-` (RFC 1034) and no
/// `--` in the third and fourth places, which RFC 5891 reserves for IDNA A-labels. The `Email`
/// schema's pattern allows `a@-.com` and `a@ab--c.com`; its `format: email` does not.
pub(crate) fn has_hostname_domain(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, domain)| {
        domain.split('.').all(|label| {
            !label.starts_with('-') && !label.ends_with('-') && label.get(2..4) != Some("--")
        })
    })
}

/// The `Email` schema: `^[a-zA-Z0-9_+&*-]+(?:\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$`.
pub(crate) fn is_usps_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = local.split('.').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+&*-".contains(&b))
    });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = match labels.split_last() {
        Some((top, rest)) => {
            !rest.is_empty()
                && top.len() >= 2
                && top.bytes().all(|b| b.is_ascii_alphabetic())
                && rest.iter().all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
        None => false,
    };
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PHONE: &str = r"^\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$";
    const EMAIL: &str =
        r"^[a-zA-Z0-9_+&*-]+(?:\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$";

    #[test]
    fn phone_check_matches_the_spec_pattern_on_examples() {
        let pattern = regex::Regex::new(PHONE).unwrap();
        for sample in [
            "3145550100",
            "+13145550100",
            "+0123456789",
            "123456",
            "12345",
            "+123456",
            "1234567890123456",
            "+1234567",
            "+12345678",
            "",
        ] {
            assert_eq!(is_usps_phone(sample), pattern.is_match(sample), "{sample}");
        }
    }

    #[test]
    fn email_check_matches_the_spec_pattern_on_examples() {
        let pattern = regex::Regex::new(EMAIL).unwrap();
        for sample in [
            "jane@example.com",
            "jane.doe+returns@mail.example.co",
            "a@b.c",
            "jane@example",
            "jane..doe@example.com",
            ".jane@example.com",
            "jane@-x.com",
            "jane@ex_ample.com",
            "jane@example.c0m",
            "o'brien@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(is_usps_email(sample), pattern.is_match(sample), "{sample}");
        }
    }

    #[test]
    fn hyphen_edged_domain_labels_are_refused() {
        assert!(!has_hostname_domain("a@-.com"));
        assert!(!has_hostname_domain("a@x-.example.com"));
        assert!(!has_hostname_domain("a@ab--c.com"));
        assert!(has_hostname_domain("a@my-shop.example.com"));
    }

    proptest! {
        #[test]
        fn phone_check_agrees_with_the_spec_pattern(sample in r"\+?[0-9]{0,17}") {
            let pattern = regex::Regex::new(PHONE).unwrap();
            prop_assert_eq!(is_usps_phone(&sample), pattern.is_match(&sample));
        }

        #[test]
        fn email_check_agrees_with_the_spec_pattern(sample in r"[a-z0-9_.'-]{0,6}@?[a-z0-9_.-]{0,8}\.?[a-z0-9]{0,3}") {
            let pattern = regex::Regex::new(EMAIL).unwrap();
            prop_assert_eq!(is_usps_email(&sample), pattern.is_match(&sample));
        }
    }
}
