//! The Web Tools XML readers: a `USPSReturnsLabelResponse` or `<Error>` reply body (the first
//! byte picks the label format its images are decoded as), and the same bytes as the body of an
//! HTTP error status (the next two bytes pick the status).

#![no_main]

use carrier::LabelFormat;
use carrier_usps::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = LabelFormat::ALL[usize::from(selector) % LabelFormat::ALL.len()];
    let _ = fuzz::webtools_reply(body, format);
    let status = 400 + u16::from(selector) % 200;
    let _ = fuzz::webtools_error(status, Some("1"), body);
});
