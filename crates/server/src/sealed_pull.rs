//! The sealed chains a pull or a note read sends (docs/e2e-design.md, "Pull, differential
//! downwards"). A device that pulled up to cursor `c` holds every note as it was at `c`, and
//! the text of every change it made itself. So for a changed note it needs only the entries
//! of the note's current chain after `c`, and after its own latest one: the patches since
//! what it has, or, when a snapshot replaced the chain meanwhile, the chain from that
//! snapshot. The server never opens an entry to decide.

use std::collections::HashMap;

use quire_core::protocol::{Change, SealedBytes, SealedEntry, SealedForm};
use quire_core::{NoteId, OpId, Version};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::db::Engine;
use crate::problem::ApiError;
use crate::push_batch::ROWS_PER_STATEMENT;

/// An entry as stored, with where it sits in the change log and who made it.
struct StoredEntry {
    entry: SealedEntry,
    change_seq: i64,
    device: String,
}

fn entry_from_row(row: &AnyRow) -> Result<StoredEntry, ApiError> {
    let version = |column: &str| -> Result<Option<Version>, ApiError> {
        let value: Option<i64> = row.try_get(column)?;
        value
            .map(|v| u64::try_from(v).map(Version))
            .transpose()
            .map_err(|_| ApiError::internal())
    };
    let op_id: String = row.try_get("op_id")?;
    let form: String = row.try_get("form")?;
    Ok(StoredEntry {
        entry: SealedEntry {
            version: version("version")?.ok_or_else(ApiError::internal)?,
            op_id: op_id.parse::<OpId>().map_err(|_| ApiError::internal())?,
            base_version: version("base_version")?,
            form: SealedForm::parse(&form).ok_or_else(ApiError::internal)?,
            data: SealedBytes(row.try_get("data")?),
        },
        change_seq: row.try_get("change_seq")?,
        device: row.try_get("device_id")?,
    })
}

const ENTRY_COLUMNS: &str = "e.note_id, e.version, e.op_id, e.base_version, e.form, e.data, \
                             e.change_seq, e.device_id";

/// Fills in the sealed entries of the page's sealed notes (those whose `sealed` is
/// `Some`): the current chain's entries after `since`, and after the asking `device`'s own
/// latest entry.
pub async fn attach_entries(
    pool: &AnyPool,
    engine: Engine,
    account_id: &str,
    since: i64,
    device: Option<&str>,
    changes: &mut [Change],
) -> Result<(), ApiError> {
    let sealed: Vec<NoteId> = changes
        .iter()
        .filter(|change| change.note.sealed.is_some())
        .map(|change| change.note.id)
        .collect();
    let mut chains: HashMap<NoteId, Vec<StoredEntry>> = HashMap::new();
    for chunk in sealed.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM note_entries e
             JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
             WHERE e.account_id = {} AND e.change_seq > {}
               AND e.version >= n.snapshot_version AND e.note_id IN ({})
             ORDER BY e.note_id, e.version",
            engine.param(1),
            engine.param(2),
            engine.in_list(chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql).bind(account_id).bind(since);
        for id in chunk {
            query = query.bind(id.to_string());
        }
        for row in query.fetch_all(pool).await? {
            let note: String = row.try_get("note_id")?;
            let note: NoteId = note.parse().map_err(|_| ApiError::internal())?;
            chains.entry(note).or_default().push(entry_from_row(&row)?);
        }
    }
    for change in changes.iter_mut() {
        let Some(entries) = change.note.sealed.as_mut() else {
            continue;
        };
        let mut chain = chains.remove(&change.note.id).unwrap_or_default();
        // What this device made itself, and everything before it, it has.
        if let Some(own) = device.and_then(|device| chain.iter().rposition(|e| e.device == device))
        {
            chain.drain(..=own);
        }
        debug_assert!(chain.iter().all(|e| e.change_seq > since));
        *entries = chain.into_iter().map(|stored| stored.entry).collect();
    }
    Ok(())
}

/// A note's whole current chain: its snapshot and everything after it.
pub async fn whole_chain(
    pool: &AnyPool,
    account_id: &str,
    note_id: NoteId,
) -> Result<Vec<SealedEntry>, ApiError> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM note_entries e
         JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
         WHERE e.account_id = $1 AND e.note_id = $2 AND e.version >= n.snapshot_version
         ORDER BY e.version"
    ))
    .bind(account_id)
    .bind(note_id.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| entry_from_row(row).map(|stored| stored.entry))
        .collect()
}
