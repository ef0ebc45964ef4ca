//! The judgement of a pushed batch (PRODUCT.md, "Sync protocol"): each op, in order,
//! against its note as the ops before it left it, answered `applied`, `duplicate`,
//! `conflict`, `need_full_text`, `deferred` or `rejected`; and what the applied ops leave
//! each note as, for the server to write.
//!
//! No I/O: the server loads the account's counters, earlier answers and the touched notes
//! (without their texts), and writes [`BatchWrites`] in one transaction. A note's text is
//! read only when an op needs it (a patch's base, a conflict answer, the hash of a row
//! written before hashes were kept): [`BatchJudgement::judge`] then answers
//! [`Judged::NeedsBody`], and the caller hands the text over with
//! [`BatchJudgement::provide_body`] and judges the same op again. Nothing but the bound on
//! text read changes before a text is asked for, so judging again is safe.
//!
//! What a stranger with an account can make a push cost is bounded (PRODUCT.md, "Limits"):
//! a batch may make or read at most `max_batch_text_bytes` of text (beyond it the whole
//! batch fails: [`TooMuchText`]), a response carries each note's text at most once and at
//! most `max_response_bytes` of text in all, a batch replaces each note's text at most once
//! in history, and an op that would overfill the account is deferred.

use std::collections::{HashMap, HashSet};

use crate::ids::{DeviceId, NoteId, OpId, Version};
use crate::note::{Millis, NoteFields};
use crate::protocol::{NewText, NoteState, PushChange, PushOp, PushResult};
use crate::text_hash::TextHash;
use crate::validate::{validate_fields, Limits as FieldLimits};

/// Bytes an account is charged per stored note and per history entry beyond their text:
/// about what a row and its index entries take, so a million empty notes are not free.
pub const ROW_OVERHEAD: i64 = 256;

/// What one push may make the server compute, hold and store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushLimits {
    pub fields: FieldLimits,
    /// New text (after patches) and stored text read that one batch may make, in bytes.
    pub max_batch_text_bytes: usize,
    /// Note text one response may carry in conflict answers, in bytes.
    pub max_response_bytes: usize,
    /// Bytes of notes and history one account may hold.
    pub max_account_bytes: u64,
}

/// The batch makes or reads more note text than a push may: nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this push makes or reads more than {max} bytes of note text; send fewer ops at once")]
pub struct TooMuchText {
    pub max: usize,
}

/// The account's counters as the batch found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountCounters {
    /// The last change sequence number handed out.
    pub change_seq: i64,
    /// Bytes of notes and history the account holds (see [`ROW_OVERHEAD`]).
    pub stored_bytes: i64,
}

/// A note as the store has it, without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNote {
    pub title: String,
    pub version: Version,
    pub deleted: bool,
    pub updated_at: Millis,
    /// `None` for a row written before hashes were kept: computed when first needed.
    pub hash: Option<TextHash>,
    /// Bytes of title and body.
    pub size: i64,
    /// The device that made the note's current text, if the store knows it.
    pub device: Option<DeviceId>,
}

/// What [`BatchJudgement::judge`] needs before it can answer an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Answer(PushResult),
    /// The note's stored body: pass it to [`BatchJudgement::provide_body`], then judge the
    /// same op again.
    NeedsBody(NoteId),
}

/// What a judged batch changes, for the store to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchWrites {
    /// The account's change counter after the batch.
    pub change_seq: i64,
    /// What the batch added to the account's bytes (negative when it freed room), before
    /// what pruning history frees.
    pub charged_bytes: i64,
    /// Applied ops and their answers, to remember for replays.
    pub applied: Vec<(OpId, PushResult)>,
    /// Every note an op changed, by id.
    pub notes: Vec<NoteWrite>,
}

/// A note as the batch left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteWrite {
    pub id: NoteId,
    pub title: String,
    /// The new body, when an op gave the note a new text (a delete keeps the stored one).
    pub body: Option<String>,
    pub version: Version,
    pub deleted: bool,
    pub updated_at: Millis,
    pub hash: Option<TextHash>,
    /// Bytes of title and body.
    pub size: i64,
    /// Bytes of title and body before this batch (0 for a note it creates): what a history
    /// entry of the replaced text was charged.
    pub size_before: i64,
    /// The change-log place of the batch's last change to the note.
    pub change_seq: i64,
    /// The device of the batch's last change to the note.
    pub device: DeviceId,
    /// The text from before this batch goes to history (a last-write-wins op replaced it).
    pub keep_history: bool,
}

/// A batch being judged: the touched notes as the ops so far left them, and what the batch
/// has spent of its bounds.
#[derive(Debug)]
pub struct BatchJudgement {
    /// Answers to remember, by op id: earlier batches' and this one's.
    replays: HashMap<OpId, PushResult>,
    notes: HashMap<NoteId, NoteSlot>,
    /// The last change sequence number handed out.
    change_seq: i64,
    budget: Budget,
    /// Applied ops and their answers, in order.
    applied: Vec<(OpId, PushResult)>,
}

/// A note's body: not read yet, asked for, or known (read, or made by an op of this batch).
#[derive(Debug)]
enum Body {
    Unread,
    Asked,
    Known(String),
}

