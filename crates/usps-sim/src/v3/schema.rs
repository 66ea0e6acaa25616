//! A small JSON-schema checker and the `ReturnLabelRequest` schema of domestic-labels.yaml
//! (Labels API 3.9.13), transcribed by hand from the YAML — deliberately not shared with any
//! client's wire types.
//!
//! What is checked, per property: JSON type (`string`, `number`, `integer`, `boolean`,
//! `object`, `array`; `null` only where the spec says `nullable: true`, i.e. `ZIPPlus4`),
//! `enum`, `pattern`, `minLength`/`maxLength` (in characters), `minimum`/`maximum` and
//! `exclusiveMinimum`, `minItems`/`maxItems`, `required`, and unknown properties.
//!
//! `ReturnLabelRequest` itself is `additionalProperties: false`. The nested schemas say
//! `additionalProperties: true`, but USPS's backend rejects properties it does not recognize,
//! so the simulator rejects any property a nested object's schema does not list (the union of
//! its `allOf` parts, and for `packageDescription` of both `oneOf` branches). Every listed
//! property is accepted, deprecated and read-only ones included. The `oneOf` between
//! `rateIndicator` and `shape` + `packagingType` is left to the inventory checks (160284–160287)
//! in [`crate::v3::return_label`].

use std::sync::{Arc, LazyLock};

use serde_json::Value;

use crate::v3::error::ErrorDetail;

/// A `pattern` from the spec, matched by hand (no regex engine needed for these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `^\d{5}$`
    Zip5,
    /// `^\d{4}$`
    Zip4,
    /// `^(\d{6}|\d{9})$`
    Mid,
    /// The `State` enumeration pattern.
    State,
    /// `^\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$`
    Phone,
    /// The `Email` pattern.
    Email,
    /// `[A-Fa-f0-9]{8}-([A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}`
    Uuid,
    /// `^[A-Za-z0-9]{1,6}$`
    ChargebackCode,
    /// `[A-Z]{2}` (unanchored in the spec: two capitals anywhere).
    CountryCode,
}

const STATES: &[&str] = &[
    "AA", "AE", "AL", "AK", "AP", "AS", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FM", "FL", "GA",
    "GU", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MH", "MD", "MA", "MI", "MN", "MS",
    "MO", "MP", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PW", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI", "VA", "WA", "WV", "WI", "WY",
];

fn digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit())
}

fn hex(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn email_local_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'+' | b'&' | b'*' | b'-')
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = local
        .split('.')
        .all(|part| !part.is_empty() && part.bytes().all(email_local_byte));
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((top, rest)) = labels.split_last() else {
        return false;
    };
    let domain_ok = !rest.is_empty()
        && rest.iter().all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        && top.len() >= 2
        && top.bytes().all(|byte| byte.is_ascii_alphabetic());
    local_ok && domain_ok
}

fn is_phone(text: &str) -> bool {
    let international = {
        let rest = text.strip_prefix('+').unwrap_or(text);
        let bytes = rest.as_bytes();
        (8..=15).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes.first().is_some_and(|first| *first != b'0')
    };
    let national = (6..=15).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit());
    international || national
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && hex(groups[0], 8)
        && hex(groups[1], 4)
        && hex(groups[2], 4)
        && hex(groups[3], 4)
        && hex(groups[4], 12)
}

impl Pattern {
    /// Whether `text` matches.
    pub(crate) fn matches(self, text: &str) -> bool {
        match self {
            Self::Zip5 => digits(text, 5),
            Self::Zip4 => digits(text, 4),
            Self::Mid => digits(text, 6) || digits(text, 9),
            Self::State => STATES.contains(&text),
            Self::Phone => is_phone(text),
            Self::Email => is_email(text),
            Self::Uuid => is_uuid(text),
            Self::ChargebackCode => {
                (1..=6).contains(&text.len())
                    && text.bytes().all(|byte| byte.is_ascii_alphanumeric())
            }
            Self::CountryCode => text
                .as_bytes()
                .windows(2)
                .any(|pair| pair.iter().all(u8::is_ascii_uppercase)),
        }
    }

