//! Note history and delete-forever on a real server, SQLite and PostgreSQL: every version
//! of a sealed note is kept (a snapshot starts the chain over, a last-write-wins overwrite
//! too), listed and handed back so that a device rebuilds any of them; another account
//! sees none of it; pruning drops whole old segments and never the note as it is; a purge
//! leaves nothing of the note on the server and tells every device.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sealed_device::{Device, MAX};
use common::{Backend, TestServer};
use quire_core::crypto::chain::{open_chain, open_purge};
use quire_core::protocol::{PushResult, SealedForm, VersionEntries, VersionsPage};
use quire_core::{Millis, NoteFields, NoteId, Version};
use quire_server::prune::prune;
use quire_server::Limits;
use reqwest::StatusCode;
use uuid::Uuid;
use SealedForm::{Patch, Snapshot};

on_both_backends!(
    every_version_is_kept_listed_and_rebuilt_for_its_account_only,
    a_note_deleted_forever_leaves_nothing_and_every_device_learns_of_it,
    pruning_drops_old_and_heavy_history_in_whole_segments_and_keeps_the_note,
);

const DAY: i64 = 24 * 60 * 60 * 1000;

fn applied(result: &PushResult) -> u64 {
    result
        .applied_version()
        .unwrap_or_else(|| panic!("not applied: {result:?}"))
        .0
}

/// Version `n`'s text: a long body that differs by one line from the others.
fn text(n: u64) -> NoteFields {
    let lines: String = (0..300u64)
        .map(|i| format!("line {i}: {}\n", i * 7919 % 10_007))
        .collect();
    NoteFields::new(format!("title {n}"), format!("{lines}version {n}\n"))
}

/// A note whose versions 1..=6 are: snapshot, patch, patch, snapshot, patch, then a
/// last-write-wins snapshot from another device made on version 3. Its id.
async fn six_versions(server: &TestServer, token: &str, laptop: &Device, phone: &Device) -> NoteId {
    let note = NoteId(Uuid::now_v7());
    server
        .push(token, vec![laptop.create(note, &text(1))])
        .await;
    for v in 1..5 {
        let op = if v == 3 {
            laptop.snapshot(note, (v, &text(v)), &text(v + 1))
        } else {
            laptop.patch(note, (v, &text(v)), &text(v + 1))
        };
        assert_eq!(
            applied(&server.push(token, vec![op]).await.results[0]),
            v + 1
        );
    }
    let mut lww = phone.snapshot(note, (3, &text(3)), &text(6));
    lww.lww = true;
    assert_eq!(applied(&server.push(token, vec![lww]).await.results[0]), 6);
    note
}

