//! Shared setup: a running simulator, an HTTP client, the OAuth dances and Ship bodies.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use ups_sim::{RunningSimulator, SimConfig, Simulator, demo, s256_challenge};

/// An RFC 7636 code verifier (43 characters).
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(crate) struct Harness {
    pub(crate) running: RunningSimulator,
    pub(crate) http: reqwest::Client,
}

/// The answer of a JSON route: status and body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

impl Answer {
    /// The first error's code of a UPS error body.
    pub(crate) fn code(&self) -> &str {
        self.body["response"]["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
    }

    /// Every error message of a UPS error body, joined.
    pub(crate) fn messages(&self) -> String {
        self.body["response"]["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error["message"].as_str())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default()
    }
}

pub(crate) async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, body }
}

impl Harness {
    pub(crate) async fn start() -> Self {
        Self::with(SimConfig::default()).await
    }

    pub(crate) async fn with(config: SimConfig) -> Self {
        let running = Simulator::new(config).spawn().await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { running, http }
    }

    pub(crate) fn simulator(&self) -> &Simulator {
        &self.running.simulator
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url)
    }

    /// `POST` a form to an OAuth path, with Basic credentials when given.
    pub(crate) async fn oauth_post(
        &self,
        path: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        answer(request.send().await.unwrap()).await
    }

    /// A client-credentials access token of the demo app.
    pub(crate) async fn client_token(&self) -> String {
        let answer = self
            .oauth_post(
                "/security/v1/oauth/token",
                Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    /// The consent form's answer for `user` with `decision`, for a request with `extra`
    /// parameters (e.g. the PKCE challenge).
    pub(crate) async fn consent(
        &self,
        user: &str,
        decision: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![
            ("client_id", demo::CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
            ("response_type", "code"),
            ("state", "xyz-state"),
            ("username", user),
            ("password", demo::PASSWORD),
            ("decision", decision),
        ];
        form.extend_from_slice(extra);
        self.http
            .post(self.url("/security/v1/oauth/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// An authorization code for `user`, issued for the PKCE challenge of [`VERIFIER`].
    pub(crate) async fn pkce_code(&self, user: &str) -> String {
        let challenge = s256_challenge(VERIFIER);
        let response = self
            .consent(user, "approve", &[("code_challenge", &challenge)])
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        query_value(&location(&response), "code").unwrap()
    }

    /// Redeems a PKCE code (client_id and verifier in the body, no Basic header).
    pub(crate) async fn redeem_pkce(&self, code: &str, verifier: &str) -> Answer {
        self.oauth_post(
            "/security/v1/oauth/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", demo::REDIRECT_URI),
                ("client_id", demo::CLIENT_ID),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    /// Access and refresh tokens of `user` through the PKCE flow.
    pub(crate) async fn user_tokens(&self, user: &str) -> Value {
        let code = self.pkce_code(user).await;
        let answer = self.redeem_pkce(&code, VERIFIER).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    pub(crate) async fn refresh(&self, refresh_token: &str) -> Answer {
        self.oauth_post(
            "/security/v1/oauth/refresh",
            Some((demo::CLIENT_ID, demo::CLIENT_SECRET)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    pub(crate) async fn ship(&self, token: &str, body: &Value) -> Answer {
        let response = self
            .http
            .post(self.url("/api/shipments/v2409/ship"))
            .bearer_auth(token)
            .header("transId", "ups-sim-test-0001")
            .header("transactionSrc", "backhaul-tests")
            .json(body)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    pub(crate) async fn void(&self, token: &str, number: &str) -> Answer {
        let response = self
            .http
            .delete(self.url(&format!("/api/shipments/v2409/void/cancel/{number}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        answer(response).await
    }
}

pub(crate) fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn query_value(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A valid Print Return Label (ReturnService 9) request: the customer in Jersey City sends a
/// parcel back to the demo merchant in St. Louis, billed to the demo account, GIF label.
pub(crate) fn print_return_request() -> Value {
    json!({
        "ShipmentRequest": {
            "Request": {
                "RequestOption": "nonvalidate",
                "TransactionReference": {"CustomerContext": "RMA-1001"}
            },
            "Shipment": {
                "Description": "Return of order 1001",
                "ReturnService": {"Code": "9", "Description": "PRL"},
                "Shipper": {
                    "Name": "Backhaul Demo Returns Co.",
                    "ShipperNumber": demo::SHIPPER_NUMBER,
                    "Phone": {"Number": "3145550100"},
                    "Address": {
                        "AddressLine": ["4120 Bingham Ave"],
                        "City": "St. Louis",
                        "StateProvinceCode": "MO",
                        "PostalCode": "63116",
                        "CountryCode": "US"
                    }
                },
                "ShipTo": {
                    "Name": "Backhaul Demo Returns Co.",
                    "AttentionName": "Returns Dept",
                    "Phone": {"Number": "3145550100"},
                    "Address": {
                        "AddressLine": ["4120 Bingham Ave"],
                        "City": "St. Louis",
                        "StateProvinceCode": "MO",
                        "PostalCode": "63116",
                        "CountryCode": "US"
                    }
                },
                "ShipFrom": {
                    "Name": "Jane Customer",
                    "Phone": {"Number": "2015550123"},
                    "Address": {
                        "AddressLine": ["30 Montgomery St"],
                        "City": "Jersey City",
                        "StateProvinceCode": "NJ",
                        "PostalCode": "07302",
                        "CountryCode": "US"
                    }
                },
                "PaymentInformation": {
                    "ShipmentCharge": [
                        {"Type": "01", "BillShipper": {"AccountNumber": demo::SHIPPER_NUMBER}}
                    ]
                },
                "Service": {"Code": "03", "Description": "Ground"},
                "Package": [{
                    "Description": "Shoes",
                    "Packaging": {"Code": "02", "Description": "Customer Supplied Package"},
                    "Dimensions": {
                        "UnitOfMeasurement": {"Code": "IN"},
                        "Length": "12", "Width": "8", "Height": "5"
                    },
                    "PackageWeight": {
                        "UnitOfMeasurement": {"Code": "LBS"},
                        "Weight": "2.5"
                    }
                }]
            },
            "LabelSpecification": {
                "LabelImageFormat": {"Code": "GIF"},
                "LabelStockSize": {"Height": "6", "Width": "4"}
            }
        }
    })
}

/// A valid Electronic Return Label (ReturnService 8) request: UPS e-mails the label.
pub(crate) fn electronic_return_request() -> Value {
    let mut request = print_return_request();
    let shipment = &mut request["ShipmentRequest"]["Shipment"];
    shipment["ReturnService"] = json!({"Code": "8"});
    shipment["ShipmentServiceOptions"] =
        json!({"LabelDelivery": {"EMail": {"EMailAddress": "jane@example.com"}}});
    request["ShipmentRequest"]
        .as_object_mut()
        .unwrap()
        .remove("LabelSpecification");
    request
}

/// The decoded label image of the first package of a Ship answer.
pub(crate) fn label_bytes(answer: &Answer) -> Vec<u8> {
    let image = answer.body["ShipmentResponse"]["ShipmentResults"]["PackageResults"][0]
        ["ShippingLabel"]["GraphicImage"]
        .as_str()
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(image)
        .unwrap()
}

pub(crate) fn tracking_number(answer: &Answer) -> String {
    answer.body["ShipmentResponse"]["ShipmentResults"]["PackageResults"][0]["TrackingNumber"]
        .as_str()
        .unwrap()
        .to_owned()
}
