//! The request schemas, made from FedEx's own OpenAPI files, and the validator every request
//! body passes through; also [`violations`], which checks an answer against a response schema
//! (for tests).
//!
//! The JSON files are compiled in (`spec/`, FedEx's files unchanged) and each schema is turned
//! from OpenAPI 3.0 into JSON Schema 2020-12:
//!
//! - `#/components/schemas/X` references become `#/$defs/X`;
//! - every object schema gets `additionalProperties: false`, so an unknown field is refused;
//! - `nullable: true` adds `"null"` to the type;
//! - the annotations (`description`, `example`, `examples`, `xml`, `deprecated`, `title`,
//!   `readOnly`, `writeOnly`, `externalDocs`) are dropped.
//!
//! Everything else — `required`, `enum`, `pattern`, lengths, types — comes from the files.
//!
//! Each operation's body is validated against the file's *full* schema for it
//! (`Full_Schema_Ship`, `Full_Schema_Cancel_Shipment`, `Full_Schema_Tracking_Numbers`,
//! `CustomerKeyInputVO`, `IssuePinInputVO`, `ValidatePinInputVO`, `ValidateInvoiceInputVO`, and
//! `FullSchema` for the token form read as a JSON object of strings). The Ship, Cancel and Track
//! request bodies are declared as a `oneOf` of the full schema and "sample payload" schemas
//! that hold nothing but an `example`; such an empty schema matches every body, so the `oneOf`
//! could never be satisfied by exactly one branch. The samples are read as what they are —
//! FedEx's example requests — and the full schema is the operation's schema.
//!
//! FedEx's example requests are the spec too, and every one of them must be accepted verbatim.
//! Two things make them so, and nothing else is relaxed:
//!
//! 1. **Scalar coercion** (`leniency::coerce`), as FedEx's JSON binding does and the examples rely on
//!    throughout (`"postalCode": 72601`, `"phoneNumber": 1234567890`, `"amount": "67"`,
//!    `"returnedDispositionDetail": true`): where the schema declares a string, a number or a
//!    boolean is read as its text; where it declares a number or an integer, a string holding
//!    one is read as that number; where it declares a boolean, `"true"`/`"false"` are read as
//!    booleans. Nothing else is coerced (an object is never a string).
//! 2. **Amendments** ([`amendments`]): where an official example contradicts the schema — it
//!    omits a field the schema requires (`totalWeight`, which the schema itself says applies
//!    "only to International shipments"), sends a field the schema does not declare
//!    (`labelSpecification.autoPrint`), or an enum value the schema does not list (`"LB"` for a
//!    commodity weight) — the simulator amends the schema exactly there: the field becomes
//!    optional, the field is declared (any value), the value is added to the enum. The
//!    amendments are computed from the examples when the schema is built, so there is no
//!    hand-kept list to drift; [`amendments`] lists them, each naming the example that
//!    needed it.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

mod leniency;

pub use self::leniency::{Amendment, Change};
use self::leniency::{apply, coerce, survey};

/// `spec/APIAuthorization-Resource.json`.
const AUTHORIZATION_JSON: &str = include_str!("../../spec/APIAuthorization-Resource.json");
/// `spec/AccountRegistration-Resource.json`.
const REGISTRATION_JSON: &str = include_str!("../../spec/AccountRegistration-Resource.json");
/// `spec/Shipment-Resource.json`.
const SHIPMENT_JSON: &str = include_str!("../../spec/Shipment-Resource.json");
/// `spec/TrackingNumbers-Resource.json`.
const TRACKING_JSON: &str = include_str!("../../spec/TrackingNumbers-Resource.json");

/// One of FedEx's four files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecFile {
    /// `APIAuthorization-Resource.json`.
    Authorization,
    /// `AccountRegistration-Resource.json`.
    Registration,
    /// `Shipment-Resource.json`.
    Shipment,
    /// `TrackingNumbers-Resource.json`.
    Tracking,
}

