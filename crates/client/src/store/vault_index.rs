//! The vault folder's index (see migrations/..._vault.sql and ..._vault_stamps.sql), and the
//! store operations the vault mirror needs beyond ordinary note edits. Everything a pass
//! does for many files is one transaction of multi-row statements.

use std::collections::HashMap;

use quire_core::validate::validate_fields;
use quire_core::vault::{FileHash, FileStamp};
use quire_core::{Note, NoteFields, NoteId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::import::{insert_new_notes, placeholders, ROWS_PER_STATEMENT};
use super::notes::{note_from_row, NOTE_COLUMNS};
use super::{decode, version_to_db, Store};
use crate::{clock, Error, Result};

/// What a note's file held when Quire last wrote or read it: the base an outside edit and
/// an app edit are merged from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultEntry {
    pub file_name: String,
    pub title: String,
    pub body: String,
}

/// A note's file as the index knows it, without its text: what every pass reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub note_id: NoteId,
    pub file_name: String,
    pub title: String,
    /// None: read the file next pass, whatever its metadata says.
    pub stamp: Option<FileStamp>,
    pub file_hash: Option<FileHash>,
}

/// A file just read or written, to remember.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub entry: VaultEntry,
    pub stamp: Option<FileStamp>,
    pub file_hash: FileHash,
}

/// A note whose text changed since the vault last wrote it; `seq` names this change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingNote {
    pub seq: i64,
    pub note_id: NoteId,
}

