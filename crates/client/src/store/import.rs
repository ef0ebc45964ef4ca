//! Many new notes at once (an import, a vault folder taken in): the notes and their `create`
//! ops written with multi-row statements in the caller's transaction. A statement per note
//! costs a hand-off to the connection's thread each; 10,000 notes cost a few hundred
//! statements this way instead of 40,000.

use quire_core::op::OpKind;
use quire_core::{Millis, Note, NoteFields};
use sqlx::{Sqlite, Transaction};

use super::bulk::{values_list, ROWS_PER_STATEMENT};
use super::outbox::{insert_ops, take_clocks, NewOp};
use crate::{clock, Result};

/// New notes made of `many` (already validated), each with its queued `create` op, in the
/// order given: their ops' clocks and queue places follow that order, as one at a time would.
pub(super) async fn insert_new_notes(
    tx: &mut Transaction<'_, Sqlite>,
    many: Vec<NoteFields>,
    now: Millis,
) -> Result<Vec<Note>> {
    if many.is_empty() {
        return Ok(Vec::new());
    }
    // The device clock moves once for the lot; op i takes the i-th value of that range.
    let (device_id, first_clock) = take_clocks(tx, many.len()).await?;

    let notes: Vec<Note> = many
        .into_iter()
        .map(|fields| Note {
            id: clock::new_note_id(),
            title: fields.title,
            body: fields.body,
            created_at: now,
            updated_at: now,
            deleted: false,
            version: None,
        })
        .collect();
    for (chunk_at, chunk) in notes.chunks(ROWS_PER_STATEMENT).enumerate() {
        let sql = format!(
            "INSERT INTO notes (id, title, body, created_at, updated_at) VALUES {}",
            values_list(chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for note in chunk {
            query = query
                .bind(note.id.to_string())
                .bind(&note.title)
                .bind(&note.body)
                .bind(now.0)
                .bind(now.0);
        }
        query.execute(&mut **tx).await?;

        // Each op shares its note's text: they were written together just now.
        let ops = chunk
            .iter()
            .enumerate()
            .map(|(i, note)| {
                let at = u64::try_from(chunk_at * ROWS_PER_STATEMENT + i).unwrap_or(u64::MAX);
                NewOp {
                    op_id: clock::new_op_id(),
                    note_id: note.id,
                    kind: OpKind::Create,
                    fields: None,
                    base_version: None,
                    device_id: &device_id,
                    clock: first_clock + at,
                    created_at: now,
                }
            })
            .collect::<Vec<_>>();
        insert_ops(tx, &ops).await?;
    }
    Ok(notes)
}
