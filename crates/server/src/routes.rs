//! The HTTP API under `/v1` and the middleware around it: compression both ways, body
//! limits (a small one for register and login), a request timeout, and tracing.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use quire_core::protocol::API_PREFIX;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;
use tower_http::CompressionLevel;

use crate::problem::ApiError;
use crate::state::AppState;
use crate::{
    account_keys, accounts, changes_count, digest, health, history, openapi, problem, sync,
    unsealed,
};

/// Register and login bodies hold a name (at most 64 bytes) and a password (at most 1024
/// characters, 12 KiB even if every one is JSON-escaped as a surrogate pair): anything larger
/// is refused (413) before it is read in full, hashed, stored or logged.
pub const AUTH_BODY_LIMIT: usize = 16 * 1024;

/// How much of a body declared too large is read and dropped before the 413, and for how
/// long at most (see [`refuse_declared_oversize`]).
const DRAIN_MAX_BYTES: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

pub fn router(state: AppState) -> Router {
    // Set on the route, inside the general limit below, so it is the one that applies.
    let auth_bytes = AUTH_BODY_LIMIT.min(state.limits.max_body_bytes);
    let auth_limit = DefaultBodyLimit::max(auth_bytes);
    let auth_declared = from_fn_with_state(auth_bytes, refuse_declared_oversize);
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi::document))
        .route(
            "/accounts",
            post(accounts::register)
                .layer(auth_limit)
                .layer(auth_declared.clone()),
        )
        .route(
            "/sessions",
            post(accounts::login)
                .layer(auth_limit)
                .layer(auth_declared.clone()),
        )
        .route("/sessions/current", delete(accounts::logout))
        .route("/accounts/{username}/kdf", get(account_keys::kdf))
        .route(
            "/accounts/current/password",
            put(account_keys::change_password)
                .layer(auth_limit)
                .layer(auth_declared.clone()),
        )
        .route("/accounts/current", get(account_keys::current))
        // Under the general body limit: it carries a manifest of the account's notes.
        .route("/accounts/current/upgrade", post(account_keys::upgrade))
        .route(
            "/accounts/current/upgrade-manifest",
            get(unsealed::upgrade_manifest),
        )
        .route(
            "/recovery/key",
            post(account_keys::recovery_key)
                .layer(auth_limit)
                .layer(auth_declared.clone()),
        )
        .route(
            "/recovery/password",
            post(account_keys::recovery_password)
                .layer(auth_limit)
                .layer(auth_declared),
        )
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .route("/sync/changes/count", get(changes_count::count))
        .route("/sync/digest", get(digest::account_digest))
        .route("/sync/digest/ranges", get(digest::ranges))
        .route("/sync/digest/notes", get(digest::bucket_notes))
        .route("/notes/unsealed", get(unsealed::unsealed))
        .route("/notes/{id}", get(sync::note).delete(history::purge))
        .route("/notes/{id}/versions", get(history::versions))
        .route("/notes/{id}/versions/{version}", get(history::version));
    Router::new()
        .nest(API_PREFIX, api)
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        // The body limit counts decompressed bytes: the decompression layer sits outside it,
        // so a small compressed bomb is cut off at the limit, not inflated into memory.
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        // Inside decompression, which drops Content-Length from compressed bodies: only a
        // plain body's declared length is its decompressed size.
        .layer(from_fn_with_state(
            state.limits.max_body_bytes,
            refuse_declared_oversize,
        ))
        .layer(RequestDecompressionLayer::new())
        // Both outside decompression: it answers an unknown encoding with a bare 415, and it
        // knows encodings only in lower case.
        .layer(axum::middleware::map_response(
            problem::problem_for_bare_unsupported_media_type,
        ))
        .layer(axum::middleware::map_request(normalise_content_encoding))
        // The fastest level: what a pull sends is mostly sealed text in base64, whose only
        // redundancy is the encoding; a higher level spent more of the server's time than
        // the database and the JSON together and gained little on it.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(from_fn_with_state(
            Duration::from_secs(state.limits.request_timeout_secs),
            time_limit,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `Content-Encoding` names are case-insensitive (RFC 9110), but the decompression layer
/// matches them exactly, so `GZIP` was refused. Lower-case and trim them first, call
/// `x-gzip` `gzip`, and fold several header lines into one list, which the layer then refuses
/// as a whole instead of decoding only the first encoding.
async fn normalise_content_encoding(mut request: Request) -> Request {
    if let Some(value) = normalised_content_encoding(request.headers()) {
        request.headers_mut().insert(CONTENT_ENCODING, value);
    }
    request
}

fn normalised_content_encoding(headers: &HeaderMap) -> Option<HeaderValue> {
    if !headers.contains_key(CONTENT_ENCODING) {
        return None;
    }
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        // Not ASCII, so no encoding this server knows: left as it is, and refused with 415.
        let text = value.to_str().ok()?;
        codings.extend(
            text.split(',')
                .map(|coding| coding.trim().to_ascii_lowercase())
                .filter(|coding| !coding.is_empty())
                // The old name of gzip (RFC 9110, 8.4.1.3).
                .map(|coding| {
                    if coding == "x-gzip" {
                        "gzip".to_owned()
                    } else {
                        coding
                    }
                }),
        );
    }
    HeaderValue::from_str(&codings.join(", ")).ok()
}

/// A request that takes longer than `limit` (`--request-timeout-secs`), reading its body
/// included, is answered 408 with a problem, like every other error (tower-http's timeout
/// layer answers with an empty body).
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            quire_core::protocol::problem::REQUEST_TIMEOUT,
            "the request took longer than this server allows; send it again",
        )
        .into_response(),
    }
}

/// A body whose Content-Length is over `limit` is answered 413 without reaching a handler.
/// The rest of it is read and dropped first (up to [`DRAIN_MAX_BYTES`], for at most
/// [`DRAIN_TIME`], keeping nothing): a server that answers and closes while the client is
/// still sending makes the client's side see a reset, and a client that never reads the
/// 413 cannot learn to send less. Bodies without a length meet the body limit as they are
/// read.
async fn refuse_declared_oversize(
    State(limit): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let Some(declared) = declared.filter(|len| *len > limit as u64) else {
        return next.run(request).await;
    };
    if declared <= DRAIN_MAX_BYTES {
        let _ = tokio::time::timeout(DRAIN_TIME, drain(request.into_body())).await;
    }
    ApiError::too_large("the request body is larger than this server accepts").into_response()
}

/// Reads a body to its end, or past [`DRAIN_MAX_BYTES`], dropping every frame.
async fn drain(mut body: Body) {
    let mut seen: u64 = 0;
    while seen <= DRAIN_MAX_BYTES {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => {
                seen += frame.data_ref().map_or(0, |data| data.len() as u64);
            }
            Some(Err(_)) | None => return,
        }
    }
}
