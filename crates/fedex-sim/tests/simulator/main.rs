//! The simulator driven over real HTTP, the way a FedEx client sees it.

// Helpers outside #[test] functions unwrap too: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cancel;
mod common;
mod example;
mod fault;
mod label;
mod log;
mod oauth;
mod registration;
mod schema;
mod ship;
mod track;