impl SpecFile {
    fn index(self) -> usize {
        match self {
            Self::Authorization => 0,
            Self::Registration => 1,
            Self::Shipment => 2,
            Self::Tracking => 3,
        }
    }

    /// The parsed file.
    pub fn document(self) -> Result<&'static Value, SchemaError> {
        static FILES: [OnceLock<Result<Value, String>>; 4] = [const { OnceLock::new() }; 4];
        let text = match self {
            Self::Authorization => AUTHORIZATION_JSON,
            Self::Registration => REGISTRATION_JSON,
            Self::Shipment => SHIPMENT_JSON,
            Self::Tracking => TRACKING_JSON,
        };
        FILES[self.index()]
            .get_or_init(|| serde_json::from_str(text).map_err(|error| error.to_string()))
            .as_ref()
            .map_err(|error| SchemaError::Json(error.clone()))
    }
}

/// An operation whose request body is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `POST /oauth/token` (`FullSchema`).
    Token,
    /// `POST /registration/v2/address/keysgeneration` (`CustomerKeyInputVO`).
    AddressKeys,
    /// `POST /registration/v2/customerkeys/pingeneration` (`IssuePinInputVO`).
    PinGeneration,
    /// `POST /registration/v2/pin/keysgeneration` (`ValidatePinInputVO`).
    PinKeys,
    /// `POST /registration/v2/invoice/keysgeneration` (`ValidateInvoiceInputVO`).
    InvoiceKeys,
    /// `POST /ship/v1/shipments` (`Full_Schema_Ship`).
    Ship,
    /// `PUT /ship/v1/shipments/cancel` (`Full_Schema_Cancel_Shipment`).
    Cancel,
    /// `POST /track/v1/trackingnumbers` (`Full_Schema_Tracking_Numbers`).
    Track,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 8] = [
        Self::Token,
        Self::AddressKeys,
        Self::PinGeneration,
        Self::PinKeys,
        Self::InvoiceKeys,
        Self::Ship,
        Self::Cancel,
        Self::Track,
    ];

    fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|operation| *operation == self)
            .unwrap_or_default()
    }

    /// The file, path, method and schema of the operation.
    pub fn definition(self) -> (SpecFile, &'static str, &'static str, &'static str) {
        match self {
            Self::Token => (
                SpecFile::Authorization,
                "/oauth/token",
                "post",
                "FullSchema",
            ),
            Self::AddressKeys => (
                SpecFile::Registration,
                "/registration/v2/address/keysgeneration",
                "post",
                "CustomerKeyInputVO",
            ),
            Self::PinGeneration => (
                SpecFile::Registration,
                "/registration/v2/customerkeys/pingeneration",
                "post",
                "IssuePinInputVO",
            ),
            Self::PinKeys => (
                SpecFile::Registration,
                "/registration/v2/pin/keysgeneration",
                "post",
                "ValidatePinInputVO",
            ),
            Self::InvoiceKeys => (
                SpecFile::Registration,
                "/registration/v2/invoice/keysgeneration",
                "post",
                "ValidateInvoiceInputVO",
            ),
            Self::Ship => (
                SpecFile::Shipment,
                "/ship/v1/shipments",
                "post",
                "Full_Schema_Ship",
            ),
            Self::Cancel => (
                SpecFile::Shipment,
                "/ship/v1/shipments/cancel",
                "put",
                "Full_Schema_Cancel_Shipment",
            ),
            Self::Track => (
                SpecFile::Tracking,
                "/track/v1/trackingnumbers",
                "post",
                "Full_Schema_Tracking_Numbers",
            ),
        }
    }
}

