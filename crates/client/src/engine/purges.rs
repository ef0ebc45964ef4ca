//! Deleting forever, in a round (docs/history-design.md, "Trash and purge"): the trash's
//! emptying (notes deleted longer ago than the `trash-days` setting), then telling the
//! server of every note deleted forever here. Runs before the push, so that nothing
//! queued afterwards can reach a note already gone.

use quire_core::settings::SettingKey;
use quire_core::{Millis, NoteId};

use super::report::SyncReport;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::{clock, Error, Result, Store};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The notes in the trash longer than the `trash-days` setting (none when it is 0): the
/// next round deletes them forever.
pub(super) async fn trash_to_empty(store: &Store) -> Result<Vec<NoteId>> {
    let days: u32 = store.setting_as(SettingKey::TrashDays, 30).await?;
    if days == 0 {
        return Ok(Vec::new());
    }
    let before = Millis(clock::now().0.saturating_sub(i64::from(days) * DAY_MS));
    store.trash_older_than(before).await
}

pub(super) async fn send(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    sealing: &Sealing,
    report: &mut SyncReport,
) -> Result<()> {
    for id in trash_to_empty(store).await? {
        match store.purge_note(id).await {
            // Restored or purged meanwhile (the app, another `quire`): as it is.
            Ok(()) | Err(Error::NoteNotInTrash(_) | Error::NoteNotFound(_)) => {}
            Err(err) => return Err(err),
        }
    }
    let device = store.device_id().await?;
    for (id, seen) in store.purges_to_send().await? {
        let marker = sealing.seal_purge(id, seen, device)?;
        match api.purge(token, id, seen, &marker).await {
            Ok(done) => {
                store.purge_sent(id, done).await?;
                if done {
                    report.purged += 1;
                }
            }
            // Refused (a server that cannot purge yet, say): it stays to be told, and the
            // rest of the round goes on. An unreachable server ends the round as always.
            Err(err @ Error::ServerRefused { .. }) => {
                tracing::warn!(note = %id, %err, "the server did not take a delete forever; trying again next round");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
