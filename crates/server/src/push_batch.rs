//! A pushed batch: judged op by op against the notes' current state, written in one
//! transaction.
//!
//! The transaction first takes the account's change counter (`accounts.change_seq`). That
//! row lock orders every write of an account, so (1) a replayed op id is found before
//! anything else happens, and (2) changes commit in the order of their sequence numbers, so
//! a pull cursor can never step over a change that commits later.
//!
//! The batch reads what it needs up front (earlier answers for its op ids, and each touched
//! note's version, hash and size: two queries) and writes the outcome with a few multi-row
//! statements, which is what lets a server take thousands of ops a second (`make bench`).
//! Each op is judged on its own: a refused or conflicting op writes nothing and the others
//! go on. Only applied ops are remembered for replays: an op that changed nothing can
//! safely be judged again.
//!
//! What a stranger with an account can make a push cost is bounded (PRODUCT.md, "Limits"):
//! note texts are read only when an op needs one (a patch's base, a conflict answer), a
//! batch may make at most `max_batch_text_bytes` of new text, a response carries each
//! note's text at most once and at most `max_response_bytes` of text in all, a note keeps
//! at most `max_history_per_note` replaced texts (and a batch replaces each note's text at
//! most once), and the account's notes and history stay within `max_account_bytes`.

use std::collections::{HashMap, HashSet};

use quire_core::protocol::{NewText, NoteState, PushChange, PushOp, PushResult};
use quire_core::validate::{validate_fields, Limits as FieldLimits};
use quire_core::{Millis, NoteFields, NoteId, OpId, TextHash, Version};
use sqlx::{Any, Row, Transaction};

use crate::db::{in_list, values_list};
use crate::now;
use crate::problem::ApiError;

/// Rows per multi-row statement: well inside both engines' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Bytes an account is charged per stored note and per history entry beyond their text:
/// about what a row and its index entries take, so a million empty notes are not free.
pub const ROW_OVERHEAD: i64 = 256;

/// What one push may make the server compute, hold and store.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub fields: FieldLimits,
    /// New text (after patches) one batch may make, in bytes.
    pub max_batch_text_bytes: usize,
    /// Note text one response may carry in conflict answers, in bytes.
    pub max_response_bytes: usize,
    /// Bytes of notes and history one account may hold.
    pub max_account_bytes: u64,
    /// Replaced texts kept per note, newest first.
    pub max_history_per_note: u32,
}

/// Judges `ops` in order and writes what they change into `tx`; one result per op.
pub async fn apply(
    tx: &mut Transaction<'static, Any>,
    limits: &BatchLimits,
    account_id: &str,
    ops: &[PushOp],
) -> Result<Vec<PushResult>, ApiError> {
    let (seq, stored_bytes) = take_change_seq(tx, account_id).await?;
    let mut batch = Batch {
        account_id,
        limits,
        replays: earlier_results(tx, account_id, ops).await?,
        notes: current_notes(tx, account_id, ops).await?,
        seq,
        stored_bytes,
        made_text_bytes: 0,
        charged: 0,
        response_text_bytes: 0,
        sent_texts: HashSet::new(),
        applied: Vec::new(),
    };
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(batch.judge(tx, op).await?);
    }
    batch.write(tx).await?;
    Ok(results)
}

