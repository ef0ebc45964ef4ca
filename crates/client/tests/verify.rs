//! Verification after a round (issue 22), on a real server over loopback HTTP, SQLite and
//! PostgreSQL: equal stores cost one request; a note changed behind the store's back is
//! found and repaired, its text kept; a note lost on the server is sent again from the
//! device that has it; thousands of notes with three differing are repaired in a few
//! requests; and nothing queued is ever touched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{device, server_on, Device, Engine, Server};
use quire_client::engine::{CheckOutcome, CheckWhen, SyncReport, Verification};
use quire_client::store::NoteEdit;
use quire_core::{NoteFields, NoteId};

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Engine::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Engine::Postgres).await;
                }
            )*
        }
    };
}

on_both_engines!(
    equal_stores_cost_one_request_and_the_status_says_when,
    a_note_changed_behind_the_stores_back_is_found_and_repaired,
    a_note_lost_on_the_server_is_sent_again_from_a_device_that_has_it,
    many_notes_with_three_differing_are_repaired_in_few_requests,
    a_check_leaves_queued_changes_alone,
    a_check_that_fails_fails_only_a_sync_that_asked_for_it,
    nothing_is_claimed_while_the_server_holds_notes_in_the_clear,
    parts_made_as_notes_sync_equal_parts_made_from_the_store,
);

async fn checked(device: &Device, when: CheckWhen) -> SyncReport {
    device.sync_checked(when).await
}

/// Runs `sql` on the device's store, with `id` as its one parameter: a change made behind
/// the store's back.
async fn on_store(device: &Device, sql: &str, id: NoteId) {
    sqlx::query(sql)
        .bind(id.to_string())
        .execute(device.store.raw_pool())
        .await
        .unwrap();
}

fn verification(report: &SyncReport) -> &Verification {
    report.verification.as_ref().expect("a check ran")
}

/// A device with `n` notes, all synced.
async fn synced_device(server: &Server, n: usize) -> (Device, Vec<NoteId>) {
    let d = device().await;
    d.register(server, "owner").await;
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let notes = chunk
            .iter()
            .map(|i| NoteFields::new(format!("Note {i}"), format!("body of note {i}\n")))
            .collect();
        ids.extend(
            d.store
                .create_notes(notes)
                .await
                .unwrap()
                .iter()
                .map(|n| n.id),
        );
    }
    let report = d.sync().await;
    assert_eq!((report.pushed, report.pending), (n as u64, 0));
    (d, ids)
}

async fn equal_stores_cost_one_request_and_the_status_says_when(engine: Engine) {
    let server = server_on(engine).await;
    let (a, _) = synced_device(&server, 30).await;
    let b = device().await;
    b.login(&server, "owner").await;
    b.sync().await;
    assert_eq!(b.store.status().await.unwrap().last_verified_at, None);

    for d in [&a, &b] {
        let report = checked(d, CheckWhen::Always).await;
        let check = verification(&report);
        assert_eq!(check.outcome, CheckOutcome::Equal, "{check:?}");
        assert_eq!((check.notes, check.requests), (30, 1), "{check:?}");
        assert!(report.notices().is_empty(), "an equal check says nothing");
        assert!(d.store.status().await.unwrap().last_verified_at.is_some());
    }

    // A quiet round that is not asked to check, an hour not yet gone, checks nothing.
    let quiet = checked(&a, CheckWhen::Due).await;
    assert_eq!(quiet.verification, None);
    // One that changed something does.
    let note = a.store.list_notes().await.unwrap()[0].id;
    a.store
        .update_note(note, NoteEdit::body("changed\n".to_owned()))
        .await
        .unwrap();
    let busy = checked(&a, CheckWhen::Due).await;
    assert_eq!(verification(&busy).outcome, CheckOutcome::Equal);
    // The other device, a change behind: pulled, then equal.
    let behind = checked(&b, CheckWhen::Due).await;
    assert_eq!(behind.pulled, 1);
    assert_eq!(verification(&behind).outcome, CheckOutcome::Equal);
    drop(server);
}

