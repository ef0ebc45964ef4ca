//! End-to-end encryption's account keys on the server (docs/e2e-design.md, "Keys"): the
//! derivation settings a device asks for before signing in, a password change, and the
//! recovery key's two steps. The server stores wrapped keys and hashes of auth secrets; it
//! never holds anything that opens a note.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hkdf::Hkdf;
use quire_core::crypto::kdf::{KdfParams, SALT_BYTES};
use quire_core::protocol::{
    problem, AccountInfo, Hex, KdfInfo, KeyScheme, KeysUpgrade, NewPassword, PasswordChange,
    Problem, RecoveredKey, RecoveryProof, RecoveryReset, WRAPPED_KEY_BYTES,
};
use rand::RngCore;
use sha2::Sha256;
use sqlx::Row;

use crate::accounts::{
    check_password_size, check_username, recovery_auth_hash, verify_password, AuthedAccount,
    VerifiedAccount, KEY_SCHEME_E2E,
};
use crate::attempts::{self, Scope, LOGIN_WINDOW_MS};
use crate::client_addr::{limit_key, ClientAddr};
use crate::clock::now;
use crate::problem::{
    ApiError, ApiJson, NotJsonOrUnknownEncoding, PasswordChecksBusy, ServerFailed,
    ServerFailedNothingStored, SignInAgain,
};
use crate::state::AppState;

