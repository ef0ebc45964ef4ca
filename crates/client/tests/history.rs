//! History and delete-forever between devices on a real server (issue 20): what a merge or
//! a last-write-wins overwrite replaced is still readable from history and can be
//! restored, and the restore reaches the other device; a note deleted forever leaves the
//! server and every device, except for changes a device had not sent yet, which it keeps
//! as a new note; the trash empties itself, but never over an edit made elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{contains, two_devices, Device, Server};
use quire_client::history::{self, VersionKind};
use quire_client::store::NoteEdit;
use quire_client::Error;
use quire_core::settings::SettingKey;
use quire_core::{NoteFields, NoteId, Version};

async fn versions(device: &Device, id: NoteId) -> Vec<history::VersionInfo> {
    history::versions(&device.store, &device.secrets, id)
        .await
        .unwrap()
}

async fn body_at(device: &Device, id: NoteId, version: u64) -> String {
    history::version(&device.store, &device.secrets, id, Version(version))
        .await
        .unwrap()
        .body
}

/// The note's entries on the server but a purge's marker (which holds no text).
async fn server_entries(server: &Server, id: NoteId) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM note_entries WHERE note_id = $1 AND form <> 'purge'")
        .bind(id.to_string())
        .fetch_one(&server.db().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_merge_and_an_overwrite_keep_the_older_text_and_a_restore_reaches_the_other_device() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Plan", "one\ntwo\nthree\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;

    // Both edit different lines: B's round merges and pushes the merge.
    a.store
        .update_note(note.id, NoteEdit::body("ONE\ntwo\nthree\n"))
        .await
        .unwrap();
    a.sync().await;
    b.store
        .update_note(note.id, NoteEdit::body("one\ntwo\nTHREE\n"))
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!(report.merged, 1, "{report:?}");
    a.sync().await;
    let merged = "ONE\ntwo\nTHREE\n";
    assert_eq!(a.store.note(note.id).await.unwrap().body, merged);

    let listed = versions(&a, note.id).await;
    let numbers: Vec<u64> = listed.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    assert!(listed[1].this_device && !listed[0].this_device);
    assert_eq!(listed[2].kind, VersionKind::Whole);
    assert_eq!(body_at(&a, note.id, 1).await, "one\ntwo\nthree\n");
    assert_eq!(body_at(&a, note.id, 2).await, "ONE\ntwo\nthree\n");
    assert_eq!(body_at(&b, note.id, 3).await, merged);

    // Last write wins: B overwrites A's edit of the same line; A's text stays in history.
    for device in [&a, &b] {
        device
            .store
            .set_setting(SettingKey::ConflictPolicy, "lww")
            .await
            .unwrap();
    }
    a.store
        .update_note(note.id, NoteEdit::body("A's version of it\n"))
        .await
        .unwrap();
    a.sync().await;
    b.store
        .update_note(note.id, NoteEdit::body("B's version of it\n"))
        .await
        .unwrap();
    b.sync().await;
    a.sync().await;
    assert_eq!(
        a.store.note(note.id).await.unwrap().body,
        "B's version of it\n"
    );
    let listed = versions(&b, note.id).await;
    let mut found = None;
    for v in &listed {
        if body_at(&b, note.id, v.version).await == "A's version of it\n" {
            found = Some(v.version);
        }
    }
    let overwritten = found.expect("the overwritten text is in history");

    // A restores the first version; B gets it, and the restore is a version too.
    let restored = history::restore(&a.store, &a.secrets, note.id, Version(1))
        .await
        .unwrap();
    assert_eq!(restored.body, "one\ntwo\nthree\n");
    assert_eq!(a.sync().await.pushed, 1);
    b.sync().await;
    assert_eq!(
        b.store.note(note.id).await.unwrap().body,
        "one\ntwo\nthree\n"
    );
    let after = versions(&b, note.id).await;
    assert_eq!(after.len(), listed.len() + 1);
    assert_eq!(
        body_at(&b, note.id, after[0].version).await,
        "one\ntwo\nthree\n"
    );
    assert_eq!(
        body_at(&b, note.id, overwritten).await,
        "A's version of it\n"
    );

    // Restoring a version of a note in the trash brings it back.
    b.store.delete_note(note.id).await.unwrap();
    b.sync().await;
    let deleted = versions(&b, note.id).await;
    assert_eq!(deleted[0].kind, VersionKind::Deleted);
    history::restore(&b.store, &b.secrets, note.id, Version(overwritten))
        .await
        .unwrap();
    b.sync().await;
    a.sync().await;
    let on_a = a.store.note(note.id).await.unwrap();
    assert_eq!(
        (on_a.deleted, on_a.body.as_str()),
        (false, "A's version of it\n")
    );

    // A version that does not exist is a clear error, and changes nothing.
    let missing = history::restore(&a.store, &a.secrets, note.id, Version(999)).await;
    assert!(
        matches!(missing, Err(Error::ServerRefused { status: 404, .. })),
        "{missing:?}"
    );
    assert_eq!(a.store.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_note_deleted_forever_leaves_the_server_and_every_device_but_unsent_edits_are_kept() {
    const SENTINEL: &str = "sentinel-4c1e";
    let (server, a, b) = two_devices().await;
    let c = common::device().await;
    c.login(&server, "owner").await;
    let gone = a
        .store
        .create_note(NoteFields::new(
            "Old diary",
            format!("{SENTINEL}\nday one\n"),
        ))
        .await
        .unwrap();
    let edited = a
        .store
        .create_note(NoteFields::new("Shared list", "milk\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    c.sync().await;
    // Two versions, so there is history to purge too.
    a.store
        .update_note(
            gone.id,
            NoteEdit::body(format!("{SENTINEL}\nday one\nday two\n")),
        )
        .await
        .unwrap();
    a.sync().await;
    c.sync().await;

    // Only from the trash.
    let live = a.store.purge_note(gone.id).await;
    assert!(matches!(live, Err(Error::NoteNotInTrash(_))), "{live:?}");
    a.store.delete_note(gone.id).await.unwrap();
    a.store.delete_note(edited.id).await.unwrap();
    a.store.purge_note(gone.id).await.unwrap();
    a.store.purge_note(edited.id).await.unwrap();
    assert!(a.store.trash().await.unwrap().is_empty());
    assert!(matches!(
        a.store.note(gone.id).await,
        Err(Error::NoteNotFound(_))
    ));
    assert_eq!(
        a.store.pending_count().await.unwrap(),
        0,
        "nothing queued for them"
    );

    // Meanwhile B edited the list and has not synced.
    b.store
        .update_note(edited.id, NoteEdit::body("milk\neggs (B)\n"))
        .await
        .unwrap();

    let report = a.sync().await;
    assert_eq!(report.purged, 2, "{report:?}");
    assert_eq!(server_entries(&server, gone.id).await, 0);
    assert_eq!(server_entries(&server, edited.id).await, 0);

    // C had both, unchanged: both go, text and all.
    let report = c.sync().await;
    assert_eq!(report.purged, 2, "{report:?}");
    assert!(c.store.list_notes().await.unwrap().is_empty());
    assert!(c.store.trash().await.unwrap().is_empty());
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notes WHERE body <> '' OR title <> ''")
            .fetch_one(c.store.raw_pool())
            .await
            .unwrap();
    assert_eq!(left, 0, "no text of them is left in C's store");
    let bases: i64 = sqlx::query_scalar("SELECT count(*) FROM bases")
        .fetch_one(c.store.raw_pool())
        .await
        .unwrap();
    assert_eq!(bases, 0);

    // B keeps what it had not sent, as a new note that syncs.
    let report = b.sync().await;
    assert_eq!(
        (report.purged, report.kept_from_purge),
        (2, 1),
        "{report:?}"
    );
    assert!(report
        .notices()
        .iter()
        .any(|n| n.text.contains("deleted forever on another device")));
    let on_b = b.store.list_notes().await.unwrap();
    assert_eq!(on_b.len(), 1);
    assert_ne!(on_b[0].id, edited.id);
    assert_eq!(
        b.store.note(on_b[0].id).await.unwrap().body,
        "milk\neggs (B)\n"
    );
    a.sync().await;
    assert_eq!(a.store.list_notes().await.unwrap().len(), 1);

    // Nothing of the purged note is left in the server's database file.
    assert!(!contains(&server.file_bytes(), SENTINEL));
}

#[tokio::test]
async fn the_trash_empties_itself_but_an_edit_made_elsewhere_wins() {
    let (server, a, b) = two_devices().await;
    let old = a
        .store
        .create_note(NoteFields::new("Old", "forget me\n"))
        .await
        .unwrap();
    let wanted = a
        .store
        .create_note(NoteFields::new("Wanted", "keep me\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.store.delete_note(old.id).await.unwrap();
    a.store.delete_note(wanted.id).await.unwrap();
    a.sync().await;
    // B edits "Wanted" before it learns of the delete: its edit beats the delete.
    b.store
        .update_note(wanted.id, NoteEdit::body("keep me\nsaid B\n"))
        .await
        .unwrap();
    let report = b.sync().await;
    assert_eq!(report.revived, 1, "{report:?}");

    // Forty days later on A, which has not pulled since: both look old in its trash.
    a.store
        .set_setting(SettingKey::TrashDays, "30")
        .await
        .unwrap();
    sqlx::query("UPDATE notes SET updated_at = updated_at - 40 * 86400000 WHERE deleted = 1")
        .execute(a.store.raw_pool())
        .await
        .unwrap();
    let report = a.sync().await;
    assert_eq!(report.purged, 1, "{report:?}");
    assert_eq!(server_entries(&server, old.id).await, 0);
    let back = a.store.note(wanted.id).await.unwrap();
    assert_eq!(
        (back.deleted, back.body.as_str()),
        (false, "keep me\nsaid B\n")
    );
    assert!(a.store.trash().await.unwrap().is_empty());
    b.sync().await;
    assert!(matches!(
        b.store.note(old.id).await,
        Err(Error::NoteNotFound(_))
    ));
    assert!(!b.store.note(wanted.id).await.unwrap().deleted);

    // 0 days: never emptied.
    a.store.delete_note(wanted.id).await.unwrap();
    a.store
        .set_setting(SettingKey::TrashDays, "0")
        .await
        .unwrap();
    sqlx::query("UPDATE notes SET updated_at = 0 WHERE deleted = 1 AND purged = 0")
        .execute(a.store.raw_pool())
        .await
        .unwrap();
    assert_eq!(a.sync().await.purged, 0);
    assert_eq!(a.store.trash().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_version_the_server_changed_does_not_open_and_restores_nothing() {
    let (server, a, _b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Ledger", "balance: 10\n"))
        .await
        .unwrap();
    a.sync().await;
    a.store
        .update_note(note.id, NoteEdit::body("balance: 20\n"))
        .await
        .unwrap();
    a.sync().await;
    // The server (or someone with its disk) flips a byte of the first version.
    let data: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM note_entries WHERE note_id = $1 AND version = 1")
            .bind(note.id.to_string())
            .fetch_one(&server.db().pool)
            .await
            .unwrap();
    let mut forged = data.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    sqlx::query("UPDATE note_entries SET data = $1 WHERE note_id = $2 AND version = 1")
        .bind(forged)
        .bind(note.id.to_string())
        .execute(&server.db().pool)
        .await
        .unwrap();
    assert_eq!(versions(&a, note.id).await.len(), 2, "the list still comes");
    let opened = history::version(&a.store, &a.secrets, note.id, Version(1)).await;
    assert!(matches!(opened, Err(Error::Crypto(_))), "{opened:?}");
    let restored = history::restore(&a.store, &a.secrets, note.id, Version(1)).await;
    assert!(restored.is_err());
    assert_eq!(a.store.note(note.id).await.unwrap().body, "balance: 20\n");
    assert_eq!(a.store.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_purge_the_server_makes_up_deletes_nothing() {
    let (server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Keep", "mine\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    // The server marks the note purged on its own: no sealed marker from any device.
    let pool = &server.db().pool;
    let seq: i64 =
        sqlx::query_scalar("UPDATE accounts SET change_seq = change_seq + 1 RETURNING change_seq")
            .fetch_one(pool)
            .await
            .unwrap();
    sqlx::query(
        "UPDATE notes SET purged = 1, deleted = 1, version = version + 1,
             snapshot_version = version + 1, change_seq = $1, device_id = NULL
         WHERE id = $2",
    )
    .bind(seq)
    .bind(note.id.to_string())
    .execute(pool)
    .await
    .unwrap();
    let report = b.sync().await;
    assert_eq!((report.purged, report.unreadable), (0, 1), "{report:?}");
    let kept = b.store.note(note.id).await.unwrap();
    assert_eq!((kept.deleted, kept.body.as_str()), (false, "mine\n"));
    assert!(report
        .notices()
        .iter()
        .any(|n| n.text.contains("failed its encryption check")));
}

#[tokio::test]
async fn a_purge_pulled_while_a_conflict_is_open_keeps_this_devices_side() {
    let (_server, a, b) = two_devices().await;
    let note = a
        .store
        .create_note(NoteFields::new("Menu", "soup\n"))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.store
        .update_note(note.id, NoteEdit::body("soup from A\n"))
        .await
        .unwrap();
    a.sync().await;
    b.store
        .update_note(note.id, NoteEdit::body("soup from B\n"))
        .await
        .unwrap();
    assert_eq!(b.sync().await.conflicts, 1);
    assert_eq!(
        b.store.pending_count().await.unwrap(),
        0,
        "the conflict holds B's side"
    );

    a.store.delete_note(note.id).await.unwrap();
    a.store.purge_note(note.id).await.unwrap();
    a.sync().await;
    let report = b.sync().await;
    assert_eq!(
        (report.purged, report.kept_from_purge),
        (1, 1),
        "{report:?}"
    );
    let left = b.store.list_notes().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        b.store.note(left[0].id).await.unwrap().body,
        "soup from B\n"
    );
    assert!(b.store.conflicts().await.unwrap().is_empty());
}
