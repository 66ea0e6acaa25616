#![allow(clippy::expect_used)]

//! The CPU-bound halves of a USPS Web Tools label purchase: mapping a request onto a
//! `USPSReturnsLabelRequest`, checking it against the tag tables and writing the XML; and reading
//! a `USPSReturnsLabelResponse` with its Base64 label and receipt. Run with
//! `cargo bench -p carrier-usps --bench webtools`.

use std::hint::black_box;

use carrier::{
    AccountContext, AccountInput, Carrier, CredentialsInput, LabelFormat, ReturnLabelInput,
    ReturnLabelRequest,
};
use carrier_usps::{UspsBuilder, bench};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};

/// A 4x6 label PDF of realistic size (about 6 KiB).
fn label_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 6 * 1024));
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

fn request() -> ReturnLabelRequest {
    let input: ReturnLabelInput = serde_json::from_value(serde_json::json!({
        "service": "usps_ground_advantage_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "street2": "Ste 150", "city": "Saint Louis", "state": "MO", "zip5": "63118",
                         "zip4": "1234"},
        "parcel": {"weight_oz": 24.1, "length_in": 14, "width_in": 7, "height_in": 4},
        "label_format": "PDF",
        "receipt": "separate_page",
        "reference": "RMA-1001",
        "ship_date": "2026-06-25",
        "notify": {"sender_name": "Acme Returns", "sender_email": "returns@acme.example.com",
                   "recipient_name": "Jane Doe", "recipient_email": "jane@example.com"}
    }))
    .expect("the bench request is valid JSON");
    ReturnLabelRequest::parse(&input).expect("the bench request parses")
}

fn webtools(c: &mut Criterion) {
    let carrier = UspsBuilder::new().build().expect("default builder");
    let details = serde_json::json!({
        "api": "webtools", "crid": "56982563", "mid": "904128936", "account_type": "EPS",
        "eps_account_number": "1000004321"
    });
    let credentials = CredentialsInput::new()
        .with("mode", "webtools")
        .with("user_id", "641BACKH4321")
        .with("password", "webtools-password");
    let account = carrier
        .validate_account(AccountInput {
            details: &details,
            credentials: Some(&credentials),
            current: None,
        })
        .expect("the bench account validates");
    let context = AccountContext {
        id: "sa_bench",
        details: &account.details,
        credentials: &account.credentials,
    };
    let request = request();
    let today = NaiveDate::from_ymd_opt(2026, 6, 24).expect("a date");
    bench::webtools_request_xml(context, &request, today).expect("the bench request builds");
    c.bench_function("webtools/build_returns_label_xml", |b| {
        b.iter(|| bench::webtools_request_xml(black_box(context), black_box(&request), today))
    });

    let reply = bench::sample_webtools_reply(&label_pdf());
    bench::parse_webtools_reply(&reply, LabelFormat::Pdf).expect("the bench reply parses");
    c.bench_function("webtools/parse_returns_label_response", |b| {
        b.iter(|| bench::parse_webtools_reply(black_box(&reply), LabelFormat::Pdf))
    });
}

criterion_group!(benches, webtools);
criterion_main!(benches);
