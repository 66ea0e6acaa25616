//! Deterministic simulated postage: mail class × weight × zone, plus extra services and
//! nonstandard fees. Protocol-agnostic, so every API of the simulator prices alike.
//!
//! These are NOT USPS prices; they are shaped like them so that totals look plausible and
//! differ by class, weight and distance. All money is integer cents.
//!
//! - Zone: from the distance between the two ZIP3 prefixes: 0–2 → 1, ≤20 → 2, ≤60 → 3,
//!   ≤120 → 4, ≤250 → 5, ≤400 → 6, ≤600 → 7, farther → 8; 9 when either end is in Alaska,
//!   Hawaii, Guam or the Caribbean territories (ZIP3 006–009, 967–969, 995–999).
//! - Billable pounds: the package weight, or the dimensional weight (L×W×H / 166) when the
//!   package is larger than one cubic foot and that is heavier, rounded up to whole pounds.
//! - Postage per class: `base + per_zone × zone + (pounds − 1) × (per_pound + per_pound_zone × zone)`
//!   (Ground Advantage 600/45/110/8, Priority Mail 905/60/160/12, Priority Mail Express
//!   2865/150/300/25 cents); flat-rate indicators (FE FA FP FS FB PL PM E4 E6) have one price.
//! - Fees: length over 22 in "Nonstandard Length fee > 22 in." 4.00; over 30 in
//!   "Nonstandard Length fee > 30 in." 15.00; over 2 cubic feet "Nonstandard Volume fee > 2 cu ft." 18.00.

/// The return services the simulator prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReturnService {
    /// USPS Ground Advantage Return Service (and its deprecated aliases).
    GroundAdvantage,
    /// Priority Mail Return Service.
    Priority,
    /// Priority Mail Express Return Service.
    PriorityExpress,
}

impl ReturnService {
    /// The service for a v3 `mailClass`; the deprecated First-Class Package and Ground return
    /// services convert to Ground Advantage, as the spec says.
    pub(crate) fn from_mail_class(mail_class: &str) -> Self {
        match mail_class {
            "PRIORITY_MAIL_RETURN_SERVICE" => Self::Priority,
            "PRIORITY_MAIL_EXPRESS_RETURN_SERVICE" => Self::PriorityExpress,
            _ => Self::GroundAdvantage,
        }
    }

    /// The IMpb service type code the simulator prints. Priority Mail Return 020 is the code
    /// in USPS's own Returns Label sample barcode; 021 and 023 are the simulator's picks for
    /// the other two, not taken from USPS's STC table.
    pub(crate) fn service_type_code(self) -> &'static str {
        match self {
            Self::GroundAdvantage => "021",
            Self::Priority => "020",
            Self::PriorityExpress => "023",
        }
    }

    /// The banner printed on the label.
    pub(crate) fn label_title(self) -> &'static str {
        match self {
            Self::GroundAdvantage => "USPS GROUND ADVANTAGE RETURN",
            Self::Priority => "USPS PRIORITY MAIL RETURN",
            Self::PriorityExpress => "USPS PRIORITY MAIL EXPRESS RETURN",
        }
    }

    /// The one-letter service mark printed in the label's corner box.
    pub(crate) fn service_mark(self) -> &'static str {
        match self {
            Self::GroundAdvantage => "G",
            Self::Priority => "P",
            Self::PriorityExpress => "E",
        }
    }

    fn sku_letter(self) -> char {
        match self {
            Self::GroundAdvantage => 'G',
            Self::Priority => 'P',
            Self::PriorityExpress => 'E',
        }
    }

    /// (base, per zone, per extra pound, per extra pound and zone) in cents.
    fn table(self) -> (u64, u64, u64, u64) {
        match self {
            Self::GroundAdvantage => (600, 45, 110, 8),
            Self::Priority => (905, 60, 160, 12),
            Self::PriorityExpress => (2865, 150, 300, 25),
        }
    }
}

fn zip3(zip: &str) -> Option<u32> {
    zip.get(..3)?.parse().ok()
}

