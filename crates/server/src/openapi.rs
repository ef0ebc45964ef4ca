//! The OpenAPI 3 document at `/v1/openapi.json`, generated from the handlers' annotations
//! and the protocol types in quire-core, so it cannot drift from what the server does.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{accounts, routes, sync};

#[derive(OpenApi)]
#[openapi(
    info(title = "Quire sync API", description = "Accounts, push and pull for Quire devices."),
    paths(
        routes::health,
        accounts::register,
        accounts::login,
        accounts::logout,
        sync::push,
        sync::pull,
        sync::note,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Serves the document, stamped with this build's version.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    Json(doc)
}
