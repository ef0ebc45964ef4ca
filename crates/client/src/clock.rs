//! Wall-clock time and fresh ids.

use std::time::{SystemTime, UNIX_EPOCH};

use quire_core::{Millis, NoteId, OpId};
use uuid::Uuid;

pub fn now() -> Millis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
}

pub fn new_note_id() -> NoteId {
    NoteId(Uuid::now_v7())
}

pub fn new_op_id() -> OpId {
    OpId(Uuid::now_v7())
}
