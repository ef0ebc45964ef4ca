//! A pushed batch: judged in memory, written in one transaction.
//!
//! The transaction first takes the account's change counter (`accounts.change_seq`). That
//! row lock orders every write of an account, so (1) a replayed op id is found before
//! anything else happens, and (2) changes commit in the order of their sequence numbers, so
//! a pull cursor can never step over a change that commits later.
//!
//! The batch reads what it needs up front (earlier answers for its op ids, the current state
//! of its notes: two queries), judges each op in order against that state as the earlier ops
//! left it, and writes the outcome with a few multi-row statements. Each op is judged on its
//! own: a refused or conflicting op writes nothing and the others go on. A handful of
//! statements per batch rather than several per op is what lets a server take thousands of
//! ops a second (`make bench`). Only applied ops are remembered for replays: an op that
//! changed nothing can safely be judged again.

use std::collections::HashMap;

use quire_core::protocol::{NewText, NoteState, PushChange, PushOp, PushResult};
use quire_core::validate::{validate_fields, Limits as FieldLimits};
use quire_core::{NoteFields, NoteId, OpId, Version};
use sqlx::{Any, Row, Transaction};

use crate::db::{in_list, values_list};
use crate::now;
use crate::problem::ApiError;
use crate::sync::note_from_row;

/// Rows per multi-row statement: well inside both engines' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Judges `ops` in order and writes what they change into `tx`; one result per op.
pub async fn apply(
    tx: &mut Transaction<'static, Any>,
    limits: &FieldLimits,
    account_id: &str,
    ops: &[PushOp],
) -> Result<Vec<PushResult>, ApiError> {
    let seq = take_change_seq(tx, account_id).await?;
    let mut batch = Batch {
        replays: earlier_results(tx, account_id, ops).await?,
        notes: current_notes(tx, account_id, ops).await?,
        seq,
        history: Vec::new(),
        changed: HashMap::new(),
        applied: Vec::new(),
    };
    let results = ops.iter().map(|op| batch.judge(op, limits)).collect();
    batch.write(tx, account_id).await?;
    Ok(results)
}

