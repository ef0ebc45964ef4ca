//! Login and registration under attack, on SQLite and on PostgreSQL: attempts are counted
//! before a password is checked, logins are limited per account name and address so that a
//! stranger cannot lock the owner out, X-Forwarded-For counts only from a trusted proxy,
//! password hashing is bounded (503 beyond it), and bad or huge names never reach the
//! database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{new_account_json, Backend, TestServer, PASSWORD};
use quire_core::protocol::problem;
use quire_server::Limits;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    concurrent_wrong_logins_are_counted_before_the_hash,
    a_strangers_failures_never_lock_the_owner_out,
    forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy,
    failed_logins_are_limited_per_account_and_address,
    bad_names_are_refused_and_nothing_is_stored,
    passwords_are_measured_in_characters,
    an_oversized_auth_body_is_413_and_stores_nothing,
    registrations_are_limited_per_address,
    kdf_lookups_are_limited_per_address,
    password_hashing_is_bounded_and_sheds_load_with_503,
);

const WRONG: &str = "not the password";
const STRANGER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.2";

/// POSTs `username`/`password` to `path`, as the client at `forwarded_for` if given.
async fn post_creds(
    server: &TestServer,
    path: &str,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let body = if path == "/accounts" {
        new_account_json(username, password)
    } else {
        json!({"username": username, "password": password})
    };
    let mut request = server.http.post(server.url(path)).json(&body);
    if let Some(addr) = forwarded_for {
        request = request.header("x-forwarded-for", addr);
    }
    request.send().await.unwrap()
}

async fn login(
    server: &TestServer,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    post_creds(server, "/sessions", username, password, forwarded_for).await
}

/// A problem answer with this status and type; its Retry-After, if any.
async fn assert_problem(response: Response, status: StatusCode, kind: &str) -> Option<u64> {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
    assert_eq!(body["status"], status.as_u16());
    retry_after
}

/// Stored attempts whose scope starts with `kind` ("login:" or "register:").
async fn attempts(server: &TestServer, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM auth_attempts WHERE scope LIKE $1")
        .bind(format!("{kind}%"))
        .fetch_one(&server.db.pool)
        .await
        .unwrap()
}

async fn concurrent_wrong_logins_are_counted_before_the_hash(backend: Backend) {
    let server = Arc::new(TestServer::start(backend).await);
    assert_eq!(server.register("alice").await, StatusCode::CREATED);
    let guesses: Vec<_> = (0..40)
        .map(|_| {
            let server = Arc::clone(&server);
            tokio::spawn(async move { login(&server, "alice", WRONG, None).await })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for guess in guesses {
        let response = guess.await.unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let retry = assert_problem(
                    response,
                    StatusCode::TOO_MANY_REQUESTS,
                    problem::RATE_LIMITED,
                )
                .await
                .expect("a 429 says when to retry");
                assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
                refused += 1;
            }
            other => panic!("a wrong login answered {other}"),
        }
    }
    // Counted before hashing: however many arrive at once, only the limit are checked.
    assert_eq!(
        checked,
        Limits::default().max_failed_logins,
        "{checked} of 40 concurrent wrong logins had their password checked"
    );
    assert_eq!(checked + refused, 40);
    // Refused attempts are taken back out: only the checked ones are stored, twice each
    // (per account and address, per address).
    assert_eq!(attempts(&server, "login:").await, i64::from(checked) * 2);
}

