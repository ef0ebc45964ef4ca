//! A pushed batch: loaded, judged op by op against the notes' current state by
//! [`quire_core::push_judgement`], and written in one transaction. This module only reads
//! and writes; what each op does is decided there.
//!
//! The transaction first takes the account's change counter (`accounts.change_seq`). That
//! row lock orders every write of an account, so (1) a replayed op id is found before
//! anything else happens, and (2) changes commit in the order of their sequence numbers, so
//! a pull cursor can never step over a change that commits later.
//!
//! The batch reads what it needs up front (earlier answers for its op ids, and each touched
//! note's version, hash and size: two queries), a note's text only when the judgement asks
//! for it, and writes the outcome with a few multi-row statements, which is what lets a
//! server take thousands of ops a second (`make bench`). Only applied ops are remembered
//! for replays: an op that changed nothing can safely be judged again.
//!
//! Besides the judgement's bounds, a note keeps at most `max_history_per_note` replaced
//! texts here, and what pruning history frees comes off the account's bytes.

use std::collections::HashMap;

use quire_core::protocol::{PushOp, PushResult};
use quire_core::push_judgement::{
    AccountCounters, BatchJudgement, BatchWrites, Judged, NoteWrite, PushLimits, StoredNote,
    ROW_OVERHEAD,
};
use quire_core::validate::Limits as FieldLimits;
use quire_core::{Millis, NoteId, OpId, TextHash, Version};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row, Transaction};

use crate::clock::now;
use crate::config::Limits;
use crate::db::Engine;
use crate::problem::ApiError;

/// Rows per multi-row statement: well inside both engines' limits on bound values.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Judges `ops` in order and writes what they change into `tx`; one result per op.
/// `counters`: the account's, read under its lock ([`lock_account`]).
pub async fn apply(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    limits: &Limits,
    account_id: &str,
    counters: AccountCounters,
    ops: &[PushOp],
) -> Result<Vec<PushResult>, ApiError> {
    let replays = earlier_results(tx, engine, account_id, ops).await?;
    let notes = current_notes(tx, engine, account_id, ops).await?;
    let mut judgement = BatchJudgement::new(push_limits(limits), counters, replays, notes);
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let server_time = now();
        // An op touches one note, so it asks for at most one body: a second ask would be a
        // judgement that never ends, inside the account's write lock.
        let mut asked = false;
        let result = loop {
            let judged = judgement
                .judge(op, server_time)
                .map_err(|err| ApiError::too_large(err.to_string()))?;
            match judged {
                Judged::Answer(result) => break result,
                Judged::NeedsBody(note_id) if !asked => {
                    asked = true;
                    let body = stored_body(tx, account_id, note_id).await?;
                    judgement.provide_body(note_id, body);
                }
                Judged::NeedsBody(note_id) => {
                    tracing::error!(%note_id, "the judgement asked twice for one note's text");
                    return Err(ApiError::internal());
                }
            }
        };
        results.push(result);
    }
    write(tx, engine, limits, account_id, judgement.into_writes()).await?;
    Ok(results)
}

/// What the server's limits allow one push.
fn push_limits(limits: &Limits) -> PushLimits {
    PushLimits {
        fields: FieldLimits {
            max_body_bytes: limits.max_note_bytes,
            ..FieldLimits::default()
        },
        max_batch_text_bytes: limits.max_push_text_bytes,
        max_response_bytes: limits.max_response_bytes,
        max_account_bytes: limits.max_account_bytes,
    }
}

/// The account as a push finds it under its lock.
pub(crate) struct LockedAccount {
    pub counters: AccountCounters,
    /// Whether its ops are sealed. Read under the lock an upgrade takes too, so a push
    /// that began before an upgrade and is written after it is judged as the account now is.
    pub end_to_end: bool,
}

