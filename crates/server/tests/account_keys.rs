//! End-to-end encryption's account keys on a real server, SQLite and PostgreSQL: the
//! derivation settings a device asks for first, wrapped keys that come back exactly as a
//! device stored them and open only with its secrets, a password change that ends the other
//! sessions, and recovery with the recovery key. The server keeps hashes of auth secrets,
//! never the secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{new_account_json, Backend, TestServer, PASSWORD};
use quire_core::crypto::kdf::KdfParams;
use quire_core::crypto::seal::{unwrap_data_key, wrap_data_key};
use quire_core::crypto::{DataKey, Secret32};
use quire_core::protocol::{problem, KdfInfo, KeyScheme, RecoveredKey, Session};
use quire_server::Limits;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

on_both_backends!(
    the_kdf_answer_does_not_tell_who_has_an_account,
    a_wrapped_key_comes_back_at_login_and_opens_only_with_its_secret,
    a_password_change_rewraps_and_ends_the_other_sessions,
    a_wrong_current_password_changes_nothing,
    the_recovery_key_sets_a_new_password_and_ends_every_session,
    wrong_recovery_keys_are_limited_per_address_only,
);

const STRANGER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.2";

fn secret(byte: u8) -> Secret32 {
    Secret32::from_bytes([byte; 32])
}

