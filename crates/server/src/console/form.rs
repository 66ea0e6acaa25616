//! Forms: what a browser posts, the API's field errors placed beside the inputs they are about,
//! and the inputs themselves (a `<label for>` on each, hints and errors tied to the input with
//! `aria-describedby`, `aria-invalid` when wrong).
//!
//! The console validates nothing itself: it turns fields into the API's request shapes and
//! shows the field errors the services answer (`details.return_address.city`,
//! `from_address.zip5` …) next to the input of that name.

use carrier::ValidationErrors;
use maud::{Markup, html};
use serde_json::{Map, Value};

/// The fields of a posted form (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Fields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, as sent ("" when absent).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Every value sent for `name` (checkboxes), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The value of `name`, trimmed; `None` when blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(self.raw(name).trim()).filter(|value| !value.is_empty())
    }

    /// The value of `name` as JSON: a string, or `null` when blank.
    pub fn json(&self, name: &str) -> Value {
        self.get(name)
            .map_or(Value::Null, |value| Value::String(value.to_owned()))
    }

    /// An object of the non-blank fields `prefix.key` for each of `keys` (blank ones left out).
    pub fn object(&self, prefix: &str, keys: &[&str]) -> Map<String, Value> {
        keys.iter()
            .filter_map(|key| {
                self.get(&format!("{prefix}.{key}"))
                    .map(|value| ((*key).to_owned(), Value::String(value.to_owned())))
            })
            .collect()
    }
}

