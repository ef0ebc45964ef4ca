//! The judgement of a pushed batch of an end-to-end account (docs/e2e-design.md, "Server
//! storage and push"): the same answers as [`crate::push_judgement`] (applied, duplicate,
//! conflict, deferred, rejected; last write wins), made without any text. A note is a chain
//! of sealed entries: a snapshot, then the patches (and deletes) made on it, each bound to
//! the version before it. The server records entries; it never opens or applies one.
//!
//! A base is checked by its version and by the keyed hash of its text (`text_mac`, made
//! by the devices with the data key, so it tells the server nothing of the text): an op made
//! on another text of the same version (a restored server, a damaged base) is a conflict,
//! as in the clear. The device that applies an entry checks the plain hash sealed in it too. A conflict answer carries no text (the
//! device fetches the note's chain), so judging never reads a stored value, and what a push
//! may make the server hold is what it sent, within the account's quota.

use std::collections::HashMap;

use crate::ids::{DeviceId, NoteId, OpId, Version};
use crate::note::Millis;
use crate::op::OpKind;
use crate::protocol::{PushOp, PushResult, SealedEntry, SealedForm, SealedText};
use crate::push_judgement::{AccountCounters, ROW_OVERHEAD};
use crate::text_hash::TextHash;

/// What one sealed push may make the server hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedLimits {
    /// Bytes of one sealed value: a note at its size limit, compressed or not, sealed.
    pub max_sealed_bytes: usize,
    /// Bytes of notes and history one account may hold.
    pub max_account_bytes: u64,
}

/// A note's chain as the store has it, without its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredChain {
    pub version: Version,
    pub deleted: bool,
    pub updated_at: Millis,
    /// The version of the chain's snapshot: entries before it are not part of the note.
    /// 0 for a note stored in the clear (an account made before end-to-end encryption,
    /// being upgraded): its first sealed change is a snapshot or a delete, which starts
    /// its chain.
    pub snapshot_version: Version,
    /// Bytes of the chain's entries from its snapshot on, each charged with
    /// [`ROW_OVERHEAD`]: what a new snapshot frees.
    pub chain_bytes: i64,
    /// The device of the latest entry, if known.
    pub device: Option<DeviceId>,
    /// The keyed hash of the note's current text, when known.
    pub mac: Option<TextHash>,
    /// Deleted forever: its text and history are gone, and it takes no more ops.
    pub purged: bool,
}

/// A new entry of a note's chain and where it goes in the account's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub entry: SealedEntry,
    pub change_seq: i64,
    pub device: DeviceId,
    /// When the server took it: history lists it, and retention prunes by it.
    pub created_at: Millis,
}

/// A note as the batch left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainWrite {
    pub id: NoteId,
    pub version: Version,
    pub deleted: bool,
    pub updated_at: Millis,
    /// The change-log place and device of the batch's last change to the note.
    pub change_seq: i64,
    pub device: DeviceId,
    pub snapshot_version: Version,
    /// Bytes of the chain from its snapshot on, each entry charged [`ROW_OVERHEAD`].
    pub chain_bytes: i64,
    /// The keyed hash of the text the note now holds.
    pub mac: Option<TextHash>,
    /// Entries to add, in version order.
    pub entries: Vec<NewEntry>,
    /// The note was stored in the clear (its account was upgraded to end-to-end
    /// encryption) and this batch sealed it: its plain text and plain history go.
    pub left_the_clear: bool,
}

/// What a judged batch changes, for the store to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedWrites {
    pub change_seq: i64,
    /// What the batch added to the account's bytes (negative when it freed room).
    pub charged_bytes: i64,
    pub applied: Vec<(OpId, PushResult)>,
    /// Every note an op changed, in id order.
    pub notes: Vec<ChainWrite>,
}

/// A sealed batch being judged.
#[derive(Debug)]
pub struct SealedJudgement {
    limits: SealedLimits,
    replays: HashMap<OpId, PushResult>,
    notes: HashMap<NoteId, Slot>,
    change_seq: i64,
    stored_bytes: i64,
    charged: i64,
    applied: Vec<(OpId, PushResult)>,
}

