use axum::routing::get;
use axum::{Json, Router};
use quire_core::protocol::{Health, API_PREFIX};

pub fn router() -> Router {
    Router::new().nest(API_PREFIX, Router::new().route("/health", get(health)))
}

async fn health() -> Json<Health> {
    Json(Health::ok(env!("CARGO_PKG_VERSION")))
}
