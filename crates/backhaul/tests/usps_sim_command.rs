//! `backhaul usps-sim` as an operator runs it: a real process, configured from `config/`,
//! answering the USPS v3 routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the simulator process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `backhaul usps-sim` on a free port and returns it with its base URL, read from the
/// JSON log line that announces the bound address.
fn start_simulator() -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_backhaul"))
        .args(["usps-sim", "--listen", "127.0.0.1:0"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("BACKHAUL__LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the backhaul binary starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let running = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.expect("log lines are UTF-8");
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if event["message"] == "USPS simulator listening" {
            let address = event["address"].as_str().expect("the address is logged");
            // Keep reading so the process never writes into a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (running, format!("http://{address}"));
        }
    }
    panic!("the simulator exited before listening");
}

#[tokio::test]
async fn the_simulator_command_issues_oauth_tokens_for_the_demo_app() {
    let (_simulator, base_url) = start_simulator();
    let reply = reqwest::Client::new()
        .post(format!("{base_url}/oauth2/v3/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", usps_sim::demo::CLIENT_ID),
            ("client_secret", usps_sim::demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let token: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
}

#[tokio::test]
async fn the_simulator_command_starts_with_an_empty_ledger() {
    let (_simulator, base_url) = start_simulator();
    let ledger: serde_json::Value = reqwest::get(format!("{base_url}/__sim/ledger"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger, serde_json::json!([]));
}
