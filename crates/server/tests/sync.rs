//! Accounts, push and pull over real HTTP, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    at, create_op, delete_op, new_account_json, new_note, update_op, Backend, TestServer, PASSWORD,
};
use quire_core::patch::{Edit, Patch};
use quire_core::protocol::PushResult;
use quire_core::{TextHash, Version};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    accounts_register_log_in_and_out,
    a_note_is_created_changed_deleted_and_pulled,
    a_replayed_op_gets_the_same_answer_and_changes_nothing,
    a_stale_base_is_a_conflict_and_last_write_wins_keeps_history,
    an_edit_brings_a_deleted_note_back,
    patches_apply_against_their_base_only,
    one_invalid_op_never_blocks_the_others,
    ops_of_one_batch_build_on_each_other,
    accounts_never_see_each_others_notes,
    pull_pages_through_the_change_log,
    a_device_is_not_sent_back_its_own_changes,
    a_page_lists_at_most_ten_thousand_own_changes,
    a_page_cut_by_its_limit_leaves_no_change_behind,
    compressed_requests_and_responses_work,
    the_openapi_document_describes_every_endpoint,
    integers_are_read_as_json_schema_reads_them,
);

fn applied_version(result: &PushResult) -> u64 {
    match result {
        PushResult::Applied { version, .. } => version.0,
        other => panic!("expected applied, got {other:?}"),
    }
}