/// Takes the account row's lock (a no-op update) and reads its change counter and the bytes
/// it holds.
async fn take_change_seq(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
) -> Result<(i64, i64), ApiError> {
    let row = sqlx::query(
        "UPDATE accounts SET change_seq = change_seq WHERE id = $1
         RETURNING change_seq, stored_bytes",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("change_seq")?, row.try_get("stored_bytes")?))
}

/// The answers given before to any of these op ids.
async fn earlier_results(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<OpId, PushResult>, ApiError> {
    let mut found = HashMap::new();
    for chunk in ops.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT op_id, result FROM applied_ops WHERE account_id = $1 AND op_id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for op in chunk {
            query = query.bind(op.op_id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let op_id: String = row.try_get("op_id")?;
            let result: String = row.try_get("result")?;
            found.insert(
                op_id.parse().map_err(|_| ApiError::internal())?,
                serde_json::from_str(&result).map_err(|_| ApiError::internal())?,
            );
        }
    }
    Ok(found)
}

/// A note's text: still only in the database, or made by an op of this batch.
enum Body {
    Stored,
    New(String),
}

/// A touched note as the ops judged so far left it.
struct Slot {
    title: String,
    body: Body,
    version: Version,
    deleted: bool,
    updated_at: Millis,
    /// `None` for a row written before hashes were kept: computed when first needed.
    hash: Option<TextHash>,
    /// Bytes of title and body.
    size: i64,
    /// Bytes of title and body before this batch (0 for a note it creates).
    size_before: i64,
    /// The change-log place and device of this batch's last change, if it changed it.
    changed: Option<(i64, String)>,
    /// The text from before this batch goes to history (a last-write-wins op replaced it).
    keep_history: bool,
    /// An op of this batch gave the note a new text (a body only read stays unwritten).
    text_written: bool,
    /// The device that made the note's current text, as the database has it.
    device: Option<String>,
}

/// The notes these ops touch, as the server has them now, without their texts.
async fn current_notes(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    ops: &[PushOp],
) -> Result<HashMap<NoteId, Slot>, ApiError> {
    let mut ids: Vec<NoteId> = ops.iter().map(|op| op.note_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, title, version, deleted, updated_at, text_hash, size, device_id FROM notes
             WHERE account_id = $1 AND id IN ({})",
            in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let id: String = row.try_get("id")?;
            let version: i64 = row.try_get("version")?;
            let deleted: i64 = row.try_get("deleted")?;
            let hash: Option<String> = row.try_get("text_hash")?;
            let size: i64 = row.try_get("size")?;
            found.insert(
                id.parse().map_err(|_| ApiError::internal())?,
                Slot {
                    title: row.try_get("title")?,
                    body: Body::Stored,
                    version: Version(u64::try_from(version).map_err(|_| ApiError::internal())?),
                    deleted: deleted != 0,
                    updated_at: Millis(row.try_get("updated_at")?),
                    hash: hash.and_then(|h| h.parse().ok()),
                    size,
                    size_before: size,
                    changed: None,
                    keep_history: false,
                    text_written: false,
                    device: row.try_get("device_id")?,
                },
            );
        }
    }
    Ok(found)
}

async fn stored_body(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    note_id: NoteId,
) -> Result<String, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT body FROM notes WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(note_id.to_string())
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// What an op does to its note, once judged.
enum Outcome {
    /// The note's new text (`None`: a delete, which keeps the text as the tombstone's).
    Write {
        fields: Option<NoteFields>,
        /// The text from before this batch goes to history (see [`Batch::made`]).
        keep_history: bool,
    },
    Answer(PushResult),
}

struct Batch<'a> {
    account_id: &'a str,
    limits: &'a BatchLimits,
    /// Answers to remember, by op id: earlier batches' and this one's.
    replays: HashMap<OpId, PushResult>,
    notes: HashMap<NoteId, Slot>,
    /// The last change sequence number handed out.
    seq: i64,
    /// Bytes the account held before this batch.
    stored_bytes: i64,
    made_text_bytes: usize,
    /// What this batch's ops added to the account's bytes so far (see `ROW_OVERHEAD`).
    charged: i64,
    response_text_bytes: usize,
    /// Notes (and versions) whose text this response already carries.
    sent_texts: HashSet<(NoteId, Version)>,
    /// Applied ops and their answers, to remember for replays.
    applied: Vec<(OpId, PushResult)>,
}

