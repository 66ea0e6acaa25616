//! `POST /payments/v3/payment-authorization` from payments.yaml (Payments API 3.1.20) and the
//! payment error inventory (errors-payment.csv).
//!
//! Requires a bearer access token (401 otherwise) and an `application/json` body (415
//! otherwise; the spec's `application/xml` is not simulated). The body is `Parties`:
//! `roles` is required with at least one `Role`. Checks, in order; every error of a stage is
//! reported together in `error.errors`:
//!
//! 1. Schema (`OAS_VALIDATION`, `source.parameter` = the JSON path): property types;
//!    `roleName` in the enum; `CRID` 2–18 characters; `MID` and `manifestMID`
//!    `^(\d{6}|\d{9})$`; `accountType` in `EPS PERMIT METER OMAS`; `permitZIP` at most 5
//!    characters. Properties the schema does not list are rejected, in `Parties` and in each
//!    `Role`, although both say `additionalProperties: true`: USPS's backend does not act on
//!    them, and a misspelt `accountnumber` must not pass silently. The read-only
//!    `paymentAuthorizationToken`, `nonProfitStatus` and `sufficientFunds` are accepted and
//!    ignored.
//! 2. Roles (inventory codes, `source.parameter` = `roles`), from the spec's role descriptions:
//!
//!    | role | needs |
//!    |---|---|
//!    | `PAYER`, `RETURN_LABEL_PAYER` | `CRID` (160218), `accountType` (160223): `EPS` needs `accountNumber` (160224), `PERMIT` needs `permitNumber` (160225) and `permitZIP` (160226); `METER` is for PC Postage providers only (160290); `OMAS` is not simulated (`SIM_UNSUPPORTED`) |
//!    | `RATE_HOLDER`, `RETURN_LABEL_RATE_HOLDER` | as the payer, but only `EPS` or `PERMIT` (160220) |
//!    | `LABEL_OWNER`, `RETURN_LABEL_OWNER` | `CRID` (160218), `MID` (160221), `manifestMID` (160222) |
//!    | `LABEL_PROVIDER` | `CRID`, `accountType` `EPS` only (160223, 160372), `accountNumber` (160224) |
//!    | `SHIPPER`, `MAIL_OWNER`, `PLATFORM` | `CRID` (160218) |
//!
//!    A role without `roleName` is 160219, a repeated `roleName` 160227; `PAYER` (160228) and
//!    `LABEL_OWNER` (160229) are required (the PC Postage flow without a payer is not
//!    simulated). `MID` and `manifestMID` on a payer are optional (the spec's text asks only
//!    for `CRID` and `accountType`; its examples send them) and are checked when present.
//! 3. Test data (the simulator's [`SimConfig`](crate::SimConfig)), for the payer, rate holder,
//!    label provider and label owner roles: the CRID must exist (`SIM_UNKNOWN_CRID`); with an
//!    access token from the authorization-code grant it must also belong to the signed-in
//!    user (403 `SIM_FORBIDDEN`); every MID must belong to the CRID (`SIM_MID_NOT_OWNED`); an
//!    EPS account must be the CRID's (100001 "Could not find an EPS Account with number: %s.")
//!    and active (100002); a permit must be the CRID's (`SIM_PERMIT_NOT_FOUND`) at that ZIP
//!    (`SIM_PERMIT_ZIP_MISMATCH`). `SHIPPER`, `MAIL_OWNER` and `PLATFORM` CRIDs are checked
//!    for format only (a platform's own CRID need not be in the test data).
//!
//! Success: 200 `Parties` with an opaque `paymentAuthorizationToken` (valid 8 hours, usable
//! only with access tokens of the same OAuth client) and the roles echoed as sent. The token
//! remembers its label owner (CRID, MID, manifest MID) and payer for the Labels API.

use std::sync::Arc;

use axum::Json;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Duration;
use serde_json::{Value, json};

use crate::config::CridConfig;
use crate::state::{
    AccessGrant, LabelOwner, PAYMENT_TOKEN_SECONDS, Payer, PaymentGrant, State, random_token,
};
use crate::v3::auth::{parse_json, require_access, require_json};
use crate::v3::error::{ApiError, ApiVersion, ErrorDetail};
use crate::v3::schema::Pattern;

const API: ApiVersion = ApiVersion::Payments;

const ROLE_NAMES: &[&str] = &[
    "PAYER",
    "RATE_HOLDER",
    "LABEL_OWNER",
    "SHIPPER",
    "MAIL_OWNER",
    "PLATFORM",
    "RETURN_LABEL_PAYER",
    "RETURN_LABEL_RATE_HOLDER",
    "RETURN_LABEL_OWNER",
    "LABEL_PROVIDER",
];