#[derive(Debug)]
struct Slot {
    stored: StoredChain,
    /// Entries this batch added, and the place and device of its last change.
    entries: Vec<NewEntry>,
    changed: Option<(i64, DeviceId)>,
    /// How the note was stored when the batch began.
    began: Began,
}

/// How a note was stored when a batch began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Began {
    /// Not at all: the batch creates it.
    Unborn,
    /// In the clear (an upgraded account's): it has no stored entries.
    Clear,
    /// As a chain of stored entries, which a snapshot starts over (the entries below it
    /// stay, as the note's history).
    Sealed,
}

/// The most a sealed delete may weigh and still be taken by a full account: a delete
/// record is a few dozen bytes sealed (past the quota, each live note may add this much and
/// its row once).
const MAX_TRASH_ENTRY_BYTES: usize = 128;
/// The most any sealed delete may weigh: it carries no text, so a larger one is not a
/// delete (and stacked on a tombstone, would grow a chain no pull or history read should
/// have to hold).
const MAX_DELETE_BYTES: usize = 1024;

/// Why an op to a note deleted forever is refused.
pub const PURGED: &str = "this note was deleted forever (on this or another device)";

/// Why an op of an end-to-end account is refused as it is.
const CLEAR_TEXT: &str = "this account is end-to-end encrypted: an op carries its text sealed, \
                          and no title, body or patch in the clear";

impl SealedJudgement {
    pub fn new(
        limits: SealedLimits,
        counters: AccountCounters,
        replays: HashMap<OpId, PushResult>,
        notes: HashMap<NoteId, StoredChain>,
    ) -> Self {
        Self {
            limits,
            replays,
            notes: notes
                .into_iter()
                .map(|(id, stored)| {
                    let slot = Slot {
                        began: match stored.snapshot_version.0 {
                            0 => Began::Clear,
                            _ => Began::Sealed,
                        },
                        stored,
                        entries: Vec::new(),
                        changed: None,
                    };
                    (id, slot)
                })
                .collect(),
            change_seq: counters.change_seq,
            stored_bytes: counters.stored_bytes,
            charged: 0,
            applied: Vec::new(),
        }
    }

