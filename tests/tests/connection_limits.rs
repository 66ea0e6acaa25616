//! The server's connection limits against clients that hold connections: a slowloris client
//! is cut after the header-read timeout, idle connections beyond the limit wait without being
//! served and are closed by the idle timeout, and the server serves again once they are gone.
//! No timings are asserted: a bound only keeps a broken server from hanging the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backhaul_tests::{PluginOptions, TestApp};
use server::serve::Limits;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any limit below, so a server that never closes fails instead of hanging.
const GIVE_UP: Duration = Duration::from_secs(60);

async fn app_with(owner: PgPool, limits: Limits) -> TestApp {
    TestApp::spawn_with(
        owner,
        PluginOptions {
            server_limits: limits,
            ..PluginOptions::default()
        },
    )
    .await
}

fn address(app: &TestApp) -> String {
    app.instance
        .base_url
        .trim_start_matches("http://")
        .to_owned()
}

/// Reads until the server closes the connection; what it sent before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(GIVE_UP, stream.read_to_end(&mut received))
        .await
        .expect("the server never closed the connection")
        .ok();
    received
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn a_slowloris_connection_is_cut_after_the_header_timeout(owner: PgPool) {
    let app = app_with(
        owner,
        Limits {
            header_read_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    )
    .await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Trickle one byte a while: the head never completes.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if stream.write_all(b"a").await.is_err() {
            break;
        }
    }
    let received = until_closed(&mut stream).await;
    assert!(
        !String::from_utf8_lossy(&received).contains("200 OK"),
        "a half-sent request was served"
    );
    // The server still serves others.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[sqlx::test(migrator = "accounts::MIGRATOR")]
async fn idle_connections_are_held_to_the_limit_and_closed_by_the_idle_timeout(owner: PgPool) {
    const LIMIT: usize = 500;
    const CONNECTIONS: usize = 3000;
    let app = app_with(
        owner,
        Limits {
            max_connections: LIMIT,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    )
    .await;
    let target = address(&app);
    let gauge = app.instance.state.metrics().connections().clone();

    // Half the clients stay silent after connecting; the other half make one request on a
    // keep-alive connection and then sit idle. Every one must be closed by the server.
    let mut clients = tokio::task::JoinSet::new();
    for index in 0..CONNECTIONS {
        let target = target.clone();
        clients.spawn(async move {
            let mut stream = TcpStream::connect(&target).await.unwrap();
            if index % 2 == 1 {
                stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
            }
            until_closed(&mut stream).await
        });
    }
    let mut most = 0;
    let mut served = 0;
    let mut watching = tokio::time::interval(Duration::from_millis(20));
    while !clients.is_empty() {
        tokio::select! {
            done = clients.join_next() => {
                let received = done.unwrap().unwrap();
                if String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200") {
                    served += 1;
                }
            }
            _ = watching.tick() => most = most.max(gauge.get()),
        }
    }
    most = most.max(gauge.get());
    assert!(most <= LIMIT as i64, "{most} connections served at once");
    assert!(most > 0);
    assert_eq!(
        served,
        CONNECTIONS / 2,
        "every request was answered before the close"
    );

    // All closed; the server accepts and serves again.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