/// Why a schema could not be built (a broken spec file; never a request's fault).
#[derive(Clone, Debug, thiserror::Error)]
pub enum SchemaError {
    /// The file does not parse.
    #[error("the spec file does not parse: {0}")]
    Json(String),
    /// No `components.schemas` entry of that name.
    #[error("the spec file has no components.schemas entry {0}")]
    Missing(String),
    /// The converted schema is not valid JSON Schema.
    #[error("the converted schema does not compile: {0}")]
    Compile(String),
}

/// One way a body breaks the schema: where (dotted, e.g.
/// `requestedShipment.recipients[0].address.city`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field, dotted.
    pub path: String,
    /// The validator's message (it names the field for required and unknown ones).
    pub message: String,
}

/// A compiled request schema.
#[derive(Debug)]
pub(crate) struct RequestSchema {
    definitions: Map<String, Value>,
    root: Value,
    validator: jsonschema::Validator,
    amendments: Vec<Amendment>,
}

/// The official example request bodies of `operation`, by name: the `examples` and `example`
/// of its request body, and the `example` of every `oneOf` branch of it.
pub fn examples(operation: Operation) -> Result<Vec<(String, Value)>, SchemaError> {
    let (file, path, method, _) = operation.definition();
    let spec = file.document()?;
    let content = &spec["paths"][path][method]["requestBody"]["content"];
    let mut found = Vec::new();
    let Some(content) = content.as_object() else {
        return Ok(found);
    };
    for media in content.values() {
        if let Some(examples) = media["examples"].as_object() {
            for (name, example) in examples {
                found.push((name.clone(), example["value"].clone()));
            }
        }
        if !media["example"].is_null() {
            found.push(("example".to_owned(), media["example"].clone()));
        }
        let branches = media["schema"]["oneOf"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for branch in branches {
            let Some(name) = branch["$ref"]
                .as_str()
                .and_then(|target| target.strip_prefix("#/components/schemas/"))
            else {
                continue;
            };
            let example = &spec["components"]["schemas"][name]["example"];
            if !example.is_null() {
                found.push((name.to_owned(), example.clone()));
            }
        }
    }
    Ok(found)
}

/// The amendments the examples forced on `operation`'s schema (see the module docs).
pub fn amendments(operation: Operation) -> Result<Vec<Amendment>, SchemaError> {
    compiled(operation)
        .as_ref()
        .map(|schema| schema.amendments.clone())
        .map_err(Clone::clone)
}

/// Checks a request body as the simulator does (coerced, then against the amended schema)
/// and returns every violation; empty when it conforms.
pub fn request_violations(
    operation: Operation,
    body: &Value,
) -> Result<Vec<Violation>, SchemaError> {
    let schema = compiled(operation).as_ref().map_err(Clone::clone)?;
    let mut body = body.clone();
    Ok(schema.check(&mut body, usize::MAX))
}

/// Checks `value` against `components.schemas.<name>` of `file`, converted as the module
/// docs say but strictly (no coercion, no amendments), and returns each violation as
/// `path: message`. For tests of answers.
pub fn violations(file: SpecFile, name: &str, value: &Value) -> Result<Vec<String>, SchemaError> {
    let definitions = definitions(file)?;
    if !definitions.contains_key(name) {
        return Err(SchemaError::Missing(name.to_owned()));
    }
    let validator = compile(&definitions, name)?;
    Ok(validator
        .iter_errors(value)
        .map(|error| format!("{}: {error}", dotted(&error.instance_path().to_string())))
        .collect())
}

pub(crate) fn compiled(operation: Operation) -> &'static Result<RequestSchema, SchemaError> {
    static CELLS: [OnceLock<Result<RequestSchema, SchemaError>>; 8] =
        [const { OnceLock::new() }; 8];
    CELLS[operation.index()].get_or_init(|| RequestSchema::build(operation))
}

fn definitions(file: SpecFile) -> Result<Map<String, Value>, SchemaError> {
    let spec = file.document()?;
    let schemas = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| SchemaError::Missing("components.schemas".to_owned()))?;
    Ok(schemas
        .iter()
        .map(|(name, schema)| (name.clone(), convert(schema)))
        .collect())
}

