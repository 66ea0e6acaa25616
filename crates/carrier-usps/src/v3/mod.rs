//! The USPS APIs v3 wire protocol: OAuth 2.0 API 3.0.5 (`oauth2.yaml`), Payments API 3.1.20
//! (`payments.yaml`, `POST /payment-authorization`), Labels API 3.9.13
//! (`domestic-labels.yaml`, `POST /return-label`), Package Tracking 3.2.6 (`tracking.yaml`,
//! `GET /tracking/{trackingNumber}`) and Subscriptions – Tracking 3.2.0
//! (`subscriptions-tracking.yaml`: subscriptions and the notifications USPS pushes). Wire types are private and named after the
//! USPS elements; only domain types leave this module.

pub(crate) mod address;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod label;
pub(crate) mod notification;
pub(crate) mod oauth;
pub(crate) mod payment;
pub(crate) mod reply;
pub(crate) mod subscription;
pub(crate) mod tracking;
pub(crate) mod userinfo;

#[cfg(test)]
mod schema;

/// Path of the OAuth token endpoint, under the base URL.
pub(crate) const TOKEN_PATH: &str = "/oauth2/v3/token";
/// Path of the OIDC UserInfo endpoint, under the base URL (`/{scope}/v3/userinfo` with scope
/// `oauth2-oidc`: `shared/reference/usps-v3/userinfo.md`).
pub(crate) const USERINFO_PATH: &str = "/oauth2-oidc/v3/userinfo";
/// Path of the payment-authorization endpoint, under the base URL.
pub(crate) const PAYMENT_AUTHORIZATION_PATH: &str = "/payments/v3/payment-authorization";
/// Path of the return-label endpoint, under the base URL.
pub(crate) const RETURN_LABEL_PATH: &str = "/labels/v3/return-label";

/// Describes a JSON error in a reply without quoting any value from it (a value may be a
/// token or an account number): missing-field messages are kept, others become their category
/// and position.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.starts_with("missing field") {
        return text;
    }
    let category = match error.classify() {
        serde_json::error::Category::Io => "unreadable JSON",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON value",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!(
        "{category} at line {} column {}",
        error.line(),
        error.column()
    )
}
