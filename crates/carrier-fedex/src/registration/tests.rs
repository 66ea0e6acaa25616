use serde_json::json;

use super::*;

const FILE: &str = "AccountRegistration-Resource.json";

fn profile() -> Profile {
    Profile::parse(
        json!({
            "account_number": "123456789",
            "customer_name": "Acme Returns",
            "billing_address": {"firm": "Acme Returns", "street1": "1100 Wyoming St", "city": "Saint Louis", "state": "MO", "zip5": "63118", "phone": "3145550100"},
        })
        .as_object()
        .unwrap(),
    )
    .unwrap()
}

/// The file's own `mfaOptions` example.
fn mfa_example() -> serde_json::Value {
    let document = crate::spec::load(FILE);
    document
        .pointer("/paths/~1registration~1v2~1address~1keysgeneration/post/responses/200/content/application~1json/examples/mfaOptions/value")
        .unwrap()
        .clone()
}

#[test]
fn every_request_body_matches_its_schema() {
    let cases: Vec<(&str, serde_json::Value)> = vec![
        (
            "CustomerKeyInputVO",
            serde_json::to_value(wire::CustomerKeyInput::new(&profile())).unwrap(),
        ),
        (
            "IssuePinInputVO",
            serde_json::to_value(wire::IssuePinInput {
                locale: wire::LOCALE,
                option: "SMS",
            })
            .unwrap(),
        ),
        (
            "ValidatePinInputVO",
            serde_json::to_value(wire::ValidatePinInput {
                locale: wire::LOCALE,
                secure_code_pin: "123456".into(),
            })
            .unwrap(),
        ),
        (
            "ValidateInvoiceInputVO",
            serde_json::to_value(wire::ValidateInvoiceInput {
                invoice_detail: wire::InvoiceDetails {
                    number: 293235673,
                    currency: "USD".into(),
                    date: "2022-10-09".parse().unwrap(),
                    amount: wire::InvoiceDetails::amount("2323.22".parse().unwrap()).unwrap(),
                },
                locale: wire::LOCALE,
            })
            .unwrap(),
        ),
    ];
    for (name, body) in cases {
        let validator = crate::spec::validator(FILE, &format!("/components/schemas/{name}"));
        crate::spec::assert_valid(&validator, &body);
        let mut extra = body.clone();
        extra["accountNumberr"] = json!("x");
        assert!(!validator.is_valid(&extra), "{name} is closed");
    }
    let address = serde_json::to_value(wire::CustomerKeyInput::new(&profile())).unwrap();
    assert_eq!(address["accountNumber"]["value"], "123456789");
    assert_eq!(
        address["address"]["streetLines"],
        json!(["1100 Wyoming St"])
    );
    let invoice = serde_json::to_string(&wire::InvoiceDetails {
        number: 1,
        currency: "USD".into(),
        date: "2022-10-09".parse().unwrap(),
        amount: 2323.22,
    })
    .unwrap();
    assert!(invoice.contains("\"amount\":2323.22"), "{invoice}");
}

#[test]
fn the_files_mfa_example_becomes_a_choose_method_step_with_only_its_options() {
    let KeysReply::Proof(option) = wire::parse_keys(mfa_example().to_string().as_bytes())
        .ok()
        .unwrap()
    else {
        panic!("the example asks for proof");
    };
    let pending = Pending::from_mfa(option);
    assert_eq!(pending.options, [Method::Sms, Method::Invoice]);
    let step = pending.choose_method();
    assert_eq!(step.name, "choose_method");
    let method = &step.form["properties"]["method"];
    assert_eq!(method["enum"], json!(["sms", "invoice"]));
    assert_eq!(method["x-labels"]["sms"], "Text a PIN to ***-***-4222");
    // The example token's exp is 1667219701.
    assert_eq!(step.expires_at.unwrap().timestamp(), 1_667_219_701);
    let validator = jsonschema::draft202012::new(&step.form).unwrap();
    assert!(validator.is_valid(&json!({"method": "sms"})));
    assert!(!validator.is_valid(&json!({"method": "call"})));
    assert!(
        !validator.is_valid(&json!({"method": "invoice"})),
        "invoice fields are required"
    );
    let state = pending.to_state();
    assert_eq!(state.mode(), "registration_pending");
    assert!(
        !format!("{state:?}").contains("eyJ"),
        "the token is a secret"
    );
    let back = Pending::from_state(&state).unwrap();
    assert_eq!(back.options, pending.options);
    assert_eq!(back.phone_number.as_deref(), Some("***-***-4222"));
}

