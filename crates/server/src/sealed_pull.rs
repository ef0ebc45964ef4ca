//! The sealed chains a pull or a note read sends (docs/e2e-design.md, "Pull, differential
//! downwards"). A device that pulled up to cursor `c` holds every note as it was at `c`, and
//! the text of every change it made itself. So for a changed note it needs only the entries
//! of the note's current chain after `c`, and after its own latest one: the patches since
//! what it has, or, when a snapshot replaced the chain meanwhile, the chain from that
//! snapshot. The server never opens an entry to decide.
//!
//! A pull reads a page's notes and their entries in one statement (a note row joined with
//! each of its entries, [`JOINED_ENTRY_COLUMNS`]): a second statement listing the page's
//! note ids cost another index walk per note and as many rows again.

use quire_core::protocol::{SealedBytes, SealedEntry, SealedForm};
use quire_core::{NoteId, OpId, Version};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::db::Engine;
use crate::problem::ApiError;
use crate::push_batch::version_from_db;

/// An entry as stored, with who made it.
pub struct StoredEntry {
    entry: SealedEntry,
    device: String,
}

impl StoredEntry {
    pub fn into_entry(self) -> SealedEntry {
        self.entry
    }
}

/// The entry columns (of `note_entries e`) as [`entry_from_row`] reads them; in a pull
/// joined to the note row, they are NULL for a note without entries to send.
pub const JOINED_ENTRY_COLUMNS: &str = "e.version AS entry_version, e.op_id AS entry_op_id, \
     e.base_version AS entry_base_version, e.form AS entry_form, e.data AS entry_data, \
     e.device_id AS entry_device";

/// The entry in a row selected with [`JOINED_ENTRY_COLUMNS`], if the row has one.
pub fn entry_from_row(row: &AnyRow) -> Result<Option<StoredEntry>, ApiError> {
    let version = |column: &str| -> Result<Option<Version>, ApiError> {
        let value: Option<i64> = row.try_get(column)?;
        value.map(version_from_db).transpose()
    };
    let Some(entry_version) = version("entry_version")? else {
        return Ok(None);
    };
    let op_id: String = row.try_get("entry_op_id")?;
    let form: String = row.try_get("entry_form")?;
    Ok(Some(StoredEntry {
        entry: SealedEntry {
            version: entry_version,
            op_id: op_id.parse::<OpId>().map_err(|_| ApiError::internal())?,
            base_version: version("entry_base_version")?,
            form: SealedForm::parse(&form).ok_or_else(ApiError::internal)?,
            data: SealedBytes(row.try_get("entry_data")?),
        },
        device: row.try_get("entry_device")?,
    }))
}

/// What the asking `device` is sent of a note's entries after the cursor (in version
/// order): those after its own latest one, since what it made itself, and everything
/// before it, it has.
pub fn chain_for(mut chain: Vec<StoredEntry>, device: Option<&str>) -> Vec<SealedEntry> {
    if let Some(own) = device.and_then(|device| chain.iter().rposition(|e| e.device == device)) {
        chain.drain(..=own);
    }
    chain.into_iter().map(|stored| stored.entry).collect()
}

/// A note's current chain: its snapshot and everything after it, or only the entries after
/// cursor `since` (0 for the whole chain), in version order; none after `up_to`, the
/// change its note row was read at, so that the chain matches the row even when a push
/// lands between the two statements.
pub async fn chain_after(
    pool: &AnyPool,
    engine: Engine,
    account_id: &str,
    note_id: NoteId,
    (since, up_to): (i64, i64),
) -> Result<Vec<StoredEntry>, ApiError> {
    let p = |n| engine.param(n);
    let rows = sqlx::query(&format!(
        "SELECT {JOINED_ENTRY_COLUMNS} FROM note_entries e
         JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
         WHERE e.account_id = {} AND e.note_id = {} AND e.change_seq > {}
           AND e.change_seq <= {} AND e.version >= n.snapshot_version
         ORDER BY e.version",
        p(1),
        p(2),
        p(3),
        p(4)
    ))
    .bind(account_id)
    .bind(note_id.to_string())
    .bind(since)
    .bind(up_to)
    .fetch_all(pool)
    .await?;
    let mut chain = Vec::with_capacity(rows.len());
    for row in &rows {
        chain.extend(entry_from_row(row)?);
    }
    Ok(chain)
}
