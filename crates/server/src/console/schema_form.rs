//! A form rendered from a carrier's schema ([`super::schema`]), and a posted form read back
//! into the JSON the API takes.
//!
//! - Text with a `pattern` gets the HTML `pattern`; a choice is a `<select>` of its labels, or,
//!   when other fields depend on it, radio buttons followed by those fields, which show only
//!   once a choice that requires them is made (CSS `:has`, no script: `console.css`, `.switch`); a
//!   boolean is a checkbox; a `writeOnly` secret is a password input that is never filled in
//!   ("leave empty to keep the current one" when there is one); a nested object is a fieldset
//!   of inputs named `group.field`. Required inputs are marked, and the conditionally required
//!   say when ("required when Region is South").
//! - Values come from the stored details, or from what was posted (never a secret), and a
//!   blank form starts with the schema's defaults; the carrier's onboarding offers (`account.onboarding`) are each text input's suggestions.
//! - Reading back takes only the schema's fields: blank is absent, a ticked box `true`, nested
//!   objects nested, and the fields of a choice not taken left out.

use maud::{Markup, html};
use serde_json::{Map, Value};

use super::address;
use super::form::{self, Choice, Errors, Fields, Input};
use super::schema::{self, Field, Kind};

/// The most options a choice can switch dependent fields for (the stylesheet's rules).
pub const MAX_SWITCH_OPTIONS: usize = 8;

/// Where a form's values come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// An empty form.
    Blank,
    /// The stored details (or public credentials), by field name.
    Stored(&'a Value),
    /// What was posted, by input name.
    Posted(&'a Fields),
}

/// What a rendered form needs besides its fields.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Prefixed to every input's name (`credentials.`), or `""`.
    pub prefix: &'a str,
    pub source: Source<'a>,
    /// The stored values, when the form edits something that exists (for "current" secrets).
    pub stored: Option<&'a Value>,
    /// What the carrier offered at sign-in, by field name (`account.onboarding`).
    pub offered: Option<&'a Value>,
    /// The carrier's name, for "… shared: …".
    pub carrier: &'a str,
    pub errors: &'a Errors,
}

/// The value at a dotted `name` of a JSON object.
pub fn lookup<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    name.split('.')
        .try_fold(value, |value, key| value.get(key))
        .filter(|value| !value.is_null())
}

/// A JSON scalar as the text of an input.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

impl Context<'_> {
    fn input_name(&self, field: &Field) -> String {
        format!("{}{}", self.prefix, field.name)
    }

    /// The value an input shows: never a secret's.
    fn value(&self, field: &Field) -> String {
        if field.is_secret() {
            return String::new();
        }
        match self.source {
            Source::Blank => field.default.clone().unwrap_or_default(),
            Source::Stored(stored) => lookup(stored, &field.name)
                .and_then(as_text)
                .unwrap_or_default(),
            Source::Posted(fields) => fields.raw(&self.input_name(field)).trim().to_owned(),
        }
    }

    fn offered(&self, field: &Field) -> Vec<String> {
        self.offered
            .and_then(|offered| offered.get(&field.name))
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(as_text).collect())
            .unwrap_or_default()
    }
}

/// The fields that follow switch `switch` among `fields`, with the option indexes each is for.
fn dependents<'f>(switch: &Field, fields: &'f [Field]) -> Vec<(&'f Field, Vec<usize>)> {
    let small =
        matches!(&switch.kind, Kind::Choice { options } if options.len() <= MAX_SWITCH_OPTIONS);
    if !small {
        return Vec::new();
    }
    fields
        .iter()
        .filter_map(|field| schema::cases(field, switch).map(|cases| (field, cases)))
        .collect()
}

