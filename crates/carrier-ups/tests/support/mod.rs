//! A tiny local stand-in for UPS (axum) that answers what a test scripts and records every
//! request, and the plugin configured against it. Not a simulator: it checks nothing, so each
//! test states what it expects to have been sent.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use carrier::{
    AccountContext, AccountInput, Carrier, CarrierError, CredentialsInput, IdempotencyKey,
    ReturnLabel, ReturnLabelInput, ReturnLabelRequest, ValidatedAccount,
};
use carrier_ups::{PlatformApp, RetryConfig, UpsBuilder, UpsCarrier};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "merchant-app";
pub const CLIENT_SECRET: &str = "sentinel-client-secret";
pub const PLATFORM_ID: &str = "platform-app";
pub const PLATFORM_SECRET: &str = "sentinel-platform-secret";
pub const TRACKING: &str = "1Z999AA10123456784";

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the stand-in answers next on a route.
pub enum Answer {
    Json(StatusCode, Value),
    /// Status, a `Retry-After` value and a JSON body.
    RetryAfter(StatusCode, &'static str, Value),
    /// Waits this long before answering (past the client's timeout).
    Hang(Duration),
    /// A 200 whose body is this many bytes.
    Huge(usize),
    /// A 200 whose body breaks off after a few bytes.
    Reset,
    Text(StatusCode, &'static str),
}

#[derive(Default)]
struct Script {
    token: VecDeque<Answer>,
    ship: VecDeque<Answer>,
    void: VecDeque<Answer>,
    seen: Vec<Seen>,
    issued: usize,
}

#[derive(Clone, Default)]
pub struct FakeUps {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

/// A valid GIF label, `width` × `height`.
pub fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0, 0, 0, 255, 255, 255];
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).unwrap();
        let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height))
            .map(|i| u8::from(i % 3 == 0))
            .collect();
        encoder
            .write_frame(&gif::Frame::from_indexed_pixels(
                width, height, pixels, None,
            ))
            .unwrap();
    }
    out
}

/// A successful Ship reply for `tracking`.
pub fn ship_reply(tracking: &str, image: Option<(&str, &[u8])>) -> Value {
    let mut package = json!({"TrackingNumber": tracking});
    if let Some((code, bytes)) = image {
        package["ShippingLabel"] = json!({
            "ImageFormat": {"Code": code},
            "GraphicImage": base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    json!({"ShipmentResponse": {
        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
        "ShipmentResults": {
            "ShipmentCharges": {
                "TransportationCharges": {"CurrencyCode": "USD", "MonetaryValue": "11.20"},
                "ServiceOptionsCharges": {"CurrencyCode": "USD", "MonetaryValue": "0.00"},
                "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": "11.20"}
            },
            "BillingWeight": {"UnitOfMeasurement": {"Code": "LBS"}, "Weight": "2.0"},
            "ShipmentIdentificationNumber": tracking,
            "PackageResults": [package]
        }
    }})
}

pub fn error_body(code: &str, message: &str) -> Value {
    json!({"response": {"errors": [{"code": code, "message": message}]}})
}

fn answer(answer: Answer) -> Response {
    match answer {
        Answer::Json(status, body) => (status, axum::Json(body)).into_response(),
        Answer::RetryAfter(status, after, body) => {
            (status, [("retry-after", after)], axum::Json(body)).into_response()
        }
        Answer::Hang(delay) => {
            let body = Body::from_stream(futures::stream::once(async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::io::Error>(Bytes::from_static(b"{}"))
            }));
            Response::new(body)
        }
        Answer::Huge(size) => Response::new(Body::from(vec![b' '; size])),
        Answer::Reset => Response::new(Body::from_stream(futures::stream::iter([
            Ok(Bytes::from_static(b"{\"ShipmentResponse\":")),
            Err(std::io::Error::other("connection reset")),
        ]))),
        Answer::Text(status, text) => (status, text).into_response(),
    }
}

async fn handle(
    State(state): State<FakeUps>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let next = {
        let mut script = state.script.lock().unwrap();
        script.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            headers,
            body,
        });
        if path.starts_with("/security/v1/oauth/") {
            script.issued += 1;
            let issued = script.issued;
            script.token.pop_front().unwrap_or_else(|| {
                Answer::Json(
                    StatusCode::OK,
                    json!({
                        "token_type": "Bearer",
                        "access_token": format!("sentinel-access-{issued}"),
                        "expires_in": "14399",
                        "refresh_token": format!("sentinel-refresh-{issued}"),
                        "refresh_token_expires_in": "5183999",
                        "status": "approved",
                    }),
                )
            })
        } else if path.ends_with("/ship") {
            script.ship.pop_front().unwrap_or_else(|| {
                Answer::Json(
                    StatusCode::OK,
                    ship_reply(TRACKING, Some(("GIF", &gif(120, 80)))),
                )
            })
        } else if path.contains("/void/cancel/") {
            script.void.pop_front().unwrap_or_else(|| {
                Answer::Json(
                    StatusCode::OK,
                    json!({"VoidShipmentResponse": {
                        "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                        "SummaryResult": {"Status": {"Code": "1", "Description": "Voided"}}
                    }}),
                )
            })
        } else {
            Answer::Text(StatusCode::NOT_FOUND, "no such route")
        }
    };
    answer(next)
}