/// A touched note as the ops judged so far left it.
#[derive(Debug)]
struct NoteSlot {
    title: String,
    body: Body,
    version: Version,
    deleted: bool,
    updated_at: Millis,
    hash: Option<TextHash>,
    size: i64,
    size_before: i64,
    /// The change-log place and device of this batch's last change, if it changed it.
    changed: Option<(i64, DeviceId)>,
    keep_history: bool,
    /// An op of this batch gave the note a new text (a body only read stays unwritten).
    text_written: bool,
    device: Option<DeviceId>,
}

/// What the batch has spent of its bounds, and of the account's quota.
#[derive(Debug)]
struct Budget {
    limits: PushLimits,
    /// Bytes the account held before this batch.
    stored_bytes: i64,
    /// Text made or read so far.
    text_bytes: usize,
    /// What this batch's ops added to the account's bytes so far (see [`ROW_OVERHEAD`]).
    charged: i64,
    response_text_bytes: usize,
    /// Notes (and versions) whose text this response already carries.
    sent_texts: HashSet<(NoteId, Version)>,
}

/// What an op does to its note, once judged.
#[derive(Debug)]
enum Outcome {
    /// The note's new text (`None`: a delete, which keeps the text as the tombstone's).
    Write {
        fields: Option<NoteFields>,
        /// The text from before this batch goes to history (see [`Budget::made`]).
        keep_history: bool,
    },
    Answer(PushResult),
}

/// Why judging an op stopped before its outcome.
enum Halt {
    /// The op's note's stored body is needed.
    NeedsBody,
    TooMuchText(TooMuchText),
}

impl From<TooMuchText> for Halt {
    fn from(err: TooMuchText) -> Self {
        Self::TooMuchText(err)
    }
}

impl BatchJudgement {
    /// A batch over these notes (those the ops touch that exist), with the answers given
    /// before to any of its op ids.
    pub fn new(
        limits: PushLimits,
        counters: AccountCounters,
        replays: HashMap<OpId, PushResult>,
        notes: HashMap<NoteId, StoredNote>,
    ) -> Self {
        let notes = notes
            .into_iter()
            .map(|(id, note)| (id, NoteSlot::stored(note)))
            .collect();
        Self {
            replays,
            notes,
            change_seq: counters.change_seq,
            budget: Budget {
                limits,
                stored_bytes: counters.stored_bytes,
                text_bytes: 0,
                charged: 0,
                response_text_bytes: 0,
                sent_texts: HashSet::new(),
            },
            applied: Vec::new(),
        }
    }

    /// Judges one op (received at `server_time`) and applies its outcome to the batch's
    /// notes. An op answered before, in this batch or an earlier one, is a duplicate.
    pub fn judge(&mut self, op: &PushOp, server_time: Millis) -> Result<Judged, TooMuchText> {
        if let Some(original) = self.replays.get(&op.op_id) {
            return Ok(Judged::Answer(PushResult::Duplicate {
                op_id: op.op_id,
                original: Box::new(original.clone()),
            }));
        }
        let (fields, keep_history) = match self.decide(op) {
            Ok(Outcome::Write {
                fields,
                keep_history,
            }) => (fields, keep_history),
            Ok(Outcome::Answer(result)) => return Ok(Judged::Answer(result)),
            Err(Halt::NeedsBody) => return Ok(Judged::NeedsBody(op.note_id)),
            Err(Halt::TooMuchText(err)) => return Err(err),
        };
        self.change_seq += 1;
        let slot = self
            .notes
            .entry(op.note_id)
            .or_insert_with(NoteSlot::unborn);
        slot.keep_history |= keep_history;
        slot.version = Version(slot.version.0 + 1);
        slot.updated_at = server_time;
        slot.changed = Some((self.change_seq, op.device_id));
        match fields {
            Some(fields) => {
                slot.set_text(fields);
                slot.deleted = false;
            }
            None => slot.deleted = true,
        }
        let result = PushResult::Applied {
            op_id: op.op_id,
            version: slot.version,
            server_time,
        };
        self.replays.insert(op.op_id, result.clone());
        self.applied.push((op.op_id, result.clone()));
        Ok(Judged::Answer(result))
    }

    /// The stored body of a note [`Judged::NeedsBody`] asked for.
    pub fn provide_body(&mut self, note_id: NoteId, body: String) {
        if let Some(slot) = self.notes.get_mut(&note_id) {
            if let Body::Asked = slot.body {
                slot.body = Body::Known(body);
            }
        }
    }

    /// What the batch changes, notes in id order.
    pub fn into_writes(self) -> BatchWrites {
        let mut notes: Vec<NoteWrite> = self
            .notes
            .into_iter()
            .filter_map(|(id, slot)| {
                let (change_seq, device) = slot.changed?;
                let body = match slot.body {
                    Body::Known(body) if slot.text_written => Some(body),
                    _ => None,
                };
                Some(NoteWrite {
                    id,
                    title: slot.title,
                    body,
                    version: slot.version,
                    deleted: slot.deleted,
                    updated_at: slot.updated_at,
                    hash: slot.hash,
                    size: slot.size,
                    size_before: slot.size_before,
                    change_seq,
                    device,
                    keep_history: slot.keep_history,
                })
            })
            .collect();
        notes.sort_unstable_by_key(|note| note.id);
        BatchWrites {
            change_seq: self.change_seq,
            charged_bytes: self.budget.charged,
            applied: self.applied,
            notes,
        }
    }

