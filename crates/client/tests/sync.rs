//! Headless multi-device scenarios: two devices of one account syncing through a real server
//! over HTTP, as `quire sync` and the app do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{two_devices, Device};
use quire_client::engine::SyncReport;
use quire_client::store::{NoteEdit, Resolution};
use quire_core::settings::SettingKey;
use quire_core::{NoteFields, NoteId};

/// A note both devices have, then edited on both while offline; A syncs first, then B.
/// Returns the note and B's report of the round that met A's change.
async fn edited_on_both(
    a: &Device,
    b: &Device,
    base: &str,
    on_a: &str,
    on_b: &str,
) -> (NoteId, SyncReport) {
    let note = a
        .store
        .create_note(NoteFields::new("T", base))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.store
        .update_note(note.id, NoteEdit::body(on_a))
        .await
        .unwrap();
    b.store
        .update_note(note.id, NoteEdit::body(on_b))
        .await
        .unwrap();
    a.sync().await;
    (note.id, b.sync().await)
}

async fn body_on(device: &Device, note: NoteId) -> String {
    device.store.note(note).await.unwrap().body
}

#[tokio::test]
async fn a_note_travels_from_one_device_to_the_other_and_back() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Plan", "one\n"))
        .await
        .unwrap();
    let report = a.sync().await;
    assert_eq!((report.pushed, report.pending), (1, 0));
    assert_eq!(a.store.note(note.id).await.unwrap().version.unwrap().0, 1);

    let report = b.sync().await;
    assert_eq!(report.pulled, 1);
    assert_eq!(body_on(&b, note.id).await, "one\n");
    assert_eq!(
        b.store.pending_count().await.unwrap(),
        0,
        "pulled notes queue nothing"
    );

    b.store
        .update_note(note.id, NoteEdit::body("one\ntwo\n"))
        .await
        .unwrap();
    b.sync().await;
    let report = a.sync().await;
    assert_eq!(report.pulled, 1);
    assert_eq!(body_on(&a, note.id).await, "one\ntwo\n");
    assert!(a.store.status().await.unwrap().last_sync_at.is_some());
}

#[tokio::test]
async fn offline_edits_on_different_lines_merge_on_both_devices() {
    let (_server, a, b) = two_devices().await;
    let (note, report) = edited_on_both(&a, &b, "1\n2\n3\n", "one\n2\n3\n", "1\n2\nthree\n").await;
    assert_eq!(report.merged, 1);
    assert_eq!(report.pending, 0, "the merge was pushed");
    a.sync().await;
    for device in [&a, &b] {
        assert_eq!(body_on(device, note).await, "one\n2\nthree\n");
    }
}

#[tokio::test]
async fn overlapping_edits_conflict_and_both_texts_are_kept() {
    let (_server, a, b) = two_devices().await;
    let (note, report) =
        edited_on_both(&a, &b, "1\n2\n3\n", "1\nfrom a\n3\n", "1\nfrom b\n3\n").await;
    assert_eq!(report.conflicts, 1);
    // B keeps its text, and the conflict holds the server's.
    assert_eq!(body_on(&b, note).await, "1\nfrom b\n3\n");
    assert_eq!(b.store.status().await.unwrap().open_conflicts, 1);
    let conflict = b.store.conflict(note).await.unwrap();
    assert_eq!(conflict.mine.body, "1\nfrom b\n3\n");
    assert_eq!(conflict.theirs.body, "1\nfrom a\n3\n");
    assert_eq!(conflict.base.as_deref(), Some("1\n2\n3\n"));
    assert_eq!(conflict.hunks().len(), 3);
    // Nothing was overwritten on the server or on A.
    a.sync().await;
    assert_eq!(body_on(&a, note).await, "1\nfrom a\n3\n");
}

