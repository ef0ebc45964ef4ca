//! Finishing an upgrade whose device stopped before sealing every note (docs/e2e-design.md,
//! "Upgrade"): when a pull says the account still has notes in the clear and nobody has
//! sealed any for a while, this device takes them (reconciled like pulled changes) and
//! queues each to go again sealed; the round's last push sends them.

use quire_core::settings::ConflictPolicy;
use quire_core::NoteId;

use super::report::SyncReport;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::{clock, Result, Store};

/// Notes asked for per request (the server's most).
const PAGE: u32 = 1000;
/// When this device last went through them; a pass that could not seal them all (a note
/// the server refused) is not repeated every round.
const LAST_PASS_AT: &str = "state.unsealed-pass-at";
const PASS_EVERY_MS: i64 = 60 * 60 * 1000;

/// Takes the notes the server still holds in the clear and queues them to go sealed.
pub(super) async fn take_over(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    policy: ConflictPolicy,
    report: &mut SyncReport,
) -> Result<()> {
    let now = clock::now().0;
    let last = store.state(LAST_PASS_AT).await?;
    if last
        .and_then(|at| at.parse::<i64>().ok())
        .is_some_and(|at| (0..PASS_EVERY_MS).contains(&now.saturating_sub(at)))
    {
        return Ok(());
    }
    let mut after: Option<NoteId> = None;
    loop {
        let page = api.unsealed(token, after, PAGE).await?;
        after = page.notes.last().map(|note| note.id);
        let (outcomes, queued) = store.take_unsealed_page(&page.notes, policy).await?;
        for outcome in outcomes {
            report.count(outcome);
        }
        report.sealed_for_upgrade += queued;
        if !page.more || after.is_none() {
            break;
        }
    }
    store.set_state(LAST_PASS_AT, &now.to_string()).await?;
    tracing::info!(
        notes = report.sealed_for_upgrade,
        "the account's upgrade had stopped with notes in the clear: queued them to go sealed"
    );
    Ok(())
}
