//! An end-to-end account's sealed notes on a real server, SQLite and PostgreSQL: the server
//! stores each op's sealed value as an entry of its note's chain and hands back exactly the
//! entries a device lacks; it never holds a title or a body, and it refuses text in the
//! clear for such an account (and sealed text for an account in the clear).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sealed_device::Device;
use common::{at, create_op, update_op, Backend, TestServer, PASSWORD};
use quire_core::protocol::{
    AccountInfo, KeyScheme, NoteState, PushOp, PushResult, SealedForm, UnsealedPage,
    UpgradeManifest,
};
use quire_core::{NoteFields, NoteId, OpKind, Version};
use quire_server::Limits;
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(
    a_sealed_chain_is_stored_and_each_device_gets_what_it_lacks,
    pages_hold_whole_chains_and_a_chain_longer_than_a_page_comes_alone,
    a_stale_base_is_a_conflict_and_the_device_fetches_the_whole_chain,
    a_snapshot_starts_the_chain_over_and_keeps_the_old_one_as_history,
    text_in_the_clear_is_refused_for_an_end_to_end_account_and_the_other_way_round,
    an_upgrade_takes_keys_at_the_head_only_then_each_note_leaves_the_clear_with_its_history,
);

const SENTINEL: &str = "sentinel-7f3a9c";

fn applied(result: &PushResult) -> u64 {
    result
        .applied_version()
        .unwrap_or_else(|| panic!("not applied: {result:?}"))
        .0
}

fn forms(note: &NoteState) -> Vec<(u64, SealedForm)> {
    note.sealed
        .as_ref()
        .unwrap()
        .iter()
        .map(|e| (e.version.0, e.form))
        .collect()
}

