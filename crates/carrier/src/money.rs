//! Money without floats: an integer count of minor units (cents) and a currency.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::ValidationErrors;

/// ISO 4217 currencies the platform handles. USPS postage is always USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
        }
    }

    fn minor_digits(self) -> u32 {
        match self {
            Currency::Usd => 2,
        }
    }
}

/// An amount of money in minor units. Serialized as `{"amount": "8.44", "currency": "USD"}`: the
/// amount is a decimal string so no client parses it into a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn usd_cents(cents: i64) -> Self {
        Self::from_minor(cents, Currency::Usd)
    }

    /// Parses a decimal amount such as `8.44`, `8.4`, `8` or `-0.50`. More fractional digits than
    /// the currency has are refused unless they are zeros: money is never rounded silently.
    pub fn parse(field: &str, raw: &str, currency: Currency) -> Result<Self, ValidationErrors> {
        let invalid = || ValidationErrors::single(field, "must be a decimal amount like 8.44");
        let raw = raw.trim();
        let (negative, unsigned) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits = currency.minor_digits() as usize;
        let (kept, dropped) = fraction.split_at(fraction.len().min(digits));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(ValidationErrors::single(
                field,
                format!("has more than {digits} decimal places"),
            ));
        }
        let mut minor_text = String::with_capacity(whole.len() + digits);
        minor_text.push_str(whole);
        minor_text.push_str(kept);
        for _ in kept.len()..digits {
            minor_text.push('0');
        }
        let magnitude: i64 = minor_text.parse().map_err(|_| invalid())?;
        Ok(Self::from_minor(
            if negative { -magnitude } else { magnitude },
            currency,
        ))
    }

    pub fn minor_units(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount as a decimal string, e.g. `8.44`.
    pub fn amount(self) -> String {
        let digits = self.currency.minor_digits();
        let scale = 10_i64.pow(digits);
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        let scale = scale.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            magnitude / scale,
            magnitude % scale,
            width = digits as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency.code())
    }
}

#[derive(Serialize, Deserialize)]
struct MoneyWire {
    amount: String,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.amount(),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        Money::parse("amount", &wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_to_exact_cents() {
        assert_eq!(
            Money::parse("p", "8.44", Currency::Usd)
                .unwrap()
                .minor_units(),
            844
        );
        assert_eq!(
            Money::parse("p", "8.4", Currency::Usd)
                .unwrap()
                .minor_units(),
            840
        );
        assert_eq!(
            Money::parse("p", "8", Currency::Usd).unwrap().minor_units(),
            800
        );
        assert_eq!(
            Money::parse("p", "0.070", Currency::Usd)
                .unwrap()
                .minor_units(),
            7
        );
        assert_eq!(
            Money::parse("p", "-0.50", Currency::Usd)
                .unwrap()
                .minor_units(),
            -50
        );
    }

    #[test]
    fn sub_cent_amounts_and_junk_are_refused() {
        assert!(Money::parse("p", "8.445", Currency::Usd).is_err());
        assert!(Money::parse("p", "8,44", Currency::Usd).is_err());
        assert!(Money::parse("p", ".5", Currency::Usd).is_err());
        assert!(Money::parse("p", "1e3", Currency::Usd).is_err());
    }

    #[test]
    fn serializes_amount_as_a_string() {
        let json = serde_json::to_string(&Money::usd_cents(844)).unwrap();
        assert_eq!(json, r#"{"amount":"8.44","currency":"USD"}"#);
    }

    proptest! {
        #[test]
        fn amount_round_trips(minor in -10_000_000_000i64..10_000_000_000) {
            let money = Money::usd_cents(minor);
            prop_assert_eq!(Money::parse("p", &money.amount(), Currency::Usd).unwrap(), money);
        }
    }
}