    /// Judges one op (received at `server_time`) and applies its outcome to the batch.
    pub fn judge(&mut self, op: &PushOp, server_time: Millis) -> PushResult {
        if let Some(original) = self.replays.get(&op.op_id) {
            return PushResult::Duplicate {
                op_id: op.op_id,
                original: Box::new(original.clone()),
            };
        }
        match self.check(op) {
            Ok(()) => {}
            Err(Refusal::Rejected(reason)) => {
                return PushResult::Rejected {
                    op_id: op.op_id,
                    reason,
                }
            }
            Err(Refusal::NeedFullText(current_version)) => {
                return PushResult::NeedFullText {
                    op_id: op.op_id,
                    current_version,
                }
            }
            // No text goes with it: the device fetches the note's chain.
            Err(Refusal::Conflict(version)) => {
                return PushResult::Conflict {
                    op_id: op.op_id,
                    note_id: op.note_id,
                    version,
                    current: None,
                }
            }
        }
        let Some(sealed) = &op.sealed else {
            return rejected(op, CLEAR_TEXT);
        };
        let size = sealed_size(sealed);
        let slot = self.notes.get(&op.note_id);
        // A note stored in the clear leaves it with its first sealed change (a snapshot, or
        // a delete that ends it): its plain text goes, whatever the op.
        let in_the_clear = slot.is_some_and(|slot| slot.stored.snapshot_version.0 == 0);
        // A snapshot frees nothing: the chain it starts over stays as the note's history
        // (pruned by age and size in the background). Only plain text leaving the clear
        // is freed.
        let freed = match slot {
            Some(slot) if in_the_clear => slot.stored.chain_bytes,
            _ => 0,
        };
        let charge = size - freed;
        let max = i64::try_from(self.limits.max_account_bytes).unwrap_or(i64::MAX);
        // A full account can still move a live note to the trash (from where it can be
        // deleted forever, which frees room): a small entry, once per live note, so what
        // it adds past the quota stays bounded by the notes it already holds.
        let moves_to_trash = sealed.form == SealedForm::Delete
            && sealed.data.len() <= MAX_TRASH_ENTRY_BYTES
            && slot.is_some_and(|slot| !slot.stored.deleted);
        if charge > 0
            && !moves_to_trash
            && self.stored_bytes.saturating_add(self.charged + charge) > max
        {
            return PushResult::Deferred {
                op_id: op.op_id,
                reason: format!(
                    "this account holds {} of its {max} bytes: delete notes forever (from the \
                     trash) to make room, or wait for old history to be pruned",
                    self.stored_bytes + self.charged
                ),
            };
        }
        self.charged += charge;
        self.change_seq += 1;
        let slot = self.notes.entry(op.note_id).or_insert_with(Slot::unborn);
        let version = Version(slot.stored.version.0 + 1);
        let entry = SealedEntry {
            version,
            op_id: op.op_id,
            base_version: op.base_version,
            form: sealed.form,
            data: sealed.data.clone(),
        };
        if in_the_clear {
            // The chain starts here, whatever the form (a patch never gets this far).
            slot.stored.snapshot_version = version;
            slot.stored.chain_bytes = 0;
        }
        match sealed.form {
            SealedForm::Snapshot => {
                slot.stored.snapshot_version = version;
                slot.stored.chain_bytes = 0;
                slot.stored.deleted = false;
            }
            SealedForm::Patch => slot.stored.deleted = false,
            // (A purge is never pushed: `check` refuses it.)
            SealedForm::Delete | SealedForm::Purge => slot.stored.deleted = true,
        }
        slot.stored.chain_bytes += size;
        if sealed.form != SealedForm::Delete {
            slot.stored.mac = sealed.text_mac;
        }
        slot.stored.version = version;
        slot.stored.updated_at = server_time;
        slot.changed = Some((self.change_seq, op.device_id));
        slot.entries.push(NewEntry {
            entry,
            change_seq: self.change_seq,
            device: op.device_id,
            created_at: server_time,
        });
        let result = PushResult::Applied {
            op_id: op.op_id,
            version,
            server_time,
        };
        self.replays.insert(op.op_id, result.clone());
        self.applied.push((op.op_id, result.clone()));
        result
    }

    /// Whether the op can be applied as it is: its shape, its size and its base. A base
    /// that is not the note's current version is a conflict, not an error.
    /// The most one note's chain may weigh: two sealed notes at their size limit (a
    /// device writes a new snapshot long before, once its patches outweigh the note).
    fn max_chain_bytes(&self) -> i64 {
        i64::try_from(self.limits.max_sealed_bytes)
            .unwrap_or(i64::MAX / 4)
            .saturating_add(ROW_OVERHEAD)
            .saturating_mul(2)
    }

