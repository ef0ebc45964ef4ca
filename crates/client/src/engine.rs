//! One sync round: push the queue in order, in batches, then pull the account's changes
//! from the cursor until nothing more waits, then push whatever merging queued.
//!
//! An op leaves the queue only when the server confirmed it (applied, or a replay of an
//! applied op) or refused it (then it is set aside, visible, never dropped).

use quire_core::protocol::{PushOp, PushRequest};
use quire_core::settings::{ConflictPolicy, SettingKey};
use quire_core::{OpKind, OpPayload};
use serde::Serialize;

use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::store::{PushOutcome, QueuedOp, RemoteOutcome};
use crate::{clock, Result, Store};

/// What a round did, for `quire sync` and the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Ops the server applied.
    pub pushed: u64,
    /// Changes from the server that changed a note here.
    pub pulled: u64,
    /// Notes changed on both sides whose changes merged cleanly.
    pub merged: u64,
    /// Notes changed on both sides that now wait for a decision.
    pub conflicts: u64,
    /// Ops the server refused, now in the "needs attention" list.
    pub set_aside: u64,
    /// Ops still queued after the round (0 when fully pushed).
    pub pending: u64,
}

impl SyncReport {
    fn count(&mut self, outcome: RemoteOutcome) {
        match outcome {
            RemoteOutcome::Updated | RemoteOutcome::DeleteUndone => self.pulled += 1,
            RemoteOutcome::Merged => self.merged += 1,
            RemoteOutcome::Conflict => self.conflicts += 1,
            // Nothing new here, or a local change that goes out again (counted when applied).
            RemoteOutcome::Unchanged | RemoteOutcome::Overwrite | RemoteOutcome::Revived => {}
        }
    }
}

fn to_push_op(queued: &QueuedOp) -> PushOp {
    let op = &queued.op;
    let (title, body) = match &op.payload {
        OpPayload::Create(f) | OpPayload::Update(f) => {
            (Some(f.title.clone()), Some(f.body.clone()))
        }
        OpPayload::Delete => (None, None),
    };
    PushOp {
        op_id: op.op_id,
        note_id: op.note_id,
        kind: op.payload.kind(),
        title,
        body,
        patch: None,
        base_version: op.base_version,
        device_id: op.device_id,
        clock: op.clock,
        lww: queued.lww && op.payload.kind() != OpKind::Create,
    }
}

async fn setting<T: std::str::FromStr>(store: &Store, key: SettingKey, fallback: T) -> Result<T> {
    Ok(store
        .setting(key)
        .await?
        .and_then(|value| value.parse().ok())
        .unwrap_or(fallback))
}

/// Pushes until the queue is empty, or until a pass makes no progress (then the rest waits
/// for the next round).
async fn push_all(
    store: &Store,
    api: &ApiClient,
    token: &Secret,
    policy: ConflictPolicy,
    report: &mut SyncReport,
) -> Result<()> {
    let batch_size: u32 = setting(store, SettingKey::BatchSize, 100).await?;
    // Each pass either empties a batch from the queue or rebases it on a newer version; a
    // note that keeps changing on the server cannot hold the round forever.
    for _ in 0..1000 {
        // One op per note per batch: a later op of the same note could not know the version
        // the earlier one will make; it goes in the next pass, rebased on that version.
        let mut notes = std::collections::HashSet::new();
        let batch: Vec<QueuedOp> = store
            .pending_ops(batch_size)
            .await?
            .into_iter()
            .filter(|queued| notes.insert(queued.op.note_id))
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<_> = batch.iter().map(|q| q.op.op_id).collect();
        store.mark_sent(&ids, clock::now()).await?;
        let request = PushRequest {
            ops: batch.iter().map(to_push_op).collect(),
        };
        let response = api.push(token, &request).await?;
        let mut progress = false;
        for (queued, result) in batch.iter().zip(&response.results) {
            match store.apply_push_result(queued, result, policy).await? {
                PushOutcome::Applied => {
                    report.pushed += 1;
                    progress = true;
                }
                PushOutcome::SetAside => {
                    report.set_aside += 1;
                    progress = true;
                }
                PushOutcome::Conflict(outcome) => {
                    report.count(outcome);
                    progress = true;
                }
                PushOutcome::Retry => {}
            }
        }
        if !progress {
            return Ok(());
        }
    }
    Ok(())
}

/// Runs one full round against the signed-in server.
pub async fn sync_once(store: &Store, api: &ApiClient, token: &Secret) -> Result<SyncReport> {
    let policy: ConflictPolicy =
        setting(store, SettingKey::ConflictPolicy, ConflictPolicy::Merge).await?;
    let mut report = SyncReport::default();
    push_all(store, api, token, policy, &mut report).await?;

    let mut since = store.pull_cursor().await?;
    loop {
        let page = api.pull(token, since, 500).await?;
        for change in &page.changes {
            let outcome = store.apply_remote(&change.note, policy).await?;
            report.count(outcome);
        }
        since = page.next;
        store.set_pull_cursor(since).await?;
        if !page.more {
            break;
        }
    }

    // Merges and revived notes queued ops of their own.
    push_all(store, api, token, policy, &mut report).await?;
    report.pending = store.pending_count().await?;
    store.record_sync(clock::now()).await?;
    tracing::info!(?report, "sync round done");
    Ok(report)
}
