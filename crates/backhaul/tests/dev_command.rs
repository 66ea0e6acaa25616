//! `backhaul dev` end to end, as a developer runs it on a machine with PostgreSQL installed
//! and no database configured: it starts its private Postgres under `./.backhaul/postgres`,
//! the simulator and the API, prints keys, URLs and two `curl` commands that work as printed,
//! and on Ctrl-C stops everything, its Postgres included. As `cargo install` leaves it — the
//! binary alone, started in an empty directory with no configuration — it runs on the
//! defaults built into it. A busy API port is reported at once, before anything is started.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use support::{CONFIG_DIR, Running, clean_command, database_url, run};

/// `backhaul dev` running in a working directory; on drop (a failed test) it is killed and a
/// private Postgres it left behind is stopped too.
struct Dev {
    process: Option<Running>,
    data_dir: PathBuf,
}

impl Drop for Dev {
    fn drop(&mut self) {
        // Kills the process (SIGKILL) if it is still running.
        drop(self.process.take());
        let pid_file = self.data_dir.join("postmaster.pid");
        if let Ok(contents) = std::fs::read_to_string(pid_file) {
            if let Some(pid) = contents.lines().next() {
                // SIGINT is the postmaster's fast shutdown.
                let _ = std::process::Command::new("kill")
                    .args(["-s", "INT", pid.trim()])
                    .status();
            }
        }
    }
}

/// Every carrier `backhaul dev` starts a simulator for: id and name, in the banner's order.
const CARRIERS: [(&str, &str); 3] = [("usps", "USPS"), ("ups", "UPS"), ("fedex", "FedEx")];

/// The value after `label` on the banner line that starts with it.
fn banner_value<'a>(lines: &'a [String], label: &str) -> &'a str {
    lines
        .iter()
        .find_map(|line| line.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in\n{}", lines.join("\n")))
        .split_whitespace()
        .next()
        .expect("a value after the label")
}

/// The banner's section of carrier `name` (from its `── name ──` line to the next section).
fn section<'a>(lines: &'a [String], name: &str) -> &'a [String] {
    let heading = format!("── {name} ──");
    let start = lines
        .iter()
        .position(|line| line.trim() == heading)
        .unwrap_or_else(|| panic!("no {heading} in\n{}", lines.join("\n")));
    let rest = &lines[start + 1..];
    let end = rest
        .iter()
        .position(|line| line.starts_with("── "))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The JSON bodies (`-d '…'`) of the printed curl commands, in order.
fn curl_bodies(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|line| line.trim().strip_prefix("-d '")?.strip_suffix('\''))
        .map(|json| serde_json::from_str(json).expect("the printed body is JSON"))
        .collect()
}

