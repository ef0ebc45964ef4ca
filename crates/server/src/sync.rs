//! `POST /v1/sync/push` and `GET /v1/sync/pull`.
//!
//! How a batch is judged and written is in [`crate::push_batch`].

use axum::extract::{Query, State};
use axum::Json;
use quire_core::protocol::{Change, NoteState, Problem, PullResponse, PushRequest, PushResponse};
use quire_core::validate::Limits as FieldLimits;
use quire_core::{DeviceId, Millis, Version};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::accounts::AuthedAccount;
use crate::problem::{ApiError, ApiJson};
use crate::push_batch;
use crate::AppState;

const DEFAULT_PULL_LIMIT: u32 = 500;
const MAX_PULL_LIMIT: u32 = 1000;

/// Push a batch of ops: one result per op, in order.
#[utoipa::path(
    post, path = "/v1/sync/push", tag = "sync",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per op", body = PushResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Sign in again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over a limit; nothing stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn push(
    State(state): State<AppState>,
    account: AuthedAccount,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let limits = state.limits;
    if request.ops.len() > limits.max_batch_ops {
        return Err(ApiError::too_large(format!(
            "{} ops in one push; this server takes at most {}",
            request.ops.len(),
            limits.max_batch_ops
        )));
    }
    // Size limits are checked for the whole batch before anything is applied: over a limit,
    // nothing is stored.
    for op in &request.ops {
        let size = op.body.as_ref().map_or(0, String::len)
            + op.patch.as_ref().map_or(0, |p| p.inserted_bytes());
        if size > limits.max_note_bytes {
            return Err(ApiError::too_large(format!(
                "op {} carries {size} bytes of text; this server takes notes up to {} bytes",
                op.op_id, limits.max_note_bytes
            )));
        }
    }
    // The batch runs to its end even when the client goes away mid-request: a transaction
    // cut off by a dropped connection would hold the database for the next request.
    let work = tokio::spawn(async move {
        let limits = FieldLimits {
            max_body_bytes: limits.max_note_bytes,
            ..FieldLimits::default()
        };
        let mut tx = state.db.begin_write().await?;
        let results = push_batch::apply(&mut tx, &limits, &account.id, &request.ops).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(results)
    });
    let results = work.await.map_err(|_| ApiError::internal())??;
    Ok(Json(PushResponse { results }))
}

pub(crate) fn note_from_row(row: &AnyRow) -> Result<NoteState, ApiError> {
    let id: String = row.try_get("id")?;
    let version: i64 = row.try_get("version")?;
    let deleted: i64 = row.try_get("deleted")?;
    Ok(NoteState {
        id: id.parse().map_err(|_| ApiError::internal())?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        version: Version(u64::try_from(version).map_err(|_| ApiError::internal())?),
        deleted: deleted != 0,
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The `next` of the previous pull; 0 (the default) for everything.
    #[serde(default)]
    since: u64,
    /// Most changes to return, 1 to 1000 (default 500).
    limit: Option<u32>,
    /// The asking device: changes it made itself are left out (the cursor still moves past
    /// them), as it has their text already.
    device: Option<DeviceId>,
}

/// Pull the account's changes after a cursor.
#[utoipa::path(
    get, path = "/v1/sync/pull", tag = "sync",
    security(("bearer" = [])),
    params(PullQuery),
    responses(
        (status = 200, description = "Changes after the cursor", body = PullResponse),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Sign in again", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn pull(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(query) = query?;
    let since = i64::try_from(query.since)
        .map_err(|_| ApiError::bad_request("since is beyond any cursor this server hands out"))?;
    let limit = query.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if limit == 0 || limit > MAX_PULL_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit is 1 to {MAX_PULL_LIMIT}"
        )));
    }
    let rows = sqlx::query(
        "SELECT id, title, body, version, deleted, updated_at, change_seq, device_id FROM notes
         WHERE account_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3",
    )
    .bind(&account.id)
    .bind(since)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let more = rows.len() > limit as usize;
    let own_device = query.device.map(|device| device.to_string());
    let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
    let mut next = query.since;
    for row in rows.iter().take(limit as usize) {
        let seq: i64 = row.try_get("change_seq")?;
        next = u64::try_from(seq).map_err(|_| ApiError::internal())?;
        let made_by: Option<String> = row.try_get("device_id")?;
        if made_by.is_some() && made_by == own_device {
            continue;
        }
        changes.push(Change {
            seq: next,
            note: note_from_row(row)?,
        });
    }
    Ok(Json(PullResponse {
        changes,
        next,
        more,
    }))
}
