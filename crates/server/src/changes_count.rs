//! `GET /v1/sync/changes/count`: how many notes a pull from a cursor would bring the asking
//! device, without sending any (`quire sync --dry-run`). Counted up to 10,000; the rows the
//! asking device changed itself are passed over, so one answer reads at most the account's
//! own notes changed after the cursor (bounded by what its quota lets it hold), like a pull.

use axum::extract::{Query, State};
use axum::Json;
use quire_core::protocol::{ChangeCount, Problem};
use quire_core::DeviceId;
use serde::Deserialize;

use crate::accounts::{AuthedAccount, KEY_SCHEME_E2E};
use crate::problem::{ApiError, ServerFailed, SignInAgain};
use crate::state::AppState;

/// Notes counted at most.
const COUNTED: i64 = 10_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// The device's pull cursor (the `next` of its last pull); 0 for everything.
    #[serde(default)]
    #[param(maximum = 9_223_372_036_854_775_807_i64)]
    since: u64,
    /// The asking device: the changes it made itself are not counted, as a pull leaves
    /// them out.
    device: Option<DeviceId>,
}

/// How many notes a pull from `since` would bring.
#[utoipa::path(
    get, path = "/v1/sync/changes/count", tag = "sync",
    security(("bearer" = [])),
    params(CountQuery),
    responses(
        (status = 200, description = "Notes changed after the cursor by other devices", body = ChangeCount),
        (status = 400, description = "A malformed query: a cursor or device outside its schema, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        SignInAgain,
        ServerFailed,
    )
)]
pub async fn count(
    State(state): State<AppState>,
    account: AuthedAccount,
    query: Result<Query<CountQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ChangeCount>, ApiError> {
    let Query(query) = query?;
    let since = i64::try_from(query.since)
        .map_err(|_| ApiError::bad_request("since is beyond any cursor this server hands out"))?;
    let device = query.device.map(|d| d.to_string()).unwrap_or_default();
    // One statement, so that the head and the count belong together. An end-to-end
    // device's pulls leave out notes still in the clear.
    let (head, counted): (i64, i64) = sqlx::query_as(
        "SELECT a.change_seq, (SELECT CAST(count(*) AS BIGINT) FROM (
                SELECT 1 FROM notes n
                WHERE n.account_id = a.id AND n.change_seq > $1
                  AND (n.device_id IS NULL OR n.device_id <> $2)
                  AND (a.key_scheme <> $3 OR n.snapshot_version IS NOT NULL)
                LIMIT $4) changed)
         FROM accounts a WHERE a.id = $5",
    )
    .bind(since)
    .bind(device)
    .bind(KEY_SCHEME_E2E)
    .bind(COUNTED + 1)
    .bind(&account.id)
    .fetch_one(&state.db.pool)
    .await?;
    Ok(Json(ChangeCount {
        head: u64::try_from(head).map_err(|_| ApiError::internal())?,
        notes: u64::try_from(counted.min(COUNTED)).unwrap_or(0),
        more: counted > COUNTED,
    }))
}