async fn a_sealed_chain_is_stored_and_each_device_gets_what_it_lacks(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    let note = NoteId(Uuid::now_v7());
    let first = NoteFields::new(format!("Title {SENTINEL}"), format!("{SENTINEL}\nmilk\n"));
    let second = NoteFields::new(first.title.clone(), format!("{SENTINEL}\nmilk\neggs\n"));

    let results = server
        .push(&token, vec![laptop.create(note, &first)])
        .await
        .results;
    assert_eq!(applied(&results[0]), 1);
    let after_create = server.pull(&token, 0, 100).await.next;
    let results = server
        .push(&token, vec![laptop.patch(note, (1, &first), &second)])
        .await
        .results;
    assert_eq!(applied(&results[0]), 2);

    // A new device gets the whole chain, and opens it.
    let all = server.pull_as(&token, phone.id, 0, 100).await;
    let [change] = all.changes.as_slice() else {
        panic!("{all:?}")
    };
    assert_eq!(
        (change.note.title.as_str(), change.note.body.as_str()),
        ("", "")
    );
    assert_eq!(
        forms(&change.note),
        [(1, SealedForm::Snapshot), (2, SealedForm::Patch)]
    );
    assert_eq!(phone.open(&change.note, None), second);

    // A device that has version 1 gets the patch alone: a few hundred bytes.
    let since = server.pull_as(&token, phone.id, after_create, 100).await;
    let [change] = since.changes.as_slice() else {
        panic!("{since:?}")
    };
    assert_eq!(forms(&change.note), [(2, SealedForm::Patch)]);
    let patch_bytes = change.note.sealed.as_ref().unwrap()[0].data.len();
    assert!(
        patch_bytes < 400,
        "{patch_bytes} bytes for a one-line patch"
    );
    assert_eq!(phone.open(&change.note, Some((Version(1), &first))), second);

    // The device that made both has them: it hears of its own change, without text.
    let own = server.pull_as(&token, laptop.id, 0, 100).await;
    assert!(own.changes.is_empty(), "{own:?}");
    assert_eq!(own.own.len(), 1);

    // The phone patches on the laptop's version; the laptop gets only the phone's patch.
    let third = NoteFields::new(first.title.clone(), format!("{}bread\n", second.body));
    let results = server
        .push(&token, vec![phone.patch(note, (2, &second), &third)])
        .await
        .results;
    assert_eq!(applied(&results[0]), 3);
    let laptops = server.pull_as(&token, laptop.id, 0, 100).await;
    assert_eq!(forms(&laptops.changes[0].note), [(3, SealedForm::Patch)]);
    assert_eq!(
        laptop.open(&laptops.changes[0].note, Some((Version(2), &second))),
        third
    );

    // The whole note, for a device whose base is lost.
    let whole: NoteState = server
        .get_with(&token, &format!("/notes/{note}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(whole.version, Version(3));
    assert_eq!(phone.open(&whole, None), third);

    // Nothing of the text is in the server's database.
    assert_no_sentinel(&server).await;
    server.stop().await;
}

/// A page is read as note rows joined with their entries, a row apiece, up to the page's
/// limit: the notes a page holds come with every entry a new device needs, whatever their
/// chains' lengths, and a note with more entries than the limit comes alone, whole.
async fn pages_hold_whole_chains_and_a_chain_longer_than_a_page_comes_alone(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    let text = |note: &str, lines: u64| {
        let body: String = (0..lines).map(|i| format!("{note} line {i}\n")).collect();
        NoteFields::new(format!("{note} {SENTINEL}"), body)
    };
    // In the log: b (one entry), then a (a create and three patches), then c (two).
    let mut expected = Vec::new();
    let mut after_a_made = None;
    for (name, patches) in [("b", 0_u64), ("a", 3), ("c", 1)] {
        let id = NoteId(Uuid::now_v7());
        let mut fields = text(name, 1);
        let results = server
            .push(&token, vec![laptop.create(id, &fields)])
            .await
            .results;
        assert_eq!(applied(&results[0]), 1);
        if name == "a" {
            after_a_made = Some((id, fields.clone(), server.pull(&token, 0, 1000).await.next));
        }
        for version in 1..=patches {
            let next = text(name, version + 1);
            let op = laptop.patch(id, (version, &fields), &next);
            let results = server.push(&token, vec![op]).await.results;
            assert_eq!(applied(&results[0]), version + 1);
            fields = next;
        }
        expected.push((id, patches + 1, fields));
    }

    for limit in [1, 2, 3, 4, 5, 1000] {
        let mut since = 0;
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let page = server.pull_as(&token, phone.id, since, limit).await;
            pages += 1;
            assert!(
                !page.changes.is_empty(),
                "limit {limit}: an empty page {page:?}"
            );
            for change in &page.changes {
                got.push((
                    change.note.id,
                    forms(&change.note).len() as u64,
                    phone.open(&change.note, None),
                ));
            }
            since = page.next;
            if !page.more {
                break;
            }
        }
        assert_eq!(got, expected, "limit {limit}");
        // Up to 5 rows a page (a limit of 4), a's four entries do not fit beside another
        // note's: it comes alone. Six rows hold b and a; c's first row tells a is whole.
        let want_pages = match limit {
            1..=4 => 3,
            5 => 2,
            _ => 1,
        };
        assert_eq!(pages, want_pages, "limit {limit}");
    }

    // From a cursor inside a's chain, a (alone, read on its own) brings only its patches.
    let (a, made, cursor) = after_a_made.unwrap();
    let page = server.pull_as(&token, phone.id, cursor, 1).await;
    let [change] = page.changes.as_slice() else {
        panic!("{page:?}")
    };
    assert_eq!(change.note.id, a);
    assert_eq!(
        forms(&change.note),
        [
            (2, SealedForm::Patch),
            (3, SealedForm::Patch),
            (4, SealedForm::Patch)
        ]
    );
    assert_eq!(
        phone.open(&change.note, Some((Version(1), &made))),
        expected[1].2
    );
    assert!(page.more, "c follows");
    server.stop().await;
}

/// Scans every text and byte column the server keeps for the sentinel.
async fn assert_no_sentinel(server: &TestServer) {
    for (table, columns) in [
        ("notes", "title || body"),
        ("note_history", "title || body"),
        ("applied_ops", "result"),
    ] {
        let found: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE ({columns}) LIKE $1"
        ))
        .bind(format!("%{SENTINEL}%"))
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        assert_eq!(found, 0, "the sentinel is in {table}");
    }
    let data: Vec<Vec<u8>> = sqlx::query_scalar("SELECT data FROM note_entries")
        .fetch_all(&server.db.pool)
        .await
        .unwrap();
    assert!(!data.is_empty());
    for bytes in data {
        assert!(
            !bytes
                .windows(SENTINEL.len())
                .any(|w| w == SENTINEL.as_bytes()),
            "the sentinel is in a sealed entry"
        );
    }
}

