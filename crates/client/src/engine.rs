//! One sync round: push the queue in order, in batches, then pull the account's changes
//! from the cursor until nothing more waits, then push whatever merging queued.
//!
//! An op leaves the queue only when the server confirmed it (applied, or a replay of an
//! applied op) or refused it (then it is set aside, visible, never dropped).

use std::collections::HashSet;

use quire_core::patch::Patch;
use quire_core::protocol::{PullResponse, PushOp, PushRequest, PushResult};
use quire_core::settings::{ConflictPolicy, SettingKey};
use quire_core::{NoteFields, NoteId, OpId, OpKind, OpPayload, TextHash};
use serde::Serialize;

use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::service::{Notice, NoticeKind};
use crate::store::{PushOutcome, QueuedOp, RemoteOutcome};
use crate::{clock, Error, Result, Store};

/// Changes asked for per pull request.
const PULL_PAGE: u32 = 500;

/// What a round did, for `quire sync` and the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncReport {
    /// Ops the server applied.
    #[ts(type = "number")]
    pub pushed: u64,
    /// Changes from the server that changed a note here.
    #[ts(type = "number")]
    pub pulled: u64,
    /// Notes changed on both sides whose changes merged cleanly.
    #[ts(type = "number")]
    pub merged: u64,
    /// Notes changed on both sides that now wait for a decision.
    #[ts(type = "number")]
    pub conflicts: u64,
    /// Deleted here but edited elsewhere, or the other way round: the edit won and the
    /// note is back. People are told.
    #[ts(type = "number")]
    pub revived: u64,
    /// Ops the server refused, now in the "needs attention" list.
    #[ts(type = "number")]
    pub set_aside: u64,
    /// Push requests sent.
    #[ts(type = "number")]
    pub batches: u64,
    /// Ops still queued after the round that could have gone (0 when fully pushed).
    #[ts(type = "number")]
    pub pending: u64,
    /// Changes to notes in conflict, kept here until the person decides.
    #[ts(type = "number")]
    pub held: u64,
    /// Request body bytes sent, as they went on the wire (compressed).
    #[ts(type = "number")]
    pub bytes_sent: u64,
    /// Response body bytes received, as they came over the wire (compressed).
    #[ts(type = "number")]
    pub bytes_received: u64,
    /// The server or this store was restored from a backup (or the store copied): the
    /// round pulled everything again and reconciled it with what is here.
    pub caught_up: bool,
    /// Notes whose changes the server could not take because the account is full; they
    /// stay queued here.
    #[ts(type = "number")]
    pub deferred: u64,
}

impl SyncReport {
    /// What the person must hear about this round, one sentence each; empty for a routine
    /// round. The CLI prints these and the app shows them as notifications.
    pub fn notices(&self) -> Vec<Notice> {
        let notes = |n: u64| {
            if n == 1 {
                "1 note".to_owned()
            } else {
                format!("{n} notes")
            }
        };
        let mut notices = Vec::new();
        if self.conflicts > 0 {
            let verb = if self.conflicts == 1 { "needs" } else { "need" };
            notices.push(Notice {
                kind: NoticeKind::Conflicts,
                text: format!(
                    "{} {verb} your decision: edited on two devices",
                    notes(self.conflicts)
                ),
            });
        }
        if self.revived > 0 {
            notices.push(Notice {
                kind: NoticeKind::Revived,
                text: format!(
                    "{} deleted on one device but edited on another {} back: the edit won",
                    notes(self.revived),
                    if self.revived == 1 { "is" } else { "are" }
                ),
            });
        }
        if self.caught_up {
            notices.push(Notice {
                kind: NoticeKind::CaughtUp,
                text: "This device or the server was restored from a backup (or this data \
                       folder was copied): Quire fetched every note again and kept what \
                       only this device had"
                    .to_owned(),
            });
        }
        if self.deferred > 0 {
            notices.push(Notice {
                kind: NoticeKind::Failing,
                text: format!(
                    "Your account on the server is full: changes to {} wait on this device \
                     until notes are shortened or the server allows more",
                    notes(self.deferred)
                ),
            });
        }
        if self.set_aside > 0 {
            notices.push(Notice {
                kind: NoticeKind::NeedsAttention,
                text: format!(
                    "{} the server refused {} waiting in \"needs attention\"",
                    if self.set_aside == 1 {
                        "1 change"
                    } else {
                        "changes"
                    },
                    if self.set_aside == 1 { "is" } else { "are" }
                ),
            });
        }
        notices
    }

