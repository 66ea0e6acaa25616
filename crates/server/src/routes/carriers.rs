//! `GET /v1/carriers`: every registered carrier as its plugin describes itself — services with
//! the formats and deliveries each offers, capabilities, how accounts connect, and the account
//! form as JSON Schema (API.md "Carriers").

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;

use crate::auth::AnyKey;
use crate::error::ApiError;
use crate::openapi::schema;
use crate::state::AppState;

/// One service of a carrier.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CarrierService)]
pub struct ServiceBody {
    /// The code to send as a label's `service`; it starts with the carrier's id.
    #[schema(example = "acme_ground_return")]
    pub code: &'static str,
    pub name: &'static str,
    #[schema(value_type = Vec<schema::LabelFormat>)]
    pub label_formats: Vec<&'static str>,
    #[schema(value_type = Vec<schema::LabelDelivery>)]
    pub label_deliveries: Vec<&'static str>,
}

/// What a carrier can do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CarrierCapabilities)]
pub struct CapabilitiesBody {
    /// Labels can be voided (`POST /v1/return-labels/{id}/void`).
    pub void: bool,
    /// Labels are tracked (`GET /v1/return-labels/{id}/tracking`, `return_label.*` events).
    pub tracking: bool,
    /// The carrier pushes tracking events to this service (polling is only a safety net).
    pub tracking_push: bool,
    /// The carrier deduplicates purchases by a key of ours, so a resend after an ambiguous
    /// failure returns the same label.
    pub idempotent_create: bool,
    /// A mailing receipt can be printed.
    pub receipts: bool,
}

/// A carrier as its plugin describes itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Carrier)]
pub struct CarrierBody {
    #[schema(example = "acme")]
    pub id: &'static str,
    #[schema(example = "Acme Parcel")]
    pub name: &'static str,
    pub services: Vec<ServiceBody>,
    pub capabilities: CapabilitiesBody,
    /// How accounts connect: `oauth` ("Login with …", `POST /v1/shipper-accounts/{carrier}/connect`),
    /// `own_app` (the merchant's own API app), and carrier-specific ones.
    pub onboarding: Vec<&'static str>,
    /// JSON Schema (2020-12) of the `details` and `credentials` a `POST /v1/shipper-accounts`
    /// for this carrier takes; secrets are `writeOnly`.
    #[schema(value_type = Object)]
    pub account_schema: Value,
}

/// Every carrier.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CarrierList)]
pub struct CarrierList {
    pub data: Vec<CarrierBody>,
}

/// The carriers this deployment offers, with their services, capabilities and account forms.
///
#[utoipa::path(get, path = "/v1/carriers", operation_id = "list_carriers", tag = "carriers",
    responses((status = 200, description = "Every carrier", body = CarrierList)),
    security(("tenant_key" = []), ("admin_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _caller: AnyKey,
) -> Result<Json<CarrierList>, ApiError> {
    let data = state
        .registry()
        .iter()
        .map(|carrier| {
            let capabilities = carrier.capabilities(None);
            let tracking = carrier.tracking(None);
            let formats: Vec<&'static str> = capabilities
                .label_formats
                .iter()
                .map(|f| f.as_str())
                .collect();
            let deliveries: Vec<&'static str> = capabilities
                .label_deliveries
                .iter()
                .map(|d| d.as_str())
                .collect();
            CarrierBody {
                id: carrier.id(),
                name: carrier.name(),
                services: carrier
                    .services()
                    .iter()
                    .filter(|service| capabilities.services.contains(&service.code))
                    .map(|service| ServiceBody {
                        code: service.code,
                        name: service.name,
                        label_formats: formats.clone(),
                        label_deliveries: deliveries.clone(),
                    })
                    .collect(),
                capabilities: CapabilitiesBody {
                    void: capabilities.cancellable,
                    tracking: tracking.is_some(),
                    tracking_push: tracking.as_ref().is_some_and(|support| support.push),
                    idempotent_create: capabilities.idempotent_create,
                    receipts: capabilities.receipts,
                },
                onboarding: carrier.onboarding().to_vec(),
                account_schema: carrier.account_schema(),
            }
        })
        .collect();
    Ok(Json(CarrierList { data }))
}
