//! Applying what the server said to the store: push results and pulled changes, each in one
//! transaction, following `quire_core::reconcile` where both sides changed a note.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use quire_core::protocol::{NoteState, NoteVersion, PushResult};
use quire_core::reconcile::{base_in_history, reconcile, same_text, Base, Decision, LocalNote};
use quire_core::settings::ConflictPolicy;
use quire_core::{DeviceId, Millis, NoteFields, NoteId, OpPayload, Version};
use sqlx::{Row, Sqlite, Transaction};

use super::outbox::QueuedOp;
use super::settings::{LAST_SYNC_AT, VERIFIED_AT};
use super::{bulk, digest_parts, purge};
use super::{decode, version_from_db, version_to_db, Store};
use crate::{clock, Result};

/// What one push result did here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    Applied,
    /// The server had a newer note; what was done about it.
    Conflict(RemoteOutcome),
    /// The op was refused and set aside in the "needs attention" list.
    SetAside,
    /// The op stays queued and goes again.
    Retry,
    /// The op now names the server's current version and goes again.
    Rebased,
    /// The server could not take it now (the account is full); it stays queued.
    Deferred,
}

/// What one pulled change did here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteOutcome {
    Unchanged,
    Updated,
    Merged,
    Conflict,
    /// Pushed again as last-write-wins.
    Overwrite,
    /// An edit here beat a delete there: the note is back.
    Revived,
    /// An edit there beat a delete here: the note is back, with the server's text.
    DeleteUndone,
    /// Deleted forever on another device: gone here too.
    Purged,
    /// Deleted forever on another device while this one had changes to it not yet sent:
    /// those were kept, as a new note.
    PurgedKeptCopy,
    /// A change the server refused as made to a note deleted forever: kept as a new note
    /// (the note itself goes when the purge is pulled and checked).
    KeptBeforePurge,
}

const PULL_CURSOR: &str = "state.pull-cursor";

/// A base's version and text, from `bases b` joined with `notes n`: a NULL title or body is
/// the note's own (see migration `shared_bases`).
pub(super) const BASE_COLUMNS: &str =
    "b.version AS version, coalesce(b.title, n.title) AS title, coalesce(b.body, n.body) AS body";
/// The base of the note bound as the only value.
const BASE_OF_NOTE: &str = "FROM bases b JOIN notes n ON n.id = b.note_id WHERE b.note_id = ?";

async fn set_base(
    tx: &mut Transaction<'_, Sqlite>,
    note_id: NoteId,
    version: Version,
    fields: &NoteFields,
) -> Result<()> {
    let base = bulk::BaseRow {
        note_id,
        version,
        fields,
    };
    bulk::upsert_bases(tx, &[base], false).await
}

/// The server's note becomes the base: the last text this device knows the server had, and
/// its version the one the local note sits on.
pub(super) async fn set_base_to(
    tx: &mut Transaction<'_, Sqlite>,
    remote: &NoteState,
) -> Result<()> {
    let fields = NoteFields::new(&remote.title, &remote.body);
    set_base(tx, remote.id, remote.version, &fields).await
}

