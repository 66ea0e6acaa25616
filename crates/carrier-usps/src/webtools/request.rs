//! The `USPSReturnsLabelRequest` document: every request tag of the USPS Returns Label API v1.2
//! tag table and the v1.5 additions, written in the guides' order and case ("pay particular
//! attention to the order and case for tags").
//!
//! v1.5 dropped two v1.2 tags from its table without saying they are gone: `SeparateReceiptPage`
//! (its own samples still send it, right after `ImageType`) and `ShipDate`. Both keep their v1.2
//! places: `SeparateReceiptPage` right after `ImageType` (so before v1.5's `ImageParameter`) and
//! `ShipDate` right after `Machinable`. The two email tags are spelled as v1.5 spells them
//! (`SenderEmail`, `RecipientEmail`; v1.2 wrote `SenderEMail`, `RecipientEMail`), since the
//! document carries v1.5 tags.
//!
//! The guides name the root only for `API=USPSReturnsLabel` (`USPSReturnsLabelRequest`); for
//! `API=USPSReturnsLabelCertify` the root is `USPSReturnsLabelCertifyRequest`, after the Web
//! Tools convention for certify APIs (`eVSCertifyRequest` for `API=eVSCertify`).
//!
//! Text is escaped for XML, and every character outside ASCII is written as a numeric character
//! reference (`&#233;`), so the bytes on the wire are ASCII whatever character set the server
//! decodes the form with (the Developer Guide expects ISO-8859-1; [`super::label`] refuses
//! characters outside it). `USERID` and `PASSWORD` are written only by [`to_xml`], the one place
//! the credentials are exposed; [`to_redacted_xml`] writes `[REDACTED]` instead, for logs.
//!
//! [`to_xml`]: USPSReturnsLabelRequest::to_xml
//! [`to_redacted_xml`]: USPSReturnsLabelRequest::to_redacted_xml

use std::fmt::Write as _;

use secrecy::{ExposeSecret, SecretString};

use crate::account::WebToolsCredentials;

/// Every element name of the request document, in the order it is written.
pub(crate) const TAGS: [&str; 52] = [
    "Option",
    "Revision",
    "ImageParameters",
    "ImageType",
    "SeparateReceiptPage",
    "ImageParameter",
    "CustomerFirstName",
    "CustomerLastName",
    "CustomerFirm",
    "CustomerAddress1",
    "CustomerAddress2",
    "CustomerUrbanization",
    "CustomerCity",
    "CustomerState",
    "CustomerZip5",
    "CustomerZip4",
    "POZipCode",
    "AllowNonCleansedOriginAddr",
    "RetailerATTN",
    "RetailerFirm",
    "RetailerAddress1",
    "RetailerAddress2",
    "RetailerCity",
    "RetailerState",
    "RetailerZip5",
    "RetailerZip4",
    "RetailerEmail",
    "RetailerPhone",
    "WeightInOunces",
    "ServiceType",
    "ReturnsPostageType",
    "Width",
    "Length",
    "Height",
    "Girth",
    "Machinable",
    "ShipDate",
    "VendorCode",
    "VendorProductVersionNumber",
    "MailOwnerMID",
    "CustomerRefNo",
    "PrintCustomerRefNo",
    "CustomerRefNo2",
    "PrintCustomerRefNo2",
    "SenderName",
    "SenderEmail",
    "RecipientName",
    "RecipientEmail",
    "TrackingEmailPDF",
    "ExtraServices",
    "ExtraService",
    "InsuredAmount",
];