    fn check(&self, op: &PushOp) -> Result<(), Refusal> {
        let rejected = |reason: &str| Err(Refusal::Rejected(reason.to_owned()));
        let Some(sealed) = &op.sealed else {
            return rejected(CLEAR_TEXT);
        };
        if op.title.is_some() || op.body.is_some() || op.patch.is_some() {
            return rejected(CLEAR_TEXT);
        }
        if sealed.data.len() > self.limits.max_sealed_bytes {
            return Err(Refusal::Rejected(format!(
                "the sealed text is over {} bytes",
                self.limits.max_sealed_bytes
            )));
        }
        match (op.kind, sealed.form, self.notes.get(&op.note_id)) {
            (_, SealedForm::Purge, _) => {
                rejected("a note is deleted forever with DELETE /v1/notes/{id}, not pushed")
            }
            (OpKind::Create, SealedForm::Snapshot, None) => Ok(()),
            (OpKind::Create, SealedForm::Snapshot, Some(_)) => {
                rejected("a note with this id already exists")
            }
            (OpKind::Create, ..) => rejected("a create carries a sealed snapshot"),
            (OpKind::Update | OpKind::Delete, _, None) => {
                rejected("no note with this id in this account")
            }
            (OpKind::Update | OpKind::Delete, _, Some(slot)) if slot.stored.purged => {
                rejected(PURGED)
            }
            (OpKind::Update, SealedForm::Delete, _) => {
                rejected("an update carries a sealed snapshot or patch")
            }
            (OpKind::Delete, SealedForm::Snapshot | SealedForm::Patch, _) => {
                rejected("a delete carries a sealed delete")
            }
            (_, SealedForm::Delete, _) if sealed.data.len() > MAX_DELETE_BYTES => {
                rejected("a sealed delete carries no text: it is a few dozen bytes")
            }
            // Stored in the clear (its account was upgraded): a patch has nothing sealed
            // to apply to, so the device sends the whole text, sealed, instead.
            (_, SealedForm::Patch, Some(slot)) if slot.stored.snapshot_version.0 == 0 => {
                Err(Refusal::NeedFullText(slot.stored.version))
            }
            (_, SealedForm::Patch, _) if op.lww => {
                rejected("a last-write-wins change carries the whole note (a sealed snapshot)")
            }
            (_, _, Some(slot))
                if !op.lww
                    && (op.base_version != Some(slot.stored.version)
                        || (slot.stored.mac.is_some() && op.base_hash != slot.stored.mac)) =>
            {
                Err(Refusal::Conflict(slot.stored.version))
            }
            // A chain is not let grow past two notes at their limit: the device sends the
            // whole note instead, which starts a new one. A note's pull (sent whole, alone
            // if need be) and what the server holds for it stay bounded.
            (_, SealedForm::Patch, Some(slot))
                if slot.stored.chain_bytes.saturating_add(sealed_size(sealed))
                    > self.max_chain_bytes() =>
            {
                Err(Refusal::NeedFullText(slot.stored.version))
            }
            // Deletes stacked on a tombstone past the same bound: nothing but a way to
            // grow one chain.
            (_, SealedForm::Delete, Some(slot))
                if slot.stored.chain_bytes.saturating_add(sealed_size(sealed))
                    > self.max_chain_bytes() =>
            {
                rejected("this note is deleted already, many times over")
            }
            _ => Ok(()),
        }
    }

    /// What the batch changes, notes in id order.
    pub fn into_writes(self) -> SealedWrites {
        let mut notes: Vec<ChainWrite> = self
            .notes
            .into_iter()
            .filter_map(|(id, slot)| {
                let (change_seq, device) = slot.changed?;
                Some(ChainWrite {
                    id,
                    version: slot.stored.version,
                    deleted: slot.stored.deleted,
                    updated_at: slot.stored.updated_at,
                    change_seq,
                    device,
                    snapshot_version: slot.stored.snapshot_version,
                    left_the_clear: slot.began == Began::Clear,
                    chain_bytes: slot.stored.chain_bytes,
                    mac: slot.stored.mac,
                    entries: slot.entries,
                })
            })
            .collect();
        notes.sort_unstable_by_key(|note| note.id);
        SealedWrites {
            change_seq: self.change_seq,
            charged_bytes: self.charged,
            applied: self.applied,
            notes,
        }
    }
}

/// Why an op is not applied.
enum Refusal {
    Rejected(String),
    /// Its base is not the note's current version (this one).
    Conflict(Version),
    /// A patch for a note with nothing sealed to apply it to (at this version).
    NeedFullText(Version),
}

fn rejected(op: &PushOp, reason: &str) -> PushResult {
    PushResult::Rejected {
        op_id: op.op_id,
        reason: reason.to_owned(),
    }
}

/// What a sealed value weighs as stored: its bytes and its row.
fn sealed_size(sealed: &SealedText) -> i64 {
    i64::try_from(sealed.data.len()).unwrap_or(i64::MAX) + ROW_OVERHEAD
}

