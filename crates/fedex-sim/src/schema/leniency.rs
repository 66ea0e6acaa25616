//! The two leniencies that make FedEx's own example requests acceptable (see [`super`]):
//! scalar coercion ([`coerce`]) and the example-driven [`Amendment`]s ([`survey`] finds them,
//! [`apply`] makes them).

use serde_json::{Map, Value, json};

/// A change the official examples forced on a schema (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amendment {
    /// The `components.schemas` entry changed.
    pub definition: String,
    /// The JSON pointer within it of the object or field changed (empty: the entry itself).
    pub pointer: String,
    /// What changed.
    pub change: Change,
    /// The example that needed it.
    pub example: String,
}

/// The kinds of [`Amendment`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A required field made optional.
    Optional(String),
    /// An undeclared field declared, with any value.
    Declared(String),
    /// A value added to an enum.
    EnumValue(Value),
}

impl std::fmt::Display for Amendment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let change = match &self.change {
            Change::Optional(name) => format!("{name} is optional"),
            Change::Declared(name) => format!("{name} is declared"),
            Change::EnumValue(value) => format!("{value} is allowed"),
        };
        write!(
            f,
            "{}{}: {change} (example {})",
            self.definition, self.pointer, self.example
        )
    }
}

/// Applies one amendment to the converted definitions.
pub(crate) fn apply(definitions: &mut Map<String, Value>, amendment: &Amendment) {
    let Some(schema) = definitions
        .get_mut(&amendment.definition)
        .and_then(|definition| definition.pointer_mut(&amendment.pointer))
    else {
        return;
    };
    match &amendment.change {
        Change::Optional(name) => {
            if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
                required.retain(|entry| entry.as_str() != Some(name));
            }
        }
        Change::Declared(name) => {
            if let Some(properties) = schema
                .as_object_mut()
                .map(|object| object.entry("properties").or_insert_with(|| json!({})))
                .and_then(Value::as_object_mut)
            {
                properties.insert(name.clone(), json!({}));
            }
        }
        Change::EnumValue(value) => {
            if let Some(values) = schema.get_mut("enum").and_then(Value::as_array_mut) {
                values.push(value.clone());
            }
        }
    }
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Walks `instance` beside `schema` (at `pointer` within the definition `definition`) and
/// records where the instance breaks a `required`, closed-object or `enum` constraint.
pub(crate) fn survey(
    definitions: &Map<String, Value>,
    definition: &str,
    pointer: &str,
    schema: &Value,
    instance: &Value,
    found: &mut Vec<(String, String, Change)>,
) {
    if let Some(target) = schema["$ref"]
        .as_str()
        .and_then(|target| target.strip_prefix("#/$defs/"))
    {
        if let Some(referenced) = definitions.get(target) {
            survey(definitions, target, "", referenced, instance, found);
        }
        return;
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for (index, part) in parts.iter().enumerate() {
            let pointer = format!("{pointer}/allOf/{index}");
            survey(definitions, definition, &pointer, part, instance, found);
        }
    }
    if let (Some(values), false) = (
        schema["enum"].as_array(),
        instance.is_object() || instance.is_array(),
    ) {
        if !values.contains(instance) {
            found.push((
                definition.to_owned(),
                pointer.to_owned(),
                Change::EnumValue(instance.clone()),
            ));
        }
    }
    match instance {
        Value::Object(fields) => {
            let properties = schema["properties"].as_object();
            if let Some(required) = schema["required"].as_array() {
                for name in required.iter().filter_map(Value::as_str) {
                    if !fields.contains_key(name) {
                        found.push((
                            definition.to_owned(),
                            pointer.to_owned(),
                            Change::Optional(name.to_owned()),
                        ));
                    }
                }
            }
            for (name, value) in fields {
                match properties.and_then(|properties| properties.get(name)) {
                    Some(property) => {
                        let pointer = format!("{pointer}/properties/{}", escape(name));
                        survey(definitions, definition, &pointer, property, value, found);
                    }
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        found.push((
                            definition.to_owned(),
                            pointer.to_owned(),
                            Change::Declared(name.clone()),
                        ));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            let pointer = format!("{pointer}/items");
            for item in items {
                survey(
                    definitions,
                    definition,
                    &pointer,
                    &schema["items"],
                    item,
                    found,
                );
            }
        }
        _ => {}
    }
}

/// The schema `schema` stands for once `$ref`s and one-part `allOf`s are followed.
fn resolve<'a>(definitions: &'a Map<String, Value>, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        if let Some(target) = schema["$ref"]
            .as_str()
            .and_then(|target| target.strip_prefix("#/$defs/"))
        {
            match definitions.get(target) {
                Some(referenced) => schema = referenced,
                None => return schema,
            }
        } else {
            return schema;
        }
    }
    schema
}

