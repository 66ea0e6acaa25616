//! The outside tools of the OpenAPI contract test: `openapi-spec-validator` and `schemathesis`,
//! pinned by `.ci/install-contract-tools`, which installs them into a venv under
//! `target/contract-tools` (fast when they are already there; it takes a lock, so concurrent
//! test binaries wait for one install). The harness runs the script itself, the way the
//! browser tests run `.ci/install-browser`, so the README's test command works on a fresh
//! machine with Python 3 and PyPI reachable.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The repository root (this package is `tests/`).
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the tools run and the documents they check are written: `target/contract-runs/`.
pub fn work_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("target"));
    let dir = target.join("contract-runs");
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("creating {dir:?}: {error}"));
    dir
}

/// The venv's `bin` directory, installing the pinned tools first when they are missing.
pub async fn tools() -> PathBuf {
    let output = tokio::process::Command::new("bash")
        .arg(repository().join(".ci/install-contract-tools"))
        .stderr(Stdio::inherit())
        .output()
        .await
        .unwrap_or_else(|error| panic!("running .ci/install-contract-tools: {error}"));
    assert!(
        output.status.success(),
        ".ci/install-contract-tools could not install openapi-spec-validator and schemathesis \
         (it needs python3 with venv and PyPI)"
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// What a tool printed, and whether it exited 0.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    pub output: String,
}

impl Outcome {
    /// The lines that sum a run up: the validator's verdict, schemathesis's counts and
    /// results (its last 25 lines at most).
    pub fn summary(&self) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        let start = lines.len().saturating_sub(25);
        lines[start..].join("\n")
    }
}

/// Runs `tool` of the venv in `bin` with `args`, in [`work_dir`], capturing its output.
pub async fn run(bin: &Path, tool: &str, args: &[&str]) -> Outcome {
    let output = tokio::process::Command::new(bin.join(tool))
        .args(args)
        .current_dir(work_dir())
        .env("NO_COLOR", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|error| panic!("running {tool}: {error}"));
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Outcome {
        success: output.status.success(),
        output: text,
    }
}
