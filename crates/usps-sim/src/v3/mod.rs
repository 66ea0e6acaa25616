//! The USPS APIs v3 (REST/JSON), as served at `https://apis.usps.com`: OAuth 2.0
//! (oauth2.yaml 3.0.5), Payments (payments.yaml 3.1.20), the Labels API's return labels
//! (domestic-labels.yaml 3.9.13), Package Tracking (tracking.yaml 3.2.6) and Subscriptions –
//! Tracking (subscriptions-tracking.yaml 3.2.0).

pub mod auth;
pub mod authorize;
pub mod error;
pub mod label_broker;
pub mod oauth;
pub mod payment;
pub mod return_label;
pub mod schema;
pub mod subscription;
pub mod tracking;
pub mod userinfo;
