use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use quire_core::protocol::{Health, API_PREFIX};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::{accounts, openapi, problem, sync, AppState};

/// How long one request may take before the server gives up on it (408).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .route("/accounts", post(accounts::register))
        .route("/sessions", post(accounts::login))
        .route("/sessions/current", delete(accounts::logout))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull));
    Router::new()
        .nest(API_PREFIX, api)
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        // The body limit counts decompressed bytes: the decompression layer sits outside it,
        // so a small compressed bomb is cut off at the limit, not inflated into memory.
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Is the server up?
#[utoipa::path(
    get, path = "/v1/health", tag = "meta",
    responses((status = 200, description = "The server answers", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health::ok(env!("CARGO_PKG_VERSION")))
}
