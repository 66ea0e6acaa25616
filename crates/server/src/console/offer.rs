//! What the label form offers: the services, label formats and deliveries of the merchant's
//! active accounts, as each account's carrier says it can
//! ([`carrier::Carrier::capabilities`] for the account's details) — services named by the
//! carrier ([`carrier::Carrier::services`]), in the carriers' own order.

use accounts::{AccountStatus, ShipperAccount};
use carrier::{AccountDetails, LabelDelivery, LabelFormat};

use crate::state::AppState;

/// The choices of the label form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offer {
    /// (`carrier:code`, "Carrier — Service name"), each once.
    pub services: Vec<(String, String)>,
    pub formats: Vec<LabelFormat>,
    pub deliveries: Vec<LabelDelivery>,
}

impl Offer {
    /// What `accounts` (the active ones) can buy together; `chosen`, when it is one of them,
    /// narrows the offer to that account's.
    pub fn of(state: &AppState, accounts: &[ShipperAccount], chosen: Option<&str>) -> Self {
        let active: Vec<&ShipperAccount> = accounts
            .iter()
            .filter(|account| account.status == AccountStatus::Active)
            .collect();
        let narrowed: Vec<&ShipperAccount> = active
            .iter()
            .copied()
            .filter(|account| Some(account.id.as_str()) == chosen)
            .collect();
        let accounts = if narrowed.is_empty() {
            active
        } else {
            narrowed
        };
        let mut offer = Offer::default();
        for account in accounts {
            let Some(carrier) = state.registry().get(&account.carrier) else {
                continue;
            };
            let details =
                AccountDetails::new(account.details.as_object().cloned().unwrap_or_default());
            let capabilities = carrier.capabilities(Some(&details));
            for code in &capabilities.services {
                let value = format!("{}:{code}", carrier.id());
                if offer.services.iter().any(|(offered, _)| *offered == value) {
                    continue;
                }
                let name = carrier
                    .services()
                    .iter()
                    .find(|info| info.code == *code)
                    .map_or(*code, |info| info.name);
                offer
                    .services
                    .push((value, format!("{} — {name}", carrier.name())));
            }
            for format in capabilities.label_formats {
                if !offer.formats.contains(&format) {
                    offer.formats.push(format);
                }
            }
            for delivery in capabilities.label_deliveries {
                if !offer.deliveries.contains(&delivery) {
                    offer.deliveries.push(delivery);
                }
            }
        }
        offer
    }
}

/// How the form names a label format.
pub fn format_label(format: LabelFormat) -> &'static str {
    match format {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Png => "PNG image",
        LabelFormat::Gif => "GIF image",
        LabelFormat::Tif => "TIFF image",
        LabelFormat::Zpl => "ZPL (thermal printers)",
        _ => format.as_str(),
    }
}

/// How the form names a label delivery.
pub fn delivery_label(delivery: LabelDelivery) -> &'static str {
    match delivery {
        LabelDelivery::Download => "Download and print",
        LabelDelivery::Email => "Emailed to the customer by the carrier",
        LabelDelivery::QrCode => "QR code (the customer needs no printer)",
        _ => delivery.as_str(),
    }
}
