//! Pruning: rows that only ever accumulate are removed in the background.
//!
//! - sessions expired or signed out more than [`SESSION_GRACE`] ago (the grace keeps them
//!   around long enough to tell what happened when someone asks);
//! - login and registration attempts older than the longest window they count in;
//! - `applied_ops` older than `--op-retention-days`. An op replayed after that is judged
//!   again like a new one, which is safe: a create finds its note exists and an update or
//!   delete finds its base is no longer current, so it cannot apply twice.
//!
//! [`prune`] is one pass, callable directly (tests do); [`spawn`] runs it soon after start
//! and then every [`PERIOD`] until the returned guard is dropped. Deletes go in chunks, each
//! its own statement, so a large backlog never holds SQLite's write lock for long. Several
//! instances on one PostgreSQL may prune at once: a row is simply deleted by whichever
//! comes first.

use std::time::Duration;

use quire_core::Millis;

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
    Ok(Pruned {
        sessions,
        attempts,
        applied_ops,
    })
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
                    "pruned"
                ),
                // Try again next time; a failing database shows in requests' logs too.
                Err(err) => tracing::warn!("pruning failed: {err}"),
            }
        }
    }))
}
