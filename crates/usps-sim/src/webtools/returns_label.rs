//! `API=USPSReturnsLabel` and `API=USPSReturnsLabelCertify`, from the USPS Returns Label API
//! user guides v1.2 (12/18/2020) and v1.5 (10/22/2021); the tag table below is transcribed from
//! them by hand and shares nothing with any client's wire types.
//!
//! # Request
//! Root `USPSReturnsLabelRequest` (`USPSReturnsLabelCertifyRequest` for certify) with the
//! attribute `USERID` and, optionally, `PASSWORD` (not in the Returns Label guides' samples;
//! USPS's other label APIs take it). The children, in this order (v1.5 adds the ones marked
//! ⁵; `ShipDate` is v1.2's and stays accepted):
//!
//! | tag | occurs | value |
//! |---|---|---|
//! | `Option` | optional | any text |
//! | `Revision` | optional | empty or one digit |
//! | `ImageParameters` | required | `ImageType` (required: `PDF`, `TIF`, `NONE`, `ZPL`⁵), `SeparateReceiptPage` (optional: `true`/`false`), `ImageParameter`⁵ (up to 2: `4X6`, `4X6LABEL`, `6X4`, `6X4PAGE`, `4X6ZPL203DPI`, `4X6ZPL300DPI`, `SEPARATERECEIPTPAGE`) |
//! | `CustomerFirstName`, `CustomerLastName`, `CustomerFirm` | optional; first and last name, or firm | 1–50 characters |
//! | `CustomerAddress1` | required, may be empty (`<CustomerAddress1/>`) | 0–50 |
//! | `CustomerAddress2` | required | 1–50 |
//! | `CustomerUrbanization`⁵ | optional | 0–50 |
//! | `CustomerCity` | required | 1–28 |
//! | `CustomerState` | required | `\w{2}` |
//! | `CustomerZip5` | required | `\d{5}` |
//! | `CustomerZip4`, `POZipCode` | optional | `\d{4}`, `\d{5}` |
//! | `AllowNonCleansedOriginAddr` | optional | `true`/`false` |
//! | `RetailerATTN`⁵, `RetailerFirm`⁵, `RetailerAddress1`⁵ | optional | 0–50 |
//! | `RetailerAddress2`⁵, `RetailerCity`⁵ | optional (required for eFulfillment) | 1–50, 1–28 |
//! | `RetailerState`⁵, `RetailerZip5`⁵, `RetailerZip4`⁵ | optional (required for eFulfillment) | `\w{2}`, `\d{5}`, `\d{4}` |
//! | `RetailerEmail`⁵, `RetailerPhone`⁵ | optional (one required for eFulfillment) | email pattern, 10 digits |
//! | `WeightInOunces` | optional, default 4 | integer 0–1120 |
//! | `ServiceType` | required | `PRIORITY`, `FIRST CLASS`, `GROUND` |
//! | `ReturnsPostageType`⁵ | optional (required for eFulfillment) | `5` |
//! | `Width`, `Length`, `Height`, `Girth` | optional | decimal > 0, at most 10 digits |
//! | `Machinable` | optional | `true`/`false` |
//! | `ShipDate` | optional, default today | `dd-mmm-yyyy` or `mm/dd/yyyy`, today to 3 days ahead |
//! | `VendorCode`⁵, `VendorProductVersionNumber`⁵ | optional | 0–4, 0–8 |
//! | `MailOwnerMID`⁵ | optional | `\d{9}` or `\d{6}` |
//! | `CustomerRefNo`⁵, `CustomerRefNo2`⁵ (required for eFulfillment) | optional | 0–30 |
//! | `PrintCustomerRefNo`⁵, `PrintCustomerRefNo2`⁵ | optional | `true`/`false` |
//! | `SenderName`, `RecipientName` | optional | 0–50 |
//! | `SenderEmail`, `RecipientEmail` (v1.2: `SenderEMail`, `RecipientEMail`) | optional | email pattern |
//! | `TrackingEmailPDF`⁵ | optional | `true`/`false` |
//! | `ExtraServices` | optional | `ExtraService` (repeating: `156`, and `100`⁵, `125`⁵) |
//! | `InsuredAmount`⁵ | optional (required with `100`/`125`) | 0–5000.00 |
//!
//! Checked in this order, the first failure answering (numbers in [`crate::webtools::error`]):
//! the XML parses (80040B19); the root element is the API's (-2147219081); the root's
//! attributes are `USERID` and `PASSWORD` (-2147219081); `USERID` names a configured Web Tools
//! user and `PASSWORD` is that user's, or absent for a user without one (80040B1A); the user
//! may call the API (`live_labels` for `USPSReturnsLabel`; 80040B1A); the children against the
//! table above (-2147219081 unknown or wrong-case tag, -2147219082 out of order or repeated,
//! -2147219083 required tag absent, -2147217951 empty required value, -2147219084 bad value);
//! then, with -2147219085 unless noted:
//! 1. `CustomerFirstName` and `CustomerLastName`, or `CustomerFirm` (-2147217951).
//! 2. `ImageType` `ZPL` needs a `4X6ZPL203DPI` or `4X6ZPL300DPI` `ImageParameter` and those
//!    need `ZPL`; ZPL labels have no receipt (Appendix A), so no separate receipt page; at most
//!    one size among `4X6`/`4X6LABEL`, `6X4`, `6X4PAGE` and the ZPL ones.
//! 3. `Length`, `Width` and `Height` all or none; `Girth` only with all three; `Length` the
//!    longest of the three.
//! 4. `ExtraService` `100` only with `FIRST CLASS` or `GROUND`, `125` only with `PRIORITY`;
//!    insurance only for manifesting and eFulfillment users; `InsuredAmount` with either
//!    (-2147217951 when missing).
//! 5. eFulfillment users must send `ReturnsPostageType` 5 (-2147217951) and other users must
//!    not; with 5, `RetailerFirm`, `RetailerAddress2`, `RetailerCity`, `RetailerState`,
//!    `RetailerZip5`, `RetailerZip4`, `CustomerRefNo2` and one of `RetailerEmail` or
//!    `RetailerPhone` are required (-2147217951).
//!
//! # Label
//! Destination: the user's configured retailer address, with `RetailerATTN` overriding its
//! attention line; for eFulfillment (`ReturnsPostageType` 5), the request's `Retailer*` tags.
//! Origin: `POZipCode`, else `CustomerZip5`. Postage, zone and dimensional weight:
//! [`crate::rate`] (`PRIORITY` as Priority Mail, `FIRST CLASS` and `GROUND` as Ground
//! Advantage, which replaced them). Tracking number: a valid IMpb from the user's MID (`92…`
//! for 9-digit MIDs, `93…` for 6-digit ones; service type code 020 for `PRIORITY`, 021
//! otherwise); `BarcodeNumber` is `420` + destination ZIP5 + that number. Certify labels use
//! serial 0, say "SAMPLE", are not billed and not in the ledger. Images ([`crate::label`]):
//! `PDF`, `TIF` (bilevel TIFF) or `ZPL`, 4×6 with the receipt under the label unless an
//! `ImageParameter` asks for a true `4X6` or `6X4` label; a separate receipt page
//! (`SeparateReceiptPage` true or `SEPARATERECEIPTPAGE`) comes back as `ReceiptImage`; `NONE`
//! returns no image. `CustomerRefNo`/`CustomerRefNo2` are printed when their `Print…` flag is
//! true.
//!
//! # Reply
//! `USPSReturnsLabelResponse` (`USPSReturnsLabelCertifyResponse`). The guides name the
//! destination differently, so the reply follows the guide the request was written to: a
//! request that uses any tag or spelling v1.5 introduced gets v1.5's reply, any other v1.2's.
//!
//! - v1.2: `BarcodeNumber`, `LabelImage`, `ReceiptImage`, `ToFirm`, `ToAddress1`,
//!   `ToAddress2`, `ToCity`, `ToState`, `ToZip5`, `ToZip4`, `Postnet`, `RDC`, `Postage`,
//!   `ExtraServices`, `Zone`, `DimensionalWeight`, `CarrierRoute`, `LogMessage`.
//! - v1.5: `BarcodeNumber`, `LabelImage`, `ReceiptImage`, `RetailerATTN`, `RetailerFirm`,
//!   `RetailerAddress1`, `RetailerAddress2`, `RetailerCity`, `RetailerState`, `RetailerZip5`,
//!   `RetailerZip4`, `RDC`, `Postage`, `ExtraServices`, `Zone`, `DimensionalWeight`,
//!   `CarrierRoute`, `LogMessage`.
//!
//! `LabelImage` and `ReceiptImage` are base64; absent for `NONE`, `ReceiptImage` only for a
//! separate receipt page. `ToAddress1`/`RetailerAddress1` are sent empty (`<ToAddress1/>`)
//! when there is no secondary address; `RetailerATTN` only when there is an attention line.
//! `Postage` is dollars with two decimals, without extra services. `ExtraServices` lists each
//! requested service (`ServiceID`, `ServiceName`, `Price`: 156 Signature Confirmation
//! Electronic 2.65; insurance priced by `InsuredAmount`). `Zone` has two digits.
//! `DimensionalWeight` (pounds, one decimal) only when it exceeds the actual weight. `Postnet`
//! is ZIP5 + ZIP4 + the delivery point (the street number's last two digits, `99` without
//! one). `RDC` and `CarrierRoute` are simulator values derived from the destination (USPS's
//! tables are not public). `LogMessage` only for certify.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use carrier::tracking::TrackingNumber;
use chrono::NaiveDate;
use quick_xml::escape::escape;

