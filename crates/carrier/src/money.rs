//! Money without floats: an integer count of minor units (cents) and a currency.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use crate::error::ValidationErrors;

/// An ISO 4217 currency: three upper-case letters. Carriers bill in many currencies (UPS
/// charges carry a `CurrencyCode`), so this is a code with its minor-unit digits rather than a
/// closed list; USPS postage is always [`Currency::USD`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

/// ISO 4217 currencies whose minor unit is not the cent (two digits): the zero-digit and
/// three-digit ones in current use.
const MINOR_DIGITS: &[(&str, u32)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
];

/// ISO 4217's own code for "no currency".
const NO_CURRENCY: &str = "XXX";

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const CAD: Currency = Currency(*b"CAD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const MXN: Currency = Currency(*b"MXN");

    /// Reads a three-letter code (`USD`); lower case is accepted and normalized.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let bytes = raw.trim().as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(ValidationErrors::single(
                field,
                "must be a three-letter ISO 4217 currency code like USD",
            )),
        }
    }

    pub fn code(&self) -> &str {
        // Built only from three ASCII letters, so the fallback is never taken.
        std::str::from_utf8(&self.0).unwrap_or(NO_CURRENCY)
    }

    fn minor_digits(self) -> u32 {
        MINOR_DIGITS
            .iter()
            .find(|(code, _)| *code == self.code())
            .map_or(2, |(_, digits)| *digits)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Currency::parse("currency", &raw).map_err(serde::de::Error::custom)
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
        Self::from_minor(cents, Currency::USD)
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

    /// `self + other`; `None` when the currencies differ or the sum overflows.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Self::from_minor(
            self.minor.checked_add(other.minor)?,
            self.currency,
        ))
    }

    /// The amount as a decimal string, e.g. `8.44`.
    pub fn amount(self) -> String {
        let digits = self.currency.minor_digits();
        let sign = if self.minor < 0 { "-" } else { "" };
        let magnitude = self.minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10_u64.pow(digits);
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
            Money::parse("p", "8.44", Currency::USD)
                .unwrap()
                .minor_units(),
            844
        );
        assert_eq!(
            Money::parse("p", "8.4", Currency::USD)
                .unwrap()
                .minor_units(),
            840
        );
        assert_eq!(
            Money::parse("p", "8", Currency::USD).unwrap().minor_units(),
            800
        );
        assert_eq!(
            Money::parse("p", "0.070", Currency::USD)
                .unwrap()
                .minor_units(),
            7
        );
        assert_eq!(
            Money::parse("p", "-0.50", Currency::USD)
                .unwrap()
                .minor_units(),
            -50
        );
    }

    #[test]
    fn sub_cent_amounts_and_junk_are_refused() {
        assert!(Money::parse("p", "8.445", Currency::USD).is_err());
        assert!(Money::parse("p", "8,44", Currency::USD).is_err());
        assert!(Money::parse("p", ".5", Currency::USD).is_err());
        assert!(Money::parse("p", "1e3", Currency::USD).is_err());
    }

    #[test]
    fn serializes_amount_as_a_string() {
        let json = serde_json::to_string(&Money::usd_cents(844)).unwrap();
        assert_eq!(json, r#"{"amount":"8.44","currency":"USD"}"#);
    }

    #[test]
    fn currencies_keep_their_minor_units() {
        let yen = Money::parse("p", "1200", Currency::parse("c", "jpy").unwrap()).unwrap();
        assert_eq!((yen.minor_units(), yen.amount()), (1200, "1200".to_owned()));
        assert!(Money::parse("p", "12.5", yen.currency()).is_err());
        let dinar = Money::parse("p", "1.250", Currency::parse("c", "KWD").unwrap()).unwrap();
        assert_eq!(dinar.amount(), "1.250");
        let euros = Money::parse("p", "7.10", Currency::EUR).unwrap();
        assert_eq!(
            serde_json::to_string(&euros).unwrap(),
            r#"{"amount":"7.10","currency":"EUR"}"#
        );
        assert!(Currency::parse("c", "US").is_err());
        assert!(Currency::parse("c", "U$D").is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"usd1"}"#).is_err());
    }

    #[test]
    fn sums_keep_their_currency_and_never_wrap() {
        assert_eq!(
            Money::usd_cents(844).checked_add(Money::usd_cents(265)),
            Some(Money::usd_cents(1109))
        );
        assert_eq!(
            Money::usd_cents(1).checked_add(Money::from_minor(1, Currency::EUR)),
            None
        );
        assert_eq!(
            Money::usd_cents(i64::MAX).checked_add(Money::usd_cents(1)),
            None
        );
    }

    proptest! {
        #[test]
        fn amount_round_trips(minor in -10_000_000_000i64..10_000_000_000) {
            let money = Money::usd_cents(minor);
            prop_assert_eq!(Money::parse("p", &money.amount(), Currency::USD).unwrap(), money);
        }
    }
}