async fn drop_pending(tx: &mut Transaction<'_, Sqlite>, note_id: NoteId) -> Result<()> {
    sqlx::query("DELETE FROM outbox WHERE note_id = ?")
        .bind(note_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Points the note's queued ops at `version`: they were made on top of what it now is.
async fn rebase_pending(
    tx: &mut Transaction<'_, Sqlite>,
    note_id: NoteId,
    version: Version,
    lww: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET base_version = ?, sent_at = NULL, lww = (lww OR ?) WHERE note_id = ?",
    )
    .bind(version_to_db(version)?)
    .bind(lww)
    .bind(note_id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes the local note the server's note.
pub(super) async fn take_remote(
    tx: &mut Transaction<'_, Sqlite>,
    remote: &NoteState,
) -> Result<()> {
    let upsert = sqlx::query(
        "INSERT INTO notes (id, title, body, created_at, updated_at, deleted)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body,
            updated_at = excluded.updated_at, deleted = excluded.deleted",
    );
    bulk::bind_note_row(upsert, remote)?
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Applies the server's answer to one pushed op, in its own transaction.
    pub(crate) async fn apply_push_result(
        &self,
        queued: &QueuedOp,
        result: &PushResult,
        policy: ConflictPolicy,
    ) -> Result<PushOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome = self
            .apply_push_result_in(&mut tx, queued, result, policy)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Applies the server's answers to a pushed batch, all in one transaction: one fsync
    /// per batch, and the batch's results land together or not at all.
    pub(crate) async fn apply_push_results(
        &self,
        batch: &[QueuedOp],
        results: &[PushResult],
        policy: ConflictPolicy,
    ) -> Result<Vec<PushOutcome>> {
        let mut tx = self.begin_write().await?;
        if let Some(applied) = bulk::plainly_applied(batch, results) {
            bulk::apply_applied(&mut tx, &applied).await?;
            self.settle_applied_parts(&mut tx, &applied).await?;
            tx.commit().await?;
            return Ok(vec![PushOutcome::Applied; applied.len()]);
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for (queued, result) in batch.iter().zip(results) {
            outcomes.push(
                self.apply_push_result_in(&mut tx, queued, result, policy)
                    .await?,
            );
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn apply_push_result_in(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        queued: &QueuedOp,
        result: &PushResult,
        policy: ConflictPolicy,
    ) -> Result<PushOutcome> {
        let op = &queued.op;
        match result {
            PushResult::Duplicate { original, .. } => {
                Box::pin(self.apply_push_result_in(tx, queued, original, policy)).await
            }
            PushResult::Applied { version, .. } => {
                // What the server now has: the op's text, or for a delete the note's last.
                let fields = match op.payload.fields() {
                    Some(fields) => Cow::Borrowed(fields),
                    None => {
                        let row = sqlx::query("SELECT title, body FROM notes WHERE id = ?")
                            .bind(op.note_id.to_string())
                            .fetch_one(&mut **tx)
                            .await?;
                        Cow::Owned(NoteFields::new(
                            row.try_get::<String, _>("title")?,
                            row.try_get::<String, _>("body")?,
                        ))
                    }
                };
                let applied = bulk::Applied {
                    op: queued,
                    version: *version,
                    fields: &fields,
                };
                bulk::apply_applied(tx, std::slice::from_ref(&applied)).await?;
                self.settle_applied_parts(tx, &[applied]).await?;
                Ok(PushOutcome::Applied)
            }
            PushResult::Conflict {
                current: Some(current),
                ..
            } => {
                let outcome = self.apply_remote_in(tx, current, policy).await?;
                // The server's text is the base kept here, only the op still names an older
                // version (a decision queued on a version a pull has moved past): it goes
                // again on the current one, or it would be refused every round.
                if outcome == RemoteOutcome::Unchanged
                    && op.base_version != Some(current.version)
                    && self.base_is(tx, current).await?
                {
                    rebase_pending(tx, op.note_id, current.version, false).await?;
                    return Ok(PushOutcome::Rebased);
                }
                Ok(PushOutcome::Conflict(outcome))
            }
            // Not applied for now (the account is full): the op stays queued as it is.
            PushResult::Deferred { .. } => {
                sqlx::query("UPDATE outbox SET sent_at = NULL WHERE op_id = ?")
                    .bind(op.op_id.to_string())
                    .execute(&mut **tx)
                    .await?;
                Ok(PushOutcome::Deferred)
            }
            // The engine fetches a note the server left out of its answer; should it still
            // be missing, the op simply goes again.
            PushResult::Conflict { current: None, .. } => Ok(PushOutcome::Retry),
            PushResult::NeedFullText { .. } => {
                sqlx::query("UPDATE outbox SET sent_at = NULL WHERE op_id = ?")
                    .bind(op.op_id.to_string())
                    .execute(&mut **tx)
                    .await?;
                Ok(PushOutcome::Retry)
            }
            // Deleted forever on another device, the server says: this change is kept here
            // as a new note (if it has text); the note itself goes only with the sealed
            // purge a pull brings.
            PushResult::Rejected { reason, .. }
                if reason == quire_core::sealed_judgement::PURGED =>
            {
                Ok(PushOutcome::Conflict(
                    match purge::refused_as_purged_in(tx, op.note_id).await? {
                        purge::PulledPurge::KeptCopy(_) => RemoteOutcome::KeptBeforePurge,
                        _ => RemoteOutcome::Unchanged,
                    },
                ))
            }
            PushResult::Rejected { reason, .. } => {
                let fields = op.payload.fields();
                sqlx::query(
                    "INSERT OR REPLACE INTO attention
                        (op_id, note_id, kind, title, body, reason, rejected_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(op.op_id.to_string())
                .bind(op.note_id.to_string())
                .bind(op.payload.kind().as_str())
                .bind(fields.map(|f| f.title.as_str()))
                .bind(fields.map(|f| f.body.as_str()))
                .bind(reason)
                .bind(clock::now().0)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM outbox WHERE op_id = ?")
                    .bind(op.op_id.to_string())
                    .execute(&mut **tx)
                    .await?;
                tracing::warn!(op = %op.op_id, note = %op.note_id, %reason, "the server refused a change; set aside");
                Ok(PushOutcome::SetAside)
            }
        }
    }

    async fn apply_remote_in(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        remote: &NoteState,
        policy: ConflictPolicy,
    ) -> Result<RemoteOutcome> {
        let id = remote.id.to_string();
        let local = sqlx::query(
            "SELECT title, body, deleted, purged,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id) AS pending
             FROM notes n WHERE id = ?",
        )
        .bind(&id)
        .fetch_optional(&mut **tx)
        .await?;
        // Deleted forever here: an older state of it (a pull from before) changes nothing.
        if let Some(local) = &local {
            if local.try_get::<i64, _>("purged")? != 0 {
                return Ok(RemoteOutcome::Unchanged);
            }
        }
        // A conflict is open: the person is deciding between their text and the server's.
        // A newer server text replaces "theirs" in that decision; their text stays.
        let open_conflict = sqlx::query(
            "UPDATE conflicts SET theirs_title = ?, theirs_body = ?, theirs_version = ?
             WHERE note_id = ? AND resolved_at IS NULL AND from_file = 0 AND theirs_version < ?",
        )
        .bind(&remote.title)
        .bind(&remote.body)
        .bind(version_to_db(remote.version)?)
        .bind(&id)
        .bind(version_to_db(remote.version)?)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            > 0;
        if open_conflict {
            set_base_to(tx, remote).await?;
            return Ok(RemoteOutcome::Unchanged);
        }
        let Some(local) = local else {
            take_remote(tx, remote).await?;
            set_base_to(tx, remote).await?;
            return Ok(RemoteOutcome::Updated);
        };
        let local = LocalNote {
            fields: NoteFields::new(
                local.try_get::<String, _>("title")?,
                local.try_get::<String, _>("body")?,
            ),
            deleted: local.try_get("deleted")?,
            pending: local.try_get("pending")?,
        };
        let base = sqlx::query(&format!("SELECT {BASE_COLUMNS} {BASE_OF_NOTE}"))
            .bind(&id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|row| -> Result<Base> {
                let version: i64 = row.try_get("version")?;
                Ok(Base {
                    version: version_from_db(version)?,
                    fields: NoteFields::new(
                        row.try_get::<String, _>("title")?,
                        row.try_get::<String, _>("body")?,
                    ),
                })
            })
            .transpose()?;
        let outcome = match reconcile(base.as_ref(), &local, remote, policy) {
            Decision::KeepLocal => RemoteOutcome::Unchanged,
            Decision::TakeRemote => {
                take_remote(tx, remote).await?;
                // Pending here only when both sides deleted it: the server has the delete.
                if local.pending {
                    drop_pending(tx, remote.id).await?;
                }
                // Deleted here earlier, edited elsewhere since: the person hears it is back.
                if local.deleted && !remote.deleted {
                    RemoteOutcome::DeleteUndone
                } else {
                    RemoteOutcome::Updated
                }
            }
            Decision::Merged { fields } => {
                sqlx::query("UPDATE notes SET title = ?, body = ?, updated_at = ? WHERE id = ?")
                    .bind(&fields.title)
                    .bind(&fields.body)
                    .bind(clock::now().0)
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
                drop_pending(tx, remote.id).await?;
                self.enqueue(
                    tx,
                    remote.id,
                    OpPayload::Update(fields),
                    Some(remote.version),
                    clock::now(),
                )
                .await?;
                RemoteOutcome::Merged
            }
            Decision::Conflict { .. } => {
                sqlx::query(
                    "INSERT INTO conflicts (id, note_id, base_body, mine_title, mine_body,
                        theirs_title, theirs_body, theirs_version, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(&id)
                // A base the server never had would make the conflict center merge
                // against a text neither side is built on.
                .bind(
                    base.as_ref()
                        .filter(|b| base_in_history(b, remote))
                        .map(|b| b.fields.body.as_str()),
                )
                .bind(&local.fields.title)
                .bind(&local.fields.body)
                .bind(&remote.title)
                .bind(&remote.body)
                .bind(version_to_db(remote.version)?)
                .bind(clock::now().0)
                .execute(&mut **tx)
                .await?;
                // The local text stays; the person's resolution is pushed on top of the
                // server's version, so the queued ops made on the old base go.
                drop_pending(tx, remote.id).await?;
                RemoteOutcome::Conflict
            }
            Decision::PushLastWriteWins => {
                rebase_pending(tx, remote.id, remote.version, true).await?;
                RemoteOutcome::Overwrite
            }
            Decision::ReviveLocalEdit => {
                rebase_pending(tx, remote.id, remote.version, false).await?;
                RemoteOutcome::Revived
            }
            Decision::UndoLocalDelete => {
                drop_pending(tx, remote.id).await?;
                take_remote(tx, remote).await?;
                RemoteOutcome::DeleteUndone
            }
        };
        if outcome != RemoteOutcome::Unchanged {
            set_base_to(tx, remote).await?;
        }
        Ok(outcome)
    }

    /// The parts of the digest of notes the server applied an op of, made from the op's
    /// text, for those with nothing left queued (their text here is the op's); notes with
    /// more queued are counted when those are applied.
    async fn settle_applied_parts(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        applied: &[bulk::Applied<'_>],
    ) -> Result<()> {
        let Some(macs) = self.text_macs() else {
            return Ok(());
        };
        let mut still_queued = HashSet::new();
        for chunk in applied.chunks(bulk::ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT DISTINCT note_id FROM outbox WHERE note_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for a in chunk {
                query = query.bind(a.op.op.note_id.to_string());
            }
            still_queued.extend(query.fetch_all(&mut **tx).await?);
        }
        let parts: Vec<_> = applied
            .iter()
            .filter(|a| !still_queued.contains(&a.op.op.note_id.to_string()))
            .map(|a| {
                let id = a.op.op.note_id;
                let deleted = a.op.op.payload.fields().is_none();
                (
                    id,
                    digest_parts::part_for(&macs, id, a.version, deleted, a.fields),
                )
            })
            .collect();
        digest_parts::settle_in(tx, &parts).await
    }

    /// Whether the base kept here is the server's note `remote`, version and text.
    async fn base_is(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        remote: &NoteState,
    ) -> Result<bool> {
        let base: Option<(i64, String, String)> =
            sqlx::query_as(&format!("SELECT {BASE_COLUMNS} {BASE_OF_NOTE}"))
                .bind(remote.id.to_string())
                .fetch_optional(&mut **tx)
                .await?;
        Ok(base.is_some_and(|(version, title, body)| {
            version_to_db(remote.version).is_ok_and(|v| v == version)
                && same_text(&NoteFields::new(title, body), remote)
        }))
    }

    /// The texts the server had at these versions of these notes, where that is the base
    /// kept here, by note: what an op made on that version is bound to, and a patch is
    /// computed against.
    pub(crate) async fn bases_at(
        &self,
        wanted: &[(NoteId, Version)],
    ) -> Result<HashMap<NoteId, NoteFields>> {
        let mut found = HashMap::with_capacity(wanted.len());
        // Rows per statement: far inside SQLite's limit on bound values.
        for chunk in wanted.chunks(500) {
            let sql = format!(
                "SELECT b.note_id, {BASE_COLUMNS} FROM bases b JOIN notes n ON n.id = b.note_id
                 WHERE b.note_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, i64, String, String)>(&sql);
            for (note_id, _) in chunk {
                query = query.bind(note_id.to_string());
            }
            let rows: HashMap<String, (i64, String, String)> = query
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(id, version, title, body)| (id, (version, title, body)))
                .collect();
            for (note_id, version) in chunk {
                let Some((at, title, body)) = rows.get(&note_id.to_string()) else {
                    continue;
                };
                if *at == version_to_db(*version)? {
                    found.insert(*note_id, NoteFields::new(title.clone(), body.clone()));
                }
            }
        }
        Ok(found)
    }

    /// Whether the server has changes this device made that its store does not hold: the
    /// store was restored from a backup, or is a copy of another device's data dir. A change
    /// that an op sent without an answer would make (its base version plus one) does not
    /// count: the server may have applied it, and the next push settles that.
    pub(crate) async fn lacks_own_changes(&self, own: &[NoteVersion]) -> Result<bool> {
        let list = |n: usize| vec!["?"; n].join(", ");
        // Rows per statement: far inside SQLite's limit on bound values.
        for chunk in own.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|c| c.id.to_string()).collect();
            let sql = format!(
                "SELECT note_id, version FROM bases WHERE note_id IN ({})",
                list(ids.len())
            );
            let mut query = sqlx::query_as::<_, (String, Option<i64>)>(&sql);
            for id in &ids {
                query = query.bind(id);
            }
            let versions: HashMap<String, Option<i64>> =
                query.fetch_all(&self.pool).await?.into_iter().collect();
            let sql = format!(
                "SELECT note_id, coalesce(base_version, 0) + 1 FROM outbox
                 WHERE sent_at IS NOT NULL AND note_id IN ({})",
                list(ids.len())
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
            for id in &ids {
                query = query.bind(id);
            }
            let in_flight: HashSet<(String, i64)> =
                query.fetch_all(&self.pool).await?.into_iter().collect();
            for (change, id) in chunk.iter().zip(&ids) {
                let version = version_to_db(change.version)?;
                let holds = matches!(versions.get(id), Some(Some(v)) if *v >= version)
                    || in_flight.contains(&(id.clone(), version));
                if !holds {
                    tracing::warn!(note = %change.id, version = %change.version.0,
                        "the server has a change this device made that its store lacks");
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Gives this store a new device id (its queued ops too). A restored or copied store
    /// must stop calling the changes made under its old id its own: another copy may be
    /// making them, and the server leaves a device's own changes out of its pulls.
    pub(crate) async fn start_new_device(&self) -> Result<DeviceId> {
        let device = DeviceId(uuid::Uuid::now_v7());
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE device SET device_id = ? WHERE id = 1")
            .bind(device.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE outbox SET device_id = ?")
            .bind(device.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::warn!(%device, "this store continues as a new device");
        Ok(device)
    }

    pub(crate) async fn pull_cursor(&self) -> Result<u64> {
        self.state(PULL_CURSOR)
            .await?
            .map_or(Ok(0), |v| decode(&v, "pull cursor"))
    }

    /// Applies one pulled page and moves the cursor past it, in one transaction: the page's
    /// changes and the cursor land together.
    pub(crate) async fn apply_pull_page(
        &self,
        notes: &[NoteState],
        next: u64,
        policy: ConflictPolicy,
    ) -> Result<Vec<RemoteOutcome>> {
        let mut tx = self.begin_write().await?;
        let outcomes = self.apply_notes_in(&mut tx, notes, policy).await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(PULL_CURSOR)
        .bind(next.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Applies notes as the server has them: taken as they are when never seen here (all
    /// of them, on a first sync: nothing to reconcile), else reconciled one by one.
    pub(super) async fn apply_notes_in(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        notes: &[NoteState],
        policy: ConflictPolicy,
    ) -> Result<Vec<RemoteOutcome>> {
        let known = bulk::known_notes(tx, notes).await?;
        // A note deleted forever that this device never had: nothing to take in.
        let unknown: Vec<&NoteState> = notes
            .iter()
            .filter(|n| !known.contains(&n.id) && !n.purged)
            .collect();
        bulk::insert_new(tx, &unknown).await?;
        // Their parts of the digest, while their texts are here.
        if let Some(macs) = self.text_macs() {
            let parts: Vec<_> = unknown
                .iter()
                .map(|note| {
                    let fields = NoteFields::new(&note.title, &note.body);
                    let part =
                        digest_parts::part_for(&macs, note.id, note.version, note.deleted, &fields);
                    (note.id, part)
                })
                .collect();
            digest_parts::settle_in(tx, &parts).await?;
        }
        let mut outcomes = Vec::with_capacity(notes.len());
        for note in notes {
            outcomes.push(match (known.contains(&note.id), note.purged) {
                (true, true) => purge::purged_elsewhere_in(tx, note.id).await?.outcome(),
                (true, false) => self.apply_remote_in(tx, note, policy).await?,
                (false, true) => RemoteOutcome::Unchanged,
                (false, false) => RemoteOutcome::Updated,
            });
        }
        Ok(outcomes)
    }

    pub(crate) async fn record_sync(&self, at: Millis) -> Result<()> {
        self.set_state(LAST_SYNC_AT, &at.0.to_string()).await
    }

    /// When a check last found this device equal to the server, if one ever did.
    pub(crate) async fn verified_at(&self) -> Result<Option<Millis>> {
        self.state(VERIFIED_AT)
            .await?
            .map(|v| decode(&v, "last check time").map(Millis))
            .transpose()
    }

    pub(crate) async fn record_verified(&self, at: Millis) -> Result<()> {
        self.set_state(VERIFIED_AT, &at.0.to_string()).await
    }
}
