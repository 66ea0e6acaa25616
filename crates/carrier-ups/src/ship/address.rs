//! Neutral addresses as UPS's `Shipper`, `ShipTo` and `ShipFrom` containers, within the
//! lengths Shipping.yaml gives: names and attention names 35 characters, up to three
//! `AddressLine`s of 35 ("35 characters are accepted, but for the first occurrence, only 30
//! characters will be printed on the label for return shipments"), `City` 30, `PostalCode` 9,
//! `Phone.Number` 15 (for the US: ten digits).
//!
//! `PostalCode` is at most 9 characters, so a US ZIP+4 goes as its 9 digits without the
//! hyphen; the spec gives no format beyond the length for these containers.

use carrier::{Address, Phone, ValidationErrors};
use serde::Serialize;

const NAME_MAX: usize = 35;
const LINE_MAX: usize = 35;
const CITY_MAX: usize = 30;

/// `{Shipper,ShipTo,ShipFrom}_Address`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireAddress {
    pub(crate) address_line: Vec<String>,
    pub(crate) city: String,
    pub(crate) state_province_code: String,
    pub(crate) postal_code: String,
    pub(crate) country_code: String,
}

/// `{Shipper,ShipTo,ShipFrom}_Phone`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WirePhone {
    pub(crate) number: String,
}

/// Who is at an address, as UPS names them: `Name` (the firm, else the person) and
/// `AttentionName` (the person, when a firm is named too).
pub(crate) struct Party {
    pub(crate) name: String,
    pub(crate) attention: Option<String>,
    pub(crate) phone: Option<WirePhone>,
    pub(crate) address: WireAddress,
}

/// A US phone number in UPS's layout: "area code, 7 digit PhoneNumber" (`Shipper.Phone.Number`:
/// "Valid values are 0 - 9"), so ten digits; a leading country code `1` is dropped.
fn us_phone(phone: &Phone) -> Option<String> {
    let digits: String = phone
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let national = match digits.strip_prefix('1') {
        Some(rest) if digits.len() == 11 => rest.to_owned(),
        _ => digits,
    };
    (national.len() == 10).then_some(national)
}

fn too_long(value: &str, max: usize) -> bool {
    value.chars().count() > max
}

/// Checks what UPS would refuse or cut about `address` (field paths under `path`). Only US
/// addresses are served: the platform ships US-origin returns to a US return address for now
/// (a policy of ours, not a UPS limit), so another country is refused on `{path}.country`.
pub(crate) fn check(path: &str, address: &Address, errors: &mut ValidationErrors) {
    let field = |name: &str| format!("{path}.{name}");
    if address.us().is_none() {
        errors.push(
            field("country"),
            format!(
                "UPS return labels are for US addresses only; {} is not served",
                address.country.as_str()
            ),
        );
    }
    for (name, value) in [
        ("firm", address.firm.as_deref()),
        ("first_name", address.full_name().as_deref()),
    ] {
        if value.is_some_and(|value| too_long(value, NAME_MAX)) {
            errors.push(
                field(name),
                format!("UPS accepts names of at most {NAME_MAX} characters"),
            );
        }
    }
    for (name, value) in [
        ("street1", Some(address.street1.as_str())),
        ("street2", address.street2.as_deref()),
    ] {
        if value.is_some_and(|value| too_long(value, LINE_MAX)) {
            errors.push(
                field(name),
                format!("UPS accepts address lines of at most {LINE_MAX} characters"),
            );
        }
    }
    if address
        .phone
        .as_ref()
        .is_some_and(|phone| us_phone(phone).is_none())
    {
        errors.push(
            field("phone"),
            "UPS takes a US phone number as its 10 digits (area code and number)",
        );
    }
    if too_long(&address.city, CITY_MAX) {
        errors.push(
            field("city"),
            format!("UPS accepts cities of at most {CITY_MAX} characters"),
        );
    }
}

/// The party at `address`. [`check`] has passed, so every value fits and the address is a
/// US one.
pub(crate) fn party(address: &Address) -> Party {
    let person = address.full_name();
    let (name, attention) = match (&address.firm, person) {
        (Some(firm), person) => (firm.clone(), person),
        (None, Some(person)) => (person, None),
        // `Address::parse` requires a firm or a first and last name.
        (None, None) => (String::new(), None),
    };
    let phone = address
        .phone
        .as_ref()
        .and_then(us_phone)
        .map(|number| WirePhone { number });
    let us = address.us();
    let mut postal_code = us.map(|us| us.zip5.to_owned()).unwrap_or_default();
    if let Some(zip4) = us.and_then(|us| us.zip4) {
        postal_code.push_str(zip4);
    }
    let mut address_line = vec![address.street1.clone()];
    address_line.extend(address.street2.clone());
    Party {
        name,
        attention,
        phone,
        address: WireAddress {
            address_line,
            city: address.city.clone(),
            state_province_code: us
                .map(|us| us.state.as_str().to_owned())
                .unwrap_or_default(),
            postal_code,
            country_code: address.country.as_str().to_owned(),
        },
    }
}
