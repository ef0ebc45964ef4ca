//! A pushed batch of sealed ops (an end-to-end account's): loaded, judged by
//! [`quire_core::sealed_judgement`] and written in one transaction, like
//! [`crate::push_batch`] (whose counter lock, replay lookup and bookkeeping it shares). The
//! server stores each op's sealed value as an entry of its note's chain (`note_entries`)
//! and never reads one back while judging: a conflict answer carries no text.

use std::collections::HashMap;

use quire_core::digest::bucket_of;
use quire_core::protocol::{PushOp, PushResult};
use quire_core::push_judgement::AccountCounters;
use quire_core::sealed_judgement::{SealedJudgement, SealedLimits, SealedWrites, StoredChain};
use quire_core::{Millis, NoteId, TextHash};
use sqlx::{Any, Row, Transaction};

use crate::clock::now;
use crate::config::Limits;
use crate::db::Engine;
use crate::digest::{part_of, DigestChanges};
use crate::problem::ApiError;
use crate::push_batch::{
    db_version, earlier_results, remember, version_from_db, ROWS_PER_STATEMENT,
};

/// What a sealed value may weigh beyond the note it holds: the seal's format byte, nonce
/// and tag, zstd's frame and the record's own fields, generously.
const SEAL_ALLOWANCE: usize = 4096;

/// The largest sealed value this server takes: a note at its limit, sealed.
pub fn max_sealed_bytes(limits: &Limits) -> usize {
    limits.max_note_bytes.saturating_add(SEAL_ALLOWANCE)
}

/// Judges sealed `ops` in order and writes what they change into `tx`; one result per op.
pub async fn apply(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    limits: &Limits,
    account_id: &str,
    counters: AccountCounters,
    ops: &[PushOp],
) -> Result<Vec<PushResult>, ApiError> {
    let replays = earlier_results(tx, engine, account_id, ops).await?;
    let (notes, counted) = current_chains(tx, engine, account_id, ops).await?;
    let limits = SealedLimits {
        max_sealed_bytes: max_sealed_bytes(limits),
        max_account_bytes: limits.max_account_bytes,
    };
    let mut judgement = SealedJudgement::new(limits, counters, replays, notes);
    let results = ops.iter().map(|op| judgement.judge(op, now())).collect();
    write(tx, engine, account_id, judgement.into_writes(), &counted).await?;
    Ok(results)
}

/// Each note's part of the account's digest as stored (`None`: not counted yet).
type CountedParts = HashMap<NoteId, Option<i64>>;

