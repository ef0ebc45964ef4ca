//! Conflicts waiting for the person: listing, showing both sides, and resolving. A
//! resolution is an ordinary edit pushed on top of the server's version.

use quire_core::merge::{merge3, Hunk};
use quire_core::side_by_side::{side_by_side, Part};
use quire_core::{Millis, NoteFields, NoteId, OpPayload, Version};
use serde::Serialize;
use sqlx::Row;

use super::{decode, version_from_db, Store};
use crate::{clock, Error, Result};

/// One open conflict: the local text kept here, and the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub note_id: NoteId,
    /// The last text both sides had, if known.
    pub base: Option<String>,
    pub mine: NoteFields,
    pub theirs: NoteFields,
    pub theirs_version: Version,
    pub created_at: Millis,
    /// "Theirs" is the note's file in the vault folder, not the server.
    pub from_file: bool,
}

/// A conflict as the conflict center shows it: both titles, and the bodies as merged parts
/// and parts to decide, with the differing words marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConflictView {
    pub note_id: NoteId,
    pub mine_title: String,
    pub theirs_title: String,
    pub parts: Vec<Part>,
    pub created_at: Millis,
}

impl Conflict {
    pub fn view(&self) -> ConflictView {
        ConflictView {
            note_id: self.note_id,
            mine_title: self.mine.title.clone(),
            theirs_title: self.theirs.title.clone(),
            parts: side_by_side(
                self.base.as_deref().unwrap_or(""),
                &self.mine.body,
                &self.theirs.body,
            ),
            created_at: self.created_at,
        }
    }

    /// The bodies side by side: agreed lines, and hunks where they differ.
    pub fn hunks(&self) -> Vec<Hunk> {
        merge3(
            self.base.as_deref().unwrap_or(""),
            &self.mine.body,
            &self.theirs.body,
        )
        .hunks
    }
}

/// How the person settled a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Keep this device's text.
    Mine,
    /// Take the server's text.
    Theirs,
    /// A text the person wrote (for example, merged by hand).
    Text(String),
}

impl Store {
    /// Open conflicts, newest first; one per note (its latest).
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let rows = sqlx::query(
            // "Mine" is the note as it is here now: the person may have kept writing
            // since the conflict was found.
            "SELECT c.note_id, c.base_body, n.title AS mine_title, n.body AS mine_body,
                    c.theirs_title, c.theirs_body, c.theirs_version, c.created_at, c.from_file
             FROM conflicts c JOIN notes n ON n.id = c.note_id
             WHERE c.resolved_at IS NULL AND c.created_at = (
                SELECT max(created_at) FROM conflicts d
                WHERE d.note_id = c.note_id AND d.resolved_at IS NULL)
             ORDER BY c.created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let note_id: String = row.try_get("note_id")?;
                let version: i64 = row.try_get("theirs_version")?;
                Ok(Conflict {
                    note_id: decode(&note_id, "note id")?,
                    base: row.try_get("base_body")?,
                    mine: NoteFields::new(
                        row.try_get::<String, _>("mine_title")?,
                        row.try_get::<String, _>("mine_body")?,
                    ),
                    theirs: NoteFields::new(
                        row.try_get::<String, _>("theirs_title")?,
                        row.try_get::<String, _>("theirs_body")?,
                    ),
                    theirs_version: version_from_db(version)?,
                    created_at: Millis(row.try_get("created_at")?),
                    from_file: row.try_get("from_file")?,
                })
            })
            .collect()
    }

    pub async fn conflict(&self, note_id: NoteId) -> Result<Conflict> {
        self.conflicts()
            .await?
            .into_iter()
            .find(|c| c.note_id == note_id)
            .ok_or(Error::NoConflict(note_id))
    }

    /// Settles a note's conflict: the note takes the chosen text and, unless it is the
    /// server's own, an update on top of the server's version is queued.
    pub async fn resolve_conflict(&self, note_id: NoteId, resolution: Resolution) -> Result<()> {
        let conflict = self.conflict(note_id).await?;
        let fields = match &resolution {
            Resolution::Mine => conflict.mine.clone(),
            Resolution::Theirs => conflict.theirs.clone(),
            Resolution::Text(body) => NoteFields::new(&conflict.mine.title, body),
        };
        let fields = quire_core::validate::validate_fields(fields, &self.limits)?;
        let now = clock::now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE notes SET title = ?, body = ?, deleted = 0, updated_at = ? WHERE id = ?",
        )
        .bind(&fields.title)
        .bind(&fields.body)
        .bind(now.0)
        .bind(note_id.to_string())
        .execute(&mut *tx)
        .await?;
        // Version 0: the note never reached the server (a conflict with its own file); the
        // resolution folds into its queued create instead of replacing it.
        let on_server = conflict.theirs_version.0 > 0;
        if on_server {
            sqlx::query("DELETE FROM outbox WHERE note_id = ?")
                .bind(note_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        if resolution != Resolution::Theirs || conflict.from_file {
            self.enqueue(
                &mut tx,
                note_id,
                OpPayload::Update(fields),
                on_server.then_some(conflict.theirs_version),
                now,
            )
            .await?;
        }
        sqlx::query(
            "UPDATE conflicts SET resolved_at = ? WHERE note_id = ? AND resolved_at IS NULL",
        )
        .bind(now.0)
        .bind(note_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
