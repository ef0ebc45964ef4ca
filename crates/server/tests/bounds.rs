//! What one account can make the server hold, write and send (PRODUCT.md, "Limits"), on
//! SQLite and PostgreSQL: history per note and per batch, conflict answers, pull pages,
//! the text a push makes, and the account's storage quota.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{at, create_op, delete_op, new_note, update_op, Backend, TestServer};
use quire_core::protocol::{NoteState, PushResult};
use quire_core::NoteId;
use quire_server::Limits;
use reqwest::StatusCode;

on_both_backends!(
    stale_last_write_wins_ops_keep_bounded_history,
    a_conflict_answer_carries_each_text_once_and_within_the_bound,
    a_note_can_be_fetched_only_from_its_own_account,
    pull_pages_are_bounded_in_bytes,
    a_push_that_makes_too_much_text_stores_nothing,
    an_account_over_its_quota_is_refused_and_can_still_shrink,
    a_patch_past_the_note_limit_is_refused_before_it_is_built,
    last_write_wins_over_another_devices_text_keeps_it,
);

async fn stored_bytes(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT stored_bytes FROM accounts")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

async fn history_bytes(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM note_history")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

/// The case: a 43 KB push of 200 last-write-wins deletes on a stale base of one
/// 1 MiB note wrote 199 MiB of history. A delete keeps its text as the tombstone's; a batch
/// keeps each note's replaced text once; a note keeps at most `max_history_per_note`.
async fn stale_last_write_wins_ops_keep_bounded_history(backend: Backend) {
    let limits = Limits {
        max_history_per_note: 5,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("hoarder").await;
    let note = new_note();
    let big = "x".repeat(1024 * 1024);
    server
        .push(&token, vec![create_op(note, "Big", &big)])
        .await;
    server
        .push(
            &token,
            vec![update_op(note, at(1, "Big", &big), "Big", "small")],
        )
        .await;

    let deletes = (0..200)
        .map(|_| {
            let mut op = delete_op(note, at(1, "Big", &big));
            op.lww = true;
            op
        })
        .collect();
    server.push(&token, deletes).await;
    assert_eq!(
        server.count("note_history").await,
        0,
        "deletes keep no copies"
    );

    let stale_updates = (0..200)
        .map(|n| {
            let mut op = update_op(note, at(1, "Big", &big), "Big", &format!("{n}"));
            op.lww = true;
            op
        })
        .collect();
    server.push(&token, stale_updates).await;
    assert_eq!(
        server.count("note_history").await,
        1,
        "a batch keeps each note's replaced text once"
    );

    for n in 0..20 {
        let mut op = update_op(note, at(1, "Big", &big), "Big", &format!("round {n} {big}"));
        op.lww = true;
        server.push(&token, vec![op]).await;
    }
    assert_eq!(server.count("note_history").await, 5);
    let kept = history_bytes(&server).await;
    assert!(kept < 6 * 1024 * 1024, "{kept} bytes of history");
    // The account's count follows what it really holds.
    let notes: i64 = sqlx::query_scalar("SELECT CAST(sum(size) AS BIGINT) FROM notes")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let rows = 1 + 5;
    assert_eq!(
        stored_bytes(&server).await,
        notes + kept + rows * quire_server::ROW_OVERHEAD
    );
    server.stop().await;
}

/// The case: a 58 KB push of stale ops on one large note was answered with 1,000
/// copies of it (1,000 MiB). Now the text goes once, and only within the response bound;
/// the rest carry the version, and the client fetches the note.
async fn a_conflict_answer_carries_each_text_once_and_within_the_bound(backend: Backend) {
    let limits = Limits {
        max_response_bytes: 3 * 1024 * 1024 / 2,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("amplifier").await;
    let (one, two) = (new_note(), new_note());
    let big = "y".repeat(1024 * 1024);
    server
        .push(
            &token,
            vec![create_op(one, "One", &big), create_op(two, "Two", &big)],
        )
        .await;

    let stale = |note| update_op(note, at(0, "?", "?"), "?", "?");
    let mut ops: Vec<_> = (0..999).map(|_| stale(one)).collect();
    ops.push(stale(two));
    let response = server
        .push_raw(&token, &quire_core::protocol::PushRequest { ops })
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.unwrap();
    assert!(body.len() < 1200 * 1024, "{} bytes answered", body.len());
    let results: quire_core::protocol::PushResponse = serde_json::from_slice(&body).unwrap();
    let texts = results
        .results
        .iter()
        .filter(|r| {
            matches!(
                r,
                PushResult::Conflict {
                    current: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(texts, 1, "one text, once");
    // The second note's text did not fit: its answer names the version to fetch.
    match results.results.last().unwrap() {
        PushResult::Conflict {
            note_id,
            version,
            current: None,
            ..
        } => {
            assert_eq!((*note_id, version.0), (two, 1));
            let fetched = get_note(&server, &token, two).await;
            assert_eq!(fetched.0, StatusCode::OK);
            assert_eq!(fetched.1.unwrap().body, big);
        }
        other => panic!("expected a conflict without text, got {other:?}"),
    }
    server.stop().await;
}

async fn get_note(
    server: &TestServer,
    token: &str,
    note: NoteId,
) -> (StatusCode, Option<NoteState>) {
    let response = server.get_with(token, &format!("/notes/{note}")).await;
    let status = response.status();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).ok())
}

async fn a_note_can_be_fetched_only_from_its_own_account(backend: Backend) {
    let server = TestServer::start(backend).await;
    let alice = server.account("alice").await;
    let mallory = server.account("mallory").await;
    let note = new_note();
    server
        .push(&alice, vec![create_op(note, "Diary", "secret")])
        .await;
    assert_eq!(get_note(&server, &alice, note).await.0, StatusCode::OK);
    let (status, body) = get_note(&server, &mallory, note).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's note: {body:?}"
    );
    assert_eq!(
        get_note(&server, &alice, new_note()).await.0,
        StatusCode::NOT_FOUND
    );
    let bad = server.get_with(&alice, "/notes/not-an-id").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let anonymous = server
        .http
        .get(server.url(&format!("/notes/{note}")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

/// 1,000 notes of 8 MiB would have made one page larger than a client reads: pages end
/// at `max_response_bytes` of text, and hold at least one change.
async fn pull_pages_are_bounded_in_bytes(backend: Backend) {
    let limits = Limits {
        max_response_bytes: 10_000,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("puller").await;
    let text = "z".repeat(6_000);
    let ops = (0..5)
        .map(|n| create_op(new_note(), &format!("n{n}"), &text))
        .collect();
    server.push(&token, ops).await;
    let mut since = 0;
    let mut pages = 0;
    let mut notes = 0;
    loop {
        let page = server.pull(&token, since, 1000).await;
        assert_eq!(page.changes.len(), 1, "one 6 KB note per 10 KB page");
        notes += page.changes.len();
        pages += 1;
        since = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!((pages, notes), (5, 5));
    server.stop().await;
}

async fn a_push_that_makes_too_much_text_stores_nothing(backend: Backend) {
    let limits = Limits {
        max_push_text_bytes: 100_000,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("maker").await;
    let text = "w".repeat(40_000);
    let ops = (0..3)
        .map(|n| create_op(new_note(), &format!("n{n}"), &text))
        .collect();
    let response = server
        .push_raw(&token, &quire_core::protocol::PushRequest { ops })
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.count("notes").await, 0);
    assert_eq!(stored_bytes(&server).await, 0);
    server.stop().await;
}

async fn an_account_over_its_quota_is_refused_and_can_still_shrink(backend: Backend) {
    let limits = Limits {
        max_account_bytes: 100_000,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("filler").await;
    let (first, second) = (new_note(), new_note());
    let text = "q".repeat(60_000);
    server
        .push(&token, vec![create_op(first, "First", &text)])
        .await;
    let before = stored_bytes(&server).await;
    assert_eq!(before, 60_005 + quire_server::ROW_OVERHEAD);

    // The op that would overfill the account is deferred (its device keeps it queued);
    // the others in the batch go on.
    let third = new_note();
    let results = server
        .push(
            &token,
            vec![
                create_op(second, "Second", &text),
                create_op(third, "Third", "small"),
            ],
        )
        .await
        .results;
    assert!(
        matches!(results[0], PushResult::Deferred { .. }),
        "{results:?}"
    );
    assert!(
        matches!(results[1], PushResult::Applied { .. }),
        "{results:?}"
    );
    assert_eq!(
        server.count("notes").await,
        2,
        "the large note was not stored"
    );
    let before = before + 10 + quire_server::ROW_OVERHEAD;
    assert_eq!(stored_bytes(&server).await, before);

    // Shrinking a note is always possible, and frees room.
    let results = server
        .push(
            &token,
            vec![update_op(first, at(1, "First", &text), "First", "short")],
        )
        .await
        .results;
    assert!(matches!(results[0], PushResult::Applied { .. }));
    assert_eq!(stored_bytes(&server).await, before - 60_000 + 5);
    let results = server
        .push(&token, vec![create_op(second, "Second", &text)])
        .await
        .results;
    assert!(matches!(results[0], PushResult::Applied { .. }));
    server.stop().await;
}

/// 1,000 patches of "keep the whole 8 MiB note, insert a little more" once cost the server
/// 8 GB of copying for a 100 KB request; the output's length is known before applying.
async fn a_patch_past_the_note_limit_is_refused_before_it_is_built(backend: Backend) {
    let limits = Limits {
        max_note_bytes: 64 * 1024,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let token = server.account("patcher").await;
    let note = new_note();
    let text = "p".repeat(60 * 1024);
    server.push(&token, vec![create_op(note, "P", &text)]).await;
    let mut op = update_op(note, at(1, "P", &text), "P", "");
    op.body = None;
    op.patch = Some(quire_core::patch::Patch(vec![
        quire_core::patch::Edit::Keep(text.len()),
        quire_core::patch::Edit::Insert("q".repeat(8 * 1024)),
    ]));
    match &server.push(&token, vec![op]).await.results[0] {
        PushResult::Rejected { reason, .. } => assert!(reason.contains("over"), "{reason}"),
        other => panic!("expected rejected, got {other:?}"),
    }
    assert_eq!(server.pull_all(&token).await[0].body, text);
    server.stop().await;
}

/// A device rebases a last-write-wins op on the text it overwrites, so the base matches;
/// the other device's text still goes to history.
async fn last_write_wins_over_another_devices_text_keeps_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("lww").await;
    let note = new_note();
    let (laptop, phone) = (
        quire_core::DeviceId(common::new_id()),
        quire_core::DeviceId(common::new_id()),
    );
    let mut create = create_op(note, "T", "from laptop");
    create.device_id = laptop;
    server.push(&token, vec![create]).await;
    let mut overwrite = update_op(note, at(1, "T", "from laptop"), "T", "from phone");
    overwrite.device_id = phone;
    overwrite.lww = true;
    let results = server.push(&token, vec![overwrite]).await.results;
    assert!(matches!(results[0], PushResult::Applied { .. }));
    let kept: String = sqlx::query_scalar("SELECT body FROM note_history")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, "from laptop");
    // A device overwriting its own text keeps nothing.
    let mut again = update_op(note, at(2, "T", "from phone"), "T", "phone again");
    again.device_id = phone;
    again.lww = true;
    server.push(&token, vec![again]).await;
    assert_eq!(server.count("note_history").await, 1);
    server.stop().await;
}
