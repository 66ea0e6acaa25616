//! Labels in each image type; the barcode reads back, with a real barcode reader, as the
//! tracking number.

use reqwest::StatusCode;

use crate::common::{Harness, label_bytes, print_return_request, tracking_number};

async fn label(image_type: &str) -> (Vec<u8>, String, serde_json::Value) {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    let answer = harness
        .ship(&token, &print_return_request(image_type))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let document =
        answer.body["output"]["transactionShipments"][0]["pieceResponses"][0]["packageDocuments"]
            [0]
        .clone();
    (label_bytes(&answer), tracking_number(&answer), document)
}

#[tokio::test]
async fn the_png_labels_barcode_reads_back_as_the_tracking_number() {
    let (bytes, number, document) = label("PNG").await;
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(document["docType"], "PNG");
    assert_eq!(document["contentType"], "LABEL");
    assert!(fedex_sim::is_valid_tracking_number(&number));
    if !sim_kit::zbar::available() {
        return;
    }
    assert_eq!(
        sim_kit::zbar::read(&bytes, "png", "code128").unwrap(),
        number
    );
}

#[tokio::test]
async fn the_pdf_labels_barcode_reads_back_as_the_tracking_number() {
    let (bytes, number, document) = label("PDF").await;
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert!(bytes.ends_with(b"%%EOF\n"));
    assert_eq!(document["docType"], "PDF");
    if !sim_kit::zbar::available() {
        return;
    }
    // zbarimg reads PDFs through ImageMagick, whose usual policy forbids them: Ghostscript
    // renders the page at 300 dpi first, as a printer would.
    let Some(png) = render_pdf(&bytes) else {
        return;
    };
    assert_eq!(sim_kit::zbar::read(&png, "png", "code128").unwrap(), number);
}

/// The PDF's page as a 300 dpi grayscale PNG, by Ghostscript; `None` (the test skips) where
/// `gs` cannot be run, except in CI.
fn render_pdf(pdf: &[u8]) -> Option<Vec<u8>> {
    let found = std::process::Command::new("gs")
        .arg("--version")
        .output()
        .is_ok();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "gs is missing in CI"
    );
    if !found {
        eprintln!("SKIPPED: Ghostscript (gs) is not installed");
        return None;
    }
    let directory = std::env::temp_dir().join(format!("fedex-sim-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let input = directory.join("label.pdf");
    let output = directory.join("label.png");
    std::fs::write(&input, pdf).unwrap();
    let status = std::process::Command::new("gs")
        .args([
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pnggray",
            "-r300",
        ])
        .arg(format!("-sOutputFile={}", output.display()))
        .arg(&input)
        .status()
        .unwrap();
    assert!(status.success(), "gs could not render the label");
    let png = std::fs::read(&output).unwrap();
    let _ = std::fs::remove_dir_all(&directory);
    Some(png)
}

#[tokio::test]
async fn the_zpl_label_carries_a_code_128_barcode_of_the_tracking_number() {
    let (bytes, number, document) = label("ZPLII").await;
    let zpl = String::from_utf8(bytes).unwrap();
    assert_eq!(document["docType"], "ZPLII");
    assert!(zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"));
    // ZPL is printer commands, not an image a reader can scan: the ^BC field must hold exactly
    // the number.
    let barcode = zpl.lines().find(|line| line.contains("^BC")).unwrap();
    let data = barcode.split("^FD").nth(1).unwrap().trim_end_matches("^FS");
    assert_eq!(data, number);
}

#[tokio::test]
async fn an_epl2_label_is_not_simulated() {
    let harness = Harness::start().await;
    let token = harness.own_app_token().await;
    harness
        .ship(&token, &print_return_request("EPL2"))
        .await
        .expect(StatusCode::BAD_REQUEST, "SIMULATOR.FEATURE.NOTSIMULATED");
}
