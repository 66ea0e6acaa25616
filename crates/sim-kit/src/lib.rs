//! What the carrier simulators (`usps-sim`, `ups-sim`) share, so a reader who knows one knows
//! the other: the simulator [`clock`], the per-route call [`counters`], [`code128`] barcodes
//! the bitmap [`font`] of raster labels, the [`html`] of sign-in pages and, for tests, the
//! [`zbar`] barcode reader. Each simulator keeps its own wire protocols,
//! error shapes, fault routing and label layouts.

pub mod clock;
pub mod code128;
pub mod counters;
pub mod font;
pub mod html;
pub mod zbar;

pub use crate::clock::SimClock;
pub use crate::counters::{Counters, RouteCount};
