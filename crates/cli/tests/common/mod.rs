//! Shared by the `quire` CLI tests: the binary, devices (data dirs in temp folders with file
//! credentials), a real sync server on a loopback port, and store-level fill and tally helpers.
// Each test file uses only some of these helpers; the others would be dead code in its crate.
#![allow(dead_code)]
// Test helpers, like tests, fail by panicking with the cause.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn quire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quire"))
}

/// A device: a data dir with file credentials (the keyring has its own tests in keyring.rs).
pub struct Device {
    dir: tempfile::TempDir,
}

impl Device {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = quire();
        cmd.arg("--data-dir")
            .arg(self.path())
            .args(args)
            .env("QUIRE_CREDENTIALS", "file")
            .env_remove("QUIRE_DATA_DIR");
        cmd
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with_stdin(args, b"")
    }

    pub fn ok_with_stdin(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "quire {args:?} failed: {}",
            stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }

    /// Runs a command that must fail with exit code 1 and one error line; returns the line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, b"");
        assert_eq!(
            out.status.code(),
            Some(1),
            "quire {args:?}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        let errors: Vec<_> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "expected one error line, got: {err}");
        errors[0].to_owned()
    }
}

/// Writes `n` notes straight into a device's store (a `quire` process per note is slow).
pub fn fill_store(dir: &Path, n: usize) {
    use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let secrets = FileStore::new(dir.join(CREDENTIALS_FILE));
        let store = quire_client::Store::open(dir, &secrets).await.unwrap();
        for i in 0..n {
            let fields = quire_core::NoteFields::new(format!("note {i}"), "body\n");
            store.create_note(fields).await.unwrap();
        }
        store.close().await;
    });
}

/// Of the `n` notes `fill_store` wrote: (lost, duplicated, applied more than once) on a device.
pub fn tally(dir: &Path, n: usize) -> (usize, usize, usize) {
    use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let secrets = FileStore::new(dir.join(CREDENTIALS_FILE));
        let store = quire_client::Store::open(dir, &secrets).await.unwrap();
        let mut titles = std::collections::HashSet::new();
        let (mut duplicated, mut twice) = (0, 0);
        for summary in store.list_notes().await.unwrap() {
            let note = store.note(summary.id).await.unwrap();
            duplicated += usize::from(!titles.insert(note.title.clone()));
            twice += usize::from(note.version.map(|v| v.0) != Some(1));
        }
        store.close().await;
        (n - titles.len(), duplicated, twice)
    })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A real quire-server on a loopback port (SQLite), run on its own thread for sync tests.
pub struct LocalServer {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl LocalServer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}", dir.path().join("server.db").display());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, url) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let db = quire_server::Db::connect(&db_url).await.unwrap();
                let state = quire_server::AppState::new(
                    db,
                    quire_server::Limits::default(),
                    std::time::Duration::from_secs(600),
                );
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let running = quire_server::spawn(listener, state).unwrap();
                ready.send(running.url()).unwrap();
                let _ = stopped.await;
                running.stop().await.unwrap();
            });
        });
        Self {
            url: url.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Device {
    pub fn account(&self, args: &[&str], password: Option<&str>) -> Output {
        let mut cmd = self.cmd(args);
        match password {
            Some(password) => cmd.env("QUIRE_PASSWORD", password),
            None => cmd.env_remove("QUIRE_PASSWORD"),
        };
        cmd.stdin(Stdio::null()).output().unwrap()
    }
}