use crate::config::{ReturnsOption, WebToolsUserConfig};
use crate::label::{self, ImageFormat, LabelContent, PageSize, Receipt, RenderOptions};
use crate::ledger::LedgerEntry;
use crate::rate::{self, Package, ReturnService};
use crate::state::State;
use crate::webtools::document::{self, Element};
use crate::webtools::error::{WebToolsError, number, xml_content_type};
use crate::webtools::schema::{
    Checked, Content, Context, Format, Guide, Occurs, Rule, Tag, cents, check_children, decimal,
    ship_date,
};

/// The two APIs of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `USPSReturnsLabel`: a billed label.
    Label,
    /// `USPSReturnsLabelCertify`: a sample label.
    Certify,
}

impl Api {
    /// The API for an `API` parameter value.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "USPSReturnsLabel" => Some(Self::Label),
            "USPSReturnsLabelCertify" => Some(Self::Certify),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Label => "USPSReturnsLabel",
            Self::Certify => "USPSReturnsLabelCertify",
        }
    }

    fn request_root(self) -> &'static str {
        match self {
            Self::Label => "USPSReturnsLabelRequest",
            Self::Certify => "USPSReturnsLabelCertifyRequest",
        }
    }

    fn response_root(self) -> &'static str {
        match self {
            Self::Label => "USPSReturnsLabelResponse",
            Self::Certify => "USPSReturnsLabelCertifyResponse",
        }
    }
}

