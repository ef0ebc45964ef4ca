//! Full-text search over the notes (issue 21): the `notes_search` FTS5 index, kept by
//! triggers (migration `search`), queried with the person's words as
//! [`quire_core::search::fts_query`] makes them. Ranked by bm25 with titles weighing ten
//! times bodies; deleted notes are not found. An index found damaged is rebuilt from the
//! notes and the search runs again.
//!
//! Notes a pull brought new to this device are indexed after the round, in transactions of
//! [`INDEX_CHUNK`] notes so a save never waits long behind one; a search first indexes
//! whatever is left, so it never answers without them.

use quire_core::search::{fts_query, snippet, Marked};
use quire_core::{Millis, NoteId};
use serde::Serialize;
use sqlx::Row;

use super::{decode, Store};
use crate::Result;

/// Results a search lists at most.
pub const MAX_RESULTS: u32 = 100;

/// Matches ranked at most: a word in more notes than this is ranked among the ones added
/// to this device last (see `run_search`).
pub const RANKED_AT_MOST: u32 = 1_000;

/// How far into a note's text its snippet looks for the first match (characters).
const SNIPPET_SCAN_CHARS: u32 = 65_536;

/// Notes indexed per transaction when catching up: about 20 ms of tokenizing for notes of
/// 1 KB, the longest a save waits behind it.
pub const INDEX_CHUNK: i64 = 1_000;

/// One note a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SearchHit {
    pub id: NoteId,
    pub title: String,
    pub updated_at: Millis,
    /// A few words of the body around the first match, the matched words marked.
    pub snippet: Vec<Marked>,
}

impl Store {
    /// The notes that hold every word of `typed` (the last one as a prefix), best first.
    /// Nothing typed can be an error: quotes, operators and punctuation are words or
    /// nothing.
    pub async fn search(&self, typed: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(typed) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, MAX_RESULTS);
        match self.search_now(&query, typed, limit).await {
            Err(crate::Error::Database(err)) if damaged(&err) => {
                tracing::warn!(%err, "the search index is damaged; rebuilding it from the notes");
                self.rebuild_search_index().await?;
                self.search_now(&query, typed, limit).await
            }
            other => other,
        }
    }

    /// Indexes up to `max` notes a pull brought in unindexed (oldest rows first) in one
    /// transaction; the number indexed, 0 when none are left.
    pub async fn index_pending(&self, max: i64) -> Result<u64> {
        // Most searches find nothing to do: a read says so without taking the write lock.
        let none_left = sqlx::query("SELECT 1 FROM notes WHERE search_indexed = 0 LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_none();
        if none_left {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT max(rowid) FROM
               (SELECT rowid FROM notes WHERE search_indexed = 0 ORDER BY rowid LIMIT ?)",
        )
        .bind(max.max(1))
        .fetch_one(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Ok(0);
        };
        sqlx::query(
            "INSERT INTO notes_search (rowid, title, body)
             SELECT rowid, title, body FROM notes
             WHERE search_indexed = 0 AND rowid <= ? AND deleted = 0 AND purged = 0",
        )
        .bind(last)
        .execute(&mut *tx)
        .await?;
        let indexed = sqlx::query(
            "UPDATE notes SET search_indexed = 1 WHERE search_indexed = 0 AND rowid <= ?",
        )
        .bind(last)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(indexed)
    }

    /// Notes a pull brought that are not indexed for search yet.
    pub async fn unindexed_notes(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM notes WHERE search_indexed = 0")
            .fetch_one(&self.pool)
            .await?;
        super::from_db(count, "count")
    }

    /// Indexes what a pull left unindexed, then searches.
    async fn search_now(&self, query: &str, typed: &str, limit: u32) -> Result<Vec<SearchHit>> {
        while self.index_pending(INDEX_CHUNK).await? > 0 {}
        self.run_search(query, typed, limit).await
    }

    async fn run_search(&self, query: &str, typed: &str, limit: u32) -> Result<Vec<SearchHit>> {
        // First the best `limit`, from the index alone (bm25 reads no note's text), in one
        // pass over the matches. bm25 costs every match it scores, which for a word in tens
        // of thousands of notes is tens of milliseconds a keystroke; so only the
        // RANKED_AT_MOST matches added last (the highest rowids, which FTS5 walks to first
        // without ranking) are scored, and a word in fewer notes is ranked everywhere.
        let mut scored: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, bm25(notes_search, 10.0, 1.0) FROM notes_search
             WHERE notes_search MATCH ? ORDER BY rowid DESC LIMIT ?",
        )
        .bind(query)
        .bind(i64::from(RANKED_AT_MOST))
        .fetch_all(&self.pool)
        .await?;
        // bm25 is lower for better matches; ties go to the note added last.
        scored.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        scored.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let best: Vec<i64> = scored.into_iter().map(|(rowid, _)| rowid).collect();
        if best.is_empty() {
            return Ok(Vec::new());
        }
        // Then the notes, in that order, each with a snippet from the start of its text (a
        // note of megabytes is read only that far). A note deleted since the index answered
        // is left out.
        let rowids: Vec<String> = best.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT rowid, id, title, substr(body, 1, {SNIPPET_SCAN_CHARS}) AS body, updated_at
             FROM notes WHERE rowid IN ({}) AND +deleted = 0 AND +purged = 0",
            rowids.join(", ")
        );
        // (`+deleted`: looked up by rowid, never by scanning the index on `deleted`.) All at
        // once: streaming them costs a hand-over per row, and each is at most
        // SNIPPET_SCAN_CHARS of text.
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut hits = Vec::with_capacity(best.len());
        for row in rows {
            let rowid: i64 = row.try_get("rowid")?;
            let id: String = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            let rank = best.iter().position(|best| *best == rowid);
            hits.push((
                rank,
                SearchHit {
                    id: decode(&id, "note id")?,
                    title: row.try_get("title")?,
                    updated_at: Millis(row.try_get("updated_at")?),
                    snippet: snippet(&body, typed),
                },
            ));
        }
        hits.sort_by_key(|(rank, _)| *rank);
        Ok(hits.into_iter().map(|(_, hit)| hit).collect())
    }

    /// Builds the index anew from every live note, all of them indexed after it. (Not
    /// FTS5's 'rebuild': that would take in the trash too.)
    async fn rebuild_search_index(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO notes_search (notes_search) VALUES ('delete-all')")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO notes_search (rowid, title, body)
             SELECT rowid, title, body FROM notes WHERE deleted = 0 AND purged = 0",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE notes SET search_indexed = 1 WHERE search_indexed = 0")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Whether an error says the index (not the notes) is damaged.
fn damaged(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| {
        let message = db.message();
        message.contains("malformed") || message.contains("corrupt")
    })
}