const ACCOUNT_TYPES: &[&str] = &["EPS", "PERMIT", "METER", "OMAS"];

/// One role as sent, after the schema check.
#[derive(Clone, Debug, Default)]
struct Role {
    name: Option<String>,
    crid: Option<String>,
    mid: Option<String>,
    manifest_mid: Option<String>,
    account_type: Option<String>,
    account_number: Option<String>,
    permit_number: Option<String>,
    permit_zip: Option<String>,
}

/// `POST /payments/v3/payment-authorization`.
pub(crate) async fn payment_authorization(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match authorize(&state, &headers, &body) {
        Ok(parties) => Json(parties).into_response(),
        Err(error) => {
            tracing::info!(status = %error.status(), "payment authorization refused");
            error.into_response()
        }
    }
}

fn authorize(state: &State, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let grant = require_access(state, headers, API)?;
    require_json(headers, API)?;
    let body = parse_json(body, API)?;
    let Value::Object(parties) = body else {
        return Err(ApiError::schema(
            API,
            "body",
            "The request body must be a Parties object",
        ));
    };
    for key in parties.keys() {
        if key != "roles" && key != "paymentAuthorizationToken" {
            return Err(ApiError::schema(
                API,
                key.as_str(),
                format!("{key} is not a property of Parties"),
            ));
        }
    }
    let roles_value = parties
        .get("roles")
        .ok_or_else(|| ApiError::schema(API, "roles", "roles is required"))?;
    let Value::Array(role_values) = roles_value else {
        return Err(ApiError::schema(
            API,
            "roles",
            "roles must be an array of Role",
        ));
    };
    if role_values.is_empty() {
        return Err(ApiError::schema(
            API,
            "roles",
            "roles must contain at least 1 item (minItems: 1)",
        ));
    }

    let mut errors = Vec::new();
    let roles: Vec<Role> = role_values
        .iter()
        .enumerate()
        .map(|(index, value)| parse_role(index, value, &mut errors))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::bad_request(API, errors));
    }

    check_roles(&roles, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::bad_request(API, errors));
    }

    check_test_data(state, &grant, &roles)?;

    let payer = roles
        .iter()
        .find(|role| role.name.as_deref() == Some("PAYER"));
    let owner = roles
        .iter()
        .find(|role| role.name.as_deref() == Some("LABEL_OWNER"));
    let (Some(payer), Some(owner)) = (payer, owner) else {
        // check_roles reports 160228 and 160229 before this point.
        return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, API));
    };
    let label_owner = LabelOwner {
        crid: owner.crid.clone().unwrap_or_default(),
        mid: owner.mid.clone().unwrap_or_default(),
        manifest_mid: owner.manifest_mid.clone().unwrap_or_default(),
    };
    let account_type = payer.account_type.clone().unwrap_or_default();
    let account = if account_type == "PERMIT" {
        payer.permit_number.clone()
    } else {
        payer.account_number.clone()
    };
    let payment = PaymentGrant {
        client_id: grant.client_id.clone(),
        label_owner,
        payer: Payer {
            crid: payer.crid.clone().unwrap_or_default(),
            account_type,
            account: account.unwrap_or_default(),
        },
        expires_at: state.now() + Duration::seconds(PAYMENT_TOKEN_SECONDS),
    };
    let token = random_token(64);
    tracing::info!(
        client_id = %payment.client_id,
        crid = %payment.label_owner.crid,
        mid = %payment.label_owner.mid,
        account_type = %payment.payer.account_type,
        "payment authorization token issued"
    );
    state.payments().insert(token.clone(), payment);
    Ok(json!({
        "paymentAuthorizationToken": token,
        "roles": role_values,
    }))
}

