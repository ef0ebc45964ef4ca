//! The vault folder's index (see migrations/..._vault.sql), and the store operations the
//! vault mirror needs beyond ordinary note edits.

use std::collections::HashMap;

use quire_core::{Note, NoteFields, NoteId};
use sqlx::Row;

use super::{decode, version_to_db, Store};
use crate::{clock, Result};

/// What a note's file held when Quire last wrote or read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultEntry {
    pub file_name: String,
    pub title: String,
    pub body: String,
}

impl Store {
    pub(crate) async fn vault_index(&self) -> Result<HashMap<NoteId, VaultEntry>> {
        let rows = sqlx::query("SELECT note_id, file_name, title, body FROM vault_files")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("note_id")?;
                Ok((
                    decode(&id, "note id")?,
                    VaultEntry {
                        file_name: row.try_get("file_name")?,
                        title: row.try_get("title")?,
                        body: row.try_get("body")?,
                    },
                ))
            })
            .collect()
    }

    pub(crate) async fn set_vault_entry(&self, id: NoteId, entry: &VaultEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO vault_files (note_id, file_name, title, body) VALUES (?, ?, ?, ?)
             ON CONFLICT (note_id) DO UPDATE SET file_name = excluded.file_name,
                title = excluded.title, body = excluded.body",
        )
        .bind(id.to_string())
        .bind(&entry.file_name)
        .bind(&entry.title)
        .bind(&entry.body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn remove_vault_entry(&self, id: NoteId) -> Result<()> {
        sqlx::query("DELETE FROM vault_files WHERE note_id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets what the folder held (it is not the folder the index describes).
    pub(crate) async fn clear_vault_index(&self) -> Result<()> {
        sqlx::query("DELETE FROM vault_files")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every note, deleted ones too (their files go), oldest first.
    pub(crate) async fn all_notes(&self) -> Result<Vec<Note>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM notes ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        let mut notes = Vec::with_capacity(ids.len());
        for id in ids {
            notes.push(self.note(decode(&id, "note id")?).await?);
        }
        Ok(notes)
    }

    /// A note edited in the app and in its file in ways that do not merge: the app's text
    /// stays, the file's waits in the conflict center like a conflict with another device.
    pub(crate) async fn record_file_conflict(
        &self,
        note: &Note,
        base: &str,
        from_file: &NoteFields,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO conflicts (id, note_id, base_body, mine_title, mine_body,
                theirs_title, theirs_body, theirs_version, created_at, from_file)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(note.id.to_string())
        .bind(base)
        .bind(&note.title)
        .bind(&note.body)
        .bind(&from_file.title)
        .bind(&from_file.body)
        .bind(note.version.map_or(Ok(0), version_to_db)?)
        .bind(clock::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
