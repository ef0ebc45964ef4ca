//! Verification (issue 22, `quire_core::digest`): the account digest kept per bucket in
//! `note_digests`, changed in the same transaction as every write of a sealed note, and
//! `GET /v1/sync/digest`, `/v1/sync/digest/ranges` and `/v1/sync/digest/notes`.
//!
//! What a stranger can make these cost is bounded by the account's own size: a digest or a
//! range reads at most 4,096 rows (one per bucket), and a bucket's notes come a page of at
//! most 1,000 at a time, like a pull.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::Json;
use quire_core::digest::{bucket_of, element, Digest, HeldNote, BUCKETS};
use quire_core::protocol::{
    AccountDigest, BucketNotes, DigestNote, Problem, RangeDigest, RangeDigests,
};
use quire_core::{NoteId, TextHash};
use serde::Deserialize;
use sqlx::{Any, Row, Transaction};

use crate::accounts::AuthedAccount;
use crate::db::{Db, Engine};
use crate::problem::{ApiError, ServerFailed, SignInAgain};
use crate::push_batch::{lock_account, version_from_db, ROWS_PER_STATEMENT};
use crate::state::AppState;

/// Notes in the clear counted at most in an answer: a device only needs to know there are
/// some, and counting more would read an old account's every row.
const IN_THE_CLEAR_COUNTED: i64 = 10_000;
/// A bucket's notes per page, by default and at most.
const NOTES_PAGE: u32 = 1000;
/// Sealed notes from before digests counted per statement when an account's digest is first
/// asked for.
const BACKFILL_CHUNK: i64 = 1000;

/// A sealed note's part of its account's digest: 0 for one deleted forever, which counts
/// nothing.
pub(crate) fn part_of(
    id: NoteId,
    version: quire_core::Version,
    deleted: bool,
    purged: bool,
    mac: Option<TextHash>,
) -> i64 {
    if purged {
        return 0;
    }
    element(&HeldNote {
        id,
        version,
        deleted,
        mac,
    }) as i64
}

/// What one transaction changes in an account's digest, by bucket.
#[derive(Default)]
pub(crate) struct DigestChanges {
    by_bucket: BTreeMap<u16, Digest>,
}

impl DigestChanges {
    /// A note's part goes from `old` (`None`: not counted yet; 0: counts nothing) to `new`.
    pub(crate) fn replace(&mut self, id: NoteId, old: Option<i64>, new: i64) {
        let change = self.by_bucket.entry(bucket_of(id)).or_default();
        if let Some(old) = old.filter(|part| *part != 0) {
            change.remove(Digest::of(old as u64));
        }
        if new != 0 {
            change.add(Digest::of(new as u64));
        }
    }