impl Slot {
    fn unborn() -> Self {
        Self {
            stored: StoredChain {
                version: Version(0),
                deleted: false,
                updated_at: Millis(0),
                snapshot_version: Version(0),
                chain_bytes: 0,
                device: None,
                mac: None,
                purged: false,
            },
            entries: Vec::new(),
            changed: None,
            began: Began::Unborn,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use uuid::Uuid;

    use super::*;
    use crate::protocol::{SealedBytes, SealedText};

    const LIMITS: SealedLimits = SealedLimits {
        max_sealed_bytes: 1000,
        max_account_bytes: 10_000,
    };
    const NOW: Millis = Millis(1_000);

    fn device(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(n))
    }

    fn note(n: u128) -> NoteId {
        NoteId(Uuid::from_u128(n))
    }

    fn op(op_id: u128, note_id: u128, kind: OpKind, form: SealedForm, base: Option<u64>) -> PushOp {
        PushOp {
            op_id: OpId(Uuid::from_u128(op_id)),
            note_id: note(note_id),
            kind,
            title: None,
            body: None,
            patch: None,
            base_version: base.map(Version),
            base_hash: None,
            device_id: device(1),
            clock: u64::try_from(op_id).unwrap(),
            lww: false,
            sealed: Some(SealedText {
                form,
                data: SealedBytes(vec![7; 100]),
                text_mac: None,
            }),
        }
    }

    fn stored(version: u64, chain_bytes: i64) -> StoredChain {
        StoredChain {
            version: Version(version),
            deleted: false,
            updated_at: Millis(1),
            snapshot_version: Version(1),
            chain_bytes,
            device: Some(device(2)),
            mac: None,
            purged: false,
        }
    }

    fn batch(notes: &[(u128, StoredChain)], stored_bytes: i64) -> SealedJudgement {
        SealedJudgement::new(
            LIMITS,
            AccountCounters {
                change_seq: 10,
                stored_bytes,
            },
            HashMap::new(),
            notes
                .iter()
                .map(|(id, chain)| (note(*id), *chain))
                .collect(),
        )
    }

    fn status(result: &PushResult) -> &'static str {
        match result {
            PushResult::Applied { .. } => "applied",
            PushResult::Duplicate { .. } => "duplicate",
            PushResult::Conflict { .. } => "conflict",
            PushResult::NeedFullText { .. } => "need_full_text",
            PushResult::Deferred { .. } => "deferred",
            PushResult::Rejected { .. } => "rejected",
        }
    }

    #[test]
    fn a_chain_grows_one_version_per_op_and_records_each_entry() {
        let mut judgement = batch(&[], 0);
        let ops = [
            op(1, 5, OpKind::Create, SealedForm::Snapshot, None),
            op(2, 5, OpKind::Update, SealedForm::Patch, Some(1)),
            op(3, 5, OpKind::Delete, SealedForm::Delete, Some(2)),
            op(4, 5, OpKind::Update, SealedForm::Patch, Some(3)),
        ];
        for (n, one) in ops.iter().enumerate() {
            let result = judgement.judge(one, NOW);
            assert_eq!(
                result.applied_version(),
                Some(Version(n as u64 + 1)),
                "{result:?}"
            );
        }
        let writes = judgement.into_writes();
        assert_eq!(writes.change_seq, 14);
        assert_eq!(writes.charged_bytes, 4 * (100 + ROW_OVERHEAD));
        let [written] = writes.notes.as_slice() else {
            panic!("{:?}", writes.notes)
        };
        assert_eq!(written.version, Version(4));
        assert!(
            !written.deleted,
            "a patch after a delete brings the note back"
        );
        assert_eq!(written.change_seq, 14);
        assert_eq!(written.snapshot_version, Version(1));
        assert_eq!(written.chain_bytes, 4 * (100 + ROW_OVERHEAD));
        let versions: Vec<_> = written
            .entries
            .iter()
            .map(|e| {
                (
                    e.entry.version.0,
                    e.entry.base_version.map(|v| v.0),
                    e.entry.form,
                    e.change_seq,
                )
            })
            .collect();
        assert_eq!(
            versions,
            [
                (1, None, SealedForm::Snapshot, 11),
                (2, Some(1), SealedForm::Patch, 12),
                (3, Some(2), SealedForm::Delete, 13),
                (4, Some(3), SealedForm::Patch, 14),
            ]
        );
    }