/// Registers `username` with a real data key wrapped under `wrap` and `recovery_wrap`
/// (nonces fixed: a test, not a device).
async fn register_with_keys(
    server: &TestServer,
    username: &str,
    data_key: &DataKey,
    wrap: &Secret32,
    recovery: (&str, &Secret32),
) -> Uuid {
    let account_id = Uuid::now_v7();
    let id = account_id.to_string();
    let mut body = new_account_json(username, PASSWORD);
    body["keys"]["wrapped_key"] = json!(hex::encode(
        wrap_data_key(data_key, wrap, &id, false, [1; 24]).unwrap()
    ));
    body["keys"]["recovery_auth"] = json!(recovery.0);
    body["keys"]["recovery_wrapped_key"] = json!(hex::encode(
        wrap_data_key(data_key, recovery.1, &id, true, [2; 24]).unwrap()
    ));
    body["keys"]["account_id"] = json!(id);
    let response = server
        .http
        .post(server.url("/accounts"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    account_id
}

async fn kdf(server: &TestServer, username: &str) -> KdfInfo {
    let response = server
        .http
        .get(server.url(&format!("/accounts/{username}/kdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{username}");
    response.json().await.unwrap()
}

async fn login_as(server: &TestServer, username: &str, password: &str) -> Response {
    server
        .http
        .post(server.url("/sessions"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn session(server: &TestServer, username: &str, password: &str) -> Session {
    let response = login_as(server, username, password).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn assert_problem(response: Response, status: StatusCode, kind: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
}

/// A new password: auth secret `password`, data key wrapped under `wrap`.
fn new_password(account_id: Uuid, data_key: &DataKey, password: &str, wrap: &Secret32) -> Value {
    let wrapped = wrap_data_key(data_key, wrap, &account_id.to_string(), false, [3; 24]).unwrap();
    json!({
        "password": password,
        "salt": "99".repeat(16),
        "kdf": {"memory_kib": 131072, "iterations": 4, "parallelism": 2},
        "wrapped_key": hex::encode(wrapped),
    })
}

async fn change_password(server: &TestServer, token: &str, old: &str, new: Value) -> Response {
    server
        .http
        .put(server.url("/accounts/current/password"))
        .bearer_auth(token)
        .json(&json!({"old_password": old, "new": new}))
        .send()
        .await
        .unwrap()
}

/// Whether `token` still opens the sync endpoints.
async fn works(server: &TestServer, token: &str) -> bool {
    let status = server
        .get_with(token, "/sync/pull?since=0&limit=1")
        .await
        .status();
    assert!(
        status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
    status == StatusCode::OK
}

async fn the_kdf_answer_does_not_tell_who_has_an_account(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    let nobody = kdf(&server, "nobody").await;
    assert_eq!(nobody.scheme, KeyScheme::E2eV1);
    assert_eq!(nobody.kdf, KdfParams::DEFAULT);
    assert_eq!(kdf(&server, "nobody").await, nobody, "stable for a name");
    assert_ne!(kdf(&server, "nobody2").await.salt, nobody.salt);

    // An account's own salt and settings, as its device stored them.
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    let ada = kdf(&server, "ada").await;
    assert_eq!(ada.scheme, KeyScheme::E2eV1);
    assert_eq!(ada.salt.to_hex(), "11".repeat(16));
    assert_eq!(ada.kdf, KdfParams::DEFAULT);

    // An account made before end-to-end encryption says so, with a stand-in salt.
    assert_eq!(server.register("old").await, StatusCode::CREATED);
    sqlx::query(
        "UPDATE accounts SET key_scheme = 'legacy', kdf_salt = NULL, wrapped_key = NULL,
                recovery_auth_hash = NULL, recovery_wrapped_key = NULL WHERE username = 'old'",
    )
    .execute(&server.db.pool)
    .await
    .unwrap();
    let old = kdf(&server, "old").await;
    assert_eq!(old.scheme, KeyScheme::Legacy);
    assert_ne!(old.salt.to_hex(), "11".repeat(16));
    let old_session = session(&server, "old", PASSWORD).await;
    assert_eq!(
        old_session.keys, None,
        "a legacy account has no keys to hand out"
    );

    // The stand-in salts survive a restart: asking twice across one does not tell either.
    let url = server.db_url.clone();
    let dir = server.temp_dir.take();
    server.stop().await;
    let again = TestServer::start_on(&url, Limits::default()).await;
    assert_eq!(kdf(&again, "nobody").await, nobody);
    let response = again
        .http
        .get(again.url("/accounts/not%20a%20name/kdf"))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::BAD_REQUEST, problem::BAD_REQUEST).await;
    again.stop().await;
    drop(dir);
}

async fn a_wrapped_key_comes_back_at_login_and_opens_only_with_its_secret(backend: Backend) {
    let server = TestServer::start(backend).await;
    let data_key = DataKey::from_bytes([7; 32]);
    let recovery_auth = "ab".repeat(32);
    let account_id = register_with_keys(
        &server,
        "ada",
        &data_key,
        &secret(1),
        (&recovery_auth, &secret(2)),
    )
    .await;
    let keys = session(&server, "ada", PASSWORD).await.keys.unwrap();
    assert_eq!(keys.account_id, account_id);
    let id = account_id.to_string();
    assert_eq!(
        unwrap_data_key(&keys.wrapped_key.0, &secret(1), &id, false).unwrap(),
        data_key
    );
    assert!(unwrap_data_key(&keys.wrapped_key.0, &secret(9), &id, false).is_err());

    // What the server keeps: a hash of each auth secret, never the secret itself.
    let (password_hash, recovery_hash): (String, String) = sqlx::query_as(
        "SELECT password_hash, recovery_auth_hash FROM accounts WHERE username = 'ada'",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert!(password_hash.starts_with("$argon2id$"), "{password_hash}");
    assert!(!password_hash.contains(PASSWORD));
    assert_ne!(recovery_hash, recovery_auth);
    assert!(!recovery_hash.contains(&recovery_auth));
    server.stop().await;
}

async fn a_password_change_rewraps_and_ends_the_other_sessions(backend: Backend) {
    let server = TestServer::start(backend).await;
    let data_key = DataKey::from_bytes([7; 32]);
    let account_id = register_with_keys(
        &server,
        "ada",
        &data_key,
        &secret(1),
        (&"ab".repeat(32), &secret(2)),
    )
    .await;
    let laptop = session(&server, "ada", PASSWORD).await.token;
    let desktop = session(&server, "ada", PASSWORD).await.token;
    let new_auth = "cd".repeat(32);
    let new = new_password(account_id, &data_key, &new_auth, &secret(3));
    let response = change_password(&server, &laptop, PASSWORD, new).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert!(
        works(&server, &laptop).await,
        "the changing session goes on"
    );
    assert!(!works(&server, &desktop).await, "every other session ended");
    assert_eq!(
        login_as(&server, "ada", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let keys = session(&server, "ada", &new_auth).await.keys.unwrap();
    assert_eq!(
        unwrap_data_key(
            &keys.wrapped_key.0,
            &secret(3),
            &account_id.to_string(),
            false
        )
        .unwrap(),
        data_key,
        "the same data key, under the new password"
    );
    let info = kdf(&server, "ada").await;
    assert_eq!(info.salt.to_hex(), "99".repeat(16));
    assert_eq!(info.kdf.memory_kib, 131_072);
    server.stop().await;
}

async fn a_wrong_current_password_changes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let ada = server.sealed_account("ada").await;
    let other = server.login("ada").await;
    let new = new_password(
        Uuid::now_v7(),
        &DataKey::from_bytes([1; 32]),
        &"cd".repeat(32),
        &secret(3),
    );
    let response = change_password(&server, &ada, &"00".repeat(32), new.clone()).await;
    assert_problem(response, StatusCode::FORBIDDEN, problem::WRONG_PASSWORD).await;
    assert!(works(&server, &other).await);
    assert_eq!(kdf(&server, "ada").await.salt.to_hex(), "11".repeat(16));
    assert_eq!(
        login_as(&server, "ada", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    // Without a session, nothing to change.
    let response = change_password(&server, "no-such-token", PASSWORD, new.clone()).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, problem::UNAUTHORIZED).await;

    // A legacy account has no wrapped key to replace: it is upgraded first.
    assert_eq!(server.register("old").await, StatusCode::CREATED);
    sqlx::query("UPDATE accounts SET key_scheme = 'legacy' WHERE username = 'old'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let old = server.login("old").await;
    let response = change_password(&server, &old, PASSWORD, new).await;
    assert_problem(response, StatusCode::CONFLICT, problem::CONFLICT).await;
    server.stop().await;
}

async fn recover(server: &TestServer, username: &str, auth: &str, from: &str) -> Response {
    server
        .http
        .post(server.url("/recovery/key"))
        .header("x-forwarded-for", from)
        .json(&json!({"username": username, "recovery_auth": auth}))
        .send()
        .await
        .unwrap()
}

async fn the_recovery_key_sets_a_new_password_and_ends_every_session(backend: Backend) {
    let server = TestServer::start(backend).await;
    let data_key = DataKey::from_bytes([7; 32]);
    let recovery_auth = "ab".repeat(32);
    let account_id = register_with_keys(
        &server,
        "ada",
        &data_key,
        &secret(1),
        (&recovery_auth, &secret(2)),
    )
    .await;
    let before = session(&server, "ada", PASSWORD).await.token;

    let response = recover(&server, "ada", &recovery_auth, OWNER).await;
    assert_eq!(response.status(), StatusCode::OK);
    let recovered: RecoveredKey = response.json().await.unwrap();
    assert_eq!(recovered.account_id, account_id);
    let opened = unwrap_data_key(
        &recovered.recovery_wrapped_key.0,
        &secret(2),
        &account_id.to_string(),
        true,
    )
    .unwrap();
    assert_eq!(opened, data_key);

    let new_auth = "ef".repeat(32);
    let response = server
        .http
        .post(server.url("/recovery/password"))
        .json(&json!({
            "username": "ada",
            "recovery_auth": recovery_auth,
            "new": new_password(account_id, &opened, &new_auth, &secret(4)),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(!works(&server, &before).await, "every session ended");
    assert_eq!(
        login_as(&server, "ada", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let keys = session(&server, "ada", &new_auth).await.keys.unwrap();
    assert_eq!(
        unwrap_data_key(
            &keys.wrapped_key.0,
            &secret(4),
            &account_id.to_string(),
            false
        )
        .unwrap(),
        data_key
    );
    // The recovery key itself still works (it was not changed).
    assert_eq!(
        recover(&server, "ada", &recovery_auth, OWNER)
            .await
            .status(),
        StatusCode::OK
    );
    server.stop().await;
}

async fn wrong_recovery_keys_are_limited_per_address_only(backend: Backend) {
    let limits = Limits {
        max_failed_logins_per_address: 3,
        ..Limits::default()
    };
    let server = TestServer::start_behind_proxy(backend, limits, &["127.0.0.1"]).await;
    let recovery_auth = "44".repeat(32);
    assert_eq!(server.register("ada").await, StatusCode::CREATED);
    for _ in 0..3 {
        let response = recover(&server, "ada", &"55".repeat(32), STRANGER).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, problem::UNAUTHORIZED).await;
    }
    // The stranger is stopped, even with the right key...
    let response = recover(&server, "ada", &recovery_auth, STRANGER).await;
    assert_problem(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        problem::RATE_LIMITED,
    )
    .await;
    // ...and the owner, elsewhere, is not.
    assert_eq!(
        recover(&server, "ada", &recovery_auth, OWNER)
            .await
            .status(),
        StatusCode::OK
    );
    // A right key from the owner does not count against them.
    for _ in 0..5 {
        assert_eq!(
            recover(&server, "ada", &recovery_auth, OWNER)
                .await
                .status(),
            StatusCode::OK
        );
    }
    server.stop().await;
}