/// What replaces `USERID` and `PASSWORD` in logged documents.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// `USPSReturnsLabelRequest`. `None` leaves an optional tag out; `Some("")` writes it empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct USPSReturnsLabelRequest {
    pub(crate) option: Option<String>,
    pub(crate) revision: Option<String>,
    pub(crate) image_parameters: ImageParameters,
    pub(crate) customer_first_name: Option<String>,
    pub(crate) customer_last_name: Option<String>,
    pub(crate) customer_firm: Option<String>,
    /// Written even when empty: "This tag must be included in the request, even if the value
    /// is null".
    pub(crate) customer_address1: String,
    pub(crate) customer_address2: String,
    pub(crate) customer_urbanization: Option<String>,
    pub(crate) customer_city: String,
    pub(crate) customer_state: String,
    pub(crate) customer_zip5: String,
    pub(crate) customer_zip4: Option<String>,
    pub(crate) po_zip_code: Option<String>,
    pub(crate) allow_non_cleansed_origin_addr: Option<bool>,
    pub(crate) retailer_attn: Option<String>,
    pub(crate) retailer_firm: Option<String>,
    pub(crate) retailer_address1: Option<String>,
    pub(crate) retailer_address2: Option<String>,
    pub(crate) retailer_city: Option<String>,
    pub(crate) retailer_state: Option<String>,
    pub(crate) retailer_zip5: Option<String>,
    pub(crate) retailer_zip4: Option<String>,
    pub(crate) retailer_email: Option<String>,
    pub(crate) retailer_phone: Option<String>,
    /// Whole ounces; USPS assumes 4 when absent.
    pub(crate) weight_in_ounces: Option<u32>,
    pub(crate) service_type: String,
    pub(crate) returns_postage_type: Option<String>,
    /// Decimal inches, as text.
    pub(crate) width: Option<String>,
    pub(crate) length: Option<String>,
    pub(crate) height: Option<String>,
    pub(crate) girth: Option<String>,
    pub(crate) machinable: Option<bool>,
    /// `mm/dd/yyyy` or `dd-mmm-yyyy`.
    pub(crate) ship_date: Option<String>,
    pub(crate) vendor_code: Option<String>,
    pub(crate) vendor_product_version_number: Option<String>,
    pub(crate) mail_owner_mid: Option<String>,
    pub(crate) customer_ref_no: Option<String>,
    pub(crate) print_customer_ref_no: Option<bool>,
    pub(crate) customer_ref_no2: Option<String>,
    pub(crate) print_customer_ref_no2: Option<bool>,
    pub(crate) sender_name: Option<String>,
    pub(crate) sender_email: Option<String>,
    pub(crate) recipient_name: Option<String>,
    pub(crate) recipient_email: Option<String>,
    pub(crate) tracking_email_pdf: Option<bool>,
    /// `ExtraServices/ExtraService` service IDs; the group is left out when empty.
    pub(crate) extra_services: Vec<String>,
    pub(crate) insured_amount: Option<String>,
}

/// `ImageParameters`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ImageParameters {
    pub(crate) image_type: String,
    pub(crate) separate_receipt_page: Option<bool>,
    pub(crate) image_parameter: Option<String>,
}

fn boolean(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// Appends `text` escaped for XML content or a double-quoted attribute, with every non-ASCII
/// character as a numeric character reference.
fn escape_into(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            ' '..='~' => out.push(character),
            other => {
                // Writing to a String cannot fail.
                let _ = write!(out, "&#{};", u32::from(other));
            }
        }
    }
}

/// `<name>value</name>`, or `<name/>` for an empty value.
fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    if value.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn optional(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        element(out, name, value);
    }
}

fn optional_bool(out: &mut String, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        element(out, name, boolean(value));
    }
}

/// The root element for `API={api}`: `USPSReturnsLabelRequest`,
/// `USPSReturnsLabelCertifyRequest`.
pub(crate) fn root(api: &str) -> String {
    format!("{api}Request")
}

impl USPSReturnsLabelRequest {
    /// The document to send as `XML` with `API={api}`, with the account's `USERID` and
    /// `PASSWORD`. The result holds the password, so it is handed back as a secret.
    pub(crate) fn to_xml(&self, api: &str, credentials: &WebToolsCredentials) -> SecretString {
        SecretString::from(self.document(
            api,
            credentials.user_id.expose_secret(),
            credentials.password.expose_secret(),
        ))
    }