fn remote(zip3: u32) -> bool {
    (6..=9).contains(&zip3) || (967..=969).contains(&zip3) || (995..=999).contains(&zip3)
}

/// The zone (1–9) between two 5-digit ZIP Codes.
pub(crate) fn zone(origin_zip: &str, destination_zip: &str) -> u8 {
    let (Some(origin), Some(destination)) = (zip3(origin_zip), zip3(destination_zip)) else {
        return 8;
    };
    if remote(origin) || remote(destination) {
        return 9;
    }
    match origin.abs_diff(destination) {
        0..=2 => 1,
        3..=20 => 2,
        21..=60 => 3,
        61..=120 => 4,
        121..=250 => 5,
        251..=400 => 6,
        401..=600 => 7,
        _ => 8,
    }
}

/// A fee on top of postage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fee {
    pub(crate) name: &'static str,
    pub(crate) sku: &'static str,
    pub(crate) cents: u64,
}

/// What a package costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Quote {
    pub(crate) postage_cents: u64,
    pub(crate) zone: u8,
    pub(crate) billable_pounds: u64,
    /// Dimensional weight in ounces when it exceeds the actual weight, else 0.
    pub(crate) dimensional_weight_ounces: u64,
    pub(crate) sku: String,
    pub(crate) fees: Vec<Fee>,
}

/// The package facts that pricing needs.
#[derive(Clone, Debug)]
pub(crate) struct Package<'a> {
    pub(crate) service: ReturnService,
    pub(crate) rate_indicator: Option<&'a str>,
    pub(crate) weight_pounds: f64,
    pub(crate) length: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) origin_zip: &'a str,
    pub(crate) destination_zip: &'a str,
}

fn flat_rate_cents(rate_indicator: &str) -> Option<u64> {
    Some(match rate_indicator {
        "FE" => 1040,
        "FA" => 1070,
        "FP" => 1115,
        "FS" => 1075,
        "FB" => 1890,
        "PL" => 2550,
        "PM" => 2350,
        "E4" | "E6" => 3165,
        _ => return None,
    })
}

/// Prices a package.
pub(crate) fn quote(package: &Package<'_>) -> Quote {
    let zone = zone(package.origin_zip, package.destination_zip);
    let cubic_inches = package.length * package.width * package.height;
    let dimensional_pounds = if cubic_inches > 1728.0 {
        cubic_inches / 166.0
    } else {
        0.0
    };
    let billable = package.weight_pounds.max(dimensional_pounds);
    // Weights are capped at 70 lb by validation, so the cast cannot overflow.
    let billable_pounds = (billable.ceil() as u64).max(1);
    let dimensional_weight_ounces = if dimensional_pounds > package.weight_pounds {
        (dimensional_pounds * 16.0).ceil() as u64
    } else {
        0
    };
    let rate_indicator = package.rate_indicator.unwrap_or("SP");
    let postage_cents = flat_rate_cents(rate_indicator).unwrap_or_else(|| {
        let (base, per_zone, per_pound, per_pound_zone) = package.service.table();
        let zone = u64::from(zone);
        base + per_zone * zone + (billable_pounds - 1) * (per_pound + per_pound_zone * zone)
    });
    let mut fees = Vec::new();
    if package.length > 30.0 {
        fees.push(Fee {
            name: "Nonstandard Length fee > 30 in.",
            sku: "DXNXXXXXXXX3000",
            cents: 1500,
        });
    } else if package.length > 22.0 {
        fees.push(Fee {
            name: "Nonstandard Length fee > 22 in.",
            sku: "DXNXXXXXXXX2200",
            cents: 400,
        });
    }
    if cubic_inches > 2.0 * 1728.0 {
        fees.push(Fee {
            name: "Nonstandard Volume fee > 2 cu ft.",
            sku: "DXNXXXXXXXXV200",
            cents: 1800,
        });
    }
    let sku = format!(
        "D{}XR0XXXX{}{:02}{:03}",
        package.service.sku_letter(),
        rate_indicator,
        zone,
        billable_pounds.min(999)
    );
    Quote {
        postage_cents,
        zone,
        billable_pounds,
        dimensional_weight_ounces,
        sku,
        fees,
    }
}

