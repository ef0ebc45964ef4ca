//! A real server on a loopback port for tests, on SQLite (a temp file) or PostgreSQL (a
//! fresh database in the cluster `scripts/with-postgres.sh` started).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

pub mod sealed_device;

use std::time::Duration;

use quire_core::protocol::{NoteState, PullResponse, PushOp, PushRequest, PushResponse};
use quire_core::{DeviceId, NoteId, OpId, OpKind, TextHash, Version};
use quire_server::{AppState, Db, Limits};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a device sends as its password: the auth secret derived from the person's password
/// (32 bytes as hex). The server cannot tell it from any other such value, and does not try.
pub const PASSWORD: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// The keys a device makes at sign-up, as the server sees them: well-formed values it
/// stores and hands back, and could not open if it tried.
pub fn keys_json(account_id: Uuid) -> Value {
    serde_json::json!({
        "account_id": account_id,
        "salt": "11".repeat(16),
        "kdf": {"memory_kib": 65536, "iterations": 3, "parallelism": 1},
        "wrapped_key": "22".repeat(73),
        "recovery_auth": "44".repeat(32),
        "recovery_wrapped_key": "33".repeat(73),
    })
}

/// The body of `POST /v1/accounts`, with fresh keys.
pub fn new_account_json(username: &str, password: &str) -> Value {
    serde_json::json!({
        "username": username,
        "password": password,
        "keys": keys_json(Uuid::now_v7()),
    })
}

/// Runs each named `async fn NAME(backend: Backend)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub db_url: String,
    pub db: Db,
    running: Option<quire_server::Spawned>,
    // Held for its Drop: the SQLite file lives in it.
    pub temp_dir: Option<tempfile::TempDir>,
}

