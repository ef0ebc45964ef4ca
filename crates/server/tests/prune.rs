//! Pruning, on SQLite and on PostgreSQL: dead sessions, old attempts and old op answers go;
//! live ones stay; an op replayed after its answer was pruned is judged again and cannot
//! apply twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{create_op, new_note, Backend, TestServer};
use quire_core::protocol::PushResult;
use quire_core::Millis;
use quire_server::prune::{prune, Pruned, SESSION_GRACE};
use quire_server::Limits;

on_both_backends!(
    pruning_removes_what_is_dead_and_keeps_what_is_live,
    a_replay_after_pruning_is_judged_again
);

const HOUR: i64 = 60 * 60 * 1000;
const DAY: i64 = 24 * HOUR;

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

async fn session(
    server: &TestServer,
    account: &str,
    hash: &str,
    expires: i64,
    revoked: Option<i64>,
) {
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(account)
    .bind(0_i64)
    .bind(expires)
    .bind(revoked)
    .execute(&server.db.pool)
    .await
    .unwrap();
}

async fn exists(server: &TestServer, sql: &str, key: &str) -> bool {
    let count: i64 = sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    count == 1
}

async fn pruning_removes_what_is_dead_and_keeps_what_is_live(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("ann").await;
    server
        .push(&token, vec![create_op(new_note(), "kept", "recent op")])
        .await;
    let account: String = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'ann'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let now = now();
    let grace = i64::try_from(SESSION_GRACE.as_millis()).unwrap();
    session(
        &server,
        &account,
        "expired-long-ago",
        now - grace - HOUR,
        None,
    )
    .await;
    session(
        &server,
        &account,
        "revoked-long-ago",
        now + DAY,
        Some(now - grace - HOUR),
    )
    .await;
    session(&server, &account, "expired-lately", now - HOUR, None).await;
    session(
        &server,
        &account,
        "revoked-lately",
        now + DAY,
        Some(now - HOUR),
    )
    .await;
    for (id, at) in [
        ("old-attempt", now - 2 * HOUR),
        ("new-attempt", now - 60_000),
    ] {
        sqlx::query("INSERT INTO auth_attempts (id, scope, at) VALUES ($1, 'login:192.0.2.1', $2)")
            .bind(id)
            .bind(at)
            .execute(&server.db.pool)
            .await
            .unwrap();
    }
    let retention = i64::from(Limits::default().op_retention_days) * DAY;
    sqlx::query(
        "INSERT INTO applied_ops (account_id, op_id, result, created_at) VALUES ($1, $2, '{}', $3)",
    )
    .bind(&account)
    .bind(common::new_id().to_string())
    .bind(now - retention - HOUR)
    .execute(&server.db.pool)
    .await
    .unwrap();
    let sessions_before = server.count("sessions").await;

    let pruned = prune(&server.db, &Limits::default(), Millis(now))
        .await
        .unwrap();
    assert_eq!(
        pruned,
        Pruned {
            sessions: 2,
            attempts: 1,
            applied_ops: 1,
            history: 0
        }
    );
    assert_eq!(server.count("sessions").await, sessions_before - 2);
    let session_exists = "SELECT count(*) FROM sessions WHERE token_hash = $1";
    assert!(!exists(&server, session_exists, "expired-long-ago").await);
    assert!(!exists(&server, session_exists, "revoked-long-ago").await);
    assert!(exists(&server, session_exists, "expired-lately").await);
    assert!(exists(&server, session_exists, "revoked-lately").await);
    let attempt_exists = "SELECT count(*) FROM auth_attempts WHERE id = $1";
    assert!(!exists(&server, attempt_exists, "old-attempt").await);
    assert!(exists(&server, attempt_exists, "new-attempt").await);
    assert_eq!(
        server.count("applied_ops").await,
        1,
        "the recent op's answer stays"
    );
    // The live session still works.
    assert_eq!(server.pull(&token, 0, 10).await.changes.len(), 1);

    // Nothing left to do: a second pass removes nothing.
    let again = prune(&server.db, &Limits::default(), Millis(now))
        .await
        .unwrap();
    assert_eq!(again, Pruned::default());
    server.stop().await;
}

async fn a_replay_after_pruning_is_judged_again(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("bea").await;
    let note = new_note();
    let create = create_op(note, "once", "only once");
    let first = server.push(&token, vec![create.clone()]).await;
    assert!(matches!(first.results[0], PushResult::Applied { .. }));

    // Long after: the op's answer is pruned (and the session with it, so sign in again).
    let later = now() + i64::from(Limits::default().op_retention_days + 1) * DAY;
    let pruned = prune(&server.db, &Limits::default(), Millis(later))
        .await
        .unwrap();
    assert_eq!(pruned.applied_ops, 1);
    assert_eq!(server.count("applied_ops").await, 0);

    let token = server.login("bea").await;
    let replay = server.push(&token, vec![create]).await;
    assert!(
        !matches!(
            replay.results[0],
            PushResult::Applied { .. } | PushResult::Duplicate { .. }
        ),
        "a replay after pruning is judged again: {:?}",
        replay.results[0]
    );
    let notes = server.pull_all(&token).await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].version.0, 1, "the create did not apply twice");
    assert_eq!(notes[0].body, "only once");
    server.stop().await;
}
