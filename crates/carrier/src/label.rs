//! Services, label formats and the return label a carrier hands back.

use std::fmt;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::charges::Charges;
use crate::error::ValidationErrors;
use crate::tracking::TrackingNumber;

/// A carrier-neutral service code such as `usps_ground_advantage_return`: lower-case letters,
/// digits and underscores, 1 to 64 characters. Which codes exist is each carrier's business.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode(String);

impl ServiceCode {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be a service code such as usps_ground_advantage_return",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceCode({})", self.0)
    }
}

impl From<ServiceCode> for String {
    fn from(value: ServiceCode) -> Self {
        value.0
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = ValidationErrors;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("service", &value)
    }
}

/// A service a carrier offers, as listed by [`crate::Carrier::services`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// Set when the service is accepted but mapped onto another (e.g. First-Class Package
    /// Return onto Ground Advantage Return); the label then carries a warning.
    pub superseded_by: Option<&'static str>,
}

/// The image format of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum LabelFormat {
    Pdf,
    Png,
    Gif,
    Tif,
    Zpl,
}

impl LabelFormat {
    pub const ALL: [LabelFormat; 5] = [
        LabelFormat::Pdf,
        LabelFormat::Png,
        LabelFormat::Gif,
        LabelFormat::Tif,
        LabelFormat::Zpl,
    ];

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "PDF" => Ok(LabelFormat::Pdf),
            "PNG" => Ok(LabelFormat::Png),
            "GIF" => Ok(LabelFormat::Gif),
            "TIF" | "TIFF" => Ok(LabelFormat::Tif),
            "ZPL" => Ok(LabelFormat::Zpl),
            _ => Err(ValidationErrors::single(
                field,
                "must be one of PDF, PNG, GIF, TIF, ZPL",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "PDF",
            LabelFormat::Png => "PNG",
            LabelFormat::Gif => "GIF",
            LabelFormat::Tif => "TIF",
            LabelFormat::Zpl => "ZPL",
        }
    }

    /// The HTTP `Content-Type` of documents in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "application/pdf",
            LabelFormat::Png => "image/png",
            LabelFormat::Gif => "image/gif",
            LabelFormat::Tif => "image/tiff",
            LabelFormat::Zpl => "application/x-zpl",
        }
    }

    pub fn file_extension(self) -> &'static str {
        match self {
            LabelFormat::Pdf => "pdf",
            LabelFormat::Png => "png",
            LabelFormat::Gif => "gif",
            LabelFormat::Tif => "tif",
            LabelFormat::Zpl => "zpl",
        }
    }

    /// Whether `bytes` start the way a file of this format must (magic numbers; ZPL starts with
    /// a `^XA` command, possibly after comments or whitespace).
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            LabelFormat::Pdf => bytes.starts_with(b"%PDF-"),
            LabelFormat::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            LabelFormat::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            LabelFormat::Tif => bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*"),
            LabelFormat::Zpl => {
                String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).contains("^XA")
            }
        }
    }
}

/// How the label reaches the customer (`label_delivery` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LabelDelivery {
    /// The label comes back in the answer, to print (the default).
    #[default]
    Download,
    /// The carrier emails the label to `notify.recipient_email` (which is then required).
    Email,
    /// Printerless: a code the customer shows at a carrier's counter.
    QrCode,
}

impl LabelDelivery {
    pub const ALL: [LabelDelivery; 3] = [
        LabelDelivery::Download,
        LabelDelivery::Email,
        LabelDelivery::QrCode,
    ];

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        match raw.trim() {
            "download" => Ok(LabelDelivery::Download),
            "email" => Ok(LabelDelivery::Email),
            "qr_code" => Ok(LabelDelivery::QrCode),
            _ => Err(ValidationErrors::single(
                field,
                "must be one of download, email, qr_code",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LabelDelivery::Download => "download",
            LabelDelivery::Email => "email",
            LabelDelivery::QrCode => "qr_code",
        }
    }
}

/// Whether and where a carrier prints the mailing receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReceiptOption {
    #[default]
    None,
    SamePage,
    SeparatePage,
}

impl ReceiptOption {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        match raw.trim() {
            "none" => Ok(ReceiptOption::None),
            "same_page" => Ok(ReceiptOption::SamePage),
            "separate_page" => Ok(ReceiptOption::SeparatePage),
            _ => Err(ValidationErrors::single(
                field,
                "must be one of none, same_page, separate_page",
            )),
        }
    }
}

/// A label or receipt image. `Debug` shows the format and size, never the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub format: LabelFormat,
    pub bytes: Bytes,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("format", &self.format)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The code of a printerless label: what the customer shows at a carrier's counter, where the
/// label is printed for them (USPS Label Broker is one such service). The carrier keeps the
/// label; the code and its id are all the customer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    /// The carrier's id of the stored label, which the counter can type instead of scanning
    /// the code (USPS: `labelBrokerID`, at most 10 characters).
    pub id: String,
    /// The QR code, a PNG image.
    pub image: Document,
}