    fn count(&mut self, outcome: RemoteOutcome) {
        match outcome {
            RemoteOutcome::Updated => self.pulled += 1,
            RemoteOutcome::DeleteUndone => {
                self.pulled += 1;
                self.revived += 1;
            }
            RemoteOutcome::Revived => self.revived += 1,
            RemoteOutcome::Merged => self.merged += 1,
            RemoteOutcome::Conflict => self.conflicts += 1,
            // Nothing new here, or a local change that goes out again (counted when applied).
            RemoteOutcome::Unchanged | RemoteOutcome::Overwrite => {}
        }
    }
}

/// The op as the server gets it: bound to the hash of its base text when the base is known
/// here, and, for an update, carrying a patch against that base instead of the whole text
/// when `patch` allows it and the patch is smaller.
fn to_push_op(queued: &QueuedOp, base: Option<&NoteFields>, patch_allowed: bool) -> PushOp {
    let op = &queued.op;
    let lww = queued.lww && op.payload.kind() != OpKind::Create;
    let (title, mut body, mut patch) = match &op.payload {
        OpPayload::Create(f) | OpPayload::Update(f) => {
            (Some(f.title.clone()), Some(f.body.clone()), None)
        }
        OpPayload::Delete => (None, None, None),
    };
    if let (OpPayload::Update(fields), Some(base), false, true) =
        (&op.payload, base, lww, patch_allowed)
    {
        let diff = Patch::between(&base.body, &fields.body);
        let diff_size = serde_json::to_vec(&diff).map_or(usize::MAX, |json| json.len());
        if diff_size < fields.body.len() {
            body = None;
            patch = Some(diff);
        }
    }
    PushOp {
        op_id: op.op_id,
        note_id: op.note_id,
        kind: op.payload.kind(),
        title,
        body,
        patch,
        base_version: op.base_version,
        base_hash: base.map(|base| TextHash::of(&base.title, &base.body)),
        device_id: op.device_id,
        clock: op.clock,
        lww,
    }
}

/// Counts what one push result did; whether the round moved.
fn count(outcome: PushOutcome, report: &mut SyncReport) -> bool {
    match outcome {
        PushOutcome::Applied => {
            report.pushed += 1;
            true
        }
        PushOutcome::SetAside => {
            report.set_aside += 1;
            true
        }
        // Nothing changed here (a conflict answer that changed nothing would send the op
        // again as it is): the round moves on.
        PushOutcome::Conflict(RemoteOutcome::Unchanged)
        | PushOutcome::Retry
        | PushOutcome::Deferred => false,
        PushOutcome::Rebased => true,
        PushOutcome::Conflict(outcome) => {
            report.count(outcome);
            true
        }
    }
}

/// Pushing the queue within one round.
struct Pusher<'a> {
    store: &'a Store,
    api: &'a ApiClient,
    token: &'a Secret,
    policy: ConflictPolicy,
    batch_size: u32,
    /// Ops the server could not patch: they go again with their whole text.
    full_text: HashSet<OpId>,
    /// Notes whose op the server deferred (the account is full), and how many queued ops
    /// they hold: they wait for the next round, and the rest of the queue goes on.
    deferred: HashSet<NoteId>,
    deferred_ops: u64,
}