fn parse_role(index: usize, value: &Value, errors: &mut Vec<ErrorDetail>) -> Role {
    let path = format!("roles[{index}]");
    let Value::Object(object) = value else {
        errors.push(ErrorDetail::new("OAS_VALIDATION", "A Role must be an object").at(path));
        return Role::default();
    };
    let mut role = Role::default();
    for (key, value) in object {
        let parameter = format!("{path}.{key}");
        if key == "nonProfitStatus" || key == "sufficientFunds" {
            if !value.is_boolean() {
                errors.push(
                    ErrorDetail::new("OAS_VALIDATION", format!("{key} must be a boolean"))
                        .at(parameter),
                );
            }
            continue;
        }
        let slot = match key.as_str() {
            "roleName" => &mut role.name,
            "CRID" => &mut role.crid,
            "MID" => &mut role.mid,
            "manifestMID" => &mut role.manifest_mid,
            "accountType" => &mut role.account_type,
            "accountNumber" => &mut role.account_number,
            "permitNumber" => &mut role.permit_number,
            "permitZIP" => &mut role.permit_zip,
            _ => {
                errors.push(
                    ErrorDetail::new("OAS_VALIDATION", format!("{key} is not a property of Role"))
                        .at(parameter),
                );
                continue;
            }
        };
        let Value::String(text) = value else {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", format!("{key} must be a string")).at(parameter),
            );
            continue;
        };
        *slot = Some(text.clone());
    }
    if let Some(name) = &role.name {
        if !ROLE_NAMES.contains(&name.as_str()) {
            errors.push(
                ErrorDetail::new(
                    "OAS_VALIDATION",
                    format!("roleName {name} is not one of {}", ROLE_NAMES.join(", ")),
                )
                .at(format!("{path}.roleName"))
                .example("PAYER"),
            );
        }
    }
    if let Some(crid) = &role.crid {
        let length = crid.chars().count();
        if !(2..=18).contains(&length) {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", "CRID must be 2 to 18 characters long")
                    .at(format!("{path}.CRID"))
                    .example("12345678"),
            );
        }
    }
    for (name, mid) in [("MID", &role.mid), ("manifestMID", &role.manifest_mid)] {
        if let Some(mid) = mid {
            if !Pattern::Mid.matches(mid) {
                errors.push(
                    ErrorDetail::new(
                        "OAS_VALIDATION",
                        format!("{name} {mid} does not match the pattern ^(\\d{{6}}|\\d{{9}})$"),
                    )
                    .at(format!("{path}.{name}"))
                    .example("123456789"),
                );
            }
        }
    }
    if let Some(account_type) = &role.account_type {
        if !ACCOUNT_TYPES.contains(&account_type.as_str()) {
            errors.push(
                ErrorDetail::new(
                    "OAS_VALIDATION",
                    format!("accountType {account_type} is not one of EPS, PERMIT, METER, OMAS"),
                )
                .at(format!("{path}.accountType"))
                .example("EPS"),
            );
        }
    }
    if let Some(zip) = &role.permit_zip {
        if zip.chars().count() > 5 {
            errors.push(
                ErrorDetail::new("OAS_VALIDATION", "permitZIP must be at most 5 characters")
                    .at(format!("{path}.permitZIP"))
                    .example("12345"),
            );
        }
    }
    role
}

fn role_error(code: &str, detail: String) -> ErrorDetail {
    ErrorDetail::new(code, detail).at("roles")
}

