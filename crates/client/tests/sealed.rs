//! End-to-end encryption against a real server over HTTP (issue 19): notes leave a device
//! sealed, the server's database never holds their text, another device with the password
//! reads everything, and a server that changes, swaps or replays what it stores gets that
//! note set aside (nothing applied, nothing here overwritten) while the rest syncs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use quire_client::account;
use quire_client::store::NoteEdit;
use quire_client::Error;
use quire_core::{NoteFields, NoteId};

const SENTINEL: &str = "sentinel-c0ffee-9d2b";

async fn body_on(device: &common::Device, note: NoteId) -> String {
    device.store.note(note).await.unwrap().body
}

#[tokio::test]
async fn the_server_holds_no_text_and_a_second_device_reads_everything() {
    let server = common::server().await;
    let laptop = common::device().await;
    laptop.register(&server, "ada").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let title = format!("{SENTINEL} title {n}");
        let body = format!("{SENTINEL}\nline {n}\n");
        let note = laptop
            .store
            .create_note(NoteFields::new(title, body))
            .await
            .unwrap();
        ids.push(note.id);
    }
    laptop.sync().await;
    laptop
        .store
        .update_note(
            ids[0],
            NoteEdit::body(format!("{SENTINEL}\nline 0\nmore\n")),
        )
        .await
        .unwrap();
    laptop.sync().await;
    // Titles too: the server's file has neither the sentinel nor any title.
    let stored = server.file_bytes();
    assert!(
        !common::contains(&stored, SENTINEL),
        "the sentinel is in the server's database"
    );
    assert!(!common::contains(&stored, "title 3"));

    // A wrong password on another device: a clear error, nothing kept there.
    let stranger = common::device().await;
    let wrong = account::sign_in(
        &stranger.store,
        &stranger.secrets,
        common::request(&server.url, "ada", "not the password"),
        false,
    )
    .await;
    assert!(
        matches!(wrong, Err(Error::ServerRefused { status: 401, .. })),
        "{wrong:?}"
    );
    assert!(account::signed_in(&stranger.store, &stranger.secrets)
        .await
        .unwrap()
        .is_none());

    let phone = common::device().await;
    phone.login(&server, "ada").await;
    let report = phone.sync().await;
    assert_eq!(report.pulled, 5, "{report:?}");
    for (n, id) in ids.iter().enumerate() {
        let note = phone.store.note(*id).await.unwrap();
        assert_eq!(note.title, format!("{SENTINEL} title {n}"));
    }
    assert_eq!(
        body_on(&phone, ids[0]).await,
        format!("{SENTINEL}\nline 0\nmore\n")
    );

    // And back: the phone's edit reaches the laptop as a patch of a few hundred bytes.
    phone
        .store
        .update_note(
            ids[1],
            NoteEdit::body(format!("{SENTINEL}\nline 1\nfrom the phone\n")),
        )
        .await
        .unwrap();
    phone.sync().await;
    let report = laptop.sync().await;
    assert_eq!(report.pulled, 1);
    assert!(report.bytes_received < 2_000, "{report:?}");
    assert_eq!(
        body_on(&laptop, ids[1]).await,
        format!("{SENTINEL}\nline 1\nfrom the phone\n")
    );
    assert!(!common::contains(&server.file_bytes(), SENTINEL));
}

/// The server's stored entry of `note` at `version`, for a test to tamper with.
async fn entry(
    server: &common::Server,
    note: NoteId,
    version: i64,
) -> (Vec<u8>, String, Option<i64>) {
    sqlx::query_as(
        "SELECT data, op_id, base_version FROM note_entries WHERE note_id = $1 AND version = $2",
    )
    .bind(note.to_string())
    .bind(version)
    .fetch_one(&server.db().pool)
    .await
    .unwrap()
}

async fn set_entry(
    server: &common::Server,
    note: NoteId,
    version: i64,
    (data, op_id, base): &(Vec<u8>, String, Option<i64>),
) {
    sqlx::query(
        "UPDATE note_entries SET data = $1, op_id = $2, base_version = $3
         WHERE note_id = $4 AND version = $5",
    )
    .bind(data)
    .bind(op_id)
    .bind(*base)
    .bind(note.to_string())
    .bind(version)
    .execute(&server.db().pool)
    .await
    .unwrap();
}