    /// The pattern as written in the spec.
    fn source(self) -> &'static str {
        match self {
            Self::Zip5 => "^\\d{5}$",
            Self::Zip4 => "^\\d{4}$",
            Self::Mid => "^(\\d{6}|\\d{9})$",
            Self::State => "^(AA|AE|AL|AK|…|WI|WY)$ (a two-letter USPS state code)",
            Self::Phone => "^\\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$",
            Self::Email => {
                "^[a-zA-Z0-9_+&*-]+(?:\\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\\.)+[a-zA-Z]{2,}$"
            }
            Self::Uuid => "[A-Fa-f0-9]{8}-([A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
            Self::ChargebackCode => "^[A-Za-z0-9]{1,6}$",
            Self::CountryCode => "[A-Z]{2}",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Self::Zip5 => "20260",
            Self::Zip4 => "0010",
            Self::Mid => "123456789",
            Self::State => "DC",
            Self::Phone => "2025550123",
            Self::Email => "name@example.com",
            Self::Uuid => "345df38d-6130-4ad1-838c-8883af55c584",
            Self::ChargebackCode => "123456",
            Self::CountryCode => "US",
        }
    }
}

/// The type and constraints of one property.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    String {
        min_length: usize,
        max_length: Option<usize>,
        pattern: Option<Pattern>,
        allowed: Option<&'static [&'static str]>,
    },
    Number {
        exclusive_minimum: Option<f64>,
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Integer {
        minimum: Option<i64>,
        maximum: Option<i64>,
        allowed: Option<&'static [i64]>,
    },
    Boolean,
    Object(Arc<ObjectSchema>),
    Array {
        items: Box<Kind>,
        min_items: usize,
        max_items: Option<usize>,
    },
}

/// One property of an object schema.
#[derive(Clone, Debug)]
pub(crate) struct Property {
    name: &'static str,
    kind: Kind,
    nullable: bool,
}

/// An object schema: its properties (all others rejected) and required ones.
#[derive(Clone, Debug)]
pub(crate) struct ObjectSchema {
    title: &'static str,
    properties: Vec<Property>,
    required: &'static [&'static str],
}

fn property(name: &'static str, kind: Kind) -> Property {
    Property {
        name,
        kind,
        nullable: false,
    }
}

fn text(min_length: usize, max_length: Option<usize>) -> Kind {
    Kind::String {
        min_length,
        max_length,
        pattern: None,
        allowed: None,
    }
}

fn any_text() -> Kind {
    text(0, None)
}

fn patterned(pattern: Pattern, max_length: Option<usize>) -> Kind {
    Kind::String {
        min_length: 0,
        max_length,
        pattern: Some(pattern),
        allowed: None,
    }
}

fn one_of(allowed: &'static [&'static str]) -> Kind {
    Kind::String {
        min_length: 0,
        max_length: None,
        pattern: None,
        allowed: Some(allowed),
    }
}

fn positive() -> Kind {
    Kind::Number {
        exclusive_minimum: Some(0.0),
        minimum: None,
        maximum: None,
    }
}

fn between(minimum: f64, maximum: Option<f64>) -> Kind {
    Kind::Number {
        exclusive_minimum: None,
        minimum: Some(minimum),
        maximum,
    }
}

fn array(items: Kind, min_items: usize, max_items: Option<usize>) -> Kind {
    Kind::Array {
        items: Box::new(items),
        min_items,
        max_items,
    }
}

fn object(
    title: &'static str,
    properties: Vec<Property>,
    required: &'static [&'static str],
) -> Kind {
    Kind::Object(Arc::new(ObjectSchema {
        title,
        properties,
        required,
    }))
}

/// `imageInfo.imageType` values.
pub(crate) const IMAGE_TYPES: &[&str] = &[
    "PDF",
    "TIFF",
    "JPG",
    "PNG",
    "GIF",
    "SVG",
    "ZPL203DPI",
    "ZPL300DPI",
    "EPL300DPI",
    "LABEL_BROKER",
    "NONE",
];
/// `imageInfo.labelType` values.
pub(crate) const LABEL_TYPES: &[&str] =
    &["4X4LABEL", "4X5LABEL", "4X6LABEL", "6X4LABEL", "2X7LABEL"];
