//! Plain text: what every free-text input (a name, a tag, a reference, a client id) must be
//! before it is stored or sent to a carrier.
//!
//! Control characters are refused everywhere. Postgres refuses a NUL byte in `text` and
//! `jsonb` (so a NUL that got this far would be a failed statement, not a 422), XML 1.0 —
//! USPS Web Tools — refuses most of them, and a CR/LF in a name or reference is an injection
//! waiting for a header or a log line. One rule for every carrier, applied at the edge.

use serde_json::Value;

use crate::error::ValidationErrors;

/// The message every refused control character gets.
pub const CONTROL_CHARACTERS: &str = "must not contain control characters";

/// Whether `value` has a control character (C0, DEL or C1: NUL, TAB, CR, LF, VT, ESC, …).
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// Refuses `value` for `field` when it has a control character.
pub fn check_plain(field: &str, value: &str) -> Result<(), ValidationErrors> {
    if has_control(value) {
        Err(ValidationErrors::single(field, CONTROL_CHARACTERS))
    } else {
        Ok(())
    }
}

/// Records one error for every string (or object key) in `value` that has a control
/// character, naming its dotted path under `path` (`""` for the document's root). The value
/// itself is never echoed: it may be a secret.
pub fn check_json(path: &str, value: &Value, errors: &mut ValidationErrors) {
    match value {
        Value::String(text) if has_control(text) => {
            errors.push(display_path(path), CONTROL_CHARACTERS);
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                check_json(&format!("{path}[{index}]"), item, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if has_control(key) {
                    // The key cannot name itself: name its parent.
                    errors.push(
                        display_path(path),
                        "has a field name with control characters",
                    );
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                check_json(&child, item, errors);
            }
        }
        _ => {}
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(value: &Value) -> Vec<String> {
        let mut errors = ValidationErrors::new();
        check_json("", value, &mut errors);
        errors.errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn every_kind_of_control_character_is_refused() {
        for character in [
            '\0', '\t', '\n', '\r', '\u{0b}', '\u{1b}', '\u{7f}', '\u{85}',
        ] {
            let value = format!("RMA{character}1001");
            assert!(check_plain("reference", &value).is_err(), "{character:?}");
        }
        assert!(check_plain("reference", "RMA-1001 – Straße").is_ok());
    }

    #[test]
    fn nested_strings_are_named_by_their_path() {
        let body = json!({
            "name": "East\u{0}",
            "tags": {"location": "ea\nst"},
            "details": {"lines": ["ok", "b\u{0}ad"]},
            "priority": 1
        });
        assert_eq!(
            refused(&body),
            ["details.lines[1]", "name", "tags.location"]
        );
    }

    #[test]
    fn a_key_with_a_control_character_names_its_parent() {
        assert_eq!(refused(&json!({"tags": {"a\u{0}": "x"}})), ["tags"]);
        assert_eq!(refused(&json!({"\u{0}": 1})), ["body"]);
    }

    #[test]
    fn the_refused_value_is_not_echoed() {
        let mut errors = ValidationErrors::new();
        check_json("", &json!({"client_secret": "s3cret\u{0}"}), &mut errors);
        assert!(!format!("{errors:?}").contains("s3cret"));
    }
}
