//! The Ship request's JSON Schema, made from Shipping.yaml's own `SHIPRequestWrapper` and the
//! schemas it refers to, and the validator every Ship request passes through.
//!
//! The YAML is compiled in (`spec/Shipping.yaml`, UPS's file unchanged), read with
//! `serde_norway` and turned from OpenAPI 3.0 into JSON Schema 2020-12:
//!
//! - `#/components/schemas/X` references become `#/$defs/X`;
//! - every object schema gets `additionalProperties: false`, so an unknown field is refused;
//! - `nullable: true` adds `"null"` to the type (Shipping.yaml has none today);
//! - the annotations `xml`, `example` and `deprecated` are dropped;
//! - UPS generated the file from its XML schema, and on arrays it wrote the element's
//!   occurrence limit as `maximum` and each item's length as `minLength`/`maxLength`
//!   (e.g. `AddressLine`: array, `maximum: 3`, `maxLength: 35`). JSON Schema ignores those
//!   keywords on arrays, so they are moved where they mean what UPS meant: `maximum` becomes
//!   `maxItems`, the lengths go to the string `items`. On strings and objects `maximum: 1` (the
//!   XML `maxOccurs`) means nothing in JSON Schema and is left alone.
//!
//! Everything else — `required`, `enum`, `pattern`, `minLength`/`maxLength` and the types —
//! comes from the YAML unchanged.
//!
//! One leniency, the spec's own: its examples send a single object (or a single string) where
//! the schema declares an array (`"Package": {…}`, `"AddressLine": "…"`), as UPS's JSON API
//! accepts. Before validating, `normalize` wraps such a value in a one-element array, walking
//! the instance beside the schema.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

/// UPS's Shipping OpenAPI file, unchanged.
const SHIPPING_YAML: &str = include_str!("../../spec/Shipping.yaml");

/// The compiled Ship request schema.
#[derive(Debug)]
pub(crate) struct ShipSchema {
    /// The JSON Schema document (root `$ref` to the wrapper, every schema in `$defs`).
    document: Value,
    /// `#/$defs/<wrapper>`.
    root: Value,
    validator: jsonschema::Validator,
}

/// Why the schema could not be built (a broken spec file; never a request's fault).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The YAML does not parse.
    #[error("Shipping.yaml does not parse: {0}")]
    Yaml(String),
    /// No `components.schemas` entry of that name.
    #[error("Shipping.yaml has no such components.schemas entry")]
    Missing,
    /// The converted schema is not valid JSON Schema.
    #[error("the converted schema does not compile: {0}")]
    Compile(String),
}

/// Checks `value` against one of Shipping.yaml's schemas by name (e.g. `SHIPResponseWrapper`,
/// `VOIDSHIPMENTResponseWrapper`), converted as the module docs say, and returns each
/// violation as `path: message` (none when it conforms). For tests of answers, the
/// simulator's and a client's.
pub fn violations(wrapper: &str, value: &Value) -> Result<Vec<String>, SchemaError> {
    let schema = ShipSchema::from_spec(wrapper)?;
    let mut value = value.clone();
    Ok(schema
        .check(&mut value, usize::MAX)
        .into_iter()
        .map(|violation| format!("{}: {}", violation.path, violation.message))
        .collect())
}

/// Checks `value` against a schema of Tracking.yaml or UPSTrackAlert.yaml by name (e.g.
/// `TrackApiResponse`, `TrackingEventRequest`), converted as the module docs say (objects
/// closed, no normalizing), for tests of answers and pushes.
pub fn tracking_violations(
    file: TrackingSpec,
    name: &str,
    value: &Value,
) -> Result<Vec<String>, SchemaError> {
    let yaml = match file {
        TrackingSpec::Track => crate::track::TRACKING_YAML,
        TrackingSpec::TrackAlert => crate::track::TRACK_ALERT_YAML,
    };
    let schema = ShipSchema::from_document(yaml, name, |_| {})?;
    Ok(schema
        .check_strictly(value, usize::MAX)
        .into_iter()
        .map(|violation| format!("{}: {}", violation.path, violation.message))
        .collect())
}

/// The tracking spec files the simulator holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingSpec {
    /// `Tracking.yaml` (the Track API).
    Track,
    /// `UPSTrackAlert.yaml` (Track Alert v2).
    TrackAlert,
}

/// The schema, built once.
pub(crate) static SHIP_SCHEMA: LazyLock<Result<ShipSchema, SchemaError>> =
    LazyLock::new(|| ShipSchema::from_spec("SHIPRequestWrapper"));

