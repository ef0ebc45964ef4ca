//! Notes: every change writes the note and its outbox op in one transaction.

use quire_core::validate::validate_fields;
use quire_core::{Millis, Note, NoteFields, NoteId, Op, OpPayload, Version};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::{decode, import, outbox, version_from_db, Store};
use crate::clock;
use crate::{Error, Result};

/// A line of the note list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NoteSummary {
    pub id: NoteId,
    pub title: String,
    pub updated_at: Millis,
    /// Whether a change to this note is still waiting for the server.
    pub pending: bool,
    /// Whether it was changed on two devices and waits for a decision.
    pub conflict: bool,
}

/// A change to a note's text; `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteEdit {
    pub title: Option<String>,
    pub body: Option<String>,
}

impl NoteEdit {
    /// A new text, the title left as it is.
    pub fn body(text: impl Into<String>) -> Self {
        Self {
            title: None,
            body: Some(text.into()),
        }
    }
}

/// A note's columns, from `NOTE_FROM`: its row and the version it was last synced at.
const NOTE_COLUMNS: &str =
    "n.id, n.title, n.body, n.created_at, n.updated_at, n.deleted, b.version";
/// `notes n` with each note's base, whose version is the note's (none: never on the server).
const NOTE_FROM: &str = "notes n LEFT JOIN bases b ON b.note_id = n.id";

