//! An account made before end-to-end encryption (as Quire 0.1 made it: the password itself
//! signs in, the server holds every title, body and the text a last-write-wins overwrite
//! replaced) is upgraded in place by a device that signs in to it (issue 19): every note
//! goes to the server again sealed, in batches, and survives a cut connection and a device
//! that stops halfway; the server ends up holding no plain text and no plain history; no
//! note is lost, an edit another device had queued meanwhile arrives, and a new device
//! reads everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::proxy::{fault_proxy, Fault};
use quire_client::account::{self, AccountRequest};
use quire_client::credentials::{FileStore, SecretStore, CREDENTIALS_FILE};
use quire_client::store::NoteEdit;
use quire_client::{Device, Error};
use quire_core::crypto::kdf::KdfParams;
use quire_core::protocol::{AccountKeys, Hex, NewAccount};
use quire_core::settings::SettingKey;
use quire_core::{NoteFields, NoteId};

const SENTINEL: &str = "sentinel-0ld-acc0unt-7f1e";
/// The password of the old account, as 0.1 devices send it. (Hex, so that the account can
/// be made through today's sign-up, whose auth secret is hex, and then turned back.)
const OLD_PASSWORD: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const USER: &str = "old-timer";

/// An account as 0.1 left it: signs in with the password itself, and has no keys.
async fn old_account(server: &common::Server) {
    let account = NewAccount {
        username: USER.to_owned(),
        password: Hex::from_hex(OLD_PASSWORD).unwrap(),
        keys: AccountKeys {
            account_id: uuid::Uuid::now_v7(),
            salt: Hex([0; 16]),
            kdf: KdfParams::DEFAULT,
            wrapped_key: Hex([0; 73]),
            recovery_auth: Hex([0; 32]),
            recovery_wrapped_key: Hex([0; 73]),
        },
    };
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/accounts", server.url))
        .json(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    sqlx::query(
        "UPDATE accounts SET key_scheme = 'legacy', kdf_salt = NULL, kdf_memory_kib = NULL,
            kdf_iterations = NULL, kdf_parallelism = NULL, wrapped_key = NULL,
            recovery_auth_hash = NULL, recovery_wrapped_key = NULL",
    )
    .execute(&server.db().pool)
    .await
    .unwrap();
}

fn old_sign_in(url: &str) -> AccountRequest<'_> {
    AccountRequest {
        allow_legacy: true,
        ..common::request(url, USER, OLD_PASSWORD)
    }
}

async fn open(dir: &std::path::Path) -> (Device, Arc<FileStore>) {
    let secrets = Arc::new(FileStore::new(dir.join(CREDENTIALS_FILE)));
    let shared: Arc<dyn SecretStore> = secrets.clone();
    (
        Device::open_with(dir.to_owned(), shared).await.unwrap(),
        secrets,
    )
}

/// Notes still in the clear on the server, and rows of plain history.
async fn plain_rows(server: &common::Server) -> (i64, i64) {
    let pool = &server.db().pool;
    let clear: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notes WHERE snapshot_version IS NULL")
            .fetch_one(pool)
            .await
            .unwrap();
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM note_history")
        .fetch_one(pool)
        .await
        .unwrap();
    (clear, history)
}

/// A 0.1-style laptop (signed in through `url`) that wrote `count` notes carrying the
/// sentinel, deleted the last one, and synced: it, its secrets, and the notes' ids.
async fn old_laptop(
    dir: &std::path::Path,
    url: &str,
    count: usize,
) -> (Device, Arc<FileStore>, Vec<NoteId>) {
    let (laptop, secrets) = open(dir).await;
    account::sign_in(laptop.store(), secrets.as_ref(), old_sign_in(url), false)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        let fields = NoteFields::new(
            format!("{SENTINEL} title {n}"),
            format!("{SENTINEL}\nline {n}\n{}\n", common::noise(200)),
        );
        ids.push(laptop.create_note(fields).await.unwrap().id);
    }
    laptop.delete_note(ids[count - 1]).await.unwrap();
    laptop.sync_once().await.unwrap();
    (laptop, secrets, ids)
}

/// A second 0.1-style device of the account, synced.
async fn old_desktop(url: &str) -> common::Device {
    let desktop = common::device().await;
    account::sign_in(&desktop.store, &desktop.secrets, old_sign_in(url), false)
        .await
        .unwrap();
    desktop.sync().await;
    desktop
}