    /// The document as it may be logged: `USERID="[REDACTED]" PASSWORD="[REDACTED]"`.
    pub(crate) fn to_redacted_xml(&self, api: &str) -> String {
        self.document(api, REDACTED, REDACTED)
    }

    fn document(&self, api: &str, user_id: &str, password: &str) -> String {
        let root = root(api);
        let mut out = String::with_capacity(2048);
        out.push('<');
        out.push_str(&root);
        out.push_str(" USERID=\"");
        escape_into(&mut out, user_id);
        out.push_str("\" PASSWORD=\"");
        escape_into(&mut out, password);
        out.push_str("\">");
        self.write_children(&mut out);
        out.push_str("</");
        out.push_str(&root);
        out.push('>');
        out
    }

    fn write_children(&self, out: &mut String) {
        optional(out, "Option", self.option.as_deref());
        optional(out, "Revision", self.revision.as_deref());
        let image = &self.image_parameters;
        out.push_str("<ImageParameters>");
        element(out, "ImageType", &image.image_type);
        optional_bool(out, "SeparateReceiptPage", image.separate_receipt_page);
        optional(out, "ImageParameter", image.image_parameter.as_deref());
        out.push_str("</ImageParameters>");
        optional(
            out,
            "CustomerFirstName",
            self.customer_first_name.as_deref(),
        );
        optional(out, "CustomerLastName", self.customer_last_name.as_deref());
        optional(out, "CustomerFirm", self.customer_firm.as_deref());
        element(out, "CustomerAddress1", &self.customer_address1);
        element(out, "CustomerAddress2", &self.customer_address2);
        optional(
            out,
            "CustomerUrbanization",
            self.customer_urbanization.as_deref(),
        );
        element(out, "CustomerCity", &self.customer_city);
        element(out, "CustomerState", &self.customer_state);
        element(out, "CustomerZip5", &self.customer_zip5);
        optional(out, "CustomerZip4", self.customer_zip4.as_deref());
        optional(out, "POZipCode", self.po_zip_code.as_deref());
        optional_bool(
            out,
            "AllowNonCleansedOriginAddr",
            self.allow_non_cleansed_origin_addr,
        );
        optional(out, "RetailerATTN", self.retailer_attn.as_deref());
        optional(out, "RetailerFirm", self.retailer_firm.as_deref());
        optional(out, "RetailerAddress1", self.retailer_address1.as_deref());
        optional(out, "RetailerAddress2", self.retailer_address2.as_deref());
        optional(out, "RetailerCity", self.retailer_city.as_deref());
        optional(out, "RetailerState", self.retailer_state.as_deref());
        optional(out, "RetailerZip5", self.retailer_zip5.as_deref());
        optional(out, "RetailerZip4", self.retailer_zip4.as_deref());
        optional(out, "RetailerEmail", self.retailer_email.as_deref());
        optional(out, "RetailerPhone", self.retailer_phone.as_deref());
        if let Some(weight) = self.weight_in_ounces {
            element(out, "WeightInOunces", &weight.to_string());
        }
        element(out, "ServiceType", &self.service_type);
        optional(
            out,
            "ReturnsPostageType",
            self.returns_postage_type.as_deref(),
        );
        optional(out, "Width", self.width.as_deref());
        optional(out, "Length", self.length.as_deref());
        optional(out, "Height", self.height.as_deref());
        optional(out, "Girth", self.girth.as_deref());
        optional_bool(out, "Machinable", self.machinable);
        optional(out, "ShipDate", self.ship_date.as_deref());
        optional(out, "VendorCode", self.vendor_code.as_deref());
        optional(
            out,
            "VendorProductVersionNumber",
            self.vendor_product_version_number.as_deref(),
        );
        optional(out, "MailOwnerMID", self.mail_owner_mid.as_deref());
        optional(out, "CustomerRefNo", self.customer_ref_no.as_deref());
        optional_bool(out, "PrintCustomerRefNo", self.print_customer_ref_no);
        optional(out, "CustomerRefNo2", self.customer_ref_no2.as_deref());
        optional_bool(out, "PrintCustomerRefNo2", self.print_customer_ref_no2);
        optional(out, "SenderName", self.sender_name.as_deref());
        optional(out, "SenderEmail", self.sender_email.as_deref());
        optional(out, "RecipientName", self.recipient_name.as_deref());
        optional(out, "RecipientEmail", self.recipient_email.as_deref());
        optional_bool(out, "TrackingEmailPDF", self.tracking_email_pdf);
        if !self.extra_services.is_empty() {
            out.push_str("<ExtraServices>");
            for service in &self.extra_services {
                element(out, "ExtraService", service);
            }
            out.push_str("</ExtraServices>");
        }
        optional(out, "InsuredAmount", self.insured_amount.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webtools::{API, CERTIFY_API, Element, collapse, parse_document};

    fn credentials() -> WebToolsCredentials {
        WebToolsCredentials {
            user_id: SecretString::from("sentinel-user"),
            password: SecretString::from("sentinel-\"pass\"&word"),
        }
    }

    fn reference(path: &str) -> String {
        let file = format!(
            "{}/../../../shared/reference/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{file}: {error}"))
    }

    /// The request tags of a guide's tag table, in table order: each row
    /// `USPSReturnsLabelRequest / Group / Tag` names its last part; the `USERID` attribute is
    /// left out.
    fn documented_tags(guide: &str) -> Vec<String> {
        let text = collapse(guide);
        let row = regex::Regex::new(
            r"USPSReturnsLabelRequest ?/ ?([A-Za-z0-9]+)(?: ?/ ?([A-Za-z0-9]+))?",
        )
        .unwrap();
        let mut tags: Vec<String> = Vec::new();
        for found in row.captures_iter(&text) {
            let tag = found.get(2).or(found.get(1)).unwrap().as_str().to_owned();
            if tag != "USERID" && tags.last() != Some(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    /// Element names of a document below the root, depth first.
    fn element_names(element: &Element, names: &mut Vec<String>) {
        for child in &element.children {
            names.push(child.name.clone());
            element_names(child, names);
        }
    }

    /// `(name, collapsed text)` of every leaf element below the root, depth first.
    fn leaves(element: &Element, out: &mut Vec<(String, String)>) {
        for child in &element.children {
            if child.children.is_empty() {
                out.push((child.name.clone(), collapse(&child.text)));
            } else {
                leaves(child, out);
            }
        }
    }

    fn is_subsequence(part: &[String], whole: &[&str], same: impl Fn(&str, &str) -> bool) -> bool {
        let mut rest = whole.iter();
        part.iter()
            .all(|tag| rest.by_ref().any(|ours| same(tag, ours)))
    }

    /// A document with every tag filled.
    fn everything() -> USPSReturnsLabelRequest {
        let some = |value: &str| Some(value.to_owned());
        USPSReturnsLabelRequest {
            option: some(""),
            revision: some(""),
            image_parameters: ImageParameters {
                image_type: "PDF".into(),
                image_parameter: some("6X4PAGE"),
                separate_receipt_page: Some(true),
            },
            customer_first_name: some("Cust First Name"),
            customer_last_name: some("Cust Last Name"),
            customer_firm: some("Customer Firm"),
            customer_address1: "232".into(),
            customer_address2: "PO Box 100".into(),
            customer_urbanization: some("URB REPTO VETERANO"),
            customer_city: "Washington".into(),
            customer_state: "DC".into(),
            customer_zip5: "20260".into(),
            customer_zip4: some("1236"),
            po_zip_code: some("20260"),
            allow_non_cleansed_origin_addr: Some(true),
            retailer_attn: some("ATTN: Retailer Returns Department"),
            retailer_firm: some("Retailer Firm"),
            retailer_address1: some("Ste 100"),
            retailer_address2: some("2 Massachusetts Ave NE"),
            retailer_city: some("Washington"),
            retailer_state: some("DC"),
            retailer_zip5: some("20212"),
            retailer_zip4: some("1726"),
            retailer_email: some("Returns@Retailer.com"),
            retailer_phone: some("2125551234"),
            weight_in_ounces: Some(10),
            service_type: "GROUND".into(),
            returns_postage_type: some("5"),
            width: some("4"),
            length: some("10"),
            height: some("7"),
            girth: some("2"),
            machinable: Some(true),
            ship_date: some("02/14/2020"),
            vendor_code: some("1000"),
            vendor_product_version_number: some("102"),
            mail_owner_mid: some("817463"),
            customer_ref_no: some("RMA%23: EE66GG87"),
            print_customer_ref_no: Some(true),
            customer_ref_no2: some("EF789UJK"),
            print_customer_ref_no2: Some(true),
            sender_name: some("Sender Name for Email"),
            sender_email: some("senderemail@email.com"),
            recipient_name: some("Recipient of Email"),
            recipient_email: some("recipientemail@email.com"),
            tracking_email_pdf: Some(true),
            extra_services: vec!["100".into()],
            insured_amount: some("100"),
        }
    }

    fn names_of(document: &str) -> Vec<String> {
        let root = parse_document(document.as_bytes()).unwrap();
        assert_eq!(root.name, "USPSReturnsLabelRequest");
        let mut names = Vec::new();
        element_names(&root, &mut names);
        names
    }

    #[test]
    fn every_tag_is_written_in_our_documented_order() {
        assert_eq!(names_of(&everything().to_redacted_xml(API)), TAGS);
    }

    #[test]
    fn our_order_follows_the_v1_5_tag_table_exactly() {
        let documented = documented_tags(&reference("usps-webtools/uspsreturnslabel-api-v1.5.txt"));
        assert!(documented.len() >= 45, "{documented:?}");
        assert!(
            is_subsequence(&documented, &TAGS, |a, b| a == b),
            "{documented:?}"
        );
    }

    #[test]
    fn our_order_follows_the_v1_2_tag_table_with_v1_5_spelling() {
        let documented = documented_tags(&reference("seeds/usps-returns-label-api-v1.2.txt"));
        assert!(
            documented.contains(&"ShipDate".to_owned()),
            "{documented:?}"
        );
        assert!(
            is_subsequence(&documented, &TAGS, |a, b| a.eq_ignore_ascii_case(b)),
            "{documented:?}"
        );
        // Only the two email tags differ in case, and v1.5 spells them our way.
        let v15 = documented_tags(&reference("usps-webtools/uspsreturnslabel-api-v1.5.txt"));
        for tag in documented
            .iter()
            .filter(|tag| !TAGS.contains(&tag.as_str()))
        {
            let ours = TAGS
                .iter()
                .find(|ours| ours.eq_ignore_ascii_case(tag))
                .unwrap();
            assert!(
                v15.iter().any(|t| t == ours),
                "{tag} is not respelled by v1.5"
            );
        }
    }

    #[test]
    fn the_v1_2_sample_request_is_written_back_tag_for_tag() {
        let guide = reference("seeds/usps-returns-label-api-v1.2.txt");
        let start = guide.find("<USPSReturnsLabelRequest").unwrap();
        let end =
            guide.find("</USPSReturnsLabelRequest>").unwrap() + "</USPSReturnsLabelRequest>".len();
        let sample = parse_document(&guide.as_bytes()[start..end]).unwrap();
        let mut expected = Vec::new();
        leaves(&sample, &mut expected);
        for (name, _) in &mut expected {
            // v1.5 respelled the email tags.
            *name = name.replace("EMail", "Email");
        }
        let some = |value: &str| Some(value.to_owned());
        let ours = USPSReturnsLabelRequest {
            option: some(""),
            revision: some(""),
            image_parameters: ImageParameters {
                image_type: "PDF".into(),
                image_parameter: None,
                separate_receipt_page: Some(false),
            },
            customer_first_name: some("Cust First Name"),
            customer_last_name: some("Cust Last Name"),
            customer_firm: some("Customer Firm"),
            customer_address1: String::new(),
            customer_address2: "PO Box 100".into(),
            customer_city: "Washington".into(),
            customer_state: "DC".into(),
            customer_zip5: "20260".into(),
            customer_zip4: some("1122"),
            po_zip_code: some(""),
            allow_non_cleansed_origin_addr: Some(false),
            weight_in_ounces: Some(80),
            service_type: "PRIORITY".into(),
            width: some("8"),
            length: some("11"),
            height: some("2"),
            girth: some(""),
            machinable: Some(true),
            sender_name: some("Sender Name for Email"),
            sender_email: some("senderemail@email.com"),
            recipient_name: some("Recipient of Email"),
            recipient_email: some("recipientemail@email.com"),
            extra_services: vec!["156".into()],
            ..USPSReturnsLabelRequest::default()
        };
        let written = parse_document(ours.to_redacted_xml(API).as_bytes()).unwrap();
        let mut actual = Vec::new();
        leaves(&written, &mut actual);
        assert_eq!(actual, expected);
    }

    #[test]
    fn an_empty_customer_address1_is_written_as_an_empty_element() {
        let document = USPSReturnsLabelRequest::default().to_redacted_xml(API);
        assert!(document.contains("<CustomerAddress1/>"), "{document}");
    }

    #[test]
    fn text_is_escaped_and_reads_back_unchanged() {
        let request = USPSReturnsLabelRequest {
            customer_firm: Some("Smith & Sons <Returns> \"Dept\" 'B'".into()),
            ..USPSReturnsLabelRequest::default()
        };
        let document = request.to_redacted_xml(API);
        assert!(
            document.contains(
                "<CustomerFirm>Smith &amp; Sons &lt;Returns&gt; &quot;Dept&quot; &apos;B&apos;</CustomerFirm>"
            ),
            "{document}"
        );
        let root = parse_document(document.as_bytes()).unwrap();
        assert_eq!(
            root.child("CustomerFirm").unwrap().text,
            "Smith & Sons <Returns> \"Dept\" 'B'"
        );
    }

    #[test]
    fn characters_outside_ascii_are_character_references() {
        let request = USPSReturnsLabelRequest {
            customer_city: "Mayag\u{fc}ez".into(),
            ..USPSReturnsLabelRequest::default()
        };
        let document = request.to_redacted_xml(API);
        assert!(document.is_ascii());
        assert!(document.contains("<CustomerCity>Mayag&#252;ez</CustomerCity>"));
    }

    #[test]
    fn the_credentials_are_attributes_of_the_sent_document_only() {
        let request = everything();
        let sent = request.to_xml(API, &credentials());
        let sent = sent.expose_secret();
        assert!(sent.starts_with(
            "<USPSReturnsLabelRequest USERID=\"sentinel-user\" PASSWORD=\"sentinel-&quot;pass&quot;&amp;word\">"
        ));
        let logged = request.to_redacted_xml(API);
        assert!(logged.starts_with(
            "<USPSReturnsLabelRequest USERID=\"[REDACTED]\" PASSWORD=\"[REDACTED]\">"
        ));
        assert!(!logged.contains("sentinel"));
        assert_eq!(
            &sent[sent.find('>').unwrap()..],
            &logged[logged.find('>').unwrap()..]
        );
    }

    #[test]
    fn a_certify_document_has_the_certify_root() {
        let document = USPSReturnsLabelRequest::default().to_redacted_xml(CERTIFY_API);
        assert!(document.starts_with("<USPSReturnsLabelCertifyRequest USERID="));
        assert!(document.ends_with("</USPSReturnsLabelCertifyRequest>"));
    }

    #[test]
    fn the_credentials_debug_output_is_redacted() {
        let printed = format!("{:?}", credentials());
        assert!(!printed.contains("sentinel"), "{printed}");
    }
}
