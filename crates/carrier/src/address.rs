//! Postal addresses and their parts (country, state or province, postal code — ZIP5 and ZIP4 for
//! the US — phone, email), parsed at the edge so an invalid value cannot exist past it. These are
//! the carrier-neutral rules; a plugin adds its carrier's own limits (lengths, printed widths, the
//! countries it serves) when it builds a request.
//!
//! Every address has a `country` (ISO 3166-1 alpha-2, `US` when absent). US addresses keep the
//! US rules: a USPS state or territory code and a ZIP Code, sent as `postal_code` (`63118` or
//! `63118-2520`) or as `zip5`/`zip4`. Elsewhere `state` is the state or province code where the
//! country has one and `postal_code` is the country's postal code, both checked only for shape:
//! which countries a label can leave from is the carrier's to say, by field
//! (`from_address.country`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// USPS state and territory codes, including the military `AA`/`AE`/`AP` (the list of the USPS
/// v3 `State` schema).
pub const US_STATES: &[&str] = &[
    "AA", "AE", "AL", "AK", "AP", "AS", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FM", "FL", "GA",
    "GU", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MH", "MD", "MA", "MI", "MN", "MS",
    "MO", "MP", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PW", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI", "VA", "WA", "WV", "WI", "WY",
];

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationErrors;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(stringify!($name), &value)
            }
        }
    };
}

/// ISO 3166-1 alpha-2 codes of the officially assigned countries and territories.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

string_newtype!(
    /// An ISO 3166-1 alpha-2 country code, upper case.
    Country
);

impl Country {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let upper = raw.trim().to_ascii_uppercase();
        if COUNTRIES.contains(&upper.as_str()) {
            Ok(Self(upper))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be an ISO 3166-1 alpha-2 country code like US",
            ))
        }
    }

    /// The United States, every address's country when none is given.
    pub fn us() -> Self {
        Self("US".to_owned())
    }

    pub fn is_us(&self) -> bool {
        self.0 == "US"
    }
}

string_newtype!(
    /// A state, province or region code, upper case: for the US a USPS state or territory code,
    /// elsewhere one to three letters or digits (`ON`, `NSW`, `01`).
    State
);

impl State {
    /// A US state or territory code.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let upper = raw.trim().to_ascii_uppercase();
        if US_STATES.contains(&upper.as_str()) {
            Ok(Self(upper))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be a two-letter US state or territory code",
            ))
        }
    }

    /// A state or province code of `country`: the US list for the US, the shape elsewhere.
    pub fn parse_in(country: &Country, field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        if country.is_us() {
            return Self::parse(field, raw);
        }
        let upper = raw.trim().to_ascii_uppercase();
        if (1..=3).contains(&upper.len()) && upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(upper))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be a state or province code of 1 to 3 letters or digits",
            ))
        }
    }
}

string_newtype!(
    /// A postal code, normalized: for the US `63118` or `63118-2520`; elsewhere upper case, 2 to
    /// 10 letters, digits, spaces and dashes (`K1A 0B1`, `SW1A 1AA`).
    PostalCode
);

impl PostalCode {
    /// A postal code of `country`.
    pub fn parse_in(country: &Country, field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        if country.is_us() {
            let (zip5, zip4) = match trimmed.split_once('-') {
                Some((zip5, zip4)) => (zip5, Some(zip4)),
                None => (trimmed, None),
            };
            let shape =
                || ValidationErrors::single(field, "must be a ZIP Code like 63118 or 63118-2520");
            let zip5 = Zip5::parse(field, zip5).map_err(|_| shape())?;
            let zip4 = zip4
                .map(|zip4| Zip4::parse(field, zip4))
                .transpose()
                .map_err(|_| shape())?;
            return Ok(Self::us(&zip5, zip4.as_ref()));
        }
        Self::parse(field, trimmed)
    }

    /// A postal code of any country, checked for shape only (a stored one).
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let upper = raw.trim().to_ascii_uppercase();
        let shaped = (2..=10).contains(&upper.len())
            && upper
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
            && upper.bytes().any(|b| b.is_ascii_alphanumeric());
        if shaped {
            Ok(Self(upper))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be a postal code of 2 to 10 letters, digits, spaces or dashes",
            ))
        }
    }

    fn us(zip5: &Zip5, zip4: Option<&Zip4>) -> Self {
        match zip4 {
            Some(zip4) => Self(format!("{zip5}-{zip4}")),
            None => Self(zip5.to_string()),
        }
    }
}

