//! The outbox: ops waiting for the server, in order. An op leaves only through [`Store::ack`],
//! after the server confirmed it.

use std::collections::HashSet;

use futures_util::TryStreamExt;

use quire_core::op::{coalesce, OpKind};
use quire_core::{DeviceId, Millis, NoteFields, NoteId, Op, OpId, OpPayload, Version};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::bulk::values_list;
use super::{decode, from_db, to_db, version_from_db, version_to_db, Store};
use crate::{Error, Result};

/// An op as it waits in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedOp {
    /// Position in the queue; ops are sent in this order.
    pub seq: i64,
    pub op: Op,
    pub queued_at: Millis,
    /// When a push carrying it started, if one has.
    pub sent_at: Option<Millis>,
    /// Pushed as last-write-wins (the server applies it whatever the base).
    pub lww: bool,
}

/// An op's columns as read from [`OP_FROM`]: a create or update that shares its note's
/// text (NULL, see migration `shared_outbox`) reads the note's.
pub(super) const OP_COLUMNS: &str = "o.seq, o.op_id, o.note_id, o.kind, \
     coalesce(o.title, CASE WHEN o.kind <> 'delete' THEN n.title END) AS title, \
     coalesce(o.body, CASE WHEN o.kind <> 'delete' THEN n.body END) AS body, \
     o.base_version, o.device_id, o.clock, o.created_at, o.sent_at, o.lww";

/// The queue with each op's note, walked in the queue's order (`o` first).
pub(super) const OP_FROM: &str = "outbox o CROSS JOIN notes n ON n.id = o.note_id";

/// An op's text as stored, from a row `v` of new values and its note `n`: NULL (shared)
/// when it is the note's current text.
const STORED_TITLE: &str =
    "CASE WHEN v.title IS n.title AND v.body IS n.body THEN NULL ELSE v.title END";
const STORED_BODY: &str =
    "CASE WHEN v.title IS n.title AND v.body IS n.body THEN NULL ELSE v.body END";

/// Columns of a new op, in the order [`insert_ops`] binds them.
const NEW_OP_COLUMNS: usize = 9;

/// A new queued op's values, bound in the order of [`insert_ops`].
pub(super) struct NewOp<'a> {
    pub op_id: OpId,
    pub note_id: NoteId,
    pub kind: OpKind,
    /// `None`: no text of its own (a delete, or a create or update of text its note
    /// already holds in the same transaction).
    pub fields: Option<&'a NoteFields>,
    pub base_version: Option<Version>,
    pub device_id: &'a str,
    pub clock: u64,
    pub created_at: Millis,
}

/// Moves the device clock on by `count` in the caller's transaction: the device id, and
/// the first of the `count` clock values, one for each of as many new ops.
pub(super) async fn take_clocks(
    tx: &mut Transaction<'_, Sqlite>,
    count: usize,
) -> Result<(String, u64)> {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let (device, last): (String, i64) =
        sqlx::query_as("UPDATE device SET clock = clock + ? RETURNING device_id, clock")
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
    let device_id = decode::<DeviceId>(&device, "device id")?.to_string();
    Ok((
        device_id,
        from_db(last, "clock")? + 1 - from_db(count, "count")?,
    ))
}

