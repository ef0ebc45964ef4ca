//! What this device holds, as the account digest counts it (`quire_core::digest`), and the
//! repairs a check makes where it differs from the server (`engine::verify`).
//!
//! A note is counted at the version the server last confirmed, with the text the person
//! sees: a text that drifted from its base with no change queued to send it is found. A
//! note in an open conflict, or with a change the server refused, is counted with its base
//! (the server's text, which this device holds for the person's decision). Notes with
//! queued changes, a note the server sent that did not open and a delete forever not yet
//! told are not counted. None of these is ever repaired: the queue sends its changes (a
//! repair never touches it), and the person decides the rest.

use std::collections::{HashMap, HashSet};

use quire_core::crypto::chain::TextMacKey;
use quire_core::digest::{BucketDigests, Digest};
use quire_core::protocol::NoteState;
use quire_core::{NoteFields, NoteId, OpPayload};
use sqlx::Row;

use super::digest_parts::{part_for, Part};
use super::import::insert_new_notes;
use super::remote::{set_base_to, take_remote};
use super::{decode, purge, version_from_db, Store};
use crate::{clock, Result};

/// This device's side of a check.
#[derive(Debug, Default)]
pub(crate) struct HeldHere {
    pub digests: BucketDigests,
    /// Notes the server may hold that are not counted here (see the module's list).
    pub waiting: HashSet<NoteId>,
    /// Notes counted with their base's text, not the text the person sees.
    on_base: HashMap<NoteId, Part>,
}

impl HeldHere {
    /// Notes counted.
    pub fn notes(&self) -> u64 {
        u64::try_from(self.digests.total().notes).unwrap_or(0)
    }
}

/// What a repair did to one note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repaired {
    /// The server's version and text are now this device's.
    Taken { kept_copy: bool },
    /// The note is queued to go to the server again (the server lacked it).
    Queued,
    /// Something is pending for it here now (the person typed meanwhile): left alone.
    Waiting,
    /// The server's copy is older than the version this device holds: not taken (a
    /// server restored from a backup, or one replaying an old version).
    Older,
}

/// Whether something waits on the note `n` here (see the module's list).
const WAITING: &str = "(EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id)
     OR EXISTS (SELECT 1 FROM unreadable_notes u WHERE u.note_id = n.id)
     OR EXISTS (SELECT 1 FROM conflicts c WHERE c.note_id = n.id AND c.resolved_at IS NULL))
    AS waiting";

impl Store {
    /// Sums every note this device holds as the server should: the stored parts, summed
    /// inside SQLite, set right for the few notes that wait on something here.
    pub(crate) async fn held_here(&self, macs: &TextMacKey) -> Result<HeldHere> {
        self.refresh_digest_parts(macs).await?;
        let mut digests = self.digest_part_sums().await?;
        let waiting: Vec<String> = sqlx::query_scalar(
            "SELECT note_id FROM outbox UNION SELECT note_id FROM unreadable_notes
             UNION SELECT id FROM notes WHERE purged = 1 UNION SELECT note_id FROM digest_stale",
        )
        .fetch_all(&self.pool)
        .await?;
        let waiting: HashSet<NoteId> = waiting
            .iter()
            .map(|id| decode(id, "note id"))
            .collect::<Result<_>>()?;
        // The person's text waits for a decision here; the server holds the base.
        let rows = sqlx::query(
            "SELECT n.id AS id, b.version AS version, n.deleted AS deleted,
                    coalesce(b.title, n.title) AS title, coalesce(b.body, n.body) AS body
             FROM notes n JOIN bases b ON b.note_id = n.id
             WHERE n.purged = 0 AND (n.id IN (SELECT note_id FROM attention)
                OR n.id IN (SELECT note_id FROM conflicts WHERE resolved_at IS NULL))",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut on_base = HashMap::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            let id: NoteId = decode(&id, "note id")?;
            if waiting.contains(&id) {
                continue;
            }
            let version = version_from_db(row.try_get("version")?)?;
            let deleted: bool = row.try_get("deleted")?;
            let fields = NoteFields::new(
                row.try_get::<String, _>("title")?,
                row.try_get::<String, _>("body")?,
            );
            on_base.insert(id, part_for(macs, id, version, deleted, &fields));
        }
        let special: Vec<NoteId> = waiting.iter().chain(on_base.keys()).copied().collect();
        for part in self.digest_parts_of(&special).await?.values() {
            digests.remove_at(part.bucket, Digest::of(part.element));
        }
        for part in on_base.values() {
            digests.add_at(part.bucket, Digest::of(part.element));
        }
        Ok(HeldHere {
            digests,
            waiting,
            on_base,
        })
    }

    /// This device's counted notes in one bucket, as a check compares them.
    pub(crate) async fn held_in_bucket(
        &self,
        held: &HeldHere,
        bucket: u16,
    ) -> Result<HashMap<NoteId, Part>> {
        let mut parts = self.digest_parts_in(bucket).await?;
        parts.retain(|id, _| !held.waiting.contains(id));
        for (id, part) in &held.on_base {
            if part.bucket == bucket {
                parts.insert(*id, *part);
            }
        }
        Ok(parts)
    }

