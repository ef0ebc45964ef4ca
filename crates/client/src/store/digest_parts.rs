//! Each note's part of the account digest, kept in `digest_parts` (migration
//! `digest_parts`): the notes triggers marked stale are counted again before a check, and
//! the check sums the rest inside SQLite.
//!
//! A part is made of the note's base version, its trash state and the keyed hash of the
//! text the person sees; the notes whose part must be made otherwise (from the base text,
//! or not at all) are few, and are set right at each check (`held`).

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt;
use quire_core::crypto::chain::TextMacKey;
use quire_core::digest::{bucket_of, element, BucketDigests, Digest, HeldNote};
use quire_core::{NoteFields, NoteId, Version};
use sqlx::Row;

use super::bulk::values_list;
use super::{decode, version_from_db, version_to_db, Store};
use crate::Result;

/// Stale notes above which the whole table is read in order, not one note at a time (a
/// random lookup in a large encrypted store costs a page decryption).
const SCAN_FROM: usize = 2_000;
/// Notes per statement.
const CHUNK: usize = 200;
/// Passes over the stale notes at most in one check: notes still changing after that are
/// left uncounted for this check (`held`).
const PASSES: usize = 3;
/// Which key the parts were made under: a store signed in to another account (or another
/// key) counts every note again.
const PARTS_KEY: &str = "state.digest-parts-key";

/// One note's part, as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    pub bucket: u16,
    pub element: u64,
    pub version: Version,
}

impl Store {
    /// Names the account's keyed text hash for this store: the parts are made with it. A
    /// store whose parts were made under another key (another account) counts every note
    /// again.
    pub(crate) async fn know_text_macs(&self, macs: &TextMacKey) -> Result<()> {
        let fingerprint = macs
            .mac(
                NoteId(uuid::Uuid::nil()),
                &NoteFields::new("quire-digest-parts", ""),
            )
            .to_hex();
        if self.state(PARTS_KEY).await?.as_deref() != Some(fingerprint.as_str()) {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM digest_parts")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                // (`WHERE true`: an upsert's SELECT must not end in its FROM.)
                "INSERT INTO digest_stale (note_id, seq) SELECT id, random() FROM notes WHERE true
                 ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq",
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            self.set_state(PARTS_KEY, &fingerprint).await?;
        }
        *self
            .text_macs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(macs.clone());
        Ok(())
    }

    /// The keyed text hash a round named, if one did.
    pub(super) fn text_macs(&self) -> Option<TextMacKey> {
        self.text_macs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Counts again every note marked stale since the last check.
    pub(crate) async fn refresh_digest_parts(&self, macs: &TextMacKey) -> Result<()> {
        self.know_text_macs(macs).await?;
        for _ in 0..PASSES {
            let marks: Vec<(String, i64)> = sqlx::query_as("SELECT note_id, seq FROM digest_stale")
                .fetch_all(&self.pool)
                .await?;
            if marks.is_empty() {
                break;
            }
            let stale: Vec<String> = marks.iter().map(|(id, _)| id.clone()).collect();
            let parts = if stale.len() >= SCAN_FROM {
                self.parts_by_scan(macs, &stale).await?
            } else {
                self.parts_by_id(macs, &stale).await?
            };
            self.write_parts(&marks, &parts).await?;
        }
        Ok(())
    }

    /// The parts of `stale` notes, reading the whole store in order.
    async fn parts_by_scan(
        &self,
        macs: &TextMacKey,
        stale: &[String],
    ) -> Result<Vec<(NoteId, Part)>> {
        let wanted: HashSet<&str> = stale.iter().map(String::as_str).collect();
        let versions: HashMap<String, i64> = sqlx::query_as("SELECT note_id, version FROM bases")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        let mut parts = Vec::with_capacity(stale.len());
        let mut rows =
            sqlx::query("SELECT id, title, body, deleted, purged FROM notes").fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let id: String = row.try_get("id")?;
            if !wanted.contains(id.as_str()) {
                continue;
            }
            let Some(version) = versions.get(&id) else {
                continue;
            };
            parts.extend(part_of(macs, &row, *version)?);
        }
        Ok(parts)
    }