#[tokio::test]
async fn a_resolved_conflict_syncs_like_any_edit() {
    let (_server, a, b) = two_devices().await;
    let (note, _) = edited_on_both(&a, &b, "1\n2\n3\n", "1\nfrom a\n3\n", "1\nfrom b\n3\n").await;
    b.store
        .resolve_conflict(note, Resolution::Text("1\nfrom a and b\n3\n".into()))
        .await
        .unwrap();
    assert_eq!(b.store.status().await.unwrap().open_conflicts, 0);
    let report = b.sync().await;
    assert_eq!((report.pushed, report.conflicts, report.pending), (1, 0, 0));
    a.sync().await;
    for device in [&a, &b] {
        assert_eq!(body_on(device, note).await, "1\nfrom a and b\n3\n");
    }
    assert!(matches!(
        b.store.conflict(note).await,
        Err(quire_client::Error::NoConflict(_))
    ));
}

#[tokio::test]
async fn taking_theirs_needs_no_push() {
    let (_server, a, b) = two_devices().await;
    let (note, _) = edited_on_both(&a, &b, "x\n", "a\n", "b\n").await;
    b.store
        .resolve_conflict(note, Resolution::Theirs)
        .await
        .unwrap();
    assert_eq!(body_on(&b, note).await, "a\n");
    assert_eq!(b.store.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn an_edit_beats_a_delete() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("T", "x\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;

    a.store.delete_note(note.id).await.unwrap();
    b.store
        .update_note(note.id, NoteEdit::body("still needed\n"))
        .await
        .unwrap();
    a.sync().await;
    let on_b = b.sync().await;
    let on_a = a.sync().await;
    // Both people are told: the one who edited and the one whose delete was undone.
    assert_eq!((on_b.revived, on_a.revived), (1, 1));
    assert!(
        on_a.notices()[0].text.contains("the edit won"),
        "{:?}",
        on_a.notices()
    );
    for device in [&a, &b] {
        let here = device.store.note(note.id).await.unwrap();
        assert!(!here.deleted, "the edit brought the note back");
        assert_eq!(here.body, "still needed\n");
    }
}

#[tokio::test]
async fn create_edit_delete_offline_replays_in_order() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("short-lived", ""))
        .await
        .unwrap();
    a.store
        .update_note(note.id, NoteEdit::body("edited"))
        .await
        .unwrap();
    a.store.delete_note(note.id).await.unwrap();
    let report = a.sync().await;
    assert_eq!(report.pending, 0);
    b.sync().await;
    assert!(b.store.note(note.id).await.unwrap().deleted);
    assert!(b.store.list_notes().await.unwrap().is_empty());
}

#[tokio::test]
async fn last_write_wins_when_the_account_says_so() {
    let (_server, a, b) = two_devices().await;
    for device in [&a, &b] {
        device
            .store
            .set_setting(SettingKey::ConflictPolicy, "lww")
            .await
            .unwrap();
    }
    let (note, report) = edited_on_both(&a, &b, "base\n", "a wrote\n", "b wrote later\n").await;
    assert_eq!((report.conflicts, report.pending), (0, 0));
    a.sync().await;
    for device in [&a, &b] {
        assert_eq!(body_on(device, note).await, "b wrote later\n");
    }
}

#[tokio::test]
async fn five_thousand_queued_ops_go_in_batches() {
    let (_server, a, b) = two_devices().await;
    for n in 0..5000 {
        a.store
            .create_note(NoteFields::new(format!("n{n}"), "queued offline\n"))
            .await
            .unwrap();
    }
    assert_eq!(a.store.pending_count().await.unwrap(), 5000);
    let report = a.sync().await;
    assert_eq!((report.pushed, report.pending), (5000, 0));
    assert_eq!(report.batches, 5, "the default batch size is 1000");

    a.store
        .set_setting(SettingKey::BatchSize, "64")
        .await
        .unwrap();
    for n in 0..200 {
        a.store
            .create_note(NoteFields::new(format!("m{n}"), ""))
            .await
            .unwrap();
    }
    let report = a.sync().await;
    assert_eq!(
        (report.pushed, report.batches),
        (200, 4),
        "batch-size is a setting"
    );

    let report = b.sync().await;
    assert_eq!(report.pulled, 5200);
    assert_eq!(b.store.list_notes().await.unwrap().len(), 5200);
}

