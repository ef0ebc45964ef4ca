//! `GET /v1/health`: whether the server answers, and which build it is.

use axum::Json;
use quire_core::protocol::Health;

/// Is the server up?
#[utoipa::path(
    get, path = "/v1/health", tag = "meta",
    responses((status = 200, description = "The server answers", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health::ok(env!("CARGO_PKG_VERSION")))
}
