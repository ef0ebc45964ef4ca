//! Bad input, table-driven: each case gets the right status and a problem body (or, for
//! a bad op inside a good request, a `rejected` / `duplicate` result), nothing is stored,
//! and the server stays healthy. On SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use common::{
    at, create_op, delete_op, new_account_json, new_note, update_op, Backend, TestServer, PASSWORD,
};
use quire_core::patch::{Edit, Patch};
use quire_core::protocol::PushRequest;
use quire_core::{NoteId, OpId};
use quire_server::Limits;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

on_both_backends!(every_bad_request_is_refused_cleanly);

fn limits() -> Limits {
    Limits {
        max_body_bytes: 64 * 1024,
        max_batch_ops: 10,
        max_note_bytes: 16 * 1024,
        ..Limits::default()
    }
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This status with an `application/problem+json` body.
    Problem(u16),
    /// 200, and the one op in the request is answered with this result status.
    Op(&'static str),
}

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    token: Option<String>,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    expect: Expect,
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn push_bytes(ops: Vec<quire_core::protocol::PushOp>) -> Vec<u8> {
    serde_json::to_vec(&PushRequest { ops }).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A push op as JSON, with one field replaced, for wrong-type and unknown-field cases.
fn op_json_with(field: &str, value: Value) -> Vec<u8> {
    let mut op = serde_json::to_value(create_op(new_note(), "t", "b")).unwrap();
    op[field] = value;
    json_bytes(&json!({ "ops": [op] }))
}

/// `value` with the field at `path` set to `to`.
fn with_field(mut value: Value, path: &[&str], to: Value) -> Value {
    let mut at = &mut value;
    for key in path {
        at = &mut at[*key];
    }
    *at = to;
    value
}

/// An upgrade's body with well-formed keys for `account_id`.
fn upgrade_json(account_id: Uuid) -> Value {
    json!({
        "password": PASSWORD,
        "auth": "ab".repeat(32),
        "keys": common::keys_json(account_id),
        "cursor": 0,
        "manifest": "",
    })
}

/// A password change from `old` to a well-formed new password.
fn password_change_json(old: &str) -> Value {
    json!({
        "old_password": old,
        "new": {
            "password": "66".repeat(32),
            "salt": "77".repeat(16),
            "kdf": {"memory_kib": 65536, "iterations": 3, "parallelism": 1},
            "wrapped_key": "88".repeat(73),
        },
    })
}

/// Counts of everything a request could have stored.
async fn stored(server: &TestServer) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "accounts",
        "sessions",
        "notes",
        "applied_ops",
        "note_history",
    ] {
        counts.push(server.count(table).await);
    }
    let version_sum: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM notes")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    counts.push(version_sum);
    // Every account's keys and password hash: a refused password change changes no count.
    let keys: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT password_hash, wrapped_key, kdf_salt FROM accounts ORDER BY username",
    )
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    let digest = Sha256::digest(format!("{keys:?}").as_bytes());
    counts.push(i64::from_le_bytes(digest[..8].try_into().unwrap()));
    counts
}

