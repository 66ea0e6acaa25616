//! The simulator driven over real HTTP, the way a UPS client sees it.

// Helpers outside #[test] functions unwrap too: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod consent;
mod example;
mod fault;
mod label;
mod oauth;
mod ship;
mod track;
mod track_alert;
mod void;
