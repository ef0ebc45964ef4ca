//! Notes whose sealed text from the server failed its check: kept apart with the reason,
//! never applied, fetched again by later rounds until they open.

use quire_core::{Millis, NoteId, Version};
use sqlx::Row;

use super::{decode, version_to_db, Store};
use crate::Result;

/// A note the server sent that did not open here.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UnreadableNote {
    pub note_id: NoteId,
    /// The note's title here, when this device has the note.
    pub title: Option<String>,
    /// The version the server claimed.
    pub version: Version,
    pub reason: String,
    pub noticed_at: Millis,
}

impl Store {
    /// Notes whose text from the server failed its check, oldest first.
    pub async fn unreadable_notes(&self) -> Result<Vec<UnreadableNote>> {
        let rows = sqlx::query(
            "SELECT u.note_id, n.title, u.version, u.reason, u.noticed_at
             FROM unreadable_notes u LEFT JOIN notes n ON n.id = u.note_id
             ORDER BY u.noticed_at, u.note_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let note_id: String = row.try_get("note_id")?;
                let version: i64 = row.try_get("version")?;
                Ok(UnreadableNote {
                    note_id: decode(&note_id, "note id")?,
                    title: row.try_get("title")?,
                    version: Version(u64::try_from(version).unwrap_or(0)),
                    reason: row.try_get("reason")?,
                    noticed_at: Millis(row.try_get("noticed_at")?),
                })
            })
            .collect()
    }

    /// Keeps a note apart: the server's text for it at `version` did not open.
    pub(crate) async fn note_unreadable(
        &self,
        note_id: NoteId,
        version: Version,
        reason: &str,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO unreadable_notes (note_id, version, reason, noticed_at)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (note_id) DO UPDATE SET version = excluded.version,
                reason = excluded.reason",
        )
        .bind(note_id.to_string())
        .bind(version_to_db(version)?)
        .bind(reason)
        .bind(at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The note opened after all.
    pub(crate) async fn clear_unreadable(&self, note_id: NoteId) -> Result<()> {
        sqlx::query("DELETE FROM unreadable_notes WHERE note_id = ?")
            .bind(note_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
