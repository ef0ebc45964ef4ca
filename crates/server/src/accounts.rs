//! Accounts and sessions: register, log in, log out, and the bearer-token check every
//! sync request passes.
//!
//! Register and login validate their input before anything else (a bad name is 400 on both
//! engines, stored nowhere, and never logged at length), then count the attempt against the
//! client's limits (`attempts`), and only then hash a password, in one of a bounded number
//! of slots (`passwords`).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use quire_core::crypto::KEY_BYTES;
use quire_core::protocol::{
    is_valid_username, problem, Account, Credentials, Hex, NewAccount, Problem, Session,
    SessionKeys, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, WRAPPED_KEY_BYTES,
};
use quire_core::Millis;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::attempts::{self, Scope, LOGIN_WINDOW_MS, REGISTER_WINDOW_MS};
use crate::client_addr::{limit_key, ClientAddr};
use crate::clock::now;
use crate::problem::{
    ApiError, ApiJson, NotJsonOrUnknownEncoding, PasswordChecksBusy, ServerFailed,
    ServerFailedNothingStored,
};
use crate::state::AppState;

/// The account a request's bearer token belongs to.
#[derive(Debug, Clone)]
pub struct AuthedAccount {
    pub id: String,
    pub token_hash: String,
    /// Whether the account's notes are sealed (its devices push sealed ops only).
    pub end_to_end: bool,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A username is short and plain: it keys rate limits and appears in logs, and PostgreSQL
/// refuses a NUL in text, so nothing else may reach a query. The OpenAPI document states
/// the same rule as `USERNAME_PATTERN`.
pub(crate) fn check_username(name: &str) -> Result<(), ApiError> {
    if is_valid_username(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "a username is 1 to {MAX_USERNAME_CHARS} letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// Characters, as the document's `maxLength` counts them; at most 4 KiB of UTF-8, which
/// fits the auth body limit even with every character escaped.
pub(crate) fn check_password_size(password: &str) -> Result<(), ApiError> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "a password is at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Create an account.
#[utoipa::path(
    post, path = "/v1/accounts", tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "The account exists", body = Account),
        (status = 400, description = "Malformed JSON, or an unusable name or password; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than an account's name and password need (16 KiB)", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many registrations from this address", body = Problem, content_type = "application/problem+json"),
        ServerFailedNothingStored,
        PasswordChecksBusy,
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(creds): ApiJson<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    check_username(&creds.username)?;
    let keys = &creds.keys;
    crate::account_keys::checked_kdf(&keys.kdf)?;
    let now = now();
    let attempt = attempts::record(
        &state.db,
        &[Scope {
            key: format!("register:{}", limit_key(client)),
            limit: state.limits.max_registrations_per_hour,
            window_ms: REGISTER_WINDOW_MS,
        }],
        now,
        "too many accounts were made from this address; try again later",
    )
    .await
    .inspect_err(|err| {
        if err.status == StatusCode::TOO_MANY_REQUESTS {
            tracing::info!(%client, "registration refused: too many from this address");
        }
    })?;
    // A taken name needs no hash to refuse (the insert below still settles a race).
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE username = $1")
        .bind(&creds.username)
        .fetch_optional(&state.db.pool)
        .await?;
    if taken.is_some() {
        return Err(name_taken());
    }
    let hash = match state.hashes.hash(creds.password.to_hex()).await {
        Ok(hash) => hash,
        Err(err) => {
            // Never hashed: it should not use up the address's registrations.
            attempt.take_back(&state.db).await?;
            return Err(err);
        }
    };
    // The id is the device's (every seal names it). No target on the conflict clause: a
    // taken id is refused like a taken name, never an error.
    let inserted = sqlx::query(
        "INSERT INTO accounts (id, username, password_hash, created_at, key_scheme, kdf_salt,
                               kdf_memory_kib, kdf_iterations, kdf_parallelism, wrapped_key,
                               recovery_auth_hash, recovery_wrapped_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT DO NOTHING",
    )
    .bind(keys.account_id.to_string())
    .bind(&creds.username)
    .bind(hash)
    .bind(now.0)
    .bind(KEY_SCHEME_E2E)
    .bind(keys.salt.to_hex())
    .bind(i64::from(keys.kdf.memory_kib))
    .bind(i64::from(keys.kdf.iterations))
    .bind(i64::from(keys.kdf.parallelism))
    .bind(keys.wrapped_key.to_hex())
    .bind(recovery_auth_hash(&keys.recovery_auth))
    .bind(keys.recovery_wrapped_key.to_hex())
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(name_taken());
    }
    tracing::info!(username = %creds.username, %client, "account registered");
    Ok((
        StatusCode::CREATED,
        Json(Account {
            username: creds.username,
        }),
    ))
}

/// `accounts.key_scheme` of an end-to-end account.
pub(crate) const KEY_SCHEME_E2E: &str = "e2e-v1";

/// What the server keeps of a recovery key's auth secret. 256 random bits leave nothing to
/// guess, so a plain SHA-256 is enough.
pub(crate) fn recovery_auth_hash(auth: &Hex<KEY_BYTES>) -> String {
    hex::encode(Sha256::digest(auth.0))
}

fn name_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        problem::CONFLICT,
        "that username is taken",
    )
}