/// Takes the account row's lock (a no-op update) and reads its change counter.
async fn take_change_seq(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
) -> Result<i64, ApiError> {
    Ok(sqlx::query_scalar(
        "UPDATE accounts SET change_seq = change_seq WHERE id = $1 RETURNING change_seq",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// The answers given before to any of these op ids.
async fn earlier_results(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<OpId, PushResult>, ApiError> {
    let mut found = HashMap::new();
    for chunk in ops.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT op_id, result FROM applied_ops WHERE account_id = $1 AND op_id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for op in chunk {
            query = query.bind(op.op_id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let op_id: String = row.try_get("op_id")?;
            let result: String = row.try_get("result")?;
            found.insert(
                op_id.parse().map_err(|_| ApiError::internal())?,
                serde_json::from_str(&result).map_err(|_| ApiError::internal())?,
            );
        }
    }
    Ok(found)
}

/// The notes these ops touch, as the server has them now.
async fn current_notes(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<NoteId, NoteState>, ApiError> {
    let mut ids: Vec<NoteId> = ops.iter().map(|op| op.note_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, title, body, version, deleted, updated_at FROM notes
             WHERE account_id = $1 AND id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let note = note_from_row(&row)?;
            found.insert(note.id, note);
        }
    }
    Ok(found)
}

/// A changed note's place in the change log, and the device that made its last change.
struct Changed {
    seq: i64,
    device_id: String,
}

struct Batch {
    /// Answers to remember, by op id: earlier batches' and this one's.
    replays: HashMap<OpId, PushResult>,
    /// Each touched note as the ops judged so far left it.
    notes: HashMap<NoteId, NoteState>,
    /// The last change sequence number handed out.
    seq: i64,
    /// Texts replaced by last-write-wins ops, kept in history.
    history: Vec<NoteState>,
    /// Notes this batch changed (their text is in `notes`); a later op of the batch on
    /// the same note takes its place.
    changed: HashMap<NoteId, Changed>,
    /// Applied ops and their answers, to remember for replays.
    applied: Vec<(OpId, PushResult)>,
}

impl Batch {
    fn judge(&mut self, op: &PushOp, limits: &FieldLimits) -> PushResult {
        if let Some(original) = self.replays.get(&op.op_id) {
            return PushResult::Duplicate {
                op_id: op.op_id,
                original: Box::new(original.clone()),
            };
        }
        let current = self.notes.get(&op.note_id).cloned();
        let version = Version(current.as_ref().map_or(0, |n| n.version.0) + 1);
        match decide(op, current, limits) {
            // Nothing changed, so there is nothing to replay: a conflicting or refused op
            // sent again (say, rebased on the newer version) is simply judged again.
            Outcome::Answer(result) => result,
            Outcome::Write {
                title,
                body,
                deleted,
                overwritten,
            } => {
                let server_time = now();
                self.history.extend(overwritten);
                let note = NoteState {
                    id: op.note_id,
                    title,
                    body,
                    version,
                    deleted,
                    updated_at: server_time,
                };
                self.seq += 1;
                self.changed.insert(
                    op.note_id,
                    Changed {
                        seq: self.seq,
                        device_id: op.device_id.to_string(),
                    },
                );
                self.notes.insert(op.note_id, note);
                let result = PushResult::Applied {
                    op_id: op.op_id,
                    version,
                    server_time,
                };
                self.replays.insert(op.op_id, result.clone());
                self.applied.push((op.op_id, result.clone()));
                result
            }
        }
    }

    /// Writes the batch's changes: history, notes, remembered answers, the counter.
    async fn write(
        self,
        tx: &mut Transaction<'static, Any>,
        account_id: &str,
    ) -> Result<(), ApiError> {
        let replaced_at = now();
        for chunk in self.history.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO note_history
                    (account_id, note_id, version, title, body, deleted, replaced_at)
                 VALUES {}",
                values_list(chunk.len(), 7, 1)
            );
            let mut query = sqlx::query(&sql);
            for old in chunk {
                query = query
                    .bind(account_id)
                    .bind(old.id.to_string())
                    .bind(db_version(old.version)?)
                    .bind(old.title.as_str())
                    .bind(old.body.as_str())
                    .bind(i64::from(old.deleted))
                    .bind(replaced_at.0);
            }
            query.execute(&mut **tx).await?;
        }
        // Every changed note is in `notes`, as the batch left it.
        let changed = self
            .changed
            .iter()
            .map(|(id, changed)| Ok((self.notes.get(id).ok_or_else(ApiError::internal)?, changed)))
            .collect::<Result<Vec<(&NoteState, &Changed)>, ApiError>>()?;
        for chunk in changed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO notes
                    (account_id, id, title, body, version, deleted, updated_at, change_seq,
                     device_id)
                 VALUES {}
                 ON CONFLICT (account_id, id) DO UPDATE SET
                    title = excluded.title, body = excluded.body, version = excluded.version,
                    deleted = excluded.deleted, updated_at = excluded.updated_at,
                    change_seq = excluded.change_seq, device_id = excluded.device_id",
                values_list(chunk.len(), 9, 1)
            );
            let mut query = sqlx::query(&sql);
            for (note, changed) in chunk {
                query = query
                    .bind(account_id)
                    .bind(note.id.to_string())
                    .bind(note.title.as_str())
                    .bind(note.body.as_str())
                    .bind(db_version(note.version)?)
                    .bind(i64::from(note.deleted))
                    .bind(note.updated_at.0)
                    .bind(changed.seq)
                    .bind(changed.device_id.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        for chunk in self.applied.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO applied_ops (account_id, op_id, result, created_at) VALUES {}",
                values_list(chunk.len(), 4, 1)
            );
            let mut query = sqlx::query(&sql);
            for (op_id, result) in chunk {
                query = query
                    .bind(account_id)
                    .bind(op_id.to_string())
                    .bind(serde_json::to_string(result).map_err(|_| ApiError::internal())?)
                    .bind(replaced_at.0);
            }
            query.execute(&mut **tx).await?;
        }
        if !self.changed.is_empty() {
            sqlx::query("UPDATE accounts SET change_seq = $2 WHERE id = $1")
                .bind(account_id)
                .bind(self.seq)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

fn db_version(version: Version) -> Result<i64, ApiError> {
    i64::try_from(version.0).map_err(|_| ApiError::internal())
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
