//! The OS keyring, as the default credentials store (make test runs the tests under
//! scripts/with-keyring.sh).
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::process::Stdio;

use common::{quire, stderr};
use serde_json::Value;

#[test]
fn by_default_the_key_goes_to_the_os_keyring() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run under scripts/with-keyring.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        quire()
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("QUIRE_CREDENTIALS")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["note", "add", "--title", "keyring note"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(!dir.path().join("credentials.json").exists());
    let out = run(&["--json", "note", "list"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["title"], "keyring note");
}

#[test]
fn without_a_reachable_keyring_the_error_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = quire()
        .arg("--data-dir")
        .arg(dir.path())
        .args(["note", "list"])
        .env_remove("QUIRE_CREDENTIALS")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/quire-test-bus",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error: no OS keyring is reachable"), "{err}");
    assert!(err.contains("QUIRE_CREDENTIALS=file"), "{err}");
    // Nothing was created that would shadow the real store later.
    assert!(!dir.path().join("quire.db").exists());
}