async fn texts(store: &quire_client::Store, ids: &[NoteId]) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for id in ids {
        let note = store.note(*id).await.unwrap();
        out.push((note.title, note.body, note.deleted));
    }
    out
}

#[tokio::test]
async fn an_old_account_is_sealed_in_place_through_a_cut_and_a_stop_and_loses_nothing() {
    let server = common::server().await;
    old_account(&server).await;
    let proxy = fault_proxy(&server.url).await;

    // The laptop signs in as 0.1 did (through a link that will fail later) and writes.
    let laptop_dir = tempfile::tempdir().unwrap();
    let (laptop, _laptop_secrets, ids) = old_laptop(laptop_dir.path(), &proxy.url, 30).await;

    // The desktop, also 0.1-style, overwrites the laptop's newer text (last write wins: the
    // server keeps the replaced text as history), then edits offline.
    let desktop = old_desktop(&server.url).await;
    let edit = |body: String| NoteEdit::body(body);
    laptop
        .update_note(ids[0], edit(format!("{SENTINEL}\nlaptop's\n")))
        .await
        .unwrap();
    laptop.sync_once().await.unwrap();
    desktop
        .store
        .set_setting(SettingKey::ConflictPolicy, "lww")
        .await
        .unwrap();
    desktop
        .store
        .update_note(ids[0], edit(format!("{SENTINEL}\ndesktop's\n")))
        .await
        .unwrap();
    desktop.sync().await;
    laptop.sync_once().await.unwrap();
    let offline = format!(
        "{}more from the desktop\n",
        laptop.note(ids[1]).await.unwrap().body
    );
    desktop
        .store
        .update_note(ids[1], edit(offline.clone()))
        .await
        .unwrap();
    let (clear, history) = plain_rows(&server).await;
    assert_eq!(clear, 30);
    assert!(
        history >= 1,
        "the overwritten text is kept as plain history"
    );
    assert!(common::contains(&server.file_bytes(), SENTINEL));
    let before = texts(laptop.store(), &ids).await;

    // The upgrade: keys made, taken by the server, every note queued to go again sealed.
    let upgraded = laptop
        .upgrade_account(OLD_PASSWORD.to_owned())
        .await
        .unwrap();
    assert_eq!(upgraded.notes_to_seal, 30);
    assert!(upgraded.recovery_key.is_some());
    assert!(laptop.signed_in().await.unwrap().unwrap().end_to_end);
    // The desktop's session ended with it: it must sign in again, and its edit waits.
    assert!(matches!(
        desktop.try_sync().await,
        Err(Error::SignInNeeded(_))
    ));

    // The sealed copies go in batches of 5; the link cuts the answer to the first push
    // (which the server applied), and the laptop stops there.
    laptop
        .set_setting(SettingKey::BatchSize, "5")
        .await
        .unwrap();
    proxy.set(Fault::CutResponseAfter(1));
    let cut = laptop.sync_once().await;
    assert!(cut.is_err(), "{cut:?}");
    drop(laptop);
    // The server finishes a push whose client went away; give it a moment to.
    let mut clear = 30;
    for _ in 0..100 {
        clear = plain_rows(&server).await.0;
        if clear < 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        0 < clear && clear < 30,
        "stopped halfway: {clear} still in the clear"
    );

    // Started again, it finishes where it stopped.
    proxy.set(Fault::Pass);
    let (laptop, _laptop_secrets) = open(laptop_dir.path()).await;
    let report = laptop.sync_once().await.unwrap();
    assert_eq!(report.unreadable, 0);
    assert!(laptop.queue().await.unwrap().is_empty());
    assert_eq!(
        texts(laptop.store(), &ids).await,
        before,
        "no note lost or changed"
    );
    assert_eq!(plain_rows(&server).await, (0, 0));
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&server.db().pool)
        .await
        .unwrap();
    assert!(
        !common::contains(&server.file_bytes(), SENTINEL),
        "no plain text left anywhere in the server's file"
    );

    // The desktop signs in again (end to end now); its offline edit arrives.
    account::sign_in(
        &desktop.store,
        &desktop.secrets,
        common::request(&server.url, USER, OLD_PASSWORD),
        false,
    )
    .await
    .unwrap();
    desktop.sync().await;
    assert_eq!(desktop.store.pending_count().await.unwrap(), 0);
    laptop.sync_once().await.unwrap();
    assert_eq!(laptop.note(ids[1]).await.unwrap().body, offline);
    let now = texts(laptop.store(), &ids).await;
    assert_eq!(texts(&desktop.store, &ids).await, now);

    // A new device reads every note (the deleted one as a tombstone).
    let phone = common::device().await;
    account::sign_in(
        &phone.store,
        &phone.secrets,
        common::request(&server.url, USER, OLD_PASSWORD),
        false,
    )
    .await
    .unwrap();
    let report = phone.sync().await;
    assert_eq!(report.unreadable, 0);
    let on_phone = texts(&phone.store, &ids[..29]).await;
    assert_eq!(on_phone, now[..29].to_vec());
    assert!(phone.store.note(ids[29]).await.unwrap().deleted);
}

