use carrier::{AccountContext, Credentials, ReturnLabelInput};
use serde_json::{Value, json};

use super::*;
use crate::account::FedexAccount;

const SHIP: &str = "/components/schemas/Full_Schema_Ship";
const CANCEL: &str = "/components/schemas/Full_Schema_Cancel_Shipment";

pub(crate) fn account() -> FedexAccount {
    let details = crate::account::Profile::parse(
        json!({
            "account_number": "123456789",
            "customer_name": "Acme Returns",
            "billing_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
        })
        .as_object()
        .unwrap(),
    )
    .unwrap()
    .to_details();
    let credentials = Credentials::new("own_app")
        .with_public("client_id", "key")
        .with_secret("client_secret", secrecy::SecretString::from("s"));
    FedexAccount::from_context(&AccountContext {
        id: "sa_test",
        details: &details,
        credentials: &credentials,
    })
    .unwrap()
}

fn request(changes: Value) -> ReturnLabelRequest {
    let mut input = json!({
        "service": "fedex_ground_return",
        "from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118", "phone": "212-555-0188"},
        "parcel": {"weight_oz": 24, "length_in": 10, "width_in": 7.5, "height_in": 4},
        "reference": "RMA-1001",
    });
    for (key, value) in changes.as_object().unwrap() {
        input[key] = value.clone();
    }
    let input: ReturnLabelInput = serde_json::from_value(input).unwrap();
    ReturnLabelRequest::parse(&input).unwrap()
}

fn body(prepared: &PreparedShipment) -> Value {
    serde_json::from_slice(&prepared.body).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

#[test]
fn every_service_and_format_builds_a_request_the_ship_schema_accepts() {
    let validator = crate::spec::validator("Shipment-Resource.json", SHIP);
    for service in SERVICES {
        for format in ["PDF", "PNG", "ZPL"] {
            let prepared = prepare(
                &account(),
                &request(json!({"service": service.info.code, "label_format": format})),
                today(),
            )
            .unwrap();
            let body = body(&prepared);
            crate::spec::assert_valid(&validator, &body);
            assert_eq!(
                body["requestedShipment"]["serviceType"],
                service.service_type
            );
        }
    }
}

#[test]
fn a_printed_return_is_a_print_return_label_with_the_reference_as_rma() {
    let body = body(
        &prepare(
            &account(),
            &request(json!({"label_format": "ZPL"})),
            today(),
        )
        .unwrap(),
    );
    let shipment = &body["requestedShipment"];
    assert_eq!(body["labelResponseOptions"], "LABEL");
    assert_eq!(body["accountNumber"]["value"], "123456789");
    assert_eq!(
        shipment["shipmentSpecialServices"]["specialServiceTypes"],
        json!(["RETURN_SHIPMENT"])
    );
    let detail = &shipment["shipmentSpecialServices"]["returnShipmentDetail"];
    assert_eq!(detail["returnType"], "PRINT_RETURN_LABEL");
    assert_eq!(detail["rma"]["reason"], "RMA-1001");
    assert_eq!(shipment["labelSpecification"]["imageType"], "ZPLII");
    assert_eq!(shipment["shipper"]["contact"]["phoneNumber"], "2125550188");
    assert_eq!(shipment["shipper"]["address"]["city"], "New York");
    assert_eq!(shipment["recipients"][0]["address"]["postalCode"], "63118");
    assert_eq!(shipment["shipDatestamp"], "2026-12-01");
    assert_eq!(
        shipment["requestedPackageLineItems"][0]["weight"],
        json!({"units": "LB", "value": 1.5})
    );
    assert_eq!(
        shipment["requestedPackageLineItems"][0]["dimensions"]["width"],
        8
    );
    assert!(
        shipment["shipmentSpecialServices"]
            .get("pendingShipmentDetail")
            .is_none()
    );
}

#[test]
fn an_emailed_return_is_a_pending_email_shipment_that_expires_after_the_accounts_days() {
    let validator = crate::spec::validator("Shipment-Resource.json", SHIP);
    let prepared = prepare(
        &account(),
        &request(
            json!({"label_delivery": "email", "notify": {"recipient_email": "jane@example.com"}}),
        ),
        today(),
    )
    .unwrap();
    assert!(prepared.emailed);
    let body = body(&prepared);
    crate::spec::assert_valid(&validator, &body);
    let services = &body["requestedShipment"]["shipmentSpecialServices"];
    assert_eq!(services["returnShipmentDetail"]["returnType"], "PENDING");
    assert_eq!(
        services["returnShipmentDetail"]["returnEmailDetail"]["merchantPhoneNumber"],
        "3145550100"
    );
    let pending = &services["pendingShipmentDetail"];
    assert_eq!(pending["pendingShipmentType"], "EMAIL");
    assert_eq!(pending["expirationTimeStamp"], "2026-12-15");
    assert_eq!(
        pending["emailLabelDetail"]["recipients"][0]["emailAddress"],
        "jane@example.com"
    );
    assert_eq!(
        pending["emailLabelDetail"]["recipients"][0]["role"],
        "SHIPMENT_COMPLETOR"
    );
    assert_eq!(
        body["requestedShipment"]["requestedPackageLineItems"][0]["itemDescription"],
        "RMA-1001"
    );
}

#[test]
fn the_validator_bites_on_a_misspelled_or_missing_field() {
    let validator = crate::spec::validator("Shipment-Resource.json", SHIP);
    let mut body = body(&prepare(&account(), &request(json!({})), today()).unwrap());
    body["requestedShipment"]["shipDateStamp"] = json!("2026-12-01");
    assert!(!validator.is_valid(&body));
    body["requestedShipment"]
        .as_object_mut()
        .unwrap()
        .remove("shipDateStamp");
    body["requestedShipment"]
        .as_object_mut()
        .unwrap()
        .remove("pickupType");
    assert!(!validator.is_valid(&body));
}

#[test]
fn what_fedex_would_refuse_is_refused_by_our_field() {
    let cases = [
        (
            json!({"from_address": {"first_name": "Jane", "last_name": "Doe", "street1": "350 5th Ave", "city": "New York", "state": "NY", "zip5": "10118"}}),
            "from_address.phone",
        ),
        (json!({"parcel": {"weight_oz": 2401}}), "parcel.weight_oz"),
        (
            json!({"parcel": {"weight_oz": 20, "length_in": 1000, "width_in": 1, "height_in": 1}}),
            "parcel.length_in",
        ),
        (json!({"service": "fedex_smart_post_return"}), "service"),
        (json!({"label_format": "GIF"}), "label_format"),
        (
            json!({"from_address": {"firm": "Acme", "street1": "1 Main St", "city": "Toronto", "state": "ON", "postal_code": "M5V 2T6", "country": "CA", "phone": "4165550100"}}),
            "from_address.country",
        ),
    ];
    for (changes, field) in cases {
        let errors = prepare(&account(), &request(changes.clone()), today()).unwrap_err();
        assert!(errors.names(field), "{changes}: {errors}");
    }
}

#[test]
fn cancel_requests_match_the_cancel_schema() {
    let validator = crate::spec::validator("Shipment-Resource.json", CANCEL);
    for emailed in [false, true] {
        let body = serde_json::to_value(crate::ship::cancel::CancelRequest::new(
            "123456789",
            "794953555571",
            emailed,
        ))
        .unwrap();
        crate::spec::assert_valid(&validator, &body);
        assert_eq!(body["emailShipment"], emailed);
        assert_eq!(body["deletionControl"], "DELETE_ALL_PACKAGES");
    }
}