/// The inventory checks of which fields each role needs.
fn check_roles(roles: &[Role], errors: &mut Vec<ErrorDetail>) {
    let mut seen: Vec<&str> = Vec::new();
    for role in roles {
        let Some(name) = role.name.as_deref() else {
            errors.push(role_error(
                "160219",
                "Cannot have a role without roleName".to_owned(),
            ));
            continue;
        };
        if seen.contains(&name) {
            errors.push(role_error(
                "160227",
                "no duplicate roles allowed".to_owned(),
            ));
        } else {
            seen.push(name);
        }
        if role.crid.is_none() {
            errors.push(role_error("160218", format!("{name} requires CRID")));
        }
        match name {
            "PAYER" | "RETURN_LABEL_PAYER" => {
                check_payment_account(name, role, errors, AccountRule::Payer);
            }
            "RATE_HOLDER" | "RETURN_LABEL_RATE_HOLDER" => {
                check_payment_account(name, role, errors, AccountRule::RateHolder);
            }
            "LABEL_OWNER" | "RETURN_LABEL_OWNER" => {
                if role.mid.is_none() {
                    errors.push(role_error("160221", format!("{name} requires MID")));
                }
                if role.manifest_mid.is_none() {
                    errors.push(role_error("160222", format!("{name} requires manifestMID")));
                }
            }
            "LABEL_PROVIDER" => match role.account_type.as_deref() {
                None => errors.push(role_error("160223", format!("{name} requires accountType"))),
                Some("EPS") => {
                    if role.account_number.is_none() {
                        errors.push(role_error(
                            "160224",
                            format!("{name} requires accountNumber when accountType is EPS"),
                        ));
                    }
                }
                Some(_) => errors.push(
                    ErrorDetail::new(
                        "160372",
                        "LABEL_PROVIDER only supports the accountType of EPS",
                    )
                    .at("accountType"),
                ),
            },
            _ => {}
        }
    }
    if !seen.contains(&"PAYER") {
        errors.push(role_error("160228", "PAYER is required".to_owned()));
    }
    if !seen.contains(&"LABEL_OWNER") {
        errors.push(role_error("160229", "LABEL_OWNER is required".to_owned()));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AccountRule {
    Payer,
    RateHolder,
}

fn check_payment_account(
    name: &str,
    role: &Role,
    errors: &mut Vec<ErrorDetail>,
    rule: AccountRule,
) {
    match role.account_type.as_deref() {
        None => errors.push(role_error("160223", format!("{name} requires accountType"))),
        Some("EPS") => {
            if role.account_number.is_none() {
                errors.push(role_error(
                    "160224",
                    format!("{name} requires accountNumber when accountType is EPS"),
                ));
            }
        }
        Some("PERMIT") => {
            if role.permit_number.is_none() {
                errors.push(role_error(
                    "160225",
                    format!("{name} requires permitNumber when accountType is PERMIT"),
                ));
            }
            if role.permit_zip.is_none() {
                errors.push(role_error(
                    "160226",
                    format!("{name} requires permitZipCode when accountType is PERMIT"),
                ));
            }
        }
        Some(_) if rule == AccountRule::RateHolder => errors.push(role_error(
            "160220",
            format!("{name} requires accountType of PERMIT or EPS"),
        )),
        Some("METER") => errors.push(
            ErrorDetail::new(
                "160290",
                "Meter pricing is only available to PC Postage Providers",
            )
            .at("Payment Auth Token accountType"),
        ),
        Some(_) => errors.push(
            ErrorDetail::new(
                "SIM_UNSUPPORTED",
                "OMAS (Official Mail Accounting System) accounts are not supported by the simulator",
            )
            .at("roles"),
        ),
    }
}

/// Checks the roles against the configured businesses and the signed-in user.
fn check_test_data(state: &State, grant: &AccessGrant, roles: &[Role]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for role in roles {
        let name = role.name.as_deref().unwrap_or_default();
        let checked = matches!(
            name,
            "PAYER"
                | "RETURN_LABEL_PAYER"
                | "RATE_HOLDER"
                | "RETURN_LABEL_RATE_HOLDER"
                | "LABEL_PROVIDER"
                | "LABEL_OWNER"
                | "RETURN_LABEL_OWNER"
        );
        if !checked {
            continue;
        }
        let crid_number = role.crid.as_deref().unwrap_or_default();
        let Some(crid) = state.config.crid(crid_number) else {
            errors.push(role_error(
                "SIM_UNKNOWN_CRID",
                format!("{name}: CRID {crid_number} is not a registered business in the simulator"),
            ));
            continue;
        };
        if let Some(username) = &grant.username {
            let owned = state
                .config
                .user(username)
                .is_some_and(|user| user.crids.iter().any(|owned| owned == crid_number));
            if !owned {
                return Err(ApiError::new(StatusCode::FORBIDDEN, API).with(role_error(
                    "SIM_FORBIDDEN",
                    format!(
                        "{name}: the signed-in user has not authorized access to CRID {crid_number}"
                    ),
                )));
            }
        }
        for (field, mid) in [("MID", &role.mid), ("manifestMID", &role.manifest_mid)] {
            if let Some(mid) = mid {
                if !crid.owns_mid(mid) {
                    errors.push(role_error(
                        "SIM_MID_NOT_OWNED",
                        format!("{name}: {field} {mid} is not registered to CRID {crid_number}"),
                    ));
                }
            }
        }
        check_account(name, role, crid, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(API, errors))
    }
}

fn check_account(name: &str, role: &Role, crid: &CridConfig, errors: &mut Vec<ErrorDetail>) {
    match role.account_type.as_deref() {
        Some("EPS") => {
            let number = role.account_number.as_deref().unwrap_or_default();
            match crid.eps_account(number) {
                None => errors.push(role_error(
                    "100001",
                    format!("Could not find an EPS Account with number: {number}."),
                )),
                Some(account) if !account.active => errors.push(role_error(
                    "100002",
                    "Your EPS Account is not Active, please check your account and try again."
                        .to_owned(),
                )),
                Some(_) => {}
            }
        }
        Some("PERMIT") => {
            let number = role.permit_number.as_deref().unwrap_or_default();
            let zip = role.permit_zip.as_deref().unwrap_or_default();
            match crid.permit(number) {
                None => errors.push(role_error(
                    "SIM_PERMIT_NOT_FOUND",
                    format!(
                        "{name}: permit {number} is not registered to CRID {}",
                        crid.crid
                    ),
                )),
                Some(permit) if permit.zip != zip => errors.push(role_error(
                    "SIM_PERMIT_ZIP_MISMATCH",
                    format!("{name}: permit {number} was not issued at ZIP Code {zip}"),
                )),
                Some(_) => {}
            }
        }
        _ => {}
    }
}
