//! Pushing the queue within one round: in order, in batches of at most one op per note,
//! halving a batch the server finds too large, and leaving the notes of a full account
//! queued while the rest goes on.

use std::collections::HashSet;

use quire_core::patch::Patch;
use quire_core::protocol::{NoteVersion, PushOp, PushRequest, PushResponse, PushResult};
use quire_core::settings::ConflictPolicy;
use quire_core::{NoteFields, NoteId, OpId, OpKind, OpPayload, TextHash, Version};

use super::opened;
use super::report::SyncReport;
use crate::api::{ApiClient, EncodedPush};
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::store::{PushOutcome, QueuedOp, RemoteOutcome};
use crate::{clock, Error, Result, Store};

/// Note text one batch carries at most (a single larger note still goes, alone): well
/// inside the body a server takes by default (32 MiB), so large notes make smaller
/// batches instead of a refusal and a resend.
const BATCH_TEXT_BYTES: usize = 8 * 1024 * 1024;

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
    // An update that leaves its base as it is goes whole: it is a note sent again sealed
    // (an account upgraded to end-to-end encryption), which the server takes only whole.
    if let (OpPayload::Update(fields), Some(base), false, true) = (
        &op.payload,
        base,
        lww,
        patch_allowed && op.payload.fields() != base,
    ) {
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
        sealed: None,
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
    sealing: Option<&'a Sealing>,
    /// Ops the server could not patch: they go again with their whole text.
    full_text: HashSet<OpId>,
    /// Notes whose op the server deferred (the account is full), and how many queued ops
    /// they hold: they wait for the next round, and the rest of the queue goes on.
    deferred: HashSet<NoteId>,
    deferred_ops: u64,
    /// The versions the server gave this round's ops, now held here: the pull that
    /// follows need not check that the store has them (see `caught_up_instead`).
    applied: HashSet<NoteVersion>,
}

impl<'a> Pusher<'a> {
    pub(super) fn new(
        store: &'a Store,
        (api, token): (&'a ApiClient, &'a Secret),
        policy: ConflictPolicy,
        batch_size: u32,
        sealing: Option<&'a Sealing>,
    ) -> Self {
        Self {
            store,
            api,
            token,
            policy,
            batch_size,
            sealing,
            full_text: HashSet::new(),
            deferred: HashSet::new(),
            deferred_ops: 0,
            applied: HashSet::new(),
        }
    }

    /// Marks the batch as sent and makes its request body: its ops as the server gets them,
    /// each with the base it was made on (read for the whole batch at once), sealed for an
    /// end-to-end account. The sealing and encoding, a batch's heaviest work here, run on a
    /// blocking thread, so that the batch on the wire meanwhile keeps moving.
    async fn prepare(&self, batch: Vec<QueuedOp>) -> Result<Prepared> {
        let ids: Vec<_> = batch.iter().map(|q| q.op.op_id).collect();
        self.store.mark_sent(&ids, clock::now()).await?;
        let wanted: Vec<(NoteId, Version)> = batch
            .iter()
            .filter_map(|queued| Some((queued.op.note_id, queued.op.base_version?)))
            .collect();
        let bases = self.store.bases_at(&wanted).await?;
        let patch_allowed: Vec<bool> = batch
            .iter()
            .map(|queued| !self.full_text.contains(&queued.op.op_id))
            .collect();
        let (api, sealing) = (self.api.clone(), self.sealing.cloned());
        tokio::task::spawn_blocking(move || {
            let ops = batch
                .iter()
                .zip(patch_allowed)
                .map(|(queued, patch_allowed)| {
                    let base = queued
                        .op
                        .base_version
                        .and_then(|_| bases.get(&queued.op.note_id));
                    let mut op = to_push_op(queued, base, patch_allowed);
                    if let Some(sealing) = &sealing {
                        sealing.seal(&mut op, base)?;
                    }
                    Ok(op)
                })
                .collect::<Result<Vec<_>>>()?;
            let body = api.encode_push(&PushRequest { ops })?;
            Ok(Prepared { batch, body })
        })
        .await?
    }

    /// Fetches the notes a conflict answer left out (the server sends each note's text once
    /// per response, and only so much text in all; a sealed answer carries none). A sealed
    /// note that does not open stays out: its op waits, and the note is kept apart.
    async fn complete(&self, results: &mut [PushResult], report: &mut SyncReport) -> Result<()> {
        for result in results {
            if let PushResult::Conflict {
                note_id,
                current: current @ None,
                ..
            } = result
            {
                *current = match self.sealing {
                    None => Some(self.api.note(self.token, *note_id).await?),
                    Some(sealing) => {
                        let remote = (self.api, self.token);
                        let opened = opened::whole(self.store, remote, sealing, *note_id).await?;
                        if opened.is_none() {
                            report.unreadable += 1;
                        }
                        opened
                    }
                };
            }
        }
        Ok(())
    }

    /// Sends one batch and applies its results; whether anything moved.
    async fn send(&mut self, batch: &[QueuedOp], report: &mut SyncReport) -> Result<bool> {
        let prepared = self.prepare(batch.to_vec()).await?;
        report.batches += 1;
        let answer = self.api.push_encoded(self.token, prepared.body).await;
        self.finish(&prepared.batch, answer, report).await
    }