/// One error shown on a form: the input it is about (its name), and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The errors of a form, by input name.
#[derive(Debug, Clone, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    /// The API's field errors with `strip` taken off the front of each path (`details.`), so
    /// that they name the form's inputs.
    pub fn from_validation(errors: &ValidationErrors, strip: &str) -> Self {
        Errors(
            errors
                .errors()
                .iter()
                .map(|error| FieldError {
                    field: error
                        .field
                        .strip_prefix(strip)
                        .unwrap_or(&error.field)
                        .to_owned(),
                    message: error.message.clone(),
                })
                .collect(),
        )
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, other: Errors) {
        self.0.extend(other.0);
    }

    /// The messages about input `name`, joined.
    pub fn of(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .0
            .iter()
            .filter(|error| error.field == name)
            .map(|error| error.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    /// The summary above a form: every error, named by its input's label (`labels`: input
    /// name → label) and linking to that input, so a keyboard user can jump to it.
    pub fn summary(&self, labels: &[(&str, &str)]) -> Markup {
        if self.0.is_empty() {
            return html! {};
        }
        let label = |field: &str| {
            labels
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(_, label)| *label)
        };
        html! {
            div.alert.error role="alert" aria-labelledby="error-summary-title" {
                h2 #error-summary-title {
                    @if self.0.len() == 1 { "There is a problem" } @else { "There are " (self.0.len()) " problems" }
                }
                ul {
                    @for error in &self.0 {
                        li {
                            @match label(&error.field) {
                                Some(label) => {
                                    a href={ "#" (input_id(&error.field)) } { (sentence(label, &error.message)) }
                                }
                                None => { (sentence(&error.field.replace(['.', '_'], " "), &error.message)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "Loading dock must be 1 to 4 digits": the API's messages are predicates about their field.
fn sentence(label: &str, message: &str) -> String {
    if message.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("{label} {message}")
    } else {
        format!("{label}: {message}")
    }
}

/// The id of the input named `name` (ids avoid dots, which CSS selectors would need escaped).
pub fn input_id(name: &str) -> String {
    format!("f-{}", name.replace(['.', '_'], "-"))
}

/// An input with its label, hint and error.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    /// `text`, `password`, `email`, `tel`, `number`.
    pub kind: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    /// The id of a `<datalist>` of suggestions.
    pub list: Option<&'a str>,
    /// Width class: `short` for codes and numbers.
    pub short: bool,
    /// The `pattern` a value must match (the browser's check; the server judges).
    pub pattern: Option<&'a str>,
    /// When the field is required only in some cases: which (instead of "optional").
    pub requirement: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn text(name: &'a str, label: &'a str, value: &'a str) -> Self {
        Input {
            name,
            label,
            value,
            kind: "text",
            required: false,
            hint: None,
            autocomplete: None,
            inputmode: None,
            list: None,
            short: false,
            pattern: None,
            requirement: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'a str) -> Self {
        self.autocomplete = Some(autocomplete);
        self
    }

    /// Digits only (a numeric keyboard on phones).
    pub fn digits(mut self) -> Self {
        self.inputmode = Some("numeric");
        self.short = true;
        self
    }

    pub fn short(mut self) -> Self {
        self.short = true;
        self
    }

    pub fn list(mut self, list: &'a str) -> Self {
        self.list = Some(list);
        self
    }

    pub fn pattern(mut self, pattern: &'a str) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// "required when …": shown where "(optional)" would be.
    pub fn requirement(mut self, requirement: &'a str) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// The field, with the error about it from `errors`.
    pub fn render(&self, errors: &Errors) -> Markup {
        let id = input_id(self.name);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let error = errors.of(self.name);
        let mut described = Vec::new();
        if self.hint.is_some() {
            described.push(hint_id.clone());
        }
        if error.is_some() {
            described.push(error_id.clone());
        }
        let described = (!described.is_empty()).then(|| described.join(" "));
        html! {
            div.field.has-error[error.is_some()] {
                label for=(id) {
                    (self.label)
                    (optional(self.required, self.requirement))
                }
                @if let Some(hint) = self.hint { p.hint id=(hint_id) { (hint) } }
                @if let Some(error) = &error { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (error) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    .short[self.short]
                    aria-required=[self.required.then_some("true")]
                    aria-invalid=[error.as_ref().map(|_| "true")]
                    aria-describedby=[described]
                    autocomplete=[self.autocomplete]
                    inputmode=[self.inputmode]
                    list=[self.list]
                    pattern=[self.pattern]
                    spellcheck=[(self.kind == "text").then_some("false")];
            }
        }
    }
}

/// "(optional)", or when the field is required only in some cases, which.
fn optional(required: bool, requirement: Option<&str>) -> Markup {
    html! {
        @if !required {
            span.optional { " (" (requirement.unwrap_or("optional")) ")" }
        }
    }
}

/// What a `<select>` or a set of radio buttons says besides its choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choice<'a> {
    /// Marked "(optional)" when false and no `requirement` is given.
    pub required: bool,
    pub requirement: Option<&'a str>,
    pub hint: Option<&'a str>,
}

impl Choice<'_> {
    /// A required choice without a hint (the label says enough).
    pub const PLAIN: Choice<'static> = Choice {
        required: true,
        requirement: None,
        hint: None,
    };
}

/// The ids an input is described by: its hint's and its error's.
fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [(hint, "hint"), (error, "error")]
        .into_iter()
        .filter(|(present, _)| *present)
        .map(|(_, suffix)| format!("{id}-{suffix}"))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A `<select>` with its label and error; `options` are (value, text).
pub fn select(
    name: &str,
    label: &str,
    selected: &str,
    options: &[(String, String)],
    errors: &Errors,
) -> Markup {
    select_with(name, label, selected, options, errors, Choice::PLAIN)
}

/// [`select`] with a hint, and "(optional)" or a requirement beside the label.
pub fn select_with(
    name: &str,
    label: &str,
    selected: &str,
    options: &[(String, String)],
    errors: &Errors,
    choice: Choice<'_>,
) -> Markup {
    let id = input_id(name);
    let error_id = format!("{id}-error");
    let error = errors.of(name);
    let described = described_by(&id, choice.hint.is_some(), error.is_some());
    html! {
        div.field.has-error[error.is_some()] {
            label for=(id) { (label) (optional(choice.required, choice.requirement)) }
            @if let Some(hint) = choice.hint { p.hint id={ (id) "-hint" } { (hint) } }
            @if let Some(error) = &error { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (error) } }
            select id=(id) name=(name)
                aria-invalid=[error.as_ref().map(|_| "true")]
                aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// A set of radio buttons in a fieldset; `options` are (value, text).
pub fn radios(
    name: &str,
    legend: &str,
    selected: &str,
    options: &[(&str, &str)],
    errors: &Errors,
) -> Markup {
    radios_with(name, legend, selected, options, errors, Choice::PLAIN)
}

/// [`radios`] with a hint, and "(optional)" or a requirement beside the legend.
pub fn radios_with(
    name: &str,
    legend: &str,
    selected: &str,
    options: &[(&str, &str)],
    errors: &Errors,
    choice: Choice<'_>,
) -> Markup {
    let id = input_id(name);
    let error_id = format!("{id}-error");
    let error = errors.of(name);
    let described = described_by(&id, choice.hint.is_some(), error.is_some());
    html! {
        fieldset.radios.has-error[error.is_some()] id=(id)
            aria-describedby=[described] {
            legend { (legend) (optional(choice.required, choice.requirement)) }
            @if let Some(hint) = choice.hint { p.hint id={ (id) "-hint" } { (hint) } }
            @if let Some(error) = &error { p.field-error id=(error_id) { span.visually-hidden { "Error: " } (error) } }
            @for (value, text) in options {
                @let option_id = format!("{id}-{}", value.to_ascii_lowercase());
                div.radio {
                    input type="radio" id=(option_id) name=(name) value=(value) checked[*value == selected];
                    label for=(option_id) { (text) }
                }
            }
        }
    }
}

/// A checkbox sending `true` when ticked, with its label, hint and error.
pub fn checkbox(name: &str, label: &str, checked: bool, hint: &str, errors: &Errors) -> Markup {
    let id = input_id(name);
    let error = errors.of(name);
    let described = described_by(&id, !hint.is_empty(), error.is_some());
    html! {
        div.field.checkbox.has-error[error.is_some()] {
            @if let Some(error) = &error { p.field-error id={ (id) "-error" } { span.visually-hidden { "Error: " } (error) } }
            input type="checkbox" id=(id) name=(name) value="true" checked[checked]
                aria-invalid=[error.as_ref().map(|_| "true")]
                aria-describedby=[described];
            label for=(id) { (label) }
            @if !hint.is_empty() { p.hint id={ (id) "-hint" } { (hint) } }
        }
    }
}

/// A `<datalist>` of suggestions (what the carrier offered).
pub fn datalist(id: &str, values: &[String]) -> Markup {
    html! {
        @if !values.is_empty() {
            datalist id=(id) {
                @for value in values { option value=(value) {} }
            }
        }
    }
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Tags as the form shows them: one `key=value` a line.
pub fn tags_text(tags: &accounts::Tags) -> String {
    tags.iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tags from the form's `key=value` lines, as the API's JSON object (the service checks them);
/// a line without `=` is an error on `field`.
pub fn tags_json(text: &str, field: &str, errors: &mut Errors) -> Value {
    let mut map = Map::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        match line.split_once('=') {
            Some((key, value)) => {
                map.insert(
                    key.trim().to_owned(),
                    Value::String(value.trim().to_owned()),
                );
            }
            None => errors.push(
                field,
                format!("write each tag as name=value (\"{line}\" has no =)"),
            ),
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_blank_is_absent() {
        let fields = Fields::parse(b"depot_code=+ABC-12+&dock=&name=East%20warehouse");
        assert_eq!(fields.get("depot_code"), Some("ABC-12"));
        assert_eq!(fields.get("dock"), None);
        assert_eq!(fields.json("dock"), Value::Null);
        assert_eq!(fields.raw("name"), "East warehouse");
    }

    #[test]
    fn api_errors_name_the_form_inputs() {
        let mut api = ValidationErrors::new();
        api.push(
            "details.depot_code",
            "must be 3 letters, a dash and 2 digits",
        );
        api.push("details.return_address.zip5", "must be 5 digits");
        let errors = Errors::from_validation(&api, "details.");
        assert_eq!(
            errors.of("depot_code").as_deref(),
            Some("must be 3 letters, a dash and 2 digits")
        );
        assert!(errors.of("return_address.zip5").is_some());
        assert_eq!(input_id("return_address.zip5"), "f-return-address-zip5");
    }

    #[test]
    fn inputs_have_labels_and_say_what_is_wrong() {
        let mut errors = Errors::new();
        errors.push("dock", "must be 1 to 4 digits");
        let html = Input::text("dock", "Loading dock", "<1>")
            .required()
            .render(&errors)
            .into_string();
        assert!(html.contains(r#"<label for="f-dock">"#), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(html.contains("must be 1 to 4 digits"), "{html}");
        assert!(html.contains("&lt;1&gt;"), "values are escaped: {html}");
    }

    #[test]
    fn tags_are_lines_of_name_and_value() {
        let mut errors = Errors::new();
        let tags = tags_json("location = east\n\nteam=returns", "tags", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            tags,
            serde_json::json!({"location": "east", "team": "returns"})
        );
        tags_json("oops", "tags", &mut errors);
        assert!(errors.of("tags").is_some());
    }
}
