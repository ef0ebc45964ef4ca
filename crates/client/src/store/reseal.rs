//! An account upgraded to end-to-end encryption (docs/e2e-design.md, "Upgrade"): every note
//! the server holds in the clear goes to it once more, sealed. That is an op in the queue
//! like any other, so it is pushed in batches, survives a kill, and is answered, merged and
//! rebased as any edit is.

use quire_core::crypto::manifest::ManifestEntry;
use quire_core::op::OpKind;
use quire_core::protocol::NoteState;
use quire_core::settings::ConflictPolicy;
use quire_core::text_hash::TextHash;
use quire_core::{NoteFields, NoteId};
use sqlx::{Row, Sqlite, Transaction};

use super::bulk::ROWS_PER_STATEMENT;
use super::outbox::{insert_ops, take_clocks, NewOp};
use super::{decode, version_from_db, RemoteOutcome, Store};
use crate::{clock, Result};

/// A note to seal again: the version the server has and, when it is not the note's own
/// text, the text it has at that version.
struct ToSeal {
    note_id: NoteId,
    version: quire_core::Version,
    deleted: bool,
    text: Option<NoteFields>,
}

/// The notes to seal again, as the server has them, with no queued op (a queued op goes
/// sealed, whole, itself): all of them, or those of `only`.
async fn to_seal(
    tx: &mut Transaction<'static, Sqlite>,
    only: Option<&[NoteId]>,
) -> Result<Vec<ToSeal>> {
    const SELECT: &str = "SELECT n.id, b.version, n.deleted,
            CASE WHEN b.title IS NULL AND b.body IS NULL THEN NULL
                 ELSE coalesce(b.title, n.title) END AS base_title,
            CASE WHEN b.title IS NULL AND b.body IS NULL THEN NULL
                 ELSE coalesce(b.body, n.body) END AS base_body
         FROM notes n JOIN bases b ON b.note_id = n.id
         WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id)";
    let rows = match only {
        None => {
            sqlx::query(&format!("{SELECT} ORDER BY n.id"))
                .fetch_all(&mut **tx)
                .await?
        }
        Some(ids) => {
            let mut rows = Vec::with_capacity(ids.len());
            // Taking over another device's upgrade: a note whose copy the server refused
            // before is in "needs attention" already, and not queued again.
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "{SELECT} AND NOT EXISTS (SELECT 1 FROM attention a WHERE a.note_id = n.id)
                     AND n.id IN ({}) ORDER BY n.id",
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(id.to_string());
                }
                rows.extend(query.fetch_all(&mut **tx).await?);
            }
            rows
        }
    };
    let mut notes = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let title: Option<String> = row.try_get("base_title")?;
        let body: Option<String> = row.try_get("base_body")?;
        notes.push(ToSeal {
            note_id: decode::<NoteId>(&id, "note id")?,
            version: version_from_db(row.try_get("version")?)?,
            deleted: row.try_get::<i64, _>("deleted")? != 0,
            text: title
                .zip(body)
                .map(|(title, body)| NoteFields { title, body }),
        });
    }
    Ok(notes)
}

/// Queues an op per note: an update with the text the server has, on its version, or a
/// deleted note's delete.
async fn queue_copies(tx: &mut Transaction<'static, Sqlite>, notes: &[ToSeal]) -> Result<()> {
    let (device_id, first_clock) = take_clocks(tx, notes.len()).await?;
    let now = clock::now();
    for (chunk_at, chunk) in notes.chunks(ROWS_PER_STATEMENT).enumerate() {
        let ops: Vec<NewOp<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, note)| {
                let at = u64::try_from(chunk_at * ROWS_PER_STATEMENT + i).unwrap_or(u64::MAX);
                NewOp {
                    op_id: clock::new_op_id(),
                    note_id: note.note_id,
                    kind: if note.deleted {
                        OpKind::Delete
                    } else {
                        OpKind::Update
                    },
                    // `None`: the note's own text, which is the server's.
                    fields: if note.deleted {
                        None
                    } else {
                        note.text.as_ref()
                    },
                    base_version: Some(note.version),
                    device_id: &device_id,
                    clock: first_clock + at,
                    created_at: now,
                }
            })
            .collect();
        insert_ops(tx, &ops).await?;
    }
    Ok(())
}

