//! Every Ship request body this plugin builds, validated against the official Shipping.yaml in
//! `shared/reference/ups/` (the repository's sibling).
//!
//! The document is OpenAPI 3.0.3, whose Schema Object is a dialect of JSON Schema draft 4; it
//! is converted before validating with the draft 4 validator:
//! - `$ref`s are inlined (none of the request schemas is recursive);
//! - annotations without a draft 4 meaning (`example`, `xml`, `description`) are dropped;
//! - the string keywords Shipping.yaml puts on arrays (`AddressLine` is an array with
//!   `maxLength: 35`, meaning each line) are moved onto the items, and `maximum` on strings
//!   and objects (UPS's "occurs at most once") is dropped — draft 4 ignores both anyway;
//! - every object is **closed** (`additionalProperties: false`): Shipping.yaml's objects are
//!   open, so without this a misspelled field would pass. This is stricter than UPS, which is
//!   the point of the test;
//! - the document has tab characters in plain scalars, which YAML forbids there; they are
//!   replaced by spaces before parsing.

use std::path::PathBuf;

use carrier::{ReturnLabelInput, ReturnLabelRequest};
use serde_json::{Map, Value, json};

use crate::ship::request::tests::{account, input};

fn load() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ups/Shipping.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
        .replace('\t', "    ");
    serde_norway::from_str(&text).unwrap_or_else(|error| panic!("parsing Shipping.yaml: {error}"))
}

fn pointer<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let path = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $refs are used: {reference}"));
    document
        .pointer(path)
        .unwrap_or_else(|| panic!("unresolved $ref {reference}"))
}

const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern"];

/// Converts one OpenAPI schema into a self-contained, closed draft 4 schema.
fn convert(document: &Value, schema: &Value, depth: usize) -> Value {
    assert!(depth < 64, "schema nesting too deep (a recursive $ref?)");
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    if let Some(Value::String(reference)) = object.get("$ref") {
        return convert(document, pointer(document, reference), depth + 1);
    }
    let kind = object.get("type").and_then(Value::as_str);
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "example" | "examples" | "xml" | "description" => {}
            "maximum" | "minimum" if kind != Some("number") && kind != Some("integer") => {}
            key if kind == Some("array") && STRING_KEYWORDS.contains(&key) => {}
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(name, prop)| (name.clone(), convert(document, prop, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" => {
                let mut items = convert(document, value, depth + 1);
                if let Value::Object(items) = &mut items {
                    for keyword in STRING_KEYWORDS {
                        if let Some(limit) = object.get(*keyword) {
                            items.entry(*keyword).or_insert_with(|| limit.clone());
                        }
                    }
                }
                out.insert(key.clone(), items);
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if out.contains_key("properties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

fn ship_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        let document = load();
        let body = document
            .pointer("/paths/~1shipments~1{version}~1ship/post/requestBody/content/application~1json/schema")
            .unwrap_or_else(|| panic!("Shipping.yaml has no Ship request body"));
        let schema = convert(&document, body, 0);
        jsonschema::draft4::new(&schema)
            .unwrap_or_else(|error| panic!("the Ship request schema does not compile: {error}"))
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