/// Moves the server's clock for the account's upgrade back an hour: as if that long had
/// passed with no note leaving the clear.
async fn an_hour_passes(server: &common::Server) {
    sqlx::query("UPDATE accounts SET upgrade_progress_at = upgrade_progress_at - 3600000")
        .execute(&server.db().pool)
        .await
        .unwrap();
}

/// The device that upgraded the account is lost before it sealed a single note. Once the
/// server has waited long enough for it, another device takes over: a new device that
/// never had the notes takes them from the server, checked against the manifest the
/// upgrading device sealed (a note the server changed or made up is not taken), sends each
/// sealed, and the server drops their plain text; the other old device's offline edit still
/// arrives; nothing is lost.
#[tokio::test]
async fn an_upgrade_whose_device_is_lost_is_finished_by_another_device() {
    let server = common::server_with(quire_server::Limits {
        upgrade_wait_secs: 600,
        ..quire_server::Limits::default()
    })
    .await;
    old_account(&server).await;
    let laptop_dir = tempfile::tempdir().unwrap();
    let (laptop, _laptop_secrets, ids) = old_laptop(laptop_dir.path(), &server.url, 12).await;
    let desktop = old_desktop(&server.url).await;
    let offline = format!(
        "{}written offline\n",
        laptop.note(ids[1]).await.unwrap().body
    );
    desktop
        .store
        .update_note(ids[1], NoteEdit::body(offline.clone()))
        .await
        .unwrap();
    let mut expected = texts(laptop.store(), &ids).await;
    let at_upgrade = expected[1].clone();
    expected[1].1.clone_from(&offline);

    // The laptop upgrades the account, and is lost before it pushes anything.
    let upgraded = laptop
        .upgrade_account(OLD_PASSWORD.to_owned())
        .await
        .unwrap();
    assert_eq!(upgraded.notes_to_seal, 12);
    drop(laptop);
    drop(laptop_dir);
    let manifest: Vec<u8> = sqlx::query_scalar("SELECT upgrade_manifest FROM accounts")
        .fetch_one(&server.db().pool)
        .await
        .unwrap();

    // A new phone signs in. While the server still waits for the laptop, nobody else
    // seals: the phone is not handed notes in the clear, and has none yet.
    let phone = common::device().await;
    let sign_in = common::request(&server.url, USER, OLD_PASSWORD);
    account::sign_in(&phone.store, &phone.secrets, sign_in, false)
        .await
        .unwrap();
    let report = phone.sync().await;
    assert_eq!((report.pulled, report.sealed_for_upgrade), (0, 0));
    assert!(phone.store.note(ids[0]).await.is_err());
    assert_eq!(plain_rows(&server).await.0, 12);

    // The server tries its luck: it changes a note still in the clear and makes one up.
    let pool = &server.db().pool;
    let (title, body): (String, String) =
        sqlx::query_as("SELECT title, body FROM notes WHERE id = $1")
            .bind(ids[2].to_string())
            .fetch_one(pool)
            .await
            .unwrap();
    sqlx::query("UPDATE notes SET title = 'changed', body = 'by the server' WHERE id = $1")
        .bind(ids[2].to_string())
        .execute(pool)
        .await
        .unwrap();
    let made_up = NoteId(uuid::Uuid::now_v7());
    sqlx::query(
        "INSERT INTO notes (account_id, id, title, body, version, deleted, updated_at,
                change_seq, device_id, text_hash, size, snapshot_version)
         SELECT account_id, $1, 'made up', 'by the server', 1, 0, updated_at, change_seq,
                device_id, text_hash, size, NULL
         FROM notes WHERE id = $2",
    )
    .bind(made_up.to_string())
    .bind(ids[3].to_string())
    .execute(pool)
    .await
    .unwrap();

    // After the wait, the phone takes over what the upgrade's sealed manifest lists, as it
    // lists it, and sends it sealed; the changed note and the made-up one are not taken.
    an_hour_passes(&server).await;
    let report = phone.sync().await;
    assert_eq!(
        (
            report.sealed_for_upgrade,
            report.pushed,
            report.pending,
            report.unsealed_refused,
            report.unreadable
        ),
        (11, 11, 0, 2, 0),
        "{report:?}"
    );
    assert!(phone.store.note(ids[2]).await.is_err());
    assert!(phone.store.note(made_up).await.is_err());
    assert_eq!(plain_rows(&server).await, (2, 0));

    // The operator puts things back. The desktop signs in again: its offline edit goes,
    // sealed, on top of the phone's copy, and (an hour on) it takes over the note the phone
    // would not take.
    sqlx::query("UPDATE notes SET title = $1, body = $2 WHERE id = $3")
        .bind(&title)
        .bind(&body)
        .bind(ids[2].to_string())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM notes WHERE id = $1")
        .bind(made_up.to_string())
        .execute(pool)
        .await
        .unwrap();
    let sign_in = common::request(&server.url, USER, OLD_PASSWORD);
    account::sign_in(&desktop.store, &desktop.secrets, sign_in, false)
        .await
        .unwrap();
    an_hour_passes(&server).await;
    let report = desktop.sync().await;
    assert_eq!(
        (
            report.sealed_for_upgrade,
            report.pending,
            report.unsealed_refused
        ),
        (1, 0, 0),
        "{report:?}"
    );
    assert_eq!(plain_rows(&server).await, (0, 0));
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .unwrap();
    assert!(
        !common::contains(&server.file_bytes(), SENTINEL),
        "no plain text left in the server's file"
    );
    phone.sync().await;
    assert_eq!(texts(&phone.store, &ids).await, expected);
    assert_eq!(texts(&desktop.store, &ids).await, expected);
    let late = common::device().await;
    let sign_in = common::request(&server.url, USER, OLD_PASSWORD);
    account::sign_in(&late.store, &late.secrets, sign_in, false)
        .await
        .unwrap();
    late.sync().await;
    assert_eq!(
        texts(&late.store, &ids[..11]).await,
        expected[..11].to_vec()
    );
    assert!(late.store.note(ids[11]).await.unwrap().deleted);

    // With nothing left in the clear, the account's mark goes, and pulls stop looking.
    an_hour_passes(&server).await;
    let report = desktop.sync().await;
    assert_eq!(report.sealed_for_upgrade, 0);
    let mark: Option<i64> = sqlx::query_scalar("SELECT upgrade_progress_at FROM accounts")
        .fetch_one(&server.db().pool)
        .await
        .unwrap();
    assert_eq!(mark, None);

    // Later, the server replays the upgrade: the manifest again, and a note as it was then,
    // in the clear. It matches the manifest, but a device that holds that note newer does
    // not take it, and nothing changes there.
    sqlx::query("UPDATE accounts SET upgrade_manifest = $1, upgrade_progress_at = 0")
        .bind(&manifest)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE notes SET title = $1, body = $2, version = 1, snapshot_version = NULL
         WHERE id = $3",
    )
    .bind(&at_upgrade.0)
    .bind(&at_upgrade.1)
    .bind(ids[1].to_string())
    .execute(pool)
    .await
    .unwrap();
    let report = late.sync().await;
    assert_eq!(
        (report.sealed_for_upgrade, report.unsealed_refused),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(late.store.note(ids[1]).await.unwrap().body, offline);
    assert_eq!(
        texts(&late.store, &ids[..11]).await,
        expected[..11].to_vec()
    );
    assert!(report
        .notices()
        .iter()
        .any(|notice| notice.text.contains("did not match")));
}