async fn accounts_register_log_in_and_out(backend: Backend) {
    let server = TestServer::start(backend).await;
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    let again = server
        .http
        .post(server.url("/accounts"))
        .json(&new_account_json("ada", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.headers()["content-type"], "application/problem+json");

    let wrong = server
        .http
        .post(server.url("/sessions"))
        .json(&serde_json::json!({"username": "ada", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let token = server.login("ada").await;
    assert_eq!(token.len(), 64, "256 random bits, hex");
    // The token is stored only as a hash.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_ne!(stored, token);

    assert!(server.pull(&token, 0, 10).await.changes.is_empty());
    let logout = server
        .http
        .delete(server.url("/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = server.get_with(&token, "/sync/pull").await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn a_note_is_created_changed_deleted_and_pulled(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("bo").await;
    let note = new_note();
    let results = server
        .push(
            &token,
            vec![
                create_op(note, "Plan", "one"),
                update_op(note, at(1, "Plan", "one"), "Plan", "one\ntwo"),
            ],
        )
        .await
        .results;
    assert_eq!(
        results.iter().map(applied_version).collect::<Vec<_>>(),
        [1, 2]
    );

    let notes = server.pull_all(&token).await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body, "one\ntwo");
    assert_eq!(notes[0].version, Version(2));

    let deleted = server
        .push(&token, vec![delete_op(note, at(2, "Plan", "one\ntwo"))])
        .await
        .results;
    assert_eq!(applied_version(&deleted[0]), 3);
    let notes = server.pull_all(&token).await;
    assert!(notes[0].deleted, "a delete syncs as a tombstone");
    server.stop().await;
}

async fn a_replayed_op_gets_the_same_answer_and_changes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("cy").await;
    let note = new_note();
    let create = create_op(note, "Once", "only once");
    let first = server.push(&token, vec![create.clone()]).await.results;
    let seq_before = server.pull(&token, 0, 10).await.next;

    let replay = server
        .push(&token, vec![create.clone(), create])
        .await
        .results;
    for result in &replay {
        match result {
            PushResult::Duplicate { original, .. } => assert_eq!(**original, first[0]),
            other => panic!("expected duplicate, got {other:?}"),
        }
    }
    let page = server.pull(&token, 0, 10).await;
    assert_eq!(page.changes.len(), 1);
    assert_eq!(
        page.next, seq_before,
        "a replay adds nothing to the change log"
    );
    assert_eq!(page.changes[0].note.version, Version(1));
    server.stop().await;
}

async fn a_stale_base_is_a_conflict_and_last_write_wins_keeps_history(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("di").await;
    let note = new_note();
    server
        .push(&token, vec![create_op(note, "T", "base")])
        .await;
    server
        .push(
            &token,
            vec![update_op(note, at(1, "T", "base"), "T", "from laptop")],
        )
        .await;

    // A second device still on version 1.
    let stale = server
        .push(
            &token,
            vec![update_op(note, at(1, "T", "base"), "T", "from phone")],
        )
        .await
        .results;
    match &stale[0] {
        PushResult::Conflict {
            current: Some(current),
            ..
        } => {
            assert_eq!(current.body, "from laptop");
            assert_eq!(current.version, Version(2));
        }
        other => panic!("expected conflict, got {other:?}"),
    }

    let mut lww = update_op(note, at(1, "T", "base"), "T", "phone wins");
    lww.lww = true;
    let won = server.push(&token, vec![lww]).await.results;
    assert_eq!(applied_version(&won[0]), 3);
    assert_eq!(server.pull_all(&token).await[0].body, "phone wins");
    // The overwritten text is kept.
    let kept: String = sqlx::query_scalar("SELECT body FROM note_history WHERE version = 2")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, "from laptop");
    server.stop().await;
}

async fn an_edit_brings_a_deleted_note_back(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("ed").await;
    let note = new_note();
    server.push(&token, vec![create_op(note, "T", "x")]).await;
    server
        .push(&token, vec![delete_op(note, at(1, "T", "x"))])
        .await;
    let back = server
        .push(
            &token,
            vec![update_op(note, at(2, "T", "x"), "T", "still needed")],
        )
        .await
        .results;
    assert_eq!(applied_version(&back[0]), 3);
    let notes = server.pull_all(&token).await;
    assert!(!notes[0].deleted);
    assert_eq!(notes[0].body, "still needed");
    server.stop().await;
}

async fn patches_apply_against_their_base_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("fa").await;
    let note = new_note();
    server
        .push(&token, vec![create_op(note, "T", "hello world")])
        .await;

    let mut patched = update_op(note, at(1, "T", "hello world"), "T", "");
    patched.body = None;
    patched.patch = Some(Patch(vec![
        Edit::Keep(6),
        Edit::Delete(5),
        Edit::Insert("there".into()),
    ]));
    let results = server.push(&token, vec![patched.clone()]).await.results;
    assert_eq!(applied_version(&results[0]), 2);
    assert_eq!(server.pull_all(&token).await[0].body, "hello there");

    // The same patch again, as last-write-wins on a base that has moved: send the full text.
    let mut stale = patched.clone();
    stale.op_id = quire_core::OpId(common::new_id());
    stale.lww = true;
    match &server.push(&token, vec![stale]).await.results[0] {
        PushResult::NeedFullText {
            current_version, ..
        } => assert_eq!(*current_version, Version(2)),
        other => panic!("expected need_full_text, got {other:?}"),
    }

    // A patch that does not fit its base asks for the full text, and the note is untouched.
    let mut misfit = patched;
    misfit.op_id = quire_core::OpId(common::new_id());
    misfit.base_version = Some(Version(2));
    misfit.base_hash = Some(TextHash::of("T", "hello there"));
    misfit.patch = Some(Patch(vec![Edit::Keep(3), Edit::Insert("!".into())]));
    match &server.push(&token, vec![misfit]).await.results[0] {
        PushResult::NeedFullText {
            current_version, ..
        } => assert_eq!(*current_version, Version(2)),
        other => panic!("expected need_full_text, got {other:?}"),
    }
    assert_eq!(server.pull_all(&token).await[0].body, "hello there");
    server.stop().await;
}

async fn one_invalid_op_never_blocks_the_others(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("gi").await;
    let (a, b, c) = (new_note(), new_note(), new_note());
    let mut no_title = create_op(b, "", "body");
    no_title.title = None;
    let results = server
        .push(
            &token,
            vec![
                create_op(a, "A", "a"),
                no_title,
                update_op(new_note(), at(1, "ghost", ""), "ghost", "no such note"),
                create_op(c, "C", "c"),
            ],
        )
        .await
        .results;
    assert!(matches!(results[0], PushResult::Applied { .. }));
    assert!(matches!(results[1], PushResult::Rejected { .. }));
    assert!(matches!(results[2], PushResult::Rejected { .. }));
    assert!(matches!(results[3], PushResult::Applied { .. }));
    let titles: Vec<_> = server
        .pull_all(&token)
        .await
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(titles, ["A", "C"]);
    server.stop().await;
}

/// A batch is one transaction on the server: later ops see what earlier ones wrote, a
/// replay inside the batch is found, and every applied op gets its own place in the log.
async fn ops_of_one_batch_build_on_each_other(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("jo").await;
    let note = new_note();
    let create = create_op(note, "Draft", "one");
    let results = server
        .push(
            &token,
            vec![
                create.clone(),
                update_op(note, at(1, "Draft", "one"), "Draft", "one two"),
                create,
                update_op(note, at(1, "Draft", "one"), "Draft", "stale"),
                update_op(note, at(2, "Draft", "one two"), "Final", "one two three"),
            ],
        )
        .await
        .results;
    assert_eq!(applied_version(&results[0]), 1);
    assert_eq!(applied_version(&results[1]), 2);
    assert!(matches!(results[2], PushResult::Duplicate { .. }));
    assert!(matches!(results[3], PushResult::Conflict { .. }));
    assert_eq!(applied_version(&results[4]), 3);
    let first = server.pull(&token, 0, 10).await;
    assert_eq!(first.changes.len(), 1, "one note, at its last version");
    assert_eq!(first.changes[0].note.body, "one two three");

    let other = new_note();
    server
        .push(&token, vec![create_op(other, "Next", "")])
        .await;
    let later = server.pull(&token, first.next, 10).await;
    assert_eq!(later.changes.len(), 1);
    assert_eq!(
        later.changes[0].seq,
        first.next + 1,
        "the next batch's change comes right after the last one in the log"
    );
    server.stop().await;
}

async fn accounts_never_see_each_others_notes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let alice = server.account("alice").await;
    let mallory = server.account("mallory").await;
    let note = new_note();
    server
        .push(&alice, vec![create_op(note, "Diary", "secret")])
        .await;

    assert!(server.pull_all(&mallory).await.is_empty());
    let attempts = server
        .push(
            &mallory,
            vec![
                update_op(note, at(1, "Diary", "secret"), "Diary", "defaced"),
                delete_op(note, at(1, "Diary", "secret")),
            ],
        )
        .await
        .results;
    for result in attempts {
        match result {
            PushResult::Rejected { reason, .. } => assert!(reason.contains("no note with this id")),
            other => panic!("expected rejected, got {other:?}"),
        }
    }
    let notes = server.pull_all(&alice).await;
    assert_eq!(notes[0].body, "secret");
    assert_eq!(notes[0].version, Version(1));
    server.stop().await;
}

async fn pull_pages_through_the_change_log(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("hu").await;
    let ops: Vec<_> = (0..25)
        .map(|i| create_op(new_note(), &format!("n{i}"), ""))
        .collect();
    server.push(&token, ops).await;

    let mut since = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = server.pull(&token, since, 10).await;
        pages += 1;
        assert!(page.changes.windows(2).all(|w| w[0].seq < w[1].seq));
        seen.extend(page.changes.iter().map(|c| c.note.title.clone()));
        since = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    // Nothing new: the same cursor comes back, with nothing more.
    let idle = server.pull(&token, since, 10).await;
    assert!(idle.changes.is_empty() && !idle.more && idle.next == since);
    server.stop().await;
}

async fn compressed_requests_and_responses_work(backend: Backend) {
    use std::io::Write;
    let server = TestServer::start(backend).await;
    let token = server.account("jo").await;
    let body = serde_json::to_vec(&quire_core::protocol::PushRequest {
        ops: vec![create_op(new_note(), "zipped", &"text ".repeat(1000))],
    })
    .unwrap();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).unwrap();
    let gzipped = gz.finish().unwrap();
    let zstded = zstd::encode_all(&body[..], 3).unwrap();
    assert!(gzipped.len() < body.len() / 10);

    for (encoding, bytes) in [("gzip", gzipped), ("zstd", zstded)] {
        let response = server
            .http
            .post(server.url("/sync/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{encoding}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["results"][0]["status"] == "applied"
                || answer["results"][0]["status"] == "duplicate"
        );
    }

    // Responses are compressed for clients that accept it.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_zstd()
        .build()
        .unwrap();
    let response = raw
        .get(server.url("/sync/pull"))
        .bearer_auth(&token)
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "zstd");
    let decoded = zstd::decode_all(&response.bytes().await.unwrap()[..]).unwrap();
    let page: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(page["changes"][0]["note"]["title"], "zipped");
    server.stop().await;
}

