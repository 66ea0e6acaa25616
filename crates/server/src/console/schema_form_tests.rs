//! The schema-driven form against a schema shaped like no carrier of ours.

use carrier::form as blocks;
use serde_json::{Value, json};

use super::*;
use crate::console::schema::AccountSchema;

fn schema() -> AccountSchema {
    let details = json!({
        "type": "object",
        "title": "Depot account",
        "properties": {
            "depot_code": blocks::pattern("Depot code", "Three letters, a dash, two digits.", "^[A-Z]{3}-[0-9]{2}$"),
            "bay": blocks::pattern("Bay", "Digits.", "^[0-9]{1,3}$"),
            "region": blocks::choice("Region", "", &[("north", "North"), ("south", "South")]),
            "lane": blocks::choice("Lane", "", &[("a", "Lane A"), ("b", "Lane B")]),
            "dock": blocks::text("Loading dock", ""),
            "pin": blocks::secret("Dock PIN", "Four digits."),
            "pickup": blocks::flag("Pickup", "We collect."),
            "return_address": blocks::address("Return address", "Where returns go."),
        },
        "required": ["depot_code", "region"],
        "allOf": [blocks::required_when("region", "south", &["dock", "pin"])],
    });
    let credentials = json!({"oneOf": [blocks::mode("api_token", "API token", "", &[
        ("token", blocks::secret("Token", "Kept encrypted.")),
    ])]});
    AccountSchema::parse(&blocks::account(details, credentials))
}

fn rendered(source: Source<'_>, stored: Option<&Value>, errors: &Errors) -> String {
    let schema = schema();
    let offered = json!({"dock": ["D1", "D2"], "pin": ["**34"], "lane": ["b"]});
    let context = Context {
        prefix: "",
        source,
        stored,
        offered: Some(&offered),
        carrier: "Depot",
        errors,
    };
    render(&schema.details.fields, &context).into_string()
}

