//! What the carrier simulators (`usps-sim`, `ups-sim`, `fedex-sim`) share, so a reader who
//! knows one knows the others: the simulator [`clock`], the per-route call [`counters`],
//! [`code128`] barcodes, the bitmap [`font`] and the [`label`] drawing model (rasterized, or as
//! ZPL) of thermal labels, the [`html`] of sign-in pages and, for tests, the [`zbar`] barcode
//! reader. Each simulator keeps its own wire protocols, error shapes, fault routing and label
//! layouts.

pub mod clock;
pub mod code128;
pub mod counters;
pub mod font;
pub mod html;
pub mod label;
pub mod zbar;

pub use crate::clock::SimClock;
pub use crate::counters::{Counters, RouteCount};
