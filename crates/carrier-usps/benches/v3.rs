#![allow(clippy::expect_used)]

//! The CPU-bound halves of a USPS v3 label purchase: building the `ReturnLabelRequest` body, and
//! reading a reply as vendor JSON and as multipart. Run with `cargo bench -p carrier-usps`.

use std::hint::black_box;

use bytes::Bytes;
use carrier::{
    AccountContext, AccountInput, Carrier, CredentialsInput, LabelFormat, ReturnLabelInput,
    ReturnLabelRequest,
};
use carrier_usps::{UspsBuilder, bench};
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
                         "phone": "3145550100", "email": "jane@example.com"},
        "parcel": {"weight_oz": 24.1, "length_in": 14, "width_in": 7, "height_in": 4},
        "label_format": "PDF",
        "receipt": "separate_page",
        "reference": "RMA-1001"
    }))
    .expect("the bench request is valid JSON");
    ReturnLabelRequest::parse(&input).expect("the bench request parses")
}

fn v3(c: &mut Criterion) {
    let carrier = UspsBuilder::new().build().expect("default builder");
    let details = serde_json::json!({
        "crid": "56982563", "mid": "904128936", "manifest_mid": "904128937",
        "returns_mid": "904128938", "account_type": "EPS", "eps_account_number": "1000004321",
        "return_address": {"firm": "Backhaul Demo Returns Co.", "street1": "4120 Bingham Ave",
                           "city": "St. Louis", "state": "MO", "zip5": "63116"}
    });
    let credentials = CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", "app")
        .with("client_secret", "secret");
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
    c.bench_function("v3/build_return_label_body", |b| {
        b.iter(|| bench::return_label_body(black_box(context), black_box(&request)))
    });

    let pdf = label_pdf();
    let vendor = bench::sample_vendor_reply(&pdf);
    c.bench_function("v3/parse_vendor_json_reply", |b| {
        b.iter(|| bench::parse_vendor_reply(black_box(&vendor), LabelFormat::Pdf))
    });

    let (content_type, multipart) = bench::sample_multipart_reply(&pdf);
    let multipart = Bytes::from(multipart);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    c.bench_function("v3/parse_multipart_reply", |b| {
        b.to_async(&runtime).iter(|| {
            bench::parse_multipart_reply(&content_type, multipart.clone(), LabelFormat::Pdf)
        })
    });
}

criterion_group!(benches, v3);
criterion_main!(benches);