fn compile(
    definitions: &Map<String, Value>,
    root: &str,
) -> Result<jsonschema::Validator, SchemaError> {
    let document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{root}"),
        "$defs": definitions,
    });
    jsonschema::draft202012::new(&document).map_err(|error| SchemaError::Compile(error.to_string()))
}

impl RequestSchema {
    fn build(operation: Operation) -> Result<Self, SchemaError> {
        let (file, _, _, name) = operation.definition();
        let mut definitions = definitions(file)?;
        if !definitions.contains_key(name) {
            return Err(SchemaError::Missing(name.to_owned()));
        }
        let root = json!({"$ref": format!("#/$defs/{name}")});
        let mut amendments = Vec::new();
        for (example_name, example) in examples(operation)? {
            let mut example = example;
            coerce(&definitions, &root, &mut example);
            let mut found = Vec::new();
            survey(&definitions, "", "", &root, &example, &mut found);
            for (definition, pointer, change) in found {
                let amendment = Amendment {
                    definition,
                    pointer,
                    change,
                    example: example_name.clone(),
                };
                if !amendments.iter().any(|known: &Amendment| {
                    known.definition == amendment.definition
                        && known.pointer == amendment.pointer
                        && known.change == amendment.change
                }) {
                    apply(&mut definitions, &amendment);
                    amendments.push(amendment);
                }
            }
        }
        let validator = compile(&definitions, name)?;
        Ok(Self {
            definitions,
            root,
            validator,
            amendments,
        })
    }

    /// Coerces `instance` (see [`coerce`]) and returns every violation, at most `limit`.
    pub(crate) fn check(&self, instance: &mut Value, limit: usize) -> Vec<Violation> {
        coerce(&self.definitions, &self.root, instance);
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

/// `/requestedShipment/recipients/0/address` → `requestedShipment.recipients[0].address`.
pub(crate) fn dotted(pointer: &str) -> String {
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
            "description" | "example" | "examples" | "xml" | "deprecated" | "nullable"
            | "title" | "readOnly" | "writeOnly" | "externalDocs" => {}
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
    let is_object = converted.get("type").and_then(Value::as_str) == Some("object")
        || converted.contains_key("properties");
    if is_object {
        converted
            .entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    Value::Object(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_schema_compiles() {
        for operation in Operation::ALL {
            assert!(
                compiled(operation).is_ok(),
                "{operation:?}: {:?}",
                compiled(operation).as_ref().err()
            );
        }
    }

    #[test]
    fn objects_are_closed_nullable_admits_null_and_annotations_go() {
        let converted = convert(&json!({
            "type": "object", "description": "d", "example": {},
            "properties": {"a": {"type": "string", "nullable": true,
                "$ref": "#/components/schemas/X"}}
        }));
        assert_eq!(converted["additionalProperties"], false);
        assert_eq!(
            converted["properties"]["a"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(converted["properties"]["a"]["$ref"], "#/$defs/X");
        assert!(converted.get("description").is_none());
        assert!(converted.get("example").is_none());
    }

    #[test]
    fn the_ship_examples_make_total_weight_optional_and_leave_track_alone() {
        let ship = amendments(Operation::Ship).unwrap();
        for amendment in &ship {
            eprintln!("{amendment}");
        }
        assert!(ship.iter().any(|amendment| {
            amendment.definition == "RequestedShipment_1"
                && amendment.change == Change::Optional("totalWeight".to_owned())
        }));
        assert!(amendments(Operation::Track).unwrap().is_empty());
        assert!(amendments(Operation::AddressKeys).unwrap().is_empty());
    }

    #[test]
    fn dotted_paths_read_like_the_request() {
        assert_eq!(
            dotted("/requestedShipment/recipients/0/address"),
            "requestedShipment.recipients[0].address"
        );
        assert_eq!(dotted(""), "(body)");
    }
}