async fn the_openapi_document_describes_every_endpoint(backend: Backend) {
    let server = TestServer::start(backend).await;
    let doc: Value = server
        .http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for (path, method) in [
        ("/v1/health", "get"),
        ("/v1/accounts", "post"),
        ("/v1/sessions", "post"),
        ("/v1/sessions/current", "delete"),
        ("/v1/sync/push", "post"),
        ("/v1/sync/pull", "get"),
        ("/v1/notes/{id}", "get"),
        ("/v1/accounts/{username}/kdf", "get"),
        ("/v1/accounts/current/password", "put"),
        ("/v1/recovery/key", "post"),
        ("/v1/recovery/password", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        // What any request can be answered, whatever its handler.
        for status in ["408", "413", "415", "503"] {
            assert_eq!(
                operation["responses"][status]["content"]["application/problem+json"]["schema"]
                    ["$ref"],
                "#/components/schemas/Problem",
                "{method} {path} {status}"
            );
        }
    }
    // The bounds the server enforces (schemathesis holds the server to them).
    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name} on {path}"))
            .clone()
    };
    let limit = param("/v1/sync/pull", "limit");
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&1.into(), &1000.into())
    );
    let since = param("/v1/sync/pull", "since");
    assert_eq!(since["schema"]["maximum"], i64::MAX);
    let id = param("/v1/notes/{id}", "id");
    assert_eq!(id["schema"]["$ref"], "#/components/schemas/NoteId");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["NoteId"]["format"], "uuid");
    assert_eq!(
        schemas["PushOp"]["properties"]["clock"]["maximum"],
        i64::MAX
    );
    assert_eq!(schemas["Version"]["maximum"], i64::MAX);
    assert_eq!(schemas["TextHash"]["pattern"], "^[0-9a-f]{64}$");
    assert_eq!(
        schemas["NewAccount"]["properties"]["password"]["maxLength"],
        64
    );
    for operation in [
        &doc["paths"]["/v1/accounts"]["post"],
        &doc["paths"]["/v1/sessions"]["post"],
        &doc["paths"]["/v1/accounts/current/password"]["put"],
        &doc["paths"]["/v1/recovery/key"]["post"],
        &doc["paths"]["/v1/recovery/password"]["post"],
    ] {
        let retry_after = &operation["responses"]["429"]["headers"]["Retry-After"];
        assert_eq!(retry_after["schema"]["type"], "integer", "{operation}");
    }
    for schema in [
        "PushOp",
        "PushRequest",
        "PushResult",
        "PullResponse",
        "NoteState",
        "Problem",
        "Patch",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "no schema {schema}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The push op's documented fields are the ones the server reads.
    let op = &doc["components"]["schemas"]["PushOp"]["properties"];
    for field in [
        "op_id",
        "note_id",
        "kind",
        "title",
        "body",
        "patch",
        "base_version",
        "device_id",
        "clock",
        "lww",
    ] {
        assert!(
            op[field].is_object(),
            "PushOp.{field} is not documented: {op}"
        );
    }
    server.stop().await;
}

