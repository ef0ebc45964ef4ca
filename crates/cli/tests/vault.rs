//! `quire vault scan` and the vault folder following note commands.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{stderr, Device};
use serde_json::Value;

#[test]
fn the_vault_folder_is_scanned_from_the_command_line() {
    let device = Device::new();
    let folder = tempfile::tempdir().unwrap();
    let err = device.fails(&["vault", "scan"]);
    assert!(err.contains("vault-dir is not set"), "{err}");
    let dir = folder.path().to_str().unwrap();
    device.ok(&["config", "set", "vault-dir", dir]);
    device.ok_with_stdin(&["note", "add", "--title", "Plan"], b"from the CLI\n");

    // The folder follows every command that changes notes.
    let file = std::fs::read_to_string(folder.path().join("Plan.md")).unwrap();
    assert!(file.ends_with("from the CLI\n"), "{file}");
    let report = device.json(&["vault", "scan"]);
    assert_eq!(report["written"], 0, "nothing left to write: {report}");

    // A file written while nothing was running is found by the next scan.
    std::fs::write(folder.path().join("Later.md"), "made in another editor\n").unwrap();
    assert_eq!(device.json(&["vault", "scan"])["created"], 1);
    let titles: Vec<Value> = device
        .json(&["note", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].clone())
        .collect();
    assert!(titles.contains(&Value::from("Later")), "{titles:?}");

    // A file that is not text: a clear message, exit 1, everything else done.
    std::fs::write(folder.path().join("Binary.md"), b"\xff\xfe\x00").unwrap();
    std::fs::write(folder.path().join("Fine.md"), "ok\n").unwrap();
    let out = device.run(&["vault", "scan"], b"");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Binary.md: the file is not UTF-8 text (at byte 0)"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("1 files in the vault folder could not be taken in"),
        "{}",
        stderr(&out)
    );
    assert_eq!(device.json(&["note", "list"]).as_array().unwrap().len(), 3);
}
