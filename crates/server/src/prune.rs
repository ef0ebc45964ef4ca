//! Pruning: rows that only ever accumulate are removed in the background.
//!
//! - sessions expired or signed out more than [`SESSION_GRACE`] ago (the grace keeps them
//!   around long enough to tell what happened when someone asks);
//! - login and registration attempts older than the longest window they count in;
//! - `applied_ops` older than `--op-retention-days`. An op replayed after that is judged
//!   again like a new one, which is safe: a create finds its note exists and an update or
//!   delete finds its base is no longer current, so it cannot apply twice;
//! - notes' history (the sealed entries below their live chains): versions replaced more
//!   than `--history-days` ago, and the oldest versions of a note whose history weighs
//!   more than `--history-max-bytes`. A version needs the snapshot it was made on, so
//!   history goes in whole segments (a snapshot and the entries up to the next one), oldest
//!   first; the live chain is never touched. What goes is given back to the account's bytes.
//!
//! [`prune`] is one pass, callable directly (tests do); [`spawn`] runs it soon after start
//! and then every [`PERIOD`] until the returned guard is dropped. Deletes go in chunks, each
//! its own statement, so a large backlog never holds SQLite's write lock for long. Several
//! instances on one PostgreSQL may prune at once: a row is simply deleted by whichever
//! comes first.

use std::time::Duration;

use quire_core::push_judgement::ROW_OVERHEAD;
use quire_core::Millis;
use sqlx::Row;

use crate::attempts::LONGEST_WINDOW_MS;
use crate::clock::now;
use crate::config::Limits;
use crate::db::Db;

/// How often pruning runs.
pub const PERIOD: Duration = Duration::from_secs(10 * 60);
/// How soon after start the first pass runs: not at once, so it stays out of a start-up burst.
const FIRST_DELAY: Duration = Duration::from_secs(30);
/// How long a dead session is kept.
pub const SESSION_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
/// Rows deleted per statement.
const CHUNK: i64 = 5000;

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub attempts: u64,
    pub applied_ops: u64,
    /// History entries.
    pub history: u64,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// One pass, as of `now`.
pub async fn prune(db: &Db, limits: &Limits, now: Millis) -> Result<Pruned, sqlx::Error> {
    let sessions_before = now.0.saturating_sub(millis(SESSION_GRACE));
    let sessions = delete_in_chunks(
        db,
        "DELETE FROM sessions WHERE token_hash IN (
             SELECT token_hash FROM sessions WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)",
        sessions_before,
    )
    .await?;
    let attempts = delete_in_chunks(
        db,
        "DELETE FROM auth_attempts WHERE id IN (
             SELECT id FROM auth_attempts WHERE at <= $1 LIMIT $2)",
        now.0.saturating_sub(LONGEST_WINDOW_MS),
    )
    .await?;
    let retention = Duration::from_secs(u64::from(limits.op_retention_days) * 86_400);
    let applied_ops = delete_in_chunks(
        db,
        "DELETE FROM applied_ops WHERE (account_id, op_id) IN (
             SELECT account_id, op_id FROM applied_ops WHERE created_at < $1 LIMIT $2)",
        now.0.saturating_sub(millis(retention)),
    )
    .await?;
    let history_before = now.0.saturating_sub(millis(Duration::from_secs(
        u64::from(limits.history_days) * 86_400,
    )));
    let history = prune_old_history(db, history_before).await?
        + prune_heavy_history(db, limits.history_max_bytes).await?;
    Ok(Pruned {
        sessions,
        attempts,
        applied_ops,
        history,
    })
}

