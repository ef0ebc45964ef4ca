//! `POST /v1/sync/push` and `GET /v1/sync/pull`.
//!
//! A pushed batch runs in one transaction that first takes the account's change counter
//! (`accounts.change_seq`). That row lock orders every write of an account, so (1) a
//! replayed op id is found by the dedupe check before anything else happens, and (2)
//! changes commit in the order of their sequence numbers, so a pull cursor can never step
//! over a change that commits later. Each op is judged on its own: a refused or conflicting
//! op writes nothing and the others go on. One commit per batch rather than per op is what
//! lets a server take thousands of ops a second (see `make bench`). Only applied ops are
//! remembered for replays: an op that changed nothing can safely be judged again.

use axum::extract::{Query, State};
use axum::Json;
use quire_core::protocol::{
    Change, NewText, NoteState, Problem, PullResponse, PushChange, PushOp, PushRequest,
    PushResponse, PushResult,
};
use quire_core::validate::{validate_fields, Limits as FieldLimits};
use quire_core::{DeviceId, Millis, NoteFields, NoteId, Version};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::accounts::AuthedAccount;
use crate::problem::{ApiError, ApiJson};
use crate::{now, AppState};

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
        let mut seq = ChangeSeq::take(&mut tx, &account.id).await?;
        let mut results = Vec::with_capacity(request.ops.len());
        for op in &request.ops {
            results.push(apply_op(&mut tx, &limits, &account.id, &mut seq, op).await?);
        }
        seq.store(&mut tx, &account.id).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(results)
    });
    let results = work.await.map_err(|_| ApiError::internal())??;
    Ok(Json(PushResponse { results }))
}

