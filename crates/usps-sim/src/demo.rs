//! The demo data: the simulator's default [`SimConfig`], as constants that
//! tests elsewhere in the workspace refer to.
//!
//! | business | CRID | MIDs (label / manifest / returns) | EPS | permit | Ship Returns |
//! |---|---|---|---|---|---|
//! | Backhaul Demo Returns Co. (user `merchant` / `password`) | [`CRID`] | [`MID`] / [`MANIFEST_MID`] / [`RETURNS_MID`] | [`EPS_ACCOUNT`] active, [`INACTIVE_EPS_ACCOUNT`] inactive | [`PERMIT_NUMBER`] at [`PERMIT_ZIP`] | enrolled |
//! | Outbound Only Supply (user `outbound` / `password`) | [`UNENROLLED_CRID`] | [`UNENROLLED_MID`] / [`UNENROLLED_MANIFEST_MID`] | [`UNENROLLED_EPS_ACCOUNT`] active | — | not enrolled (160304) |
//! | Small Parcel Shop (user `small` / `password`) | [`SMALL_CRID`] | [`SMALL_MID`] / [`SMALL_MANIFEST_MID`] (6 digits) | [`SMALL_EPS_ACCOUNT`] active | — | enrolled |
//! | Two Docks Returns (user `warehouses` / `password`): [`CRID`] as above, and | [`SECOND_CRID`] | [`SECOND_MID`] / — / [`SECOND_RETURNS_MID`] | [`SECOND_EPS_ACCOUNT`] active | [`SECOND_PERMIT_NUMBER`] at [`SECOND_PERMIT_ZIP`] | enrolled |
//!
//! The Two Docks user holds several of everything, so its UserInfo offers choices: two mail
//! owners, five MIDs, two EPS accounts and two permits.
//!
//! The one app, [`CLIENT_ID`], redirects to [`REDIRECT_URI`] and to any loopback URI.
//!
//! Web Tools users of the `USPSReturnsLabel` XML API (`/ShippingAPI.dll`):
//!
//! | USERID | PASSWORD | CRID / MID | option | API | destination (retailer) |
//! |---|---|---|---|---|---|
//! | [`WEBTOOLS_USER_ID`] | [`WEBTOOLS_PASSWORD`] | [`CRID`] / [`RETURNS_MID`] | manifesting | `USPSReturnsLabel` and `…Certify` | the demo return address ([`RETURN_ADDRESS_FIRM`] … [`RETURN_ADDRESS_ZIP4`], attention [`RETURN_ADDRESS_ATTENTION`]) |
//! | [`WEBTOOLS_CERTIFY_USER_ID`] | [`WEBTOOLS_PASSWORD`] | [`SMALL_CRID`] / [`SMALL_MID`] | non-manifesting | `USPSReturnsLabelCertify` only | Small Parcel Shop, 200 E Main St, Lexington KY 40507-1316 |
//! | [`WEBTOOLS_SAMPLE_USER_ID`] (the guides' `XXXXXXXXXX`) | none: `USERID` only, as in the guides' samples | [`WEBTOOLS_SAMPLE_CRID`] / [`WEBTOOLS_SAMPLE_MID`] | manifesting | both | the guides' sample reply: [`WEBTOOLS_SAMPLE_FIRM`], 12000 CHERRY HILL RD, Silver Spring MD [`WEBTOOLS_SAMPLE_ZIP`]-1985 |
//!
//! The sample user makes the Returns Label guides' request samples work verbatim.

use crate::config::{
    AppConfig, CridConfig, EpsAccountConfig, MidConfig, MidRole, PermitConfig,
    RetailerAddressConfig, ReturnsOption, SimConfig, UserConfig, WebToolsUserConfig,
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
pub const SCOPES: &str = "addresses prices labels payments tracking subscriptions-tracking \
     openid profile address email usps:payment_methods usps:contract_rates usps:MIDs oauth2-oidc";
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
/// ZIP+4 add-on of the demo return address (Web Tools replies carry it).
pub const RETURN_ADDRESS_ZIP4: &str = "1311";
/// Attention line of the demo return address in Web Tools replies.
pub const RETURN_ADDRESS_ATTENTION: &str = "Returns Department";

/// The main Web Tools user ID (`USERID`): [`CRID`]'s returns, labels to the demo return address.
pub const WEBTOOLS_USER_ID: &str = "641BACKH4321";
/// The Web Tools password (`PASSWORD`) of [`WEBTOOLS_USER_ID`] and [`WEBTOOLS_CERTIFY_USER_ID`].
pub const WEBTOOLS_PASSWORD: &str = "webtools-password";
/// A Web Tools user ID that may only call `USPSReturnsLabelCertify`
/// (`USPSReturnsLabel` answers an API authorization failure).
pub const WEBTOOLS_CERTIFY_USER_ID: &str = "641BACKH4322";
/// The `USERID` of the Returns Label guides' request samples; it has no password.
pub const WEBTOOLS_SAMPLE_USER_ID: &str = "XXXXXXXXXX";
/// CRID of [`WEBTOOLS_SAMPLE_USER_ID`].
pub const WEBTOOLS_SAMPLE_CRID: &str = "20260464";
/// 6-digit MID of [`WEBTOOLS_SAMPLE_USER_ID`], the one in the guides' sample barcode.
pub const WEBTOOLS_SAMPLE_MID: &str = "123456";
/// Destination company of [`WEBTOOLS_SAMPLE_USER_ID`], as in the guides' sample reply.
pub const WEBTOOLS_SAMPLE_FIRM: &str = "Delivery Destination Company";
/// Destination ZIP Code of [`WEBTOOLS_SAMPLE_USER_ID`], as in the guides' sample reply.
pub const WEBTOOLS_SAMPLE_ZIP: &str = "20904";

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

/// The consent-page user of Two Docks Returns, holding [`CRID`] and [`SECOND_CRID`].
pub const MULTI_USERNAME: &str = "warehouses";
/// The business of [`MULTI_USERNAME`].
pub const MULTI_BUSINESS_NAME: &str = "Two Docks Returns";
/// The second CRID of [`MULTI_USERNAME`], enrolled in USPS Ship Returns.
pub const SECOND_CRID: &str = "56982570";
/// Label MID of [`SECOND_CRID`].
pub const SECOND_MID: &str = "904128950";
/// Returns MID of [`SECOND_CRID`].
pub const SECOND_RETURNS_MID: &str = "904128951";
/// Active EPS account of [`SECOND_CRID`].
pub const SECOND_EPS_ACCOUNT: &str = "1000007777";
/// Permit of [`SECOND_CRID`].
pub const SECOND_PERMIT_NUMBER: &str = "P9876";
/// ZIP Code of [`SECOND_PERMIT_NUMBER`].
pub const SECOND_PERMIT_ZIP: &str = "10001";

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

struct Destination<'a> {
    attention: Option<&'a str>,
    firm: &'a str,
    street_address: &'a str,
    city: &'a str,
    state: &'a str,
    zip_code: &'a str,
    zip_plus4: &'a str,
}