/// The inputs of `fields` (one object's), as the form shows them.
pub fn render(fields: &[Field], context: &Context<'_>) -> Markup {
    let followers: Vec<&str> = fields
        .iter()
        .flat_map(|switch| dependents(switch, fields))
        .map(|(field, _)| field.name.as_str())
        .collect();
    html! {
        @for field in fields.iter().filter(|field| !followers.contains(&field.name.as_str())) {
            @let following = dependents(field, fields);
            @if following.is_empty() {
                (render_field(field, fields, context, false))
            } @else {
                div.switch {
                    (render_field(field, fields, context, true))
                    @for (dependent, cases) in &following {
                        @let classes = cases.iter().map(|case| format!("case-{case}")).collect::<Vec<_>>().join(" ");
                        div class={ "case " (classes) } {
                            (render_field(dependent, fields, context, false))
                        }
                    }
                }
            }
        }
    }
}

/// Whether `pattern` asks for digits only (a numeric keyboard on phones).
fn digits_only(pattern: &str) -> bool {
    pattern.contains("[0-9]")
        && pattern
            .replace("[0-9]", "")
            .chars()
            .all(|c| "^$(){}|,?*+0123456789".contains(c))
}

fn render_field(field: &Field, siblings: &[Field], context: &Context<'_>, switch: bool) -> Markup {
    let name = context.input_name(field);
    let requirement = schema::requirement_text(field, siblings);
    let hint = Some(field.description.as_str()).filter(|hint| !hint.is_empty());
    // A choice's offers (what the carrier shared at sign-in) are named in its hint.
    let shared: Vec<String> = match &field.kind {
        Kind::Choice { .. } => context
            .offered(field)
            .iter()
            .map(|offer| field.option_label(offer).to_owned())
            .collect(),
        _ => Vec::new(),
    };
    let choice_hint = (!shared.is_empty()).then(|| {
        format!(
            "{} {} shared: {}.",
            field.description,
            context.carrier,
            shared.join(", ")
        )
        .trim()
        .to_owned()
    });
    let choice = Choice {
        required: field.required,
        requirement: requirement.as_deref(),
        hint: choice_hint.as_deref().or(hint),
    };
    let value = context.value(field);
    match &field.kind {
        Kind::Choice { options } if switch => {
            let options: Vec<(&str, &str)> = options
                .iter()
                .map(|(value, label)| (value.as_str(), label.as_str()))
                .collect();
            form::radios_with(
                &name,
                &field.title,
                &value,
                &options,
                context.errors,
                choice,
            )
        }
        Kind::Choice { options } => {
            let mut choices = vec![(String::new(), "Choose…".to_owned())];
            choices.extend(options.iter().cloned());
            form::select_with(
                &name,
                &field.title,
                &value,
                &choices,
                context.errors,
                choice,
            )
        }
        Kind::Flag => {
            let checked = value == "true";
            form::checkbox(
                &name,
                &field.title,
                checked,
                &field.description,
                context.errors,
            )
        }
        Kind::Group { fields } => {
            render_group(field, fields, &name, requirement.as_deref(), context)
        }
        Kind::Secret { pattern } => {
            let current = context
                .stored
                .and_then(|stored| lookup(stored, &field.name))
                .and_then(as_text);
            let offered = context.offered(field);
            if offered.len() > 1 {
                return secret_choices(
                    field,
                    &offered,
                    current.as_deref(),
                    requirement.as_deref(),
                    pattern.as_deref(),
                    context,
                );
            }
            let mut hint = field.description.clone();
            // What the carrier shared, unless it is just what is stored.
            if !offered.is_empty() && offered != current.iter().cloned().collect::<Vec<_>>() {
                hint = format!("{hint} {} shared: {}.", context.carrier, offered.join(", "));
            }
            if let Some(current) = &current {
                hint = format!(
                    "{hint} Now {current}: kept encrypted; leave empty to keep the current one."
                );
            }
            let hint = hint.trim().to_owned();
            let input = Input::text(&name, &field.title, "")
                .kind("password")
                .autocomplete("new-password");
            let input = Input {
                required: field.required,
                ..input
            };
            let input = match requirement.as_deref() {
                Some(requirement) => input.requirement(requirement),
                None => input,
            };
            let input = match pattern.as_deref() {
                Some(pattern) => input.pattern(pattern),
                None => input,
            };
            let input = if hint.is_empty() {
                input
            } else {
                input.hint(&hint)
            };
            input.render(context.errors)
        }
        Kind::Text { pattern } => {
            let list_id = format!("{}-options", form::input_id(&name));
            let offered = context.offered(field);
            // The offers are the input's suggestions, and named in its hint unless the one
            // offer is what the input holds.
            let shared_hint = (!offered.is_empty() && offered != [value.clone()]).then(|| {
                format!(
                    "{} {} shared: {}.",
                    field.description,
                    context.carrier,
                    offered.join(", ")
                )
                .trim()
                .to_owned()
            });
            let hint = shared_hint.as_deref().or(hint);
            let input = Input::text(&name, &field.title, &value);
            let input = Input {
                required: field.required,
                ..input
            };
            let input = match requirement.as_deref() {
                Some(requirement) => input.requirement(requirement),
                None => input,
            };
            let input = match pattern.as_deref() {
                Some(pattern) if digits_only(pattern) => input.pattern(pattern).digits(),
                Some(pattern) => input.pattern(pattern).short(),
                None => input,
            };
            let input = match hint {
                Some(hint) => input.hint(hint),
                None => input,
            };
            let input = match address::autocomplete(&field.key) {
                Some(token) if field.name.contains('.') => input.autocomplete(token),
                _ => input,
            };
            let input = if offered.is_empty() {
                input
            } else {
                input.list(&list_id)
            };
            html! {
                (form::datalist(&list_id, &offered))
                (input.render(context.errors))
            }
        }
        Kind::Number { integer } => {
            let input = Input::text(&name, &field.title, &value).short();
            let input = Input {
                required: field.required,
                inputmode: Some(if *integer { "numeric" } else { "decimal" }),
                ..input
            };
            let input = match requirement.as_deref() {
                Some(requirement) => input.requirement(requirement),
                None => input,
            };
            let input = match hint {
                Some(hint) => input.hint(hint),
                None => input,
            };
            input.render(context.errors)
        }
    }
}