/// The declared type of `schema` (following `$ref`s and `allOf` parts), if one.
fn declared_type<'a>(definitions: &'a Map<String, Value>, schema: &'a Value) -> Option<&'a str> {
    let schema = resolve(definitions, schema);
    if let Some(kind) = schema["type"].as_str() {
        return Some(kind);
    }
    schema["allOf"]
        .as_array()?
        .iter()
        .find_map(|part| declared_type(definitions, part))
}

/// The schema of property `name` of `schema`, looking into `allOf` parts.
fn property<'a>(
    definitions: &'a Map<String, Value>,
    schema: &'a Value,
    name: &str,
) -> Option<&'a Value> {
    let schema = resolve(definitions, schema);
    if let Some(property) = schema["properties"].get(name) {
        return Some(property);
    }
    schema["allOf"]
        .as_array()?
        .iter()
        .find_map(|part| property(definitions, part, name))
}

/// The items schema of `schema`, looking into `allOf` parts.
fn items<'a>(definitions: &'a Map<String, Value>, schema: &'a Value) -> Option<&'a Value> {
    let schema = resolve(definitions, schema);
    if let Some(items) = schema.get("items") {
        return Some(items);
    }
    schema["allOf"]
        .as_array()?
        .iter()
        .find_map(|part| items(definitions, part))
}

/// Scalar coercion, walking `instance` beside `schema` (see the module docs).
pub(crate) fn coerce(definitions: &Map<String, Value>, schema: &Value, instance: &mut Value) {
    match (declared_type(definitions, schema), &*instance) {
        (Some("string"), Value::Number(number)) => *instance = Value::String(number.to_string()),
        (Some("string"), Value::Bool(flag)) => *instance = Value::String(flag.to_string()),
        (Some("integer"), Value::String(text)) => {
            if let Ok(number) = text.trim().parse::<i64>() {
                *instance = json!(number);
            }
        }
        (Some("number"), Value::String(text)) => {
            let text = text.trim();
            if let Ok(number) = text.parse::<i64>() {
                *instance = json!(number);
            } else if let Some(number) = text
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite())
                .and_then(serde_json::Number::from_f64)
            {
                *instance = Value::Number(number);
            }
        }
        (Some("boolean"), Value::String(text)) if text == "true" || text == "false" => {
            *instance = Value::Bool(text == "true");
        }
        _ => {}
    }
    match instance {
        Value::Object(fields) => {
            for (name, value) in fields.iter_mut() {
                if let Some(property) = property(definitions, schema, name) {
                    coerce(definitions, property, value);
                }
            }
        }
        Value::Array(values) => {
            if let Some(item) = items(definitions, schema) {
                for value in values {
                    coerce(definitions, item, value);
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
    fn scalars_are_coerced_to_the_declared_type_only() {
        let definitions = Map::new();
        let schema = json!({"type": "object", "properties": {
            "s": {"type": "string"}, "n": {"type": "number"}, "i": {"type": "integer"},
            "b": {"type": "boolean"}, "o": {"type": "string"}
        }});
        let mut value = json!({"s": 72601, "n": "2.5", "i": "1", "b": "true", "o": {"x": 1}});
        coerce(&definitions, &schema, &mut value);
        assert_eq!(
            value,
            json!({"s": "72601", "n": 2.5, "i": 1, "b": true, "o": {"x": 1}})
        );
    }

    #[test]
    fn an_amendment_changes_only_its_place() {
        let mut definitions = Map::new();
        definitions.insert(
            "A".to_owned(),
            json!({"type": "object", "required": ["x", "y"], "properties": {}, "additionalProperties": false}),
        );
        apply(
            &mut definitions,
            &Amendment {
                definition: "A".to_owned(),
                pointer: String::new(),
                change: Change::Optional("x".to_owned()),
                example: "e".to_owned(),
            },
        );
        assert_eq!(definitions["A"]["required"], json!(["y"]));
    }
}