/// What a device derives an account's secrets with.
#[utoipa::path(
    get, path = "/v1/accounts/{username}/kdf", tag = "accounts",
    params(("username" = String, Path, description = "The account's name",
            pattern = "^[A-Za-z0-9._@-]{1,64}$", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "The salt and settings (made up, but stable, for a name with no account)", body = KdfInfo),
        (status = 400, description = "Not a name an account can have", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many lookups from this address (`--max-kdf-lookups` in 15 minutes); try again after Retry-After", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn kdf(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(username): Path<String>,
) -> Result<Json<KdfInfo>, ApiError> {
    check_username(&username)?;
    // Counted per address, as failed logins are: each lookup is cheap, but a stranger
    // probing names (which are legacy accounts, say) should not get thousands a minute.
    attempts::record(
        &state.db,
        &[Scope {
            key: format!("kdf:{}", limit_key(client)),
            limit: state.limits.max_kdf_lookups,
            window_ms: LOGIN_WINDOW_MS,
        }],
        now(),
        "too many sign-in lookups from this address; try again later",
    )
    .await?;
    let row = sqlx::query(
        "SELECT key_scheme, kdf_salt, kdf_memory_kib, kdf_iterations, kdf_parallelism
         FROM accounts WHERE username = $1",
    )
    .bind(&username)
    .fetch_optional(&state.db.pool)
    .await?;
    let stand_in = |scheme| async move {
        Ok::<_, ApiError>(KdfInfo {
            scheme,
            salt: stand_in_salt(&state, &username).await?,
            kdf: KdfParams::DEFAULT,
        })
    };
    let info = match row {
        None => stand_in(KeyScheme::E2eV1).await?,
        Some(row) if row.try_get::<String, _>("key_scheme")? != KEY_SCHEME_E2E => {
            stand_in(KeyScheme::Legacy).await?
        }
        Some(row) => stored_kdf(&row)?,
    };
    Ok(Json(info))
}

fn stored_kdf(row: &sqlx::any::AnyRow) -> Result<KdfInfo, ApiError> {
    let salt: Option<String> = row.try_get("kdf_salt")?;
    let number = |column: &str| -> Result<Option<u32>, ApiError> {
        let value: Option<i64> = row.try_get(column)?;
        Ok(value.and_then(|value| u32::try_from(value).ok()))
    };
    let params = (
        number("kdf_memory_kib")?,
        number("kdf_iterations")?,
        number("kdf_parallelism")?,
    );
    match (salt.as_deref().and_then(Hex::from_hex), params) {
        (Some(salt), (Some(memory_kib), Some(iterations), Some(parallelism))) => Ok(KdfInfo {
            scheme: KeyScheme::E2eV1,
            salt,
            kdf: KdfParams {
                memory_kib,
                iterations,
                parallelism,
            },
        }),
        _ => {
            tracing::error!("an end-to-end account's stored salt or settings are unreadable");
            Err(ApiError::internal())
        }
    }
}

/// A salt for a name with no account: the same for the same name on every ask (and across
/// restarts), unrelated between names, and not computable without the server's secret.
async fn stand_in_salt(state: &AppState, username: &str) -> Result<Hex<SALT_BYTES>, ApiError> {
    let secret = state
        .stand_in_salt_secret
        .get_or_try_init(|| load_or_make_secret(state))
        .await?;
    let mut salt = [0u8; SALT_BYTES];
    Hkdf::<Sha256>::new(Some(b"quire/v1/stand-in-salt"), secret)
        .expand(username.as_bytes(), &mut salt)
        .map_err(|_| ApiError::internal())?;
    Ok(Hex(salt))
}

const STAND_IN_SALT_SECRET: &str = "kdf-salt";

/// The server's secret for stand-in salts, made on first use; a race between instances
/// settles on whichever was stored first.
async fn load_or_make_secret(state: &AppState) -> Result<[u8; 32], ApiError> {
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(STAND_IN_SALT_SECRET)
        .bind(hex::encode(fresh))
        .execute(&state.db.pool)
        .await?;
    let stored: String = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
        .bind(STAND_IN_SALT_SECRET)
        .fetch_one(&state.db.pool)
        .await?;
    Hex::<32>::from_hex(&stored)
        .map(|secret| secret.0)
        .ok_or_else(|| {
            tracing::error!("the stored stand-in salt secret is unreadable");
            ApiError::internal()
        })
}

/// Change the password of an end-to-end account: the current one is checked as at login,
/// the data key is stored wrapped under the new one, and every other session ends.
#[utoipa::path(
    put, path = "/v1/accounts/current/password", tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; every other session of the account has ended"),
        (status = 400, description = "Malformed JSON or unacceptable derivation settings; nothing changed", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 403, description = "The current password is wrong; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not end-to-end encrypted yet, or its password was changed while this change was made; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than a password change needs (16 KiB)", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many wrong passwords", body = Problem, content_type = "application/problem+json"),
        ServerFailedNothingStored,
        PasswordChecksBusy,
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    account: AuthedAccount,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    checked_kdf(&change.new.kdf)?;
    let (username, scheme): (String, String) =
        sqlx::query_as("SELECT username, key_scheme FROM accounts WHERE id = $1")
            .bind(&account.id)
            .fetch_one(&state.db.pool)
            .await?;
    if scheme != KEY_SCHEME_E2E {
        return Err(conflict(
            "this account is not end-to-end encrypted yet; a device upgrades it first",
        ));
    }
    let password = change.old_password.to_hex();
    let proof = (&account, username.as_str(), password);
    let verified = proven_password(&state, client, proof, "the current password is wrong").await?;
    let keep = Keep {
        session: &account.token_hash,
        password_hash: &verified.password_hash,
    };
    set_password(&state, &account.id, &change.new, Some(keep)).await?;
    tracing::info!(%username, %client, "password changed; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

/// A change made from a session that proved the current password: the session goes on,
/// and the change applies only while that password is still the account's.
struct Keep<'a> {
    session: &'a str,
    password_hash: &'a str,
}

/// Stores a new password's hash and wrapped key and ends the account's sessions, all but
/// `keep`'s (the one that made the change, if any), in one transaction. A change whose
/// proof went stale while it was hashed (a recovery or another change came first) is 409
/// and changes nothing: the later of two changes must not undo the earlier one unseen.
async fn set_password(
    state: &AppState,
    account_id: &str,
    new: &NewPassword,
    keep: Option<Keep<'_>>,
) -> Result<(), ApiError> {
    let hash = state.hashes.hash(new.password.to_hex()).await?;
    let mut tx = state.db.begin_write().await?;
    let stale = conflict(
        "the password was changed meanwhile (on another device, or with the recovery key); nothing was changed",
    );
    if let Some(keep) = &keep {
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(keep.session)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            return Err(stale);
        }
    }
    let updated = sqlx::query(
        "UPDATE accounts SET password_hash = $1, kdf_salt = $2, kdf_memory_kib = $3,
                kdf_iterations = $4, kdf_parallelism = $5, wrapped_key = $6
         WHERE id = $7 AND password_hash = coalesce($8, password_hash)",
    )
    .bind(hash)
    .bind(new.salt.to_hex())
    .bind(i64::from(new.kdf.memory_kib))
    .bind(i64::from(new.kdf.iterations))
    .bind(i64::from(new.kdf.parallelism))
    .bind(new.wrapped_key.to_hex())
    .bind(account_id)
    .bind(keep.as_ref().map(|keep| keep.password_hash))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(stale);
    }
    end_sessions(&mut tx, account_id, keep.map(|keep| keep.session)).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the account but `keep` (the one that made a change, if any), in
/// the change's transaction.
async fn end_sessions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    keep: Option<&str>,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1
         WHERE account_id = $2 AND revoked_at IS NULL AND token_hash <> $3",
    )
    .bind(now().0)
    .bind(account_id)
    // A token hash is hex: no session has this one.
    .bind(keep.unwrap_or("-"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Derivation settings a device sent: ones too cheap (or too costly) to derive are 400.
pub(crate) fn checked_kdf(kdf: &KdfParams) -> Result<(), ApiError> {
    kdf.check()
        .map(|_| ())
        .map_err(|err| ApiError::bad_request(err.to_string()))
}

fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, problem::CONFLICT, detail)
}