    #[test]
    fn a_stale_base_is_a_conflict_without_text_and_changes_nothing() {
        let mut judgement = batch(&[(5, stored(3, 500))], 500);
        let result = judgement.judge(&op(1, 5, OpKind::Update, SealedForm::Patch, Some(2)), NOW);
        assert_eq!(
            result,
            PushResult::Conflict {
                op_id: OpId(Uuid::from_u128(1)),
                note_id: note(5),
                version: Version(3),
                current: None,
            }
        );
        let result = judgement.judge(&op(2, 5, OpKind::Delete, SealedForm::Delete, None), NOW);
        assert_eq!(status(&result), "conflict");
        let writes = judgement.into_writes();
        assert!(writes.notes.is_empty());
        assert_eq!(writes.charged_bytes, 0);
        assert_eq!(writes.change_seq, 10);
    }

    #[test]
    fn text_in_the_clear_and_wrong_shapes_are_rejected() {
        let mut judgement = batch(&[(5, stored(1, 300))], 300);
        let clear = |mut one: PushOp, what: &str| {
            match what {
                "title" => one.title = Some("secret".into()),
                "body" => one.body = Some("secret".into()),
                _ => one.sealed = None,
            }
            one
        };
        let base = || op(1, 5, OpKind::Update, SealedForm::Patch, Some(1));
        let mut cases = vec![
            clear(base(), "title"),
            clear(base(), "body"),
            clear(base(), "unsealed"),
            op(2, 6, OpKind::Create, SealedForm::Patch, None),
            op(3, 5, OpKind::Create, SealedForm::Snapshot, None),
            op(4, 7, OpKind::Update, SealedForm::Patch, Some(1)),
            op(5, 5, OpKind::Update, SealedForm::Delete, Some(1)),
            op(6, 5, OpKind::Delete, SealedForm::Patch, Some(1)),
        ];
        let mut lww_patch = base();
        lww_patch.lww = true;
        cases.push(lww_patch);
        let mut huge = base();
        huge.sealed = Some(SealedText {
            form: SealedForm::Patch,
            data: SealedBytes(vec![0; 1001]),
            text_mac: None,
        });
        cases.push(huge);
        for (n, one) in cases.iter().enumerate() {
            let result = judgement.judge(one, NOW);
            assert_eq!(status(&result), "rejected", "case {n}: {result:?}");
        }
        assert!(judgement.into_writes().notes.is_empty());
    }

    #[test]
    fn a_chain_past_two_notes_at_their_limit_takes_no_more_patches_only_a_snapshot() {
        // LIMITS: sealed values up to 1,000 bytes, so chains up to 2 * (1,000 + overhead).
        let most = 2 * (1000 + ROW_OVERHEAD);
        let patch_size = 100 + ROW_OVERHEAD;
        let mut judgement = batch(
            &[
                (5, stored(4, most - patch_size)),
                (6, stored(4, most - patch_size + 1)),
            ],
            0,
        );
        // Up to the bound a patch goes on; one byte past it, the note must go whole.
        let fits = op(1, 5, OpKind::Update, SealedForm::Patch, Some(4));
        assert_eq!(status(&judgement.judge(&fits, NOW)), "applied");
        let past = op(2, 6, OpKind::Update, SealedForm::Patch, Some(4));
        assert_eq!(
            judgement.judge(&past, NOW),
            PushResult::NeedFullText {
                op_id: OpId(Uuid::from_u128(2)),
                current_version: Version(4),
            }
        );
        // The chain that just reached the bound takes no further patch in the same batch.
        let more = op(3, 5, OpKind::Update, SealedForm::Patch, Some(5));
        assert_eq!(status(&judgement.judge(&more, NOW)), "need_full_text");
        let whole = op(4, 6, OpKind::Update, SealedForm::Snapshot, Some(4));
        assert_eq!(status(&judgement.judge(&whole, NOW)), "applied");
        let after = op(5, 6, OpKind::Update, SealedForm::Patch, Some(5));
        assert_eq!(status(&judgement.judge(&after, NOW)), "applied");
    }

