//! Postal addresses and their parts (state, ZIP5, ZIP4, phone, email), parsed at the edge so an
//! invalid value cannot exist past it. These are the carrier-neutral rules; a plugin adds its
//! carrier's own limits (lengths, printed widths) when it builds a request.

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

string_newtype!(
    /// A two-letter USPS state or territory code, upper case.
    State
);

impl State {
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
    pub zip5: Option<String>,
    pub zip4: Option<String>,
    pub urbanization: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A validated US postal address with the person or firm at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: State,
    pub zip5: Zip5,
    pub zip4: Option<Zip4>,
    pub urbanization: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
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
        let state = match present(&input.state) {
            Some(raw) => errors.collect(State::parse(&join(path, "state"), raw)),
            None => {
                errors.push(join(path, "state"), "is required");
                None
            }
        };
        let zip5 = match present(&input.zip5) {
            Some(raw) => errors.collect(Zip5::parse(&join(path, "zip5"), raw)),
            None => {
                errors.push(join(path, "zip5"), "is required");
                None
            }
        };
        let zip4 = present(&input.zip4)
            .and_then(|raw| errors.collect(Zip4::parse(&join(path, "zip4"), raw)));
        let urbanization = text(path, "urbanization", &input.urbanization, &mut errors);
        let phone = present(&input.phone)
            .and_then(|raw| errors.collect(Phone::parse(&join(path, "phone"), raw)));
        let email = present(&input.email)
            .and_then(|raw| errors.collect(Email::parse(&join(path, "email"), raw)));

        match (street1, city, state, zip5) {
            (Some(street1), Some(city), Some(state), Some(zip5)) if errors.is_empty() => {
                Ok(Address {
                    first_name,
                    last_name,
                    firm,
                    street1,
                    street2,
                    city,
                    state,
                    zip5,
                    zip4,
                    urbanization,
                    phone,
                    email,
                })
            }
            _ => Err(errors),
        }
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
            state: Some(self.state.to_string()),
            zip5: Some(self.zip5.to_string()),
            zip4: self.zip4.as_ref().map(ToString::to_string),
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
        assert_eq!(address.state.as_str(), "MO");
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
    fn unknown_address_fields_are_refused() {
        let error = serde_json::from_str::<AddressInput>(r#"{"zip":"63118"}"#).unwrap_err();
        assert!(error.to_string().contains("unknown field `zip`"));
    }
}