/// A body long enough that an edit goes as a patch.
fn long(first: &str) -> String {
    format!("{first}\n{}", "a line that stays as it is\n".repeat(20))
}

#[tokio::test]
async fn a_changed_swapped_or_replayed_entry_is_set_aside_and_the_rest_syncs() {
    let server = common::server().await;
    let laptop = common::device().await;
    laptop.register(&server, "ada").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let note = laptop
            .store
            .create_note(NoteFields::new(
                format!("note {n}"),
                long(&format!("one {n}")),
            ))
            .await
            .unwrap();
        ids.push(note.id);
    }
    laptop.sync().await;
    let phone = common::device().await;
    phone.login(&server, "ada").await;
    phone.sync().await;
    for (n, id) in ids.iter().enumerate() {
        let edit = NoteEdit::body(long(&format!("one {n}\ntwo {n}")));
        laptop.store.update_note(*id, edit).await.unwrap();
    }
    laptop.sync().await;
    // A third version of the last note, for the replay.
    let edit = NoteEdit::body(long("one 3\ntwo 3\nthree 3"));
    laptop.store.update_note(ids[3], edit).await.unwrap();
    laptop.sync().await;

    // The server turns hostile: one entry changed, two swapped between notes, and the last
    // note's third version replaced by its second again.
    let originals = [
        entry(&server, ids[0], 2).await,
        entry(&server, ids[1], 2).await,
        entry(&server, ids[2], 2).await,
        entry(&server, ids[3], 3).await,
    ];
    let mut changed = originals[0].clone();
    let last = changed.0.len() - 1;
    changed.0[last] ^= 0x40;
    set_entry(&server, ids[0], 2, &changed).await;
    set_entry(&server, ids[1], 2, &originals[2]).await;
    set_entry(&server, ids[2], 2, &originals[1]).await;
    let replayed = entry(&server, ids[3], 2).await;
    set_entry(&server, ids[3], 3, &replayed).await;
    // One untouched change, which must still arrive.
    let fine = laptop
        .store
        .create_note(NoteFields::new("fine", "untouched\n"))
        .await
        .unwrap();
    laptop.sync().await;

    let report = phone.sync().await;
    assert_eq!(report.unreadable, 4, "{report:?}");
    assert_eq!(report.pulled, 1, "the untouched note came: {report:?}");
    assert_eq!(body_on(&phone, fine.id).await, "untouched\n");
    let notices: Vec<String> = report.notices().into_iter().map(|n| n.text).collect();
    assert!(
        notices.iter().any(|t| t.contains("encryption check")),
        "{notices:?}"
    );
    // Nothing of them was applied: the phone keeps what it had.
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(body_on(&phone, *id).await, long(&format!("one {n}")));
    }
    let kept = phone.store.unreadable_notes().await.unwrap();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert!(kept
        .iter()
        .all(|k| k.title.as_deref().is_some_and(|t| t.starts_with("note "))));
    assert_eq!(phone.store.status().await.unwrap().needs_attention, 4);

    // Rounds go on, and say so again; once the server holds the right entries, they come.
    assert_eq!(phone.sync().await.unreadable, 4);
    for (id, (original, version)) in ids.iter().zip(originals.iter().zip([2, 2, 2, 3])) {
        set_entry(&server, *id, version, original).await;
    }
    let report = phone.sync().await;
    assert_eq!(report.unreadable, 0, "{report:?}");
    assert!(phone.store.unreadable_notes().await.unwrap().is_empty());
    for (n, id) in ids.iter().enumerate().take(3) {
        assert_eq!(
            body_on(&phone, *id).await,
            long(&format!("one {n}\ntwo {n}"))
        );
    }
    assert_eq!(body_on(&phone, ids[3]).await, long("one 3\ntwo 3\nthree 3"));
}
