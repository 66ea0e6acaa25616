//! A carrier-neutral return-label request as a `USPSReturnsLabelRequest` (USPS Returns Label API
//! v1.2 / v1.5), checked against the guides' request tag tables before anything is sent. Every
//! problem is reported on our field name, with the USPS tag named in the message.
//!
//! | ours | USPS tag |
//! |---|---|
//! | `service` | `ServiceType`: ground advantage return → `GROUND`, priority mail return → `PRIORITY`, first class package return → `FIRST CLASS`; express is not offered |
//! | `label_format` | `ImageType` `PDF` / `TIF`; `ZPL` with `ImageParameter` `4X6ZPL203DPI` (v1.5); no PNG |
//! | `receipt` | `none` → `ImageParameter` `4X6` (a true 4x6 label, no receipt); `same_page` → `SeparateReceiptPage` `false` (the default page: label and receipt); `separate_page` → `SeparateReceiptPage` `true` (`ReceiptImage`); never both tags, whose relative order the guides leave open |
//! | `from_address.first_name`, `last_name`, `firm` | `CustomerFirstName`, `CustomerLastName` (both or neither), `CustomerFirm` |
//! | `from_address.street2` / `street1` | `CustomerAddress1` (secondary, always written) / `CustomerAddress2` (primary) |
//! | `from_address.urbanization`, `city`, `state`, `zip5`, `zip4` | `CustomerUrbanization`, `CustomerCity`, `CustomerState`, `CustomerZip5`, `CustomerZip4` |
//! | `parcel.weight_oz` | `WeightInOunces`, rounded up to whole ounces (an Integer; USPS prices by the ounce) |
//! | `parcel.length_in` … `girth_in` | `Length` (the longest side: the three sides are reordered), `Width`, `Height`, `Girth` |
//! | `parcel.machinable` | `Machinable` |
//! | `ship_date` | `ShipDate` as `mm/dd/yyyy` |
//! | `reference` | `CustomerRefNo`, printed (`PrintCustomerRefNo` `true`) |
//! | `notify.*` | `SenderName`, `SenderEmail`, `RecipientName`, `RecipientEmail` |
//! | account `details.mid` | `MailOwnerMID` |
//!
//! Always written: `<Option/>`, `<Revision/>` and `AllowNonCleansedOriginAddr` `false` (the
//! guide's recommendation). Never written, because no Backhaul input feeds them: `POZipCode`
//! (USPS then uses `CustomerZip5`), the `Retailer*` tags and `ReturnsPostageType` (USPS prints the
//! destination configured for the user ID; eFulfillment accounts, type 5, are not supported),
//! `VendorCode`, `VendorProductVersionNumber`, `CustomerRefNo2`, `TrackingEmailPDF`,
//! `ExtraServices` and `InsuredAmount`. The checks below cover those tags too, so a document that
//! ever carries them is still held to the guides.

use std::fmt;
use std::sync::LazyLock;

use carrier::{
    LabelDelivery, LabelFormat, ReceiptOption, ReturnLabelRequest as Request, ValidationErrors,
    Warning,
};
use chrono::{Days, NaiveDate};
use regex::Regex;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::request::{ImageParameters, USPSReturnsLabelRequest};
use crate::account::WebToolsAccount;
use crate::v3::label::{
    FIRST_CLASS_PACKAGE_RETURN, GROUND_ADVANTAGE_RETURN, PRIORITY_MAIL_EXPRESS_RETURN,
    PRIORITY_MAIL_RETURN,
};

/// Our services and the `ServiceType` each is sent as.
pub(crate) const SERVICE_TYPES: [(&str, &str); 3] = [
    (GROUND_ADVANTAGE_RETURN, "GROUND"),
    (PRIORITY_MAIL_RETURN, "PRIORITY"),
    (FIRST_CLASS_PACKAGE_RETURN, "FIRST CLASS"),
];

/// The label formats `ImageType` offers for returns labels.
pub(crate) const LABEL_FORMATS: [LabelFormat; 3] =
    [LabelFormat::Pdf, LabelFormat::Tif, LabelFormat::Zpl];

/// `WeightInOunces` `maxInclusive`: 70 lb.
pub(crate) const MAX_WEIGHT_OZ: u32 = 1120;
/// The printed-label limit of names and firms; longer values are cut on the label.
pub(crate) const PRINTED_MAX: usize = 32;
/// `ShipDate`: "today plus 0 to 3 days in advance".
pub(crate) const SHIP_DATE_DAYS_AHEAD: u32 = 3;
/// `ShipDate` as we write it (`02/14/2020`); the guide also accepts `14-Feb-2020`.
const SHIP_DATE_FORMAT: &str = "%m/%d/%Y";
const SHIP_DATE_FORMAT_NAMED: &str = "%d-%b-%Y";

/// The `ServiceType` of one of our service codes.
pub(crate) fn service_type(code: &str) -> Option<&'static str> {
    SERVICE_TYPES
        .iter()
        .find(|(ours, _)| *ours == code)
        .map(|(_, service_type)| *service_type)
}

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct PreparedLabel {
    pub(crate) request: USPSReturnsLabelRequest,
    /// `USPSReturnsLabel`, or `USPSReturnsLabelCertify` for test-mode accounts.
    pub(crate) api: &'static str,
    pub(crate) service_type: &'static str,
    pub(crate) format: LabelFormat,
    pub(crate) receipt: ReceiptOption,
    pub(crate) warnings: Vec<Warning>,
}

