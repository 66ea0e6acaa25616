//! Shared setup: a running simulator, an HTTP client, tokens, registration and Ship bodies.

use base64::Engine;
use fedex_sim::schema::{SpecFile, violations};
use fedex_sim::{RunningSimulator, SimConfig, Simulator, demo};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) struct Harness {
    pub(crate) running: RunningSimulator,
    pub(crate) http: reqwest::Client,
}

/// The answer of a JSON route: status, headers and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Answer {
    /// The first error's code of a FedEx error body.
    pub(crate) fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or_default()
    }

    /// Every error message and parameter of a FedEx error body, joined.
    pub(crate) fn messages(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|error| format!("{} {}", error["message"], error["parameterList"]))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default()
    }

    /// Asserts the status and, for an error, that the body is FedEx's error shape.
    pub(crate) fn expect(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert!(self.body["transactionId"].is_string(), "{}", self.body);
        let problems = violations(SpecFile::Shipment, "ErrorResponseVO_2", &self.body).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }
}

pub(crate) async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

/// Checks `value` against a response schema, strictly.
pub(crate) fn assert_conforms(file: SpecFile, name: &str, value: &Value) {
    let problems = violations(file, name, value).unwrap();
    assert!(problems.is_empty(), "{name}: {problems:?}\n{value}");
}

impl Harness {
    pub(crate) async fn start() -> Self {
        Self::with(SimConfig::default()).await
    }

