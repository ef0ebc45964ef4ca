//! The vault folder's index (see migrations/..._vault.sql and ..._vault_stamps.sql), and the
//! store operations the vault mirror needs beyond ordinary note edits. Everything a pass
//! does for many files is one transaction of multi-row statements.

use std::collections::HashMap;

use quire_core::validate::validate_fields;
use quire_core::vault::{FileHash, FileStamp};
use quire_core::{Note, NoteFields, NoteId, TextHash};
use sqlx::{Row, Sqlite, Transaction};

use super::bulk::{values_list, ROWS_PER_STATEMENT};
use super::import::insert_new_notes;
use super::notes::note_from_row;
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

/// A note (`n`) whose file as the index knows it (`v`, left-joined) is not what the
/// note says: a live note without a file or with another text, a deleted note whose file
/// is still there.
const OUT_OF_DATE: &str = "CASE WHEN n.deleted THEN v.note_id IS NOT NULL
    ELSE v.note_id IS NULL OR v.title IS NOT n.title OR v.body IS NOT n.body END";

/// Stamps are unsigned; SQLite's integers are signed: the bits are kept as they are.
fn to_signed(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

fn to_unsigned(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
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
            values_list(chunk.len(), 8)
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
    /// Every file the index knows, without texts or titles; without the hashes of their
    /// bytes too unless `with_hashes` (a pass told which files changed reads few files, and
    /// asks [`Store::vault_hashes`] for the few hashes it needs).
    pub(crate) async fn vault_files(&self, with_hashes: bool) -> Result<Vec<IndexedFile>> {
        // Every file in one string, not a row per file: each row costs a hand-off between
        // sqlx's worker thread and the runtime, and for 10,000 files those were most of a
        // pass. `/` separates files (no file name holds one), `,` the fields after the name.
        let hash = if with_hashes {
            "ifnull(hex(file_hash), '')"
        } else {
            "''"
        };
        let all: Option<String> = sqlx::query_scalar(&format!(
            "SELECT group_concat(note_id || ',' || ifnull(size, '') || ',' ||
                ifnull(mtime_ns, '') || ',' || ifnull(inode, '') || ',' ||
                {hash} || ',' || file_name, '/')
             FROM vault_files INDEXED BY vault_files_stamps"
        ))
        .fetch_one(&self.pool)
        .await?;
        let corrupt = || Error::Corrupt("the vault index".to_owned());
        let number = |field: &str| -> Result<Option<i64>> {
            match field {
                "" => Ok(None),
                digits => digits.parse().map(Some).map_err(|_| corrupt()),
            }
        };
        let Some(all) = all else {
            return Ok(Vec::new());
        };
        all.split('/')
            .map(|file| {
                let mut fields = file.splitn(6, ',');
                let mut next = || fields.next().ok_or_else(corrupt);
                let (id, size, mtime_ns, inode, hash, file_name) =
                    (next()?, next()?, next()?, next()?, next()?, next()?);
                let stamp = match (number(size)?, number(mtime_ns)?, number(inode)?) {
                    (Some(size), Some(mtime_ns), Some(inode)) => Some(FileStamp {
                        size: to_unsigned(size),
                        mtime_ns,
                        inode: to_unsigned(inode),
                    }),
                    _ => None,
                };
                let file_hash = match hash {
                    "" => None,
                    hex_hash => Some(
                        hex::decode(hex_hash)
                            .ok()
                            .and_then(|bytes| FileHash::try_from(bytes.as_slice()).ok())
                            .ok_or_else(corrupt)?,
                    ),
                };
                Ok(IndexedFile {
                    note_id: decode(id, "note id")?,
                    file_name: file_name.to_owned(),
                    stamp,
                    file_hash,
                })
            })
            .collect()
    }

    /// The hashes of these notes' files as Quire last read or wrote them.
    pub(crate) async fn vault_hashes(&self, ids: &[NoteId]) -> Result<HashMap<NoteId, FileHash>> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT note_id, file_hash FROM vault_files
                 WHERE file_hash IS NOT NULL AND note_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for (id, hash) in query.fetch_all(&self.pool).await? {
                let hash = FileHash::try_from(hash.as_slice())
                    .map_err(|_| Error::Corrupt("vault file hash".to_owned()))?;
                found.insert(decode(&id, "note id")?, hash);
            }
        }
        Ok(found)
    }

    /// Each note's file name and the title it was written or read with.
    pub(crate) async fn vault_file_titles(&self) -> Result<HashMap<NoteId, (String, String)>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT note_id, file_name, title FROM vault_files")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, file_name, title)| Ok((decode(&id, "note id")?, (file_name, title))))
            .collect()
    }

    /// What these notes' files held when Quire last wrote or read them.
    pub(crate) async fn vault_entries(
        &self,
        ids: &[NoteId],
    ) -> Result<HashMap<NoteId, VaultEntry>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT note_id, file_name, title, body FROM vault_files WHERE note_id IN ({})",
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
                found.insert(decode(&id, "note id")?, entry);
            }
        }
        Ok(found)
    }

    /// Remembers files read or written, in one transaction.
    pub(crate) async fn record_vault_files(&self, records: &[(NoteId, FileRecord)]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let refs: Vec<(NoteId, &FileRecord)> = records.iter().map(|(id, r)| (*id, r)).collect();
        upsert_records(&mut tx, &refs).await?;
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

    /// Forgets these notes' files (gone, or no longer the note's).
    pub(crate) async fn forget_vault_files(&self, ids: &[NoteId]) -> Result<()> {
        if ids.is_empty() {
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

    /// The notes whose text changed since the vault last wrote them, and the last of
    /// those changes (read together, so the one never covers more than the other).
    pub(crate) async fn vault_pending(&self) -> Result<(i64, Vec<NoteId>)> {
        let mut tx = self.pool.begin().await?;
        let last_change: i64 =
            sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM vault_pending")
                .fetch_one(&mut *tx)
                .await?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT note_id FROM vault_pending")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let ids = ids
            .iter()
            .map(|id| decode(id, "note id"))
            .collect::<Result<_>>()?;
        Ok((last_change, ids))
    }

    /// Every live note by a hash of its text.
    pub(crate) async fn live_note_hashes(&self) -> Result<HashMap<TextHash, NoteId>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, title, body FROM notes WHERE deleted = 0")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|(id, title, body)| Ok((TextHash::of(title, body), decode(id, "note id")?)))
            .collect()
    }

    /// The notes a vault pass must write out or whose file it must remove: those changed
    /// since the last pass (every note when `every`) whose file, as the index knows it,
    /// does not hold their text, each with the change that made it pending (if it is). The
    /// comparison runs inside SQLite, so notes that need nothing never leave it.
    pub(crate) async fn vault_notes_to_write(
        &self,
        every: bool,
    ) -> Result<Vec<(Note, Option<i64>)>> {
        // CROSS JOIN keeps SQLite walking the (short) pending list and looking notes up,
        // not walking every note; the order is made here, not by the query.
        let source = if every {
            "notes n LEFT JOIN vault_pending p ON p.note_id = n.id"
        } else {
            "vault_pending p CROSS JOIN notes n ON n.id = p.note_id"
        };
        let sql = format!(
            "SELECT n.id, n.title, n.body, n.created_at, n.updated_at, n.deleted, b.version,
                p.seq
             FROM {source} LEFT JOIN vault_files v ON v.note_id = n.id
                LEFT JOIN bases b ON b.note_id = n.id
             WHERE {OUT_OF_DATE}"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut notes = rows
            .iter()
            .map(|row| Ok((note_from_row(row)?, row.try_get("seq")?)))
            .collect::<Result<Vec<(Note, Option<i64>)>>>()?;
        // Oldest first, so clashing names go to the older note as they always did.
        notes.sort_by_key(|(note, _)| (note.created_at, note.id.0));
        Ok(notes)
    }

    /// Forgets the changes up to `last_change` whose notes' files hold their text now (or
    /// are gone with the note); the others wait for the next pass.
    pub(crate) async fn settle_vault_pending(&self, last_change: i64) -> Result<()> {
        let sql = format!(
            "DELETE FROM vault_pending WHERE seq <= ? AND NOT EXISTS (
                SELECT 1 FROM notes n LEFT JOIN vault_files v ON v.note_id = n.id
                WHERE n.id = vault_pending.note_id AND {OUT_OF_DATE})"
        );
        sqlx::query(&sql)
            .bind(last_change)
            .execute(&self.pool)
            .await?;
        Ok(())
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
