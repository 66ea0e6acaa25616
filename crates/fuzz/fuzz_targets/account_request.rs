//! Request validation of `POST /v1/shipper-accounts`: arbitrary bytes as the JSON body's
//! `details` and `credentials`, validated by the USPS plugin (both APIs, every credential
//! mode).

#![no_main]

use carrier::CredentialsInput;
use carrier_usps::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let details = body.get("details").cloned().unwrap_or_default();
    let credentials = body
        .get("credentials")
        .cloned()
        .map(serde_json::from_value::<CredentialsInput>)
        .and_then(Result::ok)
        .unwrap_or_default();
    let _ = fuzz::validate_account(&details, &credentials);
});
