//! Reading barcodes back the way a scanner would, with ZBar's `zbarimg` (Debian `zbar-tools`;
//! `.ci/install-zbar`), for the tests of the simulators and of the whole system: a label's
//! Code 128 barcode must read as its tracking number, a Label Broker QR code as its id.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether `zbarimg` can be run here. Where it cannot, a test may skip — except in CI (the `CI`
/// variable set), where a missing reader panics so that no reading test passes unread.
pub fn available() -> bool {
    let found = Command::new("zbarimg").arg("--version").output().is_ok();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "zbarimg is missing in CI: run .ci/install-zbar"
    );
    if !found {
        eprintln!(
            "SKIPPED: zbarimg is not installed (apt-get install -y zbar-tools, or .ci/install-zbar)"
        );
    }
    found
}

/// What `zbarimg` reads in `image` (the bytes of a file whose type `extension` names, e.g.
/// `png`, `gif`) with only `symbology` enabled (`qrcode`, `code128`): the text of each symbol
/// found, one per line, trimmed. An error says why nothing could be read.
pub fn read(image: &[u8], extension: &str, symbology: &str) -> Result<String, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "zbar-{}-{}.{extension}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, image).map_err(|error| format!("writing {}: {error}", path.display()))?;
    let output = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable"])
        .arg(format!("-S{symbology}.enable"))
        .arg(&path)
        .output();
    // Best effort: a leftover file in the temp dir harms nothing.
    let _ = std::fs::remove_file(&path);
    let output = output.map_err(|error| format!("running zbarimg: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "zbarimg found no {symbology} symbol ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