string_newtype!(
    /// A five-digit ZIP Code.
    Zip5
);

impl Zip5 {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        if trimmed.len() == 5 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ValidationErrors::single(field, "must be 5 digits"))
        }
    }
}

string_newtype!(
    /// The four-digit ZIP+4 add-on.
    Zip4
);

impl Zip4 {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        if trimmed.len() == 4 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ValidationErrors::single(field, "must be 4 digits"))
        }
    }
}

string_newtype!(
    /// A phone number reduced to digits (and an optional leading `+`): 6 to 15 digits.
    Phone
);

impl Phone {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => {
                    return Err(ValidationErrors::single(
                        field,
                        "may contain only digits, spaces, dashes, dots, parentheses and a leading +",
                    ));
                }
            }
        }
        if !(6..=15).contains(&digits.len()) {
            return Err(ValidationErrors::single(field, "must have 6 to 15 digits"));
        }
        Ok(Self(format!("{plus}{digits}")))
    }
}

string_newtype!(
    /// An email address: one `@`, a non-empty local part and a dotted domain, at most 254
    /// characters.
    Email
);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let trimmed = raw.trim();
        let valid = trimmed.len() <= 254
            && !trimmed.chars().any(char::is_whitespace)
            && match trimmed.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.split('.').count() >= 2
                        && domain.split('.').all(|label| !label.is_empty())
                }
                None => false,
            };
        if valid {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ValidationErrors::single(field, "must be an email address"))
        }
    }
}

/// An address as it arrives from a client: every field optional so that missing ones are
/// reported by name rather than as a deserialization failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2; `US` when absent.
    pub country: Option<String>,
    /// The US ZIP Code, the same as `postal_code`'s first five digits (either may be sent).
    pub zip5: Option<String>,
    pub zip4: Option<String>,
    pub urbanization: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A validated postal address with the person or firm at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    /// Required for the US; elsewhere where the client gave one.
    pub state: Option<State>,
    /// Required for the US; elsewhere where the client gave one.
    pub postal_code: Option<PostalCode>,
    #[serde(default = "Country::us")]
    pub country: Country,
    pub urbanization: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
}

/// The parts only a US address has, never missing on one: see [`Address::us`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsParts<'a> {
    pub state: &'a State,
    pub zip5: &'a str,
    pub zip4: Option<&'a str>,
}

/// Trims and drops empty strings, so `""` and `null` mean the same.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn text(
    path: &str,
    field: &str,
    value: &Option<String>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = present(value)?;
    let field = join(path, field);
    errors.collect(crate::text::check_plain(&field, value))?;
    Some(value.to_owned())
}

/// The state and postal code of an address in `country`: for the US both required, the ZIP Code
/// given as `postal_code` or as `zip5`/`zip4` (both agreeing when both are sent); elsewhere
/// both optional and `zip5`/`zip4` refused.
fn regional_parts(
    path: &str,
    country: &Country,
    input: &AddressInput,
    errors: &mut ValidationErrors,
) -> (Option<State>, Option<PostalCode>) {
    let state = match present(&input.state) {
        Some(raw) => errors.collect(State::parse_in(country, &join(path, "state"), raw)),
        None if country.is_us() => {
            errors.push(join(path, "state"), "is required");
            None
        }
        None => None,
    };
    let postal = present(&input.postal_code).and_then(|raw| {
        errors.collect(PostalCode::parse_in(
            country,
            &join(path, "postal_code"),
            raw,
        ))
    });
    if !country.is_us() {
        for (field, value) in [("zip5", &input.zip5), ("zip4", &input.zip4)] {
            if present(value).is_some() {
                errors.push(
                    join(path, field),
                    "is only for US addresses; send postal_code",
                );
            }
        }
        return (state, postal);
    }
    let zip5 =
        present(&input.zip5).and_then(|raw| errors.collect(Zip5::parse(&join(path, "zip5"), raw)));
    let zip4 =
        present(&input.zip4).and_then(|raw| errors.collect(Zip4::parse(&join(path, "zip4"), raw)));
    let from_zip = zip5
        .as_ref()
        .map(|zip5| PostalCode::us(zip5, zip4.as_ref()));
    let postal = match (postal, from_zip) {
        (Some(postal), Some(from_zip)) if postal != from_zip => {
            errors.push(
                join(path, "postal_code"),
                format!("does not match zip5/zip4 ({from_zip})"),
            );
            None
        }
        (Some(postal), _) => Some(postal),
        (None, Some(from_zip)) => Some(from_zip),
        (None, None) => {
            let zip_given = present(&input.zip5).is_some() || present(&input.postal_code).is_some();
            if !zip_given {
                errors.push(join(path, "zip5"), "is required (or postal_code)");
            }
            None
        }
    };
    if zip4.is_some() && zip5.is_none() && present(&input.zip5).is_none() {
        errors.push(join(path, "zip5"), "is required with zip4");
    }
    (state, postal)
}