#[tokio::test]
async fn a_round_drains_a_queue_of_more_than_a_thousand_batches() {
    let (_server, a, b) = two_devices().await;
    a.store
        .set_setting(SettingKey::BatchSize, "2")
        .await
        .unwrap();
    let notes = (0..2_100)
        .map(|n| NoteFields::new(format!("n{n}"), ""))
        .collect();
    a.store.create_notes(notes).await.unwrap();
    let report = a.sync().await;
    assert_eq!((report.pushed, report.pending), (2_100, 0));
    assert_eq!(report.batches, 1_050);
    assert_eq!(b.sync().await.pulled, 2_100);
}

#[tokio::test]
async fn a_signed_out_session_keeps_the_queue_and_says_sign_in() {
    let (_server, a, _b) = two_devices().await;
    a.store
        .create_note(NoteFields::new("kept", ""))
        .await
        .unwrap();
    // Signed out elsewhere: the server forgets the token, this device still holds it.
    let (api, token) = quire_client::account::session(&a.store, &a.secrets)
        .await
        .unwrap();
    api.logout(&token).await.unwrap();

    let err = a.try_sync().await.unwrap_err();
    assert!(matches!(err, quire_client::Error::SignInNeeded(_)), "{err}");
    assert!(err.to_string().contains("quire account login"), "{err}");
    assert_eq!(
        a.store.pending_count().await.unwrap(),
        1,
        "the queue is kept"
    );
}

