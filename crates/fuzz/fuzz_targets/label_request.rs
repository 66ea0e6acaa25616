//! Request validation of `POST /v1/return-labels`: arbitrary bytes as the JSON body's
//! carrier-neutral part, then `ReturnLabelRequest::parse` and the USPS plugin's checks and
//! request building for a v3 and a Web Tools account.

#![no_main]

use carrier::ReturnLabelInput;
use carrier_usps::fuzz;
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<ReturnLabelInput>(data) else {
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
    let _ = fuzz::validate_purchase(&input, today);
});