/// Appends these ops to the queue in order, each sharing its note's text where that is the
/// same. At most [`super::bulk::ROWS_PER_STATEMENT`] ops.
pub(super) async fn insert_ops(tx: &mut Transaction<'_, Sqlite>, ops: &[NewOp<'_>]) -> Result<()> {
    if ops.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "WITH v(op_id, note_id, kind, title, body, base_version, device_id, clock, created_at)
            AS (VALUES {})
         INSERT INTO outbox
            (op_id, note_id, kind, title, body, base_version, device_id, clock, created_at)
         SELECT v.op_id, v.note_id, v.kind, {STORED_TITLE}, {STORED_BODY}, v.base_version,
            v.device_id, v.clock, v.created_at
         FROM v LEFT JOIN notes n ON n.id = v.note_id WHERE true",
        values_list(ops.len(), NEW_OP_COLUMNS)
    );
    let mut query = sqlx::query(&sql);
    for op in ops {
        query = query
            .bind(op.op_id.to_string())
            .bind(op.note_id.to_string())
            .bind(op.kind.as_str())
            .bind(op.fields.map(|f| f.title.as_str()))
            .bind(op.fields.map(|f| f.body.as_str()))
            .bind(op.base_version.map(version_to_db).transpose()?)
            .bind(op.device_id)
            .bind(to_db(op.clock, "clock")?)
            .bind(op.created_at.0);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

pub(super) fn op_from_row(row: &SqliteRow) -> Result<QueuedOp> {
    let kind: String = row.try_get("kind")?;
    let title: Option<String> = row.try_get("title")?;
    let body: Option<String> = row.try_get("body")?;
    let fields = || match (title.clone(), body.clone()) {
        (Some(title), Some(body)) => Ok(NoteFields { title, body }),
        _ => Err(Error::Corrupt(format!("{kind} op without its text"))),
    };
    let payload = match kind.as_str() {
        "create" => OpPayload::Create(fields()?),
        "update" => OpPayload::Update(fields()?),
        "delete" => OpPayload::Delete,
        other => return Err(Error::Corrupt(format!("op kind {other:?}"))),
    };
    let op_id: String = row.try_get("op_id")?;
    let note_id: String = row.try_get("note_id")?;
    let device_id: String = row.try_get("device_id")?;
    let base_version: Option<i64> = row.try_get("base_version")?;
    let clock: i64 = row.try_get("clock")?;
    let sent_at: Option<i64> = row.try_get("sent_at")?;
    Ok(QueuedOp {
        seq: row.try_get("seq")?,
        op: Op {
            op_id: decode::<OpId>(&op_id, "op id")?,
            note_id: decode::<NoteId>(&note_id, "note id")?,
            payload,
            base_version: base_version.map(version_from_db).transpose()?,
            device_id: decode::<DeviceId>(&device_id, "device id")?,
            clock: from_db(clock, "clock")?,
        },
        queued_at: Millis(row.try_get("created_at")?),
        sent_at: sent_at.map(Millis),
        lww: row.try_get("lww")?,
    })
}

/// The device's id and next logical clock value, taken inside the caller's transaction.
/// The id is read each time: another process on this data dir may have renewed it.
pub(super) async fn next_stamp(tx: &mut Transaction<'_, Sqlite>) -> Result<(DeviceId, u64)> {
    let (device, clock): (String, i64) =
        sqlx::query_as("UPDATE device SET clock = clock + 1 RETURNING device_id, clock")
            .fetch_one(&mut **tx)
            .await?;
    Ok((decode(&device, "device id")?, from_db(clock, "clock")?))
}

/// Appends `op`, or folds it into the note's last op when that one is unsent and foldable.
pub(super) async fn push_or_fold(
    tx: &mut Transaction<'_, Sqlite>,
    op: &Op,
    now: Millis,
) -> Result<()> {
    // Only an update folds into the op before it (`coalesce`): a create or a delete is
    // appended without looking.
    let last = match op.payload {
        OpPayload::Update(_) => sqlx::query(&format!(
            "SELECT {OP_COLUMNS} FROM {OP_FROM} WHERE o.note_id = ? ORDER BY o.seq DESC LIMIT 1"
        ))
        .bind(op.note_id.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| op_from_row(&row))
        .transpose()?,
        OpPayload::Create(_) | OpPayload::Delete => None,
    };

    let folded = last
        .filter(|last| last.sent_at.is_none())
        .and_then(|last| coalesce(&last.op, op).map(|folded| (last.seq, folded)));
    if let Some((seq, folded)) = folded {
        let fields = folded.payload.fields();
        sqlx::query(&format!(
            "WITH v(op_id, kind, title, body, clock) AS (VALUES (?, ?, ?, ?, ?))
             UPDATE outbox SET op_id = v.op_id, kind = v.kind, title = {STORED_TITLE},
                body = {STORED_BODY}, clock = v.clock
             FROM v, notes n WHERE outbox.seq = ? AND n.id = outbox.note_id"
        ))
        .bind(folded.op_id.to_string())
        .bind(folded.payload.kind().as_str())
        .bind(fields.map(|f| f.title.as_str()))
        .bind(fields.map(|f| f.body.as_str()))
        .bind(to_db(folded.clock, "clock")?)
        .bind(seq)
        .execute(&mut **tx)
        .await?;
        return Ok(());
    }

    let device_id = op.device_id.to_string();
    let new = NewOp {
        op_id: op.op_id,
        note_id: op.note_id,
        kind: op.payload.kind(),
        fields: op.payload.fields(),
        base_version: op.base_version,
        device_id: &device_id,
        clock: op.clock,
        created_at: now,
    };
    insert_ops(tx, &[new]).await
}

/// Takes a note's last queued op back if it is a delete not sent yet (an Undo of it):
/// whether there was one.
pub(super) async fn take_back_unsent_delete(
    tx: &mut Transaction<'_, Sqlite>,
    note_id: NoteId,
) -> Result<bool> {
    let removed = sqlx::query(
        "DELETE FROM outbox WHERE seq = (
            SELECT seq FROM outbox WHERE note_id = ? ORDER BY seq DESC LIMIT 1)
         AND kind = 'delete' AND sent_at IS NULL",
    )
    .bind(note_id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(removed > 0)
}

impl Store {
    /// The first `limit` ops of the queue, oldest first.
    pub async fn pending_ops(&self, limit: u32) -> Result<Vec<QueuedOp>> {
        let rows = sqlx::query(&format!(
            "SELECT {OP_COLUMNS} FROM {OP_FROM} ORDER BY o.seq LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(op_from_row).collect()
    }

    /// The first `limit` ops that may go to the server now, oldest first, and no more than
    /// `text_bytes` of text (the ops that start under it, so at least one), leaving out the
    /// notes in `busy` (their ops are on the wire): ops of a note with an open conflict wait
    /// for the person's decision (the resolution replaces them), so the server never moves
    /// past the text they are deciding against.
    pub(crate) async fn pushable_ops(
        &self,
        limit: u32,
        text_bytes: usize,
        busy: &HashSet<NoteId>,
    ) -> Result<Vec<QueuedOp>> {
        // The busy notes as one JSON array (of UUIDs, nothing to escape): one bound value
        // however many there are.
        let busy = format!(
            "[{}]",
            busy.iter()
                .map(|id| format!("\"{id}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        // The ops are chosen on the `outbox_queue` index, then read: the ops passed over
        // (the batch on the wire comes first in the queue) cost their note id, not their text.
        let sql = format!(
            "SELECT {OP_COLUMNS} FROM {OP_FROM} WHERE o.seq IN (
                SELECT seq FROM outbox INDEXED BY outbox_queue
                WHERE note_id NOT IN (SELECT note_id FROM conflicts WHERE resolved_at IS NULL)
                    AND note_id NOT IN (SELECT value FROM json_each(?))
                ORDER BY seq LIMIT ?)
             ORDER BY o.seq"
        );
        let mut rows = sqlx::query(&sql)
            .bind(busy)
            .bind(i64::from(limit))
            .fetch(&self.pool);
        // Read as they come, and no further once the budget is spent: a queue of large
        // notes is read a batch's worth at a time, not `limit` notes at once.
        let mut ops = Vec::new();
        let mut text = 0usize;
        while ops.is_empty() || text < text_bytes {
            let Some(row) = rows.try_next().await? else {
                break;
            };
            let op = op_from_row(&row)?;
            let fields = op.op.payload.fields();
            text = text.saturating_add(fields.map_or(0, |f| f.title.len() + f.body.len()));
            ops.push(op);
        }
        Ok(ops)
    }

    /// Queued ops of one note.
    pub(crate) async fn queued_for(&self, note_id: NoteId) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE note_id = ?")
            .bind(note_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Queued ops that wait for a conflict on their note to be decided.
    pub(crate) async fn held_count(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox
             WHERE note_id IN (SELECT note_id FROM conflicts WHERE resolved_at IS NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    pub async fn pending_count(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Records that a push carrying these ops has started, so no later edit is folded into
    /// them (the server may already have them).
    pub(crate) async fn mark_sent(&self, op_ids: &[OpId], at: Millis) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in op_ids.chunks(500) {
            let sql = format!(
                "UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND op_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql).bind(at.0);
            for op_id in chunk {
                query = query.bind(op_id.to_string());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes ops the server confirmed. Returns how many were in the queue. (A round acks
    /// inside the transaction that applies the server's answers; this one is for tests.)
    #[cfg(test)]
    pub(crate) async fn ack(&self, op_ids: &[OpId]) -> Result<u64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut removed = 0;
        for op_id in op_ids {
            removed += sqlx::query("DELETE FROM outbox WHERE op_id = ?")
                .bind(op_id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(removed)
    }
}
