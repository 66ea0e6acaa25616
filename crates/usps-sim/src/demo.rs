//! The demo data: the simulator's default [`SimConfig`], as constants that
//! tests elsewhere in the workspace refer to.
//!
//! | business | CRID | MIDs (label / manifest / returns) | EPS | permit | Ship Returns |
//! |---|---|---|---|---|---|
//! | Backhaul Demo Returns Co. (user `merchant` / `password`) | [`CRID`] | [`MID`] / [`MANIFEST_MID`] / [`RETURNS_MID`] | [`EPS_ACCOUNT`] active, [`INACTIVE_EPS_ACCOUNT`] inactive | [`PERMIT_NUMBER`] at [`PERMIT_ZIP`] | enrolled |
//! | Outbound Only Supply (user `outbound` / `password`) | [`UNENROLLED_CRID`] | [`UNENROLLED_MID`] / [`UNENROLLED_MANIFEST_MID`] | [`UNENROLLED_EPS_ACCOUNT`] active | — | not enrolled (160304) |
//! | Small Parcel Shop (user `small` / `password`) | [`SMALL_CRID`] | [`SMALL_MID`] / [`SMALL_MANIFEST_MID`] (6 digits) | [`SMALL_EPS_ACCOUNT`] active | — | enrolled |
//!
//! The one app, [`CLIENT_ID`], redirects to [`REDIRECT_URI`] and to any loopback URI.

use crate::config::{
    AppConfig, CridConfig, EpsAccountConfig, MidConfig, MidRole, PermitConfig, SimConfig,
    UserConfig,
};

/// The demo app's client id (Consumer Key).
pub const CLIENT_ID: &str = "backhaul-sim";
/// The demo app's client secret (Consumer Secret).
pub const CLIENT_SECRET: &str = "backhaul-sim-secret";
/// The demo app's name, shown on the consent page.
pub const APP_NAME: &str = "Backhaul";
/// The demo app's registered redirect URI.
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/v1/usps/oauth/callback";
/// The default scope granted to the demo app.
pub const SCOPES: &str = "addresses prices labels payments tracking";
/// The token `issuer`.
pub const ISSUER: &str = "api.usps.com";

/// The consent-page user owning [`CRID`].
pub const USERNAME: &str = "merchant";
/// The password of every demo user.
pub const PASSWORD: &str = "password";
/// The business of [`USERNAME`].
pub const BUSINESS_NAME: &str = "Backhaul Demo Returns Co.";

/// The main demo CRID, enrolled in USPS Ship Returns.
pub const CRID: &str = "56982563";
/// Label MID of [`CRID`].
pub const MID: &str = "904128936";
/// Manifest MID of [`CRID`].
pub const MANIFEST_MID: &str = "904128937";
/// Returns MID of [`CRID`].
pub const RETURNS_MID: &str = "904128938";
/// Active EPS account of [`CRID`].
pub const EPS_ACCOUNT: &str = "1000004321";
/// Inactive EPS account of [`CRID`] (payment authorization fails with 100002).
pub const INACTIVE_EPS_ACCOUNT: &str = "1000009876";
/// Permit of [`CRID`].
pub const PERMIT_NUMBER: &str = "12345";
/// ZIP Code of [`PERMIT_NUMBER`].
pub const PERMIT_ZIP: &str = "63116";

/// The return address of [`CRID`]'s warehouse, where return labels send parcels.
pub const RETURN_ADDRESS_FIRM: &str = "Backhaul Demo Returns Co.";
/// Street of the demo return address.
pub const RETURN_ADDRESS_STREET: &str = "4120 Bingham Ave";
/// City of the demo return address.
pub const RETURN_ADDRESS_CITY: &str = "St. Louis";
/// State of the demo return address.
pub const RETURN_ADDRESS_STATE: &str = "MO";
/// ZIP Code of the demo return address.
pub const RETURN_ADDRESS_ZIP: &str = "63116";

