//! A carrier's account form as the console reads it: the JSON Schema (2020-12) of
//! [`carrier::Carrier::account_schema`], built from `carrier::form`'s blocks, turned into the
//! fields a form shows — each with its title, hint, kind and whether it is required (always,
//! or when another field has a value: the schema's `allOf` of `if`/`then` `required`) — and the
//! credentials modes of its `oneOf`.
//!
//! Nothing here knows a carrier: every label, hint, pattern and choice comes from the schema.
//! JSON objects carry no order here (serde_json's map is sorted), so fields are ordered by
//! what they are: required ones first, then the optional, flags, and nested groups last; the
//! fields a choice requires follow that choice; an address's parts follow
//! [`super::address::ORDER`]. (A carrier cannot choose its order until the schema can carry
//! one.)

use serde_json::{Map, Value};

use super::address;

/// What kind of input a field is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A string; `pattern` is the schema's (anchored) regular expression.
    Text { pattern: Option<String> },
    /// A whole number or a decimal, sent as a JSON number.
    Number { integer: bool },
    /// A `writeOnly` string: accepted, never shown again.
    Secret { pattern: Option<String> },
    /// One of `options` (value, label), from `enum` and `x-labels`.
    Choice { options: Vec<(String, String)> },
    /// A boolean.
    Flag,
    /// A nested object, its fields named `group.field`.
    Group { fields: Vec<Field> },
}

/// "Required when `switch` is one of `values`" (or, `negated`, unless it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub switch: String,
    pub values: Vec<String>,
    pub negated: bool,
}

impl Condition {
    /// Whether the condition holds when the switch has `value` (`None`: no value).
    pub fn holds(&self, value: Option<&str>) -> bool {
        let listed = value.is_some_and(|value| self.values.iter().any(|listed| listed == value));
        listed != self.negated
    }
}

/// One input of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The input's name: the property's key, dotted below its group (`return_address.city`).
    pub name: String,
    /// The property's key in its object.
    pub key: String,
    pub title: String,
    pub description: String,
    pub kind: Kind,
    /// In the schema's `required`.
    pub required: bool,
    /// When not always required: the choices that make it required.
    pub conditions: Vec<Condition>,
    /// The schema's `default` of a scalar, as an input's text: what a blank form starts with.
    pub default: Option<String>,
}

impl Field {
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret { .. })
    }

    /// The group's fields (none for other kinds).
    pub fn fields(&self) -> &[Field] {
        match &self.kind {
            Kind::Group { fields } => fields,
            _ => &[],
        }
    }

    /// The label of choice `value` (the value itself when the schema has none).
    pub fn option_label<'a>(&'a self, value: &'a str) -> &'a str {
        match &self.kind {
            Kind::Choice { options } => options
                .iter()
                .find(|(option, _)| option == value)
                .map_or(value, |(_, label)| label.as_str()),
            _ => value,
        }
    }

    /// Whether the field applies when the switches have the values `switch_value` gives: a
    /// field required only under some choices belongs to those choices, and is shown and sent
    /// only with them. A switch without a value hides nothing.
    pub fn applies(&self, switch_value: impl Fn(&str) -> Option<String>) -> bool {
        if self.required || self.conditions.is_empty() {
            return true;
        }
        let mut undecided = false;
        let mut holds = false;
        for condition in &self.conditions {
            match switch_value(&condition.switch) {
                Some(value) => holds |= condition.holds(Some(&value)),
                None => undecided = true,
            }
        }
        holds || undecided
    }
}

/// A parsed object schema: its fields, in the order the form shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
}

/// One way to send credentials (an entry of the credentials' `oneOf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mode {
    /// The `mode` constant (`own_app`).
    pub name: String,
    pub title: String,
    pub description: String,
    /// Its fields, without `mode`.
    pub form: Form,
}

/// A carrier's whole account schema, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountSchema {
    pub details: Form,
    /// The credentials part's own title and description.
    pub credentials: Form,
    pub modes: Vec<Mode>,
}

impl AccountSchema {
    /// Reads `{"properties": {"details": {…}, "credentials": {…}}}`.
    pub fn parse(schema: &Value) -> Self {
        let part = |name: &str| schema.pointer(&format!("/properties/{name}"));
        let details = part("details")
            .map(|details| object_form(details, ""))
            .unwrap_or_default();
        let credentials = part("credentials");
        let modes = credentials
            .and_then(|credentials| credentials.get("oneOf"))
            .and_then(Value::as_array)
            .map(|modes| modes.iter().filter_map(mode).collect())
            .unwrap_or_default();
        AccountSchema {
            details,
            credentials: credentials.map(|c| object_form(c, "")).unwrap_or_default(),
            modes,
        }
    }

    /// The credentials mode named `name`.
    pub fn mode(&self, name: &str) -> Option<&Mode> {
        self.modes.iter().find(|mode| mode.name == name)
    }
}

