//! The demo data: the simulator's default [`SimConfig`], as constants that tests and
//! `backhaul dev` refer to.
//!
//! | who | credentials | ships with |
//! |---|---|---|
//! | platform app "Backhaul" (integrator) | [`CLIENT_ID`] / [`CLIENT_SECRET`] | the accounts it registers (csp_credentials) |
//! | a merchant's own app | [`OWN_APP_CLIENT_ID`] / [`OWN_APP_CLIENT_SECRET`] | [`ACCOUNT_NUMBER`] (client_credentials) |
//!
//! | account | customer | MFA |
//! |---|---|---|
//! | [`ACCOUNT_NUMBER`] | [`CUSTOMER_NAME`], [`STREET`], [`CITY`] [`STATE`] [`POSTAL_CODE`] [`COUNTRY`] | INVOICE ([`INVOICE_NUMBER`]…), SMS and CALL to [`PHONE`], EMAIL to [`EMAIL`] |
//! | [`OTHER_ACCOUNT_NUMBER`] | [`OTHER_CUSTOMER_NAME`], Memphis TN 38116 | EMAIL to [`OTHER_EMAIL`] only (no phone) |
//! | [`NO_MFA_ACCOUNT_NUMBER`] | [`NO_MFA_CUSTOMER_NAME`], Austin TX 78701 | none: keys at once |

use crate::config::{AccountConfig, AppConfig, InvoiceConfig, SimConfig};

/// The platform (integrator) app's API key.
pub const CLIENT_ID: &str = "backhaul-fedex-demo";
/// The platform app's secret key.
pub const CLIENT_SECRET: &str = "backhaul-fedex-demo-secret";
/// A merchant's own app's API key.
pub const OWN_APP_CLIENT_ID: &str = "merchant-own-fedex-app";
/// A merchant's own app's secret key.
pub const OWN_APP_CLIENT_SECRET: &str = "merchant-own-fedex-app-secret";

/// The demo merchant's account.
pub const ACCOUNT_NUMBER: &str = "740561073";
/// Its customer name.
pub const CUSTOMER_NAME: &str = "Backhaul Demo Returns Co.";
/// Its street line.
pub const STREET: &str = "4120 Bingham Ave";
/// Its city.
pub const CITY: &str = "St. Louis";
/// Its state.
pub const STATE: &str = "MO";
/// Its postal code.
pub const POSTAL_CODE: &str = "63116";
/// Its country.
pub const COUNTRY: &str = "US";
/// Where its registration PINs go by e-mail (shown as `RE***@B***.EXAMPLE`).
pub const EMAIL: &str = "returns@backhaul.example";
/// Where its registration PINs go by SMS or call (shown as `***-***-0100`).
pub const PHONE: &str = "3145550100";
/// Its demo invoice's number.
pub const INVOICE_NUMBER: u64 = 293_235_673;
/// Its demo invoice's date.
pub const INVOICE_DATE: &str = "2025-06-09";
/// Its demo invoice's currency.
pub const INVOICE_CURRENCY: &str = "USD";
/// Its demo invoice's amount.
pub const INVOICE_AMOUNT: &str = "2323.22";

/// A second merchant's account, for isolation tests.
pub const OTHER_ACCOUNT_NUMBER: &str = "510087020";
/// Its customer name.
pub const OTHER_CUSTOMER_NAME: &str = "Other Parcel Shop";
/// Its e-mail (its only MFA option).
pub const OTHER_EMAIL: &str = "owner@otherparcel.example";

/// An account registered without multi-factor checks.
pub const NO_MFA_ACCOUNT_NUMBER: &str = "602938475";
/// Its customer name.
pub const NO_MFA_CUSTOMER_NAME: &str = "No MFA Outfitters";

fn account(
    number: &str,
    name: &str,
    street: &str,
    (city, state, postal_code): (&str, &str, &str),
) -> AccountConfig {
    AccountConfig {
        account_number: number.to_owned(),
        customer_name: name.to_owned(),
        street_lines: vec![street.to_owned()],
        city: city.to_owned(),
        state_or_province_code: state.to_owned(),
        postal_code: postal_code.to_owned(),
        country_code: COUNTRY.to_owned(),
        email: None,
        phone: None,
        mfa_options: Vec::new(),
        invoices: Vec::new(),
    }
}

/// The demo [`SimConfig`]; the same as `SimConfig::default()`.
pub fn config() -> SimConfig {
    let mut merchant = account(
        ACCOUNT_NUMBER,
        CUSTOMER_NAME,
        STREET,
        (CITY, STATE, POSTAL_CODE),
    );
    merchant.email = Some(EMAIL.to_owned());
    merchant.phone = Some(PHONE.to_owned());
    merchant.mfa_options = ["INVOICE", "SMS", "CALL", "EMAIL"]
        .map(str::to_owned)
        .to_vec();
    merchant.invoices = vec![InvoiceConfig {
        number: INVOICE_NUMBER,
        currency: INVOICE_CURRENCY.to_owned(),
        date: INVOICE_DATE.to_owned(),
        amount: INVOICE_AMOUNT.to_owned(),
    }];
    let mut other = account(
        OTHER_ACCOUNT_NUMBER,
        OTHER_CUSTOMER_NAME,
        "3875 Airways Blvd",
        ("Memphis", "TN", "38116"),
    );
    other.email = Some(OTHER_EMAIL.to_owned());
    other.mfa_options = vec!["EMAIL".to_owned()];
    let no_mfa = account(
        NO_MFA_ACCOUNT_NUMBER,
        NO_MFA_CUSTOMER_NAME,
        "500 Congress Ave",
        ("Austin", "TX", "78701"),
    );
    SimConfig {
        apps: vec![
            AppConfig {
                client_id: CLIENT_ID.to_owned(),
                client_secret: CLIENT_SECRET.to_owned(),
                name: "Backhaul".to_owned(),
                integrator: true,
                account_numbers: Vec::new(),
            },
            AppConfig {
                client_id: OWN_APP_CLIENT_ID.to_owned(),
                client_secret: OWN_APP_CLIENT_SECRET.to_owned(),
                name: "Backhaul Demo Returns Co. own app".to_owned(),
                integrator: false,
                account_numbers: vec![ACCOUNT_NUMBER.to_owned()],
            },
        ],
        accounts: vec![merchant, other, no_mfa],
    }
}