    pub(crate) async fn with(config: SimConfig) -> Self {
        let running = Simulator::new(config).spawn().await.unwrap();
        Self {
            running,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn simulator(&self) -> &Simulator {
        &self.running.simulator
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    /// `POST /oauth/token` with `form`.
    pub(crate) async fn token_request(&self, form: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .post(self.url("/oauth/token"))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A `client_credentials` token of the app `id`.
    pub(crate) async fn app_token(&self, id: &str, secret: &str) -> String {
        let answer = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    /// The platform (integrator) app's token.
    pub(crate) async fn platform_token(&self) -> String {
        self.app_token(demo::CLIENT_ID, demo::CLIENT_SECRET).await
    }

    /// The merchant's own app's token (ships with [`demo::ACCOUNT_NUMBER`]).
    pub(crate) async fn own_app_token(&self) -> String {
        self.app_token(demo::OWN_APP_CLIENT_ID, demo::OWN_APP_CLIENT_SECRET)
            .await
    }

    /// A `csp_credentials` token of a child.
    pub(crate) async fn csp_token(&self, child_key: &str, child_secret: &str) -> Answer {
        self.token_request(&[
            ("grant_type", "csp_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("child_Key", child_key),
            ("child_secret", child_secret),
        ])
        .await
    }

    /// `POST` JSON to `path` with a bearer token and extra headers.
    pub(crate) async fn post(
        &self,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Answer {
        let mut request = self.http.post(self.url(path)).bearer_auth(token).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.unwrap()).await
    }

    /// The address check of `number` with the demo merchant's address.
    pub(crate) async fn validate_address(&self, token: &str, body: &Value) -> Answer {
        self.post("/registration/v2/address/keysgeneration", token, &[], body)
            .await
    }

    /// The `accountAuthToken` of a session for the demo merchant.
    pub(crate) async fn session(&self, token: &str) -> String {
        let answer = self
            .validate_address(token, &address_body(demo::ACCOUNT_NUMBER))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["output"]["mfaOptions"]["accountAuthToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// PIN generation with `option`.
    pub(crate) async fn send_pin(&self, token: &str, session: &str, option: &str) -> Answer {
        self.post(
            "/registration/v2/customerkeys/pingeneration",
            token,
            &[("accountAuthToken", session)],
            &json!({"option": option}),
        )
        .await
    }

    /// PIN validation with `pin`.
    pub(crate) async fn validate_pin(&self, token: &str, session: &str, pin: &str) -> Answer {
        self.post(
            "/registration/v2/pin/keysgeneration",
            token,
            &[("accountAuthToken", session)],
            &json!({"secureCodePin": pin}),
        )
        .await
    }

    /// The newest PIN in the outbox.
    pub(crate) fn last_pin(&self) -> String {
        self.simulator().sent_pins().last().unwrap().pin.clone()
    }

    /// Registers the demo merchant by SMS PIN; returns the child's csp token.
    pub(crate) async fn registered_child_token(&self) -> String {
        let platform = self.platform_token().await;
        let session = self.session(&platform).await;
        let sent = self.send_pin(&platform, &session, "SMS").await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let keys = self
            .validate_pin(&platform, &session, &self.last_pin())
            .await;
        assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
        let output = &keys.body["output"];
        let token = self
            .csp_token(
                output["child_Key"].as_str().unwrap(),
                output["child_secret"].as_str().unwrap(),
            )
            .await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        token.body["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn ship(&self, token: &str, body: &Value) -> Answer {
        self.post("/ship/v1/shipments", token, &[], body).await
    }

    pub(crate) async fn cancel(&self, token: &str, body: &Value) -> Answer {
        let response = self
            .http
            .put(self.url("/ship/v1/shipments/cancel"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    pub(crate) async fn track(&self, token: &str, numbers: &[&str], detailed: bool) -> Answer {
        let infos: Vec<Value> = numbers
            .iter()
            .map(|number| json!({"trackingNumberInfo": {"trackingNumber": number}}))
            .collect();
        self.post(
            "/track/v1/trackingnumbers",
            token,
            &[],
            &json!({"includeDetailedScans": detailed, "trackingInfo": infos}),
        )
        .await
    }

    /// Records a scan through the control route.
    pub(crate) async fn scan(&self, number: &str, status: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/__sim/tracking/{number}/events")))
            .json(&json!({"status": status}))
            .send()
            .await
            .unwrap()
    }
}

/// A `CustomerKeyInputVO` for `number` with the demo merchant's name and address.
pub(crate) fn address_body(number: &str) -> Value {
    json!({
        "accountNumber": {"key": "", "value": number},
        "customerName": demo::CUSTOMER_NAME,
        "address": {
            "streetLines": [demo::STREET],
            "city": demo::CITY,
            "stateOrProvinceCode": demo::STATE,
            "postalCode": demo::POSTAL_CODE,
            "countryCode": demo::COUNTRY,
            "residential": false
        }
    })
}

/// A valid print-return request: the customer in Jersey City sends a parcel back to the demo
/// merchant, billed to the demo account, label in `image_type`.
pub(crate) fn print_return_request(image_type: &str) -> Value {
    json!({
        "labelResponseOptions": "LABEL",
        "accountNumber": {"value": demo::ACCOUNT_NUMBER},
        "requestedShipment": {
            "shipper": {
                "contact": {"personName": "Jane Customer", "phoneNumber": "2015550123"},
                "address": {
                    "streetLines": ["30 Montgomery St"],
                    "city": "Jersey City",
                    "stateOrProvinceCode": "NJ",
                    "postalCode": "07302",
                    "countryCode": "US"
                }
            },
            "recipients": [{
                "contact": {"companyName": demo::CUSTOMER_NAME, "phoneNumber": demo::PHONE},
                "address": {
                    "streetLines": [demo::STREET],
                    "city": demo::CITY,
                    "stateOrProvinceCode": demo::STATE,
                    "postalCode": demo::POSTAL_CODE,
                    "countryCode": "US"
                }
            }],
            "serviceType": "FEDEX_GROUND",
            "packagingType": "YOUR_PACKAGING",
            "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
            "shippingChargesPayment": {"paymentType": "SENDER"},
            "shipmentSpecialServices": {
                "specialServiceTypes": ["RETURN_SHIPMENT"],
                "returnShipmentDetail": {"returnType": "PRINT_RETURN_LABEL"}
            },
            "labelSpecification": {"imageType": image_type, "labelStockType": "PAPER_4X6"},
            "requestedPackageLineItems": [{
                "itemDescription": "Shoes",
                "weight": {"units": "LB", "value": 2.5},
                "customerReferences": [{"customerReferenceType": "RMA_ASSOCIATION", "value": "RMA-1001"}]
            }],
            "totalWeight": 2.5
        }
    })
}

/// A valid email-label (`PENDING`) request, expiring `expires` (YYYY-MM-DD).
pub(crate) fn email_return_request(expires: &str) -> Value {
    let mut request = print_return_request("PDF");
    let shipment = &mut request["requestedShipment"];
    shipment
        .as_object_mut()
        .unwrap()
        .remove("labelSpecification");
    shipment["shipmentSpecialServices"] = json!({
        "specialServiceTypes": ["RETURN_SHIPMENT"],
        "returnShipmentDetail": {
            "returnType": "PENDING",
            "returnEmailDetail": {"merchantPhoneNumber": demo::PHONE}
        },
        "pendingShipmentDetail": {
            "pendingShipmentType": "EMAIL",
            "emailLabelDetail": {"recipients": [{
                "emailAddress": "jane@example.com", "role": "SHIPMENT_COMPLETOR", "locale": "en_US"
            }]},
            "expirationTimeStamp": expires
        }
    });
    request
}

/// A date `days` from today (UTC), as YYYY-MM-DD.
pub(crate) fn days_from_today(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

pub(crate) fn tracking_number(answer: &Answer) -> String {
    answer.body["output"]["transactionShipments"][0]["pieceResponses"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The decoded label of the first package.
pub(crate) fn label_bytes(answer: &Answer) -> Vec<u8> {
    let label =
        answer.body["output"]["transactionShipments"][0]["pieceResponses"][0]["packageDocuments"]
            [0]["encodedLabel"]
            .as_str()
            .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(label)
        .unwrap()
}
