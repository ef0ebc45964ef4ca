//! A real quire-server on a loopback port (SQLite), and devices (stores in temp dirs with file
//! credentials) that talk to it over HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod proxy;

use std::time::Duration;

use quire_client::account::{self, AccountRequest};
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::engine::{sync_once, SyncReport};
use quire_client::Error;
use quire_client::Store;

pub const PASSWORD: &str = "long enough pw";

pub struct Server {
    pub url: String,
    running: Option<quire_server::Spawned>,
    dir: Option<tempfile::TempDir>,
    db: Option<quire_server::Db>,
}

impl Server {
    /// A server address to sign in to that is not one of ours to stop (a proxy in front).
    pub fn at(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            running: None,
            dir: None,
            db: None,
        }
    }

    /// The server's database, for tests that play a hostile or damaged server.
    pub fn db(&self) -> &quire_server::Db {
        self.db.as_ref().unwrap()
    }

    /// The server's SQLite file (its WAL beside it).
    pub fn db_file(&self) -> std::path::PathBuf {
        self.dir.as_ref().unwrap().path().join("s.db")
    }

    /// Every byte of the server's SQLite file and its WAL, for a search.
    pub fn file_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal"] {
            let mut path = self.db_file().into_os_string();
            path.push(suffix);
            if let Ok(read) = std::fs::read(&path) {
                bytes.extend(read);
            }
        }
        assert!(!bytes.is_empty());
        bytes
    }

    /// Stops serving (in-flight requests finish) and hands back its data for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
        self.dir.take().unwrap()
    }
}

pub async fn server() -> Server {
    server_with(quire_server::Limits::default()).await
}

/// The server's database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A server on `engine`: PostgreSQL in a fresh database of the cluster that
/// `scripts/with-postgres.sh` started (`make test` runs every test under it).
pub async fn server_on(engine: Engine) -> Server {
    if engine == Engine::Sqlite {
        return server().await;
    }
    let admin = std::env::var("QUIRE_TEST_POSTGRES_URL")
        .expect("PostgreSQL tests need a server: run them under scripts/with-postgres.sh");
    sqlx::any::install_default_drivers();
    let name = format!("quire_client_test_{}", uuid::Uuid::now_v7().simple());
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let db = quire_server::Db::connect(&url).await.unwrap();
    let state = quire_server::AppState::new(
        db.clone(),
        quire_server::Limits::default(),
        Duration::from_secs(600),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = quire_server::spawn(listener, state).unwrap();
    Server {
        url: running.url(),
        running: Some(running),
        dir: None,
        db: Some(db),
    }
}

pub async fn server_with(limits: quire_server::Limits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_with(dir, listener, limits).await
}

/// Serves the database in `dir` on `listener` (again, after a stop: same data, same port).
pub async fn serve(dir: tempfile::TempDir, listener: tokio::net::TcpListener) -> Server {
    serve_with(dir, listener, quire_server::Limits::default()).await
}

pub async fn serve_with(
    dir: tempfile::TempDir,
    listener: tokio::net::TcpListener,
    limits: quire_server::Limits,
) -> Server {
    let db = quire_server::Db::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let state = quire_server::AppState::new(db.clone(), limits, Duration::from_secs(600));
    let running = quire_server::spawn(listener, state).unwrap();
    Server {
        url: running.url(),
        running: Some(running),
        dir: Some(dir),
        db: Some(db),
    }
}

pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub secrets: FileStore,
}

pub async fn device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let secrets = FileStore::new(dir.path().join(CREDENTIALS_FILE));
    let store = Store::open(dir.path(), &secrets).await.unwrap();
    Device {
        dir,
        store,
        secrets,
    }
}

pub fn request<'a>(server: &'a str, user: &'a str, password: &str) -> AccountRequest<'a> {
    AccountRequest::new(server, user, password.to_owned(), false)
}

impl Device {
    pub async fn register(&self, server: &Server, user: &str) {
        account::sign_in(
            &self.store,
            &self.secrets,
            request(&server.url, user, PASSWORD),
            true,
        )
        .await
        .unwrap();
    }

    pub async fn login(&self, server: &Server, user: &str) {
        account::sign_in(
            &self.store,
            &self.secrets,
            request(&server.url, user, PASSWORD),
            false,
        )
        .await
        .unwrap();
    }

    pub async fn sync(&self) -> SyncReport {
        self.try_sync().await.unwrap()
    }

    pub async fn try_sync(&self) -> Result<SyncReport, Error> {
        let (api, token) = account::session(&self.store, &self.secrets).await?;
        let sealing = account::sealing(&self.store, &self.secrets).await?;
        sync_once(&self.store, &api, &token, sealing.as_ref()).await
    }

    /// A round, then the check of this device against the server `when` asked.
    pub async fn sync_checked(&self, when: quire_client::engine::CheckWhen) -> SyncReport {
        let (api, token) = account::session(&self.store, &self.secrets).await.unwrap();
        let sealing = account::sealing(&self.store, &self.secrets).await.unwrap();
        quire_client::engine::sync_and_check(&self.store, &api, &token, sealing.as_ref(), when)
            .await
            .unwrap()
    }

    /// A round whose requests give up after `timeout`, as they would on a dead link.
    pub async fn try_sync_within(&self, timeout: std::time::Duration) -> Result<SyncReport, Error> {
        let (api, token) = account::session(&self.store, &self.secrets).await?;
        let api = quire_client::api::ApiClient::with_timeout(api.server_url(), timeout)?;
        let sealing = account::sealing(&self.store, &self.secrets).await?;
        sync_once(&self.store, &api, &token, sealing.as_ref()).await
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Random letters and digits: text that compression cannot shrink much.
pub fn noise(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Two devices of one account on a fresh server.
pub async fn two_devices() -> (Server, Device, Device) {
    let server = server().await;
    let (a, b) = (device().await, device().await);
    a.register(&server, "owner").await;
    b.login(&server, "owner").await;
    (server, a, b)
}
