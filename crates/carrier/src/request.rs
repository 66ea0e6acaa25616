//! The carrier-neutral return-label request and the idempotency key that travels with it.

use std::fmt;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::Capabilities;
use crate::address::{Address, AddressInput, Email};
use crate::error::ValidationErrors;
use crate::label::{LabelDelivery, LabelFormat, ReceiptOption, ServiceCode};
use crate::parcel::{Parcel, ParcelInput};

/// Who is told about the label by email, as the client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyInput {
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    pub recipient_name: Option<String>,
    pub recipient_email: Option<String>,
}

/// Validated email notification settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub sender_name: Option<String>,
    pub sender_email: Option<Email>,
    pub recipient_name: Option<String>,
    pub recipient_email: Option<Email>,
}

/// A return-label request as the client sends it (the carrier-neutral part of
/// `POST /v1/return-labels`). Every field is optional here so that what is missing is reported
/// by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnLabelInput {
    pub service: Option<String>,
    pub from_address: Option<AddressInput>,
    pub parcel: Option<ParcelInput>,
    pub label_format: Option<String>,
    pub label_delivery: Option<String>,
    pub receipt: Option<String>,
    pub reference: Option<String>,
    pub notify: Option<NotifyInput>,
    /// The day the parcel will be handed to the carrier; today when absent.
    pub ship_date: Option<NaiveDate>,
}

/// The most characters a reference may have before any carrier's own limit applies.
pub const MAX_REFERENCE_LEN: usize = 64;

/// A validated, carrier-neutral return-label request. The destination is the selected
/// account's return address, which the carrier plugin owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLabelRequest {
    pub service: ServiceCode,
    /// Where the customer sends the parcel back from.
    pub from_address: Address,
    pub parcel: Parcel,
    pub label_format: LabelFormat,
    pub label_delivery: LabelDelivery,
    /// For `label_delivery: qr_code`: whether a label to print is wanted as well as the code,
    /// in `label_format`. The client asks for one by naming `label_format` with `qr_code`;
    /// without it the code alone is the label (printerless). Always false for the other
    /// deliveries, whose label is the label.
    #[serde(default)]
    pub label_with_qr_code: bool,
    pub receipt: ReceiptOption,
    pub reference: Option<String>,
    pub notify: Notify,
    pub ship_date: Option<NaiveDate>,
}

/// Trims, drops an empty value, and refuses control characters (by `field`).
fn optional_text(
    field: &str,
    value: &Option<String>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    errors.collect(crate::text::check_plain(field, value))?;
    Some(value.to_owned())
}

impl ReturnLabelRequest {
    pub fn parse(input: &ReturnLabelInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let service = match input.service.as_deref() {
            Some(raw) => errors.collect(ServiceCode::parse("service", raw)),
            None => {
                errors.push("service", "is required");
                None
            }
        };
        let from_address = match &input.from_address {
            Some(address) => errors.collect(Address::parse("from_address", address)),
            None => {
                errors.push("from_address", "is required");
                None
            }
        };
        let parcel = match &input.parcel {
            Some(parcel) => errors.collect(Parcel::parse("parcel", parcel)),
            None => {
                errors.push("parcel", "is required");
                None
            }
        };
        let label_format = match input.label_format.as_deref() {
            Some(raw) => errors.collect(LabelFormat::parse("label_format", raw)),
            None => Some(LabelFormat::Pdf),
        };
        let label_delivery = match input.label_delivery.as_deref() {
            Some(raw) => errors.collect(LabelDelivery::parse("label_delivery", raw)),
            None => Some(LabelDelivery::Download),
        };
        let receipt = match input.receipt.as_deref() {
            Some(raw) => errors.collect(ReceiptOption::parse("receipt", raw)),
            None => Some(ReceiptOption::None),
        };
        let reference = optional_text("reference", &input.reference, &mut errors);
        if let Some(reference) = &reference {
            if reference.chars().count() > MAX_REFERENCE_LEN {
                errors.push(
                    "reference",
                    format!("must be at most {MAX_REFERENCE_LEN} characters"),
                );
            }
        }
        let notify_input = input.notify.clone().unwrap_or_default();
        let email = |field: &str, value: &Option<String>, errors: &mut ValidationErrors| {
            optional_text(field, value, errors)
                .and_then(|raw| errors.collect(Email::parse(field, &raw)))
        };
        let notify = Notify {
            sender_name: optional_text(
                "notify.sender_name",
                &notify_input.sender_name,
                &mut errors,
            ),
            sender_email: email(
                "notify.sender_email",
                &notify_input.sender_email,
                &mut errors,
            ),
            recipient_name: optional_text(
                "notify.recipient_name",
                &notify_input.recipient_name,
                &mut errors,
            ),
            recipient_email: email(
                "notify.recipient_email",
                &notify_input.recipient_email,
                &mut errors,
            ),
        };
        if label_delivery == Some(LabelDelivery::Email) && notify.recipient_email.is_none() {
            errors.push(
                "notify.recipient_email",
                "is required when label_delivery is email",
            );
        }
        match (
            service,
            from_address,
            parcel,
            label_format,
            label_delivery,
            receipt,
        ) {
            (
                Some(service),
                Some(from_address),
                Some(parcel),
                Some(label_format),
                Some(label_delivery),
                Some(receipt),
            ) if errors.is_empty() => Ok(ReturnLabelRequest {
                service,
                from_address,
                parcel,
                label_format,
                label_delivery,
                label_with_qr_code: label_delivery == LabelDelivery::QrCode
                    && input.label_format.is_some(),
                receipt,
                reference,
                notify,
                ship_date: input.ship_date,
            }),
            _ => Err(errors),
        }
    }
}

