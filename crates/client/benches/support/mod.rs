//! What the benches share: ordinary notes of about 1 KB, devices on disk, a server on
//! loopback (in process, or the release binary as its own process), and the rows of `make
//! bench`'s table, written as JSON for `scripts/bench-table.ts` to gather.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// The release `quire-server` (`QUIRE_SERVER_BIN`) as its own process, on a SQLite file on
/// disk and a free loopback port; stopped when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// The server's database, for a bench that shapes accounts directly.
    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("server.db").display())
    }

    /// Starts `bin` with `args` besides the port and database, and waits for its "listening
    /// on" line.
    pub fn start(bin: &str, args: &[&str]) -> Self {
        let dir = disk_dir("quire-bench-server-");
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--db")
            .arg(format!(
                "sqlite://{}",
                dir.path().join("server.db").display()
            ))
            .env("QUIRE_LOG", "warn,quire_server=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server ended before listening")
                .unwrap();
            // `... listening on http://127.0.0.1:PORT addr=...`, perhaps with colour codes.
            if let Some(at) = line.find("listening on ") {
                let rest = &line[at + "listening on ".len()..];
                let url: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.'))
                    .collect();
                break url;
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url, dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        let request = AccountRequest::new(server, user, "long enough pw".to_owned(), false);
        account::sign_in(&self.store, &self.secrets, request, create)
            .await
            .unwrap();
    }

    pub async fn sync(&self) -> SyncReport {
        let (api, token) = account::session(&self.store, &self.secrets).await.unwrap();
        let sealing = account::sealing(&self.store, &self.secrets).await.unwrap();
        sync_once(&self.store, &api, &token, sealing.as_ref())
            .await
            .unwrap()
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

/// Words ordinary notes are made of: common English words of ordinary lengths.
const WORDS: [&str; 64] = [
    "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on",
    "are", "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had",
    "by", "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said",
    "there", "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up",
    "other", "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make",
    "like",
];

/// Lines in an ordinary note's body, and the width each line fills before it ends.
const LINES: usize = 16;
const LINE_WIDTH: usize = 60;

/// The body of ordinary note `i`: 16 lines of words, about 1 KB, the same every run and
/// different from note to note (words picked by a linear congruential generator seeded
/// with `i`).
pub fn ordinary_body(i: usize) -> String {
    // Knuth's MMIX constants; the high bits are the well-mixed ones.
    let mut state = (i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next_word = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        WORDS[(state >> 58) as usize]
    };
    let mut body = String::with_capacity(LINES * (LINE_WIDTH + 12));
    for _ in 0..LINES {
        let start = body.len();
        while body.len() - start < LINE_WIDTH {
            if body.len() > start {
                body.push(' ');
            }
            body.push_str(next_word());
        }
        body.push_str(".\n");
    }
    body
}

pub fn ordinary_note(i: usize) -> NoteFields {
    NoteFields::new(format!("note {i}"), ordinary_body(i))
}

/// Checks what the figures rely on: ordinary notes are about 1 KB and differ.
pub fn check_ordinary_notes() {
    for i in [0, 1, 2, 9_999, 99_999] {
        let body = ordinary_body(i);
        assert_eq!(body.lines().count(), LINES, "{body}");
        assert!((950..=1_150).contains(&body.len()), "{} bytes", body.len());
        assert_eq!(body, ordinary_body(i), "the same every time");
        assert_ne!(body, ordinary_body(i + 1), "different per note");
    }
}