    /// Adds the changes to the account's buckets, a statement per 500 buckets.
    pub(crate) async fn write(
        self,
        tx: &mut Transaction<'static, Any>,
        engine: Engine,
        account_id: &str,
    ) -> Result<(), ApiError> {
        let changed: Vec<(u16, Digest)> = self
            .by_bucket
            .into_iter()
            .filter(|(_, change)| *change != Digest::default())
            .collect();
        for chunk in changed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO note_digests (account_id, bucket, notes, low, high) VALUES {}
                 ON CONFLICT (account_id, bucket) DO UPDATE SET
                    notes = note_digests.notes + excluded.notes,
                    low = note_digests.low + excluded.low,
                    high = note_digests.high + excluded.high",
                engine.values_list(chunk.len(), 5, 1)
            );
            let mut query = sqlx::query(&sql);
            for (bucket, change) in chunk {
                query = query
                    .bind(account_id)
                    .bind(i64::from(*bucket))
                    .bind(change.notes)
                    .bind(change.low)
                    .bind(change.high);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Counts the account's sealed notes stored before digests existed, once, a chunk per
/// transaction under the account's lock (which every write of its notes takes first, so
/// none is counted twice). Each chunk stays counted: a request cut short by its time limit
/// leaves the rest to the next.
async fn count_older_notes(db: &Db, account_id: &str) -> Result<(), ApiError> {
    let mut counted = 0usize;
    loop {
        let missing: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM notes WHERE account_id = $1 AND digest_part IS NULL
                AND snapshot_version IS NOT NULL LIMIT 1",
        )
        .bind(account_id)
        .fetch_optional(&db.pool)
        .await?;
        if missing.is_none() {
            break;
        }
        let mut tx = db.begin_write().await?;
        lock_account(&mut tx, account_id).await?;
        let rows = sqlx::query(
            "SELECT id, version, deleted, purged, text_hash FROM notes
             WHERE account_id = $1 AND digest_part IS NULL AND snapshot_version IS NOT NULL
             LIMIT $2",
        )
        .bind(account_id)
        .bind(BACKFILL_CHUNK)
        .fetch_all(&mut *tx)
        .await?;
        let mut changes = DigestChanges::default();
        let mut parts = Vec::with_capacity(rows.len());
        for row in &rows {
            let held = digest_note(row)?;
            let part = part_of(held.id, held.version, held.deleted, held.purged, held.mac);
            changes.replace(held.id, None, part);
            parts.push((held.id, part));
        }
        let mut updated = 0;
        for chunk in parts.chunks(ROWS_PER_STATEMENT) {
            // Parameters in the order they appear (SQLite's are positional).
            let sql = format!(
                "WITH v (id, bucket, part) AS (VALUES {})
                 UPDATE notes SET digest_bucket = v.bucket, digest_part = v.part FROM v
                 WHERE notes.account_id = {} AND notes.id = v.id AND notes.digest_part IS NULL",
                db.engine.values_list(chunk.len(), 3, 1),
                db.engine.param(chunk.len() * 3 + 1)
            );
            let mut query = sqlx::query(&sql);
            for (id, part) in chunk {
                query = query
                    .bind(id.to_string())
                    .bind(i64::from(bucket_of(*id)))
                    .bind(*part);
            }
            updated += query
                .bind(account_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        // Rows found uncounted that no update counts would be looked for again forever.
        if updated != parts.len() as u64 {
            tracing::error!(account = %account_id, updated, found = parts.len(), "older notes could not be counted");
            return Err(ApiError::internal());
        }
        changes.write(&mut tx, db.engine, account_id).await?;
        tx.commit().await?;
        counted += parts.len();
    }
    if counted > 0 {
        tracing::info!(account = %account_id, counted, "counted the account's older notes into its digest");
    }
    Ok(())
}

fn digest_note(row: &sqlx::any::AnyRow) -> Result<DigestNote, ApiError> {
    let id: String = row.try_get("id")?;
    let mac: Option<String> = row.try_get("text_hash")?;
    Ok(DigestNote {
        id: id.parse().map_err(|_| ApiError::internal())?,
        version: version_from_db(row.try_get("version")?)?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
        purged: row.try_get::<i64, _>("purged")? != 0,
        mac: mac.and_then(|mac| mac.parse().ok()),
    })
}

/// The account's notes all counted, then a read-only transaction whose statements all see
/// one state of the database, and the account's cursor in it: an answer's cursor and its
/// digests belong together.
async fn counted_snapshot(
    db: &Db,
    account_id: &str,
) -> Result<(Transaction<'static, Any>, u64), ApiError> {
    count_older_notes(db, account_id).await?;
    let mut tx = db.pool.begin().await?;
    if db.engine == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let seq: i64 = sqlx::query_scalar("SELECT change_seq FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    Ok((tx, u64::try_from(seq).map_err(|_| ApiError::internal())?))
}

/// Sums of `note_digests` rows as a digest.
fn summed(row: &sqlx::any::AnyRow) -> Result<Digest, ApiError> {
    Ok(Digest::from_sums(
        row.try_get("notes")?,
        row.try_get("low")?,
        row.try_get("high")?,
    ))
}

const SUMS: &str = "CAST(coalesce(sum(notes), 0) AS BIGINT) AS notes,
    CAST(coalesce(sum(low), 0) AS BIGINT) AS low, CAST(coalesce(sum(high), 0) AS BIGINT) AS high";

/// The account's digest and the cursor it belongs to.
#[utoipa::path(
    get, path = "/v1/sync/digest", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The digest of the account's notes at `cursor`", body = AccountDigest),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn account_digest(
    State(state): State<AppState>,
    account: AuthedAccount,
) -> Result<Json<AccountDigest>, ApiError> {
    let (mut tx, cursor) = counted_snapshot(&state.db, &account.id).await?;
    let row = sqlx::query(&format!(
        "SELECT {SUMS} FROM note_digests WHERE account_id = $1"
    ))
    .bind(&account.id)
    .fetch_one(&mut *tx)
    .await?;
    let summary = summed(&row)?.summary();
    let in_the_clear: i64 = sqlx::query_scalar(
        "SELECT CAST(count(*) AS BIGINT) FROM (SELECT 1 FROM notes
            WHERE account_id = $1 AND snapshot_version IS NULL AND purged = 0 LIMIT $2) clear",
    )
    .bind(&account.id)
    .bind(IN_THE_CLEAR_COUNTED)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(AccountDigest {
        cursor,
        notes: summary.notes,
        digest: summary.digest,
        in_the_clear: u64::try_from(in_the_clear).unwrap_or(0),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangesQuery {
    /// The first bucket, 0 to 4095.
    #[param(minimum = 0, maximum = 4095)]
    from: u16,
    /// The bucket after the last, 1 to 4096 (at or below `from`: an empty range, which
    /// holds nothing).
    #[param(minimum = 1, maximum = 4096)]
    to: u16,
    /// Buckets per range, 1 to 4096.
    #[param(minimum = 1, maximum = 4096)]
    width: u16,
}

/// The digests of buckets `from..to`, in ranges of `width` buckets.
#[utoipa::path(
    get, path = "/v1/sync/digest/ranges", tag = "sync",
    security(("bearer" = [])),
    params(RangesQuery),
    responses(
        (status = 200, description = "The ranges that hold notes, in order", body = RangeDigests),
        (status = 400, description = "A malformed query: buckets outside 0 to 4096, a width of 0, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn ranges(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<RangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RangeDigests>, ApiError> {
    let Query(query) = query?;
    if query.from >= BUCKETS || query.to > BUCKETS || query.width == 0 || query.width > BUCKETS {
        return Err(ApiError::bad_request(format!(
            "ranges need from below {BUCKETS}, to at most {BUCKETS} and a width of 1 to {BUCKETS}"
        )));
    }
    let (mut tx, cursor) = counted_snapshot(&state.db, &account.id).await?;
    let (from, width) = (i64::from(query.from), i64::from(query.width));
    let rows = sqlx::query(&format!(
        "SELECT CAST((bucket - $1) / $2 AS BIGINT) AS range_index, {SUMS} FROM note_digests
         WHERE account_id = $3 AND bucket >= $4 AND bucket < $5
         GROUP BY 1 ORDER BY 1"
    ))
    .bind(from)
    .bind(width)
    .bind(&account.id)
    .bind(from)
    .bind(i64::from(query.to))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut ranges = Vec::new();
    for row in rows {
        let summary = summed(&row)?.summary();
        if summary.notes == 0 {
            continue;
        }
        let index: i64 = row.try_get("range_index")?;
        ranges.push(RangeDigest {
            from: u16::try_from(from + index * width).map_err(|_| ApiError::internal())?,
            notes: summary.notes,
            digest: summary.digest,
        });
    }
    Ok(Json(RangeDigests { cursor, ranges }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BucketQuery {
    /// The bucket, 0 to 4095.
    #[param(minimum = 0, maximum = 4095)]
    bucket: u16,
    /// The last note of the previous page: this page starts after it.
    after: Option<NoteId>,
    /// Notes to return, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The notes of one bucket as the digest counts them, in order of id.
#[utoipa::path(
    get, path = "/v1/sync/digest/notes", tag = "sync",
    security(("bearer" = [])),
    params(BucketQuery),
    responses(
        (status = 200, description = "A page of the bucket's notes", body = BucketNotes),
        (status = 400, description = "A malformed query: a bucket over 4095, a limit outside 1 to 1000, a malformed id, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn bucket_notes(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<BucketQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<BucketNotes>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(NOTES_PAGE);
    if query.bucket >= BUCKETS || limit == 0 || limit > NOTES_PAGE {
        return Err(ApiError::bad_request(format!(
            "bucket is 0 to {} and limit 1 to {NOTES_PAGE}",
            BUCKETS - 1
        )));
    }
    let (mut tx, cursor) = counted_snapshot(&state.db, &account.id).await?;
    let after = query.after.map(|id| id.to_string()).unwrap_or_default();
    let rows = sqlx::query(
        "SELECT id, version, deleted, purged, text_hash FROM notes
         WHERE account_id = $1 AND digest_bucket = $2 AND id > $3 AND digest_part IS NOT NULL
         ORDER BY id LIMIT $4",
    )
    .bind(&account.id)
    .bind(i64::from(query.bucket))
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let more = rows.len() > limit as usize;
    let notes = rows
        .iter()
        .take(limit as usize)
        .map(digest_note)
        .collect::<Result<_, _>>()?;
    Ok(Json(BucketNotes {
        cursor,
        notes,
        more,
    }))
}