    /// Applies the server's answer to a sent batch; whether anything moved.
    async fn finish(
        &mut self,
        batch: &[QueuedOp],
        answer: Result<PushResponse>,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let mut response = match answer {
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
        self.complete(&mut response.results, report).await?;
        // The batch's results are applied and acked in one local transaction.
        let outcomes = self
            .store
            .apply_push_results(batch, &response.results, self.policy)
            .await?;
        let mut progress = false;
        for ((queued, result), outcome) in batch.iter().zip(&response.results).zip(outcomes) {
            if let (PushOutcome::Applied, Some(version)) = (outcome, result.applied_version()) {
                self.applied.insert(NoteVersion {
                    id: queued.op.note_id,
                    version,
                });
            }
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

    /// The next batch: the oldest pushable op of each note, leaving out notes whose ops are
    /// `busy` on the wire or deferred, up to the batch size and [`BATCH_TEXT_BYTES`] of text
    /// (at least one op). Empty when nothing can go now.
    async fn next_batch(&self, busy: &HashSet<NoteId>) -> Result<Vec<QueuedOp>> {
        // One op per note per batch: a later op of the same note could not know the
        // version the earlier one will make; it goes in a later batch, rebased on it.
        let mut notes = HashSet::new();
        let window = u64::from(self.batch_size) + self.deferred_ops;
        let mut text_bytes = 0usize;
        let mut batch = Vec::new();
        for queued in self
            .store
            .pushable_ops(
                u32::try_from(window).unwrap_or(u32::MAX),
                BATCH_TEXT_BYTES,
                busy,
            )
            .await?
        {
            let note = queued.op.note_id;
            if self.deferred.contains(&note) || !notes.insert(note) {
                continue;
            }
            let size = queued
                .op
                .payload
                .fields()
                .map_or(0, |f| f.title.len() + f.body.len());
            if !batch.is_empty() && text_bytes.saturating_add(size) > BATCH_TEXT_BYTES {
                break;
            }
            text_bytes += size;
            batch.push(queued);
            if batch.len() >= self.batch_size as usize {
                break;
            }
        }
        Ok(batch)
    }

    /// The versions this round's pushes made, which the store holds.
    pub(super) fn applied(&self) -> &HashSet<NoteVersion> {
        &self.applied
    }

    /// Pushes until the queue is empty, or until a batch makes no progress (then the rest
    /// waits for the next round).
    ///
    /// Two batches overlap: while one is on the wire and the server writes it, this device
    /// applies the answer to the one before and prepares the one after (read, marked sent,
    /// encoded). The batch prepared leaves out the notes of the one on the wire, so a
    /// note's ops still go one at a time, each on the version the one before made.
    pub(super) async fn push_all(&mut self, report: &mut SyncReport) -> Result<()> {
        // Each pass either empties a batch from the queue or rebases it on a newer version;
        // a note that keeps changing on the server cannot hold the round forever. Enough
        // passes for the whole queue, plus room for rebases.
        let queued = self.store.pending_count().await?;
        let passes = queued / u64::from(self.batch_size.max(1)) + 1000;
        let first = self.next_batch(&HashSet::new()).await?;
        let mut ready = match first.is_empty() {
            true => None,
            false => Some(self.prepare(first).await?),
        };
        // The batch sent last time round, and the server's answer to it.
        let mut answered: Option<(Vec<QueuedOp>, Result<PushResponse>)> = None;
        for _ in 0..passes {
            if ready.is_none() && answered.is_none() {
                return Ok(());
            }
            let busy: HashSet<NoteId> = ready
                .iter()
                .flat_map(|p| p.batch.iter().map(|q| q.op.note_id))
                .collect();
            let (api, token) = (self.api, self.token);
            let sending = ready.take().map(|prepared| {
                report.batches += 1;
                let Prepared { batch, body } = prepared;
                async move { (batch, api.push_encoded(token, body).await) }
            });
            let wire = async {
                match sending {
                    Some(sending) => Some(sending.await),
                    None => None,
                }
            };
            let here = async {
                let moved = match answered.take() {
                    Some((batch, answer)) => self.finish(&batch, answer, report).await?,
                    None => true,
                };
                if !moved {
                    return Ok((false, None));
                }
                let next = self.next_batch(&busy).await?;
                let next = match next.is_empty() {
                    true => None,
                    false => Some(self.prepare(next).await?),
                };
                Ok::<_, Error>((true, next))
            };
            let (sent, here) = tokio::join!(wire, here);
            let (moved, next) = here?;
            answered = sent;
            ready = next;
            if !moved {
                // The batch on the wire meanwhile still has its answer applied.
                if let Some((batch, answer)) = answered.take() {
                    self.finish(&batch, answer, report).await?;
                }
                return Ok(());
            }
        }
        Ok(())
    }
}

/// A batch marked sent, with its request body.
struct Prepared {
    batch: Vec<QueuedOp>,
    body: EncodedPush,
}
