//! `POST /v1/sync/push`, `GET /v1/sync/pull` and `GET /v1/notes/{id}`.
//!
//! How a batch is judged and written is in [`crate::push_batch`].

use axum::extract::{Path, Query, State};
use axum::Json;
use futures_util::TryStreamExt;
use quire_core::protocol::{
    Change, NoteState, NoteVersion, Problem, PullResponse, PushRequest, PushResponse,
};
use quire_core::{DeviceId, Millis, NoteId, Version};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::accounts::AuthedAccount;
use crate::db::Engine;
use crate::problem::{
    ApiError, ApiJson, NotJsonOrUnknownEncoding, ServerFailed, ServerFailedNothingStored,
    SignInAgain,
};
use crate::state::AppState;
use crate::{push_batch, sealed_batch, sealed_pull, unsealed};

/// Notes with their text a page holds by default, and at most (pulls, and the notes an
/// upgrade left in the clear).
const DEFAULT_PAGE_LIMIT: u32 = 500;
const MAX_PAGE_LIMIT: u32 = 1000;
/// The asking device's own changes a page lists at most, apart from `limit`: they carry
/// no text (an id and a version, about 70 bytes of JSON), and counting them as changes
/// made a device that had just pushed 10,000 notes make ten requests to learn it had them.
const MAX_OWN_PER_PAGE: u32 = 10_000;

/// Push a batch of ops: one result per op, in order.
#[utoipa::path(
    post, path = "/v1/sync/push", tag = "sync",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per op", body = PushResponse),
        (status = 400, description = "Malformed JSON, or a value outside its schema; nothing stored", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 413, description = "Over a limit (request body, ops in a batch, note size, the text a push makes, or the account's storage: type quota-exceeded); nothing stored", body = Problem, content_type = "application/problem+json"),
        NotJsonOrUnknownEncoding,
        ServerFailedNothingStored,
    )
)]
pub async fn push(
    State(state): State<AppState>,
    account: AuthedAccount,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let limits = state.limits;
    if request.ops.len() > limits.max_batch_ops {
        return Err(ApiError::too_large(format!(
            "{} ops in one push; this server takes at most {}",
            request.ops.len(),
            limits.max_batch_ops
        )));
    }
    // Size limits are checked for the whole batch before anything is applied: over a limit,
    // nothing is stored.
    for op in &request.ops {
        let size = op.body.as_ref().map_or(0, String::len)
            + op.patch.as_ref().map_or(0, |p| p.inserted_bytes());
        let sealed = op.sealed.as_ref().map_or(0, |sealed| sealed.data.len());
        if size > limits.max_note_bytes || sealed > sealed_batch::max_sealed_bytes(&limits) {
            return Err(ApiError::too_large(format!(
                "op {} carries {} bytes of text; this server takes notes up to {} bytes",
                op.op_id,
                size.max(sealed),
                limits.max_note_bytes
            )));
        }
    }
    // The batch runs to its end even when the client goes away mid-request: a transaction
    // cut off by a dropped connection would hold the database for the next request.
    let work = tokio::spawn(async move {
        let mut tx = state.db.begin_write().await?;
        // An end-to-end account's ops are sealed (a plain one is refused by the sealed
        // judgement); an account in the clear sends none (the plain judgement refuses them).
        let engine = state.db.engine;
        let locked = push_batch::lock_account(&mut tx, &account.id).await?;
        let (id, counters) = (&account.id, locked.counters);
        let results = if locked.end_to_end {
            sealed_batch::apply(&mut tx, engine, &limits, id, counters, &request.ops).await?
        } else {
            push_batch::apply(&mut tx, engine, &limits, id, counters, &request.ops).await?
        };
        tx.commit().await?;
        Ok::<_, ApiError>(results)
    });
    let results = work.await.map_err(|_| ApiError::internal())??;
    Ok(Json(PushResponse { results }))
}

fn note_id_and_version(row: &AnyRow) -> Result<(NoteId, Version), ApiError> {
    let id: String = row.try_get("id")?;
    let version: i64 = row.try_get("version")?;
    Ok((
        id.parse().map_err(|_| ApiError::internal())?,
        Version(u64::try_from(version).map_err(|_| ApiError::internal())?),
    ))
}

