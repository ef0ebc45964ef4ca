//! The common cases of a sync round written with multi-row statements: a pushed batch the
//! server applied whole, and pulled notes this device has never seen (a first sync). sqlx
//! runs each statement on the connection's own thread, so the hand-offs, not SQLite, are
//! what a statement per note costs; these paths take a few per batch or page instead.

use std::collections::HashSet;

use quire_core::protocol::{NoteState, PushResult};
use quire_core::{NoteFields, NoteId, Version};
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Sqlite, Transaction};

use super::outbox::QueuedOp;
use super::{decode, version_to_db};
use crate::Result;

/// Rows per statement: far inside SQLite's limit on bound values.
pub(super) const ROWS_PER_STATEMENT: usize = 200;

/// `(?, ?), (?, ?)`: `rows` tuples of `columns` placeholders.
pub(super) fn values_list(rows: usize, columns: usize) -> String {
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    vec![tuple; rows].join(", ")
}

/// The columns `id, title, body, created_at, updated_at, deleted` of a note as the
/// server has it (a note first seen here was created, as far as it knows, when it changed).
pub(super) fn bind_note_row<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    note: &'q NoteState,
) -> Result<Query<'q, Sqlite, SqliteArguments<'q>>> {
    Ok(query
        .bind(note.id.to_string())
        .bind(&note.title)
        .bind(&note.body)
        .bind(note.updated_at.0)
        .bind(note.updated_at.0)
        .bind(note.deleted))
}

/// An op the server applied, with the version it made and the text it now has.
pub(super) struct Applied<'a> {
    pub op: &'a QueuedOp,
    pub version: Version,
    pub fields: &'a NoteFields,
}

/// The batch as applied ops, when the server applied every op (now or before) and each
/// carries its note's text and touches a different note: the case a bulk write can take.
pub(super) fn plainly_applied<'a>(
    batch: &'a [QueuedOp],
    results: &'a [PushResult],
) -> Option<Vec<Applied<'a>>> {
    let mut notes = HashSet::with_capacity(batch.len());
    batch
        .iter()
        .zip(results)
        .map(|(op, result)| {
            let version = result.applied_version()?;
            let fields = op.op.payload.fields()?;
            notes.insert(op.op.note_id).then_some(Applied {
                op,
                version,
                fields,
            })
        })
        .collect()
}

/// What an applied op does here, for one op or a whole batch at once: the notes take their
/// versions and bases, the ops leave the queue, and ops queued later for those notes are
/// rebased on the new versions. Each op must be of a different note.
pub(super) async fn apply_applied(
    tx: &mut Transaction<'static, Sqlite>,
    applied: &[Applied<'_>],
) -> Result<()> {
    for chunk in applied.chunks(ROWS_PER_STATEMENT) {
        // Each applied op with its note and new version, as a table `v` the statements join.
        let ops = format!(
            "WITH v(op_id, note_id, version) AS (VALUES {})",
            values_list(chunk.len(), 3)
        );
        // The base, and with it the note's version, is the text the op carried, taken from
        // its queue row: NULL there is the note's current text, as it is in `bases`, so no
        // text is bound or compared. A delete's row holds no text (its base is written
        // below). Only ever forward: a late answer (another process on this data dir may
        // have had the same op answered and moved on) must not take a note back.
        let bases_from_queue = "INSERT INTO bases (note_id, version, title, body)
             SELECT v.note_id, v.version, o.title, o.body
             FROM v JOIN outbox o ON o.op_id = v.op_id WHERE o.kind <> 'delete'
             ON CONFLICT (note_id) DO UPDATE SET
                version = excluded.version, title = excluded.title, body = excluded.body
                WHERE excluded.version > bases.version";
        let leave_queue = "DELETE FROM outbox WHERE op_id IN (SELECT op_id FROM v)";
        // Ops queued later for these notes were made on top of the new versions.
        // (A join, each note found by its key: a subquery per row read `v` whole for
        // every note.)
        let rebase_later = "UPDATE outbox SET base_version = v.version, sent_at = NULL FROM v
             WHERE outbox.note_id = v.note_id
                AND (outbox.base_version IS NULL OR outbox.base_version < v.version)";
        let mut left_queue = 0;
        for statement in [bases_from_queue, leave_queue, rebase_later] {
            let sql = format!("{ops} {statement}");
            let mut query = sqlx::query(&sql);
            for a in chunk {
                query = query
                    .bind(a.op.op.op_id.to_string())
                    .bind(a.op.op.note_id.to_string())
                    .bind(version_to_db(a.version)?);
            }
            let done = query.execute(&mut **tx).await?;
            if statement == leave_queue {
                left_queue = done.rows_affected();
            }
        }

        // Ops no longer in the queue (folded into a later edit after they were read, or
        // settled by another process) took no base above: the texts they carried do, where
        // newer than the base kept. A delete leaves the server with the note's last text.
        let all_queued = usize::try_from(left_queue).is_ok_and(|n| n == chunk.len());
        let from_memory: Vec<BaseRow<'_>> = chunk
            .iter()
            .filter(|a| !all_queued || a.op.op.payload.fields().is_none())
            .map(|a| BaseRow {
                note_id: a.op.op.note_id,
                version: a.version,
                fields: a.fields,
            })
            .collect();
        upsert_bases(tx, &from_memory, true).await?;
    }
    Ok(())
}

/// A base to keep: the text the server has at `version` of a note.
pub(super) struct BaseRow<'a> {
    pub note_id: NoteId,
    pub version: Version,
    pub fields: &'a NoteFields,
}

