//! Login and registration attempts, counted in the database so limits hold across server
//! instances sharing one PostgreSQL.
//!
//! An attempt is counted *before* its password is hashed: attempts in one scope take turns
//! (SQLite's write lock; a PostgreSQL advisory lock per scope), each counts what is there
//! and, if under every limit, adds its own row before the next one counts. So however many
//! arrive at once, no more than the limit are ever checked. Over a limit: 429 with the time
//! until the oldest counted attempt leaves its window, and nothing is stored (refusals do
//! not count, so a flood cannot grow the table). A checked attempt that failed stays
//! counted for the window; one that succeeded, or whose password was never checked (the
//! server was busy), is taken back out, so only failures and attempts in flight use up a
//! limit.
//!
//! Scopes are strings: `login:ADDR`, `login:ADDR NAME` (usernames hold no spaces),
//! `register:ADDR` and `kdf:ADDR` (key-derivation lookups), where ADDR is
//! [`crate::client_addr::limit_key`]. Logins are limited per account name *and address*,
//! never per account name alone: a stranger's failures from elsewhere must not lock the
//! owner out of their own account.

use axum::http::StatusCode;
use quire_core::protocol::problem;
use quire_core::Millis;

use crate::db::{in_list, values_list, Db, Engine};
use crate::problem::ApiError;

/// How long a failed login counts.
pub const LOGIN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a registration counts.
pub const REGISTER_WINDOW_MS: i64 = 60 * 60 * 1000;
/// Rows older than this count against nothing: pruning removes them.
pub const LONGEST_WINDOW_MS: i64 = REGISTER_WINDOW_MS;

/// One limit an attempt is counted against.
#[derive(Debug, Clone)]
pub struct Scope {
    pub key: String,
    /// Attempts allowed in the window.
    pub limit: u32,
    pub window_ms: i64,
}

/// An attempt that is within its limits: its rows, to be taken back out when it should
/// not count after all.
#[derive(Debug)]
pub struct Attempt {
    ids: Vec<String>,
}

/// Counts an attempt against every scope: under all limits, records it; over one, answers
/// 429 with `refusal` and records nothing.
pub async fn record(
    db: &Db,
    scopes: &[Scope],
    now: Millis,
    refusal: &str,
) -> Result<Attempt, ApiError> {
    let mut tx = db.begin_write().await?;
    if db.engine == Engine::Postgres {
        // One lock per scope, taken in one global order so two attempts never wait on
        // each other crosswise; held until the transaction ends. (SQLite's write
        // transaction already lets one attempt at a time through.)
        let mut keys: Vec<&str> = scopes.iter().map(|scope| scope.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
    }
    for scope in scopes {
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), min(at) FROM auth_attempts WHERE scope = $1 AND at > $2",
        )
        .bind(&scope.key)
        .bind(now.0 - scope.window_ms)
        .fetch_one(&mut *tx)
        .await?;
        if count >= i64::from(scope.limit) {
            // Another request may have recorded its attempt a moment after `now` was read:
            // the wait is never longer than the window itself.
            let wait_ms = (oldest.unwrap_or(now.0) + scope.window_ms - now.0).min(scope.window_ms);
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                problem::RATE_LIMITED,
                refusal,
            );
            err.retry_after = Some(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1));
            return Err(err);
        }
    }
    let ids: Vec<String> = scopes
        .iter()
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let sql = format!(
        "INSERT INTO auth_attempts (id, scope, at) VALUES {}",
        values_list(scopes.len(), 3, 1)
    );
    let mut insert = sqlx::query(&sql);
    for (id, scope) in ids.iter().zip(scopes) {
        insert = insert.bind(id).bind(&scope.key).bind(now.0);
    }
    insert.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Attempt { ids })
}

impl Attempt {
    /// This attempt no longer counts.
    pub async fn take_back(&self, db: &Db) -> Result<(), sqlx::Error> {
        let sql = format!(
            "DELETE FROM auth_attempts WHERE id IN ({})",
            in_list(self.ids.len(), 1)
        );
        let mut delete = sqlx::query(&sql);
        for id in &self.ids {
            delete = delete.bind(id);
        }
        delete.execute(&db.pool).await?;
        Ok(())
    }
}

/// Forgets every attempt in `scope`: the owner got in, earlier failures there are moot.
pub async fn clear(db: &Db, scope: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM auth_attempts WHERE scope = $1")
        .bind(scope)
        .execute(&db.pool)
        .await?;
    Ok(())
}