/// Checks the password a signed-in session sent (`proof`: the session's account, its name,
/// the password) as a login does; a wrong one is 403 with `wrong`.
async fn proven_password(
    state: &AppState,
    client: std::net::IpAddr,
    (account, username, password): (&AuthedAccount, &str, String),
    wrong: &'static str,
) -> Result<VerifiedAccount, ApiError> {
    let verified = verify_password(state, client, username, password).await?;
    verified
        .filter(|verified| verified.id == account.id)
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, problem::WRONG_PASSWORD, wrong))
}

/// The account this session belongs to.
#[utoipa::path(
    get, path = "/v1/accounts/current", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's id, name and key scheme", body = AccountInfo),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn current(
    State(state): State<AppState>,
    account: AuthedAccount,
) -> Result<Json<AccountInfo>, ApiError> {
    let (username, scheme): (String, String) =
        sqlx::query_as("SELECT username, key_scheme FROM accounts WHERE id = $1")
            .bind(&account.id)
            .fetch_one(&state.db.pool)
            .await?;
    Ok(Json(AccountInfo {
        account_id: account.id.parse().map_err(|_| {
            tracing::error!("an account id is not a UUID");
            ApiError::internal()
        })?,
        username,
        scheme: match scheme == KEY_SCHEME_E2E {
            true => KeyScheme::E2eV1,
            false => KeyScheme::Legacy,
        },
    }))
}

