//! Deleting notes forever (docs/history-design.md, "Trash and purge"): from the trash, by
//! the trash's emptying, or because another device did. The note's text, queue,
//! conflicts and "needs attention" entries go; a stub stays (deleted, with no text), so
//! that the vault folder removes the note's file as for any delete, and so that the next
//! round tells the server (`purged` 1 until it has, then 2). Until then the stub keeps its
//! base's version (not its text): the server purges only a note still at that version, as
//! an edit made elsewhere since beats a delete.

use quire_core::{Millis, NoteFields, NoteId, Version};
use sqlx::{Sqlite, Transaction};

use super::import::insert_new_notes;
use super::RemoteOutcome;
use super::{decode, version_from_db, Store};
use crate::{clock, Error, Result};

/// Whether the server knows a note was deleted forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Told {
    /// Not yet: the next round tells it.
    NotYet,
    /// It does (this device told it, or another device did and this one pulled it).
    Yes,
}

/// Removes everything of the note but its stub, in `tx`.
pub(super) async fn purge_in(
    tx: &mut Transaction<'_, Sqlite>,
    id: NoteId,
    told: Told,
    now: Millis,
) -> Result<()> {
    let id = id.to_string();
    // Refused changes stay listed (with their text) when the purge came from elsewhere:
    // the person dismisses them. One made here takes them along, as the person asked.
    let tables: &[&str] = match told {
        Told::NotYet => &["outbox", "conflicts", "unreadable_notes", "attention"],
        Told::Yes => &["outbox", "conflicts", "unreadable_notes"],
    };
    for table in tables {
        sqlx::query(&format!("DELETE FROM {table} WHERE note_id = ?"))
            .bind(&id)
            .execute(&mut **tx)
            .await?;
    }
    let base = match told {
        Told::NotYet => "UPDATE bases SET title = NULL, body = NULL WHERE note_id = ?",
        Told::Yes => "DELETE FROM bases WHERE note_id = ?",
    };
    sqlx::query(base).bind(&id).execute(&mut **tx).await?;
    let state = match told {
        Told::NotYet => 1,
        Told::Yes => 2,
    };
    sqlx::query(
        "UPDATE notes SET title = '', body = '', deleted = 1, purged = max(purged, ?),
             updated_at = ?
         WHERE id = ?",
    )
    .bind(state)
    .bind(now.0)
    .bind(&id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The text of a live note that only this device has: changes to it wait to be sent, or a
/// conflict over it is open (the note holds "mine"). What a purge must not take along.
async fn unsent_text_in(
    tx: &mut Transaction<'_, Sqlite>,
    id: NoteId,
) -> Result<Option<NoteFields>> {
    let unsent: Option<(String, String)> = sqlx::query_as(
        "SELECT n.title, n.body FROM notes n
         WHERE n.id = ? AND n.deleted = 0 AND n.purged = 0
           AND (EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id AND o.kind <> 'delete')
                OR EXISTS (SELECT 1 FROM conflicts c
                           WHERE c.note_id = n.id AND c.resolved_at IS NULL))",
    )
    .bind(id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(unsent.map(|(title, body)| NoteFields::new(title, body)))
}

/// The server has the purge of a note deleted forever here: its stub no longer needs the
/// version it was made on.
async fn server_told_in(tx: &mut Transaction<'_, Sqlite>, id: NoteId) -> Result<()> {
    sqlx::query("UPDATE notes SET purged = 2 WHERE id = ? AND purged <> 0")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM bases WHERE note_id = ?")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What a purge pulled from the server did here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PulledPurge {
    /// Deleted forever here already (by this device, or an earlier pull).
    AlreadyGone,
    Purged,
    /// Changes made here and not sent yet were kept, as this new note.
    KeptCopy(NoteId),
}

impl PulledPurge {
    pub(super) fn outcome(self) -> RemoteOutcome {
        match self {
            Self::AlreadyGone => RemoteOutcome::Unchanged,
            Self::Purged => RemoteOutcome::Purged,
            Self::KeptCopy(_) => RemoteOutcome::PurgedKeptCopy,
        }
    }
}

/// Another device deleted the note forever. Changes made here and not yet sent would go
/// with it: they are kept, as a new note (with its own queued create).
pub(super) async fn purged_elsewhere_in(
    tx: &mut Transaction<'_, Sqlite>,
    id: NoteId,
) -> Result<PulledPurge> {
    let purged: Option<i64> = sqlx::query_scalar("SELECT purged FROM notes WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if purged.unwrap_or(0) != 0 {
        // Told or not, the server has it now.
        server_told_in(tx, id).await?;
        return Ok(PulledPurge::AlreadyGone);
    }
    // What only this device has: the note's text not yet on the server, and the file's
    // side of an open conflict with the vault folder.
    let mut keep: Vec<NoteFields> = unsent_text_in(tx, id).await?.into_iter().collect();
    let from_file: Vec<(String, String)> = sqlx::query_as(
        "SELECT theirs_title, theirs_body FROM conflicts
         WHERE note_id = ? AND resolved_at IS NULL AND from_file = 1",
    )
    .bind(id.to_string())
    .fetch_all(&mut **tx)
    .await?;
    for (title, body) in from_file {
        let file = NoteFields::new(title, body);
        if !keep.contains(&file) {
            keep.push(file);
        }
    }
    let now = clock::now();
    let copy = insert_new_notes(tx, keep, now)
        .await?
        .first()
        .map(|note| note.id);
    purge_in(tx, id, Told::Yes, now).await?;
    Ok(match copy {
        Some(copy) => {
            tracing::warn!(note = %id, %copy, "deleted forever elsewhere; unsent changes kept as a new note");
            PulledPurge::KeptCopy(copy)
        }
        None => PulledPurge::Purged,
    })
}

/// The server refused a change to the note as deleted forever. That is only its say-so
/// (the pull brings the sealed purge, which is checked before anything goes): the note
/// stays here as it is, its queued changes leave the queue, and its text, if they changed
/// it, is kept as a new note, so nothing is lost whichever way it turns out.
pub(super) async fn refused_as_purged_in(
    tx: &mut Transaction<'_, Sqlite>,
    id: NoteId,
) -> Result<PulledPurge> {
    let unsent = unsent_text_in(tx, id).await?;
    sqlx::query("DELETE FROM outbox WHERE note_id = ?")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    let Some(unsent) = unsent else {
        return Ok(PulledPurge::AlreadyGone);
    };
    let copy = insert_new_notes(tx, vec![unsent], clock::now()).await?;
    Ok(copy.first().map_or(PulledPurge::AlreadyGone, |note| {
        PulledPurge::KeptCopy(note.id)
    }))
}

impl Store {
    /// Deletes a note in the trash forever: here at once, on the server and every other
    /// device with the next round. A note not in the trash is refused (delete it first),
    /// so that nothing is lost to a slip.
    pub async fn purge_note(&self, id: NoteId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let found: Option<(bool, i64)> =
            sqlx::query_as("SELECT deleted, purged FROM notes WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        match found {
            None | Some((_, 1..)) => return Err(Error::NoteNotFound(id)),
            Some((false, _)) => return Err(Error::NoteNotInTrash(id)),
            Some((true, _)) => {}
        }
        purge_in(&mut tx, id, Told::NotYet, clock::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// For the purges a pull brings: whether this device deleted each note forever already,
    /// and the version it holds of it (notes it never had are left out).
    pub(crate) async fn purge_view(
        &self,
        ids: &[NoteId],
    ) -> Result<std::collections::HashMap<NoteId, (bool, Option<Version>)>> {
        let mut view = std::collections::HashMap::with_capacity(ids.len());
        for id in ids {
            let row: Option<(i64, Option<i64>)> = sqlx::query_as(
                "SELECT n.purged, b.version FROM notes n LEFT JOIN bases b ON b.note_id = n.id
                 WHERE n.id = ?",
            )
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
            if let Some((purged, held)) = row {
                view.insert(*id, (purged != 0, held.map(version_from_db).transpose()?));
            }
        }
        Ok(view)
    }

    /// Notes in the trash since before `before`: the trash's emptying deletes them forever.
    pub(crate) async fn trash_older_than(&self, before: Millis) -> Result<Vec<NoteId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM notes WHERE deleted = 1 AND purged = 0 AND updated_at < ?",
        )
        .bind(before.0)
        .fetch_all(&self.pool)
        .await?;
        ids.iter().map(|id| decode(id, "note id")).collect()
    }

    /// Notes deleted forever here that the server has not been told of, with the version
    /// this device last saw of each (none: the server never had it).
    pub(crate) async fn purges_to_send(&self) -> Result<Vec<(NoteId, Option<Version>)>> {
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT n.id, b.version FROM notes n LEFT JOIN bases b ON b.note_id = n.id
             WHERE n.purged = 1",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|(id, version)| {
                Ok((
                    decode(id, "note id")?,
                    version.map(version_from_db).transpose()?,
                ))
            })
            .collect()
    }

    /// The server was told (`done`), or refused because the note changed since this
    /// device saw it: then the note stays in the trash, without its text, and the change
    /// made elsewhere, once pulled, brings it back (an edit beats a delete).
    pub(crate) async fn purge_sent(&self, id: NoteId, done: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if done {
            server_told_in(&mut tx, id).await?;
        } else {
            tracing::info!(%id, "not deleted forever: changed on another device since");
            sqlx::query("UPDATE notes SET purged = 0 WHERE id = ? AND purged = 1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