    fn decide(&mut self, op: &PushOp) -> Result<Outcome, Halt> {
        let change = match op.change() {
            Ok(change) => change,
            Err(reason) => return Ok(rejected(op, reason.to_string())),
        };
        let budget = &mut self.budget;
        let Some(slot) = self.notes.get_mut(&op.note_id) else {
            return match change {
                PushChange::Create { title, body } => {
                    budget.made(op, None, NoteFields::new(title, body), false)
                }
                PushChange::Update { .. } | PushChange::Delete => {
                    Ok(rejected(op, "no note with this id in this account"))
                }
            };
        };
        let (title, text) = match change {
            PushChange::Create { .. } => {
                return Ok(rejected(op, "a note with this id already exists"))
            }
            PushChange::Delete => {
                return Ok(if op.lww || slot.base_matches(op, budget)? {
                    Outcome::Write {
                        fields: None,
                        keep_history: false,
                    }
                } else {
                    Outcome::Answer(budget.conflict(op, slot)?)
                });
            }
            PushChange::Update { title, text } => (title, text),
        };
        let base_matches = slot.base_matches(op, budget)?;
        if !op.lww && !base_matches {
            return Ok(Outcome::Answer(budget.conflict(op, slot)?));
        }
        let body = match text {
            NewText::Full(body) => body.to_owned(),
            // A patch applies only to its exact base.
            NewText::Patch(_) if !base_matches => return Ok(need_full_text(op, slot)),
            // A patch that would make a note over the limit is refused before it is applied:
            // applying it would cost the server what the op never sent.
            NewText::Patch(patch)
                if patch
                    .output_len()
                    .is_none_or(|len| len > budget.limits.fields.max_body_bytes) =>
            {
                return Ok(rejected(
                    op,
                    format!(
                        "the patch makes a note over {} bytes",
                        budget.limits.fields.max_body_bytes
                    ),
                ))
            }
            NewText::Patch(patch) => match patch.apply(slot.body(budget)?) {
                Ok(body) => body,
                // Cannot happen for a patch made on this exact text; the full text settles
                // it, and nothing the person wrote is refused over it.
                Err(_) => return Ok(need_full_text(op, slot)),
            },
        };
        budget.made(op, Some(slot), NoteFields::new(title, body), !base_matches)
    }
}

fn rejected(op: &PushOp, reason: impl Into<String>) -> Outcome {
    Outcome::Answer(PushResult::Rejected {
        op_id: op.op_id,
        reason: reason.into(),
    })
}

fn need_full_text(op: &PushOp, slot: &NoteSlot) -> Outcome {
    Outcome::Answer(PushResult::NeedFullText {
        op_id: op.op_id,
        current_version: slot.version,
    })
}

/// Bytes of a note's title and body, as the store counts them.
fn text_size(fields: &NoteFields) -> i64 {
    i64::try_from(fields.title.len() + fields.body.len()).unwrap_or(i64::MAX)
}

impl NoteSlot {
    fn stored(note: StoredNote) -> Self {
        Self {
            title: note.title,
            body: Body::Unread,
            version: note.version,
            deleted: note.deleted,
            updated_at: note.updated_at,
            hash: note.hash,
            size: note.size,
            size_before: note.size,
            changed: None,
            keep_history: false,
            text_written: false,
            device: note.device,
        }
    }

    /// A note an op of this batch is about to create: version 0, no text, nothing before.
    fn unborn() -> Self {
        Self {
            title: String::new(),
            body: Body::Known(String::new()),
            version: Version(0),
            deleted: false,
            updated_at: Millis(0),
            hash: None,
            size: 0,
            size_before: 0,
            changed: None,
            keep_history: false,
            text_written: false,
            device: None,
        }
    }

    fn set_text(&mut self, fields: NoteFields) {
        self.hash = Some(TextHash::of(&fields.title, &fields.body));
        self.size = text_size(&fields);
        self.title = fields.title;
        self.body = Body::Known(fields.body);
        self.text_written = true;
    }

    /// The note's body; the first time, it is counted against the batch's bound and asked
    /// for.
    fn body(&mut self, budget: &mut Budget) -> Result<&str, Halt> {
        if let Body::Unread = self.body {
            budget.spend(usize::try_from(self.size).unwrap_or(usize::MAX))?;
            self.body = Body::Asked;
        }
        match &self.body {
            Body::Known(body) => Ok(body),
            Body::Unread | Body::Asked => Err(Halt::NeedsBody),
        }
    }

    fn hash(&mut self, budget: &mut Budget) -> Result<TextHash, Halt> {
        if let Some(hash) = self.hash {
            return Ok(hash);
        }
        self.body(budget)?;
        let Body::Known(body) = &self.body else {
            return Err(Halt::NeedsBody);
        };
        let hash = TextHash::of(&self.title, body);
        self.hash = Some(hash);
        Ok(hash)
    }