/// A secret the carrier offered several of (payment accounts, masked to their last digits):
/// a radio button for each masked offer, as a payments form lists cards, and a password input
/// for a full number instead. Both post under the field's name; a typed number wins.
fn secret_choices(
    field: &Field,
    offered: &[String],
    current: Option<&str>,
    requirement: Option<&str>,
    pattern: Option<&str>,
    context: &Context<'_>,
) -> Markup {
    let name = context.input_name(field);
    let id = form::input_id(&name);
    let error = context.errors.of(&name);
    let chosen: Option<String> = match context.source {
        Source::Posted(fields) => fields
            .all(&name)
            .into_iter()
            .map(str::trim)
            .find(|value| offered.iter().any(|offer| offer == value))
            .map(str::to_owned),
        Source::Stored(_) | Source::Blank => current.map(str::to_owned),
    };
    let hint = format!(
        "{} {} shared these; only their last digits are shown. Choose one, or type another account's full number.",
        field.description, context.carrier
    );
    let hint = hint.trim().to_owned();
    let other_id = format!("{id}-other");
    html! {
        fieldset.radios.has-error[error.is_some()] id=(id) aria-describedby={ (id) "-hint" } {
            legend {
                (field.title)
                @if !field.required { span.optional { " (" (requirement.unwrap_or("optional")) ")" } }
            }
            p.hint id={ (id) "-hint" } { (hint) }
            @if let Some(error) = &error {
                p.field-error id={ (id) "-error" } { span.visually-hidden { "Error: " } (error) }
            }
            @for (index, offer) in offered.iter().enumerate() {
                @let option_id = format!("{id}-choice-{index}");
                div.radio {
                    input type="radio" id=(option_id) name=(name) value=(offer)
                        checked[chosen.as_deref() == Some(offer.as_str())];
                    label for=(option_id) { (offer) }
                }
            }
            div.field {
                label for=(other_id) { "Another account's full number" span.optional { " (instead)" } }
                input id=(other_id) name=(name) type="password" value=""
                    autocomplete="new-password" pattern=[pattern];
            }
        }
    }
}