async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("server.db").display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            let admin = std::env::var("QUIRE_TEST_POSTGRES_URL")
                .expect("PostgreSQL tests need a server: run them under scripts/with-postgres.sh");
            sqlx::any::install_default_drivers();
            let name = format!("quire_test_{}", Uuid::now_v7().simple());
            let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            let base = admin.rsplit_once('/').unwrap().0;
            (format!("{base}/{name}"), None)
        }
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Limits::default()).await
    }

    pub async fn start_with(backend: Backend, limits: Limits) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let mut server = Self::start_on(&url, limits).await;
        server.temp_dir = dir;
        server
    }

    /// A server that believes X-Forwarded-For from these peers (as if behind a reverse
    /// proxy on loopback): tests then speak for clients at other addresses.
    pub async fn start_behind_proxy(backend: Backend, limits: Limits, proxies: &[&str]) -> Self {
        let (url, dir) = fresh_database(backend).await;
        let mut server = Self::start_on_with(&url, limits, proxies).await;
        server.temp_dir = dir;
        server
    }

    /// Another instance on the same database.
    pub async fn start_on(db_url: &str, limits: Limits) -> Self {
        Self::start_on_with(db_url, limits, &[]).await
    }

    async fn start_on_with(db_url: &str, limits: Limits, proxies: &[&str]) -> Self {
        let db = Db::connect(db_url).await.unwrap();
        let proxies = proxies.iter().map(|p| p.parse().unwrap()).collect();
        let state = AppState::new(db.clone(), limits, Duration::from_secs(3600))
            .with_trusted_proxies(proxies);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = quire_server::spawn(listener, state).unwrap();
        Self {
            base: running.url(),
            http: reqwest::Client::new(),
            db_url: db_url.to_owned(),
            db,
            running: Some(running),
            temp_dir: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/v1{path}", self.base)
    }

    pub async fn register(&self, username: &str) -> StatusCode {
        self.http
            .post(self.url("/accounts"))
            .json(&new_account_json(username, PASSWORD))
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn login(&self, username: &str) -> String {
        let response = self
            .http
            .post(self.url("/sessions"))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// A new account whose notes are stored in the clear, as every account made before
    /// end-to-end encryption (Quire 0.1), signed in: its token. The plain push and pull
    /// these tests exercise serve such accounts until their devices upgrade them.
    pub async fn account(&self, username: &str) -> String {
        assert_eq!(self.register(username).await, StatusCode::CREATED);
        sqlx::query("UPDATE accounts SET key_scheme = 'legacy' WHERE username = $1")
            .bind(username)
            .execute(&self.db.pool)
            .await
            .unwrap();
        self.login(username).await
    }

    /// A new end-to-end account, signed in: its token. Its ops must be sealed.
    pub async fn sealed_account(&self, username: &str) -> String {
        assert_eq!(self.register(username).await, StatusCode::CREATED);
        self.login(username).await
    }

    pub async fn push(&self, token: &str, ops: Vec<PushOp>) -> PushResponse {
        let request = self
            .http
            .post(self.url("/sync/push"))
            .json(&PushRequest { ops });
        ok_json(request.bearer_auth(token)).await
    }

    /// A push of any JSON body, answered as it comes (any status): for requests a
    /// `PushOp` cannot express, or answers other than 200.
    pub async fn push_raw(&self, token: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.http
            .post(self.url("/sync/push"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with this token, answered as it comes (any status).
    pub async fn get_with(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn pull(&self, token: &str, since: u64, limit: u32) -> PullResponse {
        let path = format!("/sync/pull?since={since}&limit={limit}");
        ok_json(self.http.get(self.url(&path)).bearer_auth(token)).await
    }

    /// A pull as `device` asks it: its own changes come apart, without text.
    pub async fn pull_as(
        &self,
        token: &str,
        device: quire_core::DeviceId,
        since: u64,
        limit: u32,
    ) -> PullResponse {
        let path = format!("/sync/pull?since={since}&limit={limit}&device={device}");
        ok_json(self.http.get(self.url(&path)).bearer_auth(token)).await
    }

    /// Every note of the account, by pulling from the start until nothing is left.
    pub async fn pull_all(&self, token: &str) -> Vec<NoteState> {
        let mut since = 0;
        let mut notes = Vec::new();
        loop {
            let page = self.pull(token, since, 1000).await;
            notes.extend(page.changes.into_iter().map(|c| c.note));
            since = page.next;
            if !page.more {
                return notes;
            }
        }
    }

    /// Rows in a table, to check that refused requests stored nothing.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn healthy(&self) -> bool {
        self.http
            .get(self.url("/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
    }
}

/// Sends a request that must answer 200, and decodes its JSON.
async fn ok_json<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The exact text an update or delete is made on: its version and the hash of its text.
#[derive(Debug, Clone, Copy)]
pub struct Base {
    pub version: u64,
    pub hash: TextHash,
}

/// The base "version `version`, with this title and body".
pub fn at(version: u64, title: &str, body: &str) -> Base {
    Base {
        version,
        hash: TextHash::of(title, body),
    }
}

fn op(note: NoteId, kind: OpKind, base: Option<Base>) -> PushOp {
    PushOp {
        op_id: OpId(new_id()),
        note_id: note,
        kind,
        title: None,
        body: None,
        patch: None,
        base_version: base.map(|b| Version(b.version)),
        base_hash: base.map(|b| b.hash),
        device_id: DeviceId(Uuid::nil()),
        clock: 1,
        lww: false,
        sealed: None,
    }
}

pub fn create_op(note: NoteId, title: &str, body: &str) -> PushOp {
    PushOp {
        title: Some(title.to_owned()),
        body: Some(body.to_owned()),
        ..op(note, OpKind::Create, None)
    }
}

pub fn update_op(note: NoteId, base: Base, title: &str, body: &str) -> PushOp {
    PushOp {
        title: Some(title.to_owned()),
        body: Some(body.to_owned()),
        ..op(note, OpKind::Update, Some(base))
    }
}

pub fn delete_op(note: NoteId, base: Base) -> PushOp {
    op(note, OpKind::Delete, Some(base))
}

pub fn new_note() -> NoteId {
    NoteId(new_id())
}