impl Batch<'_> {
    async fn judge(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        op: &PushOp,
    ) -> Result<PushResult, ApiError> {
        if let Some(original) = self.replays.get(&op.op_id) {
            return Ok(PushResult::Duplicate {
                op_id: op.op_id,
                original: Box::new(original.clone()),
            });
        }
        let outcome = self.decide(tx, op).await?;
        let Outcome::Write {
            fields,
            keep_history,
        } = outcome
        else {
            let Outcome::Answer(result) = outcome else {
                return Err(ApiError::internal());
            };
            return Ok(result);
        };
        let server_time = now();
        self.seq += 1;
        let changed = (self.seq, op.device_id.to_string());
        let version = match self.notes.get_mut(&op.note_id) {
            Some(slot) => {
                slot.keep_history |= keep_history;
                slot.version = Version(slot.version.0 + 1);
                slot.updated_at = server_time;
                slot.changed = Some(changed);
                match fields {
                    Some(fields) => {
                        slot.set_text(fields);
                        slot.deleted = false;
                    }
                    None => slot.deleted = true,
                }
                slot.version
            }
            None => {
                let fields = fields.ok_or_else(ApiError::internal)?;
                let mut slot = Slot {
                    title: String::new(),
                    body: Body::Stored,
                    version: Version(1),
                    deleted: false,
                    updated_at: server_time,
                    hash: None,
                    size: 0,
                    size_before: 0,
                    changed: Some(changed),
                    keep_history: false,
                    text_written: false,
                    device: None,
                };
                slot.set_text(fields);
                self.notes.insert(op.note_id, slot);
                Version(1)
            }
        };
        let result = PushResult::Applied {
            op_id: op.op_id,
            version,
            server_time,
        };
        self.replays.insert(op.op_id, result.clone());
        self.applied.push((op.op_id, result.clone()));
        Ok(result)
    }

    fn rejected(op: &PushOp, reason: impl Into<String>) -> Outcome {
        Outcome::Answer(PushResult::Rejected {
            op_id: op.op_id,
            reason: reason.into(),
        })
    }

    async fn decide(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        op: &PushOp,
    ) -> Result<Outcome, ApiError> {
        let change = match op.change() {
            Ok(change) => change,
            Err(reason) => return Ok(Self::rejected(op, reason)),
        };
        let exists = self.notes.contains_key(&op.note_id);
        let (title, text) = match (change, exists) {
            (PushChange::Create { .. }, true) => {
                return Ok(Self::rejected(op, "a note with this id already exists"))
            }
            (PushChange::Create { title, body }, false) => {
                return self.made(op, NoteFields::new(title, body), false);
            }
            (PushChange::Update { .. } | PushChange::Delete, false) => {
                return Ok(Self::rejected(op, "no note with this id in this account"))
            }
            (PushChange::Delete, true) => {
                return Ok(if op.lww || self.base_matches(tx, op).await? {
                    Outcome::Write {
                        fields: None,
                        keep_history: false,
                    }
                } else {
                    Outcome::Answer(self.conflict(tx, op).await?)
                });
            }
            (PushChange::Update { title, text }, true) => (title, text),
        };
        let base_matches = self.base_matches(tx, op).await?;
        if !op.lww && !base_matches {
            return Ok(Outcome::Answer(self.conflict(tx, op).await?));
        }
        let body = match text {
            NewText::Full(body) => body.to_owned(),
            // A patch applies only to its exact base.
            NewText::Patch(_) if !base_matches => return Ok(self.need_full_text(op)),
            // A patch that would make a note over the limit is refused before it is applied:
            // applying it would cost the server what the op never sent.
            NewText::Patch(patch)
                if patch
                    .output_len()
                    .is_none_or(|len| len > self.limits.fields.max_body_bytes) =>
            {
                return Ok(Self::rejected(
                    op,
                    format!(
                        "the patch makes a note over {} bytes",
                        self.limits.fields.max_body_bytes
                    ),
                ))
            }
            NewText::Patch(patch) => match patch.apply(self.body(tx, op.note_id).await?) {
                Ok(body) => body,
                // Cannot happen for a patch made on this exact text; the full text settles
                // it, and nothing the person wrote is refused over it.
                Err(_) => return Ok(self.need_full_text(op)),
            },
        };
        self.made(op, NoteFields::new(title, body), !base_matches)
    }

    /// Checks a new text, counts it against the batch's bound, and charges what it adds to
    /// the account's quota (an op that would overfill the account is deferred: it stays
    /// queued on its device, and the rest of the batch goes on).
    fn made(
        &mut self,
        op: &PushOp,
        fields: NoteFields,
        replaces_unseen: bool,
    ) -> Result<Outcome, ApiError> {
        let fields = match validate_fields(fields, &self.limits.fields) {
            Ok(fields) => fields,
            Err(err) => return Ok(Self::rejected(op, err.to_string())),
        };
        let size = i64::try_from(fields.title.len() + fields.body.len()).unwrap_or(i64::MAX);
        let slot = self.notes.get(&op.note_id);
        // Only the text from before the batch is kept: a text an earlier op of this batch
        // made was the same device's, and its own next op supersedes it. A last-write-wins
        // op keeps what it replaces when it never saw it or another device wrote it (a
        // device rebases such an op on the text it overwrites); an equal text loses nothing.
        let device = op.device_id.to_string();
        let keep_history = slot.is_some_and(|slot| {
            let unseen = replaces_unseen || (op.lww && slot.device.as_deref() != Some(&device));
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

    /// Counts text this batch made or read against its bound: what a push may make the
    /// server compute and hold.
    fn spend(&mut self, bytes: usize) -> Result<(), ApiError> {
        self.made_text_bytes = self.made_text_bytes.saturating_add(bytes);
        if self.made_text_bytes > self.limits.max_batch_text_bytes {
            return Err(ApiError::too_large(format!(
                "this push makes or reads more than {} bytes of note text; send fewer ops at once",
                self.limits.max_batch_text_bytes
            )));
        }
        Ok(())
    }

    fn need_full_text(&self, op: &PushOp) -> Outcome {
        let version = self
            .notes
            .get(&op.note_id)
            .map_or(Version(0), |s| s.version);
        Outcome::Answer(PushResult::NeedFullText {
            op_id: op.op_id,
            current_version: version,
        })
    }

    /// Whether the op was made on the note's current text: its version and its hash.
    async fn base_matches(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        op: &PushOp,
    ) -> Result<bool, ApiError> {
        let Some(slot) = self.notes.get(&op.note_id) else {
            return Ok(false);
        };
        if op.base_version != Some(slot.version) {
            return Ok(false);
        }
        let Some(base_hash) = op.base_hash else {
            return Ok(false);
        };
        Ok(self.hash(tx, op.note_id).await? == base_hash)
    }

    async fn hash(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        note_id: NoteId,
    ) -> Result<TextHash, ApiError> {
        if let Some(hash) = self.notes.get(&note_id).and_then(|slot| slot.hash) {
            return Ok(hash);
        }
        let body = self.body(tx, note_id).await?.to_owned();
        let slot = self
            .notes
            .get_mut(&note_id)
            .ok_or_else(ApiError::internal)?;
        let hash = TextHash::of(&slot.title, &body);
        slot.hash = Some(hash);
        Ok(hash)
    }

    /// The note's body, read from the database the first time it is needed.
    async fn body(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        note_id: NoteId,
    ) -> Result<&str, ApiError> {
        let slot = self.notes.get(&note_id).ok_or_else(ApiError::internal)?;
        if let Body::Stored = slot.body {
            let size = slot.size;
            self.spend(usize::try_from(size).unwrap_or(usize::MAX))?;
            let body = stored_body(tx, self.account_id, note_id).await?;
            if let Some(slot) = self.notes.get_mut(&note_id) {
                slot.body = Body::New(body);
            }
        }
        let slot = self.notes.get(&note_id).ok_or_else(ApiError::internal)?;
        match &slot.body {
            Body::New(body) => Ok(body),
            Body::Stored => Err(ApiError::internal()),
        }
    }

    /// A conflict answer; the note's text goes with it once per response, within the
    /// response's bound.
    async fn conflict(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        op: &PushOp,
    ) -> Result<PushResult, ApiError> {
        let slot = self.notes.get(&op.note_id).ok_or_else(ApiError::internal)?;
        let version = slot.version;
        let size = usize::try_from(slot.size).unwrap_or(usize::MAX);
        let fits = self.response_text_bytes.saturating_add(size) <= self.limits.max_response_bytes;
        let current = if fits && self.sent_texts.insert((op.note_id, version)) {
            self.response_text_bytes += size;
            let body = self.body(tx, op.note_id).await?.to_owned();
            let slot = self.notes.get(&op.note_id).ok_or_else(ApiError::internal)?;
            Some(NoteState {
                id: op.note_id,
                title: slot.title.clone(),
                body,
                version,
                deleted: slot.deleted,
                updated_at: slot.updated_at,
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

    /// Writes the batch's changes: history, notes, remembered answers, the counters.
    async fn write(self, tx: &mut Transaction<'static, Any>) -> Result<(), ApiError> {
        let account_id = self.account_id;
        let written_at = now();
        // The ops were charged one by one as they were judged (over the quota: deferred);
        // what history pruning frees comes off below.
        let mut grown = self.charged;
        let mut ids: Vec<&NoteId> = self.notes.keys().collect();
        ids.sort_unstable();
        for id in ids.iter().filter(|id| self.notes[**id].keep_history) {
            let slot = &self.notes[*id];
            let charged = slot.size_before + ROW_OVERHEAD;
            grown +=
                keep_in_history(tx, account_id, **id, written_at, self.limits, charged).await?;
        }
        // Notes with a new text, in one statement per chunk.
        let with_text: Vec<(&NoteId, &Slot, &str, &(i64, String))> = ids
            .iter()
            .filter_map(|id| {
                let slot = &self.notes[*id];
                match (&slot.body, &slot.changed) {
                    (Body::New(body), Some(changed)) if slot.text_written => {
                        Some((*id, slot, body.as_str(), changed))
                    }
                    _ => None,
                }
            })
            .collect();
        for chunk in with_text.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO notes
                    (account_id, id, title, body, version, deleted, updated_at, change_seq,
                     device_id, text_hash, size)
                 VALUES {}
                 ON CONFLICT (account_id, id) DO UPDATE SET
                    title = excluded.title, body = excluded.body, version = excluded.version,
                    deleted = excluded.deleted, updated_at = excluded.updated_at,
                    change_seq = excluded.change_seq, device_id = excluded.device_id,
                    text_hash = excluded.text_hash, size = excluded.size",
                values_list(chunk.len(), 11, 1)
            );
            let mut query = sqlx::query(&sql);
            for (id, slot, body, (seq, device)) in chunk {
                query = query
                    .bind(account_id)
                    .bind(id.to_string())
                    .bind(slot.title.as_str())
                    .bind(*body)
                    .bind(db_version(slot.version)?)
                    .bind(i64::from(slot.deleted))
                    .bind(slot.updated_at.0)
                    .bind(*seq)
                    .bind(device.as_str())
                    .bind(slot.hash.map(TextHash::to_hex))
                    .bind(slot.size);
            }
            query.execute(&mut **tx).await?;
        }
        // Notes whose text stayed as it was (deletes): their text is not rewritten.
        for id in &ids {
            let slot = &self.notes[*id];
            let Some((seq, device)) = &slot.changed else {
                continue;
            };
            if slot.text_written {
                continue;
            }
            sqlx::query(
                "UPDATE notes SET version = $1, deleted = $2, updated_at = $3, change_seq = $4,
                    device_id = $5, text_hash = coalesce($6, text_hash)
                 WHERE account_id = $7 AND id = $8",
            )
            .bind(db_version(slot.version)?)
            .bind(i64::from(slot.deleted))
            .bind(slot.updated_at.0)
            .bind(*seq)
            .bind(device.as_str())
            .bind(slot.hash.map(TextHash::to_hex))
            .bind(account_id)
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
        }
        for chunk in self.applied.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO applied_ops (account_id, op_id, result, created_at) VALUES {}",
                values_list(chunk.len(), 4, 1)
            );
            let mut query = sqlx::query(&sql);
            for (op_id, result) in chunk {
                query = query
                    .bind(account_id)
                    .bind(op_id.to_string())
                    .bind(serde_json::to_string(result).map_err(|_| ApiError::internal())?)
                    .bind(written_at.0);
            }
            query.execute(&mut **tx).await?;
        }
        if !self.applied.is_empty() {
            sqlx::query(
                "UPDATE accounts SET change_seq = $2, stored_bytes = stored_bytes + $3
                 WHERE id = $1",
            )
            .bind(account_id)
            .bind(self.seq)
            .bind(grown)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

impl Slot {
    fn set_text(&mut self, fields: NoteFields) {
        self.hash = Some(TextHash::of(&fields.title, &fields.body));
        self.size = i64::try_from(fields.title.len() + fields.body.len()).unwrap_or(i64::MAX);
        self.title = fields.title;
        self.body = Body::New(fields.body);
        self.text_written = true;
    }
}

/// Copies the note's stored text into its history, then drops the oldest entries beyond
/// the per-note bound. The entry was charged when its op was judged; returns the
/// correction: what the dropped entries held, and the charge back if there was nothing to
/// copy (history already had that version).
async fn keep_in_history(
    tx: &mut Transaction<'static, Any>,
    account_id: &str,
    note_id: NoteId,
    at: Millis,
    limits: &BatchLimits,
    charged: i64,
) -> Result<i64, ApiError> {
    let id = note_id.to_string();
    let kept = sqlx::query(
        "INSERT INTO note_history
            (account_id, note_id, version, title, body, deleted, replaced_at, size)
         SELECT account_id, id, version, title, body, deleted, CAST($3 AS BIGINT), size FROM notes
         WHERE account_id = $1 AND id = $2
         ON CONFLICT (account_id, note_id, version) DO NOTHING
         RETURNING version",
    )
    .bind(account_id)
    .bind(&id)
    .bind(at.0)
    .fetch_optional(&mut **tx)
    .await?;
    let refund = if kept.is_some() { 0 } else { charged };
    // The oldest entries beyond the bound: below the bound-th newest version.
    let keep = i64::from(limits.max_history_per_note.max(1)) - 1;
    let cutoff = "(SELECT version FROM note_history WHERE account_id = $1 AND note_id = $2
                   ORDER BY version DESC LIMIT 1 OFFSET $3)";
    let dropped: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(coalesce(sum(size + {ROW_OVERHEAD}), 0) AS BIGINT) FROM note_history
         WHERE account_id = $1 AND note_id = $2 AND version < {cutoff}"
    ))
    .bind(account_id)
    .bind(&id)
    .bind(keep)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "DELETE FROM note_history WHERE account_id = $1 AND note_id = $2 AND version < {cutoff}"
    ))
    .bind(account_id)
    .bind(&id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(-refund - dropped)
}

fn db_version(version: Version) -> Result<i64, ApiError> {
    i64::try_from(version.0).map_err(|_| ApiError::internal())
}