    /// Whether the op was made on the note's current text: its version and its hash.
    fn base_matches(&mut self, op: &PushOp, budget: &mut Budget) -> Result<bool, Halt> {
        if op.base_version != Some(self.version) {
            return Ok(false);
        }
        let Some(base_hash) = op.base_hash else {
            return Ok(false);
        };
        Ok(self.hash(budget)? == base_hash)
    }
}

impl Budget {
    /// Counts text this batch made or read against its bound: what a push may make the
    /// server compute and hold.
    fn spend(&mut self, bytes: usize) -> Result<(), TooMuchText> {
        self.text_bytes = self.text_bytes.saturating_add(bytes);
        if self.text_bytes > self.limits.max_batch_text_bytes {
            return Err(TooMuchText {
                max: self.limits.max_batch_text_bytes,
            });
        }
        Ok(())
    }

    /// Checks a new text, counts it against the batch's bound, and charges what it adds to
    /// the account's quota (an op that would overfill the account is deferred: it stays
    /// queued on its device, and the rest of the batch goes on).
    fn made(
        &mut self,
        op: &PushOp,
        slot: Option<&NoteSlot>,
        fields: NoteFields,
        replaces_unseen: bool,
    ) -> Result<Outcome, Halt> {
        let fields = match validate_fields(fields, &self.limits.fields) {
            Ok(fields) => fields,
            Err(err) => return Ok(rejected(op, err.to_string())),
        };
        let size = text_size(&fields);
        // Only the text from before the batch is kept: a text an earlier op of this batch
        // made was the same device's, and its own next op supersedes it. A last-write-wins
        // op keeps what it replaces when it never saw it or another device wrote it (a
        // device rebases such an op on the text it overwrites); an equal text loses nothing.
        let keep_history = slot.is_some_and(|slot| {
            let unseen = replaces_unseen || (op.lww && slot.device != Some(op.device_id));
            let same_text = slot.hash == Some(TextHash::of(&fields.title, &fields.body));
            unseen && slot.changed.is_none() && !same_text
        });
        let charge = match slot {
            None => size + ROW_OVERHEAD,
            Some(slot) if keep_history => size - slot.size + slot.size_before + ROW_OVERHEAD,
            Some(slot) => size - slot.size,
        };
        let max = i64::try_from(self.limits.max_account_bytes).unwrap_or(i64::MAX);
        if charge > 0 && self.stored_bytes.saturating_add(self.charged + charge) > max {
            return Ok(Outcome::Answer(PushResult::Deferred {
                op_id: op.op_id,
                reason: format!(
                    "this account holds {} of its {max} bytes: shorten notes to make room",
                    self.stored_bytes + self.charged
                ),
            }));
        }
        self.charged += charge;
        self.spend(fields.title.len() + fields.body.len())?;
        Ok(Outcome::Write {
            fields: Some(fields),
            keep_history,
        })
    }