/// `imageInfo.receiptOption` values.
pub(crate) const RECEIPT_OPTIONS: &[&str] = &["SAME_PAGE", "SEPARATE_PAGE", "NONE"];
/// `packageDescription.mailClass` values for returns.
pub(crate) const MAIL_CLASSES: &[&str] = &[
    "FIRST-CLASS_PACKAGE_RETURN_SERVICE",
    "GROUND_RETURN_SERVICE",
    "PRIORITY_MAIL_EXPRESS_RETURN_SERVICE",
    "PRIORITY_MAIL_RETURN_SERVICE",
    "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
];
const PROCESSING_CATEGORIES: &[&str] = &[
    "LETTERS",
    "FLATS",
    "MACHINABLE",
    "IRREGULAR",
    "NON_MACHINABLE",
    "NONSTANDARD",
];
const RATE_INDICATORS: &[&str] = &[
    "CP", "DN", "DR", "E4", "E6", "FA", "FB", "FE", "FP", "FS", "OS", "P5", "P6", "P7", "P8", "P9",
    "PA", "PL", "PM", "Q6", "Q7", "Q8", "Q9", "Q0", "SP",
];
const SHAPES: &[&str] = &["RECTANGULAR", "NON_RECTANGULAR"];
const PACKAGING_TYPES: &[&str] = &[
    "VARIABLE",
    "5-DIGIT_PRESORT",
    "BASIC_PRESORT",
    "FLAT_RATE_ENVELOPE",
    "LEGAL_FLAT_RATE_ENVELOPE",
    "PADDED_FLAT_RATE_ENVELOPE",
    "SM_FLAT_RATE_BOX",
    "MD_FLAT_RATE_BOX",
    "LG_FLAT_RATE_BOX",
    "CUBIC_PARCELS",
    "CUBIC_SOFT_PACK",
];
/// The `ExtraService` enumeration.
pub(crate) const EXTRA_SERVICES: &[i64] = &[
    365, 415, 480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 810, 811, 812, 813, 814, 815, 816,
    817, 818, 819, 820, 821, 822, 823, 824, 825, 826, 827, 828, 829, 830, 831, 832, 857, 910, 911,
    912, 913, 920, 921, 922, 923, 924, 925, 930, 931, 934, 955, 957, 981, 986, 991,
];
const CONTENT_TYPES: &[&str] = &[
    "HAZMAT",
    "CREMATED_REMAINS",
    "BEES",
    "DAY_OLD_POULTRY",
    "ADULT_BIRDS",
    "OTHER_LIVES",
    "PERISHABLE",
    "PHARMACEUTICALS",
    "MEDICAL_SUPPLIES",
    "FRUITS",
    "VEGETABLES",
    "LIVE_PLANTS",
];
const SORT_TYPES: &[&str] = &[
    "TRUCK_BEDLOAD",
    "OPEN_DISTRIBUTION_FULL_POSTAL_PAKS",
    "OPEN_DISTRIBUTE_EMM_TRAY_BOX",
    "OPEN_DISTRIBUTE_FULL_TRAY_BOX",
    "OPEN_DISTRIBUTE_HALF_TRAY_BOX",
    "OPEN_DISTRIBUTE_HALF_POSTAL_PAKS",
    "OPEN_DISTRIBUTE_PALLET",
    "OPEN_DISTRIBUTE_FLAT_TUB_TRAY_BOX",
    "PALLET",
    "RECEPTACLE",
    "SACK",
];
const ENDORSEMENTS: &[&str] = &[
    "CHANGE_SERVICE_REQUESTED",
    "ADDRESS_SERVICE_REQUESTED",
    "ELECTRONIC_SERVICE_REQUESTED",
    "RETURN_SERVICE_REQUESTED",
    "TEMP_RETURN_SERVICE_REQUESTED",
    "FORWARDING_SERVICE_REQUESTED",
];
const CUSTOMS_CONTENT_TYPES: &[&str] = &[
    "MERCHANDISE",
    "GIFT",
    "DOCUMENT",
    "COMMERCIAL_SAMPLE",
    "RETURNED_GOODS",
    "OTHER",
    "HUMANITARIAN_DONATIONS",
    "DANGEROUS_GOODS",
];
const RESTRICTION_TYPES: &[&str] = &[
    "QUARANTINE",
    "SANITARY_INSPECTION",
    "PHYTOSANITARY_INSPECTION",
    "OTHER",
];

