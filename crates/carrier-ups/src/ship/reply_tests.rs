//! Reading Ship replies.

use base64::Engine;
use carrier::ErrorKind;
use serde_json::{Value, json};

use super::*;
use crate::label::tests::sample_gif;

/// A `ShipmentResponse` as Shipping.yaml describes it, with `label` as the GIF.
pub(crate) fn ship_reply(tracking: &str, label: &[u8]) -> Value {
    json!({
        "ShipmentResponse": {
            "Response": {
                "ResponseStatus": {"Code": "1", "Description": "Success"},
                "Alert": [{"Code": "120900", "Description": "User Id and Shipper Number combination is not qualified to receive negotiated rates"}],
                "TransactionReference": {"CustomerContext": "order-1001-return"}
            },
            "ShipmentResults": {
                "ShipmentCharges": {
                    "TransportationCharges": {"CurrencyCode": "USD", "MonetaryValue": "12.05"},
                    "ServiceOptionsCharges": {"CurrencyCode": "USD", "MonetaryValue": "1.50"},
                    "TotalCharges": {"CurrencyCode": "USD", "MonetaryValue": "13.55"}
                },
                "BillingWeight": {"UnitOfMeasurement": {"Code": "LBS"}, "Weight": "2.0"},
                "ShipmentIdentificationNumber": tracking,
                "PackageResults": [{
                    "TrackingNumber": tracking,
                    "ShippingLabel": {
                        "ImageFormat": {"Code": "GIF", "Description": "GIF"},
                        "GraphicImage": base64::engine::general_purpose::STANDARD.encode(label)
                    }
                }]
            }
        }
    })
}

fn parse_value(value: &Value, expect_label: bool) -> Result<ShipReply, Error> {
    parse(&serde_json::to_vec(value).unwrap(), expect_label)
}

fn kind(error: Error) -> ErrorKind {
    carrier::CarrierError::from(error).kind()
}

#[test]
fn a_reply_gives_the_tracking_number_the_shipment_id_the_charges_and_the_label() {
    let gif = sample_gif(8, 8);
    let reply = parse_value(&ship_reply("1Z999AA10123456784", &gif), true).unwrap();
    assert_eq!(reply.tracking_number.as_str(), "1Z999AA10123456784");
    assert_eq!(reply.shipment_id, "1Z999AA10123456784");
    assert_eq!(reply.charges.postage(), Money::usd_cents(1205));
    assert_eq!(
        reply.charges.fees(),
        [carrier::Fee::new(
            Some("ServiceOptionsCharges"),
            Some("Service options"),
            Money::usd_cents(150)
        )]
    );
    assert_eq!(reply.charges.total(), Money::usd_cents(1355));
    assert_eq!(reply.charges_warning, None);
    let label = reply.label.unwrap();
    assert_eq!(label.kind, ImageKind::Gif);
    assert_eq!(label.bytes, gif);
    assert_eq!(reply.alerts[0].0, "120900");
}

#[test]
fn a_single_package_object_is_read_like_an_array() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    let results = &mut value["ShipmentResponse"]["ShipmentResults"];
    results["PackageResults"] = results["PackageResults"][0].clone();
    assert!(parse_value(&value, true).is_ok());
}

#[test]
fn a_tracking_number_with_a_bad_check_digit_is_an_unknown_outcome() {
    let value = ship_reply("1Z999AA10123456785", &sample_gif(2, 2));
    assert_eq!(
        kind(parse_value(&value, true).unwrap_err()),
        ErrorKind::OutcomeUnknown
    );
}

