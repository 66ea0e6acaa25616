//! Ship: valid returns accepted in the spec's answer shape; the schema validator and each
//! prose rule refuse what UPS would.

use reqwest::StatusCode;
use serde_json::{Value, json};
use ups_sim::shipping::schema::violations;
use ups_sim::{demo, is_valid_1z};

use crate::common::{
    Answer, Harness, electronic_return_request, label_bytes, print_return_request, tracking_number,
};

async fn refused(request: &Value) -> Answer {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.ship(&token, request).await;
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{}",
        answer.messages()
    );
    assert!(harness.simulator().ledger().is_empty());
    answer
}

fn shipment(request: &mut Value) -> &mut Value {
    &mut request["ShipmentRequest"]["Shipment"]
}

#[tokio::test]
async fn a_print_return_label_is_issued_in_the_specs_answer_shape() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.ship(&token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        violations("SHIPResponseWrapper", &answer.body).unwrap(),
        Vec::<String>::new()
    );
    let response = &answer.body["ShipmentResponse"];
    assert_eq!(response["Response"]["ResponseStatus"]["Code"], "1");
    assert_eq!(
        response["Response"]["TransactionReference"]["CustomerContext"],
        "RMA-1001"
    );
    let results = &response["ShipmentResults"];
    let number = tracking_number(&answer);
    assert!(is_valid_1z(&number), "{number}");
    assert!(number.starts_with("1ZA1B2C303"));
    assert_eq!(results["ShipmentIdentificationNumber"], number.as_str());
    assert_eq!(
        results["ShipmentCharges"]["TotalCharges"]["CurrencyCode"],
        "USD"
    );
    assert_eq!(
        results["ShipmentCharges"]["TotalCharges"]["MonetaryValue"],
        "11.00"
    );
    assert_eq!(results["BillingWeight"]["Weight"], "000003.0");
    assert_eq!(
        results["PackageResults"][0]["ShippingLabel"]["ImageFormat"]["Code"],
        "GIF"
    );
    assert_eq!(&label_bytes(&answer)[..6], b"GIF89a");
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].tracking_numbers, vec![number]);
    assert_eq!(ledger[0].return_service.as_deref(), Some("9"));
    assert_eq!(ledger[0].total_charges_cents, 1100);
    let over_http: Value = harness
        .http
        .get(harness.url("/__sim/ledger"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http[0]["shipper_number"], demo::SHIPPER_NUMBER);
    let counters: Value = harness
        .http
        .get(harness.url("/__sim/counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["routes"]["ship"]["ok"], 1);
    assert_eq!(counters["routes"]["token"]["ok"], 1);
    assert_eq!(counters["token_grants"]["client_credentials"]["calls"], 1);
}

#[tokio::test]
async fn an_electronic_return_label_is_accepted_without_an_image() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.ship(&token, &electronic_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        violations("SHIPResponseWrapper", &answer.body).unwrap(),
        Vec::<String>::new()
    );
    let package = &answer.body["ShipmentResponse"]["ShipmentResults"]["PackageResults"][0];
    assert!(package.get("ShippingLabel").is_none());
    assert!(is_valid_1z(package["TrackingNumber"].as_str().unwrap()));
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger[0].return_service.as_deref(), Some("8"));
    assert_eq!(ledger[0].label_format, None);
}

/// The shipment's charges are its packages' together, and the total is the transportation plus
/// the service options: an Electronic Return Label's accessorial, none for a printed one.
#[tokio::test]
async fn the_charges_add_up_from_the_packages_to_the_total() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let cents = |charge: &Value| {
        assert_eq!(charge["CurrencyCode"], "USD");
        let text = charge["MonetaryValue"].as_str().unwrap().replace('.', "");
        text.parse::<u64>().unwrap()
    };
    for (request, options) in [
        (print_return_request(), 0),
        (electronic_return_request(), 150),
    ] {
        let answer = harness.ship(&token, &request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let results = &answer.body["ShipmentResponse"]["ShipmentResults"];
        let shipment = &results["ShipmentCharges"];
        let package = &results["PackageResults"][0];
        let transportation = cents(&shipment["TransportationCharges"]);
        assert_eq!(cents(&shipment["BaseServiceCharge"]), transportation);
        assert_eq!(cents(&package["BaseServiceCharge"]), transportation);
        assert_eq!(cents(&shipment["ServiceOptionsCharges"]), options);
        assert_eq!(cents(&package["ServiceOptionsCharges"]), options);
        assert_eq!(cents(&shipment["TotalCharges"]), transportation + options);
        let ledger = harness.simulator().ledger();
        assert_eq!(
            ledger.last().unwrap().total_charges_cents,
            transportation + options
        );
    }
}