async fn a_strangers_failures_never_lock_the_owner_out(backend: Backend) {
    let server = TestServer::start_behind_proxy(backend, Limits::default(), &["127.0.0.1"]).await;
    assert_eq!(server.register("olga").await, StatusCode::CREATED);
    let limit = Limits::default().max_failed_logins;
    for _ in 0..limit {
        let guess = login(&server, "olga", WRONG, Some(STRANGER)).await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = login(&server, "olga", WRONG, Some(STRANGER)).await;
    assert!(assert_problem(
        refused,
        StatusCode::TOO_MANY_REQUESTS,
        problem::RATE_LIMITED
    )
    .await
    .is_some());
    // The stranger cannot escape by writing the owner's address in front of their own:
    // the proxy appended the address it saw, and only that counts.
    let spoofed = login(
        &server,
        "olga",
        WRONG,
        Some(&format!("{OWNER}, {STRANGER}")),
    )
    .await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
    // Even the right password waits out the limit at the stranger's address.
    let right_there = login(&server, "olga", PASSWORD, Some(STRANGER)).await;
    assert_eq!(right_there.status(), StatusCode::TOO_MANY_REQUESTS);

    // The owner, at her own address, is not locked out: after a typo, the right password works.
    let typo = login(&server, "olga", WRONG, Some(OWNER)).await;
    assert_eq!(typo.status(), StatusCode::UNAUTHORIZED);
    let right = login(&server, "olga", PASSWORD, Some(OWNER)).await;
    assert_eq!(right.status(), StatusCode::CREATED);
    let body: Value = right.json().await.unwrap();
    assert_eq!(body["token"].as_str().unwrap().len(), 64);
    // Her success cleared her typo; the stranger's failures still count.
    let owner_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM auth_attempts WHERE scope LIKE $1")
            .bind(format!("%{OWNER}%"))
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(owner_rows, 1, "the typo, per address only");
    assert_eq!(
        login(&server, "olga", WRONG, Some(STRANGER)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop().await;
}

async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(backend: Backend) {
    // No trusted proxy: X-Forwarded-For is whatever the client wants it to be.
    let server = TestServer::start(backend).await;
    assert_eq!(server.register("pia").await, StatusCode::CREATED);
    let limit = Limits::default().max_failed_logins;
    for n in 0..limit {
        let fresh = format!("192.0.2.{n}");
        assert_eq!(
            login(&server, "pia", WRONG, Some(&fresh)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // A fresh claimed address every time changes nothing: all came from 127.0.0.1.
    let next = login(&server, "pia", WRONG, Some("192.0.2.200")).await;
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
    let scopes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT scope FROM auth_attempts WHERE scope LIKE 'login:%'")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert!(
        scopes
            .iter()
            .all(|scope| scope.starts_with("login:127.0.0.1")),
        "{scopes:?}"
    );
    server.stop().await;

    // Behind a proxy that is not the peer: still ignored.
    let server = TestServer::start_behind_proxy(backend, Limits::default(), &["10.0.0.0/8"]).await;
    assert_eq!(server.register("pia").await, StatusCode::CREATED);
    login(&server, "pia", WRONG, Some("192.0.2.1")).await;
    let scopes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT scope FROM auth_attempts WHERE scope LIKE 'login:%'")
            .fetch_all(&server.db.pool)
            .await
            .unwrap();
    assert!(
        scopes
            .iter()
            .all(|scope| scope.starts_with("login:127.0.0.1")),
        "{scopes:?}"
    );
    server.stop().await;
}

async fn failed_logins_are_limited_per_account_and_address(backend: Backend) {
    let limits = Limits {
        max_failed_logins: 4,
        max_failed_logins_per_address: 7,
        ..Limits::default()
    };
    let server = TestServer::start_with(backend, limits).await;
    assert_eq!(server.register("iv").await, StatusCode::CREATED);
    // Failures from long ago do not count.
    for n in 0..10 {
        sqlx::query(
            "INSERT INTO auth_attempts (id, scope, at) VALUES ($1, 'login:127.0.0.1 iv', $2)",
        )
        .bind(format!("old-{n}"))
        .bind(1_i64 + n)
        .execute(&server.db.pool)
        .await
        .unwrap();
    }
    // A success clears the account's failures at this address.
    for _ in 0..3 {
        assert_eq!(
            login(&server, "iv", WRONG, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&server, "iv", PASSWORD, None).await.status(),
        StatusCode::CREATED
    );
    for _ in 0..4 {
        assert_eq!(
            login(&server, "iv", WRONG, None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&server, "iv", WRONG, None).await;
    let retry = assert_problem(
        limited,
        StatusCode::TOO_MANY_REQUESTS,
        problem::RATE_LIMITED,
    )
    .await
    .unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After {retry}");
    // Past the limit, not even the right password is checked from here.
    assert_eq!(
        login(&server, "iv", PASSWORD, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Per address: 3 + 4 failures so far; other names reach the address's limit of 7 at once.
    let other = login(&server, "someone-else", WRONG, None).await;
    assert_eq!(other.status(), StatusCode::TOO_MANY_REQUESTS);
    server.stop().await;
}

async fn bad_names_are_refused_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::start(backend).await;
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    let long = "n".repeat(10_000);
    for name in ["a\0b", "\0", long.as_str(), "two words", ""] {
        for path in ["/sessions", "/accounts"] {
            let response = post_creds(&server, path, name, PASSWORD, None).await;
            assert_problem(response, StatusCode::BAD_REQUEST, problem::BAD_REQUEST).await;
        }
    }
    // An over-long password cannot be anyone's: refused before hashing, like a bad name.
    let response = login(&server, "ada", &"p".repeat(2000), None).await;
    assert_problem(response, StatusCode::BAD_REQUEST, problem::BAD_REQUEST).await;
    assert_eq!(attempts(&server, "login:").await, 0);
    assert_eq!(
        attempts(&server, "register:").await,
        1,
        "ada's registration only"
    );
    assert_eq!(server.count("accounts").await, 1);
    assert!(server.healthy().await);
    server.stop().await;
}

/// The OpenAPI document bounds a login's password by `maxLength`, which counts characters:
/// a password of 1024 two-byte characters is one the server checks (a legacy account's
/// password may be any text), and 1025 is refused unchecked. A new account's password is
/// always an auth secret: anything else is refused.
async fn passwords_are_measured_in_characters(backend: Backend) {
    let server = TestServer::start(backend).await;
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    let longest = "é".repeat(1024);
    let response = post_creds(&server, "/accounts", "bea", &longest, None).await;
    assert_problem(response, StatusCode::BAD_REQUEST, problem::BAD_REQUEST).await;
    let response = login(&server, "ada", &longest, None).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, problem::UNAUTHORIZED).await;
    let too_long = "é".repeat(1025);
    let response = login(&server, "ada", &too_long, None).await;
    assert_problem(response, StatusCode::BAD_REQUEST, problem::BAD_REQUEST).await;
    // Every character escaped, as a surrogate pair where it takes one, still fits the small
    // body limit of the auth endpoints.
    let escaped = format!(
        r#"{{"username":"ada","password":"{}"}}"#,
        "\\ud83d\\ude00".repeat(1024)
    );
    let response = server
        .http
        .post(server.url("/sessions"))
        .header("content-type", "application/json")
        .body(escaped)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, problem::UNAUTHORIZED).await;
    server.stop().await;
}

async fn an_oversized_auth_body_is_413_and_stores_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let huge = "n".repeat(30 * 1024 * 1024);
    for path in ["/sessions", "/accounts"] {
        let response = post_creds(&server, path, &huge, PASSWORD, None).await;
        assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, problem::TOO_LARGE).await;
    }
    // Just over the small limit is refused too; a normal body is fine.
    let mut padded = new_account_json("ada", PASSWORD);
    padded["pad"] = json!("x".repeat(17 * 1024));
    let response = server
        .http
        .post(server.url("/accounts"))
        .json(&padded)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, problem::TOO_LARGE).await;
    assert_eq!(server.count("auth_attempts").await, 0);
    assert_eq!(server.count("accounts").await, 0);
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    server.stop().await;
}

async fn registrations_are_limited_per_address(backend: Backend) {
    let limits = Limits {
        max_registrations_per_hour: 3,
        ..Limits::default()
    };
    let server = TestServer::start_behind_proxy(backend, limits, &["127.0.0.1"]).await;
    // Refused input does not count.
    for n in 0..5 {
        let short = post_creds(
            &server,
            "/accounts",
            &format!("bad{n}"),
            "short",
            Some(STRANGER),
        )
        .await;
        assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    }
    for n in 0..3 {
        let made = post_creds(
            &server,
            "/accounts",
            &format!("spam{n}"),
            PASSWORD,
            Some(STRANGER),
        )
        .await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    let refused = post_creds(&server, "/accounts", "spam3", PASSWORD, Some(STRANGER)).await;
    let retry = assert_problem(
        refused,
        StatusCode::TOO_MANY_REQUESTS,
        problem::RATE_LIMITED,
    )
    .await
    .unwrap();
    assert!((3000..=3600).contains(&retry), "Retry-After {retry}");
    // Someone else, elsewhere, can still sign up.
    let other = post_creds(&server, "/accounts", "olga", PASSWORD, Some(OWNER)).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(server.count("accounts").await, 4);
    server.stop().await;
}

/// Probing names through the key-derivation lookup (is there an account, is it legacy?)
/// is slowed to `max_kdf_lookups` per address; others are not held up by it.
async fn kdf_lookups_are_limited_per_address(backend: Backend) {
    let limits = Limits {
        max_kdf_lookups: 3,
        ..Limits::default()
    };
    let server = TestServer::start_behind_proxy(backend, limits, &["127.0.0.1"]).await;
    let lookup = |name: &str, from: &str| {
        server
            .http
            .get(server.url(&format!("/accounts/{name}/kdf")))
            .header("x-forwarded-for", from)
            .send()
    };
    // Names no account can have are refused before anything counts.
    for _ in 0..5 {
        let answer = lookup("not%20a%20name", STRANGER).await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    }
    for n in 0..3 {
        let answer = lookup(&format!("name{n}"), STRANGER).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let refused = lookup("name3", STRANGER).await.unwrap();
    let retry = assert_problem(
        refused,
        StatusCode::TOO_MANY_REQUESTS,
        problem::RATE_LIMITED,
    )
    .await
    .unwrap();
    assert!((800..=900).contains(&retry), "Retry-After {retry}");
    let other = lookup("name3", OWNER).await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    server.stop().await;
}

async fn password_hashing_is_bounded_and_sheds_load_with_503(backend: Backend) {
    let limits = Limits {
        max_concurrent_hashes: 1,
        hash_wait_ms: 50,
        max_registrations_per_hour: 1000,
        ..Limits::default()
    };
    let server = Arc::new(TestServer::start_with(backend, limits).await);
    let flood: Vec<_> = (0..30)
        .map(|n| {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                post_creds(&server, "/accounts", &format!("flood{n}"), PASSWORD, None).await
            })
        })
        .collect();
    let (mut made, mut busy) = (0_i64, 0);
    for request in flood {
        let response = request.await.unwrap();
        match response.status() {
            StatusCode::CREATED => made += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                let retry = assert_problem(
                    response,
                    StatusCode::SERVICE_UNAVAILABLE,
                    problem::UNAVAILABLE,
                )
                .await;
                assert!(
                    retry.is_some_and(|secs| secs >= 1),
                    "503 without Retry-After"
                );
                busy += 1;
            }
            other => panic!("a registration answered {other}"),
        }
    }
    assert!(
        busy > 0,
        "30 registrations at once, one hash at a time: none was turned away"
    );
    assert!(made > 0);
    assert_eq!(server.count("accounts").await, made);
    // Turned-away registrations were never hashed and do not count against the address.
    assert_eq!(attempts(&server, "register:").await, made);
    // Once the flood is over, hashing works again.
    assert_eq!(server.register("after").await, StatusCode::CREATED);
}