impl FakeUps {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeUps {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..FakeUps::default()
        };
        let router = Router::new()
            .route("/{*path}", any(handle))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    pub fn token(&self, answer: Answer) {
        self.script.lock().unwrap().token.push_back(answer);
    }

    pub fn ship(&self, answer: Answer) {
        self.script.lock().unwrap().ship.push_back(answer);
    }

    pub fn void(&self, answer: Answer) {
        self.script.lock().unwrap().void.push_back(answer);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    pub fn seen_on(&self, fragment: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.path.contains(fragment))
            .collect()
    }

    pub fn builder(&self) -> UpsBuilder {
        UpsBuilder::new()
            .with_base_url(&self.url)
            .with_request_timeout(Duration::from_millis(800))
            .with_retry(RetryConfig {
                max_retries: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                max_retry_after: Duration::from_secs(1),
            })
            .with_platform_app(PlatformApp::new(
                PLATFORM_ID,
                SecretString::from(PLATFORM_SECRET),
                "https://backhaul.example/v1/ups/oauth/callback",
            ))
    }

    pub fn carrier(&self) -> UpsCarrier {
        self.builder().build().unwrap()
    }
}

pub fn details() -> Value {
    json!({
        "account_number": "A1B2C3",
        "return_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550199"},
    })
}

pub fn own_app() -> CredentialsInput {
    CredentialsInput::new()
        .with("mode", "own_app")
        .with("client_id", CLIENT_ID)
        .with("client_secret", CLIENT_SECRET)
}

pub fn validate(carrier: &UpsCarrier, credentials: &CredentialsInput) -> ValidatedAccount {
    carrier
        .validate_account(AccountInput {
            details: &details(),
            credentials: Some(credentials),
            current: None,
        })
        .unwrap()
}

pub fn request(format: &str) -> ReturnLabelInput {
    serde_json::from_value(json!({
        "service": "ups_ground_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7, "height_in": 4},
        "label_format": format,
        "reference": "RMA-1001",
        "notify": {"recipient_email": "jane@example.com"},
    }))
    .unwrap()
}

pub fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse("key", raw).unwrap()
}

pub async fn buy(
    carrier: &UpsCarrier,
    account: &ValidatedAccount,
    input: &ReturnLabelInput,
) -> Result<ReturnLabel, CarrierError> {
    let request = ReturnLabelRequest::parse(input).unwrap();
    carrier
        .create_return_label(
            AccountContext {
                id: "sa_test",
                details: &account.details,
                credentials: &account.credentials,
            },
            &request,
            &key("order-1001-return"),
        )
        .await
}