#[tokio::test]
async fn a_server_that_is_down_keeps_the_queue_until_it_is_back() {
    let (server, a, b) = two_devices().await;
    let url = server.url.clone();
    let data = server.stop().await;
    for n in 0..3 {
        a.store
            .create_note(NoteFields::new(format!("offline {n}"), ""))
            .await
            .unwrap();
    }
    let err = a.try_sync().await.unwrap_err();
    assert!(
        matches!(err, quire_client::Error::ServerUnreachable { .. }),
        "{err}"
    );
    assert_eq!(a.store.pending_count().await.unwrap(), 3);

    // Back on the same address with the same data: the queue drains, nothing twice.
    let addr = url.trim_start_matches("http://");
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _server = common::serve(data, listener).await;
    let report = a.sync().await;
    assert_eq!((report.pushed, report.pending), (3, 0));
    assert_eq!(b.sync().await.pulled, 3);
    assert_eq!(b.store.list_notes().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_note_deleted_on_both_devices_leaves_no_op_behind() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("T", "x\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.store.delete_note(note.id).await.unwrap();
    b.store.delete_note(note.id).await.unwrap();
    a.sync().await;
    let report = b.sync().await;
    assert_eq!(report.pending, 0, "the second delete was already done");
    assert_eq!(b.store.pending_count().await.unwrap(), 0);
    assert!(b.store.note(note.id).await.unwrap().deleted);
}

#[tokio::test]
async fn a_newer_server_text_during_an_open_conflict_updates_theirs_and_keeps_mine() {
    let (_server, a, b) = two_devices().await;
    let (note, report) = edited_on_both(&a, &b, "1\n2\n3\n", "1\na\n3\n", "1\nb\n3\n").await;
    assert_eq!(report.conflicts, 1);
    // A edits again while B has not decided yet.
    a.store
        .update_note(note, NoteEdit::body("1\na again\n3\n"))
        .await
        .unwrap();
    a.sync().await;
    let report = b.sync().await;
    assert_eq!((report.conflicts, report.pending), (0, 0));
    assert_eq!(
        body_on(&b, note).await,
        "1\nb\n3\n",
        "B's text stays while B decides"
    );
    let conflict = b.store.conflict(note).await.unwrap();
    assert_eq!(
        conflict.theirs.body, "1\na again\n3\n",
        "the decision is against the newest text"
    );

    b.store
        .resolve_conflict(note, Resolution::Mine)
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!((report.pushed, report.pending, report.batches), (1, 0, 1));
    a.sync().await;
    assert_eq!(body_on(&a, note).await, "1\nb\n3\n");
}

/// Found by the convergence property test: B kept writing in a note whose conflict it had
/// not decided yet. Those edits used to go to the server on the old version (overwriting
/// A's text there without anyone deciding), and "keep mine" afterwards was pushed on a
/// version the server had moved past: a conflict on every round, forever.
#[tokio::test]
async fn edits_during_an_open_conflict_wait_for_the_decision_and_go_with_it() {
    let (_server, a, b) = two_devices().await;
    let (note, report) = edited_on_both(&a, &b, "1\n2\n3\n", "1\na\n3\n", "1\nb\n3\n").await;
    assert_eq!(report.conflicts, 1);

    b.store
        .update_note(note, NoteEdit::body("1\nb, more\n3\n"))
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!(
        (report.pushed, report.held, report.pending),
        (0, 1, 0),
        "held, not pushed"
    );
    a.sync().await;
    assert_eq!(
        body_on(&a, note).await,
        "1\na\n3\n",
        "the server keeps A's text while B decides"
    );
    let conflict = b.store.conflict(note).await.unwrap();
    assert_eq!(
        conflict.mine.body, "1\nb, more\n3\n",
        "mine is B's text as it is now"
    );

    b.store
        .resolve_conflict(note, Resolution::Mine)
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!((report.pushed, report.held, report.pending), (1, 0, 0));
    a.sync().await;
    for device in [&a, &b] {
        assert_eq!(body_on(device, note).await, "1\nb, more\n3\n");
    }
}

#[tokio::test]
async fn taking_theirs_after_writing_more_drops_the_held_edits_and_both_agree() {
    let (_server, a, b) = two_devices().await;
    let (note, _) = edited_on_both(&a, &b, "1\n2\n3\n", "1\na\n3\n", "1\nb\n3\n").await;
    b.store
        .update_note(note, NoteEdit::body("1\nb, more\n3\n"))
        .await
        .unwrap();
    b.sync().await;
    b.store
        .resolve_conflict(note, Resolution::Theirs)
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!((report.held, report.pending), (0, 0));
    a.sync().await;
    for device in [&a, &b] {
        assert_eq!(body_on(device, note).await, "1\na\n3\n");
    }
}

#[tokio::test]
async fn a_full_account_keeps_the_queue_and_says_so() {
    // Sealed notes are compressed first: random text, which compresses to about 45 KB.
    let server = common::server_with(quire_server::Limits {
        max_account_bytes: 30_000,
        ..quire_server::Limits::default()
    })
    .await;
    let a = common::device().await;
    a.register(&server, "owner").await;
    a.store
        .create_note(NoteFields::new("Big", common::noise(60_000)))
        .await
        .unwrap();
    let small = a
        .store
        .create_note(NoteFields::new("Small", "s"))
        .await
        .unwrap();
    let report = a.sync().await;
    assert_eq!(
        (
            report.pushed,
            report.deferred,
            report.pending,
            report.set_aside
        ),
        (1, 1, 1, 0),
        "the rest of the queue went; the big note waits here: {report:?}"
    );
    let notice = report
        .notices()
        .into_iter()
        .map(|n| n.text)
        .collect::<Vec<_>>();
    assert!(notice.iter().any(|t| t.contains("is full")), "{notice:?}");
    assert!(
        a.store.attention().await.unwrap().is_empty(),
        "nothing set aside"
    );
    assert!(a.store.note(small.id).await.unwrap().version.is_some());
    // The next round tries again, and still keeps it.
    assert_eq!(a.sync().await.pending, 1);
}