/// JSON Schema, which the OpenAPI document speaks, counts `3.0` and `1e1` as integers:
/// the server reads them as such (schemathesis sent `"clock": 5472.0` and got 400), and
/// still refuses a fraction.
async fn integers_are_read_as_json_schema_reads_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("floats").await;
    let note = new_note();
    let mut op = serde_json::to_value(create_op(note, "t", "b")).unwrap();
    op["clock"] = serde_json::json!(5472.0);
    let mut edit = serde_json::to_value(update_op(note, at(1, "t", "b"), "t", "")).unwrap();
    edit["base_version"] = serde_json::json!(1.0);
    edit["clock"] = serde_json::json!(1e1);
    edit["body"] = Value::Null;
    edit["patch"] = serde_json::json!([{"keep": 0.0}, {"delete": 1.0}]);
    let response = server
        .push_raw(&token, &serde_json::json!({ "ops": [op, edit] }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    assert_eq!(answer["results"][1]["status"], "applied", "{answer}");
    assert_eq!(server.pull_all(&token).await[0].body, "");
    server.stop().await;
}

/// Own changes count apart from `limit`, but not without end: a page lists at most
/// 10,000 of them, and the cursor stops after the last one listed.
async fn a_page_lists_at_most_ten_thousand_own_changes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("prolific").await;
    let laptop = quire_core::DeviceId(common::new_id());
    let ops: Vec<_> = (0..10_001)
        .map(|_| {
            let mut op = create_op(new_note(), "t", "");
            op.device_id = laptop;
            op
        })
        .collect();
    for batch in ops.chunks(1000) {
        server.push(&token, batch.to_vec()).await;
    }
    let first = server.pull_as(&token, laptop, 0, 1).await;
    assert_eq!(first.own.len(), 10_000);
    assert!(first.changes.is_empty());
    assert_eq!((first.next, first.more), (10_000, true));
    let second = server.pull_as(&token, laptop, 10_000, 1).await;
    assert_eq!(second.own.len(), 1);
    assert_eq!((second.next, second.more), (10_001, false));
    server.stop().await;
}