impl Address {
    /// Validates `input`; field paths in errors are prefixed with `path` (e.g. `from_address`).
    pub fn parse(path: &str, input: &AddressInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let first_name = text(path, "first_name", &input.first_name, &mut errors);
        let last_name = text(path, "last_name", &input.last_name, &mut errors);
        let firm = text(path, "firm", &input.firm, &mut errors);
        if firm.is_none() && (first_name.is_none() || last_name.is_none()) {
            let missing = if first_name.is_none() {
                "first_name"
            } else {
                "last_name"
            };
            errors.push(
                join(path, missing),
                "first and last name, or a firm name, are required",
            );
        }
        let street1 = text(path, "street1", &input.street1, &mut errors);
        if present(&input.street1).is_none() {
            errors.push(join(path, "street1"), "is required");
        }
        let street2 = text(path, "street2", &input.street2, &mut errors);
        let city = text(path, "city", &input.city, &mut errors);
        if present(&input.city).is_none() {
            errors.push(join(path, "city"), "is required");
        }
        let country = match present(&input.country) {
            Some(raw) => errors.collect(Country::parse(&join(path, "country"), raw)),
            None => Some(Country::us()),
        };
        let (state, postal_code) = match &country {
            Some(country) => regional_parts(path, country, input, &mut errors),
            None => (None, None),
        };
        let urbanization = text(path, "urbanization", &input.urbanization, &mut errors);
        let phone = present(&input.phone)
            .and_then(|raw| errors.collect(Phone::parse(&join(path, "phone"), raw)));
        let email = present(&input.email)
            .and_then(|raw| errors.collect(Email::parse(&join(path, "email"), raw)));

        match (street1, city, country) {
            (Some(street1), Some(city), Some(country)) if errors.is_empty() => Ok(Address {
                first_name,
                last_name,
                firm,
                street1,
                street2,
                city,
                state,
                postal_code,
                country,
                urbanization,
                phone,
                email,
            }),
            _ => Err(errors),
        }
    }