const fn tag(
    name: &'static str,
    since: Guide,
    occurs: Occurs,
    min_length: usize,
    max_length: Option<usize>,
    format: Format,
) -> Tag {
    Tag {
        name,
        v1_2_spelling: None,
        since,
        occurs,
        content: Content::Value(Rule {
            min_length,
            max_length,
            format,
        }),
    }
}

const fn group(name: &'static str, occurs: Occurs, tags: &'static [Tag]) -> Tag {
    Tag {
        name,
        v1_2_spelling: None,
        since: Guide::V1_2,
        occurs,
        content: Content::Group(tags),
    }
}

const fn email(name: &'static str, v1_2_spelling: &'static str) -> Tag {
    Tag {
        v1_2_spelling: Some(v1_2_spelling),
        ..tag(name, Guide::V1_2, Occurs::Optional, 0, None, Format::Email)
    }
}

use Format::{Boolean, Digits, Dimension, Enumeration, Text, TwoWordCharacters};
use Guide::{V1_2, V1_5};
use Occurs::{Optional, Required, UpTo};

const IMAGE_TYPES: &[&str] = &["PDF", "TIF", "NONE", "ZPL"];
const IMAGE_PARAMETERS: &[&str] = &[
    "4X6",
    "4X6LABEL",
    "6X4",
    "6X4PAGE",
    "4X6ZPL203DPI",
    "4X6ZPL300DPI",
    "SEPARATERECEIPTPAGE",
];
const SERVICE_TYPES: &[&str] = &["PRIORITY", "FIRST CLASS", "GROUND"];
const EXTRA_SERVICE_IDS: &[&str] = &["100", "125", "156"];

static IMAGE_PARAMETER_TAGS: [Tag; 3] = [
    tag(
        "ImageType",
        V1_2,
        Required,
        1,
        None,
        Enumeration(IMAGE_TYPES),
    ),
    tag("SeparateReceiptPage", V1_2, Optional, 0, None, Boolean),
    tag(
        "ImageParameter",
        V1_5,
        UpTo(2),
        0,
        None,
        Enumeration(IMAGE_PARAMETERS),
    ),
];

static EXTRA_SERVICE_TAGS: [Tag; 1] = [tag(
    "ExtraService",
    V1_2,
    UpTo(usize::MAX),
    1,
    None,
    Enumeration(EXTRA_SERVICE_IDS),
)];

/// The request's children, in order.
static REQUEST_TAGS: [Tag; 48] = [
    tag("Option", V1_2, Optional, 0, None, Text),
    tag("Revision", V1_2, Optional, 0, None, Digits(&[1])),
    group("ImageParameters", Required, &IMAGE_PARAMETER_TAGS),
    tag("CustomerFirstName", V1_2, Optional, 1, Some(50), Text),
    tag("CustomerLastName", V1_2, Optional, 1, Some(50), Text),
    tag("CustomerFirm", V1_2, Optional, 1, Some(50), Text),
    tag("CustomerAddress1", V1_2, Required, 0, Some(50), Text),
    tag("CustomerAddress2", V1_2, Required, 1, Some(50), Text),
    tag("CustomerUrbanization", V1_5, Optional, 0, Some(50), Text),
    tag("CustomerCity", V1_2, Required, 1, Some(28), Text),
    tag("CustomerState", V1_2, Required, 1, None, TwoWordCharacters),
    tag("CustomerZip5", V1_2, Required, 1, None, Digits(&[5])),
    tag("CustomerZip4", V1_2, Optional, 0, None, Digits(&[4])),
    tag("POZipCode", V1_2, Optional, 0, None, Digits(&[5])),
    tag(
        "AllowNonCleansedOriginAddr",
        V1_2,
        Optional,
        0,
        None,
        Boolean,
    ),
    tag("RetailerATTN", V1_5, Optional, 0, Some(50), Text),
    tag("RetailerFirm", V1_5, Optional, 0, Some(50), Text),
    tag("RetailerAddress1", V1_5, Optional, 0, Some(50), Text),
    tag("RetailerAddress2", V1_5, Optional, 1, Some(50), Text),
    tag("RetailerCity", V1_5, Optional, 1, Some(28), Text),
    tag("RetailerState", V1_5, Optional, 0, None, TwoWordCharacters),
    tag("RetailerZip5", V1_5, Optional, 0, None, Digits(&[5])),
    tag("RetailerZip4", V1_5, Optional, 0, None, Digits(&[4])),
    tag("RetailerEmail", V1_5, Optional, 0, None, Format::Email),
    tag("RetailerPhone", V1_5, Optional, 0, None, Format::Phone),
    tag(
        "WeightInOunces",
        V1_2,
        Optional,
        0,
        None,
        Format::Integer { min: 0, max: 1120 },
    ),
    tag(
        "ServiceType",
        V1_2,
        Required,
        1,
        None,
        Enumeration(SERVICE_TYPES),
    ),
    tag(
        "ReturnsPostageType",
        V1_5,
        Optional,
        0,
        None,
        Enumeration(&["5"]),
    ),
    tag("Width", V1_2, Optional, 0, None, Dimension),
    tag("Length", V1_2, Optional, 0, None, Dimension),
    tag("Height", V1_2, Optional, 0, None, Dimension),
    tag("Girth", V1_2, Optional, 0, None, Dimension),
    tag("Machinable", V1_2, Optional, 0, None, Boolean),
    tag("ShipDate", V1_2, Optional, 0, None, Format::ShipDate),
    tag("VendorCode", V1_5, Optional, 0, Some(4), Text),
    tag(
        "VendorProductVersionNumber",
        V1_5,
        Optional,
        0,
        Some(8),
        Text,
    ),
    tag("MailOwnerMID", V1_5, Optional, 0, None, Digits(&[9, 6])),
    tag("CustomerRefNo", V1_5, Optional, 0, Some(30), Text),
    tag("PrintCustomerRefNo", V1_5, Optional, 0, None, Boolean),
    tag("CustomerRefNo2", V1_5, Optional, 0, Some(30), Text),
    tag("PrintCustomerRefNo2", V1_5, Optional, 0, None, Boolean),
    tag("SenderName", V1_2, Optional, 0, Some(50), Text),
    email("SenderEmail", "SenderEMail"),
    tag("RecipientName", V1_2, Optional, 0, Some(50), Text),
    email("RecipientEmail", "RecipientEMail"),
    tag("TrackingEmailPDF", V1_5, Optional, 0, None, Boolean),
    group("ExtraServices", Optional, &EXTRA_SERVICE_TAGS),
    tag(
        "InsuredAmount",
        V1_5,
        Optional,
        0,
        None,
        Format::Amount { max_cents: 500_000 },
    ),
];

