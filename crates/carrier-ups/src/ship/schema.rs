//! Every Ship request body this plugin builds, validated against Shipping.yaml's
//! `SHIPRequestWrapper` (converted and closed as `crate::spec` describes), including cases
//! proving that the validator bites.

use carrier::{ReturnLabelInput, ReturnLabelRequest};
use serde_json::{Value, json};

use crate::ship::request::tests::{account, input};

fn ship_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        crate::spec::validator(
            "Shipping.yaml",
            "/paths/~1shipments~1{version}~1ship/post/requestBody/content/application~1json/schema",
        )
    });
    &VALIDATOR
}

fn errors_of(body: &Value) -> Vec<String> {
    ship_validator()
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(body: &Value) {
    let errors = errors_of(body);
    assert!(errors.is_empty(), "{body}\n{}", errors.join("\n"));
}

fn body_of(input: &ReturnLabelInput) -> Value {
    let request = ReturnLabelRequest::parse(input)
        .unwrap_or_else(|errors| panic!("the input must parse: {errors}"));
    let prepared = super::request::prepare(&account(), &request, "order-1001-return")
        .unwrap_or_else(|errors| panic!("the request must be valid: {errors}"));
    serde_json::from_slice(&prepared.body).unwrap()
}

#[test]
fn a_print_return_label_body_matches_the_ship_schema() {
    assert_valid(&body_of(&input()));
}

#[test]
fn every_service_format_and_delivery_matches_the_ship_schema() {
    for service in [
        "ups_ground_return",
        "ups_3_day_select_return",
        "ups_2nd_day_air_return",
        "ups_next_day_air_return",
    ] {
        for format in ["PDF", "PNG", "GIF", "ZPL"] {
            for delivery in ["download", "email"] {
                let mut input = input();
                input.service = Some(service.into());
                input.label_format = Some(format.into());
                input.label_delivery = Some(delivery.into());
                assert_valid(&body_of(&input));
            }
        }
    }
}

#[test]
fn the_smallest_and_largest_accepted_parcels_match_the_ship_schema() {
    let mut small = input();
    let parcel = small.parcel.as_mut().unwrap();
    parcel.weight_oz = Some("0.1".parse().unwrap());
    parcel.length_in = None;
    parcel.width_in = None;
    parcel.height_in = None;
    assert_valid(&body_of(&small));
    let mut large = input();
    let parcel = large.parcel.as_mut().unwrap();
    parcel.weight_oz = Some("15998.4".parse().unwrap());
    parcel.length_in = Some("107.2".parse().unwrap());
    parcel.width_in = Some("14".parse().unwrap());
    parcel.height_in = Some("14".parse().unwrap());
    assert_valid(&body_of(&large));
}

#[test]
fn a_zip_plus_4_an_attention_name_a_phone_and_a_ship_date_match_the_ship_schema() {
    let mut input = input();
    let from = input.from_address.as_mut().unwrap();
    from.firm = Some("Doe Consulting LLC".into());
    from.zip4 = Some("2520".into());
    from.phone = Some("+1 (314) 555-0100".into());
    from.street2 = Some("Ste 150".into());
    input.ship_date = Some(chrono::Utc::now().date_naive());
    input.reference = Some("RMA-1001 blue sweater, size M, 2 of 3".into());
    let body = body_of(&input);
    assert_valid(&body);
    assert_eq!(
        body["ShipmentRequest"]["Shipment"]["ShipFrom"]["Address"]["PostalCode"],
        "101182520"
    );
}

#[test]
fn the_validator_refuses_an_unknown_field() {
    let mut body = body_of(&input());
    body["ShipmentRequest"]["Shipment"]["ShipFrom"]["Colour"] = json!("red");
    assert!(!errors_of(&body).is_empty());
    let mut top = body_of(&input());
    top["ShipmentRequest"]["IdempotencyKey"] = json!("k");
    assert!(!errors_of(&top).is_empty());
}

#[test]
fn the_validator_refuses_a_missing_required_field() {
    let mut body = body_of(&input());
    body["ShipmentRequest"]["Shipment"]["Shipper"]
        .as_object_mut()
        .unwrap()
        .remove("ShipperNumber");
    assert!(!errors_of(&body).is_empty());
    let mut no_code = body_of(&input());
    no_code["ShipmentRequest"]["Shipment"]["ReturnService"]
        .as_object_mut()
        .unwrap()
        .remove("Code");
    assert!(!errors_of(&no_code).is_empty());
}

#[test]
fn the_validator_refuses_values_over_the_specs_lengths() {
    let mut long_line = body_of(&input());
    long_line["ShipmentRequest"]["Shipment"]["ShipFrom"]["Address"]["AddressLine"][0] =
        json!("x".repeat(36));
    assert!(!errors_of(&long_line).is_empty());
    let mut hyphenated = body_of(&input());
    hyphenated["ShipmentRequest"]["Shipment"]["ShipTo"]["Address"]["PostalCode"] =
        json!("63118-2520");
    assert!(!errors_of(&hyphenated).is_empty());
    let mut long_shipper = body_of(&input());
    long_shipper["ShipmentRequest"]["Shipment"]["Shipper"]["ShipperNumber"] = json!("A1B2C3D");
    assert!(!errors_of(&long_shipper).is_empty());
    let mut wide = body_of(&input());
    wide["ShipmentRequest"]["Shipment"]["Package"][0]["Dimensions"]["Length"] = json!("1080");
    assert!(!errors_of(&wide).is_empty());
}

mod generated {
    use carrier::{AddressInput, NotifyInput, ParcelInput};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(
            "[A-Za-z][A-Za-z0-9 .'-]{{0,{}}}[A-Za-z0-9]",
            max - 2
        ))
        .unwrap()
    }

    /// Positive decimals with up to one place, at most `max_tenths / 10`.
    fn decimal(max_tenths: i64) -> impl Strategy<Value = Decimal> {
        (1..=max_tenths).prop_map(|n| Decimal::new(n, 1).normalize())
    }

    prop_compose! {
        fn address()(
            person in proptest::option::of((text(16), text(16))),
            firm in text(35),
            street1 in text(35),
            street2 in proptest::option::of(text(35)),
            city in text(30),
            state in proptest::sample::select(carrier::address::US_STATES),
            zip5 in "[0-9]{5}",
            zip4 in proptest::option::of("[0-9]{4}"),
            phone in proptest::option::of("[2-9][0-9]{9}"),
        ) -> AddressInput {
            let (first_name, last_name, firm) = match person {
                Some((first, last)) => (Some(first), Some(last), None),
                None => (None, None, Some(firm)),
            };
            AddressInput {
                first_name,
                last_name,
                firm,
                street1: Some(street1),
                street2,
                city: Some(city),
                state: Some((*state).to_owned()),
                zip5: Some(zip5),
                zip4,
                phone,
                ..AddressInput::default()
            }
        }
    }

    prop_compose! {
        fn request()(
            service in proptest::sample::select(vec![
                "ups_ground_return",
                "ups_3_day_select_return",
                "ups_2nd_day_air_return",
                "ups_next_day_air_return",
            ]),
            format in proptest::sample::select(vec!["PDF", "PNG", "GIF", "ZPL"]),
            delivery in proptest::sample::select(vec!["download", "email"]),
            from_address in address(),
            weight in decimal(159_984),
            sides in proptest::option::of((decimal(270), decimal(270), decimal(270))),
            reference in proptest::option::of("[A-Za-z0-9 -]{1,64}"),
        ) -> ReturnLabelInput {
            ReturnLabelInput {
                service: Some(service.to_owned()),
                from_address: Some(from_address),
                parcel: Some(ParcelInput {
                    weight_oz: Some(weight),
                    length_in: sides.map(|s| s.0),
                    width_in: sides.map(|s| s.1),
                    height_in: sides.map(|s| s.2),
                    girth_in: None,
                    machinable: None,
                }),
                label_format: Some(format.to_owned()),
                label_delivery: Some(delivery.to_owned()),
                reference,
                notify: Some(NotifyInput {
                    recipient_email: Some("jane@example.com".into()),
                    ..NotifyInput::default()
                }),
                ..ReturnLabelInput::default()
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_generated_ship_body_matches_the_schema(input in request()) {
            let body = body_of(&input);
            let errors = errors_of(&body);
            prop_assert!(errors.is_empty(), "{}\n{}", body, errors.join("\n"));
        }
    }
}
