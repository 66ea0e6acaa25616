//! The FedEx OpenAPI files in `shared/reference/fedex/` (the repository's sibling) as draft 4
//! JSON Schemas, for tests that validate what the plugin sends (and the replies the tests
//! feed it), and the files' own `example` values.
//!
//! The documents are OpenAPI 3.0.0, whose Schema Object is a dialect of JSON Schema draft 4;
//! they are converted before validating with the draft 4 validator:
//! - `$ref`s are inlined (none of the schemas used is recursive);
//! - `allOf` members are merged into the schema that holds them (the Ship file wraps `$ref`s
//!   in `allOf` to give them a description), so that closing objects stays sound;
//! - annotations without a draft 4 meaning (`example`, `description`) are dropped;
//! - every object is **closed** (`additionalProperties: false`): FedEx's objects are open, so
//!   without this a misspelled field would pass. This is stricter than FedEx, which is the
//!   point of the tests.

use std::path::PathBuf;

use serde_json::{Map, Value};

pub(crate) fn load(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/fedex")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parsing {file}: {error}"))
}

fn pointer<'a>(document: &'a Value, reference: &str) -> &'a Value {
    let path = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $refs are used: {reference}"));
    document
        .pointer(path)
        .unwrap_or_else(|| panic!("unresolved $ref {reference}"))
}

fn merge(out: &mut Map<String, Value>, member: Value) {
    let Value::Object(member) = member else {
        return;
    };
    for (key, value) in member {
        match (key.as_str(), out.get_mut(&key)) {
            ("properties", Some(Value::Object(properties))) => {
                if let Value::Object(more) = value {
                    properties.extend(more);
                }
            }
            ("required", Some(Value::Array(required))) => {
                if let Value::Array(more) = value {
                    for name in more {
                        if !required.contains(&name) {
                            required.push(name);
                        }
                    }
                }
            }
            (_, Some(_)) => {}
            (_, None) => {
                out.insert(key, value);
            }
        }
    }
}

/// Converts one OpenAPI schema into a self-contained, closed draft 4 schema.
pub(crate) fn convert(document: &Value, schema: &Value, depth: usize) -> Value {
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
            "example" | "examples" | "description" | "allOf" => {}
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
                out.insert(key.clone(), convert(document, value, depth + 1));
            }
            "oneOf" | "anyOf" => {
                let members = value
                    .as_array()
                    .map(|members| {
                        members
                            .iter()
                            .map(|m| convert(document, m, depth + 1))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(members));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(Value::Array(members)) = object.get("allOf") {
        for member in members {
            merge(&mut out, convert(document, member, depth + 1));
        }
    }
    if let Some(Value::Array(required)) = out.get_mut("required") {
        let mut unique: Vec<Value> = Vec::new();
        for name in required.drain(..) {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        *required = unique;
    }
    if out.contains_key("properties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// The draft 4 validator of the schema at `pointer` in `file`.
pub(crate) fn validator(file: &str, pointer: &str) -> jsonschema::Validator {
    let document = load(file);
    let body = document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{file} has no {pointer}"));
    let schema = convert(&document, body, 0);
    jsonschema::draft4::new(&schema)
        .unwrap_or_else(|error| panic!("{file}{pointer} does not compile: {error}"))
}

/// Panics with every error unless `instance` matches `validator`.
pub(crate) fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{instance:#}\n{errors:#?}");
}

/// An instance made of the file's own `example` values for the schema at `pointer`: the
/// schema's example where it has one, else an object of its properties' examples.
pub(crate) fn examples_of(document: &Value, pointer: &str) -> Value {
    let schema = document
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    example(document, schema, 0).unwrap_or(Value::Null)
}

fn example(document: &Value, schema: &Value, depth: usize) -> Option<Value> {
    if depth > 32 {
        return None;
    }
    let object = schema.as_object()?;
    if let Some(Value::String(reference)) = object.get("$ref") {
        return example(document, self::pointer(document, reference), depth + 1);
    }
    if let Some(value) = object.get("example") {
        return Some(value.clone());
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        let built: Map<String, Value> = properties
            .iter()
            .filter_map(|(name, prop)| Some((name.clone(), example(document, prop, depth + 1)?)))
            .collect();
        return Some(Value::Object(built));
    }
    if let Some(items) = object.get("items") {
        return Some(Value::Array(vec![example(document, items, depth + 1)?]));
    }
    None
}