impl Pusher<'_> {
    async fn push_op(&self, queued: &QueuedOp) -> Result<PushOp> {
        let base = match queued.op.base_version {
            Some(version) => self.store.base_fields(queued.op.note_id, version).await?,
            None => None,
        };
        let patch_allowed = !self.full_text.contains(&queued.op.op_id);
        Ok(to_push_op(queued, base.as_ref(), patch_allowed))
    }

    /// Fetches the notes a conflict answer left out (the server sends each note's text once
    /// per response, and only so much text in all).
    async fn complete(&self, results: &mut [PushResult]) -> Result<()> {
        for result in results {
            if let PushResult::Conflict {
                note_id,
                current: current @ None,
                ..
            } = result
            {
                *current = Some(self.api.note(self.token, *note_id).await?);
            }
        }
        Ok(())
    }

    /// Sends one batch and applies its results; whether anything moved.
    async fn send(&mut self, batch: &[QueuedOp], report: &mut SyncReport) -> Result<bool> {
        let ids: Vec<_> = batch.iter().map(|q| q.op.op_id).collect();
        self.store.mark_sent(&ids, clock::now()).await?;
        let mut ops = Vec::with_capacity(batch.len());
        for queued in batch {
            ops.push(self.push_op(queued).await?);
        }
        report.batches += 1;
        let mut response = match self.api.push(self.token, &PushRequest { ops }).await {
            Ok(response) => response,
            Err(Error::TooLarge { detail, .. }) => return self.split(batch, &detail, report).await,
            Err(err) => return Err(err),
        };
        if response.results.len() != batch.len() {
            return Err(Error::ServerProtocol {
                server: self.api.server().to_owned(),
                detail: format!(
                    "{} results for a push of {} ops",
                    response.results.len(),
                    batch.len()
                ),
            });
        }
        self.complete(&mut response.results).await?;
        // The batch's results are applied and acked in one local transaction.
        let outcomes = self
            .store
            .apply_push_results(batch, &response.results, self.policy)
            .await?;
        let mut progress = false;
        for ((queued, result), outcome) in batch.iter().zip(&response.results).zip(outcomes) {
            if let PushResult::NeedFullText { .. } = result {
                progress |= self.full_text.insert(queued.op.op_id);
            }
            if outcome == PushOutcome::Deferred && self.deferred.insert(queued.op.note_id) {
                report.deferred += 1;
                self.deferred_ops += self.store.queued_for(queued.op.note_id).await?;
                progress = true;
            }
            progress |= count(outcome, report);
        }
        Ok(progress)
    }

    /// The server refused the batch as too large: halve it (and later batches), or set a
    /// single op aside when it alone is over the server's limit.
    async fn split(
        &mut self,
        batch: &[QueuedOp],
        detail: &str,
        report: &mut SyncReport,
    ) -> Result<bool> {
        if let [queued] = batch {
            let refused = PushResult::Rejected {
                op_id: queued.op.op_id,
                reason: format!("the change is larger than the server accepts: {detail}"),
            };
            let outcome = self
                .store
                .apply_push_result(queued, &refused, self.policy)
                .await?;
            return Ok(count(outcome, report));
        }
        let half = batch.len() / 2;
        self.batch_size = u32::try_from(half).unwrap_or(u32::MAX).max(1);
        tracing::info!(
            batch_size = self.batch_size,
            "the server found a batch too large; halving it"
        );
        let first = Box::pin(self.send(&batch[..half], report)).await?;
        let second = Box::pin(self.send(&batch[half..], report)).await?;
        Ok(first || second)
    }

    /// Pushes until the queue is empty, or until a pass makes no progress (then the rest
    /// waits for the next round).
    async fn push_all(&mut self, report: &mut SyncReport) -> Result<()> {
        // Each pass either empties a batch from the queue or rebases it on a newer version;
        // a note that keeps changing on the server cannot hold the round forever. Enough
        // passes for the whole queue, plus room for rebases.
        let queued = self.store.pending_count().await?;
        let passes = queued / u64::from(self.batch_size.max(1)) + 1000;
        for _ in 0..passes {
            // One op per note per batch: a later op of the same note could not know the
            // version the earlier one will make; it goes in the next pass, rebased on it.
            // Notes whose op the server deferred wait for the next round.
            let mut notes = HashSet::new();
            let window = u64::from(self.batch_size) + self.deferred_ops;
            let batch: Vec<QueuedOp> = self
                .store
                .pushable_ops(u32::try_from(window).unwrap_or(u32::MAX))
                .await?
                .into_iter()
                .filter(|queued| !self.deferred.contains(&queued.op.note_id))
                .filter(|queued| notes.insert(queued.op.note_id))
                .take(self.batch_size as usize)
                .collect();
            if batch.is_empty() || !self.send(&batch, report).await? {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Whether this page shows that the cursor or the store cannot be trusted, so the round must
/// pull everything again: a cursor beyond the server's change counter (the server was
/// restored from an older backup), or changes "this device" made that its store lacks (the
/// store was restored from a backup, or copied to a second machine, which then takes a new
/// device id so that the two stop hiding each other's changes).
async fn caught_up_instead(store: &Store, since: u64, page: &PullResponse) -> Result<bool> {
    if since > page.head {
        tracing::warn!(
            since,
            head = page.head,
            "the server has fewer changes than this device saw: it was restored from a backup; \
             pulling everything again"
        );
        return Ok(true);
    }
    if store.lacks_own_changes(&page.own).await? {
        tracing::warn!(
            "this store lacks changes it made: it was restored from a backup or copied; \
             pulling everything again as a new device"
        );
        store.start_new_device().await?;
        return Ok(true);
    }
    Ok(false)
}

/// Runs one full round against the signed-in server.
pub async fn sync_once(store: &Store, api: &ApiClient, token: &Secret) -> Result<SyncReport> {
    let wire_before = api.wire_bytes();
    let policy: ConflictPolicy = store
        .setting_as(SettingKey::ConflictPolicy, ConflictPolicy::Merge)
        .await?;
    let mut report = SyncReport::default();
    let mut pusher = Pusher {
        store,
        api,
        token,
        policy,
        batch_size: store.setting_as(SettingKey::BatchSize, 100).await?,
        full_text: HashSet::new(),
        deferred: HashSet::new(),
        deferred_ops: 0,
    };
    pusher.push_all(&mut report).await?;

    let mut since = store.pull_cursor().await?;
    let mut device = Some(store.device_id().await?);
    loop {
        let page = api.pull(token, since, PULL_PAGE, device).await?;
        if device.is_some() && caught_up_instead(store, since, &page).await? {
            // Everything again, in full: what this device holds is reconciled note by note
            // (its queue is kept), and what it lacks comes back.
            report.caught_up = true;
            since = 0;
            device = None;
            continue;
        }
        let notes: Vec<_> = page.changes.into_iter().map(|change| change.note).collect();
        for outcome in store.apply_pull_page(&notes, page.next, policy).await? {
            report.count(outcome);
        }
        since = page.next;
        if !page.more {
            break;
        }
    }

    // Merges and revived notes queued ops of their own.
    pusher.push_all(&mut report).await?;
    report.held = store.held_count().await?;
    report.pending = store.pending_count().await?.saturating_sub(report.held);
    let wire = api.wire_bytes() - wire_before;
    report.bytes_sent = wire.sent;
    report.bytes_received = wire.received;
    store.record_sync(clock::now()).await?;
    tracing::info!(?report, "sync round done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    #[test]
    fn routine_rounds_say_nothing_and_the_rest_is_told_in_plain_words() {
        let routine = SyncReport {
            pushed: 3,
            pulled: 2,
            merged: 1,
            ..SyncReport::default()
        };
        assert!(routine.notices().is_empty());
        let texts = |report: &SyncReport| -> Vec<String> {
            report.notices().into_iter().map(|n| n.text).collect()
        };
        let one_each = SyncReport {
            conflicts: 1,
            revived: 1,
            set_aside: 1,
            ..SyncReport::default()
        };
        assert_eq!(
            texts(&one_each),
            [
                "1 note needs your decision: edited on two devices",
                "1 note deleted on one device but edited on another is back: the edit won",
                "1 change the server refused is waiting in \"needs attention\"",
            ]
        );
        let two = SyncReport {
            conflicts: 2,
            revived: 2,
            set_aside: 2,
            ..SyncReport::default()
        };
        assert_eq!(
            texts(&two),
            [
                "2 notes need your decision: edited on two devices",
                "2 notes deleted on one device but edited on another are back: the edit won",
                "changes the server refused are waiting in \"needs attention\"",
            ]
        );
    }

    use quire_core::NoteFields;

    use super::*;
    use crate::account::{self, AccountRequest};
    use crate::credentials::FileStore;
    use crate::store::NoteEdit;

    /// The case: this device's base is another text of the same length as the
    /// server's at the same version (a restored server, a damaged base). A patch checked by
    /// length alone turned the server's text into one nobody wrote; bound to the base's hash,
    /// the op is a conflict, nothing changes on the server, and the person decides.
    #[tokio::test]
    async fn an_edit_on_a_base_the_server_does_not_have_is_never_applied_to_its_text() {
        let server_dir = tempfile::tempdir().unwrap();
        let db = quire_server::Db::connect(&format!(
            "sqlite://{}",
            server_dir.path().join("s.db").display()
        ))
        .await
        .unwrap();
        let state = quire_server::AppState::new(
            db,
            quire_server::Limits::default(),
            std::time::Duration::from_secs(60),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = quire_server::spawn(listener, state).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let secrets = FileStore::new(dir.path().join("credentials.json"));
        let store = Store::open(dir.path(), &secrets).await.unwrap();
        let request = AccountRequest {
            server: &server.url(),
            username: "owner",
            password: "long enough pw".to_owned(),
            insecure_http: false,
        };
        account::register(&store, &secrets, request).await.unwrap();
        let (api, token) = account::session(&store, &secrets).await.unwrap();

        let servers = "- [ ] eggs\n- [ ] milk\n";
        let note = store
            .create_note(NoteFields::new("List", servers))
            .await
            .unwrap();
        sync_once(&store, &api, &token).await.unwrap();
        // Here, version 1 is another text of the same length.
        let ours = "- [ ] milk\n- [ ] eggs\n";
        for table in ["bases", "notes"] {
            sqlx::query(&format!("UPDATE {table} SET body = ?"))
                .bind(ours)
                .execute(&store.pool)
                .await
                .unwrap();
        }
        // The person deletes the milk line.
        let edit = NoteEdit::body("- [ ] eggs\n".to_owned());
        store.update_note(note.id, edit).await.unwrap();
        let report = sync_once(&store, &api, &token).await.unwrap();
        assert_eq!((report.pushed, report.conflicts), (0, 1), "{report:?}");

        let server_note = api.note(&token, note.id).await.unwrap();
        assert_eq!(
            (server_note.body.as_str(), server_note.version.0),
            (servers, 1)
        );
        assert_eq!(store.note(note.id).await.unwrap().body, "- [ ] eggs\n");
        let conflict = store.conflict(note.id).await.unwrap();
        assert_eq!(conflict.theirs.body, servers);
        assert_eq!(
            conflict.base, None,
            "a base the server never had is not shown"
        );

        // The person keeps their text: it goes on top of the server's, by decision.
        store
            .resolve_conflict(note.id, crate::store::Resolution::Mine)
            .await
            .unwrap();
        let report = sync_once(&store, &api, &token).await.unwrap();
        assert_eq!((report.pushed, report.pending), (1, 0), "{report:?}");
        assert_eq!(
            api.note(&token, note.id).await.unwrap().body,
            "- [ ] eggs\n"
        );
        server.stop().await.unwrap();
    }
}