/// `Address` + `DomesticAddress`.
fn domestic_address_properties() -> Vec<Property> {
    vec![
        property("streetAddress", text(1, Some(50))),
        property("streetAddressAbbreviation", text(0, Some(50))),
        property("secondaryAddress", text(0, Some(50))),
        property("cityAbbreviation", any_text()),
        property("city", text(1, Some(28))),
        property(
            "state",
            Kind::String {
                min_length: 2,
                max_length: Some(2),
                pattern: Some(Pattern::State),
                allowed: None,
            },
        ),
        property("ZIPCode", patterned(Pattern::Zip5, None)),
        Property {
            name: "ZIPPlus4",
            kind: patterned(Pattern::Zip4, None),
            nullable: true,
        },
        property("urbanization", text(0, Some(96))),
    ]
}

/// `DomesticLabelAddress`: `DomesticAddress` + `Addressee` + phone, email, ignoreBadAddress.
fn label_address_properties() -> Vec<Property> {
    let mut properties = domestic_address_properties();
    properties.extend([
        property("firstName", text(1, Some(50))),
        property("lastName", text(1, Some(50))),
        property("firm", text(0, Some(50))),
        property("phone", patterned(Pattern::Phone, None)),
        property("email", patterned(Pattern::Email, Some(50))),
        property("ignoreBadAddress", Kind::Boolean),
    ]);
    properties
}

const ADDRESS_REQUIRED: &[&str] = &["ZIPCode", "city", "state", "streetAddress"];

fn label_address() -> Kind {
    object(
        "DomesticLabelAddress",
        label_address_properties(),
        ADDRESS_REQUIRED,
    )
}

fn sender_address() -> Kind {
    let mut properties = label_address_properties();
    properties.push(property("platformUserId", text(0, Some(30))));
    object("DomesticLabelSenderAddress", properties, ADDRESS_REQUIRED)
}

fn image_info() -> Kind {
    object(
        "ImageInfo",
        vec![
            property("imageType", one_of(IMAGE_TYPES)),
            property("labelType", one_of(LABEL_TYPES)),
            property("shipInfo", Kind::Boolean),
            property("receiptOption", one_of(RECEIPT_OPTIONS)),
            property(
                "brandingImageFormat",
                one_of(&["ONE_SQUARE", "TWO_SQUARES", "RECTANGLE", "NONE"]),
            ),
            property(
                "brandingImageUUIDs",
                array(
                    Kind::String {
                        min_length: 36,
                        max_length: Some(36),
                        pattern: Some(Pattern::Uuid),
                        allowed: None,
                    },
                    0,
                    Some(2),
                ),
            ),
            property("includeLabelBrokerPDF", Kind::Boolean),
            property("addZPLComments", Kind::Boolean),
            property("addImageComments", Kind::Boolean),
            property("suppressPostage", Kind::Boolean),
            property("suppressMailDate", Kind::Boolean),
            property("returnLabel", Kind::Boolean),
        ],
        &[],
    )
}

fn package_options() -> Kind {
    object(
        "DomesticPackageReturnOptions",
        vec![
            property("packageValue", between(0.0, None)),
            property(
                "nonDeliveryOption",
                one_of(&["RETURN", "REDIRECT", "ABANDON"]),
            ),
            property(
                "omas",
                object(
                    "PackageOptions.omas",
                    vec![property(
                        "chargebackCode",
                        patterned(Pattern::ChargebackCode, Some(6)),
                    )],
                    &[],
                ),
            ),
            property("immediateManifest", Kind::Boolean),
            property("redirectAddress", label_address()),
            property("contentType", one_of(CONTENT_TYPES)),
            property("generateGXEvent", Kind::Boolean),
            property(
                "containers",
                array(
                    object(
                        "Container",
                        vec![
                            property("containerID", text(0, Some(34))),
                            property("sortType", one_of(SORT_TYPES)),
                        ],
                        &["containerID", "sortType"],
                    ),
                    0,
                    Some(3),
                ),
            ),
            property("ancillaryServiceEndorsements", one_of(ENDORSEMENTS)),
        ],
        &[],
    )
}

