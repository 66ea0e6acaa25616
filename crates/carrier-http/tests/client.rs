//! The client against a local server: the retry policy decides what is resent, a reply larger
//! than the limit stops the read with a typed error, and no error shows a URL's secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use carrier_http::{ClientOptions, HttpClient, RetryConfig, RetryPolicy, TransportError};

fn client(max_reply_bytes: usize) -> HttpClient {
    HttpClient::new(ClientOptions {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(800),
        retry: RetryConfig {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(1),
        },
        max_reply_bytes,
    })
    .unwrap()
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// A server answering every request with `status` (and `Retry-After`, when given), counting hits.
async fn counting(
    status: StatusCode,
    retry_after: Option<&'static str>,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/{*path}",
        any(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut response = (status, "busy").into_response();
                if let Some(after) = retry_after {
                    response
                        .headers_mut()
                        .insert("retry-after", after.parse().unwrap());
                }
                response
            }
        }),
    );
    (serve(router).await, hits)
}

#[tokio::test]
async fn an_idempotent_call_is_retried_on_503_until_the_retries_run_out() {
    let (address, hits) = counting(StatusCode::SERVICE_UNAVAILABLE, None).await;
    let reply = client(1024)
        .send("token", RetryPolicy::Idempotent, |http| {
            http.post(format!("http://{address}/token"))
        })
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "one attempt and two retries"
    );
}

#[tokio::test]
async fn a_non_idempotent_call_is_sent_once_whatever_the_reply() {
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (address, hits) = counting(status, Some("0")).await;
        let reply = client(1024)
            .send("ship", RetryPolicy::NotIdempotent, |http| {
                http.post(format!("http://{address}/ship"))
            })
            .await
            .unwrap();
        assert_eq!(reply.status, status);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "{status}");
    }
}

#[tokio::test]
async fn a_short_429_is_waited_out_but_a_long_one_goes_back_to_the_caller() {
    let (short, short_hits) = counting(StatusCode::TOO_MANY_REQUESTS, Some("0")).await;
    client(1024)
        .send("token", RetryPolicy::Idempotent, |http| {
            http.get(format!("http://{short}/t"))
        })
        .await
        .unwrap();
    assert_eq!(short_hits.load(Ordering::SeqCst), 3);

    let (long, long_hits) = counting(StatusCode::TOO_MANY_REQUESTS, Some("3600")).await;
    let reply = client(1024)
        .send("token", RetryPolicy::Idempotent, |http| {
            http.get(format!("http://{long}/t"))
        })
        .await
        .unwrap();
    assert_eq!(long_hits.load(Ordering::SeqCst), 1);
    assert_eq!(reply.retry_after(), Some(Duration::from_secs(3600)));
}

#[tokio::test]
async fn other_errors_are_not_retried_even_when_idempotent() {
    let (address, hits) = counting(StatusCode::INTERNAL_SERVER_ERROR, None).await;
    client(1024)
        .send("token", RetryPolicy::Idempotent, |http| {
            http.get(format!("http://{address}/t"))
        })
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

fn endless_body() -> Body {
    let chunk = Bytes::from(vec![b'x'; 8 * 1024]);
    Body::from_stream(futures::stream::repeat_with(move || {
        Ok::<_, Infallible>(chunk.clone())
    }))
}

#[tokio::test]
async fn an_endless_streamed_reply_stops_at_the_limit_as_sent() {
    let router = Router::new().route("/label", any(|| async { Response::new(endless_body()) }));
    let address = serve(router).await;
    let error = client(64 * 1024)
        .send("ship", RetryPolicy::NotIdempotent, |http| {
            http.post(format!("http://{address}/label"))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TransportError::TooLarge {
                limit: 65_536,
                operation: "ship",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.request_sent(), "a reply came, so the request left");
}

#[tokio::test]
async fn an_announced_length_over_the_limit_is_refused_before_reading() {
    let router = Router::new().route("/label", any(|| async { vec![b'x'; 2048] }));
    let address = serve(router).await;
    let error = client(1024)
        .send("ship", RetryPolicy::NotIdempotent, |http| {
            http.post(format!("http://{address}/label"))
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::TooLarge { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_reply_at_the_limit_is_read_whole() {
    let router = Router::new().route("/label", any(|| async { vec![b'x'; 1024] }));
    let address = serve(router).await;
    let reply = client(1024)
        .send("ship", RetryPolicy::NotIdempotent, |http| {
            http.post(format!("http://{address}/label"))
        })
        .await
        .unwrap();
    assert_eq!(reply.body.len(), 1024);
}

#[tokio::test]
async fn a_slow_reply_is_a_timeout_after_sending() {
    let router = Router::new().route(
        "/slow",
        any(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let address = serve(router).await;
    let error = client(1024)
        .send("ship", RetryPolicy::NotIdempotent, |http| {
            http.post(format!("http://{address}/slow"))
        })
        .await
        .unwrap_err();
    assert!(matches!(error, TransportError::Timeout { .. }), "{error:?}");
    assert!(error.request_sent());
}

#[tokio::test]
async fn a_connection_closed_after_the_request_is_a_reset_after_sending() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0_u8; 4096];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    let error = client(1024)
        .send("ship", RetryPolicy::NotIdempotent, |http| {
            http.post(format!("http://{address}/ship")).body("{}")
        })
        .await
        .unwrap_err();
    assert!(matches!(error, TransportError::Reset { .. }), "{error:?}");
    assert!(error.request_sent());
}

#[tokio::test]
async fn a_refused_connection_is_not_sent_and_shows_no_secret() {
    // Port 9 on loopback (discard) is closed here, so the connection is refused.
    let error = client(1024)
        .send("token", RetryPolicy::NotIdempotent, |http| {
            http.post("http://agent:sentinel-password@127.0.0.1:9/oauth/token?client_secret=sentinel-secret")
        })
        .await
        .unwrap_err();
    let printed = format!("{error} {error:?}");
    assert!(matches!(error, TransportError::Connect { .. }), "{printed}");
    assert!(!error.request_sent());
    assert!(!printed.contains("sentinel"), "{printed}");
    assert!(
        printed.contains("http://127.0.0.1:9/oauth/token?client_secret=REDACTED"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_unbuildable_request_is_not_sent() {
    let error = client(1024)
        .send("token", RetryPolicy::Idempotent, |http| {
            http.post("http://127.0.0.1:9/t")
                .header("x-token", "a\r\nb")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::Unsendable { .. }),
        "{error:?}"
    );
    assert!(!error.request_sent());
}
