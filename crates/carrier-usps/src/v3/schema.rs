//! Every request body this plugin builds, validated against the official USPS OpenAPI documents
//! in `shared/reference/usps-v3/` (the repository's sibling).
//!
//! The documents are OpenAPI 3.0, whose Schema Object is a dialect of JSON Schema draft 4; they
//! are converted before validating with the draft 4 validator:
//! - `$ref`s are inlined (none of the request schemas is recursive);
//! - `exclusiveMinimum: true` is draft 4's own boolean form and is kept;
//! - `nullable: true` adds `null` to the type (and to an `enum`);
//! - `allOf` is OpenAPI's composition, which tooling merges: `additionalProperties: false` on
//!   one part (oauth2.yaml's `TokenRequest`) means "nothing beyond the merged properties", not
//!   "nothing beyond this part's" (which would refuse every body). Parts made only of object
//!   keywords are therefore merged: properties united (a property in two parts must satisfy
//!   both), `required` united, `additionalProperties: false` if any part says so;
//! - a `discriminator` on a `oneOf` pins each mapped branch's property to its mapping key; a
//!   discriminator elsewhere (on a base schema) carries no constraint and is dropped;
//! - annotations without a draft 4 meaning (`example`, `xml`, `deprecated`, `readOnly`,
//!   `writeOnly`, `format: byte`) are dropped.

use std::path::PathBuf;

use carrier::{AddressInput, NotifyInput, ParcelInput, ReturnLabelInput, ReturnLabelRequest};
use proptest::prelude::*;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use crate::account::Payer;
use crate::v3::oauth::{Grant, token_request_body};
use crate::v3::payment::tests::{account, eps};

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/usps-v3")
}

/// A reference file (YAML or JSON) as JSON.
pub(super) fn load(file: &str) -> Value {
    let path = reference_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|error| panic!("parsing {file}: {error}"))
}

fn pointer<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let path = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $refs are used: {reference}"));
    document
        .pointer(path)
        .unwrap_or_else(|| panic!("unresolved $ref {reference}"))
}

const OBJECT_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "description",
    "title",
];