    /// A conflict answer; the note's text goes with it once per response, within the
    /// response's bound.
    fn conflict(&mut self, op: &PushOp, slot: &mut NoteSlot) -> Result<PushResult, Halt> {
        let version = slot.version;
        let size = usize::try_from(slot.size).unwrap_or(usize::MAX);
        let fits = self.response_text_bytes.saturating_add(size) <= self.limits.max_response_bytes;
        let sent = self.sent_texts.contains(&(op.note_id, version));
        let current = if fits && !sent {
            // The body first: asking for it ends this judgement, which is made again
            // once it is here, so nothing is counted as sent until then.
            let body = slot.body(self)?.to_owned();
            self.sent_texts.insert((op.note_id, version));
            self.response_text_bytes += size;
            Some(NoteState {
                id: op.note_id,
                title: slot.title.clone(),
                body,
                version,
                deleted: slot.deleted,
                updated_at: slot.updated_at,
                sealed: None,
                purged: false,
            })
        } else {
            None
        };
        Ok(PushResult::Conflict {
            op_id: op.op_id,
            note_id: op.note_id,
            version,
            current,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::op::OpKind;
    use crate::patch::Patch;

    const TIME: Millis = Millis(1_000);
    const LAPTOP: DeviceId = DeviceId(Uuid::from_u128(1));
    const PHONE: DeviceId = DeviceId(Uuid::from_u128(2));

    fn note_id(n: u128) -> NoteId {
        NoteId(Uuid::from_u128(n))
    }

    fn limits() -> PushLimits {
        PushLimits {
            fields: FieldLimits::default(),
            max_batch_text_bytes: 1 << 20,
            max_response_bytes: 1 << 20,
            max_account_bytes: 1 << 30,
        }
    }

    fn op(op_id: u128, note: u128, kind: OpKind) -> PushOp {
        PushOp {
            op_id: OpId(Uuid::from_u128(op_id)),
            note_id: note_id(note),
            kind,
            title: None,
            body: None,
            patch: None,
            base_version: None,
            base_hash: None,
            device_id: LAPTOP,
            clock: 1,
            lww: false,
            sealed: None,
        }
    }

    fn create(op_id: u128, note: u128, title: &str, body: &str) -> PushOp {
        PushOp {
            title: Some(title.to_owned()),
            body: Some(body.to_owned()),
            ..op(op_id, note, OpKind::Create)
        }
    }

    /// An update made on version `base` with the text `base_text`.
    fn update(op_id: u128, note: u128, base: (u64, &str, &str), title: &str, body: &str) -> PushOp {
        PushOp {
            title: Some(title.to_owned()),
            body: Some(body.to_owned()),
            base_version: Some(Version(base.0)),
            base_hash: Some(TextHash::of(base.1, base.2)),
            ..op(op_id, note, OpKind::Update)
        }
    }

    /// A note the store holds: `(id, title, body, version)`, its hash known.
    fn stored(notes: &[(u128, &str, &str, u64)]) -> (HashMap<NoteId, StoredNote>, Bodies) {
        let mut found = HashMap::new();
        let mut bodies = HashMap::new();
        for (n, title, body, version) in notes {
            found.insert(
                note_id(*n),
                StoredNote {
                    title: (*title).to_owned(),
                    version: Version(*version),
                    deleted: false,
                    updated_at: Millis(1),
                    hash: Some(TextHash::of(title, body)),
                    size: i64::try_from(title.len() + body.len()).unwrap(),
                    device: Some(LAPTOP),
                },
            );
            bodies.insert(note_id(*n), (*body).to_owned());
        }
        (found, bodies)
    }

    type Bodies = HashMap<NoteId, String>;

    fn batch(limits: PushLimits, notes: HashMap<NoteId, StoredNote>) -> BatchJudgement {
        let counters = AccountCounters {
            change_seq: 10,
            stored_bytes: 0,
        };
        BatchJudgement::new(limits, counters, HashMap::new(), notes)
    }

    /// Judges `op` as the server does, reading a body when asked; returns the answer and
    /// whether a body was read.
    fn answer(
        batch: &mut BatchJudgement,
        bodies: &Bodies,
        op: &PushOp,
    ) -> Result<(PushResult, bool), TooMuchText> {
        let mut read = false;
        loop {
            match batch.judge(op, TIME)? {
                Judged::Answer(result) => return Ok((result, read)),
                Judged::NeedsBody(id) => {
                    assert!(!read, "an op asks for its note's body once");
                    assert_eq!(id, op.note_id, "an op reads only its own note");
                    read = true;
                    batch.provide_body(id, bodies[&id].clone());
                }
            }
        }
    }

    fn applied_version(result: &PushResult) -> Option<u64> {
        match result {
            PushResult::Applied { version, .. } => Some(version.0),
            _ => None,
        }
    }

    #[test]
    fn an_update_on_the_current_text_applies_as_the_next_version() {
        let (notes, bodies) = stored(&[(7, "Plan", "old", 3)]);
        let mut batch = batch(limits(), notes);
        let edit = update(1, 7, (3, "Plan", "old"), "Plan", "new");
        let (result, read) = answer(&mut batch, &bodies, &edit).unwrap();
        assert_eq!(applied_version(&result), Some(4));
        assert!(!read, "a full text needs no stored body");
        let writes = batch.into_writes();
        assert_eq!(writes.change_seq, 11);
        assert_eq!(writes.applied, vec![(edit.op_id, result)]);
        let note = &writes.notes[0];
        assert_eq!(
            (note.body.as_deref(), note.version, note.change_seq),
            (Some("new"), Version(4), 11)
        );
        assert_eq!(note.hash, Some(TextHash::of("Plan", "new")));
        assert_eq!(writes.charged_bytes, 0, "same size, no history");
    }

    #[test]
    fn a_stale_base_is_a_conflict_that_carries_the_text_once() {
        let (notes, bodies) = stored(&[(7, "Plan", "server text", 3)]);
        let mut batch = batch(limits(), notes);
        let stale = |op_id| update(op_id, 7, (2, "Plan", "older"), "Plan", "mine");
        let (first, read) = answer(&mut batch, &bodies, &stale(1)).unwrap();
        let PushResult::Conflict {
            version, current, ..
        } = first
        else {
            panic!("expected a conflict, got {first:?}");
        };
        assert!(read);
        assert_eq!(version, Version(3));
        assert_eq!(
            current.map(|note| note.body).as_deref(),
            Some("server text")
        );
        let (second, _) = answer(&mut batch, &bodies, &stale(2)).unwrap();
        assert!(
            matches!(second, PushResult::Conflict { current: None, .. }),
            "{second:?}"
        );
        let writes = batch.into_writes();
        assert!(writes.notes.is_empty() && writes.applied.is_empty());
        assert_eq!(writes.change_seq, 10);
    }

    #[test]
    fn a_replayed_op_gets_its_first_answer_again() {
        let earlier = PushResult::Applied {
            op_id: OpId(Uuid::from_u128(1)),
            version: Version(1),
            server_time: Millis(5),
        };
        let replays = HashMap::from([(earlier.op_id(), earlier.clone())]);
        let counters = AccountCounters {
            change_seq: 0,
            stored_bytes: 0,
        };
        let mut batch = BatchJudgement::new(limits(), counters, replays, HashMap::new());
        let bodies = Bodies::new();
        let (again, _) = answer(&mut batch, &bodies, &create(1, 7, "t", "b")).unwrap();
        assert_eq!(
            again,
            PushResult::Duplicate {
                op_id: earlier.op_id(),
                original: Box::new(earlier),
            }
        );
        let fresh = create(2, 8, "t", "b");
        let (first, _) = answer(&mut batch, &bodies, &fresh).unwrap();
        let (second, _) = answer(&mut batch, &bodies, &fresh).unwrap();
        assert_eq!(applied_version(&first), Some(1));
        assert_eq!(
            second,
            PushResult::Duplicate {
                op_id: fresh.op_id,
                original: Box::new(first),
            }
        );
        assert_eq!(batch.into_writes().change_seq, 1, "applied once");
    }

    #[test]
    fn a_patch_applies_to_its_exact_base_only() {
        let (notes, bodies) = stored(&[(7, "Plan", "one\ntwo\n", 1)]);
        let mut batch = batch(limits(), notes);
        let patched = |op_id, base: (u64, &str, &str), lww| PushOp {
            body: None,
            patch: Some(Patch::between(base.2, "one\n2\n")),
            lww,
            ..update(op_id, 7, base, "Plan", "")
        };
        let (stale, _) =
            answer(&mut batch, &bodies, &patched(1, (0, "Plan", "one\n"), true)).unwrap();
        assert_eq!(
            stale,
            PushResult::NeedFullText {
                op_id: OpId(Uuid::from_u128(1)),
                current_version: Version(1),
            }
        );
        let exact = patched(2, (1, "Plan", "one\ntwo\n"), false);
        let (result, read) = answer(&mut batch, &bodies, &exact).unwrap();
        assert_eq!(applied_version(&result), Some(2));
        assert!(read, "a patch is applied to the stored body");
        assert_eq!(
            batch.into_writes().notes[0].body.as_deref(),
            Some("one\n2\n")
        );
    }

    #[test]
    fn a_row_without_a_hash_is_hashed_from_its_body() {
        let (mut notes, bodies) = stored(&[(7, "Plan", "old", 1)]);
        if let Some(note) = notes.get_mut(&note_id(7)) {
            note.hash = None;
        }
        let mut batch = batch(limits(), notes);
        let edit = update(1, 7, (1, "Plan", "old"), "Plan", "new");
        assert_eq!(
            batch.judge(&edit, TIME).unwrap(),
            Judged::NeedsBody(note_id(7))
        );
        batch.provide_body(note_id(7), bodies[&note_id(7)].clone());
        let Judged::Answer(result) = batch.judge(&edit, TIME).unwrap() else {
            panic!("the body was given");
        };
        assert_eq!(applied_version(&result), Some(2));
    }

    #[test]
    fn last_write_wins_over_another_devices_text_keeps_it_in_history() {
        let (notes, bodies) = stored(&[(7, "Plan", "theirs", 1), (8, "List", "mine", 1)]);
        let mut batch = batch(limits(), notes);
        let last_write = |op_id, note, base, device| PushOp {
            lww: true,
            device_id: device,
            ..update(op_id, note, base, "T", "overwritten")
        };
        // Both stored texts are the laptop's: the phone's op replaces another device's
        // text, the laptop's its own; each was made on the text it replaces.
        let ops = [
            last_write(1, 7, (1, "Plan", "theirs"), PHONE),
            last_write(2, 8, (1, "List", "mine"), LAPTOP),
        ];
        for op in &ops {
            let (result, _) = answer(&mut batch, &bodies, op).unwrap();
            assert_eq!(applied_version(&result), Some(2));
        }
        let writes = batch.into_writes();
        let kept: Vec<(NoteId, bool, i64)> = writes
            .notes
            .iter()
            .map(|note| (note.id, note.keep_history, note.size_before))
            .collect();
        assert_eq!(kept, vec![(note_id(7), true, 10), (note_id(8), false, 8)]);
        // Note 7 grows from 10 to 12 bytes and keeps its 10 in history (with a row);
        // note 8 grows by 4.
        assert_eq!(writes.charged_bytes, (2 + 10 + ROW_OVERHEAD) + 4);
    }

    #[test]
    fn an_op_that_would_overfill_the_account_is_deferred_and_the_rest_go_on() {
        let limits = PushLimits {
            max_account_bytes: 1_000,
            ..limits()
        };
        let mut batch = batch(limits, HashMap::new());
        let bodies = Bodies::new();
        let big = "x".repeat(900);
        let (deferred, _) = answer(&mut batch, &bodies, &create(1, 7, "Big", &big)).unwrap();
        assert!(
            matches!(deferred, PushResult::Deferred { .. }),
            "{deferred:?}"
        );
        let (small, _) = answer(&mut batch, &bodies, &create(2, 8, "Small", "s")).unwrap();
        assert_eq!(applied_version(&small), Some(1));
        assert_eq!(batch.into_writes().charged_bytes, 6 + ROW_OVERHEAD);
    }

    #[test]
    fn a_batch_that_makes_too_much_text_fails_whole() {
        let limits = PushLimits {
            max_batch_text_bytes: 100,
            ..limits()
        };
        let mut batch = batch(limits, HashMap::new());
        let bodies = Bodies::new();
        let text = "w".repeat(40);
        assert!(answer(&mut batch, &bodies, &create(1, 7, "a", &text)).is_ok());
        assert!(answer(&mut batch, &bodies, &create(2, 8, "b", &text)).is_ok());
        assert_eq!(
            answer(&mut batch, &bodies, &create(3, 9, "c", &text)),
            Err(TooMuchText { max: 100 })
        );
    }

    #[test]
    fn ops_that_do_not_fit_their_note_are_rejected_with_a_reason() {
        let (notes, bodies) = stored(&[(7, "Plan", "x", 1)]);
        let mut batch = batch(limits(), notes);
        let cases = [
            (create(1, 7, "Plan", "again"), "already exists"),
            (
                update(2, 8, (1, "a", "b"), "t", "b"),
                "no note with this id",
            ),
            (
                PushOp {
                    body: None,
                    ..create(3, 9, "t", "b")
                },
                "a create carries",
            ),
            (create(4, 10, "  ", "b"), "title is empty"),
        ];
        for (op, reason) in cases {
            let (result, _) = answer(&mut batch, &bodies, &op).unwrap();
            let PushResult::Rejected { reason: given, .. } = &result else {
                panic!("expected {reason:?}, got {result:?}");
            };
            assert!(given.contains(reason), "{given:?} should say {reason:?}");
        }
        assert!(batch.into_writes().notes.is_empty());
    }

    #[test]
    fn a_delete_keeps_the_stored_text_as_the_tombstones() {
        let (notes, bodies) = stored(&[(7, "Plan", "text", 2)]);
        let mut batch = batch(limits(), notes);
        let delete = PushOp {
            base_version: Some(Version(2)),
            base_hash: Some(TextHash::of("Plan", "text")),
            ..op(1, 7, OpKind::Delete)
        };
        let (result, read) = answer(&mut batch, &bodies, &delete).unwrap();
        assert_eq!(applied_version(&result), Some(3));
        assert!(!read);
        let note = &batch.into_writes().notes[0];
        assert!(note.deleted);
        assert_eq!(note.body, None, "the stored body is not rewritten");
    }

    /// How an op's base relates to its note's current text.
    #[derive(Debug, Clone, Copy)]
    enum BaseKind {
        Current,
        OtherVersion(u64),
        OtherText,
        NoHash,
    }

    /// One generated op: what it asks for, and of which base.
    #[derive(Debug, Clone)]
    struct OpSpec {
        op_id: u128,
        note: u128,
        /// 0 create, 1 full update, 2 patch, 3 delete, 4 a malformed create.
        kind: u8,
        title: String,
        body: String,
        base: BaseKind,
        lww: bool,
        phone: bool,
    }

    fn base_strategy() -> impl Strategy<Value = BaseKind> {
        prop_oneof![
            3 => Just(BaseKind::Current),
            1 => (0u64..6).prop_map(BaseKind::OtherVersion),
            1 => Just(BaseKind::OtherText),
            1 => Just(BaseKind::NoHash),
        ]
    }

    prop_compose! {
        fn op_strategy()(
            op_id in 0u128..8,
            note in 0u128..3,
            kind in 0u8..5,
            title in "[ab][ab ]{0,2}",
            body in "[xy\n]{0,12}",
            base in base_strategy(),
            lww in proptest::bool::weighted(0.3),
            phone in any::<bool>(),
        ) -> OpSpec {
            OpSpec { op_id, note, kind, title, body, base, lww, phone }
        }
    }

    prop_compose! {
        /// A stored note: title, body, version, whether its hash is kept, its device.
        fn stored_strategy()(
            title in "[ab]{1,3}",
            body in "[xy\n]{0,12}",
            version in 1u64..4,
            hashed in proptest::bool::weighted(0.8),
            phone in any::<bool>(),
        ) -> (String, String, u64, bool, bool) {
            (title, body, version, hashed, phone)
        }
    }

    /// A note's current version, text hash and body, as the batch sees it.
    fn current(
        batch: &BatchJudgement,
        bodies: &Bodies,
        note: NoteId,
    ) -> Option<(Version, TextHash, String)> {
        let slot = batch.notes.get(&note)?;
        let body = match &slot.body {
            Body::Known(body) => body.clone(),
            Body::Unread | Body::Asked => bodies[&note].clone(),
        };
        Some((slot.version, TextHash::of(&slot.title, &body), body))
    }

    /// The op a spec stands for, bound to the note's current text where it asks for that.
    fn build(spec: &OpSpec, now: Option<&(Version, TextHash, String)>) -> PushOp {
        let (version, hash, body) = now
            .map_or((Version(0), TextHash::of("", ""), ""), |(v, h, b)| {
                (*v, *h, b.as_str())
            });
        let (base_version, base_hash, base_body) = match spec.base {
            BaseKind::Current => (version, Some(hash), body),
            BaseKind::OtherVersion(v) => (Version(v), Some(hash), body),
            BaseKind::OtherText => (version, Some(TextHash::of("other", "text")), "other\n"),
            BaseKind::NoHash => (version, None, body),
        };
        let mut op = PushOp {
            base_version: Some(base_version),
            base_hash,
            lww: spec.lww,
            device_id: if spec.phone { PHONE } else { LAPTOP },
            ..op(spec.op_id, spec.note, OpKind::Update)
        };
        match spec.kind {
            0 => {
                op.kind = OpKind::Create;
                op.title = Some(spec.title.clone());
                op.body = Some(spec.body.clone());
            }
            1 => {
                op.title = Some(spec.title.clone());
                op.body = Some(spec.body.clone());
            }
            2 => {
                op.title = Some(spec.title.clone());
                op.patch = Some(Patch::between(base_body, &spec.body));
            }
            3 => op.kind = OpKind::Delete,
            _ => op.kind = OpKind::Create,
        }
        op
    }

    proptest! {
        /// Whatever the ops and the notes, judging keeps the protocol's promises: a
        /// replayed op is answered as the first time and never applies twice; under merge
        /// policy a change applies only on its exact base (version and hash); an applied
        /// op gives its note the next version, takes the next change number and leaves the
        /// note with the op's text; any other answer changes nothing; the account never
        /// goes over its quota; and each note's text is read and sent at most once.
        #[test]
        fn judging_keeps_the_protocols_promises(
            notes in proptest::collection::vec(proptest::option::of(stored_strategy()), 3),
            specs in proptest::collection::vec(op_strategy(), 0..24),
            max_account_bytes in 0u64..4_000,
            stored_bytes in 0i64..2_000,
            max_batch_text_bytes in prop_oneof![1 => 0usize..60, 4 => 60usize..2_000],
        ) {
            let mut stored = HashMap::new();
            let mut bodies = Bodies::new();
            for (n, note) in notes.into_iter().enumerate() {
                let Some((title, body, version, hashed, phone)) = note else { continue };
                let id = note_id(n as u128);
                stored.insert(id, StoredNote {
                    hash: hashed.then(|| TextHash::of(&title, &body)),
                    size: (title.len() + body.len()) as i64,
                    title,
                    version: Version(version),
                    deleted: false,
                    updated_at: Millis(1),
                    device: Some(if phone { PHONE } else { LAPTOP }),
                });
                bodies.insert(id, body);
            }
            let limits = PushLimits {
                fields: FieldLimits::default(),
                max_batch_text_bytes,
                max_response_bytes: 40,
                max_account_bytes,
            };
            let counters = AccountCounters { change_seq: 100, stored_bytes };
            let mut batch = BatchJudgement::new(limits, counters, HashMap::new(), stored);
            let within_quota = stored_bytes <= max_account_bytes as i64;
            let mut applied: Vec<(OpId, PushResult)> = Vec::new();
            let mut read = HashSet::new();
            let mut sent = HashSet::new();
            for spec in &specs {
                let id = note_id(spec.note);
                let before = current(&batch, &bodies, id);
                let seq_before = batch.change_seq;
                let op = build(spec, before.as_ref());
                let (result, was_read) = match answer(&mut batch, &bodies, &op) {
                    Ok(answered) => answered,
                    // The whole batch fails: nothing of it is written.
                    Err(err) => {
                        prop_assert_eq!(err.max, max_batch_text_bytes);
                        prop_assert!(batch.budget.text_bytes > max_batch_text_bytes);
                        return Ok(());
                    }
                };
                if was_read {
                    prop_assert!(read.insert(id), "note {} read twice", spec.note);
                }
                let earlier = applied.iter().find(|(op_id, _)| *op_id == op.op_id);
                if let Some((_, original)) = earlier {
                    prop_assert_eq!(&result, &PushResult::Duplicate {
                        op_id: op.op_id,
                        original: Box::new(original.clone()),
                    });
                }
                let after = current(&batch, &bodies, id);
                match &result {
                    PushResult::Applied { version, .. } => {
                        prop_assert!(earlier.is_none(), "an op applied twice");
                        let next = before.as_ref().map_or(1, |(v, _, _)| v.0 + 1);
                        prop_assert_eq!(version.0, next);
                        prop_assert_eq!(batch.change_seq, seq_before + 1);
                        if let (Some((v, hash, body)), false) = (&before, op.lww) {
                            prop_assert_eq!(op.base_version, Some(*v));
                            prop_assert_eq!(op.base_hash, Some(*hash));
                            if let Some(patch) = &op.patch {
                                let made = patch.apply(body).unwrap();
                                let (_, _, now) = after.as_ref().unwrap();
                                prop_assert_eq!(now, &made);
                            }
                        }
                        if let (Some(title), Some(body)) = (&op.title, &op.body) {
                            let (_, hash, _) = after.as_ref().unwrap();
                            prop_assert_eq!(*hash, TextHash::of(title, body));
                        }
                        applied.push((op.op_id, result.clone()));
                    }
                    other => {
                        prop_assert_eq!(&after, &before, "{:?} changed its note", other);
                        prop_assert_eq!(batch.change_seq, seq_before);
                    }
                }
                if let PushResult::Conflict { note_id, version, current: Some(_), .. } = &result {
                    prop_assert!(sent.insert((*note_id, *version)), "a text sent twice");
                }
                if within_quota {
                    prop_assert!(stored_bytes + batch.budget.charged <= max_account_bytes as i64);
                }
            }
            let writes = batch.into_writes();
            prop_assert_eq!(writes.change_seq, 100 + applied.len() as i64);
            prop_assert_eq!(writes.applied, applied);
        }
    }
}
