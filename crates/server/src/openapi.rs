//! The OpenAPI 3.1 document (`GET /openapi.json`), generated from the route annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Backhaul", description = "Returns labels through carrier plugins. Errors always have the shape `{\"error\": {code, message, request_id, details}}`."),
    paths(
        routes::accounts::create, routes::accounts::list, routes::accounts::get,
        routes::accounts::update, routes::accounts::disable,
        routes::oauth::connect, routes::oauth::callback,
        routes::labels::create, routes::labels::list, routes::labels::get,
        routes::labels::label_document, routes::labels::receipt_document,
        routes::admin::accounts, routes::admin::events, routes::admin::verify,
    ),
    components(schemas(crate::error::ErrorEnvelope, crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&ApiKeyScheme),
    tags((name = "shipper accounts"), (name = "return labels"), (name = "admin"))
)]
struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