/// Builds and checks the `USPSReturnsLabelRequest` for `request` with `account`; `today` is the
/// UTC date `ShipDate` is measured from.
pub(crate) fn prepare(
    account: &WebToolsAccount,
    request: &Request,
    today: NaiveDate,
) -> Result<PreparedLabel, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut warnings = Vec::new();

    let service_type = match request.service.as_str() {
        PRIORITY_MAIL_EXPRESS_RETURN => {
            errors.push(
                "service",
                "Priority Mail Express Return Service is not offered by USPS Web Tools (USPSReturnsLabel has PRIORITY, FIRST CLASS and GROUND); use a v3 account for it",
            );
            None
        }
        code => {
            let found = service_type(code);
            if found.is_none() {
                errors.push(
                    "service",
                    format!(
                        "is not a USPS Web Tools return service; use one of {}",
                        SERVICE_TYPES
                            .iter()
                            .map(|(ours, _)| *ours)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            found
        }
    };

    let image_type = match request.label_format {
        LabelFormat::Pdf => Some("PDF"),
        LabelFormat::Tif => Some("TIF"),
        LabelFormat::Zpl => Some("ZPL"),
        other => {
            errors.push(
                "label_format",
                format!(
                    "{} is not offered by USPS Web Tools (ImageType PDF, TIF or ZPL)",
                    other.as_str()
                ),
            );
            None
        }
    };
    if request.label_delivery != LabelDelivery::Download {
        // The Returns Label guides have no emailed or printerless (Label Broker) labels.
        errors.push(
            "label_delivery",
            format!(
                "{} is not offered by USPS Web Tools (a USPS v3 account offers qr_code); use download",
                request.label_delivery.as_str()
            ),
        );
    }
    let us = from_us_address(&request.from_address, &mut errors);
    let image_parameters = match (request.label_format, request.receipt) {
        (LabelFormat::Zpl, ReceiptOption::None) => ImageParameters {
            image_type: "ZPL".to_owned(),
            image_parameter: Some("4X6ZPL203DPI".to_owned()),
            separate_receipt_page: None,
        },
        (LabelFormat::Zpl, _) => {
            errors.push(
                "receipt",
                "USPS Web Tools ZPL labels carry no receipt; use none, or a PDF or TIF label",
            );
            ImageParameters::default()
        }
        (_, ReceiptOption::None) => ImageParameters {
            image_type: image_type.unwrap_or_default().to_owned(),
            image_parameter: Some("4X6".to_owned()),
            separate_receipt_page: None,
        },
        (_, receipt) => ImageParameters {
            image_type: image_type.unwrap_or_default().to_owned(),
            image_parameter: None,
            separate_receipt_page: Some(receipt == ReceiptOption::SeparatePage),
        },
    };

    let from = &request.from_address;
    let (first_name, last_name) = match (&from.first_name, &from.last_name) {
        (Some(first), Some(last)) => (Some(first.clone()), Some(last.clone())),
        _ => (None, None),
    };

    let parcel = &request.parcel;
    let weight = parcel.weight_oz.ceil().to_u32().unwrap_or(u32::MAX);
    // "Length should be longest dimension": send the longest side as Length, the others in
    // the order given, and name each in our fields.
    let mut sides = [
        ("parcel.length_in", Decimal::ZERO),
        ("parcel.width_in", Decimal::ZERO),
        ("parcel.height_in", Decimal::ZERO),
    ];
    if let Some(dimensions) = parcel.dimensions {
        sides[0].1 = dimensions.length_in;
        sides[1].1 = dimensions.width_in;
        sides[2].1 = dimensions.height_in;
        let longest = (1..3).fold(
            0,
            |best, i| {
                if sides[i].1 > sides[best].1 { i } else { best }
            },
        );
        sides[..=longest].rotate_right(1);
    }
    let names = FieldNames {
        length: sides[0].0,
        width: sides[1].0,
        height: sides[2].0,
    };
    let decimal = |value: Decimal| value.normalize().to_string();

    let wire = USPSReturnsLabelRequest {
        option: Some(String::new()),
        revision: Some(String::new()),
        image_parameters,
        customer_first_name: first_name,
        customer_last_name: last_name,
        customer_firm: from.firm.clone(),
        customer_address1: from.street2.clone().unwrap_or_default(),
        customer_address2: from.street1.clone(),
        customer_urbanization: from.urbanization.clone(),
        customer_city: from.city.clone(),
        customer_state: us.map(|us| us.state.to_string()).unwrap_or_default(),
        customer_zip5: us.map(|us| us.zip5.to_owned()).unwrap_or_default(),
        customer_zip4: us.and_then(|us| us.zip4.map(str::to_owned)),
        allow_non_cleansed_origin_addr: Some(false),
        weight_in_ounces: Some(weight),
        service_type: service_type.unwrap_or_default().to_owned(),
        width: parcel.dimensions.map(|_| decimal(sides[1].1)),
        length: parcel.dimensions.map(|_| decimal(sides[0].1)),
        height: parcel.dimensions.map(|_| decimal(sides[2].1)),
        girth: parcel
            .dimensions
            .and_then(|dimensions| dimensions.girth_in)
            .map(decimal),
        machinable: Some(parcel.machinable),
        ship_date: request
            .ship_date
            .map(|date| date.format(SHIP_DATE_FORMAT).to_string()),
        mail_owner_mid: Some(account.mid.clone()),
        customer_ref_no: request.reference.clone(),
        print_customer_ref_no: request.reference.as_ref().map(|_| true),
        sender_name: request.notify.sender_name.clone(),
        sender_email: request
            .notify
            .sender_email
            .as_ref()
            .map(ToString::to_string),
        recipient_name: request.notify.recipient_name.clone(),
        recipient_email: request
            .notify
            .recipient_email
            .as_ref()
            .map(ToString::to_string),
        ..USPSReturnsLabelRequest::default()
    };

    let checked = check(&wire, today, &names);
    errors.extend(checked.errors);
    warnings.extend(checked.warnings);

    if account.test_mode {
        warnings.push(Warning::new(
            "test_label",
            None,
            "the account is in test mode: USPSReturnsLabelCertify returned a sample label that cannot be mailed",
        ));
        let notify = &request.notify;
        if notify.sender_email.is_some() || notify.recipient_email.is_some() {
            warnings.push(Warning::new(
                "notification_not_sent",
                Some("notify"),
                "USPS sends no tracking email for USPSReturnsLabelCertify (test mode) labels",
            ));
        }
    }

    let (Some(service_type), true) = (service_type, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(PreparedLabel {
        request: wire,
        api: if account.test_mode {
            super::CERTIFY_API
        } else {
            super::API
        },
        service_type,
        format: request.label_format,
        receipt: request.receipt,
        warnings,
    })
}

/// Which of our fields the dimension tags came from (the sides are reordered so that `Length`
/// is the longest).
pub(crate) struct FieldNames {
    pub(crate) length: &'static str,
    pub(crate) width: &'static str,
    pub(crate) height: &'static str,
}

impl Default for FieldNames {
    fn default() -> Self {
        Self {
            length: "parcel.length_in",
            width: "parcel.width_in",
            height: "parcel.height_in",
        }
    }
}

impl FieldNames {
    /// Our field for a USPS tag; tags no input of ours feeds are named as USPS names them.
    fn of(&self, tag: &'static str) -> &'static str {
        match tag {
            "ImageType" | "ImageParameter" => "label_format",
            "SeparateReceiptPage" => "receipt",
            "CustomerFirstName" => "from_address.first_name",
            "CustomerLastName" => "from_address.last_name",
            "CustomerFirm" => "from_address.firm",
            "CustomerAddress1" => "from_address.street2",
            "CustomerAddress2" => "from_address.street1",
            "CustomerUrbanization" => "from_address.urbanization",
            "CustomerCity" => "from_address.city",
            "CustomerState" => "from_address.state",
            "CustomerZip5" => "from_address.zip5",
            "CustomerZip4" => "from_address.zip4",
            "WeightInOunces" => "parcel.weight_oz",
            "ServiceType" => "service",
            "Length" => self.length,
            "Width" => self.width,
            "Height" => self.height,
            "Girth" => "parcel.girth_in",
            "ShipDate" => "ship_date",
            "MailOwnerMID" => "details.mid",
            "CustomerRefNo" => "reference",
            "SenderName" => "notify.sender_name",
            "SenderEmail" => "notify.sender_email",
            "RecipientName" => "notify.recipient_name",
            "RecipientEmail" => "notify.recipient_email",
            other => other,
        }
    }
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) errors: ValidationErrors,
    pub(crate) warnings: Vec<Warning>,
}

static STATE: LazyLock<Regex> = LazyLock::new(|| anchored(r"\w{2}"));
static ZIP5: LazyLock<Regex> = LazyLock::new(|| anchored(r"\d{5}"));
static ZIP4: LazyLock<Regex> = LazyLock::new(|| anchored(r"\d{4}"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"([\w\-\.]+)@(([\w-]+\.)+)[a-zA-Z]{2,4}"));
static MID: LazyLock<Regex> = LazyLock::new(|| anchored(r"\d{9}|\d{6}|\d{0}"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| anchored(r"\s*|[0-9]{10}"));
static REVISION: LazyLock<Regex> = LazyLock::new(|| anchored(r"\d?"));

/// An XML Schema pattern: it must match the whole value.
fn anchored(pattern: &str) -> Regex {
    match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(regex) => regex,
        // The patterns are constants of this module, covered by its tests.
        Err(error) => panic!("invalid pattern {pattern}: {error}"),
    }
}

struct Checker<'a> {
    names: &'a FieldNames,
    found: Checked,
}

impl Checker<'_> {
    fn fail(&mut self, tag: &'static str, message: impl fmt::Display) {
        self.found.errors.push(
            self.names.of(tag),
            format!("{message} (USPS Web Tools {tag})"),
        );
    }

    /// `minLength` / `maxLength` in characters, and characters Web Tools can take.
    fn text(&mut self, tag: &'static str, value: Option<&str>, min: usize, max: usize) {
        let Some(value) = value else { return };
        let length = value.chars().count();
        if length < min {
            self.fail(tag, format!("must have at least {min} character"));
        } else if length > max {
            self.fail(tag, format!("must be at most {max} characters"));
        }
        self.characters(tag, value);
    }

    /// The Developer Guide expects ISO-8859-1; XML 1.0 refuses most control characters.
    fn characters(&mut self, tag: &'static str, value: &str) {
        if value.chars().any(char::is_control) {
            self.fail(tag, "must not contain control characters");
        } else if value.chars().any(|c| u32::from(c) > 0xFF) {
            self.fail(
                tag,
                "must use only ISO-8859-1 (Latin-1) characters, the Web Tools character set",
            );
        }
    }

    fn pattern(&mut self, tag: &'static str, value: Option<&str>, regex: &Regex, what: &str) {
        if let Some(value) = value {
            if !regex.is_match(value) {
                self.fail(tag, format!("must be {what}"));
            }
        }
    }

    fn one_of(&mut self, tag: &'static str, value: Option<&str>, allowed: &[&str]) {
        if let Some(value) = value {
            if !allowed.contains(&value) {
                self.fail(tag, format!("must be one of {}", allowed.join(", ")));
            }
        }
    }

    /// A `Decimal` with `minExclusive=0.0` and `totalDigits=10`.
    fn dimension(&mut self, tag: &'static str, value: Option<&str>) -> Option<Decimal> {
        let value = value?;
        let Ok(number) = value.parse::<Decimal>() else {
            self.fail(tag, "must be a decimal number of inches");
            return None;
        };
        if number <= Decimal::ZERO {
            self.fail(tag, "must be greater than 0");
            return None;
        }
        if total_digits(number) > 10 {
            self.fail(tag, "must have at most 10 digits");
            return None;
        }
        Some(number)
    }
}

/// XML Schema `totalDigits` of a decimal: its significant digits.
fn total_digits(number: Decimal) -> usize {
    let text = number.normalize().abs().to_string();
    text.trim_start_matches(['0', '.'])
        .chars()
        .filter(char::is_ascii_digit)
        .count()
        .max(1)
}

/// Reads a `ShipDate` in either documented format.
pub(crate) fn parse_ship_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, SHIP_DATE_FORMAT)
        .or_else(|_| NaiveDate::parse_from_str(value, SHIP_DATE_FORMAT_NAMED))
        .ok()
}

