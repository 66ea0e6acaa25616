//! FedEx in the end-to-end tests: the demo business's accounts — with its own app, and
//! registered with FedEx (account number and billing address, then a PIN read from the
//! simulator's outbox or an invoice) — FedEx label requests and the FedEx simulator's books.

use fedex_sim::{LedgerEntry, SentPin, demo};
use serde_json::{Value, json};

use crate::{TestApp, merge};

/// FedEx Ground return, the service the FedEx tests buy.
pub const GROUND: &str = "fedex_ground_return";

/// The demo business's billing address at FedEx (also where its returns go).
pub fn billing_address() -> Value {
    json!({
        "firm": demo::CUSTOMER_NAME,
        "street1": demo::STREET,
        "city": demo::CITY,
        "state": demo::STATE,
        "postal_code": demo::POSTAL_CODE,
        "country": demo::COUNTRY,
        "phone": demo::PHONE,
    })
}

/// The demo business's details.
pub fn details() -> Value {
    json!({
        "account_number": demo::ACCOUNT_NUMBER,
        "customer_name": demo::CUSTOMER_NAME,
        "billing_address": billing_address(),
    })
}

/// A `POST /v1/shipper-accounts` body registering the demo business with FedEx.
pub fn registration(name: &str) -> Value {
    json!({
        "carrier": "fedex",
        "name": name,
        "details": details(),
        "credentials": {"mode": "registration"},
    })
}

/// A `POST /v1/shipper-accounts` body for the demo business with its own FedEx app.
pub fn own_app_account(name: &str) -> Value {
    json!({
        "carrier": "fedex",
        "name": name,
        "details": details(),
        "credentials": {
            "mode": "own_app",
            "client_id": demo::OWN_APP_CLIENT_ID,
            "client_secret": demo::OWN_APP_CLIENT_SECRET,
        },
    })
}

/// A `POST /v1/return-labels` body for a FedEx Ground return from a US customer (FedEx needs
/// the customer's phone).
pub fn label_request() -> Value {
    let mut body = crate::label_request(GROUND);
    body["from_address"]["phone"] = json!("3145550123");
    body
}

/// [`label_request`] with `shipper_account_id` set to `account`'s id.
pub fn label_request_for(account: &Value) -> Value {
    let mut body = label_request();
    body["shipper_account_id"] = account["id"].clone();
    body
}

/// The demo invoice, as the `choose_method` step takes it.
pub fn invoice_answer() -> Value {
    json!({
        "method": "invoice",
        "invoice_number": demo::INVOICE_NUMBER.to_string(),
        "invoice_date": demo::INVOICE_DATE,
        "invoice_amount": demo::INVOICE_AMOUNT,
        "invoice_currency": demo::INVOICE_CURRENCY,
    })
}

impl TestApp {
    /// Creates the demo FedEx own-app account (with `extra` merged into the body).
    pub async fn create_fedex_account(&self, key: &str, name: &str, extra: Value) -> Value {
        let mut body = own_app_account(name);
        merge(&mut body, extra);
        let response = self.post(key, "/v1/shipper-accounts", &body).await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "creating {name}: {answer}");
        answer
    }

    /// Starts registering the demo business with FedEx: the `pending_verification` account.
    pub async fn register_fedex(&self, key: &str, name: &str) -> Value {
        let response = self
            .post(key, "/v1/shipper-accounts", &registration(name))
            .await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "registering {name}: {answer}");
        assert_eq!(answer["status"], "pending_verification", "{answer}");
        answer
    }

    /// `POST /v1/shipper-accounts/{id}/verification` with `answer`: the status and body.
    pub async fn verify(&self, key: &str, account: &Value, answer: Value) -> (u16, Value) {
        let id = account["id"].as_str().unwrap();
        let response = self
            .post(
                key,
                &format!("/v1/shipper-accounts/{id}/verification"),
                &answer,
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Every PIN the FedEx simulator "sent", oldest first.
    pub fn fedex_pins(&self) -> Vec<SentPin> {
        self.fedex.simulator.sent_pins()
    }

    /// The last PIN the FedEx simulator "sent".
    pub fn last_fedex_pin(&self) -> String {
        self.fedex_pins()
            .last()
            .expect("a PIN was sent")
            .pin
            .clone()
    }

    /// A FedEx account registered and verified by a PIN sent by text message: `active`.
    pub async fn registered_fedex_account(&self, key: &str, name: &str) -> Value {
        let account = self.register_fedex(key, name).await;
        let (status, step) = self.verify(key, &account, json!({"method": "sms"})).await;
        assert_eq!(status, 200, "{step}");
        let pin = self.last_fedex_pin();
        let (status, active) = self.verify(key, &account, json!({"pin": pin})).await;
        assert_eq!(status, 200, "{active}");
        assert_eq!(active["status"], "active", "{active}");
        active
    }

    /// Every shipment the FedEx simulator issued, oldest first.
    pub fn fedex_ledger(&self) -> Vec<LedgerEntry> {
        self.fedex.simulator.ledger()
    }

    /// How many requests the FedEx simulator's `route` (see [`fedex_sim::route`]) received.
    pub fn fedex_calls(&self, route: &str) -> u64 {
        self.fedex.simulator.counters().route(route).calls
    }
}