const INSURANCE_NON_PRIORITY: &str = "100";
const INSURANCE_PRIORITY: &str = "125";

/// Answers one request of `api` with its `XML`.
pub(crate) fn respond(state: &State, api: Api, xml: &str) -> Response {
    match create(state, api, xml) {
        Ok(reply) => ([(header::CONTENT_TYPE, xml_content_type())], reply).into_response(),
        Err(error) => {
            tracing::info!(
                api = api.name(),
                number = error.number,
                "Web Tools request refused"
            );
            error.into_response()
        }
    }
}

fn create(state: &State, api: Api, xml: &str) -> Result<String, WebToolsError> {
    let root = document::parse(xml).map_err(|_| WebToolsError::syntax())?;
    let context = Context {
        api: api.name(),
        today: state.now().date_naive(),
    };
    check_root(&root, api, &context)?;
    let user = authenticate(state, &root)?;
    if api == Api::Label && !user.live_labels {
        return Err(WebToolsError::not_authorized(api.name()));
    }
    let mut request = Checked::default();
    check_children(&root, &REQUEST_TAGS, &context, &mut request)?;
    check_rules(&request, user, &context)?;
    issue(state, api, user, &request, &context)
}

fn check_root(root: &Element, api: Api, context: &Context<'_>) -> Result<(), WebToolsError> {
    let expected = api.request_root();
    let name = root.name.as_str();
    if name != expected {
        let problem = if name.eq_ignore_ascii_case(expected) {
            "tag names are case-sensitive".to_owned()
        } else {
            format!("API={} takes {expected}", api.name())
        };
        return Err(context.error(
            number::INVALID_ELEMENT,
            format!("The root element '{name}' is not valid: {problem}; expected '{expected}'."),
        ));
    }
    for (attribute, _) in &root.attributes {
        if attribute == "USERID" || attribute == "PASSWORD" {
            continue;
        }
        let problem = match ["USERID", "PASSWORD"]
            .iter()
            .find(|known| attribute.eq_ignore_ascii_case(known))
        {
            Some(known) => format!("attribute names are case-sensitive; expected '{known}'"),
            None => format!("{name} takes the attributes USERID and PASSWORD"),
        };
        return Err(context.error(
            number::INVALID_ELEMENT,
            format!("The element '{name}' has invalid attribute '{attribute}': {problem}."),
        ));
    }
    Ok(())
}

fn authenticate<'a>(
    state: &'a State,
    root: &Element,
) -> Result<&'a WebToolsUserConfig, WebToolsError> {
    let user = root
        .attribute("USERID")
        .and_then(|user_id| state.config.webtools_user(user_id))
        .ok_or_else(WebToolsError::authorization)?;
    if user.password.as_deref() == root.attribute("PASSWORD") {
        Ok(user)
    } else {
        Err(WebToolsError::authorization())
    }
}

