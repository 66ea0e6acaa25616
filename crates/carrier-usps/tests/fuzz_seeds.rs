//! The fuzz targets' seeds (`crates/fuzz/seeds`), replayed on stable through the same
//! `carrier_usps::fuzz` entry points: the seeds stay meaningful (each valid one reads or
//! validates all the way through, so the fuzzers start deep), and the entry points keep
//! compiling and running in CI, which never builds the fuzz crate itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use carrier::{CredentialsInput, LabelFormat, ReturnLabelInput};
use carrier_usps::fuzz;
use chrono::NaiveDate;

fn seed(target: &str, name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "../fuzz/seeds", target, name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every seed of `target`, by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let directory: PathBuf = [env!("CARGO_MANIFEST_DIR"), "../fuzz/seeds", target]
        .iter()
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no seeds in {}", directory.display());
    names
        .into_iter()
        .map(|name| {
            let data = seed(target, &name);
            (name, data)
        })
        .collect()
}

#[test]
fn the_webtools_seeds_read_as_a_label_or_a_refusal() {
    for (name, data) in seeds("webtools_reply") {
        let body = &data[1..];
        let read = fuzz::webtools_reply(body, LabelFormat::Pdf);
        assert_eq!(read.is_ok(), name.ends_with("_reply"), "{name}: {read:?}");
        let error = fuzz::webtools_error(503, Some("1"), body);
        assert!(!error.to_string().is_empty(), "{name}");
    }
    let tracking =
        fuzz::webtools_reply(&seed("webtools_reply", "v15_reply")[1..], LabelFormat::Pdf).unwrap();
    assert_eq!(tracking.as_str(), "9202190412893804982096");
}

#[tokio::test]
async fn the_v3_label_seeds_read_in_both_shapes() {
    let vendor = &seed("v3_reply", "vendor_json")[1..];
    let tracking =
        fuzz::v3_label_reply("application/vnd.usps.labels+json", vendor, LabelFormat::Pdf)
            .await
            .unwrap();
    assert_eq!(tracking.as_str(), "9302012345600000007248");
    let multipart = &seed("v3_reply", "multipart")[1..];
    let tracking = fuzz::v3_label_reply(
        "multipart/form-data; boundary=XkxytuhvSSXDz-aV1q2YverB",
        multipart,
        LabelFormat::Pdf,
    )
    .await
    .unwrap();
    assert_eq!(tracking.as_str(), "9302012345600000007248");
}

#[test]
fn the_v3_error_and_token_seeds_read() {
    let error = fuzz::v3_error(400, None, &seed("v3_reply", "error_message")[1..]);
    assert!(error.to_string().contains("160294"), "{error}");
    for name in ["token", "payment_authorization", "userinfo"] {
        assert!(
            fuzz::v3_other_replies(&seed("v3_reply", name)[1..]) >= 1,
            "{name} reads as one of the replies"
        );
    }
}

#[test]
fn the_label_request_seeds_validate_for_both_apis() {
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    for (name, data) in seeds("label_request") {
        let input: ReturnLabelInput = serde_json::from_slice(&data).unwrap();
        let validated = fuzz::validate_purchase(&input, today);
        // Web Tools offers no Priority Mail Express and no PNG labels.
        let webtools_refuses = name == "express_zpl" || name == "first_class_png";
        assert_eq!(
            validated.is_err(),
            webtools_refuses,
            "{name}: {validated:?}"
        );
    }
}

#[test]
fn the_account_request_seeds_validate() {
    for (name, data) in seeds("account_request") {
        let body: serde_json::Value = serde_json::from_slice(&data).unwrap();
        let credentials: CredentialsInput =
            serde_json::from_value(body["credentials"].clone()).unwrap();
        let validated = fuzz::validate_account(&body["details"], &credentials);
        // A masked EPS number is only accepted when updating an account that has one.
        assert_eq!(
            validated.is_err(),
            name == "masked_eps",
            "{name}: {validated:?}"
        );
    }
}
