//! Backups and copies (issue: "a change saved is never lost"): a data dir restored from a
//! backup, a data dir copied to a second machine, and a server restored from an older
//! backup. Each must end with every device holding every note, and nothing anyone wrote
//! dropped without the person deciding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{two_devices, Device, Server};
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::store::NoteEdit;
use quire_client::Store;
use quire_core::NoteFields;

/// Copies a closed data dir (database, WAL, credentials) file by file.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Closes the device's store, copies its data dir into a new one, and opens both again.
async fn with_copy(device: Device) -> (Device, Device) {
    let Device {
        dir,
        store,
        secrets,
    } = device;
    store.close().await;
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let reopen = |dir: tempfile::TempDir| async move {
        let secrets = FileStore::new(dir.path().join(CREDENTIALS_FILE));
        let store = Store::open(dir.path(), &secrets).await.unwrap();
        Device {
            dir,
            store,
            secrets,
        }
    };
    drop(secrets);
    (reopen(dir).await, reopen(copy).await)
}

async fn titles(device: &Device) -> Vec<String> {
    let mut titles: Vec<String> = device
        .store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn a_data_dir_restored_from_a_backup_gets_back_what_it_wrote_after_the_backup() {
    let (_server, a, _b) = two_devices().await;
    let kept = a
        .store
        .create_note(NoteFields::new("Kept", "from before the backup\n"))
        .await
        .unwrap();
    a.sync().await;
    let (a, backup) = with_copy(a).await;

    // After the backup: a new note and an edit, both synced.
    a.store
        .create_note(NoteFields::new("After", "written after the backup\n"))
        .await
        .unwrap();
    a.store
        .update_note(kept.id, NoteEdit::body("edited after the backup\n"))
        .await
        .unwrap();
    a.sync().await;

    // The machine dies; the backup is restored. The server left "its own" changes out of
    // pulls, so before the fix this device never got them back.
    drop(a);
    let restored = backup;
    let old_device = restored.store.device_id().await.unwrap();
    let report = restored.sync().await;
    assert!(report.caught_up, "{report:?}");
    assert_eq!(titles(&restored).await, ["After", "Kept"]);
    assert_eq!(
        restored.store.note(kept.id).await.unwrap().body,
        "edited after the backup\n"
    );
    assert_ne!(restored.store.device_id().await.unwrap(), old_device);
    assert!(restored.store.conflicts().await.unwrap().is_empty());
    // Settled: the next round is an ordinary one.
    assert!(!restored.sync().await.caught_up);
}

#[tokio::test]
async fn two_copies_of_one_data_dir_see_each_others_changes() {
    let (_server, a, _b) = two_devices().await;
    a.sync().await;
    let (a, copy) = with_copy(a).await;
    a.store
        .create_note(NoteFields::new("On the first", "x\n"))
        .await
        .unwrap();
    a.sync().await;
    copy.store
        .create_note(NoteFields::new("On the copy", "y\n"))
        .await
        .unwrap();
    copy.sync().await;
    a.sync().await;
    assert_eq!(titles(&a).await, ["On the copy", "On the first"]);
    assert_eq!(titles(&copy).await, ["On the copy", "On the first"]);
    assert_ne!(
        a.store.device_id().await.unwrap(),
        copy.store.device_id().await.unwrap(),
        "the copies go on as two devices"
    );

    // From now on an edit on either reaches the other.
    let shared = a.store.list_notes().await.unwrap()[0].id;
    copy.store
        .update_note(shared, NoteEdit::body("edited on the copy\n"))
        .await
        .unwrap();
    copy.sync().await;
    a.sync().await;
    assert_eq!(
        a.store.note(shared).await.unwrap().body,
        "edited on the copy\n"
    );
}

/// Stops the server, hands its database files to `keep`, and serves them again.
async fn restart_with(server: Server, keep: impl FnOnce(&Path)) -> Server {
    let url = server.url.clone();
    let data = server.stop().await;
    keep(data.path());
    let addr = url.trim_start_matches("http://").to_owned();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    common::serve(data, listener).await
}

#[tokio::test]
async fn a_server_restored_from_an_older_backup_loses_nobodys_text() {
    let (server, a, b) = two_devices().await;
    let list = "- [ ] milk\n- [ ] eggs\n- [ ] bread\n";
    let note = a
        .store
        .create_note(NoteFields::new("List", list))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;
    let backup = tempfile::tempdir().unwrap();
    let server = restart_with(server, |db| copy_dir(db, backup.path())).await;

    // A's edit reaches the server (version 2), which is then restored to the backup.
    let a_text = "- [ ] milk\n- [ ] eggs\n- [ ] bread\n- [ ] tea\n";
    a.store
        .update_note(note.id, NoteEdit::body(a_text))
        .await
        .unwrap();
    a.sync().await;
    let _server = restart_with(server, |db| {
        for file in ["s.db", "s.db-wal", "s.db-shm"] {
            let _ = std::fs::remove_file(db.join(file));
        }
        copy_dir(backup.path(), db);
    })
    .await;

    // B (which never saw A's version 2) ticks milk: a new version 2 on the restored server.
    let b_text = "- [x] milk\n- [ ] eggs\n- [ ] bread\n";
    b.store
        .update_note(note.id, NoteEdit::body(b_text))
        .await
        .unwrap();
    assert_eq!(b.sync().await.pushed, 1);

    // A edits another line on top of its own, lost, version 2: same version number, other
    // text. Before the fix B's tick vanished everywhere and nobody was told.
    let a_more = "- [ ] milk\n- [ ] eggs\n- [ ] rye bread\n- [ ] tea\n";
    a.store
        .update_note(note.id, NoteEdit::body(a_more))
        .await
        .unwrap();
    let report = a.sync().await;
    assert_eq!((report.pushed, report.conflicts), (0, 1), "{report:?}");
    let conflict = a.store.conflict(note.id).await.unwrap();
    assert_eq!(conflict.mine.body, a_more);
    assert_eq!(conflict.theirs.body, b_text);
    b.sync().await;
    assert_eq!(b.store.note(note.id).await.unwrap().body, b_text);
}

#[tokio::test]
async fn a_cursor_beyond_a_restored_servers_log_pulls_everything_again() {
    let (server, a, b) = two_devices().await;
    let first = a
        .store
        .create_note(NoteFields::new("First", "1\n"))
        .await
        .unwrap();
    a.sync().await;
    let backup = tempfile::tempdir().unwrap();
    let server = restart_with(server, |db| copy_dir(db, backup.path())).await;
    for n in 0..3 {
        a.store
            .create_note(NoteFields::new(format!("Lost {n}"), ""))
            .await
            .unwrap();
    }
    a.sync().await;
    b.sync().await;
    let server = restart_with(server, |db| {
        for file in ["s.db", "s.db-wal", "s.db-shm"] {
            let _ = std::fs::remove_file(db.join(file));
        }
        copy_dir(backup.path(), db);
    })
    .await;

    // The restored server's log ends before B's cursor: B starts over and keeps its notes.
    let report = b.sync().await;
    assert!(report.caught_up, "{report:?}");
    assert_eq!(titles(&b).await, ["First", "Lost 0", "Lost 1", "Lost 2"]);
    assert_eq!(b.store.note(first.id).await.unwrap().body, "1\n");
    drop(server);
}
