//! Chaos: `backhaul serve` is killed (SIGKILL) after the carrier issued a label and before the
//! label's transaction committed. The label's INSERT is held back by the test's own `LOCK TABLE
//! return_labels IN SHARE MODE` (which blocks writers, not the key-share checks of the earlier
//! phases), so the process dies exactly there. After a restart, the client's retry with
//! the same key resumes the purchase: 201 with the tracking number the carrier recorded, and
//! one label — in the simulator's ledger and in the database — not two.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use accounts::Database;
use accounts::audit::Actor;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sqlx::PgPool;
use support::{Running, backhaul_on};
use usps_sim::{RunningSimulator, SimConfig, Simulator, demo};

/// How long a purchase holds its key in the restarted server (production: a minute).
const LABEL_LOCK_MS: &str = "1000";

/// Starts `backhaul serve` against the simulator; returns it with its base URL.
async fn start_server(owner: &PgPool, simulator: &RunningSimulator) -> (Running, String) {
    let mut command = backhaul_on(owner, &["serve"]);
    command
        .env("BACKHAUL__SERVER__LISTEN", "127.0.0.1:0")
        .env("BACKHAUL__SERVER__LABEL_LOCK_MS", LABEL_LOCK_MS)
        .env("BACKHAUL__USPS__BASE_URL", &simulator.base_url)
        .env(
            "BACKHAUL__USPS__WEBTOOLS_URL",
            format!("{}/ShippingAPI.dll", simulator.base_url),
        )
        .env("RUST_LOG", "info");
    let mut server = Running::spawn(command);
    let listening = server.log_event("API listening").await;
    let address = listening["address"]
        .as_str()
        .expect("the address is logged");
    (server, format!("http://{address}"))
}

fn v3_account() -> Value {
    json!({
        "carrier": "usps",
        "name": "East",
        "details": {
            "api": "v3", "crid": demo::CRID, "mid": demo::MID, "manifest_mid": demo::MANIFEST_MID,
            "returns_mid": demo::RETURNS_MID, "account_type": "EPS",
            "eps_account_number": demo::EPS_ACCOUNT,
            "return_address": {"firm": demo::RETURN_ADDRESS_FIRM, "street1": demo::RETURN_ADDRESS_STREET,
                               "city": demo::RETURN_ADDRESS_CITY, "state": demo::RETURN_ADDRESS_STATE,
                               "zip5": demo::RETURN_ADDRESS_ZIP},
        },
        "credentials": {"mode": "own_app", "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET},
    })
}

fn label_request() -> Value {
    json!({
        "service": "usps_ground_advantage_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "1100 Wyoming St",
                         "city": "Saint Louis", "state": "MO", "zip5": "63118"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
    })
}

async fn buy(base_url: &str, tenant_key: &str, key: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!("{base_url}/v1/return-labels"))
        .bearer_auth(tenant_key)
        .header("Idempotency-Key", key)
        .json(&label_request())
        .timeout(Duration::from_secs(60))
        .send()
        .await
}

/// Whether an INSERT into `return_labels` of this database waits for its lock.
async fn label_insert_waits(owner: &PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT count(*) > 0 FROM pg_locks
         WHERE NOT granted AND mode = 'RowExclusiveLock' AND relation = 'return_labels'::regclass
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(owner)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_server_killed_between_the_carrier_and_the_commit_buys_one_label(owner: PgPool) {
    let simulator = Simulator::new(SimConfig::default()).spawn().await.unwrap();
    let db = Database::connect_as_app(&owner.connect_options(), None, 2)
        .await
        .unwrap();
    let (_, tenant_key) = accounts::tenant::create_tenant(&db, &Actor::System, "Acme Returns")
        .await
        .unwrap();
    let tenant_key = tenant_key.secret.expose_secret().to_owned();
    let (mut server, base_url) = start_server(&owner, &simulator).await;
    let created = reqwest::Client::new()
        .post(format!("{base_url}/v1/shipper-accounts"))
        .bearer_auth(&tenant_key)
        .json(&v3_account())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Hold the label's commit back, buy, and wait until the carrier has issued the label and
    // the server's INSERT waits on the lock.
    let mut blocker = owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE return_labels IN SHARE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let first_try = tokio::spawn({
        let (base_url, tenant_key) = (base_url.clone(), tenant_key.clone());
        async move { buy(&base_url, &tenant_key, "killed-1").await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while simulator.simulator.ledger().is_empty() || !label_insert_waits(&owner).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the purchase never reached the commit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.signal("KILL");
    let (status, _) = server.exit().await;
    assert!(!status.success(), "{status:?}");
    assert!(
        first_try.await.unwrap().is_err(),
        "the killed server answered the first try"
    );
    blocker.rollback().await.unwrap();

    let (_server, base_url) = start_server(&owner, &simulator).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let label: Value = loop {
        let response = buy(&base_url, &tenant_key, "killed-1").await.unwrap();
        match response.status().as_u16() {
            201 => break response.json().await.unwrap(),
            // The crashed attempt still holds the key until its lock runs out.
            409 => {}
            other => panic!("retry answered {other}: {}", response.text().await.unwrap()),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retry never completed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let ledger = simulator.simulator.ledger();
    assert_eq!(ledger.len(), 1, "the carrier issued one label: {ledger:?}");
    assert_eq!(label["tracking_number"], ledger[0].tracking_number.as_str());
    let stored: Vec<String> = sqlx::query_scalar("SELECT tracking_number FROM return_labels")
        .fetch_all(&owner)
        .await
        .unwrap();
    assert_eq!(stored, vec![ledger[0].tracking_number.clone()]);
}
