//! The HTTP routes, one module per resource.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod labels;
pub mod oauth;
pub mod ops;
