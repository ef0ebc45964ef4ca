//! `Device` running in the background, as the app runs it: edits reach the vault folder
//! without the caller nudging anything, files taken in from the folder come out as events,
//! and clearing the folder setting stops the watcher. Real files, a real encrypted store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use std::sync::Arc;

use quire_client::credentials::FileStore;
use quire_client::service::ServiceConfig;
use quire_client::{Device, DeviceEvent};
use quire_core::settings::SettingKey;
use quire_core::NoteFields;
use tokio::time::{sleep, timeout, Instant};

/// Waits (up to 10 s) until `done` holds; the watcher works on its own clock.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        sleep(Duration::from_millis(50)).await;
    }
}

fn exists(dir: &Path, name: &str) -> bool {
    dir.join(name).exists()
}

#[tokio::test]
async fn a_background_device_keeps_the_vault_folder_by_itself() {
    let data = tempfile::tempdir().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let secrets = Arc::new(FileStore::new(data.path().join("credentials.json")));
    let device = Device::open_with(data.path().to_owned(), secrets)
        .await
        .unwrap()
        .in_background(ServiceConfig::default())
        .await;
    let mut events = device.events();

    device
        .set_setting(SettingKey::VaultDir, folder.path().to_str().unwrap())
        .await
        .unwrap();
    device
        .create_note(NoteFields::new("Written", "by the app\n"))
        .await
        .unwrap();
    eventually("the new note's file", || {
        exists(folder.path(), "Written.md")
    })
    .await;

    std::fs::write(
        folder.path().join("From outside.md"),
        "an editor wrote this\n",
    )
    .unwrap();
    let event = timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await.unwrap() {
                DeviceEvent::NotesChanged => return DeviceEvent::NotesChanged,
                DeviceEvent::Notice(_) | DeviceEvent::VaultProgress(_) => {}
            }
        }
    })
    .await
    .expect("the window is told that notes changed outside it");
    assert_eq!(event, DeviceEvent::NotesChanged);
    let titles: Vec<String> = device
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert!(titles.contains(&"From outside".to_owned()), "{titles:?}");

    // Cleared: the watcher stops, and what was there stays.
    device.unset_setting(SettingKey::VaultDir).await.unwrap();
    assert_eq!(device.preferences().await.unwrap().vault_dir, None);
    device
        .create_note(NoteFields::new("After", "not mirrored\n"))
        .await
        .unwrap();
    sleep(Duration::from_millis(1500)).await;
    assert!(
        !exists(folder.path(), "After.md"),
        "a cleared folder is left alone"
    );
    assert!(exists(folder.path(), "Written.md"));
    assert!(device.vault_problems().is_empty());
}

#[tokio::test]
async fn the_tray_setting_is_at_hand_as_soon_as_it_changes() {
    let data = tempfile::tempdir().unwrap();
    let secrets = Arc::new(FileStore::new(data.path().join("credentials.json")));
    let device = Device::open_with(data.path().to_owned(), secrets)
        .await
        .unwrap();
    assert!(device.keeps_syncing_in_tray(), "on by default");
    device
        .set_setting(SettingKey::KeepInTray, "off")
        .await
        .unwrap();
    assert!(!device.keeps_syncing_in_tray());
    assert!(!device.preferences().await.unwrap().keep_in_tray);
    device.unset_setting(SettingKey::KeepInTray).await.unwrap();
    assert!(device.keeps_syncing_in_tray(), "the default again");
}

#[tokio::test]
async fn a_background_device_indexes_what_a_round_brought_without_a_search() {
    let server = common::server().await;
    let writer = common::device().await;
    writer.register(&server, "owner").await;
    let notes = (0..2_500)
        .map(|i| NoteFields::new(format!("Note {i}"), format!("pulled words {i}\n")))
        .collect();
    writer.store.create_notes(notes).await.unwrap();
    writer.sync().await;

    let data = tempfile::tempdir().unwrap();
    let secrets = Arc::new(FileStore::new(data.path().join("credentials.json")));
    let device = Device::open_with(data.path().to_owned(), secrets)
        .await
        .unwrap();
    device
        .sign_in(
            common::request(&server.url, "owner", common::PASSWORD),
            false,
        )
        .await
        .unwrap();
    let device = device.in_background(ServiceConfig::default()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let notes = device.list_notes().await.unwrap().len();
        let unindexed = device.store().unindexed_notes().await.unwrap();
        if notes == 2_500 && unindexed == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{notes} notes, {unindexed} not indexed"
        );
        sleep(Duration::from_millis(50)).await;
    }
}