/// A note row's fields but its body (left empty). A sealed note (its row has a
/// `snapshot_version`) gets an empty chain, for `sealed_pull` to fill.
fn note_from_row_without_body(row: &AnyRow) -> Result<NoteState, ApiError> {
    let (id, version) = note_id_and_version(row)?;
    let deleted: i64 = row.try_get("deleted")?;
    let snapshot: Option<i64> = row.try_get("snapshot_version")?;
    Ok(NoteState {
        id,
        title: row.try_get("title")?,
        body: String::new(),
        version,
        deleted: deleted != 0,
        updated_at: Millis(row.try_get("updated_at")?),
        sealed: snapshot.map(|_| Vec::new()),
        purged: row.try_get::<i64, _>("purged")? != 0,
    })
}

pub(crate) fn note_from_row(row: &AnyRow) -> Result<NoteState, ApiError> {
    Ok(NoteState {
        body: row.try_get("body")?,
        ..note_from_row_without_body(row)?
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The `next` of the previous pull; 0 (the default) for everything.
    #[serde(default)]
    #[param(maximum = 9_223_372_036_854_775_807_i64)]
    since: u64,
    /// Most changes with their text to return, 1 to 1000 (default 500). The asking
    /// device's own changes, listed without text in `own`, count apart: up to 10,000 a page.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The asking device: changes it made itself are left out (the cursor still moves past
    /// them), as it has their text already.
    device: Option<DeviceId>,
}

/// Pull the account's changes after a cursor.
#[utoipa::path(
    get, path = "/v1/sync/pull", tag = "sync",
    security(("bearer" = [])),
    params(PullQuery),
    responses(
        (status = 200, description = "Changes after the cursor", body = PullResponse),
        (status = 400, description = "A malformed query: a cursor, limit or device outside its schema, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn pull(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(query) = query?;
    let since = i64::try_from(query.since)
        .map_err(|_| ApiError::bad_request("since is beyond any cursor this server hands out"))?;
    let limit = page_limit(query.limit)?;
    let own_device = query.device.map(|device| device.to_string());
    let (head, upgrade_progress_at): (i64, Option<i64>) =
        sqlx::query_as("SELECT change_seq, upgrade_progress_at FROM accounts WHERE id = $1")
            .bind(&account.id)
            .fetch_one(&state.db.pool)
            .await?;
    let mut page = PullResponse {
        changes: Vec::new(),
        own: Vec::new(),
        next: query.since,
        more: false,
        head: u64::try_from(head).map_err(|_| ApiError::internal())?,
        unsealed: false,
    };
    let engine = state.db.engine;
    let p = |n| engine.param(n);
    // Other devices' changes, with their text: a note row joined with each of its entries
    // to send (one row with no entry for a note in the clear), in order. Rows are read one
    // by one and the list ends once it holds `max_response_bytes` of text (always at least
    // one change), so a page of large notes neither fills the server's memory nor outgrows
    // what a client reads.
    let others = format!(
        "SELECT n.id, n.title, n.version, n.deleted, n.updated_at, n.change_seq, n.size, n.body,
                n.snapshot_version, n.purged, {}
         FROM notes n LEFT JOIN note_entries e
           ON e.account_id = n.account_id AND e.note_id = n.id
              AND e.version >= n.snapshot_version AND e.change_seq > {}
         WHERE n.account_id = {} AND n.change_seq > {}
            AND (n.device_id IS NULL OR n.device_id <> {}){}
         ORDER BY n.change_seq, e.version LIMIT {}",
        sealed_pull::JOINED_ENTRY_COLUMNS,
        p(1),
        p(2),
        p(3),
        p(4),
        // While an account is upgraded, its notes still in the clear are not sent: a
        // device of an end-to-end account takes sealed text only. Each comes (with a new
        // place in the log) once it is sealed.
        if account.end_to_end {
            " AND n.snapshot_version IS NOT NULL"
        } else {
            ""
        },
        p(5)
    );
    // A row per change, one more to know whether there are more; a note with several
    // entries to send takes several, and the last note read may then be cut short.
    let row_limit = i64::from(limit) + 1;
    let mut rows = sqlx::query(&others)
        .bind(since)
        .bind(&account.id)
        .bind(since)
        .bind(own_device.as_deref().unwrap_or(""))
        .bind(row_limit)
        .fetch(&state.db.pool);
    let mut room = PageRoom::new(limit, state.limits.max_response_bytes);
    // The entries read for each change of the page, in order.
    let mut chains: Vec<Vec<sealed_pull::StoredEntry>> = Vec::new();
    let mut rows_read = 0i64;
    // The last change the page may hold, when it cannot hold all there are.
    let mut cut: Option<i64> = None;
    while let Some(row) = rows.try_next().await? {
        rows_read += 1;
        let seq = u64::try_from(row.try_get::<i64, _>("change_seq")?)
            .map_err(|_| ApiError::internal())?;
        let entry = sealed_pull::entry_from_row(&row)?;
        if let (Some(last), Some(chain)) = (page.changes.last(), chains.last_mut()) {
            if last.seq == seq {
                chain.extend(entry);
                continue;
            }
        }
        let size = usize::try_from(row.try_get::<i64, _>("size")?).unwrap_or(usize::MAX);
        if !room.take(size) {
            cut = page.changes.last().map(|c| seq_i64(c.seq));
            break;
        }
        page.changes.push(Change {
            seq,
            note: NoteState {
                body: row.try_get("body")?,
                ..note_from_row_without_body(&row)?
            },
        });
        chains.push(entry.into_iter().collect());
    }
    drop(rows);
    if cut.is_none() && rows_read == row_limit {
        // The rows ran out at the limit: the last note's entries may go on past it.
        if page.changes.len() > 1 {
            page.changes.pop();
            chains.pop();
            cut = page.changes.last().map(|c| seq_i64(c.seq));
        } else if let Some((only, chain)) = page.changes.first().zip(chains.first_mut()) {
            // One note with more entries than the limit goes alone, all of them.
            if only.note.sealed.is_some() {
                *chain = sealed_pull::chain_after(
                    &state.db.pool,
                    engine,
                    &account.id,
                    only.note.id,
                    (since, seq_i64(only.seq)),
                )
                .await?;
            }
            // Whether more follow is not known from the rows: from the account's head it is.
            cut = Some(seq_i64(only.seq)).filter(|seq| *seq < head);
        }
    }
    for (change, chain) in page.changes.iter_mut().zip(chains) {
        if let Some(entries) = change.note.sealed.as_mut() {
            *entries = sealed_pull::chain_for(chain, own_device.as_deref());
        }
    }

    // The asking device's own changes, without text, up to that cut: one row holding them
    // all, since a row apiece (through sqlx) cost more than SQLite reading them, about
    // 17 µs each: 170 ms for the 10,000 a device that had just pushed 10,000 notes learns.
    let own = match &own_device {
        Some(device) => own_changes(&state, &account.id, since, device, cut).await?,
        None => Vec::new(),
    };
    let max_own = usize::try_from(MAX_OWN_PER_PAGE).unwrap_or(usize::MAX);
    if own.len() > max_own {
        let own_cut = own[max_own - 1].0;
        cut = Some(cut.map_or(own_cut, |c| c.min(own_cut)));
    }
    let last_seen = page
        .changes
        .last()
        .map(|c| seq_i64(c.seq))
        .max(own.last().map(|o| o.0));
    let next = match cut {
        Some(cut) => {
            page.more = true;
            page.changes
                .retain(|c| i64::try_from(c.seq).is_ok_and(|seq| seq <= cut));
            Some(cut)
        }
        None => last_seen,
    };
    page.own = own
        .into_iter()
        .filter(|(seq, _)| cut.is_none_or(|cut| *seq <= cut))
        .map(|(_, own)| own)
        .collect();
    if let Some(next) = next {
        page.next = u64::try_from(next).map_err(|_| ApiError::internal())?;
    }
    if !page.more && account.end_to_end {
        if let Some(at) = upgrade_progress_at {
            page.unsealed = unsealed::upgrade_stalled(&state, &account.id, Millis(at)).await?;
        }
    }
    Ok(Json(page))
}

/// A page's `limit` as its query gave it: 1 to [`MAX_PAGE_LIMIT`], by default
/// [`DEFAULT_PAGE_LIMIT`].
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    if limit == 0 || limit > MAX_PAGE_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit is 1 to {MAX_PAGE_LIMIT}"
        )));
    }
    Ok(limit)
}