async fn a_note_changed_behind_the_stores_back_is_found_and_repaired(engine: Engine) {
    let server = server_on(engine).await;
    let (d, ids) = synced_device(&server, 200).await;
    // Edited twice, so that its version here can be put back below the server's.
    for text in ["second\n", "third\n"] {
        d.store
            .update_note(ids[2], NoteEdit::body(text.to_owned()))
            .await
            .unwrap();
        d.sync().await;
    }
    let pool = d.store.raw_pool();
    // A text that drifted from what the server has, with no change queued to send it.
    sqlx::query("UPDATE notes SET body = 'damaged here' WHERE id = ?")
        .bind(ids[0].to_string())
        .execute(pool)
        .await
        .unwrap();
    // A note lost here.
    for table in ["bases WHERE note_id", "notes WHERE id"] {
        sqlx::query(&format!("DELETE FROM {table} = ?"))
            .bind(ids[1].to_string())
            .execute(pool)
            .await
            .unwrap();
    }
    // A version behind the server's, with the server's text.
    sqlx::query("UPDATE bases SET version = 2 WHERE note_id = ?")
        .bind(ids[2].to_string())
        .execute(pool)
        .await
        .unwrap();

    // A round that is not asked checks nothing: the damage goes unseen.
    let unasked = d.sync().await;
    assert_eq!(unasked.verification, None);
    let report = checked(&d, CheckWhen::Always).await;
    let check = verification(&report);
    assert_eq!(check.outcome, CheckOutcome::Equal, "{check:?}");
    assert_eq!(
        (check.repaired, check.kept_copies, check.sent_again),
        (3, 1, 0),
        "{check:?}"
    );
    let notices: Vec<String> = report.notices().into_iter().map(|n| n.text).collect();
    assert_eq!(
        notices,
        [
            "3 notes repaired after a check: this device now holds what the server holds; \
          the text they had here, which the server never had, is kept as a new note"
        ]
    );

    assert_eq!(d.store.note(ids[0]).await.unwrap().body, "body of note 0\n");
    assert_eq!(d.store.note(ids[1]).await.unwrap().body, "body of note 1\n");
    assert_eq!(d.store.note(ids[2]).await.unwrap().body, "third\n");
    let kept: Vec<_> = d
        .store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .filter(|n| !ids.contains(&n.id))
        .collect();
    assert_eq!(kept.len(), 1, "the damaged text is kept, as a new note");
    assert_eq!(d.store.note(kept[0].id).await.unwrap().body, "damaged here");
    // It goes to the server like any new note; the next check is equal at once.
    let after = checked(&d, CheckWhen::Always).await;
    assert_eq!(after.pushed, 1);
    let check = verification(&after);
    assert_eq!(
        (check.outcome, check.repaired, check.requests),
        (CheckOutcome::Equal, 0, 1)
    );
    drop(server);
}

async fn a_note_lost_on_the_server_is_sent_again_from_a_device_that_has_it(engine: Engine) {
    let server = server_on(engine).await;
    let (a, ids) = synced_device(&server, 50).await;
    a.store.delete_note(ids[4]).await.unwrap();
    a.sync().await;
    // Two notes lost on the server: one in use, one in the trash.
    for id in [ids[3], ids[4]] {
        for table in ["note_entries WHERE note_id", "notes WHERE id"] {
            sqlx::query(&format!("DELETE FROM {table} = $1"))
                .bind(id.to_string())
                .execute(&server.db().pool)
                .await
                .unwrap();
        }
    }
    let report = checked(&a, CheckWhen::Always).await;
    let check = verification(&report);
    assert_eq!(check.outcome, CheckOutcome::Equal, "{check:?}");
    assert_eq!((check.sent_again, check.repaired), (2, 0), "{check:?}");
    assert_eq!(
        report.pushed, 3,
        "a create each, and the trashed one's delete: {report:?}"
    );
    assert!(report
        .notices()
        .iter()
        .any(|n| n.text == "The server lacked 2 notes this device holds: sent again"));

    // A new device gets them.
    let b = device().await;
    b.login(&server, "owner").await;
    b.sync().await;
    assert_eq!(b.store.note(ids[3]).await.unwrap().body, "body of note 3\n");
    assert!(b.store.note(ids[4]).await.unwrap().deleted);
    let check = checked(&b, CheckWhen::Always).await;
    assert_eq!(verification(&check).outcome, CheckOutcome::Equal);
    drop(server);
}

async fn many_notes_with_three_differing_are_repaired_in_few_requests(engine: Engine) {
    let server = server_on(engine).await;
    let (d, ids) = synced_device(&server, 20_000).await;
    for id in [ids[10], ids[9_000], ids[19_999]] {
        on_store(&d, "UPDATE notes SET body = body || 'x' WHERE id = ?", id).await;
    }
    let report = checked(&d, CheckWhen::Always).await;
    let check = verification(&report);
    assert_eq!(
        (check.outcome, check.repaired),
        (CheckOutcome::Equal, 3),
        "{check:?}"
    );
    // The digest, the ranges, each differing range's buckets, each differing bucket's
    // notes, each note, the digest again; then the kept copies' round and its check.
    assert!(check.requests <= 20, "{check:?}");
    drop(server);
}