/// Own changes and others' interleaved, pages cut by `limit`: walking the cursor lists each
/// change exactly once, in order, whichever list filled first.
async fn a_page_cut_by_its_limit_leaves_no_change_behind(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("interleaved").await;
    let laptop = quire_core::DeviceId(common::new_id());
    let phone = quire_core::DeviceId(common::new_id());
    // Change seqs 1..=6: phone, laptop, phone, laptop, laptop, phone.
    let mut expected_others = Vec::new();
    let mut expected_own = Vec::new();
    for device in [phone, laptop, phone, laptop, laptop, phone] {
        let note = new_note();
        let mut op = create_op(note, "t", "");
        op.device_id = device;
        server.push(&token, vec![op]).await;
        match device == laptop {
            true => expected_own.push(note),
            false => expected_others.push(note),
        }
    }
    for limit in [1, 2, 1000] {
        let (mut others, mut own, mut since, mut pages) = (Vec::new(), Vec::new(), 0, 0);
        loop {
            let page = server.pull_as(&token, laptop, since, limit).await;
            pages += 1;
            for change in &page.changes {
                others.push(change.note.id);
                assert!(change.seq <= page.next);
            }
            own.extend(page.own.iter().map(|mine| mine.id));
            assert!(page.next > since || !page.more);
            since = page.next;
            if !page.more {
                break;
            }
            assert!(pages < 10, "{page:?}");
        }
        assert_eq!(others, expected_others, "limit {limit}");
        assert_eq!(own, expected_own, "limit {limit}");
        assert_eq!(since, 6, "limit {limit}");
        let expected_pages = match limit {
            1 => 3,
            2 => 2,
            _ => 1,
        };
        assert_eq!(pages, expected_pages, "limit {limit}");
    }
    server.stop().await;
}

async fn a_device_is_not_sent_back_its_own_changes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("own").await;
    let laptop = quire_core::DeviceId(common::new_id());
    let phone = quire_core::DeviceId(common::new_id());
    let (mine, theirs) = (new_note(), new_note());
    let mut from_laptop = create_op(mine, "laptop's", "");
    from_laptop.device_id = laptop;
    let mut from_phone = create_op(theirs, "phone's", "");
    from_phone.device_id = phone;
    server.push(&token, vec![from_laptop, from_phone]).await;

    let pull_as = |device: quire_core::DeviceId| {
        let path = format!("/sync/pull?since=0&limit=1&device={device}");
        let request = server.http.get(server.url(&path)).bearer_auth(&token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // The laptop's own change comes as its id and version without the text, so the laptop
    // can check it holds it, and counts apart from `limit`: with a limit of 1 the page still
    // holds the phone's change, and the cursor moves past both.
    let page = pull_as(laptop).await;
    assert_eq!(page["changes"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["changes"][0]["note"]["title"], "phone's");
    assert_eq!(
        page["own"],
        serde_json::json!([{"id": mine.to_string(), "version": 1}])
    );
    assert_eq!(
        (
            page["next"].as_u64(),
            page["more"].as_bool(),
            page["head"].as_u64()
        ),
        (Some(2), Some(false), Some(2))
    );
    let page = pull_as(phone).await;
    assert_eq!(page["changes"][0]["note"]["title"], "laptop's");

    let everything = server.pull_all(&token).await;
    assert_eq!(everything.len(), 2, "without a device, every change comes");
    server.stop().await;
}