/// Stamps are unsigned; SQLite's integers are signed: the bits are kept as they are.
fn to_signed(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

fn to_unsigned(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

fn stamp_from_row(row: &SqliteRow) -> Result<Option<FileStamp>> {
    let size: Option<i64> = row.try_get("size")?;
    let mtime_ns: Option<i64> = row.try_get("mtime_ns")?;
    let inode: Option<i64> = row.try_get("inode")?;
    Ok(match (size, mtime_ns, inode) {
        (Some(size), Some(mtime_ns), Some(inode)) => Some(FileStamp {
            size: to_unsigned(size),
            mtime_ns,
            inode: to_unsigned(inode),
        }),
        _ => None,
    })
}

fn hash_from_row(row: &SqliteRow) -> Result<Option<FileHash>> {
    let bytes: Option<Vec<u8>> = row.try_get("file_hash")?;
    bytes
        .map(|bytes| {
            FileHash::try_from(bytes.as_slice())
                .map_err(|_| Error::Corrupt("vault file hash".to_owned()))
        })
        .transpose()
}

/// Writes `records` (insert or replace), `ROWS_PER_STATEMENT` at a time.
async fn upsert_records(
    tx: &mut Transaction<'_, Sqlite>,
    records: &[(NoteId, &FileRecord)],
) -> Result<()> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO vault_files
                (note_id, file_name, title, body, size, mtime_ns, inode, file_hash) VALUES {}
             ON CONFLICT (note_id) DO UPDATE SET file_name = excluded.file_name,
                title = excluded.title, body = excluded.body, size = excluded.size,
                mtime_ns = excluded.mtime_ns, inode = excluded.inode,
                file_hash = excluded.file_hash",
            placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for (id, record) in chunk {
            let stamp = record.stamp;
            query = query
                .bind(id.to_string())
                .bind(&record.entry.file_name)
                .bind(&record.entry.title)
                .bind(&record.entry.body)
                .bind(stamp.map(|s| to_signed(s.size)))
                .bind(stamp.map(|s| s.mtime_ns))
                .bind(stamp.map(|s| to_signed(s.inode)))
                .bind(record.file_hash.as_slice());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Runs `sql`, which ends in `IN (`, with `values` bound, `ROWS_PER_STATEMENT` at a time.
async fn execute_in<T>(
    tx: &mut Transaction<'_, Sqlite>,
    sql: &str,
    values: &[T],
    bind: impl Fn(&T) -> String,
) -> Result<()> {
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let sql = format!("{sql}{})", vec!["?"; chunk.len()].join(", "));
        let mut query = sqlx::query(&sql);
        for value in chunk {
            query = query.bind(bind(value));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Every file the index knows, without texts.
    pub(crate) async fn vault_files(&self) -> Result<Vec<IndexedFile>> {
        let rows = sqlx::query(
            "SELECT note_id, file_name, title, size, mtime_ns, inode, file_hash
             FROM vault_files INDEXED BY vault_files_stamps",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("note_id")?;
                Ok(IndexedFile {
                    note_id: decode(&id, "note id")?,
                    file_name: row.try_get("file_name")?,
                    title: row.try_get("title")?,
                    stamp: stamp_from_row(row)?,
                    file_hash: hash_from_row(row)?,
                })
            })
            .collect()
    }

    /// What the note's file held when Quire last wrote or read it, with its hash.
    pub(crate) async fn vault_entries(
        &self,
        ids: &[NoteId],
    ) -> Result<HashMap<NoteId, (VaultEntry, Option<FileHash>)>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT note_id, file_name, title, body, file_hash FROM vault_files
                 WHERE note_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                let id: String = row.try_get("note_id")?;
                let entry = VaultEntry {
                    file_name: row.try_get("file_name")?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                };
                found.insert(decode(&id, "note id")?, (entry, hash_from_row(&row)?));
            }
        }
        Ok(found)
    }

    /// Remembers files read or written, and that the pending changes `done` are in the
    /// folder now: one transaction.
    pub(crate) async fn record_vault_files(
        &self,
        records: &[(NoteId, FileRecord)],
        done: &[PendingNote],
    ) -> Result<()> {
        if records.is_empty() && done.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let refs: Vec<(NoteId, &FileRecord)> = records.iter().map(|(id, r)| (*id, r)).collect();
        upsert_records(&mut tx, &refs).await?;
        execute_in(
            &mut tx,
            "DELETE FROM vault_pending WHERE seq IN (",
            done,
            |p| p.seq.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// New stamps for files whose bytes were found unchanged (or that must be read again).
    pub(crate) async fn restamp_vault_files(
        &self,
        stamps: &[(NoteId, Option<FileStamp>)],
    ) -> Result<()> {
        if stamps.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (id, stamp) in stamps {
            sqlx::query(
                "UPDATE vault_files SET size = ?, mtime_ns = ?, inode = ? WHERE note_id = ?",
            )
            .bind(stamp.map(|s| to_signed(s.size)))
            .bind(stamp.map(|s| s.mtime_ns))
            .bind(stamp.map(|s| to_signed(s.inode)))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets these notes' files (gone, or no longer the note's), and that the pending
    /// changes `done` are dealt with.
    pub(crate) async fn forget_vault_files(
        &self,
        ids: &[NoteId],
        done: &[PendingNote],
    ) -> Result<()> {
        if ids.is_empty() && done.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        execute_in(
            &mut tx,
            "DELETE FROM vault_files WHERE note_id IN (",
            ids,
            NoteId::to_string,
        )
        .await?;
        execute_in(
            &mut tx,
            "DELETE FROM vault_pending WHERE seq IN (",
            done,
            |p| p.seq.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets what the folder held (it is not the folder the index describes).
    pub(crate) async fn clear_vault_index(&self) -> Result<()> {
        sqlx::query("DELETE FROM vault_files")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The notes whose text changed since the vault last wrote them, oldest change first.
    pub(crate) async fn vault_pending(&self) -> Result<Vec<PendingNote>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, note_id FROM vault_pending ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(seq, id)| {
                Ok(PendingNote {
                    seq,
                    note_id: decode(&id, "note id")?,
                })
            })
            .collect()
    }

    /// These notes (deleted ones too), oldest first; ids without a note are left out.
    pub(crate) async fn notes_with_ids(&self, ids: &[NoteId]) -> Result<Vec<Note>> {
        let mut notes = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {NOTE_COLUMNS} FROM notes WHERE id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                notes.push(note_from_row(&row)?);
            }
        }
        notes.sort_by_key(|note| (note.created_at, note.id.0));
        Ok(notes)
    }

    /// Every note, deleted ones too (their files go), oldest first.
    pub(crate) async fn all_notes(&self) -> Result<Vec<Note>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(note_from_row).collect()
    }

    /// New notes from new files, each with its queued op and its index entry, in one
    /// transaction. A file whose note would be invalid (an empty or overlong title, ...)
    /// gets its error; the others are taken in all the same.
    pub(crate) async fn take_in_new_files(
        &self,
        files: Vec<(NoteFields, FileRecord)>,
    ) -> Result<Vec<Result<NoteId>>> {
        let total = files.len();
        let mut valid = Vec::new();
        let mut records = Vec::new();
        let mut refused: Vec<(usize, Error)> = Vec::new();
        for (at, (fields, record)) in files.into_iter().enumerate() {
            match validate_fields(fields, &self.limits) {
                Ok(fields) => {
                    valid.push(fields);
                    records.push(record);
                }
                Err(err) => refused.push((at, err.into())),
            }
        }
        let notes = if valid.is_empty() {
            Vec::new()
        } else {
            let mut tx = self.begin_write().await?;
            let notes = insert_new_notes(&mut tx, valid, clock::now()).await?;
            let refs: Vec<(NoteId, &FileRecord)> =
                notes.iter().map(|n| n.id).zip(&records).collect();
            upsert_records(&mut tx, &refs).await?;
            tx.commit().await?;
            notes
        };
        // Back in the order given: each file its note, or why it has none.
        let mut made = notes.iter().map(|n| n.id);
        let mut refused = refused.into_iter().peekable();
        Ok((0..total)
            .map(
                |at| match refused.next_if(|(refused_at, _)| *refused_at == at) {
                    Some((_, err)) => Err(err),
                    None => made
                        .next()
                        .ok_or_else(|| Error::Corrupt("a vault file's new note".to_owned())),
                },
            )
            .collect())
    }

    /// A note edited in the app and in its file in ways that do not merge: the app's text
    /// stays, the file's waits in the conflict center like a conflict with another device.
    pub(crate) async fn record_file_conflict(
        &self,
        note: &Note,
        base: &str,
        from_file: &NoteFields,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO conflicts (id, note_id, base_body, mine_title, mine_body,
                theirs_title, theirs_body, theirs_version, created_at, from_file)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(note.id.to_string())
        .bind(base)
        .bind(&note.title)
        .bind(&note.body)
        .bind(&from_file.title)
        .bind(&from_file.body)
        .bind(note.version.map_or(Ok(0), version_to_db)?)
        .bind(clock::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
