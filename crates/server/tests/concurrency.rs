//! Many clients at once: 50 devices pushing into one account, through one server or (on
//! PostgreSQL) two server instances sharing the database. Every op is applied exactly once,
//! every version of a note has exactly one op that made it, and no update is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{at, create_op, new_note, update_op, Backend, TestServer};
use quire_core::protocol::PushResult;
use quire_core::NoteId;
use quire_server::Limits;

const CLIENTS: usize = 50;
const EDITS_PER_CLIENT: usize = 4;

on_both_backends!(fifty_clients_push_at_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_never_lose_an_update() {
    let first = TestServer::start(Backend::Postgres).await;
    let second = TestServer::start_on(&first.db_url, Limits::default()).await;
    contend(vec![first, second]).await;
}

async fn fifty_clients_push_at_once(backend: Backend) {
    contend(vec![TestServer::start(backend).await]).await;
}

/// One shared note that every client edits, retrying on conflict the way a device does
/// (pull the current version, push again on top of it), plus a note of each client's own.
async fn contend(servers: Vec<TestServer>) {
    let servers: Vec<Arc<TestServer>> = servers.into_iter().map(Arc::new).collect();
    let owner = servers[0].account("shared").await;
    let shared = new_note();
    servers[0]
        .push(&owner, vec![create_op(shared, "shared", "start")])
        .await;

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let server = Arc::clone(&servers[i % servers.len()]);
        let token = server.login("shared").await;
        clients.push(tokio::spawn(async move {
            let own = new_note();
            let mut own_version = match &server
                .push(&token, vec![create_op(own, &format!("client {i}"), "")])
                .await
                .results[0]
            {
                PushResult::Applied { version, .. } => version.0,
                other => panic!("own note: {other:?}"),
            };
            let mut applied_on_shared = Vec::new();
            let mut own_text = String::new();
            for edit in 0..EDITS_PER_CLIENT {
                // Own note: never contended, always applies.
                let results = server
                    .push(
                        &token,
                        vec![update_op(
                            own,
                            at(own_version, &format!("client {i}"), &own_text),
                            &format!("client {i}"),
                            &format!("edit {edit}"),
                        )],
                    )
                    .await
                    .results;
                own_version = match &results[0] {
                    PushResult::Applied { version, .. } => version.0,
                    other => panic!("own note edit: {other:?}"),
                };
                own_text = format!("edit {edit}");
                // Shared note: retry on conflict from the version the server reports.
                let mut base = at(1, "shared", "start");
                loop {
                    let body = format!("client {i} edit {edit}");
                    let results = server
                        .push(&token, vec![update_op(shared, base, "shared", &body)])
                        .await
                        .results;
                    match &results[0] {
                        PushResult::Applied { version, .. } => {
                            applied_on_shared.push((version.0, body));
                            break;
                        }
                        PushResult::Conflict {
                            current: Some(current),
                            ..
                        } => base = at(current.version.0, &current.title, &current.body),
                        other => panic!("shared edit: {other:?}"),
                    }
                }
            }
            (own, own_version, applied_on_shared)
        }));
    }

    let mut winners: BTreeMap<u64, String> = BTreeMap::new();
    let mut own_notes: Vec<(NoteId, u64)> = Vec::new();
    for client in clients {
        let (own, own_version, applied) = client.await.unwrap();
        assert_eq!(own_version, 1 + EDITS_PER_CLIENT as u64);
        own_notes.push((own, own_version));
        for (version, body) in applied {
            assert!(
                winners.insert(version, body).is_none(),
                "two ops made version {version}"
            );
        }
    }

    // Versions 2..=N+1 of the shared note, each made by exactly one op, none missing.
    let expected_last = 1 + (CLIENTS * EDITS_PER_CLIENT) as u64;
    assert_eq!(
        winners.keys().copied().collect::<Vec<_>>(),
        (2..=expected_last).collect::<Vec<_>>()
    );

    let notes = servers[servers.len() - 1].pull_all(&owner).await;
    assert_eq!(notes.len(), CLIENTS + 1);
    let shared_now = notes.iter().find(|n| n.id == shared).unwrap();
    assert_eq!(shared_now.version.0, expected_last);
    assert_eq!(
        &shared_now.body,
        winners.get(&expected_last).unwrap(),
        "the last winner's text is the note"
    );
    for (own, version) in own_notes {
        assert_eq!(
            notes.iter().find(|n| n.id == own).unwrap().version.0,
            version
        );
    }
    // Every op applied once: the shared note's create, and per client its own create, its own
    // edits and its winning shared edits. Conflicts answered along the way are not "applied".
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_ops WHERE result LIKE '%\"applied\"%'")
            .fetch_one(&servers[0].db.pool)
            .await
            .unwrap();
    assert_eq!(applied as usize, 1 + CLIENTS * (1 + 2 * EDITS_PER_CLIENT));
}