async fn a_stale_base_is_a_conflict_and_the_device_fetches_the_whole_chain(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let phone = Device::of(&server, "ada", 2).await;
    let note = NoteId(Uuid::now_v7());
    let first = NoteFields::new("t", "one\n");
    let laptops = NoteFields::new("t", "one\ntwo\n");
    let phones = NoteFields::new("t", "zero\none\n");
    server.push(&token, vec![laptop.create(note, &first)]).await;
    server
        .push(&token, vec![laptop.patch(note, (1, &first), &laptops)])
        .await;
    let results = server
        .push(&token, vec![phone.patch(note, (1, &first), &phones)])
        .await
        .results;
    match &results[0] {
        PushResult::Conflict {
            version, current, ..
        } => {
            assert_eq!(*version, Version(2));
            assert_eq!(*current, None, "no text in a sealed conflict answer");
        }
        other => panic!("{other:?}"),
    }
    let whole: NoteState = server
        .get_with(&token, &format!("/notes/{note}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(phone.open(&whole, None), laptops);
    server.stop().await;
}

async fn a_snapshot_starts_the_chain_over_and_keeps_the_old_one_as_history(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.sealed_account("ada").await;
    let laptop = Device::of(&server, "ada", 1).await;
    let note = NoteId(Uuid::now_v7());
    let mut text = NoteFields::new("t", "x".repeat(10_000));
    server.push(&token, vec![laptop.create(note, &text)]).await;
    for version in 1..5 {
        let next = NoteFields::new("t", format!("{}{version}\n", text.body));
        server
            .push(&token, vec![laptop.patch(note, (version, &text), &next)])
            .await;
        text = next;
    }
    let entries = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM note_entries")
            .fetch_one(&server.db.pool)
            .await
            .unwrap()
    };
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT stored_bytes FROM accounts")
            .fetch_one(&server.db.pool)
            .await
            .unwrap()
    };
    assert_eq!(entries().await, 5);
    let before = stored().await;
    let short = NoteFields::new("t", "short now");
    let results = server
        .push(&token, vec![laptop.snapshot(note, (5, &text), &short)])
        .await
        .results;
    assert_eq!(applied(&results[0]), 6);
    assert_eq!(entries().await, 6, "the replaced chain stays, as history");
    assert!(stored().await > before, "{} !> {before}", stored().await);
    // Pulls send the live chain only.
    let all = server.pull(&token, 0, 10).await;
    assert_eq!(forms(&all.changes[0].note), [(6, SealedForm::Snapshot)]);
    assert_eq!(laptop.open(&all.changes[0].note, None), short);
    server.stop().await;
}