/// A CRID that is not enrolled in USPS Ship Returns (return labels fail with 160304).
pub const UNENROLLED_CRID: &str = "71234567";
/// The consent-page user owning [`UNENROLLED_CRID`].
pub const UNENROLLED_USERNAME: &str = "outbound";
/// Label MID of [`UNENROLLED_CRID`].
pub const UNENROLLED_MID: &str = "904128940";
/// Manifest MID of [`UNENROLLED_CRID`].
pub const UNENROLLED_MANIFEST_MID: &str = "904128941";
/// Active EPS account of [`UNENROLLED_CRID`].
pub const UNENROLLED_EPS_ACCOUNT: &str = "1000005555";

/// A CRID whose MIDs have 6 digits (IMpb tracking numbers start with `93`).
pub const SMALL_CRID: &str = "45678901";
/// The consent-page user owning [`SMALL_CRID`].
pub const SMALL_USERNAME: &str = "small";
/// 6-digit label MID of [`SMALL_CRID`].
pub const SMALL_MID: &str = "901234";
/// 6-digit manifest MID of [`SMALL_CRID`].
pub const SMALL_MANIFEST_MID: &str = "901235";
/// Active EPS account of [`SMALL_CRID`].
pub const SMALL_EPS_ACCOUNT: &str = "1000006789";

fn mid(mid: &str, role: MidRole) -> MidConfig {
    MidConfig {
        mid: mid.to_owned(),
        role,
    }
}

fn eps(number: &str, active: bool) -> EpsAccountConfig {
    EpsAccountConfig {
        number: number.to_owned(),
        active,
    }
}

fn user(username: &str, business_name: &str, crid: &str) -> UserConfig {
    UserConfig {
        username: username.to_owned(),
        password: PASSWORD.to_owned(),
        business_name: business_name.to_owned(),
        crids: vec![crid.to_owned()],
    }
}

/// The demo [`SimConfig`]; the same as `SimConfig::default()`.
pub fn config() -> SimConfig {
    SimConfig {
        apps: vec![AppConfig {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            name: APP_NAME.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            allow_loopback_redirects: true,
            scopes: SCOPES.split(' ').map(str::to_owned).collect(),
        }],
        users: vec![
            user(USERNAME, BUSINESS_NAME, CRID),
            user(UNENROLLED_USERNAME, "Outbound Only Supply", UNENROLLED_CRID),
            user(SMALL_USERNAME, "Small Parcel Shop", SMALL_CRID),
        ],
        crids: vec![
            CridConfig {
                crid: CRID.to_owned(),
                mids: vec![
                    mid(MID, MidRole::Label),
                    mid(MANIFEST_MID, MidRole::Manifest),
                    mid(RETURNS_MID, MidRole::Returns),
                ],
                eps_accounts: vec![eps(EPS_ACCOUNT, true), eps(INACTIVE_EPS_ACCOUNT, false)],
                permits: vec![PermitConfig {
                    number: PERMIT_NUMBER.to_owned(),
                    zip: PERMIT_ZIP.to_owned(),
                }],
                enrolled_in_ship_returns: true,
            },
            CridConfig {
                crid: UNENROLLED_CRID.to_owned(),
                mids: vec![
                    mid(UNENROLLED_MID, MidRole::Label),
                    mid(UNENROLLED_MANIFEST_MID, MidRole::Manifest),
                ],
                eps_accounts: vec![eps(UNENROLLED_EPS_ACCOUNT, true)],
                permits: Vec::new(),
                enrolled_in_ship_returns: false,
            },
            CridConfig {
                crid: SMALL_CRID.to_owned(),
                mids: vec![
                    mid(SMALL_MID, MidRole::Label),
                    mid(SMALL_MANIFEST_MID, MidRole::Manifest),
                ],
                eps_accounts: vec![eps(SMALL_EPS_ACCOUNT, true)],
                permits: Vec::new(),
                enrolled_in_ship_returns: true,
            },
        ],
        issuer: ISSUER.to_owned(),
    }
}