    /// Makes this device's copy of a note the server's `remote` (opened, or deleted
    /// forever), unless something is pending for it here now. Its text, when the server
    /// never had it at that version, is kept as a new note: nothing is lost to a repair.
    pub(crate) async fn repair_from_server(&self, remote: &NoteState) -> Result<Repaired> {
        let mut tx = self.begin_write().await?;
        let id = remote.id.to_string();
        let row = sqlx::query(&format!(
            "SELECT n.title AS title, n.body AS body, n.deleted AS deleted, n.purged AS purged,
                    b.version AS base_version, coalesce(b.title, n.title) AS base_title,
                    coalesce(b.body, n.body) AS base_body,
                    {WAITING},
                    EXISTS (SELECT 1 FROM attention a WHERE a.note_id = n.id) AS set_aside
             FROM notes n LEFT JOIN bases b ON b.note_id = n.id WHERE n.id = ?"
        ))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            // Never here: taken as a pull takes a new note.
            if !remote.purged {
                take_remote(&mut tx, remote).await?;
                set_base_to(&mut tx, remote).await?;
            }
            tx.commit().await?;
            return Ok(Repaired::Taken { kept_copy: false });
        };
        // Deleted forever here (told to the server or not): nothing comes back into it.
        if row.try_get::<bool, _>("waiting")? || row.try_get::<i64, _>("purged")? != 0 {
            return Ok(Repaired::Waiting);
        }
        // Never back to an older version than this device applied, whatever the listing
        // said: the pull cursor would never bring the newer one again.
        let base_version: Option<i64> = row.try_get("base_version")?;
        if base_version.is_some_and(|v| i64::try_from(remote.version.0).is_ok_and(|r| r < v)) {
            return Ok(Repaired::Older);
        }
        if remote.purged {
            let kept = purge::purged_elsewhere_in(&mut tx, remote.id).await?;
            tx.commit().await?;
            return Ok(Repaired::Taken {
                kept_copy: matches!(kept, purge::PulledPurge::KeptCopy(_)),
            });
        }
        if row.try_get::<bool, _>("set_aside")? {
            // The person's refused change stays as it is, on the server's base.
            set_base_to(&mut tx, remote).await?;
            tx.commit().await?;
            return Ok(Repaired::Taken { kept_copy: false });
        }
        let here = NoteFields::new(
            row.try_get::<String, _>("title")?,
            row.try_get::<String, _>("body")?,
        );
        let deleted_here: bool = row.try_get("deleted")?;
        let base = NoteFields::new(
            row.try_get::<Option<String>, _>("base_title")?
                .unwrap_or_default(),
            row.try_get::<Option<String>, _>("base_body")?
                .unwrap_or_default(),
        );
        let theirs = NoteFields::new(remote.title.clone(), remote.body.clone());
        // The text here is an older version the server keeps in its history, or it is not
        // one the server ever had (it drifted from its base, or its base is not what the
        // server had at that version): then it is kept.
        let older_server_text = here == base
            && base_version
                .is_some_and(|v| v < i64::try_from(remote.version.0).unwrap_or(i64::MAX));
        let kept_copy = !deleted_here && here != theirs && !older_server_text;
        if kept_copy {
            insert_new_notes(&mut tx, vec![here], clock::now()).await?;
        }
        take_remote(&mut tx, remote).await?;
        set_base_to(&mut tx, remote).await?;
        tx.commit().await?;
        tracing::warn!(note = %remote.id, version = remote.version.0, kept_copy, "repaired after a check: the server's copy taken");
        Ok(Repaired::Taken { kept_copy })
    }

    /// Queues a note the server lacks to go to it again, whole (and its delete, for one in
    /// the trash), unless something is pending for it here now.
    pub(crate) async fn queue_again(&self, id: NoteId) -> Result<Repaired> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT n.title, n.body, n.deleted, n.purged, {WAITING} FROM notes n WHERE n.id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Repaired::Waiting);
        };
        if row.try_get::<bool, _>("waiting")? || row.try_get::<i64, _>("purged")? != 0 {
            return Ok(Repaired::Waiting);
        }
        let fields = NoteFields::new(
            row.try_get::<String, _>("title")?,
            row.try_get::<String, _>("body")?,
        );
        // The server has no version of it: the base kept here names one it lost, and bases
        // only ever move forward, so the create's version 1 would not replace it.
        sqlx::query("DELETE FROM bases WHERE note_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let now = clock::now();
        self.enqueue(&mut tx, id, OpPayload::Create(fields), None, now)
            .await?;
        if row.try_get::<bool, _>("deleted")? {
            self.enqueue(&mut tx, id, OpPayload::Delete, None, now)
                .await?;
        }
        tx.commit().await?;
        tracing::warn!(note = %id, "the server lacks a note this device holds: queued to go again");
        Ok(Repaired::Queued)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quire_core::protocol::NoteState;
    use quire_core::settings::ConflictPolicy;
    use quire_core::{Millis, NoteId, Version};

    use super::Repaired;
    use crate::credentials::{FileStore, CREDENTIALS_FILE};
    use crate::store::{NoteEdit, Store};

    fn server_note(id: NoteId, version: u64, body: &str) -> NoteState {
        NoteState {
            id,
            title: "Plan".to_owned(),
            body: body.to_owned(),
            version: Version(version),
            deleted: false,
            updated_at: Millis(1),
            sealed: None,
            purged: false,
        }
    }

    /// A store holding one note as the server had it at `version`, nothing queued.
    async fn holding(dir: &std::path::Path, version: u64) -> (Store, NoteId) {
        let store = Store::open(dir, &FileStore::new(dir.join(CREDENTIALS_FILE)))
            .await
            .unwrap();
        let id = NoteId(uuid::Uuid::now_v7());
        store
            .apply_pull_page(
                &[server_note(id, version, "held\n")],
                1,
                ConflictPolicy::Merge,
            )
            .await
            .unwrap();
        assert_eq!(store.pending_count().await.unwrap(), 0);
        (store, id)
    }

    #[tokio::test]
    async fn a_repair_never_touches_a_note_with_queued_changes() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = holding(dir.path(), 1).await;
        // The person types while a check runs: the repair comes after.
        store
            .update_note(id, NoteEdit::body("typed\n".to_owned()))
            .await
            .unwrap();
        let repaired = store
            .repair_from_server(&server_note(id, 2, "the server's\n"))
            .await
            .unwrap();
        assert_eq!(repaired, Repaired::Waiting);
        assert_eq!(store.queue_again(id).await.unwrap(), Repaired::Waiting);
        assert_eq!(store.note(id).await.unwrap().body, "typed\n");
        let queue = store.pending_ops(10).await.unwrap();
        assert_eq!(queue.len(), 1, "the queue as it was: {queue:?}");
    }

    #[tokio::test]
    async fn a_repair_never_goes_back_to_an_older_version() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = holding(dir.path(), 3).await;
        let repaired = store
            .repair_from_server(&server_note(id, 2, "older\n"))
            .await
            .unwrap();
        assert_eq!(repaired, Repaired::Older);
        assert_eq!(store.note(id).await.unwrap().body, "held\n");
    }

    #[tokio::test]
    async fn a_note_deleted_forever_here_takes_nothing_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = holding(dir.path(), 1).await;
        for purged in [1, 2] {
            sqlx::query("UPDATE notes SET purged = ? WHERE id = ?")
                .bind(purged)
                .bind(id.to_string())
                .execute(&store.pool)
                .await
                .unwrap();
            let repaired = store
                .repair_from_server(&server_note(id, 2, "back again\n"))
                .await
                .unwrap();
            assert_eq!(repaired, Repaired::Waiting, "purged = {purged}");
            assert_eq!(store.queue_again(id).await.unwrap(), Repaired::Waiting);
            let body: String = sqlx::query_scalar("SELECT body FROM notes WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&store.pool)
                .await
                .unwrap();
            assert_eq!(body, "held\n");
        }
    }

    #[tokio::test]
    async fn a_text_the_server_never_had_is_kept_as_a_new_note() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = holding(dir.path(), 1).await;
        sqlx::query("UPDATE notes SET body = 'drifted' WHERE id = ?")
            .bind(id.to_string())
            .execute(&store.pool)
            .await
            .unwrap();
        let repaired = store
            .repair_from_server(&server_note(id, 1, "held\n"))
            .await
            .unwrap();
        assert_eq!(repaired, Repaired::Taken { kept_copy: true });
        assert_eq!(store.note(id).await.unwrap().body, "held\n");
        let notes = store.list_notes().await.unwrap();
        let copy = notes.iter().find(|n| n.id != id).unwrap();
        assert_eq!(store.note(copy.id).await.unwrap().body, "drifted");
        assert!(copy.pending, "it goes to the server like any new note");

        // Behind the server with the server's older text: taken, nothing kept (the
        // server has that text in its history).
        let repaired = store
            .repair_from_server(&server_note(id, 2, "newer\n"))
            .await
            .unwrap();
        assert_eq!(repaired, Repaired::Taken { kept_copy: false });
        assert_eq!(store.list_notes().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_note_the_server_lost_goes_again_whole_with_its_delete() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = holding(dir.path(), 4).await;
        store.delete_note(id).await.unwrap();
        // The delete went (the server answered), then the server lost the note.
        sqlx::query("DELETE FROM outbox")
            .execute(&store.pool)
            .await
            .unwrap();
        assert_eq!(store.queue_again(id).await.unwrap(), Repaired::Queued);
        let queue = store.pending_ops(10).await.unwrap();
        let kinds: Vec<_> = queue
            .iter()
            .map(|q| (q.op.payload.kind(), q.op.base_version))
            .collect();
        assert_eq!(
            kinds,
            [
                (quire_core::OpKind::Create, None),
                (quire_core::OpKind::Delete, None)
            ]
        );
        let base: Option<i64> = sqlx::query_scalar("SELECT version FROM bases WHERE note_id = ?")
            .bind(id.to_string())
            .fetch_optional(&store.pool)
            .await
            .unwrap();
        assert_eq!(base, None, "the server holds no version of it now");
    }
}