impl Store {
    /// Every note as the server has it, by this device's bases (it has just pulled to the
    /// account's head): what an upgrade's manifest lists. Whether the server's copy is
    /// deleted is known only for notes with no change queued (or set aside, refused).
    pub(crate) async fn upgrade_manifest_entries(&self) -> Result<Vec<ManifestEntry>> {
        let rows = sqlx::query(
            "SELECT n.id, b.version, n.deleted,
                    coalesce(b.title, n.title) AS base_title, coalesce(b.body, n.body) AS base_body,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id)
              OR EXISTS (SELECT 1 FROM attention a WHERE a.note_id = n.id) AS deleted_unknown
             FROM notes n JOIN bases b ON b.note_id = n.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let title: String = row.try_get("base_title")?;
            let body: String = row.try_get("base_body")?;
            let deleted_unknown = row.try_get::<i64, _>("deleted_unknown")? != 0;
            entries.push(ManifestEntry {
                note: decode::<NoteId>(&id, "note id")?,
                version: version_from_db(row.try_get("version")?)?,
                deleted: (!deleted_unknown).then_some(row.try_get::<i64, _>("deleted")? != 0),
                text: TextHash::of(&title, &body),
            });
        }
        Ok(entries)
    }

    /// Queues, in one transaction, a sealed copy of every note the server has that no
    /// queued op will send anyway. The state mark `due` is cleared in the same
    /// transaction, so this happens once. How many it queued.
    pub(crate) async fn queue_sealed_copies(&self, due: &str) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let notes = to_seal(&mut tx, None).await?;
        queue_copies(&mut tx, &notes).await?;
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(due)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(notes = notes.len(), "queued every note to go again, sealed");
        Ok(u64::try_from(notes.len()).unwrap_or(u64::MAX))
    }

    /// Takes a page of the notes an upgraded account still has in the clear on the server
    /// (whose upgrading device stopped before sealing them; each already checked against
    /// the upgrade's manifest): each is applied as a pulled change (a note this device
    /// lacks is taken, one it changed is reconciled), and those that no queued op will send
    /// are queued to go again sealed, all in one transaction.
    ///
    /// A note this device holds at a later version, or at the same version with another
    /// text, is not taken: the manifest says how the note was at the upgrade, and a server
    /// that serves it again later would roll it back. What applying did, how many were
    /// queued, and how many were refused.
    pub(crate) async fn take_unsealed_page(
        &self,
        notes: Vec<NoteState>,
        policy: ConflictPolicy,
    ) -> Result<UnsealedTaken> {
        let mut tx = self.begin_write().await?;
        let mut held = std::collections::HashMap::new();
        for chunk in notes.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT n.id, b.version, coalesce(b.title, n.title) AS title,
                        coalesce(b.body, n.body) AS body
                 FROM notes n JOIN bases b ON b.note_id = n.id WHERE n.id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for note in chunk {
                query = query.bind(note.id.to_string());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let id: String = row.try_get("id")?;
                let title: String = row.try_get("title")?;
                let body: String = row.try_get("body")?;
                held.insert(
                    decode::<NoteId>(&id, "note id")?,
                    (
                        version_from_db(row.try_get("version")?)?,
                        TextHash::of(&title, &body),
                    ),
                );
            }
        }
        let (notes, refused): (Vec<NoteState>, Vec<NoteState>) =
            notes
                .into_iter()
                .partition(|note| match held.get(&note.id) {
                    None => true,
                    Some((version, text)) => {
                        *version < note.version
                            || (*version == note.version
                                && *text == TextHash::of(&note.title, &note.body))
                    }
                });
        let outcomes = self.apply_notes_in(&mut tx, &notes, policy).await?;
        let ids: Vec<NoteId> = notes.iter().map(|note| note.id).collect();
        let to_seal = to_seal(&mut tx, Some(&ids)).await?;
        queue_copies(&mut tx, &to_seal).await?;
        tx.commit().await?;
        Ok(UnsealedTaken {
            outcomes,
            queued: u64::try_from(to_seal.len()).unwrap_or(u64::MAX),
            refused: u64::try_from(refused.len()).unwrap_or(u64::MAX),
        })
    }
}

/// What [`Store::take_unsealed_page`] did.
pub(crate) struct UnsealedTaken {
    pub outcomes: Vec<RemoteOutcome>,
    /// Notes queued to go again, sealed.
    pub queued: u64,
    /// Notes this device holds newer, or otherwise than the server has them: not taken.
    pub refused: u64,
}
