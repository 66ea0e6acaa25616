//! What a label costs, carrier-neutral: the base postage, the fees charged on top of it (extra
//! services, surcharges) and the total (API.md, "Return labels — additions": `postage` stays
//! the base postage; `fees` and `total` are added).
//!
//! The rules every carrier's label follows, whatever its carrier calls things:
//! - One currency: the postage's. A fee or a total in another currency is refused
//!   ([`ChargesError::Currency`]); no carrier in the reference mixes them.
//! - A fee of zero is not a charge: carriers list free services too (USPS "USPS Tracking" at
//!   0.00, UPS `ServiceOptionsCharges` of 0.00), and those are left out of `fees`.
//! - Without a total from the carrier, the total is the postage plus the fees
//!   ([`Charges::itemized`]). With one ([`Charges::stated`]) the carrier's total is kept — it is
//!   what the carrier bills — and when the postage and fees do not add up to it, the label
//!   carries a [`Warning`] `charges_do_not_add_up` naming both sums, so nobody trusts the
//!   breakdown blindly.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::label::Warning;
use crate::money::{Currency, Money};

/// A fee on top of the postage: an extra service or a surcharge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// The carrier's code for it (USPS Web Tools `ServiceID`, a USPS v3 `SKU`), when it has one.
    pub code: Option<String>,
    /// The carrier's name for it, when it gives one.
    pub name: Option<String>,
    pub amount: Money,
}

impl Fee {
    pub fn new(code: Option<&str>, name: Option<&str>, amount: Money) -> Self {
        let text = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Self {
            code: text(code),
            name: text(name),
            amount,
        }
    }
}

/// Why charges could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargesError {
    /// A fee or the total is not in the postage's currency.
    #[error("{what} is in {found}, the postage in {postage}")]
    Currency {
        what: &'static str,
        found: Currency,
        postage: Currency,
    },
    /// The sum does not fit in the range of [`Money`].
    #[error("the postage and fees add up to more than an amount can hold")]
    Overflow,
}

/// A label's postage, fees and total. Built only by [`Charges::postage_only`],
/// [`Charges::itemized`] or [`Charges::stated`], so the rules of the module always hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charges {
    postage: Money,
    fees: Vec<Fee>,
    total: Money,
}

impl Charges {
    /// A label whose carrier reports the postage alone.
    pub fn postage_only(postage: Money) -> Self {
        Self {
            postage,
            fees: Vec::new(),
            total: postage,
        }
    }

    /// The postage and fees as the carrier itemized them, without a total of its own: the total
    /// is their sum.
    pub fn itemized(postage: Money, fees: Vec<Fee>) -> Result<Self, ChargesError> {
        let fees = charged(postage.currency(), fees)?;
        let total = sum(postage, &fees)?;
        Ok(Self {
            postage,
            fees,
            total,
        })
    }

    /// The postage and fees with the total the carrier (`carrier_name`) stated. The stated
    /// total is kept; a warning is returned when the postage and fees do not add up to it.
    pub fn stated(
        postage: Money,
        fees: Vec<Fee>,
        total: Money,
        carrier_name: &str,
    ) -> Result<(Self, Option<Warning>), ChargesError> {
        if total.currency() != postage.currency() {
            return Err(ChargesError::Currency {
                what: "the total",
                found: total.currency(),
                postage: postage.currency(),
            });
        }
        let fees = charged(postage.currency(), fees)?;
        let added = sum(postage, &fees)?;
        let warning = (added != total).then(|| {
            Warning::new(
                "charges_do_not_add_up",
                Some("total"),
                format!(
                    "{carrier_name} stated a total of {total}, but the postage and fees it listed add up to {added}; the total is {carrier_name}'s"
                ),
            )
        });
        Ok((
            Self {
                postage,
                fees,
                total,
            },
            warning,
        ))
    }

    /// The base postage, without any fee.
    pub fn postage(&self) -> Money {
        self.postage
    }

    /// The fees on top of the postage, none of them zero.
    pub fn fees(&self) -> &[Fee] {
        &self.fees
    }

    /// What the label costs.
    pub fn total(&self) -> Money {
        self.total
    }
}

impl fmt::Display for Charges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} postage", self.postage)?;
        for fee in &self.fees {
            let name = fee.name.as_deref().or(fee.code.as_deref()).unwrap_or("fee");
            write!(f, " + {} {name}", fee.amount)?;
        }
        write!(f, " = {}", self.total)
    }
}