/// What a page of notes with their text may still hold: `limit` notes and
/// `max_response_bytes` of text, and always its first note, however large.
pub(crate) struct PageRoom {
    limit: u32,
    max_bytes: usize,
    notes: u32,
    bytes: usize,
}

impl PageRoom {
    pub(crate) fn new(limit: u32, max_bytes: usize) -> Self {
        Self {
            limit,
            max_bytes,
            notes: 0,
            bytes: 0,
        }
    }

    /// Takes a note of `size` bytes of text, if the page has room for it.
    pub(crate) fn take(&mut self, size: usize) -> bool {
        let bytes = self.bytes.saturating_add(size);
        let fits = self.notes < self.limit && (self.notes == 0 || bytes <= self.max_bytes);
        if fits {
            self.notes += 1;
            self.bytes = bytes;
        }
        fits
    }
}

/// A change's place in the log as the database holds it.
fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// The device's own changes after `since` (up to `cut`), in order, as (change seq, note and
/// version): at most one more than a page lists, read as one row.
async fn own_changes(
    state: &AppState,
    account_id: &str,
    since: i64,
    device: &str,
    cut: Option<i64>,
) -> Result<Vec<(i64, NoteVersion)>, ApiError> {
    let engine = state.db.engine;
    let p = |n| engine.param(n);
    let joined = match engine {
        Engine::Sqlite => "group_concat(id || ',' || version || ',' || change_seq, ';')",
        Engine::Postgres => "string_agg(id || ',' || version || ',' || change_seq, ';')",
    };
    let listed: Option<String> = sqlx::query_scalar(&format!(
        "SELECT {joined} FROM (
            SELECT id, version, change_seq FROM notes
            WHERE account_id = {} AND change_seq > {} AND device_id = {} AND change_seq <= {}
            ORDER BY change_seq LIMIT {}) own",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5)
    ))
    .bind(account_id)
    .bind(since)
    .bind(device)
    .bind(cut.unwrap_or(i64::MAX))
    .bind(i64::from(MAX_OWN_PER_PAGE) + 1)
    .fetch_one(&state.db.pool)
    .await?;
    let mut own = listed
        .as_deref()
        .unwrap_or("")
        .split(';')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut parts = entry.split(',');
            let (Some(id), Some(version), Some(seq), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(ApiError::internal());
            };
            let id: NoteId = id.parse().map_err(|_| ApiError::internal())?;
            let version: u64 = version.parse().map_err(|_| ApiError::internal())?;
            let seq: i64 = seq.parse().map_err(|_| ApiError::internal())?;
            Ok((
                seq,
                NoteVersion {
                    id,
                    version: Version(version),
                },
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // An aggregate's order is not its subquery's on every engine.
    own.sort_unstable_by_key(|(seq, _)| *seq);
    Ok(own)
}

/// A note as the server has it now.
#[utoipa::path(
    get, path = "/v1/notes/{id}", tag = "sync",
    security(("bearer" = [])),
    params(("id" = NoteId, Path, description = "The note's id")),
    responses(
        (status = 200, description = "The note", body = NoteState),
        (status = 400, description = "Not a note id", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 404, description = "No such note in this account (or deleted forever)", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn note(
    State(state): State<AppState>,
    account: AuthedAccount,
    Path(id): Path<String>,
) -> Result<Json<NoteState>, ApiError> {
    let id: NoteId = id
        .parse()
        .map_err(|_| ApiError::bad_request("that is not a note id"))?;
    let row = sqlx::query(
        "SELECT id, title, body, version, deleted, updated_at, snapshot_version, change_seq,
                purged
         FROM notes WHERE account_id = $1 AND id = $2",
    )
    .bind(&account.id)
    .bind(id.to_string())
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no such note in this account"))?;
    let mut note = note_from_row(&row)?;
    // Deleted forever: as if it never existed (devices learn of it from their pulls).
    if note.purged {
        return Err(ApiError::not_found("no such note in this account"));
    }
    if note.sealed.is_some() {
        let read_at: i64 = row.try_get("change_seq")?;
        let chain = sealed_pull::chain_after(
            &state.db.pool,
            state.db.engine,
            &account.id,
            id,
            (0, read_at),
        )
        .await?;
        note.sealed = Some(sealed_pull::chain_for(chain, None));
    }
    Ok(Json(note))
}

#[cfg(test)]
mod tests {
    use super::PageRoom;

    #[test]
    fn a_page_holds_its_limit_and_its_bytes_but_always_its_first_note() {
        let mut room = PageRoom::new(3, 100);
        assert!(room.take(60));
        assert!(room.take(40), "exactly at the byte bound");
        assert!(!room.take(1));
        let mut room = PageRoom::new(3, 100);
        assert!(room.take(500), "a note larger than a page goes alone");
        assert!(!room.take(0));
        let mut room = PageRoom::new(2, 100);
        assert!(room.take(1) && room.take(1));
        assert!(!room.take(1), "the limit");
    }
}
