//! The HTTP routes, one module per resource.

pub mod accounts;
pub mod admin;
pub mod labels;
pub mod oauth;
pub mod ops;
