//! Trash and undo (issue 20): a deleted note is listed in Trash and comes back with the
//! text it had, whether its delete was still queued (Undo right away) or had reached the
//! server and other devices.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::two_devices;
use quire_core::NoteFields;

#[tokio::test]
async fn a_delete_undone_before_it_was_sent_leaves_nothing_to_send() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Keep me", "still here\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    let synced = a.store.note(note.id).await.unwrap().version;
    assert!(synced.is_some());

    a.store.delete_note(note.id).await.unwrap();
    let trash = a.store.trash().await.unwrap();
    assert_eq!(
        trash.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![note.id]
    );
    assert!(a.store.list_notes().await.unwrap().is_empty());

    let restored = a.store.restore_note(note.id).await.unwrap();
    assert_eq!(
        (restored.deleted, restored.body.as_str()),
        (false, "still here\n")
    );
    assert!(a.store.trash().await.unwrap().is_empty());
    assert_eq!(
        a.store.pending_count().await.unwrap(),
        0,
        "the queued delete was taken back, nothing replaces it"
    );
    let report = a.sync().await;
    assert_eq!(report.pushed, 0);
    b.sync().await;
    let on_b = b.store.note(note.id).await.unwrap();
    assert_eq!(
        (on_b.deleted, on_b.version),
        (false, synced),
        "the server never saw it"
    );
}

#[tokio::test]
async fn a_note_restored_after_its_delete_synced_comes_back_everywhere() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Recipes", "- bread\n- soup\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.store.delete_note(note.id).await.unwrap();
    a.sync().await;
    b.sync().await;
    assert!(b.store.note(note.id).await.unwrap().deleted);
    assert_eq!(b.store.trash().await.unwrap().len(), 1);

    // B restores it from Trash; A (which deleted it) gets it back with its text.
    let restored = b.store.restore_note(note.id).await.unwrap();
    assert!(!restored.deleted);
    let report = b.sync().await;
    assert_eq!(report.pushed, 1, "{report:?}");
    a.sync().await;
    let on_a = a.store.note(note.id).await.unwrap();
    assert_eq!(
        (on_a.deleted, on_a.title.as_str(), on_a.body.as_str()),
        (false, "Recipes", "- bread\n- soup\n")
    );
    assert!(a.store.trash().await.unwrap().is_empty());
    assert_eq!(a.store.list_notes().await.unwrap().len(), 1);

    // Restoring a note that is not deleted changes nothing.
    let again = a.store.restore_note(note.id).await.unwrap();
    assert_eq!(again.version, on_a.version);
    assert_eq!(a.store.pending_count().await.unwrap(), 0);
}