fn text(schema: &Value, key: &str) -> String {
    schema
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The sentence-case form of a key, for a property without a title.
fn humanize(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn mode(schema: &Value) -> Option<Mode> {
    let name = schema
        .pointer("/properties/mode/const")?
        .as_str()?
        .to_owned();
    let mut form = object_form(schema, "");
    form.fields.retain(|field| field.key != "mode");
    Some(Mode {
        name,
        title: text(schema, "title"),
        description: text(schema, "description"),
        form,
    })
}

/// The fields of an object schema, named below `prefix` (`""` or `group.`).
/// An object schema of its own (a verification step's answer) as a form.
pub fn form(schema: &Value) -> Form {
    object_form(schema, "")
}

fn object_form(schema: &Value, prefix: &str) -> Form {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let conditions = conditions(schema);
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut fields: Vec<Field> = properties
        .iter()
        .map(|(key, property)| Field {
            name: format!("{prefix}{key}"),
            key: key.clone(),
            title: Some(text(property, "title"))
                .filter(|title| !title.is_empty())
                .unwrap_or_else(|| humanize(key)),
            description: text(property, "description"),
            kind: kind(property, &format!("{prefix}{key}.")),
            required: required.contains(&key.as_str()),
            conditions: conditions
                .iter()
                .filter(|(_, names)| names.iter().any(|name| name == key))
                .map(|(condition, _)| condition.clone())
                .collect(),
            default: match property.get("default") {
                Some(Value::String(text)) => Some(text.clone()),
                Some(Value::Number(number)) => Some(number.to_string()),
                _ => None,
            },
        })
        .collect();
    order(&mut fields, !prefix.is_empty());
    Form {
        title: text(schema, "title"),
        description: text(schema, "description"),
        fields,
    }
}

fn pattern(schema: &Value) -> Option<String> {
    schema
        .get("pattern")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn kind(schema: &Value, prefix: &str) -> Kind {
    if schema.get("writeOnly").and_then(Value::as_bool) == Some(true) {
        return Kind::Secret {
            pattern: pattern(schema),
        };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let labels = schema.get("x-labels");
        let options = values
            .iter()
            .filter_map(Value::as_str)
            .map(|value| {
                let label = labels
                    .and_then(|labels| labels.get(value))
                    .and_then(Value::as_str)
                    .unwrap_or(value);
                (value.to_owned(), label.to_owned())
            })
            .collect();
        return Kind::Choice { options };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => Kind::Flag,
        Some("integer") => Kind::Number { integer: true },
        Some("number") => Kind::Number { integer: false },
        Some("object") => Kind::Group {
            fields: object_form(schema, prefix).fields,
        },
        _ => Kind::Text {
            pattern: pattern(schema),
        },
    }
}

/// The `allOf` entries `{"if": …, "then": {"required": […]}}` whose `if` names one field's
/// constant (or values), or is the `not` of that.
fn conditions(schema: &Value) -> Vec<(Condition, Vec<String>)> {
    let Some(all) = schema.get("allOf").and_then(Value::as_array) else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|rule| {
            let condition = condition(rule.get("if")?)?;
            let names = rule
                .pointer("/then/required")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some((condition, names))
        })
        .collect()
}

fn condition(test: &Value) -> Option<Condition> {
    if let Some(inner) = test.get("not") {
        let mut condition = condition(inner)?;
        condition.negated = !condition.negated;
        return Some(condition);
    }
    let properties = test.get("properties")?.as_object()?;
    let (switch, constraint) = properties.iter().next().filter(|_| properties.len() == 1)?;
    let values = match (constraint.get("const"), constraint.get("enum")) {
        (Some(Value::String(value)), _) => vec![value.clone()],
        (_, Some(Value::Array(values))) => values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => return None,
    };
    Some(Condition {
        switch: switch.clone(),
        values,
        negated: false,
    })
}

/// Groups (and the choices that bring one along) last; before them required before optional,
/// plain inputs before flags, a choice that others depend on after the plain inputs of its
/// rank; inside a group, an address's parts in the address's order; otherwise by key.
fn order(fields: &mut [Field], in_group: bool) {
    let rank = |field: &Field| match field.kind {
        Kind::Flag => 1,
        Kind::Group { .. } => 2,
        _ => 0,
    };
    let keys: Vec<(usize, bool, bool, u8, bool, String)> = fields
        .iter()
        .map(|field| {
            let dependents: Vec<&Field> = fields
                .iter()
                .filter(|other| other.conditions.iter().any(|c| c.switch == field.key))
                .collect();
            let brings = dependents.iter().map(|d| rank(d)).max().unwrap_or(0);
            let place = if in_group {
                address::ORDER
                    .iter()
                    .position(|(key, _)| *key == field.key)
                    .unwrap_or(usize::MAX)
            } else {
                0
            };
            let rank = rank(field).max(brings);
            (
                place,
                rank == 2,
                !field.required,
                rank,
                !dependents.is_empty(),
                field.key.clone(),
            )
        })
        .collect();
    let mut indexed: Vec<(usize, Field)> = fields.iter().cloned().enumerate().collect();
    indexed.sort_by(|(a, _), (b, _)| keys[*a].cmp(&keys[*b]));
    for (slot, (_, field)) in fields.iter_mut().zip(indexed) {
        *slot = field;
    }
}

/// The values a field is required for (its conditions on `switch`), when `switch` is a choice
/// and the field is required only for some of its options.
pub fn cases(field: &Field, switch: &Field) -> Option<Vec<usize>> {
    let Kind::Choice { options } = &switch.kind else {
        return None;
    };
    if field.required
        || field.conditions.is_empty()
        || field
            .conditions
            .iter()
            .any(|condition| condition.switch != switch.key)
    {
        return None;
    }
    let chosen: Vec<usize> = options
        .iter()
        .enumerate()
        .filter(|(_, (value, _))| {
            field
                .conditions
                .iter()
                .any(|condition| condition.holds(Some(value)))
        })
        .map(|(index, _)| index)
        .collect();
    (chosen.len() < options.len()).then_some(chosen)
}

/// "required when Region is South", from the conditions and
/// the titles and labels of their switches among `fields`.
pub fn requirement_text(field: &Field, fields: &[Field]) -> Option<String> {
    if field.required || field.conditions.is_empty() {
        return None;
    }
    let parts: Vec<String> = field
        .conditions
        .iter()
        .map(|condition| {
            let switch = fields.iter().find(|other| other.key == condition.switch);
            let title = switch.map_or_else(|| humanize(&condition.switch), |s| s.title.clone());
            let values: Vec<&str> = condition
                .values
                .iter()
                .map(|value| switch.map_or(value.as_str(), |s| s.option_label(value)))
                .collect();
            let word = if condition.negated { "unless" } else { "when" };
            format!("{word} {title} is {}", values.join(" or "))
        })
        .collect();
    Some(format!("required {}", parts.join(", or ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier::form;
    use serde_json::json;

    fn example() -> Value {
        let details = json!({
            "type": "object",
            "title": "Depot account",
            "description": "Find these on your depot contract.",
            "properties": {
                "depot_code": form::pattern("Depot code", "Three letters and two digits.", "^[A-Z]{3}-[0-9]{2}$"),
                "region": form::choice("Region", "", &[("north", "North"), ("south", "South")]),
                "dock": form::text("Loading dock", ""),
                "pin": form::secret("Dock PIN", "Four digits."),
                "pickup": form::flag("Pickup", ""),
                "return_address": form::address("Return address", ""),
            },
            "required": ["depot_code", "region"],
            "allOf": [
                form::required_when("region", "south", &["dock", "pin"]),
            ],
        });
        let credentials = json!({
            "title": "Connection",
            "oneOf": [form::mode("api_token", "API token", "From the depot portal.", &[
                ("token", form::secret("Token", "Kept encrypted.")),
            ])],
        });
        form::account(details, credentials)
    }

    #[test]
    fn fields_come_with_their_kinds_titles_and_requirements() {
        let schema = AccountSchema::parse(&example());
        let names: Vec<&str> = schema
            .details
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "depot_code",
                "region",
                "dock",
                "pin",
                "pickup",
                "return_address"
            ]
        );
        let code = &schema.details.fields[0];
        assert_eq!(code.title, "Depot code");
        assert_eq!(
            code.kind,
            Kind::Text {
                pattern: Some("^[A-Z]{3}-[0-9]{2}$".into())
            }
        );
        assert!(code.required);
        let region = &schema.details.fields[1];
        assert_eq!(region.option_label("south"), "South");
        let pin = &schema.details.fields[3];
        assert!(pin.is_secret() && !pin.required);
        assert_eq!(
            requirement_text(pin, &schema.details.fields).as_deref(),
            Some("required when Region is South")
        );
        assert_eq!(cases(pin, region), Some(vec![1]));
        let address = &schema.details.fields[5];
        let parts: Vec<&str> = address.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            &parts[..4],
            [
                "return_address.first_name",
                "return_address.last_name",
                "return_address.firm",
                "return_address.street1"
            ]
        );
    }

    #[test]
    fn a_field_required_for_some_choices_applies_only_to_them() {
        let schema = AccountSchema::parse(&example());
        let pin = &schema.details.fields[3];
        assert!(pin.applies(|_| Some("south".into())));
        assert!(!pin.applies(|_| Some("north".into())));
        assert!(pin.applies(|_| None), "no choice yet hides nothing");
        let negated = Condition {
            switch: "region".into(),
            values: vec!["north".into()],
            negated: true,
        };
        assert!(
            negated.holds(None) && negated.holds(Some("south")) && !negated.holds(Some("north"))
        );
    }

    #[test]
    fn credentials_modes_are_read_from_one_of() {
        let schema = AccountSchema::parse(&example());
        let mode = schema.mode("api_token").unwrap();
        assert_eq!(mode.title, "API token");
        assert_eq!(mode.form.fields.len(), 1);
        assert!(mode.form.fields[0].is_secret() && mode.form.fields[0].required);
        assert!(schema.mode("own_app").is_none());
        assert_eq!(schema.credentials.title, "Connection");
    }
}