#[test]
fn every_missing_or_broken_part_is_an_unknown_outcome_never_a_panic() {
    let base = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    let mut cases: Vec<Value> = Vec::new();
    for pointer in [
        "/ShipmentResponse/ShipmentResults/ShipmentIdentificationNumber",
        "/ShipmentResponse/ShipmentResults/ShipmentCharges",
        "/ShipmentResponse/ShipmentResults/ShipmentCharges/TotalCharges",
        "/ShipmentResponse/ShipmentResults/PackageResults",
        "/ShipmentResponse/ShipmentResults/PackageResults/0/ShippingLabel",
    ] {
        let mut value = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match value.pointer_mut(parent).unwrap() {
            Value::Object(map) => {
                map.remove(key);
            }
            Value::Array(items) => {
                items.clear();
            }
            _ => unreachable!(),
        }
        cases.push(value);
    }
    let mut edits: Vec<(&str, Value)> = vec![
        ("/ShipmentResponse/Response/ResponseStatus/Code", json!("0")),
        (
            "/ShipmentResponse/ShipmentResults/ShipmentCharges/TotalCharges/MonetaryValue",
            json!("12.345"),
        ),
        (
            "/ShipmentResponse/ShipmentResults/ShipmentCharges/TotalCharges/CurrencyCode",
            json!("US$"),
        ),
        (
            "/ShipmentResponse/ShipmentResults/PackageResults/0/ShippingLabel/GraphicImage",
            json!("%%% not base64"),
        ),
        (
            "/ShipmentResponse/ShipmentResults/PackageResults/0/ShippingLabel/GraphicImage",
            json!(base64::engine::general_purpose::STANDARD.encode(b"not a gif")),
        ),
        (
            "/ShipmentResponse/ShipmentResults/PackageResults/0/ShippingLabel/ImageFormat/Code",
            json!("EPL"),
        ),
        (
            "/ShipmentResponse/ShipmentResults/ShipmentIdentificationNumber",
            json!("SHIP-1"),
        ),
    ];
    for (pointer, replacement) in edits.drain(..) {
        let mut value = base.clone();
        *value.pointer_mut(pointer).unwrap() = replacement;
        cases.push(value);
    }
    for value in &cases {
        let error = parse_value(value, true).unwrap_err();
        assert_eq!(kind(error), ErrorKind::OutcomeUnknown, "{value}");
    }
    for body in [&b""[..], b"{", b"null", b"[]", b"{\"ShipmentResponse\": 1}"] {
        assert_eq!(
            kind(parse(body, true).unwrap_err()),
            ErrorKind::OutcomeUnknown
        );
    }
}

#[test]
fn an_emailed_label_may_come_without_an_image() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    value["ShipmentResponse"]["ShipmentResults"]["PackageResults"][0]
        .as_object_mut()
        .unwrap()
        .remove("ShippingLabel");
    assert!(parse_value(&value, false).unwrap().label.is_none());
}

#[test]
fn charges_in_another_currency_keep_it() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    for name in [
        "TransportationCharges",
        "ServiceOptionsCharges",
        "TotalCharges",
    ] {
        value["ShipmentResponse"]["ShipmentResults"]["ShipmentCharges"][name]["CurrencyCode"] =
            json!("CAD");
    }
    let reply = parse_value(&value, true).unwrap();
    assert_eq!(reply.charges.total().currency(), carrier::Currency::CAD);
}

fn set_charge(value: &mut Value, name: &str, amount: &str) {
    value["ShipmentResponse"]["ShipmentResults"]["ShipmentCharges"][name]["MonetaryValue"] =
        json!(amount);
}

#[test]
fn zero_service_option_charges_are_no_fee() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    set_charge(&mut value, "ServiceOptionsCharges", "0.00");
    set_charge(&mut value, "TotalCharges", "12.05");
    let reply = parse_value(&value, true).unwrap();
    assert!(reply.charges.fees().is_empty());
    assert_eq!(reply.charges.total(), Money::usd_cents(1205));
    assert_eq!(reply.charges_warning, None);
}

#[test]
fn a_total_that_is_not_the_sum_is_ups_s_with_a_warning() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    set_charge(&mut value, "TotalCharges", "14.00");
    let reply = parse_value(&value, true).unwrap();
    assert_eq!(reply.charges.total(), Money::usd_cents(1400));
    let warning = reply.charges_warning.unwrap();
    assert_eq!(warning.code, "charges_do_not_add_up");
    assert!(warning.message.contains("13.55 USD"), "{}", warning.message);
}

#[test]
fn charges_in_two_currencies_are_an_unknown_outcome() {
    let mut value = ship_reply("1Z999AA10123456784", &sample_gif(2, 2));
    value["ShipmentResponse"]["ShipmentResults"]["ShipmentCharges"]["TotalCharges"]["CurrencyCode"] =
        json!("EUR");
    assert_eq!(
        kind(parse_value(&value, true).unwrap_err()),
        ErrorKind::OutcomeUnknown
    );
}