impl ReturnLabelRequest {
    /// The checks of the neutral request that depend on the chosen carrier account, run for
    /// every carrier before it is called, every problem named by field: the service, label
    /// format and label delivery must be ones the account offers, a receipt only where the
    /// account prints one, and the `ship_date` within the account's window (`today` to `today`
    /// + [`Capabilities::ship_date_days_ahead`], UTC).
    pub fn check_for(
        &self,
        capabilities: &Capabilities,
        today: NaiveDate,
    ) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !capabilities.offers(&self.service) {
            errors.push(
                "service",
                format!(
                    "is not offered by this account; it offers {}",
                    capabilities.services.join(", ")
                ),
            );
        }
        if !capabilities.label_formats.contains(&self.label_format) {
            errors.push(
                "label_format",
                format!(
                    "{} is not offered by this account; it offers {}",
                    self.label_format.as_str(),
                    list(capabilities.label_formats.iter().map(|f| f.as_str()))
                ),
            );
        }
        if !capabilities.label_deliveries.contains(&self.label_delivery) {
            errors.push(
                "label_delivery",
                format!(
                    "{} is not offered by this account; it offers {}",
                    self.label_delivery.as_str(),
                    list(capabilities.label_deliveries.iter().map(|d| d.as_str()))
                ),
            );
        }
        if self.receipt != ReceiptOption::None && !capabilities.receipts {
            errors.push("receipt", "this account's carrier prints no receipt");
        }
        if let Err(window) = self.check_ship_date(capabilities, today) {
            errors.extend(window);
        }
        errors.finish(|| ())
    }

    fn check_ship_date(
        &self,
        capabilities: &Capabilities,
        today: NaiveDate,
    ) -> Result<(), ValidationErrors> {
        let Some(ship_date) = self.ship_date else {
            return Ok(());
        };
        let days = capabilities.ship_date_days_ahead;
        let last = today
            .checked_add_days(Days::new(days.into()))
            .unwrap_or(NaiveDate::MAX);
        if ship_date < today || ship_date > last {
            let window = if days == 0 {
                format!("must be today ({today})")
            } else {
                format!("must be today to {days} days ahead ({today} to {last})")
            };
            return Err(ValidationErrors::single("ship_date", window));
        }
        Ok(())
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The client's idempotency key for one label purchase (1 to 255 printable characters). A
/// carrier derives its own key from it so a resend after an ambiguous failure cannot buy a
/// second label.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationErrors> {
        let valid = !raw.is_empty()
            && raw.len() <= 255
            && raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationErrors::single(
                field,
                "must be 1 to 255 printable ASCII characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> Self {
        value.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = ValidationErrors;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("idempotency_key", &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> ReturnLabelInput {
        serde_json::from_value(serde_json::json!({
            "service": "usps_ground_advantage_return",
            "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                             "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118"},
            "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
            "reference": "RMA-1001"
        }))
        .unwrap()
    }

    #[test]
    fn the_api_example_parses_with_defaults() {
        let request = ReturnLabelRequest::parse(&example()).unwrap();
        assert_eq!(request.label_format, LabelFormat::Pdf);
        assert_eq!(request.receipt, ReceiptOption::None);
        assert_eq!(request.reference.as_deref(), Some("RMA-1001"));
    }

    #[test]
    fn missing_parts_are_each_named() {
        let errors = ReturnLabelRequest::parse(&ReturnLabelInput::default()).unwrap_err();
        for field in ["service", "from_address", "parcel"] {
            assert!(errors.names(field), "{field}");
        }
    }

    #[test]
    fn nested_errors_carry_their_full_path() {
        let mut input = example();
        input.notify = Some(NotifyInput {
            recipient_email: Some("nope".into()),
            ..NotifyInput::default()
        });
        input.label_format = Some("JPG".into());
        let errors = ReturnLabelRequest::parse(&input).unwrap_err();
        assert!(errors.names("notify.recipient_email"));
        assert!(errors.names("label_format"));
    }

    #[test]
    fn control_characters_in_reference_and_notify_are_refused_by_field() {
        let mut input = example();
        input.reference = Some("RMA\u{0}1001".into());
        input.notify = Some(NotifyInput {
            sender_name: Some("Jane\r\nBcc: x".into()),
            recipient_name: Some("Sh\u{0b}op".into()),
            recipient_email: Some("a@b\u{0}.co".into()),
            ..NotifyInput::default()
        });
        let errors = ReturnLabelRequest::parse(&input).unwrap_err();
        for field in [
            "reference",
            "notify.sender_name",
            "notify.recipient_name",
            "notify.recipient_email",
        ] {
            assert!(errors.names(field), "{field}: {errors:?}");
        }
    }

    fn capabilities(days: u32) -> Capabilities {
        Capabilities {
            services: vec!["usps_ground_advantage_return"],
            label_formats: vec![LabelFormat::Pdf],
            label_deliveries: vec![LabelDelivery::Download],
            receipts: false,
            idempotent_create: false,
            resend_after_unknown_outcome: false,
            cancellable: false,
            ship_date_days_ahead: days,
        }
    }

    #[test]
    fn the_ship_date_must_fall_within_the_carriers_window() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let with = |date: &str| {
            let mut input = example();
            input.ship_date = Some(date.parse().unwrap());
            ReturnLabelRequest::parse(&input).unwrap()
        };
        assert!(
            with("2026-12-01")
                .check_for(&capabilities(3), today)
                .is_ok()
        );
        assert!(
            with("2026-12-04")
                .check_for(&capabilities(3), today)
                .is_ok()
        );
        for refused in ["2026-11-30", "2026-12-05", "9999-12-31"] {
            let errors = with(refused)
                .check_for(&capabilities(3), today)
                .unwrap_err();
            assert!(errors.names("ship_date"), "{refused}");
        }
        let errors = with("2026-12-02")
            .check_for(&capabilities(0), today)
            .unwrap_err();
        assert_eq!(errors.errors()[0].message, "must be today (2026-12-01)");
        assert!(example_request().check_for(&capabilities(0), today).is_ok());
    }

    #[test]
    fn what_the_account_does_not_offer_is_refused_by_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut input = example();
        input.label_format = Some("ZPL".into());
        input.label_delivery = Some("qr_code".into());
        input.receipt = Some("same_page".into());
        input.service = Some("usps_priority_mail_return".into());
        let errors = ReturnLabelRequest::parse(&input)
            .unwrap()
            .check_for(&capabilities(0), today)
            .unwrap_err();
        for field in ["service", "label_format", "label_delivery", "receipt"] {
            assert!(errors.names(field), "{field}: {errors}");
        }
    }

    #[test]
    fn an_emailed_label_needs_the_recipients_address() {
        let mut input = example();
        input.label_delivery = Some("email".into());
        let errors = ReturnLabelRequest::parse(&input).unwrap_err();
        assert!(errors.names("notify.recipient_email"), "{errors}");
        input.notify = Some(NotifyInput {
            recipient_email: Some("jane@example.com".into()),
            ..NotifyInput::default()
        });
        let request = ReturnLabelRequest::parse(&input).unwrap();
        assert_eq!(request.label_delivery, LabelDelivery::Email);
        input.label_delivery = Some("carrier_pigeon".into());
        let errors = ReturnLabelRequest::parse(&input).unwrap_err();
        assert!(errors.names("label_delivery"), "{errors}");
    }

    #[test]
    fn a_label_format_named_with_a_qr_code_asks_for_a_printable_copy_too() {
        let mut input = example();
        input.label_delivery = Some("qr_code".into());
        let alone = ReturnLabelRequest::parse(&input).unwrap();
        assert_eq!(alone.label_delivery, LabelDelivery::QrCode);
        assert!(!alone.label_with_qr_code);
        input.label_format = Some("PDF".into());
        assert!(
            ReturnLabelRequest::parse(&input)
                .unwrap()
                .label_with_qr_code
        );
        input.label_delivery = None;
        assert!(
            !ReturnLabelRequest::parse(&input)
                .unwrap()
                .label_with_qr_code
        );
    }

    fn example_request() -> ReturnLabelRequest {
        ReturnLabelRequest::parse(&example()).unwrap()
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        assert!(IdempotencyKey::parse("k", "order-1001-return").is_ok());
        assert!(IdempotencyKey::parse("k", "").is_err());
        assert!(IdempotencyKey::parse("k", &"x".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("k", "tab\there").is_err());
    }
}
