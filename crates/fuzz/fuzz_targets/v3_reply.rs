//! The USPS v3 JSON and multipart readers. The first byte picks the content type of a label
//! reply (vendor JSON, the multipart form with the seeds' boundary, or a content type taken
//! from the input's first line) and the label format; the same body is also read as an error
//! reply, a token reply, a payment authorization and a user info reply.

#![no_main]

use carrier::LabelFormat;
use carrier_usps::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = LabelFormat::ALL[usize::from(selector >> 2) % LabelFormat::ALL.len()];
    let (content_type, body) = match selector % 4 {
        0 => ("application/vnd.usps.labels+json".to_owned(), rest),
        1 => (
            "multipart/form-data; boundary=XkxytuhvSSXDz-aV1q2YverB".to_owned(),
            rest,
        ),
        2 => ("application/json".to_owned(), rest),
        _ => {
            let line = rest
                .iter()
                .position(|byte| *byte == b'\n')
                .unwrap_or(rest.len());
            let content_type = String::from_utf8_lossy(&rest[..line]).into_owned();
            (content_type, rest.get(line + 1..).unwrap_or_default())
        }
    };
    let _ = futures::executor::block_on(fuzz::v3_label_reply(&content_type, body, format));
    let status = 400 + u16::from(selector) % 200;
    let _ = fuzz::v3_error(status, Some("2"), body);
    let _ = fuzz::v3_other_replies(body);
});
