//! Finishing an upgrade whose device stopped before sealing every note (docs/e2e-design.md,
//! "Upgrade"): when a pull says the account still has notes in the clear and nobody has
//! sealed any for a while, this device takes them (reconciled like pulled changes) and
//! queues each to go again sealed; the round's last push sends them.
//!
//! Only what the upgrading device listed in its sealed manifest is taken, exactly as it
//! listed it, and only where this device holds nothing newer: a server cannot slip a note
//! in, change one, or (by serving the upgrade's state again later) roll one back this way.

use quire_core::settings::ConflictPolicy;
use quire_core::NoteId;

use super::report::SyncReport;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::{clock, Result, Store};

/// Notes asked for per request (the server's most).
const PAGE: u32 = 1000;
/// When this device last went through them: a pass that could not seal them all (a note
/// the server refused, a note that fails the manifest) is not repeated every round.
const LAST_PASS_AT: &str = "state.unsealed-pass-at";
const PASS_EVERY_MS: i64 = 60 * 60 * 1000;

/// Takes over, at most once an hour. A failure does not fail the round (this is the slow
/// path of someone else's upgrade); it is logged and tried again at the next pass.
pub(super) async fn take_over(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    sealing: &Sealing,
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
    store.set_state(LAST_PASS_AT, &now.to_string()).await?;
    if let Err(err) = pass(store, (api, token), sealing, policy, report).await {
        tracing::warn!(%err, "could not take over the account's unfinished upgrade; trying again later");
    }
    Ok(())
}

async fn pass(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    sealing: &Sealing,
    policy: ConflictPolicy,
    report: &mut SyncReport,
) -> Result<()> {
    let Some(manifest) = api.upgrade_manifest(token).await? else {
        return Ok(());
    };
    let manifest = sealing.open_manifest(&manifest.manifest.0)?;
    let mut after: Option<NoteId> = None;
    // No more pages than the manifest has notes for: a server that answers `more` for
    // ever does not keep the round going.
    let most_pages = manifest.len() / usize::try_from(PAGE).unwrap_or(1) + 1;
    for _ in 0..most_pages {
        let page = api.unsealed(token, after, PAGE).await?;
        let last = page.notes.last().map(|note| note.id);
        // Pages go forward in the order the server gives: one that does not is the end.
        if last.is_none() || last == after {
            break;
        }
        after = last;
        let (listed, unlisted): (Vec<_>, Vec<_>) = page.notes.into_iter().partition(|note| {
            manifest
                .get(&note.id)
                .is_some_and(|entry| entry.matches(note))
        });
        let taken = store.take_unsealed_page(listed, policy).await?;
        for outcome in taken.outcomes {
            report.count(outcome);
        }
        report.sealed_for_upgrade += taken.queued;
        report.unsealed_refused += taken.refused + u64::try_from(unlisted.len()).unwrap_or(0);
        if !page.more {
            break;
        }
    }
    if report.unsealed_refused > 0 {
        // Not as the upgrading device saw it, or older than what this device holds:
        // changed, rolled back or made up by the server.
        tracing::warn!(
            refused = report.unsealed_refused,
            "notes the server holds in the clear do not match the upgrade's manifest or this \
             device's copies; not taken"
        );
    }
    tracing::info!(
        notes = report.sealed_for_upgrade,
        "the account's upgrade had stopped with notes in the clear: queued them to go sealed"
    );
    Ok(())
}