async fn a_check_leaves_queued_changes_alone(engine: Engine) {
    let server = server_on(engine).await;
    let (a, ids) = synced_device(&server, 10).await;
    let b = device().await;
    b.login(&server, "owner").await;
    b.sync().await;
    // Both devices edit the same line: b's edit waits here as a conflict, its queue held.
    a.store
        .update_note(ids[0], NoteEdit::body("from a\n".to_owned()))
        .await
        .unwrap();
    a.sync().await;
    b.store
        .update_note(ids[0], NoteEdit::body("from b\n".to_owned()))
        .await
        .unwrap();
    b.sync().await;
    assert_eq!(b.store.conflicts().await.unwrap().len(), 1);
    // And its copy of the note in conflict drifts too: still left alone.
    on_store(&b, "UPDATE notes SET body = 'damaged' WHERE id = ?", ids[0]).await;
    let report = checked(&b, CheckWhen::Always).await;
    let check = verification(&report);
    // The server's text is here, as the conflict's side and base: equal, and nothing
    // repaired or changed.
    assert_eq!(
        (check.outcome, check.repaired),
        (CheckOutcome::Equal, 0),
        "{check:?}"
    );
    assert_eq!(b.store.note(ids[0]).await.unwrap().body, "damaged");
    assert_eq!(b.store.conflicts().await.unwrap().len(), 1);

    // Its base damaged too: found, and still left for the person's decision.
    on_store(
        &b,
        "UPDATE bases SET body = 'base damaged' WHERE note_id = ?",
        ids[0],
    )
    .await;
    let report = checked(&b, CheckWhen::Always).await;
    let check = verification(&report);
    assert_eq!(
        (check.outcome, check.repaired, check.waiting),
        (CheckOutcome::Differs, 0, 1),
        "{check:?}"
    );
    assert_eq!(b.store.note(ids[0]).await.unwrap().body, "damaged");
    assert_eq!(b.store.conflicts().await.unwrap().len(), 1);
    assert!(
        b.store.status().await.unwrap().pending_ops == 0,
        "nothing queued by the check"
    );
    drop(server);
}

async fn a_check_that_fails_fails_only_a_sync_that_asked_for_it(engine: Engine) {
    let server = server_on(engine).await;
    let (d, _) = synced_device(&server, 5).await;
    // The server can no longer answer digests (nor take pushes, so the round pushes
    // nothing: a device never checked checks after any round).
    sqlx::query("DROP TABLE note_digests")
        .execute(&server.db().pool)
        .await
        .unwrap();
    // The round went through; its check did not, and claims nothing.
    let report = checked(&d, CheckWhen::Due).await;
    assert_eq!(report.verification, None);
    assert_eq!(d.store.status().await.unwrap().last_verified_at, None);
    let (api, token) = quire_client::account::session(&d.store, &d.secrets)
        .await
        .unwrap();
    let sealing = quire_client::account::sealing(&d.store, &d.secrets)
        .await
        .unwrap();
    let asked = quire_client::engine::sync_and_check(
        &d.store,
        &api,
        &token,
        sealing.as_ref(),
        CheckWhen::Always,
    )
    .await;
    assert!(
        matches!(
            asked,
            Err(quire_client::Error::ServerBusy { status: 500, .. })
        ),
        "{asked:?}"
    );
    drop(server);
}

async fn nothing_is_claimed_while_the_server_holds_notes_in_the_clear(engine: Engine) {
    let server = server_on(engine).await;
    let (d, ids) = synced_device(&server, 3).await;
    // As an upgrade stopped half-way leaves it: one note still in the clear there.
    sqlx::query("UPDATE notes SET snapshot_version = NULL, digest_part = NULL WHERE id = $1")
        .bind(ids[0].to_string())
        .execute(&server.db().pool)
        .await
        .unwrap();
    let report = checked(&d, CheckWhen::Always).await;
    let check = verification(&report);
    assert_eq!(
        (check.outcome, check.repaired),
        (CheckOutcome::NotSealed, 0),
        "{check:?}"
    );
    assert_eq!(d.store.status().await.unwrap().last_verified_at, None);
    drop(server);
}

async fn stored_parts(d: &Device) -> Vec<(String, i64, i64)> {
    sqlx::query_as("SELECT note_id, part, version FROM digest_parts ORDER BY note_id")
        .fetch_all(d.store.raw_pool())
        .await
        .unwrap()
}

/// The parts a push's answers and a pull's new notes leave in the store (made from the
/// text in memory) are the ones a check makes from the store itself.
async fn parts_made_as_notes_sync_equal_parts_made_from_the_store(engine: Engine) {
    let server = server_on(engine).await;
    let (a, ids) = synced_device(&server, 300).await;
    a.store.delete_note(ids[1]).await.unwrap();
    a.store
        .update_note(ids[2], NoteEdit::body("edited\n".to_owned()))
        .await
        .unwrap();
    a.sync().await;
    let b = device().await;
    b.login(&server, "owner").await;
    b.sync().await;
    for d in [&a, &b] {
        let stale: i64 = sqlx::query_scalar("SELECT count(*) FROM digest_stale")
            .fetch_one(d.store.raw_pool())
            .await
            .unwrap();
        assert_eq!(stale, 0, "every part was made as the notes synced");
        let made = stored_parts(d).await;
        assert_eq!(made.len(), 300);
        sqlx::query("DELETE FROM digest_parts")
            .execute(d.store.raw_pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO digest_stale (note_id, seq) SELECT id, random() FROM notes")
            .execute(d.store.raw_pool())
            .await
            .unwrap();
        let report = checked(d, CheckWhen::Always).await;
        assert_eq!(verification(&report).outcome, CheckOutcome::Equal);
        assert_eq!(stored_parts(d).await, made);
    }
    drop(server);
}
