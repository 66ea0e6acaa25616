//! Shared setup: a running simulator, an HTTP client and request builders.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usps_sim::{RunningSimulator, SimConfig, Simulator, demo};

pub(crate) const VENDOR_JSON: &str = "application/vnd.usps.labels+json";

pub(crate) struct Harness {
    pub(crate) running: RunningSimulator,
    pub(crate) http: reqwest::Client,
}

impl Harness {
    pub(crate) async fn start() -> Self {
        let running = Simulator::new(SimConfig::default()).spawn().await.unwrap();
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

    pub(crate) async fn token_request(&self, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/v3/token"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A client-credentials access token of the demo app.
    pub(crate) async fn access_token(&self) -> String {
        let response = self
            .token_request(json!({
                "grant_type": "client_credentials",
                "client_id": demo::CLIENT_ID,
                "client_secret": demo::CLIENT_SECRET,
            }))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn authorize_payment(
        &self,
        access: &str,
        parties: &Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/payments/v3/payment-authorization"))
            .bearer_auth(access)
            .json(parties)
            .send()
            .await
            .unwrap()
    }

    /// A payment authorization token for `parties`.
    pub(crate) async fn payment_token_for(&self, access: &str, parties: &Value) -> String {
        let response = self.authorize_payment(access, parties).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["paymentAuthorizationToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Access and payment tokens for the main demo CRID, paid by EPS.
    pub(crate) async fn tokens(&self) -> (String, String) {
        let access = self.access_token().await;
        let payment = self.payment_token_for(&access, &eps_parties()).await;
        (access, payment)
    }

    pub(crate) fn label_post(&self, access: &str, payment: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url("/labels/v3/return-label"))
            .bearer_auth(access)
            .header("X-Payment-Authorization-Token", payment)
    }

    /// Posts `body` for a vendor-JSON label with fresh tokens.
    pub(crate) async fn label(&self, body: &Value) -> reqwest::Response {
        let (access, payment) = self.tokens().await;
        self.label_post(&access, &payment)
            .header("Accept", VENDOR_JSON)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// PAYER (EPS) and LABEL_OWNER of the main demo CRID.
pub(crate) fn eps_parties() -> Value {
    json!({"roles": [
        {"roleName": "PAYER", "CRID": demo::CRID, "MID": demo::MID, "manifestMID": demo::MANIFEST_MID,
         "accountType": "EPS", "accountNumber": demo::EPS_ACCOUNT},
        {"roleName": "LABEL_OWNER", "CRID": demo::CRID, "MID": demo::MID, "manifestMID": demo::MANIFEST_MID},
    ]})
}

/// PAYER (PERMIT) and LABEL_OWNER of the main demo CRID.
pub(crate) fn permit_parties() -> Value {
    json!({"roles": [
        {"roleName": "PAYER", "CRID": demo::CRID, "accountType": "PERMIT",
         "permitNumber": demo::PERMIT_NUMBER, "permitZIP": demo::PERMIT_ZIP},
        {"roleName": "LABEL_OWNER", "CRID": demo::CRID, "MID": demo::MID, "manifestMID": demo::MANIFEST_MID},
    ]})
}

/// Parties for another demo CRID paid by `eps`.
pub(crate) fn parties_of(crid: &str, mid: &str, manifest_mid: &str, eps: &str) -> Value {
    json!({"roles": [
        {"roleName": "PAYER", "CRID": crid, "accountType": "EPS", "accountNumber": eps},
        {"roleName": "LABEL_OWNER", "CRID": crid, "MID": mid, "manifestMID": manifest_mid},
    ]})
}

/// A valid Ground Advantage return from a customer in Washington DC to the demo warehouse.
pub(crate) fn label_body() -> Value {
    json!({
        "imageInfo": {"imageType": "PDF", "labelType": "4X6LABEL", "receiptOption": "NONE"},
        "toAddress": {
            "firm": demo::RETURN_ADDRESS_FIRM,
            "streetAddress": demo::RETURN_ADDRESS_STREET,
            "city": demo::RETURN_ADDRESS_CITY,
            "state": demo::RETURN_ADDRESS_STATE,
            "ZIPCode": demo::RETURN_ADDRESS_ZIP,
        },
        "fromAddress": {
            "firstName": "John",
            "lastName": "Doe",
            "streetAddress": "1400 L St NW",
            "secondaryAddress": "Lbby 2",
            "city": "Washington",
            "state": "DC",
            "ZIPCode": "20005",
            "phone": "2025550123",
            "email": "john.doe@example.com",
        },
        "packageDescription": {
            "mailClass": "USPS_GROUND_ADVANTAGE_RETURN_SERVICE",
            "rateIndicator": "SP",
            "processingCategory": "MACHINABLE",
            "weightUOM": "lb",
            "weight": 1.5,
            "dimensionsUOM": "in",
            "length": 12,
            "width": 8,
            "height": 4,
            "extraServices": [920],
            "customerReference": [{"referenceNumber": "RMA-1001", "printReferenceNumber": true}],
        },
    })
}

/// Status and the `error.errors[].code` values of an ErrorMessage response.
pub(crate) async fn error_codes(response: reqwest::Response) -> (StatusCode, Vec<String>, Value) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let codes = body["error"]["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| error["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (status, codes, body)
}

/// The `source.parameter` of every error.
pub(crate) fn parameters(body: &Value) -> Vec<String> {
    body["error"]["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| {
                    error["source"]["parameter"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Signs in `username` on the consent page and returns the authorization code.
pub(crate) async fn authorization_code(harness: &Harness, username: &str) -> String {
    let response = harness
        .http
        .post(harness.url("/oauth2/v3/authorize"))
        .form(&[
            ("client_id", demo::CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
            ("response_type", "code"),
            ("state", "xyz"),
            ("username", username),
            ("password", demo::PASSWORD),
            ("consent", "yes"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(key, _)| key == "code")
        .map(|(_, value)| value.into_owned())
        .unwrap()
}

/// Tokens (access, refresh) from the authorization-code grant for `username`.
pub(crate) async fn user_tokens(harness: &Harness, username: &str) -> (String, String) {
    let code = authorization_code(harness, username).await;
    let response = harness
        .token_request(json!({
            "grant_type": "authorization_code",
            "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET,
            "code": code,
            "redirect_uri": demo::REDIRECT_URI,
        }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}