/// Checks a request document against the v1.2 and v1.5 request tag tables; `today` is the UTC
/// date `ShipDate` is measured from. Errors name our fields (see [`FieldNames`]); warnings are
/// the label truncations and the email USPS will not send.
pub(crate) fn check(
    request: &USPSReturnsLabelRequest,
    today: NaiveDate,
    names: &FieldNames,
) -> Checked {
    let mut c = Checker {
        names,
        found: Checked::default(),
    };
    let image = &request.image_parameters;

    c.text("Option", request.option.as_deref(), 0, usize::MAX);
    c.pattern(
        "Revision",
        request.revision.as_deref(),
        &REVISION,
        "empty or one digit",
    );
    c.one_of(
        "ImageType",
        Some(image.image_type.as_str()),
        &["PDF", "TIF", "NONE", "ZPL"],
    );
    c.one_of(
        "ImageParameter",
        image.image_parameter.as_deref(),
        &[
            "4X6",
            // v1.5's stated default, though missing from its own enumeration.
            "4X6LABEL",
            "6X4",
            "6X4PAGE",
            "4X6ZPL203DPI",
            "4X6ZPL300DPI",
            "SEPARATERECEIPTPAGE",
        ],
    );
    let zpl_parameter = image
        .image_parameter
        .as_deref()
        .is_some_and(|parameter| parameter.contains("ZPL"));
    if (image.image_type == "ZPL") != zpl_parameter {
        c.fail(
            "ImageParameter",
            "must be 4X6ZPL203DPI or 4X6ZPL300DPI exactly when ImageType is ZPL",
        );
    }
    if image.image_type == "ZPL" && image.separate_receipt_page == Some(true) {
        c.fail("SeparateReceiptPage", "is not available with ZPL labels");
    }

    // Either first and last name, or a firm.
    let first = request.customer_first_name.as_deref();
    let last = request.customer_last_name.as_deref();
    let firm = request.customer_firm.as_deref();
    let present = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    let named = present(first) && present(last);
    if !(named || present(firm)) {
        c.fail(
            "CustomerFirstName",
            "first and last name, or a firm, are required (CustomerFirstName and CustomerLastName, or CustomerFirm)",
        );
    }
    c.text("CustomerFirstName", first, 1, 50);
    c.text("CustomerLastName", last, 1, 50);
    c.text("CustomerFirm", firm, 1, 50);
    if let (Some(first), Some(last)) = (first, last) {
        let combined = first.chars().count() + last.chars().count();
        if combined > PRINTED_MAX {
            c.found.warnings.push(Warning::new(
                "truncated_on_label",
                Some(names.of("CustomerLastName")),
                format!(
                    "USPS prints at most {PRINTED_MAX} characters of the first and last name together; these {combined} are cut on the label"
                ),
            ));
        }
    }
    if let Some(firm) = firm {
        let length = firm.chars().count();
        if length > PRINTED_MAX {
            c.found.warnings.push(Warning::new(
                "truncated_on_label",
                Some(names.of("CustomerFirm")),
                format!(
                    "USPS prints at most {PRINTED_MAX} characters of the firm; these {length} are cut on the label"
                ),
            ));
        }
    }

    c.text(
        "CustomerAddress1",
        Some(request.customer_address1.as_str()),
        0,
        50,
    );
    c.text(
        "CustomerAddress2",
        Some(request.customer_address2.as_str()),
        1,
        50,
    );
    c.text(
        "CustomerUrbanization",
        request.customer_urbanization.as_deref(),
        0,
        50,
    );
    c.text("CustomerCity", Some(request.customer_city.as_str()), 1, 28);
    c.pattern(
        "CustomerState",
        Some(request.customer_state.as_str()),
        &STATE,
        "a two-letter state abbreviation",
    );
    c.pattern(
        "CustomerZip5",
        Some(request.customer_zip5.as_str()),
        &ZIP5,
        "5 digits",
    );
    c.pattern(
        "CustomerZip4",
        request.customer_zip4.as_deref(),
        &ZIP4,
        "4 digits",
    );
    c.pattern(
        "POZipCode",
        request.po_zip_code.as_deref().filter(|zip| !zip.is_empty()),
        &ZIP5,
        "5 digits",
    );

    c.text("RetailerATTN", request.retailer_attn.as_deref(), 0, 50);
    c.text("RetailerFirm", request.retailer_firm.as_deref(), 0, 50);
    c.text(
        "RetailerAddress1",
        request.retailer_address1.as_deref(),
        0,
        50,
    );
    c.text(
        "RetailerAddress2",
        request.retailer_address2.as_deref(),
        1,
        50,
    );
    c.text("RetailerCity", request.retailer_city.as_deref(), 1, 28);
    c.pattern(
        "RetailerState",
        request.retailer_state.as_deref(),
        &STATE,
        "a two-letter state abbreviation",
    );
    c.pattern(
        "RetailerZip5",
        request.retailer_zip5.as_deref(),
        &ZIP5,
        "5 digits",
    );
    c.pattern(
        "RetailerZip4",
        request.retailer_zip4.as_deref(),
        &ZIP4,
        "4 digits",
    );
    c.pattern(
        "RetailerEmail",
        request.retailer_email.as_deref(),
        &EMAIL,
        "an email address matching ([\\w\\-\\.]+)@(([\\w-]+\\.)+)[a-zA-Z]{2,4}",
    );
    c.pattern(
        "RetailerPhone",
        request.retailer_phone.as_deref(),
        &PHONE,
        "10 digits",
    );
    c.one_of(
        "ReturnsPostageType",
        request
            .returns_postage_type
            .as_deref()
            .filter(|kind| !kind.is_empty()),
        &["5"],
    );
    if request.returns_postage_type.as_deref() == Some("5") {
        // eFulfillment: the destination and the merchant come with each request.
        for (tag, value) in [
            ("RetailerFirm", &request.retailer_firm),
            ("RetailerAddress2", &request.retailer_address2),
            ("RetailerCity", &request.retailer_city),
            ("RetailerState", &request.retailer_state),
            ("RetailerZip5", &request.retailer_zip5),
            ("RetailerZip4", &request.retailer_zip4),
            ("CustomerRefNo2", &request.customer_ref_no2),
        ] {
            if !present(value.as_deref()) {
                c.fail(tag, "is required when ReturnsPostageType is 5");
            }
        }
        if !present(request.retailer_email.as_deref())
            && !present(request.retailer_phone.as_deref())
        {
            c.fail(
                "RetailerEmail",
                "RetailerEmail or RetailerPhone is required when ReturnsPostageType is 5",
            );
        }
    }

    if let Some(weight) = request.weight_in_ounces {
        if weight > MAX_WEIGHT_OZ {
            c.fail(
                "WeightInOunces",
                format!(
                    "must be at most {MAX_WEIGHT_OZ} oz (70 lb); {weight} oz after rounding up to whole ounces"
                ),
            );
        }
    }
    c.one_of(
        "ServiceType",
        Some(request.service_type.as_str()),
        &["PRIORITY", "FIRST CLASS", "GROUND"],
    );

    let width = c.dimension("Width", request.width.as_deref());
    let length = c.dimension("Length", request.length.as_deref());
    let height = c.dimension("Height", request.height.as_deref());
    c.dimension("Girth", request.girth.as_deref());
    let sides = [
        ("Length", &request.length),
        ("Width", &request.width),
        ("Height", &request.height),
    ];
    let given = sides.iter().filter(|(_, value)| value.is_some()).count();
    if given != 0 && given != sides.len() {
        for (tag, value) in sides {
            if value.is_none() {
                c.fail(
                    tag,
                    "is required when any dimension is given (Length, Width and Height go together)",
                );
            }
        }
    } else if request.girth.is_some() && given == 0 {
        c.fail(
            "Girth",
            "is only for non-rectangular parcels and needs Length, Width and Height",
        );
    }
    if let (Some(length), Some(width), Some(height)) = (length, width, height) {
        if length < width || length < height {
            c.fail(
                "Length",
                "must be the longest side (not shorter than Width and Height)",
            );
        }
    }

    if let Some(ship_date) = request.ship_date.as_deref().filter(|d| !d.is_empty()) {
        let last = today.checked_add_days(Days::new(SHIP_DATE_DAYS_AHEAD.into()));
        match (parse_ship_date(ship_date), last) {
            (None, _) => c.fail(
                "ShipDate",
                "must be a date as mm/dd/yyyy (02/14/2020) or dd-mmm-yyyy (14-Feb-2020)",
            ),
            (Some(date), Some(last)) if date < today || date > last => c.fail(
                "ShipDate",
                format!("must be today to {SHIP_DATE_DAYS_AHEAD} days ahead ({today} to {last})"),
            ),
            _ => {}
        }
    }

    c.text("VendorCode", request.vendor_code.as_deref(), 0, 4);
    c.text(
        "VendorProductVersionNumber",
        request.vendor_product_version_number.as_deref(),
        0,
        8,
    );
    c.pattern(
        "MailOwnerMID",
        request.mail_owner_mid.as_deref(),
        &MID,
        "6 or 9 digits",
    );
    c.text("CustomerRefNo", request.customer_ref_no.as_deref(), 0, 30);
    c.text("CustomerRefNo2", request.customer_ref_no2.as_deref(), 0, 30);
    c.text("SenderName", request.sender_name.as_deref(), 0, 50);
    c.text("RecipientName", request.recipient_name.as_deref(), 0, 50);
    let email_rule = "an email address matching ([\\w\\-\\.]+)@(([\\w-]+\\.)+)[a-zA-Z]{2,4}";
    c.pattern(
        "SenderEmail",
        request.sender_email.as_deref(),
        &EMAIL,
        email_rule,
    );
    c.pattern(
        "RecipientEmail",
        request.recipient_email.as_deref(),
        &EMAIL,
        email_rule,
    );
    if request.sender_email.is_some() && request.recipient_email.is_none() {
        c.found.warnings.push(Warning::new(
            "notification_not_sent",
            Some(names.of("RecipientEmail")),
            "USPS sends its tracking email only to a recipient email (RecipientEMail); with a sender email alone no email is sent",
        ));
    }

    for service in &request.extra_services {
        c.one_of("ExtraService", Some(service.trim()), &["100", "125", "156"]);
        let insurance_for = match service.trim() {
            "100" => Some(["FIRST CLASS", "GROUND"].as_slice()),
            "125" => Some(["PRIORITY"].as_slice()),
            _ => None,
        };
        if let Some(service_types) = insurance_for {
            if !service_types.contains(&request.service_type.as_str()) {
                c.fail(
                    "ExtraService",
                    format!(
                        "{} insurance is only for ServiceType {}",
                        service.trim(),
                        service_types.join(" or ")
                    ),
                );
            }
            if request.insured_amount.is_none() {
                c.fail(
                    "InsuredAmount",
                    "is required with insurance (ExtraService 100 or 125)",
                );
            }
        }
    }
    if let Some(amount) = request.insured_amount.as_deref() {
        match amount.parse::<Decimal>() {
            Ok(amount) if amount >= Decimal::ZERO && amount <= Decimal::from(5000) => {}
            _ => c.fail("InsuredAmount", "must be an amount from 0.00 to 5000.00"),
        }
    }
    c.found
}