/// An extra service's name and price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExtraServicePrice {
    pub(crate) code: i64,
    pub(crate) name: &'static str,
    pub(crate) sku: String,
    pub(crate) cents: u64,
}

/// The name the spec's `ExtraService` list gives `code`.
pub(crate) fn extra_service_name(code: i64) -> &'static str {
    match code {
        365 => "Global Direct Entry",
        415 => "USPS Label Delivery",
        480 => "Tracking Plus 6 Months",
        481 => "Tracking Plus 1 Year",
        482 => "Tracking Plus 3 Years",
        483 => "Tracking Plus 5 Years",
        484 => "Tracking Plus 7 Years",
        485 => "Tracking Plus 10 Years",
        486 => "Tracking Plus Signature 3 Years",
        487 => "Tracking Plus Signature 5 Years",
        488 => "Tracking Plus Signature 7 Years",
        489 => "Tracking Plus Signature 10 Years",
        810..=832 => "HAZMAT",
        857 => "Hazardous Material",
        910 => "Certified Mail",
        911 => "Certified Mail Restricted Delivery",
        912 => "Certified Mail Adult Signature Required",
        913 => "Certified Mail Adult Signature Restricted Delivery",
        920 => "USPS Tracking",
        921 => "Signature Confirmation",
        922 => "Adult Signature Required 21 or Over",
        923 => "Adult Signature Restricted Delivery 21 or Over",
        924 => "Signature Confirmation Restricted Delivery",
        925 => "Priority Mail Express Merchandise Insurance",
        930 => "Insurance <= $500",
        931 => "Insurance > $500",
        934 => "Insurance Restricted Delivery",
        955 => "Return Receipt",
        957 => "Return Receipt Electronic",
        981 => "Signature Requested",
        986 => "PO to Addressee",
        991 => "Sunday Delivery",
        _ => "Extra Service",
    }
}

/// Prices an extra service; insurance is priced by `package_value_cents`.
pub(crate) fn extra_service(code: i64, package_value_cents: u64) -> ExtraServicePrice {
    let cents = match code {
        920 | 857 | 810..=832 => 0,
        921 => 365,
        922 | 923 => 855,
        924 => 810,
        955 => 410,
        957 => 255,
        480..=485 => 150,
        486..=489 => 475,
        930 | 931 => 280 + package_value_cents.div_ceil(10_000).saturating_sub(1) * 155,
        _ => 0,
    };
    ExtraServicePrice {
        code,
        name: extra_service_name(code),
        sku: format!("DXE{code}XXXXXXXXX"),
        cents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(weight_pounds: f64, destination_zip: &'static str) -> Package<'static> {
        Package {
            service: ReturnService::GroundAdvantage,
            rate_indicator: Some("SP"),
            weight_pounds,
            length: 10.0,
            width: 6.0,
            height: 4.0,
            origin_zip: "20005",
            destination_zip,
        }
    }

    #[test]
    fn same_zip3_is_zone_one_and_alaska_is_zone_nine() {
        assert_eq!(zone("63116", "63118"), 1);
        assert_eq!(zone("63116", "99501"), 9);
        assert_eq!(zone("20005", "63116"), 7);
    }

    #[test]
    fn postage_grows_with_weight_and_distance() {
        let near = quote(&package(1.0, "20010")).postage_cents;
        let heavier = quote(&package(5.0, "20010")).postage_cents;
        let farther = quote(&package(1.0, "90210")).postage_cents;
        assert!(near < heavier);
        assert!(near < farther);
    }

    #[test]
    fn big_light_box_is_billed_by_dimensional_weight() {
        let mut big = package(1.0, "20010");
        big.length = 20.0;
        big.width = 20.0;
        big.height = 20.0;
        let quoted = quote(&big);
        assert_eq!(quoted.billable_pounds, 49);
        assert!(quoted.dimensional_weight_ounces > 16);
    }
}