fn package_description() -> Kind {
    object(
        "ReturnsPackageDescription",
        vec![
            property("weightUOM", one_of(&["lb"])),
            property("weight", positive()),
            property("dimensionsUOM", one_of(&["in"])),
            property("length", positive()),
            property("height", positive()),
            property("width", positive()),
            property("girth", positive()),
            property("hasNonstandardCharacteristics", Kind::Boolean),
            property("mailClass", one_of(MAIL_CLASSES)),
            property("processingCategory", one_of(PROCESSING_CATEGORIES)),
            property(
                "customerReference",
                array(
                    object(
                        "DomesticCustomerReference",
                        vec![
                            property("referenceNumber", text(1, Some(30))),
                            property("printReferenceNumber", Kind::Boolean),
                        ],
                        &[],
                    ),
                    0,
                    Some(4),
                ),
            ),
            property(
                "extraServices",
                array(
                    Kind::Integer {
                        minimum: None,
                        maximum: None,
                        allowed: Some(EXTRA_SERVICES),
                    },
                    0,
                    Some(5),
                ),
            ),
            property("packageOptions", package_options()),
            property(
                "destinationEntryFacilityAddress",
                object("DomesticAddress", domestic_address_properties(), &[]),
            ),
            property("inductionZIPCode", patterned(Pattern::Zip5, None)),
            property("shipperVisibilityMethod", one_of(&["SENDER_INFORMATION"])),
            property("rateIndicator", one_of(RATE_INDICATORS)),
            property("shape", one_of(SHAPES)),
            property("packagingType", one_of(PACKAGING_TYPES)),
        ],
        &[
            "height",
            "length",
            "mailClass",
            "processingCategory",
            "weight",
            "width",
        ],
    )
}

fn customs_form() -> Kind {
    let money = || between(0.01, Some(999_999.99));
    object(
        "DomesticReturnsCustomsForm",
        vec![
            property("contentComments", text(0, Some(25))),
            property("restrictionType", one_of(RESTRICTION_TYPES)),
            property("restrictionComments", text(0, Some(25))),
            property("AESITN", text(1, Some(35))),
            property("invoiceNumber", text(1, Some(15))),
            property("licenseNumber", text(1, Some(16))),
            property("certificateNumber", text(1, Some(12))),
            property("customsContentType", one_of(CUSTOMS_CONTENT_TYPES)),
            property("importersReference", text(0, Some(40))),
            property("importersContact", text(0, Some(30))),
            property("exportersReference", text(0, Some(40))),
            property("exportersContact", text(0, Some(30))),
            property(
                "contents",
                array(
                    object(
                        "ShippingContents",
                        vec![
                            property("itemDescription", text(1, Some(30))),
                            property(
                                "itemQuantity",
                                Kind::Integer {
                                    minimum: Some(1),
                                    maximum: Some(9999),
                                    allowed: None,
                                },
                            ),
                            property("itemValue", money()),
                            property("itemTotalValue", money()),
                            property("weightUOM", one_of(&["lb"])),
                            property("itemWeight", positive()),
                            property("itemTotalWeight", positive()),
                            property("HSTariffNumber", text(6, Some(14))),
                            property("countryofOrigin", patterned(Pattern::CountryCode, None)),
                            property("itemCategory", any_text()),
                            property("itemSubcategory", any_text()),
                        ],
                        &[],
                    ),
                    1,
                    Some(30),
                ),
            ),
        ],
        &[],
    )
}

