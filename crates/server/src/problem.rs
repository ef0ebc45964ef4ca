//! Errors as `application/problem+json` (RFC 9457), with stable `type`s, mapped once here.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quire_core::protocol::{problem, Problem};
use serde::de::DeserializeOwned;

// Problem answers that several operations document alike, for their `responses(...)` in
// the OpenAPI document: one wording, written once.

/// 401 on an operation that needs a bearer token.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 401,
    description = "Sign in again",
    content_type = "application/problem+json"
)]
pub struct SignInAgain(pub Problem);

/// 500 on an operation that only reads, or whose failure leaves nothing to undo.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 500,
    description = "The server failed",
    content_type = "application/problem+json"
)]
pub struct ServerFailed(pub Problem);

/// 500 on an operation that writes: its transaction was rolled back.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 500,
    description = "The server failed; nothing was stored",
    content_type = "application/problem+json"
)]
pub struct ServerFailedNothingStored(pub Problem);

/// 415 on an operation that reads a JSON body.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 415,
    description = "Not JSON, or a content encoding other than gzip or zstd",
    content_type = "application/problem+json"
)]
pub struct NotJsonOrUnknownEncoding(pub Problem);

/// 503 on an operation that hashes a password (see `passwords`).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 503,
    description = "Too many password checks at once, or too many connections",
    content_type = "application/problem+json"
)]
pub struct PasswordChecksBusy(pub Problem);

/// A failed request: what the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub detail: String,
    /// Seconds, for 429 and 503 answers (Retry-After).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, problem::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, problem::UNAUTHORIZED, detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, problem::TOO_LARGE, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, problem::NOT_FOUND, detail)
    }

    /// The account's storage quota would be exceeded: 413, with its own problem type so a
    /// client tells the person instead of splitting its batch.
    pub fn quota_exceeded(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            problem::QUOTA_EXCEEDED,
            detail,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            problem::INTERNAL,
            "the server failed; nothing was stored",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!("database: {err}");
        Self::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: self.kind.to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: Some(self.detail),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                problem::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
            ),
            JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::too_large("the request body is larger than this server accepts")
            }
            JsonRejection::BytesRejection(err) => {
                Self::bad_request(format!("cannot read the request body: {}", err.body_text()))
            }
            other => Self::bad_request(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// `axum::Json`, with its rejections answered as problems.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// Answers a request no route matched.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        problem::NOT_FOUND,
        "no such endpoint",
    )
}

/// Answers a request to a known path with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        problem::METHOD_NOT_ALLOWED,
        "this endpoint does not take that method",
    )
}

/// The decompression layer answers a `Content-Encoding` it does not know with an empty 415;
/// answer it as a problem like every other error, keeping its `Accept-Encoding`, which
/// names the encodings this server reads (RFC 7694).
pub async fn problem_for_bare_unsupported_media_type(response: Response) -> Response {
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let accept = response.headers().get(header::ACCEPT_ENCODING).cloned();
    let mut problem = ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        problem::UNSUPPORTED_MEDIA_TYPE,
        "send the body uncompressed, or with Content-Encoding gzip or zstd",
    )
    .into_response();
    if let Some(accept) = accept {
        problem
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, accept);
    }
    problem
}
