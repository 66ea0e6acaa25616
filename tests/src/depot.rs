//! "Depot Freight" (id `depot`): a carrier shaped like none of ours, to prove that the console
//! knows carriers only through what their plugin publishes. Its details are a depot code (a
//! pattern), a region (a choice on which a loading dock's requirement depends), a service
//! level (a plain choice), a pickup flag and a return address; its one credentials mode is an
//! API token. It onboards like any carrier and refuses to buy labels (`not_supported`).

use async_trait::async_trait;
use carrier::{
    AccountContext, AccountDetails, AccountInput, Capabilities, Carrier, CarrierError, Credentials,
    IdempotencyKey, LabelDelivery, LabelFormat, ReturnLabel, ReturnLabelRequest, ServiceInfo,
    ValidatedAccount, ValidationErrors, form,
};
use serde_json::{Map, Value, json};

/// The carrier's id.
pub const ID: &str = "depot";
/// Its name for people.
pub const NAME: &str = "Depot Freight";
/// Its credentials mode.
pub const MODE: &str = "api_token";

const SERVICES: [ServiceInfo; 2] = [
    ServiceInfo {
        code: "depot_overnight",
        name: "Depot Overnight Return",
        superseded_by: None,
    },
    ServiceInfo {
        code: "depot_economy",
        name: "Depot Economy Return",
        superseded_by: None,
    },
];

const DETAILS: [&str; 6] = [
    "depot_code",
    "region",
    "dock_door",
    "service_level",
    "pickup",
    "return_address",
];

/// The fake carrier.
#[derive(Debug, Default)]
pub struct DepotCarrier;

fn code_is_valid(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == 6
        && bytes[..3].iter().all(u8::is_ascii_uppercase)
        && bytes[3] == b'-'
        && bytes[4..].iter().all(u8::is_ascii_digit)
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|value| !value.trim().is_empty())
}

fn check_details(details: &Value, errors: &mut ValidationErrors) -> Map<String, Value> {
    let empty = Map::new();
    let map = details.as_object().unwrap_or(&empty);
    for key in map.keys().filter(|key| !DETAILS.contains(&key.as_str())) {
        errors.push(
            format!("details.{key}"),
            "is not a detail of Depot Freight accounts",
        );
    }
    match text(map, "depot_code") {
        None => errors.push("details.depot_code", "is required"),
        Some(code) if !code_is_valid(code) => errors.push(
            "details.depot_code",
            "must be three capital letters, a dash and two digits (ABC-12)",
        ),
        Some(_) => {}
    }
    match text(map, "region") {
        None => errors.push("details.region", "is required"),
        Some("north" | "south") => {}
        Some(_) => errors.push("details.region", "must be north or south"),
    }
    if text(map, "region") == Some("south") && text(map, "dock_door").is_none() {
        errors.push("details.dock_door", "is required for the south region");
    }
    match map.get("return_address").and_then(Value::as_object) {
        None => errors.push("details.return_address", "is required"),
        Some(address) => {
            for part in ["street1", "city"] {
                if text(address, part).is_none() {
                    errors.push(format!("details.return_address.{part}"), "is required");
                }
            }
        }
    }
    if map.get("pickup").is_some_and(|pickup| !pickup.is_boolean()) {
        errors.push("details.pickup", "must be true or false");
    }
    map.iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn check_credentials(
    input: &AccountInput<'_>,
    errors: &mut ValidationErrors,
) -> Option<Credentials> {
    let Some(given) = input.credentials else {
        return match input.current {
            Some(current) => Some(current.clone()),
            None => {
                errors.push("credentials", "are required");
                None
            }
        };
    };
    use secrecy::ExposeSecret;
    let mode = given
        .get("mode")
        .map(|mode| mode.expose_secret().to_owned());
    if mode.as_deref() != Some(MODE) {
        errors.push("credentials.mode", "must be api_token");
        return None;
    }
    match given.get("token") {
        Some(token) if !token.expose_secret().trim().is_empty() => {
            Some(Credentials::new(MODE).with_secret("token", token.clone()))
        }
        _ => {
            errors.push("credentials.token", "is required");
            None
        }
    }
}

#[async_trait]
impl Carrier for DepotCarrier {
    fn id(&self) -> &'static str {
        ID
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn services(&self) -> &'static [ServiceInfo] {
        &SERVICES
    }

    /// The north region ships overnight and economy, the south economy only.
    fn capabilities(&self, details: Option<&AccountDetails>) -> Capabilities {
        let south = details.and_then(|details| details.str("region")) == Some("south");
        let services = if south {
            vec!["depot_economy"]
        } else {
            SERVICES.iter().map(|info| info.code).collect()
        };
        Capabilities {
            services,
            label_formats: vec![LabelFormat::Zpl, LabelFormat::Png],
            label_deliveries: vec![LabelDelivery::Download, LabelDelivery::Email],
            receipts: false,
            idempotent_create: false,
            resend_after_unknown_outcome: false,
            cancellable: false,
            ship_date_days_ahead: 0,
        }
    }

    fn account_schema(&self) -> Value {
        let details = json!({
            "type": "object",
            "title": "Depot Freight account",
            "description": "The depot code and region are on your Depot Freight contract.",
            "additionalProperties": false,
            "properties": {
                "depot_code": form::pattern("Depot code", "Three capital letters, a dash and two digits.", "^[A-Z]{3}-[0-9]{2}$"),
                "region": form::choice("Region", "Where your depot is.", &[("north", "North region"), ("south", "South region")]),
                "dock_door": form::text("Loading dock door", "The door our drivers use."),
                "service_level": form::choice("Service level", "", &[("standard", "Standard"), ("priority", "Priority handling")]),
                "pickup": form::flag("Scheduled pickup", "We collect the returns from you."),
                "return_address": form::address("Return address", "Where the returns are delivered."),
            },
            "required": ["depot_code", "region", "return_address"],
            "allOf": [form::required_when("region", "south", &["dock_door"])],
        });
        let credentials = json!({
            "title": "Connection",
            "description": "An API token from the Depot Freight portal.",
            "oneOf": [form::mode(MODE, "API token", "Create one in the Depot Freight portal under Integrations.", &[
                ("token", form::secret("API token", "Kept encrypted; never shown again.")),
            ])],
        });
        form::account(details, credentials)
    }

    fn onboarding(&self) -> &'static [&'static str] {
        &[MODE]
    }

    fn validate_account(
        &self,
        input: AccountInput<'_>,
    ) -> Result<ValidatedAccount, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let details = check_details(input.details, &mut errors);
        let credentials = check_credentials(&input, &mut errors);
        match credentials {
            Some(credentials) if errors.is_empty() => Ok(ValidatedAccount {
                details: AccountDetails::new(details),
                credentials,
                needs_authorization: false,
                warnings: Vec::new(),
            }),
            _ => Err(errors),
        }
    }

    async fn create_return_label(
        &self,
        _account: AccountContext<'_>,
        _request: &ReturnLabelRequest,
        _idempotency_key: &IdempotencyKey,
    ) -> Result<ReturnLabel, CarrierError> {
        Err(CarrierError::NotSupported {
            carrier: ID,
            operation: "buying labels",
        })
    }
}
