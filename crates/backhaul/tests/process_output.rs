//! What the process writes to stderr, as a terminal, a service manager or a log file sees it: a
//! command that cannot start says why in one line (`backhaul: <error>: <cause>`) and exits
//! with 1, with a backtrace only when one is asked for; a redirected log has no colour codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Finished, Running, backhaul, run};

/// `backhaul serve` with an address that is not one: it fails while reading the configuration.
async fn serve_with_a_bad_listen_address(variables: &[(&str, &str)]) -> Finished {
    let mut command = backhaul(&["serve"]);
    command.env("BACKHAUL__SERVER__LISTEN", "not-an-address");
    for (name, value) in variables {
        command.env(name, value);
    }
    run(command).await
}

#[tokio::test]
async fn a_startup_error_is_one_line_with_its_causes_and_exit_code_one() {
    let finished = serve_with_a_bad_listen_address(&[]).await;
    assert_eq!(finished.status.code(), Some(1), "{finished:#?}");
    let lines: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{finished:#?}");
    let line = lines[0];
    assert!(
        line.starts_with("backhaul: reading the configuration ("),
        "{line}"
    );
    assert!(line.contains("server.listen"), "{line}");
    // The context and the config crate's cause, joined on the line.
    assert!(line.matches(": ").count() >= 2, "{line}");
    assert!(!finished.stderr.contains("Caused by"), "{line}");
    assert!(!finished.stderr.contains("backtrace"), "{line}");
}

#[tokio::test]
async fn a_backtrace_follows_the_line_only_when_asked_for() {
    let plain = serve_with_a_bad_listen_address(&[]).await;
    for variable in ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE"] {
        let finished = serve_with_a_bad_listen_address(&[(variable, "1")]).await;
        assert_eq!(finished.status.code(), Some(1), "{finished:#?}");
        let mut lines = finished.stderr.lines();
        assert_eq!(lines.next(), plain.stderr.lines().next(), "{variable}");
        let rest: Vec<&str> = lines.collect();
        assert!(
            rest.contains(&"Stack backtrace:") && rest.len() > 2,
            "{variable}: {finished:#?}"
        );
    }
    let disabled = serve_with_a_bad_listen_address(&[("RUST_BACKTRACE", "0")]).await;
    assert_eq!(disabled.stderr, plain.stderr);
}

#[tokio::test]
async fn a_log_written_to_a_pipe_has_no_colour_codes() {
    let mut command = backhaul(&["usps-sim", "--listen", "127.0.0.1:0"]);
    command
        .env("BACKHAUL__LOG__FORMAT", "pretty")
        .env("RUST_LOG", "debug");
    let mut simulator = Running::spawn(command);
    let lines = simulator
        .stderr_until(|line| line.contains("USPS simulator listening"))
        .await;
    for line in &lines {
        assert!(!line.contains("\x1b["), "an ANSI escape in {line:?}");
    }
    assert!(
        lines.iter().any(|line| line.contains("INFO")),
        "the pretty format shows the level: {lines:#?}"
    );
}