    /// The parts of `stale` notes, looked up by id.
    async fn parts_by_id(
        &self,
        macs: &TextMacKey,
        stale: &[String],
    ) -> Result<Vec<(NoteId, Part)>> {
        let mut parts = Vec::with_capacity(stale.len());
        for chunk in stale.chunks(CHUNK) {
            let sql = format!(
                "SELECT n.id AS id, n.title AS title, n.body AS body, n.deleted AS deleted,
                        n.purged AS purged, b.version AS version
                 FROM notes n JOIN bases b ON b.note_id = n.id WHERE n.id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            let mut rows = query.fetch(&self.pool);
            while let Some(row) = rows.try_next().await? {
                parts.extend(part_of(macs, &row, row.try_get("version")?)?);
            }
        }
        Ok(parts)
    }

    /// Replaces the parts of the notes marked stale (`marks`) with `parts` (a stale note
    /// without one is not counted: never on the server, or deleted forever), and takes away
    /// the marks no change moved on meanwhile, in one transaction. A note changed meanwhile
    /// keeps its mark, and the next pass makes its part again.
    async fn write_parts(&self, marks: &[(String, i64)], parts: &[(NoteId, Part)]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let stale: Vec<&str> = marks.iter().map(|(id, _)| id.as_str()).collect();
        delete_for_notes(&mut tx, "digest_parts", &stale).await?;
        upsert_parts(&mut tx, parts).await?;
        for chunk in marks.chunks(CHUNK) {
            let sql = format!(
                "WITH v(note_id, seq) AS (VALUES {})
                 DELETE FROM digest_stale WHERE note_id IN (SELECT note_id FROM v)
                    AND seq = (SELECT v.seq FROM v WHERE v.note_id = digest_stale.note_id)",
                values_list(chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (id, seq) in chunk {
                query = query.bind(id).bind(seq);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The sums of every stored part, by bucket, made inside SQLite.
    pub(crate) async fn digest_part_sums(&self) -> Result<BucketDigests> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT bucket, count(*), sum(part & 4294967295), sum((part >> 32) & 4294967295)
             FROM digest_parts GROUP BY bucket",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut digests = BucketDigests::default();
        for (bucket, notes, low, high) in rows {
            let bucket = u16::try_from(bucket).unwrap_or(u16::MAX);
            digests.add_at(bucket, Digest::from_sums(notes, low, high));
        }
        Ok(digests)
    }

    /// The stored parts of these notes.
    pub(crate) async fn digest_parts_of(&self, ids: &[NoteId]) -> Result<HashMap<NoteId, Part>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT note_id, bucket, part, version FROM digest_parts WHERE note_id IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, i64, i64, i64)>(&sql);
            for id in chunk {
                query = query.bind(id.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                let (id, part) = part_from_row(row)?;
                found.insert(id, part);
            }
        }
        Ok(found)
    }

    /// The stored parts of one bucket's notes.
    pub(crate) async fn digest_parts_in(&self, bucket: u16) -> Result<HashMap<NoteId, Part>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT note_id, bucket, part, version FROM digest_parts WHERE bucket = ?",
        )
        .bind(i64::from(bucket))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(part_from_row).collect()
    }
}

/// Writes parts made while the notes' texts were in memory, in the transaction that
/// changed them, and takes away the marks that transaction's triggers set for them.
pub(super) async fn settle_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    parts: &[(NoteId, Part)],
) -> Result<()> {
    upsert_parts(tx, parts).await?;
    let ids: Vec<String> = parts.iter().map(|(id, _)| id.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    delete_for_notes(tx, "digest_stale", &ids).await
}

/// Writes these parts, each replacing any its note had.
async fn upsert_parts(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    parts: &[(NoteId, Part)],
) -> Result<()> {
    for chunk in parts.chunks(CHUNK) {
        let sql = format!(
            "INSERT OR REPLACE INTO digest_parts (note_id, bucket, part, version) VALUES {}",
            values_list(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (id, part) in chunk {
            query = query
                .bind(id.to_string())
                .bind(i64::from(part.bucket))
                .bind(part.element as i64)
                .bind(version_to_db(part.version)?);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Deletes the rows of these notes from `table` (`digest_parts` or `digest_stale`).
async fn delete_for_notes(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    table: &str,
    ids: &[&str],
) -> Result<()> {
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM {table} WHERE note_id IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A note's part from what the server holds of it: its version, trash state and text.
pub(super) fn part_for(
    macs: &TextMacKey,
    id: NoteId,
    version: Version,
    deleted: bool,
    fields: &NoteFields,
) -> Part {
    let mac = (!deleted).then(|| macs.mac(id, fields));
    Part {
        bucket: bucket_of(id),
        element: element(&HeldNote {
            id,
            version,
            deleted,
            mac,
        }),
        version,
    }
}

fn part_from_row((id, bucket, part, version): (String, i64, i64, i64)) -> Result<(NoteId, Part)> {
    Ok((
        decode(&id, "note id")?,
        Part {
            bucket: u16::try_from(bucket).unwrap_or(u16::MAX),
            element: part as u64,
            version: version_from_db(version)?,
        },
    ))
}

/// A note's id and part from its row (id, title, body, deleted, purged) and its base
/// version; `None` for a note deleted forever, which counts nothing.
fn part_of(
    macs: &TextMacKey,
    row: &sqlx::sqlite::SqliteRow,
    version: i64,
) -> Result<Option<(NoteId, Part)>> {
    if row.try_get::<i64, _>("purged")? != 0 {
        return Ok(None);
    }
    let id: String = row.try_get("id")?;
    let id: NoteId = decode(&id, "note id")?;
    let version = version_from_db(version)?;
    let deleted: bool = row.try_get("deleted")?;
    let fields = NoteFields::new(
        row.try_get::<String, _>("title")?,
        row.try_get::<String, _>("body")?,
    );
    Ok(Some((id, part_for(macs, id, version, deleted, &fields))))
}