/// Takes the account row's lock for the transaction (a no-op update) and reads its change
/// counter, the bytes it holds and its key scheme.
pub(crate) async fn lock_account(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
) -> Result<LockedAccount, ApiError> {
    let row = sqlx::query(
        "UPDATE accounts SET change_seq = change_seq WHERE id = $1
         RETURNING change_seq, stored_bytes, key_scheme",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    let scheme: String = row.try_get("key_scheme")?;
    Ok(LockedAccount {
        counters: AccountCounters {
            change_seq: row.try_get("change_seq")?,
            stored_bytes: row.try_get("stored_bytes")?,
        },
        end_to_end: scheme == crate::accounts::KEY_SCHEME_E2E,
    })
}

/// The answers given before to any of these op ids.
pub(crate) async fn earlier_results(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<OpId, PushResult>, ApiError> {
    let mut found = HashMap::new();
    for chunk in ops.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT op_id, result FROM applied_ops WHERE account_id = {} AND op_id IN ({})",
            engine.param(1),
            engine.in_list(chunk.len(), 2)
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

/// The notes these ops touch, as the server has them now, without their texts.
async fn current_notes(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<NoteId, StoredNote>, ApiError> {
    let mut ids: Vec<NoteId> = ops.iter().map(|op| op.note_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, title, version, deleted, updated_at, text_hash, size, device_id FROM notes
             WHERE account_id = {} AND id IN ({})",
            engine.param(1),
            engine.in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let id: String = row.try_get("id")?;
            let version: i64 = row.try_get("version")?;
            let deleted: i64 = row.try_get("deleted")?;
            let hash: Option<String> = row.try_get("text_hash")?;
            let device: Option<String> = row.try_get("device_id")?;
            found.insert(
                id.parse().map_err(|_| ApiError::internal())?,
                StoredNote {
                    title: row.try_get("title")?,
                    version: Version(u64::try_from(version).map_err(|_| ApiError::internal())?),
                    deleted: deleted != 0,
                    updated_at: Millis(row.try_get("updated_at")?),
                    hash: hash.and_then(|h| h.parse().ok()),
                    size: row.try_get("size")?,
                    // A device id the server cannot read is no device an op comes from.
                    device: device.and_then(|d| d.parse().ok()),
                },
            );
        }
    }
    Ok(found)
}

async fn stored_body(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    note_id: NoteId,
) -> Result<String, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT body FROM notes WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(note_id.to_string())
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Writes the batch's changes: history, notes, remembered answers, the counters.
async fn write(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    limits: &Limits,
    account_id: &str,
    writes: BatchWrites,
) -> Result<(), ApiError> {
    let written_at = now();
    // The ops were charged one by one as they were judged (over the quota: deferred);
    // what history pruning frees comes off below.
    let mut grown = writes.charged_bytes;
    for note in writes.notes.iter().filter(|note| note.keep_history) {
        let charged = note.size_before + ROW_OVERHEAD;
        grown += keep_in_history(tx, account_id, note.id, written_at, limits, charged).await?;
    }
    // Notes with a new text, in one statement per chunk.
    let with_text: Vec<(&NoteWrite, &str)> = writes
        .notes
        .iter()
        .filter_map(|note| Some((note, note.body.as_deref()?)))
        .collect();
    for chunk in with_text.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO notes
                (account_id, id, title, body, version, deleted, updated_at, change_seq,
                 device_id, text_hash, size)
             VALUES {}
             ON CONFLICT (account_id, id) DO UPDATE SET
                title = excluded.title, body = excluded.body, version = excluded.version,
                deleted = excluded.deleted, updated_at = excluded.updated_at,
                change_seq = excluded.change_seq, device_id = excluded.device_id,
                text_hash = excluded.text_hash, size = excluded.size",
            engine.values_list(chunk.len(), 11, 1)
        );
        let mut query = sqlx::query(&sql);
        for (note, body) in chunk {
            query = query
                .bind(account_id)
                .bind(note.id.to_string())
                .bind(note.title.as_str())
                .bind(*body);
            query = bind_change(query, note)?.bind(note.size);
        }
        query.execute(&mut **tx).await?;
    }
    // Notes whose text stayed as it was (deletes): their text is not rewritten.
    for note in writes.notes.iter().filter(|note| note.body.is_none()) {
        let query = sqlx::query(
            "UPDATE notes SET version = $1, deleted = $2, updated_at = $3, change_seq = $4,
                device_id = $5, text_hash = coalesce($6, text_hash)
             WHERE account_id = $7 AND id = $8",
        );
        bind_change(query, note)?
            .bind(account_id)
            .bind(note.id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    remember(
        tx,
        engine,
        account_id,
        &writes.applied,
        writes.change_seq,
        grown,
    )
    .await
}

/// Remembers the applied ops' answers (for replays) and moves the account's counters: its
/// change counter to `change_seq`, its bytes by `grown`.
pub(crate) async fn remember(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    applied: &[(OpId, PushResult)],
    change_seq: i64,
    grown: i64,
) -> Result<(), ApiError> {
    let written_at = now();
    for chunk in applied.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO applied_ops (account_id, op_id, result, created_at) VALUES {}",
            engine.values_list(chunk.len(), 4, 1)
        );
        let mut query = sqlx::query(&sql);
        for (op_id, result) in chunk {
            query = query
                .bind(account_id)
                .bind(op_id.to_string())
                .bind(serde_json::to_string(result).map_err(|_| ApiError::internal())?)
                .bind(written_at.0);
        }
        query.execute(&mut **tx).await?;
    }
    if !applied.is_empty() {
        sqlx::query(
            "UPDATE accounts SET change_seq = $2, stored_bytes = stored_bytes + $3
             WHERE id = $1",
        )
        .bind(account_id)
        .bind(change_seq)
        .bind(grown)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Binds what every change sets, in the order both statements above name it: version,
/// deleted, updated_at, change_seq, device_id, text_hash.
fn bind_change<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    note: &NoteWrite,
) -> Result<Query<'q, Any, AnyArguments<'q>>, ApiError> {
    Ok(query
        .bind(db_version(note.version)?)
        .bind(i64::from(note.deleted))
        .bind(note.updated_at.0)
        .bind(note.change_seq)
        .bind(note.device.to_string())
        .bind(note.hash.map(TextHash::to_hex)))
}

/// Copies the note's stored text into its history, then drops the oldest entries beyond
/// the per-note bound. The entry was charged when its op was judged; returns the
/// correction: what the dropped entries held, and the charge back if there was nothing to
/// copy (history already had that version).
async fn keep_in_history(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    note_id: NoteId,
    at: Millis,
    limits: &Limits,
    charged: i64,
) -> Result<i64, ApiError> {
    let id = note_id.to_string();
    let kept = sqlx::query(
        "INSERT INTO note_history
            (account_id, note_id, version, title, body, deleted, replaced_at, size)
         SELECT account_id, id, version, title, body, deleted, CAST($3 AS BIGINT), size FROM notes
         WHERE account_id = $1 AND id = $2
         ON CONFLICT (account_id, note_id, version) DO NOTHING
         RETURNING version",
    )
    .bind(account_id)
    .bind(&id)
    .bind(at.0)
    .fetch_optional(&mut **tx)
    .await?;
    let refund = if kept.is_some() { 0 } else { charged };
    // The oldest entries beyond the bound: below the bound-th newest version.
    let keep = i64::from(limits.max_history_per_note.max(1)) - 1;
    let cutoff = "(SELECT version FROM note_history WHERE account_id = $1 AND note_id = $2
                   ORDER BY version DESC LIMIT 1 OFFSET $3)";
    let dropped: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(coalesce(sum(size + {ROW_OVERHEAD}), 0) AS BIGINT) FROM note_history
         WHERE account_id = $1 AND note_id = $2 AND version < {cutoff}"
    ))
    .bind(account_id)
    .bind(&id)
    .bind(keep)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "DELETE FROM note_history WHERE account_id = $1 AND note_id = $2 AND version < {cutoff}"
    ))
    .bind(account_id)
    .bind(&id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(-refund - dropped)
}

pub(crate) fn db_version(version: Version) -> Result<i64, ApiError> {
    i64::try_from(version.0).map_err(|_| ApiError::internal())
}

/// A version as the database holds it (never negative: a negative one is a broken row).
pub(crate) fn version_from_db(value: i64) -> Result<Version, ApiError> {
    u64::try_from(value)
        .map(Version)
        .map_err(|_| ApiError::internal())
}
