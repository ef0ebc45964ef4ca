//! Finishing an upgrade whose device stopped before sealing every note (docs/e2e-design.md,
//! "Upgrade"): once no note of an upgraded account has left the clear for a while, its
//! pulls say so, and a device that holds the data key reads the notes still in the clear
//! here and sends each again, sealed.

use axum::extract::{Query, State};
use axum::Json;
use futures_util::TryStreamExt;
use quire_core::protocol::{Problem, SealedBytes, UnsealedPage, UpgradeManifest};
use quire_core::{Millis, NoteId};
use serde::Deserialize;
use sqlx::Row;

use crate::accounts::AuthedAccount;
use crate::problem::{ApiError, ServerFailed, SignInAgain};
use crate::state::AppState;
use crate::sync::{note_from_row, page_limit, PageRoom};

/// Whether an upgraded account's notes still in the clear should be sealed by whichever of
/// its devices asks: some are left and none has left the clear for `upgrade_wait_secs`
/// (the device that upgraded it may be lost). Once none is left, the account's mark is
/// cleared and its pulls stop looking.
pub(crate) async fn upgrade_stalled(
    state: &AppState,
    account_id: &str,
    progress_at: Millis,
) -> Result<bool, ApiError> {
    let wait_ms =
        i64::try_from(state.limits.upgrade_wait_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if crate::clock::now().0.saturating_sub(progress_at.0) < wait_ms {
        return Ok(false);
    }
    let left: Option<String> = sqlx::query_scalar(
        "SELECT id FROM notes WHERE account_id = $1 AND snapshot_version IS NULL LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(&state.db.pool)
    .await?;
    if left.is_none() {
        sqlx::query(
            "UPDATE accounts SET upgrade_progress_at = NULL, upgrade_manifest = NULL WHERE id = $1",
        )
        .bind(account_id)
        .execute(&state.db.pool)
        .await?;
    }
    Ok(left.is_some())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnsealedQuery {
    /// The last note id of the previous page; none for the first.
    after: Option<NoteId>,
    /// Most notes to return, 1 to 1000 (default 500); a page's text is bounded by the
    /// server's response limit besides (a note larger than it still comes, alone).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// An upgraded account's notes still in the clear, with their text, in order of id.
#[utoipa::path(
    get, path = "/v1/notes/unsealed", tag = "sync",
    security(("bearer" = [])),
    params(UnsealedQuery),
    responses(
        (status = 200, description = "Notes still in the clear, after `after`", body = UnsealedPage),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        (status = 409, description = "The account is not end-to-end encrypted: every note is in the clear, and pulls send them", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn unsealed(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<UnsealedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UnsealedPage>, ApiError> {
    let Query(query) = query?;
    let limit = page_limit(query.limit)?;
    if !account.end_to_end {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            quire_core::protocol::problem::CONFLICT,
            "this account is not end-to-end encrypted: its notes come with pulls",
        ));
    }
    if query.after.is_none() {
        // A device takes the rest over: the others wait as long again before they do too.
        sqlx::query(
            "UPDATE accounts SET upgrade_progress_at = $1
             WHERE id = $2 AND upgrade_progress_at IS NOT NULL",
        )
        .bind(crate::clock::now().0)
        .bind(&account.id)
        .execute(&state.db.pool)
        .await?;
    }
    // Pages follow the order the database gives ids as text; `after` compares the same way.
    let after = query.after.map(|id| id.to_string()).unwrap_or_default();
    let mut rows = sqlx::query(
        "SELECT id, title, body, version, deleted, updated_at, snapshot_version, size, purged
         FROM notes
         WHERE account_id = $1 AND snapshot_version IS NULL AND id > $2
         ORDER BY id LIMIT $3",
    )
    .bind(&account.id)
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch(&state.db.pool);
    let mut page = UnsealedPage {
        notes: Vec::new(),
        more: false,
    };
    let mut room = PageRoom::new(limit, state.limits.max_response_bytes);
    while let Some(row) = rows.try_next().await? {
        let size = usize::try_from(row.try_get::<i64, _>("size")?).unwrap_or(usize::MAX);
        if !room.take(size) {
            page.more = true;
            break;
        }
        page.notes.push(note_from_row(&row)?);
    }
    Ok(Json(page))
}

/// What the account held in the clear when it was upgraded, as the upgrading device sealed
/// it: a device that takes the rest over checks each note against it.
#[utoipa::path(
    get, path = "/v1/accounts/current/upgrade-manifest", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sealed manifest", body = UpgradeManifest),
        SignInAgain,
        (status = 404, description = "No upgrade of this account is unfinished", body = Problem, content_type = "application/problem+json"),
        ServerFailed,
    )
)]
pub async fn upgrade_manifest(
    State(state): State<AppState>,
    account: AuthedAccount,
) -> Result<Json<UpgradeManifest>, ApiError> {
    let manifest: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT upgrade_manifest FROM accounts WHERE id = $1")
            .bind(&account.id)
            .fetch_one(&state.db.pool)
            .await?;
    let manifest =
        manifest.ok_or_else(|| ApiError::not_found("no upgrade of this account is unfinished"))?;
    Ok(Json(UpgradeManifest {
        manifest: SealedBytes(manifest),
    }))
}