/// One way a request breaks the schema: where (dotted, e.g. `ShipmentRequest.Shipment.
/// Package[0].Description`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl ShipSchema {
    /// The schema of `components.schemas.<wrapper>` (the simulator serves `SHIPRequestWrapper`;
    /// tests check answers against the response wrappers).
    pub(crate) fn from_spec(wrapper: &str) -> Result<Self, SchemaError> {
        Self::from_document(SHIPPING_YAML, wrapper, |_| {})
    }

    /// The schema `components.schemas.<wrapper>` of another of UPS's files (`yaml`), converted
    /// the same way; `adjust` may change the converted definitions first (by name).
    pub(crate) fn from_document(
        yaml: &str,
        wrapper: &str,
        adjust: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<Self, SchemaError> {
        let spec: Value =
            serde_norway::from_str(yaml).map_err(|error| SchemaError::Yaml(error.to_string()))?;
        let schemas = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .filter(|schemas| schemas.contains_key(wrapper))
            .ok_or(SchemaError::Missing)?;
        let mut definitions: Map<String, Value> = schemas
            .iter()
            .map(|(name, schema)| (name.clone(), convert(schema)))
            .collect();
        adjust(&mut definitions);
        let root = json!({"$ref": format!("#/$defs/{wrapper}")});
        let document = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": root["$ref"],
            "$defs": definitions,
        });
        let validator = jsonschema::draft202012::new(&document)
            .map_err(|error| SchemaError::Compile(error.to_string()))?;
        Ok(Self {
            document,
            root,
            validator,
        })
    }

    /// Normalizes `instance` (see [`normalize`]) and returns every violation, at most `limit`.
    pub(crate) fn check(&self, instance: &mut Value, limit: usize) -> Vec<Violation> {
        normalize(&self.document, &self.root, instance);
        self.check_strictly(instance, limit)
    }

    /// Every violation of `instance` as it is (no normalizing), at most `limit`.
    pub(crate) fn check_strictly(&self, instance: &Value, limit: usize) -> Vec<Violation> {
        self.validator
            .iter_errors(instance)
            .take(limit)
            .map(|error| Violation {
                path: dotted(&error.instance_path().to_string()),
                message: error.to_string(),
            })
            .collect()
    }
}

/// `/ShipmentRequest/Shipment/Package/0/Description` → `ShipmentRequest.Shipment.Package[0].Description`.
fn dotted(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|byte| byte.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    if path.is_empty() {
        "(body)".to_owned()
    } else {
        path
    }
}

/// One OpenAPI schema as JSON Schema (see the module docs).
fn convert(schema: &Value) -> Value {
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    let mut converted = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "xml" | "example" | "examples" | "deprecated" | "nullable" => {}
            "$ref" => {
                let target = value
                    .as_str()
                    .unwrap_or_default()
                    .replace("#/components/schemas/", "#/$defs/");
                converted.insert(key.clone(), Value::String(target));
            }
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, property)| (name.clone(), convert(property)))
                            .collect()
                    })
                    .unwrap_or_default();
                converted.insert(key.clone(), Value::Object(properties));
            }
            "items" | "not" | "additionalProperties" => {
                converted.insert(key.clone(), convert(value));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let parts = value
                    .as_array()
                    .map(|parts| parts.iter().map(convert).collect())
                    .unwrap_or_default();
                converted.insert(key.clone(), Value::Array(parts));
            }
            _ => {
                converted.insert(key.clone(), value.clone());
            }
        }
    }
    if object.get("nullable") == Some(&Value::Bool(true)) {
        if let Some(Value::String(kind)) = converted.get("type").cloned() {
            converted.insert("type".to_owned(), json!([kind, "null"]));
        }
    }
    let kind = converted
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let kind = kind.as_deref();
    if kind == Some("object") || converted.contains_key("properties") {
        converted
            .entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    if kind == Some("array") {
        if let Some(limit) = converted.remove("maximum") {
            converted.insert("maxItems".to_owned(), limit);
        }
        let lengths: Vec<(String, Value)> = ["minLength", "maxLength"]
            .into_iter()
            .filter_map(|name| converted.remove(name).map(|value| (name.to_owned(), value)))
            .collect();
        if let Some(Value::Object(items)) = converted.get_mut("items") {
            if items.get("type").and_then(Value::as_str) == Some("string") {
                for (name, value) in lengths {
                    items.entry(name).or_insert(value);
                }
            }
        }
    }
    Value::Object(converted)
}

/// Follows `$ref`s to the schema they name (`None` for a dangling one).
fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
            return Some(schema);
        };
        let name = target.strip_prefix("#/$defs/")?;
        schema = document.get("$defs")?.get(name)?;
    }
    None
}

/// Wraps a non-array value in a one-element array wherever the schema declares an array, at
/// any depth (the spec's examples do so: see the module docs).
pub(crate) fn normalize(document: &Value, schema: &Value, instance: &mut Value) {
    let Some(schema) = resolve(document, schema) else {
        return;
    };
    if schema.get("type").and_then(Value::as_str) == Some("array") && !instance.is_array() {
        let single = std::mem::take(instance);
        *instance = Value::Array(vec![single]);
    }
    match instance {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    normalize(document, item_schema, item);
                }
            }
        }
        Value::Object(fields) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, value) in fields.iter_mut() {
                    if let Some(property) = properties.get(name) {
                        normalize(document, property, value);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_compiles_into_a_validator() {
        assert!(SHIP_SCHEMA.is_ok(), "{:?}", SHIP_SCHEMA.as_ref().err());
    }

    #[test]
    fn array_limits_move_to_max_items_and_item_lengths() {
        let converted = convert(&json!({
            "type": "array", "maximum": 3, "minLength": 1, "maxLength": 35,
            "items": {"type": "string"}
        }));
        assert_eq!(converted["maxItems"], 3);
        assert_eq!(converted["items"]["maxLength"], 35);
        assert!(converted.get("maxLength").is_none());
    }

    #[test]
    fn objects_refuse_unknown_fields_and_nullable_admits_null() {
        let converted = convert(&json!({
            "type": "object", "xml": {"name": "X"},
            "properties": {"A": {"type": "string", "nullable": true}}
        }));
        assert_eq!(converted["additionalProperties"], false);
        assert_eq!(
            converted["properties"]["A"]["type"],
            json!(["string", "null"])
        );
        assert!(converted.get("xml").is_none());
    }

    #[test]
    fn dotted_paths_read_like_the_request() {
        assert_eq!(
            dotted("/ShipmentRequest/Shipment/Package/0/Description"),
            "ShipmentRequest.Shipment.Package[0].Description"
        );
        assert_eq!(dotted(""), "(body)");
    }
}