async fn versions(server: &TestServer, token: &str, note: NoteId, query: &str) -> VersionsPage {
    let response = server
        .get_with(token, &format!("/notes/{note}/versions{query}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn status(server: &TestServer, token: &str, path: &str) -> StatusCode {
    server.get_with(token, path).await.status()
}

/// Version `v` of `note`, rebuilt from what the server hands back.
async fn rebuilt(
    server: &TestServer,
    token: &str,
    device: &Device,
    note: NoteId,
    v: u64,
) -> NoteFields {
    let response = server
        .get_with(token, &format!("/notes/{note}/versions/{v}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let entries: VersionEntries = response.json().await.unwrap();
    let deleted = entries.entries.last().unwrap().form == SealedForm::Delete;
    open_chain(
        &device.key,
        &device.account,
        note,
        &entries.entries,
        None,
        (Version(v), deleted),
        MAX,
    )
    .unwrap()
    .fields
}

async fn every_version_is_kept_listed_and_rebuilt_for_its_account_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    let note = six_versions(&server, &token, &laptop, &phone).await;

    let all = versions(&server, &token, note, "").await;
    assert!(!all.more);
    let listed: Vec<(u64, SealedForm)> =
        all.versions.iter().map(|v| (v.version.0, v.form)).collect();
    assert_eq!(
        listed,
        [
            (6, Snapshot),
            (5, Patch),
            (4, Snapshot),
            (3, Patch),
            (2, Patch),
            (1, Snapshot)
        ]
    );
    assert_eq!(all.versions[0].device, phone.id);
    assert!(all.versions[1..].iter().all(|v| v.device == laptop.id));
    assert!(all.versions.iter().all(|v| v.at.0 > 0 && v.bytes > 0));
    assert!(
        all.versions[1].bytes < all.versions[2].bytes,
        "a patch is smaller than a snapshot"
    );

    // Pages, newest first.
    let first = versions(&server, &token, note, "?limit=2").await;
    assert_eq!(
        first
            .versions
            .iter()
            .map(|v| v.version.0)
            .collect::<Vec<_>>(),
        [6, 5]
    );
    assert!(first.more);
    let next = versions(&server, &token, note, "?before=5&limit=2").await;
    assert_eq!(
        next.versions
            .iter()
            .map(|v| v.version.0)
            .collect::<Vec<_>>(),
        [4, 3]
    );
    let last = versions(&server, &token, note, "?before=2").await;
    assert_eq!(
        last.versions
            .iter()
            .map(|v| v.version.0)
            .collect::<Vec<_>>(),
        [1]
    );
    assert!(!last.more);

    // Any version comes back as it was: the one last write overwrote, and those before.
    for v in 1..=6 {
        assert_eq!(
            rebuilt(&server, &token, &laptop, note, v).await,
            text(v),
            "version {v}"
        );
    }

    // Bad input.
    for path in [
        format!("/notes/{note}/versions/7"),
        format!("/notes/{}/versions", Uuid::now_v7()),
        format!("/notes/{}/versions/1", Uuid::now_v7()),
    ] {
        assert_eq!(
            status(&server, &token, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        format!("/notes/{note}/versions/0"),
        format!("/notes/{note}/versions/x"),
        format!("/notes/{note}/versions/99999999999999999999"),
        format!("/notes/{note}/versions?limit=0"),
        format!("/notes/{note}/versions?limit=1001"),
        format!("/notes/{note}/versions?before=-1"),
        format!("/notes/{note}/versions?before=0"),
        format!("/notes/{note}/versions?sort=asc"),
        "/notes/not-an-id/versions".to_owned(),
    ] {
        assert_eq!(
            status(&server, &token, &path).await,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    assert_eq!(
        status(&server, "not-a-token", &format!("/notes/{note}/versions")).await,
        StatusCode::UNAUTHORIZED
    );

    // Another account: as if the note did not exist.
    let eve = server.sealed_account("eve").await;
    for path in [
        format!("/notes/{note}/versions"),
        format!("/notes/{note}/versions/1"),
    ] {
        assert_eq!(
            status(&server, &eve, &path).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        purge(&server, &eve, &laptop, note, None).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(versions(&server, &token, note, "").await.versions.len(), 6);

    // An account still in the clear has no sealed history to list.
    let old = server.account("old").await;
    assert_eq!(
        status(&server, &old, &format!("/notes/{note}/versions")).await,
        StatusCode::CONFLICT
    );
    server.stop().await;
}

async fn stored_bytes(server: &TestServer, username: &str) -> i64 {
    sqlx::query_scalar("SELECT stored_bytes FROM accounts WHERE username = $1")
        .bind(username)
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

async fn entries_of(server: &TestServer, note: NoteId) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM note_entries WHERE note_id = $1")
        .bind(note.to_string())
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

async fn purge(
    server: &TestServer,
    token: &str,
    device: &Device,
    note: NoteId,
    seen: Option<u64>,
) -> StatusCode {
    let query = seen.map(|v| format!("?version={v}")).unwrap_or_default();
    server
        .http
        .delete(server.url(&format!("/notes/{note}{query}")))
        .bearer_auth(token)
        .json(&device.purge_request(note, seen))
        .send()
        .await
        .unwrap()
        .status()
}

/// How many of these values a SQLite server's database file holds (a 32-byte piece of
/// each, looked for after the WAL is folded into the file).
async fn sqlite_file_holds(server: &TestServer, values: &[Vec<u8>]) -> usize {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let file = server.db_url.trim_start_matches("sqlite://");
    let bytes = std::fs::read(file.split('?').next().unwrap()).unwrap();
    values
        .iter()
        .filter(|value| {
            let probe = &value[value.len() / 2..value.len() / 2 + 32];
            bytes.windows(probe.len()).any(|w| w == probe)
        })
        .count()
}

async fn a_note_deleted_forever_leaves_nothing_and_every_device_learns_of_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    let kept = NoteId(Uuid::now_v7());
    server
        .push(&token, vec![laptop.create(kept, &text(1))])
        .await;
    let kept_bytes = stored_bytes(&server, "ada").await;
    let note = six_versions(&server, &token, &laptop, &phone).await;
    server
        .push(&token, vec![laptop.delete(note, (6, &text(6)))])
        .await;
    let cursor = server.pull(&token, 0, 100).await.next;
    assert!(stored_bytes(&server, "ada").await > kept_bytes);
    // What the note's entries hold, to look for in the database file afterwards.
    let sealed: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM note_entries WHERE note_id = $1")
            .bind(note.to_string())
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(sealed.len(), 7);
    if backend == Backend::Sqlite {
        // The probe finds them while they are there.
        assert_eq!(sqlite_file_holds(&server, &sealed).await, sealed.len());
    }

    // A body that is not a purge: refused, nothing changes.
    let bad = server
        .http
        .delete(server.url(&format!("/notes/{note}")))
        .bearer_auth(&token)
        .json(&serde_json::json!({"device_id": laptop.id, "op_id": Uuid::now_v7(), "marker": "A".repeat(2000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let none = server
        .http
        .delete(server.url(&format!("/notes/{note}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        purge(&server, &token, &laptop, note, Some(0)).await,
        StatusCode::BAD_REQUEST,
        "no version 0"
    );
    assert_eq!(entries_of(&server, note).await, 7);

    assert_eq!(
        purge(&server, &token, &laptop, note, Some(7)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        entries_of(&server, note).await,
        1,
        "no text, no history: the marker alone"
    );
    let marker: i64 = sqlx::query_scalar(
        "SELECT CAST(length(data) + 256 AS BIGINT) FROM note_entries WHERE note_id = $1 AND form = 'purge'",
    )
    .bind(note.to_string())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(
        stored_bytes(&server, "ada").await,
        kept_bytes + marker,
        "every byte of the note is given back; the marker is charged"
    );
    let (title, body, purged): (String, String, i64) =
        sqlx::query_as("SELECT title, body, purged FROM notes WHERE id = $1")
            .bind(note.to_string())
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!((title.as_str(), body.as_str(), purged), ("", "", 1));
    if backend == Backend::Sqlite {
        // Not left in free pages either (secure_delete), once the WAL is folded back.
        let left = sqlite_file_holds(&server, &sealed).await;
        assert_eq!(
            left, 0,
            "a purged entry's bytes are still in the database file"
        );
    }
    // Again: already done.
    assert_eq!(
        purge(&server, &token, &laptop, note, Some(7)).await,
        StatusCode::NO_CONTENT
    );
    // A purge made on an older view of the note is refused when the note moved on.
    let other = NoteId(Uuid::now_v7());
    server
        .push(&token, vec![laptop.create(other, &text(1))])
        .await;
    server
        .push(&token, vec![laptop.patch(other, (1, &text(1)), &text(2))])
        .await;
    assert_eq!(
        purge(&server, &token, &phone, other, Some(1)).await,
        StatusCode::CONFLICT
    );
    assert_eq!(entries_of(&server, other).await, 2, "nothing purged");
    assert_eq!(
        purge(&server, &token, &phone, other, Some(2)).await,
        StatusCode::NO_CONTENT
    );
    let unknown = NoteId(Uuid::now_v7());
    assert_eq!(
        purge(&server, &token, &laptop, unknown, None).await,
        StatusCode::NOT_FOUND
    );

    // A device that had the note learns it went, and so does a new one.
    for since in [cursor, 0] {
        let page = server.pull(&token, since, 100).await;
        let change = page
            .changes
            .iter()
            .find(|c| c.note.id == note)
            .expect("the purge is a change");
        assert!(change.note.purged && change.note.deleted);
        assert_eq!(change.note.version, Version(8));
        // With the marker the purging device sealed, which the others check.
        let entries = change.note.sealed.as_deref().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].base_version, Some(Version(7)));
        open_purge(&phone.key, &phone.account, note, &entries[0]).unwrap();
    }
    assert_eq!(
        status(&server, &token, &format!("/notes/{note}/versions")).await,
        StatusCode::NOT_FOUND
    );

    // The id takes no more ops: not an edit made offline, not a create.
    let late = laptop.snapshot(note, (7, &text(6)), &text(9));
    let again = laptop.create(note, &text(9));
    let results = server.push(&token, vec![late, again]).await.results;
    for result in &results {
        let PushResult::Rejected { reason, .. } = result else {
            panic!("{result:?}")
        };
        assert!(
            reason.contains("deleted forever") || reason.contains("already exists"),
            "{reason}"
        );
    }
    assert_eq!(entries_of(&server, note).await, 1);
    // The other note is untouched.
    assert_eq!(
        server
            .pull_all(&token)
            .await
            .iter()
            .filter(|n| !n.purged)
            .count(),
        1
    );
    server.stop().await;
}

async fn set_created_at(server: &TestServer, note: NoteId, versions: &[u64], at: i64) {
    for v in versions {
        sqlx::query("UPDATE note_entries SET created_at = $1 WHERE note_id = $2 AND version = $3")
            .bind(at)
            .bind(note.to_string())
            .bind(i64::try_from(*v).unwrap())
            .execute(&server.db.pool)
            .await
            .unwrap();
    }
}

async fn kept_versions(server: &TestServer, note: NoteId) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM note_entries WHERE note_id = $1 ORDER BY version")
        .bind(note.to_string())
        .fetch_all(&server.db.pool)
        .await
        .unwrap()
}

async fn entry_bytes(server: &TestServer) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(coalesce(sum(length(data) + 256), 0) AS BIGINT) FROM note_entries",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap()
}

async fn pruning_drops_old_and_heavy_history_in_whole_segments_and_keeps_the_note(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    // Segments [1, 2, 3], [4, 5], and the live chain [6].
    let note = six_versions(&server, &token, &laptop, &phone).await;
    let now = Millis(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
    );
    let limits = Limits::default();
    assert_eq!(
        stored_bytes(&server, "ada").await,
        entry_bytes(&server).await
    );

    // Nothing is old yet.
    assert_eq!(prune(&server.db, &limits, now).await.unwrap().history, 0);
    assert_eq!(kept_versions(&server, note).await, [1, 2, 3, 4, 5, 6]);

    // Versions 1 to 3 were replaced (by snapshot 4) 100 days ago; 4 and 5 only 10 days
    // ago: the first segment goes, whole.
    set_created_at(&server, note, &[1, 2, 3, 4], now.0 - 100 * DAY).await;
    set_created_at(&server, note, &[5, 6], now.0 - 10 * DAY).await;
    assert_eq!(prune(&server.db, &limits, now).await.unwrap().history, 3);
    assert_eq!(kept_versions(&server, note).await, [4, 5, 6]);
    assert_eq!(
        stored_bytes(&server, "ada").await,
        entry_bytes(&server).await,
        "what went is given back"
    );
    assert_eq!(prune(&server.db, &limits, now).await.unwrap().history, 0);
    assert_eq!(rebuilt(&server, &token, &laptop, note, 5).await, text(5));
    assert_eq!(
        status(&server, &token, &format!("/notes/{note}/versions/2")).await,
        StatusCode::NOT_FOUND
    );

    // All of it ancient: all history goes, the live chain stays.
    set_created_at(&server, note, &[5, 6], now.0 - 100 * DAY).await;
    assert_eq!(prune(&server.db, &limits, now).await.unwrap().history, 2);
    assert_eq!(kept_versions(&server, note).await, [6]);
    let pulled = server.pull_all(&token).await;
    assert_eq!(laptop.open(&pulled[0], None), text(6));

    // By weight: a second note with the same shape, and a cap that holds its newest
    // segment ([4, 5]) but not both.
    let heavy = six_versions(&server, &token, &laptop, &phone).await;
    let segment: i64 = sqlx::query_scalar(
        "SELECT CAST(sum(length(data) + 256) AS BIGINT) FROM note_entries
         WHERE note_id = $1 AND version IN (4, 5)",
    )
    .bind(heavy.to_string())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    let capped = Limits {
        history_max_bytes: u64::try_from(segment).unwrap() + 10,
        ..limits
    };
    assert_eq!(prune(&server.db, &capped, now).await.unwrap().history, 3);
    assert_eq!(kept_versions(&server, heavy).await, [4, 5, 6]);
    assert_eq!(
        kept_versions(&server, note).await,
        [6],
        "the other note is as it was"
    );
    assert_eq!(
        stored_bytes(&server, "ada").await,
        entry_bytes(&server).await
    );
    server.stop().await;
}
