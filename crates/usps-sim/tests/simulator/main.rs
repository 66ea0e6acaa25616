//! The simulator driven over real HTTP, the way a USPS client sees it.

// Helpers outside #[test] functions unwrap too: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod consent;
mod fault;
mod label_broker;
mod logging;
mod oauth;
mod payment;
mod return_label;
mod subscription;
mod tracking;
mod webtools;
