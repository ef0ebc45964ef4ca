//! What every command shares: version, help, usage and JSON errors, the data dir.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{quire, stderr, Device};
use serde_json::Value;

#[test]
fn version_names_the_binary_and_the_workspace_version() {
    let out = quire().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("quire {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_the_commands() {
    let out = quire().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "offline-first notes",
        "note",
        "queue",
        "status",
        "config",
        "--data-dir",
        "--json",
    ] {
        assert!(text.contains(needle), "help lacks {needle:?}: {text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = quire().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = quire().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: unexpected argument '--frobnicate'"));
    let out = quire()
        .args(["note", "show", "not-an-id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a valid note id"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_errors_carry_a_stable_code() {
    let device = Device::new();
    let out = device.run(
        &[
            "--json",
            "note",
            "show",
            "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let line = stderr(&out)
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap()
        .to_owned();
    let err: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(err["error"]["code"], "not_found");
}

#[test]
fn a_foreign_file_in_place_of_the_database_is_refused_and_kept() {
    let device = Device::new();
    device.ok(&["status"]);
    let db = device.path().join("quire.db");
    std::fs::write(&db, b"not a database at all").unwrap();
    let _ = std::fs::remove_file(device.path().join("quire.db-wal"));
    let err = device.fails(&["note", "list"]);
    assert!(
        err.contains("not a Quire database; nothing was changed"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), b"not a database at all");
}

#[test]
fn the_data_dir_is_created_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("new").join("quire");
    let out = quire()
        .args(["--data-dir", dir.to_str().unwrap(), "status"])
        .env("QUIRE_CREDENTIALS", "file")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: secrets are kept in"),
        "file credentials warn"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn the_data_dir_can_come_from_the_environment() {
    let device = Device::new();
    device.ok_with_stdin(&["note", "add", "--title", "via flag"], b"");
    let out = quire()
        .args(["--json", "note", "list"])
        .env("QUIRE_DATA_DIR", device.path())
        .env("QUIRE_CREDENTIALS", "file")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["title"], "via flag");
}
