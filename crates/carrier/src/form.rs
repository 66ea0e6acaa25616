//! Building blocks for a carrier's account form ([`Carrier::account_schema`](crate::Carrier::account_schema)):
//! JSON Schema (2020-12) fragments that every plugin shares, so the console renders every
//! carrier's forms alike. Each field carries a `title` (the label) and, where it helps, a
//! `description` (the hint under the input); secrets are `writeOnly`.

use serde_json::{Value, json};

/// The JSON Schema dialect of every account schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A text field.
pub fn text(title: &str, description: &str) -> Value {
    json!({"type": "string", "title": title, "description": description})
}

/// A text field that must match `pattern` (an ECMA-262 regular expression, anchored).
pub fn pattern(title: &str, description: &str, pattern: &str) -> Value {
    json!({"type": "string", "title": title, "description": description, "pattern": pattern})
}

/// A choice among `values`, each with the label a form shows for it.
pub fn choice(title: &str, description: &str, values: &[(&str, &str)]) -> Value {
    json!({
        "type": "string",
        "title": title,
        "description": description,
        "enum": values.iter().map(|(value, _)| value).collect::<Vec<_>>(),
        "x-labels": values.iter().map(|(value, label)| (value.to_string(), json!(label))).collect::<serde_json::Map<_, _>>(),
    })
}

/// A yes/no field.
pub fn flag(title: &str, description: &str) -> Value {
    json!({"type": "boolean", "title": title, "description": description})
}

/// A secret: accepted, never shown again (`writeOnly`).
pub fn secret(title: &str, description: &str) -> Value {
    json!({"type": "string", "title": title, "description": description, "writeOnly": true})
}

/// A credentials mode: its constant `mode` and the fields it takes.
pub fn mode(name: &str, title: &str, description: &str, fields: &[(&str, Value)]) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert(
        "mode".to_owned(),
        json!({"const": name, "title": "Connection"}),
    );
    let mut required = vec!["mode".to_owned()];
    for (key, schema) in fields {
        properties.insert((*key).to_owned(), schema.clone());
        required.push((*key).to_owned());
    }
    json!({
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// `{"if": {field: const value}, "then": {"required": [...]}}`.
pub fn required_when(field: &str, value: &str, required: &[&str]) -> Value {
    json!({
        "if": {"properties": {field: {"const": value}}, "required": [field]},
        "then": {"required": required},
    })
}

/// The address every API input takes ([`AddressInput`](crate::AddressInput)), for a return
/// address in an account's details.
pub fn address(title: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "title": title,
        "description": description,
        "additionalProperties": false,
        "properties": {
            "first_name": text("First name", ""),
            "last_name": text("Last name", ""),
            "firm": text("Company", "A company, or a first and last name, is required."),
            "street1": text("Street address", ""),
            "street2": text("Apartment, suite, unit", ""),
            "city": text("City", ""),
            "state": text("State or province", "The two-letter code for a US state (MO)."),
            "postal_code": text("Postal code", "For the US, 63118 or 63118-2520."),
            "country": pattern("Country", "ISO 3166-1 alpha-2; US when left empty.", "^[A-Za-z]{2}$"),
            "zip5": pattern("ZIP Code", "US only: five digits (or use the postal code).", "^[0-9]{5}$"),
            "zip4": pattern("ZIP+4", "US only: four digits.", "^[0-9]{4}$"),
            "urbanization": text("Urbanization", "Puerto Rico addresses only."),
            "phone": text("Phone", ""),
            "email": text("Email", ""),
        },
        "required": ["street1", "city"],
    })
}

/// The whole account schema from its two parts.
pub fn account(details: Value, credentials: Value) -> Value {
    json!({
        "$schema": DIALECT,
        "type": "object",
        "properties": {"details": details, "credentials": credentials},
        "required": ["details"],
    })
}
