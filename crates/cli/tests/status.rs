//! `quire status`: state, pending changes, last sync.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::Device;
use serde_json::Value;

#[test]
fn status_counts_notes_and_pending_changes() {
    let device = Device::new();
    assert!(device.ok(&["status"]).contains("local only"));
    device.ok_with_stdin(&["note", "add", "--title", "one"], b"");
    device.ok_with_stdin(&["note", "add", "--title", "two", "--file", "-"], b"text");
    let status = device.json(&["status"]);
    assert_eq!(status["notes"], 2);
    assert_eq!(status["pendingOps"], 2);
    assert_eq!(status["openConflicts"], 0);
    assert_eq!(status["lastSyncAt"], Value::Null);
    let text = device.ok(&["status"]);
    assert!(text.contains("pending changes: 2"), "{text}");
    assert!(text.contains("last sync: never"), "{text}");
}