/// Log in: a bearer token for the sync endpoints.
#[utoipa::path(
    post, path = "/v1/sessions", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed in", body = Session),
        (status = 400, description = "Malformed JSON, or not a username or password this server could hold", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than a name and password need (16 KiB)", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many failed logins for this account from this address, or from this address", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
        PasswordChecksBusy,
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    // A name no account can have is not a failed login: nothing to count or store.
    check_username(&creds.username)?;
    check_password_size(&creds.password)?;
    let now = now();
    let Some(account) = verify_password(&state, client, &creds.username, creds.password).await?
    else {
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
    .bind(&account.id)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(&state.db.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            expires_at,
            keys: account.keys,
        }),
    ))
}

/// An account whose password was just checked.
pub(crate) struct VerifiedAccount {
    pub id: String,
    /// For an end-to-end account, its wrapped data key.
    pub keys: Option<SessionKeys>,
    /// The hash the password was checked against: a change made on the strength of this
    /// check applies only while it is still the account's.
    pub password_hash: String,
}

/// Checks `username`'s password as a login does: the attempt counts against the account
/// (from this address) and against the address before the hash is checked, and a right
/// password clears the account's count. `None` is a wrong name or password.
pub(crate) async fn verify_password(
    state: &AppState,
    client: std::net::IpAddr,
    username: &str,
    password: String,
) -> Result<Option<VerifiedAccount>, ApiError> {
    let now = now();
    let address = limit_key(client);
    let account_scope = format!("login:{address} {username}");
    let attempt = attempts::record(
        &state.db,
        &[
            Scope {
                key: account_scope.clone(),
                limit: state.limits.max_failed_logins,
                window_ms: LOGIN_WINDOW_MS,
            },
            Scope {
                key: format!("login:{address}"),
                limit: state.limits.max_failed_logins_per_address,
                window_ms: LOGIN_WINDOW_MS,
            },
        ],
        now,
        "too many failed logins; wait a few minutes and try again",
    )
    .await
    .inspect_err(|err| {
        if err.status == StatusCode::TOO_MANY_REQUESTS {
            tracing::info!(%username, %client, "login refused: too many failures");
        }
    })?;

    let row = sqlx::query(
        "SELECT id, password_hash, key_scheme, wrapped_key FROM accounts WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?;
    // A row it cannot read is the server's failure, never a failed login.
    let read = |row: &sqlx::any::AnyRow| -> Result<VerifiedAccount, ApiError> {
        Ok(VerifiedAccount {
            id: row.try_get("id")?,
            keys: session_keys(row)?,
            password_hash: row.try_get("password_hash")?,
        })
    };
    let verified = match row.as_ref().map(read) {
        Some(Ok(account)) => state
            .hashes
            .verify(password, account.password_hash.clone())
            .await
            .map(|ok| ok.then_some(account)),
        Some(Err(err)) => Err(err),
        None => match state.hashes.dummy().await {
            // Spend the same time as for a real account, so response times do not tell
            // which usernames exist.
            Ok(dummy) => state.hashes.verify(password, dummy).await.map(|_| None),
            Err(err) => Err(err),
        },
    };
    match verified {
        Ok(Some(account)) => {
            // The owner is in: their earlier failures from here are moot, and this attempt
            // does not count against the address either.
            attempt.take_back(&state.db).await?;
            attempts::clear(&state.db, &account_scope).await?;
            Ok(Some(account))
        }
        Ok(None) => {
            tracing::info!(%username, %client, "failed login");
            Ok(None)
        }
        Err(err) => {
            // The password was never checked (busy, or a failure): not a failed login.
            attempt.take_back(&state.db).await?;
            Err(err)
        }
    }
}

/// The wrapped data key of an end-to-end account's row; `None` for a legacy account.
fn session_keys(row: &sqlx::any::AnyRow) -> Result<Option<SessionKeys>, ApiError> {
    let scheme: String = row.try_get("key_scheme")?;
    if scheme != KEY_SCHEME_E2E {
        return Ok(None);
    }
    let id: String = row.try_get("id")?;
    let wrapped: Option<String> = row.try_get("wrapped_key")?;
    let keys = uuid::Uuid::parse_str(&id).ok().zip(
        wrapped
            .as_deref()
            .and_then(Hex::<WRAPPED_KEY_BYTES>::from_hex),
    );
    match keys {
        Some((account_id, wrapped_key)) => Ok(Some(SessionKeys {
            account_id,
            wrapped_key,
        })),
        None => {
            tracing::error!(account = %id, "an end-to-end account's stored keys are unreadable");
            Err(ApiError::internal())
        }
    }
}

/// Log out: the token stops working.
#[utoipa::path(
    delete, path = "/v1/sessions/current", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Unknown, expired or revoked token", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
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
        let found: Option<(String, String)> = sqlx::query_as(
            "SELECT s.account_id, a.key_scheme FROM sessions s
             JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(&token_hash)
        .bind(now().0)
        .fetch_optional(&state.db.pool)
        .await?;
        let (id, scheme) = found.ok_or_else(|| {
            ApiError::unauthorized("this session is unknown, expired or signed out; sign in again")
        })?;
        Ok(Self {
            id,
            token_hash,
            end_to_end: scheme == KEY_SCHEME_E2E,
        })
    }
}