fn render_group(
    field: &Field,
    fields: &[Field],
    name: &str,
    requirement: Option<&str>,
    context: &Context<'_>,
) -> Markup {
    let error = context.errors.of(name);
    html! {
        fieldset.has-error[error.is_some()] id=(form::input_id(name)) {
            legend {
                (field.title)
                @if !field.required { span.optional { " (" (requirement.unwrap_or("optional")) ")" } }
            }
            @if !field.description.is_empty() { p.hint { (field.description) } }
            @if let Some(error) = &error {
                p.field-error id={ (form::input_id(name)) "-error" } { span.visually-hidden { "Error: " } (error) }
            }
            (render(fields, context))
        }
    }
}

/// Every input's label by name (a group's too), for the error summary.
pub fn labels(fields: &[Field], prefix: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .flat_map(|field| {
            let mut own = vec![(format!("{prefix}{}", field.name), field.title.clone())];
            own.extend(labels(field.fields(), prefix));
            own
        })
        .collect()
}

/// The posted value of switch `key` among the top-level inputs.
fn switch_value(posted: &Fields, prefix: &str, key: &str) -> Option<String> {
    posted.get(&format!("{prefix}{key}")).map(str::to_owned)
}

/// The JSON of one posted input (`None`: blank).
fn read_value(field: &Field, posted: &Fields, prefix: &str) -> Option<Value> {
    let name = format!("{prefix}{}", field.name);
    match &field.kind {
        Kind::Flag => posted.get(&name).map(|_| Value::Bool(true)),
        Kind::Group { fields } => {
            let object = read(fields, posted, prefix);
            (!object.is_empty()).then_some(Value::Object(object))
        }
        Kind::Number { integer } => posted.get(&name).map(|raw| {
            let number = if *integer {
                raw.parse::<i64>().ok().map(Value::from)
            } else {
                raw.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            };
            // As typed when it is no number: the API says what is wrong with it.
            number.unwrap_or_else(|| Value::String(raw.to_owned()))
        }),
        // A secret offered as choices posts twice (the chosen offer, the typed number): what
        // was typed wins.
        Kind::Secret { .. } => posted
            .all(&name)
            .into_iter()
            .rev()
            .map(str::trim)
            .find(|value| !value.is_empty())
            .map(|value| Value::String(value.to_owned())),
        _ => posted.get(&name).map(|raw| Value::String(raw.to_owned())),
    }
}

/// The object `fields` make of a posted form (inputs named `prefix` + field name): only the
/// schema's fields, blank ones absent, and the fields of a choice not taken left out.
pub fn read(fields: &[Field], posted: &Fields, prefix: &str) -> Map<String, Value> {
    fields
        .iter()
        .filter(|field| field.applies(|key| switch_value(posted, prefix, key)))
        .filter_map(|field| Some((field.key.clone(), read_value(field, posted, prefix)?)))
        .collect()
}

/// The JSON merge patch (RFC 7396, as `PATCH /v1/shipper-accounts/{id}` takes `details`)
/// that makes `current` what the form posted: a blank input removes its value, a blank secret
/// keeps the stored one, and the fields of a choice not taken are removed.
pub fn merge_patch(fields: &[Field], posted: &Fields, current: &Value) -> Value {
    let mut patch = Map::new();
    for field in fields {
        let stored = current.get(&field.key).filter(|value| !value.is_null());
        let applies = field.applies(|key| switch_value(posted, "", key));
        let value = if applies {
            read_value(field, posted, "")
        } else {
            None
        };
        match (value, &field.kind) {
            (Some(Value::Object(_)), Kind::Group { fields })
                if stored.is_some_and(Value::is_object) =>
            {
                let inner = merge_patch(fields, posted, stored.unwrap_or(&Value::Null));
                patch.insert(field.key.clone(), inner);
            }
            (Some(value), _) => {
                patch.insert(field.key.clone(), value);
            }
            (None, Kind::Secret { .. }) if applies => {}
            (None, _) => {
                if stored.is_some() {
                    patch.insert(field.key.clone(), Value::Null);
                }
            }
        }
    }
    Value::Object(patch)
}