    /// The state and ZIP Code of a US address; `None` for any other country.
    pub fn us(&self) -> Option<UsParts<'_>> {
        if !self.country.is_us() {
            return None;
        }
        let state = self.state.as_ref()?;
        let postal = self.postal_code.as_ref()?.as_str();
        let (zip5, zip4) = match postal.split_once('-') {
            Some((zip5, zip4)) => (zip5, Some(zip4)),
            None => (postal, None),
        };
        Some(UsParts { state, zip5, zip4 })
    }

    /// "First Last", when both are present.
    pub fn full_name(&self) -> Option<String> {
        match (&self.first_name, &self.last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            _ => None,
        }
    }

    /// The input this address was parsed from (normalized), for storing and re-parsing.
    pub fn to_input(&self) -> AddressInput {
        AddressInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            firm: self.firm.clone(),
            street1: Some(self.street1.clone()),
            street2: self.street2.clone(),
            city: Some(self.city.clone()),
            state: self.state.as_ref().map(ToString::to_string),
            postal_code: self.postal_code.as_ref().map(ToString::to_string),
            country: Some(self.country.to_string()),
            zip5: self.us().map(|us| us.zip5.to_owned()),
            zip4: self.us().and_then(|us| us.zip4.map(str::to_owned)),
            urbanization: self.urbanization.clone(),
            phone: self.phone.as_ref().map(ToString::to_string),
            email: self.email.as_ref().map(ToString::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> AddressInput {
        AddressInput {
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            street1: Some("1100 Wyoming St".into()),
            city: Some("Saint Louis".into()),
            state: Some("mo".into()),
            zip5: Some("63118".into()),
            ..AddressInput::default()
        }
    }

    #[test]
    fn valid_address_is_normalized() {
        let address = Address::parse("from_address", &jane()).unwrap();
        assert_eq!(address.state.as_ref().unwrap().as_str(), "MO");
        assert_eq!(address.country.as_str(), "US");
        assert_eq!(address.us().unwrap().zip5, "63118");
        assert_eq!(address.full_name().as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn every_bad_field_is_named_with_its_path() {
        let input = AddressInput {
            first_name: None,
            zip5: Some("6311".into()),
            zip4: Some("12".into()),
            state: Some("XX".into()),
            city: Some(" ".into()),
            email: Some("not-an-email".into()),
            ..jane()
        };
        let errors = Address::parse("from_address", &input).unwrap_err();
        for field in [
            "from_address.first_name",
            "from_address.zip5",
            "from_address.zip4",
            "from_address.state",
            "from_address.city",
            "from_address.email",
        ] {
            assert!(errors.names(field), "{field} missing from {errors}");
        }
    }

    #[test]
    fn a_firm_alone_is_enough() {
        let input = AddressInput {
            first_name: None,
            last_name: None,
            firm: Some("Acme Returns".into()),
            ..jane()
        };
        assert!(Address::parse("to", &input).is_ok());
    }

    #[test]
    fn phone_punctuation_is_removed() {
        assert_eq!(
            Phone::parse("p", "(314) 555-0100").unwrap().as_str(),
            "3145550100"
        );
        assert!(Phone::parse("p", "call me").is_err());
    }

    #[test]
    fn a_us_zip_code_may_come_as_postal_code_and_must_agree_with_zip5() {
        let by_postal = AddressInput {
            zip5: None,
            postal_code: Some("63118-2520".into()),
            ..jane()
        };
        let address = Address::parse("a", &by_postal).unwrap();
        let us = address.us().unwrap();
        assert_eq!((us.zip5, us.zip4), ("63118", Some("2520")));
        assert_eq!(address.to_input().zip4.as_deref(), Some("2520"));
        assert_eq!(Address::parse("a", &address.to_input()).unwrap(), address);

        let disagreeing = AddressInput {
            postal_code: Some("63119".into()),
            ..jane()
        };
        let errors = Address::parse("a", &disagreeing).unwrap_err();
        assert!(errors.names("a.postal_code"), "{errors}");
        let neither = AddressInput {
            zip5: None,
            ..jane()
        };
        assert!(Address::parse("a", &neither).unwrap_err().names("a.zip5"));
        let bad = AddressInput {
            zip5: None,
            postal_code: Some("6311".into()),
            ..jane()
        };
        assert!(
            Address::parse("a", &bad)
                .unwrap_err()
                .names("a.postal_code")
        );
    }

    #[test]
    fn other_countries_keep_their_own_postal_codes_and_provinces() {
        let ottawa = AddressInput {
            first_name: Some("Jean".into()),
            last_name: Some("Roy".into()),
            street1: Some("80 Wellington St".into()),
            city: Some("Ottawa".into()),
            state: Some("on".into()),
            postal_code: Some("k1a 0a2".into()),
            country: Some("ca".into()),
            ..AddressInput::default()
        };
        let address = Address::parse("from_address", &ottawa).unwrap();
        assert_eq!(address.country.as_str(), "CA");
        assert_eq!(address.postal_code.as_ref().unwrap().as_str(), "K1A 0A2");
        assert!(address.us().is_none());
        assert_eq!(
            Address::parse("from_address", &address.to_input()).unwrap(),
            address
        );

        let with_zip = AddressInput {
            zip5: Some("63118".into()),
            ..ottawa.clone()
        };
        let errors = Address::parse("from_address", &with_zip).unwrap_err();
        assert!(errors.names("from_address.zip5"), "{errors}");
        let unknown = AddressInput {
            country: Some("XX".into()),
            ..ottawa.clone()
        };
        let errors = Address::parse("from_address", &unknown).unwrap_err();
        assert!(errors.names("from_address.country"), "{errors}");
        let province = AddressInput {
            state: Some("ONTARIO".into()),
            ..ottawa
        };
        assert!(
            Address::parse("from_address", &province)
                .unwrap_err()
                .names("from_address.state")
        );
    }

    #[test]
    fn a_stored_address_without_a_country_is_a_us_address() {
        let mut stored = serde_json::to_value(Address::parse("a", &jane()).unwrap()).unwrap();
        stored.as_object_mut().unwrap().remove("country");
        let address: Address = serde_json::from_value(stored).unwrap();
        assert!(address.country.is_us());
    }

    #[test]
    fn unknown_address_fields_are_refused() {
        let error = serde_json::from_str::<AddressInput>(r#"{"zip":"63118"}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field `zip`"));
    }
}
