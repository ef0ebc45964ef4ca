//! What the sync benches share: devices on disk, an in-process server on loopback, and the
//! rows of `make bench`'s table, written as JSON for `scripts/bench-table.mjs` to gather.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use quire_client::account::{self, AccountRequest};
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::engine::{sync_once, SyncReport};
use quire_client::Store;
use quire_core::NoteFields;
use serde_json::json;

/// One line of the table.
pub struct Row {
    pub figure: String,
    pub measured: String,
    pub target: String,
    /// Whether the target is met; `None` where the target is "report it".
    pub met: Option<bool>,
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Prints `rows` and writes them to `$QUIRE_BENCH_OUT/<name>.json`.
pub fn report(name: &str, rows: &[Row]) {
    let cores = cores();
    println!("\n{name} ({cores} cores, release build)");
    println!("| figure | measured | target |\n|---|---|---|");
    for row in rows {
        println!("| {} | {} | {} |", row.figure, row.measured, row.target);
    }
    let json: Vec<_> = rows
        .iter()
        .map(|row| {
            json!({
                "figure": row.figure, "measured": row.measured, "target": row.target,
                "met": row.met, "cores": cores,
            })
        })
        .collect();
    let out = bench_out();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join(format!("{name}.json")),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
}

pub fn bench_out() -> PathBuf {
    std::env::var_os("QUIRE_BENCH_OUT")
        .map_or_else(|| std::env::temp_dir().join("quire-bench"), PathBuf::from)
}

/// A directory on a real disk (not tmpfs), where fsync costs what it costs on a laptop.
pub fn disk_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/var/tmp")
        .unwrap()
}

pub async fn start_server(db_url: &str) -> quire_server::Spawned {
    let db = quire_server::Db::connect(db_url).await.unwrap();
    // Every bench client registers from 127.0.0.1: lift the per-address sign-up limit.
    let limits = quire_server::Limits {
        max_registrations_per_hour: 10_000,
        ..quire_server::Limits::default()
    };
    let state = quire_server::AppState::new(db, limits, Duration::from_secs(600));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    quire_server::spawn(listener, state).unwrap()
}

pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub secrets: FileStore,
}

impl Device {
    pub async fn new() -> Self {
        let dir = disk_dir("quire-bench-device-");
        let secrets = FileStore::new(dir.path().join(CREDENTIALS_FILE));
        let store = Store::open(dir.path(), &secrets).await.unwrap();
        Self {
            dir,
            store,
            secrets,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Signs in to `server` as `user`, making the account when `create`.
    pub async fn sign_in(&self, server: &str, user: &str, create: bool) {
        let request = AccountRequest {
            server,
            username: user,
            password: "long enough pw".to_owned(),
            insecure_http: false,
        };
        account::sign_in(&self.store, &self.secrets, request, create)
            .await
            .unwrap();
    }

    pub async fn sync(&self) -> SyncReport {
        let (api, token) = account::session(&self.store, &self.secrets).await.unwrap();
        sync_once(&self.store, &api, &token).await.unwrap()
    }

    /// `count` ordinary notes, written in imports of 1,000.
    pub async fn fill(&self, count: usize) {
        let mut made = 0;
        while made < count {
            let chunk = (count - made).min(1_000);
            let notes = (made..made + chunk).map(ordinary_note).collect();
            self.store.create_notes(notes).await.unwrap();
            made += chunk;
        }
    }
}

pub fn ordinary_note(i: usize) -> NoteFields {
    NoteFields::new(
        format!("note {i}"),
        format!("# Note {i}\n\nSome text of an ordinary note, a line or two of it.\n"),
    )
}
