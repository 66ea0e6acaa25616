//! End-to-end tests of the whole system live in `tests/` of this package; this library holds
//! their shared harness.
