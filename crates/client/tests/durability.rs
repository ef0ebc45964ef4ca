//! An acknowledged write survives `kill -9`. The test runs its own binary again as a writer
//! that creates notes as fast as it can and prints each id once `create_note` returned; it
//! is killed mid-burst, and every printed id must be in the store, with its op.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::Store;
use quire_core::{NoteFields, NoteId};

const WRITER_ENV: &str = "QUIRE_TEST_BURST_WRITER_DIR";

/// The writer half, not a test of its own: the test below runs it in a child process.
#[tokio::test]
#[ignore = "helper process for acknowledged_notes_survive_sigkill_mid_burst"]
async fn burst_writer() {
    let dir = std::path::PathBuf::from(std::env::var_os(WRITER_ENV).expect(WRITER_ENV));
    let store = Store::open(&dir, &FileStore::new(dir.join(CREDENTIALS_FILE)))
        .await
        .unwrap();
    for i in 0.. {
        let note = store
            .create_note(NoteFields {
                title: format!("burst {i}"),
                body: "x".repeat(i % 512),
            })
            .await
            .unwrap();
        println!("ACK {}", note.id);
    }
}

#[tokio::test]
async fn acknowledged_notes_survive_sigkill_mid_burst() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Command::new(std::env::current_exe().unwrap())
        .args([
            "burst_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut acked = Vec::new();
    let lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    for line in lines {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.parse::<NoteId>().unwrap());
            if acked.len() == 300 {
                // SIGKILL: no destructors, no WAL checkpoint, no flush of anything.
                writer.kill().unwrap();
                break;
            }
        }
    }
    writer.wait().unwrap();
    assert_eq!(acked.len(), 300, "the writer stopped before it was killed");

    let store = Store::open(
        dir.path(),
        &FileStore::new(dir.path().join(CREDENTIALS_FILE)),
    )
    .await
    .unwrap();
    let stored: HashSet<NoteId> = store
        .list_notes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    let missing: Vec<_> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged notes were lost: {missing:?}",
        missing.len()
    );
    // Nothing saved without its op: every stored note has exactly its create op queued.
    let queued: HashSet<NoteId> = store
        .pending_ops(100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.op.note_id)
        .collect();
    assert_eq!(queued, stored);
}