/// Converts one OpenAPI schema into a self-contained draft 4 schema.
fn convert(document: &Value, schema: &Value, depth: usize) -> Value {
    assert!(depth < 64, "schema nesting too deep (a recursive $ref?)");
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    if let Some(Value::String(reference)) = object.get("$ref") {
        return convert(document, pointer(document, reference), depth + 1);
    }
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "example" | "examples" | "xml" | "deprecated" | "readOnly" | "writeOnly"
            | "discriminator" | "nullable" | "externalDocs" => {}
            "format" if value == "byte" => {}
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
            "items" | "not" | "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), convert(document, value, depth + 1));
            }
            "oneOf" if object.contains_key("discriminator") => {
                out.insert(key.clone(), discriminated(document, object, value, depth));
            }
            "allOf" | "oneOf" | "anyOf" => {
                let parts = value
                    .as_array()
                    .map(|parts| {
                        parts
                            .iter()
                            .map(|p| convert(document, p, depth + 1))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(parts));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(kind) = out.get("type").cloned() {
            out.insert("type".into(), json!([kind, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    merge_all_of(&mut out);
    Value::Object(out)
}

/// `oneOf` branches pinned by the discriminator's mapping.
fn discriminated(
    document: &Value,
    parent: &Map<String, Value>,
    branches: &Value,
    depth: usize,
) -> Value {
    let discriminator = &parent["discriminator"];
    let property = discriminator["propertyName"]
        .as_str()
        .unwrap_or_else(|| panic!("discriminator without propertyName"));
    let mapping = discriminator["mapping"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let converted = branches
        .as_array()
        .map(|branches| {
            branches
                .iter()
                .map(|branch| {
                    let mut schema = convert(document, branch, depth + 1);
                    let reference = branch.get("$ref").and_then(Value::as_str);
                    let key = mapping
                        .iter()
                        .find(|(_, target)| target.as_str() == reference)
                        .map(|(key, _)| key.clone());
                    if let (Some(key), Value::Object(object)) = (key, &mut schema) {
                        let properties = object.entry("properties").or_insert_with(|| json!({}));
                        let pinned = json!({"enum": [key]});
                        let combined = match properties.get(property) {
                            Some(existing) => json!({"allOf": [existing, pinned]}),
                            None => pinned,
                        };
                        properties[property] = combined;
                        let required = object.entry("required").or_insert_with(|| json!([]));
                        if let Value::Array(names) = required {
                            if !names.iter().any(|n| n == property) {
                                names.push(json!(property));
                            }
                        }
                    }
                    schema
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(converted)
}

/// Merges `allOf` parts made only of object keywords into `schema` (see the module docs).
fn merge_all_of(schema: &mut Map<String, Value>) {
    let Some(Value::Array(parts)) = schema.get("allOf") else {
        return;
    };
    let mergeable = parts.iter().all(|part| {
        part.as_object()
            .is_some_and(|p| p.keys().all(|k| OBJECT_KEYWORDS.contains(&k.as_str())))
    });
    if !mergeable {
        return;
    }
    let parts = parts.clone();
    schema.remove("allOf");
    let mut closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    let mut properties = schema
        .remove("properties")
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    let mut required: Vec<Value> = schema
        .remove("required")
        .and_then(|r| r.as_array().cloned())
        .unwrap_or_default();
    for part in parts {
        let Value::Object(part) = part else { continue };
        if part.get("additionalProperties") == Some(&Value::Bool(false)) {
            closed = true;
        }
        if let Some(Value::Object(props)) = part.get("properties") {
            for (name, prop) in props {
                let combined = match properties.remove(name) {
                    Some(existing) => json!({"allOf": [existing, prop]}),
                    None => prop.clone(),
                };
                properties.insert(name.clone(), combined);
            }
        }
        if let Some(Value::Array(names)) = part.get("required") {
            for name in names {
                if !required.contains(name) {
                    required.push(name.clone());
                }
            }
        }
        if let Some(kind) = part.get("type") {
            schema.entry("type").or_insert_with(|| kind.clone());
        }
    }
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    if closed {
        schema.insert("additionalProperties".into(), Value::Bool(false));
    }
}

fn validator(file: &str, path: &str) -> jsonschema::Validator {
    let document = load(file);
    let body = document
        .pointer(path)
        .unwrap_or_else(|| panic!("{file} has no {path}"));
    let schema = convert(&document, body, 0);
    jsonschema::draft4::new(&schema)
        .unwrap_or_else(|error| panic!("{file}{path} does not compile: {error}"))
}

fn return_label_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        validator(
            "domestic-labels.yaml",
            "/paths/~1return-label/post/requestBody/content/application~1json/schema",
        )
    });
    &VALIDATOR
}

fn payment_validator() -> jsonschema::Validator {
    validator(
        "payments.yaml",
        "/paths/~1payment-authorization/post/requestBody/content/application~1json/schema",
    )
}

fn token_validator() -> jsonschema::Validator {
    validator(
        "oauth2.yaml",
        "/paths/~1token/post/requestBody/content/application~1json/schema",
    )
}

fn assert_valid(validator: &jsonschema::Validator, body: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{body}\n{}", errors.join("\n"));
}

fn body_of(request: &ReturnLabelRequest) -> Value {
    let prepared = super::label::prepare(&account(eps(), Some("904128937"), None), request)
        .unwrap_or_else(|errors| panic!("the generated request must be valid: {errors}"));
    serde_json::from_slice(&prepared.body).unwrap()
}

#[test]
fn the_api_example_body_matches_the_return_label_schema() {
    let input: ReturnLabelInput = serde_json::from_value(super::label::tests::input()).unwrap();
    let body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    assert_valid(return_label_validator(), &body);
}

#[test]
fn qr_code_bodies_match_the_return_label_schema() {
    for format in [None, Some("PDF")] {
        let mut value = super::label::tests::input();
        value["label_delivery"] = json!("qr_code");
        if let Some(format) = format {
            value["label_format"] = json!(format);
        }
        let input: ReturnLabelInput = serde_json::from_value(value).unwrap();
        let body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
        assert_eq!(body["imageInfo"]["imageType"], "LABEL_BROKER");
        assert_valid(return_label_validator(), &body);
    }
}

/// The spec's own `LabelBrokerRequest` example ("a Label Broker QR Code and its respective
/// Label PDF"): its `imageInfo` is what a QR code with a PDF sends, our defaults spelled out.
#[test]
fn a_qr_code_with_a_pdf_sends_the_specs_label_broker_request_image_info() {
    let document = load("domestic-labels.yaml");
    let example = &document["components"]["examples"]["LabelBrokerRequest"]["value"]["imageInfo"];
    assert_eq!(example["imageType"], "LABEL_BROKER");
    let mut value = super::label::tests::input();
    value["label_delivery"] = json!("qr_code");
    value["label_format"] = json!("PDF");
    let input: ReturnLabelInput = serde_json::from_value(value).unwrap();
    let body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    let sent = body["imageInfo"].as_object().unwrap();
    for (key, expected) in example.as_object().unwrap() {
        assert_eq!(&sent[key], expected, "imageInfo.{key}");
    }
    // What the example leaves to the defaults, we send as Label Broker requires it.
    assert_eq!(sent["labelType"], "4X6LABEL");
    assert_eq!(sent["receiptOption"], "NONE");
}

#[test]
fn the_return_label_validator_refuses_an_unknown_top_level_field() {
    let input: ReturnLabelInput = serde_json::from_value(super::label::tests::input()).unwrap();
    let mut body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    body["labelColour"] = json!("red");
    assert!(!return_label_validator().is_valid(&body));
}

#[test]
fn the_return_label_validator_refuses_a_bad_enum() {
    let input: ReturnLabelInput = serde_json::from_value(super::label::tests::input()).unwrap();
    let mut body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    body["packageDescription"]["mailClass"] = json!("PRIORITY_MAIL");
    assert!(!return_label_validator().is_valid(&body));
}

#[test]
fn the_return_label_validator_refuses_a_zero_dimension() {
    // `exclusiveMinimum: true` with `minimum: 0` is honoured (draft 4).
    let input: ReturnLabelInput = serde_json::from_value(super::label::tests::input()).unwrap();
    let mut body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    body["packageDescription"]["height"] = json!(0);
    assert!(!return_label_validator().is_valid(&body));
}

#[test]
fn a_null_zip_plus_4_is_allowed_because_the_spec_says_nullable() {
    let input: ReturnLabelInput = serde_json::from_value(super::label::tests::input()).unwrap();
    let mut body = body_of(&ReturnLabelRequest::parse(&input).unwrap());
    body["fromAddress"]["ZIPPlus4"] = Value::Null;
    assert_valid(return_label_validator(), &body);
    body["fromAddress"]["ZIPPlus4"] = json!("12");
    assert!(!return_label_validator().is_valid(&body));
}

#[test]
fn payment_bodies_match_the_parties_schema() {
    let validator = payment_validator();
    let permit = || Payer::Permit {
        number: "12345".into(),
        zip: "63116".into(),
    };
    for payer in [eps(), permit()] {
        for (manifest, returns) in [
            (None, None),
            (Some("904128937"), None),
            (None, Some("904128938")),
            (Some("904128937"), Some("904128938")),
        ] {
            let body: Value = serde_json::from_slice(&super::payment::body(&account(
                payer.clone(),
                manifest,
                returns,
            )))
            .unwrap();
            assert_valid(&validator, &body);
        }
    }
}

#[test]
fn the_payment_validator_refuses_a_bad_role_name_and_a_bad_mid() {
    let validator = payment_validator();
    let body: Value =
        serde_json::from_slice(&super::payment::body(&account(eps(), None, None))).unwrap();
    let mut bad_role = body.clone();
    bad_role["roles"][0]["roleName"] = json!("BOSS");
    assert!(!validator.is_valid(&bad_role));
    let mut bad_mid = body;
    bad_mid["roles"][1]["MID"] = json!("1234567");
    assert!(!validator.is_valid(&bad_mid));
}

fn token_bodies() -> Vec<Value> {
    let secret = SecretString::from("secret");
    let refresh = SecretString::from("refresh-token");
    [
        Grant::ClientCredentials,
        Grant::AuthorizationCode {
            code: "EyQPFYVI",
            redirect_uri: "https://backhaul.example/v1/usps/oauth/callback",
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        },
        Grant::RefreshToken {
            refresh_token: &refresh,
        },
    ]
    .iter()
    .map(|grant| serde_json::from_slice(&token_request_body("app", &secret, grant)).unwrap())
    .collect()
}

/// The body as oauth2.yaml knows it: without RFC 7636's `code_verifier`, the one member we
/// add to the authorization-code grant (see `TokenRequest`).
fn without_pkce(mut body: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.remove("code_verifier");
    }
    body
}

#[test]
fn token_bodies_match_the_oauth_schema_plus_the_pkce_verifier() {
    let validator = token_validator();
    for body in token_bodies() {
        let is_code_grant = body["grant_type"] == "authorization_code";
        assert_eq!(
            body.get("code_verifier").is_some(),
            is_code_grant,
            "only the authorization-code grant carries a code_verifier: {body}"
        );
        assert_valid(&validator, &without_pkce(body));
    }
}

#[test]
fn the_token_validator_refuses_an_unknown_field_and_a_bad_grant_type() {
    let validator = token_validator();
    for body in token_bodies().into_iter().map(without_pkce) {
        let mut with_state = body.clone();
        with_state["state"] = json!("nonce=abc");
        assert!(!validator.is_valid(&with_state), "{with_state}");
        let mut bad_grant = body;
        bad_grant["grant_type"] = json!("password");
        assert!(!validator.is_valid(&bad_grant), "{bad_grant}");
    }
}

#[test]
fn the_token_validator_refuses_a_grant_type_that_does_not_match_its_fields() {
    let validator = token_validator();
    let mut body = token_bodies().remove(0);
    body["grant_type"] = json!("refresh_token");
    assert!(!validator.is_valid(&body), "{body}");
}

/// Positive decimals with up to two places, at most `max_hundredths / 100`.
fn decimal(max_hundredths: i64) -> impl Strategy<Value = Decimal> {
    (1..=max_hundredths).prop_map(|n| Decimal::new(n, 2).normalize())
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[A-Za-z][A-Za-z0-9 .'-]{{0,{}}}[A-Za-z0-9]",
        max - 2
    ))
    .unwrap()
}

prop_compose! {
    fn address()(
        person in proptest::option::of((text(50), text(50))),
        firm in text(50),
        street1 in text(50),
        street2 in proptest::option::of(text(50)),
        city in text(28),
        state in proptest::sample::select(carrier::address::US_STATES),
        zip5 in "[0-9]{5}",
        zip4 in proptest::option::of("[0-9]{4}"),
        phone in proptest::option::of(prop_oneof!["[2-9][0-9]{9}", "\\+1[2-9][0-9]{9}", "[0-9]{6}"]),
        email in proptest::option::of("[a-z]{1,10}(\\.[a-z0-9_+-]{1,5})?@[a-z0-9]{1,4}(-[a-z0-9]{1,4})?\\.(com|org|co\\.uk)"),
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
            email,
            ..AddressInput::default()
        }
    }
}

prop_compose! {
    fn request()(
        service in proptest::sample::select(vec![
            "usps_ground_advantage_return",
            "usps_priority_mail_return",
            "usps_priority_mail_express_return",
            "usps_first_class_package_return",
        ]),
        format in proptest::sample::select(vec!["PDF", "PNG", "TIF", "ZPL"]),
        receipt in proptest::sample::select(vec!["none", "same_page", "separate_page"]),
        from_address in address(),
        weight in decimal(112_000),
        sides in (decimal(4000), decimal(4000), decimal(4000)),
        girth in proptest::option::of(decimal(13_000)),
        machinable in proptest::option::of(any::<bool>()),
        reference in proptest::option::of("[A-Za-z0-9-]{1,30}"),
        notify in any::<bool>(),
    ) -> ReturnLabelInput {
        let receipt = if format == "ZPL" && receipt == "same_page" { "none" } else { receipt };
        ReturnLabelInput {
            label_delivery: None,
            service: Some(service.to_owned()),
            from_address: Some(from_address),
            parcel: Some(ParcelInput {
                weight_oz: Some(weight),
                length_in: Some(sides.0),
                width_in: Some(sides.1),
                height_in: Some(sides.2),
                girth_in: girth,
                machinable,
            }),
            label_format: Some(format.to_owned()),
            receipt: Some(receipt.to_owned()),
            reference,
            notify: notify.then(|| NotifyInput {
                recipient_email: Some("jane@example.com".into()),
                ..NotifyInput::default()
            }),
            ship_date: None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_generated_return_label_body_matches_the_schema(input in request()) {
        let validator = return_label_validator();
        let request = ReturnLabelRequest::parse(&input)
            .unwrap_or_else(|errors| panic!("generated input must parse: {errors}"));
        let body = body_of(&request);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        prop_assert!(errors.is_empty(), "{}\n{}", body, errors.join("\n"));
    }
}

fn subscription_validator() -> jsonschema::Validator {
    validator(
        "subscriptions-tracking.yaml",
        "/paths/~1subscriptions/post/requestBody/content/application~1json/schema",
    )
}

fn subscription_bodies() -> Vec<Value> {
    let secret = carrier::tracking::SubscriptionSecret::generate();
    let request = carrier::tracking::SubscriptionRequest {
        listener_url: "https://backhaul.example/v1/carrier-webhooks/usps",
        secret: &secret,
        contact_email: "ops@backhaul.example",
    };
    [false, true]
        .iter()
        .map(|enable| {
            serde_json::from_slice(&crate::v3::subscription::body(
                "904128938",
                &request,
                *enable,
            ))
            .unwrap()
        })
        .collect()
}

#[test]
fn subscription_bodies_match_the_tracking_subscription_schema() {
    let validator = subscription_validator();
    for body in subscription_bodies() {
        assert_valid(&validator, &body);
    }
}

#[test]
fn the_subscription_validator_refuses_a_short_secret_and_a_bad_mid() {
    let validator = subscription_validator();
    let mut short = subscription_bodies().remove(0);
    short["secret"] = json!("MySecretKeyPhraseIs31BytesLengt");
    assert!(!validator.is_valid(&short), "{short}");
    let mut bad_mid = subscription_bodies().remove(0);
    bad_mid["filterProperties"]["MID"] = json!("9041289");
    assert!(!validator.is_valid(&bad_mid), "{bad_mid}");
}