/// The `ReturnLabelRequest` schema.
pub(crate) static RETURN_LABEL_REQUEST: LazyLock<Kind> = LazyLock::new(|| {
    object(
        "ReturnLabelRequest",
        vec![
            property("imageInfo", image_info()),
            property("toAddress", label_address()),
            property("fromAddress", label_address()),
            property("senderAddress", sender_address()),
            property("returnAddress", label_address()),
            property("packageDescription", package_description()),
            property("customsForm", customs_form()),
        ],
        &["fromAddress", "packageDescription", "toAddress"],
    )
});

fn violation(path: &str, detail: String) -> ErrorDetail {
    let parameter = if path.is_empty() { "body" } else { path };
    ErrorDetail::new("OAS_VALIDATION", detail).at(parameter)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `value` against `kind`, appending one [`ErrorDetail`] per violation.
pub(crate) fn check(kind: &Kind, value: &Value, path: &str, errors: &mut Vec<ErrorDetail>) {
    let shown = if path.is_empty() {
        "The request body"
    } else {
        path
    };
    match kind {
        Kind::String {
            min_length,
            max_length,
            pattern,
            allowed,
        } => {
            let Value::String(text) = value else {
                errors.push(violation(
                    path,
                    format!("{shown} must be a string, not {}", type_name(value)),
                ));
                return;
            };
            let length = text.chars().count();
            if let Some(allowed) = allowed {
                if !allowed.contains(&text.as_str()) {
                    let mut error = violation(
                        path,
                        format!(
                            "{shown} value {text:?} is not one of: {}",
                            allowed.join(", ")
                        ),
                    );
                    if let Some(first) = allowed.first() {
                        error = error.example(*first);
                    }
                    errors.push(error);
                    return;
                }
            }
            if length < *min_length {
                errors.push(violation(
                    path,
                    format!("{shown} must be at least {min_length} characters long"),
                ));
            }
            if let Some(max_length) = max_length {
                if length > *max_length {
                    errors.push(violation(
                        path,
                        format!("{shown} must be at most {max_length} characters long"),
                    ));
                }
            }
            if let Some(pattern) = pattern {
                if !pattern.matches(text) {
                    errors.push(
                        violation(
                            path,
                            format!(
                                "{shown} value {text:?} does not match the pattern {}",
                                pattern.source()
                            ),
                        )
                        .example(pattern.example()),
                    );
                }
            }
        }
        Kind::Number {
            exclusive_minimum,
            minimum,
            maximum,
        } => {
            let Some(number) = value.as_f64().filter(|_| value.is_number()) else {
                errors.push(violation(
                    path,
                    format!("{shown} must be a number, not {}", type_name(value)),
                ));
                return;
            };
            if let Some(bound) = exclusive_minimum {
                if number <= *bound {
                    errors.push(violation(
                        path,
                        format!("{shown} must be greater than {bound}"),
                    ));
                }
            }
            if let Some(bound) = minimum {
                if number < *bound {
                    errors.push(violation(path, format!("{shown} must be at least {bound}")));
                }
            }
            if let Some(bound) = maximum {
                if number > *bound {
                    errors.push(violation(path, format!("{shown} must be at most {bound}")));
                }
            }
        }
        Kind::Integer {
            minimum,
            maximum,
            allowed,
        } => {
            let Some(number) = value.as_i64() else {
                errors.push(violation(
                    path,
                    format!("{shown} must be an integer, not {value}"),
                ));
                return;
            };
            if let Some(allowed) = allowed {
                if !allowed.contains(&number) {
                    errors.push(violation(
                        path,
                        format!("{shown} value {number} is not a valid code"),
                    ));
                }
            }
            if let Some(bound) = minimum {
                if number < *bound {
                    errors.push(violation(path, format!("{shown} must be at least {bound}")));
                }
            }
            if let Some(bound) = maximum {
                if number > *bound {
                    errors.push(violation(path, format!("{shown} must be at most {bound}")));
                }
            }
        }
        Kind::Boolean => {
            if !value.is_boolean() {
                errors.push(violation(
                    path,
                    format!("{shown} must be a boolean, not {}", type_name(value)),
                ));
            }
        }
        Kind::Array {
            items,
            min_items,
            max_items,
        } => {
            let Value::Array(elements) = value else {
                errors.push(violation(
                    path,
                    format!("{shown} must be an array, not {}", type_name(value)),
                ));
                return;
            };
            if elements.len() < *min_items {
                errors.push(violation(
                    path,
                    format!("{shown} must have at least {min_items} item(s)"),
                ));
            }
            if let Some(max_items) = max_items {
                if elements.len() > *max_items {
                    errors.push(violation(
                        path,
                        format!("{shown} must have at most {max_items} item(s)"),
                    ));
                }
            }
            for (index, element) in elements.iter().enumerate() {
                check(items, element, &format!("{path}[{index}]"), errors);
            }
        }
        Kind::Object(schema) => check_object(schema, value, path, errors),
    }
}

fn check_object(schema: &ObjectSchema, value: &Value, path: &str, errors: &mut Vec<ErrorDetail>) {
    let shown = if path.is_empty() {
        "The request body"
    } else {
        path
    };
    let Value::Object(object) = value else {
        errors.push(violation(
            path,
            format!(
                "{shown} must be a {} object, not {}",
                schema.title,
                type_name(value)
            ),
        ));
        return;
    };
    for (key, element) in object {
        let child = join(path, key);
        let Some(property) = schema
            .properties
            .iter()
            .find(|property| property.name == key)
        else {
            let hint = schema
                .properties
                .iter()
                .find(|property| property.name.eq_ignore_ascii_case(key))
                .map(|property| format!(" (did you mean {}?)", property.name))
                .unwrap_or_default();
            errors.push(violation(
                &child,
                format!("{key} is not a property of {}{hint}", schema.title),
            ));
            continue;
        };
        if element.is_null() && property.nullable {
            continue;
        }
        check(&property.kind, element, &child, errors);
    }
    for required in schema.required {
        if !object.contains_key(*required) {
            errors.push(violation(
                &join(path, required),
                format!("{} is required", join(path, required)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn email_pattern_accepts_plain_addresses_and_rejects_missing_domain_dots() {
        assert!(Pattern::Email.matches("returns+1@shop.example.com"));
        assert!(!Pattern::Email.matches("returns@localhost"));
        assert!(!Pattern::Email.matches("a..b@example.com"));
        assert!(!Pattern::Email.matches("a@example.c"));
    }

    #[test]
    fn phone_pattern_follows_both_alternatives() {
        assert!(Pattern::Phone.matches("+13145550100"));
        assert!(Pattern::Phone.matches("3145550100"));
        assert!(Pattern::Phone.matches("012345"));
        assert!(!Pattern::Phone.matches("314-555-0100"));
        assert!(!Pattern::Phone.matches("+0123456789"));
    }

    #[test]
    fn nullable_zip_plus_four_accepts_null_but_city_does_not() {
        let mut errors = Vec::new();
        let address = json!({"streetAddress": "1 Main St", "city": "X", "state": "MO",
                             "ZIPCode": "63116", "ZIPPlus4": null, "firm": "F"});
        check(&label_address(), &address, "toAddress", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let address =
            json!({"streetAddress": "1 Main St", "city": null, "state": "MO", "ZIPCode": "63116"});
        check(&label_address(), &address, "toAddress", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].parameter.as_deref(), Some("toAddress.city"));
    }

    #[test]
    fn integer_extra_service_rejects_a_float() {
        let mut errors = Vec::new();
        check(
            &package_description(),
            &json!({"extraServices": [920.0]}),
            "packageDescription",
            &mut errors,
        );
        assert!(
            errors
                .iter()
                .any(|error| error.parameter.as_deref()
                    == Some("packageDescription.extraServices[0]"))
        );
    }

    #[test]
    fn unknown_property_with_other_case_gets_a_hint() {
        let mut errors = Vec::new();
        check(
            &label_address(),
            &json!({"zipCode": "63116"}),
            "toAddress",
            &mut errors,
        );
        assert!(errors[0].detail.contains("did you mean ZIPCode?"));
    }
}