    #[test]
    fn a_snapshot_starts_the_chain_over_and_what_came_before_stays_as_history() {
        let mut judgement = batch(&[(5, stored(4, 900)), (6, stored(4, 900))], 1800);
        let patch = op(1, 5, OpKind::Update, SealedForm::Patch, Some(4));
        assert_eq!(status(&judgement.judge(&patch, NOW)), "applied");
        let snapshot = op(2, 5, OpKind::Update, SealedForm::Snapshot, Some(5));
        assert_eq!(status(&judgement.judge(&snapshot, NOW)), "applied");
        // Last write wins over a text another device made: the same.
        let mut lww = op(3, 6, OpKind::Update, SealedForm::Snapshot, Some(2));
        lww.lww = true;
        assert_eq!(status(&judgement.judge(&lww, NOW)), "applied");
        let writes = judgement.into_writes();
        // Nothing is freed: every entry is charged, and every one is written.
        assert_eq!(writes.charged_bytes, 3 * (100 + ROW_OVERHEAD));
        let [five, six] = writes.notes.as_slice() else {
            panic!("{:?}", writes.notes)
        };
        let versions = |note: &ChainWrite| -> Vec<u64> {
            note.entries.iter().map(|e| e.entry.version.0).collect()
        };
        assert_eq!(versions(five), [5, 6]);
        assert_eq!(
            (five.snapshot_version, five.chain_bytes),
            (Version(6), 100 + ROW_OVERHEAD),
            "the live chain is the snapshot alone"
        );
        assert_eq!(versions(six), [5]);
        assert_eq!(six.snapshot_version, Version(5));
        assert!(five.entries.iter().all(|e| e.created_at == NOW));
    }

    #[test]
    fn a_note_stored_in_the_clear_leaves_it_with_its_first_sealed_snapshot_or_delete() {
        let clear = StoredChain {
            snapshot_version: Version(0),
            ..stored(3, 600)
        };
        let mut judgement = batch(&[(5, clear), (6, clear), (7, clear)], 1800);
        // A patch has nothing sealed to apply to: the whole text, please.
        let patch = op(1, 5, OpKind::Update, SealedForm::Patch, Some(3));
        assert_eq!(
            judgement.judge(&patch, NOW),
            PushResult::NeedFullText {
                op_id: patch.op_id,
                current_version: Version(3)
            }
        );
        let stale = op(2, 5, OpKind::Update, SealedForm::Snapshot, Some(2));
        assert_eq!(status(&judgement.judge(&stale, NOW)), "conflict");
        let snapshot = op(3, 5, OpKind::Update, SealedForm::Snapshot, Some(3));
        assert_eq!(status(&judgement.judge(&snapshot, NOW)), "applied");
        // A delete ends a note in the clear: its chain starts (and ends) there.
        let delete = op(4, 6, OpKind::Delete, SealedForm::Delete, Some(3));
        assert_eq!(status(&judgement.judge(&delete, NOW)), "applied");
        // Even a last-write-wins overwrite keeps no plain text as history.
        let lww = PushOp {
            lww: true,
            ..op(5, 7, OpKind::Update, SealedForm::Snapshot, Some(1))
        };
        assert_eq!(status(&judgement.judge(&lww, NOW)), "applied");
        let writes = judgement.into_writes();
        assert_eq!(writes.charged_bytes, 3 * (100 + ROW_OVERHEAD - 600));
        for (written, id) in writes.notes.iter().zip([5, 6, 7]) {
            assert_eq!(written.id, note(id));
            assert!(written.left_the_clear);
            assert_eq!(written.snapshot_version, Version(4));
            assert_eq!(written.chain_bytes, 100 + ROW_OVERHEAD);
        }
        assert!(writes.notes[1].deleted);
    }

    #[test]
    fn an_op_made_on_another_text_of_the_current_version_is_a_conflict() {
        let mac = |n: u8| Some(TextHash::from_bytes([n; 32]));
        let chain = StoredChain {
            mac: mac(1),
            ..stored(2, 500)
        };
        let mut judgement = batch(&[(5, chain)], 500);
        let mut other_text = op(1, 5, OpKind::Update, SealedForm::Patch, Some(2));
        other_text.base_hash = mac(9);
        assert_eq!(status(&judgement.judge(&other_text, NOW)), "conflict");
        let mut unbound = op(2, 5, OpKind::Update, SealedForm::Patch, Some(2));
        unbound.base_hash = None;
        assert_eq!(status(&judgement.judge(&unbound, NOW)), "conflict");
        let mut right = op(3, 5, OpKind::Update, SealedForm::Patch, Some(2));
        right.base_hash = mac(1);
        right.sealed.as_mut().unwrap().text_mac = mac(3);
        assert_eq!(status(&judgement.judge(&right, NOW)), "applied");
        // The next op binds to the text that one left; a delete leaves it as it was.
        let mut delete = op(4, 5, OpKind::Delete, SealedForm::Delete, Some(3));
        delete.base_hash = mac(3);
        assert_eq!(status(&judgement.judge(&delete, NOW)), "applied");
        let writes = judgement.into_writes();
        assert_eq!(writes.notes[0].mac, mac(3));
    }