/// Lets the `postgres` system user (which runs the private server when tests run as root)
/// into the temporary directory.
fn open_to_other_users(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn dev_starts_everything_prints_working_commands_and_stops_its_postgres() {
    let workdir = tempfile::tempdir().unwrap();
    open_to_other_users(workdir.path());
    let mut command = support::backhaul(&["dev"]);
    // The developer's defaults (local environment, development master key), but free ports
    // and, above all, no DATABASE_URL: dev starts its own Postgres.
    command
        .current_dir(workdir.path())
        .env_remove("BACKHAUL_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("BACKHAUL__DATABASE__URL")
        .env("BACKHAUL_CONFIG_DIR", CONFIG_DIR)
        .env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__USPS_SIM__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__UPS_SIM__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__FEDEX_SIM__LISTEN", "127.0.0.1:0");
    let mut dev = Dev {
        process: Some(Running::spawn(command)),
        data_dir: workdir.path().join(".backhaul/postgres"),
    };
    let process = dev.process.as_mut().unwrap();
    let banner = process
        .stdout_until(|line| line.contains("Ctrl-C stops everything"))
        .await;

    let api = banner_value(&banner, "API ").to_owned();
    let tenant_key = banner_value(&banner, "Tenant API key ").to_owned();
    let admin_key = banner_value(&banner, "Admin API key ").to_owned();
    let database = banner_value(&banner, "Database ").to_owned();
    assert!(tenant_key.starts_with("bh_") && admin_key.starts_with("bh_"));
    assert!(
        dev.data_dir.join("PG_VERSION").exists(),
        "the private cluster lives under ./.backhaul/postgres"
    );
    let postgres_port: u16 = url::Url::parse(&database)
        .expect("the private database's URL is printed")
        .port()
        .unwrap();
    for path in ["/healthz", "/readyz", "/openapi.json", "/metrics"] {
        let status = reqwest::get(format!("{api}{path}")).await.unwrap().status();
        assert_eq!(status, 200, "{path}");
    }

    // Every carrier's printed curl commands (create an account, buy a label, scan it, and
    // for a carrier that registers accounts, register one), sent as printed (the scan with the
    // label's tracking number in place).
    let client = reqwest::Client::new();
    for (id, name) in CARRIERS {
        let pair = curl_bodies(section(&banner, name));
        assert!(
            pair.len() == 3 || pair.len() == 4,
            "three curl commands per carrier (four when it registers):\n{}",
            banner.join("\n")
        );
        let simulator = banner_value(&banner, &format!("{name} simulator ")).to_owned();
        let account = client
            .post(format!("{api}/v1/shipper-accounts"))
            .bearer_auth(&tenant_key)
            .json(&pair[0])
            .send()
            .await
            .unwrap();
        assert_eq!(
            account.status(),
            201,
            "{id}: {}",
            account.text().await.unwrap()
        );
        let label = client
            .post(format!("{api}/v1/return-labels"))
            .bearer_auth(&tenant_key)
            .header("Idempotency-Key", format!("demo-label-1-{id}"))
            .json(&pair[1])
            .send()
            .await
            .unwrap();
        assert_eq!(label.status(), 201, "{id}: {}", label.text().await.unwrap());
        let label: Value = label.json().await.unwrap();
        assert_eq!(label["carrier"], id);
        assert!(label["tracking_number"].is_string(), "{label}");
        let issued: Value = reqwest::get(format!("{simulator}/__sim/ledger"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(issued.as_array().map(Vec::len), Some(1), "{id}: {issued}");
        // The scan reaches the label (pushed, or polled within seconds in development).
        let number = label["tracking_number"].as_str().unwrap();
        let scan = client
            .post(format!("{simulator}/__sim/tracking/{number}/events"))
            .json(&pair[2])
            .send()
            .await
            .unwrap();
        assert!(scan.status().is_success(), "{id}: {}", scan.status());
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let shown: Value = client
                .get(format!(
                    "{api}/v1/return-labels/{}",
                    label["id"].as_str().unwrap()
                ))
                .bearer_auth(&tenant_key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if shown["status"] == "in_transit" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: the scan never reached the label: {shown}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        if let Some(registration) = pair.get(3) {
            register_as_printed(&client, &api, &tenant_key, &simulator, registration).await;
            continue;
        }
        // "Login with …" goes to the simulator's consent page (its demo platform app).
        let connect = client
            .post(format!("{api}/v1/shipper-accounts/{id}/connect"))
            .bearer_auth(&tenant_key)
            .json(&serde_json::json!({"name": "Signed in"}))
            .send()
            .await
            .unwrap();
        assert_eq!(connect.status(), 200, "{id}");
        let connect: Value = connect.json().await.unwrap();
        let authorize_url = connect["authorize_url"].as_str().unwrap();
        assert!(
            authorize_url.starts_with(&simulator),
            "{id}: {authorize_url}"
        );
        let consent_page = reqwest::get(authorize_url).await.unwrap();
        assert_eq!(
            consent_page.status(),
            200,
            "{id}: the simulator accepts the redirect URI"
        );
    }
    // The admin key opens the admin API.
    let verify = client
        .post(format!("{api}/v1/admin/audit-events/verify"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 200);

    // Ctrl-C stops everything, the private Postgres included.
    process.signal("INT");
    let (status, rest) = process.exit().await;
    assert!(
        status.success(),
        "{status:?}\n{}",
        process.stderr_seen.join("\n")
    );
    assert_eq!(rest.last().map(String::as_str), Some("Stopped."));
    assert!(
        !dev.data_dir.join("postmaster.pid").exists(),
        "the private Postgres is stopped"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", postgres_port)).is_err(),
        "nothing listens on the private Postgres port any more"
    );
}

/// Registers the demo business as printed and answers its verification: a PIN by text
/// message, read from where the simulator "sends" it, as the banner says.
async fn register_as_printed(
    client: &reqwest::Client,
    api: &str,
    key: &str,
    simulator: &str,
    body: &Value,
) {
    let created = client
        .post(format!("{api}/v1/shipper-accounts"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let account: Value = created.json().await.unwrap();
    assert_eq!(account["status"], "pending_verification", "{account}");
    let verification = format!(
        "{api}/v1/shipper-accounts/{}/verification",
        account["id"].as_str().unwrap()
    );
    let step: Value = client
        .post(&verification)
        .bearer_auth(key)
        .json(&serde_json::json!({"method": "sms"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(step["verification"]["step"], "enter_pin", "{step}");
    let pins: Value = reqwest::get(format!("{simulator}/__sim/registration/pins"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pin = pins.as_array().unwrap().last().unwrap()["pin"].clone();
    let active: Value = client
        .post(&verification)
        .bearer_auth(key)
        .json(&serde_json::json!({"pin": pin}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["status"], "active", "{active}");
}

#[tokio::test]
async fn dev_on_a_busy_api_port_says_so_in_one_line_before_starting_anything() {
    let workdir = tempfile::tempdir().unwrap();
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = occupied.local_addr().unwrap();
    let mut command = support::backhaul(&["dev"]);
    // No database configured: had dev gone on, it would have started a private Postgres.
    command
        .current_dir(workdir.path())
        .env_remove("BACKHAUL_ENV")
        .env("BACKHAUL__SERVER__LISTEN", address.to_string())
        .env("BACKHAUL__USPS_SIM__LISTEN", "127.0.0.1:0");
    let started = Instant::now();
    let finished = run(command).await;
    let took = started.elapsed();

    assert!(!finished.status.success(), "{finished:#?}");
    let errors: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|line| line.starts_with("backhaul: "))
        .collect();
    assert_eq!(errors.len(), 1, "{finished:#?}");
    assert_eq!(finished.stderr.lines().last(), Some(errors[0]));
    let line = errors[0];
    for expected in [
        &format!("{address} (server.listen)"),
        "in use",
        &format!(
            "`BACKHAUL__SERVER__LISTEN=127.0.0.1:{} backhaul dev`",
            address.port() + 10
        ),
    ] {
        assert!(line.contains(expected), "{expected:?} missing from {line}");
    }
    assert!(
        !workdir.path().join(".backhaul").exists(),
        "no private Postgres was started"
    );
    assert!(
        took < Duration::from_secs(30),
        "the busy port is reported before the slow steps ({took:?})"
    );
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn the_installed_binary_runs_dev_from_an_empty_directory(owner: PgPool) {
    // The binary alone in a bin/ directory, as `cargo install` leaves it, started in an empty
    // working directory: no config/, no BACKHAUL_CONFIG_DIR, no BACKHAUL_ENV. The database is
    // the test's own (the first test covers the private Postgres).
    let install = tempfile::tempdir().unwrap();
    let binary = install.path().join("bin/backhaul");
    std::fs::create_dir(install.path().join("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_backhaul"), &binary).unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let mut command = clean_command(&binary, &["dev"]);
    command
        .current_dir(workdir.path())
        .env("DATABASE_URL", database_url(&owner))
        .env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__USPS_SIM__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__UPS_SIM__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__FEDEX_SIM__LISTEN", "127.0.0.1:0");
    let mut dev = Dev {
        process: Some(Running::spawn(command)),
        data_dir: workdir.path().join(".backhaul/postgres"),
    };
    let process = dev.process.as_mut().unwrap();
    let banner = process
        .stdout_until(|line| line.contains("Ctrl-C stops everything"))
        .await;

    let api = banner_value(&banner, "API ").to_owned();
    let console = banner_value(&banner, "Console ").to_owned();
    let tenant_key = banner_value(&banner, "Tenant API key ").to_owned();
    assert_eq!(console, format!("{api}/console"));
    assert!(
        banner
            .iter()
            .any(|line| line.contains("sign in as merchant / password")),
        "{}",
        banner.join("\n")
    );
    let health = reqwest::get(format!("{api}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let client = reqwest::Client::new();
    let accounts = format!("{api}/v1/shipper-accounts");
    let anonymous = client.get(&accounts).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let listed = client
        .get(&accounts)
        .bearer_auth(&tenant_key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "{}", listed.text().await.unwrap());
    let sign_in = reqwest::get(&console).await.unwrap();
    assert_eq!(sign_in.status(), 200, "the console's sign-in page");

    process.signal("INT");
    let (status, rest) = process.exit().await;
    assert!(
        status.success(),
        "{status:?}\n{}",
        process.stderr_seen.join("\n")
    );
    assert_eq!(rest.last().map(String::as_str), Some("Stopped."));
    let left: Vec<_> = std::fs::read_dir(workdir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "with DATABASE_URL, dev leaves nothing in the working directory: {left:?}"
    );
}