/// The fees that cost something, each checked to be in `currency`.
fn charged(currency: Currency, fees: Vec<Fee>) -> Result<Vec<Fee>, ChargesError> {
    let mut kept = Vec::with_capacity(fees.len());
    for fee in fees {
        if fee.amount.currency() != currency {
            return Err(ChargesError::Currency {
                what: "a fee",
                found: fee.amount.currency(),
                postage: currency,
            });
        }
        if fee.amount.minor_units() != 0 {
            kept.push(fee);
        }
    }
    Ok(kept)
}

fn sum(postage: Money, fees: &[Fee]) -> Result<Money, ChargesError> {
    fees.iter().try_fold(postage, |total, fee| {
        total.checked_add(fee.amount).ok_or(ChargesError::Overflow)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(code: &str, cents: i64) -> Fee {
        Fee::new(Some(code), Some("Signature"), Money::usd_cents(cents))
    }

    #[test]
    fn an_itemized_total_is_the_postage_plus_the_fees() {
        let charges =
            Charges::itemized(Money::usd_cents(844), vec![fee("156", 265), fee("100", 5)]).unwrap();
        assert_eq!(charges.postage(), Money::usd_cents(844));
        assert_eq!(charges.fees().len(), 2);
        assert_eq!(charges.total(), Money::usd_cents(1114));
        assert_eq!(
            charges.to_string(),
            "8.44 USD postage + 2.65 USD Signature + 0.05 USD Signature = 11.14 USD"
        );
    }

    #[test]
    fn free_services_are_not_fees() {
        let charges =
            Charges::itemized(Money::usd_cents(500), vec![fee("920", 0), fee("921", 365)]).unwrap();
        assert_eq!(charges.fees(), [fee("921", 365)]);
        assert_eq!(charges.total(), Money::usd_cents(865));
    }

    #[test]
    fn postage_alone_is_its_own_total() {
        let charges = Charges::postage_only(Money::usd_cents(700));
        assert!(charges.fees().is_empty());
        assert_eq!(charges.total(), Money::usd_cents(700));
    }

    #[test]
    fn a_stated_total_that_adds_up_carries_no_warning() {
        let (charges, warning) = Charges::stated(
            Money::usd_cents(1205),
            vec![fee("SO", 150)],
            Money::usd_cents(1355),
            "UPS",
        )
        .unwrap();
        assert_eq!(charges.total(), Money::usd_cents(1355));
        assert_eq!(warning, None);
    }

    #[test]
    fn a_stated_total_that_does_not_add_up_is_kept_with_a_warning() {
        let (charges, warning) = Charges::stated(
            Money::usd_cents(1205),
            vec![fee("SO", 150)],
            Money::usd_cents(1400),
            "UPS",
        )
        .unwrap();
        assert_eq!(charges.total(), Money::usd_cents(1400));
        let warning = warning.unwrap();
        assert_eq!(warning.code, "charges_do_not_add_up");
        assert_eq!(warning.field.as_deref(), Some("total"));
        assert!(
            warning.message.contains("14.00 USD") && warning.message.contains("13.55 USD"),
            "{}",
            warning.message
        );
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let euro = Fee::new(None, Some("Fuel"), Money::from_minor(100, Currency::EUR));
        assert!(matches!(
            Charges::itemized(Money::usd_cents(100), vec![euro]),
            Err(ChargesError::Currency { what: "a fee", .. })
        ));
        assert!(matches!(
            Charges::stated(
                Money::usd_cents(100),
                Vec::new(),
                Money::from_minor(100, Currency::CAD),
                "UPS"
            ),
            Err(ChargesError::Currency {
                what: "the total",
                ..
            })
        ));
    }

    #[test]
    fn sums_that_overflow_are_refused_not_wrapped() {
        let huge = Fee::new(None, None, Money::usd_cents(i64::MAX));
        assert_eq!(
            Charges::itemized(Money::usd_cents(1), vec![huge]),
            Err(ChargesError::Overflow)
        );
    }

    #[test]
    fn blank_codes_and_names_are_absent_and_fees_serialize_as_the_api_shows_them() {
        let fee = Fee::new(Some(" 156 "), Some(""), Money::usd_cents(265));
        assert_eq!(fee.code.as_deref(), Some("156"));
        assert_eq!(fee.name, None);
        assert_eq!(
            serde_json::to_string(&fee).unwrap(),
            r#"{"code":"156","name":null,"amount":{"amount":"2.65","currency":"USD"}}"#
        );
    }
}
