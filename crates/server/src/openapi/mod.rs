//! The OpenAPI 3.1 document (`GET /openapi.json`), generated from the code: the operations
//! from the handlers' `#[utoipa::path]` annotations and doc comments, the schemas from the
//! request and answer types ([`schema`] for those of other crates), the error answers by the
//! rules of [`answer`], and the enums the registry knows (carriers, their services) from the
//! registry the server runs with.
//!
//! The web console (`/console/…`, HTML forms for people) is not part of the API and stays out
//! of the document; every other route is in it, which a test holds to the route table
//! ([`crate::routes::operations`]).

pub mod answer;
pub mod schema;

use accounts::audit::Action;
use carrier::CarrierRegistry;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required, Server};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Backhaul",
        description = "Return labels through carrier plugins, for returns platforms.\n\n\
            Authenticate with `Authorization: Bearer <key>`: tenant keys reach the tenant \
            routes and see only their tenant; admin keys reach `/v1/admin` only (each kind is \
            refused with 403 where the other belongs). JSON request bodies must be sent with \
            `Content-Type: application/json`.\n\n\
            Every error has the one shape `{\"error\": {\"code\", \"message\", \"request_id\", \
            \"details\": [{\"field\", \"message\"}]}}`, never a stack trace or a secret. \
            Lists are paginated with a cursor: a page has `data`, `has_more` and \
            `next_cursor`; pass `next_cursor` as `starting_after` for the next page."
    ),
    paths(
        routes::accounts::create, routes::accounts::list, routes::accounts::get,
        routes::accounts::update, routes::accounts::disable,
        routes::accounts::answer_verification, routes::accounts::restart_verification,
        routes::oauth::connect, routes::oauth::callback, routes::oauth::reconnect,
        routes::labels::create, routes::labels::list, routes::labels::get,
        routes::labels::label_document, routes::labels::receipt_document,
        routes::labels::qr_code_image,
        routes::webhooks::create, routes::webhooks::list, routes::webhooks::get,
        routes::webhooks::update, routes::webhooks::delete, routes::webhooks::rotate_secret,
        routes::webhooks::test, routes::webhooks::deliveries, routes::webhooks::redeliver,
        routes::events::list, routes::events::get,
        routes::labels::void, routes::tracking::label_tracking,
        routes::tracking::receive, routes::tracking::token, routes::carriers::list,
        routes::api_keys::tenant_list, routes::api_keys::tenant_revoke,
        routes::api_keys::admin_list, routes::api_keys::admin_create,
        routes::api_keys::admin_revoke,
        routes::admin::accounts, routes::admin::events, routes::admin::verify,
        routes::ops::healthz, routes::ops::readyz, routes::ops::metrics, routes::ops::openapi,
    ),
    components(schemas(
        crate::error::ErrorEnvelope, crate::error::ErrorBody, crate::error::ErrorDetail,
    )),
    modifiers(&Conventions),
    tags(
        (name = "shipper accounts", description = "A tenant's carrier accounts, their credentials and the carriers' sign-ins (OAuth)"),
        (name = "carriers", description = "The carriers offered: services, capabilities and account forms"),
        (name = "return labels", description = "Buying return labels exactly once, and their documents"),
        (name = "webhooks", description = "Signed webhooks to the returns SaaS (Standard Webhooks): endpoints, their deliveries, redelivery, and the event log"),
        (name = "api keys", description = "A tenant's own API keys: list and revoke"),
        (name = "admin", description = "Every tenant's accounts, API keys and the audit trail (admin keys only)"),
        (name = "carrier webhooks", description = "Where carriers push tracking (called by carriers, checked their way; no API key)"),
        (name = "operations", description = "Health, readiness, metrics and this document (no key)"),
    )
)]
struct ApiDoc;

/// The names of the two bearer schemes.
pub const TENANT_KEY: &str = "tenant_key";
pub const ADMIN_KEY: &str = "admin_key";

/// What every operation shares: the security schemes, the error answers, the answers
/// particular to one operation that are built rather than annotated, the audit actions.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            TENANT_KEY,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A tenant API key: the tenant routes, this tenant only",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN_KEY,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin API key: `/v1/admin` only"))
                    .build(),
            ),
        );
        answer::register(components);
        for (path, refusal) in [
            ("/v1/shipper-accounts/{id}/verification", true),
            ("/v1/shipper-accounts/{id}/verification/restart", false),
        ] {
            if let Some(operation) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
            {
                answer::verification(operation, refusal);
            }
        }
        answer::add_common(openapi);
        let paths = &mut openapi.paths.paths;
        if let Some(operation) = paths
            .get_mut("/v1/return-labels")
            .and_then(|item| item.post.as_mut())
        {
            answer::label_purchase(operation);
        }
        if let Some(operation) = paths
            .get_mut("/v1/return-labels/{id}/void")
            .and_then(|item| item.post.as_mut())
        {
            answer::label_void(operation);
        }
        for path in [
            "/v1/carrier-webhooks/{carrier}",
            "/v1/carrier-webhooks/{carrier}/token",
        ] {
            if let Some(operation) = paths.get_mut(path).and_then(|item| item.post.as_mut()) {
                answer::carrier_listener(operation);
            }
        }
        for (path, description) in [
            (
                "/v1/return-labels/{id}/label",
                "The label document, in the label's `label_format`",
            ),
            (
                "/v1/return-labels/{id}/receipt",
                "The separate receipt, in the label's `label_format`",
            ),
        ] {
            if let Some(operation) = paths.get_mut(path).and_then(|item| item.get.as_mut()) {
                answer::label_document(operation, description);
            }
        }
        if let Some(operation) = paths
            .get_mut("/v1/return-labels/{id}/qr-code")
            .and_then(|item| item.get.as_mut())
        {
            answer::qr_code_image(operation);
        }
        // The verification's body is optional (an empty body is every chain), but when sent it
        // is an object: `null` is refused like any other non-object body.
        if let Some(body) = paths
            .get_mut("/v1/admin/audit-events/verify")
            .and_then(|item| item.post.as_mut())
            .and_then(|operation| operation.request_body.as_mut())
        {
            body.required = Some(Required::False);
            for content in body.content.values_mut() {
                content.schema = Some(RefOr::Ref(Ref::from_schema_name("VerifyRequest")));
            }
        }
        let actions: Vec<Value> = Action::ALL
            .iter()
            .map(|action| Value::String(action.as_str().to_owned()))
            .collect();
        set_query_enum(openapi, "/v1/admin/audit-events", "action", actions);
    }
}