/// The chains these ops touch, without their values, and their parts of the digest.
async fn current_chains(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    ops: &[PushOp],
) -> Result<(HashMap<NoteId, StoredChain>, CountedParts), ApiError> {
    let mut ids: Vec<NoteId> = ops.iter().map(|op| op.note_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::new();
    let mut counted = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, version, deleted, updated_at, snapshot_version, size, device_id, text_hash,
                    purged, digest_part
             FROM notes WHERE account_id = {} AND id IN ({})",
            engine.param(1),
            engine.in_list(chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(account_id);
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(&mut **tx).await? {
            let id: String = row.try_get("id")?;
            let deleted: i64 = row.try_get("deleted")?;
            let snapshot: Option<i64> = row.try_get("snapshot_version")?;
            let size: i64 = row.try_get("size")?;
            let device: Option<String> = row.try_get("device_id")?;
            let mac: Option<String> = row.try_get("text_hash")?;
            let purged: i64 = row.try_get("purged")?;
            let version = version_from_db;
            let id: NoteId = id.parse().map_err(|_| ApiError::internal())?;
            counted.insert(id, row.try_get::<Option<i64>, _>("digest_part")?);
            found.insert(
                id,
                StoredChain {
                    version: version(row.try_get("version")?)?,
                    deleted: deleted != 0,
                    updated_at: Millis(row.try_get("updated_at")?),
                    // A note stored in the clear has no snapshot; its text and row are
                    // what a sealed snapshot replaces.
                    snapshot_version: version(snapshot.unwrap_or(0))?,
                    chain_bytes: match snapshot {
                        Some(_) => size,
                        None => size + quire_core::push_judgement::ROW_OVERHEAD,
                    },
                    device: device.and_then(|d| d.parse().ok()),
                    // A note in the clear keeps the plain hash there, no keyed one.
                    mac: snapshot.and(mac).and_then(|m| m.parse().ok()),
                    purged: purged != 0,
                },
            );
        }
    }
    Ok((found, counted))
}

/// Writes the batch: new entries (those a snapshot starts over from stay, as the note's
/// history), the notes' rows, remembered answers, the counters.
async fn write(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    writes: SealedWrites,
    counted: &CountedParts,
) -> Result<(), ApiError> {
    let entries: Vec<_> = writes
        .notes
        .iter()
        .flat_map(|note| note.entries.iter().map(move |entry| (note.id, entry)))
        .collect();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO note_entries
                (account_id, note_id, version, change_seq, op_id, base_version, form, data,
                 device_id, created_at)
             VALUES {}",
            engine.values_list(chunk.len(), 10, 1)
        );
        let mut query = sqlx::query(&sql);
        for (note_id, new) in chunk {
            let base = new.entry.base_version.map(db_version).transpose()?;
            query = query
                .bind(account_id)
                .bind(note_id.to_string())
                .bind(db_version(new.entry.version)?)
                .bind(new.change_seq)
                .bind(new.entry.op_id.to_string())
                .bind(base)
                .bind(new.entry.form.as_str())
                .bind(new.entry.data.0.clone())
                .bind(new.device.to_string())
                .bind(new.created_at.0);
        }
        query.execute(&mut **tx).await?;
    }
    // The rows: no title or body (a note stored in the clear loses its text here), the
    // chain's bytes as the note's size, the keyed hash of its text for the next op's base,
    // and its part of the account's digest.
    let mut digest = DigestChanges::default();
    for chunk in writes.notes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO notes
                (account_id, id, title, body, version, deleted, updated_at, change_seq,
                 device_id, text_hash, size, snapshot_version, digest_bucket, digest_part)
             VALUES {}
             ON CONFLICT (account_id, id) DO UPDATE SET
                title = excluded.title, body = excluded.body, version = excluded.version,
                deleted = excluded.deleted, updated_at = excluded.updated_at,
                change_seq = excluded.change_seq, device_id = excluded.device_id,
                text_hash = excluded.text_hash, size = excluded.size,
                snapshot_version = excluded.snapshot_version,
                digest_bucket = excluded.digest_bucket, digest_part = excluded.digest_part",
            engine.values_list(chunk.len(), 14, 1)
        );
        let mut query = sqlx::query(&sql);
        for note in chunk {
            // A note left in the clear until now was never counted.
            let old = counted.get(&note.id).copied().flatten();
            let part = part_of(note.id, note.version, note.deleted, false, note.mac);
            digest.replace(note.id, old, part);
            query = query
                .bind(account_id)
                .bind(note.id.to_string())
                .bind("")
                .bind("")
                .bind(db_version(note.version)?)
                .bind(i64::from(note.deleted))
                .bind(note.updated_at.0)
                .bind(note.change_seq)
                .bind(note.device.to_string())
                .bind(note.mac.map(TextHash::to_hex))
                .bind(note.chain_bytes)
                .bind(db_version(note.snapshot_version)?)
                .bind(i64::from(bucket_of(note.id)))
                .bind(part);
        }
        query.execute(&mut **tx).await?;
    }
    digest.write(tx, engine, account_id).await?;
    let freed = drop_plain_history(tx, engine, account_id, &writes).await?;
    remember(
        tx,
        engine,
        account_id,
        &writes.applied,
        writes.change_seq,
        writes.charged_bytes - freed,
    )
    .await
}

/// The plain history of the notes this batch took out of the clear (an upgraded account's):
/// dropped, like their plain text; what it held is returned, to be freed.
async fn drop_plain_history(
    tx: &mut Transaction<'static, Any>,
    engine: Engine,
    account_id: &str,
    writes: &SealedWrites,
) -> Result<i64, ApiError> {
    let left: Vec<String> = writes
        .notes
        .iter()
        .filter(|note| note.left_the_clear)
        .map(|note| note.id.to_string())
        .collect();
    if !left.is_empty() {
        // The upgrade goes on: devices other than the one sealing wait longer.
        sqlx::query(
            "UPDATE accounts SET upgrade_progress_at = $1
             WHERE id = $2 AND upgrade_manifest IS NOT NULL",
        )
        .bind(crate::clock::now().0)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    }
    let mut freed = 0;
    for chunk in left.chunks(ROWS_PER_STATEMENT) {
        let which = format!(
            "FROM note_history WHERE account_id = {} AND note_id IN ({})",
            engine.param(1),
            engine.in_list(chunk.len(), 2)
        );
        let sum = format!(
            "SELECT CAST(coalesce(sum(size + {}), 0) AS BIGINT) {which}",
            quire_core::push_judgement::ROW_OVERHEAD
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sum).bind(account_id);
        for id in chunk {
            query = query.bind(id);
        }
        freed += query.fetch_one(&mut **tx).await?;
        let delete = format!("DELETE {which}");
        let mut query = sqlx::query(&delete).bind(account_id);
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(freed)
}