/// Upgrade an account made before end-to-end encryption: it takes keys made on the device
/// and signs in with the derived auth secret from now on. The device's session goes on;
/// every other one ends (those devices sign in again, and get the data key). The notes stay
/// in the clear until the device seals each again; each leaves the clear, with its plain
/// history, as its first sealed change is stored.
#[utoipa::path(
    post, path = "/v1/accounts/current/upgrade", tag = "accounts",
    security(("bearer" = [])),
    request_body = KeysUpgrade,
    responses(
        (status = 204, description = "Upgraded; every other session of the account has ended"),
        (status = 400, description = "Malformed JSON, unacceptable derivation settings, or a manifest larger than the account's notes need; nothing changed", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 403, description = "The password is wrong; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already end-to-end encrypted, keys made for another account, changes after the cursor, or the password changed meanwhile; nothing changed", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many wrong passwords", body = Problem, content_type = "application/problem+json"),
        ServerFailedNothingStored,
        PasswordChecksBusy,
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    account: AuthedAccount,
    ApiJson(upgrade): ApiJson<KeysUpgrade>,
) -> Result<StatusCode, ApiError> {
    let keys = &upgrade.keys;
    checked_kdf(&keys.kdf)?;
    check_password_size(&upgrade.password)?;
    if keys.account_id.to_string() != account.id {
        return Err(conflict(
            "the keys name another account: seal with this account's id (GET /v1/accounts/current); nothing changed",
        ));
    }
    let cursor = i64::try_from(upgrade.cursor)
        .map_err(|_| ApiError::bad_request("cursor is beyond any this server hands out"))?;
    if account.end_to_end {
        return Err(already_upgraded());
    }
    // The manifest lists the account's notes, nothing more: what it may hold is bounded by
    // what the account already holds.
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM notes WHERE account_id = $1")
        .bind(&account.id)
        .fetch_one(&state.db.pool)
        .await?;
    let most = quire_core::crypto::manifest::max_sealed_bytes(u64::try_from(notes).unwrap_or(0));
    if u64::try_from(upgrade.manifest.len()).unwrap_or(u64::MAX) > most {
        return Err(ApiError::bad_request(format!(
            "the manifest is larger than one of this account's {notes} notes can be ({most} bytes); nothing changed"
        )));
    }
    let username: String = sqlx::query_scalar("SELECT username FROM accounts WHERE id = $1")
        .bind(&account.id)
        .fetch_one(&state.db.pool)
        .await?;
    let proof = (&account, username.as_str(), upgrade.password);
    let verified = proven_password(&state, client, proof, "the password is wrong").await?;
    let hash = state.hashes.hash(upgrade.auth.to_hex()).await?;
    let mut tx = state.db.begin_write().await?;
    // One statement checks everything that may have changed since the checks above: the
    // scheme, the password, and that no change arrived after the device's cursor (its
    // notes are all the device will seal). It takes the row's lock that every push takes.
    let updated = sqlx::query(
        "UPDATE accounts SET key_scheme = $1, password_hash = $2, kdf_salt = $3,
                kdf_memory_kib = $4, kdf_iterations = $5, kdf_parallelism = $6,
                wrapped_key = $7, recovery_auth_hash = $8, recovery_wrapped_key = $9,
                upgrade_progress_at = $13, upgrade_manifest = $14
         WHERE id = $10 AND key_scheme <> $1 AND password_hash = $11 AND change_seq = $12",
    )
    .bind(KEY_SCHEME_E2E)
    .bind(hash)
    .bind(keys.salt.to_hex())
    .bind(i64::from(keys.kdf.memory_kib))
    .bind(i64::from(keys.kdf.iterations))
    .bind(i64::from(keys.kdf.parallelism))
    .bind(keys.wrapped_key.to_hex())
    .bind(recovery_auth_hash(&keys.recovery_auth))
    .bind(keys.recovery_wrapped_key.to_hex())
    .bind(&account.id)
    .bind(&verified.password_hash)
    .bind(cursor)
    .bind(crate::clock::now().0)
    .bind(upgrade.manifest.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        let (scheme, head): (String, i64) =
            sqlx::query_as("SELECT key_scheme, change_seq FROM accounts WHERE id = $1")
                .bind(&account.id)
                .fetch_one(&mut *tx)
                .await?;
        return Err(match (scheme == KEY_SCHEME_E2E, head != cursor) {
            (true, _) => already_upgraded(),
            (false, true) => conflict(format!(
                "the account has changes after cursor {cursor} (it is at {head}): pull them, then upgrade; nothing changed"
            )),
            (false, false) => conflict("the password was changed meanwhile; nothing changed"),
        });
    }
    end_sessions(&mut tx, &account.id, Some(&account.token_hash)).await?;
    tx.commit().await?;
    tracing::info!(%username, %client, "account upgraded to end-to-end encryption; other sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

fn already_upgraded() -> ApiError {
    conflict("this account is end-to-end encrypted already; nothing changed")
}

/// The recovery key's first step: proof of the key gets the data key wrapped under it.
#[utoipa::path(
    post, path = "/v1/recovery/key", tag = "accounts",
    request_body = RecoveryProof,
    responses(
        (status = 200, description = "The data key, wrapped under the recovery key", body = RecoveredKey),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or recovery key", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 16 KiB", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many wrong recovery keys from this address", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn recovery_key(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(proof): ApiJson<RecoveryProof>,
) -> Result<Json<RecoveredKey>, ApiError> {
    let recovered = check_recovery(&state, client, &proof.username, &proof.recovery_auth).await?;
    Ok(Json(recovered.key))
}

/// The recovery key's second step: a new password, set with proof of the recovery key.
/// Every session of the account ends.
#[utoipa::path(
    post, path = "/v1/recovery/password", tag = "accounts",
    request_body = RecoveryReset,
    responses(
        (status = 204, description = "The new password is set; every session has ended"),
        (status = 400, description = "Malformed JSON or unacceptable derivation settings; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or recovery key; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 16 KiB", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        (status = 429, description = "Too many wrong recovery keys from this address", body = Problem, content_type = "application/problem+json"),
        ServerFailedNothingStored,
        PasswordChecksBusy,
    )
)]
pub async fn recovery_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(reset): ApiJson<RecoveryReset>,
) -> Result<StatusCode, ApiError> {
    checked_kdf(&reset.new.kdf)?;
    let recovered = check_recovery(&state, client, &reset.username, &reset.recovery_auth).await?;
    set_password(&state, &recovered.account_id, &reset.new, None).await?;
    tracing::info!(username = %reset.username, %client, "password set with the recovery key");
    Ok(StatusCode::NO_CONTENT)
}

struct Recovered {
    account_id: String,
    key: RecoveredKey,
}

/// Checks a recovery key's auth secret. Counted per address only: the secret is 256 random
/// bits, so there is nothing to guess, and a count per account would let a stranger block
/// the owner's recovery.
async fn check_recovery(
    state: &AppState,
    client: std::net::IpAddr,
    username: &str,
    auth: &Hex<{ quire_core::crypto::KEY_BYTES }>,
) -> Result<Recovered, ApiError> {
    check_username(username)?;
    let attempt = attempts::record(
        &state.db,
        &[Scope {
            key: format!("recovery:{}", limit_key(client)),
            limit: state.limits.max_failed_logins_per_address,
            window_ms: LOGIN_WINDOW_MS,
        }],
        now(),
        "too many wrong recovery keys from this address; wait a few minutes and try again",
    )
    .await?;
    let row = sqlx::query(
        "SELECT id, key_scheme, recovery_auth_hash, recovery_wrapped_key
         FROM accounts WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?;
    let wrong = || ApiError::unauthorized("wrong username or recovery key");
    let Some(row) = row else {
        return Err(wrong());
    };
    let stored_hash: Option<String> = row.try_get("recovery_auth_hash")?;
    let scheme: String = row.try_get("key_scheme")?;
    if scheme != KEY_SCHEME_E2E || stored_hash.as_deref() != Some(&recovery_auth_hash(auth)) {
        tracing::info!(%username, %client, "wrong recovery key");
        return Err(wrong());
    }
    attempt.take_back(&state.db).await?;
    let account_id: String = row.try_get("id")?;
    let wrapped: Option<String> = row.try_get("recovery_wrapped_key")?;
    let key = uuid::Uuid::parse_str(&account_id)
        .ok()
        .zip(
            wrapped
                .as_deref()
                .and_then(Hex::<WRAPPED_KEY_BYTES>::from_hex),
        )
        .map(|(id, recovery_wrapped_key)| RecoveredKey {
            account_id: id,
            recovery_wrapped_key,
        })
        .ok_or_else(|| {
            tracing::error!(account = %account_id, "an account's recovery key is unreadable");
            ApiError::internal()
        })?;
    Ok(Recovered { account_id, key })
}