/// Writes these bases, each sharing its note's text where that is the same (see migration
/// `shared_bases`), so a round that leaves the notes' texts as they are writes no second
/// copy; `only_newer` keeps a base already at a later version. At most
/// [`ROWS_PER_STATEMENT`] rows.
pub(super) async fn upsert_bases(
    tx: &mut Transaction<'_, Sqlite>,
    bases: &[BaseRow<'_>],
    only_newer: bool,
) -> Result<()> {
    if bases.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "WITH v(note_id, version, title, body) AS (VALUES {})
         INSERT INTO bases (note_id, version, title, body)
         SELECT v.note_id, v.version,
            CASE WHEN v.title IS n.title THEN NULL ELSE v.title END,
            CASE WHEN v.body IS n.body THEN NULL ELSE v.body END
         FROM v LEFT JOIN notes n ON n.id = v.note_id WHERE true
         ON CONFLICT (note_id) DO UPDATE SET
            version = excluded.version, title = excluded.title, body = excluded.body
         {}",
        values_list(bases.len(), 4),
        if only_newer {
            "WHERE excluded.version > bases.version"
        } else {
            ""
        }
    );
    let mut query = sqlx::query(&sql);
    for base in bases {
        query = query
            .bind(base.note_id.to_string())
            .bind(version_to_db(base.version)?)
            .bind(base.fields.title.as_str())
            .bind(base.fields.body.as_str());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Which of these notes this device has (alive or as a tombstone).
pub(super) async fn known_notes(
    tx: &mut Transaction<'static, Sqlite>,
    notes: &[NoteState],
) -> Result<HashSet<NoteId>> {
    let mut known = HashSet::new();
    for chunk in notes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id FROM notes WHERE id IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for note in chunk {
            query = query.bind(note.id.to_string());
        }
        for id in query.fetch_all(&mut **tx).await? {
            known.insert(decode(&id, "note id")?);
        }
    }
    Ok(known)
}

/// Notes this device has never seen, taken as the server has them, each with its base.
pub(super) async fn insert_new(
    tx: &mut Transaction<'static, Sqlite>,
    notes: &[&NoteState],
) -> Result<()> {
    for chunk in notes.chunks(ROWS_PER_STATEMENT) {
        // Indexed for search after the round (`Store::index_pending`), not here: see the
        // `search` migration.
        let sql = format!(
            "INSERT INTO notes (id, title, body, created_at, updated_at, deleted, search_indexed)
             VALUES {}",
            values_list(chunk.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for note in chunk {
            query = bind_note_row(query, note)?.bind(false);
        }
        query.execute(&mut **tx).await?;

        // Each base is the text just written: the note's own (NULL, see `upsert_bases`).
        let sql = format!(
            "INSERT INTO bases (note_id, version) VALUES {}",
            values_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for note in chunk {
            query = query
                .bind(note.id.to_string())
                .bind(version_to_db(note.version)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::values_list;

    #[test]
    fn placeholder_tuples() {
        assert_eq!(values_list(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(values_list(1, 1), "(?)");
    }
}