    #[test]
    fn a_full_account_defers_what_grows_it_but_can_still_move_a_note_to_the_trash() {
        let deleted = StoredChain {
            deleted: true,
            ..stored(2, 300)
        };
        let mut judgement = batch(&[(5, stored(2, 900)), (6, deleted)], 10_000);
        let grow = op(1, 5, OpKind::Update, SealedForm::Patch, Some(2));
        assert_eq!(status(&judgement.judge(&grow, NOW)), "deferred");
        let snapshot = op(2, 5, OpKind::Update, SealedForm::Snapshot, Some(2));
        assert_eq!(status(&judgement.judge(&snapshot, NOW)), "deferred");
        // A large "delete" would be a way past the quota: not taken.
        let mut large = op(3, 5, OpKind::Delete, SealedForm::Delete, Some(2));
        large.sealed.as_mut().unwrap().data = SealedBytes(vec![7; 129]);
        assert_eq!(status(&judgement.judge(&large, NOW)), "deferred");
        large.sealed.as_mut().unwrap().data = SealedBytes(vec![7; 1025]);
        assert_eq!(
            status(&judgement.judge(&large, NOW)),
            "rejected",
            "not a delete"
        );
        let delete = op(4, 5, OpKind::Delete, SealedForm::Delete, Some(2));
        assert_eq!(status(&judgement.judge(&delete, NOW)), "applied");
        // Once per live note: deleting it again (or a note already deleted) is growth.
        let again = op(5, 5, OpKind::Delete, SealedForm::Delete, Some(3));
        assert_eq!(status(&judgement.judge(&again, NOW)), "deferred");
        let other = op(6, 6, OpKind::Delete, SealedForm::Delete, Some(2));
        assert_eq!(status(&judgement.judge(&other, NOW)), "deferred");
        let writes = judgement.into_writes();
        assert_eq!(writes.charged_bytes, 100 + ROW_OVERHEAD);
        assert_eq!(writes.notes[0].entries.len(), 1);
    }

    #[test]
    fn a_note_deleted_forever_takes_no_more_ops() {
        let purged = StoredChain {
            deleted: true,
            purged: true,
            ..stored(3, 0)
        };
        let mut judgement = batch(&[(5, purged)], 0);
        let update = op(1, 5, OpKind::Update, SealedForm::Snapshot, Some(3));
        assert_eq!(
            judgement.judge(&update, NOW),
            PushResult::Rejected {
                op_id: update.op_id,
                reason: PURGED.to_owned()
            }
        );
        let delete = op(2, 5, OpKind::Delete, SealedForm::Delete, Some(3));
        assert_eq!(status(&judgement.judge(&delete, NOW)), "rejected");
        let create = op(3, 5, OpKind::Create, SealedForm::Snapshot, None);
        assert_eq!(status(&judgement.judge(&create, NOW)), "rejected");
        assert!(judgement.into_writes().notes.is_empty());
    }

    #[test]
    fn a_replayed_op_gets_its_first_answer_and_changes_nothing_more() {
        let mut judgement = batch(&[], 0);
        let create = op(1, 5, OpKind::Create, SealedForm::Snapshot, None);
        let first = judgement.judge(&create, NOW);
        let again = judgement.judge(&create, Millis(2_000));
        assert_eq!(
            again,
            PushResult::Duplicate {
                op_id: create.op_id,
                original: Box::new(first),
            }
        );
        let writes = judgement.into_writes();
        assert_eq!(writes.notes[0].entries.len(), 1);
        assert_eq!(writes.applied.len(), 1);
    }
}
