//! A device of an end-to-end account as the server tests need one: it seals ops with a
//! fixed data key and opens the chains the server hands back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use quire_core::crypto::chain::{open_chain, seal_op, seal_purge};
use quire_core::crypto::DataKey;
use quire_core::patch::Patch;
use quire_core::protocol::{NoteState, PurgeRequest, PushOp, SealedBytes};
use quire_core::{DeviceId, NoteFields, NoteId, OpId, OpKind, Version};
use uuid::Uuid;

use super::TestServer;

/// The most text a test opens.
pub const MAX: usize = 1 << 24;

pub struct Device {
    pub id: DeviceId,
    pub key: DataKey,
    pub account: String,
}

impl Device {
    pub async fn of(server: &TestServer, username: &str, n: u128) -> Self {
        let account: String = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
        Self {
            id: DeviceId(Uuid::from_u128(n)),
            key: DataKey::from_bytes([4; 32]),
            account,
        }
    }

    pub fn op(&self, note: NoteId, kind: OpKind, base: Option<u64>) -> PushOp {
        PushOp {
            op_id: OpId(Uuid::now_v7()),
            note_id: note,
            kind,
            title: None,
            body: None,
            patch: None,
            base_version: base.map(Version),
            base_hash: None,
            device_id: self.id,
            clock: 1,
            lww: false,
            sealed: None,
        }
    }

    pub fn seal(&self, mut op: PushOp, base: Option<&NoteFields>) -> PushOp {
        seal_op(&self.key, &self.account, &mut op, base, rand_nonce()).unwrap();
        op
    }

    pub fn create(&self, note: NoteId, fields: &NoteFields) -> PushOp {
        let mut op = self.op(note, OpKind::Create, None);
        op.title = Some(fields.title.clone());
        op.body = Some(fields.body.clone());
        self.seal(op, None)
    }

    pub fn patch(&self, note: NoteId, base: (u64, &NoteFields), next: &NoteFields) -> PushOp {
        let mut op = self.op(note, OpKind::Update, Some(base.0));
        op.title = Some(next.title.clone());
        op.patch = Some(Patch::between(&base.1.body, &next.body));
        self.seal(op, Some(base.1))
    }

    pub fn snapshot(&self, note: NoteId, base: (u64, &NoteFields), next: &NoteFields) -> PushOp {
        let mut op = self.op(note, OpKind::Update, Some(base.0));
        op.title = Some(next.title.clone());
        op.body = Some(next.body.clone());
        self.seal(op, Some(base.1))
    }

    pub fn delete(&self, note: NoteId, base: (u64, &NoteFields)) -> PushOp {
        let op = self.op(note, OpKind::Delete, Some(base.0));
        self.seal(op, Some(base.1))
    }

    /// The body of `DELETE /v1/notes/{id}` for a purge made on `seen`.
    pub fn purge_request(&self, note: NoteId, seen: Option<u64>) -> PurgeRequest {
        let op_id = OpId(Uuid::now_v7());
        let marker = seal_purge(
            &self.key,
            &self.account,
            note,
            op_id,
            seen.map(Version),
            rand_nonce(),
        )
        .unwrap();
        PurgeRequest {
            device_id: self.id,
            op_id,
            marker: SealedBytes(marker),
        }
    }

    pub fn open(&self, note: &NoteState, base: Option<(Version, &NoteFields)>) -> NoteFields {
        let entries = note.sealed.as_ref().expect("a sealed note");
        let end = (note.version, note.deleted);
        open_chain(&self.key, &self.account, note.id, entries, base, end, MAX)
            .unwrap()
            .fields
    }
}

fn rand_nonce() -> [u8; 24] {
    rand::random()
}