fn check_rules(
    request: &Checked,
    user: &WebToolsUserConfig,
    context: &Context<'_>,
) -> Result<(), WebToolsError> {
    let missing = |description: String| context.error(number::MISSING_VALUE, description);
    let conflict = |description: String| context.error(number::INVALID_COMBINATION, description);

    // 1. Who returns the package.
    let first = request.given("CustomerFirstName");
    let last = request.given("CustomerLastName");
    if request.given("CustomerFirm").is_none() {
        let absent = match (first, last) {
            (Some(_), Some(_)) => None,
            (Some(_), None) => Some("CustomerLastName"),
            (None, Some(_)) => Some("CustomerFirstName"),
            (None, None) => Some("CustomerFirstName and CustomerLastName, or CustomerFirm"),
        };
        if let Some(absent) = absent {
            return Err(missing(format!(
                "Missing value for {absent}: either CustomerFirstName and CustomerLastName or CustomerFirm is required."
            )));
        }
    }

    // 2. Image.
    let image_type = request.value("ImageType");
    let parameters = request.all("ImageParameter");
    let zpl_parameter = parameters
        .iter()
        .find(|parameter| parameter.contains("ZPL"));
    if image_type == "ZPL" && zpl_parameter.is_none() {
        return Err(conflict(
            "Invalid combination of ImageType and ImageParameter: ImageType ZPL needs ImageParameter 4X6ZPL203DPI or 4X6ZPL300DPI.".to_owned(),
        ));
    }
    if let Some(parameter) = zpl_parameter {
        if image_type != "ZPL" {
            return Err(conflict(format!(
                "Invalid combination of ImageType and ImageParameter: ImageParameter {parameter} needs ImageType ZPL, not {image_type}."
            )));
        }
    }
    let separate_receipt =
        request.flag("SeparateReceiptPage") || parameters.contains(&"SEPARATERECEIPTPAGE");
    if image_type == "ZPL" && separate_receipt {
        return Err(conflict(
            "Invalid combination of ImageType and SeparateReceiptPage: ZPL labels come without a receipt.".to_owned(),
        ));
    }
    let sizes: Vec<&&str> = parameters
        .iter()
        .filter(|parameter| **parameter != "SEPARATERECEIPTPAGE")
        .collect();
    if sizes.len() > 1 {
        return Err(conflict(format!(
            "Invalid combination of ImageParameter values: {} and {} are both label sizes; send one.",
            sizes[0], sizes[1]
        )));
    }

    // 3. Dimensions.
    let dimensions = ["Length", "Width", "Height"];
    let given: Vec<&str> = dimensions
        .iter()
        .copied()
        .filter(|name| request.given(name).is_some())
        .collect();
    if !given.is_empty() && given.len() < dimensions.len() {
        let absent: Vec<&str> = dimensions
            .iter()
            .copied()
            .filter(|name| !given.contains(name))
            .collect();
        return Err(conflict(format!(
            "Invalid combination of dimensions: Length, Width and Height must all be given, or none ({} missing).",
            absent.join(" and ")
        )));
    }
    if request.given("Girth").is_some() && given.is_empty() {
        return Err(conflict(
            "Invalid combination of dimensions: Girth needs Length, Width and Height too."
                .to_owned(),
        ));
    }
    if !given.is_empty() {
        let size = |name: &str| decimal(request.value(name)).map_or(0.0, |parsed| parsed.value);
        let length = size("Length");
        if length < size("Width") || length < size("Height") {
            return Err(conflict(
                "Invalid value for Length: Length must be the longest dimension (not shorter than Width or Height).".to_owned(),
            ));
        }
    }

    // 4. Extra services.
    let service_type = request.value("ServiceType");
    let services = request.all("ExtraService");
    for service in &services {
        let wrong_class = match *service {
            INSURANCE_NON_PRIORITY => service_type == "PRIORITY",
            INSURANCE_PRIORITY => service_type != "PRIORITY",
            _ => false,
        };
        if wrong_class {
            return Err(conflict(format!(
                "Invalid combination of ExtraService and ServiceType: ExtraService {service} is not available with {service_type}; insurance is 125 for PRIORITY and 100 for FIRST CLASS or GROUND."
            )));
        }
    }
    let insured = services
        .iter()
        .any(|service| *service == INSURANCE_NON_PRIORITY || *service == INSURANCE_PRIORITY);
    if insured {
        if user.option == ReturnsOption::NonManifesting {
            return Err(conflict(
                "Invalid combination of ExtraService and account: insurance (100, 125) is available to manifesting USPS Returns accounts only.".to_owned(),
            ));
        }
        if request.given("InsuredAmount").is_none() {
            return Err(missing(
                "Missing value for InsuredAmount: it is required with ExtraService 100 or 125."
                    .to_owned(),
            ));
        }
    }

    // 5. eFulfillment.
    let postage_type = request.given("ReturnsPostageType");
    match (user.option, postage_type) {
        (ReturnsOption::Efulfillment, None) => {
            return Err(missing(
                "Missing value for ReturnsPostageType: eFulfillment users must send 5.".to_owned(),
            ));
        }
        (ReturnsOption::NonManifesting | ReturnsOption::Manifesting, Some(value)) => {
            return Err(conflict(format!(
                "Invalid value for ReturnsPostageType: {value} is for eFulfillment users; leave it out or empty."
            )));
        }
        _ => {}
    }
    if postage_type.is_some() {
        for name in [
            "RetailerFirm",
            "RetailerAddress2",
            "RetailerCity",
            "RetailerState",
            "RetailerZip5",
            "RetailerZip4",
            "CustomerRefNo2",
        ] {
            if request.given(name).is_none() {
                return Err(missing(format!(
                    "Missing value for {name}: it is required with ReturnsPostageType 5."
                )));
            }
        }
        if request.given("RetailerEmail").is_none() && request.given("RetailerPhone").is_none() {
            return Err(missing(
                "Missing value for RetailerEmail or RetailerPhone: one is required with ReturnsPostageType 5.".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Where the label goes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Destination {
    attention: String,
    firm: String,
    secondary_address: String,
    street_address: String,
    city: String,
    state: String,
    zip_code: String,
    zip_plus4: String,
}

impl Destination {
    fn of(user: &WebToolsUserConfig, request: &Checked) -> Self {
        if request.given("ReturnsPostageType").is_some() {
            return Self {
                attention: request.value("RetailerATTN").to_owned(),
                firm: request.value("RetailerFirm").to_owned(),
                secondary_address: request.value("RetailerAddress1").to_owned(),
                street_address: request.value("RetailerAddress2").to_owned(),
                city: request.value("RetailerCity").to_owned(),
                state: request.value("RetailerState").to_owned(),
                zip_code: request.value("RetailerZip5").to_owned(),
                zip_plus4: request.value("RetailerZip4").to_owned(),
            };
        }
        let retailer = &user.retailer;
        let attention = request
            .given("RetailerATTN")
            .or(retailer.attention.as_deref())
            .unwrap_or_default();
        Self {
            attention: attention.to_owned(),
            firm: retailer.firm.clone(),
            secondary_address: retailer.secondary_address.clone(),
            street_address: retailer.street_address.clone(),
            city: retailer.city.clone(),
            state: retailer.state.clone(),
            zip_code: retailer.zip_code.clone(),
            zip_plus4: retailer.zip_plus4.clone(),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for line in [
            &self.attention,
            &self.firm,
            &self.street_address,
            &self.secondary_address,
        ] {
            if !line.is_empty() {
                lines.push(line.to_uppercase());
            }
        }
        lines.push(
            format!(
                "{} {} {}-{}",
                self.city, self.state, self.zip_code, self.zip_plus4
            )
            .to_uppercase(),
        );
        lines
    }

    /// ZIP5 + ZIP4 + delivery point: the last two digits of the street number, 99 without one.
    fn postnet(&self) -> String {
        let number: String = self
            .street_address
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let delivery_point = match number.len() {
            0 => "99".to_owned(),
            1 => format!("0{number}"),
            length => number[length - 2..].to_owned(),
        };
        format!("{}{}{delivery_point}", self.zip_code, self.zip_plus4)
    }
}

fn customer_lines(request: &Checked) -> Vec<String> {
    let mut lines = Vec::new();
    let name = [
        request.value("CustomerFirstName"),
        request.value("CustomerLastName"),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    for line in [
        name.as_str(),
        request.value("CustomerFirm"),
        request.value("CustomerUrbanization"),
        request.value("CustomerAddress2"),
        request.value("CustomerAddress1"),
    ] {
        if !line.is_empty() {
            lines.push(line.to_uppercase());
        }
    }
    let zip = match request.given("CustomerZip4") {
        Some(plus4) => format!("{}-{plus4}", request.value("CustomerZip5")),
        None => request.value("CustomerZip5").to_owned(),
    };
    lines.push(
        format!(
            "{} {} {zip}",
            request.value("CustomerCity"),
            request.value("CustomerState")
        )
        .to_uppercase(),
    );
    lines
}

/// `(service, title, service mark, MCSetCode)` of a `ServiceType`.
fn service(service_type: &str) -> (ReturnService, &'static str, &'static str, u32) {
    match service_type {
        "PRIORITY" => (ReturnService::Priority, "USPS PRIORITY MAIL RETURN", "P", 3),
        "FIRST CLASS" => (
            ReturnService::GroundAdvantage,
            "USPS FIRST-CLASS PACKAGE RETURN",
            "F",
            5,
        ),
        _ => (ReturnService::GroundAdvantage, "USPS GROUND RETURN", "G", 6),
    }
}

fn printed_weight(ounces: u64) -> String {
    match (ounces / 16, ounces % 16) {
        (0, ounces) => format!("{ounces} OZ"),
        (pounds, 0) => format!("{pounds} LB"),
        (pounds, ounces) => format!("{pounds} LB {ounces} OZ"),
    }
}

fn dollars(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `(ServiceID, ServiceName, price in cents)` of a requested extra service.
fn extra_service(id: &str, insured_cents: u64) -> (String, &'static str, u64) {
    match id {
        INSURANCE_NON_PRIORITY => (
            id.to_owned(),
            "Insurance (Non-Priority)",
            rate::extra_service(930, insured_cents).cents,
        ),
        INSURANCE_PRIORITY => (
            id.to_owned(),
            "Insurance (Priority)",
            rate::extra_service(930, insured_cents).cents,
        ),
        // 156, at the price of the guides' sample reply.
        _ => (id.to_owned(), "Signature Confirmation Electronic", 265),
    }
}

fn internal(detail: &str) -> WebToolsError {
    tracing::error!(detail, "Web Tools return label could not be produced");
    WebToolsError::fault(
        axum::http::StatusCode::OK,
        "The simulator could not produce the label.",
    )
}

/// Image settings from `ImageParameters`.
fn render_options(request: &Checked) -> Option<(RenderOptions, bool)> {
    let parameters = request.all("ImageParameter");
    let separate =
        request.flag("SeparateReceiptPage") || parameters.contains(&"SEPARATERECEIPTPAGE");
    let format = match request.value("ImageType") {
        "PDF" => ImageFormat::Pdf,
        "TIF" => ImageFormat::Tiff,
        "ZPL" => ImageFormat::Zpl {
            dpi: if parameters.contains(&"4X6ZPL300DPI") {
                300
            } else {
                203
            },
        },
        _ => return None,
    };
    let size = parameters
        .iter()
        .find(|parameter| **parameter != "SEPARATERECEIPTPAGE")
        .copied();
    let (label_type, receipt) = match size {
        Some("4X6" | "4X6LABEL") => ("4X6LABEL", Receipt::None),
        Some("6X4") => ("6X4LABEL", Receipt::None),
        Some("4X6ZPL203DPI" | "4X6ZPL300DPI") => ("4X6LABEL", Receipt::None),
        // No size, or 6X4PAGE: label and receipt in one image, unless on separate pages.
        _ if separate => ("4X6LABEL", Receipt::None),
        _ => ("4X6LABEL", Receipt::SamePage),
    };
    let options = RenderOptions {
        format,
        size: PageSize::of_label_type(label_type),
        receipt,
        comments: false,
    };
    Some((options, separate))
}

fn issue(
    state: &State,
    api: Api,
    user: &WebToolsUserConfig,
    request: &Checked,
    context: &Context<'_>,
) -> Result<String, WebToolsError> {
    let destination = Destination::of(user, request);
    let service_type = request.value("ServiceType");
    let (return_service, title, service_mark, mc_set_code) = service(service_type);
    let origin_zip = request
        .given("POZipCode")
        .unwrap_or(request.value("CustomerZip5"));
    let ounces: u64 = request
        .given("WeightInOunces")
        .and_then(|weight| weight.parse().ok())
        .unwrap_or(4);
    let size = |name: &str| decimal(request.value(name)).map_or(0.0, |parsed| parsed.value);
    let quote = rate::quote(&Package {
        service: return_service,
        rate_indicator: None,
        weight_pounds: ounces as f64 / 16.0,
        length: size("Length"),
        width: size("Width"),
        height: size("Height"),
        origin_zip,
        destination_zip: &destination.zip_code,
    });
    let insured_cents = request
        .given("InsuredAmount")
        .and_then(cents)
        .unwrap_or_default();
    let extra_services: Vec<(String, &'static str, u64)> = request
        .all("ExtraService")
        .into_iter()
        .map(|id| extra_service(id, insured_cents))
        .collect();
    let ship_date: NaiveDate = request
        .given("ShipDate")
        .and_then(ship_date)
        .unwrap_or(context.today);
    let mut references = Vec::new();
    for (reference, print) in [
        ("CustomerRefNo", "PrintCustomerRefNo"),
        ("CustomerRefNo2", "PrintCustomerRefNo2"),
    ] {
        if let Some(value) = request.given(reference).filter(|_| request.flag(print)) {
            references.push(value.to_owned());
        }
    }

    let mut book = state.labels();
    let serial = match api {
        Api::Label => {
            let serial = book.next_serial;
            book.next_serial += 1;
            serial
        }
        // Certify labels are samples: a fixed serial, nothing consumed.
        Api::Certify => 0,
    };
    let tracking = TrackingNumber::impb(return_service.service_type_code(), &user.mid, serial)
        .ok_or_else(|| internal("the user's MID cannot form an IMpb"))?;
    let tracking_number = tracking.as_str().to_owned();
    let content = LabelContent {
        title: match api {
            Api::Label => title.to_owned(),
            Api::Certify => format!("SAMPLE - {title}"),
        },
        service_mark: service_mark.to_owned(),
        tracking_number: tracking_number.clone(),
        routing_zip: destination.zip_code.clone(),
        from_lines: customer_lines(request),
        to_lines: destination.lines(),
        mailing_date: ship_date.format("%Y-%m-%d").to_string(),
        zone: format!("{:02}", quote.zone),
        weight: printed_weight(ounces.max(1)),
        postage: format!("${}", dollars(quote.postage_cents)),
        references,
    };
    let (label_image, receipt_image) = match render_options(request) {
        None => (None, None),
        Some((options, separate)) => {
            let label_image = label::render_label(&content, &options)
                .map_err(|error| internal(&error.to_string()))?;
            let receipt_image = if separate {
                Some(
                    label::render_receipt(&content, &options)
                        .map_err(|error| internal(&error.to_string()))?,
                )
            } else {
                None
            };
            (Some(label_image), receipt_image)
        }
    };
    if api == Api::Label {
        book.ledger.push(LedgerEntry {
            tracking_number: tracking_number.clone(),
            routing: format!("420{}", destination.zip_code),
            crid: user.crid.clone(),
            mid: user.mid.clone(),
            mail_class: service_type.to_owned(),
            postage_cents: quote.postage_cents,
            idempotency_key: None,
            created_at: state.now(),
            api: "webtools".to_owned(),
            origin_zip: Some(origin_zip.to_owned()),
            // Web Tools has no Label Broker.
            label_broker_id: None,
        });
        tracing::info!(
            tracking_number = %tracking_number,
            crid = %user.crid,
            mid = %user.mid,
            postage_cents = quote.postage_cents,
            "Web Tools return label issued"
        );
    } else {
        tracing::info!(tracking_number = %tracking_number, "Web Tools sample return label issued");
    }
    drop(book);

    let images = Images {
        label: label_image.map(|image| base64(&image.bytes)),
        receipt: receipt_image.map(|image| base64(&image.bytes)),
    };
    let zip3 = destination
        .zip_code
        .get(..3)
        .and_then(|zip3| zip3.parse::<u32>().ok());
    let zip4 = destination.zip_plus4.parse::<u32>().unwrap_or_default();
    let reply = USPSReturnsLabelResponse {
        barcode_number: format!("420{}{tracking_number}", destination.zip_code),
        images,
        destination,
        rdc: format!("{:04}", (zip3.unwrap_or_default() + mc_set_code) % 100),
        postage: dollars(quote.postage_cents),
        extra_services,
        zone: format!("{:02}", quote.zone),
        dimensional_weight: (quote.dimensional_weight_ounces > 0)
            .then(|| format!("{:.1}", quote.dimensional_weight_ounces as f64 / 16.0)),
        carrier_route: format!("C{:03}", zip4 % 100 + 1),
        log_message: (api == Api::Certify).then_some(
            "USPSReturnsLabelCertify returns a sample label for testing; it is not valid for mailing and was not billed.",
        ),
    };
    let guide = if request.uses_v1_5 {
        Guide::V1_5
    } else {
        Guide::V1_2
    };
    Ok(reply.to_xml(api, guide))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 images.
struct Images {
    label: Option<String>,
    receipt: Option<String>,
}

/// The reply, `USPSReturnsLabelResponse` (or its certify twin), before it is written.
struct USPSReturnsLabelResponse {
    barcode_number: String,
    images: Images,
    destination: Destination,
    rdc: String,
    postage: String,
    extra_services: Vec<(String, &'static str, u64)>,
    zone: String,
    dimensional_weight: Option<String>,
    carrier_route: String,
    log_message: Option<&'static str>,
}

/// `<name>value</name>`, or `<name/>` when the value is empty.
fn element(out: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        out.push_str(&format!("<{name}/>"));
    } else {
        out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
}

impl USPSReturnsLabelResponse {
    fn to_xml(&self, api: Api, guide: Guide) -> String {
        let root = api.response_root();
        let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>");
        element(&mut out, "BarcodeNumber", &self.barcode_number);
        if let Some(image) = &self.images.label {
            element(&mut out, "LabelImage", image);
        }
        if let Some(image) = &self.images.receipt {
            element(&mut out, "ReceiptImage", image);
        }
        let to = &self.destination;
        match guide {
            Guide::V1_2 => {
                element(&mut out, "ToFirm", &to.firm);
                element(&mut out, "ToAddress1", &to.secondary_address);
                element(&mut out, "ToAddress2", &to.street_address);
                element(&mut out, "ToCity", &to.city);
                element(&mut out, "ToState", &to.state);
                element(&mut out, "ToZip5", &to.zip_code);
                element(&mut out, "ToZip4", &to.zip_plus4);
                element(&mut out, "Postnet", &to.postnet());
            }
            Guide::V1_5 => {
                if !to.attention.is_empty() {
                    element(&mut out, "RetailerATTN", &to.attention);
                }
                element(&mut out, "RetailerFirm", &to.firm);
                element(&mut out, "RetailerAddress1", &to.secondary_address);
                element(&mut out, "RetailerAddress2", &to.street_address);
                element(&mut out, "RetailerCity", &to.city);
                element(&mut out, "RetailerState", &to.state);
                element(&mut out, "RetailerZip5", &to.zip_code);
                element(&mut out, "RetailerZip4", &to.zip_plus4);
            }
        }
        element(&mut out, "RDC", &self.rdc);
        element(&mut out, "Postage", &self.postage);
        if !self.extra_services.is_empty() {
            out.push_str("<ExtraServices>");
            for (id, name, price) in &self.extra_services {
                out.push_str("<ExtraService>");
                element(&mut out, "ServiceID", id);
                element(&mut out, "ServiceName", name);
                element(&mut out, "Price", &dollars(*price));
                out.push_str("</ExtraService>");
            }
            out.push_str("</ExtraServices>");
        }
        element(&mut out, "Zone", &self.zone);
        if let Some(weight) = &self.dimensional_weight {
            element(&mut out, "DimensionalWeight", weight);
        }
        element(&mut out, "CarrierRoute", &self.carrier_route);
        if let Some(message) = self.log_message {
            element(&mut out, "LogMessage", message);
        }
        out.push_str(&format!("</{root}>"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(street_address: &str) -> Destination {
        Destination {
            attention: String::new(),
            firm: "Delivery Destination Company".to_owned(),
            secondary_address: String::new(),
            street_address: street_address.to_owned(),
            city: "Silver Spring".to_owned(),
            state: "MD".to_owned(),
            zip_code: "20904".to_owned(),
            zip_plus4: "1985".to_owned(),
        }
    }

    #[test]
    fn postnet_is_zip9_and_the_street_numbers_last_two_digits() {
        assert_eq!(destination("12000 CHERRY HILL RD").postnet(), "20904198500");
        assert_eq!(destination("7 Main St").postnet(), "20904198507");
        assert_eq!(destination("PO Box 100").postnet(), "20904198599");
    }

    #[test]
    fn every_table_row_has_a_distinct_name() {
        let mut names: Vec<&str> = REQUEST_TAGS.iter().map(|tag| tag.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REQUEST_TAGS.len());
    }

    #[test]
    fn weights_print_in_pounds_and_ounces() {
        assert_eq!(printed_weight(4), "4 OZ");
        assert_eq!(printed_weight(80), "5 LB");
        assert_eq!(printed_weight(90), "5 LB 10 OZ");
    }
}
