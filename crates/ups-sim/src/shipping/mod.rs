//! UPS's Shipping API (Shipping.yaml), as served under `https://onlinetools.ups.com/api`:
//! Ship ([`shipment`]) and Void ([`void`]), with what both share: the version path segment,
//! the bearer token and the transaction headers.

pub mod rules;
pub mod schema;
pub mod shipment;
pub mod tracking;
pub mod void;

use axum::http::HeaderMap;

use crate::error::{UpsError, code};

/// The `{version}` of both routes: Shipping.yaml lists `v2409` ("Valid values: - v2409");
/// the deprecated paths list `v1` to `v2205`, whose answers have another shape (single objects
/// where v2403 and later always send arrays) and are not simulated.
pub(crate) fn check_version(version: &str, also_valid: &[&str]) -> Result<(), UpsError> {
    const DEPRECATED: &[&str] = &[
        "v1", "v1601", "v1607", "v1701", "v1707", "v1801", "v1807", "v2108", "v2205",
    ];
    if version == "v2409" {
        Ok(())
    } else if DEPRECATED.contains(&version) || also_valid.contains(&version) {
        Err(UpsError::bad_request(
            code::NOT_SIMULATED,
            format!("version {version} is valid at UPS but not simulated; use v2409"),
        ))
    } else {
        Err(UpsError::bad_request(
            code::VERSION,
            format!("version {version} is not valid; valid value: v2409"),
        ))
    }
}

/// The optional `transId` ("An identifier unique to the request. Length 32") and
/// `transactionSrc` ("Length 512") headers, read as maximum lengths.
pub(crate) fn check_transaction_headers(headers: &HeaderMap) -> Result<(), UpsError> {
    for (name, limit) in [("transId", 32), ("transactionSrc", 512)] {
        if let Some(value) = headers.get(name) {
            let valid = value
                .to_str()
                .is_ok_and(|text| !text.is_empty() && text.len() <= limit);
            if !valid {
                return Err(UpsError::bad_request(
                    code::SCHEMA,
                    format!("header {name} must be 1 to {limit} visible ASCII characters"),
                ));
            }
        }
    }
    Ok(())
}