#[test]
fn every_kind_of_field_gets_its_input() {
    let html = rendered(Source::Blank, None, &Errors::new());
    assert!(
        html.contains(r#"class="short" id="f-depot-code" name="depot_code" type="text" value="""#),
        "{html}"
    );
    assert!(html.contains(r#"pattern="^[A-Z]{3}-[0-9]{2}$""#), "{html}");
    assert!(
        html.contains(r#"inputmode="numeric""#),
        "digits only: {html}"
    );
    assert!(
        html.contains(r#"<select id="f-lane" name="lane""#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="b">Lane B</option>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"type="radio" id="f-region-south" name="region" value="south""#),
        "a switch: {html}"
    );
    assert!(
        html.contains(r#"type="checkbox" id="f-pickup" name="pickup" value="true""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="pin" type="password" value="""#),
        "{html}"
    );
    assert!(
        html.contains(r#"id="f-return-address"><legend>Return address"#),
        "{html}"
    );
    assert!(html.contains(r#"name="return_address.city""#), "{html}");
    assert!(html.contains("(required when Region is South)"), "{html}");
    assert!(html.contains(r#"<div class="case case-1">"#), "{html}");
    assert!(
        html.contains(r#"<option value="D2"></option>"#),
        "offers: {html}"
    );
    assert!(html.contains("Depot shared: **34."), "{html}");
    assert!(
        html.contains("Depot shared: Lane B."),
        "a choice's offer: {html}"
    );
    assert!(!html.contains("leave empty"), "nothing stored yet: {html}");
}

#[test]
fn stored_values_fill_the_form_but_never_a_secret() {
    let stored = json!({"depot_code": "ABC-12", "region": "south", "pin": "**34", "pickup": true,
                        "return_address": {"city": "Springfield"}});
    let html = rendered(Source::Stored(&stored), Some(&stored), &Errors::new());
    assert!(html.contains(r#"value="ABC-12""#), "{html}");
    assert!(html.contains(r#"value="south" checked"#), "{html}");
    assert!(html.contains(r#"value="true" checked"#), "{html}");
    assert!(html.contains(r#"value="Springfield""#), "{html}");
    assert!(
        html.contains(r#"name="pin" type="password" value="""#),
        "{html}"
    );
    assert!(
        html.contains("Now **34: kept encrypted; leave empty to keep the current one."),
        "{html}"
    );

    let posted = Fields::parse(b"depot_code=XYZ-99&pin=1234");
    let html = rendered(Source::Posted(&posted), Some(&stored), &Errors::new());
    assert!(html.contains(r#"value="XYZ-99""#), "{html}");
    assert!(
        !html.contains("1234"),
        "a posted secret is not echoed: {html}"
    );
}

#[test]
fn errors_show_beside_their_inputs() {
    let mut errors = Errors::new();
    errors.push("return_address.city", "is required");
    errors.push("return_address", "is incomplete");
    let html = rendered(Source::Blank, None, &errors);
    assert!(
        html.contains(r#"id="f-return-address-city-error""#),
        "{html}"
    );
    assert!(html.contains(r#"id="f-return-address-error""#), "{html}");
}

#[test]
fn a_posted_form_reads_back_into_the_schemas_fields() {
    let schema = schema();
    let posted = Fields::parse(
        b"depot_code=ABC-12&region=north&dock=D1&pin=1234&pickup=true&bay=&return_address.city=Springfield&return_address.street1=&stray=x",
    );
    let details = read(&schema.details.fields, &posted, "");
    assert_eq!(
        Value::Object(details),
        json!({"depot_code": "ABC-12", "region": "north", "pickup": true,
               "return_address": {"city": "Springfield"}}),
        "the south-only fields are left out, blanks and unknown inputs too"
    );
    let posted = Fields::parse(b"credentials.token=t0k&credentials.mode=other");
    let mode = schema.mode("api_token").unwrap();
    let credentials = read(&mode.form.fields, &posted, "credentials.");
    assert_eq!(Value::Object(credentials), json!({"token": "t0k"}));
}

#[test]
fn the_merge_patch_removes_what_was_cleared_and_keeps_a_blank_secret() {
    let schema = schema();
    let current = json!({"depot_code": "ABC-12", "bay": "7", "region": "south", "dock": "D1",
                         "pin": "**34", "return_address": {"city": "Springfield", "zip5": "12345"}});
    let posted = Fields::parse(
        b"depot_code=ABC-12&bay=&region=south&dock=D2&pin=&return_address.city=Shelbyville",
    );
    let patch = merge_patch(&schema.details.fields, &posted, &current);
    assert_eq!(
        patch,
        json!({"depot_code": "ABC-12", "bay": null, "region": "south", "dock": "D2",
               "return_address": {"city": "Shelbyville", "zip5": null}})
    );
    let north = Fields::parse(b"depot_code=ABC-12&region=north&dock=D2&pin=9999");
    let patch = merge_patch(&schema.details.fields, &north, &current);
    assert_eq!(patch["dock"], Value::Null, "not north's");
    assert_eq!(patch["pin"], Value::Null, "not north's, secret or not");
    assert_eq!(patch["return_address"], Value::Null, "all blank: removed");
}

#[test]
fn an_account_reads_in_a_few_words() {
    let schema = schema();
    let fields = &schema.details.fields;
    let south = json!({"depot_code": "ABC-12", "region": "south", "dock": "D1", "pin": "**34"});
    assert_eq!(summary(fields, &south), "South D1 **34");
    let north = json!({"depot_code": "ABC-12", "region": "north"});
    assert_eq!(summary(fields, &north), "ABC-12 · North");
    let html = facts(
        fields,
        &json!({"region": "north", "pickup": false,
        "return_address": {"firm": "Acme", "city": "Springfield", "state": "IL"}}),
    )
    .into_string();
    assert!(html.contains("<dt>Region</dt><dd>North</dd>"), "{html}");
    assert!(html.contains("<dt>Pickup</dt><dd>No</dd>"), "{html}");
    assert!(html.contains("<dd>Acme<br>Springfield IL</dd>"), "{html}");
}

fn rendered_with_offers(source: Source<'_>, stored: Option<&Value>, offered: &Value) -> String {
    let schema = schema();
    let errors = Errors::new();
    let context = Context {
        prefix: "",
        source,
        stored,
        offered: Some(offered),
        carrier: "Depot",
        errors: &errors,
    };
    render(&schema.details.fields, &context).into_string()
}

#[test]
fn a_text_inputs_offers_are_its_suggestions_and_named_in_its_hint() {
    let html = rendered(Source::Blank, None, &Errors::new());
    assert!(
        html.contains(r#"<datalist id="f-dock-options"><option value="D1"></option><option value="D2"></option></datalist>"#),
        "{html}"
    );
    assert!(html.contains("Depot shared: D1, D2."), "{html}");
    let stored = json!({"dock": "D1"});
    let only = json!({"dock": ["D1"]});
    let html = rendered_with_offers(Source::Stored(&stored), Some(&stored), &only);
    assert!(!html.contains("Depot shared: D1."), "what is held: {html}");
}

#[test]
fn a_secret_offered_several_times_is_a_choice_of_masked_values_or_a_typed_one() {
    let offered = json!({"pin": ["**34", "**78"]});
    let stored = json!({"pin": "**78"});
    let html = rendered_with_offers(Source::Stored(&stored), Some(&stored), &offered);
    assert!(
        html.contains(r#"<input type="radio" id="f-pin-choice-0" name="pin" value="**34">"#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<input type="radio" id="f-pin-choice-1" name="pin" value="**78" checked>"#
        ),
        "the stored choice is checked: {html}"
    );
    assert!(
        html.contains(r#"<input id="f-pin-other" name="pin" type="password" value="""#),
        "{html}"
    );
    assert!(html.contains("Depot shared these; only their last digits are shown."));
    // Posted back: the choice, unless a number was typed as well.
    let posted = Fields::parse(b"pin=**34&pin=");
    let html = rendered_with_offers(Source::Posted(&posted), Some(&stored), &offered);
    assert!(html.contains(r#"value="**34" checked"#), "{html}");
    let schema = schema();
    let pin = |body: &'static [u8]| {
        read(&schema.details.fields, &Fields::parse(body), "")
            .get("pin")
            .cloned()
    };
    assert_eq!(pin(b"region=south&pin=**34&pin="), Some(json!("**34")));
    assert_eq!(pin(b"region=south&pin=**34&pin=5678"), Some(json!("5678")));
    assert_eq!(pin(b"region=south&pin="), None);
}

#[test]
fn a_blank_form_starts_with_the_schemas_defaults_and_a_posted_one_with_what_was_sent() {
    let mut bay = blocks::pattern("Bay", "Digits.", "^[0-9]{1,3}$");
    bay["default"] = json!("12");
    let fields = crate::console::schema::form(&json!({
        "type": "object",
        "properties": {"bay": bay, "dock": blocks::text("Loading dock", "")},
    }))
    .fields;
    let errors = Errors::new();
    let context = |source| Context {
        prefix: "",
        source,
        stored: None,
        offered: None,
        carrier: "Depot",
        errors: &errors,
    };
    let blank = render(&fields, &context(Source::Blank)).into_string();
    assert!(
        blank.contains(r#"name="bay" type="text" value="12""#),
        "{blank}"
    );
    assert!(
        blank.contains(r#"name="dock" type="text" value="""#),
        "{blank}"
    );
    let posted = Fields::parse(b"bay=&dock=D1");
    let again = render(&fields, &context(Source::Posted(&posted))).into_string();
    assert!(
        again.contains(r#"name="bay" type="text" value="""#),
        "{again}"
    );
}
