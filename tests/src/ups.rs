//! UPS in the end-to-end tests: the demo shipper's account with its own app, UPS label
//! requests, the UPS simulator's books, and "Login with UPS" as the merchant's browser goes
//! through it — connect, ups-sim's consent page filled in and submitted as a browser submits
//! it, the callback, the details that make the account active.

use reqwest::Url;
use serde_json::{Value, json};
use ups_sim::{LedgerEntry, demo};

use crate::{TestApp, hidden_fields, merge};

/// UPS Ground return, the service the UPS tests buy.
pub const GROUND: &str = "ups_ground_return";

/// The demo shipper's US return address (where UPS return labels send the parcel).
pub fn return_address() -> Value {
    json!({
        "firm": demo::ACCOUNT_NAME,
        "street1": "1100 Wyoming St",
        "city": "Saint Louis",
        "state": "MO",
        "zip5": "63118",
        "phone": "3145550100",
    })
}

/// A `POST /v1/shipper-accounts` body for the demo UPS shipper with its own app (the
/// simulator's demo client, which may ship for [`demo::SHIPPER_NUMBER`]).
pub fn own_app_account(name: &str) -> Value {
    json!({
        "carrier": "ups",
        "name": name,
        "details": {
            "account_number": demo::SHIPPER_NUMBER,
            "return_address": return_address(),
        },
        "credentials": {
            "mode": "own_app",
            "client_id": demo::CLIENT_ID,
            "client_secret": demo::CLIENT_SECRET,
        },
    })
}

/// The details a Login-with-UPS account lacks until the merchant PATCHes them.
pub fn details() -> Value {
    json!({"details": {"account_number": demo::SHIPPER_NUMBER, "return_address": return_address()}})
}

/// A `POST /v1/return-labels` body for a UPS Ground return from a US customer (the carrier
/// left out: the service code names it).
pub fn label_request() -> Value {
    crate::label_request(GROUND)
}

/// [`label_request`] with `shipper_account_id` set to `account`'s id.
pub fn label_request_for(account: &Value) -> Value {
    let mut body = label_request();
    body["shipper_account_id"] = account["id"].clone();
    body
}

impl TestApp {
    /// Creates the demo UPS own-app account (with `extra` merged into the body); returns its
    /// JSON.
    pub async fn create_ups_account(&self, key: &str, name: &str, extra: Value) -> Value {
        let mut body = own_app_account(name);
        merge(&mut body, extra);
        let response = self.post(key, "/v1/shipper-accounts", &body).await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "creating {name}: {answer}");
        answer
    }

    /// Every shipment the UPS simulator issued, oldest first.
    pub fn ups_ledger(&self) -> Vec<LedgerEntry> {
        self.ups.simulator.ledger()
    }

    /// How many requests the UPS simulator's `route` (see [`ups_sim::route`]) received.
    pub fn ups_calls(&self, route: &str) -> u64 {
        self.ups.simulator.counters().route(route).calls
    }

    /// The admin's view of the audit events with `action`, newest first.
    pub async fn audit_events(&self, action: &str) -> Vec<Value> {
        let response = self
            .get(
                &self.admin_key,
                &format!("/v1/admin/audit-events?action={action}"),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["data"].as_array().unwrap().clone()
    }

    /// `POST /v1/shipper-accounts/ups/connect` with the tenant's key; returns the answer
    /// (`authorize_url`, `expires_at`).
    pub async fn connect_ups(&self, name: &str) -> Value {
        self.connect_ups_as(&self.tenant_key, name).await
    }

    /// [`TestApp::connect_ups`] with another tenant's `key`.
    pub async fn connect_ups_as(&self, key: &str, name: &str) -> Value {
        let response = self
            .post(
                key,
                "/v1/shipper-accounts/ups/connect",
                &json!({"name": name}),
            )
            .await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "connecting {name} with UPS: {answer}");
        answer
    }

    /// Opens `authorize_url` (ups-sim's "Login with UPS" page) and submits its form as a
    /// browser does: the hidden fields as served, the demo merchant's login name and password,
    /// and the button `decision` (`approve` or `decline`), posted to the form's action resolved
    /// against the page's URL. Returns where UPS redirects the browser: our callback.
    pub async fn consent_ups(&self, authorize_url: &str, decision: &str) -> String {
        let page = self.client.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the consent page is served");
        let page = page.text().await.unwrap();
        let mut form = hidden_fields(&page);
        for name in ["state", "code_challenge"] {
            assert!(
                form.iter().any(|(field, _)| field == name),
                "the consent page carries our {name}: {page}"
            );
        }
        let action = page
            .split("<form method=\"post\" action=\"")
            .nth(1)
            .and_then(|rest| rest.split_once('"'))
            .map(|(action, _)| action)
            .expect("the consent page has a form");
        let action = Url::parse(authorize_url).unwrap().join(action).unwrap();
        form.push(("username".into(), demo::USERNAME.into()));
        form.push(("password".into(), demo::PASSWORD.into()));
        form.push(("decision".into(), decision.into()));
        let response = self.client.post(action).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 302, "the consent form redirects");
        response.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Connect and approve as the tenant: the callback URL UPS sent the browser to.
    pub async fn approved_ups_callback(&self, name: &str) -> String {
        let connect = self.connect_ups(name).await;
        self.consent_ups(connect["authorize_url"].as_str().unwrap(), "approve")
            .await
    }

    /// A Login-with-UPS account of the tenant, `pending_details` (connected, approved, back
    /// at the callback).
    pub async fn connected_ups_account(&self, name: &str) -> Value {
        let callback = self.approved_ups_callback(name).await;
        let (status, page) = self.callback(&callback).await;
        assert_eq!(status, 200, "{page}");
        let listed: Value = self
            .get(&self.tenant_key, "/v1/shipper-accounts")
            .await
            .json()
            .await
            .unwrap();
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|account| account["name"] == name)
            .cloned()
            .expect("the callback created the account")
    }

    /// PATCHes [`details`] onto the tenant's account `id`; returns the account, `active`.
    pub async fn complete_ups_details(&self, id: &str) -> Value {
        let response = self
            .patch(
                &self.tenant_key,
                &format!("/v1/shipper-accounts/{id}"),
                &details(),
            )
            .await;
        let status = response.status();
        let account: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{account}");
        assert_eq!(account["status"], "active", "{account}");
        account
    }

    /// A Login-with-UPS account of the tenant with its details complete: `active`.
    pub async fn active_ups_platform_account(&self, name: &str) -> Value {
        let pending = self.connected_ups_account(name).await;
        self.complete_ups_details(pending["id"].as_str().unwrap())
            .await
    }
}
