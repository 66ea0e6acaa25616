//! Parcels: weight in ounces and optional dimensions in inches, as exact decimals.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ValidationErrors;

/// A parcel as it arrives from a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParcelInput {
    pub weight_oz: Option<Decimal>,
    pub length_in: Option<Decimal>,
    pub width_in: Option<Decimal>,
    pub height_in: Option<Decimal>,
    pub girth_in: Option<Decimal>,
    pub machinable: Option<bool>,
}

/// Length, width and height in inches, with girth for non-rectangular parcels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    pub length_in: Decimal,
    pub width_in: Decimal,
    pub height_in: Decimal,
    /// Present only for non-rectangular parcels.
    pub girth_in: Option<Decimal>,
}

impl Dimensions {
    pub fn is_rectangular(&self) -> bool {
        self.girth_in.is_none()
    }

    /// The longest of length, width and height.
    pub fn longest_side(&self) -> Decimal {
        self.length_in.max(self.width_in).max(self.height_in)
    }
}

/// A validated parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub weight_oz: Decimal,
    pub dimensions: Option<Dimensions>,
    /// Whether the parcel can go through USPS sorting machines (`true` unless the client says).
    pub machinable: bool,
}

const OUNCES_PER_POUND: Decimal = Decimal::from_parts(16, 0, 0, false, 0);

impl Parcel {
    /// Validates `input`: weight positive; length, width and height all or none, each positive;
    /// girth only with dimensions.
    pub fn parse(path: &str, input: &ParcelInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let field = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        match input.weight_oz {
            None => errors.push(field("weight_oz"), "is required"),
            Some(weight) if weight <= Decimal::ZERO => {
                errors.push(field("weight_oz"), "must be greater than 0")
            }
            Some(_) => {}
        }
        let sides = [
            ("length_in", input.length_in),
            ("width_in", input.width_in),
            ("height_in", input.height_in),
        ];
        let given = sides.iter().filter(|(_, value)| value.is_some()).count();
        if given != 0 && given != sides.len() {
            for (name, value) in sides {
                if value.is_none() {
                    errors.push(
                        field(name),
                        "is required when any dimension is given (length, width and height go together)",
                    );
                }
            }
        }
        for (name, value) in sides.iter().chain([("girth_in", input.girth_in)].iter()) {
            if matches!(value, Some(v) if *v <= Decimal::ZERO) {
                errors.push(field(name), "must be greater than 0");
            }
        }
        if input.girth_in.is_some() && given == 0 {
            errors.push(
                field("girth_in"),
                "needs length, width and height (girth is for non-rectangular parcels)",
            );
        }
        let dimensions = match sides {
            [
                (_, Some(length_in)),
                (_, Some(width_in)),
                (_, Some(height_in)),
            ] => Some(Dimensions {
                length_in,
                width_in,
                height_in,
                girth_in: input.girth_in,
            }),
            _ => None,
        };
        let weight_oz = input.weight_oz.unwrap_or_default();
        errors.finish(|| Parcel {
            weight_oz,
            dimensions,
            machinable: input.machinable.unwrap_or(true),
        })
    }

    /// The weight in pounds, exact (24 oz is 1.5 lb).
    pub fn weight_lb(&self) -> Decimal {
        (self.weight_oz / OUNCES_PER_POUND).normalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn weight_converts_to_exact_pounds() {
        let parcel = Parcel::parse(
            "parcel",
            &ParcelInput {
                weight_oz: Some(dec("24")),
                ..ParcelInput::default()
            },
        )
        .unwrap();
        assert_eq!(parcel.weight_lb(), dec("1.5"));
        assert!(parcel.machinable);
    }

    #[test]
    fn json_numbers_become_exact_decimals() {
        let input: ParcelInput = serde_json::from_str(r#"{"weight_oz": 24.1}"#).unwrap();
        assert_eq!(input.weight_oz, Some(dec("24.1")));
    }

    #[test]
    fn partial_dimensions_name_the_missing_ones() {
        let errors = Parcel::parse(
            "parcel",
            &ParcelInput {
                weight_oz: Some(dec("4")),
                length_in: Some(dec("10")),
                ..ParcelInput::default()
            },
        )
        .unwrap_err();
        assert!(errors.names("parcel.width_in"));
        assert!(errors.names("parcel.height_in"));
        assert!(!errors.names("parcel.length_in"));
    }

    #[test]
    fn zero_weight_and_lone_girth_are_refused() {
        let errors = Parcel::parse(
            "parcel",
            &ParcelInput {
                weight_oz: Some(Decimal::ZERO),
                girth_in: Some(dec("30")),
                ..ParcelInput::default()
            },
        )
        .unwrap_err();
        assert!(errors.names("parcel.weight_oz"));
        assert!(errors.names("parcel.girth_in"));
    }
}