/// The US parts of the customer's address; Web Tools labels leave from US addresses only.
fn from_us_address<'a>(
    address: &'a carrier::Address,
    errors: &mut ValidationErrors,
) -> Option<carrier::UsParts<'a>> {
    let us = address.us();
    if us.is_none() {
        errors.push(
            "from_address.country",
            format!(
                "USPS Web Tools return labels are for US addresses only, not {}",
                address.country
            ),
        );
    }
    us
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::account::WebToolsCredentials;
    use carrier::{ReturnLabelInput, ReturnLabelRequest};
    use secrecy::SecretString;
    use serde_json::{Value, json};

    pub(crate) fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 24).unwrap()
    }

    pub(crate) fn account(test_mode: bool) -> WebToolsAccount {
        WebToolsAccount {
            id: "sa_webtools".into(),
            mid: "904128936".into(),
            test_mode,
            credentials: WebToolsCredentials {
                user_id: SecretString::from("sentinel-user"),
                password: SecretString::from("sentinel-password"),
            },
        }
    }

    pub(crate) fn input() -> Value {
        json!({
            "service": "usps_priority_mail_return",
            "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                             "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118",
                             "zip4": "1234"},
            "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
            "reference": "RMA-1001"
        })
    }

    pub(crate) fn request(value: Value) -> ReturnLabelRequest {
        let input: ReturnLabelInput = serde_json::from_value(value).unwrap();
        ReturnLabelRequest::parse(&input).unwrap()
    }

    fn prepared(value: Value) -> Result<PreparedLabel, ValidationErrors> {
        prepare(&account(false), &request(value), today())
    }

    fn wire(value: Value) -> USPSReturnsLabelRequest {
        prepared(value).unwrap().request
    }

    fn message_of(errors: &ValidationErrors, field: &str) -> String {
        errors
            .errors()
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.clone())
            .unwrap_or_else(|| panic!("no error on {field}: {errors}"))
    }

    #[test]
    fn the_example_request_maps_onto_every_tag_it_feeds() {
        let wire = wire(input());
        assert_eq!(
            wire,
            USPSReturnsLabelRequest {
                option: Some(String::new()),
                revision: Some(String::new()),
                image_parameters: ImageParameters {
                    image_type: "PDF".into(),
                    image_parameter: Some("4X6".into()),
                    separate_receipt_page: None,
                },
                customer_first_name: Some("Jane".into()),
                customer_last_name: Some("Doe".into()),
                customer_address1: "Ste 150".into(),
                customer_address2: "1100 Wyoming St".into(),
                customer_city: "Saint Louis".into(),
                customer_state: "MO".into(),
                customer_zip5: "63118".into(),
                customer_zip4: Some("1234".into()),
                allow_non_cleansed_origin_addr: Some(false),
                weight_in_ounces: Some(24),
                service_type: "PRIORITY".into(),
                width: Some("7".into()),
                length: Some("10".into()),
                height: Some("4".into()),
                machinable: Some(true),
                mail_owner_mid: Some("904128936".into()),
                customer_ref_no: Some("RMA-1001".into()),
                print_customer_ref_no: Some(true),
                ..USPSReturnsLabelRequest::default()
            }
        );
    }

    #[test]
    fn each_service_maps_to_its_service_type() {
        for (code, service_type) in [
            ("usps_ground_advantage_return", "GROUND"),
            ("usps_priority_mail_return", "PRIORITY"),
            ("usps_first_class_package_return", "FIRST CLASS"),
        ] {
            let mut value = input();
            value["service"] = json!(code);
            let prepared = prepared(value).unwrap();
            assert_eq!(prepared.request.service_type, service_type);
            assert_eq!(prepared.service_type, service_type);
        }
    }

    #[test]
    fn express_is_refused_with_a_clear_service_error() {
        let mut value = input();
        value["service"] = json!("usps_priority_mail_express_return");
        let errors = prepared(value).unwrap_err();
        let message = message_of(&errors, "service");
        assert!(
            message.contains("not offered by USPS Web Tools"),
            "{message}"
        );
        assert!(message.contains("v3"), "{message}");
    }

    #[test]
    fn an_unknown_service_is_a_service_error() {
        let mut value = input();
        value["service"] = json!("usps_media_mail");
        assert!(prepared(value).unwrap_err().names("service"));
    }

    #[test]
    fn label_formats_and_receipts_map_to_image_parameters() {
        for (format, receipt, image_type, parameter, separate) in [
            ("PDF", "none", "PDF", Some("4X6"), None),
            ("TIF", "none", "TIF", Some("4X6"), None),
            ("PDF", "same_page", "PDF", None, Some(false)),
            ("TIF", "separate_page", "TIF", None, Some(true)),
            ("ZPL", "none", "ZPL", Some("4X6ZPL203DPI"), None),
        ] {
            let mut value = input();
            value["label_format"] = json!(format);
            value["receipt"] = json!(receipt);
            let image = wire(value).image_parameters;
            assert_eq!(image.image_type, image_type, "{format} {receipt}");
            assert_eq!(
                image.image_parameter.as_deref(),
                parameter,
                "{format} {receipt}"
            );
            assert_eq!(image.separate_receipt_page, separate, "{format} {receipt}");
        }
    }

    #[test]
    fn png_is_a_label_format_error() {
        let mut value = input();
        value["label_format"] = json!("PNG");
        let errors = prepared(value).unwrap_err();
        assert!(message_of(&errors, "label_format").contains("PNG is not offered"));
    }

    #[test]
    fn a_zpl_label_with_a_receipt_is_a_receipt_error() {
        for receipt in ["same_page", "separate_page"] {
            let mut value = input();
            value["label_format"] = json!("ZPL");
            value["receipt"] = json!(receipt);
            assert!(prepared(value).unwrap_err().names("receipt"), "{receipt}");
        }
    }

    #[test]
    fn the_longest_side_is_sent_as_length() {
        let mut value = input();
        value["parcel"] =
            json!({"weight_oz": 24, "length_in": 7, "width_in": 14.5, "height_in": 4});
        let wire = wire(value);
        assert_eq!(wire.length.as_deref(), Some("14.5"));
        assert_eq!(wire.width.as_deref(), Some("7"));
        assert_eq!(wire.height.as_deref(), Some("4"));
        let mut value = input();
        value["parcel"] = json!({"weight_oz": 24, "length_in": 7, "width_in": 5, "height_in": 9});
        let wire = super::tests::wire(value);
        assert_eq!(
            (
                wire.length.as_deref(),
                wire.width.as_deref(),
                wire.height.as_deref()
            ),
            (Some("9"), Some("7"), Some("5"))
        );
    }

    #[test]
    fn a_length_shorter_than_two_equal_sides_is_reordered() {
        let mut value = input();
        value["parcel"] =
            json!({"weight_oz": 24, "length_in": 0.1, "width_in": 18.3, "height_in": 18.3});
        let wire = wire(value);
        assert_eq!(
            (
                wire.length.as_deref(),
                wire.width.as_deref(),
                wire.height.as_deref()
            ),
            (Some("18.3"), Some("0.1"), Some("18.3"))
        );
    }

    #[test]
    fn a_reordered_side_is_named_by_the_field_it_came_from() {
        let mut value = input();
        value["parcel"] =
            json!({"weight_oz": 24, "length_in": 7, "width_in": 12.000000000001, "height_in": 4});
        let errors = prepared(value).unwrap_err();
        assert!(message_of(&errors, "parcel.width_in").contains("(USPS Web Tools Length)"));
    }

    #[test]
    fn weight_is_rounded_up_to_whole_ounces() {
        let mut value = input();
        value["parcel"]["weight_oz"] = json!(24.1);
        assert_eq!(wire(value).weight_in_ounces, Some(25));
    }

    #[test]
    fn a_girth_is_sent_for_a_non_rectangular_parcel() {
        let mut value = input();
        value["parcel"]["length_in"] = json!(20);
        value["parcel"]["girth_in"] = json!(30);
        assert_eq!(wire(value).girth.as_deref(), Some("30"));
    }

    #[test]
    fn no_dimensions_send_no_dimension_tags() {
        let mut value = input();
        value["parcel"] = json!({"weight_oz": 4});
        let wire = wire(value);
        assert!(wire.length.is_none() && wire.width.is_none() && wire.height.is_none());
        assert!(wire.girth.is_none());
    }

    #[test]
    fn a_firm_with_half_a_name_sends_only_the_firm() {
        let mut value = input();
        value["from_address"]["firm"] = json!("Jane's Shop");
        value["from_address"]
            .as_object_mut()
            .unwrap()
            .remove("last_name");
        let wire = wire(value);
        assert_eq!(wire.customer_firm.as_deref(), Some("Jane's Shop"));
        assert!(wire.customer_first_name.is_none() && wire.customer_last_name.is_none());
    }

    #[test]
    fn no_secondary_address_sends_an_empty_customer_address1() {
        let mut value = input();
        value["from_address"]
            .as_object_mut()
            .unwrap()
            .remove("street2");
        assert_eq!(wire(value).customer_address1, "");
    }

    #[test]
    fn the_ship_date_is_sent_as_month_day_year() {
        let mut value = input();
        value["ship_date"] = json!("2026-06-26");
        assert_eq!(wire(value).ship_date.as_deref(), Some("06/26/2026"));
    }

    #[test]
    fn both_documented_ship_date_formats_are_read() {
        let expected = NaiveDate::from_ymd_opt(2020, 2, 14);
        assert_eq!(parse_ship_date("02/14/2020"), expected);
        assert_eq!(parse_ship_date("14-Feb-2020"), expected);
        assert_eq!(parse_ship_date("2020-02-14"), None);
    }

    #[test]
    fn notify_fields_travel_as_the_email_tags() {
        let mut value = input();
        value["notify"] = json!({"sender_name": "Acme Returns", "sender_email": "returns@acme.example.com",
                                 "recipient_name": "Jane Doe", "recipient_email": "jane@example.com"});
        let wire = wire(value);
        assert_eq!(wire.sender_name.as_deref(), Some("Acme Returns"));
        assert_eq!(
            wire.sender_email.as_deref(),
            Some("returns@acme.example.com")
        );
        assert_eq!(wire.recipient_name.as_deref(), Some("Jane Doe"));
        assert_eq!(wire.recipient_email.as_deref(), Some("jane@example.com"));
    }

    #[test]
    fn a_sender_email_without_a_recipient_email_warns_that_no_email_is_sent() {
        let mut value = input();
        value["notify"] = json!({"sender_email": "returns@acme.example.com"});
        let warnings = prepared(value).unwrap().warnings;
        let warning = warnings
            .iter()
            .find(|w| w.code == "notification_not_sent")
            .unwrap();
        assert_eq!(warning.field.as_deref(), Some("notify.recipient_email"));
    }

    #[test]
    fn names_longer_than_the_printed_limit_warn_of_truncation() {
        let mut value = input();
        value["from_address"]["first_name"] = json!("Maximiliana-Josefina");
        value["from_address"]["last_name"] = json!("Oberhuber-Landsteiner");
        let warnings = prepared(value).unwrap().warnings;
        let warning = warnings
            .iter()
            .find(|w| w.code == "truncated_on_label")
            .unwrap();
        assert_eq!(warning.field.as_deref(), Some("from_address.last_name"));
        assert!(warning.message.contains("41"), "{}", warning.message);
    }

    #[test]
    fn a_firm_longer_than_the_printed_limit_warns_of_truncation() {
        let mut value = input();
        value["from_address"]["firm"] = json!("The Very Long Returns Company of Saint Louis");
        let warnings = prepared(value).unwrap().warnings;
        assert!(
            warnings.iter().any(|w| w.code == "truncated_on_label"
                && w.field.as_deref() == Some("from_address.firm"))
        );
    }

    #[test]
    fn thirty_two_characters_print_whole() {
        let mut value = input();
        value["from_address"]["first_name"] = json!("F".repeat(16));
        value["from_address"]["last_name"] = json!("L".repeat(16));
        value["from_address"]["firm"] = json!("C".repeat(32));
        assert!(prepared(value).unwrap().warnings.is_empty());
    }

    #[test]
    fn a_test_mode_account_uses_the_certify_api_and_says_so() {
        let prepared = prepare(&account(true), &request(input()), today()).unwrap();
        assert_eq!(prepared.api, "USPSReturnsLabelCertify");
        assert!(prepared.warnings.iter().any(|w| w.code == "test_label"));
        let live = prepare(&account(false), &request(input()), today()).unwrap();
        assert_eq!(live.api, "USPSReturnsLabel");
    }

    /// One rule of the tag tables: a change to a valid request's input or document, the field it
    /// must be refused on and a part of the message.
    struct Rule {
        name: &'static str,
        input: fn(&mut Value),
        document: fn(&mut USPSReturnsLabelRequest),
        field: &'static str,
        message: &'static str,
    }

    fn no_input(_: &mut Value) {}
    fn no_change(_: &mut USPSReturnsLabelRequest) {}

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                name: "first and last name or firm",
                input: no_input,
                document: |d| {
                    d.customer_last_name = None;
                },
                field: "from_address.first_name",
                message: "first and last name, or a firm, are required",
            },
            Rule {
                name: "first name at least one character",
                input: no_input,
                document: |d| d.customer_first_name = Some(String::new()),
                field: "from_address.first_name",
                message: "must have at least 1 character (USPS Web Tools CustomerFirstName)",
            },
            Rule {
                name: "first name at most 50",
                input: |v| v["from_address"]["first_name"] = json!("F".repeat(51)),
                document: no_change,
                field: "from_address.first_name",
                message: "must be at most 50 characters (USPS Web Tools CustomerFirstName)",
            },
            Rule {
                name: "last name at most 50",
                input: |v| v["from_address"]["last_name"] = json!("L".repeat(51)),
                document: no_change,
                field: "from_address.last_name",
                message: "must be at most 50 characters (USPS Web Tools CustomerLastName)",
            },
            Rule {
                name: "firm at most 50",
                input: |v| v["from_address"]["firm"] = json!("C".repeat(51)),
                document: no_change,
                field: "from_address.firm",
                message: "must be at most 50 characters (USPS Web Tools CustomerFirm)",
            },
            Rule {
                name: "secondary address at most 50",
                input: |v| v["from_address"]["street2"] = json!("S".repeat(51)),
                document: no_change,
                field: "from_address.street2",
                message: "must be at most 50 characters (USPS Web Tools CustomerAddress1)",
            },
            Rule {
                name: "street at most 50",
                input: |v| v["from_address"]["street1"] = json!("S".repeat(51)),
                document: no_change,
                field: "from_address.street1",
                message: "must be at most 50 characters (USPS Web Tools CustomerAddress2)",
            },
            Rule {
                name: "street at least one character",
                input: no_input,
                document: |d| d.customer_address2 = String::new(),
                field: "from_address.street1",
                message: "must have at least 1 character (USPS Web Tools CustomerAddress2)",
            },
            Rule {
                name: "urbanization at most 50",
                input: |v| v["from_address"]["urbanization"] = json!("U".repeat(51)),
                document: no_change,
                field: "from_address.urbanization",
                message: "must be at most 50 characters (USPS Web Tools CustomerUrbanization)",
            },
            Rule {
                name: "city at most 28",
                input: |v| v["from_address"]["city"] = json!("C".repeat(29)),
                document: no_change,
                field: "from_address.city",
                message: "must be at most 28 characters (USPS Web Tools CustomerCity)",
            },
            Rule {
                name: "state two word characters",
                input: no_input,
                document: |d| d.customer_state = "M".into(),
                field: "from_address.state",
                message: "must be a two-letter state abbreviation (USPS Web Tools CustomerState)",
            },
            Rule {
                name: "ZIP Code five digits",
                input: no_input,
                document: |d| d.customer_zip5 = "6311".into(),
                field: "from_address.zip5",
                message: "must be 5 digits (USPS Web Tools CustomerZip5)",
            },
            Rule {
                name: "ZIP+4 four digits",
                input: no_input,
                document: |d| d.customer_zip4 = Some("12a4".into()),
                field: "from_address.zip4",
                message: "must be 4 digits (USPS Web Tools CustomerZip4)",
            },
            Rule {
                name: "post office ZIP Code five digits",
                input: no_input,
                document: |d| d.po_zip_code = Some("2077".into()),
                field: "POZipCode",
                message: "must be 5 digits (USPS Web Tools POZipCode)",
            },
            Rule {
                name: "Latin-1 characters only",
                input: |v| v["from_address"]["city"] = json!("\u{141}\u{f3}d\u{17a}"),
                document: no_change,
                field: "from_address.city",
                message: "must use only ISO-8859-1 (Latin-1) characters",
            },
            Rule {
                // The neutral request refuses control characters before any plugin sees them
                // (carrier::text); the document's own check still stands behind it.
                name: "no control characters",
                input: |v| v["notify"] = json!({"sender_name": "Acme Returns"}),
                document: |d| d.sender_name = Some("Acme\u{1}Returns".into()),
                field: "notify.sender_name",
                message: "must not contain control characters (USPS Web Tools SenderName)",
            },
            Rule {
                name: "weight at most 1120 ounces",
                input: |v| v["parcel"]["weight_oz"] = json!(1120.5),
                document: no_change,
                field: "parcel.weight_oz",
                message: "must be at most 1120 oz (70 lb); 1121 oz after rounding up",
            },
            Rule {
                name: "service type enumeration",
                input: no_input,
                document: |d| d.service_type = "EXPRESS".into(),
                field: "service",
                message: "must be one of PRIORITY, FIRST CLASS, GROUND (USPS Web Tools ServiceType)",
            },
            Rule {
                name: "dimensions all or none",
                input: no_input,
                document: |d| d.height = None,
                field: "parcel.height_in",
                message: "Length, Width and Height go together) (USPS Web Tools Height)",
            },
            Rule {
                name: "length the longest side",
                input: no_input,
                document: |d| d.length = Some("5".into()),
                field: "parcel.length_in",
                message: "must be the longest side (not shorter than Width and Height) (USPS Web Tools Length)",
            },
            Rule {
                name: "dimensions greater than zero",
                input: no_input,
                document: |d| d.width = Some("0".into()),
                field: "parcel.width_in",
                message: "must be greater than 0 (USPS Web Tools Width)",
            },
            Rule {
                name: "dimensions at most ten digits",
                input: |v| v["parcel"]["height_in"] = json!(4.0000000001),
                document: no_change,
                field: "parcel.height_in",
                message: "must have at most 10 digits (USPS Web Tools Height)",
            },
            Rule {
                name: "girth only for non-rectangular parcels with dimensions",
                input: |v| v["parcel"] = json!({"weight_oz": 24}),
                document: |d| d.girth = Some("30".into()),
                field: "parcel.girth_in",
                message: "is only for non-rectangular parcels and needs Length, Width and Height",
            },
            Rule {
                name: "ship date not in the past",
                input: |v| v["ship_date"] = json!("2026-06-23"),
                document: no_change,
                field: "ship_date",
                message: "must be today to 3 days ahead (2026-06-24 to 2026-06-27) (USPS Web Tools ShipDate)",
            },
            Rule {
                name: "ship date at most three days ahead",
                input: |v| v["ship_date"] = json!("2026-06-28"),
                document: no_change,
                field: "ship_date",
                message: "must be today to 3 days ahead",
            },
            Rule {
                name: "ship date in a documented format",
                input: no_input,
                document: |d| d.ship_date = Some("2026-06-25".into()),
                field: "ship_date",
                message: "must be a date as mm/dd/yyyy (02/14/2020) or dd-mmm-yyyy (14-Feb-2020)",
            },
            Rule {
                name: "sender email pattern",
                input: |v| {
                    v["notify"] = json!({"sender_email": "returns+rma@acme.example.com",
                                                "recipient_email": "jane@example.com"})
                },
                document: no_change,
                field: "notify.sender_email",
                message: "must be an email address matching",
            },
            Rule {
                name: "recipient email pattern (top-level domain of 2 to 4 letters)",
                input: |v| v["notify"] = json!({"recipient_email": "jane@example.online"}),
                document: no_change,
                field: "notify.recipient_email",
                message: "(USPS Web Tools RecipientEmail)",
            },
            Rule {
                name: "sender name at most 50",
                input: |v| v["notify"] = json!({"sender_name": "S".repeat(51)}),
                document: no_change,
                field: "notify.sender_name",
                message: "must be at most 50 characters (USPS Web Tools SenderName)",
            },
            Rule {
                name: "recipient name at most 50",
                input: |v| v["notify"] = json!({"recipient_name": "R".repeat(51)}),
                document: no_change,
                field: "notify.recipient_name",
                message: "must be at most 50 characters (USPS Web Tools RecipientName)",
            },
            Rule {
                name: "reference at most 30",
                input: |v| v["reference"] = json!("R".repeat(31)),
                document: no_change,
                field: "reference",
                message: "must be at most 30 characters (USPS Web Tools CustomerRefNo)",
            },
            Rule {
                name: "mail owner MID six or nine digits",
                input: no_input,
                document: |d| d.mail_owner_mid = Some("1234567".into()),
                field: "details.mid",
                message: "must be 6 or 9 digits (USPS Web Tools MailOwnerMID)",
            },
            Rule {
                name: "extra service enumeration",
                input: no_input,
                document: |d| d.extra_services = vec!["155".into()],
                field: "ExtraService",
                message: "must be one of 100, 125, 156 (USPS Web Tools ExtraService)",
            },
            Rule {
                name: "insurance needs an insured amount",
                input: no_input,
                document: |d| d.extra_services = vec!["125".into()],
                field: "InsuredAmount",
                message: "is required with insurance",
            },
            Rule {
                name: "image type enumeration",
                input: no_input,
                document: |d| d.image_parameters.image_type = "PNG".into(),
                field: "label_format",
                message: "must be one of PDF, TIF, NONE, ZPL (USPS Web Tools ImageType)",
            },
            Rule {
                name: "image parameter enumeration",
                input: no_input,
                document: |d| d.image_parameters.image_parameter = Some("8X11".into()),
                field: "label_format",
                message: "(USPS Web Tools ImageParameter)",
            },
            Rule {
                name: "separate receipt page not with ZPL",
                input: |v| v["label_format"] = json!("ZPL"),
                document: |d| d.image_parameters.separate_receipt_page = Some(true),
                field: "receipt",
                message: "is not available with ZPL labels (USPS Web Tools SeparateReceiptPage)",
            },
            Rule {
                name: "eFulfillment needs the retailer address",
                input: no_input,
                document: |d| d.returns_postage_type = Some("5".into()),
                field: "RetailerAddress2",
                message: "is required when ReturnsPostageType is 5",
            },
            Rule {
                name: "retailer phone ten digits",
                input: no_input,
                document: |d| d.retailer_phone = Some("212555123".into()),
                field: "RetailerPhone",
                message: "must be 10 digits",
            },
        ]
    }

    #[test]
    fn each_documented_rule_is_refused_on_its_field_with_its_message() {
        for rule in rules() {
            let mut value = input();
            (rule.input)(&mut value);
            let request = request(value);
            let errors = match prepare(&account(false), &request, today()) {
                Err(errors) => errors,
                Ok(prepared) => {
                    let mut document = prepared.request;
                    (rule.document)(&mut document);
                    check(&document, today(), &FieldNames::default()).errors
                }
            };
            assert!(
                errors
                    .errors()
                    .iter()
                    .any(|error| error.field == rule.field && error.message.contains(rule.message)),
                "{}: expected {:?} on {}, got {errors}",
                rule.name,
                rule.message,
                rule.field
            );
        }
    }

    #[test]
    fn every_rule_is_met_by_the_example_request() {
        let prepared = prepared(input()).unwrap();
        let checked = check(&prepared.request, today(), &FieldNames::default());
        assert!(checked.errors.is_empty(), "{}", checked.errors);
    }
}