async fn every_bad_request_is_refused_cleanly(backend: Backend) {
    let server = TestServer::start_with(backend, limits()).await;
    let alice = server.account("alice").await;
    let bob = server.account("bob").await;
    // An end-to-end account, for the requests only such an account can make.
    let erin = Some(server.sealed_account("erin").await);
    let alices_note = new_note();
    let first = create_op(alices_note, "Alice's", "private text");
    server.push(&alice, vec![first.clone()]).await;
    server
        .push(&bob, vec![create_op(new_note(), "Bob's", "")])
        .await;

    // A signed-out token, and an expired one planted directly.
    let revoked = server.login("alice").await;
    server
        .http
        .delete(server.url("/sessions/current"))
        .bearer_auth(&revoked)
        .send()
        .await
        .unwrap();
    let expired = "e".repeat(64);
    let alice_id: String = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'alice'")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hex::encode(Sha256::digest(expired.as_bytes())))
        .bind(&alice_id)
        .bind(0_i64)
        .bind(1_i64)
        .execute(&server.db.pool)
        .await
        .unwrap();

    let json_ct = vec![("content-type", "application/json")];
    let auth = Some(alice.clone());
    let push = |name, body: Vec<u8>, expect| Case {
        name,
        method: Method::POST,
        path: "/sync/push",
        token: auth.clone(),
        headers: json_ct.clone(),
        body,
        expect,
    };
    let pull = |name, path, token: Option<String>, expect| Case {
        name,
        method: Method::GET,
        path,
        token,
        headers: vec![],
        body: vec![],
        expect,
    };
    let post = |name, path, body: Vec<u8>, expect| Case {
        name,
        method: Method::POST,
        path,
        token: None,
        headers: json_ct.clone(),
        body,
        expect,
    };
    let with_headers = |mut case: Case, headers: Vec<(&'static str, &'static str)>| {
        case.headers = headers;
        case
    };
    let with_token = |mut case: Case, token: Option<String>| {
        case.token = token;
        case
    };
    let ok_push = || push_bytes(vec![create_op(new_note(), "fine", "fine")]);
    let big_text = "x".repeat(20 * 1024);
    let bomb = vec![b' '; 8 * 1024 * 1024];
    let alices_base = at(1, "Alice's", "private text");
    let mut patch_op = update_op(alices_note, alices_base, "Alice's", "");
    patch_op.body = None;
    patch_op.patch = Some(Patch(vec![Edit::Keep(2), Edit::Insert("?".into())]));
    let mut huge_patch = patch_op.clone();
    huge_patch.op_id = OpId(common::new_id());
    huge_patch.patch = Some(Patch(vec![Edit::Keep(12), Edit::Insert(big_text.clone())]));
    // The right version and length, another text: the length check alone let this in.
    let mut same_length_patch = patch_op.clone();
    same_length_patch.op_id = OpId(common::new_id());
    same_length_patch.base_hash = Some(quire_core::TextHash::of("Alice's", "public texts"));
    same_length_patch.patch = Some(Patch(vec![Edit::Delete(7), Edit::Keep(5)]));
    let mut stale_patch = patch_op.clone();
    stale_patch.op_id = OpId(common::new_id());
    stale_patch.base_version = Some(quire_core::Version(7));
    stale_patch.lww = true;
    let mut nul_title = create_op(new_note(), "a\0b", "");
    nul_title.title = Some("a\0b".into());

    let cases = vec![
        // Malformed and mistyped JSON.
        push(
            "truncated JSON",
            b"{\"ops\": [".to_vec(),
            Expect::Problem(400),
        ),
        push("not an object", b"[]".to_vec(), Expect::Problem(400)),
        push(
            "ops is not a list",
            b"{\"ops\": 5}".to_vec(),
            Expect::Problem(400),
        ),
        push("ops is missing", b"{}".to_vec(), Expect::Problem(400)),
        push(
            "clock is a string",
            op_json_with("clock", json!("soon")),
            Expect::Problem(400),
        ),
        push(
            "unknown op kind",
            op_json_with("kind", json!("rename")),
            Expect::Problem(400),
        ),
        push(
            "unknown op field",
            op_json_with("colour", json!("red")),
            Expect::Problem(400),
        ),
        push(
            "op id is not a uuid",
            op_json_with("op_id", json!("12")),
            Expect::Problem(400),
        ),
        push(
            "negative base version",
            op_json_with("base_version", json!(-1)),
            Expect::Problem(400),
        ),
        // Counts are 0 to 2^63 - 1, as the OpenAPI document says (schemathesis found these
        // answered 200 past it).
        push(
            "base version past i64",
            op_json_with("base_version", json!(9_223_372_036_854_775_808_u64)),
            Expect::Problem(400),
        ),
        push(
            "clock past i64",
            op_json_with("clock", json!(9_223_372_036_854_775_808_u64)),
            Expect::Problem(400),
        ),
        push(
            "clock with a fraction",
            op_json_with("clock", json!(1.5)),
            Expect::Problem(400),
        ),
        push(
            "patch offset past i64",
            op_json_with("patch", json!([{"keep": 9_223_372_036_854_775_808_u64}])),
            Expect::Problem(400),
        ),
        push(
            "patch step with two keys",
            op_json_with("patch", json!([{"keep": 1, "insert": "x"}])),
            Expect::Problem(400),
        ),
        push(
            "invalid UTF-8",
            b"{\"ops\": [\"\xff\xfe\"]}".to_vec(),
            Expect::Problem(400),
        ),
        push("empty body", vec![], Expect::Problem(400)),
        with_headers(
            push("no content type", ok_push(), Expect::Problem(415)),
            vec![],
        ),
        with_headers(
            push("text/plain", ok_push(), Expect::Problem(415)),
            vec![("content-type", "text/plain")],
        ),
        // Limits.
        push(
            "body over the limit",
            json_bytes(&json!({"ops": [], "pad": "y".repeat(70 * 1024)})),
            Expect::Problem(413),
        ),
        push(
            "too many ops",
            push_bytes((0..11).map(|_| create_op(new_note(), "n", "")).collect()),
            Expect::Problem(413),
        ),
        push(
            "note over the limit",
            push_bytes(vec![
                create_op(new_note(), "fine", "ok"),
                create_op(new_note(), "big", &big_text),
            ]),
            Expect::Problem(413),
        ),
        push(
            "patch over the limit",
            push_bytes(vec![huge_patch]),
            Expect::Problem(413),
        ),
        with_headers(
            push("gzip bomb", gzip(&bomb), Expect::Problem(413)),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        ),
        with_headers(
            push(
                "zstd bomb",
                zstd::encode_all(&bomb[..], 19).unwrap(),
                Expect::Problem(413),
            ),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "zstd"),
            ],
        ),
        with_headers(
            push("unknown content encoding", ok_push(), Expect::Problem(415)),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "br"),
            ],
        ),
        with_headers(
            push(
                "two content encodings",
                gzip(&ok_push()),
                Expect::Problem(415),
            ),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip, zstd"),
            ],
        ),
        with_headers(
            push(
                "corrupt gzip",
                b"definitely not gzip".to_vec(),
                Expect::Problem(400),
            ),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        ),
        // Tokens.
        with_token(push("no token", ok_push(), Expect::Problem(401)), None),
        with_token(
            push("garbage token", ok_push(), Expect::Problem(401)),
            Some("garbage".into()),
        ),
        with_token(
            push("expired token", ok_push(), Expect::Problem(401)),
            Some(expired.clone()),
        ),
        with_token(
            push("revoked token", ok_push(), Expect::Problem(401)),
            Some(revoked.clone()),
        ),
        with_headers(
            with_token(push("basic auth", ok_push(), Expect::Problem(401)), None),
            vec![
                ("content-type", "application/json"),
                ("authorization", "Basic YWxpY2U6cGFzcw=="),
            ],
        ),
        pull(
            "pull without a token",
            "/sync/pull",
            None,
            Expect::Problem(401),
        ),
        pull(
            "pull with a revoked token",
            "/sync/pull",
            Some(revoked.clone()),
            Expect::Problem(401),
        ),
        // Cursors.
        pull(
            "negative cursor",
            "/sync/pull?since=-1",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "cursor past i64",
            "/sync/pull?since=18446744073709551615",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "cursor past u64",
            "/sync/pull?since=99999999999999999999999",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "cursor is text",
            "/sync/pull?since=latest",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "limit zero",
            "/sync/pull?limit=0",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "limit too large",
            "/sync/pull?limit=100000",
            auth.clone(),
            Expect::Problem(400),
        ),
        pull(
            "unknown query field",
            "/sync/pull?colour=red",
            auth.clone(),
            Expect::Problem(400),
        ),
        // Accounts.
        post(
            "register: malformed",
            "/accounts",
            b"{\"username\":".to_vec(),
            Expect::Problem(400),
        ),
        post(
            "register: empty name",
            "/accounts",
            json_bytes(&new_account_json("", PASSWORD)),
            Expect::Problem(400),
        ),
        post(
            "register: spaces in name",
            "/accounts",
            json_bytes(&new_account_json("a b", PASSWORD)),
            Expect::Problem(400),
        ),
        post(
            "register: huge name",
            "/accounts",
            json_bytes(&new_account_json(&"n".repeat(10_000), PASSWORD)),
            Expect::Problem(400),
        ),
        post(
            "register: NUL in name",
            "/accounts",
            json_bytes(&new_account_json("car\0ol", PASSWORD)),
            Expect::Problem(400),
        ),
        post(
            "register: body over the auth limit",
            "/accounts",
            json_bytes(&new_account_json(&"n".repeat(20_000), PASSWORD)),
            Expect::Problem(413),
        ),
        with_headers(
            post(
                "register: gzip bomb",
                "/accounts",
                gzip(&bomb),
                Expect::Problem(413),
            ),
            vec![
                ("content-type", "application/json"),
                ("content-encoding", "GZIP"),
            ],
        ),
        post(
            "register: a password that is not an auth secret",
            "/accounts",
            json_bytes(&new_account_json("carol", "correct horse battery")),
            Expect::Problem(400),
        ),
        post(
            "register: password over 1024 characters",
            "/accounts",
            json_bytes(&new_account_json("carol", &"é".repeat(1025))),
            Expect::Problem(400),
        ),
        post(
            "register: extra field",
            "/accounts",
            json_bytes(&{
                let mut body = new_account_json("carol", PASSWORD);
                body["admin"] = json!(true);
                body
            }),
            Expect::Problem(400),
        ),
        post(
            "register: taken name",
            "/accounts",
            json_bytes(&new_account_json("alice", PASSWORD)),
            Expect::Problem(409),
        ),
        post(
            "login: no password",
            "/sessions",
            json_bytes(&json!({"username": "alice"})),
            Expect::Problem(400),
        ),
        post(
            "login: NUL in name",
            "/sessions",
            json_bytes(&json!({"username": "ali\0ce", "password": PASSWORD})),
            Expect::Problem(400),
        ),
        post(
            "login: huge name",
            "/sessions",
            json_bytes(&new_account_json(&"n".repeat(10_000), PASSWORD)),
            Expect::Problem(400),
        ),
        post(
            "login: spaces in name",
            "/sessions",
            json_bytes(&json!({"username": "alice smith", "password": PASSWORD})),
            Expect::Problem(400),
        ),
        post(
            "login: body over the auth limit",
            "/sessions",
            json_bytes(&json!({"username": "alice", "password": "p".repeat(20_000)})),
            Expect::Problem(413),
        ),
        post(
            "login: password over 1024 characters",
            "/sessions",
            json_bytes(&json!({"username": "alice", "password": "é".repeat(1025)})),
            Expect::Problem(400),
        ),
        post(
            "login: wrong password",
            "/sessions",
            json_bytes(&json!({"username": "alice", "password": "wrong wrong"})),
            Expect::Problem(401),
        ),
        post(
            "login: unknown account",
            "/sessions",
            json_bytes(&json!({"username": "nobody", "password": PASSWORD})),
            Expect::Problem(401),
        ),
        // Account keys.
        post(
            "register: no keys",
            "/accounts",
            json_bytes(&json!({"username": "carol", "password": PASSWORD})),
            Expect::Problem(400),
        ),
        post(
            "register: derivation settings below the floor",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "kdf", "memory_kib"],
                json!(1024),
            )),
            Expect::Problem(400),
        ),
        post(
            "register: derivation settings over the ceiling",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "kdf", "iterations"],
                json!(100_000),
            )),
            Expect::Problem(400),
        ),
        post(
            "register: a salt of the wrong length",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "salt"],
                json!("11"),
            )),
            Expect::Problem(400),
        ),
        post(
            "register: a wrapped key that is not hex",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "wrapped_key"],
                json!("zz".repeat(73)),
            )),
            Expect::Problem(400),
        ),
        post(
            "register: an account id that is not a UUID",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "account_id"],
                json!("alice"),
            )),
            Expect::Problem(400),
        ),
        post(
            "register: another account's id",
            "/accounts",
            json_bytes(&with_field(
                new_account_json("carol", PASSWORD),
                &["keys", "account_id"],
                json!(alice_id),
            )),
            Expect::Problem(409),
        ),
        pull(
            "kdf: spaces in name",
            "/accounts/a%20b/kdf",
            None,
            Expect::Problem(400),
        ),
        Case {
            method: Method::PUT,
            ..post(
                "password change: no token",
                "/accounts/current/password",
                json_bytes(&password_change_json(PASSWORD)),
                Expect::Problem(401),
            )
        },
        Case {
            method: Method::PUT,
            token: erin.clone(),
            ..post(
                "password change: wrong current password",
                "/accounts/current/password",
                json_bytes(&password_change_json(&"0".repeat(64))),
                Expect::Problem(403),
            )
        },
        Case {
            method: Method::PUT,
            token: erin.clone(),
            ..post(
                "password change: cheap settings",
                "/accounts/current/password",
                json_bytes(&with_field(
                    password_change_json(PASSWORD),
                    &["new", "kdf", "parallelism"],
                    json!(0),
                )),
                Expect::Problem(400),
            )
        },
        Case {
            method: Method::PUT,
            token: erin.clone(),
            ..post(
                "password change: malformed",
                "/accounts/current/password",
                b"{\"old_password\":".to_vec(),
                Expect::Problem(400),
            )
        },
        pull(
            "current account: no token",
            "/accounts/current",
            None,
            Expect::Problem(401),
        ),
        post(
            "upgrade: no token",
            "/accounts/current/upgrade",
            json_bytes(&upgrade_json(Uuid::now_v7())),
            Expect::Problem(401),
        ),
        Case {
            token: erin.clone(),
            ..post(
                "upgrade: keys for another account",
                "/accounts/current/upgrade",
                json_bytes(&upgrade_json(Uuid::now_v7())),
                Expect::Problem(409),
            )
        },
        Case {
            token: erin.clone(),
            ..post(
                "upgrade: cheap settings",
                "/accounts/current/upgrade",
                json_bytes(&with_field(
                    upgrade_json(Uuid::now_v7()),
                    &["keys", "kdf", "memory_kib"],
                    json!(8),
                )),
                Expect::Problem(400),
            )
        },
        Case {
            token: erin.clone(),
            ..post(
                "upgrade: a password longer than any",
                "/accounts/current/upgrade",
                json_bytes(&with_field(
                    upgrade_json(Uuid::now_v7()),
                    &["password"],
                    json!("p".repeat(1025)),
                )),
                Expect::Problem(400),
            )
        },
        Case {
            token: erin.clone(),
            ..post(
                "upgrade: malformed",
                "/accounts/current/upgrade",
                b"{\"password\":".to_vec(),
                Expect::Problem(400),
            )
        },
        post(
            "recovery: wrong key",
            "/recovery/key",
            json_bytes(&json!({"username": "alice", "recovery_auth": "55".repeat(32)})),
            Expect::Problem(401),
        ),
        post(
            "recovery: unknown account",
            "/recovery/key",
            json_bytes(&json!({"username": "nobody", "recovery_auth": "44".repeat(32)})),
            Expect::Problem(401),
        ),
        post(
            "recovery: a key of the wrong length",
            "/recovery/key",
            json_bytes(&json!({"username": "alice", "recovery_auth": "44"})),
            Expect::Problem(400),
        ),
        post(
            "recovery reset: wrong key",
            "/recovery/password",
            json_bytes(&json!({
                "username": "alice",
                "recovery_auth": "55".repeat(32),
                "new": password_change_json(PASSWORD)["new"],
            })),
            Expect::Problem(401),
        ),
        // Routing.
        pull(
            "unknown endpoint",
            "/sync/everything",
            auth.clone(),
            Expect::Problem(404),
        ),
        pull(
            "wrong method",
            "/sync/push",
            auth.clone(),
            Expect::Problem(405),
        ),
        // Bad ops inside good requests: answered per op, nothing stored.
        push(
            "another account's note",
            push_bytes(vec![update_op(alices_note, alices_base, "x", "y")]),
            Expect::Op("rejected"),
        )
        .pipe(|c| with_token(c, Some(bob.clone()))),
        push(
            "another account's delete",
            push_bytes(vec![delete_op(alices_note, alices_base)]),
            Expect::Op("rejected"),
        )
        .pipe(|c| with_token(c, Some(bob.clone()))),
        push(
            "replayed op id",
            push_bytes(vec![first.clone()]),
            Expect::Op("duplicate"),
        ),
        push(
            "create over an existing id",
            push_bytes(vec![create_op(alices_note, "again", "")]),
            Expect::Op("rejected"),
        ),
        push(
            "patch against the wrong text",
            push_bytes(vec![patch_op]),
            Expect::Op("need_full_text"),
        ),
        push(
            "patch against a stale base",
            push_bytes(vec![stale_patch]),
            Expect::Op("need_full_text"),
        ),
        push(
            "patch against a same-length text that is not the base",
            push_bytes(vec![same_length_patch]),
            Expect::Op("conflict"),
        ),
        push(
            "full text on a base of the right version and another text",
            push_bytes(vec![update_op(
                alices_note,
                at(1, "Alice's", "privy txt"),
                "Alice's",
                "defaced",
            )]),
            Expect::Op("conflict"),
        ),
        push(
            "stale base version",
            push_bytes(vec![update_op(alices_note, at(9, "x", "y"), "x", "y")]),
            Expect::Op("conflict"),
        ),
        push(
            "update of a note nobody made",
            push_bytes(vec![update_op(
                NoteId(common::new_id()),
                alices_base,
                "x",
                "y",
            )]),
            Expect::Op("rejected"),
        ),
        push(
            "NUL in a title",
            push_bytes(vec![nul_title]),
            Expect::Op("rejected"),
        ),
        push(
            "op with the wrong fields",
            push_bytes(vec![{
                let mut op = delete_op(alices_note, alices_base);
                op.body = Some("a delete with text".into());
                op.op_id = OpId(common::new_id());
                op
            }]),
            Expect::Op("rejected"),
        ),
    ];
    assert!(cases.len() >= 30, "the suite is the floor of 30 cases");

    for case in cases {
        let before = stored(&server).await;
        let mut request = server
            .http
            .request(case.method.clone(), server.url(case.path))
            .body(case.body.clone());
        for (name, value) in &case.headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = &case.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.bytes().await.unwrap();
        match case.expect {
            Expect::Problem(expected) => {
                assert_eq!(
                    status.as_u16(),
                    expected,
                    "{}: {}",
                    case.name,
                    String::from_utf8_lossy(&body)
                );
                assert_eq!(content_type, "application/problem+json", "{}", case.name);
                let problem: Value = serde_json::from_slice(&body).unwrap();
                assert!(
                    problem["type"]
                        .as_str()
                        .unwrap()
                        .starts_with("https://quire.app/problems/"),
                    "{}",
                    case.name
                );
                assert_eq!(problem["status"], expected, "{}", case.name);
                assert!(
                    !problem["detail"].as_str().unwrap_or_default().is_empty(),
                    "{}",
                    case.name
                );
            }
            Expect::Op(expected) => {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "{}: {}",
                    case.name,
                    String::from_utf8_lossy(&body)
                );
                let answer: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    answer["results"][0]["status"], expected,
                    "{}: {answer}",
                    case.name
                );
            }
        }
        let after = stored(&server).await;
        assert_eq!(after, before, "{} stored something", case.name);
        assert!(
            server.healthy().await,
            "the server is unwell after {}",
            case.name
        );
    }

    // Alice's note is exactly as she left it.
    let notes = server.pull_all(&alice).await;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].body, "private text");
    assert_eq!(notes[0].version.0, 1);
    server.stop().await;
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl Pipe for Case {}
