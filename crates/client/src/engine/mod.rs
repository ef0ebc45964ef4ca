//! One sync round: push the queue in order, in batches, then pull the account's changes
//! from the cursor until nothing more waits, then push whatever merging queued.
//!
//! An op leaves the queue only when the server confirmed it (applied, or a replay of an
//! applied op) or refused it (then it is set aside, visible, never dropped).
//!
//! # Layout
//! - [`report`]: what a round did and the notices the person must hear.
//! - `push`: pushing the queue in batches.
//! - this module: the round itself (push, pull, push again).

mod opened;
mod preview;
mod purges;
mod push;
mod report;
mod unsealed;
mod verify;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use quire_core::protocol::{NoteVersion, PullResponse};
use quire_core::settings::{ConflictPolicy, SettingKey};

pub use self::preview::{preview, NotePreview, OpPreview, SyncPreview};
use self::push::Pusher;
pub use self::report::{Notice, NoticeKind, SyncReport};
pub use self::verify::{CheckOutcome, Verification};
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::store::RemoteOutcome;
use crate::{clock, Result, Store};

/// Changes asked for per pull request: the most a server takes (a page's text is bounded
/// by the server's response limit besides).
const PULL_PAGE: u32 = 1000;

/// Whether this page shows that the cursor or the store cannot be trusted, so the round must
/// pull everything again: a cursor beyond the server's change counter (the server was
/// restored from an older backup), or changes "this device" made that its store lacks (the
/// store was restored from a backup, or copied to a second machine, which then takes a new
/// device id so that the two stop hiding each other's changes).
///
/// The versions this round's own pushes made (`applied`) are held here by definition: they
/// are not looked up again, which after a push of 10,000 notes read all of them back.
async fn caught_up_instead(
    store: &Store,
    since: u64,
    page: &PullResponse,
    applied: &HashSet<NoteVersion>,
) -> Result<bool> {
    if since > page.head {
        tracing::warn!(
            since,
            head = page.head,
            "the server has fewer changes than this device saw: it was restored from a backup; \
             pulling everything again"
        );
        return Ok(true);
    }
    let own: Vec<NoteVersion> = page
        .own
        .iter()
        .filter(|change| !applied.contains(change))
        .copied()
        .collect();
    if store.lacks_own_changes(&own).await? {
        tracing::warn!(
            "this store lacks changes it made: it was restored from a backup or copied; \
             pulling everything again as a new device"
        );
        store.start_new_device().await?;
        return Ok(true);
    }
    Ok(false)
}

/// A pulled page's writing into the store, with the pull cursor after it.
type Writing<'a> = Pin<Box<dyn Future<Output = Result<Vec<RemoteOutcome>>> + Send + 'a>>;

/// Waits for a page's writing, if one is under way, and counts what it did.
async fn write_out(writing: Option<Writing<'_>>, report: &mut SyncReport) -> Result<()> {
    if let Some(writing) = writing {
        for outcome in writing.await? {
            report.count(outcome);
        }
    }
    Ok(())
}