async fn text_in_the_clear_is_refused_for_an_end_to_end_account_and_the_other_way_round(
    backend: Backend,
) {
    let limits = Limits {
        max_note_bytes: 16 * 1024,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    let sealed = server.sealed_account("ada").await;
    let clear = server.account("old").await;
    let ada = Device::of(&server, "ada", 1).await;
    let note = NoteId(Uuid::now_v7());
    let plain = create_op(note, SENTINEL, SENTINEL);
    let results = server.push(&sealed, vec![plain]).await.results;
    assert!(
        matches!(&results[0], PushResult::Rejected { reason, .. } if reason.contains("end-to-end")),
        "{results:?}"
    );
    let sealed_op = ada.create(note, &NoteFields::new("t", "b"));
    let results = server.push(&clear, vec![sealed_op]).await.results;
    assert!(
        matches!(&results[0], PushResult::Rejected { .. }),
        "{results:?}"
    );
    assert_eq!(server.count("notes").await, 0);
    assert_eq!(server.count("note_entries").await, 0);
    // An oversized sealed value is refused whole, before anything is judged.
    let mut huge = ada.create(NoteId(Uuid::now_v7()), &NoteFields::new("t", "b"));
    huge.sealed.as_mut().unwrap().data.0 = vec![0; 64 * 1024];
    let response = server
        .push_raw(&sealed, &serde_json::json!({"ops": [huge]}))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

/// The manifest an upgrade of the two-note account sends: as large as two notes allow.
/// (The server cannot open it; it only bounds it.)
const MANIFEST: [u8; 2 * 57 + 41] = [9; 2 * 57 + 41];

async fn upgrade(server: &TestServer, token: &str, password: &str, id: &str, cursor: u64) -> u16 {
    upgrade_with(server, token, (password, id, cursor), &MANIFEST).await
}

async fn upgrade_with(
    server: &TestServer,
    token: &str,
    (password, id, cursor): (&str, &str, u64),
    manifest: &[u8],
) -> u16 {
    let mut keys = common::keys_json(Uuid::now_v7());
    keys["account_id"] = serde_json::json!(id);
    let body = serde_json::json!({
        "password": password,
        "auth": "ab".repeat(32),
        "keys": keys,
        "cursor": cursor,
        "manifest": quire_core::protocol::SealedBytes(manifest.to_vec()),
    });
    let response = server
        .http
        .post(server.url("/accounts/current/upgrade"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn current(server: &TestServer, token: &str) -> AccountInfo {
    let response = server.get_with(token, "/accounts/current").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn stored_bytes(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT stored_bytes FROM accounts WHERE username = 'old'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

async fn an_upgrade_takes_keys_at_the_head_only_then_each_note_leaves_the_clear_with_its_history(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let laptop = server.account("old").await;
    let desktop = server.login("old").await;
    let (kept, deleted) = (NoteId(Uuid::now_v7()), NoteId(Uuid::now_v7()));
    let title = format!("{SENTINEL} title");
    let first = NoteFields::new(title.clone(), format!("{SENTINEL}\none\n"));
    let second = NoteFields::new(title.clone(), format!("{SENTINEL}\ntwo\n"));
    let third = NoteFields::new(title.clone(), format!("{SENTINEL}\nthree\n"));
    // As 0.1 stored them: in the clear, with the text a last-write-wins op replaced unseen
    // kept as history.
    let ops = vec![
        create_op(kept, &first.title, &first.body),
        create_op(deleted, &first.title, &first.body),
    ];
    server.push(&laptop, ops).await;
    let to_second = update_op(
        kept,
        at(1, &first.title, &first.body),
        &second.title,
        &second.body,
    );
    let results = server.push(&laptop, vec![to_second]).await.results;
    assert_eq!(applied(&results[0]), 2);
    let overwrite = PushOp {
        lww: true,
        ..update_op(
            kept,
            at(1, &first.title, &first.body),
            &third.title,
            &third.body,
        )
    };
    let results = server.push(&laptop, vec![overwrite]).await.results;
    assert_eq!(applied(&results[0]), 3);
    assert_eq!(server.count("note_history").await, 1);
    let before = stored_bytes(&server).await;

    let listing = server.get_with(&laptop, "/notes/unsealed").await;
    assert_eq!(
        listing.status(),
        StatusCode::CONFLICT,
        "a legacy account's notes come with pulls"
    );
    let info = current(&server, &laptop).await;
    assert_eq!(info.scheme, KeyScheme::Legacy);
    assert_eq!(info.username, "old");
    let id = info.account_id.to_string();
    let head = server.pull(&laptop, 0, 100).await.head;
    assert_eq!(upgrade(&server, &laptop, "wrong", &id, head).await, 403);
    let elsewhere = Uuid::now_v7().to_string();
    assert_eq!(
        upgrade(&server, &laptop, PASSWORD, &elsewhere, head).await,
        409
    );
    assert_eq!(
        upgrade(&server, &laptop, PASSWORD, &id, head - 1).await,
        409,
        "pull first"
    );
    assert_eq!(current(&server, &laptop).await.scheme, KeyScheme::Legacy);
    let too_large = [9; MANIFEST.len() + 1];
    assert_eq!(
        upgrade_with(&server, &laptop, (PASSWORD, &id, head), &too_large).await,
        400,
        "a manifest holds the account's notes, nothing more"
    );
    assert_eq!(
        server
            .get_with(&laptop, "/accounts/current/upgrade-manifest")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(upgrade(&server, &laptop, PASSWORD, &id, head).await, 204);
    let stored_manifest: UpgradeManifest = server
        .get_with(&laptop, "/accounts/current/upgrade-manifest")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored_manifest.manifest.0, MANIFEST.to_vec());
    assert_eq!(
        upgrade(&server, &laptop, PASSWORD, &id, head).await,
        409,
        "once"
    );
    assert_eq!(current(&server, &laptop).await.scheme, KeyScheme::E2eV1);
    let works = |token: String| {
        let server = &server;
        async move {
            server
                .get_with(&token, "/sync/pull?since=0&limit=1")
                .await
                .status()
                == StatusCode::OK
        }
    };
    assert!(works(laptop.clone()).await, "the upgrading session goes on");
    assert!(!works(desktop).await, "every other session ended");
    // The notes still in the clear are not sent to a device of an end-to-end account, and
    // while the upgrading device may still be sealing them, nobody is asked to.
    let page = server.pull(&laptop, 0, 100).await;
    assert!(page.changes.is_empty());
    assert!(!page.unsealed);
    // Once it has made no progress for long enough, pulls ask for them to be sealed, and
    // they are listed in the clear, a page at a time, to this account only.
    an_hour_passes(&server).await;
    assert!(server.pull(&laptop, 0, 100).await.unsealed);
    let first_page = unsealed_page(&server, &laptop, "?limit=1").await;
    assert!(first_page.more);
    let after = first_page.notes[0].id;
    let rest = unsealed_page(&server, &laptop, &format!("?after={after}&limit=1")).await;
    assert!(!rest.more);
    let mut listed: Vec<NoteState> = first_page.notes.into_iter().chain(rest.notes).collect();
    listed.sort_by_key(|note| note.id != kept);
    assert_eq!(
        listed
            .iter()
            .map(|n| (n.id, n.version.0, n.body.as_str(), n.sealed.is_none()))
            .collect::<Vec<_>>(),
        vec![
            (kept, 3, third.body.as_str(), true),
            (deleted, 1, first.body.as_str(), true)
        ]
    );
    for bad in ["?limit=0", "?limit=1001", "?after=nope", "?since=1"] {
        let answer = server
            .get_with(&laptop, &format!("/notes/unsealed{bad}"))
            .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let stranger = server.sealed_account("stranger").await;
    assert!(unsealed_page(&server, &stranger, "").await.notes.is_empty());
    // Plain text is refused now; a sealed patch has nothing sealed to go on: whole, please.
    let plain = update_op(kept, at(3, &third.title, &third.body), "t", "b");
    let results = server.push(&laptop, vec![plain]).await.results;
    assert!(
        matches!(results[0], PushResult::Rejected { .. }),
        "{results:?}"
    );
    let device = Device::of(&server, "old", 1).await;
    let next = NoteFields::new(title.clone(), format!("{SENTINEL}\nthree\nand four\n"));
    let patch = device.patch(kept, (3, &third), &next);
    let results = server.push(&laptop, vec![patch]).await.results;
    assert!(
        matches!(
            results[0],
            PushResult::NeedFullText {
                current_version: Version(3),
                ..
            }
        ),
        "{results:?}"
    );
    let snapshot = device.snapshot(kept, (3, &third), &third);
    let mut delete = device.op(deleted, OpKind::Delete, Some(1));
    delete = device.seal(delete, Some(&first));
    let results = server.push(&laptop, vec![snapshot, delete]).await.results;
    assert_eq!(applied(&results[0]), 4);
    assert_eq!(applied(&results[1]), 2);
    // Both left the clear: no plain text, no plain history, and the room they took freed.
    assert_eq!(server.count("note_history").await, 0);
    assert_no_sentinel(&server).await;
    assert!(stored_bytes(&server).await < before);
    let pulled = server.pull(&laptop, 0, 100).await;
    assert_eq!(pulled.changes.len(), 2);
    // Sealing them was progress: pulls wait again; once that wait is over, nothing is left
    // in the clear, so the account's mark goes and pulls stop looking.
    assert!(!pulled.unsealed);
    assert!(unsealed_page(&server, &laptop, "").await.notes.is_empty());
    an_hour_passes(&server).await;
    assert!(!server.pull(&laptop, 0, 100).await.unsealed);
    let mark: Option<i64> =
        sqlx::query_scalar("SELECT upgrade_progress_at FROM accounts WHERE username = 'old'")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(mark, None);
    assert_eq!(
        server
            .get_with(&laptop, "/accounts/current/upgrade-manifest")
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "the manifest goes with the mark"
    );
    for change in &pulled.changes {
        let opened = device.open(&change.note, None);
        if change.note.id == kept {
            assert_eq!(opened, third);
        } else {
            assert!(change.note.deleted);
        }
    }
    server.stop().await;
}

/// As if an hour passed since a note of the upgraded account last left the clear.
async fn an_hour_passes(server: &TestServer) {
    sqlx::query("UPDATE accounts SET upgrade_progress_at = upgrade_progress_at - 3600000")
        .execute(&server.db.pool)
        .await
        .unwrap();
}

async fn unsealed_page(server: &TestServer, token: &str, query: &str) -> UnsealedPage {
    let answer = server
        .get_with(token, &format!("/notes/unsealed{query}"))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.unwrap()
}
