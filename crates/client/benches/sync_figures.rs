//! Sync figures for `make bench` (issue 9's table, part of it so far): pushing 10,000 queued
//! notes to a local server, the first sync of those into a fresh device, and the HTTP body
//! bytes of a round that carries a one-line edit of a 1 MB note. A real server (in process,
//! SQLite on disk) over loopback HTTP; release build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use quire_client::account::{self, AccountRequest};
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::engine::{sync_once, SyncReport};
use quire_client::store::NoteEdit;
use quire_client::Store;
use quire_core::NoteFields;

const NOTES: usize = 10_000;

struct Device {
    _dir: tempfile::TempDir,
    store: Store,
    secrets: FileStore,
}

async fn device() -> Device {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let secrets = FileStore::new(dir.path().join(CREDENTIALS_FILE));
    let store = Store::open(dir.path(), &secrets).await.unwrap();
    Device {
        _dir: dir,
        store,
        secrets,
    }
}

async fn sign_in(device: &Device, server: &str, create: bool) {
    let request = AccountRequest {
        server,
        username: "bench",
        password: "long enough pw".to_owned(),
        insecure_http: false,
    };
    if create {
        account::register(&device.store, &device.secrets, request)
            .await
            .unwrap();
    } else {
        account::login(&device.store, &device.secrets, request)
            .await
            .unwrap();
    }
}

async fn sync(device: &Device) -> SyncReport {
    let (api, token) = account::session(&device.store, &device.secrets)
        .await
        .unwrap();
    sync_once(&device.store, &api, &token).await.unwrap()
}

async fn figures(server_dir: &Path) -> Vec<(String, String, String)> {
    let db = quire_server::Db::connect(&format!("sqlite://{}", server_dir.join("s.db").display()))
        .await
        .unwrap();
    let state = quire_server::AppState::new(
        db,
        quire_server::Limits::default(),
        Duration::from_secs(600),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = quire_server::spawn(listener, state).unwrap();
    let url = server.url();

    let a = device().await;
    sign_in(&a, &url, true).await;
    for i in 0..NOTES {
        let fields = NoteFields::new(
            format!("note {i}"),
            format!("# Note {i}\n\nSome text of an ordinary note.\n"),
        );
        a.store.create_note(fields).await.unwrap();
    }
    let started = Instant::now();
    let pushed = sync(&a).await;
    let push_secs = started.elapsed().as_secs_f64();
    assert_eq!(pushed.pushed, NOTES as u64);

    let b = device().await;
    sign_in(&b, &url, false).await;
    let started = Instant::now();
    let pulled = sync(&b).await;
    let pull_secs = started.elapsed().as_secs_f64();
    assert_eq!(pulled.pulled, NOTES as u64);

    let lines: Vec<String> = (0..13_000)
        .map(|i| format!("{i:05} a line of a long note, with some words in it to fill the width\n"))
        .collect();
    let big = a
        .store
        .create_note(NoteFields::new("Big", lines.concat()))
        .await
        .unwrap();
    sync(&a).await;
    let mut edited = lines;
    edited[6_500] = "06500 this line was changed\n".to_owned();
    let edit = NoteEdit {
        title: None,
        body: Some(edited.concat()),
    };
    a.store.update_note(big.id, edit).await.unwrap();
    let round = sync(&a).await;
    server.stop().await.unwrap();

    #[allow(clippy::cast_precision_loss)]
    let rate = NOTES as f64 / push_secs;
    vec![
        (
            format!("push {NOTES} queued notes to a local server"),
            format!("{rate:.0} notes/s ({push_secs:.2} s)"),
            "report notes/s".to_owned(),
        ),
        (
            format!("first sync of {NOTES} notes into a fresh device"),
            format!("{pull_secs:.2} s"),
            "report s".to_owned(),
        ),
        (
            "HTTP body bytes, one-line edit of a 1 MB note".to_owned(),
            format!(
                "{} B ({} sent, {} received)",
                round.bytes_sent + round.bytes_received,
                round.bytes_sent,
                round.bytes_received
            ),
            "≤ 4 KB".to_owned(),
        ),
    ]
}

fn main() {
    let server_dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures(server_dir.path()));
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("\nsync figures ({cores} cores, release build)");
    println!("| figure | measured | target |\n|---|---|---|");
    for (figure, measured, target) in &rows {
        println!("| {figure} | {measured} | {target} |");
    }
    if let Ok(out) = std::env::var("QUIRE_BENCH_OUT") {
        std::fs::create_dir_all(&out).unwrap();
        let json: Vec<_> = rows
            .iter()
            .map(|(figure, measured, target)| serde_json::json!({"figure": figure, "measured": measured, "target": target, "cores": cores}))
            .collect();
        std::fs::write(
            Path::new(&out).join("sync.json"),
            serde_json::to_string_pretty(&json).unwrap(),
        )
        .unwrap();
    }
}