/// A stored value as an account page shows it: a choice by its label, a flag as Yes or No,
/// an address as its lines.
fn shown(field: &Field, value: &Value) -> Vec<String> {
    match (&field.kind, value) {
        (Kind::Choice { .. }, Value::String(chosen)) => vec![field.option_label(chosen).to_owned()],
        (Kind::Flag, Value::Bool(flag)) => vec![if *flag { "Yes" } else { "No" }.to_owned()],
        (Kind::Group { fields }, Value::Object(object)) => {
            if address::is_address(object.keys().map(String::as_str)) {
                address::lines(value)
            } else {
                fields
                    .iter()
                    .filter_map(|inner| {
                        let part = object.get(&inner.key)?;
                        Some(format!(
                            "{}: {}",
                            inner.title,
                            shown(inner, part).join(", ")
                        ))
                    })
                    .collect()
            }
        }
        (_, other) => as_text(other).into_iter().collect(),
    }
}

/// The stored details as `<dt>`/`<dd>` pairs, in the form's order (secrets as stored: masked).
pub fn facts(fields: &[Field], details: &Value) -> Markup {
    let followers: Vec<&str> = fields
        .iter()
        .flat_map(|switch| dependents(switch, fields))
        .map(|(field, _)| field.name.as_str())
        .collect();
    let mut ordered: Vec<&Field> = Vec::new();
    for field in fields
        .iter()
        .filter(|field| !followers.contains(&field.name.as_str()))
    {
        ordered.push(field);
        ordered.extend(
            dependents(field, fields)
                .into_iter()
                .map(|(field, _)| field),
        );
    }
    html! {
        @for field in ordered {
            @if let Some(value) = lookup(details, &field.name) {
                @let lines = shown(field, value);
                @if !lines.is_empty() {
                    dt { (field.title) }
                    dd { @for (index, line) in lines.iter().enumerate() { @if index > 0 { br; } (line) } }
                }
            }
        }
    }
}

/// An account in a few words, for tables: each choice that brings fields of its own, by its
/// label with those fields' values ("South region D7"); else the required fields' values.
pub fn summary(fields: &[Field], details: &Value) -> String {
    let scalar = |field: &Field| !matches!(field.kind, Kind::Group { .. } | Kind::Flag);
    let mut parts: Vec<String> = Vec::new();
    for switch in fields {
        let Kind::Choice { options } = &switch.kind else {
            continue;
        };
        let Some(chosen) = details.get(&switch.key).and_then(Value::as_str) else {
            continue;
        };
        let Some(index) = options.iter().position(|(value, _)| value == chosen) else {
            continue;
        };
        let values: Vec<String> = dependents(switch, fields)
            .into_iter()
            .filter(|(field, cases)| scalar(field) && cases.contains(&index))
            .filter_map(|(field, _)| lookup(details, &field.name).and_then(as_text))
            .collect();
        if !values.is_empty() {
            parts.push(format!(
                "{} {}",
                switch.option_label(chosen),
                values.join(" ")
            ));
        }
    }
    if parts.is_empty() {
        parts = fields
            .iter()
            .filter(|field| field.required && scalar(field))
            .filter_map(|field| {
                let value = lookup(details, &field.name)?;
                shown(field, value).into_iter().next()
            })
            .collect();
    }
    parts.join(" · ")
}

#[cfg(test)]
#[path = "schema_form_tests.rs"]
mod tests;