/// Runs one full round against the signed-in server; `sealing` for an end-to-end account
/// (its ops go sealed, its notes come back sealed).
pub async fn sync_once(
    store: &Store,
    api: &ApiClient,
    token: &Secret,
    sealing: Option<&Sealing>,
) -> Result<SyncReport> {
    let wire_before = api.wire_bytes();
    let policy: ConflictPolicy = store
        .setting_as(SettingKey::ConflictPolicy, ConflictPolicy::Merge)
        .await?;
    let mut report = SyncReport::default();
    let batch_size = store.setting_as(SettingKey::BatchSize, 1000).await?;
    // Deletes forever go first: a note purged here takes no more ops. (An account not yet
    // end-to-end encrypted has no purge; its device upgrades it at sign-in.)
    if let Some(sealing) = sealing {
        purges::send(store, (api, token), sealing, &mut report).await?;
        // Notes pulled and ops applied get their part of the digest while their text is
        // here.
        store.know_text_macs(&sealing.text_macs()).await?;
    }
    let mut pusher = Pusher::new(store, (api, token), policy, batch_size, sealing);
    pusher.push_all(&mut report).await?;
    if let Some(sealing) = sealing {
        opened::retry_unreadable(store, (api, token), sealing, policy, &mut report).await?;
    }

    let mut since = store.pull_cursor().await?;
    let mut device = Some(store.device_id().await?);
    let mut page = api.pull(token, since, PULL_PAGE, device).await?;
    // Whether the last page asks for notes left in the clear by a stopped upgrade.
    let mut unsealed;
    // The page before this one, opened and waiting to be written (the writing starts when
    // it is first polled, below).
    let mut writing: Option<Writing<'_>> = None;
    loop {
        if device.is_some() && caught_up_instead(store, since, &page, pusher.applied()).await? {
            // Everything again, in full: what this device holds is reconciled note by note
            // (its queue is kept), and what it lacks comes back.
            write_out(writing.take(), &mut report).await?;
            report.caught_up = true;
            since = 0;
            device = None;
            page = api.pull(token, since, PULL_PAGE, device).await?;
            continue;
        }
        let (next, more) = (page.next, page.more);
        unsealed = page.unsealed;
        let notes: Vec<_> = page.changes.into_iter().map(|change| change.note).collect();
        // Three pages at once: the one before is written while this one is opened and the
        // next one is on its way (the server builds it meanwhile).
        let opening = async {
            match sealing {
                Some(sealing) => opened::open_page(store, (api, token), sealing, notes).await,
                None => Ok((notes, 0)),
            }
        };
        let following = async {
            match more {
                true => Some(api.pull(token, next, PULL_PAGE, device).await),
                false => None,
            }
        };
        let (written, opened, following) =
            tokio::join!(write_out(writing.take(), &mut report), opening, following);
        written?;
        let (notes, unreadable) = opened?;
        report.unreadable += unreadable;
        writing = Some(Box::pin(async move {
            store.apply_pull_page(&notes, next, policy).await
        }));
        since = next;
        match following {
            Some(Ok(next_page)) => page = next_page,
            Some(Err(err)) => {
                // What came before the failure is kept: the next round goes on from it.
                write_out(writing.take(), &mut report).await?;
                return Err(err);
            }
            None => break,
        }
    }
    write_out(writing.take(), &mut report).await?;
    if let (true, Some(sealing)) = (unsealed, sealing) {
        unsealed::take_over(store, (api, token), sealing, policy, &mut report).await?;
    }

    // Merges and revived notes queued ops of their own (and notes left in the clear).
    pusher.push_all(&mut report).await?;
    report.held = store.held_count().await?;
    report.pending = store.pending_count().await?.saturating_sub(report.held);
    let wire = api.wire_bytes() - wire_before;
    report.bytes_sent = wire.sent;
    report.bytes_received = wire.received;
    store.record_sync(clock::now()).await?;
    tracing::info!(?report, "sync round done");
    Ok(report)
}

/// When a round is followed by a check of this device against the server (issue 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckWhen {
    /// When the round changed anything here or there, or the last check is an hour old or
    /// never ran: a quiet periodic round reads no note to check.
    Due,
    /// After every round (`quire sync --verify`).
    Always,
}

/// A quiet device checks at least this often.
const CHECK_AT_LEAST_EVERY_MS: i64 = 60 * 60 * 1000;

async fn check_due(store: &Store, report: &SyncReport, when: CheckWhen) -> Result<bool> {
    if when == CheckWhen::Always {
        return Ok(true);
    }
    let changed = report.pushed
        + report.pulled
        + report.merged
        + report.conflicts
        + report.revived
        + report.purged
        + report.sealed_for_upgrade
        > 0
        || report.caught_up;
    let last = store.verified_at().await?;
    Ok(changed
        || last.is_none_or(|at| clock::now().0.saturating_sub(at.0) >= CHECK_AT_LEAST_EVERY_MS))
}

/// A round, then the check of this device against the server when it is due (end-to-end
/// accounts: the server's digest counts sealed notes). What the check queued is sent by
/// another round, and an account that moved during the check is pulled up to date, each
/// followed by the check again: at most twice.
pub async fn sync_and_check(
    store: &Store,
    api: &ApiClient,
    token: &Secret,
    sealing: Option<&Sealing>,
    when: CheckWhen,
) -> Result<SyncReport> {
    let mut report = sync_once(store, api, token, sealing).await?;
    let Some(sealing) = sealing else {
        return Ok(report);
    };
    if !check_due(store, &report, when).await? {
        return Ok(report);
    }
    match check_and_settle(store, api, token, sealing, &mut report).await {
        Ok(verification) => report.verification = Some(verification),
        // The round itself went through: a check that could not finish (the server went
        // away, or answered too slowly) runs again after the next round. Asked for, it is
        // the command's error.
        Err(err) if when == CheckWhen::Due => {
            tracing::warn!(%err, "the check after the round did not finish; it runs again after the next");
        }
        Err(err) => return Err(err),
    }
    Ok(report)
}