#[tokio::test]
async fn a_zpl_label_is_a_zpl_document_with_the_barcode() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let mut request = print_return_request();
    request["ShipmentRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"] = json!("ZPL");
    let answer = harness.ship(&token, &request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let zpl = String::from_utf8(label_bytes(&answer)).unwrap();
    assert!(zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"));
    assert!(zpl.contains(&format!("^FD{}^FS", tracking_number(&answer))));
}

#[tokio::test]
async fn an_unknown_field_is_refused_by_name() {
    let mut request = print_return_request();
    shipment(&mut request)["Colour"] = json!("brown");
    let answer = refused(&request).await;
    assert_eq!(answer.code(), "10002");
    assert!(
        answer.messages().contains("ShipmentRequest.Shipment"),
        "{}",
        answer.messages()
    );
    assert!(
        answer.messages().contains("Colour"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn a_missing_required_field_is_refused_by_name() {
    let mut request = print_return_request();
    shipment(&mut request)["Shipper"]
        .as_object_mut()
        .unwrap()
        .remove("Name");
    let answer = refused(&request).await;
    assert_eq!(answer.code(), "10002");
    assert!(
        answer
            .messages()
            .contains("ShipmentRequest.Shipment.Shipper")
    );
    assert!(
        answer
            .messages()
            .contains("\"Name\" is a required property"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn a_value_outside_an_enum_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["WorldEase"] = json!({
        "DestinationCountryCode": "FR",
        "DestinationPostalCode": "30005",
        "GCCN": "123X56GPFWZ",
        "MasterEUConsolidationIndicator": "0",
        "MasterHasDocBox": "0",
        "MasterShipmentChgType": "XXX"
    });
    let answer = refused(&request).await;
    assert!(
        answer
            .messages()
            .contains("WorldEase.MasterShipmentChgType"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn an_over_long_string_and_too_many_address_lines_are_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["ShipTo"]["Name"] = json!("N".repeat(36));
    shipment(&mut request)["ShipFrom"]["Address"]["AddressLine"] = json!(["1", "2", "3", "4"]);
    let answer = refused(&request).await;
    let messages = answer.messages();
    assert!(
        messages.contains("ShipmentRequest.Shipment.ShipTo.Name"),
        "{messages}"
    );
    assert!(
        messages.contains("ShipFrom.Address.AddressLine"),
        "{messages}"
    );
}

#[tokio::test]
async fn a_number_where_the_spec_says_string_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["Service"]["Code"] = json!(3);
    let answer = refused(&request).await;
    assert!(
        answer.messages().contains("Service.Code"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn a_return_without_ship_from_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)
        .as_object_mut()
        .unwrap()
        .remove("ShipFrom");
    let answer = refused(&request).await;
    assert_eq!(answer.code(), "120500");
    assert!(answer.messages().contains("ShipFrom is required"));
}

#[tokio::test]
async fn a_return_package_without_description_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["Package"][0]
        .as_object_mut()
        .unwrap()
        .remove("Description");
    let answer = refused(&request).await;
    assert!(
        answer
            .messages()
            .contains("Package[0].Description is required")
    );
}

#[tokio::test]
async fn bill_receiver_for_a_returns_transportation_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["PaymentInformation"]["ShipmentCharge"] =
        json!([{"Type": "01", "BillReceiver": {"AccountNumber": demo::SHIPPER_NUMBER}}]);
    let answer = refused(&request).await;
    assert!(
        answer.messages().contains("BillReceiver is invalid"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn an_electronic_return_label_without_label_delivery_is_refused() {
    let mut request = electronic_return_request();
    shipment(&mut request)
        .as_object_mut()
        .unwrap()
        .remove("ShipmentServiceOptions");
    let answer = refused(&request).await;
    assert!(
        answer.messages().contains("LabelDelivery"),
        "{}",
        answer.messages()
    );
}

#[tokio::test]
async fn a_us_origin_return_with_two_packages_is_refused() {
    let mut request = print_return_request();
    let package = shipment(&mut request)["Package"][0].clone();
    shipment(&mut request)["Package"] = json!([package.clone(), package]);
    let answer = refused(&request).await;
    assert!(answer.messages().contains("only one package"));
}

#[tokio::test]
async fn another_users_shipper_number_is_refused() {
    let harness = Harness::start().await;
    let tokens = harness.user_tokens(demo::USERNAME).await;
    let mut request = print_return_request();
    shipment(&mut request)["Shipper"]["ShipperNumber"] = json!(demo::OTHER_SHIPPER_NUMBER);
    let answer = harness
        .ship(tokens["access_token"].as_str().unwrap(), &request)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "120100");
    assert!(harness.simulator().ledger().is_empty());
}

#[tokio::test]
async fn an_unconfigured_shipper_number_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["Shipper"]["ShipperNumber"] = json!("Z0Z0Z0");
    assert_eq!(refused(&request).await.code(), "120100");
}

#[tokio::test]
async fn billing_an_account_the_token_may_not_use_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["PaymentInformation"]["ShipmentCharge"][0]["BillShipper"]["AccountNumber"] =
        json!(demo::OTHER_SHIPPER_NUMBER);
    assert_eq!(refused(&request).await.code(), "120100");
}

#[tokio::test]
async fn return_services_2_3_and_5_are_refused_as_not_simulated() {
    for code in ["2", "3", "5"] {
        let mut request = print_return_request();
        shipment(&mut request)["ReturnService"]["Code"] = json!(code);
        let answer = refused(&request).await;
        assert_eq!(answer.code(), "9999001", "{code}");
        assert!(answer.messages().contains("not simulated"));
    }
    let mut request = print_return_request();
    shipment(&mut request)["ReturnService"]["Code"] = json!("7");
    assert_eq!(refused(&request).await.code(), "120500");
}

#[tokio::test]
async fn png_is_refused_as_the_spec_says_and_epl_is_not_simulated() {
    let mut request = print_return_request();
    request["ShipmentRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"] = json!("PNG");
    assert!(
        refused(&request)
            .await
            .messages()
            .contains("valid values: GIF, ZPL, EPL, SPL")
    );
    request["ShipmentRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"] = json!("EPL");
    assert_eq!(refused(&request).await.code(), "9999001");
}

#[tokio::test]
async fn a_service_unavailable_to_returns_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["Service"]["Code"] = json!("13");
    assert!(
        refused(&request)
            .await
            .messages()
            .contains("not available to return")
    );
}

#[tokio::test]
async fn requests_without_a_token_or_json_or_a_known_version_are_refused() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let no_token = harness
        .http
        .post(harness.url("/api/shipments/v2409/ship"))
        .json(&print_return_request())
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    let text = harness
        .http
        .post(harness.url("/api/shipments/v2409/ship"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let broken = harness
        .http
        .post(harness.url("/api/shipments/v2409/ship"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"ShipmentRequest\":")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    for (version, code) in [("v1", "9999001"), ("v9999", "10003")] {
        let response = harness
            .http
            .post(harness.url(&format!("/api/shipments/{version}/ship")))
            .bearer_auth(&token)
            .json(&print_return_request())
            .send()
            .await
            .unwrap();
        let answer = crate::common::answer(response).await;
        assert_eq!(answer.code(), code, "{version}");
    }
    let long_trans_id = harness
        .http
        .post(harness.url("/api/shipments/v2409/ship"))
        .bearer_auth(&token)
        .header("transId", "x".repeat(33))
        .json(&print_return_request())
        .send()
        .await
        .unwrap();
    assert_eq!(long_trans_id.status(), StatusCode::BAD_REQUEST);
    assert!(harness.simulator().ledger().is_empty());
}

#[tokio::test]
async fn a_single_package_object_is_read_as_a_one_element_list() {
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let mut request = print_return_request();
    let package = shipment(&mut request)["Package"][0].clone();
    shipment(&mut request)["Package"] = package;
    shipment(&mut request)["ShipFrom"]["Address"]["AddressLine"] = json!("30 Montgomery St");
    let answer = harness.ship(&token, &request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn a_shipment_date_more_than_seven_days_ahead_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["ShipmentDate"] = json!("20990101");
    assert!(refused(&request).await.messages().contains("ShipmentDate"));
}

#[tokio::test]
async fn a_print_return_label_without_label_specification_is_refused() {
    let mut request = print_return_request();
    request["ShipmentRequest"]
        .as_object_mut()
        .unwrap()
        .remove("LabelSpecification");
    assert!(
        refused(&request)
            .await
            .messages()
            .contains("LabelSpecification is required")
    );
}

#[tokio::test]
async fn label_delivery_email_on_a_print_return_label_is_refused() {
    let mut request = print_return_request();
    shipment(&mut request)["ShipmentServiceOptions"] =
        json!({"LabelDelivery": {"EMail": {"EMailAddress": "jane@example.com"}}});
    assert!(
        refused(&request)
            .await
            .messages()
            .contains("only LabelLinksIndicator")
    );
}
