//! Pushing the queue within one round: in order, in batches of at most one op per note,
//! halving a batch the server finds too large, and leaving the notes of a full account
//! queued while the rest goes on.

use std::collections::HashSet;

use quire_core::patch::Patch;
use quire_core::protocol::{PushOp, PushRequest, PushResult};
use quire_core::settings::ConflictPolicy;
use quire_core::{NoteFields, NoteId, OpId, OpKind, OpPayload, TextHash};

use super::report::SyncReport;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::store::{PushOutcome, QueuedOp, RemoteOutcome};
use crate::{clock, Error, Result, Store};

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
pub(super) struct Pusher<'a> {
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

impl<'a> Pusher<'a> {
    pub(super) fn new(
        store: &'a Store,
        api: &'a ApiClient,
        token: &'a Secret,
        policy: ConflictPolicy,
        batch_size: u32,
    ) -> Self {
        Self {
            store,
            api,
            token,
            policy,
            batch_size,
            full_text: HashSet::new(),
            deferred: HashSet::new(),
            deferred_ops: 0,
        }
    }

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
    pub(super) async fn push_all(&mut self, report: &mut SyncReport) -> Result<()> {
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