pub(super) fn note_from_row(row: &SqliteRow) -> Result<Note> {
    let id: String = row.try_get("id")?;
    let version: Option<i64> = row.try_get("version")?;
    Ok(Note {
        id: decode(&id, "note id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
        deleted: row.try_get("deleted")?,
        version: version.map(version_from_db).transpose()?,
    })
}

async fn fetch_note(tx: &mut Transaction<'_, Sqlite>, id: NoteId) -> Result<Note> {
    let row = sqlx::query(&format!(
        "SELECT {NOTE_COLUMNS} FROM {NOTE_FROM} WHERE n.id = ? AND n.purged = 0"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(Error::NoteNotFound(id))?;
    note_from_row(&row)
}

impl Store {
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        // IMMEDIATE takes the write lock up front, so a second process waits on the busy
        // timeout instead of failing when its read turns into a write.
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Creates a note and queues its `create` op.
    pub async fn create_note(&self, fields: NoteFields) -> Result<Note> {
        let fields = validate_fields(fields, &self.limits)?;
        let mut tx = self.begin_write().await?;
        let note = self.insert_new_note(&mut tx, fields, clock::now()).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Creates many notes (an import) in one durable transaction: all of them with their
    /// ops, or none if any is invalid.
    pub async fn create_notes(&self, many: Vec<NoteFields>) -> Result<Vec<Note>> {
        let many = many
            .into_iter()
            .map(|fields| validate_fields(fields, &self.limits))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.begin_write().await?;
        let created = import::insert_new_notes(&mut tx, many, clock::now()).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// A new note and its `create` op, in the caller's transaction.
    async fn insert_new_note(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        fields: NoteFields,
        now: Millis,
    ) -> Result<Note> {
        let note = Note {
            id: clock::new_note_id(),
            title: fields.title.clone(),
            body: fields.body.clone(),
            created_at: now,
            updated_at: now,
            deleted: false,
            version: None,
        };
        sqlx::query(
            "INSERT INTO notes (id, title, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(note.id.to_string())
        .bind(&note.title)
        .bind(&note.body)
        .bind(now.0)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        self.enqueue(tx, note.id, OpPayload::Create(fields), None, now)
            .await?;
        Ok(note)
    }

    /// Changes a note's title and/or text and queues an `update` op (folded into an unsent
    /// one for the same note where possible). An edit that changes nothing queues nothing.
    pub async fn update_note(&self, id: NoteId, edit: NoteEdit) -> Result<Note> {
        let mut tx = self.begin_write().await?;
        let mut note = fetch_note(&mut tx, id).await?;
        if note.deleted {
            return Err(Error::NoteDeleted(id));
        }
        let fields = validate_fields(
            NoteFields {
                title: edit.title.unwrap_or_else(|| note.title.clone()),
                body: edit.body.unwrap_or_else(|| note.body.clone()),
            },
            &self.limits,
        )?;
        if fields.title == note.title && fields.body == note.body {
            return Ok(note);
        }
        let now = clock::now();
        sqlx::query("UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?")
            .bind(&fields.title)
            .bind(&fields.body)
            .bind(now.0)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        note.title.clone_from(&fields.title);
        note.body.clone_from(&fields.body);
        note.updated_at = now;
        self.enqueue(&mut tx, id, OpPayload::Update(fields), note.version, now)
            .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Marks a note deleted (a tombstone, so the deletion syncs) and queues a `delete` op.
    pub async fn delete_note(&self, id: NoteId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let note = fetch_note(&mut tx, id).await?;
        if note.deleted {
            return Err(Error::NoteDeleted(id));
        }
        let now = clock::now();
        sqlx::query("UPDATE notes SET deleted = 1, updated_at = ? WHERE id = ?")
            .bind(now.0)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        self.enqueue(&mut tx, id, OpPayload::Delete, note.version, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings a deleted note back, with the text it had (from Trash, or Undo). A delete
    /// still waiting in the queue is simply taken out of it; one the server has (or may
    /// have) is answered by an update on top, which syncs, merges and conflicts like any
    /// edit. A note that is not deleted is left as it is.
    pub async fn restore_note(&self, id: NoteId) -> Result<Note> {
        let mut tx = self.begin_write().await?;
        let note = fetch_note(&mut tx, id).await?;
        if !note.deleted {
            return Ok(note);
        }
        let fields = NoteFields {
            title: note.title.clone(),
            body: note.body.clone(),
        };
        self.give_text_in(tx, note, fields).await
    }

    /// Gives a note an earlier text (History's "Restore this version"): an ordinary edit,
    /// queued as an update, which brings the note out of the trash too.
    pub async fn restore_text(&self, id: NoteId, fields: NoteFields) -> Result<Note> {
        let fields = validate_fields(fields, &self.limits)?;
        let mut tx = self.begin_write().await?;
        let note = fetch_note(&mut tx, id).await?;
        self.give_text_in(tx, note, fields).await
    }

    /// Gives `note` the text `fields`, out of the trash, and commits. Nothing is queued
    /// when the server's note is this already: live there (or its delete never left, and
    /// is taken back) with the same text.
    async fn give_text_in(
        &self,
        mut tx: Transaction<'static, Sqlite>,
        note: Note,
        fields: NoteFields,
    ) -> Result<Note> {
        let id = note.id;
        let now = clock::now();
        let live_there = !note.deleted || outbox::take_back_unsent_delete(&mut tx, id).await?;
        let same = fields.title == note.title && fields.body == note.body;
        sqlx::query(
            "UPDATE notes SET title = ?, body = ?, deleted = 0, updated_at = ? WHERE id = ?",
        )
        .bind(&fields.title)
        .bind(&fields.body)
        .bind(now.0)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if !(same && live_there) {
            self.enqueue(&mut tx, id, OpPayload::Update(fields), note.version, now)
                .await?;
        }
        let restored = fetch_note(&mut tx, id).await?;
        tx.commit().await?;
        Ok(restored)
    }

    /// Deleted notes (Trash), most recently deleted first.
    pub async fn trash(&self) -> Result<Vec<NoteSummary>> {
        self.summaries(true).await
    }

    pub(super) async fn enqueue(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        note_id: NoteId,
        payload: OpPayload,
        base_version: Option<Version>,
        now: Millis,
    ) -> Result<()> {
        let (device_id, clock) = outbox::next_stamp(tx).await?;
        let op = Op {
            op_id: clock::new_op_id(),
            note_id,
            payload,
            base_version,
            device_id,
            clock,
        };
        outbox::push_or_fold(tx, &op, now).await
    }

    /// One note, deleted or not.
    pub async fn note(&self, id: NoteId) -> Result<Note> {
        let row = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM {NOTE_FROM} WHERE n.id = ? AND n.purged = 0"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NoteNotFound(id))?;
        note_from_row(&row)
    }

    /// The notes that are not deleted, most recently changed first.
    pub async fn list_notes(&self) -> Result<Vec<NoteSummary>> {
        self.summaries(false).await
    }

    async fn summaries(&self, deleted: bool) -> Result<Vec<NoteSummary>> {
        let rows = sqlx::query(
            "SELECT n.id, n.title, n.updated_at,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id) AS pending,
                    EXISTS (SELECT 1 FROM conflicts c
                            WHERE c.note_id = n.id AND c.resolved_at IS NULL) AS conflict
             FROM notes n WHERE n.deleted = ? AND n.purged = 0
             ORDER BY n.updated_at DESC, n.id DESC",
        )
        .bind(i64::from(deleted))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(NoteSummary {
                    id: decode(&id, "note id")?,
                    title: row.try_get("title")?,
                    updated_at: Millis(row.try_get("updated_at")?),
                    pending: row.try_get("pending")?,
                    conflict: row.try_get("conflict")?,
                })
            })
            .collect()
    }
}
