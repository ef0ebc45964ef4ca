//! A note's history and its end (docs/history-design.md): `GET /v1/notes/{id}/versions`,
//! `GET /v1/notes/{id}/versions/{v}` and `DELETE /v1/notes/{id}` (delete forever).
//!
//! History is the sealed entries below a note's live chain, kept when a snapshot starts
//! the chain over ([`crate::sealed_batch`]) and pruned by age and size ([`crate::prune`]).
//! The server lists them and hands them over; it never opens one. Every query is scoped to
//! the token's account: another account's note is as unknown as one that never existed.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use quire_core::protocol::{
    HistoryVersion, Problem, PurgeRequest, SealedForm, VersionEntries, VersionsPage,
};
use quire_core::push_judgement::ROW_OVERHEAD;
use quire_core::{Millis, NoteId, Version};
use serde::Deserialize;
use sqlx::Row;

use crate::accounts::AuthedAccount;
use crate::clock::now;
use crate::digest::DigestChanges;
use crate::problem::{ApiError, ApiJson, NotJsonOrUnknownEncoding, ServerFailed, SignInAgain};
use crate::push_batch::{db_version, lock_account, version_from_db};
use crate::sealed_pull::{entry_from_row, StoredEntry, JOINED_ENTRY_COLUMNS};
use crate::state::AppState;

/// Versions a page lists by default, and at most (each about 150 bytes of JSON).
const DEFAULT_VERSIONS: u32 = 200;
const MAX_VERSIONS: u32 = 1000;

/// An account in the clear has no sealed history, and cannot purge.
fn not_sealed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        quire_core::protocol::problem::CONFLICT,
        "this account is not end-to-end encrypted yet: sign in with a current Quire to upgrade it",
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionsQuery {
    /// List versions older than this one (the last `version` of the previous page).
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    before: Option<u64>,
    /// Most versions to list, 1 to 1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The note, scoped to the account, as history needs it: 404 when it does not exist here
/// (or was deleted forever), 409 when the account is not end-to-end encrypted.
async fn sealed_note(
    state: &AppState,
    account: &AuthedAccount,
    id: &str,
) -> Result<NoteId, ApiError> {
    if !account.end_to_end {
        return Err(not_sealed());
    }
    let id: NoteId = id
        .parse()
        .map_err(|_| ApiError::bad_request("that is not a note id"))?;
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT purged FROM notes WHERE account_id = $1 AND id = $2 AND snapshot_version IS NOT NULL",
    )
    .bind(&account.id)
    .bind(id.to_string())
    .fetch_optional(&state.db.pool)
    .await?;
    match found {
        Some(0) => Ok(id),
        _ => Err(ApiError::not_found("no such note in this account")),
    }
}

/// List the versions the server keeps of a note, newest first.
#[utoipa::path(
    get, path = "/v1/notes/{id}/versions", tag = "history",
    security(("bearer" = [])),
    params(("id" = NoteId, Path, description = "The note's id"), VersionsQuery),
    responses(
        (status = 200, description = "Versions, newest first", body = VersionsPage),
        (status = 400, description = "A malformed id or query", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 404, description = "No such note in this account (or deleted forever)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not end-to-end encrypted yet", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn versions(
    State(state): State<AppState>,
    account: AuthedAccount,
    Path(id): Path<String>,
    query: Result<Query<VersionsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<VersionsPage>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(DEFAULT_VERSIONS);
    if limit == 0 || limit > MAX_VERSIONS {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_VERSIONS}"
        )));
    }
    let before = match query.before {
        Some(before) => i64::try_from(before)
            .ok()
            .filter(|before| *before > 0)
            .ok_or_else(|| ApiError::bad_request("before must be a version: 1 or more"))?,
        None => i64::MAX,
    };
    let id = sealed_note(&state, &account, &id).await?;
    let rows = sqlx::query(
        "SELECT version, created_at, device_id, CAST(length(data) AS BIGINT) AS bytes, form FROM note_entries
         WHERE account_id = $1 AND note_id = $2 AND version < $3
         ORDER BY version DESC LIMIT $4",
    )
    .bind(&account.id)
    .bind(id.to_string())
    .bind(before)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in &rows {
        let device: String = row.try_get("device_id")?;
        let form: String = row.try_get("form")?;
        versions.push(HistoryVersion {
            version: version_from_db(row.try_get("version")?)?,
            at: Millis(row.try_get("created_at")?),
            device: device.parse().map_err(|_| ApiError::internal())?,
            bytes: u64::try_from(row.try_get::<i64, _>("bytes")?).unwrap_or(0),
            form: SealedForm::parse(&form).ok_or_else(ApiError::internal)?,
        });
    }
    let more = versions.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    versions.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Json(VersionsPage { versions, more }))
}

