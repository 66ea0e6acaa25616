//! The GIF label's barcode decodes, with a real barcode reader, to the tracking number.

use std::process::Command;

use reqwest::StatusCode;

use crate::common::{Harness, label_bytes, print_return_request, tracking_number};

fn zbarimg_available() -> bool {
    Command::new("zbarimg").arg("--version").output().is_ok()
}

#[tokio::test]
async fn the_gif_labels_barcode_reads_back_as_the_tracking_number() {
    if !zbarimg_available() {
        // In CI the reader must be there (.ci/install-zbar installs it).
        assert!(
            std::env::var_os("CI").is_none(),
            "zbarimg is missing in CI: run .ci/install-zbar"
        );
        eprintln!(
            "SKIPPED: zbarimg is not installed (apt-get install -y zbar-tools, or .ci/install-zbar)"
        );
        return;
    }
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.ship(&token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let path = std::env::temp_dir().join(format!("ups-sim-label-{}.gif", std::process::id()));
    std::fs::write(&path, label_bytes(&answer)).unwrap();
    let output = Command::new("zbarimg")
        .args(["--raw", "-q", "-Scode128.enable"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let decoded = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "zbarimg failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(decoded.trim(), tracking_number(&answer));
}