#[test]
fn the_files_credentials_example_completes_at_once() {
    let document = crate::spec::load(FILE);
    let example = document
        .pointer("/paths/~1registration~1v2~1address~1keysgeneration/post/responses/200/content/application~1json/examples/credentials/value")
        .unwrap();
    let KeysReply::Keys { child_key, .. } = wire::parse_keys(example.to_string().as_bytes())
        .ok()
        .unwrap()
    else {
        panic!("keys");
    };
    assert_eq!(
        child_key.expose_secret(),
        "d63a0af2-efbf-4086-8333-a0f1a2f69dfa"
    );
    let array = json!({"output": {"mfaOptions": [{"accountAuthToken": "a.b.c", "options": {"secureCode": ["EMAIL"]}}]}});
    assert!(matches!(
        wire::parse_keys(array.to_string().as_bytes()),
        Ok(KeysReply::Proof(_))
    ));
    assert!(wire::parse_keys(br#"{"output": {}}"#).is_err());
}

#[test]
fn answers_are_checked_by_field() {
    let ok = step::check(ENTER_PIN, &json!({"pin": " 123456 "})).unwrap();
    assert!(ok.proof);
    assert_eq!(ok.answer, json!({"pin": "123456"}));
    assert!(
        step::check(ENTER_PIN, &json!({"pin": "12345"}))
            .unwrap_err()
            .names("pin")
    );
    let method = step::check(CHOOSE_METHOD, &json!({"method": "call"})).unwrap();
    assert!(!method.proof);
    assert!(
        step::check(CHOOSE_METHOD, &json!({"method": "fax"}))
            .unwrap_err()
            .names("method")
    );
    let errors = step::check(
        CHOOSE_METHOD,
        &json!({"method": "invoice", "invoice_date": "09/10/2022", "invoice_amount": "12.345"}),
    )
    .unwrap_err();
    for field in ["invoice_number", "invoice_date", "invoice_amount"] {
        assert!(errors.names(field), "{field}: {errors}");
    }
    let invoice = step::check(CHOOSE_METHOD, &json!({"method": "invoice", "invoice_number": "293235673", "invoice_date": "2022-10-09", "invoice_amount": "2323.22"})).unwrap();
    assert!(invoice.proof);
    assert_eq!(invoice.answer["invoice_currency"], "USD");
    assert!(
        step::check("unknown", &json!({}))
            .unwrap_err()
            .names("step")
    );
}

#[test]
fn every_registration_code_of_the_file_is_mapped_deliberately() {
    let document = crate::spec::load(FILE);
    let mut codes: Vec<String> = document["components"]["examples"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|e| e["value"]["errors"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["code"].as_str().map(str::to_owned))
        .collect();
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 20, "{codes:?}");
    let classify = |status: u16, code: &str| {
        refusal::classify(Error::Status {
            operation: Operation::ValidatePin,
            status,
            messages: vec![carrier::CarrierMessage {
                code: code.into(),
                message: "m".into(),
                field: None,
            }],
            retry_after: None,
        })
    };
    for code in &codes {
        let outcome = classify(400, code);
        let generic = matches!(
            &outcome,
            RegistrationError::Carrier(carrier::CarrierError::Rejected { .. })
        );
        assert!(
            !generic || code == "UNAUTHORIZED.ACCESS.ERROR",
            "{code} falls through to a generic rejection"
        );
    }
    let field = |code: &str| match classify(400, code) {
        RegistrationError::Refused(errors) => errors.errors()[0].field.clone(),
        other => panic!("{code}: {other:?}"),
    };
    assert_eq!(field("PIN.OPTION.INVALIDEXPIRED"), "pin");
    assert_eq!(field("INVOICE.UNKNOWN.ERROR"), "invoice_number");
    assert_eq!(field("ACCOUNT.NUMBER.NOTFOUND"), "details.account_number");
    assert_eq!(
        field("ADDRESS.DETAIL.INVALID"),
        "details.billing_address.postal_code"
    );
    assert!(matches!(
        classify(400, "SESSION.EXPIRED.ERROR"),
        RegistrationError::Expired(_)
    ));
    assert!(matches!(
        classify(401, "LOGIN.REAUTHENTICATE.ERROR"),
        RegistrationError::Expired(_)
    ));
    assert!(matches!(
        classify(500, "INTERNAL.SERVER.ERROR"),
        RegistrationError::Carrier(carrier::CarrierError::Unavailable { .. })
    ));
}

#[test]
fn a_token_without_exp_or_not_a_jwt_has_no_expiry() {
    assert_eq!(wire::token_expiry("not-a-jwt"), None);
    // {"alg":"none"}.{"sub":"x"}.
    assert_eq!(
        wire::token_expiry("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        None
    );
}
