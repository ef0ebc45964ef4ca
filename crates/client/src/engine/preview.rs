//! What the next round would do, found without changing anything anywhere (`quire sync
//! --dry-run`): the queue as it would go, note by note, and how many notes the server has
//! for this device. The server is only asked to count (`GET /v1/sync/changes/count`).

use quire_core::{NoteId, OpKind};
use serde::Serialize;

use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::{Result, Store};

/// One queued op as it would go.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpPreview {
    pub kind: OpKind,
    /// Bytes of title and body it carries (a patch goes instead when smaller).
    pub text_bytes: u64,
}

/// A note's queued ops, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotePreview {
    pub note_id: NoteId,
    pub title: String,
    pub ops: Vec<OpPreview>,
    /// Waits for a decision in the conflict center: not sent by the next round.
    pub held: bool,
}

/// What the next round would push and pull.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPreview {
    /// Notes with queued changes, in the order their first change would go.
    pub notes: Vec<NotePreview>,
    /// Ops the round would send, and the bytes of text they carry.
    pub ops: u64,
    pub text_bytes: u64,
    /// Ops waiting on a conflict: not sent.
    pub held: u64,
    /// Notes the round would delete forever (told to the server, or emptied from the trash).
    pub deletes_forever: u64,
    /// Notes changed on the server by other devices that the round would bring (counted up
    /// to 10,000; `more` when there are more).
    pub to_pull: u64,
    pub more_to_pull: bool,
}

pub async fn preview(store: &Store, api: &ApiClient, token: &Secret) -> Result<SyncPreview> {
    let mut notes: Vec<NotePreview> = Vec::new();
    let mut at: std::collections::HashMap<NoteId, usize> = std::collections::HashMap::new();
    let (mut ops, mut text_bytes, mut held) = (0, 0, 0);
    for queued in store.queue_preview().await? {
        let index = *at.entry(queued.note_id).or_insert_with(|| {
            notes.push(NotePreview {
                note_id: queued.note_id,
                title: queued.title.clone(),
                ops: Vec::new(),
                held: queued.held,
            });
            notes.len() - 1
        });
        notes[index].ops.push(OpPreview {
            kind: queued.kind,
            text_bytes: queued.text_bytes,
        });
        if queued.held {
            held += 1;
        } else {
            ops += 1;
            text_bytes += queued.text_bytes;
        }
    }
    let emptied = super::purges::trash_to_empty(store).await?.len();
    let deletes_forever = (store.purges_to_send().await?.len() + emptied) as u64;
    let count = api
        .change_count(token, store.pull_cursor().await?, store.device_id().await?)
        .await?;
    Ok(SyncPreview {
        notes,
        ops,
        text_bytes,
        held,
        deletes_forever,
        to_pull: count.notes,
        more_to_pull: count.more,
    })
}
