//! Neutral addresses as the Ship file's `shipper` and `recipients[]` parties (`contact` and
//! `address`), within the lengths the file gives: `streetLines` of 35 ("Max Length is 35"),
//! `city` 35, `companyName` 35, `personName` 70, `postalCode` 10, and a US phone of "exactly
//! 10 digits, plus an optional leading country code of '1' or '+1'" (sent as the ten digits).
//! The same address, without the contact, is AccountRegistration's `AddressVO`.

use carrier::{Address, Phone, ValidationErrors};
use serde::Serialize;

const LINE_MAX: usize = 35;
const CITY_MAX: usize = 35;
const COMPANY_MAX: usize = 35;
const PERSON_MAX: usize = 70;

/// `Party_Address` (the address part of a shipper or recipient).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireAddress {
    pub(crate) street_lines: Vec<String>,
    pub(crate) city: String,
    pub(crate) state_or_province_code: String,
    pub(crate) postal_code: String,
    pub(crate) country_code: String,
}

/// `Party_Contact`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) person_name: Option<String>,
    pub(crate) phone_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) company_name: Option<String>,
}

/// A shipper or recipient.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Party {
    pub(crate) contact: WireContact,
    pub(crate) address: WireAddress,
}

/// A US phone as the ten digits FedEx takes; a leading country code `1` is dropped.
pub(crate) fn us_phone(phone: &Phone) -> Option<String> {
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

/// Adds an error under `path` for everything FedEx would refuse in `address`.
pub(crate) fn check(path: &str, address: &Address, errors: &mut ValidationErrors) {
    if !address.country.is_us() {
        errors.push(
            format!("{path}.country"),
            "must be US: FedEx return labels here are US domestic",
        );
        return;
    }
    for (field, value) in [
        ("street1", Some(address.street1.as_str())),
        ("street2", address.street2.as_deref()),
    ] {
        if value.is_some_and(|v| too_long(v, LINE_MAX)) {
            errors.push(
                format!("{path}.{field}"),
                format!("must be at most {LINE_MAX} characters for FedEx"),
            );
        }
    }
    if too_long(&address.city, CITY_MAX) {
        errors.push(
            format!("{path}.city"),
            format!("must be at most {CITY_MAX} characters for FedEx"),
        );
    }
    if address
        .firm
        .as_deref()
        .is_some_and(|firm| too_long(firm, COMPANY_MAX))
    {
        errors.push(
            format!("{path}.firm"),
            format!("must be at most {COMPANY_MAX} characters for FedEx"),
        );
    }
    if address
        .full_name()
        .is_some_and(|name| too_long(&name, PERSON_MAX))
    {
        errors.push(
            format!("{path}.last_name"),
            format!("the full name must be at most {PERSON_MAX} characters for FedEx"),
        );
    }
    if let Some(phone) = &address.phone {
        if us_phone(phone).is_none() {
            errors.push(
                format!("{path}.phone"),
                "must be a US phone number of ten digits",
            );
        }
    }
}

/// The address part, for a US address that passed [`check`].
pub(crate) fn wire_address(address: &Address) -> WireAddress {
    let mut street_lines = vec![address.street1.clone()];
    street_lines.extend(address.street2.clone());
    let us = address.us();
    WireAddress {
        street_lines,
        city: address.city.clone(),
        state_or_province_code: us.map(|us| us.state.to_string()).unwrap_or_default(),
        postal_code: address
            .postal_code
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        country_code: address.country.to_string(),
    }
}

/// The party for `address`, whose phone FedEx requires: `None` when it has none.
pub(crate) fn party(address: &Address) -> Option<Party> {
    let phone_number = address.phone.as_ref().and_then(us_phone)?;
    Some(Party {
        contact: WireContact {
            person_name: address.full_name(),
            phone_number,
            company_name: address.firm.clone(),
        },
        address: wire_address(address),
    })
}
