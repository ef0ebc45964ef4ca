//! Accounts and sessions: register, log in, log out, and the bearer-token check every
//! sync request passes.

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use quire_core::protocol::{problem, Account, Credentials, Problem, Session};
use quire_core::Millis;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::problem::{ApiError, ApiJson};
use crate::{now, AppState};

/// Failed logins allowed per account name, and per address, in [`FAILURE_WINDOW_MS`].
const MAX_FAILURES_PER_ACCOUNT: i64 = 10;
const MAX_FAILURES_PER_ADDRESS: i64 = 50;
const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

const MAX_USERNAME_BYTES: usize = 64;
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// The account a request's bearer token belongs to.
#[derive(Debug, Clone)]
pub struct AuthedAccount {
    pub id: String,
    pub token_hash: String,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_USERNAME_BYTES
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "a username is 1 to {MAX_USERNAME_BYTES} letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    // Argon2id is deliberately slow: keep it off the async worker threads.
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| ApiError::internal())
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// A hash of a random password, made once, to check unknown usernames against.
async fn dummy_hash() -> Result<String, ApiError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| async {
            let mut random = [0u8; 16];
            rand::rng().fill_bytes(&mut random);
            hash_password(hex::encode(random)).await
        })
        .await
        .cloned()
}

async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Create an account.
#[utoipa::path(
    post, path = "/v1/accounts", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "The account exists", body = Account),
        (status = 400, description = "Unusable name or password", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    check_username(&creds.username)?;
    if creds.password.chars().count() < MIN_PASSWORD_CHARS
        || creds.password.len() > MAX_PASSWORD_BYTES
    {
        return Err(ApiError::bad_request(format!(
            "a password is at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"
        )));
    }
    let hash = hash_password(creds.password).await?;
    let inserted = sqlx::query(
        "INSERT INTO accounts (id, username, password_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&creds.username)
    .bind(hash)
    .bind(now().0)
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            problem::CONFLICT,
            "that username is taken",
        ));
    }
    tracing::info!(username = %creds.username, "account registered");
    Ok((
        StatusCode::CREATED,
        Json(Account {
            username: creds.username,
        }),
    ))
}

async fn recent_failures(state: &AppState, scope: &str, since: i64) -> Result<i64, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE scope = $1 AND at > $2")
            .bind(scope)
            .bind(since)
            .fetch_one(&state.db.pool)
            .await?,
    )
}

/// Log in: a bearer token for the sync endpoints.
#[utoipa::path(
    post, path = "/v1/sessions", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed in", body = Session),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let now = now();
    let user_scope = format!("user:{}", creds.username);
    let addr_scope = format!("addr:{}", peer.ip());
    let since = now.0 - FAILURE_WINDOW_MS;
    if recent_failures(&state, &user_scope, since).await? >= MAX_FAILURES_PER_ACCOUNT
        || recent_failures(&state, &addr_scope, since).await? >= MAX_FAILURES_PER_ADDRESS
    {
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            problem::RATE_LIMITED,
            "too many failed logins; wait a few minutes and try again",
        );
        err.retry_after = Some(60);
        return Err(err);
    }

    let row = sqlx::query("SELECT id, password_hash FROM accounts WHERE username = $1")
        .bind(&creds.username)
        .fetch_optional(&state.db.pool)
        .await?;
    let account_id = match row {
        Some(row) => {
            let id: String = row.try_get("id")?;
            let hash: String = row.try_get("password_hash")?;
            verify_password(creds.password, hash).await.then_some(id)
        }
        None => {
            // Spend the same time as for a real account, so response times do not tell
            // which usernames exist.
            verify_password(creds.password, dummy_hash().await?).await;
            None
        }
    };
    let Some(account_id) = account_id else {
        for scope in [&user_scope, &addr_scope] {
            sqlx::query("INSERT INTO login_failures (scope, at) VALUES ($1, $2)")
                .bind(scope)
                .bind(now.0)
                .execute(&state.db.pool)
                .await?;
            // Failures older than the window no longer count; keep the table small.
            sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND at <= $2")
                .bind(scope)
                .bind(since)
                .execute(&state.db.pool)
                .await?;
        }
        tracing::info!(username = %creds.username, "failed login");
        return Err(ApiError::unauthorized("wrong username or password"));
    };

    let mut token_bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut token_bytes);
    let token = hex::encode(token_bytes);
    let ttl_ms = i64::try_from(state.token_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = Millis(now.0.saturating_add(ttl_ms));
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_token(&token))
    .bind(&account_id)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(&state.db.pool)
    .await?;
    sqlx::query("DELETE FROM login_failures WHERE scope = $1")
        .bind(&user_scope)
        .execute(&state.db.pool)
        .await?;
    Ok((StatusCode::CREATED, Json(Session { token, expires_at })))
}

/// Log out: the token stops working.
#[utoipa::path(
    delete, path = "/v1/sessions/current", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Unknown, expired or revoked token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    account: AuthedAccount,
) -> Result<StatusCode, ApiError> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2")
        .bind(now().0)
        .bind(&account.token_hash)
        .execute(&state.db.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

impl FromRequestParts<AppState> for AuthedAccount {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::unauthorized("sign in: send Authorization: Bearer TOKEN"))?;
        let token_hash = hash_token(token);
        let id: Option<String> = sqlx::query_scalar(
            "SELECT account_id FROM sessions
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(&token_hash)
        .bind(now().0)
        .fetch_optional(&state.db.pool)
        .await?;
        let id = id.ok_or_else(|| {
            ApiError::unauthorized("this session is unknown, expired or signed out; sign in again")
        })?;
        Ok(Self { id, token_hash })
    }
}