/// Per note, the entries below its latest snapshot made before `before`: every version
/// below that snapshot was replaced before then.
async fn prune_old_history(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        // Notes with something below such a snapshot (once pruned, a note is not found
        // again until another of its snapshots grows old).
        let cuts = sqlx::query(
            "SELECT e.account_id, e.note_id, max(e.version) AS cut
             FROM note_entries e
             JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
             WHERE e.form = 'snapshot' AND e.created_at < $1 AND e.version <= n.snapshot_version
             GROUP BY e.account_id, e.note_id
             HAVING max(e.version) > (SELECT min(f.version) FROM note_entries f
                                      WHERE f.account_id = e.account_id AND f.note_id = e.note_id)
             LIMIT $2",
        )
        .bind(before)
        .bind(CHUNK)
        .fetch_all(&db.pool)
        .await?;
        for row in &cuts {
            total += cut_history(
                db,
                &row.try_get::<String, _>("account_id")?,
                &row.try_get::<String, _>("note_id")?,
                row.try_get("cut")?,
            )
            .await?;
        }
        if cuts.len() < usize::try_from(CHUNK).unwrap_or(usize::MAX) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Per note whose history weighs more than `max_bytes`: its oldest segments, until what is
/// left weighs no more (all of its history, if its newest segment alone is heavier).
async fn prune_heavy_history(db: &Db, max_bytes: u64) -> Result<u64, sqlx::Error> {
    let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    let heavy = sqlx::query(&format!(
        "SELECT e.account_id, e.note_id
         FROM note_entries e
         JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
         WHERE e.version < n.snapshot_version
         GROUP BY e.account_id, e.note_id
         HAVING sum(length(e.data) + {ROW_OVERHEAD}) > $1"
    ))
    .bind(max_bytes)
    .fetch_all(&db.pool)
    .await?;
    let mut total = 0;
    for row in &heavy {
        let account: String = row.try_get("account_id")?;
        let note: String = row.try_get("note_id")?;
        let entries = sqlx::query(&format!(
            "SELECT e.version, e.form, CAST(length(e.data) + {ROW_OVERHEAD} AS BIGINT) AS bytes,
                    n.snapshot_version
             FROM note_entries e
             JOIN notes n ON n.account_id = e.account_id AND n.id = e.note_id
             WHERE e.account_id = $1 AND e.note_id = $2 AND e.version < n.snapshot_version
             ORDER BY e.version"
        ))
        .bind(&account)
        .bind(&note)
        .fetch_all(&db.pool)
        .await?;
        let mut left: i64 = 0;
        let mut history = Vec::with_capacity(entries.len());
        let mut live = None;
        for entry in &entries {
            let bytes: i64 = entry.try_get("bytes")?;
            let version: i64 = entry.try_get("version")?;
            let form: String = entry.try_get("form")?;
            live = Some(entry.try_get::<i64, _>("snapshot_version")?);
            left += bytes;
            history.push((version, form == "snapshot", bytes));
        }
        // Cut at the first snapshot from which on the rest fits.
        let mut cut = live;
        for (version, snapshot, bytes) in history {
            if left <= max_bytes && snapshot {
                cut = Some(version);
                break;
            }
            left -= bytes;
        }
        if let Some(cut) = cut {
            total += cut_history(db, &account, &note, cut).await?;
        }
        tokio::task::yield_now().await;
    }
    Ok(total)
}

/// Deletes a note's entries below version `cut` and gives their bytes back to the account,
/// in one transaction under the account's lock, as pushes and purges take it: what is
/// summed is what is deleted, even with a purge or another instance's pruner at work.
async fn cut_history(db: &Db, account: &str, note: &str, cut: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE accounts SET change_seq = change_seq WHERE id = $1")
        .bind(account)
        .execute(&mut *tx)
        .await?;
    let (count, bytes): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), CAST(coalesce(sum(length(data) + {ROW_OVERHEAD}), 0) AS BIGINT)
         FROM note_entries WHERE account_id = $1 AND note_id = $2 AND version < $3"
    ))
    .bind(account)
    .bind(note)
    .bind(cut)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM note_entries WHERE account_id = $1 AND note_id = $2 AND version < $3")
        .bind(account)
        .bind(note)
        .bind(cut)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE accounts SET stored_bytes = stored_bytes - $1 WHERE id = $2")
        .bind(bytes)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(count.unsigned_abs())
}

/// Runs `sql` (which deletes at most `$2` rows older than `$1`) until a chunk comes back short.
async fn delete_in_chunks(db: &Db, sql: &str, before: i64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(sql)
            .bind(before)
            .bind(CHUNK)
            .execute(&db.pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < CHUNK.unsigned_abs() {
            return Ok(total);
        }
        // Let requests waiting for the database in between.
        tokio::task::yield_now().await;
    }
}

/// Stops the pruning task when dropped.
#[derive(Debug)]
pub struct Pruner(tokio::task::JoinHandle<()>);

impl Drop for Pruner {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Prunes `db` in the background until the returned guard is dropped.
pub fn spawn(db: Db, limits: Limits) -> Pruner {
    Pruner(tokio::spawn(async move {
        let start = tokio::time::Instant::now() + FIRST_DELAY;
        let mut ticks = tokio::time::interval_at(start, PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match prune(&db, &limits, now()).await {
                Ok(pruned) if pruned == Pruned::default() => {}
                Ok(pruned) => tracing::info!(
                    sessions = pruned.sessions,
                    attempts = pruned.attempts,
                    applied_ops = pruned.applied_ops,
                    history = pruned.history,
                    "pruned"
                ),
                // Try again next time; a failing database shows in requests' logs too.
                Err(err) => tracing::warn!("pruning failed: {err}"),
            }
        }
    }))
}
