//! A real quire-server on a loopback port (SQLite), and devices (stores in temp dirs with file
//! credentials) that talk to it over HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use quire_client::account::{self, AccountRequest};
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::engine::{sync_once, SyncReport};
use quire_client::Store;

pub const PASSWORD: &str = "long enough pw";

pub struct Server {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = quire_server::Db::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let state = quire_server::AppState::new(
        db,
        quire_server::Limits::default(),
        Duration::from_secs(600),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(quire_server::run(listener, state, async {
        let _ = stopped.await;
    }));
    Server {
        url,
        stop: Some(stop),
        _dir: dir,
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
    AccountRequest {
        server,
        username: user,
        password: password.to_owned(),
        insecure_http: false,
    }
}

impl Device {
    pub async fn register(&self, server: &Server, user: &str) {
        account::register(
            &self.store,
            &self.secrets,
            request(&server.url, user, PASSWORD),
        )
        .await
        .unwrap();
    }

    pub async fn login(&self, server: &Server, user: &str) {
        account::login(
            &self.store,
            &self.secrets,
            request(&server.url, user, PASSWORD),
        )
        .await
        .unwrap();
    }

    pub async fn sync(&self) -> SyncReport {
        let (api, token) = account::session(&self.store, &self.secrets).await.unwrap();
        sync_once(&self.store, &api, &token).await.unwrap()
    }
}

/// Two devices of one account on a fresh server.
pub async fn two_devices() -> (Server, Device, Device) {
    let server = server().await;
    let (a, b) = (device().await, device().await);
    a.register(&server, "owner").await;
    b.login(&server, "owner").await;
    (server, a, b)
}