impl Destination<'_> {
    fn config(&self) -> RetailerAddressConfig {
        RetailerAddressConfig {
            attention: self.attention.map(str::to_owned),
            firm: self.firm.to_owned(),
            street_address: self.street_address.to_owned(),
            secondary_address: String::new(),
            city: self.city.to_owned(),
            state: self.state.to_owned(),
            zip_code: self.zip_code.to_owned(),
            zip_plus4: self.zip_plus4.to_owned(),
        }
    }
}

fn webtools_users() -> Vec<WebToolsUserConfig> {
    vec![
        WebToolsUserConfig {
            user_id: WEBTOOLS_USER_ID.to_owned(),
            password: Some(WEBTOOLS_PASSWORD.to_owned()),
            crid: CRID.to_owned(),
            mid: RETURNS_MID.to_owned(),
            option: ReturnsOption::Manifesting,
            live_labels: true,
            retailer: Destination {
                attention: Some(RETURN_ADDRESS_ATTENTION),
                firm: RETURN_ADDRESS_FIRM,
                street_address: RETURN_ADDRESS_STREET,
                city: RETURN_ADDRESS_CITY,
                state: RETURN_ADDRESS_STATE,
                zip_code: RETURN_ADDRESS_ZIP,
                zip_plus4: RETURN_ADDRESS_ZIP4,
            }
            .config(),
        },
        WebToolsUserConfig {
            user_id: WEBTOOLS_CERTIFY_USER_ID.to_owned(),
            password: Some(WEBTOOLS_PASSWORD.to_owned()),
            crid: SMALL_CRID.to_owned(),
            mid: SMALL_MID.to_owned(),
            option: ReturnsOption::NonManifesting,
            live_labels: false,
            retailer: Destination {
                attention: None,
                firm: "Small Parcel Shop",
                street_address: "200 E Main St",
                city: "Lexington",
                state: "KY",
                zip_code: "40507",
                zip_plus4: "1316",
            }
            .config(),
        },
        WebToolsUserConfig {
            user_id: WEBTOOLS_SAMPLE_USER_ID.to_owned(),
            password: None,
            crid: WEBTOOLS_SAMPLE_CRID.to_owned(),
            mid: WEBTOOLS_SAMPLE_MID.to_owned(),
            option: ReturnsOption::Manifesting,
            live_labels: true,
            retailer: Destination {
                attention: None,
                firm: WEBTOOLS_SAMPLE_FIRM,
                street_address: "12000 CHERRY HILL RD",
                city: "Silver Spring",
                state: "MD",
                zip_code: WEBTOOLS_SAMPLE_ZIP,
                zip_plus4: "1985",
            }
            .config(),
        },
    ]
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
            UserConfig {
                crids: vec![CRID.to_owned(), SECOND_CRID.to_owned()],
                ..user(MULTI_USERNAME, MULTI_BUSINESS_NAME, CRID)
            },
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
            CridConfig {
                crid: SECOND_CRID.to_owned(),
                mids: vec![
                    mid(SECOND_MID, MidRole::Label),
                    mid(SECOND_RETURNS_MID, MidRole::Returns),
                ],
                eps_accounts: vec![eps(SECOND_EPS_ACCOUNT, true)],
                permits: vec![PermitConfig {
                    number: SECOND_PERMIT_NUMBER.to_owned(),
                    zip: SECOND_PERMIT_ZIP.to_owned(),
                }],
                enrolled_in_ship_returns: true,
            },
        ],
        issuer: ISSUER.to_owned(),
        webtools_users: webtools_users(),
    }
}