/// The check, then what it queued sent and an account that moved pulled, each followed by
/// the check again (at most twice); records when it was found equal.
async fn check_and_settle(
    store: &Store,
    api: &ApiClient,
    token: &Secret,
    sealing: &Sealing,
    report: &mut SyncReport,
) -> Result<Verification> {
    let mut last = verify::check(store, (api, token), sealing).await?;
    let mut verification = last;
    for _ in 0..2 {
        if last.sent_again == 0 && last.outcome != CheckOutcome::Moved {
            break;
        }
        report.then(&sync_once(store, api, token, Some(sealing)).await?);
        last = verify::check(store, (api, token), sealing).await?;
        verification = verification.then(last);
    }
    if verification.outcome == CheckOutcome::Equal {
        store.record_verified(clock::now()).await?;
    }
    Ok(verification)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use quire_core::NoteFields;

    use super::*;
    use crate::account::{self, AccountRequest};
    use crate::credentials::FileStore;
    use crate::store::NoteEdit;

    /// The case: this device's base is another text of the same length as the
    /// server's at the same version (a restored server, a damaged base). A patch checked by
    /// length alone turned the server's text into one nobody wrote; bound to the base's hash,
    /// the op is a conflict, nothing changes on the server, and the person decides. (An
    /// account in the clear, as before end-to-end encryption: the server checks the hash.)
    #[tokio::test]
    async fn an_edit_on_a_base_the_server_does_not_have_is_never_applied_to_its_text() {
        let server_dir = tempfile::tempdir().unwrap();
        let db = quire_server::Db::connect(&format!(
            "sqlite://{}",
            server_dir.path().join("s.db").display()
        ))
        .await
        .unwrap();
        let state = quire_server::AppState::new(
            db.clone(),
            quire_server::Limits::default(),
            std::time::Duration::from_secs(60),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = quire_server::spawn(listener, state).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let secrets = FileStore::new(dir.path().join("credentials.json"));
        let store = Store::open(dir.path(), &secrets).await.unwrap();
        let url = server.url();
        let request = AccountRequest::new(&url, "owner", "long enough pw".to_owned(), false);
        account::sign_in(&store, &secrets, request, true)
            .await
            .unwrap();
        sqlx::query("UPDATE accounts SET key_scheme = 'legacy'")
            .execute(&db.pool)
            .await
            .unwrap();
        let (api, token) = account::session(&store, &secrets).await.unwrap();

        let servers = "- [ ] eggs\n- [ ] milk\n";
        let note = store
            .create_note(NoteFields::new("List", servers))
            .await
            .unwrap();
        sync_once(&store, &api, &token, None).await.unwrap();
        // Here, version 1 is another text of the same length.
        let ours = "- [ ] milk\n- [ ] eggs\n";
        for table in ["bases", "notes"] {
            sqlx::query(&format!("UPDATE {table} SET body = ?"))
                .bind(ours)
                .execute(&store.pool)
                .await
                .unwrap();
        }
        // The person deletes the milk line.
        let edit = NoteEdit::body("- [ ] eggs\n".to_owned());
        store.update_note(note.id, edit).await.unwrap();
        let report = sync_once(&store, &api, &token, None).await.unwrap();
        assert_eq!((report.pushed, report.conflicts), (0, 1), "{report:?}");

        let server_note = api.note(&token, note.id).await.unwrap();
        assert_eq!(
            (server_note.body.as_str(), server_note.version.0),
            (servers, 1)
        );
        assert_eq!(store.note(note.id).await.unwrap().body, "- [ ] eggs\n");
        let conflict = store.conflict(note.id).await.unwrap();
        assert_eq!(conflict.theirs.body, servers);
        assert_eq!(
            conflict.base, None,
            "a base the server never had is not shown"
        );

        // The person keeps their text: it goes on top of the server's, by decision.
        store
            .resolve_conflict(note.id, crate::store::Resolution::Mine)
            .await
            .unwrap();
        let report = sync_once(&store, &api, &token, None).await.unwrap();
        assert_eq!((report.pushed, report.pending), (1, 0), "{report:?}");
        assert_eq!(
            api.note(&token, note.id).await.unwrap().body,
            "- [ ] eggs\n"
        );
        server.stop().await.unwrap();
    }
}