/// The sealed entries that rebuild one version of a note: from the latest snapshot at or
/// below it, up to it.
#[utoipa::path(
    get, path = "/v1/notes/{id}/versions/{version}", tag = "history",
    security(("bearer" = [])),
    params(
        ("id" = NoteId, Path, description = "The note's id"),
        ("version" = u64, Path, description = "The version to rebuild", minimum = 1, maximum = 9_223_372_036_854_775_807_i64),
    ),
    responses(
        (status = 200, description = "The entries, oldest first", body = VersionEntries),
        (status = 400, description = "A malformed id or version", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 404, description = "No such note in this account, or that version is no longer kept", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is not end-to-end encrypted yet", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn version(
    State(state): State<AppState>,
    account: AuthedAccount,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<VersionEntries>, ApiError> {
    let version: i64 = version
        .parse::<u64>()
        .ok()
        .and_then(|v| i64::try_from(v).ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_request("that is not a version"))?;
    let id = sealed_note(&state, &account, &id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {JOINED_ENTRY_COLUMNS} FROM note_entries e
         WHERE e.account_id = $1 AND e.note_id = $2 AND e.version <= $3 AND e.version >= (
             SELECT max(version) FROM note_entries
             WHERE account_id = $1 AND note_id = $2 AND version <= $3 AND form = 'snapshot')
         ORDER BY e.version"
    ))
    .bind(&account.id)
    .bind(id.to_string())
    .bind(version)
    .fetch_all(&state.db.pool)
    .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.extend(entry_from_row(row)?.map(StoredEntry::into_entry));
    }
    if entries.last().map(|e| e.version.0) != u64::try_from(version).ok() {
        return Err(ApiError::not_found(
            "that version of this note is no longer kept",
        ));
    }
    Ok(Json(VersionEntries { entries }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PurgeQuery {
    /// The note's version as the device last saw it: if the note changed since (another
    /// device edited it, which beats a delete), nothing is purged and the answer is 409.
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    version: Option<u64>,
}

/// The most a purge marker may weigh: a sealed record of a few dozen bytes.
const MAX_MARKER_BYTES: usize = 1024;

/// Delete a note forever: its text and history go from the server, and every device that
/// pulls afterwards deletes its copy once the sealed marker in the body opens. The note's id
/// takes no more ops.
#[utoipa::path(
    delete, path = "/v1/notes/{id}", tag = "history",
    security(("bearer" = [])),
    params(("id" = NoteId, Path, description = "The note's id"), PurgeQuery),
    request_body = PurgeRequest,
    responses(
        (status = 204, description = "Deleted forever (or it already was)"),
        (status = 400, description = "A malformed id, query or body (a marker over 1024 bytes)", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        SignInAgain,
        (status = 404, description = "No such note in this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The note changed since `version` (nothing was purged), or the account is not end-to-end encrypted yet", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn purge(
    State(state): State<AppState>,
    account: AuthedAccount,
    Path(id): Path<String>,
    query: Result<Query<PurgeQuery>, axum::extract::rejection::QueryRejection>,
    ApiJson(request): ApiJson<PurgeRequest>,
) -> Result<StatusCode, ApiError> {
    let Query(query) = query?;
    if request.marker.len() > MAX_MARKER_BYTES || request.marker.is_empty() {
        return Err(ApiError::bad_request(format!(
            "a purge marker is a sealed record of 1 to {MAX_MARKER_BYTES} bytes"
        )));
    }
    let id: NoteId = id
        .parse()
        .map_err(|_| ApiError::bad_request("that is not a note id"))?;
    let seen = query
        .version
        .map(|v| {
            i64::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| ApiError::bad_request("version must be 1 or more, as versions are"))
        })
        .transpose()?;
    // Runs to its end even when the client goes away, like a push.
    let work = tokio::spawn(async move {
        let mut tx = state.db.begin_write().await?;
        let locked = lock_account(&mut tx, &account.id).await?;
        if !locked.end_to_end {
            return Err(not_sealed());
        }
        let note_id = id.to_string();
        let row = sqlx::query(
            "SELECT version, purged, snapshot_version, size, digest_part FROM notes
             WHERE account_id = $1 AND id = $2",
        )
        .bind(&account.id)
        .bind(&note_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found("no such note in this account"))?;
        if row.try_get::<i64, _>("purged")? != 0 {
            return Ok(());
        }
        // Edited since the device saw it: an edit beats a delete, and a purge.
        if seen.is_some_and(|seen| row.try_get::<i64, _>("version").is_ok_and(|v| v != seen)) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                quire_core::protocol::problem::CONFLICT,
                "the note changed since this device saw it (edited on another device): \
                 nothing was deleted",
            ));
        }
        // What the note holds: its entries, and for a note still in the clear its row's
        // text and its plain history, each charged as a push charged it.
        let entries: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(coalesce(sum(length(data) + {ROW_OVERHEAD}), 0) AS BIGINT)
             FROM note_entries WHERE account_id = $1 AND note_id = $2"
        ))
        .bind(&account.id)
        .bind(&note_id)
        .fetch_one(&mut *tx)
        .await?;
        let plain_history: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(coalesce(sum(size + {ROW_OVERHEAD}), 0) AS BIGINT)
             FROM note_history WHERE account_id = $1 AND note_id = $2"
        ))
        .bind(&account.id)
        .bind(&note_id)
        .fetch_one(&mut *tx)
        .await?;
        let in_the_clear = row.try_get::<Option<i64>, _>("snapshot_version")?.is_none();
        let plain_text = if in_the_clear {
            row.try_get::<i64, _>("size")? + ROW_OVERHEAD
        } else {
            0
        };
        for table in ["note_entries", "note_history"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE account_id = $1 AND note_id = $2"
            ))
            .bind(&account.id)
            .bind(&note_id)
            .execute(&mut *tx)
            .await?;
        }
        // The row stays, with nothing of the note, at a new version and place in the log;
        // its chain is the marker alone (charged like any entry), which pulls hand out.
        let change_seq = locked.counters.change_seq + 1;
        let version = version_from_db(row.try_get("version")?)?.0 + 1;
        let version = db_version(Version(version))?;
        let marker_bytes = i64::try_from(request.marker.len()).unwrap_or(i64::MAX) + ROW_OVERHEAD;
        let at = now().0;
        sqlx::query(
            "INSERT INTO note_entries
                (account_id, note_id, version, change_seq, op_id, base_version, form, data,
                 device_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'purge', $7, $8, $9)",
        )
        .bind(&account.id)
        .bind(&note_id)
        .bind(version)
        .bind(change_seq)
        .bind(request.op_id.to_string())
        .bind(seen)
        .bind(request.marker.0.clone())
        .bind(request.device_id.to_string())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE notes SET title = '', body = '', deleted = 1, purged = 1, version = $1,
                 updated_at = $2, change_seq = $3, device_id = NULL, text_hash = NULL, size = $4,
                 snapshot_version = $5, digest_bucket = $6, digest_part = 0
             WHERE account_id = $7 AND id = $8",
        )
        .bind(version)
        .bind(at)
        .bind(change_seq)
        .bind(marker_bytes)
        .bind(version)
        .bind(i64::from(quire_core::digest::bucket_of(id)))
        .bind(&account.id)
        .bind(&note_id)
        .execute(&mut *tx)
        .await?;
        // Deleted forever counts nothing in the account's digest.
        let mut digest = DigestChanges::default();
        digest.replace(id, row.try_get("digest_part")?, 0);
        digest.write(&mut tx, state.db.engine, &account.id).await?;
        sqlx::query(
            "UPDATE accounts SET change_seq = $1, stored_bytes = stored_bytes - $2 WHERE id = $3",
        )
        .bind(change_seq)
        .bind(entries + plain_history + plain_text - marker_bytes)
        .bind(&account.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(note = %id, "deleted forever");
        Ok::<_, ApiError>(())
    });
    work.await.map_err(|_| ApiError::internal())??;
    Ok(StatusCode::NO_CONTENT)
}
