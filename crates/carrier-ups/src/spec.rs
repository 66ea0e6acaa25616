//! The official UPS OpenAPI files in `shared/reference/ups/` (the repository's sibling) as
//! draft 4 JSON Schemas, for tests that validate what the plugin sends.
//!
//! The documents are OpenAPI 3.0.3, whose Schema Object is a dialect of JSON Schema draft 4;
//! they are converted before validating with the draft 4 validator:
//! - `$ref`s are inlined (none of the request schemas is recursive);
//! - annotations without a draft 4 meaning (`example`, `xml`, `description`) are dropped;
//! - the string keywords Shipping.yaml puts on arrays (`AddressLine` is an array with
//!   `maxLength: 35`, meaning each line) are moved onto the items, and `maximum` on strings
//!   and objects (UPS's "occurs at most once") is dropped — draft 4 ignores both anyway;
//! - every object is **closed** (`additionalProperties: false`): UPS's objects are open, so
//!   without this a misspelled field would pass. This is stricter than UPS, which is the
//!   point of the tests;
//! - Shipping.yaml has tab characters in plain scalars, which YAML forbids there; they are
//!   replaced by spaces before parsing.

use std::path::PathBuf;

use serde_json::{Map, Value};

pub(crate) fn load(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ups")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
        .replace('\t', "    ");
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

const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern"];

/// Converts one OpenAPI schema into a self-contained, closed draft 4 schema.
pub(crate) fn convert(document: &Value, schema: &Value, depth: usize) -> Value {
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