impl QrCode {
    /// The longest id accepted here; a carrier's own limit may be lower.
    pub const MAX_ID_LEN: usize = 64;

    /// A code whose `id` is 1 to [`QrCode::MAX_ID_LEN`] ASCII letters, digits or `-` (it is
    /// typed at a counter and travels in URLs and pages) and whose `image` is a PNG; otherwise
    /// what is wrong with it.
    pub fn new(id: &str, image: Document) -> Result<Self, &'static str> {
        let id = id.trim();
        if id.is_empty() || id.len() > Self::MAX_ID_LEN {
            return Err("the code's id must have 1 to 64 characters");
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("the code's id must be ASCII letters, digits or dashes");
        }
        if image.format != LabelFormat::Png || !LabelFormat::Png.matches(&image.bytes) {
            return Err("the code's image must be a PNG");
        }
        Ok(Self {
            id: id.to_owned(),
            image,
        })
    }
}

/// Something the merchant should know about a label that was nevertheless created: a value
/// truncated on the printed label, a service mapped to its successor, an email not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Warning {
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// The address a carrier printed as the destination, as the carrier reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub firm: Option<String>,
    pub street1: Option<String>,
    pub street2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip5: Option<String>,
    pub zip4: Option<String>,
}

/// A return label bought from a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLabel {
    pub tracking_number: TrackingNumber,
    /// The IMpb routing part (`420` + ZIP), when the carrier uses one.
    pub routing_code: Option<String>,
    /// The postage, the fees on top of it and the total.
    pub charges: Charges,
    pub zone: Option<String>,
    /// Our service code, as requested.
    pub service: ServiceCode,
    /// The carrier's own name for the service it used (e.g. `USPS_GROUND_ADVANTAGE_RETURN_SERVICE`).
    pub carrier_service: String,
    pub to_address: Option<LabelAddress>,
    /// The label to print: for `download` always, for `qr_code` when a printable copy was
    /// asked for too ([`crate::ReturnLabelRequest::label_with_qr_code`]),
    /// for `email` when the carrier returns the label it emailed.
    pub label: Option<Document>,
    pub receipt: Option<Document>,
    /// For `label_delivery: qr_code`: the code the customer shows at the carrier's counter.
    pub qr_code: Option<QrCode>,
    pub warnings: Vec<Warning>,
    /// The carrier-side idempotency key used, so a resend can reuse it.
    pub carrier_idempotency_key: Option<String>,
    /// The carrier's own id of the shipment when it is not the tracking number (UPS's
    /// `ShipmentIdentificationNumber`): stored with the label and handed back to
    /// [`Carrier::void_label`](crate::Carrier::void_label).
    pub carrier_reference: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A bought label as the server hands it back to its carrier to void it.
#[derive(Debug, Clone, Copy)]
pub struct LabelToVoid<'a> {
    pub tracking_number: &'a TrackingNumber,
    /// [`ReturnLabel::carrier_reference`] as stored.
    pub carrier_reference: Option<&'a str>,
    pub service: &'a ServiceCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_formats_know_their_magic_numbers() {
        assert!(LabelFormat::Pdf.matches(b"%PDF-1.4\n"));
        assert!(!LabelFormat::Pdf.matches(b"\x89PNG\r\n\x1a\n"));
        assert!(LabelFormat::Zpl.matches(b"^FX comment ^FS\n^XA^FO50,50^XZ"));
        assert_eq!(LabelFormat::parse("f", "tiff").unwrap(), LabelFormat::Tif);
        assert!(LabelFormat::Gif.matches(b"GIF89a\x01\x00"));
        assert!(
            LabelFormat::parse("label_format", "JPG")
                .unwrap_err()
                .names("label_format")
        );
    }

    fn png() -> Document {
        Document {
            format: LabelFormat::Png,
            bytes: Bytes::from_static(b"\x89PNG\r\n\x1a\n rest"),
        }
    }

    #[test]
    fn a_qr_code_has_a_typeable_id_and_a_png() {
        let code = QrCode::new(" LB12345 ", png()).unwrap();
        assert_eq!(code.id, "LB12345");
        assert!(QrCode::new("", png()).is_err());
        assert!(QrCode::new("LB 123", png()).is_err());
        assert!(QrCode::new(&"A".repeat(65), png()).is_err());
        let pdf = Document {
            format: LabelFormat::Pdf,
            bytes: Bytes::from_static(b"%PDF-1.4"),
        };
        assert!(QrCode::new("LB12345", pdf).is_err());
        let lying = Document {
            format: LabelFormat::Png,
            bytes: Bytes::from_static(b"%PDF-1.4"),
        };
        assert!(QrCode::new("LB12345", lying).is_err());
    }

    #[test]
    fn service_codes_are_lower_snake_case() {
        assert!(ServiceCode::parse("service", "usps_priority_mail_return").is_ok());
        assert!(ServiceCode::parse("service", "PRIORITY").is_err());
        assert!(ServiceCode::parse("service", "").is_err());
    }
}
