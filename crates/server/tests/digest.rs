//! Verification (issue 22) on a real server, SQLite and PostgreSQL: the digest the server
//! keeps with every write equals what a device that holds the account's notes sums, by
//! bucket and by range; notes from before digests are counted when first asked; bad
//! queries are refused; and no account sees another's notes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::sealed_device::Device;
use common::{Backend, TestServer};
use quire_core::crypto::chain::text_mac;
use quire_core::digest::{bucket_of, BucketDigests, HeldNote, BUCKETS};
use quire_core::protocol::{AccountDigest, BucketNotes, ChangeCount, RangeDigests};
use quire_core::{NoteFields, NoteId, Version};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(
    the_digest_follows_every_write_and_equals_what_a_device_sums,
    notes_stored_before_digests_are_counted_when_first_asked,
    bad_queries_are_refused_and_no_account_sees_another,
    the_change_count_is_what_a_pull_would_bring,
);

async fn get<T: serde::de::DeserializeOwned>(server: &TestServer, token: &str, path: &str) -> T {
    let response = server.get_with(token, path).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// What the device holds, as the digest counts it.
struct Held {
    notes: BTreeMap<NoteId, (u64, bool, NoteFields)>,
}

impl Held {
    fn digests(&self, device: &Device) -> BucketDigests {
        let mut digests = BucketDigests::default();
        for (id, (version, deleted, fields)) in &self.notes {
            digests.add(&HeldNote {
                id: *id,
                version: Version(*version),
                deleted: *deleted,
                mac: Some(text_mac(&device.key, &device.account, *id, fields)),
            });
        }
        digests
    }
}

async fn assert_server_agrees(server: &TestServer, token: &str, device: &Device, held: &Held) {
    let digests = held.digests(device);
    let whole: AccountDigest = get(server, token, "/sync/digest").await;
    assert_eq!(
        (whole.notes, whole.digest),
        (
            digests.total().summary().notes,
            digests.total().summary().digest
        )
    );
    assert_eq!(whole.in_the_clear, 0);
    let head = server.pull(token, 0, 1).await.head;
    assert_eq!(
        whole.cursor, head,
        "the digest comes with the cursor it belongs to"
    );

    let ranges: RangeDigests =
        get(server, token, "/sync/digest/ranges?from=0&to=4096&width=64").await;
    let mut counted = 0;
    for range in &ranges.ranges {
        let mine = digests.range(range.from, range.from + 64).summary();
        assert_eq!(
            (range.notes, range.digest),
            (mine.notes, mine.digest),
            "range {}",
            range.from
        );
        counted += range.notes;
    }
    assert_eq!(
        counted, whole.notes,
        "every range that holds notes is listed"
    );

    // One bucket's notes, a page of one at a time.
    let (&id, _) = held.notes.iter().next().unwrap();
    let bucket = bucket_of(id);
    let mut listed = Vec::new();
    let mut after = String::new();
    loop {
        let page: BucketNotes = get(
            server,
            token,
            &format!("/sync/digest/notes?bucket={bucket}&limit=1{after}"),
        )
        .await;
        assert!(page.notes.len() <= 1);
        listed.extend(page.notes.iter().copied());
        match (page.more, page.notes.last()) {
            (true, Some(last)) => after = format!("&after={}", last.id),
            _ => break,
        }
    }
    let expected: Vec<NoteId> = held
        .notes
        .keys()
        .filter(|id| bucket_of(**id) == bucket)
        .copied()
        .collect();
    let listed_live: Vec<NoteId> = listed.iter().filter(|n| !n.purged).map(|n| n.id).collect();
    assert_eq!(listed_live, expected);
    for note in listed.iter().filter(|n| !n.purged) {
        let (version, deleted, _) = &held.notes[&note.id];
        assert_eq!((note.version.0, note.deleted), (*version, *deleted));
    }
}

/// Creates `n` notes; what the device holds of them.
async fn create_notes(server: &TestServer, token: &str, device: &Device, n: usize) -> Held {
    let mut held = Held {
        notes: BTreeMap::new(),
    };
    let mut ops = Vec::new();
    for i in 0..n {
        let id = NoteId(Uuid::now_v7());
        let fields = NoteFields::new(format!("Note {i}"), format!("body {i}\n"));
        ops.push(device.create(id, &fields));
        held.notes.insert(id, (1, false, fields));
    }
    for batch in ops.chunks(1000) {
        let results = server.push(token, batch.to_vec()).await.results;
        assert!(
            results.iter().all(|r| r.applied_version().is_some()),
            "{results:?}"
        );
    }
    held
}

async fn the_digest_follows_every_write_and_equals_what_a_device_sums(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let device = Device::of(&server, "ada", 1).await;

    let empty: AccountDigest = get(&server, &token, "/sync/digest").await;
    assert_eq!(empty.notes, 0);

    let mut held = create_notes(&server, &token, &device, 40).await;
    assert_server_agrees(&server, &token, &device, &held).await;

    // Edits (as a patch and as a whole text), a delete, and a delete forever.
    let ids: Vec<NoteId> = held.notes.keys().copied().collect();
    let mut ops = Vec::new();
    for (n, id) in ids.iter().take(3).enumerate() {
        let (version, _, fields) = held.notes[id].clone();
        let next = NoteFields::new(fields.title.clone(), format!("{}edited\n", fields.body));
        ops.push(match n {
            0 => device.patch(*id, (version, &fields), &next),
            1 => device.snapshot(*id, (version, &fields), &next),
            _ => device.delete(*id, (version, &fields)),
        });
        let deleted = n == 2;
        held.notes.insert(
            *id,
            (version + 1, deleted, if deleted { fields } else { next }),
        );
    }
    let results = server.push(&token, ops).await.results;
    assert!(
        results.iter().all(|r| r.applied_version().is_some()),
        "{results:?}"
    );
    assert_server_agrees(&server, &token, &device, &held).await;

    let gone = ids[5];
    let status = server
        .http
        .delete(server.url(&format!("/notes/{gone}?version=1")))
        .bearer_auth(&token)
        .json(&device.purge_request(gone, Some(1)))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    held.notes.remove(&gone);
    assert_server_agrees(&server, &token, &device, &held).await;
    let listed: BucketNotes = get(
        &server,
        &token,
        &format!("/sync/digest/notes?bucket={}", bucket_of(gone)),
    )
    .await;
    let purged = listed
        .notes
        .iter()
        .find(|n| n.id == gone)
        .expect("a purged note is listed");
    assert!(
        purged.purged,
        "as deleted forever, so that no device sends it again"
    );

    // A replayed push changes nothing.
    let before: AccountDigest = get(&server, &token, "/sync/digest").await;
    let (version, _, fields) = held.notes[&ids[10]].clone();
    let next = NoteFields::new(fields.title.clone(), "again\n");
    let op = device.snapshot(ids[10], (version, &fields), &next);
    server.push(&token, vec![op.clone()]).await;
    let once: AccountDigest = get(&server, &token, "/sync/digest").await;
    server.push(&token, vec![op]).await;
    let twice: AccountDigest = get(&server, &token, "/sync/digest").await;
    assert_ne!(before.digest, once.digest);
    assert_eq!((once.digest, once.notes), (twice.digest, twice.notes));
    held.notes.insert(ids[10], (version + 1, false, next));

    // A row lost by hand leaves the digest with it: the server never vouches for a note
    // it no longer has.
    let lost = ids[7];
    for table in ["note_entries WHERE note_id", "notes WHERE id"] {
        sqlx::query(&format!("DELETE FROM {table} = $1"))
            .bind(lost.to_string())
            .execute(&server.db.pool)
            .await
            .unwrap();
    }
    held.notes.remove(&lost);
    assert_server_agrees(&server, &token, &device, &held).await;
    server.stop().await;
}

async fn notes_stored_before_digests_are_counted_when_first_asked(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let device = Device::of(&server, "ada", 1).await;
    let held = create_notes(&server, &token, &device, 1500).await;
    let counted: AccountDigest = get(&server, &token, "/sync/digest").await;

    // As the database was before the migration: nothing counted.
    sqlx::query("UPDATE notes SET digest_part = NULL, digest_bucket = NULL")
        .execute(&server.db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM note_digests")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let again: AccountDigest = get(&server, &token, "/sync/digest").await;
    assert_eq!((again.notes, again.digest), (counted.notes, counted.digest));
    assert_eq!(again.notes, 1500);
    let missing: i64 = sqlx::query_scalar("SELECT count(*) FROM notes WHERE digest_part IS NULL")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(missing, 0);
    assert_server_agrees(&server, &token, &device, &held).await;
    let rows = server.count("note_digests").await;
    assert!(rows <= i64::from(BUCKETS), "{rows} rows");
    server.stop().await;
}

async fn bad_queries_are_refused_and_no_account_sees_another(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let device = Device::of(&server, "ada", 1).await;
    let held = create_notes(&server, &token, &device, 5).await;
    let bucket = bucket_of(*held.notes.keys().next().unwrap());

    for path in [
        "/sync/digest/ranges?from=4096&to=4096&width=1",
        "/sync/digest/ranges?from=0&to=4097&width=1",
        "/sync/digest/ranges?from=0&to=4096&width=0",
        "/sync/digest/ranges?from=0&to=4096&width=4097",
        "/sync/digest/ranges?from=-1&to=4096&width=1",
        "/sync/digest/ranges?from=0&to=4096",
        "/sync/digest/ranges?from=0&to=4096&width=1&extra=1",
        "/sync/digest/notes?bucket=4096",
        "/sync/digest/notes?bucket=1&limit=0",
        "/sync/digest/notes?bucket=1&limit=1001",
        "/sync/digest/notes?bucket=1&after=not-an-id",
        "/sync/digest/notes",
    ] {
        let response = server.get_with(&token, path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    for path in [
        "/sync/digest",
        "/sync/digest/ranges?from=0&to=1&width=1",
        "/sync/digest/notes?bucket=0",
    ] {
        let response = server.get_with("not-a-token", path).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    // Another account: nothing of Ada's is counted or listed for it.
    // A range that holds no buckets holds no notes.
    let empty: RangeDigests = get(
        &server,
        &token,
        "/sync/digest/ranges?from=4094&to=1&width=1",
    )
    .await;
    assert!(empty.ranges.is_empty());

    let other = server.sealed_account("bob").await;
    let theirs: AccountDigest = get(&server, &other, "/sync/digest").await;
    assert_eq!(theirs.notes, 0);
    let ranges: RangeDigests = get(
        &server,
        &other,
        "/sync/digest/ranges?from=0&to=4096&width=1",
    )
    .await;
    assert!(ranges.ranges.is_empty());
    let listed: BucketNotes = get(
        &server,
        &other,
        &format!("/sync/digest/notes?bucket={bucket}"),
    )
    .await;
    assert!(listed.notes.is_empty());
    let mine: BucketNotes = get(
        &server,
        &token,
        &format!("/sync/digest/notes?bucket={bucket}"),
    )
    .await;
    assert!(!mine.notes.is_empty());
    server.stop().await;
}

async fn the_change_count_is_what_a_pull_would_bring(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    create_notes(&server, &token, &laptop, 3).await;
    let head = server.pull(&token, 0, 1).await.head;
    let count = |since: u64, device: &Device| {
        format!("/sync/changes/count?since={since}&device={}", device.id)
    };
    let for_phone: ChangeCount = get(&server, &token, &count(0, &phone)).await;
    assert_eq!(
        (for_phone.head, for_phone.notes, for_phone.more),
        (head, 3, false)
    );
    let for_laptop: ChangeCount = get(&server, &token, &count(0, &laptop)).await;
    assert_eq!(for_laptop.notes, 0, "its own changes are not brought back");
    let caught_up: ChangeCount = get(&server, &token, &count(head, &phone)).await;
    assert_eq!(caught_up.notes, 0);
    let nobody: ChangeCount = get(&server, &token, "/sync/changes/count").await;
    assert_eq!(nobody.notes, 3);
    let other = server.sealed_account("bob").await;
    let theirs: ChangeCount = get(&server, &other, "/sync/changes/count").await;
    assert_eq!(
        (theirs.notes, theirs.head),
        (0, 0),
        "another account's notes are not counted"
    );
    for path in [
        "/sync/changes/count?since=-1",
        "/sync/changes/count?since=9223372036854775808",
        "/sync/changes/count?device=laptop",
        "/sync/changes/count?limit=1",
    ] {
        let response = server.get_with(&token, path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    server.stop().await;
}