fn note_from_row(row: &AnyRow) -> Result<NoteState, ApiError> {
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

async fn current_note(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    note_id: NoteId,
) -> Result<Option<NoteState>, ApiError> {
    sqlx::query(
        "SELECT id, title, body, version, deleted, updated_at FROM notes
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account_id)
    .bind(note_id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .map(|row| note_from_row(&row))
    .transpose()
}

/// What an op does to the note, decided before anything is written.
enum Outcome {
    Write {
        title: String,
        body: String,
        deleted: bool,
        /// The current text, when a last-write-wins op replaces one it never saw.
        overwritten: Option<NoteState>,
    },
    Answer(PushResult),
}

fn rejected(op: &PushOp, reason: impl Into<String>) -> Outcome {
    Outcome::Answer(PushResult::Rejected {
        op_id: op.op_id,
        reason: reason.into(),
    })
}

fn decide(op: &PushOp, current: Option<NoteState>, limits: &FieldLimits) -> Outcome {
    let change = match op.change() {
        Ok(change) => change,
        Err(reason) => return rejected(op, reason),
    };
    let base_matches = |note: &NoteState| op.base_version == Some(note.version);
    match (change, current) {
        (PushChange::Create { .. }, Some(_)) => rejected(op, "a note with this id already exists"),
        (PushChange::Create { title, body }, None) => {
            match validate_fields(NoteFields::new(title, body), limits) {
                Ok(fields) => Outcome::Write {
                    title: fields.title,
                    body: fields.body,
                    deleted: false,
                    overwritten: None,
                },
                Err(err) => rejected(op, err.to_string()),
            }
        }
        (PushChange::Update { .. } | PushChange::Delete, None) => {
            rejected(op, "no note with this id in this account")
        }
        (_, Some(note)) if !op.lww && !base_matches(&note) => {
            Outcome::Answer(PushResult::Conflict {
                op_id: op.op_id,
                current: note,
            })
        }
        (
            PushChange::Update {
                text: NewText::Patch(_),
                ..
            },
            Some(note),
        ) if !base_matches(&note) => Outcome::Answer(PushResult::NeedFullText {
            op_id: op.op_id,
            current_version: note.version,
        }),
        (PushChange::Update { title, text }, Some(note)) => {
            let body = match text {
                NewText::Full(body) => body.to_owned(),
                NewText::Patch(patch) => match patch.apply(&note.body) {
                    Ok(body) => body,
                    // The device's idea of the base text differs from ours: the full text
                    // settles it, and nothing the person wrote is refused over it.
                    Err(_) => {
                        return Outcome::Answer(PushResult::NeedFullText {
                            op_id: op.op_id,
                            current_version: note.version,
                        })
                    }
                },
            };
            match validate_fields(NoteFields::new(title, body), limits) {
                // An edit of a deleted note brings it back: the edit wins.
                Ok(fields) => Outcome::Write {
                    title: fields.title,
                    body: fields.body,
                    deleted: false,
                    overwritten: (!base_matches(&note)).then_some(note),
                },
                Err(err) => rejected(op, err.to_string()),
            }
        }
        (PushChange::Delete, Some(note)) => Outcome::Write {
            title: note.title.clone(),
            body: note.body.clone(),
            deleted: true,
            overwritten: (!base_matches(&note)).then_some(note),
        },
    }
}

/// The account's change counter, locked for the batch and written back once at its end.
struct ChangeSeq {
    taken: i64,
    last: i64,
}

impl ChangeSeq {
    /// Takes the account row's lock (a no-op update) and reads the counter.
    async fn take(tx: &mut Transaction<'static, Any>, account_id: &str) -> Result<Self, ApiError> {
        let taken: i64 = sqlx::query_scalar(
            "UPDATE accounts SET change_seq = change_seq WHERE id = $1 RETURNING change_seq",
        )
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(Self { taken, last: taken })
    }

    fn next(&mut self) -> i64 {
        self.last += 1;
        self.last
    }

    async fn store(
        &self,
        tx: &mut Transaction<'static, Any>,
        account_id: &str,
    ) -> Result<(), ApiError> {
        if self.last != self.taken {
            sqlx::query("UPDATE accounts SET change_seq = $2 WHERE id = $1")
                .bind(account_id)
                .bind(self.last)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// Judges one op and writes what it changes into the batch's transaction.
async fn apply_op(
    tx: &mut Transaction<'static, Any>,
    limits: &FieldLimits,
    account_id: &str,
    seq: &mut ChangeSeq,
    op: &PushOp,
) -> Result<PushResult, ApiError> {
    let earlier: Option<String> =
        sqlx::query_scalar("SELECT result FROM applied_ops WHERE account_id = $1 AND op_id = $2")
            .bind(account_id)
            .bind(op.op_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(earlier) = earlier {
        let original: PushResult =
            serde_json::from_str(&earlier).map_err(|_| ApiError::internal())?;
        return Ok(PushResult::Duplicate {
            op_id: op.op_id,
            original: Box::new(original),
        });
    }

    let current = current_note(tx, account_id, op.note_id).await?;
    let version = current.as_ref().map_or(0, |n| n.version.0) + 1;
    let now = now();
    let result = match decide(op, current, limits) {
        // Nothing changed, so there is nothing to replay: a conflicting or refused op
        // sent again (say, rebased on the newer version) is simply judged again.
        Outcome::Answer(result) => return Ok(result),
        Outcome::Write {
            title,
            body,
            deleted,
            overwritten,
        } => {
            if let Some(old) = overwritten {
                sqlx::query(
                    "INSERT INTO note_history
                        (account_id, note_id, version, title, body, deleted, replaced_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(account_id)
                .bind(old.id.to_string())
                .bind(i64::try_from(old.version.0).map_err(|_| ApiError::internal())?)
                .bind(old.title)
                .bind(old.body)
                .bind(i64::from(old.deleted))
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO notes
                    (account_id, id, title, body, version, deleted, updated_at, change_seq,
                     device_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (account_id, id) DO UPDATE SET
                    title = excluded.title, body = excluded.body, version = excluded.version,
                    deleted = excluded.deleted, updated_at = excluded.updated_at,
                    change_seq = excluded.change_seq, device_id = excluded.device_id",
            )
            .bind(account_id)
            .bind(op.note_id.to_string())
            .bind(title)
            .bind(body)
            .bind(i64::try_from(version).map_err(|_| ApiError::internal())?)
            .bind(i64::from(deleted))
            .bind(now.0)
            .bind(seq.next())
            .bind(op.device_id.to_string())
            .execute(&mut **tx)
            .await?;
            PushResult::Applied {
                op_id: op.op_id,
                version: Version(version),
                server_time: now,
            }
        }
    };
    sqlx::query(
        "INSERT INTO applied_ops (account_id, op_id, result, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(account_id)
    .bind(op.op_id.to_string())
    .bind(serde_json::to_string(&result).map_err(|_| ApiError::internal())?)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(result)
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