/// Restricts the query parameter `name` of `GET path` to `values`.
fn set_query_enum(
    openapi: &mut utoipa::openapi::OpenApi,
    path: &str,
    name: &str,
    values: Vec<Value>,
) {
    let parameter = openapi
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.get.as_mut())
        .and_then(|operation| operation.parameters.as_mut())
        .and_then(|parameters| parameters.iter_mut().find(|p| p.name == name));
    if let Some(parameter) = parameter {
        parameter.schema = Some(RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values))
                .build(),
        )));
    }
}

/// Restricts the property `property` of the schema `schema` to `values` (a string).
fn set_property_enum(
    openapi: &mut utoipa::openapi::OpenApi,
    schema: &str,
    property: &str,
    values: Vec<Value>,
) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) {
        let description = match object.properties.get(property) {
            Some(RefOr::T(Schema::Object(current))) => current.description.clone(),
            _ => None,
        };
        object.properties.insert(
            property.to_owned(),
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(values))
                    .description(description)
                    .build(),
            )),
        );
    }
}

/// The document without a registry's enums (what the code alone says).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document for a server running `registry`: `carrier` and `service` of a label purchase
/// restricted to the carriers and services it offers, and a server entry for the API's root.
pub fn document_for(registry: &CarrierRegistry) -> utoipa::openapi::OpenApi {
    let mut openapi = document();
    let carriers: Vec<Value> = registry
        .ids()
        .map(|id| Value::String(id.to_owned()))
        .collect();
    let services: Vec<Value> = registry
        .iter()
        .flat_map(|carrier| carrier.services().iter())
        .map(|service| Value::String(service.code.to_owned()))
        .collect();
    set_property_enum(
        &mut openapi,
        "CreateReturnLabel",
        "carrier",
        carriers.clone(),
    );
    set_property_enum(&mut openapi, "CreateReturnLabel", "service", services);
    set_property_enum(&mut openapi, "CreateAccount", "carrier", carriers);
    openapi.servers = Some(vec![Server::new("/")]);
    openapi
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Routes outside the API, left out of the document on purpose.
    fn outside_the_api(path: &str) -> bool {
        path == crate::console::PREFIX || path.starts_with(&format!("{}/", crate::console::PREFIX))
    }

    fn documented() -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (path, item) in document().paths.paths {
            let methods = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
                ("HEAD", &item.head),
                ("OPTIONS", &item.options),
                ("TRACE", &item.trace),
            ];
            for (method, operation) in methods {
                if operation.is_some() {
                    operations.insert((method.to_owned(), path.clone()));
                }
            }
        }
        operations
    }

    #[test]
    fn the_document_describes_exactly_the_mounted_api_routes() {
        let mounted: BTreeSet<(String, String)> = routes::operations()
            .iter()
            .filter(|operation| !outside_the_api(operation.path))
            .map(|operation| (operation.method.to_string(), operation.path.to_owned()))
            .collect();
        let documented = documented();
        let undocumented: Vec<_> = mounted.difference(&documented).collect();
        let not_mounted: Vec<_> = documented.difference(&mounted).collect();
        assert!(
            undocumented.is_empty() && not_mounted.is_empty(),
            "mounted but not documented: {undocumented:?}; documented but not mounted: {not_mounted:?}"
        );
    }

    #[test]
    fn the_console_is_not_in_the_document() {
        assert!(documented().iter().all(|(_, path)| !outside_the_api(path)));
        assert!(outside_the_api("/console/accounts"));
        assert!(!outside_the_api("/consoles"));
    }

    #[test]
    fn every_authenticated_operation_documents_its_key_and_error_answers() {
        for (path, item) in document().paths.paths {
            for operation in [&item.get, &item.post, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                let Some(security) = &operation.security else {
                    continue;
                };
                let schemes = serde_json::to_value(security).unwrap().to_string();
                let expected = if path.starts_with("/v1/admin") {
                    ADMIN_KEY
                } else {
                    TENANT_KEY
                };
                assert!(schemes.contains(expected), "{path}: {schemes}");
                for status in ["401", "403", "429", "503"] {
                    assert!(
                        operation.responses.responses.contains_key(status),
                        "{path} {status}"
                    );
                }
            }
        }
    }
}
