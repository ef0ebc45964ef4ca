//! The notes an end-to-end account's server sends, opened before they are applied: each
//! chain against the base this device holds, or whole when that does not fit. A note that
//! still does not open is kept apart (`unreadable_notes`) with the reason: nothing of it is
//! applied, this device's copy and queue stay as they are, the round goes on, and later
//! rounds fetch it again.

use quire_core::protocol::{NoteState, SealedForm};
use quire_core::settings::ConflictPolicy;
use quire_core::NoteId;

use super::report::SyncReport;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::{clock, Error, Result, Store};

/// The page's notes, opened, and how many did not: those are kept apart and left out.
/// The opening itself runs on a blocking thread, so that while it does the round's other
/// work (the previous page's writing, the next page's download) goes on.
pub(super) async fn open_page(
    store: &Store,
    remote: (&ApiClient, &Secret),
    sealing: &Sealing,
    notes: Vec<NoteState>,
) -> Result<(Vec<NoteState>, u64)> {
    // The base each chain starts from, unless it starts over with a snapshot.
    let wanted: Vec<_> = notes
        .iter()
        .filter_map(|note| {
            let first = note.sealed.as_ref()?.first()?;
            (first.form != SealedForm::Snapshot).then_some((note.id, first.base_version?))
        })
        .collect();
    let bases = store.bases_at(&wanted).await?;
    let purged: Vec<NoteId> = notes.iter().filter(|n| n.purged).map(|n| n.id).collect();
    let purge_view = store.purge_view(&purged).await?;
    let keys = sealing.clone();
    let tried = tokio::task::spawn_blocking(move || {
        notes
            .into_iter()
            .map(|mut note| {
                // Deleted forever: no text to open. A note this device holds goes only on
                // a purge sealed by the account's devices, made on what it holds.
                if note.purged {
                    let outcome = match purge_view.get(&note.id) {
                        Some((false, held)) => keys.purge_holds(
                            note.id,
                            note.sealed.as_ref().and_then(|s| s.first()),
                            *held,
                        ),
                        _ => Ok(()),
                    };
                    return (note, outcome);
                }
                let base_version = note
                    .sealed
                    .as_ref()
                    .and_then(|entries| entries.first())
                    .and_then(|entry| entry.base_version);
                let base = base_version.and_then(|v| bases.get(&note.id).map(|fields| (v, fields)));
                let outcome = keys.open(&mut note, base);
                (note, outcome)
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let mut opened = Vec::with_capacity(tried.len());
    let mut unreadable = 0;
    for (note, outcome) in tried {
        let Err(err) = outcome else {
            opened.push(note);
            continue;
        };
        let (id, claimed) = (note.id, note.version);
        if note.purged {
            // Nothing to fetch whole: this device keeps its copy, and says so.
            tracing::warn!(note = %id, %err, "a purge from the server failed its check; the note is kept");
            let reason = Error::Crypto(err).to_string();
            store
                .note_unreadable(id, claimed, &reason, clock::now())
                .await?;
            unreadable += 1;
            continue;
        }
        tracing::info!(note = %id, %err, "a pulled note did not open on its base; fetching it whole");
        match whole(store, remote, sealing, id).await? {
            Some(note) => opened.push(note),
            None => {
                tracing::warn!(note = %id, version = claimed.0, "a note from the server failed its check");
                unreadable += 1;
            }
        }
    }
    Ok((opened, unreadable))
}

/// The note's whole chain from the server, opened; `None` (and the note kept apart) when it
/// does not open. A server that cannot be reached is an error for the round, as always.
pub(super) async fn whole(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    sealing: &Sealing,
    id: NoteId,
) -> Result<Option<NoteState>> {
    let mut note = api.note(token, id).await?;
    let opened = if note.purged {
        // Deleted forever: nothing to open, but the purge itself must be sealed by this
        // account's devices, made on what this device holds (as in a pull); a server that
        // only says so removes nothing.
        let held = store.purge_view(&[id]).await?;
        match held.get(&id) {
            Some((false, held)) => {
                sealing.purge_holds(id, note.sealed.as_ref().and_then(|s| s.first()), *held)
            }
            _ => Ok(()),
        }
    } else {
        sealing.open(&mut note, None)
    };
    match opened {
        Ok(()) => Ok(Some(note)),
        Err(err) => {
            let reason = Error::Crypto(err).to_string();
            store
                .note_unreadable(id, note.version, &reason, clock::now())
                .await?;
            Ok(None)
        }
    }
}

/// Fetches the notes kept apart by earlier rounds; those that open now are applied and
/// leave the list.
pub(super) async fn retry_unreadable(
    store: &Store,
    remote: (&ApiClient, &Secret),
    sealing: &Sealing,
    policy: ConflictPolicy,
    report: &mut SyncReport,
) -> Result<()> {
    for kept in store.unreadable_notes().await? {
        match whole(store, remote, sealing, kept.note_id).await {
            Ok(Some(note)) => {
                let cursor = store.pull_cursor().await?;
                for outcome in store.apply_pull_page(&[note], cursor, policy).await? {
                    report.count(outcome);
                }
                store.clear_unreadable(kept.note_id).await?;
            }
            Ok(None) => report.unreadable += 1,
            // Gone from the server (purged): nothing left to read.
            Err(Error::ServerRefused { status: 404, .. }) => {
                store.clear_unreadable(kept.note_id).await?;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
