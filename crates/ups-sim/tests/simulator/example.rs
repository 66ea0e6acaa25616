//! Shipping.yaml's own example requests. None of them conforms to the file's own schema (they
//! carry placeholders such as `"ShipperNumber": " "` under a 6-character minimum, fields the
//! schema does not declare such as `ShipTo.Residential`, and omit required ones such as
//! `LabelStockSize`), so the strict validator refuses each one verbatim, naming the field; the
//! standard example with exactly those contradictions fixed is accepted.

use reqwest::StatusCode;
use serde_json::{Value, json};
use ups_sim::demo;

use crate::common::Harness;

fn examples() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/Shipping.yaml"))
        .unwrap();
    let spec: Value = serde_norway::from_str(&text).unwrap();
    let examples = &spec["paths"]["/shipments/{version}/ship"]["post"]["requestBody"]["content"]["application/json"]
        ["examples"];
    examples
        .as_object()
        .unwrap()
        .values()
        .map(|example| {
            (
                example["summary"].as_str().unwrap().to_owned(),
                example["value"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_spec_example_is_refused_verbatim_by_its_own_schema() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let examples = examples();
    assert_eq!(examples.len(), 17);
    for (summary, body) in &examples {
        let answer = harness.ship(&token, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{summary}");
        assert_eq!(answer.code(), "10002", "{summary}: {}", answer.messages());
    }
    let standard = harness.ship(&token, &examples[0].1).await.messages();
    for field in ["Shipper.ShipperNumber", "Residential", "LabelStockSize"] {
        assert!(standard.contains(field), "{field} in {standard}");
    }
    assert!(harness.simulator().ledger().is_empty());
}

#[tokio::test]
async fn the_standard_example_with_its_contradictions_fixed_is_accepted() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let (summary, mut body) = examples().remove(0);
    assert_eq!(summary, "Shipping Request(Standard Example)");
    let request = &mut body["ShipmentRequest"];
    request["Request"]["TransactionReference"]["CustomerContext"] = json!("example");
    let shipment = &mut request["Shipment"];
    shipment["Shipper"]["ShipperNumber"] = json!(demo::SHIPPER_NUMBER);
    shipment["PaymentInformation"]["ShipmentCharge"]["BillShipper"]["AccountNumber"] =
        json!(demo::SHIPPER_NUMBER);
    shipment["ShipTo"]
        .as_object_mut()
        .unwrap()
        .remove("Residential");
    request["LabelSpecification"]["LabelStockSize"] = json!({"Height": "6", "Width": "4"});
    let answer = harness.ship(&token, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.messages());
    assert_eq!(harness.simulator().ledger()[0].return_service, None);
}
