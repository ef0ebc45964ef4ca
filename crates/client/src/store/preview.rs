//! What the next round would send, read without changing anything (`quire sync --dry-run`).

use quire_core::{NoteId, OpKind};
use sqlx::Row;

use super::{decode, Store};
use crate::Result;

/// One queued op, as a preview lists it.
#[derive(Debug, Clone)]
pub(crate) struct QueuedPreview {
    pub note_id: NoteId,
    pub title: String,
    pub kind: OpKind,
    /// Bytes of the title and body it carries (0 for a delete).
    pub text_bytes: u64,
    /// Its note waits for a decision in the conflict center: it does not go yet.
    pub held: bool,
}

impl Store {
    /// Every queued op in order, with its note's title and the text it carries.
    pub(crate) async fn queue_preview(&self) -> Result<Vec<QueuedPreview>> {
        let rows = sqlx::query(
            "SELECT o.note_id, n.title, o.kind,
                    CASE WHEN o.kind = 'delete' THEN 0 ELSE
                        length(CAST(coalesce(o.title, n.title) AS BLOB))
                        + length(CAST(coalesce(o.body, n.body) AS BLOB)) END AS text_bytes,
                    EXISTS (SELECT 1 FROM conflicts c
                            WHERE c.note_id = o.note_id AND c.resolved_at IS NULL) AS held
             FROM outbox o JOIN notes n ON n.id = o.note_id ORDER BY o.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("note_id")?;
                let kind: String = row.try_get("kind")?;
                Ok(QueuedPreview {
                    note_id: decode(&id, "note id")?,
                    title: row.try_get("title")?,
                    kind: decode(&kind, "op kind")?,
                    text_bytes: u64::try_from(row.try_get::<i64, _>("text_bytes")?).unwrap_or(0),
                    held: row.try_get("held")?,
                })
            })
            .collect()
    }
}
